"""Every rule validate() can produce, each on a small workbook broken in exactly that way.

Each case builds a valid workbook with write_workbook, breaks one thing (a stated figure, a
typed cell, a header, a sheet, the XML of a cached value...), validates it and asserts the
exact finding; then it checks that the same workbook unbroken has no finding of that rule.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osmep_xl.data import load_report
from osmep_xl.findings import Finding
from osmep_xl.rules.catalog import RULES
from osmep_xl.rules.config import load_settings
from osmep_xl.rules.validate import validate, validate_set
from osmep_xl.spec import TEMPLATES, get_spec
from osmep_xl.spec.columns import BUDGET_SOURCES
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.layout import HEADER_EN_ROW, HEADER_TH_ROW
from osmep_xl.xlsx.read import read_workbook
from tests.cells import Table, meta_cell
from tests.libreoffice import convert
from tests.rule_cases import (
    META,
    approach,
    build,
    check,
    disb,
    disbursement_rows,
    kpi,
    kpi_blocks,
    of_rule,
    plan_row,
    remove_sheet,
    set_cached_value,
    set_cell_xml,
    set_cells,
    set_version,
    settings_from,
)

D = Decimal
# The disbursement fixture: T = P1 + P2 (formulas), each line on the Q3 target.
#   P1  allocated 1000  disbursed 600  committed 250  -> total 850, remaining 150, 85.00 %
#   P2  allocated  500  disbursed 300  committed 130  -> total 430, remaining  70, 86.00 %
#   T   allocated 1500  disbursed 900  committed 380  -> total 1280, 85.33 %
# Cells are named by column id and line, e.g. LINES.at("total", "P1"): the letters come from the spec.
# The other three-line books below (_spending, the overspent case) have the same lines T, P1, P2.
LINES = Table("disbursement", "lines", disbursement_rows())
DISB = LINES.sheet  # เบิกจ่าย
KPI = Table("kpi", "kpis", [kpi("K1", None, None)])  # the one KPI of the single-KPI cases
KPIS = KPI.sheet  # ตัวชี้วัด
INFO = "ข้อมูล"


@dataclass(frozen=True)
class Expect:
    rule: str
    severity: str
    sheet: str
    cell: str
    expected: Decimal | str | None = None
    actual: Decimal | str | None = None


COVERED: set[str] = set()


def expect(*args: Any) -> Expect:
    exp = Expect(*args)
    COVERED.add(exp.rule)
    return exp


def _same(got: Decimal | str | None, want: Decimal | str | None) -> bool:
    if isinstance(want, Decimal):
        return isinstance(got, Decimal) and got == want
    return got == want


def assert_single(findings: list[Finding], want: Expect) -> Finding:
    """Exactly one finding of the rule, at the cell, with the values expected."""
    hits = of_rule(findings, want.rule)
    assert len(hits) == 1, f"{want.rule}: {[(f.sheet, f.cell, f.expected, f.actual) for f in hits]}"
    got = hits[0]
    assert (got.severity.value, got.sheet, got.cell) == (want.severity, want.sheet, want.cell)
    assert _same(got.expected, want.expected), (got.expected, want.expected)
    assert _same(got.actual, want.actual), (got.actual, want.actual)
    assert got.message_th and got.message_en
    return got


def assert_none(findings: list[Finding], rule: str) -> None:
    hits = of_rule(findings, rule)
    assert not hits, [(f.sheet, f.cell, f.expected, f.actual) for f in hits]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The valid disbursement fixture; tests copy it before changing it."""
    path = build(tmp_path_factory.mktemp("base") / "base.xlsx", "disbursement", {"lines": disbursement_rows()})
    findings = check(path)
    assert findings == [], findings
    return path


def _disb_rows(i: int, stated: dict[str, Any]) -> list[dict[str, Any]]:
    rows = disbursement_rows()
    rows[i].update(stated)
    return rows


# --------------------------------------------------------------------------- identities and roll-ups

STATED_CASES = [
    pytest.param(1, {"total": "900"}, {"total": "850"},
                 expect("identity.sum", "error", DISB, LINES.at("total", "P1"), D(850), D(900)), id="identity.sum"),
    pytest.param(1, {"remaining": "100"}, {"remaining": "150"},
                 expect("identity.difference", "error", DISB, LINES.at("remaining", "P1"), D(150), D(100)),
                 id="identity.difference"),
    pytest.param(1, {"pct_total": "85.5"}, {"pct_total": "85"},
                 expect("identity.percent", "error", DISB, LINES.at("pct_total", "P1"), D("85.00"), D("85.5")),
                 id="identity.percent"),
    # 123.45 / 1000 * 100 = 12.345 exactly: Excel's ROUND gives 12.35, banker's rounding 12.34.
    pytest.param(1, {"disbursed": "123.45", "pct_disbursed": "12.34"},
                 {"disbursed": "123.45", "pct_disbursed": "12.35"},
                 expect("identity.percent", "error", DISB, LINES.at("pct_disbursed", "P1"), D("12.35"), D("12.34")),
                 id="identity.percent-half-away-from-zero"),
    # remaining = 1000 - 1123.45 = -123.45 -> -12.345 %: ROUND goes away from zero to -12.35.
    pytest.param(1, {"disbursed": "1123.45", "committed": "0", "pct_remaining": "-12.34"},
                 {"disbursed": "1123.45", "committed": "0", "pct_remaining": "-12.35"},
                 expect("identity.percent", "error", DISB, LINES.at("pct_remaining", "P1"), D("-12.35"), D("-12.34")),
                 id="identity.percent-negative-half-away-from-zero"),
    pytest.param(0, {"allocated": "1600"}, {"allocated": "1500"},
                 expect("rollup.sum", "error", DISB, LINES.at("allocated", "T"), D(1500), D(1600)), id="rollup.sum"),
    pytest.param(0, {"disbursed": "900.01"}, {"disbursed": "900.00"},
                 expect("rollup.sum", "error", DISB, LINES.at("disbursed", "T"), D(900), D("900.01")),
                 id="rollup.sum-one-satang"),
]


@pytest.mark.parametrize(("row", "broken", "fixed", "want"), STATED_CASES)
def test_stated_figure_against_its_computation(tmp_path: Path, row: int, broken: dict[str, Any],
                                               fixed: dict[str, Any], want: Expect) -> None:
    bad = build(tmp_path / "bad.xlsx", "disbursement", {"lines": _disb_rows(row, broken)})
    assert_single(check(bad), want)
    good = build(tmp_path / "good.xlsx", "disbursement", {"lines": _disb_rows(row, fixed)})
    assert_none(check(good), want.rule)


KPI_CASES = [
    pytest.param(kpi("K1", "200", "150", achievement="80"), kpi("K1", "200", "150", achievement="75"),
                 expect("kpi.achievement", "error", KPIS, KPI.at("achievement", "K1"), D("75.00"), D(80)),
                 id="kpi.achievement"),
    pytest.param(kpi("K1", "10", "8", "<=", achievement="80"), kpi("K1", "10", "8", "<=", achievement="125"),
                 expect("kpi.achievement", "error", KPIS, KPI.at("achievement", "K1"), D("125.00"), D(80)),
                 id="kpi.achievement-lower-is-better"),
    pytest.param(kpi("K1", "200", "150", status="บรรลุ"), kpi("K1", "200", "150", status="ยังไม่บรรลุ"),
                 expect("kpi.status", "error", KPIS, KPI.at("status", "K1"), "ยังไม่บรรลุ", "บรรลุ"), id="kpi.status"),
    pytest.param(kpi("K1", "10", "8", "<=", status="ยังไม่บรรลุ"), kpi("K1", "10", "8", "<=", status="บรรลุ"),
                 expect("kpi.status", "error", KPIS, KPI.at("status", "K1"), "บรรลุ", "ยังไม่บรรลุ"),
                 id="kpi.status-lower-is-better"),
    pytest.param(kpi("K1", "200", None, result_text="อยู่ระหว่างดำเนินการ", status="บรรลุ"),
                 kpi("K1", "200", None, result_text="อยู่ระหว่างดำเนินการ", status="รอผล"),
                 expect("kpi.status", "error", KPIS, KPI.at("status", "K1"), "รอผล", "บรรลุ"), id="kpi.status-pending"),
]


@pytest.mark.parametrize(("broken", "fixed", "want"), KPI_CASES)
def test_kpi_derived_cells(tmp_path: Path, broken: dict[str, Any], fixed: dict[str, Any], want: Expect) -> None:
    assert_single(check(build(tmp_path / "bad.xlsx", "kpi", kpi_blocks(broken))), want)
    assert_none(check(build(tmp_path / "good.xlsx", "kpi", kpi_blocks(fixed))), want.rule)


