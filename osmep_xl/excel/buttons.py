"""What the workbook's buttons run (through xlwings' ``RunPython``) on the calling workbook.

ปุ่มในสมุดงาน: ตรวจสอบ · คำนวณใหม่ · เติมข้อมูลจากไฟล์ · เทียบกับไตรมาสก่อน · ล้างผลตรวจสอบ — the buttons:
validate, recalculate, fill from a data file, compare with the previous quarter, clear flags.

Each button reads the book once (:class:`~osmep_xl.excel.book.BookSource`), calls the same core functions
as the command line, puts every change into one :class:`~osmep_xl.excel.book.WritePlan` and writes it at the
end; on an error nothing is written except the message (the status cell on the front sheet and a message
box). ``book`` defaults to ``xw.Book.caller()``; tests pass a book of xlwings' remote engine.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlwings as xw

from ..a1 import a1, column_letter, parse_a1
from ..check import FINDINGS_SHEET, HIGHLIGHT, USER_ERRORS, cell_flags, open_previous, template_sheets
from ..findings import Finding, Severity, sort_findings
from ..model.evaluate import BlockCalc
from ..model.load import DataError, load_data
from ..report import FINDINGS_HEADER, FINDINGS_WIDTHS, SEVERITY_TH, sheet_rows
from ..rules.config import load_settings
from ..rules.recalc import CellEdit, plan_recalc_all
from ..rules.validate import validate_set
from ..spec import TEMPLATES, get_spec
from ..spec.base import Block
from ..xlsx.formulas import row_cells
from ..xlsx.generate import NUMBER_FORMATS
from ..xlsx.layout import COMPUTED_FILL, HEADER_FILL, INPUT_FILL
from ..xlsx.read import ReadBlock, ReadWorkbook
from ..xlsx.safety import RefusedFileError
from ..xlsx.source import UnreadableWorkbookError
from .book import BookSource, Color, WritePlan, excel_text, excel_value, named_value, read_book
from .front import (
    FRONT_SHEET,
    NAME_ACTION,
    NAME_DATA_PATH,
    NAME_FILL_TEMPLATE,
    NAME_PREVIOUS_PATH,
    find_action,
)

TITLE = "osmep_xl"
LINK_HEADER = "ไปที่ / Go to"
LINK_WIDTH = 18
Planner = Callable[[xw.Book], WritePlan]


def _run(book: xw.Book | None, planner: Planner) -> WritePlan:
    """Plan on ``book`` (the caller by default), then write; on an error write only the message."""
    target = book if book is not None else xw.Book.caller()
    try:
        plan = planner(target)
    except USER_ERRORS as exc:
        plan = _failure(str(exc))
    except Exception as exc:  # the front end never leaves a half-written book or a bare traceback
        traceback.print_exc(file=sys.stderr)
        plan = _failure(f"{type(exc).__name__}: {exc}")
    plan.apply(target)
    return plan


def _failure(message: str) -> WritePlan:
    text = f"ผิดพลาด ไม่ได้เปลี่ยนแปลงสมุดงาน / error, the workbook was not changed: {message}"
    return WritePlan(status=text, alert=(text, TITLE))


def _finish(plan: WritePlan, message: str) -> WritePlan:
    plan.status = message
    plan.alert = (message, TITLE)
    return plan


# --- reading the front sheet ---------------------------------------------------------------------------------


def _path_from(book: xw.Book, name: str, what_th: str, what_en: str) -> Path:
    """A path typed in a named cell; relative paths are taken from the workbook's folder."""
    text = named_value(book, name)
    if text is None or not str(text).strip():
        raise DataError(f"ใส่ที่อยู่{what_th}ในช่อง {name} บนชีต {FRONT_SHEET} / "
                        f"enter the {what_en} path in cell {name} on sheet {FRONT_SHEET}")
    path = Path(str(text).strip().strip('"')).expanduser()
    if not path.is_absolute():
        home = Path(book.fullname).parent
        if (home / path).exists():
            path = home / path
    if not path.exists():
        raise FileNotFoundError(f"ไม่พบไฟล์ / file not found: {path}")
    return path


# --- findings: sheet, highlights, notes ----------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return excel_text(value) if isinstance(value, str) else value


def _link(sheet: str, cell: str) -> str:
    target = "'" + sheet.replace("'", "''") + "'!" + cell
    return f'=HYPERLINK("#{target.replace(chr(34), chr(34) * 2)}","{cell}")'


