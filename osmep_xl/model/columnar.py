"""A block's figures as columns of exact integers, every formula and roll-up evaluated at once.

Money is held as int64 satang and every other number in hundredths (a percentage 93.89 is 9389), which
is exact for what a template holds: amounts to the satang, percentages to two decimals. A stated figure
is taken from the double the sheet stores only when that double is the one nearest a whole number of
hundredths (so the reader's Decimal is exactly that number); a block with any other stated figure (more
decimals, beyond ±9·10^12, text, a formula kind other than sums and percentages) is not evaluated here,
and its checks keep the per-cell Decimal path (:class:`.evaluate.BlockCalc`), as do the messages.

The values mirror :class:`.evaluate.BlockCalc` without ``recompute`` and in exact arithmetic: a cell is
its stated figure unless it holds a formula; a derived cell computes from its row, a roll-up sums its
lines (blank lines skipped), ``ROUND(part / whole * 100, 2)`` rounds half away from zero and is blank
when the whole is 0 or blank. Beside each value goes the double Excel's arithmetic (:data:`.money.EXCEL`)
gives the cell, the same operations in the same order, so recalculation can tell which cached values a
full recalculation keeps without evaluating cell by cell.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import is_not
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ..spec.base import Block, Column, Pct, Sum
from .evaluate import CellKey, Row, Structure

SCALE = 100  # hundredths: satang, hundredths of a percentage point
MAX_STATED = 9e12  # below this a double's shortest text has at most 2 decimals when it is k/100
MAX_SUM = 4.0e18  # int64 sums stay exact below 2**63
MAX_PCT_INPUT = 4.0e14  # part * 10000 * 2 stays below 2**63

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]


@dataclass
class NumberColumn:
    """One numeric column of a block: what the cells hold and what their formulas give."""

    stored: Floats  # the double each cell stores (NaN where it is not a number)
    typed: Bools  # the reader typed a number here
    formula: Bools  # the cell holds a formula (its stored value is a cache, not a statement)
    exact: Bools  # ``stored`` is exactly ``hundredths`` / 100
    hundredths: Ints  # the stored figure in hundredths, where ``exact``
    value: Ints  # the cell as Excel shows it: its stated figure, or what its formula gives
    known: Bools  # ``value`` is a number (not blank)
    computed: Ints  # what the cell's formula or roll-up gives from the cells it uses
    computed_known: Bools
    double: Floats  # the cell as Excel's doubles compute it (0 where blank; NaN where not decided here)

    @property
    def stated(self) -> Bools:
        return self.typed & ~self.formula


@runtime_checkable
class FormulaRows(Protocol):
    """Formula cells that can list a column's rows at once (a read block's, held by column)."""

    def rows_of(self, column_id: str) -> list[int]: ...


@dataclass
class BlockColumns:
    """Every numeric column of a block, evaluated."""

    columns: dict[str, NumberColumn]
    computable: dict[str, Bools]  # the sheet carries a formula or roll-up in this cell


@runtime_checkable
class StoredDoubles(Protocol):
    """Cells that already know their columns' doubles (a read block's, taken out as it typed them)."""

    def doubles_of(self, column_id: str) -> Floats | None: ...


def float_cells(raws: Sequence[Any]) -> Floats:
    """Each cell's float, NaN for a cell holding anything else."""
    return np.fromiter((v if type(v) is float else math.nan for v in raws), np.float64, len(raws))


def stored_doubles(values: Sequence[Any], floats: Floats | None = None) -> Floats:
    """The double each cell stores: a float itself, an int (not a bool) as a double, NaN for anything else.
    ``floats``: the floats already taken out (NaN for every other cell), so that only the others are looked at."""
    if floats is None:
        floats = float_cells(values)
    ints = [i for i in np.flatnonzero(np.isnan(floats)).tolist() if type(values[i]) is int]
    if not ints:
        return floats
    stored = floats.copy()
    stored[ints] = [float(values[i]) for i in ints]
    return stored


@runtime_checkable
class KnownCells(Protocol):
    """Rows that tell where a column holds a value without reading each row (a read block's, by column)."""

    def known(self, column_id: str) -> Bools: ...


