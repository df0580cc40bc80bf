"""Solving a constraint system for one or two typed cells: the corrected values that make it consistent."""

from __future__ import annotations

from decimal import Decimal

from ...spec.base import Achievement, ColType, Pct
from ..context import Context
from .constraints import Cell, Constraint, Scenario, System

HUNDRED = Decimal(100)


class Solver(System):
    """Exact corrections: a value solved from a linear constraint (or an inverted percentage), then verified
    against every constraint the cell takes part in."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._near_cache: dict[tuple[Cell, int], set[int]] = {}  # near_units of a typed figure

    def _solve(self, x: Cell, cons: list[Constraint], sc: Scenario | None = None) -> list[Decimal]:
        """Values of ``x`` that may satisfy ``cons`` in scenario ``sc`` (to be verified)."""
        sc = sc or self.base
        b, i, c = x
        x0 = sc.rows.get(b, self.rb[b].rows)[i].get(c)
        x0 = x0 if isinstance(x0, Decimal) else Decimal(0)
        moved = Scenario(self, {**sc.changes, x: x0 + 1})
        out: list[Decimal] = []
        for con in sorted(cons, key=lambda k: not self._linear(k)):
            if con.at == x and con.kind in ("formula", "rollup"):
                exp = sc.calc(b).expected(i, c).value
                if isinstance(exp, Decimal):
                    return [exp]
                continue
            if self._linear(con):
                r0 = self._residual(con, sc)
                r1 = self._residual(con, moved)
                if r0 is None or r1 is None or r1 == r0:
                    continue
                return [x0 - r0 / (r1 - r0)]
            out += self._invert(x, x0, con, sc, moved)
        return out

    def _invert(self, x: Cell, x0: Decimal, con: Constraint, sc: Scenario, moved: Scenario) -> list[Decimal]:
        """Solve a stated percentage (or KPI achievement) for ``x``: the part or the whole behind it."""
        b, i, c = con.at
        formula = self.rb[b].block.column(c).formula
        rows = sc.rows.get(b, self.rb[b].rows)
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
        out = []
        for side, other in ((num, den), (den, num)):
            v0 = self._value((b, i, side), sc)
            slope = self._value((b, i, side), moved) - v0
            if slope == 0 or self._value((b, i, other), moved) != self._value((b, i, other), sc):
                continue
            fixed = self._value((b, i, other), sc)
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

    def explain_pair(self, x: Cell, y: Cell, cluster: list[Constraint]) -> tuple[Decimal, Decimal] | None:
        """Values of ``x`` and ``y`` that together satisfy every constraint either takes part in and all of
        ``cluster`` (a double fault). One of them is solved from the constraints only it takes part in, the
        other then from what is still violated; when both appear only in constraints they share, from a
        keystroke each (:meth:`_typo_pair`). Every solution is verified, so it is exact."""
        tx, ty = self.dependents(x), self.dependents(y)
        touched = tx | ty | set(cluster)
        for first, second, own, other in ((x, y, tx - ty, ty), (y, x, ty - tx, tx)):
            mine = [con for con in cluster if con in own]
            if not mine:
                continue
            for raw in self._solve(first, mine):
                for v in self._roundings(first, raw):
                    sc = Scenario(self, {first: v})
                    left = [con for con in sorted(other, key=_order) if not self.satisfied(con, sc)]
                    for raw2 in self._solve(second, left, sc) if left else []:
                        for w in self._roundings(second, raw2):
                            both = Scenario(self, {first: v, second: w})
                            if all(self.satisfied(con, both) for con in touched):
                                return (v, w) if first == x else (w, v)
        if not self.free_pair(tx, ty, cluster):
            return None
        return self._typo_pair(x, y, [con for con in cluster if con in tx and con in ty], touched)

    def free_pair(self, tx: set[Constraint], ty: set[Constraint], cluster: list[Constraint]) -> bool:
        """False when one of two cells takes part in a linear constraint outside ``cluster`` that the other does
        not: it holds now and would break with any change of that cell alone (a line's remaining beside its
        allocation), so the two cannot be corrected together by a keystroke each."""
        return not any(self._linear(con) for con in (tx ^ ty) - set(cluster))

    def _typo_pair(self, x: Cell, y: Cell, shared: list[Constraint],
                   touched: set[Constraint]) -> tuple[Decimal, Decimal] | None:
        """Two typed figures tied only by the constraints they share (two lines of one total) have a
        correction for every value of one of them: the one where both are a single keystroke from what is
        typed (a digit changed, added, dropped or two swapped) is the diagnosis, verified against every
        constraint."""
        x0, y0 = self._value(x, self.base), self._value(y, self.base)
        rows: list[tuple[Decimal, Decimal, Decimal]] = []  # a·dx + b·dy = c, c = -(stated - computed)
        for con in shared:
            r0 = self._residual(con, self.base) if self._linear(con) else None
            rx = self._residual(con, Scenario(self, {x: x0 + 1})) if r0 is not None else None
            ry = self._residual(con, Scenario(self, {y: y0 + 1})) if rx is not None else None
            if r0 is not None and rx is not None and ry is not None:
                rows.append((rx - r0, ry - r0, -r0))
        if not rows:
            return None
        for v, w in self.typo_solutions(x, y, *rows[0]):
            if all(a * (v - x0) + b * (w - y0) == c for a, b, c in rows[1:]):
                both = Scenario(self, {x: v, y: w})
                if all(self.satisfied(con, both) for con in touched):
                    return v, w
        return None

    def typo_solutions(self, x: Cell, y: Cell, a: Decimal, b: Decimal, c: Decimal) -> list[tuple[Decimal, Decimal]]:
        """Values ``v``, ``w`` each a single keystroke from what ``x``, ``y`` hold, with a·dv + b·dw = c. Only
        for coefficients ±1 (sums, differences, roll-ups, links), in whole units of the finest decimal, so the
        search is a set lookup per neighbour of ``x``."""
        typed_x, typed_y = (self.rb[cell[0]].rows[cell[1]].get(cell[2]) for cell in (x, y))
        if not isinstance(typed_x, Decimal) or not isinstance(typed_y, Decimal) or {abs(a), abs(b)} != {1}:
            return []  # a blank can take any value: no keystroke to undo
        scale = max(_places(typed_x), _places(typed_y), _places(c))
        units = Decimal(10) ** scale
        if abs(c) >= Decimal("1e20"):
            return []
        big_x, big_y, big_c = (int(v * units) for v in (typed_x, typed_y, c))
        near_y = self._near(y, typed_y, scale)
        out = []
        for big_v in sorted(self._near(x, typed_x, scale)):
            big_w = big_y + (big_c - int(a) * (big_v - big_x)) * int(b)
            if big_w in near_y:
                out.append((Decimal(big_v).scaleb(-scale), Decimal(big_w).scaleb(-scale)))
        return out

    def _near(self, cell: Cell, typed: Decimal, scale: int) -> set[int]:
        key = (cell, scale)
        if key not in self._near_cache:
            self._near_cache[key] = near_units(typed, scale)
        return self._near_cache[key]

def _order(con: Constraint) -> tuple[str, Cell, Cell]:
    """A fixed order of constraints (sets of them iterate in hash order, which varies from run to run)."""
    return (con.kind, con.at, con.other or con.at)


def _digits(value: object, places: int) -> str:
    if not isinstance(value, Decimal):
        return ""
    return f"{abs(value):.{places}f}" if places else f"{abs(value):.0f}"


def _places(value: object) -> int:
    if not isinstance(value, Decimal):
        return 0
    text = f"{abs(value):f}"
    return len(text.partition(".")[2].rstrip("0"))


def near_units(value: Decimal, scale: int) -> set[int]:
    """Every non-negative value a single keystroke from ``value`` as typed (a digit changed, added or dropped,
    or two adjacent digits swapped; the decimal point stays between the same digits), in units of
    ``10**-scale``: whole numbers, so that a search over them is set lookups. Values with more decimals than
    ``scale`` are left out."""
    text = _digits(value, _places(value))
    variants: set[str] = set()
    for n in range(len(text) + 1):
        for d in "0123456789":
            variants.add(text[:n] + d + text[n:])  # added
            if n < len(text) and text[n] != ".":
                variants.add(text[:n] + d + text[n + 1:])  # changed
        if n < len(text) and text[n] != ".":
            variants.add(text[:n] + text[n + 1:])  # dropped
        if n + 1 < len(text) and "." not in text[n:n + 2]:
            variants.add(text[:n] + text[n + 1] + text[n] + text[n + 2:])  # swapped
    out = set()
    for v in variants:
        whole, _, frac = v.partition(".")
        if len(frac) <= scale and (whole or frac):
            out.add(int(whole or 0) * 10 ** scale + int(frac.ljust(scale, "0") or 0))
    return out - {int(value * 10 ** scale)}  # a leading 0 added changes nothing


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

