"""A template is a spec plus one registration: a test-only template goes through every command.

The template below is registered by the test alone (no other file knows it), then made, filled,
validated, recalculated, batch-validated and consolidated through the real command line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from osmep_xl.cli import app
from osmep_xl.rules.catalog import cross_check, unregister
from osmep_xl.rules.context import WorkbookSet
from osmep_xl.rules.structure import VERSION
from osmep_xl.spec import TEMPLATES, register
from osmep_xl.spec import unregister as unregister_template
from osmep_xl.spec.base import Block, ColType, Column, Pct, Sum, TemplateSpec
from osmep_xl.spec.columns import (
    CODE,
    COMMON_META,
    LEVEL_PROJECT,
    LEVEL_SUBMITTER,
    LEVEL_TOTAL,
    NAME,
    PARENT,
    level_column,
)
from osmep_xl.xlsx.read import read_workbook

LEVELS = (LEVEL_TOTAL, LEVEL_SUBMITTER, LEVEL_PROJECT)
GRANTS = TemplateSpec(
    id="grants_test", version="0.1", title_th="ทุนทดสอบ", title_en="Test grants",
    blocks=(Block(
        id="grants", sheet="ทุนทดสอบ", title_th="ทุน", title_en="Grants", levels=LEVELS,
        columns=(
            level_column(LEVELS), CODE, PARENT, NAME,
            Column("granted", "ทุนที่ได้", "Granted", ColType.MONEY, required=True, rollup=True),
            Column("topped_up", "เติมเพิ่ม", "Topped up", ColType.MONEY, rollup=True),
            Column("spent", "ใช้ไป", "Spent", ColType.MONEY, rollup=True),
            # One n-ary formula: granted + topped up - spent.
            Column("left", "เหลือ", "Left", ColType.MONEY, formula=Sum("granted", "topped_up", "-spent")),
            Column("pct_spent", "ร้อยละใช้ไป", "% spent", ColType.PERCENT, formula=Pct("spent", "granted")),
        ),
    ),),
    meta=COMMON_META,
    skeleton={"grants": ({"level": "total", "code": "T", "name": "รวม"},)},
)
META = {"agency": "หน่วยทดสอบ", "fiscal_year": 2564, "quarter": 3, "as_of": "2021-06-30"}


def rows(spent_b: str) -> list[dict[str, str]]:
    return [
        {"level": "total", "code": "T", "name": "รวม"},
        {"level": "project", "code": "A", "parent": "T", "name": "ก", "granted": "1,000", "topped_up": "100",
         "spent": "250"},
        {"level": "project", "code": "B", "parent": "T", "name": "ข", "granted": "2000", "spent": spent_b},
    ]


@pytest.fixture
def grants() -> Iterator[TemplateSpec]:
    register(GRANTS)
    try:
        yield GRANTS
    finally:
        unregister_template(GRANTS.id)


def cli(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_test_template_through_every_command(grants: TemplateSpec, tmp_path: Path) -> None:
    code, out = cli("templates", "list")
    assert code == 0 and "grants_test" in out

    code, out = cli("templates", "build", "--out", tmp_path / "tpl")
    assert code == 0 and (tmp_path / "tpl" / "grants_test.xlsx").is_file(), out

    blank = tmp_path / "blank.xlsx"
    assert cli("new", "grants_test", blank)[0] == 0
    assert [r["code"] for r in read_workbook(blank).blocks["grants"].rows] == ["T"]  # the skeleton row

    filled: list[Path] = []
    for n, spent_b in enumerate(("500", "700")):
        data = tmp_path / f"d{n}.json"
        data.write_text(json.dumps({"template": "grants_test", "meta": META, "blocks": {"grants": rows(spent_b)}},
                                   ensure_ascii=False), "utf-8")
        filled.append(tmp_path / f"f{n}.xlsx")
        code, out = cli("fill", "grants_test", data, filled[-1])
        assert code == 0, out
    wb = read_workbook(filled[0])
    rb = wb.blocks["grants"]
    left = rb.address(1, "left")
    assert rb.formula_text[(1, "left")] == f"{rb.address(1, 'granted')}+{rb.address(1, 'topped_up')}-" \
                                           f"{rb.address(1, 'spent')}"

    code, out = cli("validate", filled[0], "--json")
    assert code == 0, out
    assert json.loads(out)["summary"]["errors"] == 0

    # A typed figure that disagrees with the n-ary formula is found at its cell, and recalc restores it.
    from tests.rule_cases import set_cells

    broken = set_cells(filled[0], "ทุนทดสอบ", {left: 999}, out=tmp_path / "broken.xlsx")
    code, out = cli("validate", broken, "--json")
    found = json.loads(out)["files"][0]["findings"]
    assert code == 1 and [(f["rule"], f["cell"], f["expected"]) for f in found if f["severity"] == "error"] == [
        ("identity.difference", left, 850)]
    fixed = tmp_path / "fixed.xlsx"
    assert cli("recalc", broken, "-o", fixed)[0] == 0
    assert cli("validate", fixed)[0] == 0

    code, out = cli("batch", "validate", *filled, "--jobs", "2", "--quiet")
    assert code == 0, out

    merged = tmp_path / "all.xlsx"
    code, out = cli("consolidate", "grants_test", *filled, "-o", merged)
    assert code == 0, out
    total = read_workbook(merged).blocks["grants"]
    grand = next(r for r in total.rows if r["level"] == "total")
    assert grand["granted"] is None or grand["granted"] == 6000  # a roll-up formula or its cached value
    assert cli("validate", merged)[0] == 0


def test_a_cross_template_rule_is_one_function(grants: TemplateSpec, tmp_path: Path) -> None:
    """A check over two templates runs when both are validated together, and only then."""
    seen: list[tuple[str, ...]] = []

    @cross_check(VERSION, templates=("grants_test", "disbursement"))
    def both(wset: WorkbookSet) -> Iterator[object]:
        seen.append(tuple(sorted(c.workbook.spec.id for c in wset.contexts)))
        return iter(())

    try:
        data = tmp_path / "d.json"
        data.write_text(json.dumps({"template": "grants_test", "meta": META, "blocks": {"grants": rows("1")}},
                                   ensure_ascii=False), "utf-8")
        g, d = tmp_path / "g.xlsx", tmp_path / "d.xlsx"
        assert cli("fill", "grants_test", data, g)[0] == 0
        assert cli("new", "disbursement", d)[0] == 0
        cli("validate", g)
        assert seen == []
        cli("validate", g, d)
        assert seen == [("disbursement", "grants_test")]
    finally:
        unregister(both)


def test_registry_refuses_clashes() -> None:
    with pytest.raises(ValueError, match="twice"):
        register(TEMPLATES["kpi"])
    clash = TemplateSpec(id="clash", version="1", title_th="x", title_en="x",
                         blocks=(Block(id="b", sheet="เบิกจ่าย", title_th="x", title_en="x", columns=(CODE, NAME)),))
    with pytest.raises(ValueError, match="sheet names"):
        register(clash)
    assert "clash" not in TEMPLATES


def test_outputs_template_through_every_command(tmp_path: Path) -> None:
    """The registered outputs template: new, fill, validate (alone and with the KPI workbook), recalc, batch,
    consolidate, all through the command line."""
    from osmep_xl.data import load_report

    blank = tmp_path / "blank.xlsx"
    assert cli("new", "outputs", blank)[0] == 0
    data = tmp_path / "outputs.json"
    data.write_text(json.dumps(load_report("outputs").model_dump(mode="json"), ensure_ascii=False), "utf-8")
    books = []
    for name in ("a", "b"):
        books.append(tmp_path / f"{name}.xlsx")
        code, out = cli("fill", "outputs", data, books[-1])
        assert code == 0, out
    code, out = cli("validate", books[0], "--json")
    assert code == 0 and json.loads(out)["summary"]["errors"] == 0, out
    kpi = tmp_path / "kpi.json"
    kpi.write_text(json.dumps(load_report("kpi").model_dump(mode="json"), ensure_ascii=False), "utf-8")
    assert cli("fill", "kpi", kpi, tmp_path / "kpi.xlsx")[0] == 0
    code, out = cli("validate", tmp_path / "kpi.xlsx", books[0], "--json")
    assert json.loads(out)["summary"]["by_rule"].get("kpi.outputs_sum") == 2, out
    assert cli("recalc", books[0], "-o", tmp_path / "recalc.xlsx")[0] == 0
    code, out = cli("batch", "validate", *books, "--jobs", "2", "--quiet")
    assert code == 0, out
    merged = tmp_path / "all.xlsx"
    code, out = cli("consolidate", "outputs", *books, "-o", merged)
    assert code == 0, out
    assert len(read_workbook(merged).blocks["outputs"].rows) == 2 * len(load_report("outputs").blocks["outputs"])
