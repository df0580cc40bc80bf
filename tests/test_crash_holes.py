"""Crash holes and small defects met on real-world input: a cell python-calamine panics on, a batch that
must never hang on one file, the order of --annotate's checks, --previous of another template, a workbook
with the wrong extension, text-stored numbers left by recalc, the console on a pipe, the VBA class header,
and sheet names quoted in every defined name."""

from __future__ import annotations

import io
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from rich.console import Console
from typer.testing import CliRunner

from osmep_xl import batch
from osmep_xl.batch import Task, run_batch
from osmep_xl.check import check_file, recalc_result
from osmep_xl.cli import app
from osmep_xl.data import load_report
from osmep_xl.excel.vba import VbaModule, build_vba_project
from osmep_xl.excel.workbook import xlwings_dictionary
from osmep_xl.report import FileResult, print_results
from osmep_xl.rules.catalog import RULES
from osmep_xl.rules.config import load_settings
from osmep_xl.spec import TEMPLATES
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.patch import WorkbookPatch
from osmep_xl.xlsx.read import read_workbook, read_workbooks
from osmep_xl.xlsx.source import UnreadableWorkbookError

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = load_settings()
NO_COLUMNS = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, its output piped (not a terminal)."""
    return subprocess.run([sys.executable, "-m", "osmep_xl", *args], capture_output=True, text=True,
                          timeout=timeout, env=NO_COLUMNS)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": None, "LINES": None})


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("books")
    return {t: write_workbook(load_report(t), out / f"{t}.xlsx") for t in TEMPLATES}


def panicking(src: Path, out: Path) -> Path:
    """``src`` with -1e12 in its date-formatted as-of cell: python-calamine panics converting it to a date."""
    import openpyxl

    sheet, cell = read_workbook(src).meta_cells["as_of"]
    book = openpyxl.load_workbook(src)
    book[sheet][cell].value = -1e12
    assert "yy" in book[sheet][cell].number_format  # still a date cell
    book.save(out)
    return out


# --- 1. python-calamine's PanicException; a batch never hangs on one file ------------------------------------


def test_a_calamine_panic_is_an_unreadable_workbook(books: dict[str, Path], tmp_path: Path) -> None:
    bad = panicking(books["kpi"], tmp_path / "bad.xlsx")
    with pytest.raises(UnreadableWorkbookError, match="ข้อมูล") as caught:
        read_workbooks(bad)
    assert "\n" not in str(caught.value)
    [result] = check_file(bad, SETTINGS)
    assert result.unreadable is not None and "bad.xlsx" in result.unreadable


def test_validate_of_a_panicking_file_is_one_line_not_a_traceback(books: dict[str, Path], tmp_path: Path) -> None:
    bad = panicking(books["kpi"], tmp_path / "bad.xlsx")
    result = run("validate", str(bad))
    assert result.returncode == 2
    out = result.stdout + result.stderr
    assert "Traceback" not in out and "panicked" not in out and "PanicException" not in out
    assert "unreadable" in result.stdout


def test_batch_finishes_with_a_panicking_file(books: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    panicking(books["kpi"], folder / "bad.xlsx")
    shutil.copy(books["kpi"], folder / "good.xlsx")
    result = run("batch", "validate", str(folder), "-j", "2", "--timeout", "60", timeout=90)
    assert result.returncode == 2, result.stderr
    assert "unreadable 1" in result.stdout and "bad.xlsx" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


class FakePanic(BaseException):
    """Like pyo3's PanicException: not an Exception."""


