"""Excel worksheet functions (UDFs) over the osmep_xl core.

ฟังก์ชันสำหรับใช้ในสูตร Excel: ร้อยละแบบ ROUND ของ Excel, คงเหลือ, ตัวชี้วัด, ปีงบประมาณ, การเบิกจ่าย
และการตรวจตารางแม่แบบ — Excel functions for percentages, remaining budget, KPIs, the Thai fiscal
calendar, disbursement flags and validating a template table.

Declared once with ``@xw.func``/``@xw.arg``/``@xw.ret``: desktop Excel imports them as COM UDFs
(``UDF Modules = osmep_xl.excel.udfs`` on the ``xlwings.conf`` sheet), xlwings Server and Lite read the
same decorators and type hints. Every function is vectorised: each argument may be one value or a
whole range, and the result has the broadcast shape of the arguments (a scalar for scalars, a column
for a column), so one call over 10,000 rows is one Python call. Money is Decimal inside; numbers
leave as floats. A blank result is ``""``; an argument that is not a number gives ``"#VALUE!"``
(a real error value under xlwings Server/Lite).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import xlwings as xw

from ..a1 import a1, parse_a1
from ..findings import Finding
from ..fiscal import be_to_ce, ce_to_be, expand_be_year, fiscal_quarter, fiscal_year, parse_thai_date
from ..kpi_text import parse_result, parse_target
from ..model.columnar import MAX_PCT_INPUT, SCALE, Bools, Ints, evaluate_sum, round_percent
from ..money import parse_number, percent, to_money, translate_thai_digits
from ..rules.config import Basis, DisbursementSettings, Kind, Settings, load_settings
from ..rules.targets import KIND_TEXT, Judgement, both_bases_text, judge
from ..rules.validate import validate
from ..spec import get_spec
from ..spec.base import Column, Formula, KpiRoles, SpendingRoles, Sum
from ..spec.columns import BUDGET_CATEGORY, BUDGET_SOURCE
from ..xlsx.layout import PROP_TEMPLATE
from ..xlsx.package import SheetCells
from ..xlsx.read import read_template
from .amount_columns import doubles, hundredths, percent_of_doubles, plain_amount

VALUE_ERROR = "#VALUE!"
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 once Excel's phantom 29 Feb 1900 is skipped
_LAST_SERIAL = 2_958_466  # 1 Jan 10000: Excel has no later date (nor has Python)
_CE_YEAR_LIMIT = 2400  # a whole number below this is a Common Era year, not a date serial
_KIND_WORDS: dict[str, Kind] = {"overall": "overall", "ภาพรวม": "overall", "recurrent": "recurrent",
                                "รายจ่ายประจำ": "recurrent", "investment": "investment", "รายจ่ายลงทุน": "investment",
                                "carryover": "carryover", "carry-over": "carryover", "เงินกันเหลื่อมปี": "carryover"}
_BASIS_WORDS: dict[str, Basis] = {"disbursed_committed": "disbursed_committed", "เบิกจ่าย+ผูกพัน": "disbursed_committed",
                                  "disbursed": "disbursed", "เบิกจ่าย": "disbursed", "เบิกจ่ายจริง": "disbursed"}
_DIRECTIONS = {">=": ">=", "≥": ">=", "<=": "<=", "≤": "<="}
def _spec_formula(template: str, block: str, column_id: str) -> Formula:
    """The spec's own formula of a column: the UDFs compute exactly what the template's cells do."""
    formula = get_spec(template).block(block).column(column_id).formula
    if formula is None:
        raise TypeError(f"{template}.{block}.{column_id} has no formula")
    return formula


_KPI: KpiRoles = get_spec("kpi").block("kpis").kpi or KpiRoles("", "", "", "")
_ACHIEVEMENT = _spec_formula("kpi", "kpis", "achievement")
_STATUS = _spec_formula("kpi", "kpis", "status")
VALIDATE_HEADER = ["กฎ / Rule", "ช่อง / Cell", "ควรเป็น / Expected", "ที่ระบุ / Actual", "รายละเอียด / Message"]


class _Invalid:
    """An argument that cannot be read as what the function needs (shown as #VALUE!)."""


INVALID = _Invalid()


F = TypeVar("F", bound=Callable[..., Any])


def _help(func: F) -> F:
    """Make the docstring one line: it is the function's description in Excel's function wizard."""
    func.__doc__ = " ".join((func.__doc__ or "").split())
    return func


# --- shapes: scalar, 1-D or 2-D in, the same shape out ---------------------------------------------------------


def _dims(value: Any) -> int:
    if isinstance(value, (list, tuple)):
        return 2 if value and isinstance(value[0], (list, tuple)) else 1
    return 0


def _grid(value: Any) -> list[list[Any]]:
    dims = _dims(value)
    if dims == 2:
        return list(value)  # rows are only read: no copy of each
    if dims == 1:
        return [[v] for v in value]  # a flat list from Python is a column
    return [[value]]


def _broadcast(args: Sequence[Any]) -> tuple[list[list[Any]], tuple[int, int, int]]:
    """Each argument as one flat list over the broadcast grid (Excel's array rules: a single row or
    column stretches), row by row, and the (rows, columns, dimensions) to shape a result back."""
    grids = [_grid(a) for a in args]
    rows = max(len(g) for g in grids)
    cols = max(len(g[0]) if g else 0 for g in grids)
    for g in grids:
        if len(g) not in (1, rows) or (g and len(g[0]) not in (1, cols)):
            raise ValueError("ขนาดช่วงข้อมูลไม่เท่ากัน / ranges of different sizes")
    return [_flat(g, rows, cols) for g in grids], (rows, cols, max(_dims(a) for a in args))


def _flat(grid: list[Any], rows: int, cols: int) -> list[Any]:
    """``grid`` stretched to ``rows`` x ``cols``, row by row."""
    if not rows or not cols:
        return []
    if len(grid) == rows and len(grid[0]) == cols:
        return [row[0] for row in grid] if cols == 1 else [v for row in grid for v in row]
    if len(grid) == rows:  # one column stretched across
        return [row[0] for row in grid for _ in range(cols)]
    return list(grid[0]) * rows if len(grid[0]) == cols else [grid[0][0]] * (rows * cols)


def _shaped(flat: list[Any], shape: tuple[int, int, int]) -> Any:
    rows, cols, dims = shape
    if dims == 0:
        return flat[0]
    if dims == 1:
        return flat if cols == 1 else flat[:cols]
    return [flat[r * cols:(r + 1) * cols] for r in range(rows)]


def vectorize(func: Callable[..., Any], *args: Any) -> Any:
    """Apply ``func`` cell by cell over the broadcast of ``args`` (Excel's array rules: a single
    row or column stretches); the result takes the shape of the widest argument."""
    flats, shape = _broadcast(args)
    return _shaped([func(*cell) for cell in zip(*flats, strict=True)], shape)


_SAMPLE = 512  # rows after which vectorize_distinct stops keying cells if nearly all were new


def vectorize_distinct(func: Callable[..., Any], *args: Any) -> Any:
    """:func:`vectorize`, calling ``func`` once per distinct combination of cells: a column repeats its
    targets, statuses and years. Cells are the same when their types and values are (``True == 1`` and
    ``1 == 1.0`` are not the same cell); a row with a zero (``-0.0 == 0.0``, yet may give -0.0) or a value
    that cannot be a key is computed on its own. When nearly all the first rows are new, the rest are computed
    one by one: keys would cost more than they save."""
    flats, shape = _broadcast(args)
    seen: dict[tuple[Any, ...], Any] = {}
    out: list[Any] = []
    keys = zip(*[x for column in flats for x in (column, map(type, column))], strict=True)
    for key in itertools.islice(keys, _SAMPLE):
        out.append(_distinct(func, key, seen))
    if len(seen) > _SAMPLE * 7 // 8:
        out.extend(func(*key[0::2]) for key in keys)
    else:
        out.extend(_distinct(func, key, seen) for key in keys)
    return _shaped(out, shape)


def _distinct(func: Callable[..., Any], key: tuple[Any, ...], seen: dict[tuple[Any, ...], Any]) -> Any:
    """``func`` of a row's cells (``key``: each cell, then its type), once per distinct row in ``seen``."""
    try:
        value = seen.get(key, LATER)
    except TypeError:  # unhashable, or a signalling NaN
        return func(*key[0::2])
    if value is LATER:
        value = func(*key[0::2])
        if 0.0 not in key:
            seen[key] = value
    return value


LATER = object()  # a cell the columnar path leaves to the cell-by-cell function


def vectorize_columns(func: Callable[..., Any], columns: Callable[..., list[Any]], *args: Any) -> Any:
    """:func:`vectorize`, with ``columns`` first computing whole columns at once (numpy): it returns each
    cell's result, or ``LATER`` for a cell ``func`` must compute (text, more decimals than hundredths...).
    Both give the same result for any cell."""
    flats, shape = _broadcast(args)
    done = columns(*flats)
    return _shaped([func(*cell) if out is LATER else out
                    for out, cell in zip(done, zip(*flats, strict=True), strict=True)], shape)


# --- reading cell values -------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any) -> Decimal | _Invalid | None:
    """A cell as an exact Decimal: numbers, and text as people type it (๑,๒๓๔ · 1,234 บาท)."""
    if _blank(value):
        return None
    if isinstance(value, (bool, dt.date, dt.time)):
        return INVALID
    if isinstance(value, float) and value - value != 0:  # inf or NaN: no amount (and to_money refuses it)
        return INVALID
    if isinstance(value, (int, float, Decimal)):
        return to_money(value)
    if isinstance(value, str):
        parsed = parse_number(value)
        return INVALID if parsed is None else parsed
    return INVALID


def _date(value: Any) -> dt.date | _Invalid | None:
    """A date from a date cell, an Excel serial number, ISO text or Thai text ("30 มิ.ย.64")."""
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return EXCEL_EPOCH + dt.timedelta(days=int(value)) if 1 <= value < _LAST_SERIAL else INVALID
    if isinstance(value, str):
        text = translate_thai_digits(value).strip()
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            pass
        try:
            return parse_thai_date(text)
        except ValueError:
            return INVALID
    return INVALID


def _out(value: Decimal | int | str | _Invalid | None) -> float | int | str:
    """A result cell: Decimal leaves as float, nothing as "" (an empty cell), bad input as #VALUE!."""
    if isinstance(value, _Invalid):
        return VALUE_ERROR
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return float(value)
    return value


# --- money ---------------------------------------------------------------------------------------------------


def _percent(part: Any, whole: Any) -> float | int | str:
    p, w = _number(part), _number(whole)
    if isinstance(p, _Invalid) or isinstance(w, _Invalid):
        return VALUE_ERROR
    if w is None or w == 0:
        return ""
    return _out(percent(p or Decimal(0), w))


def _percent_columns(part: list[Any], whole: list[Any]) -> list[Any]:
    """:func:`_percent` of whole columns in exact hundredths (:func:`.columnar.round_percent`); other doubles
    where the percentage is surely away from a rounding tie (:func:`.amount_columns.percent_of_doubles`)."""
    p, p_exact, p_blank = hundredths(part)
    w, w_exact, w_blank = hundredths(whole)
    fits = (p_exact | p_blank) & (w_exact | w_blank) & (np.abs(p) < MAX_PCT_INPUT) & (np.abs(w) < MAX_PCT_INPUT)
    empty = w_blank | (w == 0)
    value = round_percent(p, np.where(empty, 1, w))
    by_doubles = np.zeros(len(part), np.bool_)
    if not fits.all():
        of_doubles, sure = percent_of_doubles(np.where(p_blank, 0.0, doubles(part, p, p_exact)),
                                              doubles(whole, w, w_exact))
        by_doubles = ~fits & sure
        value = np.where(fits, value, of_doubles)
    # A zero result may be -0.00 in Decimal (a negative ratio rounded away): left to the Decimal path.
    out = np.where((fits & ~empty | by_doubles) & (value != 0), value / SCALE, np.nan).tolist()
    empties = (fits & empty).tolist()
    return ["" if e else LATER if v != v else v for v, e in zip(out, empties, strict=True)]


@xw.func
@xw.arg("part", ndim=2, doc="ส่วน เช่น เบิกจ่าย / the part, e.g. disbursed (a value or a column)")
@xw.arg("whole", ndim=2, doc="ทั้งหมด เช่น งบประมาณ / the whole, e.g. allocated (a value or a column)")
@_help
def OSMEP_PERCENT(part: Any, whole: Any) -> Any:
    """ร้อยละ ROUND(ส่วน/ทั้งหมด*100, 2) ปัดครึ่งขึ้นแบบ Excel · ว่างเมื่อทั้งหมดเป็น 0 / Percent of
    the whole, ROUND(part/whole*100, 2) half away from zero; blank when the whole is 0."""
    return vectorize_columns(_percent, _percent_columns, part, whole)


_SPENDING: SpendingRoles = get_spec("disbursement").block("lines").spending or SpendingRoles(*("",) * 7)
_TOTAL = _spec_formula("disbursement", "lines", _SPENDING.total)
_REMAINING = _spec_formula("disbursement", "lines", _SPENDING.remaining)


def _remaining(allocated: Any, disbursed: Any, committed: Any) -> float | int | str:
    values = [_number(allocated), _number(disbursed), _number(committed)]
    if any(isinstance(v, _Invalid) for v in values):
        return VALUE_ERROR
    if all(v is None for v in values):
        return ""
    roles = _SPENDING
    row: dict[str, Any] = dict(zip((roles.budget, roles.disbursed, roles.committed), values, strict=True))
    row[roles.total] = _TOTAL.evaluate(row.get)  # the spec's own formulas, as in the template's cells
    value = _REMAINING.evaluate(row.get)
    return _out(value if isinstance(value, Decimal) else None)


def _remaining_columns(allocated: list[Any], disbursed: list[Any], committed: list[Any]) -> list[Any]:
    """:func:`_remaining` of whole columns in exact hundredths, by the spec's own sum formulas."""
    roles = _SPENDING
    columns: dict[str, tuple[Any, Any]] = {}
    fits = np.ones(len(allocated), np.bool_)
    blank_all = np.ones(len(allocated), np.bool_)
    for role, values in ((roles.budget, allocated), (roles.disbursed, disbursed), (roles.committed, committed)):
        numbers, exact, blank = hundredths(values)
        columns[role] = (numbers, exact)
        fits &= exact | blank
        blank_all &= blank
    total = evaluate_sum(_TOTAL, columns) if isinstance(_TOTAL, Sum) else None
    if total is None:
        return [LATER] * len(allocated)
    columns[roles.total] = (total, np.ones(len(total), np.bool_))
    remaining = evaluate_sum(_REMAINING, columns) if isinstance(_REMAINING, Sum) else None
    if remaining is None:
        return [LATER] * len(allocated)
    # A zero may be -0 in Decimal: left to the Decimal path.
    out = np.where(fits & ~blank_all & (remaining != 0), remaining / SCALE, np.nan).tolist()
    empties = (fits & blank_all).tolist()
    return ["" if e else LATER if v != v else v for v, e in zip(out, empties, strict=True)]


@xw.func
@xw.arg("allocated", ndim=2, doc="งบประมาณ / allocated budget")
@xw.arg("disbursed", ndim=2, doc="เบิกจ่าย / disbursed")
@xw.arg("committed", ndim=2, doc="ผูกพัน / committed")
@_help
def OSMEP_REMAINING(allocated: Any, disbursed: Any, committed: Any) -> Any:
    """คงเหลือ = งบประมาณ − (เบิกจ่าย + ผูกพัน) คิดแบบทศนิยมแม่นยำ / Remaining budget:
    allocated − (disbursed + committed), in exact decimal arithmetic."""
    return vectorize_columns(_remaining, _remaining_columns, allocated, disbursed, committed)


# --- KPIs ----------------------------------------------------------------------------------------------------


# Targets and results repeat down a column: parse each distinct text once per session.
_parse_target = lru_cache(maxsize=4096)(parse_target)
_parse_result = lru_cache(maxsize=4096)(parse_result)


def _kpi_cells(result: Any, target: Any, direction: Any) -> dict[str, Any] | _Invalid:
    """The row the spec's KPI formulas read: numeric result/target and direction, from numbers or text."""
    res: Decimal | None
    if _blank(result):
        res = None
    elif isinstance(result, str):
        res = _parse_result(result).value  # "อยู่ระหว่างดำเนินการ" has no number: pending
    else:
        number = _number(result)
        if isinstance(number, _Invalid):
            return INVALID
        res = number
    derived = ">="
    tgt: Decimal | None
    if _blank(target):
        tgt = None
    elif isinstance(target, str):
        try:
            parsed = _parse_target(target)  # "ไม่น้อยกว่า 4.10", "ร้อยละ 70-80": the low end is the target
        except ValueError:
            return INVALID
        tgt, derived = parsed.low, parsed.direction
    else:
        number = _number(target)
        if isinstance(number, _Invalid):
            return INVALID
        tgt = number
    if _blank(direction):
        way = derived
    else:
        found = _DIRECTIONS.get(str(direction).strip())
        if found is None:
            return INVALID
        way = found
    return {_KPI.result: res, _KPI.target: tgt, _KPI.direction: way}


def _achievement(result: Any, target: Any, direction: Any) -> float | int | str:
    row = _kpi_cells(result, target, direction)
    if isinstance(row, _Invalid):
        return VALUE_ERROR
    return _out(_ACHIEVEMENT.evaluate(row.get))


def _status(result: Any, target: Any, direction: Any) -> float | int | str:
    row = _kpi_cells(result, target, direction)
    if isinstance(row, _Invalid):
        return VALUE_ERROR
    return _out(_STATUS.evaluate(row.get))


@xw.func
@xw.arg("result", ndim=2, doc="ผล: ตัวเลข หรือข้อความ เช่น 139,825 ราย / result: a number or text")
@xw.arg("target", ndim=2, doc="เป้าหมาย: ตัวเลข หรือ 'ไม่น้อยกว่า 4.10', 'ร้อยละ 70-80' / target: a number or text")
@xw.arg("direction", ndim=2, doc="'>=' มากดีกว่า หรือ '<=' น้อยดีกว่า (ไม่ระบุ: อ่านจากเป้าหมาย) / '>=' or '<='")
@_help
def OSMEP_KPI_ACHIEVEMENT(result: Any, target: Any, direction: Any = None) -> Any:
    """ร้อยละของเป้าหมาย (ผล/เป้าหมาย*100 หรือ เป้าหมาย/ผล*100 เมื่อน้อยดีกว่า) ว่างเมื่อยังไม่มีผลเป็นตัวเลข /
    KPI achievement in percent of target; blank for a textual (pending) result."""
    return vectorize_distinct(_achievement, result, target, direction)


@xw.func
@xw.arg("result", ndim=2, doc="ผล: ตัวเลข หรือข้อความ / result: a number or text")
@xw.arg("target", ndim=2, doc="เป้าหมาย: ตัวเลข หรือข้อความ / target: a number or text")
@xw.arg("direction", ndim=2, doc="'>=' หรือ '<=' (ไม่ระบุ: อ่านจากเป้าหมาย) / '>=' or '<=' (default: from the target)")
@_help
def OSMEP_KPI_STATUS(result: Any, target: Any, direction: Any = None) -> Any:
    """สถานะตัวชี้วัด: บรรลุ / ยังไม่บรรลุ / รอผล (ผลยังไม่เป็นตัวเลข) ตามสูตรในแม่แบบ / KPI status as
    the template's formula gives it: achieved (บรรลุ), not yet (ยังไม่บรรลุ) or pending (รอผล)."""
    return vectorize_distinct(_status, result, target, direction)


# --- disbursement --------------------------------------------------------------------------------------------


@cache
def _settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=4)
def _disbursement_settings(basis: Basis) -> DisbursementSettings:
    """The configured targets, judged on ``basis`` (a UDF may name it)."""
    return _settings().disbursement.model_copy(update={"basis": basis})


