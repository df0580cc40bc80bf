"""The worksheet functions: called directly, and through xlwings Server's custom-function call."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import types
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from osmep_xl.a1 import a1, parse_a1
from osmep_xl.check import check_file
from osmep_xl.data import load_report
from osmep_xl.excel import udfs
from osmep_xl.excel.udfs import (
    OSMEP_BE,
    OSMEP_CE,
    OSMEP_DISBURSEMENT_FLAG,
    OSMEP_FISCAL_QUARTER,
    OSMEP_FISCAL_YEAR,
    OSMEP_KPI_ACHIEVEMENT,
    OSMEP_KPI_STATUS,
    OSMEP_NUMBER,
    OSMEP_PERCENT,
    OSMEP_REMAINING,
    OSMEP_VALIDATE,
    VALIDATE_HEADER,
)
from osmep_xl.findings import Severity
from osmep_xl.rules.config import load_settings
from osmep_xl.rules.validate import validate
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.layout import HEADER_TH_ROW
from osmep_xl.xlsx.read import read_workbook
from tests.remote import use_remote_engine

ROWS = 10_000
UDF_NAMES = ["OSMEP_BE", "OSMEP_CE", "OSMEP_DISBURSEMENT_FLAG", "OSMEP_FISCAL_QUARTER", "OSMEP_FISCAL_YEAR",
             "OSMEP_KPI_ACHIEVEMENT", "OSMEP_KPI_STATUS", "OSMEP_NUMBER", "OSMEP_PERCENT", "OSMEP_REMAINING",
             "OSMEP_VALIDATE"]


# --- direct calls ------------------------------------------------------------------------------------------------


def test_percent_rounds_half_away_from_zero() -> None:
    assert round(0.125, 2) == 0.12  # Python's binary banker's rounding, which Excel's ROUND is not
    assert OSMEP_PERCENT(1, 800) == 0.13
    assert OSMEP_PERCENT(2.675, 100) == 2.68
    assert OSMEP_PERCENT(-2.675, 100) == -2.68
    assert OSMEP_PERCENT(919_930_898.45, 979_827_800) == 93.89
    assert OSMEP_PERCENT("๑,๐๐๐ บาท", "4,000") == 25.0
    assert OSMEP_PERCENT(5, 0) == "" and OSMEP_PERCENT(5, None) == ""
    assert OSMEP_PERCENT(None, 100) == 0.0
    assert OSMEP_PERCENT("abc", 100) == "#VALUE!"


def test_shapes_follow_the_arguments() -> None:
    assert OSMEP_PERCENT([[1], [3]], [[8], [8]]) == [[12.5], [37.5]]
    assert OSMEP_PERCENT([[1, 3]], 8) == [[12.5, 37.5]]  # a single value stretches over a row
    assert OSMEP_PERCENT([1, 3], 8) == [12.5, 37.5]  # a flat Python list is a column, returned flat
    with pytest.raises(ValueError, match="different sizes"):
        OSMEP_PERCENT([[1], [2]], [[1], [2], [3]])


def test_vectorised_over_10000_rows() -> None:
    part = [[i * 0.125] for i in range(ROWS)]
    whole = [[100]] * ROWS
    out = OSMEP_PERCENT(part, whole)
    assert len(out) == ROWS and all(len(r) == 1 for r in out)
    assert out[1] == [0.13] and out[3] == [0.38] and out[ROWS - 1] == [1249.88]  # 9999 * 0.125 = 1249.875
    remaining = OSMEP_REMAINING([[1000]] * ROWS, [[i] for i in range(ROWS)], [[0.1]] * ROWS)
    assert remaining[0] == [999.9] and remaining[ROWS - 1] == [-8999.1]


def test_remaining_is_exact() -> None:
    assert OSMEP_REMAINING(0.3, 0.1, 0.1) == 0.1  # 0.3 - 0.2 in binary doubles is 0.09999999999999998
    assert OSMEP_REMAINING(1000, None, None) == 1000.0
    assert OSMEP_REMAINING(None, None, None) == ""
    assert OSMEP_REMAINING("x", 1, 1) == "#VALUE!"


def test_kpi_textual_results_ranges_and_minimums() -> None:
    pending = "อยู่ระหว่างดำเนินการ"
    assert OSMEP_KPI_ACHIEVEMENT(pending, "ร้อยละ 70-80") == ""
    assert OSMEP_KPI_STATUS(pending, "ร้อยละ 70-80") == "รอผล"
    assert OSMEP_KPI_ACHIEVEMENT(75, "ร้อยละ 70-80") == 107.14  # a range's target is its low end
    assert OSMEP_KPI_STATUS(75, "ร้อยละ 70-80") == "บรรลุ"
    assert OSMEP_KPI_STATUS(69, "ร้อยละ 70-80") == "ยังไม่บรรลุ"
    assert OSMEP_KPI_STATUS(4.2, "ไม่น้อยกว่า 4.10 คะแนน") == "บรรลุ"
    assert OSMEP_KPI_STATUS("4.05 คะแนน", "ไม่น้อยกว่า 4.10 คะแนน") == "ยังไม่บรรลุ"
    assert OSMEP_KPI_ACHIEVEMENT("139,825 ราย", "ไม่น้อยกว่า 190,000 ราย") == 73.59
    # Less is better: a maximum target gives direction "<=", achievement target/result.
    assert OSMEP_KPI_ACHIEVEMENT(4, "ไม่เกิน 5 วัน") == 125.0
    assert OSMEP_KPI_STATUS(6, "ไม่เกิน 5 วัน") == "ยังไม่บรรลุ"
    assert OSMEP_KPI_STATUS(6, 5, "<=") == "ยังไม่บรรลุ" and OSMEP_KPI_STATUS(6, 5, ">=") == "บรรลุ"
    assert OSMEP_KPI_ACHIEVEMENT(0, 5, "<=") == ""  # Excel's formula leaves it blank rather than #DIV/0!
    assert OSMEP_KPI_STATUS(1, "ไม่มีตัวเลข") == "#VALUE!"
    assert OSMEP_KPI_STATUS(1, 1, "?") == "#VALUE!"


def test_kpi_functions_equal_the_template_cells() -> None:
    """Over the report's KPI rows, the UDFs give what the template's formulas give."""
    rows = load_report("kpi").blocks["kpis"]
    results = [[r["result"] if r["result"] is not None else r["result_text"]] for r in rows]
    targets = [[r["target_text"] or r["target"]] for r in rows]
    directions = [[r["direction"]] for r in rows]
    spec = udfs.get_spec("kpi").block("kpis")
    achievement, status = spec.column("achievement").formula, spec.column("status").formula
    assert achievement is not None and status is not None
    expected_a = [[(lambda v: "" if v is None else float(v))(achievement.evaluate(r.get))] for r in rows]
    expected_s = [[status.evaluate(r.get)] for r in rows]
    assert OSMEP_KPI_ACHIEVEMENT(results, targets, directions) == expected_a
    assert OSMEP_KPI_STATUS(results, targets, directions) == expected_s


def test_disbursement_flag_matches_the_variance_rule() -> None:
    """The flag judges a line as validation does: its kind from its category and year, its target only for the
    budget sources the target lists, both bases in the text; an explicit kind or basis overrides."""
    as_of, act, subsidy = dt.date(2021, 6, 30), "พ.ร.บ.งบประมาณ", "งบเงินอุดหนุน"
    assert OSMEP_DISBURSEMENT_FLAG(2564, as_of, 1000, 700, 200, None, None, act, subsidy) == ""  # 90% >= 80%
    flag = OSMEP_DISBURSEMENT_FLAG(2564, as_of, 1000, 500, 100, None, None, act, subsidy)
    assert flag.startswith("ต่ำกว่าเป้ารายจ่ายประจำ ไตรมาส 3 ร้อยละ 80")
    assert "disbursed only 50.00% · disbursed + committed 60.00% (judged on disbursed + committed)" in flag
    assert "disbursed only 70.00%" in OSMEP_DISBURSEMENT_FLAG(2564, as_of, 1000, 700, 200, None, "disbursed", act,
                                                              "operating")  # งบดำเนินงาน: recurrent too
    assert OSMEP_DISBURSEMENT_FLAG(2021, "30 มิ.ย.64", 1000, 500, 100, "", "", "Budget Act", subsidy) == flag
    assert OSMEP_DISBURSEMENT_FLAG(2564, as_of, 1000, 500, 100, None, None, "เงินกองทุน", subsidy) == ""  # not judged
    assert OSMEP_DISBURSEMENT_FLAG(2564, as_of, 1000, 500, 100, "recurrent") == flag  # no source: the kind's target
    # งบลงทุน, no category, an earlier year: kinds the FY2564 settings have no target for, said so, not judged.
    assert "no investment target for FY2564 Q3" in OSMEP_DISBURSEMENT_FLAG(2564, as_of, 1000, 500, 100, None, None,
                                                                          act, "งบลงทุน")
    assert "no overall target" in OSMEP_DISBURSEMENT_FLAG(2564, as_of, 1000, 500, 100, None, None, act)
    assert "no carry-over target" in OSMEP_DISBURSEMENT_FLAG(2563, as_of, 1000, 500, 100, None, None, act, subsidy)
    assert "no recurrent target for FY2564 Q2" in OSMEP_DISBURSEMENT_FLAG(2564, dt.date(2021, 3, 31), 1000, 0, 0,
                                                                         None, None, act, subsidy)
    assert OSMEP_DISBURSEMENT_FLAG(2564, dt.date(2020, 9, 1), 1000, 0, 0) == ""  # before the year began
    assert OSMEP_DISBURSEMENT_FLAG(2564, as_of, 0, 0, 0) == ""
    assert OSMEP_DISBURSEMENT_FLAG(2564, as_of, 1000, 1, 1, "bogus") == "#VALUE!"
    assert OSMEP_DISBURSEMENT_FLAG(2564, as_of, 1000, 1, 1, None, None, "no such source") == "#VALUE!"
    assert OSMEP_DISBURSEMENT_FLAG(2564, as_of, 1000, 1, 1, None, None, act, "no such category") == "#VALUE!"


def test_disbursement_flags_agree_with_validation(tmp_path: Path) -> None:
    """On the report's disbursement lines, a flag appears exactly where validation finds one, and a 'no target'
    flag exactly on the lines validation's info finding counts."""
    data = load_report("disbursement")
    settings = load_settings()
    rows = data.blocks["lines"]
    flags = OSMEP_DISBURSEMENT_FLAG([[r["fiscal_year"]] for r in rows], data.meta["as_of"],
                                    [[r["allocated"]] for r in rows], [[r["disbursed"]] for r in rows],
                                    [[r["committed"]] for r in rows], None, None,
                                    [[r["budget_source"]] for r in rows], [[r.get("budget_category")] for r in rows])
    judged = [i for i in range(len(rows)) if rows[i]["level"] in settings.disbursement.levels]
    flagged = {i for i in judged if flags[i][0].startswith("ต่ำกว่าเป้า")}
    unmeasured = [i for i in judged if flags[i][0].startswith("ไม่มีเป้าหมาย")]
    wb = read_workbook(write_workbook(data, tmp_path / "d.xlsx"))
    rb = wb.blocks["lines"]
    at_row = {r: i for i, r in enumerate(rb.sheet_rows)}
    findings = validate(wb, settings)
    behind = {at_row[parse_a1(f.cell)[0]] for f in findings if f.rule == "variance.disbursement_behind"}
    assert flagged == behind and behind
    no_target = [f for f in findings if f.rule == "variance.no_target"]
    assert len(no_target) == 1 and f"{len(unmeasured)} lines" in no_target[0].message_en and unmeasured


