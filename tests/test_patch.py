"""WorkbookPatch: edits reach Excel readers, and every part not edited is carried over byte for byte."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import stat
import zipfile
from collections.abc import Set as AbstractSet
from decimal import Decimal
from pathlib import Path
from xml.etree.ElementTree import canonicalize

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from osmep_xl.xlsx.package import sheet_parts
from osmep_xl.xlsx.patch import (
    PatchError,
    WorkbookPatch,
    _number_text,
    _parse_xml,
    _serialise,
    _shift_formula,
)
from tests.corpus_helpers import VBA_SHA256, macro_workbook, replace_part, rich_workbook, zip_parts
from tests.libreoffice import convert_one as libreoffice_convert
from tests.libreoffice import soffice

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
WORKBOOK_LEVEL = {"xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    return {"rich": rich_workbook(folder), "macro": macro_workbook(folder)}


@pytest.fixture(scope="module")
def lo_corpus(tmp_path_factory: pytest.TempPathFactory, corpus: dict[str, Path]) -> Path:
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    return libreoffice_convert(corpus["rich"], tmp_path_factory.mktemp("lo-corpus"), recalc=False)


def load(path: Path) -> openpyxl.Workbook:
    """openpyxl read-back (with the VBA of an .xlsm, as a macro-aware reader would load it)."""
    wb = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
    if wb.vba_archive is not None:
        wb.vba_archive.close()  # an in-memory copy; left open it fails noisily when garbage-collected
    return wb


def copy_to(src: Path, folder: Path, name: str | None = None) -> Path:
    dst = folder / (name or src.name)
    shutil.copyfile(src, dst)
    return dst


def root_tag(xml: bytes) -> bytes:
    """The root element's start tag (namespace declarations and mc:Ignorable live there)."""
    body = re.sub(rb"^\s*<\?xml[^>]*\?>\s*", b"", xml)
    match = re.match(rb"<[^>]+>", body)
    assert match
    return match.group()


def declarations(tag: bytes) -> set[bytes]:
    return set(re.findall(rb'\sxmlns(?::\w+)?="[^"]*"|\smc:Ignorable="[^"]*"', tag))


def assert_only(src: Path, out: Path, changed: AbstractSet[str], new: AbstractSet[str] = frozenset(),
                removed: AbstractSet[str] = frozenset()) -> None:
    """Every part of ``src`` not listed is byte-identical in ``out`` and keeps its position;
    edited XML parts keep their root's namespace declarations and mc:Ignorable."""
    before, after = zip_parts(src), zip_parts(out)
    for name, data in before.items():
        if name in removed:
            assert name not in after, name
        elif name not in changed:
            assert after[name] == data, f"{name} changed"
    assert set(after) - set(before) == set(new)
    assert [n for n in after if n in before] == [n for n in before if n not in removed]
    for name in changed & set(after):
        if name.endswith(".xml") and name in before:
            assert declarations(root_tag(after[name])) == declarations(root_tag(before[name])), name


def apply_standard_edits(patch: WorkbookPatch, sheet: str) -> None:
    patch.set_cell(sheet, "B2", Decimal("1234.50"))
    patch.set_cell(sheet, "A2", "=1+1 ข้อความ")  # text that looks like a formula stays text
    patch.set_cell(sheet, "B12", Decimal("7"), formula="SUM(B2:B5)")
    patch.highlight(sheet, "B2")
    patch.comment(sheet, "B2", "ตรวจสอบยอด / check this amount")
    patch.add_sheet("ผลตรวจ", [["เซลล์", "ปัญหา"], ["B2", "ยอดไม่ตรง"], [1, Decimal("2.50")]],
                    widths=[12, 40], links={"A2": (sheet, "B2")})


def check_readback(out: Path, sheet: str) -> None:
    wb = load(out)
    ws = wb[sheet]
    assert ws["B2"].value == 1234.5
    assert ws["A2"].value == "=1+1 ข้อความ" and ws["A2"].data_type == "s"
    assert ws["B12"].value == "=SUM(B2:B5)"
    assert ws["B2"].fill.fill_type == "solid" and ws["B2"].fill.fgColor.rgb == "FFFFC7CE"
    assert ws["B2"].comment is not None and ws["B2"].comment.text == "ตรวจสอบยอด / check this amount"
    new = wb["ผลตรวจ"]
    assert [[c.value for c in row] for row in new.iter_rows()] == [
        ["เซลล์", "ปัญหา"], ["B2", "ยอดไม่ตรง"], [1, 2.5]]
    assert new["A1"].font.b and not new["A2"].font.b
    assert new["A2"].hyperlink.location == f"'{sheet}'!B2"
    assert new.column_dimensions["B"].width == 40
    cal = CalamineWorkbook.from_path(str(out))
    assert cal.sheet_names[-1] == "ผลตรวจ"
    rows = cal.get_sheet_by_name(sheet).to_python()
    assert rows[1][0] == "=1+1 ข้อความ" and rows[1][1] == 1234.5 and rows[11][1] == 7
    assert cal.get_sheet_by_name("ผลตรวจ").to_python() == [["เซลล์", "ปัญหา"], ["B2", "ยอดไม่ตรง"], [1, 2.5]]