def _fiscal_year_arg(value: Any) -> int | _Invalid | None:
    number = _number(value)
    if not isinstance(number, Decimal):
        return number
    year = int(number)
    if year != number:
        return INVALID
    year = expand_be_year(year) if 0 <= year <= 99 else year
    return ce_to_be(year) if year < _CE_YEAR_LIMIT else year  # 2021 means FY2564


def _choice_arg(column: Column, value: Any) -> str | _Invalid | None:
    """A list value of ``column`` as the template accepts it (any alias), None when blank."""
    if _blank(value):
        return None
    return column.canonical(str(value)) or INVALID


# What a row's year, date, kind, basis, budget source and category mean; or the row's result.
FlagWhen = tuple[int, dt.date, Kind | None, Basis, str | None, str | None] | str


def _flag_when(fiscal_year_: Any, as_of: Any, kind: Any, basis: Any, budget_source: Any,
               budget_category: Any) -> FlagWhen:
    """What a row is measured at, or the row's result when that leaves nothing to measure ("" for a blank
    year or date, #VALUE! for one that is not)."""
    year, day = _fiscal_year_arg(fiscal_year_), _date(as_of)
    kind_key = _KIND_WORDS.get(str(kind).strip().lower()) if not _blank(kind) else None
    basis_key = _BASIS_WORDS.get(str(basis).strip().lower()) if not _blank(basis) else _settings().disbursement.basis
    source, category = _choice_arg(BUDGET_SOURCE, budget_source), _choice_arg(BUDGET_CATEGORY, budget_category)
    if (isinstance(year, _Invalid) or isinstance(day, _Invalid)
            or (kind_key is None and not _blank(kind)) or basis_key is None
            or isinstance(source, _Invalid) or isinstance(category, _Invalid)):
        return VALUE_ERROR
    if year is None or day is None:
        return ""
    return year, day, kind_key, basis_key, source, category