def test_fiscal_calendar_and_numbers() -> None:
    assert OSMEP_FISCAL_YEAR(dt.date(2021, 6, 30)) == 2564
    assert OSMEP_FISCAL_YEAR(dt.datetime(2020, 10, 1, 8, 30)) == 2564
    assert OSMEP_FISCAL_YEAR(dt.date(2020, 9, 30)) == 2563
    assert OSMEP_FISCAL_YEAR(44377) == 2564  # Excel's serial number of 30 Jun 2021
    assert OSMEP_FISCAL_YEAR("2021-06-30") == 2564 and OSMEP_FISCAL_YEAR("30 มิ.ย.64") == 2564
    assert OSMEP_FISCAL_QUARTER([[dt.date(2020, 10, 1)], [dt.date(2021, 1, 1)], [dt.date(2021, 6, 30)],
                                 [dt.date(2021, 9, 30)], [None]]) == [[1], [2], [3], [4], [""]]
    assert OSMEP_FISCAL_YEAR("not a date") == "#VALUE!"
    assert OSMEP_BE(2021) == 2564 and OSMEP_BE(dt.date(2021, 6, 30)) == 2564 and OSMEP_BE(44377) == 2564
    assert OSMEP_CE(2564) == 2021 and OSMEP_CE("๒๕๖๔") == 2021 and OSMEP_CE(64) == 2021
    assert OSMEP_NUMBER("๑,๒๓๔.๕๐ บาท") == 1234.5
    assert OSMEP_NUMBER("(1,000)") == -1000.0 and OSMEP_NUMBER(12) == 12.0 and OSMEP_NUMBER("") == ""
    assert OSMEP_NUMBER("1 2") == "#VALUE!"