def _stored(raw: Mapping[str, Sequence[Any]], rows: Sequence[Row], column_id: str) -> tuple[Floats, Bools]:
    """What each cell stores, and where the reader typed a number (as the rows hold it now: a roll forward
    blanks typed figures in them, not in the cells)."""
    stored = raw.doubles_of(column_id) if isinstance(raw, StoredDoubles) else None
    if stored is None:
        values = raw.get(column_id)
        stored = np.full(len(rows), math.nan) if values is None else stored_doubles(values)
    if isinstance(rows, KnownCells):
        return stored, rows.known(column_id)  # read-only: a later blank gives the rows a new one
    typed = np.fromiter(map(is_not, map(dict.get, rows, repeat(column_id)), repeat(None)), np.bool_, len(rows))
    return stored, typed


def _tree(n: int, structure: Structure) -> tuple[Ints, Ints] | None:
    """Each row's parent (-1 for none) and its depth (links up to a row without one); None when the links
    loop. Pointer doubling: after round k each row's ``up`` is its ancestor 2**k links above (-1 past the
    top) and ``depth`` counts the links to it, so a chain of any length takes log2(n) passes."""
    parent = np.full(n, -1, np.int64)
    count = len(structure.parent)
    parent[np.fromiter(structure.parent.keys(), np.int64, count)] = np.fromiter(structure.parent.values(),
                                                                                 np.int64, count)
    depth = (parent >= 0).astype(np.int64)
    up = parent.copy()
    for _ in range(n.bit_length() + 1):  # 2**rounds > n: every chain has reached its top
        climbing = np.flatnonzero(up >= 0)
        if not len(climbing):
            return parent, depth
        above = up[climbing]
        depth[climbing] += depth[above]
        up[climbing] = up[above]
    return None


def round_percent(part: Ints, whole: Ints) -> Ints:
    """``ROUND(part / whole * 100, 2)`` in hundredths, half away from zero, exactly (``whole`` ≠ 0)."""
    q = np.abs(part) * (100 * SCALE)
    w = np.abs(whole)
    magnitude: Ints = (2 * q + w) // (2 * w)
    signed: Ints = np.where((part < 0) != (whole < 0), -magnitude, magnitude)
    return signed


def evaluate_sum(formula: Sum, columns: dict[str, tuple[Ints, Bools]]) -> Ints | None:
    """A signed sum formula over whole columns of hundredths (a blank term counts 0, as in Excel); None when
    a sum could leave int64."""
    if sum(float(np.abs(columns[dep][0]).max(initial=0)) for dep in formula.inputs) > MAX_SUM:
        return None
    n = len(columns[formula.inputs[0]][0])
    total = np.zeros(n, np.int64)
    for sign, dep in formula.terms:
        values, known = columns[dep]
        total += sign * np.where(known, values, 0)
    return total


def to_hundredths(values: Sequence[Any]) -> tuple[Ints, Bools, Bools]:
    """Cells as hundredths: the numbers, where each is exactly a whole number of hundredths (a double
    nearest one, an int), and where each is blank (None, or text of spaces)."""
    n = len(values)
    stored = np.fromiter((v if type(v) is float else float(v) if type(v) is int and abs(v) < 2**53 else math.nan
                          for v in values), np.float64, n)
    blank = np.fromiter((v is None or (type(v) is str and not v.strip()) for v in values), np.bool_, n)
    with np.errstate(invalid="ignore"):
        k = np.rint(stored * SCALE)
        exact = (k / SCALE == stored) & (np.abs(stored) < MAX_STATED)
    return np.where(exact, k, 0).astype(np.int64), exact, blank


