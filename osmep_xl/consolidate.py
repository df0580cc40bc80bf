"""Merge many submissions of one template (one per agency) into one workbook of the same template.

Design, from the spec
---------------------
*Who submitted.* The submitter is a submission's ``agency`` meta field, or else its file stem. Its
*key* prefixes every code it brings: the abbreviation in the agency's closing parentheses
(``กรมส่งเสริมอุตสาหกรรม (กสอ.)`` → ``กสอ.``), else the whole name, made unique with ``#2``, ``#3``.

*Hierarchical blocks* (levels and roll-ups: disbursement lines, the action plan's sources and plan,
the integrated plan's approaches and spending). Each group of the block (``group_by``, e.g. fiscal
year and budget source) gets, in this order, a grand-total row (code ``ALL``) and then each
submitter's rows. A submitter's own total row becomes *its* row: code = the key, name = the submitter.
Every other row keeps its level and gets ``key/code``; its parent is rewritten to the new code of
the row it resolved to in the submission, so the consolidated hierarchy is exactly the submissions'
hierarchies side by side and every roll-up and row formula is written and checked unchanged. A
submission with no total row in a group gets a made-up submitter row there (its parentless rows
become its children); a parent code that resolved to nothing stays unresolved (``key/code``), so the
consolidated workbook reports it where the submission did.

*The grand total.* Every hierarchical spec declares a ``submitter`` level between ``total`` and the
rest (:data:`~osmep_xl.spec.columns.LEVEL_SUBMITTER`): each submitter's row takes that level with the
grand total as its parent, so the grand total is an ordinary roll-up — the writer gives it its SUM
formulas and validation checks it like any other row.

*Flat blocks* (the KPI template's strategies and indicators) are concatenated: codes become
``key/code`` and references to another block's codes (a KPI's strategy) are prefixed the same way.

*Figures.* A cell that holds a formula in the submission (and is a formula in the spec) is left out
of the data, so the consolidated workbook has the formula again; a typed figure is carried as typed,
so a submission's wrong total stays visible and is reported at its new cell.

*Findings.* Every submission is validated before merging (the same findings as ``osmep-xl
validate``); a submission that cannot be read or holds another template is skipped. All of it is
listed on an extra sheet, :data:`FINDINGS_SHEET`: one line per submission, then every finding at the
submission's own sheet and cell.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format

from . import report
from .a1 import a1
from .check import open_all
from .findings import Finding, Severity, sort_findings
from .model.evaluate import BlockCalc, group_key, resolve_structure
from .model.load import DataError
from .model.workbook import Row, WorkbookData
from .report import FileResult
from .rules.config import Settings
from .rules.meta import DIFFERS as META_DIFFERS
from .rules.validate import validate
from .rules.variance import target_lookup
from .spec import TEMPLATES, get_spec
from .spec.base import Block, TemplateSpec
from .xlsx.dashboard import TargetLookup
from .xlsx.generate import Formats, write_workbook
from .xlsx.layout import FONT_SIZE, HEADER_FILL, INFO_FIRST_ROW, INFO_SHEET, SUBTLE_TEXT, TITLE_SIZE, page_setup
from .xlsx.metrics import row_height
from .xlsx.read import ReadBlock, ReadWorkbook
from .xlsx.safety import RefusedFileError
from .xlsx.source import UnreadableWorkbookError

GRAND_CODE = "ALL"
GRAND_NAME = "รวมทุกหน่วยงาน / all submitters"
SEPARATOR = "/"
SUBMITTER_LEVEL = "submitter"
FINDINGS_SHEET = "ผลตรวจรายหน่วยงาน"
_ABBREVIATION = re.compile(r"\(([^()]+)\)\s*$")


class ConsolidateError(DataError):
    """Nothing can be consolidated; the message is Thai / English."""


@dataclass
class Submission:
    """One input file: its validation result and, when it can be merged, its rows."""

    path: Path
    result: FileResult
    label: str = ""  # the agency, or the file stem
    key: str = ""  # prefix of its codes
    meta: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, list[Row]] = field(default_factory=dict)  # block id -> rows to write

    @property
    def merged(self) -> bool:
        return not self.result.unreadable


@dataclass
class Consolidation:
    """What :func:`consolidate` wrote."""

    out: Path
    template: str
    submissions: list[Submission]
    notes: list[Finding]  # about the merge itself (e.g. submissions with different as-of dates)
    totals: dict[str, dict[tuple[Any, ...], dict[str, Decimal]]]  # block -> group -> roll-up column -> total

    @property
    def results(self) -> list[FileResult]:
        return [s.result for s in self.submissions]


def template_id_of(text: str) -> str:
    """A template id, or the template a workbook (e.g. the blank template file) holds."""
    if text in TEMPLATES:
        return text
    path = Path(text)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return open_all(path)[0].spec.id
    return get_spec(text).id


def submitter_key(label: str, taken: set[str]) -> str:
    """Short unique prefix for a submitter's codes: the agency's abbreviation where it has one."""
    match = _ABBREVIATION.search(label)
    base = re.sub(r"\s+", " ", match.group(1) if match else label).strip().replace(SEPARATOR, "-") or "?"
    key, n = base, 2
    while key.casefold() in taken or key == GRAND_CODE:
        key, n = f"{base}#{n}", n + 1
    taken.add(key.casefold())
    return key


def _rows_to_write(rb: ReadBlock) -> list[Row]:
    """The block's rows with each formula cell left blank, so that the writer writes the formula again."""
    calc = BlockCalc(rb.block, rb.rows, formula_cells=rb.formula_cells)
    rows = [dict(row) for row in rb.rows]
    for i, column_id in rb.formula_cells:
        if calc.is_computable(i, rb.block.column(column_id)):
            rows[i][column_id] = None
    return rows


