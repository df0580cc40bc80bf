"""The operations every front end calls: validate, recalculate, annotate a workbook file."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .a1 import parse_a1
from .findings import Finding, Severity, sort_findings
from .model.load import DataError
from .report import FINDINGS_PRINTED, FINDINGS_WIDTHS, FileResult, printed_rows, row_heights
from .rules.config import ConfigError, Settings
from .rules.diagnosis import CAUSE_RULES
from .rules.recalc import plan_recalc_all, text_numbers
from .rules.validate import validate_set
from .spec import UnknownTemplateError
from .spec.base import Column
from .xlsx.layout import ERROR_FILL, FONT, FONT_SIZE, HEADER_FILL, WARNING_FILL, argb, footer
from .xlsx.patch import PatchError, WorkbookPatch
from .xlsx.read import ReadWorkbook, collector_paused, read_workbooks
from .xlsx.safety import RefusedFileError, check_writable
from .xlsx.source import UnreadableWorkbookError

# What a user's input can raise: every front end turns these into one clear line, never a traceback.
USER_ERRORS = (DataError, ConfigError, PatchError, RefusedFileError, UnreadableWorkbookError, UnknownTemplateError,
               FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError, NotADirectoryError)
FINDINGS_SHEET = "ผลตรวจสอบ"
HIGHLIGHT = {Severity.ERROR: argb(ERROR_FILL), Severity.WARNING: argb(WARNING_FILL)}
CAUSE_FILL = "FFFF7C80"  # the typed cell that explains other findings: red
CONSEQUENCE_FILL = "FFFDE9EC"  # a finding caused by a typed cell elsewhere: a lighter shade


class NewerVersionError(RefusedFileError):
    """The workbook was made by a newer osmep_xl than the one installed."""


def _version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (0,)


def refuse_newer(books: list[ReadWorkbook], where: str) -> list[ReadWorkbook]:
    """``books``, unless one was made by a newer osmep_xl than the one installed."""
    for wb in books:
        if wb.version and _version_tuple(wb.version) > _version_tuple(wb.spec.version):
            raise NewerVersionError(
                f"ไฟล์สร้างด้วยแม่แบบรุ่นใหม่กว่า ({wb.version} > {wb.spec.version}) กรุณาอัปเดต osmep_xl / "
                f"{where} uses template {wb.spec.id} v{wb.version}, newer than installed v{wb.spec.version}:"
                " upgrade osmep_xl")
    return books


def open_all(path: Path) -> list[ReadWorkbook]:
    """Read every template in a workbook file, refusing versions newer than the installed spec."""
    return refuse_newer(read_workbooks(path), str(path))


class PreviousFileError(DataError):
    """The previous quarter's workbook cannot be compared with: missing, unreadable, or of another template."""


@dataclass(frozen=True)
class Previous:
    """The previous quarter's workbook, read once for every input compared with it."""

    path: Path
    books: dict[str, ReadWorkbook]

    def matching(self, books: list[ReadWorkbook], where: str) -> dict[str, ReadWorkbook]:
        """The previous books by template id; refused when none is a template ``books`` hold (there would be
        nothing to compare, silently)."""
        if not any(wb.spec.id in self.books for wb in books):
            theirs, ours = ", ".join(self.books), ", ".join(wb.spec.id for wb in books)
            raise PreviousFileError(
                f"ไฟล์ไตรมาสก่อนเป็นแม่แบบอื่น ({theirs}) เทียบกับ {ours} ไม่ได้ / the previous-quarter file "
                f"{self.path} holds {theirs}, not {ours} of {where}: nothing to compare (--previous)")
        return self.books


def open_previous(path: Path) -> Previous:
    """Read the previous quarter's workbook; a problem with it is a :class:`PreviousFileError` naming it as such,
    never taken for a problem with the input."""
    if not path.exists():
        raise PreviousFileError(f"ไม่พบไฟล์ไตรมาสก่อน / previous-quarter file not found (--previous): {path}")
    try:
        books = open_all(path)
    except (UnreadableWorkbookError, RefusedFileError) as exc:
        raise PreviousFileError(f"ใช้ไฟล์ไตรมาสก่อนไม่ได้ / cannot use the previous-quarter file (--previous): "
                                f"{exc}") from exc
    return Previous(path, {wb.spec.id: wb for wb in books})


