"""A block read from a sheet's grid: blank rows dropped wherever they are, short lines read as blanks past
their end, each cell in its column whatever the line's length."""

from __future__ import annotations

from typing import Any

from osmep_xl.spec import get_spec
from osmep_xl.xlsx.layout import HEADER_TH_ROW
from osmep_xl.xlsx.package import SheetCells
from osmep_xl.xlsx.read import StructureProblem, _read_block

BLOCK = get_spec("disbursement").blocks[0]
WIDTH = len(BLOCK.columns)


def _grid(lines: list[list[Any]]) -> list[list[Any]]:
    top = [[None] * WIDTH for _ in range(HEADER_TH_ROW)]
    return [*top, [c.th for c in BLOCK.columns], [c.en for c in BLOCK.columns], *lines]


def _read(lines: list[list[Any]]) -> Any:
    structure: list[StructureProblem] = []
    rb = _read_block(BLOCK, _grid(lines), {}, SheetCells(), structure)
    assert structure == []
    return rb


def test_blank_rows_are_dropped_and_short_lines_read_as_blanks() -> None:
    first, second = BLOCK.columns[0].id, BLOCK.columns[1].id
    full = [f"v{n}" for n in range(WIDTH)]
    lines: list[list[Any]] = [
        full,
        [None] * WIDTH,                       # blank: dropped
        ["", None, *([""] * (WIDTH - 2))],     # blank too ("" is a blank cell)
        [None] * (WIDTH - 1) + ["last"],       # not blank: its last cell only
        ["short", "line"],                     # a line ending early: the rest are blanks
        [],                                    # an empty line: blank
    ]
    rb = _read(lines)
    start = HEADER_TH_ROW + 2
    assert rb.sheet_rows == [start, start + 3, start + 4]
    assert rb.raw[0] == dict(zip(BLOCK.column_ids, full, strict=True))
    assert rb.raw[1][BLOCK.columns[-1].id] == "last" and rb.raw[1][first] is None
    assert rb.raw[2][first] == "short" and rb.raw[2][second] == "line"
    assert all(rb.raw[2][c.id] is None for c in BLOCK.columns[2:])


def test_a_block_with_every_line_full_width_reads_every_cell_in_its_column() -> None:
    lines = [[f"r{r}c{c}" for c in range(WIDTH)] for r in range(5)]
    rb = _read(lines)
    assert [[row[cid] for cid in BLOCK.column_ids] for row in rb.raw] == lines
