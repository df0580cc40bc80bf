"""Recalc's plan at the cost of its edits: each shortcut gives exactly what the path it replaces gives.

A roll-up reads its leaf lines straight from their rows (values, Decimal exponents and Excel's doubles as
evaluating each line gave them); formula texts are judged a column at a time as :func:`is_current` judges
them cell by cell; the structure's links are those the row-by-row walk found.
"""

from __future__ import annotations

import gc
import random
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from osmep_xl.model.columnar import evaluate_columns
from osmep_xl.model.evaluate import BlockCalc, CellValue, Structure, resolve_structure
from osmep_xl.money import DECIMAL, EXCEL
from osmep_xl.rules.recalc import plan_recalc_all
from osmep_xl.rules.recalc_screen import Screen
from osmep_xl.spec.base import Block
from osmep_xl.xlsx import formulas
from osmep_xl.xlsx.formula_map import FormulaMap
from osmep_xl.xlsx.formulas import cell_formula, current_rows, is_current, sum_formula
from osmep_xl.xlsx.read import read_workbooks
from tests.big_tables import interleaved_rows
from tests.cells import Table
from tests.rule_cases import build, disb

LINES = Table("disbursement", "lines")
BLOCK = LINES.block
D = Decimal


class PerCell(BlockCalc):
    """The replaced path: every line of a roll-up evaluated as a cell of its own."""

    def _rollup(self, children: list[int], column_id: str) -> CellValue:
        parts = [self.cell(c, column_id) for c in children]
        total = self.arith.add(p.value for p in parts if isinstance(p.value, Decimal))
        return CellValue(total, any(p.has_data for p in parts), False)


def _edges() -> tuple[list[dict[str, Any]], set[tuple[int, str]]]:
    """Lines made to hit the shortcut's edges, and the cells among them holding formulas."""
    rows = [
        disb("total", "T"),
        disb("part", "1", "T"),
        # a strategy whose lines are all leaves: blank, -0, mixed exponents, doubles whose order of addition
        # shows, a text left as text (fill data), a huge figure
        disb("strategy", "1.1", "1"),
        disb("project", "P1", "1.1", None, D("0.1"), D("-0")),
        disb("project", "P2", "1.1", D("100"), D("0.2"), None),
        disb("project", "P3", "1.1", D("100.5"), D("0.3"), D("1E+15")),
        disb("project", "P4", "1.1", D("100.25"), "n/a", D("0.05")),
        disb("project", "P5", "1.1", D("-0"), None, D("-1E+15")),
        # a part whose lines are interleaved strategies and projects of its own
        disb("project", "Q1", "1", D("7.125"), D("1.1"), None),
        disb("strategy", "1.2", "1"),
        disb("project", "P6", "1.2", D("2.5"), D("2.2"), D("3.3")),
        disb("project", "Q2", "1", D("0.01"), None, None),
        disb("project", "P7", "1.2", D("1E+2"), D("-2.2"), None),
        # a strategy typed over its lines, one typed 0 over blank lines, one over lines of nothing but blanks
        disb("strategy", "1.3", "1", D("999"), D("0"), None),
        disb("project", "P8", "1.3", D("4"), None, None),
        disb("strategy", "1.4", "1", D("0"), D("0"), D("0")),
        disb("project", "P9", "1.4"),
        disb("project", "P10", "1.4"),
        # a line that is a formula (its cached value, and a blank cache), and an error cell (read as blank)
        disb("strategy", "1.5", "1"),
        disb("project", "P11", "1.5", D("12.34"), D("5"), None),
        disb("project", "P12", "1.5", None, D("6"), D("7")),
        disb("project", "P13", "1.5", D("8.5"), None, D("0.1")),
        disb("project", "P14", "T", D("3"), D("0.7"), D("0.1")),
        # the part's last line a roll-up over lines of nothing: the part still has figures
        disb("strategy", "1.6", "1"),
        disb("project", "P15", "1.6"),
        # a part of a roll-up and a line of its own, all blank: no figure
        disb("part", "2", "T"),
        disb("strategy", "2.1", "2"),
        disb("project", "P16", "2.1"),
        disb("project", "Q3", "2"),
    ]
    table = LINES.with_rows(rows)
    formulas = {(table.row("P11"), "allocated"), (table.row("P12"), "allocated"), (table.row("P13"), "disbursed"),
                (table.row("1.2"), "allocated"), (table.row("T"), "disbursed")}
    return rows, formulas


def _exactly(cv: CellValue) -> tuple[str, str, bool, bool]:
    return type(cv.value).__name__, str(cv.value), cv.has_data, cv.stated  # Decimal 0 and 0.0 differ


def _cases() -> list[tuple[str, list[dict[str, Any]], set[tuple[int, str]]]]:
    rows, formulas = _edges()
    big = interleaved_rows(900)  # strategies of ~64 interleaved lines: SUMIFS roll-ups
    return [("edges", rows, formulas), ("edges without formulas", rows, set()),
            ("interleaved", big, {(i, "allocated") for i in range(0, len(big), 37)})]