def read_submission(path: Path, spec: TemplateSpec, settings: Settings) -> tuple[FileResult, ReadWorkbook | None]:
    """Validate one submission; the workbook is None when it cannot be merged (and ``unreadable`` says why)."""
    try:
        books = open_all(path)
    except (UnreadableWorkbookError, RefusedFileError) as exc:
        return FileResult(path=path, unreadable=str(exc)), None
    workbook = next((b for b in books if b.spec.id == spec.id), None)
    if workbook is None:
        held = ",".join(b.spec.id for b in books)
        return FileResult(path=path, template=held, version=books[0].version if books else None,
                          unreadable=f"แม่แบบไม่ตรง ไฟล์เป็น {held} ไม่ใช่ {spec.id} / "
                                     f"holds template {held}, not {spec.id}"), None
    findings = validate(workbook, settings)
    return FileResult(path=path, template=spec.id, version=workbook.version, findings=findings), workbook


def read_submissions(template_id: str, paths: Sequence[Path], settings: Settings) -> list[Submission]:
    """Validate every input; the ones that can be merged keep their rows and get a unique key."""
    spec = get_spec(template_id)
    taken: set[str] = set()
    subs = []
    for path in paths:
        result, workbook = read_submission(path, spec, settings)
        sub = Submission(path=path, result=result)
        if workbook is not None:
            agency = workbook.meta.get("agency")
            sub.label = str(agency).strip() if agency else path.stem
            sub.key = submitter_key(sub.label, taken)
            sub.meta = dict(workbook.meta)
            sub.rows = {block_id: _rows_to_write(rb) for block_id, rb in workbook.blocks.items()}
        subs.append(sub)
    return subs


# --- merging ---------------------------------------------------------------------------------------------


def _prefix(key: str, code: Any) -> Any:
    return None if code is None else f"{key}{SEPARATOR}{code}"


def _blank_row(block: Block, group: tuple[Any, ...], level: str, code: str, name: str) -> Row:
    row: Row = dict.fromkeys(block.column_ids)
    row.update(zip(block.group_by, group, strict=True))
    row.update(level=level, code=code, name=name)
    return row


def _submitter_rows(block: Block, sub: Submission) -> list[tuple[tuple[Any, ...], Row, bool]]:
    """A submission's rows of a hierarchical block re-coded under its key: (group, row, is a submitter row)."""
    rows = sub.rows.get(block.id, [])
    top = block.levels[0].id
    st = resolve_structure(block, rows)
    tops: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[group_key(block, row)].append(i)
        if i not in st.parent and row.get("level") == top:
            tops[group_key(block, row)].append(i)
    codes = {i: sub.key if tops[group_key(block, row)] == [i] else _prefix(sub.key, row.get("code"))
             for i, row in enumerate(rows)}
    out: list[tuple[tuple[Any, ...], Row, bool]] = []
    for group, members in groups.items():
        made_up = not tops[group]
        if made_up:  # no total row of its own here: one is made, holding its parentless rows
            row = _blank_row(block, group, SUBMITTER_LEVEL, sub.key, sub.label)
            row["parent"] = GRAND_CODE
            out.append((group, row, True))
        for i in members:
            new = dict(rows[i], code=codes[i])
            if i in st.parent:
                new["parent"] = codes[st.parent[i]]
            elif rows[i].get("parent") is not None:
                new["parent"] = _prefix(sub.key, rows[i]["parent"])  # unresolved there, unresolved here
            elif made_up and rows[i].get("level") != top:
                new["parent"] = sub.key
            is_top = i in tops[group]
            if is_top:
                new.update(level=SUBMITTER_LEVEL, parent=GRAND_CODE)
            if codes[i] == sub.key:
                new["name"] = sub.label
            out.append((group, new, is_top))
    return out