def _judge(when: tuple[int, dt.date, Kind | None, Basis, str | None, str | None], allocated: Decimal | None,
           disbursed: Decimal | None, committed: Decimal | None) -> Judgement | None:
    year, day, kind_key, basis_key, source, category = when
    return judge(_disbursement_settings(basis_key), line_year=year, report_year=fiscal_year(day), as_of=day,
                 budget_source=source, category=category, allocated=allocated, disbursed=disbursed,
                 committed=committed, kind=kind_key)


def _no_target_text(j: Judgement) -> str:
    kind_th, kind_en = KIND_TEXT[j.kind]
    return (f"ไม่มีเป้าหมาย{kind_th} ปี {j.report_year} ไตรมาส {j.quarter} ในค่าตั้ง / "
            f"no {kind_en} target for FY{j.report_year} Q{j.quarter} configured")


def _behind_text(j: Judgement, both_th: str, both_en: str) -> str:
    kind_th, kind_en = KIND_TEXT[j.kind]
    return (f"ต่ำกว่าเป้า{kind_th} ไตรมาส {j.quarter} ร้อยละ {j.goal}: {both_th} / "
            f"behind the {kind_en} Q{j.quarter} target {j.goal}%: {both_en}")


def _flag(when: FlagWhen, amounts: list[Decimal | _Invalid | None]) -> str:
    """The flag of one row, measured ``when``, from its allocated, disbursed and committed amounts."""
    if INVALID in amounts:  # _number gives the one INVALID
        return VALUE_ERROR
    if isinstance(when, str):
        return when
    j = _judge(when, *(a if isinstance(a, Decimal) else None for a in amounts))
    if j is None:
        return ""
    if j.goal is None:
        return _no_target_text(j)
    return _behind_text(j, *j.both_bases()) if j.behind else ""


