"""Root-cause diagnosis: one typo is one finding, at the typed cell.

The checks report each stated figure that disagrees with its computation. One wrong typed figure
usually breaks several of them (a line's allocation breaks its parent's roll-up, its remaining and
four percentages); this step finds the typed cell that explains them all and reports it.

It is consistency-based diagnosis (de Kleer & Williams' GDE, Reiter's hitting sets) over a small
linear problem drawn only from the spec:

* the *components* are the typed cells: every stated number, and every blank input cell (a figure
  left out), and the parent codes of rows;
* the *constraints* are what the spec says must hold: each stated derived cell equals its
  :class:`~osmep_xl.spec.base.Formula` (sums, differences, percentages, KPI achievement), each stated
  parent equals the sum of its lines (:class:`~osmep_xl.model.evaluate.Structure`, every level), the
  two sides of each :class:`~osmep_xl.spec.base.Link`, and each number equals the figure its
  "as stated" text gives (:class:`~osmep_xl.spec.base.StatedText`);
* the *conflict* of a violated constraint is the set of typed cells it depends on (through cells that
  are computed, never through a typed one); violated constraints sharing typed cells form a cluster.

A single-fault diagnosis of a cluster is a typed cell in every conflict whose one corrected value
satisfies every constraint it takes part in. The value is solved from a linear constraint (sums and
differences are exact in Decimal; a percentage is inverted) and then checked against all of them, so
the result is exact, not a guess. One diagnosis is reported as the cause (:data:`CAUSE`, ``expected``
= the corrected value); several are one finding listing them (most typo-like first); a parent code
that moves a line between two parents, or a row entered twice, is tried when no single figure
explains the clusters it touches. The cluster's other findings name the cause (``Finding.cause``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..findings import Finding, Severity
from ..model.evaluate import BlockCalc, Structure, resolve_structure
from ..money import EXCEL
from ..spec.base import Achievement, ColType, Column, Pct, Value
from ..xlsx.read import ReadBlock
from .catalog import E, rule
from .context import Context

CAUSE = rule("diagnosis.cause", E, "ช่องนี้ที่พิมพ์ผิดทำให้ตัวเลขอื่นไม่ตรงกัน แก้ช่องนี้ช่องเดียวแล้วทุกอย่างตรงกัน",
             "this typed cell is the cause: correcting it alone makes every related figure agree")
STATED_TEXT = rule("diagnosis.stated_text", E, "ตัวเลขไม่ตรงกับข้อความที่ระบุไว้ข้างกัน",
                   "a figure differs from the text stating it beside it")

Cell = tuple[str, int, str]  # (block id, row index, column id)
MAX_CANDIDATES = 12  # listed in an ambiguous cause
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Constraint:
    """One relation the spec requires; ``at`` is the stated cell it is checked at."""

    kind: str  # "formula" | "rollup" | "link" | "text"
    at: Cell
    other: Cell | None = None  # a link's other side

    @property
    def cells(self) -> tuple[Cell, ...]:
        return (self.at,) if self.other is None else (self.at, self.other)


@dataclass
class Diagnosis:
    """What explains a group of violated constraints."""

    cause: Cell | None  # the typed cell (None when only a row explains it)
    value: Value  # its corrected value
    explains: list[Constraint]
    candidates: list[tuple[Cell, Value]] = field(default_factory=list)  # when ambiguous, most likely first
    at: Cell | None = None  # where the finding goes, when not the cause cell (a row's code)
    what: str = "value"  # "value" | "parent" | "duplicate"


class Scenario:
    """The workbook with a few typed cells changed (and perhaps a parent code or a row removed)."""

    def __init__(self, dx: Diagnoser, changes: dict[Cell, Value], structures: dict[str, Structure] | None = None,
                 rows: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.dx = dx
        self.changes = changes
        self.structures = structures or {}
        self.rows = dict(rows or {})
        for (b, i, c), v in changes.items():
            rows_b = self.rows.setdefault(b, list(dx.rb[b].rows))
            if rows_b is dx.rb[b].rows:
                rows_b = self.rows[b] = list(rows_b)
            rows_b[i] = {**rows_b[i], c: v}
        self._calcs: dict[tuple[str, bool], BlockCalc] = {}

    def calc(self, b: str, excel: bool = False) -> BlockCalc:
        if b not in self.rows and b not in self.structures:
            return self.dx.ctx.as_excel[b] if excel else self.dx.calcs[b]
        key = (b, excel)
        if key not in self._calcs:
            rb = self.dx.rb[b]
            self._calcs[key] = BlockCalc(rb.block, self.rows.get(b, rb.rows), formula_cells=rb.formula_cells,
                                         structure=self.structures.get(b) or self.dx.calcs[b].structure,
                                         arith=EXCEL if excel else self.dx.calcs[b].arith,
                                         meta=self.dx.calcs[b].meta)
        return self._calcs[key]


def _what(cell: Cell) -> str:
    return "parent" if cell[2] == "parent" else "value"


def _keyed(rb: ReadBlock, keys: list[str], levels: tuple[str, ...]) -> dict[tuple[Any, ...], int]:
    return {tuple(r.get(k) for k in keys): i for i, r in enumerate(rb.rows)
            if not levels or r.get("level") in levels}


class Diagnoser:
    """The constraints of one workbook and the search for the typed cells that break them."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.calcs = ctx.calcs
        self.rb: dict[str, ReadBlock] = ctx.workbook.blocks
        self.base = Scenario(self, {})
        self.violated_text: list[Constraint] = []
        self.violated_all: list[Constraint] = []
        self._links: dict[Cell, list[Constraint]] = defaultdict(list)
        self.link_constraints: list[Constraint] = []
        for link in ctx.workbook.spec.links:
            if link.left_block not in self.rb or link.right_block not in self.rb:
                continue
            left, right = self.rb[link.left_block], self.rb[link.right_block]
            if link.left_column not in left.columns or link.right_column not in right.columns:
                continue
            keys = [k for k in left.block.key_columns if k in right.block.key_columns]
            rkeys = _keyed(right, keys, link.levels)
            for key, li in _keyed(left, keys, link.levels).items():
                ri = rkeys.get(key)
                if ri is None:
                    continue
                con = Constraint("link", (link.right_block, ri, link.right_column),
                                 (link.left_block, li, link.left_column))
                self.link_constraints.append(con)
                for cell in con.cells:
                    self._links[cell].append(con)
        # derived columns of each block by the columns they use
        self._users: dict[str, dict[str, list[Column]]] = {}
        for b, rb in self.rb.items():
            users: dict[str, list[Column]] = defaultdict(list)
            for col in rb.block.columns:
                if col.formula is not None and self._checked(b, col):
                    for dep in col.formula.inputs:
                        users[dep].append(col)
            self._users[b] = users

    # ----- the constraints -------------------------------------------------------------------------------------

    def _checked(self, b: str, col: Column) -> bool:
        rb = self.rb[b]
        if col.id not in rb.columns:
            return False
        return col.formula is None or all(dep in rb.columns for dep in col.formula.inputs)

    def constraints(self, b: str, rows: Iterable[int] | None = None,
                    sc: Scenario | None = None) -> Iterator[Constraint]:
        """Every constraint of block ``b`` (on ``rows``), as the scenario's structure has them."""
        sc = sc or self.base
        rb = self.rb[b]
        calc = sc.calc(b)
        for i in range(len(calc.rows)) if rows is None else rows:
            for col in rb.block.columns:
                if not self._checked(b, col):
                    continue
                if calc.is_computable(i, col) and calc.is_stated(i, col.id):
                    yield Constraint("formula" if col.formula is not None else "rollup", (b, i, col.id))
                if col.stated_from is not None and col.stated_from.column in rb.columns:
                    yield Constraint("text", (b, i, col.id))

    def satisfied(self, con: Constraint, sc: Scenario) -> bool:
        b, i, c = con.at
        calc = sc.calc(b)
        col = self.rb[b].block.column(c)
        if con.kind == "text":
            number, stated = self._text_pair(con, sc)
            return not isinstance(number, Decimal) or stated is None or not self.ctx.differs(col, number, stated)
        if con.kind == "link":
            assert con.other is not None
            ob, oi, oc = con.other
            rv, lv = calc.cell(i, c), sc.calc(ob).cell(oi, oc)
            return not (rv.has_data and lv.has_data) or not self.ctx.differs(col, rv.value, lv.value)
        if not calc.is_stated(i, c):
            return True
        exp = calc.expected(i, c)
        if not exp.has_data or not self.ctx.differs(col, calc.rows[i][c], exp.value):
            return True
        if isinstance(col.formula, (Pct, Achievement)):  # what Excel itself shows at a rounding tie is right
            alt = sc.calc(b, excel=True).expected(i, c)
            return alt.has_data and not self.ctx.differs(col, calc.rows[i][c], alt.value)
        return False

    def violated(self) -> list[Constraint]:
        out = [con for b in self.rb for con in self.constraints(b) if not self.satisfied(con, self.base)]
        out += [con for con in self.link_constraints if not self.satisfied(con, self.base)]
        self.violated_text = [con for con in out if con.kind == "text"]
        return out

    # ----- conflicts: the typed cells a constraint depends on ------------------------------------------------

    def _typed(self, cell: Cell, calc: BlockCalc) -> bool:
        """A component: a stated figure, or a blank input cell (a figure left out)."""
        b, i, c = cell
        col = self.rb[b].block.column(c)
        if not col.type.numeric or col.type is ColType.YEAR:
            return False
        return calc.is_stated(i, c) or not calc.is_computable(i, col)

    def _inputs(self, b: str, i: int, c: str, calc: BlockCalc, out: set[Cell]) -> None:
        """The typed cells the value of (i, c) comes from (the cell itself when it is typed)."""
        col = self.rb[b].block.column(c)
        if not col.type.numeric or c not in self.rb[b].columns:
            return
        if self._typed((b, i, c), calc):
            out.add((b, i, c))
            return
        self._computed_from(b, i, c, calc, out)

    def _computed_from(self, b: str, i: int, c: str, calc: BlockCalc, out: set[Cell]) -> None:
        col = self.rb[b].block.column(c)
        if col.formula is not None:
            for dep in col.formula.inputs:
                self._inputs(b, i, dep, calc, out)
        elif col.rollup:
            for k in calc.structure.children.get(i, []):
                self._inputs(b, k, c, calc, out)

    def conflict(self, con: Constraint) -> set[Cell]:
        out: set[Cell] = set()
        b, i, c = con.at
        calc = self.calcs[b]
        if con.kind in ("formula", "rollup"):
            out.add(con.at)
            self._computed_from(b, i, c, calc, out)
        elif con.kind == "text":
            self._inputs(b, i, c, calc, out)
        else:
            assert con.other is not None
            self._inputs(b, i, c, calc, out)
            ob, oi, oc = con.other
            self._inputs(ob, oi, oc, self.calcs[ob], out)
        return out

    def dependents(self, cell: Cell, sc: Scenario | None = None) -> set[Constraint]:
        """Every constraint whose value changes with ``cell`` (violated or not)."""
        sc = sc or self.base
        out: set[Constraint] = set()
        b, i, c = cell
        calc = sc.calc(b)
        col = self.rb[b].block.column(c)
        if calc.is_computable(i, col) and calc.is_stated(i, c) and self._checked(b, col):
            out.add(Constraint("formula" if col.formula is not None else "rollup", cell))
        if col.stated_from is not None and col.stated_from.column in self.rb[b].columns:
            out.add(Constraint("text", cell))
        seen: set[tuple[int, str]] = set()
        todo = [(i, c)]
        while todo:
            i, c = todo.pop()
            if (i, c) in seen:
                continue
            seen.add((i, c))
            out.update(self._links.get((b, i, c), ()))
            for user in self._users[b].get(c, ()):
                if calc.is_stated(i, user.id):
                    out.add(Constraint("formula", (b, i, user.id)))
                else:
                    todo.append((i, user.id))
            if self.rb[b].block.column(c).rollup and i in calc.structure.parent:
                p = calc.structure.parent[i]
                if calc.is_stated(p, c):
                    out.add(Constraint("rollup", (b, p, c)))
                else:
                    todo.append((p, c))
        return out

    # ----- solving one cell ----------------------------------------------------------------------------------

    def _text_pair(self, con: Constraint, sc: Scenario) -> tuple[Value, Decimal | None]:
        """A text constraint's number as the sheet has it and the number its "as stated" text gives."""
        b, i, c = con.at
        col = self.rb[b].block.column(c)
        assert col.stated_from is not None
        row = sc.calc(b).rows[i]
        return sc.calc(b).cell(i, c).value, col.stated_from.number(row.get(col.stated_from.column))

    def _residual(self, con: Constraint, sc: Scenario) -> Decimal | None:
        """stated - computed of a linear constraint; None when it does not apply."""
        b, i, c = con.at
        calc = sc.calc(b)
        if con.kind == "text":
            number, stated = self._text_pair(con, sc)
            if stated is None:
                return None
            return (number if isinstance(number, Decimal) else Decimal(0)) - stated
        if con.kind == "link":
            assert con.other is not None
            ob, oi, oc = con.other
            rv, lv = calc.cell(i, c).value, sc.calc(ob).cell(oi, oc).value
            return (rv if isinstance(rv, Decimal) else Decimal(0)) - (lv if isinstance(lv, Decimal) else Decimal(0))
        stated = calc.rows[i].get(c)
        exp = calc.expected(i, c).value
        if not isinstance(stated, Decimal) or not isinstance(exp, Decimal):
            return None
        return stated - exp

    def _value(self, cell: Cell, sc: Scenario) -> Decimal:
        b, i, c = cell
        v = sc.calc(b).cell(i, c).value
        return v if isinstance(v, Decimal) else Decimal(0)

    def _linear(self, con: Constraint) -> bool:
        if con.kind != "formula":
            return True
        b, _, c = con.at
        formula = self.rb[b].block.column(c).formula
        return formula is not None and formula.linear

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

    # ----- structural hypotheses: a wrong parent code, a row entered twice ----------------------------------

    def _rescan(self, b: str, sc: Scenario) -> set[Constraint]:
        return {con for con in self.constraints(b, sc=sc) if not self.satisfied(con, sc)} | {
            con for con in self.link_constraints if b in (con.at[0], (con.other or con.at)[0])
            and not self.satisfied(con, sc)}

    def moved_parents(self, violated: list[Constraint]) -> Iterator[tuple[Cell, str, set[Constraint]]]:
        """(parent-code cell, the right code, constraints it explains): a line under the wrong parent leaves
        its right parent short by exactly its own figure (and the wrong one over, when that one is typed)."""
        rollups = [con for con in violated if con.kind == "rollup"]
        tried: set[tuple[str, int, str]] = set()
        for short in rollups:
            b, s, c = short.at
            r_short = self._residual(short, self.base)
            if r_short is None or r_short <= 0:
                continue
            rb, calc = self.rb[b], self.calcs[b]
            block = rb.block
            ranks = {lv.id: n for n, lv in enumerate(block.levels)}
            rank_s = ranks.get(rb.rows[s].get("level") or "", len(ranks))
            code = rb.rows[s].get("code")
            group = tuple(rb.rows[s].get(g) for g in block.group_by)
            for k, row in enumerate(rb.rows):
                if (k == s or calc.structure.parent.get(k) == s or ranks.get(row.get("level") or "", -1) <= rank_s
                        or tuple(row.get(g) for g in block.group_by) != group
                        or self._value((b, k, c), self.base) != r_short or (b, k, str(code)) in tried):
                    continue
                tried.add((b, k, str(code)))
                rows = list(rb.rows)
                rows[k] = {**rows[k], "parent": code}
                structure = resolve_structure(block, rows)
                if structure.parent.get(k) != s:
                    continue
                sc = Scenario(self, {}, {b: structure}, {b: rows})
                left = self._rescan(b, sc)
                before = {con for con in violated if con.at[0] == b or (con.other or con.at)[0] == b}
                if left <= before:
                    yield (b, k, "parent"), str(code), before - left

    def moved_out(self, violated: list[Constraint]) -> Iterator[tuple[Cell, str, set[Constraint]]]:
        """(parent-code cell, the codes that would do, constraints it explains): a line under a typed parent
        that its figures put over by exactly their amount, whose right parent may carry no typed figure (so
        only the wrong parent shows the move)."""
        for over in [con for con in violated if con.kind == "rollup"]:
            b, p, c = over.at
            r_over = self._residual(over, self.base)
            if r_over is None or r_over >= 0 or "parent" not in self.rb[b].columns:
                continue
            rb, calc = self.rb[b], self.calcs[b]
            block = rb.block
            ranks = {lv.id: n for n, lv in enumerate(block.levels)}
            before = {con for con in violated if con.at[0] == b or (con.other or con.at)[0] == b}
            for k in calc.structure.children.get(p, []):
                if self._value((b, k, c), self.base) != -r_over or k in calc.structure.duplicates:
                    continue  # (a row entered twice is tried as such)
                rank_k = ranks.get(rb.rows[k].get("level") or "", 0)
                group = tuple(rb.rows[k].get(g) for g in block.group_by)
                by_fix: dict[frozenset[Constraint], list[str]] = {}
                for q, row in enumerate(rb.rows):
                    if (q == p or ranks.get(row.get("level") or "", len(ranks)) >= rank_k or row.get("code") is None
                            or tuple(row.get(g) for g in block.group_by) != group):
                        continue
                    if calc.is_stated(q, c) and calc.structure.children.get(q):
                        continue  # a typed total would go over: only a short one takes it (moved_parents)
                    rows = list(rb.rows)
                    rows[k] = {**rows[k], "parent": row.get("code")}
                    structure = resolve_structure(block, rows)
                    if structure.parent.get(k) != q:
                        continue
                    left = self._rescan(b, Scenario(self, {}, {b: structure}, {b: rows}))
                    if left <= before and over not in left:
                        by_fix.setdefault(frozenset(before - left), []).append(str(row.get("code")))
                for fixes, codes in by_fix.items():
                    yield (b, k, "parent"), " | ".join(codes[:5]), set(fixes)

    def duplicates(self, violated: list[Constraint]) -> Iterator[tuple[int, str, set[Constraint]]]:
        for b, calc in self.calcs.items():
            for d in calc.structure.duplicates:
                rb = self.rb[b]
                rows = [r for n, r in enumerate(rb.rows) if n != d]
                sc = Scenario(self, {}, {b: resolve_structure(rb.block, rows)}, {b: rows})
                # constraints are re-indexed without the row: compare by what is left
                left = {con for con in self.constraints(b, sc=sc) if not self.satisfied(con, sc)}
                before = [con for con in violated if con.at[0] == b]
                if before and not left:
                    yield d, b, set(before)

    # ----- clusters ------------------------------------------------------------------------------------------

    def diagnose(self) -> list[Diagnosis]:
        violated = self.violated_all = self.violated()
        if not violated:
            return []
        conflicts = {con: self.conflict(con) for con in violated}
        # connected components of violated constraints sharing a typed cell
        owner: dict[Cell, int] = {}
        groups: list[list[Constraint]] = []
        for con in violated:
            joined = sorted({owner[cell] for cell in conflicts[con] if cell in owner})
            if not joined:
                groups.append([con])
                n = len(groups) - 1
            else:
                n = joined[0]
                groups[n].append(con)
                for m in joined[1:]:
                    groups[n] += groups[m]
                    groups[m] = []
                    for cell, g in owner.items():
                        if g == m:
                            owner[cell] = n
            for cell in conflicts[con]:
                owner[cell] = n
        clusters = [g for g in groups if g]
        out: list[Diagnosis] = []
        single_moves: dict[int, list[tuple[Cell, Value]]] = {}
        # A wrong parent code or a row entered twice breaks several clusters at once (one per column and
        # parent): one such change is a smaller diagnosis than a figure per cluster, so it is tried first.
        if any(con.kind == "rollup" for con in violated):
            hypotheses = [*self.moved_parents(violated), *self.moved_out(violated)]
            moves = sorted(((sum(set(g) <= fixes for g in clusters), n, cell, code, fixes)
                            for n, (cell, code, fixes) in enumerate(hypotheses)), key=lambda m: (-m[0], m[1]))
            for count, _, cell, code, fixes in moves:  # the move that explains most, first
                fixed = [g for g in clusters if set(g) <= fixes]
                if count >= 2 and len(fixed) == count:
                    out.append(Diagnosis(cell, code, [con for g in fixed for con in g], what="parent"))
                    clusters = [g for g in clusters if not set(g) <= fixes]
                elif count == 1 and len(fixed) == 1:  # one cluster: the move is one of its candidates
                    single_moves.setdefault(id(fixed[0]), []).append((cell, code))
            for d, b, fixes in self.duplicates(violated):
                fixed = [g for g in clusters if set(g) <= fixes]
                if fixed:
                    out.append(Diagnosis(None, None, [con for g in fixed for con in g], at=(b, d, "code"),
                                         what="duplicate"))
                    clusters = [g for g in clusters if not set(g) <= fixes]
        for cluster in clusters:
            common = set.intersection(*(conflicts[con] for con in cluster))
            found: list[tuple[Cell, Value]] = [
                (x, v) for x in sorted(common, key=self._order) if (v := self.explain_single(x, cluster)) is not None]
            found += single_moves.get(id(cluster), [])
            if len(found) == 1:
                out.append(Diagnosis(found[0][0], found[0][1], cluster, what=_what(found[0][0])))
            elif found:
                found.sort(key=lambda xv: self.typo_rank(xv[0], xv[1]))
                out.append(Diagnosis(found[0][0], found[0][1], cluster, candidates=found, what=_what(found[0][0])))
        return out

    def _order(self, cell: Cell) -> tuple[int, int, int]:
        b, i, c = cell
        return (list(self.rb).index(b), i, self.rb[b].columns.get(c, 0))

    def typo_rank(self, cell: Cell, value: Value) -> tuple[int, tuple[int, int, int]]:
        b, i, c = cell
        was = self.rb[b].rows[i].get(c)
        return (typo_distance(was, value), self._order(cell))


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


