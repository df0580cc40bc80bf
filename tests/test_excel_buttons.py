"""The workbook's buttons through xlwings' real remote engine, replayed on real workbook files.

Each test presses a button on ``xw.Book(json=payload)`` built from the ready workbook (see tests/remote.py),
replays the actions the button queued on the file, reopens it and compares with what the command line's
core functions give for the same file.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from contextlib import nullcontext
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import osmep_xl
from osmep_xl.check import FINDINGS_SHEET, HIGHLIGHT, check_file, recalc_file
from osmep_xl.data import load_report
from osmep_xl.excel.book import WritePlan
from osmep_xl.excel.buttons import (
    clear_flags_button,
    fill_button,
    import_previous_button,
    recalc_button,
    validate_button,
)
from osmep_xl.excel.front import (
    ACTIONS,
    FRONT_SHEET,
    NAME_ACTION,
    NAME_DATA_PATH,
    NAME_FILL_TEMPLATE,
    NAME_PREVIOUS_PATH,
    NAME_STATUS,
)
from osmep_xl.excel.workbook import build_workbook
from osmep_xl.findings import Finding, sort_findings
from osmep_xl.model.load import load_data
from osmep_xl.model.workbook import WorkbookData
from osmep_xl.report import sheet_rows
from osmep_xl.rules.config import load_settings
from osmep_xl.spec import TEMPLATES
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.layout import FIRST_DATA_ROW, meta_name
from tests.cells import Table
from tests.remote import (
    apply_actions,
    cells,
    com_like_formulas,
    fill_colour,
    payload_from_file,
    set_cell,
    use_remote_engine,
)

TEMPLATE_SHEETS = ["ข้อมูล", "แหล่งงบประมาณ", "แผนปฏิบัติการ", "เบิกจ่าย", "ยุทธศาสตร์", "ตัวชี้วัด", "แนวทาง",
                   "เบิกจ่ายแนวทาง", "แผนผลรายเดือน"]
Button = Callable[..., WritePlan]


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workbook(tmp_path_factory.mktemp("ready") / "osmep_xl.xlsm")


@pytest.fixture
def work(ready: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(ready, tmp_path / "osmep_xl.xlsm"))


def named_cell(path: Path, name: str) -> tuple[str, str]:
    sheet, ref = next(iter(openpyxl.load_workbook(path).defined_names[name].destinations))
    return sheet, ref.replace("$", "")


def press(button: Button, path: Path, monkeypatch: pytest.MonkeyPatch, *, formulas: bool = True,
          client: str = "Office.js", typed: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], str]:
    """Press ``button`` on the workbook file as the remote engine sees it (``typed``: named cells the user
    filled in first), replay its actions on the file; returns the actions and the status text."""
    use_remote_engine(monkeypatch)
    import xlwings as xw

    with com_like_formulas(monkeypatch) if formulas else nullcontext():
        payload = payload_from_file(path, client=client, formulas=formulas)
        for name, value in (typed or {}).items():
            set_cell(payload, *named_cell(path, name), value)
        book = xw.Book(json=payload)
        button(book)
        actions: list[dict[str, Any]] = book.json()["actions"]
        book.close()
    alerts = apply_actions(path, actions)
    sheet, cell = named_cell(path, NAME_STATUS)
    status = openpyxl.load_workbook(path)[sheet][cell].value
    assert alerts and alerts[-1] == status  # the message box says what the status cell says
    return actions, status


def as_written(row: list[Any]) -> list[Any]:
    return [float(v) if isinstance(v, Decimal) else v for v in row]


def findings_sheet(path: Path) -> list[list[Any]]:
    ws = openpyxl.load_workbook(path)[FINDINGS_SHEET]
    return [[c.value for c in row] for row in ws.iter_rows()]


def core_findings(path: Path, previous: Path | None = None) -> list[Finding]:
    return [f for r in check_file(path, load_settings(), previous) for f in r.findings]


def assert_flags(path: Path, findings: list[Finding]) -> None:
    """Every error/warning cell highlighted by its worst severity, with a note carrying each message."""
    book = openpyxl.load_workbook(path)
    for f in findings:
        if f.severity not in HIGHLIGHT or f.sheet not in TEMPLATE_SHEETS:
            continue
        cell = book[f.sheet][f.cell]
        worst = min((g for g in findings if (g.sheet, g.cell) == (f.sheet, f.cell) and g.severity in HIGHLIGHT),
                    key=lambda g: g.severity.rank)
        assert fill_colour(cell) == HIGHLIGHT[worst.severity], (f.sheet, f.cell)
        assert cell.comment is not None and f"[{f.rule}] {f.message_th}\n{f.message_en}" in cell.comment.text


def test_validate_writes_the_cores_findings_with_flags(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    core = core_findings(work)
    actions, status = press(validate_button, work, monkeypatch)
    rows = findings_sheet(work)
    assert [r[:8] for r in rows] == [as_written(r) for r in sheet_rows(core)]
    assert rows[0][8] == "ไปที่ / Go to"
    links = [f'=HYPERLINK("#\'{f.sheet}\'!{f.cell}","{f.cell}")' for f in sort_findings(core)]
    assert [r[8] for r in rows[1:]] == links
    assert_flags(work, core)
    assert openpyxl.load_workbook(work).sheetnames[:2] == [FRONT_SHEET, FINDINGS_SHEET]
    errors = sum(f.severity.value == "error" for f in core)
    # A workbook of several templates, validated together: the checks across them run too (KPIs 3 and 5 against
    # their outputs; the action plan's 450 M project against its 225 M phase in the spending plan, flagged on the
    # action plan's sheet).
    assert sum(f.rule == "kpi.outputs_sum" for f in core) == 2
    assert any(f.rule == "cross.plan_budget" and f.sheet == "แผนปฏิบัติการ" for f in core)
    assert status.startswith(f"ตรวจสอบ {', '.join(TEMPLATES)}: ผิดพลาด {errors}")  # every template the workbook holds
    # Whole-range writes: the sheet in one write (and its link column in another), one colour write per sheet.
    funcs = [a["func"] for a in actions]
    assert funcs.count("setValues") == 2 and funcs.count("setFormula") == 1
    assert funcs.count("setRangeColors") <= len(TEMPLATE_SHEETS)


def test_validating_again_takes_off_flags_that_no_longer_apply(work: Path, ready: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    press(validate_button, work, monkeypatch)
    fixed = next(f for f in core_findings(work) if f.rule == "identity.percent")
    book = openpyxl.load_workbook(work, keep_vba=True)
    book[fixed.sheet][fixed.cell] = float(fixed.expected)  # the user corrects the figure
    book.save(work)
    core = core_findings(work)
    assert (fixed.sheet, fixed.cell) not in {(f.sheet, f.cell) for f in core if f.severity in HIGHLIGHT}
    press(validate_button, work, monkeypatch)
    assert [r[:8] for r in findings_sheet(work)] == [as_written(r) for r in sheet_rows(core)]
    assert_flags(work, core)
    cell = openpyxl.load_workbook(work)[fixed.sheet][fixed.cell]
    assert fill_colour(cell) == fill_colour(openpyxl.load_workbook(ready)[fixed.sheet][fixed.cell]) == "FFFFFFFF"
    assert cell.comment is None
    assert openpyxl.load_workbook(work).sheetnames.index(FINDINGS_SHEET) == 1  # replaced in place


def test_clear_flags_restores_the_template(work: Path, ready: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flagged = {(f.sheet, f.cell) for f in core_findings(work) if f.severity in HIGHLIGHT}
    press(validate_button, work, monkeypatch)
    _, status = press(clear_flags_button, work, monkeypatch)
    after, before = openpyxl.load_workbook(work), openpyxl.load_workbook(ready)
    assert FINDINGS_SHEET not in after.sheetnames
    for sheet, cell in flagged:
        assert fill_colour(after[sheet][cell]) == fill_colour(before[sheet][cell]), (sheet, cell)
        assert after[sheet][cell].comment is None
    assert status.startswith(f"ล้างไฮไลต์ {len(flagged)} ช่อง")
    _, again = press(clear_flags_button, work, monkeypatch)
    assert again.startswith("ไม่มีผลตรวจสอบให้ล้าง")


def test_recalc_restores_formulas_like_the_cli(work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = openpyxl.load_workbook(work, keep_vba=True)
    sheet = book["แผนปฏิบัติการ"]
    total = next(c for row in sheet.iter_rows() for c in row  # a tactic's budget: the sum of its projects
                 if isinstance(c.value, str) and c.value.startswith("=SUM("))
    formula, address = total.value, total.coordinate
    total.value = 12345  # a typed, wrong total over its formula
    book.save(work)
    cli = recalc_file(work, tmp_path / "cli.xlsm")
    cli_out = tmp_path / "cli.xlsm"
    actions, status = press(recalc_button, work, monkeypatch)
    assert openpyxl.load_workbook(work)["แผนปฏิบัติการ"][address].value == formula
    for sheet in TEMPLATE_SHEETS:
        ours = {k: v for k, v in cells(work, sheet).items() if isinstance(v, str) and v.startswith("=")}
        theirs = {k: v for k, v in cells(cli_out, sheet).items() if isinstance(v, str) and v.startswith("=")}
        assert ours == theirs, sheet
    assert f"ตัวเลขที่พิมพ์ไว้เปลี่ยน {len(cli)} ช่อง" in status and f"แผนปฏิบัติการ!{address} 12,345 → " in status
    # Runs of consecutive rows in a column are one write each, far fewer than the cells.
    edits = sum(len(a["values"]) for a in actions if a["func"] == "setFormula")
    assert sum(a["func"] == "setFormula" for a in actions) < edits / 2


def _fill_data(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    raw = load_report("disbursement").model_dump(mode="json")
    raw["meta"].update(as_of="2021-09-30", quarter=4)
    lines = raw["blocks"]["lines"][:-2]  # two rows fewer than the workbook has
    project = next(r for r in lines if r["level"] == "project" and r["allocated"])
    project["allocated"] = str(Decimal(project["allocated"]) + 1000)
    raw["blocks"]["lines"] = lines
    path = tmp_path / "q4.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), "utf-8")
    return path, lines


def test_fill_writes_what_the_cli_fill_writes(work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, lines = _fill_data(tmp_path)
    cli = write_workbook(load_data(data, "disbursement"), tmp_path / "cli.xlsx")
    _, status = press(fill_button, work, monkeypatch, typed={NAME_DATA_PATH: str(data)})
    assert status.startswith(f"เติมข้อมูล ติดตามการเบิกจ่ายงบประมาณ {len(lines)} แถว จาก q4.json")
    first_data_row = FIRST_DATA_ROW + 1  # 1-based, as openpyxl counts
    ours = {k: v for k, v in cells(work, "เบิกจ่าย").items() if openpyxl.utils.cell.coordinate_to_tuple(k)[0]
            >= first_data_row}
    theirs = {k: v for k, v in cells(cli, "เบิกจ่าย").items() if openpyxl.utils.cell.coordinate_to_tuple(k)[0]
              >= first_data_row}
    assert ours == theirs
    book = openpyxl.load_workbook(work)
    as_of, quarter = (book[s][c] for s, c in (named_cell(work, meta_name(f)) for f in ("as_of", "quarter")))
    assert as_of.value.date().isoformat() == "2021-09-30" and quarter.value == 4


def test_fill_from_csv_needs_the_template_cell(work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    csv = tmp_path / "strategies.csv"
    csv.write_text("block,รหัส,รายการ\nstrategies,1,ยุทธศาสตร์ที่ 1\n", "utf-8")
    before = cells(work, "ยุทธศาสตร์")
    actions, status = press(fill_button, work, monkeypatch, typed={NAME_DATA_PATH: str(csv)})
    assert status.startswith("ผิดพลาด ไม่ได้เปลี่ยนแปลงสมุดงาน") and NAME_FILL_TEMPLATE in status
    assert [a["func"] for a in actions] == ["setValues", "alert"]  # the status cell and the message only
    assert cells(work, "ยุทธศาสตร์") == before
    _, status = press(fill_button, work, monkeypatch, typed={NAME_DATA_PATH: str(csv), NAME_FILL_TEMPLATE: "kpi"})
    assert status.startswith("เติมข้อมูล ติดตามตัวชี้วัด")
    strategies = Table("kpi", "strategies", [{"code": "1"}])  # the CSV's one row
    assert cells(work, strategies.sheet)[strategies.at("name", "1")] == "ยุทธศาสตร์ที่ 1"


def test_compare_with_previous_quarter(work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = load_report("disbursement").model_dump(mode="json")
    row = next(r for r in raw["blocks"]["lines"] if r["level"] == "project" and r["disbursed"])
    row["disbursed"] = str(Decimal(row["disbursed"]) + 500)  # last quarter had more: a decrease now
    previous = write_workbook(WorkbookData.parse(raw), tmp_path / "q2.xlsx")
    core = core_findings(work, previous)
    decreased = [f for f in core if f.rule == "variance.decreased"]
    assert decreased
    _, status = press(import_previous_button, work, monkeypatch, typed={NAME_PREVIOUS_PATH: str(previous)})
    assert [r[:8] for r in findings_sheet(work)] == [as_written(r) for r in sheet_rows(core)]
    assert f"ตัวเลขสะสมลดลงจากไตรมาสก่อน {len(decreased)} ช่อง" in status
    assert_flags(work, core)


def test_main_runs_the_action_chosen_in_the_dropdown(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """xlwings' "Run main" runs `import osmep_xl; osmep_xl.main()` with the workbook as caller."""
    use_remote_engine(monkeypatch)
    import xlwings as xw

    recalc = next(a for a in ACTIONS if a.id == "recalc")
    with com_like_formulas(monkeypatch):
        for choice, expected in ((recalc.label, "คืนสูตร"), ("no such thing", "ผิดพลาด")):
            payload = payload_from_file(work, formulas=True)
            set_cell(payload, *named_cell(work, NAME_ACTION), choice)
            book = xw.Book(json=payload)
            monkeypatch.setattr(xw.Book, "_mock_caller", book, raising=False)
            osmep_xl.main()
            actions = book.json()["actions"]
            status = next(a for a in actions if a["func"] == "setValues")["values"][0][0].removeprefix("'")
            assert status.startswith(expected), status
            assert any(a["func"] == "setFormula" for a in actions) == (expected == "คืนสูตร")


def test_vba_client_without_notes(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    core = core_findings(work)
    actions, status = press(validate_button, work, monkeypatch, client="VBA")
    assert "addNote" not in {a["func"] for a in actions}
    assert "skipped" in status and "cell notes" in status
    assert [r[:8] for r in findings_sheet(work)] == [as_written(r) for r in sheet_rows(core)]


def test_engine_that_cannot_read_formulas(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """xlwings Server's remote engine reads no formulas synchronously: the button says so."""
    _, status = press(validate_button, work, monkeypatch, formulas=False)
    assert "cannot read formulas" in status
    assert all(r[3] != "formula.overwritten" for r in findings_sheet(work))
