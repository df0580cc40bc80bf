"""The columnar paths give exactly what the per-cell paths give: a column typed at once, the identities
screened in exact integer columns, and a file validated and recalculated from one read."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

from bench.generate import BUILDERS, generate
from osmep_xl import check as check_module
from osmep_xl.check import check_and_recalc, check_file, recalc_result
from osmep_xl.excel import udfs
from osmep_xl.model.columnar import (
    BlockColumns,
    StoredDoubles,
    evaluate_columns,
    float_cells,
    round_percent,
    stored_doubles,
)
from osmep_xl.money import percent
from osmep_xl.report import FileResult
from osmep_xl.rules import arithmetic, recalc_screen, variance
from osmep_xl.rules.config import load_settings
from osmep_xl.rules.context import Context
from osmep_xl.rules.recalc import CellEdit, plan_recalc_all
from osmep_xl.rules.validate import validate
from osmep_xl.rules.variance_screen import Lines
from osmep_xl.spec import TEMPLATES
from osmep_xl.xlsx.coerce import coerce, coerce_column
from osmep_xl.xlsx.read import read_workbook, read_workbooks
from tests.cells import Table
from tests.fuzzing import raw_cells
from tests.rule_cases import build, disb, set_cached_value, set_cell_xml, set_cells, sheet

NUMERIC = [c for spec in TEMPLATES.values() for b in spec.blocks for c in b.columns if c.type.numeric]
TEXT = [c for spec in TEMPLATES.values() for b in spec.blocks for c in b.columns if not c.type.numeric]


def _exactly(value: Any) -> tuple[str, str]:
    return type(value).__name__, str(value)  # Decimal("0") and Decimal("0.0") are not the same cell


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(NUMERIC + TEXT[:3]),
       st.lists(st.one_of(raw_cells, st.sampled_from([0.0, -0.0, 1.5, -2.25, 338500.0, 0.1 + 0.2, 1e15, 12.345])),
                max_size=12))
def test_a_column_typed_at_once_is_typed_as_cell_by_cell(column: Any, raws: list[Any]) -> None:
    values, problems = coerce_column(column, raws)
    one = [coerce(column, raw) for raw in raws]
    assert [_exactly(v) for v in values] == [_exactly(c.value) for c in one]
    assert problems == {i: c.problem for i, c in enumerate(one) if c.problem is not None}


def test_percentages_round_as_excel_round_does() -> None:
    rng = random.Random(3)
    # Ties at the third decimal (1/800 = 0.125 %), both signs; exact; fractions of a baht; zero.
    pairs = [(1, 800), (-1, 800), (3, -800), (-3, -800), (1, 8), (5, 40000), (7, 0.5), (3, 3), (0, 7)]
    pairs += [(rng.randint(-10**9, 10**9), rng.choice([-1, 1]) * rng.randint(1, 10**9)) for _ in range(2000)]
    parts = np.array([int(p * 100) for p, _ in pairs], np.int64)
    wholes = np.array([int(w * 100) for _, w in pairs], np.int64)
    got = round_percent(parts, wholes)
    for (part, whole), hundredths in zip(pairs, got.tolist(), strict=True):
        assert Decimal(hundredths).scaleb(-2) == percent(Decimal(str(part)), Decimal(str(whole))), (part, whole)


def _both_paths(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[Any], bool]:
    """Findings with the columnar screen and with every cell on the per-cell path; whether it screened."""
    books = read_workbooks(path)
    screened = any(v is not None for wb in books for v in Context(wb, load_settings()).columns.values())
    fast = [[f.model_dump() for f in validate(wb, load_settings())] for wb in books]
    with monkeypatch.context() as m:
        m.setattr(arithmetic, "_screen", lambda *args: None)
        slow = [[f.model_dump() for f in validate(wb, load_settings())] for wb in books]
    return fast, slow, screened


def test_screened_identities_find_what_the_per_cell_path_finds(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    generated = generate(tmp_path / "gen", 3 * len(BUILDERS), seed=5, error_rate=1.0)  # three of each template
    # A figure off by one satang, a percentage off by 0.01, a total stated over blank lines, a percentage
    # at a rounding tie (1/8 = 12.5 %: 12.50 is right), and a formula whose cached value is stale.
    rows = [disb("total", "T", total="1600.01"),
            disb("strategy", "S", "T", "1000.01", "600", "250"),
            disb("project", "P1", "S", "1000", "600", "250", pct_disbursed="60.01"),
            disb("project", "P2", "S", "0.01"),
            disb("project", "P3", "T", "800", "100", "0", pct_disbursed="12.50", remaining="700")]
    typed = build(tmp_path / "typed.xlsx", "disbursement", {"lines": rows})
    lines = Table("disbursement", "lines", rows)
    stale = set_cached_value(typed, sheet("disbursement", "lines"), lines.at("total", "P1"), "851",
                             out=tmp_path / "stale.xlsx")
    screened_with_findings = 0
    for path in [*generated, typed, stale]:
        fast, slow, screened = _both_paths(path, monkeypatch)
        assert fast == slow, path.name
        screened_with_findings += screened and any(fast)
    assert screened_with_findings >= len(generated) // 2  # the screen ran, on workbooks with findings


def _plans(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, int]:
    """Recalc's edits and changes with the columnar screen and with every cell on the per-cell path, and how
    many cells the screen left to the per-cell path."""
    books = read_workbooks(path)
    fast = plan_recalc_all(books)
    left = sum(len(recalc_screen.screen(rb, Context(wb, load_settings()).corrected[bid]).cells)
               for wb in books for bid, rb in wb.blocks.items())
    with monkeypatch.context() as m:
        m.setattr(recalc_screen, "_unchanged", lambda *args: None)
        slow = plan_recalc_all(read_workbooks(path))
    return (fast[0], [f.model_dump() for f in fast[1]]), (slow[0], [f.model_dump() for f in slow[1]]), left


def _small_block(tmp_path: Path) -> tuple[Path, Table, str]:
    """A consistent block written as fill writes it (every derived cell a formula, a percentage at a
    rounding tie: 1/800 = 0.125 %), its lines and its sheet's name."""
    rows = [disb("total", "T"), disb("strategy", "S", "T"),
            disb("project", "P1", "S", "1000", "600", "250"),
            disb("project", "P2", "S", "800", "1", "0.1"),
            disb("project", "P3", "T", "2500.75", "1234.56", "0.01")]
    clean = build(tmp_path / "clean.xlsx", "disbursement", {"lines": rows})
    return clean, Table("disbursement", "lines", rows), sheet("disbursement", "lines")