def _counts(total: str) -> dict[str, list[dict[str, Any]]]:
    rows = [{"level": "total", "code": "T", "name": "รวม", "target_persons": total},
            {"level": "approach", "code": "1", "parent": "T", "name": "แนวทาง 1", "target_persons": "40"},
            {"level": "approach", "code": "2", "parent": "T", "name": "แนวทาง 2", "target_persons": "50"}]
    return {"approaches": rows, "disbursement": []}


APPROACHES = Table("integrated_plan", "approaches", _counts("100")["approaches"])


@pytest.mark.parametrize("want", [expect("rollup.sum", "error", APPROACHES.sheet, APPROACHES.at("target_persons", "T"),
                                         D(90), D(100))])
def test_rollup_of_counts_in_integrated_plan(tmp_path: Path, want: Expect) -> None:
    assert_single(check(build(tmp_path / "bad.xlsx", "integrated_plan", _counts("100"))), want)
    assert_none(check(build(tmp_path / "good.xlsx", "integrated_plan", _counts("90"))), "rollup.sum")


@pytest.mark.parametrize("want", [expect("rollup.unsupported", "info", APPROACHES.sheet,
                                         APPROACHES.at("target_persons", "T"), None, D(100))])
def test_total_over_blank_lines_is_an_information(tmp_path: Path, want: Expect) -> None:
    """A typed total whose lines are all blank is the input there: no roll-up error, an information (the
    blank lines it names and a typed 0: tests/test_unsupported.py)."""
    blank = _counts("100")
    for row in blank["approaches"][1:]:
        row["target_persons"] = None
    found = check(build(tmp_path / "bad.xlsx", "integrated_plan", blank))
    assert_single(found, want)
    assert_none(found, "rollup.sum")
    assert_none(check(build(tmp_path / "good.xlsx", "integrated_plan", _counts("90"))), "rollup.unsupported")


@pytest.mark.parametrize("want", [expect("rollup.sum", "error", DISB, LINES.at("disbursed", "T"), D(900), D(950))])
def test_figure_consistent_with_corrected_inputs_is_not_flagged(tmp_path: Path, want: Expect) -> None:
    """T states disbursed 950 (lines sum to 900) and total 1280 = 900 + 380: only the roll-up is wrong."""
    path = build(tmp_path / "t.xlsx", "disbursement",
                 {"lines": _disb_rows(0, {"disbursed": "950", "total": "1280"})})
    findings = check(path)
    assert_single(findings, want)
    assert_none(findings, "identity.sum")  # 1280 = 950 + 380 is wrong as stated, right once corrected


# --------------------------------------------------------------------------- root cause, no cascade


def _three_levels(p1: str, s1: str, t: str) -> list[dict[str, Any]]:
    """T -> S1 (P1, P2), S2 (P3); allocated stated on every row."""
    return [
        disb("total", "T", allocated=t),
        disb("strategy", "S1", "T", allocated=s1),
        disb("project", "P1", "S1", p1, "0", "0"),
        disb("project", "P2", "S1", "500", "0", "0"),
        disb("strategy", "S2", "T", allocated="700"),
        disb("project", "P3", "S2", "700", "0", "0"),
    ]


THREE = LINES.with_rows(_three_levels("1000", "1500", "2200"))


@pytest.mark.parametrize(("p1", "s1", "t", "want"), [
    # P1 typed 1100 instead of 1000; S1 (1500) and T (2200) agree with the true figure.
    pytest.param("1100", "1500", "2200",
                 Expect("rollup.sum", "error", DISB, THREE.at("allocated", "S1"), D(1600), D(1500)),
                 id="wrong-child-reported-at-its-parent-only"),
    # S1 typed 1600; T (2200) agrees with the lines, so T is not reported although S1 + S2 = 2300.
    pytest.param("1000", "1600", "2200",
                 Expect("rollup.sum", "error", DISB, THREE.at("allocated", "S1"), D(1500), D(1600)),
                 id="wrong-parent-not-cascading-to-grandparent"),
    pytest.param("1000", "1500", "2300",
                 Expect("rollup.sum", "error", DISB, THREE.at("allocated", "T"), D(2200), D(2300)),
                 id="wrong-grandparent"),
])
def test_root_cause_no_cascade(tmp_path: Path, p1: str, s1: str, t: str, want: Expect) -> None:
    findings = check(build(tmp_path / "t.xlsx", "disbursement", {"lines": _three_levels(p1, s1, t)}))
    errors = [f for f in findings if f.severity.value == "error"]
    assert len(errors) == 1, errors
    assert_single(findings, want)


def test_root_cause_consistent_tree_is_clean(tmp_path: Path) -> None:
    findings = check(build(tmp_path / "t.xlsx", "disbursement", {"lines": _three_levels("1000", "1500", "2200")}))
    assert [f for f in findings if f.severity.value == "error"] == []


# --------------------------------------------------------------------------- links


def _integrated(allocated_a1: str) -> dict[str, list[dict[str, Any]]]:
    return {
        "approaches": [approach("approaches", "total", "T", None, None),
                       approach("approaches", "approach", "1", "T", "500"),
                       approach("approaches", "approach", "2", "T", "300")],
        "disbursement": [approach("disbursement", "total", "T", None, None),
                         approach("disbursement", "approach", "1", "T", allocated_a1),
                         approach("disbursement", "approach", "2", "T", "300")],
    }


def test_link_integrated_plan_budget_vs_allocation(tmp_path: Path) -> None:
    spending = Table("integrated_plan", "disbursement", _integrated("600")["disbursement"])
    findings = check(build(tmp_path / "bad.xlsx", "integrated_plan", _integrated("600")))
    links = of_rule(findings, "link.mismatch")
    # Reported once, at the disbursement side. The totals (both sums of linked rows) differ only
    # as a consequence, so they are not reported again.
    assert [(f.severity.value, f.sheet, f.cell, f.expected, f.actual) for f in links] == [
        ("error", spending.sheet, spending.at("allocated", "1", "approach"), D(500), D(600)),
    ]
    assert_none(check(build(tmp_path / "good.xlsx", "integrated_plan", _integrated("500"))), "link.mismatch")


def _action_plan(source_total: str | None, plan_p2: str) -> dict[str, list[dict[str, Any]]]:
    sources = [plan_row("total", "T", None, source_total)]
    if source_total is None:
        sources += [plan_row("source", "S1", "T", "600"), plan_row("source", "S2", "T", "400")]
    plan = [plan_row("total", "T", None, None), plan_row("project", "P1", "T", "500"),
            plan_row("project", "P2", "T", plan_p2)]
    return {"sources": sources, "plan": plan}


SOURCES = Table("action_plan", "sources", _action_plan(None, "400")["sources"])
PLAN = Table("action_plan", "plan", _action_plan(None, "400")["plan"])


@pytest.mark.parametrize(("source_total", "want"), [
    # Both totals computed (sources 600 + 400, plan 500 + 400) from rows that are not linked to
    # each other: the totals are the only place the difference shows, so it is reported there.
    pytest.param(None, expect("link.mismatch", "error", PLAN.sheet, PLAN.at("budget", "T"), D(1000), D(900)),
                 id="both-computed"),
    # Only the sources total is typed: reported at the typed figure.
    pytest.param("1000", expect("link.mismatch", "error", SOURCES.sheet, SOURCES.at("budget", "T"), D(900), D(1000)),
                 id="typed-on-the-left"),
])
def test_link_action_plan_sources_vs_plan(tmp_path: Path, source_total: str | None, want: Expect) -> None:
    assert_single(check(build(tmp_path / "bad.xlsx", "action_plan", _action_plan(source_total, "400"))), want)
    good = build(tmp_path / "good.xlsx", "action_plan", _action_plan(source_total, "500"))
    assert_none(check(good), "link.mismatch")


# --------------------------------------------------------------------------- references


def _with_p3(code: str = "P3", parent: str | None = "T") -> list[dict[str, Any]]:
    """The fixture and a third line below it."""
    return [*disbursement_rows(), disb("project", code, parent, "10", "9", "0")]


WITH_P3 = LINES.with_rows(_with_p3())  # P3's cells: where the third line sits, whatever its code


