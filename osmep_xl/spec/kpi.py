"""KPI tracking: indicators per strategy, targets for two years, results and status."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from ..kpi_text import (
    HIGHER_IS_BETTER,
    LOWER_IS_BETTER,
    MAXIMUM_WORDS,
    MINIMUM_WORDS,
    Target,
    TargetKind,
    parse_result,
    parse_target,
)
from .base import (
    Achievement,
    Block,
    ColType,
    Column,
    KpiRoles,
    KpiStatus,
    StatedText,
    TemplateSpec,
    aliases,
    load_skeleton,
)
from .columns import CODE, COMMON_META, NAME, TRAILER, quarter_columns

DIRECTIONS = (HIGHER_IS_BETTER, LOWER_IS_BETTER)
# A direction may be written as the words of a target ("ไม่น้อยกว่า 4.10") or in words of its own.
DIRECTION_NAMES = aliases({
    HIGHER_IS_BETTER: [*(w for w in MINIMUM_WORDS if w != HIGHER_IS_BETTER), "=>", "มากกว่าหรือเท่ากับ",
                       "ยิ่งมากยิ่งดี", "more is better", "higher is better"],
    LOWER_IS_BETTER: [*(w for w in MAXIMUM_WORDS if w != LOWER_IS_BETTER), "=<", "น้อยกว่าหรือเท่ากับ",
                      "ยิ่งน้อยยิ่งดี", "less is better", "lower is better"],
})

# What "behind target" means for a KPI (rules/kpi_progress.py): a cumulative count is pro-rated over the year,
# a milestone follows its quarterly plan, a rate or a score is judged on its value, an annual-only KPI at Q4.
CUMULATIVE, MILESTONE, RATE, SCORE, ANNUAL = "สะสม", "ขั้นความสำเร็จ", "อัตรา", "คะแนน", "รายปี"
KPI_TYPES = (CUMULATIVE, MILESTONE, RATE, SCORE, ANNUAL)
KPI_TYPE_NAMES = aliases({
    CUMULATIVE: ["cumulative", "cumulative count", "count", "จำนวนสะสม"],
    MILESTONE: ["milestone", "ขั้นตอนความสำเร็จ", "ผลงานส่งมอบ"],
    RATE: ["rate", "percentage", "ร้อยละ"],
    SCORE: ["score", "ระดับคะแนน"],
    ANNUAL: ["annual", "annual-only", "annual only", "ประเมินปีละครั้ง"],
})
# A KPI whose result is the sum of its linked project outputs (the outputs template's KPI code column).
SUM_OF_OUTPUTS = "ผลรวมผลผลิต"
COUNTED_NAMES = aliases({SUM_OF_OUTPUTS: ["sum of outputs", "sum_of_outputs", "ผลรวมผลผลิตโครงการ",
                                          "รวมผลผลิตโครงการ"]})
# Units that name one deliverable (a system, a database, a process): counted when delivered, so judged by the
# quarterly plan, not pro-rated. Units a target states per year ("1 ระบบ/ปี") are measured once a year.
_RATE_UNITS = ("ร้อยละ", "%", "เปอร์เซ็นต์")
_SCORE_UNITS = ("คะแนน",)
_MILESTONE_UNITS = ("เรื่อง", "ระบบ", "ฐานข้อมูล", "กระบวนการ", "แผน", "ฉบับ", "มาตรการ", "ขั้น", "ขั้นตอน")
_PER_YEAR = ("/ปี", "ต่อปี")


def kpi_type_of(target: Target) -> str:
    """The KPI type a target's text implies: ``ร้อยละ 70-80`` and ``ลดลงร้อยละ 10`` a rate, ``4.10 คะแนน`` a score,
    ``1 ระบบ/ปี`` annual-only, ``1 ฐานข้อมูล`` a milestone, a count of enterprises (``190,000 ราย``) cumulative."""
    unit = (target.unit or "").strip()
    if target.change is not None or unit.startswith(_RATE_UNITS):
        return RATE
    if unit.startswith(_SCORE_UNITS):
        return SCORE
    if unit.endswith(_PER_YEAR):
        return ANNUAL
    if unit in _MILESTONE_UNITS and target.kind is not TargetKind.RANGE:
        return MILESTONE
    return CUMULATIVE


def complete_kpi_row(row: dict[str, Any]) -> dict[str, Any]:
    """Fill numeric target, bounds, direction, type and result from their texts where left blank."""
    out = dict(row)
    for text_col, low_col, high_col in (("target_text", "target", "target_high"),
                                        ("target_next_text", "target_next", None)):
        text = out.get(text_col)
        if text and out.get(low_col) in (None, ""):
            try:
                target = parse_target(str(text))
            except ValueError:
                continue  # no number in the text: the target stays blank and validation says so
            out[low_col] = target.low
            if high_col and out.get(high_col) in (None, ""):
                out[high_col] = target.high
            if out.get("unit") in (None, "") and target.unit:
                out["unit"] = target.unit
            if low_col == "target" and out.get("direction") in (None, ""):
                out["direction"] = target.direction
    if out.get("target_text") and out.get("kpi_type") in (None, ""):
        # No number in the text (ValueError): the type stays blank and is judged as a cumulative count.
        with suppress(ValueError):
            out["kpi_type"] = kpi_type_of(parse_target(str(out["target_text"])))
    text = out.get("result_text")
    if text and out.get("result") in (None, ""):
        out["result"] = parse_result(str(text)).value
    return out


PLANS = quarter_columns("plan", "แผนสะสม", "Cumulative plan")
RESULTS = quarter_columns("result", "ผลสะสม", "Cumulative result")

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
                       choices=DIRECTIONS, width=7, structure=True, aliases=DIRECTION_NAMES),
                Column("target", "เป้าหมาย", "Target", ColType.NUMBER, required=True, width=10,
                       stated_from=StatedText("target_text", "low")),
                Column("target_high", "เป้าหมายสูงสุด (ช่วง)", "Target upper bound", ColType.NUMBER,
                       width=10, stated_from=StatedText("target_text", "high")),
                Column("target_text", "เป้าหมาย (ตามที่ระบุ)", "Target as stated", ColType.TEXT,
                       width=15),
                Column("target_next", "เป้าหมายปีถัดไป", "Next year target", ColType.NUMBER, width=10,
                       stated_from=StatedText("target_next_text", "low")),
                Column("target_next_text", "เป้าหมายปีถัดไป (ตามที่ระบุ)", "Next year target as stated",
                       ColType.TEXT, width=15),
                Column("result", "ผล", "Result", ColType.NUMBER, width=10, cumulative=True,
                       stated_from=StatedText("result_text", "value")),
                Column("result_text", "ผล (ตามที่รายงาน)", "Result as reported", ColType.TEXT, width=15),
                Column("achievement", "ร้อยละของเป้าหมาย", "% of target", ColType.PERCENT,
                       formula=Achievement("result", "target", "direction"), width=9),
                Column("status", "สถานะ", "Status", ColType.TEXT,
                       formula=KpiStatus("result", "target", "direction"), width=9),
                Column("kpi_type", "ประเภทตัวชี้วัด", "KPI type", ColType.CHOICE, choices=KPI_TYPES, width=13,
                       structure=True, aliases=KPI_TYPE_NAMES),
                Column("counted", "ประเภทการนับ", "Counted as", ColType.CHOICE, choices=(SUM_OF_OUTPUTS,),
                       width=11, structure=True, aliases=COUNTED_NAMES),
                *PLANS,
                *RESULTS,
                *TRAILER,
            ),
            kpi=KpiRoles(result="result", target="target", target_high="target_high", direction="direction",
                         kind="kpi_type", counted="counted", unit="unit", plans=tuple(c.id for c in PLANS),
                         results=tuple(c.id for c in RESULTS)),
        ),
    ),
    meta=COMMON_META,
    skeleton=load_skeleton("kpi"),
    completers={"kpis": complete_kpi_row},
)
