"""One verdict on a roll-up, whether its figure is a formula or typed, and whether the template's own red
highlight (its conditional format, as LibreOffice evaluates it) or validation judges it: a total typed over
lines that carry no figure is the input there, not a total that fails to add up."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from osmep_xl.data import load_report
from osmep_xl.model.evaluate import BlockCalc
from osmep_xl.money import excel_round
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.patch import WorkbookPatch
from osmep_xl.xlsx.read import read_workbook
from tests.big_tables import interleaved
from tests.libreoffice import evaluate_conditional_formats

pytestmark = pytest.mark.libreoffice


def typed_zeros(src: Path, out: Path) -> Path:
    """``src`` with every roll-up formula showing 0 replaced by a typed 0 (pasted as values)."""
    patch = WorkbookPatch(src)
    for rb in read_workbook(src).blocks.values():
        for i, c in rb.formula_cells:
            if rb.block.column(c).rollup and rb.rows[i].get(c) == 0:
                patch.set_cell(rb.sheet, rb.address(i, c), Decimal(0))
    return patch.save(out)


def flagged(path: Path) -> dict[tuple[str, str], bool]:
    """What validation's evaluator says of each roll-up cell: a typed figure over lines that carry one, which
    differs from their sum (before any cause is looked for) — what the red highlight claims."""
    out = {}
    for rb in read_workbook(path).blocks.values():
        calc = BlockCalc(rb.block, rb.rows, formula_cells=rb.formula_cells)
        for i in calc.structure.children:
            for col in rb.block.columns:
                if not col.rollup or col.id not in rb.columns:
                    continue
                value, exp = rb.rows[i].get(col.id), calc.expected(i, col.id)
                out[(rb.sheet, rb.address(i, col.id))] = bool(
                    calc.is_stated(i, col.id) and isinstance(value, Decimal) and exp.has_data
                    and isinstance(exp.value, Decimal) and excel_round(value - exp.value, 2) != 0)
    return out


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    src = tmp_path_factory.mktemp("verdict")
    paths = {t: write_workbook(load_report(t), src / f"{t}.xlsx") for t in ("integrated_plan", "action_plan")}
    paths["integrated_plan_typed"] = typed_zeros(paths["integrated_plan"], src / "integrated_plan_typed.xlsx")
    paths["interleaved"] = write_workbook(interleaved(1_000), src / "interleaved.xlsx")
    return paths


@pytest.fixture(scope="module")
def highlighted(books: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    results = evaluate_conditional_formats(list(books.values()), tmp_path_factory.mktemp("lo"))
    return dict(zip(books, results, strict=True))


@pytest.mark.parametrize("name", ["integrated_plan", "integrated_plan_typed", "action_plan", "interleaved"])
def test_the_red_highlight_agrees_with_validation_on_every_rollup(
        name: str, books: dict[str, Path], highlighted: dict[str, dict]) -> None:
    ours = flagged(books[name])
    theirs = {key: highlighted[name][key] for key in ours}
    assert theirs == {key: value for key, value in ours.items()}, sorted(
        (key, ours[key], theirs[key]) for key in ours if ours[key] != theirs[key])
    assert sum(ours.values()) >= (1 if name.startswith("integrated") else 0)


def test_formula_and_typed_zeros_get_the_same_highlight(highlighted: dict[str, dict]) -> None:
    formulas, typed = highlighted["integrated_plan"], highlighted["integrated_plan_typed"]
    assert {k: v for k, v in formulas.items() if v is True} == {k: v for k, v in typed.items() if v is True}
