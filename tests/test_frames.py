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