@pytest.fixture(scope="module")
def disbursement_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workbook(load_report("disbursement"), tmp_path_factory.mktemp("udf") / "disbursement.xlsx")


def test_validate_spills_the_findings_of_a_table(disbursement_file: Path) -> None:
    grid = CalamineWorkbook.from_path(str(disbursement_file)).get_sheet_by_name("เบิกจ่าย").to_python(
        skip_empty_area=False)
    header = HEADER_TH_ROW
    out = OSMEP_VALIDATE(grid[header:], "disbursement", "", a1(header, 0))  # the table starts at its header
    assert out[0] == VALIDATE_HEADER
    core = [f for r in check_file(disbursement_file, load_settings()) for f in r.findings
            if f.sheet == "เบิกจ่าย" and f.severity is Severity.ERROR]
    assert [row[:4] for row in out[1:]] == [[f.rule, f.cell, float(f.expected), float(f.actual)] for f in core]
    assert all(" / " in row[4] for row in out[1:])
    english = [row for row in grid[header:] if row is not grid[header]]  # the English header row alone works too
    assert [r[:2] for r in OSMEP_VALIDATE(english, "disbursement", "lines", a1(header + 1, 0))[1:]] == [
        [f.rule, f.cell] for f in core]


def test_validate_explains_bad_arguments() -> None:
    assert "name the table" in OSMEP_VALIDATE([["x"]], "kpi")[1][4]
    assert "unknown template" in OSMEP_VALIDATE([["x"]], "nope")[1][4]
    clean = OSMEP_VALIDATE([["รหัส", "รายการ", "หมายเหตุ", "ที่มา"], ["1", "ยุทธศาสตร์ที่ 1", None, None]], "kpi",
                           "strategies")
    assert clean[1][4] == "ไม่พบข้อผิดพลาด / no findings"


