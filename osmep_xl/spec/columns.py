"""Column and level definitions shared by several templates (each defined once)."""

from __future__ import annotations

from .base import ColType, Column, Level, MetaField, Pct, SpendingRoles, Sum, aliases, fold

LEVEL_TOTAL = Level("total", "รวม", "total")
# One submitting agency's rows in a consolidated workbook (osmep-xl consolidate): between the grand
# total and each submission's own lines, so the grand total is an ordinary roll-up.
LEVEL_SUBMITTER = Level("submitter", "หน่วยงาน", "submitter")
LEVEL_PART = Level("part", "ส่วน/กลุ่ม", "part or group")
LEVEL_STRATEGY = Level("strategy", "ยุทธศาสตร์", "strategy")
LEVEL_TACTIC = Level("tactic", "กลยุทธ์", "tactic")
LEVEL_PROJECT = Level("project", "โครงการ", "project")


def level_column(levels: tuple[Level, ...]) -> Column:
    """The level column of a hierarchy; fill data may name a level in Thai or English (โครงการ, project)."""
    names = aliases({lv.id: [n for n in (lv.th, lv.en) if fold(n) != fold(lv.id)] for lv in levels})
    # Wide enough for the longest level id, which has no space to wrap at.
    width = max(7, max(len(lv.id) for lv in levels) + 1)
    return Column("level", "ระดับ", "Level", ColType.LEVEL, required=True,
                  choices=tuple(lv.id for lv in levels), width=width, structure=True, aliases=names)


CODE = Column("code", "รหัส", "Code", ColType.CODE, required=True, width=8, structure=True)
PARENT = Column("parent", "รหัสระดับบน", "Parent code", ColType.CODE, width=8, structure=True)
NAME = Column("name", "รายการ", "Item", ColType.TEXT, required=True, width=32, structure=True)
# Notes carry lasting facts (a strategy's goal, a project's extension, a footnote of the report), so a new
# period keeps them: no column of the four templates is a period entry (Column.period_entry); every figure in
# them is cumulative to the as-of date or a balance at it, typed over each period.
NOTE = Column("note", "หมายเหตุ", "Note", ColType.TEXT, width=24, printed=False)
SOURCE = Column("source", "ที่มา", "Source", ColType.TEXT, width=24, printed=False)
TRAILER = (NOTE, SOURCE)

FISCAL_YEAR = Column("fiscal_year", "ปีงบประมาณ (พ.ศ.)", "Fiscal year (BE)", ColType.YEAR,
                     required=True, width=10, structure=True)
BUDGET_SOURCES = ("พ.ร.บ.งบประมาณ", "เงินกองทุน", "พ.ร.บ.งบประมาณและเงินกองทุน", "งบกลาง")
# How budget sources are written in plans and reports (spaces and dots do not matter: พรบ. = พ.ร.บ.).
BUDGET_SOURCE_NAMES = aliases({
    "พ.ร.บ.งบประมาณ": ["งบประมาณรายจ่ายประจำปี", "งบประมาณแผ่นดิน", "Budget Act", "annual budget"],
    "เงินกองทุน": ["กองทุน", "เงินกองทุนส่งเสริม SME", "กองทุนส่งเสริม SME",
                   "เงินกองทุนส่งเสริมวิสาหกิจขนาดกลางและขนาดย่อม", "กองทุนส่งเสริมวิสาหกิจขนาดกลางและขนาดย่อม",
                   "SME Promotion Fund", "fund"],
    "พ.ร.บ.งบประมาณและเงินกองทุน": ["งบประมาณและเงินกองทุน", "พ.ร.บ.งบประมาณและกองทุน",
                                     "Budget Act and fund"],
    "งบกลาง": ["งบกลาง รายการเงินสำรองจ่ายเพื่อกรณีฉุกเฉินหรือจำเป็น", "เงินสำรองจ่ายเพื่อกรณีฉุกเฉินหรือจำเป็น",
               "central budget"],
})
BUDGET_SOURCE = Column("budget_source", "แหล่งงบประมาณ", "Budget source", ColType.CHOICE,
                       required=True, choices=BUDGET_SOURCES, width=14, structure=True, aliases=BUDGET_SOURCE_NAMES)

