"""Column and level definitions shared by several templates (each defined once)."""

from __future__ import annotations

from .base import Add, ColType, Column, Level, MetaField, Pct, Sub

LEVEL_TOTAL = Level("total", "รวม", "total")
# One submitting agency's rows in a consolidated workbook (osmep-xl consolidate): between the grand
# total and each submission's own lines, so the grand total is an ordinary roll-up.
LEVEL_SUBMITTER = Level("submitter", "หน่วยงาน", "submitter")
LEVEL_PART = Level("part", "ส่วน/กลุ่ม", "part or group")
LEVEL_STRATEGY = Level("strategy", "ยุทธศาสตร์", "strategy")
LEVEL_TACTIC = Level("tactic", "กลยุทธ์", "tactic")
LEVEL_PROJECT = Level("project", "โครงการ", "project")


def level_column(levels: tuple[Level, ...]) -> Column:
    # Wide enough for the longest level id, which has no space to wrap at.
    width = max(7, max(len(lv.id) for lv in levels) + 1)
    return Column("level", "ระดับ", "Level", ColType.LEVEL, required=True,
                  choices=tuple(lv.id for lv in levels), width=width, structure=True)


CODE = Column("code", "รหัส", "Code", ColType.CODE, required=True, width=8, structure=True)
PARENT = Column("parent", "รหัสระดับบน", "Parent code", ColType.CODE, width=8, structure=True)
NAME = Column("name", "รายการ", "Item", ColType.TEXT, required=True, width=32, structure=True)
NOTE = Column("note", "หมายเหตุ", "Note", ColType.TEXT, width=24)
SOURCE = Column("source", "ที่มา", "Source", ColType.TEXT, width=24)
TRAILER = (NOTE, SOURCE)

FISCAL_YEAR = Column("fiscal_year", "ปีงบประมาณ (พ.ศ.)", "Fiscal year (BE)", ColType.YEAR,
                     required=True, width=10, structure=True)
BUDGET_SOURCES = ("พ.ร.บ.งบประมาณ", "เงินกองทุน", "พ.ร.บ.งบประมาณและเงินกองทุน", "งบกลาง")
BUDGET_SOURCE = Column("budget_source", "แหล่งงบประมาณ", "Budget source", ColType.CHOICE,
                       required=True, choices=BUDGET_SOURCES, width=14, structure=True)

# Disbursement identities: ยอดรวม = เบิกจ่าย + ผูกพัน, คงเหลือ = งบประมาณ - ยอดรวม,
# and each amount as a percentage of the allocation.
DISBURSEMENT_AMOUNTS = (
    Column("allocated", "งบประมาณ", "Allocated", ColType.MONEY, required=True, rollup=True, width=16),
    Column("disbursed", "เบิกจ่าย", "Disbursed", ColType.MONEY, rollup=True, width=16,
           cumulative=True),
    Column("committed", "ผูกพัน", "Committed", ColType.MONEY, rollup=True, width=16),
    Column("total", "ยอดรวม", "Disbursed + committed", ColType.MONEY,
           formula=Add(("disbursed", "committed")), width=16, cumulative=True),
    Column("remaining", "คงเหลือ", "Remaining", ColType.MONEY,
           formula=Sub("allocated", "total"), width=16),
    Column("pct_disbursed", "ร้อยละเบิกจ่าย", "% disbursed", ColType.PERCENT,
           formula=Pct("disbursed", "allocated"), width=8),
    Column("pct_committed", "ร้อยละผูกพัน", "% committed", ColType.PERCENT,
           formula=Pct("committed", "allocated"), width=8),
    Column("pct_total", "ร้อยละยอดรวม", "% total", ColType.PERCENT,
           formula=Pct("total", "allocated"), width=8),
    Column("pct_remaining", "ร้อยละคงเหลือ", "% remaining", ColType.PERCENT,
           formula=Pct("remaining", "allocated"), width=8),
)

COMMON_META = (
    MetaField("agency", "หน่วยงาน", "Agency", "text", required=True),
    MetaField("fiscal_year", "ปีงบประมาณ (พ.ศ.)", "Fiscal year (BE)", "int", required=True),
    MetaField("quarter", "ไตรมาส", "Quarter", "int"),
    MetaField("as_of", "ข้อมูล ณ วันที่", "Data as of", "date", required=True),
    MetaField("title", "ชื่อรายงาน", "Report title", "text"),
)