def _disbursement_flag(fiscal_year_: Any, as_of: Any, allocated: Any, disbursed: Any, committed: Any,
                       kind: Any, basis: Any, budget_source: Any, budget_category: Any) -> str:
    return _flag(_flag_when(fiscal_year_, as_of, kind, basis, budget_source, budget_category),
                 [_number(allocated), _number(disbursed), _number(committed)])


@dataclass(frozen=True)
class _FlagGroup:
    """What the rows of one (year, date, kind, basis, source, category) get, whatever their amounts."""

    every: str | None = None  # each row's result: a blank or bad year or date, or a group judge() passes over
    text: str = ""  # a measured row's result without a goal; with one, a %-format of its two percentages
    goal: int | None = None  # hundredths (rounded up): a measured row below it is behind
    on_total: bool = True  # judged on disbursed + committed, not on disbursed alone


_LATER_ROW, _BLANK_ROW, _MEASURED_ROW, _BEHIND_ROW = range(4)  # what the columns say of a row
_PCT_FIELDS = ("\x00", "\x01")  # stand-ins for a row's two percentages in its group's text
_GOAL_LIMIT = 2**62  # beyond any percentage in hundredths the int64 path computes
_PRINTABLE = 10**12  # a percentage in hundredths below this prints exactly from its double with "%.2f"