# The Budget Bureau's expenditure categories (หมวดงบรายจ่าย): a line's category decides which of the
# government's disbursement targets it is judged against (งบลงทุน: investment; the others: recurrent).
BUDGET_CATEGORIES = ("งบบุคลากร", "งบดำเนินงาน", "งบลงทุน", "งบเงินอุดหนุน", "งบรายจ่ายอื่น")
INVESTMENT_CATEGORIES = frozenset({"งบลงทุน"})
# Off paper (placed with the trailing columns that do not print): it picks the target a line is judged
# against; the printed tables are the report's, which has no category.
BUDGET_CATEGORY = Column(
    "budget_category", "หมวดงบรายจ่าย", "Budget category", ColType.CHOICE, choices=BUDGET_CATEGORIES, width=12,
    printed=False,
    aliases=aliases({
        "งบบุคลากร": ["บุคลากร", "personnel", "personnel expenditure"],
        "งบดำเนินงาน": ["ดำเนินงาน", "operating", "operating expenses", "operations"],
        "งบลงทุน": ["ลงทุน", "investment", "capital", "capital expenditure"],
        "งบเงินอุดหนุน": ["เงินอุดหนุน", "อุดหนุน", "subsidy", "subsidies", "grant", "grants"],
        "งบรายจ่ายอื่น": ["รายจ่ายอื่น", "other", "other expenditure", "other expenses"],
    }))

# Disbursement identities: ยอดรวม = เบิกจ่าย + ผูกพัน, คงเหลือ = งบประมาณ - ยอดรวม,
# and each amount as a percentage of the allocation.
DISBURSEMENT_AMOUNTS = (
    Column("allocated", "งบประมาณ", "Allocated", ColType.MONEY, required=True, rollup=True, width=16),
    Column("disbursed", "เบิกจ่าย", "Disbursed", ColType.MONEY, rollup=True, width=16,
           cumulative=True),
    Column("committed", "ผูกพัน", "Committed", ColType.MONEY, rollup=True, width=16),
    Column("total", "ยอดรวม", "Disbursed + committed", ColType.MONEY,
           formula=Sum("disbursed", "committed"), width=16, cumulative=True),
    Column("remaining", "คงเหลือ", "Remaining", ColType.MONEY,
           formula=Sum("allocated", "-total"), width=16),
    Column("pct_disbursed", "ร้อยละเบิกจ่าย", "% disbursed", ColType.PERCENT,
           formula=Pct("disbursed", "allocated"), width=8),
    Column("pct_committed", "ร้อยละผูกพัน", "% committed", ColType.PERCENT,
           formula=Pct("committed", "allocated"), width=8),
    Column("pct_total", "ร้อยละยอดรวม", "% total", ColType.PERCENT,
           formula=Pct("total", "allocated"), width=8),
    Column("pct_remaining", "ร้อยละคงเหลือ", "% remaining", ColType.PERCENT,
           formula=Pct("remaining", "allocated"), width=8),
)

SPENDING = SpendingRoles(budget="allocated", disbursed="disbursed", committed="committed", total="total",
                         remaining="remaining", pct_disbursed="pct_disbursed", pct_total="pct_total")

COMMON_META = (
    MetaField("agency", "หน่วยงาน", "Agency", "text", required=True),
    MetaField("fiscal_year", "ปีงบประมาณ (พ.ศ.)", "Fiscal year (BE)", "int", required=True),
    MetaField("quarter", "ไตรมาส", "Quarter", "int"),
    MetaField("as_of", "ข้อมูล ณ วันที่", "Data as of", "date", required=True),
    MetaField("title", "ชื่อรายงาน", "Report title", "text"),
)

QUARTERS = (1, 2, 3, 4)


def quarter_columns(prefix: str, th: str, en: str, col_type: ColType = ColType.NUMBER, *,
                    cumulative: bool = True, width: float = 10) -> tuple[Column, ...]:
    """One column per fiscal quarter (``prefix_q1`` ... ``prefix_q4``): a plan or a result to the end of each
    quarter, cumulative from the start of the fiscal year (so it must not go down)."""
    return tuple(Column(f"{prefix}_q{q}", f"{th} ไตรมาส {q}", f"{en} Q{q}", col_type, width=width,
                        cumulative=cumulative) for q in QUARTERS)
