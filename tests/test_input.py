"""Fill data as staff really save it: Thai Windows CSV, Excel's "Unicode text", Thai list values,
Excel's CSV habits; refusals in one bilingual line; bilingual usage errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from osmep_xl.cli import app
from osmep_xl.spec import TEMPLATES
from osmep_xl.spec.base import ColType, Column
from osmep_xl.xlsx.read import read_workbook

ROOT = Path(__file__).resolve().parent.parent
META = ("--meta", "agency=สสว.", "--meta", "fiscal_year=2564", "--meta", "as_of=2021-06-30")
PYDANTIC_INTERNALS = ("validation error for", "Input should", "type=", "errors.pydantic.dev", "Traceback")
# Rules that say the data put into the workbook was wrong: none may fire when the input was right.
INPUT_RULES = ("structure.", "cell.", "ref.", "meta.")

# A disbursement table typed the way staff type it: Thai headers and levels, budget sources by their
# usual names, Thai digits, separators, baht, and dashes for zero.
DISBURSEMENT_ROWS = [
    ["ปีงบประมาณ (พ.ศ.)", "แหล่งงบประมาณ", "ระดับ", "รหัส", "รหัสระดับบน", "รายการ", "งบประมาณ", "เบิกจ่าย", "ผูกพัน"],
    ["๒๕๖๔", "งบประมาณรายจ่ายประจำปี", "รวม", "T", "", "รวมทั้งสิ้น", "", "", ""],
    ["2564", "พ.ร.บ. งบประมาณ", "ยุทธศาสตร์", "1", "T", "ยุทธศาสตร์ที่ 1", "", "", ""],
    ["๒๕๖๔", "พรบ.งบประมาณ", "โครงการ", "1", "1", "โครงการ ก", "1,234.50", "๑,๒๓๔", "-"],
    ["2564", "งบประมาณรายจ่ายประจำปี", " โครงการ ", "2", "1", "โครงการ ข", "10,000 บาท", "–", "—"],
]


def csv_text(rows: list[list[str]], delimiter: str = ",", newline: str = "\r\n") -> str:
    """Rows as Excel writes them: fields with the delimiter, quotes or a newline are quoted."""
    def field(value: str) -> str:
        if any(c in value for c in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value
    return "".join(delimiter.join(field(v) for v in row) + newline for row in rows)


def fill(data: Path, template: str = "disbursement", *extra: str) -> tuple[int, str, Path]:
    out = data.with_suffix(".xlsx")
    result = CliRunner().invoke(app, ["fill", template, str(data), str(out), *META, *extra])
    assert "Traceback" not in result.output
    return result.exit_code, result.output, out


def input_findings(out: Path) -> list[dict[str, Any]]:
    """``validate --json`` on a filled workbook: the findings that blame the input."""
    result = CliRunner().invoke(app, ["validate", str(out), "--json"])
    assert result.exit_code in (0, 1), result.output
    findings = json.loads(result.stdout)["files"][0]["findings"]
    return [f for f in findings if f["rule"].startswith(INPUT_RULES)]


def assert_disbursement_filled(out: Path) -> None:
    """The staff-typed table above, written with canonical values and every roll-up formula."""
    block = read_workbook(out).blocks["lines"]
    rows = block.rows
    assert [r["level"] for r in rows] == ["total", "strategy", "project", "project"]
    assert {r["budget_source"] for r in rows} == {"พ.ร.บ.งบประมาณ"}
    assert {r["fiscal_year"] for r in rows} == {2564}
    assert (rows[2]["allocated"], rows[2]["disbursed"], rows[2]["committed"]) == (Decimal("1234.50"), 1234, 0)
    assert (rows[3]["allocated"], rows[3]["disbursed"], rows[3]["committed"]) == (10000, 0, 0)
    for i in (0, 1):  # the total and the strategy add up their projects
        assert (i, "allocated") in block.formula_cells
    assert input_findings(out) == []


# --------------------------------------------------------------------------- encodings


def test_thai_windows_csv_cp874_is_read(tmp_path: Path) -> None:
    data = tmp_path / "thai_excel.csv"
    data.write_bytes(csv_text(DISBURSEMENT_ROWS).encode("cp874"))
    code, output, out = fill(data)
    assert code == 0, output
    assert_disbursement_filled(out)


def test_thai_windows_csv_without_thai_letters(tmp_path: Path) -> None:
    """Ids for headers and levels, an en dash for zero: cp874 bytes that are not UTF-8 and hold no Thai."""
    data = tmp_path / "ids.csv"
    data.write_bytes(csv_text([
        ["fiscal_year", "budget_source", "level", "code", "parent", "name", "allocated", "disbursed"],
        ["2564", "central budget", "total", "T", "", "Total", "", ""],
        ["2564", "central budget", "project", "1", "T", "Project “A”", "1,000", "–"],
    ]).encode("cp874"))
    code, output, out = fill(data)
    assert code == 0, output
    rows = read_workbook(out).blocks["lines"].rows
    assert (rows[1]["name"], rows[1]["disbursed"], rows[1]["budget_source"]) == ("Project “A”", 0, "งบกลาง")


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".tsv"])
def test_excel_unicode_text_utf16_tabs_is_read(tmp_path: Path, suffix: str) -> None:
    data = tmp_path / f"unicode_text{suffix}"
    data.write_bytes(csv_text(DISBURSEMENT_ROWS, "\t").encode("utf-16"))  # BOM, then UTF-16 LE
    assert data.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff") and b"1,234.50" not in data.read_bytes()
    code, output, out = fill(data)
    assert code == 0, output
    assert_disbursement_filled(out)


def test_utf16_big_endian_and_utf8_sig_semicolons_are_read(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"\xfe\xff" + csv_text(DISBURSEMENT_ROWS, "\t").encode("utf-16-be"))
    code, output, out = fill(big)
    assert code == 0, output
    assert_disbursement_filled(out)
    semi = tmp_path / "semi.csv"
    semi.write_bytes(csv_text(DISBURSEMENT_ROWS, ";").encode("utf-8-sig"))
    code, output, out = fill(semi)
    assert code == 0, output
    assert_disbursement_filled(out)


@pytest.mark.parametrize("content", [
    b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)),  # an .xlsx renamed to .csv
    b"\x00\x01\x02\x03\xff\xfe\xfa" * 50 + bytes(range(256)),  # binary
], ids=["xlsx-renamed", "binary"])
def test_unreadable_file_says_how_to_save_it(tmp_path: Path, content: bytes) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(content)
    code, output, out = fill(data)
    assert code == 2 and not out.exists()
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "CSV UTF-8 (Comma delimited)" in lines[0] and "บันทึก" in lines[0], output


# --------------------------------------------------------------------------- required columns


def test_missing_required_columns_are_refused_before_writing(tmp_path: Path) -> None:
    rows = [[v for j, v in enumerate(r) if j not in (2, 4)] for r in DISBURSEMENT_ROWS]  # no level, no parent
    data = tmp_path / "no_level.csv"
    data.write_text(csv_text(rows), "utf-8")
    code, output, out = fill(data)
    assert code == 2 and not out.exists(), output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "level" in lines[0] and "parent" in lines[0] and "ระดับ" in lines[0], output


def test_kpi_target_may_come_from_its_text_but_not_from_nowhere(tmp_path: Path) -> None:
    ok = tmp_path / "kpi.csv"
    ok.write_text("block,รหัส,รายการ,target_text\nkpis,1,ผู้ประกอบการ,\"ไม่น้อยกว่า 1,000 ราย\"\n", "utf-8")
    assert fill(ok, "kpi")[0] == 0
    bad = tmp_path / "kpi_bad.csv"
    bad.write_text("block,รหัส,รายการ\nkpis,1,ผู้ประกอบการ\n", "utf-8")
    code, output, _ = fill(bad, "kpi")
    assert code == 2 and "target" in output and "direction" in output, output


# --------------------------------------------------------------------------- list values


@pytest.mark.parametrize(("typed", "canonical"), [
    ("งบประมาณรายจ่ายประจำปี", "พ.ร.บ.งบประมาณ"),
    ("พ.ร.บ. งบประมาณ", "พ.ร.บ.งบประมาณ"),
    ("เงินกองทุนส่งเสริม SME", "เงินกองทุน"),
    ("กองทุน", "เงินกองทุน"),
    ("งบกลาง รายการเงินสำรองจ่ายเพื่อกรณีฉุกเฉินหรือจำเป็น", "งบกลาง"),
    ("central budget", "งบกลาง"),
    ("งบประมาณและเงินกองทุน", "พ.ร.บ.งบประมาณและเงินกองทุน"),
])
def test_budget_sources_by_their_usual_names(tmp_path: Path, typed: str, canonical: str) -> None:
    data = tmp_path / "d.csv"
    data.write_text(csv_text([
        ["fiscal_year", "budget_source", "level", "code", "parent", "name", "allocated"],
        ["2564", typed, "Total", "T", "", "รวม", ""],
        ["2564", typed, "  PROJECT ", "1", "T", "ก", "100"],
    ]), "utf-8")
    code, output, out = fill(data)
    assert code == 0, output
    rows = read_workbook(out).blocks["lines"].rows
    assert [(r["budget_source"], r["level"]) for r in rows] == [(canonical, "total"), (canonical, "project")]
    assert input_findings(out) == []


@pytest.mark.parametrize(("typed", "canonical"), [
    (">=", ">="), ("≥", ">="), ("มากกว่าหรือเท่ากับ", ">="), ("ไม่น้อยกว่า", ">="),
    ("<=", "<="), ("ไม่เกิน", "<="), ("น้อยกว่าหรือเท่ากับ", "<="), (" Less is better ", "<="),
])
def test_kpi_directions_in_thai(tmp_path: Path, typed: str, canonical: str) -> None:
    data = tmp_path / "kpi.csv"
    data.write_text(csv_text([
        ["block", "รหัส", "ยุทธศาสตร์", "รายการ", "ทิศทาง", "เป้าหมาย", "ผล"],
        ["strategies", "1", "", "ยุทธศาสตร์ที่ 1", "", "", ""],
        ["kpis", "1", "1", "ระยะเวลาอนุมัติ", typed, "๑๕", "12"],
    ]), "utf-8")
    code, output, out = fill(data, "kpi")
    assert code == 0, output
    assert read_workbook(out).blocks["kpis"].rows[0]["direction"] == canonical
    assert input_findings(out) == []


def test_every_level_by_its_thai_and_english_name() -> None:
    for spec in TEMPLATES.values():
        for block in spec.blocks:
            col = block.column("level") if block.hierarchical else None
            for level in block.levels:
                assert col is not None
                assert col.canonical(level.th) == level.id and col.canonical(f" {level.en.upper()} ") == level.id


def test_aliases_are_checked_in_the_spec() -> None:
    with pytest.raises(ValueError, match="not one of"):
        Column("x", "x", "x", ColType.CHOICE, choices=("a", "b"), aliases=(("c", "z"),))
    with pytest.raises(ValueError, match="both"):
        Column("x", "x", "x", ColType.CHOICE, choices=("a", "b"), aliases=(("c", "a"), (" C", "b")))


# --------------------------------------------------------------------------- Excel's CSV habits


def test_trailing_empty_columns_and_blank_lines_are_ignored(tmp_path: Path) -> None:
    rows = [[*r, "", ""] for r in DISBURSEMENT_ROWS]
    rows.insert(3, [""] * len(rows[0]))  # an all-comma line in the middle ...
    rows.append([""] * len(rows[0]))  # ... and at the end
    data = tmp_path / "excel.csv"
    data.write_text(csv_text(rows) + "\r\n", "utf-8-sig")
    code, output, out = fill(data)
    assert code == 0, output
    assert "4 แถว/rows" in output
    assert_disbursement_filled(out)


def test_values_under_an_empty_header_are_refused(tmp_path: Path) -> None:
    rows = [[*r, ""] for r in DISBURSEMENT_ROWS]
    rows[3][-1] = "เศษ"
    data = tmp_path / "d.csv"
    data.write_text(csv_text(rows), "utf-8")
    code, output, _ = fill(data)
    assert code == 2 and "J" in output and "บรรทัด/line 4" in output, output


@pytest.mark.parametrize("content", ["", "\r\n\r\n", ",,,\r\n", csv_text(DISBURSEMENT_ROWS[:1]),
                                     csv_text([*DISBURSEMENT_ROWS[:1], [""] * 9])])
def test_empty_or_header_only_csv_is_refused(tmp_path: Path, content: str) -> None:
    data = tmp_path / "empty.csv"
    data.write_text(content, "utf-8")
    code, output, out = fill(data)
    assert code == 2 and not out.exists(), output
    assert len(output.strip().splitlines()) == 1 and "no data" in output and "ไม่มีข้อมูล" in output


def test_fiscal_year_in_thai_digits(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text(csv_text([DISBURSEMENT_ROWS[0], ["๒๕๖๔", *DISBURSEMENT_ROWS[1][1:]]]), "utf-8")
    code, output, out = fill(data)
    assert code == 0, output
    assert read_workbook(out).blocks["lines"].rows[0]["fiscal_year"] == 2564


def test_problems_name_the_line_and_the_header_as_written(tmp_path: Path) -> None:
    rows = [list(r) for r in DISBURSEMENT_ROWS]
    rows[1][5] = "รวม\nทั้งสิ้น"  # a name on two lines: line 2 and 3 of the file
    rows[2][0] = "ปี 64"  # line 4
    rows[3][7] = "หนึ่งพัน"  # line 5
    rows[4][6] = "ไม่ทราบ"  # line 6
    data = tmp_path / "d.csv"
    data.write_text(csv_text(rows), "utf-8")
    code, output, out = fill(data)
    assert code == 2 and not out.exists()
    assert not any(word in output for word in PYDANTIC_INTERNALS), output
    lines = output.strip().splitlines()
    assert len(lines) == 3, output
    assert re.search(r"บรรทัด/line 4\b.*'ปีงบประมาณ \(พ\.ศ\.\)'.*ปี 64", lines[0]), lines[0]
    assert re.search(r"บรรทัด/line 5\b.*'เบิกจ่าย'.*หนึ่งพัน", lines[1]), lines[1]
    assert re.search(r"บรรทัด/line 6\b.*'งบประมาณ'", lines[2]), lines[2]
    assert all(re.search("[ก-๙]", line) and re.search("[a-z]", line) for line in lines)


def test_many_problems_end_with_how_many_more(tmp_path: Path) -> None:
    rows = [DISBURSEMENT_ROWS[0]] + [["2564", "งบกลาง", "project", str(n), "", "x", "abc"] for n in range(12)]
    data = tmp_path / "d.csv"
    data.write_text(csv_text(rows), "utf-8")
    code, output, _ = fill(data)
    lines = output.strip().splitlines()
    assert code == 2 and "บรรทัด/line 2," in lines[0] and len(lines) <= 6
    assert "และอีก 7 รายการ / and 7 more" in lines[-1], output


@pytest.mark.parametrize(("lines", "needles"), [
    ([{"fiscal_year": "สองพัน", "level": "total", "code": "T", "allocated": "abc"},
      {"level": "project", "code": "1", "unknown_key": 1}], ("fiscal_year", "allocated", "unknown_key", "row 2")),
    ([{"level": "total"}, "not a row"], ("lines", "2")),
])
def test_json_problems_are_bilingual_without_pydantic_text(tmp_path: Path, lines: list[Any],
                                                           needles: tuple[str, ...]) -> None:
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"blocks": {"lines": lines}}, ensure_ascii=False), "utf-8")
    code, output, _ = fill(data)
    assert code == 2 and not any(word in output for word in PYDANTIC_INTERNALS), output
    assert all(needle in output for needle in needles), output
    assert all(re.search("[ก-๙]", line) for line in output.strip().splitlines()), output


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize("args", [
    ("validate",),
    ("validate", "--bogus", "x.xlsx"),
    ("batch", "validate", "--jobs", "many", "x.xlsx"),
    ("fill", "kpi"),
    ("nosuchcommand",),
])
def test_usage_errors_are_bilingual(args: tuple[str, ...]) -> None:
    result = subprocess.run([sys.executable, "-m", "osmep_xl", *args], capture_output=True, text=True, timeout=120)
    text = result.stderr + result.stdout
    lines = [line for line in text.splitlines() if line.strip()]
    assert result.returncode == 2 and 1 <= len(lines) <= 2, text
    assert re.search("[ก-๙]", lines[0]) and re.search("[A-Za-z]{4}", lines[0]), text
    assert lines[0].index("ข้อผิดพลาด") < lines[0].index("error")
    assert not any(word in text for word in (*PYDANTIC_INTERNALS, "╭", "Usage:"))


# --------------------------------------------------------------------------- templates show / README


def test_templates_show_lists_columns_and_accepted_values() -> None:
    result = CliRunner().invoke(app, ["templates", "show", "disbursement"])
    assert result.exit_code == 0, result.output
    out = result.output
    for needle in ("เบิกจ่าย", "lines", "budget_source", "แหล่งงบประมาณ / Budget source", "allocated", "money",
                   "งบประมาณรายจ่ายประจำปี", "เงินกองทุนส่งเสริม SME", "total", "รวม", "disbursed+committed"):
        assert needle in out, needle
    kpi = CliRunner().invoke(app, ["templates", "show", "kpi"]).output
    assert "มากกว่าหรือเท่ากับ" in kpi and "ไม่เกิน" in kpi
    bad = CliRunner().invoke(app, ["templates", "show", "nosuch"])
    assert bad.exit_code == 2 and "unknown template" in bad.output


def test_readme_lists_every_accepted_value() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("### Fill data"):readme.index("## The templates")]
    missing = {value for spec in TEMPLATES.values() for block in spec.blocks for col in block.columns
               for canonical, others in col.accepted().items() for value in (canonical, *others)
               if value not in section}
    assert not missing, missing


def test_fold_ignores_case_spaces_and_dots() -> None:
    from osmep_xl.spec.base import fold

    assert fold(" พ.ร.บ. งบประมาณ ") == fold("พรบ.งบประมาณ") == fold("พรบงบประมาณ")
    assert fold("Less  is Better") == fold("less is better")
    assert fold("งบกลาง รายการเงินสำรองจ่าย") == fold("งบกลางรายการเงินส\u0e4d\u0e32รองจ่าย")  # sara am as two marks