def _old_flags(source: BookSource) -> set[tuple[str, str]]:
    """Cells flagged by the previous run, as listed on its findings sheet."""
    if FINDINGS_SHEET not in source.sheet_names():
        return set()
    flagged = {f"{th} / {sev.value}" for sev, th in SEVERITY_TH.items() if sev in HIGHLIGHT}
    out: set[tuple[str, str]] = set()
    for row in source.grid(FINDINGS_SHEET)[1:]:
        cells = [("" if v is None else str(v)).strip() for v in row[:3]]
        if len(cells) == 3 and cells[0] in flagged:
            try:
                parse_a1(cells[2])
            except ValueError:
                continue
            out.add((cells[1], cells[2]))
    return out


def _template_fill(source: BookSource, books: list[ReadWorkbook], sheet: str, cell: str) -> Color:
    """The fill a template cell has when no flag is on it: header blue, formula grey, input white."""
    row, col = parse_a1(cell)
    for wb in books:
        for rb in wb.blocks.values():
            if rb.sheet != sheet or col not in rb.columns.values():
                continue
            if row in (rb.header_row, rb.header_row + 1):
                return HEADER_FILL
            if row > rb.header_row:
                return COMPUTED_FILL if cell in source.cells(sheet).formulas else INPUT_FILL
    return None


def _flag_plan(source: BookSource, books: list[ReadWorkbook], findings: list[Finding]) -> WritePlan:
    """Findings sheet, highlights and notes for ``findings``; flags of the previous run that no longer
    apply are taken off."""
    plan = WritePlan()
    names = source.sheet_names()
    if FINDINGS_SHEET in names:
        plan.clear_sheets.append(FINDINGS_SHEET)
    else:
        plan.add_sheets.append((FINDINGS_SHEET, FRONT_SHEET if FRONT_SHEET in names else names[-1]))
    sheets = template_sheets(books)
    rows = sheet_rows(findings)
    plan.values.append((FINDINGS_SHEET, "A1", [[_plain(v) for v in row] for row in rows]))
    links = [[LINK_HEADER]] + [[_link(f.sheet, f.cell) if f.sheet in sheets else ""]
                               for f in sort_findings(findings)]
    plan.formulas.append((FINDINGS_SHEET, column_letter(len(FINDINGS_HEADER)) + "1", links))
    plan.bold.append((FINDINGS_SHEET, "A1", column_letter(len(FINDINGS_HEADER)) + "1"))
    plan.column_widths.extend((FINDINGS_SHEET, n, w) for n, w in enumerate([*FINDINGS_WIDTHS, LINK_WIDTH]))
    flags = cell_flags(findings, sheets)
    for (sheet, cell) in _old_flags(source) - set(flags):
        if sheet in names:
            plan.color(sheet, cell, _template_fill(source, books, sheet, cell))
            plan.note(sheet, cell, None)
    for (sheet, cell), (color, note) in flags.items():
        plan.color(sheet, cell, "#" + color[2:])  # ARGB -> #RRGGBB
        plan.note(sheet, cell, note)
    plan.activate = FINDINGS_SHEET
    return plan


def _counts(findings: list[Finding]) -> tuple[int, int, int]:
    def count(severity: Severity) -> int:
        return sum(f.severity is severity for f in findings)

    return count(Severity.ERROR), count(Severity.WARNING), count(Severity.INFO)


def _check(book: xw.Book, previous: Path | None) -> WritePlan:
    source = BookSource(book)
    books = read_book(source)
    settings = load_settings()
    before = open_previous(previous).matching(books, "this workbook") if previous is not None else {}
    findings = sort_findings(f for found in validate_set(books, settings, list(before.values())) for f in found)
    if not source.formulas_known:  # every derived cell would look typed over
        findings = [f for f in findings if f.rule != "formula.overwritten"]
    plan = _flag_plan(source, books, findings)
    errors, warnings, info = _counts(findings)
    ids = ", ".join(wb.spec.id for wb in books)
    message = (f"ตรวจสอบ {ids}: ผิดพลาด {errors} · เตือน {warnings} · ข้อมูล {info} — ดูชีต {FINDINGS_SHEET} / "
               f"checked {ids}: {errors} errors · {warnings} warnings · {info} info — see sheet {FINDINGS_SHEET}")
    if previous is not None:
        down = sum(f.rule == "variance.decreased" for f in findings)
        message += (f" · ตัวเลขสะสมลดลงจากไตรมาสก่อน {down} ช่อง / {down} cumulative figures went down since "
                    f"{previous.name}")
    if not source.formulas_known:
        message += (" · อ่านสูตรไม่ได้ในโหมดนี้ ช่องสูตรถูกตรวจเหมือนตัวเลขที่พิมพ์ / this engine cannot read"
                    " formulas: derived cells were checked as typed figures")
    return _finish(plan, message)


def validate_button(book: xw.Book | None = None) -> WritePlan:
    """ตรวจสอบ: ชีตผลตรวจสอบ ไฮไลต์ และบันทึกย่อในช่องที่ผิด / Validate: findings sheet, highlights, notes."""
    return _run(book, lambda b: _check(b, None))


