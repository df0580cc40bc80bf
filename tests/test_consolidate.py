"""`osmep-xl consolidate`: submissions of one template from several agencies merged into one workbook
of the same template whose grand totals are the sums of the submitters' totals and whose roll-ups,
formulas and findings are the submissions' own."""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from bench.generate import AGENCIES, BUILDERS, generate, submission
from osmep_xl.a1 import parse_a1
from osmep_xl.check import check_file
from osmep_xl.consolidate import (
    FINDINGS_SHEET,
    GRAND_CODE,
    SUBMITTER_LEVEL,
    ConsolidateError,
    consolidate,
    file_names,
    read_submissions,
    submitter_key,
    write_consolidated,
)
from osmep_xl.findings import Severity
from osmep_xl.model.evaluate import BlockCalc, group_key
from osmep_xl.rules.config import load_settings
from osmep_xl.spec import get_spec
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.read import ReadWorkbook, read_workbook
from tests.libreoffice import convert, strip_cached_values

SETTINGS = load_settings()
SATANG = Decimal("0.005")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real `osmep-xl consolidate`, run as users run it (``python -m osmep_xl`` is the osmep-xl script)."""
    return subprocess.run([sys.executable, "-m", "osmep_xl", "consolidate", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200"})


def submissions(folder: Path, template: str, n: int = 3, seed: int = 3) -> list[Path]:
    """``n`` agencies' submissions (the second with mistakes) and a second one from the first agency."""
    paths = list(generate(folder, n, seed=seed, error_rate=0.0, templates=(template,), small=True))
    rng = random.Random(seed)
    data, _ = submission(template, rng, agency=AGENCIES[1], error_rate=1.0, small=True)
    paths[1] = write_workbook(data, paths[1])
    again, _ = submission(template, rng, agency=AGENCIES[0], small=True)
    paths.append(write_workbook(again, folder / "resubmitted.xlsx"))
    return paths


def shown_totals(workbook: ReadWorkbook, block_id: str) -> dict[tuple[Any, ...], dict[str, Decimal]]:
    """Per group, what Excel shows in each roll-up column of the submission's total row(s), added up."""
    rb = workbook.blocks[block_id]
    calc = BlockCalc(rb.block, rb.rows, formula_cells=rb.formula_cells)
    out: dict[tuple[Any, ...], dict[str, Decimal]] = {}
    for i, row in enumerate(rb.rows):
        if row["level"] == rb.block.levels[0].id and i not in calc.structure.parent:
            sums = out.setdefault(group_key(rb.block, row), {})
            for col in rb.block.columns:
                if col.rollup and isinstance(value := calc.cell(i, col.id).value, Decimal):
                    sums[col.id] = sums.get(col.id, Decimal(0)) + value
    return out


def error_rules(findings: Any) -> Counter[str]:
    return Counter(f.rule for f in findings if f.severity is Severity.ERROR)