# --- producers: XlsxWriter, XlsxWriter .xlsm with VBA and a form button, LibreOffice ------------------------


def test_rich_xlsxwriter_workbook(corpus: dict[str, Path], tmp_path: Path) -> None:
    src = corpus["rich"]
    patch = WorkbookPatch(src)
    apply_standard_edits(patch, "Data")
    out = patch.save(tmp_path / "out.xlsx")
    assert_only(src, out, changed=WORKBOOK_LEVEL | {
        "xl/worksheets/sheet1.xml", "xl/comments1.xml", "xl/drawings/vmlDrawing1.vml"},
        new={"xl/worksheets/sheet3.xml"})
    check_readback(out, "Data")
    wb = openpyxl.load_workbook(out)
    data = wb["Data"]
    # Untouched content: other values, formulas, the existing notes, merged range, number format, names.
    assert data["A3"].value == "ค่าเช่า" and data["D3"].value == "=IF(B3=0,0,C3/B3*100)"
    assert data["A1"].comment.text == "หมายเหตุเดิม: original note"
    assert data["C3"].comment.text == "second original note"
    assert "A8:C8" in {str(r) for r in data.merged_cells.ranges}
    assert data["B2"].number_format == "#,##0.00" and data["B2"].border.left.style == "medium"
    assert data["B2"].font.color.rgb == "FF1F4E79"
    assert data["A9"].hyperlink.target == "https://www.example.com/"
    assert wb.defined_names["Budget"].attr_text == "Data!$B$2:$B$5"
    assert wb["Summary"]["B1"].value == "=SUM(Budget)"
    sheet = zip_parts(out)["xl/worksheets/sheet1.xml"]
    # x14 conditional formats and sparklines sit in the sheet's extLst: still there, prefixes intact.
    for marker in (b"<x14:dataBar", b"<x14:sparklineGroups", b'mc:Ignorable="x14ac"',
                   b'x14ac:dyDescent="0.25"',
                   b"<dataValidation ", b'<f t="array" ref="F2:F5">'):
        assert marker in sheet, marker
    book = zip_parts(out)["xl/workbook.xml"].decode()
    assert 'fullCalcOnLoad="1"' in book and '<sheet name="ผลตรวจ" sheetId="3" r:id="rId' in book


def test_macro_workbook_keeps_vba_and_button(corpus: dict[str, Path], tmp_path: Path) -> None:
    src = corpus["macro"]
    patch = WorkbookPatch(src)
    apply_standard_edits(patch, "Sheet1")
    out = patch.save(tmp_path / "out.xlsm")
    assert_only(src, out, changed=WORKBOOK_LEVEL | {
        "xl/worksheets/sheet1.xml", "xl/worksheets/_rels/sheet1.xml.rels", "xl/drawings/vmlDrawing1.vml"},
        new={"xl/worksheets/sheet2.xml", "xl/comments1.xml"})
    parts = zip_parts(out)
    assert parts["xl/vbaProject.bin"] == zip_parts(src)["xl/vbaProject.bin"]
    assert b"macroEnabled.main+xml" in parts["[Content_Types].xml"]
    vml = parts["xl/drawings/vmlDrawing1.vml"]
    # The button is still there and the note went into the same (single) legacy drawing.
    assert b'ObjectType="Button"' in vml and b"[0]!say_hello" in vml and b'ObjectType="Note"' in vml
    assert vml.startswith(zip_parts(src)["xl/drawings/vmlDrawing1.vml"][:-len(b"</xml>")])
    assert len(re.findall(rb'id="(_x0000_s\d+)"', vml)) == len(set(re.findall(rb'id="(_x0000_s\d+)"', vml)))
    sheet = parts["xl/worksheets/sheet1.xml"]
    assert sheet.count(b"<legacyDrawing") == 1 and b'<sheetPr codeName="Sheet1"/>' in sheet
    check_readback(out, "Sheet1")
    assert load(out)["Sheet1"]["A3"].value == "=A2*2"


