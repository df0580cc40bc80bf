"""Where a template's cells sit, from its spec and the generator's layout: tests never spell column letters.

A column is named by its id and found at its position in ``block.columns``; rows follow
:mod:`osmep_xl.xlsx.layout` (headers on HEADER_TH_ROW and HEADER_EN_ROW, data row ``i`` on
``FIRST_DATA_ROW + i``). A row is best found by its key, the level and code of the report line the test
means; a row index is for tests that mean "the n-th row" (a duplicate code, a row appended below)::

    LINES = Table("disbursement", "lines", disbursement_rows())
    LINES.at("total", "P1")        # P1's total, e.g. "J7"
    LINES.cell("total", 1)         # the same cell by data row index
    LINES.headers("committed")     # its Thai and English header cells, e.g. ("I4", "I5")
    LINES.origin                   # where the reader reports a missing column: "A4"
    address(read_workbook(path).blocks["lines"], "allocated", "T")   # in a workbook read back
    meta_cell("as_of")             # the as-of value cell on the information sheet

Adding, removing or reordering a column in a spec moves every address with it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from osmep_xl.a1 import a1, column_letter
from osmep_xl.model.workbook import WorkbookData
from osmep_xl.spec import get_spec
from osmep_xl.spec.base import Block
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.layout import FIRST_DATA_ROW, HEADER_EN_ROW, HEADER_TH_ROW
from osmep_xl.xlsx.read import ReadBlock, read_workbook

Row = Mapping[str, Any]


def _matches(row: Row, code: Any, level: str | None, where: Mapping[str, Any]) -> bool:
    return (str(row.get("code")) == str(code) and (level is None or row.get("level") == level)
            and all(row.get(k) == v for k, v in where.items()))


def find_row(rows: Iterable[Row], code: Any, level: str | None = None, **where: Any) -> int:
    """Index of the one row with this code (and level, and ``where`` column values); fails if not exactly one."""
    hits = [i for i, row in enumerate(rows) if _matches(row, code, level, where)]
    if len(hits) != 1:
        raise LookupError(f"{len(hits)} rows with code {code!r}, level {level!r}, {where}: name one row")
    return hits[0]


@dataclass(frozen=True)
class Table:
    """One block of a template as the generator writes it, optionally with the rows written into it."""

    template: str
    block_id: str
    rows: Iterable[Row] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", tuple(self.rows))
        _ = self.block  # an unknown template or block fails here, not at the first address

    @property
    def block(self) -> Block:
        return get_spec(self.template).block(self.block_id)

    @property
    def sheet(self) -> str:
        return self.block.sheet

    def with_rows(self, rows: Iterable[Row]) -> Table:
        """The same table holding other rows."""
        return Table(self.template, self.block_id, rows)

    def col(self, column_id: str) -> int:
        """0-based sheet column of a column id."""
        ids = self.block.column_ids
        if column_id not in ids:
            raise KeyError(f"{self.template}.{self.block_id} has no column {column_id!r} (columns: {ids})")
        return ids.index(column_id)

    def letter(self, column_id: str) -> str:
        return column_letter(self.col(column_id))

    def cell(self, column_id: str, row: int) -> str:
        """A1 address of data row ``row`` (0-based: the first row under the headers is 0)."""
        return a1(FIRST_DATA_ROW + row, self.col(column_id))

    def row(self, code: Any, level: str | None = None, **where: Any) -> int:
        """Data row index of the line with this key among the rows the table holds."""
        return find_row(self.rows, code, level, **where)

    def at(self, column_id: str, code: Any, level: str | None = None, **where: Any) -> str:
        """A1 address of a column in the line with this key (code, and level where codes repeat)."""
        return self.cell(column_id, self.row(code, level, **where))

    def header(self, column_id: str, *, english: bool = False) -> str:
        return a1(HEADER_EN_ROW if english else HEADER_TH_ROW, self.col(column_id))

    def headers(self, column_id: str) -> tuple[str, str]:
        """The Thai and the English header cell of a column."""
        return self.header(column_id), self.header(column_id, english=True)

    @property
    def origin(self) -> str:
        """The table's first header cell: where the reader reports a column it cannot find."""
        return a1(HEADER_TH_ROW, 0)

    def line(self, **values: Any) -> list[Any]:
        """A row laid out as the sheet's columns (for ``ws.append``): ``values`` by column id, blanks between,
        nothing after the last value given."""
        ids = self.block.column_ids
        unknown = set(values) - set(ids)
        if unknown:
            raise KeyError(f"{self.template}.{self.block_id} has no columns {sorted(unknown)}")
        last = max(ids.index(k) for k in values)
        return [values.get(c) for c in ids[: last + 1]]


def address(rb: ReadBlock, column_id: str, code: Any, level: str | None = None, **where: Any) -> str:
    """A1 address of a column in the line with this key, in a workbook read back."""
    return rb.address(find_row(rb.rows, code, level, **where), column_id)


@cache
def _meta_cells(template: str) -> dict[str, tuple[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        data = WorkbookData.parse({"template": template, "meta": {}, "blocks": {}})
        return read_workbook(write_workbook(data, Path(folder) / "blank.xlsx")).meta_cells


def meta_cell(field_id: str, template: str = "disbursement") -> str:
    """A1 address of a meta field's value on the information sheet, as the generator names it."""
    return _meta_cells(template)[field_id][1]
