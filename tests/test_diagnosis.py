"""Root-cause diagnosis: one typo is one finding at the typed cell, and the findings it causes name it.

Each test breaks one thing in a clean, values-only copy of a demo workbook (every formula replaced by its
value, as a workbook typed by hand is) and has a clean twin: the same base reports no error.
Cell addresses are found by reading the workbook, never written out.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bench.faults import values_only
from osmep_xl.check import CAUSE_FILL, CONSEQUENCE_FILL, HIGHLIGHT, cell_flags, check_file
from osmep_xl.data import load_report
from osmep_xl.findings import Finding, Severity
from osmep_xl.report import FileResult, fold_consequences, print_results
from osmep_xl.rules.config import load_settings
from osmep_xl.rules.diagnosis import typo_distance
from osmep_xl.rules.diagnosis.solve import near_units
from osmep_xl.spec.base import StatedText
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.patch import WorkbookPatch
from osmep_xl.xlsx.read import ReadBlock, read_workbook

D = Decimal


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bases")
    out = {}
    for template in ("disbursement", "kpi", "integrated_plan", "action_plan"):
        src = write_workbook(load_report(template), folder / f"src_{template}.xlsx")
        out[template] = values_only(src, folder / f"{template}.xlsx")
    return out


def errors(path: Path) -> list[Finding]:
    return [f for r in check_file(path, load_settings()) for f in r.findings if f.severity is Severity.ERROR]


def edit(base: Path, out: Path, cells: dict[tuple[str, str], Any]) -> Path:
    patch = WorkbookPatch(base)
    for (sheet, cell), value in cells.items():
        patch.set_cell(sheet, cell, value)
    return patch.save(out)


def block(path: Path, block_id: str) -> ReadBlock:
    return read_workbook(path).blocks[block_id]


def row_where(rb: ReadBlock, **match: Any) -> int:
    hits = [i for i, r in enumerate(rb.rows) if all(r.get(k) == v for k, v in match.items())]
    assert len(hits) == 1, (match, hits)
    return hits[0]


def causes(found: list[Finding]) -> list[Finding]:
    """The findings that are not consequences of another."""
    return [f for f in found if f.cause is None]


def test_clean_bases_have_no_errors(bases: dict[str, Path]) -> None:
    """The clean twin of every test below (the action plan's printed sources and plan totals differ, as
    printed: one link finding, nothing diagnosed)."""
    for template, path in bases.items():
        found = errors(path)
        if template == "action_plan":
            assert [f.rule for f in found] == ["link.mismatch"] and not found[0].candidates
        else:
            assert found == [], template


def test_allocated_typo_is_one_cause_at_the_typed_cell(bases: dict[str, Path], tmp_path: Path) -> None:
    """The issue's example: 368,006,300 typed for 36,806,300 in a strategy's allocation gave six errors."""
    rb = block(bases["disbursement"], "lines")
    i = row_where(rb, fiscal_year=2564, level="strategy", code="4")
    cell = rb.address(i, "allocated")
    found = errors(edit(bases["disbursement"], tmp_path / "bad.xlsx", {(rb.sheet, cell): 368006300}))
    (cause,) = causes(found)
    assert (cause.rule, cause.cell, cause.expected, cause.actual) == ("diagnosis.cause", cell, D("36806300.00"),
                                                                      D(368006300))
    consequences = [f for f in found if f.cause == f"{rb.sheet}!{cell}"]
    assert len(consequences) == 6 and len(found) == 7
    parent = rb.address(row_where(rb, fiscal_year=2564, level="part", code="P"), "allocated")
    assert {f.cell for f in consequences} == {parent, *(rb.address(i, c) for c in (
        "remaining", "pct_disbursed", "pct_committed", "pct_total", "pct_remaining"))}


@pytest.mark.parametrize(("column", "typed", "right", "rule"), [
    pytest.param("result", 139852, D(139825), "diagnosis.cause", id="result-vs-its-text"),
    pytest.param("target", 19000, D(190000), "diagnosis.cause", id="target-vs-its-text"),
    pytest.param("target_next", 19000, D(190000), "diagnosis.stated_text", id="next-target-vs-its-text"),
])
def test_kpi_figure_against_its_text(bases: dict[str, Path], tmp_path: Path, column: str, typed: int,
                                     right: Decimal, rule: str) -> None:
    rb = block(bases["kpi"], "kpis")
    i = row_where(rb, code="3")  # "ไม่น้อยกว่า 190,000 ราย", result "139,825 ราย"
    cell = rb.address(i, column)
    found = errors(edit(bases["kpi"], tmp_path / "bad.xlsx", {(rb.sheet, cell): typed}))
    (cause,) = causes(found)
    assert (cause.rule, cause.cell, cause.expected, cause.actual) == (rule, cell, right, D(typed))
    assert all(f.cause == f"{rb.sheet}!{cell}" for f in found if f is not cause)


def test_kpi_target_typo_with_no_other_figure_is_reported(bases: dict[str, Path], tmp_path: Path) -> None:
    """4.01 typed for "ไม่น้อยกว่า 4.10 คะแนน", no result yet: nothing else breaks, the text still tells."""
    rb = block(bases["kpi"], "kpis")
    cell = rb.address(row_where(rb, code="6"), "target")
    found = errors(edit(bases["kpi"], tmp_path / "bad.xlsx", {(rb.sheet, cell): D("4.01")}))
    assert [(f.rule, f.cell, f.expected) for f in found] == [("diagnosis.stated_text", cell, D("4.10"))]


def test_stated_text_parts() -> None:
    assert StatedText("t", "low").number("ร้อยละ 70-80") == D(70)
    assert StatedText("t", "high").number("ร้อยละ 70-80") == D(80)
    assert StatedText("t", "value").number("1 ระบบ (ระบบ D-join)") == D(1)
    assert StatedText("t", "value").number("อยู่ระหว่างดำเนินการ") is None
    assert StatedText("t", "low").number(None) is None


def test_project_under_a_wrong_parent_is_reported_at_its_parent_code(bases: dict[str, Path], tmp_path: Path) -> None:
    rb = block(bases["disbursement"], "lines")
    i = row_where(rb, fiscal_year=2563, budget_source="เงินกองทุน", code="7")
    cell = rb.address(i, "parent")
    assert rb.rows[i]["parent"] == "OTHER"
    found = errors(edit(bases["disbursement"], tmp_path / "bad.xlsx", {(rb.sheet, cell): "MSME2020"}))
    (cause,) = causes(found)
    assert (cause.rule, cause.cell, cause.expected, cause.actual) == ("diagnosis.cause", cell, "OTHER", "MSME2020")
    assert {f.rule for f in found if f is not cause} == {"rollup.sum"} and len(found) == 7


def test_integrated_plan_count_typo(bases: dict[str, Path], tmp_path: Path) -> None:
    """81 -> 18 in the centres reached: reported at the count, not only at its percentage."""
    rb = block(bases["integrated_plan"], "approaches")
    i = row_where(rb, level="total")
    cell = rb.address(i, "result_centers")
    assert rb.rows[i]["result_centers"] == 81
    found = errors(edit(bases["integrated_plan"], tmp_path / "bad.xlsx", {(rb.sheet, cell): 18}))
    (cause,) = causes(found)
    assert (cause.cell, cause.expected) == (cell, D(81))
    assert found != [cause] and all(f.cause == f"{rb.sheet}!{cell}" for f in found if f is not cause)


def test_leaf_against_its_siblings_lists_candidates(bases: dict[str, Path], tmp_path: Path) -> None:
    """A project's budget is tied only to its tactic's total: any project of the tactic explains it. One
    finding lists them, the transposed one first."""
    rb = block(bases["action_plan"], "plan")
    i = row_where(rb, fiscal_year=2564, level="project", code="1")
    cell = rb.address(i, "budget")
    value = rb.rows[i]["budget"]
    text = f"{value:f}".split(".")[0]
    n = next(k for k in range(len(text) - 1) if text[k] != text[k + 1])
    typed = int(text[:n] + text[n + 1] + text[n] + text[n + 2:])
    found = [f for f in errors(edit(bases["action_plan"], tmp_path / "bad.xlsx", {(rb.sheet, cell): typed}))
             if f.rule != "link.mismatch"]
    (finding,) = causes(found)
    assert finding.candidates is not None and finding.candidates[0] == f"{rb.sheet}!{cell}"
    assert len(finding.candidates) > 1
    # the only correction one keystroke away is the typed cell's: the finding is there, the tactic's
    # roll-up is its consequence
    assert (finding.rule, finding.cell, finding.expected) == ("diagnosis.cause", cell, value)
    assert [f.rule for f in found if f.cause == f"{rb.sheet}!{cell}"] == ["rollup.sum"]


def test_row_entered_twice(bases: dict[str, Path], tmp_path: Path) -> None:
    rb = block(bases["disbursement"], "lines")
    i = row_where(rb, fiscal_year=2563, budget_source="เงินกองทุน", code="6")
    below = rb.sheet_rows[-1] + 2
    cells = {(rb.sheet, rb.address(i, c).rstrip("0123456789") + str(below)): rb.rows[i][c]
             for c in rb.columns if rb.rows[i].get(c) is not None}
    found = errors(edit(bases["disbursement"], tmp_path / "bad.xlsx", cells))
    code_cell = rb.address(i, "code").rstrip("0123456789") + str(below)
    (cause,) = causes(found)
    assert (cause.rule, cause.cell) == ("ref.duplicate_key", code_cell)
    assert len(found) > 1 and all(f.cause == f"{rb.sheet}!{code_cell}" for f in found if f is not cause)


def test_demo_figures_as_printed_still_come_out_once() -> None:
    """The report's own nine inconsistencies: each once at the printed figure, no diagnosis finding added
    (two of them list the projects that could explain them)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        found = []
        for template in ("action_plan", "disbursement", "kpi", "integrated_plan"):
            found += errors(write_workbook(load_report(template), Path(tmp) / f"{template}.xlsx"))
    assert len(found) == 9 and len({f.where for f in found}) == 9
    assert not any(f.rule.startswith("diagnosis") or f.cause for f in found)
    assert sum(bool(f.candidates) for f in found) == 2


