"""The constraint system of one workbook: what the spec says must hold, which of it is violated, and the typed
cells each relation depends on (its conflict)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any, overload

from ...model.evaluate import BlockCalc, CellKey, CellValue, Structure
from ...money import EXCEL
from ...spec.base import Achievement, Block, ColType, Column, Pct, Value
from ...xlsx.read import ReadBlock
from ..arithmetic import screened_cells
from ..context import Context

Cell = tuple[str, int, str]  # (block id, row index, column id)
LineValues = tuple[list[Value], list[bool]]  # a parent's lines' values in a roll-up column, and which carry a figure


@dataclass(frozen=True)
class Constraint:
    """One relation the spec requires; ``at`` is the stated cell it is checked at."""

    kind: str  # "formula" | "rollup" | "link" | "text"
    at: Cell
    other: Cell | None = None  # a link's other side

    @property
    def cells(self) -> tuple[Cell, ...]:
        return (self.at,) if self.other is None else (self.at, self.other)




class Scenario:
    """The workbook with a few typed cells changed (and perhaps a parent code or a row removed)."""

    def __init__(self, dx: System, changes: dict[Cell, Value], structures: dict[str, Structure] | None = None,
                 rows: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.dx = dx
        self.changes = changes
        self.structures = structures or {}
        self.rows: dict[str, Sequence[dict[str, Any]]] = dict(rows or {})
        # per block whose only difference is its changed cells: those cells (the rest is the workbook's)
        self._changed: dict[str, list[CellKey]] = {}
        edited: dict[str, dict[int, dict[str, Any]]] = {}
        copied: dict[str, list[dict[str, Any]]] = {}  # rows of its own (a row removed): changed in one copy
        for (b, i, c), v in changes.items():
            if b in self.rows:
                if b not in copied:
                    self.rows[b] = copied[b] = list(self.rows[b])
                copied[b][i] = {**copied[b][i], c: v}
                continue
            self._changed.setdefault(b, []).append((i, c))
            rows_of_b = edited.setdefault(b, {})
            rows_of_b[i] = {**(rows_of_b.get(i) or dx.rb[b].rows[i]), c: v}
        for b, rows_of_b in edited.items():
            self.rows[b] = ChangedRows(dx.rb[b].rows, rows_of_b)
        self._calcs: dict[tuple[str, bool], BlockCalc] = {}

    def calc(self, b: str, excel: bool = False) -> BlockCalc:
        if b not in self.rows and b not in self.structures:
            return self.dx.ctx.as_excel[b] if excel else self.dx.calcs[b]
        key = (b, excel)
        if key not in self._calcs:
            rb = self.dx.rb[b]
            if b in self._changed and b not in self.structures:
                base = self.dx.ctx.as_excel[b] if excel else self.dx.calcs[b]
                self._calcs[key] = ChangedCalc(base, self.rows[b], rb.formula_cells,
                                               self.dx.reach(b).of(base.structure, self._changed[b]),
                                               self.dx.lines[b, excel])
            else:
                self._calcs[key] = BlockCalc(rb.block, self.rows.get(b, rb.rows), formula_cells=rb.formula_cells,
                                             structure=self.structures.get(b) or self.dx.calcs[b].structure,
                                             arith=EXCEL if excel else self.dx.calcs[b].arith,
                                             meta=self.dx.calcs[b].meta)
        return self._calcs[key]


class ChangedRows(Sequence[dict[str, Any]]):
    """A block's rows with a few replaced, the list itself not copied: a scenario is made for each correction
    tried, and copying 50,000 rows for each cost more than evaluating it."""

    def __init__(self, rows: Sequence[dict[str, Any]], changed: dict[int, dict[str, Any]]) -> None:
        self._rows = rows
        self._changed = changed

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[dict[str, Any]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | Sequence[dict[str, Any]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self._rows)))]
        row = self._changed.get(i if i >= 0 else i + len(self._rows))
        return self._rows[i] if row is None else row

    def __len__(self) -> int:
        return len(self._rows)


class ChangedCalc(BlockCalc):
    """A block with a few typed cells changed: the cells a change reaches are evaluated afresh, every other
    cell is the workbook's (``base``, evaluated once for every scenario), since nothing it is computed from
    differs. A total over thousands of lines is not summed again for each correction tried."""

    def __init__(self, base: BlockCalc, rows: Sequence[dict[str, Any]], formula_cells: Collection[CellKey],
                 reached: set[CellKey], lines: dict[CellKey, LineValues]) -> None:
        super().__init__(base.block, rows, formula_cells=formula_cells, structure=base.structure, arith=base.arith,
                         meta=base.meta)
        self._base = base
        self._reached = reached
        self._lines = lines  # each parent's lines in the workbook, for every scenario of the block

    @cached_property
    def parents(self) -> frozenset[int]:
        return self._base.parents  # the same structure

    def cell(self, i: int, column_id: str) -> CellValue:
        if (i, column_id) in self._reached:
            return super().cell(i, column_id)
        return self._base.cell(i, column_id)

    def _rollup(self, children: list[int], column_id: str) -> CellValue:
        """A parent's sum as :class:`BlockCalc` adds it, from the workbook's lines with the few the changes
        reach put in their place: a total over 500 parts is not read part by part for every scenario."""
        i = self.structure.parent[children[0]]  # the lines' parent
        if (i, column_id) not in self._lines:
            self._lines[i, column_id] = self._line_values(self._base, i, column_id)
        values, shown = self._lines[i, column_id]
        changed = [c for c, cid in self._reached if cid == column_id and self.structure.parent.get(c) == i]
        if changed:
            values, shown = list(values), list(shown)
            for c in changed:
                (value,), (flag,) = self._line_values(self, i, column_id, c)
                at = children.index(c)
                values[at], shown[at] = value, flag
        return CellValue(self.arith.add([v for v in values if isinstance(v, Decimal)]), any(shown), False)

    @staticmethod
    def _line_values(calc: BlockCalc, i: int, column_id: str, only: int | None = None) -> LineValues:
        """Each line's value under parent ``i`` (or line ``only``'s) as a roll-up reads it, and whether it
        carries a figure: a line with lines of its own as evaluated, any other straight from its row."""
        values: list[Value] = []
        shown: list[bool] = []
        for c in calc.structure.children[i] if only is None else [only]:
            if c in calc.parents:
                line = calc.cell(c, column_id)
                values.append(line.value)
                shown.append(line.has_data)
            else:
                values.append(value := calc.rows[c].get(column_id))
                shown.append(value is not None)
        return values, shown


class Reach:
    """Which cells of a block a change reaches: the formulas that read a column, the columns that roll up."""

    def __init__(self, block: Block) -> None:
        self.readers: dict[str, list[str]] = defaultdict(list)
        for col in block.columns:
            for dep in col.formula.inputs if col.formula is not None else ():
                self.readers[dep].append(col.id)
        self.rollups = {col.id for col in block.columns if col.rollup}

    def of(self, structure: Structure, changed: Iterable[CellKey]) -> set[CellKey]:
        """The cells whose value may change with ``changed``: those cells, the formulas of their rows that read
        them, the roll-ups above them (each line's parent, up to the top), and so on from each of those."""
        out: set[CellKey] = set()
        todo = list(changed)
        while todo:
            i, c = cell = todo.pop()
            if cell in out:
                continue
            out.add(cell)
            todo += [(i, user) for user in self.readers.get(c, ())]
            if c in self.rollups and i in structure.parent:
                todo.append((structure.parent[i], c))
        return out


def _keyed(rb: ReadBlock, keys: list[str], levels: tuple[str, ...]) -> dict[tuple[Any, ...], int]:
    return {tuple(r.get(k) for k in keys): i for i, r in enumerate(rb.rows)
            if not levels or r.get("level") in levels}



class System:
    """The constraints of one workbook: which hold, which do not, and what each depends on."""

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
        self._reach: dict[str, Reach] = {}  # built for the blocks a scenario changes
        # by (block, excel): ChangedCalc's parents' line values, kept for every scenario
        self.lines: dict[tuple[str, bool], dict[CellKey, LineValues]] = defaultdict(dict)
        # derived columns of each block by the columns they use
        self._users: dict[str, dict[str, list[Column]]] = {}
        for b, rb in self.rb.items():
            users: dict[str, list[Column]] = defaultdict(list)
            for col in rb.block.columns:
                if col.formula is not None and self._checked(b, col):
                    for dep in col.formula.inputs:
                        users[dep].append(col)
            self._users[b] = users

    def reach(self, b: str) -> Reach:
        if b not in self._reach:
            self._reach[b] = Reach(self.rb[b].block)
        return self._reach[b]

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

    def _suspects(self, b: str) -> list[int] | None:
        """The rows of block ``b`` that may break a constraint: those with a computable cell the identity screen
        does not show to agree (None, every row, where a figure is also stated in text beside it)."""
        rb = self.rb[b]
        if any(col.stated_from is not None and col.stated_from.column in rb.columns for col in rb.block.columns):
            return None
        return sorted({i for i, _, agrees in screened_cells(self.ctx, rb, self.calcs[b]) if not agrees})

    def violated(self) -> list[Constraint]:
        out = [con for b in self.rb for con in self.constraints(b, self._suspects(b))
               if not self.satisfied(con, self.base)]
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

    # ----- linear views of a constraint ---------------------------------------------------------------------

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

    def _order(self, cell: Cell) -> tuple[int, int, int]:
        b, i, c = cell
        return (list(self.rb).index(b), i, self.rb[b].columns.get(c, 0))
