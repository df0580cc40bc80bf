"""KPI tracking: indicators per strategy, targets for two years, results and status."""

from __future__ import annotations

from ..model.kpi import HIGHER_IS_BETTER, LOWER_IS_BETTER, complete_kpi_row
from .base import Achievement, Block, ColType, Column, KpiStatus, TemplateSpec
from .columns import CODE, COMMON_META, NAME, TRAILER

DIRECTIONS = (HIGHER_IS_BETTER, LOWER_IS_BETTER)

SPEC = TemplateSpec(
    id="kpi",
    version="1.0",
    title_th="ติดตามตัวชี้วัด",
    title_en="KPI tracking",
    blocks=(
        Block(
            id="strategies", sheet="ยุทธศาสตร์",
            title_th="ยุทธศาสตร์", title_en="Strategies",
            columns=(CODE, NAME, *TRAILER),
        ),
        Block(
            id="kpis", sheet="ตัวชี้วัด",
            title_th="ตัวชี้วัดและผลการดำเนินงาน", title_en="Indicators and results",
            columns=(
                CODE,
                Column("strategy", "ยุทธศาสตร์", "Strategy", ColType.CODE, width=9,
                       ref=("strategies", "code"), structure=True),
                NAME,
                Column("unit", "หน่วยนับ", "Unit", ColType.TEXT, width=9, structure=True),
                Column("direction", "ทิศทาง", "Direction", ColType.CHOICE, required=True,
                       choices=DIRECTIONS, width=7, structure=True),
                Column("target", "เป้าหมาย", "Target", ColType.NUMBER, required=True, width=10),
                Column("target_high", "เป้าหมายสูงสุด (ช่วง)", "Target upper bound", ColType.NUMBER,
                       width=10),
                Column("target_text", "เป้าหมาย (ตามที่ระบุ)", "Target as stated", ColType.TEXT,
                       width=15),
                Column("target_next", "เป้าหมายปีถัดไป", "Next year target", ColType.NUMBER, width=10),
                Column("target_next_text", "เป้าหมายปีถัดไป (ตามที่ระบุ)", "Next year target as stated",
                       ColType.TEXT, width=15),
                Column("result", "ผล", "Result", ColType.NUMBER, width=10, cumulative=True),
                Column("result_text", "ผล (ตามที่รายงาน)", "Result as reported", ColType.TEXT, width=15),
                Column("achievement", "ร้อยละของเป้าหมาย", "% of target", ColType.PERCENT,
                       formula=Achievement("result", "target", "direction"), width=9),
                Column("status", "สถานะ", "Status", ColType.TEXT,
                       formula=KpiStatus("result", "target", "direction"), width=9),
                *TRAILER,
            ),
        ),
    ),
    meta=COMMON_META,
    completers={"kpis": complete_kpi_row},
)