@pytest.mark.parametrize(("broken", "fixed", "want"), [
    pytest.param(_with_p3(parent="X"), _with_p3(parent="T"),
                 expect("ref.parent_missing", "error", DISB, WITH_P3.at("parent", "P3"), None, "X"),
                 id="ref.parent_missing"),
    pytest.param(_with_p3(parent=None), _with_p3(parent="T"),
                 expect("ref.parent_missing", "error", DISB, WITH_P3.at("parent", "P3"), None, None),
                 id="ref.parent_missing-blank"),
    pytest.param(_with_p3(code="P1", parent="T"), _with_p3(parent="T"),
                 expect("ref.duplicate_key", "error", DISB, WITH_P3.at("code", "P3"), None, "P1"),
                 id="ref.duplicate_key"),
])
def test_references_in_hierarchy(tmp_path: Path, broken: list[dict[str, Any]], fixed: list[dict[str, Any]],
                                 want: Expect) -> None:
    assert_single(check(build(tmp_path / "bad.xlsx", "disbursement", {"lines": broken})), want)
    assert_none(check(build(tmp_path / "good.xlsx", "disbursement", {"lines": fixed})), want.rule)


@pytest.mark.parametrize(("broken", "fixed", "want"), [
    pytest.param([kpi("K1", "10", "5"), kpi("K1", "20", "5")], [kpi("K1", "10", "5"), kpi("K2", "20", "5")],
                 expect("ref.duplicate_key", "error", KPIS, KPI.cell("code", 1), None, "K1"),
                 id="ref.duplicate_key-flat"),
    pytest.param([kpi("K1", "10", "5", strategy="9")], [kpi("K1", "10", "5", strategy="2")],
                 expect("ref.unknown", "error", KPIS, KPI.at("strategy", "K1"), "1 | 2", "9"), id="ref.unknown"),
])
def test_references_in_kpis(tmp_path: Path, broken: list[dict[str, Any]], fixed: list[dict[str, Any]],
                            want: Expect) -> None:
    assert_single(check(build(tmp_path / "bad.xlsx", "kpi", kpi_blocks(*broken))), want)
    assert_none(check(build(tmp_path / "good.xlsx", "kpi", kpi_blocks(*fixed))), want.rule)


# --------------------------------------------------------------------------- single cells (typed in Excel)

# P1's cells, each typed in as a person would in Excel.
P1_DISBURSED, P1_ALLOCATED = LINES.at("disbursed", "P1"), LINES.at("allocated", "P1")
P1_YEAR = LINES.at("fiscal_year", "P1")
CELL_CASES = [
    pytest.param(P1_DISBURSED, "600", 600,
                 expect("cell.number_as_text", "warning", DISB, P1_DISBURSED, D(600), "600"),
                 id="cell.number_as_text"),
    pytest.param(P1_YEAR, "2564", 2564, expect("cell.number_as_text", "warning", DISB, P1_YEAR, D(2564), "2564"),
                 id="cell.number_as_text-year"),
    pytest.param(P1_DISBURSED, "๖๐๐", 600, expect("cell.thai_digits", "warning", DISB, P1_DISBURSED, D(600), "๖๐๐"),
                 id="cell.thai_digits"),
    pytest.param(P1_ALLOCATED, "1,000 บาท", 1000,
                 expect("cell.formatted_number_text", "warning", DISB, P1_ALLOCATED, D(1000), "1,000 บาท"),
                 id="cell.formatted_number_text"),
    pytest.param(P1_DISBURSED, "abc", 600, expect("cell.not_a_number", "error", DISB, P1_DISBURSED, None, "abc"),
                 id="cell.not_a_number"),
    pytest.param(P1_DISBURSED, "#DIV/0!", 600,
                 expect("cell.error_value", "error", DISB, P1_DISBURSED, None, "#DIV/0!"),
                 id="cell.error_value-constant"),
    pytest.param(LINES.at("committed", "P1"), -250.5, 250,
                 expect("cell.negative", "error", DISB, LINES.at("committed", "P1"), None, D("-250.5")),
                 id="cell.negative"),
    pytest.param(LINES.at("level", "P1"), "projekt", "project",
                 expect("cell.invalid_choice", "error", DISB, LINES.at("level", "P1"),
                        " | ".join(lv.id for lv in get_spec("disbursement").block("lines").levels), "projekt"),
                 id="cell.invalid_choice-level"),
    pytest.param(LINES.at("budget_source", "P1"), "เงินอื่น", "เงินกองทุน",
                 expect("cell.invalid_choice", "error", DISB, LINES.at("budget_source", "P1"),
                        " | ".join(BUDGET_SOURCES), "เงินอื่น"),
                 id="cell.invalid_choice-budget-source"),
    pytest.param(LINES.at("name", "P1"), None, "รายการ P1",
                 expect("cell.required_blank", "error", DISB, LINES.at("name", "P1")),
                 id="cell.required_blank-name"),
    pytest.param(P1_ALLOCATED, None, 1000, expect("cell.required_blank", "error", DISB, P1_ALLOCATED),
                 id="cell.required_blank-allocated"),
]


@pytest.mark.parametrize(("ref", "typed", "proper", "want"), CELL_CASES)
def test_typed_cell(tmp_path: Path, base: Path, ref: str, typed: Any, proper: Any, want: Expect) -> None:
    assert_single(check(set_cells(base, DISB, {ref: typed}, out=tmp_path / "bad.xlsx")), want)
    # The same cell typed properly (also through openpyxl) is clean.
    assert_none(check(set_cells(base, DISB, {ref: proper}, out=tmp_path / "good.xlsx")), want.rule)


@pytest.mark.parametrize("want", [expect("cell.error_value", "error", DISB, P1_DISBURSED, None, "#DIV/0!")])
def test_error_value_of_a_formula(tmp_path: Path, base: Path, want: Expect) -> None:
    """A real formula =1/0 whose cached result is #DIV/0! (written as Excel writes it: t="e")."""
    bad = set_cell_xml(base, DISB, P1_DISBURSED, "<f>1/0</f><v>#DIV/0!</v>", "e", out=tmp_path / "bad.xlsx")
    assert_single(check(bad), want)
    good = set_cell_xml(base, DISB, P1_DISBURSED, "<f>300*2</f><v>600</v>", out=tmp_path / "good.xlsx")
    findings = check(good)
    assert_none(findings, "cell.error_value")
    assert_none(findings, "formula.stale")


@pytest.mark.libreoffice
def test_error_value_computed_by_libreoffice(tmp_path: Path, base: Path) -> None:
    """=1/0 typed in P1's disbursed, computed by LibreOffice."""
    typed = set_cells(base, DISB, {P1_DISBURSED: "=1/0"}, out=tmp_path / "typed.xlsx")
    (computed,) = convert([typed], tmp_path / "out")
    findings = check(computed)
    errors = of_rule(findings, "cell.error_value")
    root = [f for f in errors if f.cell == P1_DISBURSED]
    assert [(f.severity.value, f.sheet, f.expected, f.actual) for f in root] == [("error", DISB, None, "#DIV/0!")]
    # Every formula that uses the cell shows #DIV/0! too, but the error is reported once, where it starts.
    assert [f.cell for f in errors] == [P1_DISBURSED]


def test_blank_rollup_parent_is_not_required_blank(tmp_path: Path, base: Path) -> None:
    """T's allocated is computed from its lines: a blank there is not a missing input."""
    path = set_cells(base, DISB, {LINES.at("allocated", "T"): None}, out=tmp_path / "t.xlsx")
    assert_none(check(path), "cell.required_blank")


# --------------------------------------------------------------------------- structure and meta


@pytest.mark.parametrize("want", [expect("structure.sheet_missing", "error", DISB, "A1", DISB, None)])
def test_sheet_missing(tmp_path: Path, base: Path, want: Expect) -> None:
    assert_single(check(remove_sheet(base, DISB, out=tmp_path / "bad.xlsx")), want)
    assert_none(check(base), "structure.sheet_missing")


@pytest.mark.parametrize(("th_cell", "en_cell", "want"), [
    pytest.param(*LINES.headers("name"),
                 expect("structure.column_missing", "error", DISB, LINES.origin, "รายการ", None),
                 id="required-column"),
    pytest.param(*LINES.headers("committed"),
                 expect("structure.optional_column_missing", "warning", DISB, LINES.origin, "ผูกพัน", None),
                 id="optional-column"),
])
def test_column_missing(tmp_path: Path, base: Path, th_cell: str, en_cell: str, want: Expect) -> None:
    renamed = set_cells(base, DISB, {th_cell: "หัวใหม่", en_cell: "New header"}, out=tmp_path / "bad.xlsx")
    assert_single(check(renamed), want)
    assert_none(check(base), "structure.column_missing")


STRATEGIES = Table("kpi", "strategies")


@pytest.mark.parametrize("want", [expect("structure.block_empty", "warning", STRATEGIES.sheet, STRATEGIES.origin)])
def test_block_empty(tmp_path: Path, want: Expect) -> None:
    kpis = [kpi("K1", "10", "10", strategy=None)]
    empty = build(tmp_path / "bad.xlsx", "kpi", {"strategies": [], "kpis": kpis})
    assert_single(check(empty), want)
    full = build(tmp_path / "good.xlsx", "kpi", kpi_blocks(*kpis))
    assert check(full) == []