@dataclass
class _GrandTotal:
    """A grand-total row: where it sits and its roll-up figures."""

    index: int
    values: dict[str, Decimal]


def merge_hierarchical(block: Block, subs: Sequence[Submission]) -> tuple[list[Row], list[_GrandTotal]]:
    """Per group: the grand-total row, then each submitter's rows under its own row."""
    if not any(lv.id == SUBMITTER_LEVEL for lv in block.levels):
        raise ValueError(f"spec of block {block.id} declares no '{SUBMITTER_LEVEL}' level to consolidate with")
    top = block.levels[0].id
    by_group: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for sub in subs:
        for group, row, _ in _submitter_rows(block, sub):
            by_group[group].append(row)
    rows: list[Row] = []
    grand: list[_GrandTotal] = []
    for group, members in by_group.items():
        grand.append(_GrandTotal(len(rows), {}))
        rows.append(_blank_row(block, group, top, GRAND_CODE, GRAND_NAME))
        rows.extend(members)
    calc = BlockCalc(block, rows)  # what Excel shows in each grand-total cell
    for g in grand:
        for col in block.columns:
            if col.rollup:
                value = calc.cell(g.index, col.id).value
                g.values[col.id] = value if isinstance(value, Decimal) else Decimal(0)
    return rows, grand


def merge_flat(block: Block, subs: Sequence[Submission]) -> list[Row]:
    """Submissions one after another, codes and references to other blocks' codes prefixed."""
    refs = [c.id for c in block.columns if c.ref is not None]
    rows = []
    for sub in subs:
        for row in sub.rows.get(block.id, []):
            new = dict(row, code=_prefix(sub.key, row.get("code")))
            for column_id in refs:
                new[column_id] = _prefix(sub.key, row.get(column_id))
            rows.append(new)
    return rows


def _merged_meta(spec: TemplateSpec, subs: Sequence[Submission], agency: str | None) -> tuple[dict[str, Any],
                                                                                            list[Finding]]:
    """Meta fields of the consolidated workbook: the submissions' common value, else the most common one
    with a warning naming the others."""
    n = len(subs)
    meta: dict[str, Any] = {}
    notes = []
    for position, meta_field in enumerate(spec.meta):
        values = [s.meta.get(meta_field.id) for s in subs if s.meta.get(meta_field.id) is not None]
        counts = Counter(values)
        if meta_field.id == "agency":
            meta["agency"] = agency or f"รวม {n} หน่วยงาน / {n} submitters"
        elif meta_field.id == "title" and len(counts) != 1:
            meta["title"] = f"รายงานรวม {n} หน่วยงาน / consolidated report of {n} submitters"
        elif counts:
            chosen = counts.most_common(1)[0][0]
            meta[meta_field.id] = chosen
            others = [s for s in subs if s.meta.get(meta_field.id) not in (None, chosen)]
            if others:
                listed = ", ".join(f"{s.key}: {s.meta.get(meta_field.id)}" for s in others)
                notes.append(META_DIFFERS.at(
                    INFO_SHEET, a1(INFO_FIRST_ROW + position, 2), expected=str(chosen), actual=listed,
                    th=f"{meta_field.th} ใช้ {chosen} (ต่างจาก {listed})",
                    en=f"{meta_field.en}: using {chosen} (others: {listed})"))
    return meta, notes


# --- writing ---------------------------------------------------------------------------------------------


SUMMARY_HEADER = ["รหัส / Key", "หน่วยงาน / Submitter", "ไฟล์ / File", "สถานะ / Status", "ผิดพลาด / Errors",
                  "เตือน / Warnings", "ข้อมูล / Info", "หมายเหตุ / Note"]
FINDINGS_HEADER = ["รหัส / Key", "ไฟล์ / File", *report.FINDINGS_HEADER]


# Shared by the summary above and the findings below. All but the English message (wide, as it does not
# print) print on A4 landscape at 78 % (14-point text at 10.9 points); the list starts on a page of its own.
FINDINGS_WIDTHS = [7, 11, 10, 8, 6, 17, 15, 15, 36, 70]
FINDINGS_SCALE = 78


def file_names(subs: Sequence[Submission]) -> dict[Path, str]:
    """Each submission's file as the findings list names it: its path below the folder all of them share
    (the summary above the list gives the full path), so that the column stays narrow on paper."""
    paths = [s.path for s in subs]
    try:
        common = Path(os.path.commonpath([p.parent.resolve() for p in paths])) if paths else None
    except ValueError:  # different drives
        common = None
    return {p: str(p.resolve().relative_to(common)) if common else str(p) for p in paths}


