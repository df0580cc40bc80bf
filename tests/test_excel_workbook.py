"""The ready workbook osmep_xl.xlsm: its VBA modules, buttons, named cells and settings sheet."""

from __future__ import annotations

import ast
import importlib
import re
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlwings as xw
from typer.testing import CliRunner

from osmep_xl.cli import app
from osmep_xl.excel.front import (
    ACTIONS,
    CONF_SHEET,
    FRONT_SHEET,
    NAME_ACTION,
    NAME_ACTIONS,
    NAME_DATA_PATH,
    NAME_FILL_TEMPLATE,
    NAME_PREVIOUS_PATH,
    NAME_STATUS,
    RUN_SELECTED,
    RUN_SELECTED_COMMAND,
    UDF_MODULE,
)
from osmep_xl.excel.workbook import Interpreter, build_workbook, macro_modules, sheet_count, udf_wrapper_module
from osmep_xl.spec import TEMPLATES
from osmep_xl.xlsx.read import read_workbooks
from tests.libreoffice import convert

BUTTON_MACROS = {a.macro for a in ACTIONS} | {RUN_SELECTED.macro}
_VML_BUTTON = re.compile(r"<v:shape\b.*?</v:shape>", re.S)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workbook(tmp_path_factory.mktemp("wb") / "osmep_xl.xlsm",
                          interpreter=Interpreter(win=r"C:\Python311\python.exe"))


def body(code: str) -> str:
    """Module code without its Attribute header, with LF line ends: what a .bas file says below VB_Name."""
    lines = code.replace("\r\n", "\n").split("\n")
    while lines and lines[0].startswith("Attribute VB_"):
        lines.pop(0)
    return "\n".join(lines).rstrip("\n")


def modules(path: Path) -> dict[str, str]:
    """Module name -> code, as oletools' olevba extracts them from the file."""
    with warnings.catch_warnings():  # oletools still uses pyparsing's old names
        warnings.simplefilter("ignore", DeprecationWarning)
        from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def subs(code: str) -> set[str]:
    return set(re.findall(r"^\s*(?:Public\s+|Private\s+)?Sub\s+(\w+)\s*\(", code, re.M | re.I))


def test_every_module_is_there_with_exactly_its_source(built: Path) -> None:
    found = modules(built)
    expected = {
        "xlwings": (Path(xw.__file__).parent / "xlwings.bas").read_text("utf-8"),
        "xlwings_udfs": udf_wrapper_module().code,
        **{m.name: m.code for m in macro_modules()},
    }
    for name, code in expected.items():
        assert body(found[name]) == body(code), name
    # xlwings' Dictionary class (its VBA needs it on macOS) comes from the installed package too
    dictionary = (Path(xw.__file__).parent / "addin" / "Dictionary.cls").read_text("utf-8")
    assert body(found["Dictionary"]).strip() in dictionary.replace("\r\n", "\n")
    documents = {"ThisWorkbook", *(f"Sheet{n}" for n in range(1, sheet_count() + 1))}
    assert set(found) == set(expected) | documents | {"Dictionary"}
    assert all(code.isascii() for code in found.values())


def test_udf_wrappers_come_from_xlwings_generator(built: Path) -> None:
    code = modules(built)["xlwings_udfs"]
    from osmep_xl.excel import udfs

    names = sorted(n for n in udfs.__all__ if n.startswith("OSMEP_"))
    assert sorted(re.findall(r"^Function (\w+)\(", code, re.M)) == names
    call = f'XLPy.CallUDF("{UDF_MODULE}", "OSMEP_PERCENT", Array(part, whole), ThisWorkbook, Application.Caller)'
    assert call in code
    assert "Optional direction" in code  # optional arguments stay optional in Excel


def _buttons(path: Path) -> dict[str, str]:
    """Macro -> caption of every form-control button in the workbook's VML drawings."""
    out: dict[str, str] = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not name.endswith(".vml"):
                continue
            for shape in _VML_BUTTON.findall(zf.read(name).decode("utf-8")):
                macro = re.search(r"<x:FmlaMacro>(?:\[0\]!)?([^<]+)</x:FmlaMacro>", shape)
                caption = re.search(r"<v:textbox\b.*?<font\b[^>]*>(.*?)</font>", shape, re.S)
                if 'ObjectType="Button"' in shape and macro and caption:
                    out[macro.group(1)] = caption.group(1)
    return out


def test_every_button_is_bound_to_an_existing_sub(built: Path) -> None:
    buttons = _buttons(built)
    assert set(buttons) == BUTTON_MACROS
    defined = subs(modules(built)["osmep_buttons"])
    assert defined >= BUTTON_MACROS
    for action in (*ACTIONS, RUN_SELECTED):
        assert buttons[action.macro] == action.caption  # Thai above English


def _run_python_commands(code: str) -> dict[str, str]:
    """Sub -> the Python command it passes to RunPython."""
    out: dict[str, str] = {}
    for sub, block in re.findall(r"Sub\s+(\w+)\s*\(\)(.*?)End Sub", code, re.S):
        commands = re.findall(r'RunPython\s+"([^"]+)"', block)
        assert len(commands) == 1, sub
        out[sub] = commands[0]
    return out