# --- through xlwings Server ----------------------------------------------------------------------------------------


@pytest.fixture
def server_udfs(monkeypatch: pytest.MonkeyPatch) -> tuple[types.ModuleType, Any]:
    """The UDF module as xlwings Server loads it: ``xw.func`` & co. are the server's decorators there
    (XLWINGS_ON_SERVER=true when xlwings is imported), so a private copy is decorated with those."""
    use_remote_engine(monkeypatch)  # licence and engines (the "officejs" one converts custom-function values)
    monkeypatch.setenv("XLWINGS_ON_SERVER", "true")
    import xlwings as xw
    import xlwings.server as server

    monkeypatch.setattr(xw, "func", server.func)
    monkeypatch.setattr(xw, "arg", server.arg)
    monkeypatch.setattr(xw, "ret", server.ret)
    spec = importlib.util.find_spec("osmep_xl.excel.udfs")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, server


def _call(server_udfs: tuple[types.ModuleType, Any], name: str, *args: Any) -> Any:
    import xlwings as xw

    module, server = server_udfs
    data = {"func_name": name, "args": list(args), "version": xw.__version__, "client": "Office.js",
            "runtime": "1.4", "culture_info_name": "th-TH", "date_format": "d/m/yyyy"}
    return asyncio.run(server.custom_functions_call(data, module))


