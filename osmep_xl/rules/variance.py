"""Variance flags (KPI progress: kpi_progress.py): disbursement
behind the government's quarterly targets, and cumulative figures that went down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ..findings import Finding
from ..money import percent
from ..xlsx.coerce import CellProblem
from ..xlsx.dashboard import TargetLookup
from .catalog import W, check, rule
from .config import DisbursementSettings, Settings
from .context import Context
from .quarters import as_of_year, quarter_reached

BASIS_TEXT = {
    "disbursed_committed": ("เบิกจ่าย+ผูกพัน", "disbursed + committed"),
    "disbursed": ("เบิกจ่ายจริง", "disbursed only"),
}
KIND_TEXT = {"overall": ("ภาพรวม", "overall"), "recurrent": ("รายจ่ายประจำ", "recurrent"),
             "investment": ("รายจ่ายลงทุน", "investment")}


DISBURSEMENT_BEHIND = rule("variance.disbursement_behind", W, "การเบิกจ่ายต่ำกว่าเป้าหมายการเบิกจ่ายรายไตรมาสของรัฐบาล",
                           "disbursement behind the government's quarterly target")
OVERSPENT = rule("variance.overspent", W, "ยอดเบิกจ่ายรวมผูกพันเกินงบประมาณ (คงเหลือติดลบ)",
                 "disbursed + committed exceeds the allocation (negative remaining)")
DECREASED = rule("variance.decreased", W, "ตัวเลขสะสมลดลงจากไตรมาสก่อน",
                 "a cumulative figure went down since the previous quarter")


def _as_of(ctx: Context) -> tuple[dt.date, int] | None:
    return as_of_year(ctx.workbook.meta)  # None: meta.invalid / meta.required say why


@check(DISBURSEMENT_BEHIND, OVERSPENT)
def disbursement_findings(ctx: Context) -> Iterator[Finding]:
    when = _as_of(ctx)
    if when is None:
        return
    as_of, meta_year = when
    cfg = ctx.settings.disbursement
    basis_th, basis_en = BASIS_TEXT[cfg.basis]
    kind_th, kind_en = KIND_TEXT[cfg.kind]
    for rb, calc in ctx.blocks():
        roles = rb.block.spending
        if roles is None or not {roles.budget, roles.disbursed, roles.committed} <= set(rb.columns):
            continue
        pct_column = roles.pct_total if cfg.basis == "disbursed_committed" else roles.pct_disbursed
        inputs = (roles.budget, roles.disbursed, roles.committed)
        money = rb.block.column(roles.budget).format
        for i, row in enumerate(rb.rows):
            budget = calc.cell(i, roles.budget).value
            total = calc.cell(i, roles.total).value if roles.total in rb.columns else None
            if any(rb.problems.get((i, c)) is CellProblem.ERROR_VALUE for c in inputs):
                continue  # the sheet shows an error here; cell.error_value says so
            if isinstance(budget, Decimal) and isinstance(total, Decimal) and total > budget:
                name = row.get("name") or row.get("code")
                at = roles.remaining if roles.remaining in rb.columns else roles.budget
                yield OVERSPENT.at(rb.sheet, rb.address(i, at), expected=budget, actual=total,
                                   th=f"{name}: ยอดรวม {money(total)} เกินงบประมาณ {money(budget)}",
                                   en=f"{name}: total {money(total)} exceeds the budget {money(budget)}")
            if row.get("level") not in cfg.levels:
                continue
            fy = row.get("fiscal_year") or meta_year
            gap = disbursement_gap(cfg, fy, as_of, budget, calc.cell(i, roles.disbursed).value,
                                   calc.cell(i, roles.committed).value)
            if gap is None:
                continue
            quarter, actual, target = gap
            cell = rb.address(i, pct_column if pct_column in rb.columns else roles.budget)
            name = row.get("name") or row.get("code")
            yield DISBURSEMENT_BEHIND.at(
                rb.sheet, cell, expected=target, actual=actual,
                th=f"{name} ปี {fy} ไตรมาส {quarter}: {basis_th} ร้อยละ {actual} เป้าหมาย{kind_th} ร้อยละ {target}",
                en=f"{name} FY{fy} Q{quarter}: {basis_en} {actual}% vs {kind_en} target {target}%")


def disbursement_gap(cfg: DisbursementSettings, fiscal_year: int, as_of: dt.date, allocated: Any, disbursed: Any,
                     committed: Any) -> tuple[int, Decimal, Decimal] | None:
    """(quarter, percent spent, target) when spending is behind the quarter's target on ``cfg``'s basis and
    kind, else None (on track, nothing to measure, or no target configured for that year)."""
    quarter = quarter_reached(as_of, fiscal_year)
    if not isinstance(allocated, Decimal) or allocated <= 0 or not isinstance(disbursed, Decimal) or quarter is None:
        return None
    spent = disbursed
    if cfg.basis == "disbursed_committed" and isinstance(committed, Decimal):
        spent += committed
    target, actual = cfg.target(fiscal_year, quarter), percent(spent, allocated)
    if target is None or actual is None or actual >= target:
        return None
    return quarter, actual, target


@check(DECREASED)
def previous_findings(ctx: Context) -> Iterator[Finding]:
    """Cumulative figures (disbursed, total, results) must not go down from the previous quarter."""
    previous = ctx.previous
    if previous is None:
        return
    prev_ctx = Context(previous, ctx.settings)
    same_year = previous.meta.get("fiscal_year") == ctx.workbook.meta.get("fiscal_year")
    for block_id, rb in ctx.workbook.blocks.items():
        if block_id not in previous.blocks:
            continue
        if not same_year and "fiscal_year" not in rb.block.key_columns:
            continue  # year-to-date figures start again with each fiscal year
        calc, prev_calc = ctx.calcs[block_id], prev_ctx.calcs[block_id]
        prev_rows = previous.blocks[block_id].rows
        keys = rb.block.key_columns
        prev_index = {tuple(r.get(k) for k in keys): j for j, r in enumerate(prev_rows)}
        for i, row in enumerate(rb.rows):
            j = prev_index.get(tuple(row.get(k) for k in keys))
            if j is None:
                continue
            for col in rb.block.columns:
                if not col.cumulative or col.id not in rb.columns:
                    continue
                now, before = calc.cell(i, col.id), prev_calc.cell(j, col.id)
                if not (now.has_data and before.has_data):
                    continue
                if isinstance(now.value, Decimal) and isinstance(before.value, Decimal) and now.value < before.value:
                    name = row.get("name") or row.get("code")
                    yield DECREASED.at(rb.sheet, rb.address(i, col.id),
                                  expected=before.value, actual=now.value,
                                  th=f"{name} · {col.th} ไตรมาสก่อน {col.format(before.value)}"
                                     f" ตอนนี้ {col.format(now.value)}",
                                  en=f"{name} · {col.en} was {col.format(before.value)}, now {col.format(now.value)}")


def target_lookup(settings: Settings) -> TargetLookup:
    """The dashboard's target series from the settings: the configured kind's cumulative target for the
    quarter an as-of date has reached in a fiscal year."""
    cfg = settings.disbursement
    kind_th, kind_en = KIND_TEXT[cfg.kind]

    def lookup(fiscal_year: int, as_of: dt.date) -> tuple[Decimal, str] | None:
        quarter = quarter_reached(as_of, fiscal_year)
        target = cfg.target(fiscal_year, quarter) if quarter is not None else None
        if target is None:
            return None
        return target, f"เป้าหมาย{kind_th} ไตรมาส {quarter} / {kind_en} Q{quarter} target"
    return lookup
