"""Evaluate a block the way Excel would: row formulas and parent roll-ups.

A cell is *stated* when it holds a constant; otherwise a derived or roll-up cell
is *computed* from the cells it refers to, exactly as its formula in the sheet
would compute it. Validation compares each stated derived cell with what its
formula would give; recalculation replaces it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from itertools import repeat
from operator import is_not, itemgetter
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..money import DECIMAL, Arithmetic
from ..spec.base import META_PREFIX, Block, Column, Value

Row = dict[str, Any]
CellKey = tuple[int, str]


@dataclass(frozen=True)
class CellValue:
    """A cell as Excel would show it, and whether any stated input reached it."""

    value: Value
    has_data: bool
    stated: bool


@dataclass
class Structure:
    """Parent/child links of a block's rows, resolved on codes within each group."""

    parent: dict[int, int] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    duplicates: list[int] = field(default_factory=list)  # rows whose key repeats an earlier row


def group_key(block: Block, row: Row) -> tuple[Any, ...]:
    return tuple(row.get(c) for c in block.group_by)


@runtime_checkable
class ColumnRows(Protocol):
    """Rows that give a column's values at once (a read block's, held by column; None for a column it lacks)."""

    def column(self, column_id: str) -> Sequence[Any]: ...


def column_of(rows: Sequence[Row], column_id: str) -> Sequence[Any]:
    """Every row's value in a column (None where a row has none), read by column when the rows are held so."""
    return rows.column(column_id) if isinstance(rows, ColumnRows) else [row.get(column_id) for row in rows]


def resolve_structure(block: Block, rows: Sequence[Row]) -> Structure:
    """Link each row to its parent: the nearest higher level with the parent code."""
    st = Structure()
    # The columns the links use, each read once (zipped into keys in C, not row by row).
    wanted = {*block.key_columns, *block.group_by, "code", "parent", "level"}
    values = {c: column_of(rows, c) for c in wanted}
    n = len(rows)
    if block.hierarchical:
        codes = list(zip(*(values[c] for c in block.group_by), values["code"], strict=True))
        row_of = dict(zip(codes, range(n), strict=True))  # a code's (last) row
    # A hierarchical block's key is a row's group, level and code: no key repeats when no code does.
    if not block.hierarchical or len(row_of) < n:
        keys = list(zip(*(values[k] for k in block.key_columns), strict=True)) if block.key_columns else [()] * n
        if len(set(keys)) < n:  # some key repeats (rare): which rows repeat an earlier one
            seen: set[tuple[Any, ...]] = set()
            for i, key in enumerate(keys):
                if key in seen:
                    st.duplicates.append(i)
                seen.add(key)
    if not block.hierarchical:
        return st
    ranks = {lv.id: r for r, lv in enumerate(block.levels)}
    unknown = len(ranks)  # an unknown level ranks below all
    rank_of = [ranks.get(level or "", unknown) for level in values["level"]]
    parents = list(zip(*(values[c] for c in block.group_by), values["parent"], strict=True))
    # No parent code, an unknown level, or a dangling parent code (references.py reports it): no link.
    if len(row_of) == n:  # the usual case, every code on one row: the links at once
        rank = np.array(rank_of, np.int64)
        j = np.fromiter(map(row_of.get, parents, repeat(-1)), np.int64, n)
        stated = np.fromiter(map(is_not, values["parent"], repeat(None)), np.bool_, n)
        linked = np.flatnonzero((j >= 0) & stated & (rank != unknown) & (rank[j] < rank))
        st.parent = dict(zip(linked.tolist(), j[linked].tolist(), strict=True))
    else:
        st.parent = dict(_links_among_repeats(codes, parents, rank_of, unknown))
    for i, p in st.parent.items():
        st.children[p].append(i)
    return st


def _links_among_repeats(codes: list[tuple[Any, ...]], parents: list[tuple[Any, ...]], rank_of: list[int],
                         unknown: int) -> Iterator[tuple[int, int]]:
    """Each row's parent where a code may be on several rows: of those ranking above the row, the highest
    ranked (the first of them on a tie)."""
    by_code: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, key in enumerate(codes):
        by_code[key].append(i)
    for i, found in enumerate(map(by_code.get, parents)):
        rank = rank_of[i]
        if found is None or rank == unknown or parents[i][-1] is None:
            continue
        candidates = [j for j in found if rank_of[j] < rank]
        if candidates:
            yield i, max(candidates, key=lambda c: rank_of[c])


