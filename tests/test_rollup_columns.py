"""Roll-ups evaluated in columns with each row's depth found by pointer doubling give exactly what the loop that
walked every row up its parents gave (kept here as the reference), on links in any order, rows without a
parent, long chains and figures near the limits; links that loop end the evaluation instead of hanging."""

from __future__ import annotations

import copy

import hypothesis.strategies as st
import numpy as np
from hypothesis import given, settings

from osmep_xl.model.columnar import MAX_SUM, NumberColumn, _roll_up
from osmep_xl.model.evaluate import Structure
from osmep_xl.spec import TEMPLATES
from osmep_xl.spec.base import Column

ROLLUPS = [c for b in TEMPLATES["disbursement"].blocks for c in b.columns if c.rollup][:3]


def _reference_roll_up(rollups: list[Column], out: dict[str, NumberColumn], structure: Structure, n: int) -> bool:
    """The roll-up as it was: each row's depth by walking its parents one by one, a level at a time."""
    if not rollups or not structure.parent:
        return True
    depth = np.zeros(n, np.int64)
    for i in range(n):
        d, j = 0, i
        while j in structure.parent:
            j = structure.parent[j]
            d += 1
        depth[i] = d
    parent = np.full(n, -1, np.int64)
    for i, j in structure.parent.items():
        parent[i] = j
    levels = [np.flatnonzero(depth == d) for d in range(int(depth.max()), 0, -1)]
    for col in rollups:
        c = out[col.id]
        if float(np.abs(c.value).sum()) * len(levels) > MAX_SUM:
            return False
        acc = np.zeros(n, np.int64)
        double = np.zeros(n)
        for lines in levels:
            np.add.at(acc, parent[lines], np.where(c.known[lines], c.value[lines], 0))
            np.add.at(double, parent[lines], c.double[lines])
            above = np.unique(parent[lines])
            c.computed[above] = acc[above]
            c.computed_known[above] = True
            take = above[~c.stated[above]]
            c.value[take] = acc[take]
            c.known[take] = True
            c.double[take] = double[take]
    return True


def _column(rng: np.random.Generator, n: int, scale: int) -> NumberColumn:
    """A column as evaluate_columns builds it: ``value`` and ``double`` 0 where the cell is not known."""
    hundredths = rng.integers(-scale, scale, n, endpoint=True)
    typed = rng.random(n) < 0.8
    formula = rng.random(n) < 0.3
    known = typed & ~formula
    stored = hundredths / 100
    double = np.where(known, stored, 0.0)
    double[rng.random(n) < 0.05] = np.nan  # a double not decided here
    return NumberColumn(stored, typed, formula, np.ones(n, np.bool_), hundredths, np.where(known, hundredths, 0),
                        known, np.zeros(n, np.int64), np.zeros(n, np.bool_), double)


def _forest(rng: np.random.Generator, n: int, chain: bool) -> Structure:
    """Links in any row order (a parent before or after its lines), some rows without a parent, no loop."""
    rank = rng.permutation(n)  # a parent always ranks lower: no loop
    structure = Structure()
    for i in range(n):
        if rank[i] == 0 or rng.random() < 0.1:
            continue  # a top row, or one without a parent
        higher = np.flatnonzero(rank < rank[i])
        j = int(higher[np.argmax(rank[higher])]) if chain else int(rng.choice(higher))
        structure.parent[i] = j
        structure.children[j].append(i)
    return structure


def _same(a: NumberColumn, b: NumberColumn) -> bool:
    return all(getattr(a, f).tobytes() == getattr(b, f).tobytes()  # bit for bit: -0.0 and NaN included
               for f in ("value", "known", "computed", "computed_known", "double"))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**32 - 1), st.booleans(),
       st.sampled_from([10**4, 10**15, 10**17, 4 * 10**18]))
def test_rolled_up_columns_equal_the_row_by_row_walk(n: int, seed: int, chain: bool, scale: int) -> None:
    rng = np.random.default_rng(seed)
    structure = _forest(rng, n, chain)
    out = {col.id: _column(rng, n, scale) for col in ROLLUPS}
    expected = copy.deepcopy(out)
    assert _roll_up(ROLLUPS, out, structure, n) == _reference_roll_up(ROLLUPS, expected, structure, n)
    assert all(_same(out[c.id], expected[c.id]) for c in ROLLUPS)


def test_a_long_chain_rolls_up_as_the_walk_does() -> None:
    """3,000 levels (each row the parent of the next, listed from the bottom up): the same sums as the walk."""
    n = 3000
    rng = np.random.default_rng(1)
    structure = Structure()
    for i in range(n - 1):
        structure.parent[n - 1 - i] = n - 2 - i
        structure.children[n - 2 - i].append(n - 1 - i)
    out = {col.id: _column(rng, n, 10**6) for col in ROLLUPS}
    expected = copy.deepcopy(out)
    assert _roll_up(ROLLUPS, out, structure, n) and _reference_roll_up(ROLLUPS, expected, structure, n)
    assert all(_same(out[c.id], expected[c.id]) for c in ROLLUPS)


def test_links_that_loop_are_not_evaluated_in_columns() -> None:
    """A loop (a row its own ancestor) has no depth: the columns give up, where walking parents never ended."""
    rng = np.random.default_rng(2)
    for loop in ({1: 2, 2: 1}, {0: 0}, {1: 2, 2: 3, 3: 1, 4: 1}):
        structure = Structure(parent={**loop, 5: 0})
        out = {col.id: _column(rng, 6, 10**4) for col in ROLLUPS}
        assert _roll_up(ROLLUPS, out, structure, 6) is False
