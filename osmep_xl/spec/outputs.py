"""Project outputs: each project's output indicators, target groups, annual targets and cumulative results
per quarter, and the KPI each output counts towards (a KPI counted as the sum of its outputs)."""

from __future__ import annotations

from .base import Block, ColType, Column, OutputRoles, TemplateSpec, load_skeleton
from .columns import COMMON_META, TRAILER, quarter_columns

# Outputs are counts (enterprises served, clusters formed): whole numbers shown #,##0, never negative.
RESULTS = quarter_columns("result", "ผลสะสม", "Cumulative result", ColType.COUNT)

SPEC = TemplateSpec(
    id="outputs",
    version="1.0",
    title_th="ผลผลิตโครงการ",
    title_en="Project outputs",
    blocks=(
        Block(
            id="outputs", sheet="ผลผลิตโครงการ",
            title_th="ผลผลิตโครงการ เป้าหมาย และผลสะสมรายไตรมาส",
            title_en="Project outputs: targets and cumulative results by quarter",
            columns=(
                Column("strategy", "ยุทธศาสตร์", "Strategy", ColType.CODE, width=8, structure=True),
                Column("tactic", "กลยุทธ์", "Tactic", ColType.CODE, width=8, structure=True),
                Column("project", "รหัสโครงการ", "Project code", ColType.CODE, required=True, width=8,
                       structure=True),
                Column("project_name", "ชื่อโครงการ", "Project", ColType.TEXT, width=26, structure=True),
                Column("code", "รหัสผลผลิต", "Output code", ColType.CODE, required=True, width=8, structure=True),
                Column("name", "ตัวชี้วัดผลผลิต", "Output indicator", ColType.TEXT, required=True, width=30,
                       structure=True),
                Column("target_group", "กลุ่มเป้าหมาย", "Target group", ColType.TEXT, width=18, structure=True),
                Column("unit", "หน่วยนับ", "Unit", ColType.TEXT, required=True, width=9, structure=True),
                Column("target", "เป้าหมายทั้งปี", "Annual target", ColType.COUNT, width=10),
                *RESULTS,
                Column("kpi", "รหัสตัวชี้วัด", "KPI code", ColType.CODE, width=10, structure=True),
                *TRAILER,
            ),
            outputs=OutputRoles(unit="unit", target="target", results=tuple(c.id for c in RESULTS), kpi="kpi"),
        ),
    ),
    meta=COMMON_META,
    skeleton=load_skeleton("outputs"),
)