def import_previous_button(book: xw.Book | None = None) -> WritePlan:
    """เทียบกับไตรมาสก่อน: ตรวจสอบพร้อมหาตัวเลขสะสมที่ลดลง / Validate against the previous quarter's
    workbook (path in the named cell osmep_previous_path), flagging cumulative figures that went down."""
    return _run(book, lambda b: _check(b, _path_from(b, NAME_PREVIOUS_PATH, "ไฟล์ไตรมาสก่อน",
                                                      "previous quarter's workbook")))


# --- recalculation -------------------------------------------------------------------------------------------


def _formula_runs(edits: list[CellEdit]) -> list[tuple[str, str, list[list[Any]]]]:
    """Edits as few range writes as possible: one per run of consecutive rows in a column."""
    by_column: dict[tuple[str, int], dict[int, CellEdit]] = defaultdict(dict)
    for edit in edits:
        row, col = parse_a1(edit.cell)
        by_column[(edit.sheet, col)][row] = edit
    writes: list[tuple[str, str, list[list[Any]]]] = []
    for (sheet, col), cells in sorted(by_column.items()):
        runs: list[list[int]] = []
        for r in sorted(cells):
            if runs and r == runs[-1][-1] + 1:
                runs[-1].append(r)
            else:
                runs.append([r])
        for run in runs:
            grid = [["=" + e.formula if e.formula is not None else excel_value(e.value)]
                    for e in (cells[r] for r in run)]
            writes.append((sheet, a1(run[0], col), grid))
    return writes


def _recalc(book: xw.Book) -> WritePlan:
    edits, changes = plan_recalc_all(read_book(BookSource(book)))
    plan = WritePlan(formulas=_formula_runs(edits))
    shown = "; ".join(f"{c.sheet}!{c.cell} {_num(c.actual)} → {_num(c.expected)}" for c in changes[:5])
    more = f" (+{len(changes) - 5})" if len(changes) > 5 else ""
    message = (f"คืนสูตร {len(edits)} ช่อง · ตัวเลขที่พิมพ์ไว้เปลี่ยน {len(changes)} ช่อง / restored {len(edits)}"
               f" formulas · {len(changes)} typed figures changed")
    return _finish(plan, message + (f": {shown}{more}" if shown else ""))


def _num(value: Decimal | str | None) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.0f}" if value == value.to_integral_value() else f"{value.normalize():,f}"
    return "" if value is None else str(value)


def recalc_button(book: xw.Book | None = None) -> WritePlan:
    """คำนวณใหม่: คืนสูตรให้ทุกช่องที่คำนวณได้ / Recalculate: restore the formula of every derived cell."""
    return _run(book, _recalc)


# --- filling from a data file --------------------------------------------------------------------------------