# ----- findings ------------------------------------------------------------------------------------------------


def _where(rb: ReadBlock, i: int, c: str) -> str:
    return f"{rb.sheet}!{rb.address(i, c)}"


def diagnose_findings(ctx: Context, findings: list[Finding]) -> list[Finding]:
    """``findings`` with each cluster's cause reported at its typed cell and the rest marked as its
    consequences (``Finding.cause``)."""
    dx = Diagnoser(ctx)
    diagnoses = dx.diagnose()
    if not diagnoses:
        return findings
    out = list(findings)
    for d in diagnoses:
        out = _apply(dx, d, out)
    explained = {con for d in diagnoses for con in d.explains}
    for con in dx.violated_text:
        if con not in explained:  # a figure its text contradicts, with no single cell to blame
            b, i, c = con.at
            rb, col = dx.rb[b], dx.rb[b].block.column(c)
            assert col.stated_from is not None
            text = rb.rows[i].get(col.stated_from.column)
            label = rb.rows[i].get("name") or rb.rows[i].get("code") or ""
            out.append(STATED_TEXT.at(rb.sheet, rb.address(i, c), expected=col.stated_from.number(text),
                                      actual=rb.rows[i].get(c),
                                      th=f"{label} · {col.th} ข้อความระบุ '{text}'",
                                      en=f"{label} · {col.en}: its text says '{text}'"))
    return out


