"""What every rule sees: the read workbook, each block's evaluation, and the settings; and, for
cross-template rules, the set of templates validated together."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from ..model.columnar import BlockColumns, evaluate_columns
from ..model.evaluate import BlockCalc
from ..money import EXCEL, excel_round
from ..spec.base import ColType, Column, Value
from ..xlsx.read import ReadBlock, ReadWorkbook
from .config import Settings


@dataclass
class Context:
    workbook: ReadWorkbook
    settings: Settings
    previous: ReadWorkbook | None = None  # last quarter's workbook of the same template
    # each block's identity screen, kept by rules.arithmetic.screened_cells for the diagnosis to reuse
    screened: dict[str, list[tuple[int, Column, bool]]] = field(default_factory=dict, repr=False)

    def _evaluate(self, **options: Any) -> dict[str, BlockCalc]:
        structures = {bid: c.structure for bid, c in self.calcs.items()} if options else {}
        return {
            block_id: BlockCalc(rb.block, rb.rows, formula_cells=rb.formula_cells,
                                structure=structures.get(block_id), meta=self.workbook.meta, **options)
            for block_id, rb in self.workbook.blocks.items()
        }

    @cached_property
    def calcs(self) -> dict[str, BlockCalc]:
        """The cells as the workbook states them, computed cells as their formulas give them."""
        return self._evaluate()

    @cached_property
    def corrected(self) -> dict[str, BlockCalc]:
        """Every computable cell recomputed from the lowest level that carries a figure."""
        return self._evaluate(recompute=True)

    @cached_property
    def as_excel(self) -> dict[str, BlockCalc]:
        """The cells as Excel's binary arithmetic computes them (differs only at rounding ties)."""
        return self._evaluate(arith=EXCEL)

    @cached_property
    def columns(self) -> dict[str, BlockColumns | None]:
        """Each block's numeric columns evaluated at once in exact integers (None where they do not fit:
        that block's checks take the per-cell path)."""
        return {block_id: evaluate_columns(rb.block, rb.rows, rb.raw_columns, rb.formula_text,
                                           self.calcs[block_id].structure)
                for block_id, rb in self.workbook.blocks.items()}

    def blocks(self) -> list[tuple[ReadBlock, BlockCalc]]:
        return [(rb, self.calcs[bid]) for bid, rb in self.workbook.blocks.items()]

    def tolerance(self, column: Column) -> Decimal:
        tol = self.settings.tolerance
        if column.type is ColType.PERCENT:
            return tol.percent
        if column.type is ColType.COUNT:
            return tol.count
        return tol.money

    def differs(self, column: Column, stated: Value, expected: Value) -> bool:
        """True when a stated value disagrees with its computation beyond the column's tolerance."""
        if isinstance(stated, Decimal) and isinstance(expected, Decimal):
            if column.type is ColType.MONEY:
                stated, expected = excel_round(stated, 2), excel_round(expected, 2)
            return abs(stated - expected) > self.tolerance(column)
        return stated != expected


@dataclass
class WorkbookSet:
    """Templates validated together (one workbook holding several, or several files)."""

    contexts: list[Context]

    def get(self, template_id: str) -> Context | None:
        """The (first) context of a template, or None when it is not in the set."""
        return next((c for c in self.contexts if c.workbook.spec.id == template_id), None)

    def has(self, template_ids: tuple[str, ...]) -> bool:
        return all(self.get(t) is not None for t in template_ids)
