"""Solving a constraint system for one or two typed cells: the corrected values that make it consistent."""

from __future__ import annotations

from decimal import Decimal

from ...spec.base import Achievement, ColType, Pct
from .constraints import Cell, Constraint, Scenario, System

HUNDRED = Decimal(100)


class Solver(System):
    """Exact corrections: a value solved from a linear constraint (or an inverted percentage), then verified
    against every constraint the cell takes part in."""

    def _solve(self, x: Cell, cons: list[Constraint]) -> list[Decimal]:
        """Values of ``x`` that may satisfy ``cons`` (to be verified)."""
        b, i, c = x
        x0 = self.base.rows.get(b, self.rb[b].rows)[i].get(c)
        x0 = x0 if isinstance(x0, Decimal) else Decimal(0)
        out: list[Decimal] = []
        for con in sorted(cons, key=lambda k: not self._linear(k)):
            if con.at == x and con.kind in ("formula", "rollup"):
                exp = self.calcs[b].expected(i, c).value
                if isinstance(exp, Decimal):
                    return [exp]
                continue
            if self._linear(con):
                r0 = self._residual(con, self.base)
                r1 = self._residual(con, Scenario(self, {x: x0 + 1}))
                if r0 is None or r1 is None or r1 == r0:
                    continue
                return [x0 - r0 / (r1 - r0)]
            out += self._invert(x, x0, con)
        return out

    def _invert(self, x: Cell, x0: Decimal, con: Constraint) -> list[Decimal]:
        """Solve a stated percentage (or KPI achievement) for ``x``: the part or the whole behind it."""
        b, i, c = con.at
        formula = self.rb[b].block.column(c).formula
        rows = self.rb[b].rows
        stated = rows[i].get(c)
        if not isinstance(stated, Decimal):
            return []
        if isinstance(formula, Pct):
            num, den = formula.part, formula.whole
        elif isinstance(formula, Achievement):
            lower = rows[i].get(formula.direction) == "<="
            num, den = (formula.target, formula.result) if lower else (formula.result, formula.target)
        else:
            return []
        moved = Scenario(self, {x: x0 + 1})
        out = []
        for side, other in ((num, den), (den, num)):
            v0 = self._value((b, i, side), self.base)
            slope = self._value((b, i, side), moved) - v0
            if slope == 0 or self._value((b, i, other), moved) != self._value((b, i, other), self.base):
                continue
            fixed = self._value((b, i, other), self.base)
            if side == num:
                want = stated * fixed / HUNDRED
            elif stated != 0:
                want = fixed * HUNDRED / stated
            else:
                continue
            out.append(x0 + (want - v0) / slope)
        return out

    def _roundings(self, cell: Cell, value: Decimal) -> list[Decimal]:
        b, _, c = cell
        kind = self.rb[b].block.column(c).type
        if kind is ColType.COUNT:
            steps = [Decimal(1), Decimal("0.01")]
        elif kind in (ColType.MONEY, ColType.PERCENT):
            steps = [Decimal("0.01")]
        else:
            steps = [Decimal(1), Decimal("0.01"), Decimal("0.0001")]
        if value < 0 and kind in (ColType.MONEY, ColType.COUNT):
            return []  # an amount or a count is never negative (cell.negative): no correction
        out = [value.quantize(s) for s in steps if abs(value) < Decimal("1e20")]
        return list(dict.fromkeys(out)) or [value]

    def explain_single(self, x: Cell, cluster: list[Constraint]) -> Decimal | None:
        """The value of ``x`` that satisfies every constraint it takes part in and all of ``cluster``."""
        touched = self.dependents(x)
        mine = [con for con in cluster if con in touched]
        for raw in self._solve(x, mine):
            for v in self._roundings(x, raw):
                sc = Scenario(self, {x: v})
                if all(self.satisfied(con, sc) for con in touched | set(cluster)):
                    return v
        return None


def _digits(value: object, places: int) -> str:
    if not isinstance(value, Decimal):
        return ""
    return f"{abs(value):.{places}f}" if places else f"{abs(value):.0f}"


def _places(value: object) -> int:
    if not isinstance(value, Decimal):
        return 0
    text = f"{abs(value):f}"
    return len(text.partition(".")[2].rstrip("0"))


def typo_distance(was: object, should: object) -> int:
    """How far a typed figure is from the corrected one in keystrokes: 1 for a transposed pair of digits,
    a digit changed, added or dropped (an extra or missing zero); more otherwise; 0 when equal. Both are
    written with the decimals the more precise one needs (4.01 against 4.10, not 4.1)."""
    places = max(_places(was), _places(should))
    a, b = _digits(was, places), _digits(should, places)
    if a == b:
        return 0
    if not a:
        return 1  # a figure left out
    if len(a) == len(b):
        diff = [n for n in range(len(a)) if a[n] != b[n]]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
            return 1
    # Levenshtein distance over the digits
    prev = list(range(len(b) + 1))
    for n, ca in enumerate(a, 1):
        cur = [n]
        for m, cb in enumerate(b, 1):
            cur.append(min(prev[m] + 1, cur[m - 1] + 1, prev[m - 1] + (ca != cb)))
        prev = cur
    return prev[-1]

