"""Identities, roll-ups and cross-table links: every stated figure against its computation."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import numpy as np

from ..findings import Finding
from ..model.columnar import MAX_STATED, SCALE
from ..model.evaluate import BlockCalc
from ..spec.base import ColType, Column
from ..xlsx.read import ReadBlock
from .catalog import INFO, RULES, E, W, check, rule
from .context import Context

SUM = rule("identity.sum", E, "ยอดรวมไม่เท่ากับผลบวกของรายการ (เช่น เบิกจ่าย + ผูกพัน)",
           "a stated total differs from the sum of its terms (e.g. disbursed + committed)")
DIFFERENCE = rule("identity.difference", E, "ผลต่างไม่ตรงกับตัวเลขที่ใช้คำนวณ (เช่น คงเหลือ = งบประมาณ - ยอดรวม)",
                  "a stated difference differs from its terms (e.g. remaining = allocated - total)")
PERCENT = rule("identity.percent", E, "ร้อยละไม่ตรงกับอัตราส่วนของจำนวนเงิน (ปัดแบบ Excel ROUND)",
               "a stated percentage differs from its amounts' ratio rounded as Excel's ROUND")
ACHIEVEMENT = rule("kpi.achievement", E, "ร้อยละของเป้าหมายไม่ตรงกับผล/เป้าหมาย",
                   "KPI achievement differs from result / target")
STATUS = rule("kpi.status", E, "สถานะตัวชี้วัดไม่ตรงกับผลเทียบเป้าหมาย", "KPI status differs from result against target")
ROLLUP = rule("rollup.sum", E, "ยอดรวมของระดับบนไม่เท่ากับผลรวมของรายการย่อย",
              "a stated total differs from the sum of its lines")
LINK = rule("link.mismatch", E, "ตัวเลขเดียวกันในสองตารางไม่ตรงกัน", "the same figure differs between two tables")
OVERWRITTEN = rule("formula.overwritten", INFO, "ช่องที่ควรเป็นสูตรถูกพิมพ์ตัวเลขทับ",
                   "a derived cell holds a typed value, not its formula")
STALE = rule("formula.stale", W, "ค่าที่คำนวณไว้ของสูตรไม่เป็นปัจจุบัน", "a formula's cached value is out of date")


@check(SUM, DIFFERENCE, PERCENT, ACHIEVEMENT, STATUS, ROLLUP, OVERWRITTEN, STALE)
def identity_findings(ctx: Context) -> Iterator[Finding]:
    """Each stated derived or roll-up cell equals what its formula gives from the cells it uses."""
    for rb, calc in ctx.blocks():
        for i, col, agrees in screened_cells(ctx, rb, calc):
            yield from _cell_identity(ctx, rb, calc, i, col, agrees=agrees)


def screened_cells(ctx: Context, rb: ReadBlock, calc: BlockCalc) -> list[tuple[int, Column, bool]]:
    """The computable cells of a block that may have a finding, in row then column order, each with whether it
    is stated and known to agree with its computation; every computable cell where the block is not
    evaluated in columns. Computed once per block and context."""
    if rb.block.id in ctx.screened:
        return ctx.screened[rb.block.id]
    checked = [col for col in rb.block.columns if col.id in rb.columns and (col.derived or col.rollup) and not (
        # an input column is missing (reported once as structure.column_missing)
        col.formula is not None and any(dep not in rb.columns for dep in col.formula.inputs))]
    cells = _screen(ctx, rb, checked)
    if cells is None:  # the per-cell path: every computable cell
        cells = [(i, col, False) for i in range(len(rb.rows)) for col in checked if calc.is_computable(i, col)]
    ctx.screened[rb.block.id] = cells
    return cells


def _screen(ctx: Context, rb: ReadBlock, checked: list[Column]) -> list[tuple[int, Column, bool]] | None:
    """The cells that may have a finding, in row then column order, each with whether the columnar
    evaluation already shows it agrees with its computation; None when the block is not evaluated in
    columns (a figure or formula that does not fit: every cell takes the per-cell path)."""
    evaluated = ctx.columns.get(rb.block.id)
    if evaluated is None or any(col.id not in evaluated.columns for col in checked):
        return None
    found: list[tuple[int, int, Column, bool]] = []
    for n, col in enumerate(checked):
        c, computable = evaluated.columns[col.id], evaluated.computable[col.id]
        allowed = _allowed_hundredths(ctx.tolerance(col))
        agrees = c.computed_known & (np.abs(c.hundredths - c.computed) <= allowed)
        formula = computable & c.formula & c.typed & c.computed_known
        if col.type is ColType.MONEY:  # a cached amount is compared at two decimals (see the module)
            with np.errstate(invalid="ignore"):
                fresh = (np.abs(c.stored * SCALE - c.computed) < MONEY_SLACK) & (np.abs(c.stored) < MAX_STATED)
        else:
            fresh = c.exact & agrees
        for i in np.flatnonzero(formula & ~fresh).tolist():
            found.append((i, n, col, False))
        stated = computable & c.stated
        for i, ok in zip(np.flatnonzero(stated).tolist(), agrees[stated].tolist(), strict=True):
            found.append((i, n, col, ok))
    found.sort(key=lambda cell: (cell[0], cell[1]))
    return [(i, col, ok) for i, _, col, ok in found]


MONEY_SLACK = 0.3  # hundredths: a cached double this near its computation rounds to it at two decimals


def _allowed_hundredths(tolerance: Decimal) -> int:
    """The largest whole difference in hundredths within ``tolerance``."""
    return int((tolerance * SCALE).to_integral_value(rounding=ROUND_FLOOR))


def _cell_identity(ctx: Context, rb: ReadBlock, calc: BlockCalc, i: int, col: Column, *,
                   agrees: bool) -> Iterator[Finding]:
    """The findings of one computable cell; ``agrees``: it is stated and known to equal its computation."""
    row = rb.rows[i]
    cell = rb.address(i, col.id)
    if (i, col.id) in rb.formula_cells:
        cached = row.get(col.id)
        fresh = calc.expected(i, col.id)
        if cached is not None and fresh.value is not None and ctx.differs(col, cached, fresh.value):
            yield STALE.at(rb.sheet, cell, expected=fresh.value, actual=cached, th=col.th, en=col.en)
        return
    if not calc.is_stated(i, col.id):
        return
    stated = row[col.id]
    yield OVERWRITTEN.at(rb.sheet, cell, th=col.th, en=col.en)
    if agrees:
        return
    exp = calc.expected(i, col.id)
    if not exp.has_data or not ctx.differs(col, stated, exp.value):
        return
    # A figure that agrees with the corrected inputs is right; the wrong input is
    # reported at its own cell. This keeps one typo from cascading up the table.
    # What Excel itself shows (binary arithmetic at a rounding tie) is right too.
    fixed = ctx.corrected[rb.block.id].expected(i, col.id)
    others = (fixed, ctx.as_excel[rb.block.id].expected(i, col.id))
    if any(o.has_data and not ctx.differs(col, stated, o.value) for o in others):
        return
    broken = RULES[col.formula.rule] if col.formula else ROLLUP
    label = row.get("name") or row.get("code") or ""
    # What the figure should be is what it computes to once the cells it uses are corrected too;
    # when that differs from the cells as stated, those cells are inconsistent themselves: say so.
    should, th, en = exp.value, "", ""
    if fixed.has_data and fixed.value is not None and ctx.differs(col, fixed.value, exp.value):
        should, given = fixed.value, col.format(exp.value)
        used_th, used_en = ("รายการย่อย", "lines below") if col.formula is None else ("ตัวเลขที่ใช้คำนวณ",
                                                                                 "figures it uses")
        th = f" (เมื่อแก้{used_th}แล้ว; {used_th}ตามที่ระบุให้ {given} แต่ก็ไม่ตรงกันเอง)"
        en = f" (with the {used_en} corrected; as stated they give {given} but are inconsistent themselves)"
    shown = col.format(should)
    yield broken.at(rb.sheet, cell, expected=should, actual=stated,
                    th=f"{label} · {col.th} ระบุ {col.format(stated)} คำนวณได้ {shown}{th}",
                    en=f"{label} · {col.en} states {col.format(stated)}, computes to {shown}{en}")


def _keyed(ctx: Context, block_id: str, keys: list[str], levels: tuple[str, ...]) -> dict[tuple[Any, ...], int]:
    rb = ctx.workbook.blocks[block_id]
    return {
        tuple(row.get(k) for k in keys): i
        for i, row in enumerate(rb.rows)
        if not levels or row.get("level") in levels
    }


def _children_linked(rb: ReadBlock, calc: BlockCalc, i: int, levels: tuple[str, ...]) -> bool:
    children = calc.structure.children.get(i, [])
    return bool(children) and all(rb.rows[c].get("level") in levels for c in children)


@check(LINK)
def link_findings(ctx: Context) -> Iterator[Finding]:
    """The same figure in two tables agrees (e.g. an approach's budget and its allocation)."""
    for link in ctx.workbook.spec.links:
        if link.left_block not in ctx.workbook.blocks or link.right_block not in ctx.workbook.blocks:
            continue
        left, right = ctx.workbook.blocks[link.left_block], ctx.workbook.blocks[link.right_block]
        if link.left_column not in left.columns or link.right_column not in right.columns:
            continue  # structure.column_missing says so
        lcalc, rcalc = ctx.calcs[link.left_block], ctx.calcs[link.right_block]
        keys = [k for k in left.block.key_columns if k in right.block.key_columns]
        rkeys = _keyed(ctx, link.right_block, keys, link.levels)
        lfix, rfix = ctx.corrected[link.left_block], ctx.corrected[link.right_block]
        column = right.block.column(link.right_column)
        for key, li in _keyed(ctx, link.left_block, keys, link.levels).items():
            ri = rkeys.get(key)
            if ri is None:
                continue
            lv, rv = lcalc.cell(li, link.left_column), rcalc.cell(ri, link.right_column)
            if not (lv.has_data and rv.has_data) or not ctx.differs(column, rv.value, lv.value):
                continue
            if not (lv.stated or rv.stated) and _children_linked(left, lcalc, li, link.levels):
                continue  # both sides are sums of linked rows: the difference is reported there
            if not ctx.differs(column, rfix.cell(ri, link.right_column).value,
                               lfix.cell(li, link.left_column).value):
                continue
            # Report at the stated figure: the right-hand one unless only the left was typed.
            at_left = lv.stated and not rv.stated
            rb, i, col_id = (left, li, link.left_column) if at_left else (right, ri, link.right_column)
            expected, actual = (rv.value, lv.value) if at_left else (lv.value, rv.value)
            other = right if at_left else left
            label = rb.label(i)
            yield LINK.at(rb.sheet, rb.address(i, col_id), expected=expected, actual=actual,
                          th=f"{label}: {column.format(actual)} แต่ชีต {other.sheet} ระบุ {column.format(expected)}",
                          en=f"{label}: {column.format(actual)} but sheet {other.sheet} has {column.format(expected)}")
