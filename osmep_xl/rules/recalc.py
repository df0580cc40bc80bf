"""Recalculate: every derived and roll-up cell gets its formula back and the value
Excel would compute; each stated figure that changes is reported."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ..findings import Finding
from ..model.evaluate import BlockCalc
from ..money import EXCEL, excel_round
from ..spec.base import ColType, Column, Value
from ..xlsx.coerce import CellProblem
from ..xlsx.formulas import cell_formula, is_current
from ..xlsx.read import ReadWorkbook
from .catalog import INFO, RULES, rule
from .recalc_screen import screen

CHANGED = rule("recalc.changed", INFO, "ค่าที่คำนวณใหม่ต่างจากค่าเดิม", "recalculation changed a stated value")


@dataclass(frozen=True)
class CellEdit:
    """A cell to write: a formula (text without '=') with its cached value, or a constant."""

    sheet: str
    cell: str
    value: Value
    formula: str | None = None


def _same(column: Column, a: Value, b: Value) -> bool:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        if column.type is ColType.MONEY:
            return excel_round(a, 2) == excel_round(b, 2)
        return a == b
    return (a or None) == (b or None)


def plan_recalc(workbook: ReadWorkbook) -> tuple[list[CellEdit], list[Finding]]:
    """Cell edits that restore every formula, and an info finding per stated value that changes. Only the
    cells :func:`.recalc_screen.screen` cannot show unchanged are evaluated one by one."""
    edits: list[CellEdit] = []
    changes: list[Finding] = []
    for rb in workbook.blocks.values():
        calc = BlockCalc(rb.block, rb.rows, formula_cells=rb.formula_cells, recompute=True, meta=workbook.meta)
        screened = screen(rb, calc)
        # A roll-up's lines that are roll-ups themselves come from the columns (Excel's doubles, computed
        # there in the same order): a total's value costs its own lines, not every line below it.
        excel = BlockCalc(rb.block, rb.rows, formula_cells=rb.formula_cells, recompute=True, arith=EXCEL,
                          structure=calc.structure, meta=workbook.meta, rolled_up=screened.rolled_up)
        # Columns whose input column is missing are left out: no formula can be written (validation says why).
        for i, col in screened.cells:
            row = rb.rows[i]
            shown = excel.cell(i, col.id)  # what Excel would store after recalculating
            if shown.stated:  # nothing below carries this figure: it stays the input here
                continue
            cached, old = shown.value, row.get(col.id)
            if is_current(col, calc, i, rb.address, rb.formula_text.get((i, col.id))) and _same(col, old, cached):
                continue  # already a right formula with a fresh value: leave the cell (and its sheet) alone
            cell = rb.address(i, col.id)
            formula = cell_formula(col, calc, i, rb.address)
            edits.append(CellEdit(rb.sheet, cell, cached, formula))
            if (i, col.id) in rb.formula_cells or old is None or _same(col, old, cached):
                continue
            # The exact value only for a typed figure that is replaced (whether a figure is input or derived
            # does not depend on the arithmetic, so Excel's decides it for both): a total's exact sum evaluates
            # every roll-up below it a second time.
            new = calc.cell(i, col.id)
            if not _same(col, old, new.value):
                label = row.get("name") or row.get("code") or ""
                changes.append(CHANGED.at(rb.sheet, cell, expected=new.value, actual=old,
                                       th=f"{label} · {col.th}", en=f"{label} · {col.en}"))
    return edits, changes


TEXT_NUMBERS = (CellProblem.NUMBER_AS_TEXT, CellProblem.THAI_DIGITS, CellProblem.FORMATTED_NUMBER_TEXT)


def text_numbers(workbooks: Iterable[ReadWorkbook], edits: Iterable[CellEdit]) -> list[Finding]:
    """A warning per number still stored as text once ``edits`` are written: recalculation rewrites derived
    cells only, and Excel's SUM skips text, so such a figure is left out of the totals above it."""
    written = {(e.sheet, e.cell) for e in edits}
    out: list[Finding] = []
    for workbook in workbooks:
        for rb in workbook.blocks.values():
            for (i, column_id), problem in sorted(rb.problems.items()):
                cell = rb.address(i, column_id)
                if problem not in TEXT_NUMBERS or (rb.sheet, cell) in written:
                    continue
                col = rb.block.column(column_id)
                raw = rb.raw_cell(i, column_id)
                out.append(RULES[problem].at(
                    rb.sheet, cell, expected=rb.rows[i].get(column_id), actual=str(raw),
                    th=f"{col.th} — ยังเป็นข้อความหลังคำนวณใหม่ SUM ของ Excel ไม่นับ ให้แปลงเป็นตัวเลข",
                    en=f"{col.en}: still text after recalc; Excel's SUM skips text, convert it to a number"))
    return out


def plan_recalc_all(workbooks: Iterable[ReadWorkbook]) -> tuple[list[CellEdit], list[Finding]]:
    """:func:`plan_recalc` over every template a workbook holds."""
    edits: list[CellEdit] = []
    changes: list[Finding] = []
    for workbook in workbooks:
        more_edits, more_changes = plan_recalc(workbook)
        edits += more_edits
        changes += more_changes
    return edits, changes
