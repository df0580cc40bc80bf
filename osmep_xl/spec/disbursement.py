"""Disbursement tracking: allocated, disbursed, committed per fiscal year and budget source."""

from __future__ import annotations

from .base import Block, TemplateSpec, load_skeleton
from .columns import (
    BUDGET_CATEGORY,
    BUDGET_SOURCE,
    CODE,
    COMMON_META,
    DISBURSEMENT_AMOUNTS,
    FISCAL_YEAR,
    LEVEL_PART,
    LEVEL_PROJECT,
    LEVEL_STRATEGY,
    LEVEL_SUBMITTER,
    LEVEL_TOTAL,
    NAME,
    PARENT,
    SPENDING,
    TRAILER,
    level_column,
)

LEVELS = (LEVEL_TOTAL, LEVEL_SUBMITTER, LEVEL_PART, LEVEL_STRATEGY, LEVEL_PROJECT)

SPEC = TemplateSpec(
    id="disbursement",
    version="1.1",
    title_th="ติดตามการเบิกจ่ายงบประมาณ",
    title_en="Budget disbursement tracking",
    blocks=(
        Block(
            id="lines", sheet="เบิกจ่าย",
            title_th="ผลการเบิกจ่ายและผูกพันงบประมาณ", title_en="Disbursed and committed budget",
            levels=LEVELS,
            group_by=("fiscal_year", "budget_source"),
            columns=(FISCAL_YEAR, BUDGET_SOURCE, level_column(LEVELS), CODE, PARENT, NAME, *DISBURSEMENT_AMOUNTS,
                     BUDGET_CATEGORY, *TRAILER),
            spending=SPENDING,
        ),
    ),
    meta=COMMON_META,
    skeleton=load_skeleton("disbursement"),
)
