"""Which computable cells recalculation must evaluate one by one.

A formula cell whose formula text is right and whose cached value is what Excel's arithmetic gives after a
full recalculation is left alone by :func:`.recalc.plan_recalc`; the block's columns evaluated at once in
exact integers (:mod:`.model.columnar`), with a bound on Excel's binary noise, show most such cells without
the per-cell evaluation. Every other cell (a typed figure, a blank, a cell the screen cannot decide, a block
that does not fit the columns) takes the per-cell path, which decides exactly as before.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from ..model.columnar import (
    MAX_STATED,
    REPR_MARGIN,
    SCALE,
    BlockColumns,
    Bools,
    Floats,
    FormulaRows,
    NumberColumn,
    evaluate_columns,
    round_half_away,
)
from ..model.evaluate import BlockCalc, CellKey
from ..spec.base import Block, ColType, Column, Pct
from ..xlsx.formulas import current_rows
from ..xlsx.read import ReadBlock
from .arithmetic import MONEY_SLACK


def recalc_columns(rb: ReadBlock) -> list[Column]:
    """The computable columns recalculation writes: in the sheet, with every input column in the sheet too."""
    return [col for col in rb.block.columns if col.id in rb.columns and (col.derived or col.rollup) and not (
        col.formula is not None and any(dep not in rb.columns for dep in col.formula.inputs))]


@dataclass(frozen=True)
class Screen:
    """One block screened in columns: the cells recalculation must evaluate one by one (in row then column
    order), and each roll-up column's doubles as Excel's arithmetic gives them after a full recalculation
    (none when the block is not screened)."""

    cells: list[tuple[int, Column]]
    doubles: dict[str, Floats]

    def rolled_up(self, i: int, column_id: str) -> Decimal | None:
        """Row ``i``'s roll-up in ``column_id`` as :class:`.money.ExcelArithmetic` carries it (the double's
        shortest text), None where the columns did not compute it."""
        doubles = self.doubles.get(column_id)
        if doubles is None or math.isnan(doubles[i]):  # (NaN: a cell the columns did not decide)
            return None
        return Decimal(repr(float(doubles[i])))


def screen(rb: ReadBlock, calc: BlockCalc) -> Screen:
    """The computable cells of ``rb`` that may need an edit, and its roll-ups (``calc``: the block
    recomputed, for its structure and the roll-up formulas)."""
    columns = recalc_columns(rb)
    screened = _unchanged(rb, calc, columns)
    unchanged, evaluated = screened if screened is not None else ({}, None)
    n = len(rb.rows)
    parents = np.zeros(n, np.bool_)
    parents[[i for i, kids in calc.structure.children.items() if kids]] = True
    found: list[tuple[int, int, Column]] = []
    for k, col in enumerate(columns):
        left = np.ones(n, np.bool_) if col.derived else parents.copy()
        same = unchanged.get(col.id)
        if same is not None:  # a cell left alone: unchanged and its formula text right, decided by column
            current = current_rows(col, calc, np.flatnonzero(left & same).tolist(), rb.address, rb.formula_text)
            left[current] = False
        found += [(i, k, col) for i in np.flatnonzero(left).tolist()]
    found.sort(key=lambda cell: (cell[0], cell[1]))
    doubles = {} if evaluated is None else {
        c.id: evaluated.columns[c.id].double for c in rb.block.columns if c.rollup and c.id in evaluated.columns}
    return Screen([(i, col) for i, _, col in found], doubles)


def _unchanged(rb: ReadBlock, calc: BlockCalc, columns: list[Column]) -> tuple[dict[str, Bools], BlockColumns] | None:
    """Per numeric column, the formula cells surely left as they are, and the columns evaluated as they will
    be once recalculated; None when the block is not evaluated in columns.

    A typed figure where a formula belongs (a figure retyped over a total) is replaced by recalculation, which
    changes what the cells using it compute, so the columns are evaluated again with that cell counted as
    its formula; only where the per-cell path surely computes it so too (a derived cell with a stated input
    figure in its row: with none, the typed figure stays the input). A typed roll-up is left to that path."""
    evaluated = evaluate_columns(rb.block, rb.rows, rb.raw_columns, rb.formula_text, calc.structure)
    if evaluated is None:
        return None
    over = _typed_over(rb.block, evaluated)
    if over is None:
        return None
    if over:
        evaluated = evaluate_columns(rb.block, rb.rows, rb.raw_columns, _AsFormulas(rb.formula_text, over),
                                     calc.structure)
        if evaluated is None:
            return None
    # (A typed-over cell may pass as unchanged here: it holds no formula text, so screen() still leaves it.)
    return {col.id: evaluated.computable[col.id] & evaluated.columns[col.id].formula
            & _fresh(col, evaluated.columns[col.id]) for col in columns if col.id in evaluated.columns}, evaluated


def _typed_over(block: Block, evaluated: BlockColumns) -> dict[str, Bools] | None:
    """Each column's computable cells holding a typed figure (columns without one left out); None when one of
    them is not a derived cell whose row states a figure it uses."""
    over: dict[str, Bools] = {}
    for cid, c in evaluated.columns.items():
        typed = c.typed & ~c.formula & evaluated.computable[cid]
        if not typed.any():
            continue
        formula = block.column(cid).formula
        if formula is None:
            return None
        stated = np.zeros(len(typed), np.bool_)
        for dep in formula.inputs:
            if dep in evaluated.columns:
                stated |= evaluated.columns[dep].known & ~evaluated.computable[dep]
        if (typed & ~stated).any():
            return None
        over[cid] = typed
    return over


@dataclass(frozen=True)
class _AsFormulas:
    """A block's formula cells, and the typed-over cells counted among them (:class:`.columnar.FormulaRows`)."""

    cells: Collection[CellKey] | FormulaRows
    over: dict[str, Bools]

    def rows_of(self, column_id: str) -> list[int]:
        cells = self.cells
        rows = (cells.rows_of(column_id) if isinstance(cells, FormulaRows)
                else [i for i, cid in cells if cid == column_id])
        extra = self.over.get(column_id)
        return rows if extra is None else sorted({*rows, *np.flatnonzero(extra).tolist()})


def _fresh(col: Column, c: NumberColumn) -> Bools:
    """Formula cells whose cached value is what Excel's doubles give (``recalc._same``): a percentage or a
    non-money figure the same number, an amount the same at two decimals."""
    excel = c.double  # NaN where the columns do not decide it: never fresh
    if isinstance(col.formula, Pct):
        blank = c.computed_known == 0
        fresh: Bools = np.where(blank, (excel == 0) & (~c.typed | (c.exact & (c.hundredths == 0))),  # both falsy
                                c.typed & c.exact & (c.hundredths == np.rint(excel * SCALE)))
        return fresh & ~np.isnan(excel)
    if col.type is ColType.MONEY:
        shown, sure = round_half_away(excel * SCALE, REPR_MARGIN)
        with np.errstate(invalid="ignore"):
            cached = (np.abs(c.stored * SCALE - shown) < MONEY_SLACK) & (np.abs(c.stored) < MAX_STATED)
        fresh = c.typed & sure & cached
        return fresh
    fresh = c.typed & c.exact & (excel == c.stored)  # the same double: the same Decimal read back
    return fresh