Opened = list[tuple[Path, list[ReadWorkbook] | str]]  # each file's templates, or why it cannot be used


def open_files(paths: list[Path]) -> Opened:
    """Read every file once: its templates, or the one line saying why it cannot be used."""
    opened: Opened = []
    for path in paths:
        try:
            opened.append((path, open_all(path)))
        except (UnreadableWorkbookError, RefusedFileError) as exc:
            opened.append((path, str(exc)))
    return opened


def opened_books(opened: Opened) -> list[ReadWorkbook]:
    return [wb for _, got in opened if not isinstance(got, str) for wb in got]


def check_files(paths: list[Path], settings: Settings, previous: Path | Previous | None = None) -> list[FileResult]:
    """Validate every template in ``paths`` together, so that checks spanning templates see them all;
    an unusable file gives one result with ``unreadable`` set.

    ``previous`` (last quarter's workbook, a path or read once with :func:`open_previous`) must hold one of
    the templates: :class:`PreviousFileError` otherwise.
    """
    return check_opened(open_files(paths), settings, previous)


def check_opened(opened: Opened, settings: Settings, previous: Path | Previous | None = None) -> list[FileResult]:
    """:func:`check_files` on files already read with :func:`open_files`."""
    books = opened_books(opened)
    paths = [path for path, _ in opened]
    if isinstance(previous, Path):
        previous = open_previous(previous)
    prev = previous.matching(books, ", ".join(str(p) for p in paths)) if previous is not None and books else {}
    with collector_paused():  # (see there: the checks, like the reader, make many objects and no cycle)
        found = iter(validate_set(books, settings, list(prev.values())))
    results: list[FileResult] = []
    for path, got in opened:
        if isinstance(got, str):
            results.append(FileResult(path=path, unreadable=got))
            continue
        results += [FileResult(path=path, template=wb.spec.id, version=wb.version, findings=next(found))
                    for wb in got]
    return results


def check_file(path: Path, settings: Settings, previous: Path | Previous | None = None) -> list[FileResult]:
    """:func:`check_files` for one file."""
    return check_files([path], settings, previous)


def backup_path(path: Path) -> Path:
    """Where ``--in-place`` keeps the original: beside it, stamped with the time."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return path.with_name(f"{path.stem}.{stamp}.bak{path.suffix}")


def recalc_result(path: Path, out: Path, *, backup: bool = True) -> FileResult:
    """Write ``out`` with every derived cell recalculated; the result lists what changed (``recalc.changed``)
    and the numbers left stored as text (typed inputs are never rewritten: each is a warning).

    When ``out`` is ``path`` (in place) the original is first copied to :func:`backup_path`.
    """
    return recalc_books(path, open_all(path), out, backup=backup)


def recalc_books(path: Path, books: list[ReadWorkbook], out: Path, *, backup: bool = True) -> FileResult:
    """:func:`recalc_result` of ``path`` already read (``books``, from :func:`open_all`)."""
    with collector_paused():
        edits, changes = plan_recalc_all(books)
    patch = WorkbookPatch(path)
    for edit in edits:
        patch.set_cell(edit.sheet, edit.cell, edit.value, formula=edit.formula)
    check_writable(out)
    if out.resolve() == path.resolve() and backup:
        shutil.copy2(path, backup_path(path))
    patch.save(out)
    return FileResult(path=path, template=",".join(wb.spec.id for wb in books),
                      version=",".join(wb.version or "" for wb in books) or None,
                      findings=changes + text_numbers(books, edits))


def check_and_recalc(path: Path, out: Path, settings: Settings, previous: Path | Previous | None = None, *,
                     backup: bool = True) -> list[FileResult]:
    """Validate ``path`` and write it recalculated to ``out``, reading it once: the validation results
    (:func:`check_file`), then the recalculation's (:func:`recalc_result`). A file that cannot be read
    gives one result with ``unreadable`` set, as :func:`check_file` does, and nothing is written."""
    opened = open_files([path])
    results = check_opened(opened, settings, previous)
    books = opened[0][1]
    if isinstance(books, str):
        return results
    return [*results, recalc_books(path, books, out, backup=backup)]


def recalc_file(path: Path, out: Path, *, backup: bool = True) -> list[Finding]:
    """:func:`recalc_result`'s changes (``recalc.changed``)."""
    return [f for f in recalc_result(path, out, backup=backup).findings if f.rule == "recalc.changed"]