def test_json_adds_cause_and_candidates_only_where_set() -> None:
    plain = Finding(rule="rollup.sum", severity=Severity.ERROR, sheet="S", cell="A1", message_th="t", message_en="e")
    assert list(plain.to_json()) == ["rule", "severity", "sheet", "cell", "expected", "actual", "message_th",
                                     "message_en"]
    marked = plain.model_copy(update={"cause": "S!B2", "candidates": ("S!B2", "S!B3")})
    assert marked.to_json()["cause"] == "S!B2" and marked.to_json()["candidates"] == ["S!B2", "S!B3"]


def _finding(cell: str, rule: str = "rollup.sum", **extra: Any) -> Finding:
    return Finding(rule=rule, severity=Severity.ERROR, sheet="S", cell=cell, message_th=f"th {cell}",
                   message_en=f"en {cell}", **extra)


def test_annotate_flags_cause_red_and_consequences_lighter() -> None:
    cause = _finding("B2", "diagnosis.cause", expected=D(5))
    pair = _finding("D4", "diagnosis.pair", expected=D(7))  # one of two causes: red with its value too
    flags = cell_flags([_finding("A1", cause="S!B2"), cause, _finding("C3"), pair], {"S"})
    assert flags[("S", "B2")][0] == CAUSE_FILL and "5" in flags[("S", "B2")][1]
    assert flags[("S", "D4")][0] == CAUSE_FILL and "7" in flags[("S", "D4")][1]
    assert flags[("S", "A1")][0] == CONSEQUENCE_FILL and "S!B2" in flags[("S", "A1")][1]
    assert flags[("S", "C3")][0] == HIGHLIGHT[Severity.ERROR]