def test_server_registers_every_function_with_thai_english_help(server_udfs: tuple[types.ModuleType, Any]) -> None:
    module, server = server_udfs
    meta = server.custom_functions_meta(module)["functions"]
    assert sorted(f["name"] for f in meta) == UDF_NAMES
    for f in meta:
        assert "/" in f["description"] and "\n" not in f["description"]
        assert all(p["description"] for p in f["parameters"])
        assert any("\u0e00" <= ch <= "\u0e7f" for ch in f["description"])  # Thai first
    percent = next(f for f in meta if f["name"] == "OSMEP_PERCENT")
    assert [p["dimensionality"] for p in percent["parameters"]] == ["matrix", "matrix"]


def test_server_calls_give_exact_values(server_udfs: tuple[types.ModuleType, Any]) -> None:
    assert _call(server_udfs, "OSMEP_PERCENT", [[1]], [[800]]) == [[0.13]]
    assert _call(server_udfs, "OSMEP_PERCENT", [[2.675], [-2.675], [1]], [[100], [100], [0]]) == [[2.68], [-2.68], [""]]
    assert _call(server_udfs, "OSMEP_KPI_STATUS", [["อยู่ระหว่างดำเนินการ"]], [["ร้อยละ 70-80"]], None) == [["รอผล"]]
    assert _call(server_udfs, "OSMEP_KPI_ACHIEVEMENT", [[4.2]], [["ไม่น้อยกว่า 4.10"]], None) == [[102.44]]
    assert _call(server_udfs, "OSMEP_FISCAL_YEAR", [[44377]]) == [[2564]]
    assert _call(server_udfs, "OSMEP_NUMBER", [["๑,๒๓๔ บาท"]]) == [[1234.0]]
    flag = _call(server_udfs, "OSMEP_DISBURSEMENT_FLAG", [[2564]], [[44377]], [[1000]], [[500]], [[100]], None, None,
                 [["พ.ร.บ.งบประมาณ"]], [["งบเงินอุดหนุน"]])
    assert "behind the recurrent Q3 target 80%: disbursed only 50.00% · disbursed + committed 60.00%" in flag[0][0]
    spilled = _call(server_udfs, "OSMEP_VALIDATE", [["รหัส", "รายการ"], ["1", ""]], [["kpi"]], [["strategies"]],
                    [["B2"]])
    assert spilled[0] == VALIDATE_HEADER and spilled[1][:2] == ["cell.required_blank", "C3"]


def test_server_call_over_10000_rows(server_udfs: tuple[types.ModuleType, Any]) -> None:
    part = [[i * 0.125] for i in range(ROWS)]
    out = _call(server_udfs, "OSMEP_PERCENT", part, [[100]] * ROWS)
    assert len(out) == ROWS and out[1] == [0.13] and out[3] == [0.38] and out[5] == [0.63]
    assert out == OSMEP_PERCENT(part, [[100]] * ROWS)