@pytest.mark.parametrize("want", [expect("structure.version", "warning", DISB, "A1", get_spec("disbursement").version,
                                         "0.9")])
def test_version(tmp_path: Path, base: Path, want: Expect) -> None:
    assert_single(check(set_version(base, "0.9", out=tmp_path / "bad.xlsx")), want)
    assert_none(check(base), "structure.version")


@pytest.mark.parametrize(("field", "want"), [
    pytest.param("as_of", expect("meta.required", "error", INFO, meta_cell("as_of"), "ข้อมูล ณ วันที่", None),
                 id="as_of"),
    pytest.param("agency", expect("meta.required", "error", INFO, meta_cell("agency"), "หน่วยงาน", None),
                 id="agency"),
    pytest.param("fiscal_year",
                 expect("meta.required", "error", INFO, meta_cell("fiscal_year"), "ปีงบประมาณ (พ.ศ.)", None),
                 id="fiscal_year"),
])
def test_meta_required(tmp_path: Path, base: Path, field: str, want: Expect) -> None:
    meta = {k: v for k, v in META.items() if k != field}
    assert_single(check(build(tmp_path / "bad.xlsx", "disbursement", {"lines": disbursement_rows()}, meta)), want)
    assert_none(check(base), "meta.required")


def test_quarter_is_optional(tmp_path: Path) -> None:
    meta = {k: v for k, v in META.items() if k != "quarter"}
    assert check(build(tmp_path / "t.xlsx", "disbursement", {"lines": disbursement_rows()}, meta)) == []


AS_OF, YEAR, QUARTER = meta_cell("as_of"), meta_cell("fiscal_year"), meta_cell("quarter")


@pytest.mark.parametrize(("ref", "typed", "proper", "want"), [
    pytest.param(AS_OF, "ไม่ทราบ", dt.datetime(2021, 6, 30),
                 expect("meta.invalid", "error", INFO, AS_OF, None, "ไม่ทราบ"), id="as_of-not-a-date"),
    pytest.param(YEAR, "ปี 64", 2564, expect("meta.invalid", "error", INFO, YEAR, None, "ปี 64"),
                 id="fiscal_year-not-a-number"),
    pytest.param(YEAR, 2564.9, 2564, expect("meta.invalid", "error", INFO, YEAR, None, "2564.9"),
                 id="fiscal_year-not-whole"),
    pytest.param(YEAR, "1e999", 2564, expect("meta.invalid", "error", INFO, YEAR, None, "1e999"),
                 id="fiscal_year-overflow"),
    pytest.param(QUARTER, 5, 3, expect("meta.invalid", "error", INFO, QUARTER, None, "5"), id="quarter-out-of-range"),
    pytest.param(QUARTER, 2, 3, expect("meta.invalid", "error", INFO, QUARTER, "3", "2"), id="quarter-not-as-of"),
    pytest.param(AS_OF, "30 มิ.ย.64", dt.datetime(2021, 6, 30), None, id="thai-date-is-a-date"),
])
def test_meta_invalid(tmp_path: Path, base: Path, ref: str, typed: Any, proper: Any, want: Expect | None) -> None:
    findings = check(set_cells(base, INFO, {ref: typed}, out=tmp_path / "bad.xlsx"))
    if want is None:  # accepted as it is
        assert_none(findings, "meta.invalid")
        return
    assert_single(findings, want)
    assert_none(check(set_cells(base, INFO, {ref: proper}, out=tmp_path / "good.xlsx")), want.rule)


# --------------------------------------------------------------------------- formulas


@pytest.mark.parametrize("want", [expect("formula.overwritten", "info", DISB, LINES.at("total", "P1"))])
def test_formula_overwritten(tmp_path: Path, base: Path, want: Expect) -> None:
    """P1's total typed as 850 (the right figure) over its formula: info only, no identity error."""
    findings = check(set_cells(base, DISB, {LINES.at("total", "P1"): 850}, out=tmp_path / "bad.xlsx"))
    assert_single(findings, want)
    assert_none(findings, "identity.sum")
    assert_none(check(base), "formula.overwritten")


@pytest.mark.parametrize(("template", "ref", "cached", "want"), [
    pytest.param("disbursement", LINES.at("total", "P1"), "999",
                 expect("formula.stale", "warning", DISB, LINES.at("total", "P1"), D(850), D(999)), id="row-formula"),
    pytest.param("disbursement", LINES.at("allocated", "T"), "9999",
                 expect("formula.stale", "warning", DISB, LINES.at("allocated", "T"), D(1500), D(9999)),
                 id="rollup-formula"),
    pytest.param("kpi", KPI.at("status", "K1"), "บรรลุ",
                 expect("formula.stale", "warning", KPIS, KPI.at("status", "K1"), "ยังไม่บรรลุ", "บรรลุ"),
                 id="text-formula"),
])
def test_formula_stale(tmp_path: Path, template: str, ref: str, cached: str, want: Expect) -> None:
    if template == "kpi":
        good = build(tmp_path / "good.xlsx", "kpi", kpi_blocks(kpi("K1", "200", "180")))
    else:
        good = build(tmp_path / "good.xlsx", "disbursement", {"lines": disbursement_rows()})
    bad = set_cached_value(good, want.sheet, ref, cached, out=tmp_path / "bad.xlsx")
    assert_single(check(bad), want)
    assert_none(check(good), "formula.stale")


# --------------------------------------------------------------------------- variance


def _kpi_book(path: Path, as_of: str, *rows: dict[str, Any]) -> Path:
    return build(path, "kpi", kpi_blocks(*rows), {**META, "as_of": as_of})


@pytest.mark.parametrize(("as_of", "result", "want_expected"), [
    # 15 Jan 2021 is in Q2 of FY2564: 2/4 of 100 = 50, flagged below 50 * 0.9 = 45.
    pytest.param("2021-01-15", "40", D("50.00"), id="Q2"),
    pytest.param("2021-01-15", "44.99", D("50.00"), id="Q2-just-outside-tolerance"),
    pytest.param("2021-06-30", "67", D("75.00"), id="Q3"),
    pytest.param("2021-12-31", "89", D("100.00"), id="after-year-end-counts-as-Q4"),
])
def test_kpi_behind(tmp_path: Path, as_of: str, result: str, want_expected: Decimal) -> None:
    findings = check(_kpi_book(tmp_path / "t.xlsx", as_of, kpi("K1", "100", result)))
    assert_single(findings, expect("variance.kpi_behind", "warning", KPIS, KPI.at("result", "K1"), want_expected,
                                         D(result)))


@pytest.mark.parametrize(("as_of", "row"), [
    pytest.param("2021-01-15", kpi("K1", "100", "45"), id="Q2-at-tolerance-bound"),
    pytest.param("2021-01-15", kpi("K1", "100", "48"), id="Q2-within-tolerance"),
    pytest.param("2021-06-30", kpi("K1", "100", "70"), id="Q3-within-tolerance"),
    pytest.param("2020-09-30", kpi("K1", "100", "0"), id="before-the-fiscal-year"),
    pytest.param("2021-01-15", kpi("K1", "10", "30", "<="), id="lower-is-better-never-behind"),
    pytest.param("2021-01-15", kpi("K1", "100", None, result_text="รอผล"), id="no-numeric-result"),
])
def test_kpi_not_behind(tmp_path: Path, as_of: str, row: dict[str, Any]) -> None:
    assert_none(check(_kpi_book(tmp_path / "t.xlsx", as_of, row)), "variance.kpi_behind")


@pytest.mark.parametrize(("row", "want"), [
    pytest.param(kpi("K1", "100", "120"),
                 expect("variance.kpi_over", "info", KPIS, KPI.at("result", "K1"), D(100), D(120)),
                 id="above-target"),
    pytest.param(kpi("K1", "100", "160", target_high="150"),
                 expect("variance.kpi_over", "info", KPIS, KPI.at("result", "K1"), D(150), D(160)), id="above-range"),
    pytest.param(kpi("K1", "10", "5", "<="),
                 expect("variance.kpi_over", "info", KPIS, KPI.at("result", "K1"), D(10), D(5)),
                 id="lower-is-better-below-target"),
])
def test_kpi_over(tmp_path: Path, row: dict[str, Any], want: Expect) -> None:
    assert_single(check(_kpi_book(tmp_path / "t.xlsx", "2021-09-30", row)), want)


