"""What osmep_xl promises about users' files: lossless writes, clean refusals, no formula
injection, crash safety."""

from __future__ import annotations

import re
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from osmep_xl.check import annotate_file, check_file, recalc_file
from osmep_xl.data import load_report
from osmep_xl.model.workbook import WorkbookData
from osmep_xl.rules.config import load_settings
from osmep_xl.spec import get_spec
from osmep_xl.xlsx.generate import Formats, write_workbook
from osmep_xl.xlsx.layout import HEADER_TH_ROW
from osmep_xl.xlsx.read import read_workbook
from tests.cells import Table, address
from tests.corpus_helpers import vba_project, zip_parts
from tests.rule_cases import set_version

LINES = Table("disbursement", "lines")
DISB = LINES.sheet  # เบิกจ่าย


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "osmep_xl", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def _extras(book: xlsxwriter.Workbook, fmt: Formats) -> None:
    """A sheet of features openpyxl drops: chart, sparklines, x14 data bars, a note, a button."""
    ws = book.add_worksheet("กราฟ")
    for r in range(6):
        ws.write_row(r, 0, [r, r * 2, r * 3])
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "='กราฟ'!$B$1:$B$6"})
    ws.insert_chart("E2", chart)
    ws.add_sparkline("D1", {"range": "'กราฟ'!A1:C1"})
    ws.conditional_format("A1:A6", {"type": "data_bar", "bar_solid": True})
    ws.write_comment("A1", "หมายเหตุของผู้ใช้ / a user's note")
    ws.insert_button("G20", {"macro": "say_hello", "caption": "Hello"})


@pytest.fixture
def rich(tmp_path: Path) -> Path:
    """The disbursement demo workbook as a macro workbook with features of many kinds."""
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(vba_project())
    return write_workbook(load_report("disbursement"), tmp_path / "rich.xlsm", after=_extras, vba_project=vba)


def _changed_parts(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {name for name in before if after.get(name) != before[name]} | (set(after) - set(before))


ALLOWED = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml",
           "docProps/app.xml"}


def test_recalc_keeps_every_other_part(rich: Path, tmp_path: Path) -> None:
    original = rich.read_bytes()
    before = zip_parts(rich)
    out = tmp_path / "out.xlsm"
    changes = recalc_file(rich, out)
    assert changes, "the demo data has typed figures that recalculation changes"
    after = zip_parts(out)
    changed = _changed_parts(before, after)
    sheets = {n for n in changed if n.startswith("xl/worksheets/sheet")}
    assert changed - sheets - ALLOWED - {"xl/calcChain.xml"} == set()
    for name in ("xl/vbaProject.bin", "xl/charts/chart1.xml", "xl/comments1.xml", "xl/drawings/drawing1.xml"):
        assert after[name] == before[name], name
    assert sheets == {"xl/worksheets/sheet2.xml"}  # only the sheet whose cells changed
    back = read_workbook(out)
    rows = back.blocks["lines"]
    assert all((i, "total") in rows.formula_cells for i in range(len(rows.rows)) if rows.rows[i]["level"] == "total")
    assert rich.read_bytes() == original  # the input was never touched


def test_annotate_adds_and_keeps(rich: Path, tmp_path: Path) -> None:
    original = rich.read_bytes()
    (result,) = check_file(rich, load_settings())
    out = annotate_file(rich, result.findings, tmp_path / "checked.xlsm")
    assert rich.read_bytes() == original
    before, after = zip_parts(rich), zip_parts(out)
    for name in before:
        if name.startswith(("xl/vbaProject", "xl/charts/", "xl/drawings/drawing", "docProps/custom")):
            assert after[name] == before[name], name
    wb = openpyxl.load_workbook(out)
    assert "ผลตรวจสอบ" in wb.sheetnames
    assert wb["ผลตรวจสอบ"].max_row == len(result.findings) + 1


def _ole_file(path: Path) -> None:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))


def _with_part(src: Path, dst: Path, part: str, edit: Any) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            zout.writestr(item, edit(data) if item.filename == part else data)
    return dst


