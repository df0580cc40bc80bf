"""The worksheet functions' column paths give, cell by cell, what one call per cell gives.

Each function's columnar path (groups judged once, percentages in exact hundredths, each distinct cell computed
once, plainly typed amounts read without Decimal) is compared with :func:`udfs.vectorize` of its per-cell
function, on columns that mix what a range may hold; and the cases the column path must decide itself are
checked to be decided there, not handed back to the per-cell function.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from osmep_xl.excel import amount_columns, udfs
from osmep_xl.rules.config import Basis, DisbursementSettings

AS_OF = dt.date(2021, 6, 30)
ACT, SUBSIDY = "พ.ร.บ.งบประมาณ", "งบเงินอุดหนุน"

YEARS = [2564, 2564.0, 2563, 2565, 2021, 64, "๒๕๖๔", 2564.5, 1, True, None, "", "x"]
DATES = [AS_OF, dt.datetime(2021, 3, 31, 9), dt.date(2020, 9, 1), dt.date(2022, 1, 15), 44377, "30 มิ.ย.64",
         "2021-06-30", None, "not a date", 1, True, 0, False]
KINDS = [None, "", "recurrent", "investment", "carryover", "ภาพรวม", "bogus", 1]
BASES = [None, "disbursed", "disbursed_committed", "เบิกจ่าย+ผูกพัน", "?"]
SOURCES = [None, ACT, "Budget Act", "เงินกองทุน", "no such source"]
CATEGORIES = [None, SUBSIDY, "งบลงทุน", "operating", "no such category"]
AMOUNTS = [None, "", " ", 0, 0.0, -0.0, 0.001, -0.001, 1, 7, 800.0, 1000.0, 1000, 799.99, 800.01, -250.75, 1e15, 12.345,
           math.inf, -math.inf,
           "1,000", "๕๐๐", "(1,000.50)", "1.500", "1.005", "-0", "(0)", "800 บาท", "x", True, Decimal("500"),
           dt.date(2021, 6, 30)]


def _same(got: list[Any], expected: list[Any]) -> None:
    # repr: -0.0 is not 0.0 here, nor 1 1.0, as they are not in the Decimal each cell computes
    assert [repr(v) for v in got] == [repr(v) for v in expected]


def _column(values: list[Any]) -> list[list[Any]]:
    return [[v] for v in values]


def _settings_with(goal: str) -> Callable[[Basis], DisbursementSettings]:
    """The configured targets, the recurrent FY2564 Q3 goal replaced by ``goal``."""
    cfg = udfs._settings().disbursement
    targets = [t.model_copy(update={"quarters": [*t.quarters[:2], Decimal(goal), t.quarters[3]]})
               if (t.fiscal_year, t.kind) == (2564, "recurrent") else t for t in cfg.targets]
    return lambda basis: cfg.model_copy(update={"basis": basis, "targets": targets})


@contextmanager
def _goal(goal: str | None) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as m:
        if goal is not None:
            m.setattr(udfs, "_disbursement_settings", _settings_with(goal))
        yield


amount = st.sampled_from(AMOUNTS) | st.floats(-1e6, 1e6).map(lambda x: round(x, 2)) | st.floats(-1e13, 1e13)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(YEARS), st.sampled_from(DATES), amount, amount, amount,
                          st.sampled_from(KINDS), st.sampled_from(BASES), st.sampled_from(SOURCES),
                          st.sampled_from(CATEGORIES)), min_size=1, max_size=40),
       st.sampled_from([None, "77.5", "80.125", "-1"]))
def test_disbursement_flags_by_group_equal_cell_by_cell(rows: list[tuple[Any, ...]], goal: str | None) -> None:
    """Rows of many (year, date, kind, basis, source, category) groups, judged, passed over, without a target,
    blank or invalid; goals that are not whole hundredths round up."""
    args = [_column([row[k] for row in rows]) for k in range(9)]
    with _goal(goal):
        _same(udfs.OSMEP_DISBURSEMENT_FLAG(*args), udfs.vectorize(udfs._disbursement_flag, *args))


def test_amounts_of_any_decimals_are_decided_as_doubles_away_from_a_tie() -> None:
    """A formula's amounts (a third of a budget) are judged from their doubles; a percentage at a rounding tie
    (21.605 %, its double 2160.4999999999995 hundredths) or a commitment against the disbursed figure's sign
    takes Decimal."""
    third = 1_000_000 / 3
    rows = [(third, third * 0.5, 0.0), (third, 12345.678, 7.001), (third * 2, third, third * 0.6),
            (80915.3083, 17481.752358215, None), (1000.001, 900.0, -0.5)]
    got, per_row = _flag_rows(rows)
    _same(got, udfs.vectorize(udfs._disbursement_flag, *_column_args(rows, None)))
    assert per_row == [[udfs._number(x) for x in row] for row in rows[3:]]
    assert "committed 21.61%" in got[3] and "committed 50.00%" in got[0]


def test_flag_groups_tell_cells_of_equal_value_apart() -> None:
    """True == 1, yet a year or date of True is #VALUE!, and 1 is FY2501 or 1 Jan 1900."""
    args = [[[True], [1], [2564], [2564]], [[AS_OF], [AS_OF], [True], [1]], 1000, 500, 0, None, None, None, None]
    expected = udfs.vectorize(udfs._disbursement_flag, *args)
    assert expected[0] == expected[2] == ["#VALUE!"] and expected[1] != expected[0] != expected[3]
    _same(udfs.OSMEP_DISBURSEMENT_FLAG(*args), expected)