@pytest.fixture
def misbehaving(books: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Files whose check hangs, kills its process, or raises a BaseException, around two good ones."""
    real = batch.check_file

    def check(path: Path, settings: Any, previous: Any = None) -> list[FileResult]:
        if path.stem == "hang":
            while True:
                time.sleep(0.05)
        if path.stem == "crash":
            os._exit(3)
        if path.stem == "panic":
            raise FakePanic("out of bounds")
        return real(path, settings)

    monkeypatch.setattr(batch, "check_file", check)
    paths = []
    for name in ("a", "hang", "crash", "panic", "b"):
        paths.append(tmp_path / f"{name}.xlsx")
        shutil.copy(books["kpi"], paths[-1])
    yield paths


def test_pool_reports_timeouts_and_crashes_and_goes_on(misbehaving: list[Path]) -> None:
    if multiprocessing.get_start_method() != "fork":
        pytest.skip("the patched check reaches the workers only when they are forked")
    started = time.monotonic()
    done: list[int] = []
    results = run_batch(misbehaving, Task("validate", SETTINGS), jobs=2, timeout=2, progress=done.append)
    assert time.monotonic() - started < 60
    assert [r.path for r in results] == misbehaving and sum(done) == len(misbehaving)
    by_name = {r.path.stem: r for r in results}
    assert [by_name["a"]] == check_file(misbehaving[0], SETTINGS)
    assert not by_name["b"].unreadable and by_name["b"].template == "kpi"
    assert "timed out after 2 s" in (by_name["hang"].unreadable or "")
    assert "crashed" in (by_name["crash"].unreadable or "")
    assert "FakePanic" in (by_name["panic"].unreadable or "")


def test_in_process_run_times_out_too(misbehaving: list[Path]) -> None:
    paths = [p for p in misbehaving if p.stem != "crash"]  # os._exit would end pytest itself
    results = run_batch(paths, Task("validate", SETTINGS), jobs=1, timeout=1)
    by_name = {r.path.stem: r for r in results}
    assert "timed out after 1 s" in (by_name["hang"].unreadable or "")
    assert "FakePanic" in (by_name["panic"].unreadable or "")
    assert by_name["a"].template == by_name["b"].template == "kpi"


def test_timeout_option_is_checked(tmp_path: Path) -> None:
    result = invoke("batch", "validate", str(tmp_path), "--timeout", "0")
    assert result.exit_code == 2 and "--timeout" in result.output and "No such option" not in result.output


# --- 2. --annotate: its output is checked before anything is validated or printed ----------------------------


def test_annotate_onto_an_existing_file_refuses_before_printing(books: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"keep")
    result = invoke("validate", str(books["disbursement"]), "--annotate", str(out))
    assert result.exit_code == 2 and "--force" in result.output
    assert "summary" not in result.output and "sheet:" not in result.output
    assert out.read_bytes() == b"keep"


def test_annotate_onto_its_input_is_one_message_with_or_without_force(books: dict[str, Path],
                                                                      tmp_path: Path) -> None:
    src = shutil.copy(books["kpi"], tmp_path / "in.xlsx")
    outputs = [invoke("validate", str(src), "--annotate", str(src), *force).output for force in ((), ("--force",))]
    assert outputs[0] == outputs[1]
    assert "must name a new file" in outputs[0] and "summary" not in outputs[0]
    assert outputs[0].strip().count("\n") == 0


def test_annotate_into_a_missing_folder_names_the_folder(books: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "nosuch"
    result = invoke("validate", str(books["kpi"]), "--annotate", str(missing / "out.xlsx"))
    assert result.exit_code == 2
    assert str(missing) in result.output and ".tmp" not in result.output and "summary" not in result.output
    assert result.output.strip().count("\n") == 0


# --- 3. --previous ---------------------------------------------------------------------------------------------


def test_previous_of_another_template_is_refused(books: dict[str, Path]) -> None:
    result = invoke("validate", str(books["disbursement"]), "--previous", str(books["kpi"]))
    assert result.exit_code == 2
    assert "previous" in result.output and "kpi" in result.output and "summary" not in result.output
    assert result.output.strip().count("\n") == 0


def test_a_missing_previous_file_is_named_as_such(books: dict[str, Path], tmp_path: Path) -> None:
    result = invoke("validate", str(books["kpi"]), "--previous", str(tmp_path / "nosuch.xlsx"))
    assert result.exit_code == 2
    assert "previous-quarter file" in result.output and "nosuch.xlsx" in result.output
    assert "unreadable" not in result.output and "summary" not in result.output


def test_previous_of_the_same_template_still_compares(books: dict[str, Path]) -> None:
    [result] = check_file(books["kpi"], SETTINGS, books["kpi"])
    assert not result.unreadable


# --- 4. the file's bytes, not its extension, say what it is ----------------------------------------------------


def test_an_xlsx_named_xls_is_read(books: dict[str, Path], tmp_path: Path) -> None:
    renamed = shutil.copy(books["kpi"], tmp_path / "k.xls")
    [result] = check_file(renamed, SETTINGS)
    assert result.unreadable is None and result.template == "kpi"
    assert result == replace(check_file(books["kpi"], SETTINGS)[0], path=renamed)


def test_ole2_files_and_xlsb_packages_are_refused_by_content(books: dict[str, Path], tmp_path: Path) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048)
    (tmp_path / "old.xls").write_bytes(ole)
    (tmp_path / "old.xlsx").write_bytes(ole)
    with zipfile.ZipFile(tmp_path / "binary.xlsx", "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\0" * 16)
    reasons = {name: check_file(tmp_path / name, SETTINGS)[0].unreadable or "" for name in
               ("old.xls", "old.xlsx", "binary.xlsx")}
    assert "legacy" in reasons["old.xls"] and "legacy" in reasons["old.xlsx"]
    assert ".xlsb" in reasons["binary.xlsx"]


# --- 5. recalc lists the numbers still stored as text ---------------------------------------------------------


def test_recalc_lists_numbers_left_stored_as_text(books: dict[str, Path], tmp_path: Path) -> None:
    rb = read_workbook(books["disbursement"]).blocks["lines"]
    i = next(i for i, row in enumerate(rb.rows) if row["level"] == "project" and row["disbursed"])
    cell = rb.address(i, "disbursed")
    patch = WorkbookPatch(books["disbursement"])
    patch.set_cell(rb.sheet, cell, str(rb.rows[i]["disbursed"]))
    src = patch.save(tmp_path / "text.xlsx")
    result = recalc_result(src, tmp_path / "fixed.xlsx")
    [left] = [f for f in result.findings if f.rule == "cell.number_as_text"]
    assert (left.sheet, left.cell, left.severity.value) == (rb.sheet, cell, "warning")
    output = invoke("recalc", str(src), "-o", str(tmp_path / "fixed2.xlsx")).output
    assert "cell.number_as_text" in output and cell in output
    changed = sum(f.rule == "recalc.changed" for f in result.findings)
    assert f"{changed} stated values changed" in output


# --- 6. the console header of an unreadable file ---------------------------------------------------------------


def test_unreadable_header_names_the_file_and_the_reason() -> None:
    out = io.StringIO()
    print_results([FileResult(path=Path("x/k.xls"), unreadable="ไม่ใช่ไฟล์ / not a zip package: x/k.xls")],
                  Console(file=out, width=200))
    text = out.getvalue()
    header = text.splitlines()[0]
    assert "?" not in text and "k.xls" in header and "unreadable" in header
    assert "not a zip package" in text


# --- 7. piped output is not wrapped ----------------------------------------------------------------------------


def test_piped_output_keeps_long_thai_lines_whole(books: dict[str, Path]) -> None:
    result = invoke("validate", str(books["disbursement"]), "--all")
    lines = {line.strip() for line in result.output.splitlines()}
    findings = check_file(books["disbursement"], SETTINGS)[0].findings
    long = [f for f in findings if len(f.message_th) > 100]
    assert long and all(f.message_th in lines and f.message_en in lines for f in findings)


def test_piped_batch_summary_keeps_rule_lines_whole(books: dict[str, Path]) -> None:
    result = run("batch", "validate", str(books["disbursement"]), "-j", "1")
    lines = [line for line in result.stdout.splitlines() if "variance.disbursement_behind" in line]
    assert lines and RULES["variance.disbursement_behind"].en in lines[0] and "…" not in lines[0]


# --- 8. the VBA class module header is the one Excel writes -----------------------------------------------------

CLASS_HEADER = ['Attribute VB_Name = "{name}"',
                'Attribute VB_Base = "0{{FCFB3D2A-A0FA-1068-A738-08002B3371B5}}"',
                "Attribute VB_GlobalNameSpace = False", "Attribute VB_Creatable = False",
                "Attribute VB_PredeclaredId = False", "Attribute VB_Exposed = {exposed}",
                "Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False"]


def olevba_modules(path: Path) -> dict[str, str]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path), relaxed=False)
    try:
        return {name: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def header(code: str) -> list[str]:
    lines = code.replace("\r\n", "\n").split("\n")
    return [line for line in lines[: next(i for i, x in enumerate(lines) if not x.startswith("Attribute "))]]


def test_class_modules_have_excels_attribute_block(tmp_path: Path) -> None:
    project = tmp_path / "vbaProject.bin"
    project.write_bytes(build_vba_project([xlwings_dictionary(), VbaModule("Plain", "Private n As Long\n", "class")]))
    found = olevba_modules(project)
    dictionary = header(found["Dictionary.cls"])
    assert dictionary[:8] == [line.format(name="Dictionary", exposed="True") for line in CLASS_HEADER]
    assert [line.split(" = ")[0] for line in dictionary[8:]] == ["Attribute VB_Description"]
    assert header(found["Plain.cls"]) == [line.format(name="Plain", exposed="False") for line in CLASS_HEADER]
    checked_in = olevba_modules(ROOT / "workbook" / "osmep_xl.xlsm")
    assert header(checked_in["Dictionary.cls"]) == dictionary


# --- 9. every defined name quotes its sheet names ---------------------------------------------------------------

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def defined_names(path: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(path) as zf:
        root = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    return [(n.get("name", ""), n.text or "") for n in root.iter(f"{NS}definedName")]


def unquoted_sheets(reference: str) -> list[str]:
    """Sheet names before a '!' that are not in quotes (Excel needs them quoted unless plain ASCII)."""
    parts = re.findall(r"('(?:[^']|'')+'|[^'!,=:\s]+)!", reference)
    return [p for p in parts if not p.startswith("'") and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", p)]


def test_every_defined_name_quotes_thai_sheet_names(books: dict[str, Path]) -> None:
    files = [*sorted((ROOT / "templates").glob("*.xlsx")), ROOT / "workbook" / "osmep_xl.xlsm", *books.values()]
    seen = set()
    for path in files:
        for name, reference in defined_names(path):
            seen.add(name)
            assert not unquoted_sheets(reference), (path.name, name, reference)
    assert "_xlnm.Print_Titles" in seen and "_xlnm.Print_Area" in seen
    titles = dict((n, r) for n, r in defined_names(books["integrated_plan"]) if n == "_xlnm.Print_Titles"
                  and r.startswith("'แนวทาง'!"))
    assert "'แนวทาง'!$4:$5" in titles["_xlnm.Print_Titles"]


# --- 10. README and packaging -----------------------------------------------------------------------------------


def test_readme_says_how_to_run_and_is_not_repeated() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert readme.count("What stands in for Excel in CI") == 1
    assert ".venv/bin/activate" in readme and ".venv/bin/osmep-xl" in readme
    assert "fonts-thai-tlwg" in readme


def test_licence_is_an_spdx_expression() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert project["project"]["license"] == "MIT"
    assert any(re.fullmatch(r"setuptools>=(\d+)", r) and int(r.split(">=")[1]) >= 77
               for r in project["build-system"]["requires"])
