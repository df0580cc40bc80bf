"""Monthly spending plan and actual: each project's budget after transfers, its plan and its disbursement
month by month, and the cumulative and quarterly figures to the as-of date.

Rows follow the action plan (total → part → strategy → tactic → project) within each fiscal year and budget
source: a budget source is a group of the table with its own total row, as in the action plan and the
disbursement templates, so that the same codes and levels match across the three. The monthly columns are the
months of the information sheet's fiscal year (the as-of date's), whatever a row's own budget year: a carried-over
FY2563 line records what it spends in FY2564's months.
"""

from __future__ import annotations

from .base import Block, ColType, Column, Pct, SpendingRoles, Sum, SumToMonth, TemplateSpec, aliases, load_skeleton
from .columns import (
    BUDGET_CATEGORY,
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

LEVELS = (LEVEL_TOTAL, LEVEL_SUBMITTER, LEVEL_PART, LEVEL_STRATEGY, LEVEL_TACTIC, LEVEL_PROJECT)

# The fiscal year's months in order (ต.ค. … ก.ย.): column id suffix, Thai and English names.
MONTHS = (
    ("oct", "ต.ค.", "Oct"), ("nov", "พ.ย.", "Nov"), ("dec", "ธ.ค.", "Dec"), ("jan", "ม.ค.", "Jan"),
    ("feb", "ก.พ.", "Feb"), ("mar", "มี.ค.", "Mar"), ("apr", "เม.ย.", "Apr"), ("may", "พ.ค.", "May"),
    ("jun", "มิ.ย.", "Jun"), ("jul", "ก.ค.", "Jul"), ("aug", "ส.ค.", "Aug"), ("sep", "ก.ย.", "Sep"),
)
PLAN_MONTHS = tuple(f"plan_{m}" for m, _, _ in MONTHS)
ACTUAL_MONTHS = tuple(f"actual_{m}" for m, _, _ in MONTHS)

IN_PROGRESS, CANCELLED, EXTENDED = "ดำเนินการ", "ยกเลิก", "ขยายเวลา"
STATUS = Column("status", "สถานะ", "Status", ColType.CHOICE, choices=(IN_PROGRESS, CANCELLED, EXTENDED), width=10,
                aliases=aliases({
                    IN_PROGRESS: ["กำลังดำเนินการ", "อยู่ระหว่างดำเนินการ", "in progress", "ongoing"],
                    CANCELLED: ["ยกเลิกโครงการ", "cancelled", "canceled"],
                    EXTENDED: ["ขยายระยะเวลา", "extended"],
                }))
# Text, as reports write it ("31 ส.ค.64"); a date typed in Excel reads as ISO. The rules parse either.
END_DATE = Column("end_date", "วันสิ้นสุด/ยกเลิก", "End or cancellation date", ColType.TEXT, width=12)


def _money(column_id: str, th: str, en: str, **options: object) -> Column:
    return Column(column_id, th, en, ColType.MONEY, width=16, **options)  # type: ignore[arg-type]


# The quarters and the months stay in the workbook but are left off paper (they are the table's last columns, so
# the layout drops them): 32 more columns would print over seven pages across. The budget and the cumulative
# figures to the as-of month print.
def _quarters(kind: str, months: tuple[str, ...], th: str, en: str) -> tuple[Column, ...]:
    return tuple(_money(f"{kind}_q{q}", f"{th} ไตรมาส {q}", f"{en} Q{q}", formula=Sum(*months[3 * q - 3:3 * q]),
                        printed=False) for q in range(1, 5))


def _months(kind: str, th: str, en: str) -> tuple[Column, ...]:
    return tuple(_money(f"{kind}_{m}", f"{th} {m_th}", f"{en} {m_en}", rollup=True, printed=False)
                 for m, m_th, m_en in MONTHS)


PLAN_QUARTERS = _quarters("plan", PLAN_MONTHS, "แผน", "Plan")
ACTUAL_QUARTERS = _quarters("actual", ACTUAL_MONTHS, "ผล", "Actual")

BUDGET_ACT = _money("budget_act", "งบตาม พ.ร.บ./มติ", "Budget per Act / resolution", required=True, rollup=True)
TRANSFER_IN = _money("transfer_in", "โอนเข้า", "Transferred in", rollup=True)
TRANSFER_OUT = _money("transfer_out", "โอนออก", "Transferred out", rollup=True)
REVISED = _money("revised", "งบหลังโอน", "Revised budget",
                 formula=Sum(BUDGET_ACT.id, TRANSFER_IN.id, f"-{TRANSFER_OUT.id}"))
PLAN_CUM = _money("plan_cum", "แผนสะสม", "Cumulative plan", formula=SumToMonth(PLAN_MONTHS))
ACTUAL_CUM = _money("actual_cum", "ผลเบิกจ่ายสะสม", "Cumulative actual", formula=SumToMonth(ACTUAL_MONTHS),
                    cumulative=True)
COMMITTED = _money("committed", "ผูกพัน", "Committed", rollup=True)
TOTAL = _money("total", "เบิกจ่าย+ผูกพัน", "Disbursed + committed", formula=Sum(ACTUAL_CUM.id, COMMITTED.id),
               cumulative=True)
REMAINING = _money("remaining", "คงเหลือ", "Remaining", formula=Sum(REVISED.id, f"-{TOTAL.id}"))
PCT_DISBURSED = Column("pct_disbursed", "ร้อยละเบิกจ่าย", "% disbursed", ColType.PERCENT,
                       formula=Pct(ACTUAL_CUM.id, REVISED.id), width=8)
PCT_TOTAL = Column("pct_total", "ร้อยละเบิกจ่าย+ผูกพัน", "% disbursed + committed", ColType.PERCENT,
                   formula=Pct(TOTAL.id, REVISED.id), width=8)

AMOUNTS = (
    BUDGET_ACT, TRANSFER_IN, TRANSFER_OUT, REVISED, BUDGET_CATEGORY, STATUS, END_DATE,
    PLAN_CUM, ACTUAL_CUM, COMMITTED, TOTAL, REMAINING, PCT_DISBURSED, PCT_TOTAL,
    *(c for pair in zip(PLAN_QUARTERS, ACTUAL_QUARTERS, strict=True) for c in pair),
    *_months("plan", "แผน", "Plan"),
    *_months("actual", "ผล", "Actual"),
)

SPENDING = SpendingRoles(budget=REVISED.id, disbursed=ACTUAL_CUM.id, committed=COMMITTED.id, total=TOTAL.id,
                         remaining=REMAINING.id, pct_disbursed=PCT_DISBURSED.id, pct_total=PCT_TOTAL.id)
BLOCK_ID = "projects"

SPEC = TemplateSpec(
    id="spending_plan",
    version="1.0",
    title_th="แผน/ผลการใช้จ่ายงบประมาณรายเดือน",
    title_en="Monthly spending plan and actual",
    blocks=(
        Block(
            id=BLOCK_ID, sheet="แผนผลรายเดือน",
            title_th="แผน/ผลการใช้จ่ายงบประมาณรายเดือน รายโครงการ", title_en="Monthly spending plan and actual by project",
            levels=LEVELS,
            group_by=("fiscal_year", "budget_source"),
            columns=(FISCAL_YEAR, BUDGET_SOURCE, level_column(LEVELS), CODE, PARENT, NAME, *AMOUNTS, *TRAILER),
            spending=SPENDING,
        ),
    ),
    meta=COMMON_META,
    skeleton=load_skeleton("spending_plan"),
    period="month",  # tracked month by month: next-period starts the next month's workbook
)