def test_a_goal_between_hundredths_is_met_only_at_or_above_it() -> None:
    """Goal 80.125 %: 80.12 % is behind it, 80.13 % is not (in hundredths, the goal rounds up)."""
    rows = [(10000.0, 8012.0, None), (10000.0, 8013.0, None)]
    with _goal("80.125"):
        got, per_row = _flag_rows(rows)
        expected = udfs.vectorize(udfs._disbursement_flag, *_column_args(rows, None))
    assert expected[0].startswith("ต่ำกว่าเป้า") and "target 80.125%" in expected[0] and expected[1] == ""
    _same(got, expected)
    assert per_row == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(amount, amount, amount), min_size=1, max_size=30))
def test_amounts_typed_as_text_by_column_equal_cell_by_cell(rows: list[tuple[Any, Any, Any]]) -> None:
    a, d, c = (_column([row[k] for row in rows]) for k in range(3))
    _same(udfs.OSMEP_PERCENT(d, a), udfs.vectorize(udfs._percent, d, a))
    _same(udfs.OSMEP_REMAINING(a, d, c), udfs.vectorize(udfs._remaining, a, d, c))


def test_percentages_of_any_decimals_are_decided_as_doubles_away_from_a_tie() -> None:
    parts, wholes = [12.345, 1 / 3, 17481.752358215, -0.0001], [1000.001, 2 / 3, 80915.3083, 7.0]
    got = udfs._percent_columns(parts, wholes)
    assert got[:2] == [1.23, 50.0] and got[2:] == [udfs.LATER, udfs.LATER]  # a tie (21.605 %); -0.00
    _same(udfs.OSMEP_PERCENT(parts, wholes), udfs.vectorize(udfs._percent, parts, wholes))
    assert udfs.OSMEP_PERCENT(parts, wholes)[2:] == [21.61, -0.0]


def test_plain_amounts_in_text_are_whole_hundredths() -> None:
    texts = ["1,234.50 บาท", "(1,000)", "๕๐๐", "-0.5", "+7", "1.500", "1.005", "1,23", "1 2", "", " ", "x", 12.5]
    hundredths, exact, blank = amount_columns.hundredths(texts)
    assert exact.tolist() == [True] * 6 + [False] * 6 + [True]
    assert blank.tolist() == [False] * 9 + [True] * 2 + [False] * 2
    assert hundredths.tolist()[:6] + hundredths.tolist()[12:] == [123450, -100000, 50000, -50, 700, 150, 1250]