def _rename_part(path: Path, old: str, new: str) -> None:
    with zipfile.ZipFile(path) as zin:
        parts = [(new if i.filename == old else i.filename, zin.read(i)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts:
            zout.writestr(name, data)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return write_workbook(load_report("disbursement"), tmp_path / "demo.xlsx")


@pytest.mark.parametrize("case", ["xls", "xlsb", "encrypted", "not-zip", "truncated", "dtd", "unknown-template",
                                  "newer-version", "missing"])
def test_refusals_are_one_clear_line_and_touch_nothing(case: str, demo: Path, tmp_path: Path) -> None:
    path = tmp_path / "input.xlsx"
    if case == "xls":
        path = tmp_path / "old.xls"
        _ole_file(path)
    elif case == "xlsb":  # a binary workbook package: xl/workbook.bin, no workbook.xml (the name alone says nothing)
        path = tmp_path / "bin.xlsb"
        _with_part(demo, path, "xl/workbook.xml", lambda d: d)
        _rename_part(path, "xl/workbook.xml", "xl/workbook.bin")
    elif case == "encrypted":
        _ole_file(path)
    elif case == "not-zip":
        path.write_text("hello", "utf-8")
    elif case == "truncated":
        path.write_bytes(demo.read_bytes()[: len(demo.read_bytes()) // 2])
    elif case == "dtd":
        _with_part(demo, path, "xl/worksheets/sheet2.xml", lambda d: d.replace(
            b"?>", b'?><!DOCTYPE x [<!ENTITY big "boom">]>', 1))
    elif case == "unknown-template":
        _with_part(demo, path, "docProps/custom.xml", lambda d: d.replace(b">disbursement<", b">nosuch<"))
    elif case == "newer-version":  # a major version above the installed spec's
        set_version(demo, f"{int(get_spec('disbursement').version.split('.')[0]) + 1}.0", out=path)
    elif case == "missing":
        path = tmp_path / "nothing.xlsx"
    before = path.read_bytes() if path.exists() else None
    for args in (("validate", str(path)), ("recalc", str(path), "--in-place")):
        result = run(*args)
        assert result.returncode == 2, (case, args, result.stdout, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr
        if args[0] == "recalc":
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert (path.read_bytes() if path.exists() else None) == before
    assert not list(tmp_path.glob("*.bak*"))


def test_zip_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from osmep_xl.xlsx import safety

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", b"<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))
    monkeypatch.setattr(safety, "RATIO_CHECK_FROM", 1024 * 1024)
    with pytest.raises(safety.RefusedFileError, match="zip bomb"):
        safety.open_package(path).close()
    monkeypatch.setattr(safety, "MAX_UNCOMPRESSED", 1024)
    monkeypatch.setattr(safety, "RATIO_CHECK_FROM", 10**12)
    with pytest.raises(safety.RefusedFileError, match="zip bomb"):
        safety.open_package(path).close()


@pytest.mark.parametrize("case", ["open-in-excel", "read-only"])
def test_in_place_refusals(case: str, demo: Path) -> None:
    if case == "open-in-excel":
        demo.with_name("~$" + demo.name).write_bytes(b"owner")
    else:
        demo.chmod(stat.S_IRUSR | stat.S_IRGRP)
    before = demo.read_bytes()
    result = run("recalc", str(demo), "--in-place")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert ("Excel" if case == "open-in-excel" else "read-only") in result.stderr
    assert demo.read_bytes() == before


def test_bad_cells_are_findings_not_crashes(demo: Path, tmp_path: Path) -> None:
    rb = read_workbook(demo).blocks["lines"]

    def part(column: str, code: str) -> str:  # FY2564's parts A and P, the first lines under the total
        return address(rb, column, code, "part", fiscal_year=2564)

    wb = openpyxl.load_workbook(demo)
    ws = wb[DISB]
    ws[part("allocated", "A")] = "1,234 บาท"
    ws[part("disbursed", "A")] = "๑๒๓"
    ws[part("committed", "A")] = "#REF!"
    ws.merge_cells(f"{part('name', 'P')}:{part('disbursed', 'P')}")
    ws.append(LINES.line(fiscal_year=2564, budget_source="งบกลาง", level="project", code="X1", parent="T",
                         name="แถวเพิ่ม", allocated=10))  # an extra row below the block
    # swap two columns, headers and all: read by header, not by position
    note, source = LINES.col("note"), LINES.col("source")
    for row in ws.iter_rows(min_row=HEADER_TH_ROW + 1, max_row=ws.max_row):
        row[note].value, row[source].value = row[source].value, row[note].value
    path = tmp_path / "damaged.xlsx"
    wb.save(path)
    (result,) = check_file(path, load_settings())
    rules = {f.rule for f in result.findings}
    assert {"cell.formatted_number_text", "cell.thai_digits", "cell.error_value"} <= rules
    assert "structure.column_missing" not in rules
    assert result.unreadable is None


DANGEROUS = ["=1+1", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "=cmd|' /C calc'!A0",
             "=HYPERLINK(\"http://x\",\"y\")"]


def test_formula_injection_is_written_as_text(tmp_path: Path) -> None:
    rows = [{"fiscal_year": 2564, "budget_source": "งบกลาง", "level": "total", "code": "T", "name": "รวม"}]
    for n, text in enumerate(DANGEROUS, start=1):
        rows.append({"fiscal_year": 2564, "budget_source": "งบกลาง", "level": "project", "code": str(n),
                     "parent": "T", "name": text, "note": text, "allocated": "1"})
    data = WorkbookData.parse({"template": "disbursement", "meta": {"as_of": "2021-06-30"},
                               "blocks": {"lines": rows}})
    path = write_workbook(data, tmp_path / "inject.xlsx")
    xml = zip_parts(path)["xl/worksheets/sheet2.xml"]
    wb = openpyxl.load_workbook(path)
    ws = wb[DISB]
    stored = [t.strip() for t in DANGEROUS]  # surrounding white space is trimmed from text on input
    injected = LINES.with_rows(rows)
    for n, text in enumerate(stored, start=1):
        cell = ws[injected.at("name", str(n))]
        assert cell.data_type == "s" and cell.value == text
        assert cell.quotePrefix == text.startswith(("=", "+", "-", "@"))
    text_columns = f"(?:{LINES.letter('name')}|{LINES.letter('note')})".encode()  # no formula in either
    assert not re.search(rb'<c r="' + text_columns + rb'\d+"[^>]*>\s*<f>', xml)
    back = read_workbook(path).blocks["lines"]
    assert [r["name"] for r in back.rows[1:]] == stored
    assert not {(i, "name") for i in range(len(back.rows))} & back.formula_cells


# The killed process: `osmep-xl <args>` that stops at one point of its save and says so by creating a
# marker file, so that the kill lands exactly there: right after the n-th part of the new package went
# into the temp file, just before the temp file is renamed over the workbook, or just after.
KILL_DRIVER = """
import os, sys, time, zipfile
from pathlib import Path

stage, n, marker = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])


def stop():
    marker.write_text(stage)
    time.sleep(600)


if stage == "write":
    from osmep_xl.xlsx.parts import Package

    entries = Package.entries

    def counted(self):
        # The writer asks for the next part once it has written the one before (compressed anew or copied).
        for k, entry in enumerate(entries(self), 1):
            yield entry
            if k == n:
                stop()

    Package.entries = counted
else:
    replace = os.replace

    def paused_replace(src, dst):
        if stage == "before-replace":
            stop()
        replace(src, dst)
        if stage == "after-replace":
            stop()

    os.replace = paused_replace

from osmep_xl.cli import main

sys.argv = ["osmep-xl", *sys.argv[4:]]
main()
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
@pytest.mark.parametrize(("stage", "at"), [("write", "first"), ("write", "middle"), ("write", "last"),
                                           ("before-replace", None), ("after-replace", None)])
def test_sigkill_during_in_place_recalc_leaves_old_or_new(stage: str, at: str | None, demo: Path,
                                                          tmp_path: Path) -> None:
    """SIGKILL `recalc --in-place` inside its save: the file is always the original or the whole new one.

    The kill lands while the temp file is being written (after the first, a middle and the last part,
    before the zip is finished), once it is complete but not yet renamed, and after the rename.
    """
    original = demo.read_bytes()
    expected = tmp_path / "expected.xlsx"
    recalc_file(demo, expected)
    new = expected.read_bytes()
    assert new != original
    parts = len(zip_parts(expected))
    n = {"first": 1, "middle": parts // 2, "last": parts, None: 0}[at]
    marker = tmp_path / "paused"
    before = set(tmp_path.iterdir())
    proc = subprocess.Popen([sys.executable, "-c", KILL_DRIVER, stage, str(n), str(marker),
                             "recalc", str(demo), "--in-place", "--no-backup"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, f"recalc ended before its save reached {stage} {at}: {proc.stderr.read()!r}"
            assert time.monotonic() < deadline, "recalc never reached the kill point"
            time.sleep(0.02)
    finally:
        proc.kill()  # SIGKILL, unless it already ended
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL  # killed inside the save, not after it
    assert demo.read_bytes() == (new if stage == "after-replace" else original)
    assert read_workbook(demo).spec.id == "disbursement"  # and it opens
    # The new file was written beside the workbook, never into it. A killed process cannot remove its
    # temp file: it is hidden and never matches *.xlsx.
    temps = set(tmp_path.iterdir()) - before - {marker}
    assert all(p.name.startswith(".") and p.suffix == ".tmp" for p in temps), temps
    if stage == "after-replace":
        assert temps == set()  # renamed into place
    else:
        assert len(temps) == 1, f"no temp file beside the workbook while its new version was written: {temps}"
        if stage == "before-replace":
            assert temps.pop().read_bytes() == new  # complete before it replaced anything