def _data_template(book: xw.Book, path: Path) -> str:
    chosen = named_value(book, NAME_FILL_TEMPLATE)
    if chosen is not None and str(chosen).strip():
        return str(chosen).strip()
    if path.suffix.lower() == ".json":
        try:
            raw = json.loads(path.read_text("utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raw = None
        if isinstance(raw, dict) and raw.get("template") in TEMPLATES:
            return str(raw["template"])
    raise DataError(f"เลือกแม่แบบของข้อมูลในช่อง {NAME_FILL_TEMPLATE} / choose the data's template in cell "
                    f"{NAME_FILL_TEMPLATE} (a CSV file does not name it)")


def _cell_value(value: Any) -> Any:
    written = excel_value(value)
    return "" if written is None else written


def _fill_block(plan: WritePlan, source: BookSource, rb: ReadBlock, block: Block, rows: list[dict[str, Any]]) -> int:
    """Write ``rows`` into the live table at its current position, exactly as the generator lays them out:
    a formula where a cell is derived and not given, the figure as given otherwise."""
    grid = source.grid(rb.sheet)
    start = rb.first_row
    cols = rb.columns
    left, right = min(cols.values()), max(cols.values())
    old_end = rb.sheet_rows[-1] if rb.sheet_rows else start - 1
    end = max(old_end, start + len(rows) - 1)

    def address(i: int, column_id: str) -> str:
        return a1(start + i, cols[column_id])

    def current(r: int, c: int) -> Any:
        return _cell_value(grid[r][c]) if r < len(grid) and c < len(grid[r]) else ""

    calc = BlockCalc(block, rows)
    mine = set(cols.values())
    out: list[list[Any]] = [[current(r, c) if c not in mine else "" for c in range(left, right + 1)]
                            for r in range(start, end + 1)]
    for i, row in enumerate(rows):
        for col, formula, computed in row_cells(calc, i, address, cols):
            out[i][cols[col.id] - left] = "=" + formula if formula is not None and computed else _cell_value(
                row.get(col.id))
    if out:
        plan.formulas.append((rb.sheet, a1(start, left), out))
    if start + len(rows) - 1 > old_end:  # rows the template did not have yet get its number formats
        for col in block.columns:
            if col.id in cols and col.type in NUMBER_FORMATS:
                plan.number_formats.append((rb.sheet, a1(old_end + 1, cols[col.id]),
                                            a1(start + len(rows) - 1, cols[col.id]), NUMBER_FORMATS[col.type]))
    return len(rows)


def _fill(book: xw.Book) -> WritePlan:
    path = _path_from(book, NAME_DATA_PATH, "ไฟล์ข้อมูล", "data file")
    template = _data_template(book, path)
    spec = get_spec(template)
    filled = load_data(path, template)
    source = BookSource(book)
    target = next((wb for wb in read_book(source) if wb.spec.id == spec.id), None)
    if target is None:
        raise UnreadableWorkbookError(f"สมุดงานนี้ไม่มีแม่แบบ {spec.id} / this workbook holds no {spec.id} template")
    plan = WritePlan()
    count = 0
    for block in spec.blocks:
        rb = target.blocks.get(block.id)
        if rb is None or not rb.columns:
            raise UnreadableWorkbookError(f"ไม่พบตาราง {block.title_th} (ชีต {block.sheet}) / table {block.title_en}"
                                          f" (sheet {block.sheet}) not found")
        count += _fill_block(plan, source, rb, block, filled.blocks.get(block.id, []))
    for field_id, value in filled.meta.items():
        if value is not None and field_id in target.meta_cells:
            sheet, cell = target.meta_cells[field_id]
            plan.values.append((sheet, cell, [[excel_value(value)]]))
    message = (f"เติมข้อมูล {spec.title_th} {count} แถว จาก {path.name} / filled {spec.title_en}: {count} rows"
               f" from {path.name}")
    return _finish(plan, message)


def fill_button(book: xw.Book | None = None) -> WritePlan:
    """เติมข้อมูลจากไฟล์ .json/.csv (ที่อยู่ในช่อง osmep_data_path) / Fill a template from the data file whose
    path is in the named cell osmep_data_path."""
    return _run(book, _fill)


# --- clearing ------------------------------------------------------------------------------------------------


def _clear(book: xw.Book) -> WritePlan:
    source = BookSource(book)
    if FINDINGS_SHEET not in source.sheet_names():
        return _finish(WritePlan(), "ไม่มีผลตรวจสอบให้ล้าง / there are no flags to clear")
    try:
        books = read_book(source)
    except (UnreadableWorkbookError, RefusedFileError):
        books = []
    plan = WritePlan()
    old = _old_flags(source)
    names = set(source.sheet_names())
    for sheet, cell in sorted(old):
        if sheet in names:
            plan.color(sheet, cell, _template_fill(source, books, sheet, cell))
            plan.note(sheet, cell, None)
    plan.delete_sheets.append(FINDINGS_SHEET)
    if FRONT_SHEET in names:
        plan.activate = FRONT_SHEET
    return _finish(plan, f"ล้างไฮไลต์ {len(old)} ช่องและชีต {FINDINGS_SHEET} แล้ว / cleared {len(old)} flagged cells"
                         f" and sheet {FINDINGS_SHEET}")


def clear_flags_button(book: xw.Book | None = None) -> WritePlan:
    """ล้างผลตรวจสอบ: เอาไฮไลต์ บันทึกย่อ และชีตผลตรวจสอบออก / Clear flags: highlights, notes, findings sheet."""
    return _run(book, _clear)


# --- the dropdown --------------------------------------------------------------------------------------------


BUTTONS: dict[str, Callable[[xw.Book | None], WritePlan]] = {
    "validate_button": validate_button,
    "recalc_button": recalc_button,
    "fill_button": fill_button,
    "import_previous_button": import_previous_button,
    "clear_flags_button": clear_flags_button,
}


def run_selected(book: xw.Book | None = None) -> WritePlan:
    """Run the action chosen in the dropdown cell osmep_action on the front sheet."""
    target = book if book is not None else xw.Book.caller()
    choice = named_value(target, NAME_ACTION)
    action = find_action("" if choice is None else str(choice))
    if action is None:
        plan = _failure(f"ไม่รู้จักคำสั่ง / unknown action {choice!r}")
        plan.apply(target)
        return plan
    return BUTTONS[action.function](target)


__all__ = ["BUTTONS", "clear_flags_button", "fill_button", "import_previous_button", "recalc_button",
           "run_selected", "validate_button"]
