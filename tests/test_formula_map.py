"""A block's formula texts held by column read as the dict by (row, column id) they replace."""

from __future__ import annotations

import numpy as np

from osmep_xl.xlsx.formula_map import FormulaMap


def _map() -> FormulaMap:
    # sheet order: (row, column, text); row 2 column "b" is given twice, -1 marks a cell outside the block
    cells = [(0, 1, "B1"), (0, 0, "A1"), (2, 1, "old"), (-1, 0, "outside"), (1, 0, "A2"), (2, 1, "B3"),
             (3, -1, "no column")]
    rows, cols, texts = zip(*cells, strict=True)
    return FormulaMap.placed(4, ["a", "b", "c"], np.array(rows), np.array(cols), list(texts))


def test_reads_as_the_dict_it_replaces() -> None:
    fm = _map()
    expected = {(0, "a"): "A1", (0, "b"): "B1", (1, "a"): "A2", (2, "b"): "B3"}
    assert dict(fm) == expected and list(fm) == list(expected)  # row then column order
    cells = fm.keys()  # a block's formula_cells
    assert len(fm) == 4 and len(cells) == 4
    assert fm.get((2, "b")) == "B3" and fm.get((1, "b")) is None and fm.get((1, "c"), "x") == "x"
    assert (1, "a") in cells and (1, "b") not in cells and (0, "c") not in cells
    assert (-2, "b") not in fm and (4, "a") not in fm and fm.get((-4, "a")) is None  # no index from the end
    assert {(0, "a"), (3, "a")} & cells == {(0, "a")}
    assert fm.rows_of("a") == [0, 1] and fm.rows_of("b") == [0, 2] and fm.rows_of("c") == []