def _flag_group(when: FlagWhen) -> _FlagGroup:
    if isinstance(when, str):
        return _FlagGroup(every=when)
    # Any measurable amounts give the group's kind, quarter, target and basis: none depends on them.
    j = _judge(when, Decimal(1), Decimal(0), None)
    if j is None:
        return _FlagGroup(every="")
    if j.goal is None:
        return _FlagGroup(text=_no_target_text(j))
    text = _behind_text(j, *both_bases_text(j.basis, *_PCT_FIELDS))
    template = text.replace("%", "%%").replace(_PCT_FIELDS[0], "%(d)s").replace(_PCT_FIELDS[1], "%(t)s")
    goal = max(-_GOAL_LIMIT, min(_GOAL_LIMIT, math.ceil(j.goal * SCALE)))
    return _FlagGroup(text=template, goal=goal, on_total=j.basis == "disbursed_committed")


def _flag_percentages(allocated: list[Any], disbursed: list[Any],
                      committed: list[Any]) -> tuple[Bools, Bools, Ints, Ints]:
    """For each row: whether these columns decide it, whether judge() measures it (an allocation above 0 and a
    disbursed figure) and its two percentages in hundredths, as percent() rounds them (half away from zero).
    Amounts of whole hundredths are computed exactly in int64 (:func:`.columnar.round_percent`); other doubles
    only where the percentages are surely away from a rounding tie (:func:`.amount_columns.percent_of_doubles`);
    any other cell is not decided here."""
    a, a_exact, a_blank = hundredths(allocated)
    d, d_exact, d_blank = hundredths(disbursed)
    c, c_exact, c_blank = hundredths(committed)  # 0 where blank, as judge() adds a blank commitment
    spent = d + c
    exact = ((a_exact | a_blank) & (d_exact | d_blank) & (c_exact | c_blank) & (np.abs(a) < MAX_PCT_INPUT)
             & (np.abs(d) < MAX_PCT_INPUT) & (np.abs(spent) < MAX_PCT_INPUT))
    safe = np.where(exact & (a > 0), a, 1)
    a_f, d_f = doubles(allocated, a, a_exact), doubles(disbursed, d, d_exact)
    c_f = np.where(c_blank, 0.0, doubles(committed, c, c_exact))
    measured = (a_f > 0) & ~np.isnan(d_f)  # NaN: blank (text is not decided here)
    with np.errstate(invalid="ignore", over="ignore"):
        # The same sign: their sum's rounding error stays relative to it, as the margin assumes.
        as_doubles = (~np.isnan(a_f) | a_blank) & (~np.isnan(d_f) | d_blank) & ~np.isnan(c_f) & (d_f * c_f >= 0)
        spent_f = d_f + c_f
    by_d, sure_d = percent_of_doubles(d_f, a_f)
    by_t, sure_t = percent_of_doubles(spent_f, a_f)
    sure = as_doubles & sure_d & sure_t
    pct_d = np.where(exact, round_percent(d, safe), by_d)
    pct_t = np.where(exact, round_percent(spent, safe), by_t)
    return exact | (as_doubles & (sure | ~measured)), measured, pct_d, pct_t