@pytest.mark.parametrize("row", [
    pytest.param(kpi("K1", "100", "100"), id="on-target"),
    pytest.param(kpi("K1", "100", "140", target_high="150"), id="within-range"),
    pytest.param(kpi("K1", "100", "150", target_high="150"), id="at-range-top"),
    pytest.param(kpi("K1", "10", "10", "<="), id="lower-is-better-on-target"),
])
def test_kpi_not_over(tmp_path: Path, row: dict[str, Any]) -> None:
    assert_none(check(_kpi_book(tmp_path / "t.xlsx", "2021-09-30", row)), "variance.kpi_over")


ACT = "พ.ร.บ.งบประมาณ"  # the budget source the default FY2564 target applies to


def _spending(p1: tuple[str, str, str], p2: tuple[str, str, str], **line: Any) -> list[dict[str, Any]]:
    """T = P1 + P2; ``line`` (budget_source, budget_category, fiscal_year) goes on every line. Without it the
    lines are recurrent Budget Act lines (งบเงินอุดหนุน), which the default FY2564 target (Q3 80 %) judges."""
    line = {"budget_source": ACT, "budget_category": "งบเงินอุดหนุน", **line}
    return [disb("total", "T", **line), disb("project", "P1", "T", *p1, **line),
            disb("project", "P2", "T", *p2, **line)]


SLOW = (("1000", "500", "200"), ("500", "100", "50"))  # T: 600 / 1500 = 40 %, 850 / 1500 = 56.67 %
MIXED = (("1000", "500", "350"), ("500", "250", "150"))  # T: 750 / 1500 = 50 %, 1250 / 1500 = 83.33 %
ON_TARGET = (("1000", "800", "0"), ("500", "400", "100"))  # T: 1200 / 1500 = 80 % on both bases
BEHIND = "variance.disbursement_behind"
NO_TARGET = "variance.no_target"
Q2 = {**META, "quarter": 2, "as_of": "2021-03-31"}


def _target(year: int, kind: str, quarters: str, sources: str = f'"{ACT}"') -> str:
    return (f'[[disbursement.targets]]\nfiscal_year = {year}\nkind = "{kind}"\nquarters = {quarters}\n'
            f'source = "มติ ครม. ทดสอบ"\nbudget_sources = [{sources}]\n')


@pytest.mark.parametrize(("basis", "lines", "want"), [
    pytest.param("disbursed_committed", SLOW,
                 expect(BEHIND, "warning", DISB, LINES.at("pct_total", "T"), D(80), D("56.67")),
                 id="disbursed+committed"),
    pytest.param("disbursed", SLOW,
                 expect(BEHIND, "warning", DISB, LINES.at("pct_disbursed", "T"), D(80), D("40.00")),
                 id="disbursed"),
    pytest.param("disbursed", MIXED,
                 expect(BEHIND, "warning", DISB, LINES.at("pct_disbursed", "T"), D(80), D("50.00")),
                 id="disbursed-only-basis-flags-what-commitments-cover"),
])
def test_disbursement_behind(tmp_path: Path, basis: str, lines: tuple[Any, Any], want: Expect) -> None:
    cfg = settings_from(tmp_path / "osmep.toml", f'[disbursement]\nbasis = "{basis}"\n')
    path = build(tmp_path / "t.xlsx", "disbursement", {"lines": _spending(*lines)})
    got = assert_single(check(path, cfg), want)  # only T: projects are not compared with the target
    pct = {"disbursed": "40.00" if lines is SLOW else "50.00", "total": "56.67" if lines is SLOW else "83.33"}
    judged = "เบิกจ่ายจริง" if basis == "disbursed" else "เบิกจ่าย+ผูกพัน"
    # Both bases side by side, and which one judged; the target's kind and source.
    assert f"เบิกจ่ายจริง ร้อยละ {pct['disbursed']} · เบิกจ่าย+ผูกพัน ร้อยละ {pct['total']}" in got.message_th
    assert f"(ตัดสินด้วย{judged})" in got.message_th and "เป้าหมายรายจ่ายประจำ ร้อยละ 80" in got.message_th
    assert f"disbursed only {pct['disbursed']}% · disbursed + committed {pct['total']}%" in got.message_en
    assert "มาตรฐานการคลัง" in got.message_th
    on_target = build(tmp_path / "good.xlsx", "disbursement", {"lines": _spending(*ON_TARGET)})
    assert_none(check(on_target, cfg), want.rule)


def test_disbursement_not_behind_on_default_basis(tmp_path: Path) -> None:
    path = build(tmp_path / "t.xlsx", "disbursement", {"lines": _spending(*MIXED)})
    assert_none(check(path), BEHIND)


@pytest.mark.parametrize(("category", "goal"), [("งบลงทุน", D(60)), ("investment", D(60)),
                                               ("งบดำเนินงาน", D(80)), (None, D(70))])
def test_disbursement_kind_comes_from_the_lines_category(tmp_path: Path, category: str | None, goal: D) -> None:
    """งบลงทุน is judged against the investment target, another category against the recurrent one, no
    category against the overall one: each line by its own category, not one kind for the run."""
    cfg = settings_from(tmp_path / "osmep.toml", _target(2564, "investment", '["", "", "60", ""]')
                        + _target(2564, "overall", '["", "", "70", ""]'))
    path = build(tmp_path / "t.xlsx", "disbursement", {"lines": _spending(*SLOW, budget_category=category)})
    assert_single(check(path, cfg), Expect(BEHIND, "warning", DISB, LINES.at("pct_total", "T"), goal, D("56.67")))
    path = build(tmp_path / "ok.xlsx", "disbursement", {"lines": _spending(*MIXED, budget_category=category)})
    assert_none(check(path, cfg), BEHIND)  # 83.33 % meets 60, 70 and 80


@pytest.mark.parametrize("source", ["เงินกองทุน", "งบกลาง"])
def test_disbursement_target_applies_only_to_its_budget_sources(tmp_path: Path, source: str) -> None:
    """The FY2564 target is the Budget Act's: the fund and the central budget are judged against nothing and
    get no finding at all (not even 'no target')."""
    path = build(tmp_path / "t.xlsx", "disbursement", {"lines": _spending(*SLOW, budget_source=source)})
    findings = check(path)
    assert_none(findings, BEHIND)
    assert_none(findings, NO_TARGET)
    act = build(tmp_path / "act.xlsx", "disbursement", {"lines": _spending(*SLOW)})
    assert of_rule(check(act), BEHIND)  # the same figures as Budget Act lines are behind


@pytest.mark.parametrize(("meta", "want_kind"), [
    pytest.param({**META, "fiscal_year": 2565, "as_of": "2022-06-30"}, "recurrent", id="year-without-targets"),
    pytest.param(Q2, "recurrent", id="quarter-the-source-does-not-state"),
])
def test_no_target_is_said_once_never_filled_from_another_year(tmp_path: Path, meta: dict[str, Any],
                                                              want_kind: str) -> None:
    line = {"budget_source": ACT, "budget_category": "งบเงินอุดหนุน"}
    rows = [disb("total", "T", **line), *(disb("part", p, "T", "1000", "100", "0", **line) for p in ("A", "B"))]
    this_year = [{**row, "fiscal_year": meta["fiscal_year"]} for row in rows]
    findings = check(build(tmp_path / "t.xlsx", "disbursement", {"lines": this_year}, meta))
    got = assert_single(findings, expect(NO_TARGET, "info", INFO, meta_cell("fiscal_year"), want_kind))
    assert "3 บรรทัด" in got.message_th and "3 lines" in got.message_en
    assert_none(findings, BEHIND)  # 10 % is far behind any target, but none is configured for it
    q3 = build(tmp_path / "q3.xlsx", "disbursement", {"lines": rows})
    assert_none(check(q3), NO_TARGET)
    assert of_rule(check(q3), BEHIND)


def test_carryover_lines_are_judged_against_their_own_target(tmp_path: Path) -> None:
    """FY2563 Budget Act lines in the FY2564 report: carry-over, judged by the carry-over target of FY2564,
    an info finding when none is configured (the default: the report states none)."""
    lines = {"lines": _spending(*SLOW, fiscal_year=2563)}
    path = build(tmp_path / "t.xlsx", "disbursement", lines)
    findings = check(path)
    assert_none(findings, BEHIND)  # never the recurrent 80 % of FY2564, nor FY2563's
    got = assert_single(findings, Expect(NO_TARGET, "info", INFO, meta_cell("fiscal_year"), "carryover"))
    assert "เงินกันเหลื่อมปี" in got.message_th
    cfg = settings_from(tmp_path / "osmep.toml", _target(2564, "carryover", '["", "", "90", ""]'))
    got = assert_single(check(path, cfg), Expect(BEHIND, "warning", DISB, LINES.at("pct_total", "T"), D(90),
                                                 D("56.67")))
    assert "เงินกันเหลื่อมปี" in got.message_th
    on_target = build(tmp_path / "ok.xlsx", "disbursement",
                      {"lines": _spending(("1000", "900", "50"), ("500", "400", "100"), fiscal_year=2563)})
    assert_none(check(on_target, cfg), BEHIND)
    assert_none(check(on_target, cfg), NO_TARGET)