@np.errstate(invalid="ignore")  # once for every column, not a context per column
def evaluate_columns(block: Block, rows: Sequence[Row], raw: Mapping[str, Sequence[Any]],
                     formula_cells: Collection[CellKey] | FormulaRows, structure: Structure) -> BlockColumns | None:
    """The block's numeric columns evaluated exactly, or None when a figure or a formula does not fit;
    ``raw``: each column's cells as the sheet stores them (a column missing: blank)."""
    numeric = [c for c in block.columns if c.type.numeric]
    if any(c.formula is not None and not isinstance(c.formula, (Sum, Pct)) for c in numeric):
        return None
    n = len(rows)
    has_children = np.zeros(n, np.bool_)
    parents = [i for i, kids in structure.children.items() if kids]
    if parents:
        has_children[parents] = True
    computable = {c.id: (np.ones(n, np.bool_) if c.formula is not None else
                         has_children.copy() if c.rollup else np.zeros(n, np.bool_)) for c in numeric}
    if isinstance(formula_cells, FormulaRows):
        formula_rows = {c.id: formula_cells.rows_of(c.id) for c in numeric}
    else:
        formula_rows = {c.id: [] for c in numeric}
        for i, cid in formula_cells:
            if cid in formula_rows:
                formula_rows[cid].append(i)
    out: dict[str, NumberColumn] = {}
    for col in numeric:
        stored, typed = _stored(raw, rows, col.id)
        at = formula_rows[col.id]  # distinct rows: all of them in a derived column, nothing to index
        if len(at) == n:
            formula = np.ones(n, np.bool_)
        else:
            formula = np.zeros(n, np.bool_)
            formula[np.fromiter(at, np.intp, len(at))] = True  # half the time of indexing with the list
        k = np.rint(stored * SCALE)  # NaN where a cell holds no number (the decorator's errstate)
        exact = (k / SCALE == stored) & (np.abs(stored) < MAX_STATED)
        # A figure that enters a computation must be exact: a stated cell, or a formula nothing recomputes.
        known = typed & ~(formula & computable[col.id])
        if (known & ~exact).any():
            return None
        hundredths = np.where(exact, k, 0).astype(np.int64)
        out[col.id] = NumberColumn(stored, typed, formula, exact, hundredths, np.where(known, hundredths, 0),
                                   known, np.zeros(n, np.int64), np.zeros(n, np.bool_), np.where(known, stored, 0.0))
    if not _roll_up([c for c in numeric if c.rollup], out, structure, n):
        return None
    if not _derive([c for c in numeric if c.formula is not None], out):
        return None
    return BlockColumns(out, computable)


def _roll_up(rollups: list[Column], out: dict[str, NumberColumn], structure: Structure, n: int) -> bool:
    """Roll-up columns, deepest lines first: each parent sums its lines' values (blank lines skipped; a
    parent's lines all sit one level below it, so a level's sums are final before the level above reads
    them). False when the links loop or a sum could leave int64."""
    if not rollups or not structure.parent:
        return True
    tree = _tree(n, structure)
    if tree is None:
        return False
    parent, depth = tree
    by_depth = np.argsort(-depth, kind="stable")  # deepest first, each level in row order
    ends = [*(np.flatnonzero(np.diff(depth[by_depth])) + 1).tolist(), n]
    starts = [0, *ends[:-1]]
    levels = [by_depth[a:b] for a, b in zip(starts, ends, strict=True) if depth[by_depth[a]] > 0]
    # Per level, once for every column: each line's parent, and the parents (sorted, as np.unique gives them).
    above_mask = np.zeros(n, np.bool_)
    targets, parents = [], []
    for lines in levels:
        up = parent[lines]
        above_mask[up] = True
        targets.append(up)
        parents.append(np.flatnonzero(above_mask))
        above_mask[up] = False
    for col in rollups:
        c = out[col.id]
        if float(np.abs(c.value).sum()) * len(levels) > MAX_SUM:
            return False
        stated = c.stated
        acc = np.zeros(n, np.int64)
        double = np.zeros(n)  # Excel adds a parent's lines in row order, from 0.0, as ufunc.at applies them
        for lines, up, above in zip(levels, targets, parents, strict=True):
            np.add.at(acc, up, c.value[lines])  # a blank line's value is 0 (``value`` is 0 where not ``known``)
            np.add.at(double, up, c.double[lines])  # and its 0.0 leaves a sum as it is
            c.computed[above] = acc[above]
            c.computed_known[above] = True
            take = above[~stated[above]]
            c.value[take] = acc[take]
            c.known[take] = True
            c.double[take] = double[take]
    return True