def _flag_columns(fiscal_year_: list[Any], as_of: list[Any], allocated: list[Any], disbursed: list[Any],
                  committed: list[Any], kind: list[Any], basis: list[Any], budget_source: list[Any],
                  budget_category: list[Any]) -> list[Any]:
    """:func:`_disbursement_flag` down whole columns: each distinct (year, date, kind, basis, source, category)
    is judged once (a column repeats them), and the rows' percentages are computed at once
    (:func:`_flag_percentages`). A row they do not decide, or whose text would show a zero percentage
    (Decimal's 0.00 or -0.00), is judged in Decimal as :func:`_disbursement_flag` judges it."""
    when_args = (fiscal_year_, as_of, kind, basis, budget_source, budget_category)
    keyed = [x for column in when_args for x in (column, map(type, column))]  # True == 1, yet is no year
    groups: dict[tuple[Any, ...], int] = {}
    index = np.array([groups.setdefault(key, len(groups)) for key in zip(*keyed, strict=True)], np.int64)
    whens = [_flag_when(*key[0::2]) for key in groups]
    flags = [_flag_group(when) for when in whens]
    decided, measured, pct_d, pct_t = _flag_percentages(allocated, disbursed, committed)
    goal = np.array([-_GOAL_LIMIT if g.goal is None else g.goal for g in flags], np.int64)[index]  # none: not behind
    on_total = np.array([g.on_total for g in flags], np.bool_)[index]
    behind = measured & (np.where(on_total, pct_t, pct_d) < goal)
    printable = (pct_d != 0) & (pct_t != 0) & (np.abs(pct_d) < _PRINTABLE) & (np.abs(pct_t) < _PRINTABLE)
    status = np.select([~decided, ~measured, behind & ~printable, behind],
                       [_LATER_ROW, _BLANK_ROW, _LATER_ROW, _BEHIND_ROW], _MEASURED_ROW)
    out: list[Any] = []
    for i, (g, row, p_d, p_t) in enumerate(zip(index.tolist(), status.tolist(), (pct_d / SCALE).tolist(),
                                               (pct_t / SCALE).tolist(), strict=True)):
        flag = flags[g]
        if row == _LATER_ROW:  # in Decimal, as _disbursement_flag, its group read once
            out.append(_flag(whens[g], [_number(allocated[i]), _number(disbursed[i]), _number(committed[i])]))
        elif flag.every is not None:
            out.append(flag.every)
        elif row == _BLANK_ROW:
            out.append("")
        elif flag.goal is None:
            out.append(flag.text)  # measured, no goal: said so
        elif row == _BEHIND_ROW:
            out.append(flag.text % {"d": f"{p_d:.2f}", "t": f"{p_t:.2f}"})  # each figure printed once
        else:
            out.append("")  # measured, on track
    return out


@xw.func
@xw.arg("fiscal_year", ndim=2, doc="ปีงบประมาณ พ.ศ. ของบรรทัด เช่น 2564 / the line's fiscal year (BE), e.g. 2564")
@xw.arg("as_of", ndim=2, doc="ข้อมูล ณ วันที่ / data as of (date)")
@xw.arg("allocated", ndim=2, doc="งบประมาณ / allocated")
@xw.arg("disbursed", ndim=2, doc="เบิกจ่าย / disbursed")
@xw.arg("committed", ndim=2, doc="ผูกพัน / committed")
@xw.arg("kind", ndim=2, doc="overall | recurrent | investment | carryover (ไม่ระบุ: จากหมวดงบและปี / "
                            "default: from the category and the years)")
