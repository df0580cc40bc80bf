"""The rule registry: every rule is declared once, beside the check that raises it.

A :class:`Rule` is the typed handle of one catalogue entry (id, severity, Thai and English text); a
finding can only be made through it, so no finding carries an id the catalogue lacks. A *check* is one
function registered with the rules it may raise: ``@check(...)`` runs on each template read,
``@cross_check(...)`` on a set of templates validated together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ..findings import Finding, Severity

if TYPE_CHECKING:
    from .context import Context, WorkbookSet

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Rule:
    """One catalogue entry; :meth:`at` makes a finding of it."""

    id: str
    severity: Severity
    th: str
    en: str

    def at(self, sheet: str, cell: str, *, expected: Decimal | str | None = None,
           actual: Decimal | str | None = None, th: str = "", en: str = "") -> Finding:
        """A finding of this rule at ``sheet!cell``; ``th``/``en`` add the specifics to the rule's text."""
        return Finding(
            rule=self.id, severity=self.severity, sheet=sheet, cell=cell, expected=expected, actual=actual,
            message_th=f"{self.th}: {th}" if th else self.th,
            message_en=f"{self.en}: {en}" if en else self.en,
        )


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: Severity, th: str, en: str) -> Rule:
    """Declare a rule; its id must be new."""
    rule_id = str(rule_id)  # a reader's problem enum names its rule by value
    if rule_id in RULES:
        raise ValueError(f"rule {rule_id} is declared twice")
    RULES[rule_id] = entry = Rule(rule_id, severity, th, en)
    return entry


PerWorkbook = Callable[["Context"], Iterable[Finding]]
PerSet = Callable[["WorkbookSet"], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    """A registered check and the rules it may raise."""

    name: str
    rules: frozenset[str]
    run: PerWorkbook | None = None
    run_set: PerSet | None = None
    templates: tuple[str, ...] = ()  # for a cross-template check: the templates it needs


CHECKS: list[Check] = []


def check(*rules: Rule) -> Callable[[PerWorkbook], PerWorkbook]:
    """Register a check that runs on every template read."""
    def register(fn: PerWorkbook) -> PerWorkbook:
        CHECKS.append(Check(fn.__qualname__, frozenset(r.id for r in rules), run=fn))
        return fn
    return register


def cross_check(*rules: Rule, templates: tuple[str, ...]) -> Callable[[PerSet], PerSet]:
    """Register a check over several templates; it runs when every one of ``templates`` is present."""
    def register(fn: PerSet) -> PerSet:
        CHECKS.append(Check(fn.__qualname__, frozenset(r.id for r in rules), run_set=fn, templates=templates))
        return fn
    return register


def unregister(fn: Callable[..., object]) -> None:
    """Remove a registered check (for tests that register their own)."""
    CHECKS[:] = [c for c in CHECKS if c.run is not fn and c.run_set is not fn]
