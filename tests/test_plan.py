"""The monthly spending plan: its rules and its checks against the action plan and the disbursement report,
each on a small workbook broken in exactly one way, beside the same workbook unbroken (the clean twin)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from osmep_xl.findings import Finding
from osmep_xl.fiscal import fiscal_month_start
from osmep_xl.model.evaluate import BlockCalc
from osmep_xl.model.workbook import WorkbookData
from osmep_xl.rules.config import load_settings
from osmep_xl.rules.plan import read_date
from osmep_xl.rules.validate import validate_set
from osmep_xl.spec.spending_plan import ACTUAL_MONTHS, BLOCK_ID, MONTHS, PLAN_MONTHS
from osmep_xl.xlsx.read import read_workbook
from tests.cells import Table, meta_cell
from tests.rule_cases import FY, META, SOURCE, build, check, disb, plan_row, set_cells, settings_from
from tests.test_rules import Expect, assert_none, assert_single, expect

D = Decimal
TEMPLATE = "spending_plan"
AS_OF_MONTH = 9  # META's as-of date, 30 Jun 2021, is the 9th month of FY2564


def line(level: str, code: str, parent: str | None = None, budget: Any = None, plan: Any = None,
         actual: Any = None, months: int = AS_OF_MONTH, **more: Any) -> dict[str, Any]:
    """A row of the spending plan: ``plan`` in each of the 12 months, ``actual`` in each of the first ``months``."""
    row: dict[str, Any] = {"fiscal_year": FY, "budget_source": SOURCE, "level": level, "code": code,
                           "parent": parent, "name": f"โครงการ {code}", "budget_act": budget}
    if plan is not None:
        row.update({m: plan for m in PLAN_MONTHS})
    if actual is not None:
        row.update({m: actual for m in ACTUAL_MONTHS[:months]})
    row.update(more)
    return row


def plan_rows() -> list[dict[str, Any]]:
    """T = P1 + P2, both on plan: 100 a month planned and spent, so 900 each to the end of June, and 100 committed
    (83.33 % of 1,200: on the government's Q3 target of 80)."""
    return [line("total", "T"),
            line("project", "P1", "T", "1200", "100", "100", status="ดำเนินการ", committed="100"),
            line("project", "P2", "T", "1200", "100", "100", status="ดำเนินการ", committed="100")]


PLAN = Table(TEMPLATE, BLOCK_ID, plan_rows())
SHEET = PLAN.sheet


def _edit(code: str, **values: Any) -> list[dict[str, Any]]:
    rows = plan_rows()
    rows[PLAN.row(code)].update(values)
    return rows


def findings(tmp_path: Path, rows: list[dict[str, Any]], name: str = "p.xlsx", **meta: Any) -> list[Finding]:
    return check(build(tmp_path / name, TEMPLATE, {BLOCK_ID: rows}, {**META, **meta}))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build(tmp_path_factory.mktemp("plan") / "base.xlsx", TEMPLATE, {BLOCK_ID: plan_rows()})
    assert check(path) == []
    return path


# --------------------------------------------------------------------------- formulas


def test_cumulative_follows_the_as_of_month(tmp_path: Path) -> None:
    """The cumulative plan and actual sum the months up to the as-of date's, that month included."""
    rows = plan_rows()
    for as_of, months in (("2020-10-31", 1), ("2021-01-15", 4), ("2021-06-30", 9), ("2021-09-30", 12)):
        data = WorkbookData.parse({"template": TEMPLATE, "meta": {**META, "as_of": as_of}, "blocks": {BLOCK_ID: rows}})
        calc = BlockCalc(data.spec.block(BLOCK_ID), data.blocks[BLOCK_ID], meta=data.meta)
        assert calc.cell(PLAN.row("P1"), "plan_cum").value == D(100 * months)
        assert calc.cell(PLAN.row("T"), "plan_cum").value == D(200 * months)
        assert calc.cell(PLAN.row("P1"), "actual_cum").value == D(100 * min(months, AS_OF_MONTH))
    # No as-of date: nothing to sum to (Excel's IF(ISNUMBER(...)) shows 0, so that the sums over it still add).
    data = WorkbookData.parse({"template": TEMPLATE, "meta": {}, "blocks": {BLOCK_ID: rows}})
    assert BlockCalc(data.spec.block(BLOCK_ID), data.blocks[BLOCK_ID]).cell(1, "plan_cum").value == 0


def test_revised_budget_is_act_plus_in_minus_out(tmp_path: Path) -> None:
    rows = _edit("P1", transfer_in="50", transfer_out="20.50")
    rb = read_workbook(build(tmp_path / "p.xlsx", TEMPLATE, {BLOCK_ID: rows})).blocks[BLOCK_ID]
    assert rb.rows[PLAN.row("P1")]["revised"] == D("1229.50")  # the cached value, as Excel computes it
    assert rb.rows[PLAN.row("T")]["revised"] == D("2429.50")


def test_cumulative_formula_reads_the_as_of_cell(base: Path) -> None:
    rb = read_workbook(base).blocks[BLOCK_ID]
    text = rb.formula_text[(PLAN.row("P1"), "plan_cum")]
    first, last = PLAN.at(PLAN_MONTHS[0], "P1"), PLAN.at(PLAN_MONTHS[-1], "P1")
    assert text == (f'IF(ISNUMBER(osmep_meta_as_of),SUM({first}:INDEX({first}:{last},'
                    "MOD(MONTH(osmep_meta_as_of)+2,12)+1)),0)")


@pytest.mark.parametrize(("column", "typed", "want"), [
    pytest.param("revised", 999,
                 expect("identity.difference", "error", SHEET, PLAN.at("revised", "P1"), D(1200), D(999)),
                 id="revised-is-act-plus-in-minus-out"),
    pytest.param("actual_cum", 800,
                 expect("identity.sum", "error", SHEET, PLAN.at("actual_cum", "P1"), D(900), D(800)),
                 id="cumulative-actual"),
    pytest.param("plan_q2", 250, expect("identity.sum", "error", SHEET, PLAN.at("plan_q2", "P1"), D(300), D(250)),
                 id="quarter-plan"),
])
def test_a_typed_derived_figure_is_checked(tmp_path: Path, base: Path, column: str, typed: int, want: Expect) -> None:
    assert_single(check(set_cells(base, SHEET, {PLAN.at(column, "P1"): typed}, out=tmp_path / "bad.xlsx")), want)
    assert_none(check(base), want.rule)


@pytest.mark.parametrize("want", [expect("cell.negative", "error", SHEET, PLAN.at("actual_mar", "P1"), None, D(-50))])
def test_negative_monthly_actual(tmp_path: Path, base: Path, want: Expect) -> None:
    found = check(set_cells(base, SHEET, {PLAN.at("actual_mar", "P1"): -50}, out=tmp_path / "bad.xlsx"))
    hit = next(f for f in found if f.rule == want.rule)
    assert (hit.severity.value, hit.sheet, hit.cell, hit.actual) == (want.severity, want.sheet, want.cell, want.actual)
    assert_none(check(base), want.rule)


# --------------------------------------------------------------------------- against its own plan


@pytest.mark.parametrize(("edits", "want"), [
    # Nothing spent in May and June: 700 against 900 planned, below 900 * (1 - 0.10) = 810.
    pytest.param({"actual_may": "0", "actual_jun": "0"},
                 expect("plan.behind", "warning", SHEET, PLAN.at("actual_cum", "P1"), D(900), D(700)), id="behind"),
    # 300 in June: 1,100 against 900, above 900 * (1 + 0.10) = 990.
    pytest.param({"actual_jun": "300"},
                 expect("plan.ahead", "info", SHEET, PLAN.at("actual_cum", "P1"), D(900), D(1100)), id="ahead"),
])
def test_against_own_plan(tmp_path: Path, edits: dict[str, str], want: Expect) -> None:
    assert_single(findings(tmp_path, _edit("P1", **edits)), want)
    assert_none(findings(tmp_path, plan_rows(), "good.xlsx"), want.rule)


def test_within_the_threshold_is_on_plan(tmp_path: Path) -> None:
    """815 against 900 is within 10 %; a threshold of 5 % from the settings flags it."""
    rows = _edit("P1", actual_jun="15")
    assert_none(findings(tmp_path, rows), "plan.behind")
    strict = settings_from(tmp_path / "s.toml", '[plan]\nbehind_tolerance = "0.05"\n')
    path = build(tmp_path / "strict.xlsx", TEMPLATE, {BLOCK_ID: rows})
    assert [f.actual for f in check(path, strict) if f.rule == "plan.behind"] == [D(815)]


# --------------------------------------------------------------------------- cancellations and dates


@pytest.mark.parametrize(("end", "want"), [
    # Cancelled on 15 Jan 2021: the February figure (month 5) comes after it; January's does not.
    pytest.param("15 ม.ค.64", expect("plan.spent_after_cancel", "warning", SHEET, PLAN.at("actual_feb", "P2"), D(0),
                                     D(100)), id="after-cancellation"),
    pytest.param("มกรา", expect("plan.end_date", "warning", SHEET, PLAN.at("end_date", "P2"), None, "มกรา"),
                 id="unreadable-date"),
])
def test_cancelled_project(tmp_path: Path, end: str, want: Expect) -> None:
    rows = _edit("P2", status="ยกเลิก", end_date=end, actual_mar=None, actual_apr=None, actual_may=None,
                 actual_jun=None, plan_mar=None)
    assert_single(findings(tmp_path, rows), want)
    clean = _edit("P2", status="ยกเลิก", end_date="28 ก.พ.64", actual_mar=None, actual_apr=None, actual_may=None,
                  actual_jun=None)
    assert_none(findings(tmp_path, clean, "good.xlsx"), want.rule)


def test_cancellation_reads_dates_as_written() -> None:
    assert read_date("21 ต.ค.63") == dt.date(2020, 10, 21)
    assert read_date("2020-10-21T00:00:00") == dt.date(2020, 10, 21)  # a date typed in Excel, as read
    assert read_date("ยังไม่ทราบ") is None
    assert [fiscal_month_start(2564, n) for n in (1, 3, 4, 12)] == [
        dt.date(2020, 10, 1), dt.date(2020, 12, 1), dt.date(2021, 1, 1), dt.date(2021, 9, 1)]
    assert [m for m, _, _ in MONTHS][:4] == ["oct", "nov", "dec", "jan"]


# --------------------------------------------------------------------------- transfers


@pytest.mark.parametrize("want", [expect("plan.transfers_unbalanced", "warning", SHEET, PLAN.at("transfer_in", "T"),
                                         D(0), D(50))])
def test_transfers_within_a_source(tmp_path: Path, want: Expect) -> None:
    """P1 gives 100 to P2: balanced. P2 receiving 150 takes 50 from outside the source."""
    balanced = plan_rows()
    balanced[PLAN.row("P1")]["transfer_out"] = "100"
    balanced[PLAN.row("P2")]["transfer_in"] = "100"
    assert_none(findings(tmp_path, balanced, "good.xlsx"), want.rule)
    balanced[PLAN.row("P2")]["transfer_in"] = "150"
    assert_single(findings(tmp_path, balanced), want)


# --------------------------------------------------------------------------- across templates


def _validate_together(*paths: Path) -> list[Finding]:
    found = validate_set([read_workbook(p) for p in paths], load_settings(), strict=True)
    return [f for per_file in found for f in per_file]


ACTION = Table("action_plan", "plan", [plan_row("total", "T", None, None), plan_row("project", "P1", "T", "1200"),
                                       plan_row("project", "P2", "T", "1200")])


@pytest.mark.parametrize("want", [expect("cross.plan_budget", "warning", ACTION.sheet, ACTION.at("budget", "P2"),
                                         D(1300), D(1200))])
def test_action_plan_budget_is_the_revised_budget(tmp_path: Path, want: Expect) -> None:
    """P2 received 100 after the plan was printed: the action plan still says 1,200, the revised budget is 1,300."""
    action = build(tmp_path / "a.xlsx", "action_plan", {"plan": list(ACTION.rows)})
    moved = plan_rows()
    moved[PLAN.row("P2")]["transfer_in"] = "100"
    spending = build(tmp_path / "s.xlsx", TEMPLATE, {BLOCK_ID: moved})
    assert_single(_validate_together(action, spending), want)
    clean = build(tmp_path / "s0.xlsx", TEMPLATE, {BLOCK_ID: plan_rows()})
    assert_none(_validate_together(action, clean), want.rule)


DISB = Table("disbursement", "lines", [disb("total", "T"), disb("project", "P1", "T", "1200", "900", "100"),
                                      disb("project", "P2", "T", "1200", "900", "100")])


@pytest.mark.parametrize(("as_of", "p2", "want"), [
    pytest.param("2021-06-30", "950", expect("cross.plan_disbursed", "error", DISB.sheet, DISB.at("disbursed", "P2"),
                                             D(900), D(950)), id="disbursed-differs"),
    pytest.param("2021-03-31", "950", expect("cross.as_of_differs", "info", "ข้อมูล", meta_cell("as_of", TEMPLATE),
                                             "30 มิ.ย.64", "31 มี.ค.64"), id="as-of-differs"),
])
def test_disbursement_is_the_cumulative_actual(tmp_path: Path, as_of: str, p2: str, want: Expect) -> None:
    rows = [dict(r) for r in DISB.rows]
    rows[DISB.row("P2")]["disbursed"] = p2
    disbursement = build(tmp_path / "d.xlsx", "disbursement", {"lines": rows})
    spending = build(tmp_path / "s.xlsx", TEMPLATE, {BLOCK_ID: plan_rows()}, {**META, "as_of": as_of})
    found = _validate_together(disbursement, spending)
    assert_single(found, want)
    assert_none(found, "cross.plan_disbursed" if want.rule != "cross.plan_disbursed" else "cross.as_of_differs")
    same = build(tmp_path / "d0.xlsx", "disbursement", {"lines": list(DISB.rows)})
    clean = _validate_together(same, build(tmp_path / "s0.xlsx", TEMPLATE, {BLOCK_ID: plan_rows()}))
    assert_none(clean, "cross.plan_disbursed")
    assert_none(clean, "cross.as_of_differs")


# --------------------------------------------------------------------------- every command


def cli(*args: str | Path) -> tuple[int, str]:
    from typer.testing import CliRunner

    from osmep_xl.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_every_command_works_on_the_spending_plan(tmp_path: Path) -> None:
    """new, fill, validate, recalc, batch validate/recalc and consolidate, through the command line."""
    import json

    blank = tmp_path / "blank.xlsx"
    assert cli("new", TEMPLATE, blank)[0] == 0
    assert {r["code"] for r in read_workbook(blank).blocks[BLOCK_ID].rows} >= {"T", "1", "1.1"}  # the skeleton

    filled = []
    for n, agency in enumerate(("หน่วย ก", "หน่วย ข")):
        data = tmp_path / f"d{n}.json"
        data.write_text(json.dumps({"template": TEMPLATE, "meta": {**META, "agency": agency},
                                    "blocks": {BLOCK_ID: plan_rows()}}, ensure_ascii=False), "utf-8")
        filled.append(tmp_path / f"f{n}.xlsx")
        code, out = cli("fill", TEMPLATE, data, filled[-1])
        assert code == 0, out
    code, out = cli("validate", filled[0], "--json")
    assert code == 0 and json.loads(out)["summary"]["errors"] == 0, out

    cum = PLAN.at("actual_cum", "P1")
    broken = set_cells(filled[0], SHEET, {cum: 1}, out=tmp_path / "broken.xlsx")
    assert cli("validate", broken)[0] == 1
    fixed = tmp_path / "fixed.xlsx"
    code, out = cli("recalc", broken, "-o", fixed)
    assert code == 0, out
    rb = read_workbook(fixed).blocks[BLOCK_ID]
    assert rb.formula_text[(PLAN.row("P1"), "actual_cum")].startswith("IF(ISNUMBER(osmep_meta_as_of)")
    assert rb.rows[PLAN.row("P1")]["actual_cum"] == D(900)  # the cached value Excel would show
    assert cli("validate", fixed)[0] == 0

    code, out = cli("batch", "validate", *filled, "--jobs", "2", "--quiet")
    assert code == 0, out
    code, out = cli("batch", "recalc", *filled, "--out", tmp_path / "recalced", "--quiet")
    assert code == 0, out

    merged = tmp_path / "all.xlsx"
    code, out = cli("consolidate", TEMPLATE, *filled, "-o", merged)
    assert code == 0, out
    assert cli("validate", merged)[0] == 0
    rows = read_workbook(merged).blocks[BLOCK_ID].rows
    assert sum(1 for r in rows if r.get("level") == "project") == 4


def test_information_sheet_names_every_template_a_row_each(tmp_path: Path) -> None:
    """Without the document properties (a remote engine, a copy that lost them) the templates come from the
    information sheet: a row each now, so the sheet keeps its width with five or more; ids across one row, as
    earlier versions wrote them, still read."""
    import openpyxl

    from osmep_xl.spec import TEMPLATES
    from osmep_xl.xlsx.generate import blank_data, write_workbook
    from osmep_xl.xlsx.read import read_workbooks
    from tests.rule_cases import rewrite_part

    def without_properties(path: Path) -> Path:
        return rewrite_part(path, "docProps/custom.xml", lambda xml: xml.replace("osmep_xl.template", "x.t"))

    every = [blank_data(spec) for spec in TEMPLATES.values()]
    path = without_properties(write_workbook(every, tmp_path / "all.xlsx"))
    assert [(wb.spec.id, wb.version) for wb in read_workbooks(path)] == [(s.id, s.version) for s in TEMPLATES.values()]

    old = openpyxl.load_workbook(path)
    info = old["ข้อมูล"]
    header = next(r for r in range(1, info.max_row + 1) if str(info.cell(r, 1).value).startswith("แม่แบบ"))
    for r in range(header, header + len(TEMPLATES) + 1):
        info.cell(r, 1).value = info.cell(r, 2).value = None
    info.cell(header, 1).value, info.cell(header + 1, 1).value = "แม่แบบ / Template", "รุ่น / Version"
    for n, spec in enumerate(TEMPLATES.values(), start=3):
        info.cell(header, n).value, info.cell(header + 1, n).value = spec.id, spec.version
    old.save(tmp_path / "old.xlsx")
    props = openpyxl.load_workbook(tmp_path / "old.xlsx").custom_doc_props
    assert "osmep_xl.template" not in [p.name for p in props.props]
    assert [wb.spec.id for wb in read_workbooks(tmp_path / "old.xlsx")] == list(TEMPLATES)
