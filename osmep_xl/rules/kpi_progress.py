"""KPI progress: a KPI behind what its type expects at the report's quarter, or above its target.

What "behind" means depends on the KPI's type (``spec/kpi.py``): a cumulative count is pro-rated over the
year (or follows its quarterly plan when one is given); a milestone follows its quarterly plan; a rate or a
score is judged on its value, never pro-rated; an annual-only KPI is not judged before Q4.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

from ..findings import Finding
from ..kpi_text import LOWER_IS_BETTER
from ..money import excel_round
from ..spec.kpi import ANNUAL, CUMULATIVE, MILESTONE
from .catalog import INFO, W, check, rule
from .context import Context
from .quarters import workbook_quarter

KPI_BEHIND = rule("variance.kpi_behind", W, "ผลตัวชี้วัดต่ำกว่าที่ควรได้ ณ ไตรมาสนี้ตามประเภทตัวชี้วัด",
                  "KPI result behind what its type expects at the quarter")
KPI_OVER = rule("variance.kpi_over", INFO, "ผลตัวชี้วัดสูงกว่าเป้าหมาย", "KPI result above target (over-achievement)")
KPI_ANNUAL = rule("variance.kpi_annual", INFO, "ตัวชี้วัดรายปี: ยังไม่ประเมินว่าต่ำกว่าเป้าหมายก่อนไตรมาส 4",
                  "annual-only KPI: not judged behind target before Q4")

Expectation = tuple[Decimal, Decimal, str, str]  # (expected, flagged below, how in Thai, how in English)


def expectation(kind: str, target: Decimal, plan: Decimal | None, quarter: int, tolerance: Decimal,
                show: Callable[[Decimal], str] = str) -> Expectation | None:
    """What a KPI of ``kind`` should have reached by ``quarter`` (more is better), and the level below which it
    is behind; None when its type is not judged at this quarter (a milestone without a plan for it, an
    annual-only KPI before Q4)."""
    if kind == CUMULATIVE:
        if plan is not None:
            return (plan, plan * (1 - tolerance), f"แผนสะสมไตรมาส {quarter} {show(plan)}",
                    f"the Q{quarter} plan {show(plan)}")
        expected = excel_round(target * quarter / 4, 2)
        return (expected, expected * (1 - tolerance), f"{quarter}/4 ของ {show(target)}",
                f"{quarter}/4 of {show(target)}")
    if kind == MILESTONE:
        if plan is not None:
            return plan, plan, f"แผนไตรมาส {quarter} {show(plan)}", f"the Q{quarter} plan {show(plan)}"
        if quarter < 4:
            return None
    if kind == ANNUAL and quarter < 4:
        return None
    # A rate, a score, a milestone at year end, an annual KPI at Q4: the value itself against the target.
    return target, target, f"เป้าหมาย {show(target)} (ไม่เฉลี่ยตามไตรมาส)", f"the target {show(target)} (not pro-rated)"


@check(KPI_BEHIND, KPI_OVER, KPI_ANNUAL)
def kpi_findings(ctx: Context) -> Iterator[Finding]:
    quarter = workbook_quarter(ctx.workbook.meta)
    tol = ctx.settings.kpi.behind_tolerance
    for rb, calc in ctx.blocks():
        roles = rb.block.kpi
        if roles is None or not {roles.result, roles.target, roles.direction} <= set(rb.columns):
            continue
        for i, row in enumerate(rb.rows):
            result, target = calc.cell(i, roles.result).value, calc.cell(i, roles.target).value
            if not isinstance(target, Decimal):
                continue
            cell = rb.address(i, roles.result)
            name = row.get("name") or row.get("code")
            fmt = rb.block.column(roles.result).format
            kind = str(row.get(roles.kind) or CUMULATIVE) if roles.kind else CUMULATIVE
            if kind == ANNUAL and quarter is not None and quarter < 4:
                yield KPI_ANNUAL.at(rb.sheet, cell, th=f"{name} (ไตรมาส {quarter})", en=f"{name} (Q{quarter})")
            if not isinstance(result, Decimal):
                continue
            lower_better = row.get(roles.direction) == LOWER_IS_BETTER
            high = row.get(roles.target_high)
            ceiling = high if isinstance(high, Decimal) else target
            if (result < target) if lower_better else (result > ceiling):
                yield KPI_OVER.at(rb.sheet, cell, expected=ceiling, actual=result,
                                  th=f"{name}: ผล {fmt(result)} เป้าหมาย {fmt(ceiling)}",
                                  en=f"{name}: result {fmt(result)} vs target {fmt(ceiling)}")
            if quarter is None:
                continue
            plan = row.get(roles.plans[quarter - 1]) if roles.plans else None
            if lower_better:
                # Less is better: only a value judged as such (not a count pro-rated up) can be behind.
                if kind == CUMULATIVE or (kind == ANNUAL and quarter < 4) or result <= target:
                    continue
                yield KPI_BEHIND.at(rb.sheet, cell, expected=target, actual=result,
                                    th=f"{name} ({kind}): ผล {fmt(result)} เกินเป้าหมาย {fmt(target)}",
                                    en=f"{name} ({kind}): result {fmt(result)} above the ceiling {fmt(target)}")
                continue
            expected = expectation(kind, target, plan if isinstance(plan, Decimal) else None, quarter, tol, fmt)
            if expected is None or result >= expected[1]:
                continue
            level, _, how_th, how_en = expected
            yield KPI_BEHIND.at(
                rb.sheet, cell, expected=level, actual=result,
                th=f"{name} ({kind}): ณ ไตรมาส {quarter} ควรได้ {fmt(level)} ({how_th}) ได้ {fmt(result)}",
                en=f"{name} ({kind}): by Q{quarter} expected {fmt(level)} ({how_en}), got {fmt(result)}")