def template_sheets(books: list[ReadWorkbook]) -> set[str]:
    """The sheets the templates of a workbook own (tables and information sheet)."""
    return {s for wb in books for s in [*(b.sheet for b in wb.spec.blocks), *(s for s, _ in wb.meta_cells.values())]}


def _note(f: Finding) -> str:
    text = f"[{f.rule}] {f.message_th}\n{f.message_en}"
    if f.cause is not None:
        text += f"\nผลจาก / caused by {f.cause}"
    elif f.rule in CAUSE_RULES and f.expected is not None:
        text += f"\nแก้เป็น / correct to: {f.expected}"
    if f.candidates:
        text += f"\nช่องที่อาจผิด / candidate cells: {', '.join(f.candidates)}"
    return text


def cell_flags(findings: list[Finding], sheets: set[str]) -> dict[tuple[str, str], tuple[str, str]]:
    """(sheet, cell) -> (ARGB fill of the worst severity, note text) for every error or warning on ``sheets``:
    what the annotated copy and the validate button both put on the flagged cells. A diagnosed cause is red
    (its note says the corrected value); a cell whose findings are all consequences of a cause elsewhere
    gets a lighter shade."""
    by_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in sort_findings(findings):
        if f.sheet in sheets and f.severity in HIGHLIGHT:
            by_cell[(f.sheet, f.cell)].append(f)
    causes = {f.cause for f in findings if f.cause is not None}
    flags = {}
    for key, items in by_cell.items():
        worst = min(items, key=lambda f: f.severity.rank).severity
        colour = HIGHLIGHT[worst]
        if worst is Severity.ERROR and (f"{key[0]}!{key[1]}" in causes
                                        or any(f.rule in CAUSE_RULES for f in items)):
            colour = CAUSE_FILL
        elif all(f.cause is not None for f in items if f.severity is worst):
            colour = CONSEQUENCE_FILL
        flags[key] = (colour, "\n\n".join(_note(f) for f in items))
    return flags


def _column_finder(books: list[ReadWorkbook]) -> Callable[[Finding], Column | None]:
    """The template column a finding's cell is in, to format its expected and actual values."""
    at = {(rb.sheet, index): rb.block.column(column_id)
          for wb in books for rb in wb.blocks.values() for column_id, index in rb.columns.items()}

    def column(f: Finding) -> Column | None:
        try:
            return at.get((f.sheet, parse_a1(f.cell)[1]))
        except ValueError:
            return None
    return column


def annotate_file(path: Path, findings: list[Finding], out: Path) -> Path:
    """A copy of ``path`` with a findings sheet, highlighted cells and a comment per flagged cell."""
    check_writable(out)
    findings = sort_findings(findings)
    books = open_all(path)
    sheets = template_sheets(books)
    patch = WorkbookPatch(path)
    rows = printed_rows(findings, _column_finder(books))
    links = {f"C{n}": (f.sheet, f.cell) for n, f in enumerate(findings, start=2) if f.sheet in sheets}
    # Stored as XlsxWriter stores a width (plus 5 pixels of padding), which the row heights count with.
    patch.add_sheet(FINDINGS_SHEET, rows, widths=[w + 5 / 7 for w in FINDINGS_WIDTHS], links=links)
    patch.print_table(FINDINGS_SHEET, heights=row_heights(rows, FINDINGS_WIDTHS), font=FONT, size=FONT_SIZE,
                      header_fill=argb(HEADER_FILL), footer=footer(), columns=FINDINGS_PRINTED,
                      right=(4, 5))
    for (sheet, cell), (color, note) in cell_flags(findings, sheets).items():
        patch.highlight(sheet, cell, color)
        patch.comment(sheet, cell, note)
    return patch.save(out)
