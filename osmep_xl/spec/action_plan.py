"""Action plan: sources of funds and budget by strategy -> tactic -> project."""

from __future__ import annotations

from .base import Block, ColType, Column, Level, Link, TemplateSpec, load_skeleton
from .columns import (
    BUDGET_SOURCE,
    CODE,
    COMMON_META,
    FISCAL_YEAR,
    LEVEL_PART,
    LEVEL_PROJECT,
    LEVEL_STRATEGY,
    LEVEL_SUBMITTER,
    LEVEL_TACTIC,
    LEVEL_TOTAL,
    NAME,
    PARENT,
    TRAILER,
    level_column,
)

BUDGET = Column("budget", "งบประมาณ (บาท)", "Budget (THB)", ColType.MONEY, required=True,
                rollup=True, width=16)

SOURCE_LEVELS = (
    LEVEL_TOTAL,
    LEVEL_SUBMITTER,
    Level("source", "แหล่งเงิน", "funding source"),
    Level("item", "รายการ", "item"),
)
GROUP = ("fiscal_year", "budget_source")
PLAN_LEVELS = (LEVEL_TOTAL, LEVEL_SUBMITTER, LEVEL_PART, LEVEL_STRATEGY, LEVEL_TACTIC, LEVEL_PROJECT)

SPEC = TemplateSpec(
    id="action_plan",
    version="1.0",
    title_th="แผนปฏิบัติการประจำปีและงบประมาณ",
    title_en="Annual action plan and budget",
    blocks=(
        Block(
            id="sources", sheet="แหล่งงบประมาณ",
            title_th="แหล่งงบประมาณ", title_en="Sources of funds",
            levels=SOURCE_LEVELS, group_by=GROUP,
            columns=(FISCAL_YEAR, BUDGET_SOURCE, level_column(SOURCE_LEVELS), CODE, PARENT, NAME, BUDGET, *TRAILER),
        ),
        Block(
            id="plan", sheet="แผนปฏิบัติการ",
            title_th="งาน/โครงการตามแผนปฏิบัติการ", title_en="Projects of the action plan",
            levels=PLAN_LEVELS, group_by=GROUP,
            columns=(FISCAL_YEAR, BUDGET_SOURCE, level_column(PLAN_LEVELS), CODE, PARENT, NAME, BUDGET, *TRAILER),
        ),
    ),
    links=(Link("sources", "budget", "plan", "budget", levels=("total", "submitter")),),
    meta=COMMON_META,
    skeleton=load_skeleton("action_plan"),
)