def test_every_runpython_target_is_importable_and_callable(built: Path) -> None:
    found = modules(built)
    assert re.search(r"^Public Function RunPython\(PythonCommand As String\)", found["xlwings"], re.M)
    commands = _run_python_commands(found["osmep_buttons"])
    assert commands == {**{a.macro: a.command for a in ACTIONS}, RUN_SELECTED.macro: RUN_SELECTED_COMMAND}
    for command in commands.values():
        namespace: dict[str, object] = {}
        for statement in ast.parse(command).body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                for alias in statement.names:
                    module = importlib.import_module(alias.name)
                    namespace[alias.asname or alias.name.split(".")[0]] = (
                        module if alias.asname else importlib.import_module(alias.name.split(".")[0]))
            else:
                assert isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
                assert not statement.value.args and not statement.value.keywords
                target = eval(compile(ast.Expression(statement.value.func), "<RunPython>", "eval"), namespace)
                assert callable(target), command


def test_front_sheet_names_and_dropdown(built: Path) -> None:
    book = openpyxl.load_workbook(built)
    assert book.sheetnames[0] == FRONT_SHEET and book.sheetnames[-1] == CONF_SHEET
    assert len(book.sheetnames) == sheet_count()
    for name in (NAME_ACTION, NAME_DATA_PATH, NAME_FILL_TEMPLATE, NAME_PREVIOUS_PATH, NAME_STATUS, NAME_ACTIONS):
        (sheet, _), = book.defined_names[name].destinations
        assert sheet == FRONT_SHEET, name
    front = book[FRONT_SHEET]
    (_, ref), = book.defined_names[NAME_ACTIONS].destinations
    assert [c.value for row in front[ref.replace("$", "")] for c in row] == [a.label for a in ACTIONS]
    (_, action_cell), = book.defined_names[NAME_ACTION].destinations
    lists = {str(dv.sqref): dv.formula1 for dv in front.data_validations.dataValidation}
    assert lists[action_cell.replace("$", "")] == ref
    assert front[action_cell.replace("$", "")].value == ACTIONS[0].label


def test_xlwings_conf_sheet(built: Path) -> None:
    conf = openpyxl.load_workbook(built)[CONF_SHEET]
    rows = [(r[0].value, r[1].value) for r in conf.iter_rows(max_col=2)]
    # Keys xlwings looks up (upper-cased), contiguous from A1; no empty value that would hide the user's settings.
    assert rows == [("UDF Modules", UDF_MODULE), ("Interpreter_Win", r"C:\Python311\python.exe")]


def test_the_templates_read_back(built: Path) -> None:
    assert [wb.spec.id for wb in read_workbooks(built)] == list(TEMPLATES)


def test_cli_builds_the_workbook(tmp_path: Path) -> None:
    out = tmp_path / "workbook" / "osmep_xl.xlsm"
    result = CliRunner().invoke(app, ["workbook", "build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and "wrote" in result.output
    bad = CliRunner().invoke(app, ["workbook", "build", "--out", str(tmp_path / "x.xlsx")])
    assert bad.exit_code == 2 and ".xlsm" in bad.output


@pytest.mark.libreoffice
def test_libreoffice_keeps_the_buttons_bound(built: Path, tmp_path: Path) -> None:
    """LibreOffice opens the workbook headless; saved again, every button still runs its macro."""
    (ods,) = convert([built], tmp_path / "ods", "ods")
    with zipfile.ZipFile(ods) as zf:
        content = zf.read("content.xml").decode("utf-8")
        basic = [n for n in zf.namelist() if n.startswith("Basic/VBAProject/")]
    bound = set(re.findall(r'xlink:href="vnd\.sun\.star\.script:VBAProject\.osmep_buttons\.(\w+)\?language=Basic',
                           content))
    assert bound == BUTTON_MACROS
    labels = {" ".join(m.split()) for m in re.findall(r'<form:button[^>]*form:label="([^"]*)"', content)}
    assert {" ".join(a.caption.split()) for a in (*ACTIONS, RUN_SELECTED)} == labels
    assert {"Basic/VBAProject/osmep_buttons.xml", "Basic/VBAProject/xlwings.xml",
            "Basic/VBAProject/xlwings_udfs.xml"} <= set(basic)
    (xlsm,) = convert([built], tmp_path / "xlsm", "xlsm")
    with zipfile.ZipFile(xlsm) as zf:
        sheets = b"".join(zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet"))
    assert set(re.findall(rb'<controlPr[^>]*macro="osmep_buttons\.(\w+)"', sheets)) == {
        m.encode() for m in BUTTON_MACROS}
    assert subs(modules(xlsm)["osmep_buttons"]) >= BUTTON_MACROS


def test_checked_in_workbook_matches_a_fresh_build(tmp_path: Path) -> None:
    """workbook/osmep_xl.xlsm (what users download) carries today's macros, buttons and templates.
    Fails when the front end changed without `make workbook`."""
    from oletools.olevba import VBA_Parser

    checked_in = Path(__file__).resolve().parent.parent / "workbook" / "osmep_xl.xlsm"
    assert checked_in.exists(), "run `make workbook`"
    built = build_workbook(tmp_path / "osmep_xl.xlsm", interpreter=Interpreter())

    def modules(path: Path) -> dict[str, str]:
        parser = VBA_Parser(str(path))
        try:
            return {name: code for _, _, name, code in parser.extract_macros() if name != "xlwings.bas"}
        finally:
            parser.close()

    assert modules(checked_in) == modules(built)
    with zipfile.ZipFile(checked_in) as a, zipfile.ZipFile(built) as b:
        for name in a.namelist():
            if name.startswith("xl/worksheets/") or name.startswith("xl/drawings/"):
                assert a.read(name) == b.read(name), f"{name} differs: run `make workbook`"