def _order(derived: list[Column]) -> list[Column] | None:
    """Derived columns with each after the derived columns it uses (None on a cycle)."""
    ids = {c.id for c in derived}
    done: list[Column] = []
    done_ids: set[str] = set()
    left = list(derived)
    while left:
        ready = [c for c in left if all(d not in ids or d in done_ids
                                        for d in c.formula.inputs)]  # type: ignore[union-attr]
        if not ready:
            return None
        done += ready
        done_ids.update(c.id for c in ready)
        left = [c for c in left if c.id not in done_ids]  # by id: comparing the columns compares every field
    return done


def _derive(derived: list[Column], out: dict[str, NumberColumn]) -> bool:
    """Derived columns, row by row at once: signed sums, and percentages of a whole."""
    ordered = _order(derived)
    if ordered is None:
        return False
    for col in ordered:
        c = out[col.id]
        formula = col.formula
        if any(dep not in out for dep in formula.inputs):  # type: ignore[union-attr]
            return False  # a text column in a sum: not a figure this path knows
        if isinstance(formula, Sum):
            summed = evaluate_sum(formula, {dep: (out[dep].value, out[dep].known) for dep in formula.inputs})
            if summed is None:
                return False
            computed, computed_known = summed, np.ones(len(c.value), np.bool_)
            double = np.zeros(len(c.value))
            for sign, dep in formula.terms:  # left to right, as Sum.evaluate adds them
                double = double + out[dep].double if sign > 0 else double - out[dep].double
        else:
            assert isinstance(formula, Pct)
            part, whole = out[formula.part], out[formula.whole]
            if max(float(np.abs(part.value).max(initial=0)), float(np.abs(whole.value).max(initial=0))) \
                    > MAX_PCT_INPUT:
                return False
            computed_known = whole.known & (whole.value != 0)
            safe = np.where(computed_known, whole.value, 1)
            computed = np.where(computed_known,
                                round_percent(np.where(part.known, part.value, 0), safe), 0)
            double = excel_percent(part.double, whole.double, whole.known, computed_known)
        c.computed, c.computed_known = computed, computed_known
        stated = c.stated
        c.value = np.where(stated, c.value, computed)
        c.known = np.where(stated, c.known, computed_known)
        c.double = np.where(stated, c.double, double)
    return True


# How near a rounding tie (relative) a double in hundredths may come from a decimal it stands for: a
# product's and a shortest repr's error (a few 2**-53), or the 15 digits Excel's ROUND starts from (5e-15).
REPR_MARGIN = 1e-15
DIGITS_MARGIN = 1e-13


def round_half_away(hundredths: Floats, margin: float) -> tuple[Floats, Bools]:
    """Doubles (in hundredths) rounded half away from zero, and where that is surely what rounding the
    decimal they stand for gives (farther than ``margin``, relative, from a tie, below 2**52)."""
    magnitude = np.abs(hundredths)
    rounded = np.floor(magnitude + 0.5)
    with np.errstate(invalid="ignore"):
        sure = (np.abs(magnitude - np.floor(magnitude) - 0.5) > magnitude * margin) & (magnitude < 2.0**52)
    return np.copysign(rounded, hundredths), sure


def excel_percent(part: Floats, whole: Floats, whole_known: Bools, exact_known: Bools) -> Floats:
    """``ROUND(part / whole * 100, 2)`` as :class:`.money.ExcelArithmetic` computes it on the doubles (0
    where blank); NaN where it is not decided here: near a rounding tie, or blank where the exact one is
    not (or the other way round)."""
    known = whole_known & (whole != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        shown, sure = round_half_away(part / np.where(known, whole, 1.0) * 100 * SCALE, DIGITS_MARGIN)
    double: Floats = np.where(known != exact_known, np.nan, np.where(known, np.where(sure, shown / SCALE, np.nan), 0.0))
    return double