def test_vba_fixture_is_the_real_project(corpus: dict[str, Path]) -> None:
    """The fixture is the project it claims (ThisWorkbook, Sheet1, Module1 with the macro say_hello), as
    oletools reads it, and the macro workbook of the corpus carries exactly those bytes."""
    import warnings

    from tests.corpus_helpers import vba_project

    with warnings.catch_warnings():  # oletools still uses pyparsing's old names
        warnings.simplefilter("ignore", DeprecationWarning)
        from oletools.olevba import VBA_Parser

    data = vba_project()
    assert hashlib.sha256(data).hexdigest() == VBA_SHA256
    parser = VBA_Parser("vbaProject.bin", data=data)
    try:
        modules = {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()
    assert {"ThisWorkbook", "Sheet1", "Module1"} <= modules.keys()
    assert re.search(r"^Sub say_hello\(\)", modules["Module1"], re.M)
    assert zip_parts(corpus["macro"])["xl/vbaProject.bin"] == data


@pytest.mark.libreoffice
def test_libreoffice_saved_workbook(lo_corpus: Path, tmp_path: Path) -> None:
    src = lo_corpus
    parts = sheet_parts(zipfile.ZipFile(src))
    sheet_part = parts["Data"]
    rels = f"xl/worksheets/_rels/{sheet_part.rsplit('/', 1)[1]}.rels"
    before = zip_parts(src)
    comments = next(n for n in before if re.fullmatch(r"xl/comments\d*\.xml", n))
    vml = next(n for n in before if n.endswith(".vml"))
    patch = WorkbookPatch(src)
    apply_standard_edits(patch, "Data")
    out = patch.save(tmp_path / "out.xlsx")
    new = set(zip_parts(out)) - set(before)
    assert len(new) == 1 and next(iter(new)).startswith("xl/worksheets/sheet")
    assert_only(src, out, changed=WORKBOOK_LEVEL | {sheet_part, comments, vml, rels}, new=new)
    assert zip_parts(out).get(rels) == before[rels]  # notes existed: no new relationship needed
    check_readback(out, "Data")
    for name, data in before.items():  # LibreOffice's XML survives our parser + writer unchanged
        if name.endswith((".xml", ".rels")):
            again = _serialise(_parse_xml(data, name))
            assert canonicalize(again) == canonicalize(data), name
            assert declarations(root_tag(again)) == declarations(root_tag(data)), name


# --- LibreOffice opens what we write -------------------------------------------------------------------


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["rich", "macro"])
def test_libreoffice_opens_patched_file(corpus: dict[str, Path], tmp_path: Path, name: str) -> None:
    src = corpus[name]
    sheet = "Data" if name == "rich" else "Sheet1"
    patch = WorkbookPatch(src)
    apply_standard_edits(patch, sheet)
    amounts = {"B2": Decimal("1234.50"), "B3": 2000, "B4": 300, "B5": Decimal("450.5")}
    for ref, amount in amounts.items():
        patch.set_cell(sheet, ref, amount)
    out = patch.save(tmp_path / src.name)
    # Recalculating on load: B12 = SUM(B2:B5) must be LibreOffice's own result from the new B2.
    converted = libreoffice_convert(out, tmp_path / "lo", recalc=True)
    wb = openpyxl.load_workbook(converted)
    ws = wb[sheet]
    assert ws["B2"].value == 1234.5 and ws["A2"].value == "=1+1 ข้อความ"
    assert ws["B12"].value == "=SUM(B2:B5)"
    assert ws["B2"].comment is not None and "check this amount" in ws["B2"].comment.text
    assert ws["B2"].fill.fgColor.rgb == "FFFFC7CE"
    assert [[c.value for c in r] for r in wb["ผลตรวจ"].iter_rows()][1] == ["B2", "ยอดไม่ตรง"]
    csv_filter = "csv:Text - txt - csv (StarCalc):44,34,76,1"
    csv = libreoffice_convert(out, tmp_path / "csv", csv_filter, recalc=True)
    lines = csv.read_text("utf-8").splitlines()
    assert lines[1].startswith('"=1+1 ข้อความ",')
    total = sum(amounts.values())
    assert total != 7 and Decimal(lines[11].split(",")[1]) == total  # recalculated: the cached value was 7


# --- cells ---------------------------------------------------------------------------------------------


def hand_sheet(tmp_path: Path, sheet_xml: str, name: str = "hand.xlsx") -> Path:
    """An XlsxWriter workbook whose first sheet is replaced by hand-written XML."""
    import xlsxwriter

    path = tmp_path / name
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("S")
    wb.add_worksheet("Other").write("A1", "shared")  # sharedStrings.xml index 0, used by t="s" cells
    wb.close()
    replace_part(path, "xl/worksheets/sheet1.xml", sheet_xml.encode())
    return path


