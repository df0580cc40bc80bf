"""The pandas views hold exactly the workbook's figures and the run's findings."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from osmep_xl.check import check_file
from osmep_xl.data import load_report
from osmep_xl.frames import findings_frame, read_frames
from osmep_xl.report import FileResult
from osmep_xl.rules.config import load_settings
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.layout import FIRST_DATA_ROW
from tests.cells import address, find_row


def test_tables_as_frames_keep_decimals(tmp_path: Path) -> None:
    data = load_report("disbursement")
    path = write_workbook(data, tmp_path / "d.xlsx")
    frame = read_frames(path)["disbursement.lines"]
    rows = data.blocks["lines"]
    assert len(frame) == len(rows) and frame["cell_row"].iloc[0] == FIRST_DATA_ROW + 1
    leaves = frame[frame["level"] == "strategy"]
    expected = sum((r["allocated"] for r in rows if r["level"] == "strategy"), Decimal(0))
    assert leaves["allocated"].sum() == expected and isinstance(leaves["allocated"].sum(), Decimal)


def test_findings_frame(tmp_path: Path) -> None:
    path = write_workbook(load_report("disbursement"), tmp_path / "d.xlsx")
    results = check_file(path, load_settings())
    frame = findings_frame([*results, FileResult(path=tmp_path / "x.xlsx", unreadable="broken")])
    assert len(frame) == sum(len(r.findings) for r in results) + 1
    rows = frame[frame["rule"] != "file.unreadable"]
    expected = [(f.rule, f.severity.value, f.sheet, f.cell) for r in results for f in r.findings]
    assert list(zip(rows["rule"], rows["severity"], rows["sheet"], rows["cell"], strict=True)) == expected
    assert frame.iloc[-1]["rule"] == "file.unreadable" and frame.iloc[-1]["message_en"] == "broken"


def test_findings_frame_carries_cause_and_candidates(tmp_path: Path) -> None:
    """A typo's consequences name their cause, and an ambiguous cause lists its candidates, in the frame too."""
    from bench.faults import values_only
    from osmep_xl.xlsx.patch import WorkbookPatch
    from osmep_xl.xlsx.read import read_workbook

    base = values_only(write_workbook(load_report("disbursement"), tmp_path / "src.xlsx"), tmp_path / "v.xlsx")
    rb = read_workbook(base).blocks["lines"]
    cell = address(rb, "allocated", "4", level="strategy", fiscal_year=2564)
    patch = WorkbookPatch(base)
    patch.set_cell(rb.sheet, cell, rb.rows[find_row(rb.rows, "4", "strategy", fiscal_year=2564)]["allocated"] * 10)
    results = check_file(patch.save(tmp_path / "typo.xlsx"), load_settings())
    frame = findings_frame(results)
    assert {"cause", "candidates"} <= set(frame.columns)
    found = [f for r in results for f in r.findings]
    assert list(frame["cause"].fillna("")) == [f.cause or "" for f in found]  # pandas shows None as NaN
    assert [c if isinstance(c, tuple) else None for c in frame["candidates"]] == [f.candidates for f in found]
    where = f"{rb.sheet}!{cell}"
    assert (frame["cause"] == where).sum() >= 2 and frame[frame["cause"].isna()]["cell"].tolist().count(cell) == 1

    # an ambiguous cause: the demo's printed figures, two of them over projects any of which would do
    demo = findings_frame(check_file(write_workbook(load_report("action_plan"), tmp_path / "a.xlsx"),
                                     load_settings()))
    listed = demo[demo["candidates"].notna()]
    assert len(listed) >= 1 and all(isinstance(c, tuple) and len(c) > 1 for c in listed["candidates"])
