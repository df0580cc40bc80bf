"""Variance flags (KPI progress: kpi_progress.py): disbursement
behind the government's quarterly targets, and cumulative figures that went down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from operator import itemgetter
from typing import Any

from ..findings import Finding
from ..fiscal import fiscal_year
from ..xlsx.coerce import CellProblem
from ..xlsx.dashboard import TargetLookup
from ..xlsx.read import ReadBlock
from .catalog import INFO, W, check, rule
from .config import Kind, Settings
from .context import Context
from .quarters import as_of_year
from .targets import BASIS_TEXT, KIND_TEXT, Judgement, judge
from .variance_screen import lines_to_judge

Unmeasured = tuple[ReadBlock, int, Judgement]  # a line left unjudged: its block, its row, its group's judgement

DISBURSEMENT_BEHIND = rule("variance.disbursement_behind", W, "การเบิกจ่ายต่ำกว่าเป้าหมายการเบิกจ่ายรายไตรมาสของรัฐบาล",
                           "disbursement behind the government's quarterly target")
NO_TARGET = rule("variance.no_target", INFO, "ไม่มีเป้าหมายการเบิกจ่ายของรัฐบาลในค่าตั้งสำหรับปีและประเภทนี้ จึงไม่ได้เทียบเป้า",
                 "no government disbursement target is configured for this year and kind, so it was not compared")
OVERSPENT = rule("variance.overspent", W, "ยอดเบิกจ่ายรวมผูกพันเกินงบประมาณ (คงเหลือติดลบ)",
                 "disbursed + committed exceeds the allocation (negative remaining)")
DECREASED = rule("variance.decreased", W, "ตัวเลขสะสมลดลงจากไตรมาสก่อน",
                 "a cumulative figure went down since the previous quarter")


def _as_of(ctx: Context) -> tuple[dt.date, int] | None:
    return as_of_year(ctx.workbook.meta)  # None: meta.invalid / meta.required say why


@check(DISBURSEMENT_BEHIND, OVERSPENT, NO_TARGET)
def disbursement_findings(ctx: Context) -> Iterator[Finding]:
    when = _as_of(ctx)
    if when is None:
        return
    as_of, meta_year = when
    cfg = ctx.settings.disbursement
    unmeasured: dict[Kind, list[Unmeasured]] = {}  # kind -> the lines it left unjudged
    for rb, calc in ctx.blocks():
        roles = rb.block.spending
        if roles is None or not {roles.budget, roles.disbursed, roles.committed} <= set(rb.columns):
            continue
        pct_column = roles.pct_total if cfg.basis == "disbursed_committed" else roles.pct_disbursed
        inputs = (roles.budget, roles.disbursed, roles.committed)
        # Lines whose sheet shows an error in an amount are left out: cell.error_value says so.
        errors = {i for (i, c), problem in rb.problems.items() if problem is CellProblem.ERROR_VALUE and c in inputs}
        money = rb.block.column(roles.budget).format
        lines = lines_to_judge(rb, ctx.columns.get(rb.block.id), roles, cfg, as_of, meta_year)
        # this block's unmeasured lines, put in line order below (a line is named only if it is shown)
        listed = [(i, group) for i, group in lines.listed if i not in errors]
        for i in lines.judged:
            row = rb.rows[i]
            budget = calc.cell(i, roles.budget).value
            total = calc.cell(i, roles.total).value if roles.total in rb.columns else None
            if i in errors:
                continue
            name = rb.label(i)
            if isinstance(budget, Decimal) and isinstance(total, Decimal) and total > budget:
                at = roles.remaining if roles.remaining in rb.columns else roles.budget
                yield OVERSPENT.at(rb.sheet, rb.address(i, at), expected=budget, actual=total,
                                   th=f"{name}: ยอดรวม {money(total)} เกินงบประมาณ {money(budget)}",
                                   en=f"{name}: total {money(total)} exceeds the budget {money(budget)}")
            if row.get("level") not in cfg.levels:
                continue
            fy = row.get("fiscal_year") or meta_year
            j = judge(cfg, line_year=fy, report_year=meta_year, as_of=as_of,
                      budget_source=row.get("budget_source"), category=row.get("budget_category"),
                      allocated=budget, disbursed=calc.cell(i, roles.disbursed).value,
                      committed=calc.cell(i, roles.committed).value)
            if j is None:
                continue
            if j.goal is None:
                listed.append((i, j))
                continue
            if not j.behind:
                continue
            assert j.target is not None
            kind_th, kind_en = KIND_TEXT[j.kind]
            both_th, both_en = j.both_bases()
            cell = rb.address(i, pct_column if pct_column in rb.columns else roles.budget)
            yield DISBURSEMENT_BEHIND.at(
                rb.sheet, cell, expected=j.goal, actual=j.actual,
                th=f"{name} ปี {fy} ไตรมาส {j.quarter}: {both_th} ต่ำกว่าเป้าหมาย{kind_th} ร้อยละ {j.goal}"
                   f" (ที่มา: {j.target.source})",
                en=f"{name} FY{fy} Q{j.quarter}: {both_en}, behind the {kind_en} target {j.goal}%"
                   f" (source: {j.target.source})")
        for i, j in sorted(listed, key=itemgetter(0)):
            unmeasured.setdefault(j.kind, []).append((rb, i, j))
    yield from _unmeasured(ctx, meta_year, unmeasured)


def _unmeasured(ctx: Context, year: int, unmeasured: dict[Kind, list[Unmeasured]]) -> Iterator[Finding]:
    """One info finding per kind of target the year lacks, at the fiscal year on the information sheet:
    never another year's numbers in its place."""
    sheet, cell = ctx.workbook.meta_cells.get("fiscal_year", (ctx.workbook.spec.blocks[0].sheet, "A1"))
    for kind, lines in unmeasured.items():
        kind_th, kind_en = KIND_TEXT[kind]
        j = lines[0][2]
        names = ", ".join(f"'{rb.label(i)}'" for rb, i, _ in lines[:3]) + (" …" if len(lines) > 3 else "")
        if j.target is None:
            why_th = f"ไม่มีเป้าหมาย{kind_th}ของปี {year}"
            why_en = f"no {kind_en} target for FY{year}"
        else:
            why_th = f"เป้าหมาย{kind_th}ของปี {year} ไม่ระบุไตรมาส {j.quarter} (ที่มา: {j.target.source})"
            why_en = f"the {kind_en} target for FY{year} states no Q{j.quarter} figure (source: {j.target.source})"
        yield NO_TARGET.at(sheet, cell, expected=kind, th=f"{why_th} · {len(lines)} บรรทัด เช่น {names}"
                           f" · เพิ่มใน [[disbursement.targets]] ของไฟล์ตั้งค่า",
                           en=f"{why_en} · {len(lines)} line{'s' if len(lines) > 1 else ''}, e.g. {names}"
                              " · add it to [[disbursement.targets]] in the settings")


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
    """The dashboard's target series from the settings: the target a chart's top line is judged against
    (its year, budget source and category) for the quarter the as-of date has reached, labelled with its kind
    and the basis the settings judge on (the chart shows both bases beside it)."""
    cfg = settings.disbursement

    def lookup(row: Mapping[str, Any], as_of: dt.date) -> tuple[Decimal, str] | None:
        line_year, report_year = row.get("fiscal_year"), fiscal_year(as_of)
        if not isinstance(line_year, int):
            return None
        j = judge(cfg, line_year=line_year, report_year=report_year, as_of=as_of,
                  budget_source=row.get("budget_source"), category=row.get("budget_category"),
                  allocated=Decimal(1), disbursed=Decimal(0), committed=None)
        if j is None or j.goal is None:
            return None
        kind_th, kind_en = KIND_TEXT[j.kind]
        basis_th, basis_en = BASIS_TEXT[cfg.basis]
        return j.goal, (f"เป้าหมาย{kind_th} ไตรมาส {j.quarter} (วัดด้วย{basis_th}) / {kind_en} Q{j.quarter} target"
                        f" (judged on {basis_en})")
    return lookup
