"""A read block's typed values, held by column: a row's dict is made only when that row is asked for.

A 50,000-row block has ~500,000 numeric cells; most checks read a few columns at once and a handful of
rows, so neither a Decimal per cell (:class:`.coerce.NumberCells`) nor a dict per row is made before it is
asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat
from operator import is_not
from typing import Any, overload

import numpy as np

from ..model.evaluate import Row
from .coerce import NumberCells

Cells = NumberCells | list[Any]  # a numeric column typed lazily, or any column's typed values


class TypedRows(Sequence[Row]):
    """A block's rows as dicts by column id (every column of the block; None where not found), over its
    typed columns. Row ``i``'s dict is made when first asked for and kept; iterating makes every row.
    A cell is changed through :meth:`set`, which the columns and a row already made both see."""

    def __init__(self, ids: Sequence[str], columns: Mapping[str, Cells], n: int) -> None:
        self._ids = tuple(ids)
        self._columns: dict[str, Cells] = {}
        for cid in self._ids:
            cells = columns.get(cid)
            self._columns[cid] = [None] * n if cells is None else cells
        self._n = n
        self._made: list[Row | None] = [None] * n
        self._all_made = n == 0

    @classmethod
    def listed(cls, ids: Sequence[str], rows: Sequence[Row]) -> TypedRows:
        """Rows made elsewhere (a completer's), kept as they are; their columns read from them."""
        typed = cls(ids, {cid: [row.get(cid) for row in rows] for cid in ids}, len(rows))
        typed._made, typed._all_made = list(rows), True
        return typed

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Row: ...

    @overload
    def __getitem__(self, i: slice) -> list[Row]: ...

    def __getitem__(self, i: int | slice) -> Row | list[Row]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        row = self._made[i]
        if row is None:
            row = self._made[i] = {cid: self.value(i, cid) for cid in self._ids}
        return row

    def __iter__(self) -> Iterator[Row]:
        if not self._all_made and not self._ids:  # a block without columns: an empty dict per row
            self._made = [{} if row is None else row for row in self._made]
        elif not self._all_made:  # every row at once, each column's whole list zipped (in C)
            ids = self._ids
            self._made = [row if row is not None else dict(zip(ids, values, strict=True))
                          for row, values in zip(self._made, zip(*map(self.column, ids), strict=True), strict=True)]
            self._all_made = True
        return iter(self._made)  # type: ignore[arg-type]  # every row made just now

    def __eq__(self, other: object) -> bool:
        """Equal to rows (a list of dicts, or other typed rows) holding the same values, as a list would be."""
        if isinstance(other, TypedRows | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, as a list

    def value(self, i: int, column_id: str) -> Any:
        """Row ``i``'s typed value in a column, as ``rows[i].get(column_id)`` (the row's dict is not made)."""
        cells = self._columns.get(column_id)
        if cells is None or isinstance(cells, list):
            return None if cells is None else cells[i]
        return cells.value(range(self._n)[i])  # -1 is the last cell, as a list has it: cells are keyed by position

    def column(self, column_id: str) -> list[Any]:
        """Every row's typed value in a column (a numeric column's made once, then kept; None for a column
        the block does not have, as a row's ``get``). The list is the column itself: read it, change a cell
        only through :meth:`set`."""
        cells = self._columns.get(column_id)
        return [None] * self._n if cells is None else cells if isinstance(cells, list) else cells.values()

    def known(self, column_id: str) -> np.ndarray:
        """Where a column's typed value is not None, without making a value."""
        cells = self._columns.get(column_id)
        if isinstance(cells, NumberCells):
            return cells.known()
        if cells is None:
            return np.zeros(self._n, np.bool_)
        return np.fromiter(map(is_not, cells, repeat(None)), np.bool_, self._n)

    def set(self, i: int, column_id: str, value: Any) -> None:
        """Give a cell another typed value (an error cell, an entry blanked for the next quarter)."""
        cells, i = self._columns[column_id], range(self._n)[i]
        if isinstance(cells, list):
            cells[i] = value
        else:
            cells.set(i, value)
        row = self._made[i]
        if row is not None:
            row[column_id] = value