@pytest.mark.parametrize("template", list(BUILDERS))
def test_totals_add_up_and_each_submissions_errors_survive(template: str, tmp_path: Path) -> None:
    paths = submissions(tmp_path / "in", template)
    out = tmp_path / "all.xlsx"
    result = consolidate(template, paths, out, SETTINGS)
    assert [s.key for s in result.submissions] == ["สสว.", "กสอ.", "พค.", "สสว.#2"]
    merged = read_workbook(out)
    singles = [read_workbook(p) for p in paths]
    spec = get_spec(template)
    for block in spec.blocks:
        rows = merged.blocks[block.id].rows
        if not block.hierarchical:  # concatenated, every code prefixed with its submitter
            assert len(rows) == sum(len(s.blocks[block.id].rows) for s in singles)
            assert all(str(r["code"]).split("/")[0] in {s.key for s in result.submissions} for r in rows)
            continue
        expected: dict[tuple[Any, ...], dict[str, Decimal]] = {}
        for single in singles:
            for group, sums in shown_totals(single, block.id).items():
                for column, value in sums.items():
                    expected.setdefault(group, {})[column] = expected.get(group, {}).get(column, Decimal(0)) + value
        assert result.totals[block.id] == {g: {c: expected[g].get(c, Decimal(0)) for c in result.totals[block.id][g]}
                                           for g in expected}
        grand = {group_key(block, r): r for r in rows if r["code"] == GRAND_CODE}
        assert set(grand) == set(expected)
        for group, sums in expected.items():
            for column, value in sums.items():  # the workbook's cached values, written as doubles
                assert abs(grand[group][column] - value) < SATANG, (group, column)
        assert len(rows) == sum(len(s.blocks[block.id].rows) for s in singles) + len(grand)
    # The submitters' rows report exactly the submissions' errors, and nothing new. A grand total can only
    # disagree with the other table's (link.mismatch) when a submission's totals already do.
    grand_rows = {(rb.sheet, rb.sheet_rows[i] + 1) for rb in merged.blocks.values()
                  for i, r in enumerate(rb.rows) if r["code"] == GRAND_CODE}
    findings = check_file(out, SETTINGS)[0].findings
    at_grand = [f for f in findings if (f.sheet, parse_a1(f.cell)[0] + 1) in grand_rows]
    submitted = sum((error_rules(s.result.findings) for s in result.submissions), Counter())
    assert error_rules(f for f in findings if f not in at_grand) == submitted
    assert set(error_rules(at_grand)) <= ({"link.mismatch"} if submitted["link.mismatch"] else set())
    assert error_rules(result.submissions[1].result.findings), "the second submission carries mistakes"


def test_the_grand_total_is_a_true_roll_up_of_submitters(tmp_path: Path) -> None:
    """The spec's ``submitter`` level sits after ``total``: submitters roll up into the grand total."""
    paths = submissions(tmp_path / "in", "disbursement")
    out = tmp_path / "all.xlsx"
    result = consolidate("disbursement", paths, out, SETTINGS)
    rb = read_workbook(out).blocks["lines"]
    calc = BlockCalc(rb.block, rb.rows, formula_cells=rb.formula_cells)
    for i, row in enumerate(rb.rows):
        if row["code"] == GRAND_CODE:
            kids = calc.structure.children[i]
            assert {rb.rows[k]["level"] for k in kids} == {SUBMITTER_LEVEL} and len(kids) == 4
            assert (i, "allocated") in rb.formula_cells  # the writer's own roll-up formula
            for column, value in result.totals["lines"][group_key(rb.block, row)].items():
                assert abs(calc.cell(i, column).value - value) < SATANG
    findings = check_file(out, SETTINGS)[0].findings
    assert error_rules(findings) == sum((error_rules(s.result.findings) for s in result.submissions), Counter())
    assert FINDINGS_SHEET in CalamineWorkbook.from_path(str(out)).sheet_names


def test_findings_sheet_lists_every_submission_and_finding(tmp_path: Path) -> None:
    paths = submissions(tmp_path / "in", "disbursement")
    kpi = generate(tmp_path / "other", 1, templates=("kpi",), small=True)
    broken = tmp_path / "in" / "broken.xlsx"
    broken.write_bytes(paths[0].read_bytes()[:2000])
    late, _ = submission("disbursement", random.Random(9), agency="หน่วยงานส่งช้า", small=True)
    late.meta["as_of"] = dt.date(2021, 7, 31)
    inputs = [*paths, *kpi, broken, write_workbook(late, tmp_path / "in" / "late.xlsx")]
    result = consolidate("disbursement", inputs, tmp_path / "all.xlsx", SETTINGS)
    skipped = {s.path.name: s.result.unreadable for s in result.submissions if not s.merged}
    assert set(skipped) == {"sub0000_kpi.xlsx", "broken.xlsx"}
    assert "not disbursement" in str(skipped["sub0000_kpi.xlsx"])
    [note] = result.notes
    assert note.rule == "consolidate.meta_differs" and "2021-07-31" in str(note.actual)
    sheet = CalamineWorkbook.from_path(str(tmp_path / "all.xlsx")).get_sheet_by_name(FINDINGS_SHEET).to_python()
    lines = [[str(c) for c in line] for line in sheet]
    for sub in result.submissions:
        [summary] = [line for line in lines if line[2:3] == [str(sub.path)]]
        status = "ข้าม / skipped" if not sub.merged else "รวมแล้ว / merged"
        assert summary[3] == status and (not sub.result.unreadable or summary[7] == sub.result.unreadable)
        name = file_names(result.submissions)[sub.path]
        listed = Counter((line[3], line[4], line[5]) for line in lines if line[1:2] == [name])
        assert listed == Counter((f.sheet, f.cell, f.rule) for f in sub.result.findings)
        assert sub.result == check_file(sub.path, SETTINGS)[0] or not sub.merged
    assert any(line[5] == "consolidate.meta_differs" for line in lines)