class BlockCalc:
    """Excel-equivalent values of every cell of one block.

    ``formula_cells`` are cells known to hold formulas (read from a workbook):
    their cached values are not trusted as stated. With ``recompute`` every
    derived and roll-up cell is computed, as after a full recalculation. ``arith``
    is exact decimal arithmetic by default, or Excel's binary doubles. ``meta`` holds the information
    sheet's values, for formulas that read one (the cumulative to the as-of month). ``rolled_up`` gives a
    parent's roll-up already known in ``arith`` (None where it is not): a roll-up takes it for a line that is
    itself a parent instead of evaluating that line's lines.
    """

    def __init__(
        self,
        block: Block,
        rows: Sequence[Row],
        *,
        formula_cells: Collection[CellKey] = (),
        recompute: bool = False,
        arith: Arithmetic = DECIMAL,
        structure: Structure | None = None,
        meta: Mapping[str, Any] | None = None,
        rolled_up: Callable[[int, str], Decimal | None] | None = None,
    ) -> None:
        self.block = block
        self.meta: Mapping[str, Any] = meta or {}
        self.rows = rows
        self.structure = structure or resolve_structure(block, rows)
        # a read block's set is shared, not copied: each evaluation of a large block would copy ~300,000 keys
        self._formula_cells = formula_cells if isinstance(formula_cells, AbstractSet) else set(formula_cells)
        self._recompute = recompute
        self.arith = arith
        self._columns = {c.id: c for c in block.columns}
        self._memo: dict[CellKey, CellValue] = {}
        self._rolled_up = rolled_up

    @cached_property
    def parents(self) -> frozenset[int]:
        """The rows with lines of their own."""
        return frozenset(i for i, kids in self.structure.children.items() if kids)

    def is_computable(self, i: int, column: Column) -> bool:
        """True when the sheet carries a formula for this cell (derived or roll-up)."""
        return column.derived or (column.rollup and bool(self.structure.children.get(i)))

    def is_stated(self, i: int, column_id: str) -> bool:
        column = self._columns[column_id]
        if (i, column_id) in self._formula_cells:
            return False
        if self._recompute and self.is_computable(i, column):
            return False
        return self.rows[i].get(column_id) is not None

    def cell(self, i: int, column_id: str) -> CellValue:
        """The value Excel would show at row ``i``, column ``column_id``."""
        key = (i, column_id)
        if key not in self._memo:
            if self.is_stated(i, column_id):
                typed = self.rows[i][column_id]
                self._memo[key] = CellValue(typed, not self._zero_over_nothing(i, column_id, typed), True)
            else:
                computed = self.expected(i, column_id)
                typed = self.rows[i].get(column_id)
                if (self._recompute and not computed.has_data and typed is not None
                        and key not in self._formula_cells):
                    # Nothing below this cell carries the figure: it is the input here.
                    computed = CellValue(typed, not self._zero_over_nothing(i, column_id, typed), True)
                self._memo[key] = computed
        return self._memo[key]

    def _zero_over_nothing(self, i: int, column_id: str, typed: Value) -> bool:
        """A typed 0 on a parent whose lines carry no figure: just what the template's SUM over those blank
        lines shows, so it is judged as that formula is (no figure), not as a stated total of 0. A sheet gets
        the same verdict whether such a 0 is the formula or was typed (pasted as values)."""
        if typed != 0 or not isinstance(typed, Decimal) or not self._columns[column_id].rollup:
            return False
        children = self.structure.children.get(i) or []
        return bool(children) and not any(self.cell(c, column_id).has_data for c in children)

    def _getter(self, i: int) -> Any:
        """Row ``i``'s values by column id, and the information sheet's by "@field"."""
        def get(column_id: str) -> Any:
            if column_id.startswith(META_PREFIX):
                return self.meta.get(column_id[len(META_PREFIX):])
            return self.cell(i, column_id).value
        return get

    def expected(self, i: int, column_id: str) -> CellValue:
        """What the cell's formula gives from the cells it refers to (ignoring its own constant)."""
        column = self._columns[column_id]
        if column.formula is not None:
            inputs = [self.cell(i, dep) for dep in column.formula.inputs]
            value = column.formula.evaluate(self._getter(i), self.arith)
            numeric_inputs = [
                cv for dep, cv in zip(column.formula.inputs, inputs, strict=True)
                if self._columns[dep].type.numeric
            ]
            return CellValue(value, any(cv.has_data for cv in numeric_inputs), False)
        children = self.structure.children.get(i)
        if column.rollup and children:
            return self._rollup(children, column_id)
        return CellValue(self.rows[i].get(column_id), self.rows[i].get(column_id) is not None, False)

    def _rollup(self, children: list[int], column_id: str) -> CellValue:
        """A parent's sum of its lines, in row order. A line without lines of its own shows what its row
        holds, stated figure or a formula's cached value alike (a roll-up column has no row formula, so nothing
        recomputes it): it is read straight from its row, as :meth:`cell` would give it, instead of being
        evaluated (a total's sum at 50,000 lines evaluated every line one by one). A line that is a roll-up
        itself is taken from ``rolled_up`` once a line before it carries a figure (whether it carries one
        needs its lines), else evaluated."""
        if self.parents.isdisjoint(children):  # the usual parent: every line a leaf, read in C
            shown = list(map(dict.get, itemgetter(*children)(self.rows) if len(children) > 1
                             else [self.rows[children[0]]], repeat(column_id)))
            has_data = any(map(is_not, shown, repeat(None)))  # not list.count: Decimal == None is slow
        else:
            shown, has_data = [], False
            for c in children:
                if c in self.parents:
                    known = self._rolled_up(c, column_id) if has_data and self._rolled_up is not None else None
                    if known is not None:
                        shown.append(known)
                        continue
                    line = self.cell(c, column_id)
                    shown.append(line.value)
                    has_data = has_data or line.has_data
                else:
                    shown.append(value := self.rows[c].get(column_id))
                    has_data = has_data or value is not None
        return CellValue(self.arith.add([v for v in shown if isinstance(v, Decimal)]), has_data, False)
