"""The Excel formula of a derived or roll-up cell, wherever the block sits in the sheet.

A roll-up is the sum of a parent's children (``model.evaluate.Structure``). Few children are written as
a list of cells (``SUM(G12,G15:G17)``, as every template always had); many as the rows of a span
selected by their parent code — ``SUMIFS`` when no criterion can match a row Python does not count as a
child, else ``SUMPRODUCT`` over ``EXACT`` codes — so that no formula outgrows Excel's 8,192 characters,
however many children a parent has and however they are interleaved.
"""

from __future__ import annotations

import re
import weakref
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import compress, repeat
from operator import eq
from string import ascii_uppercase, digits
from typing import Any

from ..a1 import parse_a1
from ..model.evaluate import BlockCalc, column_of
from ..spec.base import META_PREFIX, ColType, Column
from ..spec.columns import CODE, PARENT
from .formula_map import FormulaMap
from .layout import meta_name
from .values import MAX_FORMULA

Address = Callable[[int, str], str]  # (row index in block, column id) -> A1
SUM_ARGS = 200  # Excel's SUM takes at most 255 arguments
# A list of cells longer than this is written as a span selected by parent code instead. Short enough that
# the conditional format repeating the formula stays far below Excel's 8,192 characters; long enough that
# every template and the demo keep the lists they always had.
LIST_LIMIT = 255
_MARK = "\0"  # stands for what varies in a formula text (a row number, column letters): no formula holds it
_WILDCARDS = re.compile(r"[*?~]|^\s*[<>=]")  # what SUMIFS reads as a pattern or a comparison, not as text
_DATE_LIKE = re.compile(r"^\s*(\d{1,4})[./-](\d{1,2})(?:[./-]\d{1,4})?\s*$")


def sum_formula(addresses: list[str]) -> str:
    """SUM of cells, runs of consecutive rows folded into ranges (a roll-up's list of cells)."""
    return _over("SUM", addresses)


def _over(function: str, addresses: list[str]) -> str:
    """``function`` (SUM, COUNT) of cells, runs of consecutive rows folded into ranges, at most
    :data:`SUM_ARGS` arguments a call (several calls added)."""
    cells = sorted((*parse_a1(a), a) for a in addresses)
    parts: list[str] = []
    run: list[tuple[int, int, str]] = []
    for cell in cells:
        if run and (cell[1] != run[-1][1] or cell[0] != run[-1][0] + 1):
            parts.append(run[0][2] if len(run) == 1 else f"{run[0][2]}:{run[-1][2]}")
            run = []
        run.append(cell)
    if run:
        parts.append(run[0][2] if len(run) == 1 else f"{run[0][2]}:{run[-1][2]}")
    return _calls(function, parts)


def _calls(function: str, parts: list[str]) -> str:
    chunks = [parts[i:i + SUM_ARGS] for i in range(0, len(parts), SUM_ARGS)]
    return "+".join(f"{function}({','.join(chunk)})" for chunk in chunks)


def _row_runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted sheet row numbers as runs of consecutive rows (first, last)."""
    runs: list[tuple[int, int]] = []
    for r in rows:
        if runs and r == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs


def _keys(value: Any) -> set[tuple[Any, ...]]:
    """Every reading a spreadsheet's criteria matching might give ``value``: its text without case, its
    number (Excel and LibreOffice match "1.10" against 1.1 in some cases), its day and month when it looks
    like a date in some locale ("1.1.2"). Two values sharing no key are never matched by SUMIFS."""
    if value is None or value == "":
        return {("blank",)}
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    keys: set[tuple[Any, ...]] = {("text", text.strip().casefold())}
    bare = text.strip().replace(",", "")
    scale = Decimal(1)
    if bare.endswith("%"):
        bare, scale = bare[:-1], Decimal("0.01")
    try:
        number = Decimal(bare) * scale
        if number.is_finite():
            keys.add(("number", number.normalize()))
    except (InvalidOperation, ValueError):
        pass
    date = _DATE_LIKE.match(text)
    if date:
        keys.add(("date", int(date[1]), int(date[2])))
    return keys


def _plain(value: Any) -> bool:
    """A criterion SUMIFS takes as the value itself: not blank, no wildcard, no comparison operator."""
    if value is None or value == "":
        return False
    return isinstance(value, Decimal) or not _WILDCARDS.search(str(value))


@dataclass(frozen=True)
class _Span:
    """A parent's children as the rows of one or two spans (its own row excluded) that match criteria."""

    spans: tuple[tuple[int, int], ...]  # (first, last) block rows, inclusive
    # (column id, the parent's row whose cell in that column it must equal — its code for the parent-code
    # column — or a level)
    criteria: tuple[tuple[str, int | str], ...]
    exact: bool  # SUMIFS would match rows that are not children: SUMPRODUCT with EXACT codes instead