def test_cli_exit_codes_and_output(tmp_path: Path) -> None:
    paths = submissions(tmp_path / "in", "disbursement")
    clean = [p for p in paths if not check_file(p, SETTINGS)[0].errors]
    out = tmp_path / "all.xlsx"
    result = cli("disbursement", *map(str, clean), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "ยอดรวม / total" in result.stdout and out.exists()
    assert f"{len(clean)} submitters merged" in result.stdout
    assert read_workbook(out).meta["agency"].startswith(f"รวม {len(clean)} หน่วยงาน")
    again = cli("disbursement", *map(str, clean), "-o", str(out))
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    (tmp_path / "in" / "notes.xlsx").write_text("not a workbook", "utf-8")
    folder = cli(str(tmp_path / "in" / "sub0000_disbursement.xlsx"), str(tmp_path / "in"), "-o", str(out),
                 "--force")
    assert folder.returncode == 2 and "notes.xlsx" in folder.stdout  # skipped, reported, the rest merged
    assert read_workbook(out).meta["agency"].startswith("รวม 4 หน่วยงาน")
    assert cli("nosuch", str(tmp_path / "in"), "-o", str(out), "--force").returncode == 2


def test_nothing_to_merge_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_text("x", "utf-8")
    subs = read_submissions("kpi", [bad], SETTINGS)
    with pytest.raises(ConsolidateError):
        write_consolidated("kpi", subs, tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_submitter_keys_are_short_and_unique() -> None:
    taken: set[str] = set()
    assert submitter_key("กรมส่งเสริมอุตสาหกรรม (กสอ.)", taken) == "กสอ."
    assert submitter_key("กรมส่งเสริมอุตสาหกรรม (กสอ.)", taken) == "กสอ.#2"
    assert submitter_key("หน่วยงาน  ก/ข", taken) == "หน่วยงาน ก-ข"
    assert submitter_key("ALL", taken) == "ALL#2"


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_consolidated_workbook_to_the_same_totals(tmp_path: Path) -> None:
    paths = submissions(tmp_path / "in", "disbursement")
    out = tmp_path / "all.xlsx"
    result = consolidate("disbursement", paths, out, SETTINGS)
    stripped = tmp_path / "stripped" / "all.xlsx"
    stripped.parent.mkdir()
    assert strip_cached_values(out, stripped) > 0
    [recalculated] = convert([stripped], tmp_path / "lo")
    ours, theirs = read_workbook(out).blocks["lines"], read_workbook(recalculated).blocks["lines"]
    assert [r["code"] for r in theirs.rows] == [r["code"] for r in ours.rows]
    for group, sums in result.totals["lines"].items():
        [grand] = [r for r in theirs.rows if r["code"] == GRAND_CODE and group_key(theirs.block, r) == group]
        for column, value in sums.items():
            assert abs(grand[column] - value) < SATANG, (group, column, grand[column], value)
    for mine, lo in zip(ours.rows, theirs.rows, strict=True):  # every formula, not only the grand totals
        for column in ("allocated", "disbursed", "committed", "total", "remaining", "pct_total"):
            if isinstance(mine[column], Decimal):
                assert abs(mine[column] - lo[column]) < SATANG, (mine["code"], column)
