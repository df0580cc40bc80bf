"""A block's formula texts held by column read as the dict by (row, column id) they replace."""

from __future__ import annotations

import random

import numpy as np
import pytest

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


def _placed_one_by_one(rows: int, column_ids: list[str], at_row: np.ndarray, at_column: np.ndarray,
                       texts: list[str]) -> dict[str, list[str | None]]:
    """Each text put in its place by a Python loop, in the order given (the placing numpy replaced)."""
    columns: dict[str, list[str | None]] = {}
    for r, c, text in zip(at_row.tolist(), at_column.tolist(), texts, strict=True):
        if r >= 0 and c >= 0:
            columns.setdefault(column_ids[c], [None] * rows)[r] = text
    return {cid: columns[cid] for cid in column_ids if cid in columns}


@pytest.mark.parametrize("seed", range(40))
def test_placed_by_numpy_as_one_by_one(seed: int) -> None:
    """Cells outside the block, columns without a formula, a cell given many times (the last text holds)."""
    rng = random.Random(seed)
    rows, column_ids = rng.randint(0, 30), [f"c{n}" for n in range(rng.randint(1, 8))]
    count = rng.randint(0, 3 * rows * len(column_ids) // 2 + 1)
    at_row = np.array([rng.randint(-1, rows - 1) for _ in range(count)], np.int64)
    at_column = np.array([rng.randint(-1, len(column_ids) - 1) for _ in range(count)], np.int64)
    texts = [f"t{j}" for j in range(count)]
    fm = FormulaMap.placed(rows, column_ids, at_row, at_column, texts)
    expected = _placed_one_by_one(rows, column_ids, at_row, at_column, texts)
    assert {cid: fm.column(cid) for cid in column_ids if fm.column(cid) is not None} == expected
    assert list(fm.keys()) == [(i, cid) for i in range(rows) for cid, cells in expected.items() if cells[i]]