def test_console_folds_consequences_under_their_cause() -> None:
    found = [_finding("A1", cause="S!C3"), _finding("B2"), _finding("C3", "diagnosis.cause")]
    alone, folded = fold_consequences(found)
    assert [f.cell for f in alone] == ["C3", "B2"] and [f.cell for f in folded["S!C3"]] == ["A1"]
    console = Console(file=io.StringIO(), width=200)
    print_results([FileResult(path=Path("x.xlsx"), template="t", findings=found)], console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert text.index("C3") < text.index("A1") < text.index("B2")


@pytest.mark.parametrize(("was", "should", "distance"), [
    (D(36806300), D(368006300), 1), (D(139852), D(139825), 1), (D("4.01"), D("4.10"), 1),
    (D("4.01"), D("4.11"), 1), (D("4.01"), D("4.5"), 2), (D(19000), D(190000), 1),
    (D(5), D(5), 0), (None, D(5), 1), (D(1234), D(9876), 4),
])
def test_typo_distance(was: Decimal | None, should: Decimal, distance: int) -> None:
    assert typo_distance(was, should) == distance


@pytest.mark.parametrize(("value", "typos"), [
    (D(5996000), [D(59960000), D(599600), D(5969000), D(5996001)]),  # zero added, dropped; swapped; changed
    (D("409098442.06"), [D("4090984420.06"), D("490098442.06"), D("409098442.60"), D("409098442")]),
    (D("4.1"), [D("14.1"), D("4.01"), D("0.1"), D("4.7")]),
])
def test_near_units_are_one_keystroke_away(value: Decimal, typos: list[Decimal]) -> None:
    """The values the typo search tries, in hundredths: a keystroke from ``value`` as typed, never ``value``."""
    near = near_units(value, 2)
    assert value * 100 not in near
    assert all(t * 100 in near for t in typos), [t for t in typos if t * 100 not in near]
    assert D("41") * 100 not in near_units(D("4.1"), 2)  # the decimal point is not a digit: it stays

def test_fault_injection_slice() -> None:
    """A small seeded slice of bench/faults.py: every class detected, the typed cell the cause or a
    candidate, no false alarm (the full table is in bench/README.md)."""
    from bench.faults import run

    tallies = run(per_class=8, seed=3, synthetic=0, settings=load_settings())
    for kind, t in tallies.items():
        assert t.detected == t.n, kind
        if kind != "row_deleted":
            assert t.candidate >= t.n - 1, (kind, t)
    n = sum(t.n for t in tallies.values())
    assert n >= 40 and sum(t.false_alarm for t in tallies.values()) <= max(1, n // 50)


def test_double_fault_injection_slice() -> None:
    """A small seeded slice of ``bench/faults.py --double``: two faults of one class in a workbook, both typed
    cells reported as causes or candidates, no false alarm."""
    from bench.faults import run_double

    tallies = run_double(per_class=4, seed=3, synthetic=0, settings=load_settings())
    n = sum(t.n for t in tallies.values())
    assert n >= 15 and all(t.detected == t.n for t in tallies.values())
    assert sum(t.both_listed for t in tallies.values()) >= n - 1
    assert sum(t.false_alarm for t in tallies.values()) == 0
    assert sum(t.as_pair for t in tallies.values()) >= 1



def test_a_zero_over_blank_lines_gets_the_verdict_of_its_formula(tmp_path: Path) -> None:
    """fill puts =SUM(...) on a sub-row whose lines are all blank (it shows 0); the same sheet with those
    zeros typed (pasted as values) must get the same verdict, not a roll-up error above each of them."""
    src = write_workbook(load_report("integrated_plan"), tmp_path / "formulas.xlsx")
    rb = block(src, "approaches")
    zeros = {(rb.sheet, rb.address(i, c)): 0 for i, c in rb.formula_cells
             if rb.block.column(c).rollup and rb.rows[i].get(c) == 0}
    assert len(zeros) >= 5
    typed = edit(src, tmp_path / "typed.xlsx", zeros)
    assert not block(typed, "approaches").formula_cells & {(i, c) for i, c in rb.formula_cells
                                                          if (rb.sheet, rb.address(i, c)) in zeros}

    def verdict(path: Path) -> list[tuple[str, str]]:
        return [(f.rule, f.cell) for f in errors(path)]

    assert verdict(typed) == verdict(src) == [("rollup.sum", rb.address(0, "target_persons"))]
    # a 0 typed over lines that do carry figures is still a stated total, and wrong
    i = next(i for i, c in rb.formula_cells if c == "budget" and isinstance(rb.rows[i].get(c), Decimal)
             and rb.rows[i][c] > 0)
    assert ("rollup.sum", rb.address(i, "budget")) in verdict(
        edit(src, tmp_path / "zero.xlsx", {(rb.sheet, rb.address(i, "budget")): 0}))


def test_line_moved_away_from_its_only_parent(bases: dict[str, Path], tmp_path: Path) -> None:
    """Group 5.1.1, the only line of sub-approach 5.1, put under 2.1: 5.1 now reads as a line of its own with
    the zeros its sums showed, so 2.1 is over and approach 5 and the total are short; one parent code
    explains all of it."""
    rb = block(bases["integrated_plan"], "approaches")
    i = row_where(rb, code="5.1.1")
    cell = rb.address(i, "parent")
    found = errors(edit(bases["integrated_plan"], tmp_path / "bad.xlsx", {(rb.sheet, cell): "2.1"}))
    (cause,) = causes(found)
    assert (cause.rule, cause.cell, cause.expected, cause.actual) == ("diagnosis.cause", cell, "5.1", "2.1")
    assert len(found) > 2 and all(f.cause == f"{rb.sheet}!{cell}" for f in found if f is not cause)


def _pair_edit(base: Path, tmp_path: Path,
               changes: dict[str, Decimal]) -> tuple[ReadBlock, list[Finding], dict[str, str]]:
    """Strategies of FY2564 (by code) given new allocations: their cells and the errors it gives."""
    rb = block(base, "lines")
    cells = {code: rb.address(row_where(rb, fiscal_year=2564, level="strategy", code=code), "allocated")
             for code in changes}
    found = errors(edit(base, tmp_path / "bad.xlsx", {(rb.sheet, cells[k]): v for k, v in changes.items()}))
    return rb, found, cells


def test_two_typos_under_one_parent_are_both_causes(bases: dict[str, Path], tmp_path: Path) -> None:
    """Two strategies' allocations mistyped (a transposition, an extra zero): no single cell explains the part's
    roll-up and both lines' percentages, the pair does; each is reported with its corrected value."""
    rb = block(bases["disbursement"], "lines")
    right = {code: rb.rows[row_where(rb, fiscal_year=2564, level="strategy", code=code)]["allocated"]
             for code in ("1", "2")}
    first = f"{right['1']:f}".split(".")[0]
    n = next(k for k in range(len(first) - 1) if first[k] != first[k + 1])
    typed = {"1": D(first[:n] + first[n + 1] + first[n] + first[n + 2:]), "2": right["2"] * 10}
    rb, found, cells = _pair_edit(bases["disbursement"], tmp_path, typed)
    pair = causes(found)
    assert sorted((f.rule, f.cell, f.expected, f.actual) for f in pair) == sorted(
        ("diagnosis.pair", cells[k], right[k], typed[k]) for k in ("1", "2"))
    assert all(not f.candidates for f in pair)
    assert f"{rb.sheet}!{cells['2']}" in pair[0].message_en + pair[1].message_en  # each names the other
    consequences = [f for f in found if f.cause is not None]
    assert len(consequences) >= 9 and {f.cause for f in consequences} == {f"{rb.sheet}!{c}" for c in cells.values()}


def test_two_typos_that_cancel_in_their_total(bases: dict[str, Path], tmp_path: Path) -> None:
    """One strategy 1,000,000 over, its sibling 1,000,000 short: the part's total still holds, so each line's
    findings are a cluster of their own that its cell alone cannot fix (the total would break); one pair does."""
    rb = block(bases["disbursement"], "lines")
    right = {code: rb.rows[row_where(rb, fiscal_year=2564, level="strategy", code=code)]["allocated"]
             for code in ("1", "3")}
    typed = {"1": right["1"] + 1000000, "3": right["3"] - 1000000}
    _, found, cells = _pair_edit(bases["disbursement"], tmp_path, typed)
    pair = causes(found)
    assert sorted((f.rule, f.cell, f.expected) for f in pair) == sorted(
        ("diagnosis.pair", cells[k], right[k]) for k in ("1", "3"))


@pytest.mark.parametrize("typed", [
    pytest.param({"2": D(51250000), "4": D(28062000)}, id="no-single-explains"),  # both an extra zero
    pytest.param({"2": D(51250000), "4": D(2086200)}, id="one-figure-far-off-explains"),  # and a transposition
])
def test_two_typos_against_one_total(bases: dict[str, Path], tmp_path: Path, typed: dict[str, Decimal]) -> None:
    """Two projects of one tactic mistyped: only the tactic's total tells, so any two of its projects could
    take the error; the one pair whose corrections are each a single keystroke from what is typed is the
    diagnosis. With an extra zero in both, no single project can absorb the error (it would go negative);
    with a transposition in the second, the first alone could, but only at a figure far from what is typed."""
    rb = block(bases["action_plan"], "plan")
    rows = {code: row_where(rb, fiscal_year=2564, level="project", code=code) for code in typed}
    cells = {code: rb.address(i, "budget") for code, i in rows.items()}
    found = [f for f in errors(edit(bases["action_plan"], tmp_path / "bad.xlsx",
                                    {(rb.sheet, cells[k]): v for k, v in typed.items()}))
             if f.rule != "link.mismatch"]
    pair = causes(found)
    assert sorted((f.rule, f.cell, f.expected) for f in pair) == sorted(
        ("diagnosis.pair", cells[k], rb.rows[i]["budget"]) for k, i in rows.items())
    assert [f.rule for f in found if f.cause is not None] == ["rollup.sum"]


def test_several_pairs_of_typos_are_listed_as_candidates(tmp_path: Path) -> None:
    """Projects A and B of 100 each typed 1000 (an extra zero) under a strategy of 1,200 that its part fixes:
    no single project can take the 1,800 over, but three pairs of keystrokes can (A and B back to 100, or
    either with C 1,000 → 100). The first pair is reported, all three cells listed as candidates."""
    from tests.cells import Table
    from tests.rule_cases import build, plan_row

    plan = [plan_row("total", "T", None, None), plan_row("part", "PT", "T", "1200"),
            plan_row("strategy", "S", "PT", "1200"), plan_row("project", "A", "S", "1000"),
            plan_row("project", "B", "S", "1000"), plan_row("project", "C", "S", "1000")]
    blocks = {"sources": [plan_row("total", "T", None, "1200")], "plan": plan}
    table = Table("action_plan", "plan", plan)
    found = errors(build(tmp_path / "typos.xlsx", "action_plan", blocks))
    listed = tuple(f"{table.sheet}!{table.at('budget', code)}" for code in ("A", "B", "C"))
    pair = causes(found)
    assert sorted((f.rule, f.cell, f.expected, f.candidates) for f in pair) == sorted(
        ("diagnosis.pair", table.at("budget", code), D(100), listed) for code in ("A", "B"))
    assert [(f.rule, f.cell) for f in found if f.cause is not None] == [("rollup.sum", table.at("budget", "S"))]