def _flag_rows(amounts: list[tuple[Any, Any, Any]], basis: Any = None) -> tuple[list[Any], list[list[Any]]]:
    """The columns' flags of rows of FY2564 Budget Act subsidies at 30 Jun 2021, and the amounts of the rows they
    left to the per-row Decimal judgement."""
    n = len(amounts)
    a, d, c = ([row[k] for row in amounts] for k in range(3))
    per_row: list[list[Any]] = []
    judge_row = udfs._flag

    def counted(when: udfs.FlagWhen, row_amounts: list[Any]) -> str:
        per_row.append(row_amounts)
        return judge_row(when, row_amounts)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(udfs, "_flag", counted)
        flags = udfs._flag_columns([2564] * n, [AS_OF] * n, a, d, c, [None] * n, [basis] * n, [ACT] * n,
                                   [SUBSIDY] * n)
    return flags, per_row


# (allocated, disbursed, committed): at the 80 % goal, a hundredth below it, ties at the third decimal of a
# percentage (1/800 = 0.125 %), negative, and a blank commitment.
ON_THE_EDGE = [(1000.0, 700.0, 100.0), (1000.0, 700.0, 99.9), (100000.0, 79995.0, 0.0), (800.0, 1.0, None),
               (800.0, -1.0, 639.0), (1000.0, -250.75, 0.0), (3.0, 1.0, 1.0), (979827800.0, 919930898.45, 0.0),
               (0.01, 0.01, None), (1000.0, 0.0, 800.0)]


@pytest.mark.parametrize("basis", [None, "disbursed"])
def test_the_column_path_decides_goals_and_percentages_itself(basis: Any) -> None:
    """Where a row sits at, just below or around its goal, and its percentages at a rounding tie, the columns
    give the per-cell text themselves (a zero percentage, Decimal's -0.00 or 0.00, is the one row left over)."""
    got, per_row = _flag_rows(ON_THE_EDGE, basis)
    expected = udfs.vectorize(udfs._disbursement_flag, *_column_args(ON_THE_EDGE, basis))
    zero = [[udfs._number(x) for x in ON_THE_EDGE[-1]]]
    assert per_row == (zero if basis else [])  # 0 % disbursed, behind on that basis alone: Decimal's 0.00
    _same(got, expected)
    if basis is None:  # on disbursed + committed
        assert expected[0] == "" and expected[2] == ""  # at the goal; 79.995 % rounds to it
        assert expected[1].startswith("ต่ำกว่าเป้า") and "committed 79.99%" in expected[1]
    assert "disbursed only 0.13%" in expected[3]  # ROUND(0.125, 2), half away from zero


def _column_args(amounts: list[tuple[Any, Any, Any]], basis: Any) -> list[Any]:
    n = len(amounts)
    return [[2564] * n, [AS_OF] * n, *([row[k] for row in amounts] for k in range(3)), [None] * n, [basis] * n,
            [ACT] * n, [SUBSIDY] * n]


CELLS = [None, "", " ", 0, 0.0, -0.0, False, True, 1, 1.0, Decimal("1.0"), Decimal("1.00"), Decimal("-0"), "1", "๑",
         64, 2564, 2564.0, 2021, 44377, 44377.5, -3, 1e300, float("nan"), dt.date(2021, 6, 30),
         dt.datetime(2021, 6, 30, 8), "30 มิ.ย.64", "2020-10-01", "อยู่ระหว่างดำเนินการ", "139,825 ราย",
         "ร้อยละ 70-80", "ไม่น้อยกว่า 4.10 คะแนน", "ไม่เกิน 5 วัน", ">=", "<=", "≤", "?", ["unhashable"]]
