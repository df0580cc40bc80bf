"""Checks across templates validated together: the monthly spending plan against the action plan and the
disbursement report, row by row on the same fiscal year, budget source, level and code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ..findings import Finding
from ..fiscal import format_thai_date
from ..spec.action_plan import BUDGET
from ..spec.action_plan import SPEC as ACTION_PLAN
from ..spec.columns import LEVEL_PROJECT
from ..spec.disbursement import SPEC as DISBURSEMENT
from ..spec.spending_plan import ACTUAL_CUM, BLOCK_ID, COMMITTED, REVISED
from ..spec.spending_plan import SPEC as SPENDING_PLAN
from ..xlsx.read import ReadBlock
from .catalog import INFO, E, Rule, W, cross_check, rule
from .context import Context, WorkbookSet

PLAN_BUDGET = rule("cross.plan_budget", W, "งบประมาณโครงการในแผนปฏิบัติการไม่ตรงกับงบหลังโอนในแผน/ผลรายเดือน",
                   "an action-plan project budget differs from the revised budget in the monthly spending plan")
PLAN_SPENT = rule("cross.plan_disbursed", E, "ผลเบิกจ่าย/ผูกพันในรายงานการเบิกจ่ายไม่ตรงกับยอดสะสมในแผน/ผลรายเดือน",
                  "disbursed or committed in the disbursement report differs from the monthly spending plan's")
NOT_COMPARED = rule("cross.as_of_differs", INFO, "วันที่ข้อมูลไม่ตรงกัน จึงเทียบยอดเบิกจ่ายระหว่างสองแม่แบบไม่ได้",
                    "the as-of dates differ, so disbursement cannot be compared between the two templates")

Key = tuple[Any, ...]
KEY = ("fiscal_year", "budget_source", "level", "code")


def _rows(rb: ReadBlock, levels: tuple[str, ...] = ()) -> dict[Key, int]:
    """A block's rows by (fiscal year, budget source, level, code), of ``levels`` when given."""
    return {tuple(r.get(k) for k in KEY): i for i, r in enumerate(rb.rows) if not levels or r.get("level") in levels}


def _compare(other: Context, block_id: str, column: str, plan: Context, plan_column: str, found: Rule,
             levels: tuple[str, ...] = ()) -> Iterator[Finding]:
    """A finding at ``other``'s cell wherever it differs from the spending plan's on the same row."""
    rb, prb = other.workbook.blocks.get(block_id), plan.workbook.blocks.get(BLOCK_ID)
    if rb is None or prb is None or column not in rb.columns or plan_column not in prb.columns:
        return  # structure.* says which table or column is missing
    calc, pcalc = other.calcs[block_id], plan.calcs[BLOCK_ID]
    col = rb.block.column(column)
    mine = _rows(prb, levels)
    for key, i in _rows(rb, levels).items():
        j = mine.get(key)
        if j is None:
            continue
        theirs, ours = calc.cell(i, column), pcalc.cell(j, plan_column)
        if not (theirs.has_data and ours.has_data) or not other.differs(col, theirs.value, ours.value):
            continue
        if not (theirs.stated or ours.stated) and calc.structure.children.get(i):
            continue  # both are sums of lines compared on their own rows: the difference is reported there
        name = rb.label(i)
        where = f"{prb.sheet}!{prb.address(j, plan_column)}"
        yield found.at(rb.sheet, rb.address(i, column), expected=ours.value, actual=theirs.value,
                       th=f"{name}: {col.format(theirs.value)} แต่ {where} ระบุ {col.format(ours.value)}",
                       en=f"{name}: {col.format(theirs.value)} but {where} has {col.format(ours.value)}")


@cross_check(PLAN_BUDGET, templates=(ACTION_PLAN.id, SPENDING_PLAN.id))
def plan_budgets(wset: WorkbookSet) -> Iterator[Finding]:
    """Each action-plan project's budget is its revised budget (after transfers) in the spending plan."""
    plan, action = wset.get(SPENDING_PLAN.id), wset.get(ACTION_PLAN.id)
    assert plan is not None and action is not None
    for block in ACTION_PLAN.blocks:
        if LEVEL_PROJECT in block.levels and BUDGET in block.columns:
            yield from _compare(action, block.id, BUDGET.id, plan, REVISED.id, PLAN_BUDGET, levels=(LEVEL_PROJECT.id,))


def _shown(value: object) -> str:
    return format_thai_date(value) if isinstance(value, dt.date) else "ว่าง/blank" if value is None else str(value)


@cross_check(PLAN_SPENT, NOT_COMPARED, templates=(DISBURSEMENT.id, SPENDING_PLAN.id))
def plan_disbursed(wset: WorkbookSet) -> Iterator[Finding]:
    """The disbursement report's disbursed and committed amounts are the spending plan's cumulative actual and
    committed at the same as-of date, on every row both hold (totals, parts, strategies, projects)."""
    plan, disb = wset.get(SPENDING_PLAN.id), wset.get(DISBURSEMENT.id)
    assert plan is not None and disb is not None
    ours, theirs = plan.workbook.meta.get("as_of"), disb.workbook.meta.get("as_of")
    if ours != theirs:
        sheet, cell = plan.workbook.meta_cells.get("as_of", ("", ""))
        yield NOT_COMPARED.at(sheet, cell, expected=_shown(theirs), actual=_shown(ours),
                              th=f"การเบิกจ่าย ณ {_shown(theirs)} แผน/ผลรายเดือน ณ {_shown(ours)}",
                              en=f"disbursement as of {_shown(theirs)}, spending plan as of {_shown(ours)}")
        return
    for block in DISBURSEMENT.blocks:
        roles = block.spending
        if roles is not None:
            yield from _compare(disb, block.id, roles.disbursed, plan, ACTUAL_CUM.id, PLAN_SPENT)
            yield from _compare(disb, block.id, roles.committed, plan, COMMITTED.id, PLAN_SPENT)