@pytest.mark.parametrize("name, rows, formulas", _cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_a_roll_up_reading_its_lines_from_their_rows_equals_evaluating_each(
        name: str, rows: list[dict[str, Any]], formulas: set[tuple[int, str]]) -> None:
    numeric = [c.id for c in BLOCK.columns if c.type.numeric]
    structure = resolve_structure(BLOCK, rows)
    assert any(len(kids) > 1 for kids in structure.children.values())
    compared = 0
    for arith in (DECIMAL, EXCEL):
        for recompute in (False, True):
            options: dict[str, Any] = {"formula_cells": formulas, "recompute": recompute, "arith": arith,
                                       "structure": structure}
            fast, slow = BlockCalc(BLOCK, rows, **options), PerCell(BLOCK, rows, **options)
            for i in range(len(rows)):
                for column_id in numeric:
                    assert _exactly(fast.cell(i, column_id)) == _exactly(slow.cell(i, column_id)), (
                        name, arith.name, recompute, i, column_id)
                    compared += 1
    assert compared > 0


def _screenable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines as the columns can evaluate them: amounts in whole hundredths below 9·10^12 (no text, no
    third decimal), and none typed over a roll-up."""
    structure = resolve_structure(BLOCK, rows)

    def fits(value: Any) -> bool:
        return isinstance(value, Decimal) and abs(value) < D("9E+12") and value == value.quantize(D("0.01"))

    return [{**row, **{c: row[c] if fits(row.get(c)) and not structure.children.get(i) else None
                       for c in ("allocated", "disbursed", "committed")}} for i, row in enumerate(rows)]


@pytest.mark.parametrize("name, rows, formulas", _cases()[::2], ids=lambda v: v if isinstance(v, str) else "")
def test_a_roll_up_taking_its_roll_up_lines_from_the_columns_equals_evaluating_each(
        name: str, rows: list[dict[str, Any]], formulas: set[tuple[int, str]]) -> None:
    rows = _screenable(rows)
    structure = resolve_structure(BLOCK, rows)
    raw = {c.id: [float(row[c.id]) if isinstance(row.get(c.id), Decimal) else row.get(c.id) for row in rows]
           for c in BLOCK.columns}
    evaluated = evaluate_columns(BLOCK, rows, raw, formulas, structure)
    assert evaluated is not None
    doubles = {c.id: evaluated.columns[c.id].double for c in BLOCK.columns if c.rollup}
    options: dict[str, Any] = {"formula_cells": formulas, "recompute": True, "arith": EXCEL, "structure": structure}
    fast = BlockCalc(BLOCK, rows, rolled_up=Screen([], doubles).rolled_up, **options)
    slow = PerCell(BLOCK, rows, **options)
    for i in range(len(rows)):
        for column_id in (c.id for c in BLOCK.columns if c.type.numeric):
            assert _exactly(fast.cell(i, column_id)) == _exactly(slow.cell(i, column_id)), (name, i, column_id)


def _laid_out(rows: list[dict[str, Any]]) -> tuple[BlockCalc, Any]:
    table = LINES.with_rows(rows)
    return BlockCalc(BLOCK, rows, recompute=True), lambda i, column_id: table.cell(column_id, i)


def _texts(rows: list[dict[str, Any]]) -> dict[tuple[int, str], str]:
    """Each computable cell's formula as recalc would write it, with every way of being wrong or right
    otherwise: another row's formula, no formula, an earlier version's list of a span's lines."""
    calc, address = _laid_out(rows)
    rng = random.Random(14)
    texts: dict[tuple[int, str], str] = {}
    for col in (c for c in BLOCK.columns if c.derived or c.rollup):
        cells = [i for i in range(len(rows)) if calc.is_computable(i, col)]
        for n, i in enumerate(cells):
            right, pick = cell_formula(col, calc, i, address), n % 7 if col.rollup else rng.randrange(20)
            if pick == 0:
                continue  # a typed figure
            if pick == 1:  # another cell's formula
                texts[(i, col.id)] = cell_formula(col, calc, cells[(n + 1) % len(cells)], address)
            elif pick == 2 and col.rollup:  # the list of its lines (an earlier version's), whatever its length
                texts[(i, col.id)] = sum_formula([address(c, col.id) for c in calc.structure.children[i]])
            else:
                texts[(i, col.id)] = right
    return texts


def test_formula_texts_judged_a_column_at_a_time_as_cell_by_cell() -> None:
    rows = interleaved_rows(1200)
    texts = _texts(rows)
    calc, address = _laid_out(rows)
    forms = [cell_formula(BLOCK.column("allocated"), calc, i, address) for i in calc.structure.children]
    assert any(f.startswith("SUMIFS(") for f in forms) and any(f.startswith("SUM(") for f in forms)
    by_column: dict[str, list[str | None]] = {c.id: [texts.get((i, c.id)) for i in range(len(rows))]
                                              for c in BLOCK.columns}
    held = FormulaMap({cid: cells for cid, cells in by_column.items() if any(cells)})
    for col in (c for c in BLOCK.columns if c.derived or c.rollup):
        candidates = [i for i in range(len(rows)) if calc.is_computable(i, col)]
        one_by_one, _ = _laid_out(rows)  # its own roll-up plan, decided cell by cell
        expected = [i for i in candidates if is_current(col, one_by_one, i, address, texts.get((i, col.id)))]
        assert 0 < len(expected) < len(candidates), col.id
        assert current_rows(col, calc, candidates, address, held) == expected, col.id
        assert current_rows(col, calc, candidates, address, texts) == expected, col.id
        some = candidates[::3]
        assert current_rows(col, calc, some, address, held) == [i for i in some if i in set(expected)], col.id


def _walked(block: Block, rows: list[dict[str, Any]]) -> Structure:
    """The links as the row-by-row walk found them (the code the shortcuts replace)."""
    st = Structure()
    seen: set[tuple[Any, ...]] = set()
    for i, row in enumerate(rows):
        key = tuple(row.get(c) for c in block.key_columns)
        if key in seen:
            st.duplicates.append(i)
        seen.add(key)
    ranks = {lv.id: n for n, lv in enumerate(block.levels)}
    unknown = len(ranks)
    rank_of = [ranks.get(row.get("level") or "", unknown) for row in rows]
    by_code: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_code[(*(row.get(c) for c in block.group_by), row.get("code"))].append(i)
    for i, row in enumerate(rows):
        key = (*(row.get(c) for c in block.group_by), row.get("parent"))
        if key[-1] is None or rank_of[i] == unknown:
            continue
        candidates = [j for j in by_code.get(key, []) if rank_of[j] < rank_of[i]]
        if candidates:
            j = max(candidates, key=lambda c: rank_of[c])
            st.parent[i] = j
            st.children[j].append(i)
    return st


@pytest.mark.parametrize("seed", range(6))
def test_the_structure_links_what_the_row_by_row_walk_links(seed: int) -> None:
    rng = random.Random(seed)
    levels = [lv.id for lv in BLOCK.levels] + ["unknown", None]
    codes = ["T", "1", "1.1", "1.2", "2", "P1", "P2", "P3", None, ""]
    rows = [{"fiscal_year": D(2564), "budget_source": rng.choice(["ก", "ข"]), "level": rng.choice(levels),
             "code": rng.choice(codes), "parent": rng.choice([*codes, "ไม่มี"])} for _ in range(400)]
    if seed < 2:  # no key repeats, then one
        rows = [{**row, "budget_source": "ก", "level": lv, "code": f"{n}"}
                for n, (row, lv) in enumerate(zip(rows, rng.choices(levels[:5], k=len(rows)), strict=True))]
        rows += rows[7:8] if seed == 1 else []
    got, walked = resolve_structure(BLOCK, rows), _walked(BLOCK, rows)
    assert got.parent == walked.parent
    assert {j: kids for j, kids in got.children.items() if kids} == dict(walked.children)
    assert got.duplicates == walked.duplicates
    assert walked.parent and (seed == 0 or walked.duplicates)


def test_a_replaced_typed_figure_is_reported_against_the_exact_sum(tmp_path: Path) -> None:
    """Only a typed figure that recalc replaces needs the exact value: the change it reports is the true sum of
    the lines (0.3), while the cell gets what Excel computes (0.1 + 0.2 in doubles)."""
    rows = [disb("total", "T", allocated="5"), disb("project", "P1", "T", "0.1"), disb("project", "P2", "T", "0.2")]
    path = build(tmp_path / "typed.xlsx", "disbursement", {"lines": rows})
    edits, changes = plan_recalc_all(read_workbooks(path))
    cell = LINES.with_rows(rows).at("allocated", "T")
    assert [(e.cell, str(e.value)) for e in edits if e.cell == cell] == [(cell, repr(0.1 + 0.2))]
    assert [(f.rule, f.cell, str(f.expected), str(f.actual)) for f in changes] == [
        ("recalc.changed", cell, "0.3", "5")]


def test_the_plan_keeps_nothing_of_a_block_once_made(tmp_path: Path) -> None:
    """The roll-up plan of each block (row numbers, lists of lines, the parent-code index: all sized by the
    sheet) is dropped with the plan, not kept by the one-per-block cache."""
    rows = [disb("total", "T"), disb("project", "P1", "T", "1000", "600", "250"), disb("project", "P2", "T", "1")]
    books = read_workbooks(build(tmp_path / "clean.xlsx", "disbursement", {"lines": rows}))
    gc.collect()
    before = len(formulas._ROLLUPS)
    assert plan_recalc_all(books)[0] == []
    gc.collect()
    assert len(formulas._ROLLUPS) == before