def _recalc_cases(tmp_path: Path) -> tuple[Path, Table, dict[str, Path]]:
    """:func:`_small_block`, and copies with one thing broken."""
    clean, lines, name = _small_block(tmp_path)
    broken = {
        # a formula's cached value out of date
        "stale": set_cached_value(clean, name, lines.at("total", "P1"), "851", out=tmp_path / "stale.xlsx"),
        # an input changed without recalculating: every formula above it is out of date
        "input": set_cell_xml(clean, name, lines.at("allocated", "P3"), "<v>2600.75</v>",
                              out=tmp_path / "input.xlsx"),
        # a cached amount with Excel's binary noise beyond the satang: still fresh
        "noise": set_cached_value(clean, name, lines.at("allocated", "T"), "4300.7500000000009",
                                  out=tmp_path / "noise.xlsx"),
    }
    return clean, lines, broken


def _written(edits: list[CellEdit]) -> set[str]:
    return {e.cell for e in edits}


def test_recalc_of_a_clean_block_evaluates_no_cell_one_by_one(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    clean, _, broken = _recalc_cases(tmp_path)
    fast, slow, left = _plans(clean, monkeypatch)
    assert fast == slow and fast[0] == []
    assert left == 1  # the percentage at a rounding tie only (P2 disbursed 1 of 800)
    fast, slow, _ = _plans(broken["noise"], monkeypatch)
    assert fast == slow and fast[0] == []


def test_recalc_screen_leaves_each_out_of_date_cell_to_the_per_cell_path(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _, lines, broken = _recalc_cases(tmp_path)
    fast, slow, _ = _plans(broken["stale"], monkeypatch)
    assert fast == slow and _written(fast[0]) == {lines.at("total", "P1")}
    fast, slow, _ = _plans(broken["input"], monkeypatch)
    assert fast == slow
    assert _written(fast[0]) >= {lines.at(c, code) for code in ("P3", "T") for c in ("remaining", "pct_disbursed")}
    assert lines.at("allocated", "T") in _written(fast[0])


def test_recalc_screens_a_block_with_figures_typed_over_its_formulas(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure typed over a derived cell is screened as its formula (recalc puts the formula back); one over
    a derived cell whose row states none of its inputs, or over a roll-up, keeps every cell per cell."""
    clean, lines, _ = _recalc_cases(tmp_path)
    name = sheet("disbursement", "lines")

    def typed_over(out: str, *cells: tuple[str, str, str]) -> Path:
        path = clean
        for column, code, figure in cells:
            body = f"<v>{figure}</v>" if figure else ""
            path = set_cell_xml(path, name, lines.at(column, code), body, out=tmp_path / out)
        return path

    every = sum(len(recalc_screen.recalc_columns(rb)) * len(rb.rows)
                for wb in read_workbooks(clean) for rb in wb.blocks.values())
    # Typed over: a wrong figure; the right one (still replaced by the formula); a wrong one whose percentage
    # was recalculated from it (stale once the formula is back).
    right = typed_over("right.xlsx", ("total", "P1", "850"))
    stale_pct = set_cached_value(typed_over("wrong.xlsx", ("total", "P1", "851")), name, lines.at("pct_total", "P1"),
                                 "85.1", out=tmp_path / "stale_pct.xlsx")
    screened = {"total": typed_over("total.xlsx", ("total", "P1", "851")),
                "total and percentage": typed_over("both.xlsx", ("total", "P3", "1234.57"), ("pct_total", "P1", "99")),
                "right figure": right, "percentage of the typed figure": stale_pct}
    for case, path in screened.items():
        fast, slow, left = _plans(path, monkeypatch)
        assert fast == slow, case
        assert fast[0] and left < every // 2, case  # the screen ran
    assert _written(_plans(right, monkeypatch)[0][0]) == {lines.at("total", "P1")}
    assert _written(_plans(stale_pct, monkeypatch)[0][0]) == {lines.at("total", "P1"), lines.at("pct_total", "P1")}
    # A total typed on a row stating neither of its inputs stays the input there (its percentage's cached 0 is
    # stale); a typed roll-up.
    bare = typed_over("bare.xlsx", ("disbursed", "P2", ""), ("committed", "P2", ""), ("total", "P2", "5"))
    per_cell = {"no input": set_cached_value(bare, name, lines.at("pct_total", "P2"), "0", out=tmp_path / "nil.xlsx"),
                "roll-up": typed_over("rollup.xlsx", ("allocated", "S", "1799"))}
    for case, path in per_cell.items():
        fast, slow, left = _plans(path, monkeypatch)
        assert fast == slow, case


def test_screened_recalc_plans_what_the_per_cell_path_plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generated = generate(tmp_path / "gen", 3 * len(BUILDERS), seed=5, error_rate=1.0)  # three of each template
    for path in generated:
        fast, slow, _ = _plans(path, monkeypatch)
        assert fast == slow, path.name


def _variance_both_paths(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[Any]]:
    """The disbursement variance findings with the line screen, and with every line judged."""
    books = read_workbooks(path)
    fast = [[f.model_dump() for f in variance.disbursement_findings(Context(wb, load_settings()))] for wb in books]
    with monkeypatch.context() as m:
        m.setattr(variance, "lines_to_judge", lambda rb, *args: Lines(range(len(rb.rows))))
        slow = [[f.model_dump() for f in variance.disbursement_findings(Context(wb, load_settings()))]
                for wb in books]
    return fast, slow


def test_screened_variance_judges_what_every_line_judged_finds(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Parts are judged against the 80 % target: A at 79.99 % is behind, B at 80.00 % is not; C is overspent.
    act = {"budget_source": "พ.ร.บ.งบประมาณ", "budget_category": "งบเงินอุดหนุน"}  # the default FY2564 target's
    rows = [disb("total", "T", **act), disb("part", "A", "T", "1000", "799.9", "0", **act),
            disb("part", "B", "T", "1000", "800", "0", **act), disb("part", "C", "T", "1000", "1000", "1", **act)]
    boundary = build(tmp_path / "boundary.xlsx", "disbursement", {"lines": rows})
    lines = Table("disbursement", "lines", rows)
    fast, slow = _variance_both_paths(boundary, monkeypatch)
    assert fast == slow
    assert [(f["rule"], f["cell"]) for f in fast[0]] == [("variance.disbursement_behind", lines.at("pct_total", "A")),
                                                         ("variance.overspent", lines.at("remaining", "C"))]
    for path in generate(tmp_path / "gen", 2 * len(BUILDERS), seed=11, error_rate=1.0):
        fast, slow = _variance_both_paths(path, monkeypatch)
        assert fast == slow, path.name


def test_lines_without_a_goal_are_listed_as_the_per_line_path_lists_them(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # No budget category: the overall kind, for which the defaults hold no target. D is also overspent (judged
    # one by one), E has an error value in its commitments: neither path lists it.
    act = {"budget_source": "พ.ร.บ.งบประมาณ"}
    rows = [disb("total", "T", **act), disb("part", "A", "T", "1000", "10", "0", **act),
            disb("part", "D", "T", "1000", "1000", "5", **act), disb("part", "B", "T", "1000", "900", "0", **act),
            disb("part", "E", "T", "1000", "10", "0", **act)]
    path = build(tmp_path / "no_goal.xlsx", "disbursement", {"lines": rows})
    lines = Table("disbursement", "lines", rows)
    set_cell_xml(path, lines.sheet, lines.at("committed", "E"), "<v>#REF!</v>", "e")
    fast, slow = _variance_both_paths(path, monkeypatch)
    assert fast == slow
    listed = [f for f in fast[0] if f["rule"] == "variance.no_target"]
    assert len(listed) == 1 and "4 บรรทัด" in listed[0]["message_th"]
    assert "'รายการ T', 'รายการ A', 'รายการ D'" in listed[0]["message_th"]


def _plain(result: FileResult) -> tuple[Any, ...]:
    return (result.path, result.template, result.version, result.unreadable,
            [f.model_dump() for f in result.findings])


def test_validate_and_recalc_read_the_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (path,) = generate(tmp_path / "gen", 1, seed=2, error_rate=1.0, templates=("disbursement",))
    apart = [*check_file(path, load_settings()), recalc_result(path, tmp_path / "apart.xlsx")]
    reads: list[Path] = []

    def counted(p: Path | str) -> Any:
        reads.append(Path(p))
        return read_workbooks(p)

    monkeypatch.setattr(check_module, "read_workbooks", counted)
    together = check_and_recalc(path, tmp_path / "together.xlsx", load_settings())
    assert reads == [path]
    assert [_plain(r) for r in together] == [_plain(r) for r in apart]
    assert sum(len(r.findings) for r in together) > 0
    assert read_workbook(tmp_path / "together.xlsx").blocks["lines"].rows == \
        read_workbook(tmp_path / "apart.xlsx").blocks["lines"].rows


def test_an_unreadable_file_gives_one_result_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    (result,) = check_and_recalc(bad, tmp_path / "out.xlsx", load_settings())
    assert result.unreadable
    assert not (tmp_path / "out.xlsx").exists()


AMOUNTS = [None, "", "  ", 0.0, -0.0, 0.01, -0.01, 1000.0, 1234.5, 0.125, 1e16, 338500.0, 12.345678912, "1,234 บาท",
           "๑๒๓", "x", True, 7, -250.75, 1e300, dt.date(2021, 6, 30)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(*[st.sampled_from(AMOUNTS) | st.floats(-1e13, 1e13) for _ in range(3)]), min_size=1,
                max_size=30))
def test_worksheet_functions_by_column_equal_cell_by_cell(rows: list[tuple[Any, Any, Any]]) -> None:
    a, d, c = ([[row[k]] for row in rows] for k in range(3))
    years, days = [[2564.0]] * len(rows), [[dt.date(2021, 6, 30)]] * len(rows)
    # A source and category a configured target applies to, so that rows are judged, not passed over.
    sources, categories = [["พ.ร.บ.งบประมาณ"]] * len(rows), [["งบดำเนินงาน"]] * len(rows)
    cases = [(udfs.OSMEP_PERCENT, udfs._percent, (d, a)),
             (udfs.OSMEP_REMAINING, udfs._remaining, (a, d, c)),
             (udfs.OSMEP_DISBURSEMENT_FLAG, udfs._disbursement_flag,
              (years, days, a, d, c, None, None, sources, categories))]
    for function, cell, args in cases:
        # repr: -0.0 is not 0.0 here, as it is not in the Decimal each cell computes
        assert [repr(v) for v in function(*args)] == [repr(v) for v in udfs.vectorize(cell, *args)], function


def _same_columns(kept: BlockColumns | None, derived: BlockColumns | None) -> bool:
    """Two evaluations of a block equal field by field (NaN equal to NaN)."""
    if kept is None or derived is None:
        return kept is derived
    assert kept.columns.keys() == derived.columns.keys()
    for cid, a in kept.columns.items():
        b = derived.columns[cid]
        for name in ("stored", "typed", "formula", "exact", "hundredths", "value", "known", "computed",
                     "computed_known", "double"):
            assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), (cid, name)
    return all(np.array_equal(kept.computable[c], derived.computable[c]) for c in kept.computable)


def test_the_doubles_the_reader_keeps_evaluate_as_the_cells_they_came_from(tmp_path: Path) -> None:
    """A block evaluated from the doubles the reader took out as it typed each column, and from its cells as
    before: a text number, an error cell, a blank row between lines, minus zero, Excel's noise, a huge
    figure, a figure of a roll-forward blanked in the rows after the read (the rows hold, not the cells)."""
    clean, lines, name = _small_block(tmp_path)
    edges = {"text": (lines.at("allocated", "P1"), "<is><t>1,000 บาท</t></is>", "inlineStr"),
             "error": (lines.at("disbursed", "P2"), "<f>1/0</f><v>#DIV/0!</v>", "e"),
             "minus zero": (lines.at("committed", "P2"), "<v>-0</v>", None),
             "huge": (lines.at("committed", "P3"), "<v>1e16</v>", None)}
    variants = [clean, *(set_cell_xml(clean, name, ref, body, kind, out=tmp_path / f"{edge}.xlsx")
                         for edge, (ref, body, kind) in edges.items())]
    variants.append(set_cached_value(clean, name, lines.at("allocated", "T"), "4300.7500000000009",
                                     out=tmp_path / "noise.xlsx"))  # Excel's binary noise in a roll-up's cache
    variants.append(set_cells(clean, name, {lines.at(c.id, "P2"): None for c in lines.block.columns},
                              out=tmp_path / "blank row.xlsx"))
    generated = generate(tmp_path / "gen", len(BUILDERS), seed=11, error_rate=1.0)
    compared = 0
    for source in [*variants, *generated]:
        for wb in read_workbooks(source):
            context = Context(wb, load_settings())
            for bid, rb in wb.blocks.items():
                assert isinstance(rb.raw_columns, StoredDoubles)
                structure = context.calcs[bid].structure
                for blanked in (False, True):
                    if blanked and rb.rows:  # as a roll-forward blanks a period's entries
                        for i in range(0, len(rb.rows), 2):
                            for cid in rb.block.column_ids[::3]:
                                rb.rows.set(i, cid, None)
                    kept = evaluate_columns(rb.block, rb.rows, rb.raw_columns, rb.formula_text, structure)
                    derived = evaluate_columns(rb.block, rb.rows, dict(rb.raw_columns), rb.formula_text, structure)
                    assert _same_columns(kept, derived), (source.name, bid, blanked)
                    for cid, column in (kept.columns if kept else {}).items():  # each cell's own, as read
                        assert column.typed.tolist() == [row.get(cid) is not None for row in rb.rows]
                        assert np.array_equal(column.stored, stored_doubles(rb.raw_columns.get(cid, [None] * len(
                            rb.rows))), equal_nan=True)
                    compared += kept is not None
    assert compared >= len(variants) - 2 + len(BUILDERS)  # evaluated, bar the text and the huge figure


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(raw_cells, st.integers(min_value=-(2**70), max_value=2**70), st.just(float("nan"))),
                max_size=16))
def test_stored_doubles_are_each_cell_s_double(values: list[Any]) -> None:
    """From the floats taken out or from the cells alone, as each cell's own: float, int (not bool), else NaN."""
    one = np.array([v if type(v) is float else float(v) if type(v) is int else math.nan for v in values],
                   np.float64)
    assert np.array_equal(stored_doubles(values), one, equal_nan=True)
    assert np.array_equal(stored_doubles(values, float_cells(values)), one, equal_nan=True)