@xw.arg("basis", ndim=2, doc="disbursed_committed | disbursed (ไม่ระบุ: ตามค่าตั้ง / default: settings)")
@xw.arg("budget_source", ndim=2, doc="แหล่งงบประมาณ เช่น พ.ร.บ.งบประมาณ (ไม่ระบุ: ทุกแหล่ง) / budget source")
@xw.arg("budget_category", ndim=2, doc="หมวดงบรายจ่าย เช่น งบลงทุน / budget category (งบลงทุน: investment)")
@_help
def OSMEP_DISBURSEMENT_FLAG(fiscal_year: Any, as_of: Any, allocated: Any, disbursed: Any, committed: Any,
                            kind: Any = None, basis: Any = None, budget_source: Any = None,
                            budget_category: Any = None) -> Any:
    """ข้อความเตือนเมื่อการเบิกจ่ายต่ำกว่าเป้าหมายรายไตรมาสของรัฐบาลที่ใช้กับบรรทัดนี้ (ตามปี แหล่งงบ และหมวดงบ
    เหมือนการตรวจ) แสดงทั้งสองฐาน ว่างเมื่อเป็นไปตามเป้าหรือแหล่งงบไม่อยู่ในเป้าหมาย / A short flag when the line
    is behind the government's quarterly target that applies to it (by year, budget source and category, as
    validation judges it), with both bases; blank when on track or its source has no target."""
    return vectorize_columns(_disbursement_flag, _flag_columns, fiscal_year, as_of, allocated, disbursed,
                             committed, kind, basis, budget_source, budget_category)


# --- fiscal calendar and numbers -----------------------------------------------------------------------------


def _fiscal_year(value: Any) -> float | int | str:
    day = _date(value)
    return VALUE_ERROR if isinstance(day, _Invalid) else "" if day is None else fiscal_year(day)


def _fiscal_quarter(value: Any) -> float | int | str:
    day = _date(value)
    return VALUE_ERROR if isinstance(day, _Invalid) else "" if day is None else fiscal_quarter(day)


@xw.func
@xw.arg("date", ndim=2, doc="วันที่ / a date")
@_help
def OSMEP_FISCAL_YEAR(date: Any) -> Any:
    """ปีงบประมาณ (พ.ศ.) ของวันที่: 1 ต.ค. - 30 ก.ย. เช่น 30 มิ.ย. 2564 → 2564 / The Thai fiscal year
    (BE) of a date; FY2564 runs 1 Oct 2020 - 30 Sep 2021."""
    return vectorize_distinct(_fiscal_year, date)


@xw.func
@xw.arg("date", ndim=2, doc="วันที่ / a date")
@_help
def OSMEP_FISCAL_QUARTER(date: Any) -> Any:
    """ไตรมาสของปีงบประมาณ 1-4 (ไตรมาส 1 = ต.ค.-ธ.ค.) / Fiscal quarter 1-4 (Q1 = Oct-Dec)."""
    return vectorize_distinct(_fiscal_quarter, date)


def _be(value: Any) -> float | int | str:
    number = _number(value) if not isinstance(value, (dt.date, dt.datetime)) else INVALID
    if isinstance(number, Decimal) and number == int(number) and 0 < number < _CE_YEAR_LIMIT:
        return ce_to_be(int(number))
    day = _date(value)
    return VALUE_ERROR if isinstance(day, _Invalid) else "" if day is None else ce_to_be(day.year)


def _ce(value: Any) -> float | int | str:
    number = _number(value)
    if isinstance(number, _Invalid) or (isinstance(number, Decimal) and number != int(number)):
        return VALUE_ERROR
    if number is None:
        return ""
    try:
        return be_to_ce(expand_be_year(int(number)))
    except ValueError:  # a negative year, or one of three digits
        return VALUE_ERROR


@xw.func
@xw.arg("year_or_date", ndim=2, doc="ปี ค.ศ. หรือวันที่ / a CE year or a date")
@_help
def OSMEP_BE(year_or_date: Any) -> Any:
    """ปีพุทธศักราชของปี ค.ศ. หรือของวันที่ (2021 → 2564) / The Buddhist Era year of a CE year or a date."""
    return vectorize_distinct(_be, year_or_date)


@xw.func
@xw.arg("year_be", ndim=2, doc="ปี พ.ศ. (2564 หรือ 64) / a BE year (2564 or 64)")
@_help
def OSMEP_CE(year_be: Any) -> Any:
    """ปีคริสต์ศักราชของปี พ.ศ. (2564 → 2021) / The Common Era year of a BE year."""
    return vectorize_distinct(_ce, year_be)


def _number_cell(value: Any) -> float | int | str:
    return _out(_number(value))


def _number_column(values: list[Any]) -> list[Any]:
    """:func:`_number_cell` down a column, without a Decimal for a double or a plainly typed amount."""
    out: list[Any] = []
    for value in values:
        kind = type(value)
        if kind is str:
            plain = plain_amount(value)
            out.append(LATER if plain is None else float(plain))
        elif (kind is float and value - value == 0) or (kind is int and abs(value) < 2**53):
            out.append(float(value))  # finite: as to_money() reads it, back to the same double
        else:
            out.append(LATER)
    return out


