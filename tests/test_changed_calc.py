"""A diagnosis scenario evaluates afresh only the cells its changes reach and takes every other cell from the
workbook's evaluation, over its rows with the changed ones put in place of the block's (not a copy): each cell
equals what evaluating a changed copy of the block in full gives."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.generate import BUILDERS, generate
from osmep_xl.model.evaluate import BlockCalc
from osmep_xl.money import EXCEL
from osmep_xl.rules.config import load_settings
from osmep_xl.rules.context import Context
from osmep_xl.rules.diagnosis.constraints import Cell, ChangedCalc, Scenario, System
from osmep_xl.xlsx.read import read_workbooks
from tests.rule_cases import build, disb

VALUES = [Decimal(0), Decimal(1), Decimal("12.5"), Decimal("-3"), Decimal("123456.78")]


def _changes(system: System, rng: random.Random) -> dict[Cell, Decimal]:
    """One to three numeric cells of one block, any row (a line, a parent, a derived cell), set anew."""
    b = rng.choice(sorted(system.rb))
    rb = system.rb[b]
    columns = [c.id for c in rb.block.columns if c.type.numeric and c.id in rb.columns]
    if not rb.rows or not columns:
        return {}
    return {(b, rng.randrange(len(rb.rows)), rng.choice(columns)): rng.choice(VALUES)
            for _ in range(rng.randint(1, 3))}


def _copied(system: System, changes: dict[Cell, Any], b: str) -> list[dict[str, Any]]:
    """Block ``b``'s rows copied, the changes made in the copy (as scenarios were made)."""
    rows = list(system.rb[b].rows)
    for (block, i, c), v in changes.items():
        if block == b:
            rows[i] = {**rows[i], c: v}
    return rows


def _every_cell_agrees(system: System, sc: Scenario, b: str, excel: bool) -> int:
    """Every cell of block ``b`` in the scenario against the block evaluated in full from a copy of its rows;
    how many are compared."""
    changed = sc.calc(b, excel)
    assert isinstance(changed, ChangedCalc)
    rb = system.rb[b]
    rows = _copied(system, sc.changes, b)
    assert list(sc.rows[b]) == rows and list(sc.rows[b][::-1]) == rows[::-1]
    assert [sc.rows[b][-k] for k in range(1, len(rows) + 1)] == rows[::-1]
    full = BlockCalc(rb.block, rows, formula_cells=rb.formula_cells, structure=system.calcs[b].structure,
                     arith=EXCEL if excel else system.calcs[b].arith, meta=system.calcs[b].meta)
    n = 0
    for i in range(len(rb.rows)):
        for col in rb.block.columns:
            assert repr(changed.cell(i, col.id)) == repr(full.cell(i, col.id)), (b, i, col.id, excel)
            if full.is_computable(i, col):
                assert repr(changed.expected(i, col.id)) == repr(full.expected(i, col.id)), (b, i, col.id, excel)
            n += 1
    return n


def test_a_scenario_s_cells_equal_its_block_evaluated_in_full(tmp_path: Path) -> None:
    # Typed totals over lines, a typed 0 over blank lines (a changed line gives it a figure), and generated
    # workbooks of every template with mistakes: typed parents, derived cells typed over, several levels.
    typed = build(tmp_path / "typed.xlsx", "disbursement", {"lines": [
        disb("total", "T", None, "1600", "900"), disb("part", "A", "T", "1600"),
        disb("strategy", "S", "A", "0"), disb("project", "P1", "S"), disb("project", "P2", "S"),
        disb("strategy", "R", "A"), disb("project", "P3", "R", "1000", "600", "250", pct_disbursed="60"),
        disb("project", "P4", "R", "600", "300")]})
    paths = [typed, *generate(tmp_path / "gen", 2 * len(BUILDERS), seed=17, error_rate=1.0)]
    rng = random.Random(4)
    compared = 0
    for path in paths:
        for wb in read_workbooks(path):
            system = System(Context(wb, load_settings()))
            for _ in range(12):
                changes = _changes(system, rng)
                if not changes:
                    continue
                sc = Scenario(system, changes)
                b = next(iter(changes))[0]
                for excel in (False, True):
                    compared += _every_cell_agrees(system, sc, b, excel)
    assert compared > 10_000
