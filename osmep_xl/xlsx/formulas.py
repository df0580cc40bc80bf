"""The Excel formula of a derived or roll-up cell, wherever the block sits in the sheet."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

from ..a1 import parse_a1
from ..model.evaluate import BlockCalc
from ..spec.base import META_PREFIX, Column
from .layout import meta_name

Address = Callable[[int, str], str]  # (row index in block, column id) -> A1
SUM_ARGS = 200  # Excel's SUM takes at most 255 arguments


def sum_formula(addresses: list[str]) -> str:
    """SUM of cells in one column, runs of consecutive rows folded into ranges."""
    cells = sorted((*parse_a1(a), a) for a in addresses)
    parts: list[str] = []
    run: list[tuple[int, int, str]] = []
    for cell in cells:
        if run and (cell[1] != run[-1][1] or cell[0] != run[-1][0] + 1):
            parts.append(run[0][2] if len(run) == 1 else f"{run[0][2]}:{run[-1][2]}")
            run = []
        run.append(cell)
    if run:
        parts.append(run[0][2] if len(run) == 1 else f"{run[0][2]}:{run[-1][2]}")
    chunks = [parts[i:i + SUM_ARGS] for i in range(0, len(parts), SUM_ARGS)]
    return "+".join(f"SUM({','.join(chunk)})" for chunk in chunks)


def cell_formula(column: Column, calc: BlockCalc, i: int, address: Address) -> str:
    """Formula text (no '=') of row ``i``'s cell in ``column``; it must be computable."""
    if column.formula is not None:
        return column.formula.excel(
            lambda c: meta_name(c[len(META_PREFIX):]) if c.startswith(META_PREFIX) else address(i, c))
    return sum_formula([address(child, column.id) for child in calc.structure.children[i]])


def row_cells(calc: BlockCalc, i: int, address: Address,
              columns: Collection[str] | None = None) -> Iterator[tuple[Column, str | None, bool]]:
    """Row ``i``'s cells as every template lays them out (the generator and the fill button alike): each
    column (of ``columns`` when given) with its formula (text without '=', None when it has none) and
    whether the formula is written (True) or the figure the data gives (False)."""
    for col in calc.block.columns:
        if columns is not None and col.id not in columns:
            continue
        if not calc.is_computable(i, col):
            yield col, None, False
        else:
            yield col, cell_formula(col, calc, i, address), not calc.is_stated(i, col.id)