@xw.func
@xw.arg("text", ndim=2, doc="ข้อความตัวเลข เช่น '๑,๒๓๔.๕๐ บาท' / number text, e.g. '1,234.50 บาท'")
@_help
def OSMEP_NUMBER(text: Any) -> Any:
    """แปลงข้อความเป็นตัวเลข: เลขไทย เครื่องหมายคั่น 'บาท' วงเล็บติดลบ / A number from text as people
    type it: Thai digits, separators, 'บาท', (negatives)."""
    return vectorize_columns(_number_cell, _number_column, text)


# --- validating a table --------------------------------------------------------------------------------------


class GridSource:
    """One template block's cells as a :class:`osmep_xl.xlsx.read.Source` held in memory."""

    path = Path("<range>")

    def __init__(self, template_id: str, sheet: str, grid: list[list[Any]]) -> None:
        self._template, self._sheet, self._grid = template_id, sheet, grid

    def sheet_names(self) -> list[str]:
        return [self._sheet]

    def grid(self, sheet: str) -> list[list[Any]]:
        return self._grid if sheet == self._sheet else []

    def defined_names(self) -> dict[str, str]:
        return {}

    def properties(self) -> dict[str, str]:
        return {PROP_TEMPLATE: self._template}

    def cells(self, sheet: str) -> SheetCells:
        return SheetCells()


TYPED_OR_FORMULA = ("formula.overwritten", "rollup.unsupported")


def validate_grid(grid: Sequence[Sequence[Any]], template: str, block: str = "") -> list[Finding]:
    """Findings of one block laid out as in a template (header row, Thai or English, then rows).

    Cells are addressed from the grid's top-left (A1). Rules about other tables, the information sheet
    and formulas (a range holds values only) do not apply and are left out.
    """
    spec = get_spec(template.strip())
    wanted = block.strip()
    if wanted:
        chosen = [b for b in spec.blocks if wanted in (b.id, b.sheet)]
    else:
        chosen = list(spec.blocks) if len(spec.blocks) == 1 else []
    if not chosen:
        raise ValueError(f"ระบุตาราง / name the table: one of {', '.join(b.id for b in spec.blocks)}")
    sheet = chosen[0].sheet
    rows = [["" if v is None else v for v in row] for row in grid]
    workbook = read_template(GridSource(spec.id, sheet, rows), spec, None)
    workbook.blocks = {k: v for k, v in workbook.blocks.items() if v.sheet == sheet}
    # A range holds values only: whether a figure was typed or is a formula's (overwritten; a total over
    # blank lines, rollup.unsupported) is for the workbook's own validation to say.
    return [f for f in validate(workbook, _settings())
            if f.sheet == sheet and not f.rule.startswith("meta.") and f.rule not in TYPED_OR_FORMULA]


def _shift(cell: str, origin: tuple[int, int]) -> str:
    try:
        row, col = parse_a1(cell)
    except ValueError:
        return cell
    return a1(row + origin[0], col + origin[1])


def _plain(value: Decimal | str | None) -> float | str:
    return float(value) if isinstance(value, Decimal) else "" if value is None else value


@xw.func
@xw.arg("table", ndim=2, err_to_str=True, doc="ช่วงตาราง: แถวหัวคอลัมน์ (ไทยหรืออังกฤษ) แล้วตามด้วยข้อมูล / "
                                               "the table: a header row (Thai or English), then rows")
@xw.arg("template", doc="รหัสแม่แบบ เช่น disbursement / template id, e.g. disbursement")
@xw.arg("block", doc="ตาราง (รหัสหรือชื่อชีต) เมื่อแม่แบบมีหลายตาราง / table id or sheet name")
@xw.arg("origin", doc="ที่อยู่ช่องซ้ายบนของช่วง เช่น A4 (ค่าเริ่มต้น A1) / the range's top-left cell")
@_help
def OSMEP_VALIDATE(table: Any, template: Any, block: Any = "", origin: Any = "A1") -> Any:
    """ตรวจตารางตามแม่แบบ แสดงผลเป็นแถว: กฎ ช่อง ควรเป็น ที่ระบุ รายละเอียด / Validate a table laid
    out like a template block; spills one row per finding: rule, cell, expected, actual, message."""
    try:
        start = parse_a1(str(origin or "A1").strip().replace("$", ""))
        findings = validate_grid(_grid(table), str(template or ""), str(block or ""))
    except (ValueError, KeyError) as exc:
        return [VALIDATE_HEADER, ["", "", "", "", str(exc)]]
    rows: list[list[Any]] = [list(VALIDATE_HEADER)]
    for f in findings:
        rows.append([f.rule, _shift(f.cell, start), _plain(f.expected), _plain(f.actual),
                     f"{f.message_th} / {f.message_en}"])
    if len(rows) == 1:
        rows.append(["", "", "", "", "ไม่พบข้อผิดพลาด / no findings"])
    return rows


__all__ = [
    "OSMEP_BE", "OSMEP_CE", "OSMEP_DISBURSEMENT_FLAG", "OSMEP_FISCAL_QUARTER", "OSMEP_FISCAL_YEAR",
    "OSMEP_KPI_ACHIEVEMENT", "OSMEP_KPI_STATUS", "OSMEP_NUMBER", "OSMEP_PERCENT", "OSMEP_REMAINING",
    "OSMEP_VALIDATE", "GridSource", "validate_grid", "vectorize",
]
