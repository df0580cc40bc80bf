"""Rules on single cells: types, blanks, negatives, Excel errors, values outside their lists."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..findings import Finding
from ..model.evaluate import BlockCalc
from ..spec.base import Column
from ..xlsx.coerce import CellProblem
from ..xlsx.read import ReadBlock
from .catalog import RULES, E, W, check, rule
from .context import Context

REQUIRED_BLANK = rule("cell.required_blank", E, "ช่องที่ต้องกรอกว่าง", "a required cell is blank")
NUMBER_AS_TEXT = rule(CellProblem.NUMBER_AS_TEXT, W, "ตัวเลขถูกเก็บเป็นข้อความ", "a number is stored as text")
THAI_DIGITS = rule(CellProblem.THAI_DIGITS, W, "ตัวเลขเขียนด้วยเลขไทย (เก็บเป็นข้อความ)",
                   "a number written in Thai digits (stored as text)")
FORMATTED_NUMBER_TEXT = rule(CellProblem.FORMATTED_NUMBER_TEXT, W,
                             "ตัวเลขมีเครื่องหมายคั่นหรือคำว่า 'บาท' (เก็บเป็นข้อความ)",
                             "a number typed with separators or a unit such as 'บาท' (stored as text)")
NOT_A_NUMBER = rule(CellProblem.NOT_A_NUMBER, E, "ช่องตัวเลขมีข้อความที่ไม่ใช่ตัวเลข",
                    "a number cell holds text that is not a number")
ERROR_VALUE = rule(CellProblem.ERROR_VALUE, E, "ช่องมีค่าผิดพลาดของ Excel (#DIV/0!, #REF! ...)",
                   "a cell holds an Excel error value")
NEGATIVE = rule(CellProblem.NEGATIVE, E, "จำนวนเงินหรือจำนวนนับติดลบ", "a negative amount or count")
INVALID_YEAR = rule(CellProblem.INVALID_YEAR, E, "ปีงบประมาณต้องเป็นปี พ.ศ. เช่น 2564 (ไม่ใช่ ค.ศ.)",
                    "a fiscal year must be a Buddhist Era year such as 2564 (not CE)")
INVALID_CHOICE = rule("cell.invalid_choice", E, "ค่าไม่อยู่ในรายการที่กำหนด", "a value outside its list")


def _shown(raw: object) -> str | None:
    """A raw cell value as the user sees it (2021, not 2021.0)."""
    if raw is None:
        return None
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    return str(raw)


def _inherited_error(rb: ReadBlock, calc: BlockCalc, i: int, col: Column) -> bool:
    """True when a formula cell shows an error only because a cell it uses does."""
    if (i, col.id) not in rb.formula_cells:
        return False
    if col.formula is not None:
        inputs = [(i, dep) for dep in col.formula.inputs]
    else:
        inputs = [(child, col.id) for child in calc.structure.children.get(i, [])]
    return any(rb.problems.get(key) is CellProblem.ERROR_VALUE for key in inputs)


def _cells_to_check(rb: ReadBlock) -> list[tuple[int, Column]]:
    """The cells that may have a finding, in row then column order: a cell with a problem, a blank required
    one, one whose value is outside its list. A column at a time, each distinct value judged once; a required
    column without a list only by where it is blank (no value made)."""
    present = [col for col in rb.block.columns if col.id in rb.columns]
    order = {col.id: n for n, col in enumerate(present)}
    found = {(i, order[cid]) for i, cid in rb.problems if cid in order}
    for n, col in enumerate(present):
        if not col.choices:
            if col.required:
                found.update((i, n) for i in np.flatnonzero(~rb.rows.known(col.id)).tolist())
            continue
        values = rb.rows.column(col.id)
        flagged = {v for v in set(values) if (v is None and col.required)
                   or (v is not None and col.choices and str(v) not in col.choices)}
        if flagged:
            found.update((i, n) for i, v in enumerate(values) if v in flagged)
    return [(i, present[n]) for i, n in sorted(found)]


@check(REQUIRED_BLANK, NUMBER_AS_TEXT, THAI_DIGITS, FORMATTED_NUMBER_TEXT, NOT_A_NUMBER, ERROR_VALUE, NEGATIVE,
       INVALID_YEAR, INVALID_CHOICE)
def cell_findings(ctx: Context) -> Iterator[Finding]:
    for rb, calc in ctx.blocks():
        for i, col in _cells_to_check(rb):
            problem = rb.problems.get((i, col.id))
            value = rb.rows.value(i, col.id)
            cell = rb.address(i, col.id)
            raw = rb.raw_cell(i, col.id)
            if problem is CellProblem.NEGATIVE and (col.derived or (i, col.id) in rb.formula_cells):
                continue  # a computed negative (overspending) is a variance, not a bad cell
            if problem is CellProblem.ERROR_VALUE and _inherited_error(rb, calc, i, col):
                continue  # reported once, where the error starts
            if problem:
                negative = problem is CellProblem.NEGATIVE
                yield RULES[problem].at(rb.sheet, cell, actual=value if negative else _shown(raw),
                                        expected=None if negative else value, th=col.th, en=col.en)
                continue
            if value is None and col.required and not calc.is_computable(i, col):
                yield REQUIRED_BLANK.at(rb.sheet, cell, th=col.th, en=col.en)
            elif value is not None and col.choices and str(value) not in col.choices:
                yield INVALID_CHOICE.at(rb.sheet, cell, expected=" | ".join(col.choices), actual=str(value),
                                        th=col.th, en=col.en)