class Rollups:
    """How each roll-up cell of one block laid out by ``address`` is written, decided once per block.

    A parent whose list of cells would be short keeps it. Otherwise its children are selected from the
    rows between the first and the last of them by parent code (and fiscal year, budget source... when the
    block is split by them; and level when rows of another level share the code). The spans of all parents
    must not refer to one another in a circle (Excel would report a circular reference): if they would
    (rows in an order no template writes), every long roll-up keeps its list.
    """

    def __init__(self, calc: BlockCalc, address: Address) -> None:
        # What it needs of the block, not the evaluation itself: the one-per-block cache (weakly keyed by the
        # evaluation) would otherwise keep every evaluation, its rows and this plan alive after its use.
        self.block, self.rows, self.structure = calc.block, calc.rows, calc.structure
        self.address = address
        block = calc.block
        self._level = next((c.id for c in block.columns if c.type is ColType.LEVEL), None)
        self._parents = sorted(calc.structure.children)
        self._index: dict[tuple[Any, ...], list[int]] | None = None
        self._spans: dict[int, _Span | None] = {}
        self._forms: dict[str, dict[int, str]] = {}
        self._chosen: dict[str, dict[int, _Span]] = {}  # per column: the parents written as spans
        # per parent: its list of cells split where the column letters go (the same rows in every column)
        self._pieces: dict[int, list[str]] = {}
        self._letters: dict[str, str] = {}
        self._numbers: list[str] | None = None
        self._row_ints: list[int] | None = None

    # --- one column's formulas --------------------------------------------------------------------------

    def formula(self, i: int, column_id: str) -> str:
        """The roll-up formula (text without '=') of parent ``i``'s cell in ``column_id``."""
        if column_id not in self._forms:
            self._forms[column_id] = self._column_forms(column_id)
        return self._forms[column_id][i]

    def accepts(self, i: int, column_id: str, text: str | None) -> bool:
        """True when ``text`` is a right roll-up formula for the cell: the one this block gets, or the list
        of its children within Excel's limit (a list written by an earlier version is as right as a span; one
        beyond the limit is rewritten)."""
        if text is None:
            return False
        # The list first: most parents get it, and it does not need the whole column's forms decided.
        return (len(text) <= MAX_FORMULA and text == self._list(i, column_id)) or text == self.formula(i, column_id)

    def row_numbers(self, column_id: str) -> list[str]:
        """Each row's sheet row number as written in a reference ("12"), found once for every column."""
        if self._numbers is None:
            self._numbers = [self.address(i, column_id).lstrip(ascii_uppercase) for i in range(len(self.rows))]
        return self._numbers

    def _list(self, i: int, column_id: str) -> str:
        """:func:`sum_formula` of the children's cells, their rows found once for every column (an address's
        row does not depend on its column, nor its letters on its row)."""
        pieces = self._pieces.get(i)
        if pieces is None:
            if self._row_ints is None:
                self._row_ints = list(map(int, self.row_numbers(column_id)))
            sheet_rows = self._row_ints
            runs = _row_runs(sorted(sheet_rows[c] for c in self.structure.children[i]))
            pieces = self._pieces[i] = _calls("SUM", [f"{_MARK}{a}" if a == b else f"{_MARK}{a}:{_MARK}{b}"
                                                      for a, b in runs]).split(_MARK)
        letters = self._letters.get(column_id)
        if letters is None:
            letters = self._letters[column_id] = self.address(i, column_id).rstrip(digits)
        return letters.join(pieces)

    def _column_forms(self, column_id: str) -> dict[int, str]:
        lists = {j: self._list(j, column_id) for j in self._parents}
        forms = dict(lists)
        spans: dict[int, _Span] = {}
        for j, text in lists.items():
            span = self._span(j) if len(text) > LIST_LIMIT else None
            rendered = self._render(span, j, column_id) if span is not None else None
            if span is not None and rendered is not None:
                forms[j], spans[j] = rendered, span
        if spans and self._circular(spans):
            spans = {}
            forms = lists
        self._chosen[column_id] = spans
        return forms

    def current(self, column_id: str, rows: list[int], texts: list[str | None]) -> list[int]:
        """The rows of ``rows`` (parents) whose formula text (``texts``, one a row) :meth:`accepts`: the one
        this block gets compared a column at a time, only the others one by one."""
        if column_id not in self._forms:
            self._forms[column_id] = self._column_forms(column_id)
        forms = self._forms[column_id]
        return [i for i, text in zip(rows, texts, strict=True)
                if text == forms[i] or self.accepts(i, column_id, text)]

    def carries(self, i: int, column_id: str) -> str | None:
        """Excel's test (text) that a line below parent ``i`` carries a figure in ``column_id``, as
        :class:`~osmep_xl.model.evaluate.BlockCalc` decides it: a line without lines of its own carries a
        number typed in it; a line with lines of its own carries a figure when it is not 0 (a SUM over blank
        lines shows 0 — the one case read otherwise is lines below it that carry figures adding up to exactly
        0). None when the test cannot be written (a span mixing both kinds of line)."""
        self.formula(i, column_id)
        children = self.structure.children
        kids = children[i]
        leaves = [c for c in kids if c not in children]
        span = self._chosen[column_id].get(i)
        if span is not None:
            if len(leaves) != len(kids):
                return None
            exact = _Span(span.spans, self._exact_criteria(i), exact=True)
            counts = [self._term(exact, i, column_id, lo, hi, count=True) for lo, hi in exact.spans]
            return f"{'+'.join(counts)}>0"
        tests = [f"{_over('COUNT', [self.address(c, column_id) for c in leaves])}>0"] if leaves else []
        tests += [f"N({self.address(c, column_id)})<>0" for c in kids if c in children]
        return tests[0] if len(tests) == 1 else f"OR({','.join(tests)})"

    def _circular(self, spans: dict[int, _Span]) -> bool:
        """True when the cells refer to one another in a circle: a span reaches another parent whose own
        references (its span, or its listed children) reach back."""
        children = self.structure.children
        parents = self._parents

        def refs(j: int) -> list[int]:
            span = spans.get(j)
            if span is None:
                return [c for c in children[j] if c in children]
            return [p for lo, hi in span.spans for p in parents[bisect_left(parents, lo):bisect_right(parents, hi)]]

        state: dict[int, int] = {}  # 1: on the path being walked, 2: done
        for start in parents:
            if start in state:
                continue
            stack = [(start, iter(refs(start)))]
            state[start] = 1
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                elif state.get(nxt) == 1:
                    return True
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(refs(nxt))))
        return False

    # --- the span form ------------------------------------------------------------------------------------

    def _parent_index(self) -> dict[tuple[Any, ...], list[int]]:
        """Rows by every key of their parent code (ascending), to find what a criterion could match."""
        if self._index is None:
            index: dict[tuple[Any, ...], list[int]] = defaultdict(list)
            texts: dict[str, list[int]] = defaultdict(list)  # a text code's keys found once: many lines share it
            for r, value in enumerate(column_of(self.rows, PARENT.id)):
                if type(value) is str:
                    texts[value].append(r)
                else:
                    for key in _keys(value):
                        index[key].append(r)
            for value, rows in texts.items():
                for key in _keys(value):
                    index[key] += rows
            for rows in index.values():
                rows.sort()
            self._index = index
        return self._index

    def _span(self, j: int) -> _Span | None:
        """Parent ``j``'s children as spans and criteria, or None when no criterion can select exactly them."""
        if j in self._spans:
            return self._spans[j]
        self._spans[j] = found = self._find_span(j)
        return found

    def _find_span(self, j: int) -> _Span | None:
        rows, block = self.rows, self.block
        kids = self.structure.children[j]
        lo, hi = min(kids), max(kids)
        spans = tuple((a, b) for a, b in ((lo, min(hi, j - 1)), (max(lo, j + 1), hi)) if a <= b)
        row = rows[j]
        code = row.get(CODE.id)
        if code is None or code == "":
            return None
        groups: tuple[tuple[str, int | str], ...] = tuple((g, j) for g in block.group_by)
        # Children always have a level (a row without one has no parent): the levels a criterion may name.
        levels = sorted({str(rows[c].get(self._level)) for c in kids}) if self._level else []
        by_level = tuple((self._level, lv) for lv in levels) if self._level else ()
        want = set(kids)
        if _plain(code) and all(_plain(row.get(g)) for g in block.group_by):
            # Rows SUMIFS could match: a parent code and every group value sharing a key with this row's.
            found: set[int] = set()
            for key in _keys(code):
                hits = self._parent_index().get(key, [])
                found.update(r for r in hits[bisect_left(hits, lo):bisect_right(hits, hi)] if r != j)
            loose = {r for r in found
                     if all(_keys(rows[r].get(g)) & _keys(row.get(g)) for g in block.group_by)}
            if loose == want:
                return _Span(spans, ((PARENT.id, j), *groups), exact=False)
            if self._level and len(levels) == 1 and _plain(levels[0]):
                level_keys = _keys(levels[0])
                if {r for r in loose if _keys(rows[r].get(self._level)) & level_keys} == want:
                    return _Span(spans, ((PARENT.id, j), *groups, *by_level), exact=False)
        return _Span(spans, self._exact_criteria(j), exact=True)

    def _exact_criteria(self, j: int) -> tuple[tuple[str, int | str], ...]:
        """Criteria that, with EXACT codes, select exactly parent ``j``'s children: a row of one of their levels
        whose parent code is this row's code belongs to the nearest such parent, which is this one, or its
        sibling of the same level would belong to a nearer one too."""
        rows, kids = self.rows, self.structure.children[j]
        levels = sorted({str(rows[c].get(self._level)) for c in kids}) if self._level else []
        by_level = tuple((self._level, lv) for lv in levels) if self._level else ()
        return ((PARENT.id, j), *((g, j) for g in self.block.group_by), *by_level)

    def _render(self, span: _Span, j: int, column_id: str) -> str | None:
        """The span form's text in ``column_id``; None when a column it needs is not in the sheet."""
        try:
            terms = [self._term(span, j, column_id, lo, hi) for lo, hi in span.spans]
        except KeyError:
            return None
        return "+".join(terms)

    def _cell(self, j: int, column_id: str) -> str:
        """The parent's cell a criterion on ``column_id`` compares with: its code for the parent-code column."""
        return self.address(j, CODE.id if column_id == PARENT.id else column_id)

    def _term(self, span: _Span, j: int, column_id: str, lo: int, hi: int, *, count: bool = False) -> str:
        """One span's sum (or with ``count``, how many of its selected cells hold a number)."""
        def rng(col: str) -> str:
            return f"{self.address(lo, col)}:{self.address(hi, col)}"

        if not span.exact and not count:
            args = [rng(column_id)]
            for col, what in span.criteria:
                args += [rng(col), self._cell(what, col) if isinstance(what, int) else _literal(what)]
            return f"SUMIFS({','.join(args)})"
        factors: list[str] = []
        levels: list[str] = []
        for col, what in span.criteria:
            if col == PARENT.id:
                factors.append(f"EXACT({rng(col)},{self._cell(j, col)})")
            elif isinstance(what, int):
                factors.append(f"({rng(col)}={self._cell(what, col)})")
            else:
                levels.append(f"({rng(col)}={_literal(what)})")
        if levels:
            factors.append(levels[0] if len(levels) == 1 else f"({'+'.join(levels)})")
        if count:
            return f"SUMPRODUCT({'*'.join(factors)}*ISNUMBER({rng(column_id)}))"
        return f"SUMPRODUCT({'*'.join(factors)},{rng(column_id)})"


