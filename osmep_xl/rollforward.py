"""Start the next period's workbook from this one (``osmep-xl next-period``).

Everything a period hands on is carried: the structure, the plans and budgets, the cumulative actuals (the
next period's figures are typed over them, and ``validate OUT --previous IN`` flags any that go down). What
belongs to the period alone is left blank: the columns the spec marks ``period_entry`` (none in the four
standard templates, whose figures are all cumulative or balances at the as-of date; e.g. a monthly template's
"this month" entries). The as-of date moves to the end of the next quarter, or of the next month for a
template whose spec says it is monthly (``TemplateSpec.period``), and the quarter follows it. A fiscal year
is not rolled into the next: a new year has a new Budget Act, new allocations, new targets and often new
projects, so it starts from ``osmep-xl new``. Nothing here is template-specific: every registered template
rolls forward by its spec.

Formula cells whose value follows the date (a spending plan's cumulative to the as-of month) get the value
Excel will show in the new period, so the rolled file reads right before Excel recalculates it; typed figures
are never rewritten. The dashboard's target beside each chart is set to the new quarter's (from the settings).
The output is the
input patched (:class:`~osmep_xl.xlsx.patch.WorkbookPatch`): the cells named above change,
every other part of the package is copied byte for byte, and the file is written atomically.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .a1 import parse_a1
from .check import open_all
from .fiscal import (
    BE_YEARS,
    fiscal_quarter,
    fiscal_year,
    fiscal_year_bounds,
    format_thai_date,
    month_end,
    quarter_end,
)
from .model.load import DataError
from .rules.config import Settings, load_settings
from .rules.recalc import plan_recalc_all
from .rules.variance import target_lookup
from .spec.base import TemplateSpec
from .xlsx.dashboard import DASHBOARD_SHEET, retarget
from .xlsx.patch import WorkbookPatch
from .xlsx.read import ReadWorkbook
from .xlsx.source import FileSource

EXCEL_EPOCH = dt.date(1899, 12, 30)  # day 0 of Excel's date serials (1900 system)


class RollForwardError(DataError):
    """A workbook that cannot be rolled forward as asked; the message says why, in Thai and English."""


@dataclass
class Rolled:
    """What :func:`roll_forward` did."""

    path: Path
    templates: list[str]
    as_of_before: dt.date
    as_of: dt.date
    quarter: int
    blanked: list[str] = field(default_factory=list)  # sheet!cell of each period entry left blank
    kept: list[str] = field(default_factory=list)  # fields carried as typed that may need a new text (title)
    retargeted: list[str] = field(default_factory=list)  # the dashboard's target cells set for the new quarter
    refreshed: list[str] = field(default_factory=list)  # formula cells whose value follows the new date


def next_as_of(as_of: dt.date, monthly: bool) -> dt.date:
    """The end of the first quarter (or month) after ``as_of``: 30 Jun -> 30 Sep, 15 May -> 30 Jun."""
    if monthly:
        end = month_end(as_of.year, as_of.month)
        after = end + dt.timedelta(days=1)
        return end if end > as_of else month_end(after.year, after.month)
    year, quarter = fiscal_year(as_of), fiscal_quarter(as_of)
    end = quarter_end(year, quarter)
    if end > as_of:
        return end
    return quarter_end(year, quarter + 1) if quarter < 4 else quarter_end(year + 1, 1)


def _meta_dates(books: list[ReadWorkbook], path: Path) -> tuple[dt.date, int]:
    """The input's as-of date and fiscal year; refused when either is unusable (validation would say which)."""
    meta = books[0].meta
    as_of, year = meta.get("as_of"), meta.get("fiscal_year")
    if not isinstance(as_of, dt.date):
        raise RollForwardError(
            f"ไฟล์ {path} ไม่มีวันที่ข้อมูล (ข้อมูล ณ วันที่) ที่ใช้ได้: {as_of!r} ตรวจด้วย osmep-xl validate / {path} has no"
            f" usable as-of date ({as_of!r}): run osmep-xl validate and fix it first")
    if not isinstance(year, int) or year not in BE_YEARS:
        raise RollForwardError(
            f"ไฟล์ {path} ไม่มีปีงบประมาณที่ใช้ได้: {year!r} / {path} has no usable fiscal year ({year!r})")
    return as_of, year


def _new_as_of(as_of: dt.date, year: int, wanted: dt.date | None, specs: list[TemplateSpec]) -> dt.date:
    """The next period's as-of date: ``wanted`` if given, else the end of the next quarter or month; refused
    before or on the input's date and past the end of the input's fiscal year."""
    new = wanted or next_as_of(as_of, any(s.period == "month" for s in specs))
    if new <= as_of:
        raise RollForwardError(
            f"--as-of {new.isoformat()} ไม่หลังวันที่ข้อมูลของไฟล์เดิม ({as_of.isoformat()}) / --as-of {new.isoformat()}"
            f" is not after the input's as-of date {as_of.isoformat()}")
    _, end = fiscal_year_bounds(year)
    if new > end:
        raise RollForwardError(
            f"ปีงบประมาณ {year} สิ้นสุด {format_thai_date(end)} ({new.isoformat()} อยู่ในปีถัดไป): เริ่มปีใหม่ด้วย"
            f" osmep-xl new เพราะงบประมาณ เป้าหมาย และโครงการเป็นของปีใหม่ / fiscal year {year} ends on"
            f" {end.isoformat()} and {new.isoformat()} is past it: start the new year with osmep-xl new (its budget,"
            " targets and projects are new)")
    return new