@pytest.mark.parametrize("want", [expect("variance.decreased", "warning", DISB, LINES.at("disbursed", "P1"), D(600),
                                         D(500))])
def test_decreased(tmp_path: Path, want: Expect) -> None:
    """P1's disbursed went down 600 -> 500; its total and the roll-ups did not (other figures rose)."""
    before = build(tmp_path / "q2.xlsx", "disbursement",
                   {"lines": _spending(("1000", "600", "0"), ("500", "300", "0"))}, {**META, "as_of": "2021-03-31"})
    now = build(tmp_path / "q3.xlsx", "disbursement",
                {"lines": _spending(("1000", "500", "150"), ("500", "400", "0"))})
    assert_single(check(now, previous=before), want)
    assert_none(check(now, previous=now), "variance.decreased")
    assert_none(check(before, previous=before), "variance.decreased")


@pytest.mark.parametrize("want", [expect("variance.decreased", "warning", KPIS, KPI.at("result", "K1"), D(80),
                                         D(78))])
def test_decreased_kpi_result(tmp_path: Path, want: Expect) -> None:
    before = _kpi_book(tmp_path / "q2.xlsx", "2021-03-31", kpi("K1", "100", "80"))
    now = _kpi_book(tmp_path / "q3.xlsx", "2021-06-30", kpi("K1", "100", "78"))
    assert_single(check(now, previous=before), want)
    assert_none(check(now, previous=now), "variance.decreased")


def test_cumulative_figures_restart_with_the_fiscal_year(tmp_path: Path) -> None:
    """Q4 of one year against Q1 of the next is no decrease: year-to-date figures start again."""
    before = build(tmp_path / "fy64q4.xlsx", "kpi", kpi_blocks(kpi("K1", "100", "100")),
                   {**META, "fiscal_year": 2564, "quarter": 4, "as_of": "2021-09-30"})
    now = build(tmp_path / "fy65q1.xlsx", "kpi", kpi_blocks(kpi("K1", "100", "10")),
                {**META, "fiscal_year": 2565, "quarter": 1, "as_of": "2021-12-31"})
    assert_none(check(now, previous=before), "variance.decreased")


def test_recalc_writes_no_formula_over_a_missing_column(tmp_path: Path, base: Path) -> None:
    """With the committed column's headers renamed, no formula may point at the header row instead."""
    from osmep_xl.check import recalc_file
    from osmep_xl.xlsx.read import read_workbook

    th, en = LINES.headers("committed")
    renamed = set_cells(base, DISB, {th: "หัวใหม่", en: "New header"}, out=tmp_path / "renamed.xlsx")
    recalc_file(renamed, tmp_path / "out.xlsx")
    rb = read_workbook(tmp_path / "out.xlsx").blocks["lines"]
    header_rows = rf"\b[A-Z]{{1,3}}({HEADER_TH_ROW + 1}|{HEADER_EN_ROW + 1})\b"
    assert all(not re.search(header_rows, text) for text in rb.formula_text.values())


def test_every_rule_is_covered() -> None:
    """Each catalogued rule that validate() produces has a case above (recalc.changed is recalc's)."""
    diagnosis = {r for r in RULES if r.startswith("diagnosis.")}  # tests/test_diagnosis.py covers them
    assert set(RULES) - {"recalc.changed", "consolidate.meta_differs"} - diagnosis == COVERED


def test_reader_problems_are_catalogued() -> None:
    """Every problem the reader can note about a cell or a layout is reported through a catalogued rule."""
    from osmep_xl.xlsx.coerce import CellProblem
    from osmep_xl.xlsx.read import StructureIssue

    assert {str(p) for p in (*CellProblem, *StructureIssue)} <= set(RULES)


def test_a_check_cannot_raise_an_undeclared_rule(tmp_path: Path, base: Path) -> None:
    """The registry refuses (in strict mode) a finding whose rule the check did not declare."""
    from osmep_xl.rules.arithmetic import LINK
    from osmep_xl.rules.catalog import check as register_check
    from osmep_xl.rules.catalog import unregister
    from osmep_xl.rules.references import UNKNOWN

    @register_check(LINK)
    def stray(ctx):  # type: ignore[no-untyped-def]
        yield UNKNOWN.at("x", "A1")

    try:
        with pytest.raises(AssertionError, match="undeclared"):
            check(base)
    finally:
        unregister(stray)
    assert not of_rule(check(base), "ref.unknown")


# --------------------------------------------------------------------------- property: roll-ups

AMOUNT = st.integers(0, 10**11).map(lambda satang: D(satang).scaleb(-2))
LINE = st.tuples(AMOUNT, AMOUNT, AMOUNT)
NODE = st.one_of(LINE, st.lists(LINE, min_size=1, max_size=3))  # a project, or a strategy with projects
TREE = st.lists(NODE, min_size=1, max_size=4)
MONEY = ("allocated", "disbursed", "committed")


def _sum(lines: list[tuple[Decimal, Decimal, Decimal]]) -> tuple[Decimal, ...]:
    return tuple(sum((line[k] for line in lines), D(0)) for k in range(3))


def _tree_rows(tree: list[Any]) -> tuple[list[dict[str, Any]], list[int]]:
    """Rows with every parent total stated; also the indexes of the parent rows."""
    rows = [disb("total", "T")]
    leaves: list[tuple[Decimal, Decimal, Decimal]] = []
    parents = [0]
    for k, node in enumerate(tree):
        if isinstance(node, tuple):
            rows.append(disb("project", f"P{k}", "T", *node))
            leaves.append(node)
            continue
        parents.append(len(rows))
        rows.append(disb("strategy", f"S{k}", "T", *_sum(node)))
        for j, line in enumerate(node):
            rows.append(disb("project", f"P{k}.{j}", f"S{k}", *line))
        leaves.extend(node)
    rows[0].update(zip(MONEY, _sum(leaves), strict=True))
    return rows, parents


def _arith(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule == "rollup.sum" or f.rule.startswith("identity.")]


@settings(max_examples=25, deadline=None)
@given(tree=TREE, data=st.data())
def test_rollups_property(tmp_path_factory: pytest.TempPathFactory, tree: list[Any], data: st.DataObject) -> None:
    folder = tmp_path_factory.mktemp("prop")
    rows, parents = _tree_rows(tree)
    assert _arith(check(build(folder / "good.xlsx", "disbursement", {"lines": rows}))) == []

    i = data.draw(st.sampled_from(parents), label="parent row")
    column = data.draw(st.sampled_from(MONEY), label="column")
    right = rows[i][column]
    delta = data.draw(st.integers(1, 10**8).map(lambda satang: D(satang).scaleb(-2)), label="delta")
    if data.draw(st.booleans(), label="down") and right >= delta:
        delta = -delta
    rows[i][column] = right + delta
    findings = check(build(folder / "bad.xlsx", "disbursement", {"lines": rows}))
    assert [(f.rule, f.cell, f.expected, f.actual) for f in _arith(findings)] == [
        ("rollup.sum", LINES.cell(column, i), right, right + delta)
    ]


# --------------------------------------------------------------------------- the demo report


