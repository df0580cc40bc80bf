"""Which of the government's disbursement targets a budget line is judged against, and how it measures up.

A line's *kind* comes from the line itself: a line of an earlier fiscal year than the report's is carry-over
(เงินกันไว้เบิกเหลื่อมปี); otherwise its budget category decides (งบลงทุน: investment, the other categories:
recurrent, none: overall). The target is the one configured for the report's fiscal year and that kind which
lists the line's budget source; a line of a source no target of the year lists is not judged at all. The
variance rule, the dashboard, the report pack and the ``OSMEP_DISBURSEMENT_FLAG`` UDF all go through
:func:`judge`, so that they agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ..money import percent
from ..spec.columns import BUDGET_CATEGORIES, INVESTMENT_CATEGORIES
from .config import Basis, DisbursementSettings, DisbursementTarget, Kind
from .quarters import quarter_reached

BASIS_TEXT: dict[Basis, tuple[str, str]] = {
    "disbursed_committed": ("เบิกจ่าย+ผูกพัน", "disbursed + committed"),
    "disbursed": ("เบิกจ่ายจริง", "disbursed only"),
}
KIND_TEXT: dict[Kind, tuple[str, str]] = {
    "overall": ("ภาพรวม", "overall"), "recurrent": ("รายจ่ายประจำ", "recurrent"),
    "investment": ("รายจ่ายลงทุน", "investment"), "carryover": ("เงินกันเหลื่อมปี", "carry-over"),
}


def line_kind(category: object, line_year: int, report_year: int) -> Kind:
    """The kind of target a line is judged against (see the module's docstring)."""
    if line_year < report_year:
        return "carryover"
    if category in INVESTMENT_CATEGORIES:
        return "investment"
    return "recurrent" if category in BUDGET_CATEGORIES else "overall"


@dataclass(frozen=True)
class Judgement:
    """A line measured against its target: both bases, and which one the settings judge on."""

    kind: Kind
    quarter: int
    report_year: int
    target: DisbursementTarget | None  # None: no target of this kind is configured for the year
    pct_disbursed: Decimal
    pct_total: Decimal  # disbursed + committed
    basis: Basis

    @property
    def goal(self) -> Decimal | None:
        """The cumulative target for the quarter; None when none is configured or its source states none."""
        return self.target.quarter(self.quarter) if self.target is not None else None

    @property
    def actual(self) -> Decimal:
        """The percentage on the judged basis."""
        return self.pct_total if self.basis == "disbursed_committed" else self.pct_disbursed

    @property
    def behind(self) -> bool:
        return self.goal is not None and self.actual < self.goal

    def both_bases(self) -> tuple[str, str]:
        """Both figures, the judged one marked (Thai, English)."""
        return both_bases_text(self.basis, self.pct_disbursed, self.pct_total)


def both_bases_text(basis: Basis, pct_disbursed: object, pct_total: object) -> tuple[str, str]:
    """:meth:`Judgement.both_bases` of two figures as given: a column of lines writes each group's text once,
    with format fields where the figures go."""
    judged_th, judged_en = BASIS_TEXT[basis]
    return (f"เบิกจ่ายจริง ร้อยละ {pct_disbursed} · เบิกจ่าย+ผูกพัน ร้อยละ {pct_total} (ตัดสินด้วย{judged_th})",
            f"disbursed only {pct_disbursed}% · disbursed + committed {pct_total}% (judged on {judged_en})")


def applicable_target(cfg: DisbursementSettings, kind: Kind, report_year: int,
                      budget_source: str | None) -> tuple[bool, DisbursementTarget | None]:
    """(whether the line is judged at all, its target). A line whose source no target of its kind lists is
    not judged; when the year has no target of that kind, a line of a source some target of the year lists
    (or of any source, when the year has none at all) is judged against nothing: the caller says so."""
    if budget_source is None or cfg.targets_for(report_year, kind):  # no source (a UDF): the kind's first
        hit = cfg.target_for(report_year, kind, budget_source)
        return budget_source is None or hit is not None, hit
    year_sources = {s for t in cfg.targets if t.fiscal_year == report_year for s in t.budget_sources}
    return (not year_sources or budget_source in year_sources), None


def judge(cfg: DisbursementSettings, *, line_year: int, report_year: int, as_of: dt.date,
          budget_source: str | None, category: object, allocated: object, disbursed: object,
          committed: object, kind: Kind | None = None) -> Judgement | None:
    """The line measured against its target, or None when there is nothing to measure (no allocation, no
    disbursed figure, a date before the year, a later year's line) or the line's source is not judged.
    ``kind`` overrides the kind the line's year and category give."""
    quarter = quarter_reached(as_of, report_year)
    if (quarter is None or line_year > report_year or not isinstance(allocated, Decimal) or allocated <= 0
            or not isinstance(disbursed, Decimal)):
        return None
    kind = kind or line_kind(category, line_year, report_year)
    judged, target = applicable_target(cfg, kind, report_year, budget_source)
    if not judged:
        return None
    spent = disbursed + (committed if isinstance(committed, Decimal) else Decimal(0))
    pct_disbursed, pct_total = percent(disbursed, allocated), percent(spent, allocated)
    if pct_disbursed is None or pct_total is None:
        return None
    return Judgement(kind, quarter, report_year, target, pct_disbursed, pct_total, cfg.basis)
