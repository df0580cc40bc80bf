"""A block's formula texts by cell, held a column at a time.

A 50,000-row block has ~350,000 formula cells; a dict keyed by (row, column id) spent ~29 MB on its keys
alone, the set of those keys as much again. Here each column keeps one list, its rows' texts (None where a
cell holds no formula), and the mapping is read through it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np

Key = tuple[int, str]  # (row index in the block, column id)


class FormulaMap(Mapping[Key, str]):
    """Formula text (as written, without "=") by (row, column id), iterated in row then column order."""

    def __init__(self, columns: dict[str, list[str | None]]) -> None:
        """``columns``: per column id, in the block's column order, each row's text or None."""
        self._columns = columns
        self._len = sum(len(texts) - texts.count(None) for texts in columns.values())

    @classmethod
    def placed(cls, rows: int, column_ids: Sequence[str], at_row: np.ndarray, at_column: np.ndarray,
               texts: Sequence[str]) -> FormulaMap:
        """``texts[j]`` at row ``at_row[j]`` of column ``column_ids[at_column[j]]`` (a cell at -1 in either is
        not in the block); a cell given twice keeps its later text."""
        columns: dict[str, list[str | None]] = {}
        for n, cid in enumerate(column_ids):
            picked = np.flatnonzero((at_column == n) & (at_row >= 0))
            if not len(picked):
                continue
            cells: list[str | None] = [None] * rows
            for r, j in zip(at_row[picked].tolist(), picked.tolist(), strict=True):
                cells[r] = texts[j]
            columns[cid] = cells
        return cls(columns)

    def __getitem__(self, key: Key) -> str:
        i, column_id = key
        cells = self._columns.get(column_id)
        text = cells[i] if cells is not None and 0 <= i < len(cells) else None
        if text is None:
            raise KeyError(key)
        return text

    def __contains__(self, key: object) -> bool:
        i: int
        column_id: str
        try:  # (asked for every cell an evaluation reads: the common case costs no checks)
            i, column_id = key  # type: ignore[misc]
            cells = self._columns.get(column_id)
            return cells is not None and cells[i] is not None and i >= 0
        except (IndexError, TypeError, ValueError):
            return False

    def get(self, key: Key, default: str | None = None) -> str | None:  # type: ignore[override]
        i, column_id = key
        cells = self._columns.get(column_id)
        text = cells[i] if cells is not None and 0 <= i < len(cells) else None
        return default if text is None else text

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Key]:
        rows = max((len(cells) for cells in self._columns.values()), default=0)
        for i in range(rows):
            for column_id, cells in self._columns.items():
                if cells[i] is not None:
                    yield i, column_id

    def column(self, column_id: str) -> list[str | None] | None:
        """Each row's text in ``column_id`` (None where a cell holds no formula); None for a column without
        any formula."""
        return self._columns.get(column_id)

    def rows_of(self, column_id: str) -> list[int]:
        """The rows of ``column_id`` holding a formula, in order."""
        cells = self._columns.get(column_id)
        return [] if cells is None else [i for i, text in enumerate(cells) if text is not None]