def _oracle(data: Any, block: Any) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    """Plain-Decimal arithmetic on the report's own JSON figures, independent of the validator.

    Returns the cells that must be reported (a leaf-level total that is not the sum of its stated lines,
    or a leaf row whose total/remaining disagrees with its stated amounts) and every cell whose stated
    figure is arithmetically wrong in any way (findings may only fall there)."""
    rows = data.blocks[block.id]
    rank = {lv.id: n for n, lv in enumerate(block.levels)}
    by_code: dict[tuple[Any, ...], list[int]] = {}
    for i, r in enumerate(rows):
        by_code.setdefault((tuple(r.get(k) for k in block.group_by), r.get("code")), []).append(i)
    children: dict[int, list[int]] = {}
    for i, r in enumerate(rows):  # the parent: the row of that code at the nearest higher level
        own = rank.get(r.get("level"), 0)
        above = [j for j in by_code.get((tuple(r.get(k) for k in block.group_by), r.get("parent")), [])
                 if rank.get(rows[j].get("level"), 99) < own]
        if r.get("parent") is not None and above:
            children.setdefault(max(above, key=lambda j: rank[rows[j]["level"]]), []).append(i)
    def effective(i: int, column: str) -> tuple[Decimal | None, bool]:
        """A row's figure (stated, else the sum of its lines) and whether a typed subtotal lies below."""
        stated = rows[i].get(column)
        kids = children.get(i, [])
        if not kids:
            return stated, False
        parts = [effective(k, column) for k in kids]
        typed_below = any(rows[k].get(column) is not None and children.get(k) for k in kids) or any(
            t for _, t in parts)
        if stated is not None:
            return stated, True
        values = [v for v, _ in parts if v is not None]
        return (sum(values, Decimal(0)) if values else None), typed_below

    must, wrong = set(), set()
    for i, r in enumerate(rows):
        kids = children.get(i, [])
        for col in block.columns:
            stated = r.get(col.id)
            if stated is None or not isinstance(stated, Decimal):
                continue
            if col.rollup and kids:
                parts = [effective(k, col.id) for k in kids]
                values = [v for v, _ in parts if v is not None]
                if values and sum(values, Decimal(0)) != stated:
                    wrong.add((i, col.id))
                    if not any(t for _, t in parts) and not any(
                            rows[k].get(col.id) is not None and children.get(k) for k in kids):
                        must.add((i, col.id))  # only leaves carry figures below: nothing can excuse it
            if col.id in ("total", "remaining") and all(r.get(c) is not None for c in ("allocated", "disbursed")):
                d, c = r["disbursed"], r.get("committed") or Decimal(0)
                expected = d + c if col.id == "total" else r["allocated"] - (r.get("total") or d + c)
                if expected != stated:
                    wrong.add((i, col.id))
                    if not kids:
                        must.add((i, col.id))
            if col.type.value == "percent":
                wrong.add((i, col.id))  # percentages are checked by the rounding tests; allowed here
    return must, wrong


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_demo_findings_agree_with_plain_arithmetic(tmp_path: Path, template: str) -> None:
    """On the real report: every error lies on a figure that plain Decimal arithmetic on the transcribed
    JSON also finds wrong, and every leaf-level inconsistency that arithmetic finds is reported."""
    data = load_report(template)
    wb = read_workbook(write_workbook(data, tmp_path / f"{template}.xlsx"))
    errors = [f for f in validate(wb, load_settings()) if f.severity.value == "error"]
    for block in data.spec.blocks:
        rb = wb.blocks[block.id]
        at = {rb.address(i, c): (i, c) for i in range(len(rb.rows)) for c in rb.columns}
        must, wrong = _oracle(data, block)
        reported = {at[f.cell] for f in errors if f.sheet == block.sheet and f.rule.startswith(("rollup", "identity"))}
        assert must <= reported, (block.id, must - reported)
        assert reported <= wrong, (block.id, reported - wrong)


@pytest.mark.parametrize("want", [expect("structure.header_changed", "warning", DISB, LINES.header("committed"),
                                         "ผูกพัน", "ผูกพันแล้ว")])
def test_thai_header_changed(tmp_path: Path, base: Path, want: Expect) -> None:
    """The English header still identifies the column, so it is read; the edit is reported."""
    edited = set_cells(base, DISB, {LINES.header("committed"): "ผูกพันแล้ว"}, out=tmp_path / "bad.xlsx")
    findings = check(edited)
    assert_single(findings, want)
    assert_none(findings, "structure.column_missing")
    assert_none(check(base), "structure.header_changed")


@pytest.mark.parametrize("want", [expect("variance.overspent", "warning", DISB, LINES.at("remaining", "P2"), D(500),
                                         D(530))])
def test_overspent(tmp_path: Path, want: Expect) -> None:
    rows = [disb("total", "T"), disb("project", "P1", "T", "1000", "600", "250"),
            disb("project", "P2", "T", "500", "400", "130")]
    findings = check(build(tmp_path / "bad.xlsx", "disbursement", {"lines": rows}))
    assert_single(findings, want)
    assert_none(findings, "cell.negative")  # a computed negative remaining is not a bad cell
    assert_none(check(build(tmp_path / "good.xlsx", "disbursement", {"lines": disbursement_rows()})),
                "variance.overspent")


@pytest.mark.parametrize(("value", "want"), [
    pytest.param(2021, expect("cell.invalid_year", "error", DISB, P1_YEAR, None, "2021"), id="ce-year"),
    pytest.param(64, expect("cell.invalid_year", "error", DISB, P1_YEAR, None, "64"), id="two-digits"),
])
def test_invalid_fiscal_year(tmp_path: Path, base: Path, value: int, want: Expect) -> None:
    findings = check(set_cells(base, DISB, {P1_YEAR: value}, out=tmp_path / "bad.xlsx"))
    assert_single(findings, want)
    assert_none(check(base), "cell.invalid_year")


@pytest.mark.parametrize(("as_of", "flagged"), [("2019-06-30", True), ("2021-06-30", False), ("2022-10-30", True)])
def test_as_of_outside_the_fiscal_year_is_an_error(tmp_path: Path, as_of: str, flagged: bool) -> None:
    """An as-of date that would switch every quarterly check off silently (e.g. a CE year typed as BE) is said."""
    path = build(tmp_path / "d.xlsx", "disbursement", {"lines": disbursement_rows()}, {**META, "as_of": as_of})
    hits = [f for f in of_rule(check(path), "meta.invalid") if "fiscal year" in f.message_en]
    assert bool(hits) is flagged


def test_a_total_over_inconsistent_subtotals_expects_the_corrected_sum(tmp_path: Path) -> None:
    """The printed report's FY2563 fund total: its stated sub-total is itself wrong, so the total should be
    the corrected lines' sum, and the message names what the stated sub-totals give."""
    rows = [disb("total", "T", allocated="705"), disb("part", "A", "T", allocated="695"),
            disb("project", "A1", "A", allocated="205"), disb("part", "B", "T", allocated="490"),
            disb("project", "B1", "B", allocated="490")]
    findings = check(build(tmp_path / "d.xlsx", "disbursement", {"lines": rows}))
    table = LINES.with_rows(rows)
    total = next(f for f in of_rule(findings, "rollup.sum") if f.cell == table.at("allocated", "T"))
    assert total.expected == D(205 + 490) and total.actual == D(705)
    assert "1,185.00" in total.message_en  # the stated sub-totals' sum, named
    part = next(f for f in of_rule(findings, "rollup.sum") if f.cell == table.at("allocated", "A"))
    assert part.expected == D(205) and "inconsistent" not in part.message_en  # its lines are consistent


# --------------------------------------------------------------------------- KPI types and project outputs


def output(code: str, kpi_code: str | None = None, unit: str = "ราย", target: Any = None,
           **results: Any) -> dict[str, Any]:
    """A row of the outputs template: project P1's output ``code``; ``results`` as result_q1=... ."""
    return {"strategy": "1", "tactic": "1.1", "project": "P1", "project_name": "โครงการ 1", "code": code,
            "name": f"ผลผลิต {code}", "unit": unit, "target": target, "kpi": kpi_code, **results}


OUTPUTS = Table("outputs", "outputs", [output("O1"), output("O2")])


def _outputs_book(path: Path, *rows: dict[str, Any]) -> Path:
    return build(path, "outputs", {"outputs": list(rows)})


def check_set(*paths: Path) -> list[Finding]:
    """Validate workbooks together (cross-template checks included), every finding in one list."""
    return [f for found in validate_set([read_workbook(p) for p in paths], load_settings(), strict=True)
            for f in found]


@pytest.mark.parametrize(("rows", "want"), [
    pytest.param([output("O1", result_q1="120", result_q2="90")],
                 expect("outputs.decreasing", "warning", OUTPUTS.sheet, OUTPUTS.at("result_q2", "O1"), D(120), D(90)),
                 id="q2-below-q1"),
    pytest.param([output("O1", result_q1="50", result_q3="40")],
                 expect("outputs.decreasing", "warning", OUTPUTS.sheet, OUTPUTS.at("result_q3", "O1"), D(50), D(40)),
                 id="q3-below-q1-across-a-blank-q2"),
])
def test_output_results_go_down(tmp_path: Path, rows: list[dict[str, Any]], want: Expect) -> None:
    assert_single(check(_outputs_book(tmp_path / "o.xlsx", *rows)), want)


def test_output_results_that_grow_or_stay_are_clean(tmp_path: Path) -> None:
    rows = [output("O1", result_q1="50", result_q2="50", result_q4="90"), output("O2", result_q3="7")]
    assert_none(check(_outputs_book(tmp_path / "o.xlsx", *rows)), "outputs.decreasing")


@pytest.mark.parametrize("want", [expect("outputs.far_over_target", "info", OUTPUTS.sheet,
                                         OUTPUTS.at("result_q3", "O1"), D(100), D(1000))])
