"""Generated quarterly data for the roll-forward tests: a disbursement and a KPI workbook at the end of Q1 of
FY2564, and the figures a monitoring unit types into each next quarter's workbook.

Disbursement (FY2564 report): the Budget Act's total T with an operating part A (งบดำเนินงาน: recurrent) and an
investment part B (งบลงทุน), the SME fund's total F (no target applies to the fund) and the FY2563 Budget Act
carry-over C. KPIs: K1 (target 100) and K2 (target 1,000), results cumulative.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from osmep_xl.check import recalc_result
from osmep_xl.xlsx.patch import WorkbookPatch
from osmep_xl.xlsx.read import read_workbook
from tests.cells import address
from tests.rule_cases import META, build, disb, kpi, kpi_blocks

ACT, FUND = "พ.ร.บ.งบประมาณ", "เงินกองทุน"
Q1_META = {**META, "quarter": 1, "as_of": "2020-12-31", "title": "รายงานทดสอบ ไตรมาส 1"}

# (code, fiscal year, budget source) -> column -> the cumulative figure typed at the end of each quarter.
Key = tuple[str, int, str]
DISBURSEMENT_TYPED: dict[int, dict[Key, dict[str, str]]] = {
    2: {("A", 2564, ACT): {"disbursed": "350", "committed": "120"},
        ("B", 2564, ACT): {"disbursed": "120", "committed": "150"},
        ("F", 2564, FUND): {"disbursed": "90"},
        ("C", 2563, ACT): {"disbursed": "170", "committed": "10"}},
    3: {("A", 2564, ACT): {"disbursed": "400", "committed": "60"},  # 76.67 % with commitments: behind 80 %
        ("B", 2564, ACT): {"disbursed": "200", "committed": "150"},
        ("F", 2564, FUND): {"disbursed": "100"},  # 33 %: the fund is judged against nothing
        ("C", 2563, ACT): {"disbursed": "160", "committed": "20"}},  # 170 -> 160: a slip, cumulative went down
}
KPI_TYPED: dict[int, dict[str, str]] = {2: {"K1": "55", "K2": "600"}, 3: {"K1": "80", "K2": "600"}}


def disbursement_q1(path: Path) -> Path:
    lines = [
        disb("total", "T", budget_source=ACT),
        disb("part", "A", "T", "600", "200", "100", budget_source=ACT, budget_category="งบดำเนินงาน",
             note="* ขยายเวลาถึง 31 ส.ค.64"),
        disb("part", "B", "T", "400", "40", "100", budget_source=ACT, budget_category="งบลงทุน"),
        disb("total", "F", None, "300", "30", "0", budget_source=FUND),
        disb("total", "C", None, "200", "150", "20", budget_source=ACT, fiscal_year=2563),
    ]
    return build(path, "disbursement", {"lines": lines}, Q1_META)


def kpi_q1(path: Path, k1: str = "30", k2: str = "300") -> Path:
    return build(path, "kpi", kpi_blocks(kpi("K1", "100", k1), kpi("K2", "1000", k2, note="เป้าประสงค์: ทดสอบ")),
                 Q1_META)


def type_in(path: Path, out: Path, cells: Mapping[tuple[str, str, str], Any]) -> Path:
    """``path`` copied to ``out`` with figures typed into it as a person would in Excel (sheet, A1 -> value),
    and its formulas recalculated as Excel does on each entry."""
    shutil.copyfile(path, out)
    patch = WorkbookPatch(out)
    for (sheet, cell, _), value in cells.items():
        patch.set_cell(sheet, cell, value)
    patch.save(out)
    recalc_result(out, out, backup=False)
    return out


def typed_cells(path: Path, quarter: int) -> dict[tuple[str, str, str], Any]:
    """Where this quarter's figures go in ``path`` (a disbursement or KPI workbook) and their values."""
    from decimal import Decimal

    wb = read_workbook(path)
    cells: dict[tuple[str, str, str], Any] = {}
    if wb.spec.id == "disbursement":
        rb = wb.blocks["lines"]
        for (code, year, source), figures in DISBURSEMENT_TYPED[quarter].items():
            for column, value in figures.items():
                at = address(rb, column, code, fiscal_year=year, budget_source=source)
                cells[(rb.sheet, at, column)] = Decimal(value)
    else:
        rb = wb.blocks["kpis"]
        for code, value in KPI_TYPED[quarter].items():
            cells[(rb.sheet, address(rb, "result", code), "result")] = Decimal(value)
    return cells
