"""A typed total whose lines are all blank in its column: the total is the input there (no roll-up error), but
the user is told, since a figure left out of the only line under a parent looks exactly like this.

The published report itself gives some figures only as totals (the FY2562 central budget's disbursement, the
integrated plan's targets by sub-approach), so this is an information, not a warning: it names the blank
lines as the cells where a figure may be missing (``candidates``) and leaves the verdict to the user.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from ..findings import Finding
from .catalog import INFO, check, rule
from .context import Context

UNSUPPORTED = rule("rollup.unsupported", INFO, "ยอดรวมไม่มีรายการย่อยรองรับ: รายการย่อยว่างทั้งหมดในคอลัมน์นี้",
                   "a total with no figures below it: its lines are all blank in this column")
MAX_LISTED = 12  # blank lines named in one finding


@check(UNSUPPORTED)
def unsupported_totals(ctx: Context) -> Iterator[Finding]:
    """Each typed non-zero roll-up figure whose lines carry no figure in its column."""
    for rb, calc in ctx.blocks():
        for i, kids in calc.structure.children.items():
            if not kids:
                continue
            for col in rb.block.columns:
                if not col.rollup or col.id not in rb.columns or not calc.is_stated(i, col.id):
                    continue
                stated = rb.rows[i][col.id]
                # A typed 0 over blank lines is what the template's SUM shows there: no figure, nothing to say.
                if not isinstance(stated, Decimal) or stated == 0 or any(calc.cell(k, col.id).has_data for k in kids):
                    continue
                blank = tuple(f"{rb.sheet}!{rb.address(k, col.id)}" for k in kids[:MAX_LISTED])
                label = rb.rows[i].get("name") or rb.rows[i].get("code") or ""
                finding = UNSUPPORTED.at(
                    rb.sheet, rb.address(i, col.id), actual=stated,
                    th=f"{label} · {col.th} ระบุ {col.format(stated)} แต่รายการย่อย {len(kids)} รายการว่างทั้งหมด"
                       " ถูกต้องถ้ารายงานให้เฉพาะยอดรวม มิฉะนั้นตัวเลขของรายการย่อยหายไป",
                    en=f"{label} · {col.en} states {col.format(stated)} but its {len(kids)} line(s) below are all"
                       " blank: right if only the total is reported, otherwise a line's figure is missing")
                yield finding.model_copy(update={"candidates": blank})