def test_output_far_over_target(tmp_path: Path, want: Expect) -> None:
    """An extra zero: 1,000 typed for 100 is ten times the target of 100 (the default factor is 5)."""
    book = _outputs_book(tmp_path / "o.xlsx", output("O1", target="100", result_q2="60", result_q3="1000"))
    assert_single(check(book), want)


@pytest.mark.parametrize("row", [
    pytest.param(output("O1", target="100", result_q3="450"), id="over-target-within-factor"),
    pytest.param(output("O1", target="100", result_q3="500"), id="at-the-factor"),
    pytest.param(output("O1", result_q3="1000"), id="no-target"),
])
def test_output_over_target_within_factor_is_clean(tmp_path: Path, row: dict[str, Any]) -> None:
    assert_none(check(_outputs_book(tmp_path / "o.xlsx", row)), "outputs.far_over_target")


SUMMED = kpi("K1", "100", "30", counted="ผลรวมผลผลิต")


@pytest.mark.parametrize(("kpi_row", "rows", "want"), [
    pytest.param(SUMMED, [output("O1", "K1", result_q3="10"), output("O2", "K1", result_q3="15")],
                 expect("kpi.outputs_sum", "warning", KPIS, KPI.at("result", "K1"), D(25), D(30)),
                 id="as-of-result-vs-sum"),
    pytest.param(kpi("K1", "100", "30", counted="sum of outputs", result_q2="12"),
                 [output("O1", "K1", result_q2="5"), output("O2", "K1", result_q2="5", result_q3="20"),
                  output("O3", "K1", result_q3="10")],
                 expect("kpi.outputs_sum", "warning", KPIS, KPI.at("result_q2", "K1"), D(10), D(12)),
                 id="each-quarter-vs-its-sum"),
    pytest.param(SUMMED, [output("O1", "K1", result_q3="30"), output("O2", "K1", unit="แห่ง", result_q3="4")],
                 expect("kpi.outputs_unit", "warning", OUTPUTS.sheet, OUTPUTS.at("unit", "O2"), "ราย", "แห่ง"),
                 id="other-unit-named-not-added"),
    pytest.param(SUMMED, [output("O1", None, result_q3="30")],
                 expect("kpi.outputs_missing", "warning", KPIS, KPI.at("counted", "K1")), id="no-output-linked"),
    pytest.param(SUMMED, [output("O1", "K1", result_q3="30"), output("O2", "K9", result_q3="4")],
                 expect("outputs.kpi_unknown", "warning", OUTPUTS.sheet, OUTPUTS.at("kpi", "O2"), None, "K9"),
                 id="unknown-kpi-code"),
])
def test_kpi_is_the_sum_of_its_outputs(tmp_path: Path, kpi_row: dict[str, Any], rows: list[dict[str, Any]],
                                       want: Expect) -> None:
    kpis = _kpi_book(tmp_path / "k.xlsx", "2021-06-30", kpi_row)
    assert_single(check_set(kpis, _outputs_book(tmp_path / "o.xlsx", *rows)), want)
    clean = {"kpi.outputs_sum", "kpi.outputs_unit", "kpi.outputs_missing", "outputs.kpi_unknown"} - {want.rule}
    assert not [f for f in check_set(kpis, _outputs_book(tmp_path / "o.xlsx", *rows)) if f.rule in clean]


def test_kpi_equal_to_the_sum_of_its_outputs_is_clean(tmp_path: Path) -> None:
    kpis = _kpi_book(tmp_path / "k.xlsx", "2021-06-30", kpi("K1", "100", "30", counted="ผลรวมผลผลิต", result_q1="8"),
                     kpi("K2", "10", "3"))  # K2 is not counted from outputs: an output may still point at it
    outputs = _outputs_book(tmp_path / "o.xlsx", output("O1", "K1", result_q1="8", result_q3="25"),
                            output("O2", "K1", result_q3="5"), output("O3", "K2", result_q3="1"))
    found = check_set(kpis, outputs)
    assert not [f for f in found if f.rule.startswith(("kpi.outputs", "outputs."))], found
    # Alone, neither workbook is checked against the other.
    assert not of_rule(check(_kpi_book(tmp_path / "k2.xlsx", "2021-06-30", SUMMED)), "kpi.outputs_missing")


@pytest.mark.parametrize(("as_of", "row", "want"), [
    pytest.param("2021-01-15", kpi("K1", "70", "65", target_high="80", kpi_type="rate"),
                 expect("variance.kpi_behind", "warning", KPIS, KPI.at("result", "K1"), D(70), D(65)),
                 id="rate-judged-on-its-value-not-pro-rated"),
    pytest.param("2021-06-30", kpi("K1", "4.10", "3.9", kpi_type="คะแนน"),
                 expect("variance.kpi_behind", "warning", KPIS, KPI.at("result", "K1"), D("4.10"), D("3.9")),
                 id="score-judged-on-its-value"),
    pytest.param("2021-06-30", kpi("K1", "2", "0", kpi_type="milestone", plan_q3="1"),
                 expect("variance.kpi_behind", "warning", KPIS, KPI.at("result", "K1"), D(1), D(0)),
                 id="milestone-by-its-quarterly-plan"),
    pytest.param("2021-06-30", kpi("K1", "100", "50", plan_q3="60"),
                 expect("variance.kpi_behind", "warning", KPIS, KPI.at("result", "K1"), D(60), D(50)),
                 id="cumulative-by-its-plan-when-given"),
    pytest.param("2021-06-30", kpi("K1", "1", None, kpi_type="annual", result_text="อยู่ระหว่างดำเนินการ"),
                 expect("variance.kpi_annual", "info", KPIS, KPI.at("result", "K1")), id="annual-before-q4"),
    pytest.param("2021-06-30", kpi("K1", "10", "12", "<=", kpi_type="rate"),
                 expect("variance.kpi_behind", "warning", KPIS, KPI.at("result", "K1"), D(10), D(12)),
                 id="lower-is-better-rate-above-its-ceiling"),
])
def test_kpi_behind_by_type(tmp_path: Path, as_of: str, row: dict[str, Any], want: Expect) -> None:
    assert_single(check(_kpi_book(tmp_path / "t.xlsx", as_of, row)), want)


@pytest.mark.parametrize(("as_of", "row"), [
    pytest.param("2021-01-15", kpi("K1", "70", "72", target_high="80", kpi_type="rate"), id="rate-in-range"),
    pytest.param("2021-06-30", kpi("K1", "2", "1", kpi_type="milestone"), id="milestone-without-a-plan-for-q3"),
    pytest.param("2021-06-30", kpi("K1", "2", "1", kpi_type="milestone", plan_q3="1"), id="milestone-on-plan"),
    pytest.param("2021-06-30", kpi("K1", "2", "0", kpi_type="annual"), id="annual-not-judged-before-q4"),
    pytest.param("2021-06-30", kpi("K1", "100", "70", plan_q3="60"), id="cumulative-ahead-of-its-plan"),
])
def test_kpi_not_behind_by_type(tmp_path: Path, as_of: str, row: dict[str, Any]) -> None:
    assert_none(check(_kpi_book(tmp_path / "t.xlsx", as_of, row)), "variance.kpi_behind")


def test_annual_kpi_is_judged_at_q4(tmp_path: Path) -> None:
    found = check(_kpi_book(tmp_path / "t.xlsx", "2021-09-30", kpi("K1", "2", "1", kpi_type="annual")))
    assert_none(found, "variance.kpi_annual")
    assert [(f.cell, f.expected) for f in of_rule(found, "variance.kpi_behind")] == [(KPI.at("result", "K1"), D(2))]


@pytest.mark.parametrize(("text", "kind"), [
    ("ไม่น้อยกว่า 190,000 ราย", "สะสม"), ("1 ฐานข้อมูล", "ขั้นความสำเร็จ"), ("1 ระบบ/ปี", "รายปี"),
    ("ไม่น้อยกว่า 4.10 คะแนน", "คะแนน"), ("ร้อยละ 70-80", "อัตรา"), ("ลดลงร้อยละ 10", "อัตรา"),
])
def test_kpi_type_from_its_target_text(tmp_path: Path, text: str, kind: str) -> None:
    row = {**kpi("K1", None, None), "target_text": text, "direction": None}
    book = _kpi_book(tmp_path / "t.xlsx", "2021-06-30", row)
    assert read_workbook(book).blocks["kpis"].rows[0]["kpi_type"] == kind


# The spending plan's rule cases live in their own module; importing it here adds them to COVERED even when this
# file runs alone (it imports this one's helpers, which are all defined by now).
import tests.test_plan  # noqa: E402, F401