def _write_findings_sheet(book: xlsxwriter.Workbook, fmt: Formats, subs: Sequence[Submission],
                          notes: Sequence[Finding]) -> None:
    """One line per submission (merged or skipped and why), then every finding at its own sheet and cell."""
    ws = book.add_worksheet(FINDINGS_SHEET)
    ws.set_default_row(row_height(1, FONT_SIZE))
    head = fmt.get(bold=True, bg_color=HEADER_FILL, border=1, text_wrap=True)
    text = fmt.get(text_wrap=True, border=1)
    numbers = {True: fmt.get(num_format="#,##0", border=1), False: fmt.get(num_format="#,##0.00", border=1)}
    ws.write_string(0, 0, "ผลตรวจสอบไฟล์ที่หน่วยงานส่งมา", fmt.get(bold=True, font_size=TITLE_SIZE))
    ws.write_string(1, 0, "Findings of each submission, at the submission's own sheet and cell",
                    fmt.get(italic=True, font_color=SUBTLE_TEXT))
    ws.set_row(0, row_height(1, TITLE_SIZE))

    def line(r: int, values: Sequence[Any], style: Format | None = None) -> None:
        for n, value in enumerate(values):
            if isinstance(value, Decimal | int) and style is None:
                ws.write_number(r, n, float(value), numbers[isinstance(value, int)])
            else:
                ws.write_string(r, n, "" if value is None else str(value), style or text)
        shown = [report.value_text(v) if isinstance(v, Decimal) else str(v) for v in values]
        ws.set_row(r, report.row_heights([shown], FINDINGS_WIDTHS, header=1 if style is head else 0)[0])

    line(3, SUMMARY_HEADER, head)
    r = 4
    for sub in subs:
        res = sub.result
        counts = Counter(f.severity for f in res.findings)
        status = "ข้าม / skipped" if res.unreadable else "รวมแล้ว / merged"
        line(r, [sub.key, sub.label, str(sub.path), status, counts[Severity.ERROR], counts[Severity.WARNING],
                 counts[Severity.INFO], res.unreadable or ""])
        r += 1
    r += 1
    line(r, FINDINGS_HEADER, head)
    first = r
    r += 1
    listed = [("รวม / ALL", "", f) for f in notes]
    names = file_names(subs)
    listed += [(s.key, names[s.path], f) for s in subs for f in sort_findings(s.result.findings)]
    for key, path, f in listed:
        line(r, [key, path, *report.finding_row(f)])
        r += 1
    ws.autofilter(first, 0, max(first, r - 1), len(FINDINGS_HEADER) - 1)
    ws.freeze_panes(first + 1, 0)
    for n, width in enumerate(FINDINGS_WIDTHS):
        ws.set_column(n, n, width)
    page_setup(ws)
    ws.print_area(0, 0, max(first, r - 1), len(FINDINGS_HEADER) - 2)
    ws.repeat_rows(first)
    ws.set_h_pagebreaks([first])  # honoured at a set scale (Excel ignores breaks when fitting to pages)
    ws.set_print_scale(FINDINGS_SCALE)


def write_consolidated(template_id: str, subs: Sequence[Submission], out: Path, *,
                       agency: str | None = None, target: TargetLookup | None = None) -> Consolidation:
    """Write the consolidated workbook of the submissions that can be merged (see the module's design)."""
    spec = get_spec(template_id)
    merged = [s for s in subs if s.merged]
    if not merged:
        raise ConsolidateError("ไม่มีไฟล์ที่รวมได้ / no submission could be merged")
    meta, notes = _merged_meta(spec, merged, agency)
    blocks: dict[str, list[Row]] = {}
    grand: dict[str, list[_GrandTotal]] = {}
    for block in spec.blocks:
        if block.hierarchical:
            blocks[block.id], grand[block.id] = merge_hierarchical(block, merged)
        else:
            blocks[block.id] = merge_flat(block, merged)

    def after(book: xlsxwriter.Workbook, fmt: Formats) -> None:
        _write_findings_sheet(book, fmt, subs, notes)

    write_workbook(WorkbookData(template=spec.id, meta=meta, blocks=blocks), out, after=after, target=target)
    totals = {block_id: {group_key(spec.block(block_id), blocks[block_id][g.index]): g.values for g in grand_rows}
              for block_id, grand_rows in grand.items()}
    return Consolidation(out=out, template=spec.id, submissions=list(subs), notes=notes, totals=totals)


def consolidate(template_id: str, paths: Sequence[Path], out: Path, settings: Settings, *,
                agency: str | None = None) -> Consolidation:
    """Validate every submission and write the consolidated workbook of those that can be merged."""
    return write_consolidated(template_id, read_submissions(template_id, paths, settings), out, agency=agency,
                              target=target_lookup(settings))
