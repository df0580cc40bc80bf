"""Data -> filled workbook -> read back -> equal to the data (the built-in report and random data)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osmep_xl.data import load_report
from osmep_xl.model.evaluate import BlockCalc
from osmep_xl.model.workbook import WorkbookData
from osmep_xl.spec import TEMPLATES
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.read import read_workbook


def assert_round_trip(data: WorkbookData, path: Path) -> None:
    write_workbook(data, path)
    back = read_workbook(path)
    assert back.spec.id == data.template
    assert back.meta == {k: v for k, v in data.meta.items()}
    for block in data.spec.blocks:
        rows, got = data.blocks[block.id], back.blocks[block.id]
        assert len(got.rows) == len(rows)
        calc = BlockCalc(block, rows)
        for i, row in enumerate(rows):
            for col in block.columns:
                stated = row.get(col.id)
                if stated is not None:
                    assert got.rows[i][col.id] == stated, (block.id, i, col.id)
                    assert (i, col.id) not in got.formula_cells
                elif calc.is_computable(i, col):
                    assert (i, col.id) in got.formula_cells
                else:
                    assert got.rows[i][col.id] is None


@pytest.mark.parametrize("template_id", list(TEMPLATES))
def test_report_round_trip(template_id: str, tmp_path: Path) -> None:
    assert_round_trip(load_report(template_id), tmp_path / f"{template_id}.xlsx")


texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
                max_size=30).map(str.strip).filter(bool)
money = st.decimals(min_value=0, max_value=10**11, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(texts, money, st.one_of(st.none(), money)), min_size=1, max_size=8), texts)
def test_random_round_trip(tmp_path: Path, lines: list[tuple[str, Decimal, Decimal | None]], note: str) -> None:
    rows: list[dict[str, Any]] = [dict(level="total", code="T", name="รวม", note=note)]
    for n, (name, allocated, disbursed) in enumerate(lines, start=1):
        rows.append(dict(level="project", code=str(n), parent="T", name=name, allocated=allocated,
                         disbursed=disbursed))
    for row in rows:
        row.update(fiscal_year=2564, budget_source="งบกลาง")
    data = WorkbookData.parse({"template": "disbursement", "meta": {"as_of": "2021-06-30", "agency": note},
                               "blocks": {"lines": rows}})
    assert_round_trip(data, tmp_path / "random.xlsx")


@pytest.mark.parametrize("text", ["#N/A", "#SPILL!", "#NAME?"])
def test_text_that_reads_like_an_error_stays_text(tmp_path: Path, text: str) -> None:
    """Only a cell the sheet marks as an error (t="e") is one; a name typed "#N/A" is a name."""
    data = WorkbookData.parse({"template": "kpi", "meta": {"as_of": "2021-06-30"}, "blocks": {
        "strategies": [{"code": "1", "name": text}], "kpis": []}})
    assert_round_trip(data, tmp_path / "k.xlsx")
    assert not read_workbook(tmp_path / "k.xlsx").blocks["strategies"].problems
