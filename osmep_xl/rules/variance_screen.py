"""Which lines of a block the disbursement variance check must look at one by one.

Most lines are neither overspent nor behind their target: the block's amounts evaluated at once in exact
integers (:mod:`.model.columnar`), the percentages rounded as ``percent`` rounds them and each group's goal
(one :func:`.targets.judge` per fiscal year, budget source and category) show that without judging line by
line. A line that may have a finding, or that the goal cannot decide (no goal: it is listed as unmeasured),
takes the per-line path, which decides exactly as before; a line whose group has no goal and that is not
overspent is only listed as unmeasured, with its group's judgement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

import numpy as np

from ..model.columnar import MAX_PCT_INPUT, SCALE, BlockColumns, round_percent
from ..spec.base import SpendingRoles
from ..xlsx.read import ReadBlock
from .config import DisbursementSettings
from .targets import Judgement, judge

Goal = int | bool | Judgement  # see _goal


@dataclass
class Lines:
    """The lines of a block the variance check looks at, in order."""

    judged: Sequence[int]  # judged one by one: may be overspent or behind, or the screen cannot tell
    listed: list[tuple[int, Judgement]] = field(default_factory=list)  # in a group with no goal: only listed


def lines_to_judge(rb: ReadBlock, evaluated: BlockColumns | None, roles: SpendingRoles, cfg: DisbursementSettings,
                   as_of: dt.date, meta_year: int) -> Lines:
    """The lines of ``rb`` that may be overspent or judged (behind), and those only listed as unmeasured."""
    everything = Lines(range(len(rb.rows)))
    ids = (roles.budget, roles.disbursed, roles.committed)
    if evaluated is None or any(c not in evaluated.columns for c in ids):
        return everything
    budget, disbursed, committed = (evaluated.columns[c] for c in ids)
    spent = np.where(disbursed.known, disbursed.value, 0) + np.where(committed.known, committed.value, 0)
    if max(float(np.abs(budget.value).max(initial=0)), float(np.abs(spent).max(initial=0))) > MAX_PCT_INPUT:
        return everything
    candidate = np.zeros(len(rb.rows), np.bool_)
    if roles.total in rb.columns and roles.total in evaluated.columns:
        total = evaluated.columns[roles.total]
        candidate |= budget.known & total.known & (total.value > budget.value)
    measured = budget.known & (budget.value > 0) & disbursed.known
    safe = np.where(measured, budget.value, 1)
    actual = round_percent(spent if cfg.basis == "disbursed_committed" else disbursed.value, safe)
    goals: dict[tuple[Any, ...], Goal] = {}
    levels = set(cfg.levels)
    unmeasured: list[tuple[int, Judgement]] = []
    level, year, source, category = map(rb.rows.column, ("level", "fiscal_year", "budget_source", "budget_category"))
    for i in np.flatnonzero(measured).tolist():
        if level[i] not in levels:
            continue
        key = (year[i] or meta_year, source[i], category[i])
        goal = goals.get(key)
        if goal is None:
            goal = goals[key] = _goal(cfg, key, as_of, meta_year)
        if goal is False:
            continue  # not judged (no quarter reached yet, a later year, a source not judged)
        if isinstance(goal, Judgement):
            unmeasured.append((i, goal))
        elif goal is True or int(actual[i]) < goal:
            candidate[i] = True
    # An overspent line of a group with no goal is judged one by one, which lists it too.
    return Lines(np.flatnonzero(candidate).tolist(), [(i, j) for i, j in unmeasured if not candidate[i]])


def _goal(cfg: DisbursementSettings, key: tuple[Any, ...], as_of: dt.date, meta_year: int) -> Goal:
    """The goal of a group of lines in whole hundredths (a line is behind when its percentage is below it);
    False when no line of the group is judged; the group's judgement when it has no goal (its kind, quarter
    and target, which do not depend on a line's amounts: every line is listed as unmeasured)."""
    line_year, source, category = key
    if type(line_year) is not int:
        return True  # not a year: judge decides line by line
    j = judge(cfg, line_year=line_year, report_year=meta_year, as_of=as_of,
              budget_source=source, category=category,
              allocated=Decimal(1), disbursed=Decimal(0), committed=None)
    if j is None:
        return False
    if j.goal is None:
        return j
    return int((j.goal * SCALE).to_integral_value(rounding=ROUND_CEILING))
