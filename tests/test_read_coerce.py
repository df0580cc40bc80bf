"""The doubles a column types at once without :func:`coerce` (zeros, float noise past the sixth decimal,
roll-up sums from 1e8 on, Buddhist Era years) get exactly what :func:`coerce` gives them, cell by cell: the
whole column at once, and each cell asked for alone before the column is made (:class:`NumberCells`)."""

from __future__ import annotations

import random
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from osmep_xl.spec import TEMPLATES
from osmep_xl.spec.base import ColType, Column
from osmep_xl.xlsx.coerce import NumberCells, coerce, coerce_column

# One column of each numeric type, as the specs declare them.
BY_TYPE: dict[ColType, Column] = {}
for _spec in TEMPLATES.values():
    for _block in _spec.blocks:
        for _col in _block.columns:
            if _col.type.numeric:
                BY_TYPE.setdefault(_col.type, _col)

# The shapes a sheet's cached doubles take: sums of amounts in satang (float noise in the last digits),
# large roll-up sums, a few decimals, years, zeros of both signs, values next to a rounding tie.
satang = st.integers(min_value=-(10**11), max_value=10**11).map(lambda k: k / 100)
sums = st.lists(satang, min_size=2, max_size=12).map(sum)
large = st.lists(st.integers(min_value=0, max_value=10**12), min_size=2, max_size=30).map(
    lambda ks: sum(k / 100 for k in ks))
decimals = st.tuples(st.integers(min_value=-(10**9), max_value=10**9), st.integers(min_value=3, max_value=9)).map(
    lambda p: p[0] / 10 ** p[1])
years = st.integers(min_value=2390, max_value=2810).map(float)
edges = st.sampled_from([0.0, -0.0, 0.005, 1.005, 2.675, 0.125, 1e-7, -1e-7, 5e-7, 4.9e-7, 1.5e-5, 1e8,
                         99999999.995, 100000000.005, 2399.0, 2400.0, 2799.0, 2800.0, 2567.5, 9e12 + 0.5, 1e15])
doubles = st.one_of(sums, large, decimals, years, edges, st.floats(allow_nan=False, allow_infinity=False))


def _exactly(value: Any) -> tuple[str, str]:
    return type(value).__name__, str(value)  # Decimal("0") and Decimal("0.00") are not the same cell


def _same_as_cell_by_cell(column: Column, raws: list[Any]) -> None:
    values, problems = coerce_column(column, raws)
    one = [coerce(column, raw) for raw in raws]
    assert [_exactly(v) for v in values] == [_exactly(c.value) for c in one]
    assert problems == {i: c.problem for i, c in enumerate(one) if c.problem is not None}
    _lazy_same_as_cell_by_cell(column, raws, [c.value for c in one])


def _lazy_same_as_cell_by_cell(column: Column, raws: list[Any], want: list[Any]) -> None:
    """Each cell alone (last first, before the column is made), where a value is, and a few cells blanked
    before and after the column is made: as cell by cell, blanked cells None."""
    lazy = NumberCells(column, raws)
    assert lazy.known().tolist() == [v is not None for v in want]
    assert [_exactly(lazy.value(i)) for i in reversed(range(len(raws)))] == [_exactly(v) for v in reversed(want)]
    blanked = set(range(0, len(raws), 3))
    after = [None if i in blanked else v for i, v in enumerate(want)]
    early, late = NumberCells(column, raws), NumberCells(column, raws)
    late.values()
    late.known()
    for cells in (early, late):
        for i in sorted(blanked):
            cells.set(i, None)
        assert [_exactly(cells.value(i)) for i in range(len(raws))] == [_exactly(v) for v in after]
        assert cells.known().tolist() == [v is not None for v in after]
        assert [_exactly(v) for v in cells.values()] == [_exactly(v) for v in after]


@settings(max_examples=200, deadline=None)
@given(raws=st.lists(st.one_of(doubles, st.sampled_from([None, "", " ", "1,234 บาท", "๑๒", "x", True, 7, "2564"])),
                     max_size=40))
def test_mixed_cells_typed_lazily_are_typed_as_cell_by_cell(raws: list[Any]) -> None:
    """Text, blanks and ints among the doubles: the cells no class takes, beside those it does."""
    for column in BY_TYPE.values():
        _same_as_cell_by_cell(column, raws)


@pytest.mark.parametrize("kind", list(BY_TYPE), ids=str)
@settings(max_examples=150, deadline=None)
@given(raws=st.lists(doubles, max_size=40))
def test_doubles_typed_at_once_are_typed_as_cell_by_cell(kind: ColType, raws: list[float]) -> None:
    _same_as_cell_by_cell(BY_TYPE[kind], raws)


@pytest.mark.parametrize("kind", list(BY_TYPE), ids=str)
def test_many_sums_of_satang_are_typed_as_cell_by_cell(kind: ColType) -> None:
    """A roll-up's cached double is a sum of amounts: its noise is what the fast classes see most."""
    rng = random.Random(11)
    raws = [sum(rng.randint(0, 10**9) / 100 for _ in range(rng.randint(2, 40))) for _ in range(3000)]
    raws += [rng.randint(2390, 2810) + rng.choice([0.0, 0.5, 1e-9]) for _ in range(500)]
    _same_as_cell_by_cell(BY_TYPE[kind], raws)


def test_a_clean_column_needs_no_cell_by_cell_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Zeros, float noise, large sums and years never take the per-cell path (the reason for the classes)."""
    from osmep_xl.xlsx import coerce as module

    def refuse(column: Column) -> Any:
        raise AssertionError(f"{column.id} typed cell by cell")

    monkeypatch.setattr(module, "coercer", refuse)
    raws = [0.0, -0.0, 0.1 + 0.2, 327966001.84000003, 301708633474.2698, 12.345, 1234.56]
    coerce_column(BY_TYPE[ColType.MONEY], raws)
    coerce_column(BY_TYPE[ColType.YEAR], [2567.0, 2568.0])
