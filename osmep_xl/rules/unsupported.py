"""A typed total whose lines are all blank in its column: the total is the input there (no roll-up error), but
the user is told, since a figure left out of the only line under a parent looks exactly like this.

The published report itself gives some figures only as totals (the FY2562 central budget's disbursement, the
integrated plan's targets by sub-approach), so this is an information, not a warning: it names the blank
lines as the cells where a figure may be missing (``candidates``) and leaves the verdict to the user.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import numpy as np

from ..findings import Finding
from ..spec.base import Column
from ..xlsx.read import ReadBlock
from .catalog import INFO, check, rule
from .context import Context

UNSUPPORTED = rule("rollup.unsupported", INFO, "ยอดรวมไม่มีรายการย่อยรองรับ: รายการย่อยว่างทั้งหมดในคอลัมน์นี้",
                   "a total with no figures below it: its lines are all blank in this column")
MAX_LISTED = 12  # blank lines named in one finding


@check(UNSUPPORTED)
def unsupported_totals(ctx: Context) -> Iterator[Finding]:
    """Each typed non-zero roll-up figure whose lines carry no figure in its column."""
    for rb, calc in ctx.blocks():
        columns = [col for col in rb.block.columns if col.rollup and col.id in rb.columns]
        typed = _typed_parents(ctx, rb, columns)
        for i, kids in calc.structure.children.items():
            if not kids or (typed is not None and i not in typed):
                continue
            for col in columns:
                if not calc.is_stated(i, col.id):
                    continue
                stated = rb.rows.value(i, col.id)
                # A typed 0 over blank lines is what the template's SUM shows there: no figure, nothing to say.
                if not isinstance(stated, Decimal) or stated == 0 or any(calc.cell(k, col.id).has_data for k in kids):
                    continue
                blank = tuple(f"{rb.sheet}!{rb.address(k, col.id)}" for k in kids[:MAX_LISTED])
                label = rb.label(i)
                finding = UNSUPPORTED.at(
                    rb.sheet, rb.address(i, col.id), actual=stated,
                    th=f"{label} · {col.th} ระบุ {col.format(stated)} แต่รายการย่อย {len(kids)} รายการว่างทั้งหมด"
                       " ถูกต้องถ้ารายงานให้เฉพาะยอดรวม มิฉะนั้นตัวเลขของรายการย่อยหายไป",
                    en=f"{label} · {col.en} states {col.format(stated)} but its {len(kids)} line(s) below are all"
                       " blank: right if only the total is reported, otherwise a line's figure is missing")
                yield finding.model_copy(update={"candidates": blank})


def _typed_parents(ctx: Context, rb: ReadBlock, columns: list[Column]) -> set[int] | None:
    """The parents with a typed figure in a roll-up column, from the block's columns (on a clean sheet every
    parent holds its SUM: none, and no parent is looked at one by one); None where the block is not
    evaluated in columns."""
    evaluated = ctx.columns.get(rb.block.id)
    if evaluated is None or any(col.id not in evaluated.columns for col in columns):
        return None
    typed: set[int] = set()
    for col in columns:  # a roll-up column is computable exactly where a row has lines
        typed.update(np.flatnonzero(evaluated.columns[col.id].stated & evaluated.computable[col.id]).tolist())
    return typed