SHARED = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" \
xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" \
xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" \
xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" \
mc:Ignorable="x14ac xr" xr:uid="{00000000-0001-0000-0000-000000000000}">
<dimension ref="A1:D5"/><sheetData>
<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>10</v></c></row>
<row r="2"><c r="A2"><v>2</v></c><c r="C2">\
<f t="shared" ref="C2:D5" si="0">A2*$B$1+SUM(A$1:A2)&amp;"A1"&amp;'Other'!B2</f><v>0</v></c>\
<c r="D2"><f t="shared" si="0"/><v>0</v></c></row>
<row r="3"><c r="A3"><v>3</v></c><c r="C3"><f t="shared" si="0"/><v>0</v></c>\
<c r="D3"><f t="shared" si="0"/></c></row>
<row r="4"><c r="C4"><f t="shared" si="0"/><v>0</v></c><c r="D4"><f t="shared" si="0"/></c></row>
<row r="5"><c r="C5"><f t="shared" si="0"/><v>0</v></c><c r="D5" s="0" t="s"><v>0</v></c></row>
</sheetData></worksheet>"""


def formulas(path: Path, part: str = "xl/worksheets/sheet1.xml") -> dict[str, tuple[str, dict[str, str]]]:
    root = _parse_xml(zip_parts(path)[part], part).root
    out = {}
    for c in root.iter(f"{{{NS['m']}}}c"):
        f = c.find("m:f", NS)
        if f is not None:
            out[c.get("r", "")] = (f.text or "", dict(f.attrib))
    return out


def test_shared_formula_master_edit_materialises_dependents(tmp_path: Path) -> None:
    src = hand_sheet(tmp_path, SHARED)
    patch = WorkbookPatch(src)
    patch.set_cell("S", "C2", 5)
    patch.set_cell("S", "C4", formula="A4*2", value=6)  # an edited dependent simply leaves the group
    out = patch.save(tmp_path / "out.xlsx")
    got = formulas(out)
    assert "C2" not in got
    assert got["D2"] == ("B2*$B$1+SUM(B$1:B2)&\"A1\"&'Other'!C2", {})
    assert got["C3"] == ("A3*$B$1+SUM(A$1:A3)&\"A1\"&'Other'!B3", {})
    assert got["D3"] == ("B3*$B$1+SUM(B$1:B3)&\"A1\"&'Other'!C3", {})
    assert got["C4"] == ("A4*2", {})
    assert got["D4"] == ("B4*$B$1+SUM(B$1:B4)&\"A1\"&'Other'!C4", {})
    assert got["C5"] == ("A5*$B$1+SUM(A$1:A5)&\"A1\"&'Other'!B5", {})
    ws = openpyxl.load_workbook(out)["S"]
    assert ws["C2"].value == 5 and ws["C5"].value == "=A5*$B$1+SUM(A$1:A5)&\"A1\"&'Other'!B5"
    sheet = zip_parts(out)["xl/worksheets/sheet1.xml"]
    assert root_tag(sheet) == root_tag(SHARED.encode())  # mc:Ignorable prefixes stay declared


def test_shared_formula_dependent_edit_leaves_group(tmp_path: Path) -> None:
    src = hand_sheet(tmp_path, SHARED)
    patch = WorkbookPatch(src)
    patch.set_cell("S", "D3", "text")
    out = patch.save(tmp_path / "out.xlsx")
    got = formulas(out)
    assert "D3" not in got
    assert got["C2"][1] == {"t": "shared", "ref": "C2:D5", "si": "0"}
    assert got["C3"] == ("", {"t": "shared", "si": "0"})


def test_set_cell_formula_drops_shared_string_type_and_constant_drops_formula(tmp_path: Path) -> None:
    src = hand_sheet(tmp_path, SHARED)
    patch = WorkbookPatch(src)
    patch.set_cell("S", "D5", "ข้อความ", formula='"ข้อ"&"ความ"')
    patch.set_cell("S", "D2", True)
    patch.set_cell("S", "A1", None)
    out = patch.save(tmp_path / "out.xlsx")
    sheet = zip_parts(out)["xl/worksheets/sheet1.xml"].decode()
    assert '<c r="D5" s="0" t="str"><f>"ข้อ"&amp;"ความ"</f><v>ข้อความ</v></c>' in sheet
    assert '<c r="D2" t="b"><v>1</v></c>' in sheet and '<c r="A1"/>' in sheet
    cal = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("S").to_python()
    assert cal[4][3] == "ข้อความ" and cal[1][3] is True


@pytest.mark.parametrize(("formula", "drow", "dcol", "expected"), [
    ("A1+B2", 1, 1, "B2+C3"),
    ("$A1+A$1+$A$1", 2, 2, "$A3+C$1+$A$1"),
    ("SUM(A:A,1:1,$B:C)", 1, 1, "SUM(B:B,2:2,$B:D)"),
    ('"A1"&A1&\'A1 x\'!A1', 1, 0, '"A1"&A2&\'A1 x\'!A2'),
    ("LOG10(A1)+_xlfn.XLOOKUP(A1,B:B,C:C)+Table1[Col A1]", 0, 1,
     "LOG10(B1)+_xlfn.XLOOKUP(B1,C:C,D:D)+Table1[Col A1]"),
    ("A1048576+XFD1", 1, 1, "#REF!+#REF!"),
    ("1E5+A1*2.5E+3+TAX2020", 1, 0, "1E5+A2*2.5E+3+TAX2021"),
    ("ยอดรวม+A1", 1, 0, "ยอดรวม+A2"),
])
def test_shift_formula(formula: str, drow: int, dcol: int, expected: str) -> None:
    assert _shift_formula(formula, drow, dcol) == expected


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 40), st.booleans(), st.integers(1, 500)), min_size=1,
                max_size=5), st.integers(0, 20), st.integers(0, 20))
def test_shift_formula_round_trips(refs: list[tuple[bool, int, bool, int]], drow: int, dcol: int) -> None:
    def ref(c: int, r: int, abs_c: bool, abs_r: bool) -> str:
        letters = openpyxl.utils.get_column_letter(c + 1)
        return f"{'$' if abs_c else ''}{letters}{'$' if abs_r else ''}{r}"

    formula = "+".join(ref(c, r, ac, ar) for ac, c, ar, r in refs)
    moved = "+".join(ref(c if ac else c + dcol, r if ar else r + drow, ac, ar) for ac, c, ar, r in refs)
    assert _shift_formula(formula, drow, dcol) == moved
    assert _shift_formula(moved, -drow, -dcol) == formula


def test_dynamic_array_master_overwrite_clears_spill(corpus: dict[str, Path], tmp_path: Path) -> None:
    patch = WorkbookPatch(corpus["rich"])
    with pytest.raises(PatchError, match="array formula"):
        patch.set_cell("Data", "F3", 1)
    patch.set_cell("Data", "F2", 99)
    out = patch.save(tmp_path / "out.xlsx")
    sheet = zip_parts(out)["xl/worksheets/sheet1.xml"].decode()
    assert '<c r="F2"><v>99</v></c>' in sheet and '<c r="F3"/>' in sheet and 'cm="1"' not in sheet
    assert zip_parts(out)["xl/metadata.xml"] == zip_parts(corpus["rich"])["xl/metadata.xml"]


def test_new_cells_keep_row_and_column_order(tmp_path: Path) -> None:
    src = hand_sheet(tmp_path, SHARED)
    patch = WorkbookPatch(src)
    for ref in ("B3", "AA1", "A7", "E1", "B6", "B1"):
        patch.set_cell("S", ref, 1)
    out = patch.save(tmp_path / "out.xlsx")
    root = _parse_xml(zip_parts(out)["xl/worksheets/sheet1.xml"], "s").root
    rows = root.findall("m:sheetData/m:row", NS)
    assert [int(r.get("r", "0")) for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert [c.get("r") for c in rows[0]] == ["A1", "B1", "E1", "AA1"]
    assert [c.get("r") for c in rows[2]] == ["A3", "B3", "C3", "D3"]
    assert root.find("m:dimension", NS).get("ref") == "A1:AA7"  # type: ignore[union-attr]


def test_new_cell_inherits_column_style(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "cols.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.set_column("C:C", 12, wb.add_format({"num_format": "0.000"}))
    ws.write("A1", 1)
    wb.close()
    patch = WorkbookPatch(path)
    patch.set_cell("S", "C5", Decimal("1.5"))
    patch.highlight("S", "C6")
    out = patch.save(tmp_path / "out.xlsx")
    ws2 = openpyxl.load_workbook(out)["S"]
    assert ws2["C5"].number_format == "0.000" and ws2["C5"].value == 1.5
    assert ws2["C6"].number_format == "0.000" and ws2["C6"].fill.fgColor.rgb == "FFFFC7CE"


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("1E+2"), "100"), (Decimal("1.50"), "1.5"), (Decimal("-0.00"), "0"),
    (Decimal("1E-7"), "0.0000001"),
    (0.1, "0.1"), (2.0, "2"), (1e20, "1e+20"), (-0.0, "0"), (12345678901234567890, "12345678901234567890"),
])
def test_number_text(value: Decimal | float | int, text: str) -> None:
    assert _number_text(value) == text


@pytest.mark.parametrize("bad", [Decimal("NaN"), float("inf"), Decimal("1E+400")])
def test_unstorable_numbers_refused(corpus: dict[str, Path], bad: Decimal | float) -> None:
    with pytest.raises(PatchError, match="cannot be stored"):
        WorkbookPatch(corpus["rich"]).set_cell("Data", "A1", bad)


def test_text_escapes_control_characters(corpus: dict[str, Path], tmp_path: Path) -> None:
    patch = WorkbookPatch(corpus["rich"])
    patch.set_cell("Summary", "C1", " bell\x07 _x0041_ ")
    out = patch.save(tmp_path / "out.xlsx")
    sheet = zip_parts(out)["xl/worksheets/sheet2.xml"].decode()
    assert '<t xml:space="preserve"> bell_x0007_ _x005F_x0041_ </t>' in sheet


# --- styles, notes, sheets -----------------------------------------------------------------------------


def test_highlight_reuses_styles_across_runs(corpus: dict[str, Path], tmp_path: Path) -> None:
    patch = WorkbookPatch(corpus["rich"])
    for ref in ("B2", "B3", "C2", "A1"):
        patch.highlight("Data", ref)
    first = patch.save(tmp_path / "first.xlsx")
    ws = openpyxl.load_workbook(first)["Data"]
    assert ws["B2"].style_id == ws["B3"].style_id == ws["C2"].style_id != ws["A1"].style_id
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb == "FFFFC7CE"
    assert ws["B2"].number_format == "#,##0.00"
    assert_only(corpus["rich"], first, changed={"xl/styles.xml", "xl/worksheets/sheet1.xml"})
    again = WorkbookPatch(first)
    again.highlight("Data", "B4")
    again.highlight("Data", "B2", "#00FF00")
    second = again.save(tmp_path / "second.xlsx")
    styles = zip_parts(second)["xl/styles.xml"]
    assert styles.count(b'rgb="FFFFC7CE"') == zip_parts(first)["xl/styles.xml"].count(b'rgb="FFFFC7CE"')
    assert openpyxl.load_workbook(second)["Data"]["B2"].fill.fgColor.rgb == "FF00FF00"
    with pytest.raises(PatchError, match="colour"):
        again.highlight("Data", "B2", "red")


def test_comment_on_sheet_without_notes_makes_new_parts(corpus: dict[str, Path], tmp_path: Path) -> None:
    patch = WorkbookPatch(corpus["rich"])
    patch.comment("Summary", "B1", "first", author="ผู้ตรวจ")
    patch.comment("Summary", "A2", "second")
    patch.comment("Summary", "B1", "replaced")
    out = patch.save(tmp_path / "out.xlsx")
    assert_only(corpus["rich"], out,
                changed={"[Content_Types].xml", "xl/worksheets/sheet2.xml"},
                new={"xl/comments2.xml", "xl/drawings/vmlDrawing2.vml",
                     "xl/worksheets/_rels/sheet2.xml.rels"})
    parts = zip_parts(out)
    vml = parts["xl/drawings/vmlDrawing2.vml"]
    assert b'data="2"' in vml and vml.count(b'ObjectType="Note"') == 2  # idmap block differs from drawing 1
    assert b'Extension="vml"' in parts["[Content_Types].xml"]
    ws = openpyxl.load_workbook(out)["Summary"]
    assert ws["B1"].comment.text == "replaced" and ws["A2"].comment.text == "second"
    assert ws["B1"].comment.author == "osmep_xl"
    assert openpyxl.load_workbook(out)["Data"]["A1"].comment.text == "หมายเหตุเดิม: original note"


def test_comment_replaces_existing_note(corpus: dict[str, Path], tmp_path: Path) -> None:
    patch = WorkbookPatch(corpus["rich"])
    patch.comment("Data", "A1", "แทนที่ / replaced")
    out = patch.save(tmp_path / "out.xlsx")
    assert_only(corpus["rich"], out, changed={"xl/comments1.xml"})  # the VML already has A1's shape
    ws = openpyxl.load_workbook(out)["Data"]
    assert ws["A1"].comment.text == "แทนที่ / replaced" and ws["C3"].comment.text == "second original note"
    assert zip_parts(out)["xl/comments1.xml"].count(b"<comment ") == 2


def test_add_sheet_replaces_same_name_in_place(corpus: dict[str, Path], tmp_path: Path) -> None:
    first = WorkbookPatch(corpus["macro"])
    first.add_sheet("ผลตรวจ", [["h"], ["old"]])
    once = first.save(tmp_path / "once.xlsm")
    second = WorkbookPatch(once)
    second.add_sheet("ผลตรวจ", [["h"], ["new"], ["rows"]], header_rows=0)
    twice = second.save(tmp_path / "twice.xlsm")
    assert_only(once, twice, changed={"xl/worksheets/sheet2.xml", "xl/workbook.xml"})
    wb = load(twice)
    assert wb.sheetnames == ["Sheet1", "ผลตรวจ"]
    assert [r[0].value for r in wb["ผลตรวจ"].iter_rows()] == ["h", "new", "rows"]


def test_add_sheet_replacement_keeps_vba_code_name(tmp_path: Path) -> None:
    import xlsxwriter

    from tests.corpus_helpers import vba_project

    path = tmp_path / "codename.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    wb.set_vba_name("ThisWorkbook")
    wb.add_worksheet("Sheet1").set_vba_name("Sheet1")
    notes = wb.add_worksheet("It's notes")
    notes.set_vba_name("Sheet2")
    notes.write("A1", "old")
    wb.add_vba_project(io.BytesIO(vba_project()), is_stream=True)
    wb.close()
    patch = WorkbookPatch(path)
    patch.add_sheet("it's NOTES", [["new"], ["link"]], links={"A2": ("It's notes", "$A$1:B2")})
    out = patch.save(tmp_path / "out.xlsm")
    sheet = zip_parts(out)["xl/worksheets/sheet2.xml"].decode()
    assert '<sheetPr codeName="Sheet2"/>' in sheet
    assert "location=\"'It''s notes'!A1:B2\"" in sheet
    wb2 = load(out)
    assert wb2.sheetnames == ["Sheet1", "It's notes"] and wb2["It's notes"]["A1"].value == "new"


def test_add_sheet_refusals(corpus: dict[str, Path]) -> None:
    patch = WorkbookPatch(corpus["rich"])
    with pytest.raises(PatchError, match="not replaced"):
        patch.add_sheet("data", [["x"]])  # the Data sheet holds notes, a chart: replacing would orphan them
    macro = WorkbookPatch(corpus["macro"])
    with pytest.raises(PatchError, match="not replaced"):
        macro.add_sheet("Sheet1", [["x"]])  # has a VML button
    for bad in ("", "a" * 32, "a/b", "'x", "History"):
        with pytest.raises(PatchError, match="sheet name"):
            patch.add_sheet(bad, [])
    with pytest.raises(PatchError, match="not found"):
        patch.add_sheet("Links", [["x"]], links={"A1": ("Nope", "A1")})
    with pytest.raises(PatchError, match="cell address"):
        patch.add_sheet("Links", [["x"]], links={"A1": ("Data", "A1:B")})


# --- package-level behaviour ---------------------------------------------------------------------------


def test_calc_chain_removed_only_when_formulas_change(corpus: dict[str, Path], tmp_path: Path) -> None:
    src = copy_to(corpus["rich"], tmp_path)
    parts = zip_parts(src)
    chain = (b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<c r="D2" i="1"/></calcChain>')
    parts["xl/calcChain.xml"] = chain
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/calcChain" Target="calcChain.xml"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.calcChain+xml"/></Types>')
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    styled = WorkbookPatch(src)
    styled.highlight("Data", "D2")
    kept = styled.save(tmp_path / "kept.xlsx")
    assert zip_parts(kept)["xl/calcChain.xml"] == chain
    assert_only(src, kept, changed={"xl/styles.xml", "xl/worksheets/sheet1.xml"})
    edited = WorkbookPatch(src)
    edited.set_cell("Data", "D2", 1)  # a formula cell becomes a constant: the chain is stale
    out = edited.save(tmp_path / "out.xlsx")
    assert_only(src, out, changed=WORKBOOK_LEVEL - {"xl/styles.xml"} | {"xl/worksheets/sheet1.xml"},
                removed={"xl/calcChain.xml"})
    after = zip_parts(out)
    assert b"calcChain" not in after["xl/_rels/workbook.xml.rels"]
    assert b"calcChain" not in after["[Content_Types].xml"]
    openpyxl.load_workbook(out)


def test_in_place_save(corpus: dict[str, Path], tmp_path: Path) -> None:
    src = copy_to(corpus["macro"], tmp_path)
    os.chmod(src, 0o640)
    original = src.read_bytes()
    patch = WorkbookPatch(src)
    patch.set_cell("Sheet1", "A2", 11)
    assert patch.save(src) == src
    assert src.read_bytes() != original and stat.S_IMODE(src.stat().st_mode) == 0o640
    assert load(src)["Sheet1"]["A2"].value == 11
    assert [p.name for p in tmp_path.iterdir()] == [src.name]


def test_save_through_symlink_keeps_link(corpus: dict[str, Path], tmp_path: Path) -> None:
    real = copy_to(corpus["rich"], tmp_path, "real.xlsx")
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    patch = WorkbookPatch(link)
    patch.set_cell("Summary", "B2", 43)
    patch.save(link)
    assert link.is_symlink() and openpyxl.load_workbook(real)["Summary"]["B2"].value == 43


def test_failed_save_leaves_original_untouched(corpus: dict[str, Path], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    src = copy_to(corpus["rich"], tmp_path)
    original = src.read_bytes()
    patch = WorkbookPatch(src)
    patch.set_cell("Data", "B2", 1)

    def boom(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(PatchError, match="unchanged"):
        patch.save(src)
    assert src.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == [src.name]  # no temp file left behind
    monkeypatch.undo()
    patch.save(src)  # the same patch can still be written afterwards
    assert openpyxl.load_workbook(src)["Data"]["B2"].value == 1


def test_refusals(corpus: dict[str, Path], tmp_path: Path) -> None:
    patch = WorkbookPatch(corpus["rich"])
    with pytest.raises(PatchError, match="not found"):
        patch.set_cell("Nope", "A1", 1)
    for bad in ("A0", "1A", "XFE1", "A1048577", "", "A1:B2"):
        with pytest.raises(PatchError, match="cell address"):
            patch.set_cell("Data", bad, 1)
    with pytest.raises(PatchError, match="merged"):
        patch.set_cell("Data", "B8", 1)
    with pytest.raises(PatchError, match="formula"):
        patch.set_cell("Data", "A1", formula="=")
    with pytest.raises(PatchError, match=r"\.xlsm"):
        WorkbookPatch(corpus["macro"]).save(tmp_path / "lost-macros.xlsx")
    no_book = tmp_path / "nobook.xlsx"
    with zipfile.ZipFile(no_book, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(PatchError, match=r"xl/workbook\.xml"):
        WorkbookPatch(no_book)
    not_zip = tmp_path / "x.xlsx"
    not_zip.write_bytes(b"\xd0\xcf\x11\xe0 encrypted")
    with pytest.raises(PatchError, match="แก้ไขไฟล์ไม่ได้"):
        WorkbookPatch(not_zip)
    with pytest.raises(PatchError, match="not found"):
        WorkbookPatch(tmp_path / "missing.xlsx")


def test_table_header_cells_refused(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "table.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("T")
    ws.add_table("A1:B3", {"columns": [{"header": "Name"}, {"header": "Amount"}]})
    wb.close()
    patch = WorkbookPatch(path)
    with pytest.raises(PatchError, match="table header"):
        patch.set_cell("T", "B1", "Renamed")
    patch.set_cell("T", "B2", 5)
    out = patch.save(tmp_path / "out.xlsx")
    assert openpyxl.load_workbook(out)["T"]["B2"].value == 5


def test_prefixed_main_namespace_keeps_prefix(tmp_path: Path) -> None:
    # Files from the .NET Open XML SDK bind the main namespace to a prefix instead of the default.
    xml = ('<?xml version="1.0" encoding="utf-8"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/'
           'spreadsheetml/2006/main"><x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>'
           "</x:sheetData></x:worksheet>")
    src = hand_sheet(tmp_path, xml)
    patch = WorkbookPatch(src)
    patch.set_cell("S", "B1", "two")
    patch.comment("S", "A1", "note")
    out = patch.save(tmp_path / "out.xlsx")
    sheet = zip_parts(out)["xl/worksheets/sheet1.xml"].decode()
    assert '<x:c r="B1" t="inlineStr"><x:is><x:t>two</x:t></x:is></x:c>' in sheet
    assert "<x:legacyDrawing" in sheet
    assert 'xmlns:r="http://schemas.openxmlformats.org/officeDocument' in sheet
    ws = openpyxl.load_workbook(out)["S"]
    assert ws["A1"].value == 1 and ws["B1"].value == "two" and ws["A1"].comment.text == "note"


def test_serialiser_round_trips_every_part(corpus: dict[str, Path]) -> None:
    for path in corpus.values():
        for name, data in zip_parts(path).items():
            if not name.endswith((".xml", ".rels")):
                continue
            again = _serialise(_parse_xml(data, name))
            assert canonicalize(again) == canonicalize(data), name
            assert root_tag(again) == root_tag(data), name


def test_rows_and_cells_without_r_attributes(tmp_path: Path) -> None:
    xml = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           "<row><c><v>1</v></c><c><v>2</v></c></row><row><c><v>3</v></c></row></sheetData></worksheet>")
    src = hand_sheet(tmp_path, xml)
    patch = WorkbookPatch(src)
    patch.set_cell("S", "C1", 9)
    patch.set_cell("S", "A2", 4)
    out = patch.save(tmp_path / "out.xlsx")
    assert CalamineWorkbook.from_path(str(out)).get_sheet_by_name("S").to_python() == [[1, 2, 9], [4, "", ""]]


def test_package_without_styles_gets_a_stylesheet(tmp_path: Path) -> None:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
        f'Type="{rel}/worksheet" Target="/xl/worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData/></worksheet>',
    }
    src = tmp_path / "bare.xlsx"
    with zipfile.ZipFile(src, "w") as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    patch = WorkbookPatch(src)
    patch.set_cell("S", "B2", "x")
    patch.highlight("S", "B2", "FF0000")
    out = patch.save(tmp_path / "out.xlsx")
    assert_only(src, out, changed={"[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/workbook.xml",
                                   "xl/worksheets/sheet1.xml"}, new={"xl/styles.xml"})
    ws = openpyxl.load_workbook(out)["S"]
    assert ws["B2"].value == "x" and ws["B2"].fill.fgColor.rgb == "FFFF0000"
