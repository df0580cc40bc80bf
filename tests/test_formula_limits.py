"""Roll-ups over many interleaved lines stay within Excel's 8,192 characters (cell formulas, conditional
formats, data validations), select exactly the lines Python sums, and recalc leaves a right one alone.

LibreOffice computes the same totals as Python: ``tests/test_libreoffice_recalc.py`` (interleaved_2000).
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from osmep_xl.a1 import column_letter
from osmep_xl.check import recalc_result
from osmep_xl.model.evaluate import BlockCalc
from osmep_xl.spec import get_spec
from osmep_xl.xlsx.formulas import LIST_LIMIT, Rollups, rollups, sum_formula
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.patch import WorkbookPatch
from osmep_xl.xlsx.read import ReadBlock, read_workbook
from osmep_xl.xlsx.values import MAX_FORMULA
from tests.big_tables import SOURCES, interleaved, interleaved_rows
from tests.cells import find_row

# Every place a package holds formula text: cells, conditional formats, data validations, defined names.
FORMULA_TEXT = re.compile(rb"<(?:\w+:)?(?:f|formula|formula1|formula2|definedName)\b[^>]*>([^<]*)<")


def formulas(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return [html.unescape(m.decode("utf-8")) for name in zf.namelist() if name.endswith(".xml")
                for m in FORMULA_TEXT.findall(zf.read(name))]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """50,000 projects, each strategy's lines interleaved with every other's."""
    return write_workbook(interleaved(50_000), tmp_path_factory.mktemp("big") / "big.xlsx")


def test_no_formula_over_excels_limit_at_50000_interleaved_lines(big: Path) -> None:
    found = formulas(big)
    assert len(found) > 50_000 * 6  # every derived cell, and the conditional formats and validations
    assert max(map(len, found)) <= MAX_FORMULA
    assert any(f.startswith("SUMIFS(") for f in found) and any(f.startswith("SUMPRODUCT(") for f in found)


def test_recalc_finds_every_span_right(mid: Path, tmp_path: Path) -> None:
    """Nothing to write (no "bad formula"): the file is copied as it is."""
    out = tmp_path / "out.xlsx"
    assert recalc_result(mid, out).findings == []
    assert out.read_bytes() == mid.read_bytes()


def _lines(path: Path) -> ReadBlock:
    return read_workbook(path).blocks["lines"]


@pytest.fixture(scope="module")
def mid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 projects: about 70 interleaved lines under each strategy, too many for a short list."""
    return write_workbook(interleaved(1_000), tmp_path_factory.mktemp("mid") / "mid.xlsx")


def _formula(rb: ReadBlock, code: str, level: str, column: str = "allocated") -> str:
    i = find_row(rb.rows, code, level, budget_source=SOURCES[0])
    return rb.formula_text[(i, column)]


def test_each_rollup_selects_its_lines_by_the_safest_form(mid: Path) -> None:
    rb = _lines(mid)
    # few lines: the list of cells every template always had
    assert _formula(rb, "1", "part").startswith("SUM(") and len(_formula(rb, "1", "part")) <= LIST_LIMIT
    # many lines with a plain code: SUMIFS on parent code, fiscal year and budget source (both sources share codes)
    plain = _formula(rb, "1.2", "strategy")
    assert plain.startswith("SUMIFS(") and plain.count(",") == 6
    # a code used at two levels ("9" is a part and a strategy): the range does not reach the part's row
    assert _formula(rb, "9", "strategy").startswith("SUMIFS(")
    # codes SUMIFS could confuse ("1.1" = "1.10" as numbers; "2*" is a wildcard): exact text comparison
    for code in ("1.1", "1.10", "2*"):
        text = _formula(rb, code, "strategy")
        assert text.startswith("SUMPRODUCT(EXACT("), (code, text)
    # the list those spans replace would have been long
    i = find_row(rb.rows, "1.2", "strategy", budget_source=SOURCES[0])
    kids = [j for j, row in enumerate(rb.rows) if row.get("parent") == "1.2" and row["budget_source"] == SOURCES[0]]
    assert len(sum_formula([rb.address(j, "allocated") for j in kids])) > LIST_LIMIT
    assert i not in kids


def test_recalc_keeps_a_right_rollup_as_list_or_span_and_rewrites_a_wrong_one(mid: Path, tmp_path: Path) -> None:
    rb = _lines(mid)
    i = find_row(rb.rows, "1.2", "strategy", budget_source=SOURCES[0])
    cell = rb.address(i, "allocated")
    kids = [j for j, row in enumerate(rb.rows) if row.get("parent") == "1.2" and row["budget_source"] == SOURCES[0]]
    as_list = sum_formula([rb.address(j, "allocated") for j in kids])
    # the same total written as the list of its lines (an earlier version's formula): right, left alone
    listed = tmp_path / "listed.xlsx"
    patch = WorkbookPatch(mid)
    patch.set_cell(rb.sheet, cell, rb.rows[i]["allocated"], formula=as_list)
    patch.save(listed)
    out = tmp_path / "out.xlsx"
    assert recalc_result(listed, out).findings == []
    assert _lines(out).formula_text[(i, "allocated")] == as_list
    # a roll-up over the wrong code is not: recalc writes the span back
    wrong = tmp_path / "wrong.xlsx"
    patch = WorkbookPatch(mid)
    patch.set_cell(rb.sheet, cell, rb.rows[i]["allocated"], formula=rb.formula_text[(i, "allocated")].replace(
        rb.address(i, "code"), rb.address(find_row(rb.rows, "2.1", "strategy", budget_source=SOURCES[0]), "code")))
    patch.save(wrong)
    recalc_result(wrong, out)
    assert _lines(out).formula_text[(i, "allocated")] == rb.formula_text[(i, "allocated")]


def _laid_out(projects: int) -> tuple[list[dict[str, Any]], BlockCalc, Callable[[int, str], str], Rollups]:
    """Interleaved disbursement rows laid out from sheet row 8, column by column as the spec orders them."""
    block = get_spec("disbursement").block("lines")
    rows = interleaved_rows(projects)
    calc = BlockCalc(block, rows)
    letters = {c.id: column_letter(n) for n, c in enumerate(block.columns)}

    def address(i: int, column_id: str) -> str:
        return f"{letters[column_id]}{i + 8}"

    return rows, calc, address, rollups(calc, address)


def test_a_list_beyond_excels_limit_is_not_kept() -> None:
    """An earlier version's list of 1,400 cells (over 8,192 characters) is rewritten by recalc; a span is not."""
    rows, calc, address, plan = _laid_out(20_000)
    i = find_row(rows, "1.2", "strategy", budget_source=SOURCES[0])
    as_list = sum_formula([address(c, "allocated") for c in calc.structure.children[i]])
    assert len(as_list) > MAX_FORMULA
    assert not plan.accepts(i, "allocated", as_list)
    assert plan.accepts(i, "allocated", plan.formula(i, "allocated"))


def test_a_short_roll_up_is_the_list_of_its_lines_in_every_column() -> None:
    """Each parent's lines are found once for every column: the list must still be that column's own cells,
    consecutive rows folded into ranges, for every roll-up column (lines interleaved and contiguous alike)."""
    _, calc, address, plan = _laid_out(60)
    block = calc.block
    checked = 0
    for i, kids in calc.structure.children.items():
        for col in (c for c in block.columns if c.rollup):
            as_list = sum_formula([address(c, col.id) for c in kids])
            if len(as_list) <= LIST_LIMIT:
                assert plan.formula(i, col.id) == as_list
                checked += 1
    assert checked > 10 and any(":" in plan.formula(i, "allocated") for i in calc.structure.children)
