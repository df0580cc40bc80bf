"""The search: the typed cells (or the parent code, or the row entered twice) that explain each cluster of
violated constraints."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from ...model.evaluate import resolve_structure
from ...spec.base import Value
from .constraints import Cell, Constraint, Scenario
from .solve import Solver, typo_distance


@dataclass
class Diagnosis:
    """What explains a group of violated constraints."""

    cause: Cell | None  # the typed cell (None when only a row explains it)
    value: Value  # its corrected value
    explains: list[Constraint]
    candidates: list[tuple[Cell, Value]] = field(default_factory=list)  # when ambiguous, most likely first
    at: Cell | None = None  # where the finding goes, when not the cause cell (a row's code)
    what: str = "value"  # "value" | "parent" | "duplicate"
    partner: tuple[Cell, Value] | None = None  # a double fault: the other typed cell and its corrected value


MAX_PAIRS = 200  # pairs of typed cells tried for one cluster: beyond it, nothing is guessed
MAX_CLUSTERS = 8  # unexplained clusters paired with each other
MAX_TYPO_PAIRS = 12  # pairs of keystroke typos screened for one cluster: more cannot come down to one


def _pairs_within(confs: list[set[Cell]]) -> list[tuple[Cell, Cell]]:
    """The hitting sets of size two of ``confs``: one cell of the smallest conflict, the other in every
    conflict the first misses (or anywhere in them when it misses none); empty beyond :data:`MAX_PAIRS`."""
    union: set[Cell] = set().union(*confs)
    pairs: dict[frozenset[Cell], tuple[Cell, Cell]] = {}
    smallest: set[Cell] = min(confs, key=len)
    for x in sorted(smallest):
        rest = [c for c in confs if x not in c]
        for y in sorted(set.intersection(*rest) if rest else union):
            if y != x:
                pairs.setdefault(frozenset((x, y)), (x, y))
        if len(pairs) > MAX_PAIRS:
            return []
    return list(pairs.values())


def _what(cell: Cell) -> str:
    return "parent" if cell[2] == "parent" else "value"


class Diagnoser(Solver):
    """The search for the typed cells that break a workbook's constraints."""

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
        unexplained: list[list[Constraint]] = []
        for cluster in clusters:
            common = set.intersection(*(conflicts[con] for con in cluster))
            found: list[tuple[Cell, Value]] = [
                (x, v) for x in sorted(common, key=self._order) if (v := self.explain_single(x, cluster)) is not None]
            found += single_moves.get(id(cluster), [])
            if len(found) == 1 and self.typo_rank(*found[0])[0] > 1 and (
                    pair := self.typo_pairs(found, cluster, conflicts)):
                # Two keystroke typos are likelier than one figure off by an arbitrary amount. (Several
                # singles already list the cells: the typed ones among them.)
                out += pair
            elif len(found) == 1:
                out.append(Diagnosis(found[0][0], found[0][1], cluster, what=_what(found[0][0])))
            elif found:
                found.sort(key=lambda xv: self.typo_rank(xv[0], xv[1]))
                out.append(Diagnosis(found[0][0], found[0][1], cluster, candidates=found, what=_what(found[0][0])))
            else:
                unexplained.append(cluster)
        return out + self.doubles(unexplained, conflicts)

    # ----- double faults -------------------------------------------------------------------------------------

    def doubles(self, clusters: list[list[Constraint]], conflicts: dict[Constraint, set[Cell]]) -> list[Diagnosis]:
        """Two typed cells for what no single one explains: both in one cluster (a minimal hitting set of size
        two of its conflicts), or one in each of two clusters (two typos whose effects cancel in a constraint
        that still holds, such as the total over both lines)."""
        out: list[Diagnosis] = []
        left = []
        for cluster in clusters:
            found = self._explain_pairs(_pairs_within([conflicts[con] for con in cluster]), cluster, conflicts)
            out += found
            if not found:
                left.append(cluster)
        if not 2 <= len(left) <= MAX_CLUSTERS:
            return out
        common = [set.intersection(*(conflicts[con] for con in g)) for g in left]
        done: set[int] = set()
        for n, a in enumerate(left):
            for m in range(n + 1, len(left)):
                if n in done or m in done:
                    continue
                pairs = [(x, y) for x in sorted(common[n]) for y in sorted(common[m]) if x != y]
                if len(pairs) > MAX_PAIRS:
                    continue
                found = self._explain_pairs(pairs, a + left[m], conflicts)
                if found:
                    out += found
                    done |= {n, m}
        return out

    def typo_pairs(self, found: list[tuple[Cell, Value]], cluster: list[Constraint],
                   conflicts: dict[Constraint, set[Cell]]) -> list[Diagnosis]:
        """When the one cell that explains ``cluster`` needs a figure far from what is typed, two figures each a
        keystroke off may explain it instead: that cell (it absorbs the larger error) and any typed cell of
        the cluster. Pairs are screened on one linear constraint by :meth:`typo_solutions` (set lookups),
        then solved and verified as any pair; only one such pair replaces the single diagnosis (the printed
        report's strategy 3 total, 60,000,900 over its projects, has several: it stays as it is)."""
        con = next((k for k in cluster if self._linear(k)), None)
        r0 = self._residual(con, self.base) if con is not None else None
        if con is None or r0 is None:
            return []
        union = sorted(set().union(*(conflicts[k] for k in cluster)), key=self._order)
        coef: dict[Cell, Decimal | None] = {}

        def slope(cell: Cell) -> Decimal | None:
            if cell not in coef:
                moved = self._residual(con, Scenario(self, {cell: self._value(cell, self.base) + 1}))
                coef[cell] = None if moved is None else moved - r0
            return coef[cell]
        deps: dict[Cell, set[Constraint]] = {}

        def free(x: Cell, y: Cell) -> bool:
            for cell in (x, y):
                if cell not in deps:
                    deps[cell] = self.dependents(cell)
            return self.free_pair(deps[x], deps[y], cluster)
        pairs = []
        for x, _ in found:
            ax = slope(x) if x[2] != "parent" else None
            if not ax:
                continue
            for y in union:
                ay = slope(y) if y != x else None
                if ay and free(x, y) and self.typo_solutions(x, y, ax, ay, -r0):
                    pairs.append((x, y))
        if not pairs or len(pairs) > MAX_TYPO_PAIRS:
            return []  # none, or too many to be one diagnosis
        return self._explain_pairs(pairs, cluster, conflicts, typo_only=True)

    def _explain_pairs(self, pairs: list[tuple[Cell, Cell]], cluster: list[Constraint],
                       conflicts: dict[Constraint, set[Cell]], typo_only: bool = False) -> list[Diagnosis]:
        """The two causes (each naming the other as its partner) when one pair of cells explains ``cluster``.

        Several pairs: those whose two corrections are each a single keystroke away from what is typed are
        kept, the first reported and the cells of all listed as candidates; when no pair is typo-like, two
        arbitrary corrections tell the user nothing (the printed report's own inconsistencies are such), and
        the checks' findings stand as they are."""
        found = [(x, vw[0], y, vw[1]) for x, y in pairs if (vw := self.explain_pair(x, y, cluster)) is not None]
        if len(found) > 1 or typo_only:
            found = [s for s in found if self.typo_rank(s[0], s[1])[0] == 1 and self.typo_rank(s[2], s[3])[0] == 1]
        if not found or (typo_only and len(found) > 1):
            return []  # several ways of two typos against one figure off: the single's candidates stand
        x, v, y, w = found[0]
        candidates: list[tuple[Cell, Value]] = []
        if len(found) > 1:
            values = {c: val for s in reversed(found) for c, val in ((s[0], s[1]), (s[2], s[3]))}
            candidates = [(c, values[c]) for c in dict.fromkeys(c for s in found for c in (s[0], s[2]))]
        # each violated constraint goes to the cause it depends on (x's when both)
        mine = [con for con in cluster if con.at != y and (con.at == x or x in conflicts[con])]
        theirs = [con for con in cluster if con not in mine]
        return [Diagnosis(x, v, mine, candidates=candidates, partner=(y, w)),
                Diagnosis(y, w, theirs, candidates=candidates, partner=(x, v))]

    def typo_rank(self, cell: Cell, value: Value) -> tuple[int, tuple[int, int, int]]:
        b, i, c = cell
        was = self.rb[b].rows[i].get(c)
        return (typo_distance(was, value), self._order(cell))