def _one_keystroke(dx: Diagnoser, d: Diagnosis) -> bool:
    """True when exactly one candidate's correction is a single keystroke away from what is typed (a digit
    changed, transposed, added or dropped): the finding then goes to that cell, still listing the others."""
    ranks = [dx.typo_rank(x, v)[0] for x, v in d.candidates]
    return bool(ranks) and ranks[0] == 1 and all(r > 1 for r in ranks[1:])


def _apply(dx: Diagnoser, d: Diagnosis, findings: list[Finding]) -> list[Finding]:
    cell = d.cause if d.cause is not None else d.at
    assert cell is not None
    b, i, c = cell
    rb = dx.rb[b]
    if c not in rb.columns:
        return findings
    where = _where(rb, i, c)
    sheet, address = rb.sheet, rb.address(i, c)
    effects = {_where(dx.rb[cb], ci, cc) for con in d.explains for (cb, ci, cc) in con.cells
               if cc in dx.rb[cb].columns} - {where}
    candidates = tuple(_where(dx.rb[x[0]], x[1], x[2]) for x, _ in d.candidates[:MAX_CANDIDATES]) or None
    out: list[Finding] = []
    at_cause = [f for f in findings if f.where == where and f.severity is Severity.ERROR]
    reported = [f for f in findings if f.where in effects and f.severity is Severity.ERROR and f.cause is None]
    if candidates and not at_cause and len(reported) == 1 and not _one_keystroke(dx, d):
        # One finding already says what is wrong: it lists the cells that may be the typo.
        return [f.model_copy(update={"candidates": candidates}) if f is reported[0] else f for f in findings]
    for f in findings:
        if f.where in effects and f.severity is not Severity.INFO and f.cause is None:
            out.append(f.model_copy(update={"cause": where}))
        elif at_cause and f is at_cause[0] and candidates:
            out.append(f.model_copy(update={"candidates": candidates}))
        else:
            out.append(f)
    if at_cause:
        return out
    row = rb.rows[i]
    label = row.get("name") or row.get("code") or ""
    col = rb.block.column(c)
    if d.what == "parent":
        out.append(CAUSE.at(sheet, address, expected=str(d.value), actual=str(row.get("parent")),
                            th=f"{label} · รหัสระดับบน '{row.get('parent')}' ควรเป็น '{d.value}'"
                               f" (ยอดของระดับบนทั้งสองจึงจะตรงกัน)",
                            en=f"{label} · parent code '{row.get('parent')}' should be '{d.value}'"
                               " (then both parents' totals agree)"))
        return out
    if d.what == "duplicate":
        out.append(CAUSE.at(sheet, address, actual=str(row.get("code")),
                            th=f"แถว {row.get('code')} {label} ซ้ำ ลบแถวนี้แล้วยอดรวมตรงกัน",
                            en=f"row {row.get('code')} {label} is entered twice: without it the totals agree"))
        return out
    stated = row.get(c)
    texts = [dx.rb[cb].block.column(cc) for con in d.explains if con.kind == "text" for (cb, _, cc) in con.cells]
    because = ""
    because_en = ""
    if texts and texts[0].stated_from is not None:
        text = row.get(texts[0].stated_from.column)
        because, because_en = f" ข้อความระบุ '{text}'", f" its text says '{text}'"
    if candidates:
        others = ", ".join(candidates[1:])
        th = (f"{label} · {col.th} ระบุ {col.format(stated)} ควรเป็น {col.format(d.value)}{because}"
              f" หรือช่องใดช่องหนึ่งต่อไปนี้ผิดแทน: {others}")
        en = (f"{label} · {col.en} states {col.format(stated)}, should be {col.format(d.value)}{because_en};"
              f" or one of these instead: {others}")
    else:
        th = f"{label} · {col.th} ระบุ {col.format(stated)} ควรเป็น {col.format(d.value)}{because}"
        en = f"{label} · {col.en} states {col.format(stated)}, should be {col.format(d.value)}{because_en}"
    if len(d.explains) == 1 and d.explains[0].kind == "text" and not candidates:
        finding = STATED_TEXT.at(sheet, address, expected=d.value, actual=stated, th=th, en=en)
    else:
        finding = CAUSE.at(sheet, address, expected=d.value, actual=stated, th=th, en=en)
    out.append(finding.model_copy(update={"candidates": candidates}) if candidates else finding)
    return out
