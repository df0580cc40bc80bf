"""Disbursement tables with many projects listed in code order, so that each parent's children are
interleaved with every other parent's (as when an agency sorts its lines by project code), with the
parent codes that make a criteria match go wrong: numeric-looking codes that are equal as numbers
("1.1" and "1.10"), a code used at two levels, a wildcard character, lines without a parent code, and
two budget sources with the same codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from osmep_xl.model.workbook import WorkbookData

FY = Decimal(2564)
SOURCES = ("พ.ร.บ.งบประมาณ", "เงินกองทุน")
# Strategies under each part: "1.1" and "1.10" are the same number; "9" is also a part's code; "2*" would be a
# wildcard to SUMIFS.
GROUPS = {"1": ("1.1", "1.10", "1.2"), "2": ("2*", "2.1"), "3": ("3.1",), "9": ("9",)}


def interleaved_rows(projects: int, *, sources: tuple[str, ...] = SOURCES) -> list[dict[str, Any]]:
    """Per budget source: its total, parts and strategies, then ``projects`` projects (over all sources)
    cycling through the strategies of both sources, so no parent's lines are next to each other."""
    head: list[dict[str, Any]] = []
    strategies: list[tuple[str, str]] = []
    for source in sources:
        base = {"fiscal_year": FY, "budget_source": source}
        head.append({**base, "level": "total", "code": "T", "name": f"รวม {source}"})
        for part, codes in GROUPS.items():
            head.append({**base, "level": "part", "code": part, "parent": "T", "name": f"ส่วน {part}"})
            for code in codes:
                head.append({**base, "level": "strategy", "code": code, "parent": part, "name": f"ยุทธศาสตร์ {code}"})
                strategies.append((source, code))
    lines: list[dict[str, Any]] = []
    for p in range(projects):
        source, parent = strategies[p % len(strategies)]
        if p % 997 == 5:
            parent = None  # a line without a parent code: in no total
        lines.append({
            "fiscal_year": FY, "budget_source": source, "level": "project", "code": f"P{p}",
            "parent": parent, "name": f"โครงการ {p}",
            "allocated": Decimal(1000 + p % 977) * 1000 + Decimal(p % 100) / 100,
            "disbursed": Decimal(p % 701) * 100 if p % 7 else None,
            "committed": Decimal(p % 13) * 10 + Decimal("0.05") if p % 3 else None,
        })
    return head + lines


def interleaved(projects: int) -> WorkbookData:
    """:func:`interleaved_rows` as a disbursement workbook's data."""
    return WorkbookData(template="disbursement", meta={"agency": "สสว.", "fiscal_year": 2564},
                        blocks={"lines": interleaved_rows(projects)})