def _date_cell(value: object, new: dt.date) -> int | str:
    """How the new as-of date is written: a date serial where the input holds a date (the cell keeps its date
    format), the same kind of text where a person typed it as text."""
    if isinstance(value, (dt.date, dt.datetime)) or (isinstance(value, float | int) and not isinstance(value, bool)):
        return (new - EXCEL_EPOCH).days
    text = str(value).strip()
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return format_thai_date(new, full=True)
    return new.isoformat()


def roll_forward(source: Path, out: Path, as_of: dt.date | None = None, settings: Settings | None = None) -> Rolled:
    """Write ``out``: ``source`` started for its next period (see the module's docstring). ``out`` must be
    another file than ``source``; checking that it may be written is the caller's (``check_out``)."""
    source, out = Path(source), Path(out)
    if not source.exists():
        raise FileNotFoundError(f"ไม่พบไฟล์ / file not found: {source}")
    if out.resolve() == source.resolve():
        raise RollForwardError(f"ไฟล์ผลลัพธ์ต้องเป็นไฟล์ใหม่ ไม่ใช่ไฟล์ต้นฉบับ / the output must be a new file, not the"
                               f" input {source} (--force does not change that)")
    books = open_all(source)
    before, year = _meta_dates(books, source)
    new = _new_as_of(before, year, as_of, [wb.spec for wb in books])
    rolled = Rolled(out, [wb.spec.id for wb in books], before, new, fiscal_quarter(new))
    patch = WorkbookPatch(source)
    cells = books[0].meta_cells  # the information sheet is shared by every template of a workbook
    grids = _grids(source, {DASHBOARD_SHEET, *(sheet for sheet, _ in cells.values())})
    if "as_of" in cells:
        sheet, cell = cells["as_of"]
        patch.set_cell(sheet, cell, _date_cell(_at(grids.get(sheet, []), cell), new))
    if "quarter" in cells:
        patch.set_cell(*cells["quarter"], rolled.quarter)
    if books[0].meta.get("title") and "title" in cells:  # free text, often naming the quarter: the user's to edit
        rolled.kept.append("!".join(cells["title"]))
    dashboard = grids.get(DASHBOARD_SHEET)
    if dashboard is not None:  # the government's target beside each chart: the new quarter's
        planned = [(block, list(wb.blocks[block.id].rows) if block.id in wb.blocks else [], new)
                   for wb in books for block in wb.spec.blocks]
        rolled.retargeted = retarget(patch, dashboard, planned, target_lookup(settings or load_settings()))
    formulas: set[tuple[str, str]] = set()
    for wb in books:
        wb.meta.update(as_of=new, quarter=rolled.quarter)
        for rb in wb.blocks.values():
            formulas |= {(rb.sheet, rb.address(i, c)) for i, c in rb.formula_cells}
            entries = [c.id for c in rb.block.columns if c.period_entry and c.id in rb.columns]
            for i in range(len(rb.rows)):
                for column in entries:
                    if rb.raw_cell(i, column) not in (None, ""):
                        patch.set_cell(rb.sheet, rb.address(i, column), None)
                        rb.rows.set(i, column, None)
                        rolled.blanked.append(f"{rb.sheet}!{rb.address(i, column)}")
    # A formula that reads the as-of date (a cumulative to the as-of month) or a blanked entry gets the value
    # Excel would show in the new period, so that the file reads right before Excel recalculates it. Typed
    # figures are never rewritten here: that is recalc's, with its report of each change.
    for edit in plan_recalc_all(books)[0]:
        if (edit.sheet, edit.cell) in formulas:
            patch.set_cell(edit.sheet, edit.cell, edit.value, formula=edit.formula)
            rolled.refreshed.append(f"{edit.sheet}!{edit.cell}")
    patch.save(out)
    return rolled


def _grids(path: Path, sheets: set[str]) -> dict[str, list[list[Any]]]:
    """The values of those of ``sheets`` the workbook has, as stored (dates, numbers, text), in one read."""
    source = FileSource(path)
    try:
        return {name: source.grid(name) for name in source.sheet_names() if name in sheets}
    finally:
        source.close()


def _at(grid: list[list[Any]], cell: str) -> object:
    row, col = parse_a1(cell)
    return grid[row][col] if row < len(grid) and col < len(grid[row]) else None
