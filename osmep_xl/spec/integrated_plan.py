"""Integrated plan: approaches, their project groups, budgets, beneficiary targets and results."""

from __future__ import annotations

from .base import Block, ColType, Column, Level, Link, Pct, TemplateSpec, load_skeleton
from .columns import (
    CODE,
    COMMON_META,
    DISBURSEMENT_AMOUNTS,
    LEVEL_SUBMITTER,
    LEVEL_TOTAL,
    NAME,
    PARENT,
    SPENDING,
    TRAILER,
    level_column,
)

LEVEL_APPROACH = Level("approach", "แนวทาง", "approach")
APPROACH_LEVELS = (LEVEL_TOTAL, LEVEL_SUBMITTER, LEVEL_APPROACH, Level("subapproach", "ประเด็น", "sub-approach"),
                   Level("group", "กลุ่มโครงการ", "project group"))
DISBURSEMENT_LEVELS = (LEVEL_TOTAL, LEVEL_SUBMITTER, LEVEL_APPROACH)
AGENCIES = Column("agencies", "หน่วยงานรับผิดชอบ", "Responsible agencies", ColType.TEXT, width=18, structure=True)

SPEC = TemplateSpec(
    id="integrated_plan",
    version="1.0",
    title_th="ติดตามแผนงานบูรณาการ",
    title_en="Integrated plan tracking",
    blocks=(
        Block(
            id="approaches", sheet="แนวทาง",
            title_th="แนวทาง กลุ่มโครงการ เป้าหมาย และผล", title_en="Approaches, targets and results",
            levels=APPROACH_LEVELS,
            columns=(
                level_column(APPROACH_LEVELS), CODE, PARENT, NAME,
                Column("target_persons", "เป้าหมาย (ราย)", "Target (enterprises)", ColType.COUNT,
                       rollup=True, width=10),
                Column("target_centers", "เป้าหมาย (ศูนย์)", "Target (centres)", ColType.COUNT, rollup=True, width=10),
                Column("budget", "งบประมาณ (บาท)", "Budget (THB)", ColType.MONEY, rollup=True, width=16),
                Column("result_persons", "ผล (ราย)", "Result (enterprises)", ColType.COUNT, rollup=True,
                       cumulative=True, width=10),
                Column("result_centers", "ผล (ศูนย์)", "Result (centres)", ColType.COUNT, rollup=True,
                       cumulative=True, width=10),
                Column("pct_persons", "ร้อยละของเป้าหมาย (ราย)", "% of target (enterprises)",
                       ColType.PERCENT, formula=Pct("result_persons", "target_persons"), width=10),
                Column("pct_centers", "ร้อยละของเป้าหมาย (ศูนย์)", "% of target (centres)",
                       ColType.PERCENT, formula=Pct("result_centers", "target_centers"), width=10),
                AGENCIES,
                *TRAILER,
            ),
        ),
        Block(
            id="disbursement", sheet="เบิกจ่ายแนวทาง",
            title_th="ผลการใช้จ่ายงบประมาณจำแนกตามแนวทาง", title_en="Spending by approach",
            levels=DISBURSEMENT_LEVELS,
            columns=(level_column(DISBURSEMENT_LEVELS), CODE, PARENT, NAME, *DISBURSEMENT_AMOUNTS,
                     AGENCIES, *TRAILER),
            spending=SPENDING,
        ),
    ),
    links=(Link("approaches", "budget", "disbursement", "allocated", levels=("total", "submitter", "approach")),),
    meta=COMMON_META,
    skeleton=load_skeleton("integrated_plan"),
)