def _literal(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


# One decision per block: roll-ups are asked for cell by cell, by the generator, recalc and the fill button.
_ROLLUPS: weakref.WeakKeyDictionary[BlockCalc, Rollups] = weakref.WeakKeyDictionary()


def rollups(calc: BlockCalc, address: Address) -> Rollups:
    """The block's :class:`Rollups` for rows laid out by ``address`` (made once per block and layout)."""
    found = _ROLLUPS.get(calc)
    if found is None or found.address != address:
        found = _ROLLUPS[calc] = Rollups(calc, address)
    return found


def cell_formula(column: Column, calc: BlockCalc, i: int, address: Address) -> str:
    """Formula text (no '=') of row ``i``'s cell in ``column``; it must be computable."""
    if column.formula is not None:
        return column.formula.excel(_cell_address(address, i))
    return rollups(calc, address).formula(i, column.id)


def is_current(column: Column, calc: BlockCalc, i: int, address: Address, text: str | None) -> bool:
    """True when ``text`` (a formula as read, without '=') is a right formula for the cell: recalc leaves it."""
    if column.formula is not None:
        return text == column.formula.excel(_cell_address(address, i))
    return rollups(calc, address).accepts(i, column.id, text)


def current_rows(column: Column, calc: BlockCalc, rows: list[int], address: Address,
                 texts: Mapping[tuple[int, str], str]) -> list[int]:
    """The rows of ``rows`` whose formula text (``texts``, by cell) is right for ``column``, as
    :func:`is_current` decides cell by cell, a column at a time: a row formula's text is built once and only
    its row number changes from row to row (every reference is to its own row, or a defined name); a
    roll-up's against the column's roll-up formulas (:meth:`Rollups.current`)."""
    if not rows:
        return []
    found = _column_texts(texts, column.id, rows)
    if column.formula is None:
        return rollups(calc, address).current(column.id, rows, found)
    first = _cell_address(address, rows[0])
    template = column.formula.excel(lambda c: first(c) if c.startswith(META_PREFIX)
                                    else first(c).rstrip(digits) + _MARK)
    numbers = rollups(calc, address).row_numbers(column.id)
    expected = map(str.join, [numbers[i] for i in rows], repeat(template.split(_MARK)))
    return list(compress(rows, map(eq, found, expected)))


def _column_texts(texts: Mapping[tuple[int, str], str], column_id: str, rows: list[int]) -> list[str | None]:
    """The formula text of each of ``rows`` in ``column_id`` (None where a cell holds none)."""
    if isinstance(texts, FormulaMap):  # a read block's: the column's texts at once
        column = texts.column(column_id)
        return [None] * len(rows) if column is None else [column[i] for i in rows]
    return [texts.get((i, column_id)) for i in rows]


def _cell_address(address: Address, i: int) -> Callable[[str], str]:
    """Row ``i``'s reference to a column, or to an information-sheet field by its defined name ("@as_of")."""
    return lambda c: meta_name(c[len(META_PREFIX):]) if c.startswith(META_PREFIX) else address(i, c)


def row_cells(calc: BlockCalc, i: int, address: Address,
              columns: Collection[str] | None = None) -> Iterator[tuple[Column, str | None, bool]]:
    """Row ``i``'s cells as every template lays them out (the generator and the fill button alike): each
    column (of ``columns`` when given) with its formula (text without '=', None when it has none) and
    whether the formula is written (True) or the figure the data gives (False)."""
    for col in calc.block.columns:
        if columns is not None and col.id not in columns:
            continue
        if not calc.is_computable(i, col):
            yield col, None, False
        else:
            yield col, cell_formula(col, calc, i, address), not calc.is_stated(i, col.id)