DISTINCT: list[tuple[Callable[..., Any], Callable[..., Any], int]] = [
    (udfs.OSMEP_KPI_ACHIEVEMENT, udfs._achievement, 3), (udfs.OSMEP_KPI_STATUS, udfs._status, 3),
    (udfs.OSMEP_FISCAL_YEAR, udfs._fiscal_year, 1), (udfs.OSMEP_FISCAL_QUARTER, udfs._fiscal_quarter, 1),
    (udfs.OSMEP_BE, udfs._be, 1), (udfs.OSMEP_CE, udfs._ce, 1)]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(DISTINCT), st.lists(st.tuples(*[st.sampled_from(CELLS)] * 3), min_size=1, max_size=40))
def test_functions_of_distinct_cells_equal_cell_by_cell(case: tuple[Callable[..., Any], Callable[..., Any], int],
                                                        rows: list[tuple[Any, ...]]) -> None:
    """Cells equal as values but not as cells (True and 1, 1 and 1.0, -0.0 and 0.0) are not mixed up."""
    function, cell, arity = case
    args = [_column([row[k] for row in rows]) for k in range(arity)]
    _same(function(*args), udfs.vectorize(cell, *args))


def test_distinct_cells_keep_negative_zero_apart() -> None:
    """0.0 == -0.0, yet the achievement of a -0.0 result is -0.0: a zero is never taken from another row."""
    results, targets = [[0.0], [-0.0], [-0.0], [0.0]], [[5], [5], [5], [5]]
    expected = udfs.vectorize(udfs._achievement, results, targets, None)
    assert [repr(v) for v in expected] == ["[0.0]", "[-0.0]", "[-0.0]", "[0.0]"]
    _same(udfs.OSMEP_KPI_ACHIEVEMENT(results, targets, None), expected)


@pytest.mark.parametrize("first", [1000, 100])
def test_long_columns_of_mostly_distinct_cells_equal_cell_by_cell(first: int) -> None:
    """Past the first rows, a column of nearly all new cells is computed row by row, one that repeats is not."""
    rows = [[i * 0.37] for i in range(first)] + [[v] for v in CELLS[:-1] * 20]
    targets = [[("ร้อยละ 70-80", 100, "ไม่เกิน 5 วัน", 0.0)[i % 4]] for i in range(len(rows))]
    _same(udfs.OSMEP_KPI_ACHIEVEMENT(rows, targets), udfs.vectorize(udfs._achievement, rows, targets, None))
    _same(udfs.OSMEP_CE(rows), udfs.vectorize(udfs._ce, rows))


PLAIN = ["1,234.50 บาท", "๑,๒๓๔", " -0 ", "+7.25บาท", "1234,567", "0012", "99999999999999999999.5", "-1,000,000.005",
         "(1,000)", "(0)", "(-0)", "(+5.5) บาท"]
NOT_PLAIN = ["1,23", "1 2", "( 1,000)", "(1,000 บาท)", "1.5 ล้านบาท", "12%", "١٢", "1,234.", ".5", "- 5", "", "  ",
             "บาท", "1\u200b", "1234567890123456789012345678901"]
NUMBERS = [*PLAIN, *NOT_PLAIN, None, 0.0, -0.0, 12.5, 10**20, 7, True, dt.date(2021, 6, 30), Decimal("1.10")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(NUMBERS) | st.floats(allow_nan=False, allow_infinity=False), min_size=1,
                max_size=30))
def test_numbers_by_column_equal_cell_by_cell(values: list[Any]) -> None:
    _same(udfs.OSMEP_NUMBER(_column(values)), udfs.vectorize(udfs._number_cell, _column(values)))


def test_plain_amounts_are_read_without_the_text_parser() -> None:
    assert udfs.LATER not in udfs._number_column(PLAIN)
    assert udfs._number_column(NOT_PLAIN) == [udfs.LATER] * len(NOT_PLAIN)  # parse_number() decides them
    _same(udfs.OSMEP_NUMBER(PLAIN), udfs.vectorize(udfs._number_cell, PLAIN))
