"""The fast byte scan of sheet XML finds exactly what a full XML parse finds."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from osmep_xl.a1 import column_index
from osmep_xl.data import load_report
from osmep_xl.spec import TEMPLATES
from osmep_xl.xlsx import package
from osmep_xl.xlsx.formula_scan import MAX_ROW_DIGITS
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.package import _scan_sheet_xml, scan_sheet, sheet_parts
from tests.corpus_helpers import rich_workbook
from tests.libreoffice import convert_one, soffice


def _compare(path: Path) -> int:
    compared = 0
    with zipfile.ZipFile(path) as zf:
        for part in sheet_parts(zf).values():
            fast, full = scan_sheet(zf, part), _scan_sheet_xml(zf, part)
            assert fast.formulas.keys() == full.formulas.keys(), part
            assert fast.errors == full.errors, part
            for ref, text in full.formulas.items():
                assert fast.formulas[ref] == text, (part, ref)
            compared += len(full.formulas) + len(full.errors)
    return compared


def test_generated_workbooks(tmp_path: Path) -> None:
    assert sum(_compare(write_workbook(load_report(t), tmp_path / f"{t}.xlsx")) for t in TEMPLATES) > 100


@pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")
def test_rich_workbook(tmp_path: Path) -> None:
    path = rich_workbook(tmp_path)
    # openpyxl, an independent reader, counts the formula cells (array formulas too) and error cells
    # of every sheet: both scans must have found each of them (no formula here caches an error, which
    # _compare would count twice).
    book = openpyxl.load_workbook(path)
    cells = [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row]
    expected = sum(cell.data_type in ("f", "e") for cell in cells)
    assert expected > 0
    assert _compare(path) == expected


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_output_with_shared_formulas_and_errors(tmp_path: Path) -> None:
    import xlsxwriter

    src = tmp_path / "src.xlsx"
    book = xlsxwriter.Workbook(src)
    ws = book.add_worksheet("S")
    for r in range(20):
        ws.write_number(r, 0, r)
        ws.write_formula(r, 1, f"=A{r + 1}*2&\"<&>\"")
        ws.write_formula(r, 2, f"=1/A{r + 1}")  # row 1 divides by zero
    book.close()
    out = convert_one(src, tmp_path / "lo")
    assert _compare(out) >= 41
    with zipfile.ZipFile(out) as zf:
        scan = scan_sheet(zf, sheet_parts(zf)["S"])
    assert scan.errors == {"C1": "#DIV/0!"}
    assert scan.formulas["B1"] == 'A1*2&"<&>"'


def _sheet_zip(path: Path, cells: str, prefix: str = "", after: str = "") -> Path:
    """A package holding one sheet part whose <sheetData> is ``cells`` (elements written with ``prefix``),
    followed by ``after``."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"' if not prefix else \
        f'xmlns:{prefix[:-1]}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    xml = (f'<?xml version="1.0"?><{prefix}worksheet {ns}><{prefix}sheetData>{cells}</{prefix}sheetData>'
           f'{after}</{prefix}worksheet>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/worksheets/sheet1.xml", xml)
    return path


@pytest.mark.parametrize("prefix", ["", "x:"])
def test_formula_cells_come_placed_whatever_the_attribute_order(tmp_path: Path, prefix: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The address is matched wherever it sits among the cell's attributes, and split into its place, by
    the byte scan itself (the full parse is only for cells without an address)."""
    from osmep_xl.xlsx import package

    p = prefix
    cells = (f'<{p}row r="2"><{p}c s="1" r="B2"><{p}f>A2*2</{p}f><{p}v>2</{p}v></{p}c>'
             f'<{p}c r="C2" t="str"><{p}f>"a&amp;b"</{p}f><{p}v>a&amp;b</{p}v></{p}c>'
             f'<{p}c r="D2"><{p}v>5</{p}v></{p}c></{p}row>'
             f'<{p}row r="30"><{p}c r="AB30"><{p}f/><{p}v>1</{p}v></{p}c></{p}row>')
    with zipfile.ZipFile(_sheet_zip(tmp_path / "s.xlsx", cells, prefix)) as zf:
        full = _scan_sheet_xml(zf, "xl/worksheets/sheet1.xml")
        monkeypatch.setattr(package, "_scan_sheet_xml", lambda *args: pytest.fail("fell back to the full parse"))
        fast = scan_sheet(zf, "xl/worksheets/sheet1.xml")
    assert fast.formula_positions() == {(1, 1): "A2*2", (1, 2): '"a&b"', (29, 27): ""}
    assert fast.formulas == full.formulas == {"B2": "A2*2", "C2": '"a&b"', "AB30": ""}
    assert full.formula_positions() == fast.formula_positions()


def test_a_formula_cell_without_an_address_is_placed_by_the_full_parse(tmp_path: Path) -> None:
    cells = '<row r="3"><c r="A3"><v>1</v></c><c><f>A3+1</f><v>2</v></c><c r="C3"><f>B3+1</f></c></row>'
    with zipfile.ZipFile(_sheet_zip(tmp_path / "s.xlsx", cells)) as zf:
        scan = scan_sheet(zf, "xl/worksheets/sheet1.xml")
    assert scan.formulas == {"B3": "A3+1", "C3": "B3+1"}
    assert scan.formula_positions() == {(2, 1): "A3+1", (2, 2): "B3+1"}


def test_a_sheet_scanned_in_small_pieces_finds_what_the_full_parse_finds(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces are cut after a row's closing tag, so no cell spans two, however small they are; what follows
    the sheet data (conditional formats, validations) is not scanned."""
    from osmep_xl.xlsx import package

    monkeypatch.setattr(package, "_PIECE", 211)  # the root element fits in the first
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><f>A{r}*2</f><v>{2 * r}</v></c>'
                   f'<c r="C{r}" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>' for r in range(1, 60))
    after = ('<conditionalFormatting sqref="A1"><cfRule type="expression"><formula>A1&gt;0</formula></cfRule>'
             '</conditionalFormatting>' * 40)
    path = _sheet_zip(tmp_path / "s.xlsx", rows, after=after)
    with zipfile.ZipFile(path) as zf:
        full = _scan_sheet_xml(zf, "xl/worksheets/sheet1.xml")
        whole = zf.read
        monkeypatch.setattr(zf, "read", lambda *args: pytest.fail("scanned whole, not in pieces"))
        fast = scan_sheet(zf, "xl/worksheets/sheet1.xml")
        monkeypatch.setattr(zf, "read", whole)
    assert len(fast.formulas) == 2 * 59
    assert fast.formulas == full.formulas
    assert fast.errors == full.errors and len(fast.errors) == 59


def test_a_cell_listed_twice_keeps_its_later_formula_as_the_full_parse_does(tmp_path: Path) -> None:
    cells = '<row r="1"><c r="A1"><f>1+1</f></c><c r="B1"><f>2+2</f></c><c r="A1"><f>3+3</f></c></row>'
    with zipfile.ZipFile(_sheet_zip(tmp_path / "s.xlsx", cells)) as zf:
        fast, full = scan_sheet(zf, "xl/worksheets/sheet1.xml"), _scan_sheet_xml(zf, "xl/worksheets/sheet1.xml")
    assert fast.formulas == full.formulas == {"A1": "3+3", "B1": "2+2"}
    assert fast.formula_positions() == {(0, 0): "3+3", (0, 1): "2+2"}


@pytest.mark.parametrize("texts", [
    [b"A1*2", b'"a&amp;b"&amp;C1', "\"บาท\"&A1".encode(), b"", b"SUM(A1:A9)"],
    [b"A1", b"B\x002", b"C&lt;3"],  # a NUL: decoded one by one
])
def test_formula_texts_decoded_at_once_are_decoded_as_one_by_one(texts: list[bytes]) -> None:
    from osmep_xl.xlsx.package import _formula_text, _formula_texts

    assert _formula_texts(texts) == [_formula_text(t) for t in texts]


def test_a_formula_text_not_utf8_fails_as_it_does_alone() -> None:
    from osmep_xl.xlsx.package import _formula_text, _formula_texts

    with pytest.raises(UnicodeDecodeError) as alone:
        _formula_text(b"A\xff1")
    with pytest.raises(UnicodeDecodeError) as at_once:
        _formula_texts([b"B2", b"A\xff1"])
    assert str(at_once.value) == str(alone.value)


# Cells in the forms writers use and in forms only the general pattern reads: every mix of them must give
# what the general pattern gives, whether usual_formula_cells reads it or leaves it to that pattern.
_USUAL_CELLS = ['<c r="B2" s="3"><f>A2*2</f><v>2</v></c>', '<c r="AB30"><f>SUM(A1:A9)</f></c>',
                '<c r="C7" t="str"><f>"a&amp;b"</f><v>a&amp;b</v></c>', '<c r="D4"><v>5</v></c>',
                '<c r="E1" t="e"><f>1/0</f><v>#DIV/0!</v></c>', '<c r="F9" s="1"/>',
                '<c r="G3" t="s"><v>12</v></c>', '<c r="XFD1048576"><f></f></c>', '<c r="H007"><f>A1>0</f></c>',
                '<c r="I123456789" s="1" t="str" cm="1" vm="1"><f>"long start tag"</f></c>',  # past the window
                '<c r="J8" s="1" t="str"  cm="12"><f>"start tag just the window\'s width"</f></c>']
_UNUSUAL_CELLS = ['<c s="1" r="H2"><f>A1</f></c>', '<c r="I2">\n  <f>A1+1</f></c>',
                  '<c r="J2"><f t="shared" ref="J2:J9" si="0">A2</f></c>', '<c r="K2"><f t="shared" si="0"/></c>',
                  '<c r="L2"><f/></c>',
                  '<c r="M2" t="inlineStr"><is><r><rPr><family val="2"/></rPr><t>x</t></r></is></c>',
                  '<c r="N2"/><f>A1</f>', '<c r="O2" x="a/b"><f>A3</f></c>', '<c r="P2" <c r="Q2"><f>A4</f></c>',
                  '<c><f>A5</f></c>', '<c r="R2"><f>A6</f> </c>', '<c  r="S2"><f>A7</f></c>',
                  '<c r="T2" ><f>A8</f></c>', '<c r="U2"><f >A9</f></c>', '<c r="v2"><f>B1</f></c>',
                  '<c r="W2" s="<f>"><f>B2</f></c>', '<cx r="X2"><f>B3</f></cx>',
                  '<c s="1" r="Y2" <c r="Z2"><f>B4</f></c>',
                  '<c r="ABCD2"><f>B5</f></c>', '<c r="A1234567890"><f>B6</f></c>', '<c r="A0000000001"><f>B7</f></c>',
                  '<c r="A1B2"><f>B8</f></c>', '<c r="2"><f>B9</f></c>', '<c r="B"><f>C1</f></c>',
                  '<c r=""><f>C2</f></c>',
                  '<c r="C3" s="1" t="str" cm="1" x="a/b"><f>C3</f></c>', '<c r="C4" x=">"><f>C4</f></c>',
                  '<c r="C5"><f>C5</f><f>C6</f></c>', '<c r="C7"><f>C<7</f></c>', '<c r="C8"><f>C8</ f></c>',
                  '<c r="C9"><f>C9</f><c r="D9"><f>D9</f></c>', '<c r="D1"><f>D1</f', '<c r="D2"/><f',
                  '<c r="D3"><f>\0</f></c>', '<c r="A1x"><f>D4</f></c>', '<c r="A1 "><f>D5</f></c>',
                  '<c r="D6" s="1" t="str" cm="1" x=">"><f>D6</f></c>', '<c r="D7" x="/"/><f>D7</f>',
                  '<c r="D8"><f>D8</g></c>', '<c r="D9"><f>D9</f ></c>',
                  '<c r="E1"><f>E1<xf></c>', '<d r="E2"><f>E2</f></d>', '<c s="E3"><f>E3</f></c>']


def _general(data: bytes) -> list[tuple[int, int, bytes]] | None:
    """The formula cells the general pattern finds, placed (None if one cannot be: the scan redoes them)."""
    found = package._cell_patterns(b"")[0].findall(data)
    if not all(letters and len(digits) <= MAX_ROW_DIGITS for letters, digits, _ in found):
        return None
    return [(int(digits) - 1, column_index(letters.decode()), text) for letters, digits, text in found]


def _usual(data: bytes) -> list[tuple[int, int, bytes]] | None:
    from osmep_xl.xlsx.formula_scan import usual_formula_cells

    found = usual_formula_cells(data)
    if found is None:
        return None
    return list(zip(found.rows.tolist(), found.cols.tolist(), found.texts(data), strict=True))


def _same_as_general(data: bytes) -> bool:
    """Whether usual_formula_cells read ``data`` itself; what it read must be what the general pattern reads."""
    usual = _usual(data)
    assert usual is None or usual == _general(data), data
    return usual is not None


@pytest.mark.parametrize("seed", range(200))
def test_the_usual_cells_are_read_as_the_general_pattern_reads_them(seed: int) -> None:
    import random

    rng = random.Random(seed)
    cells = rng.choices(_USUAL_CELLS, k=rng.randint(0, 12))
    unusual = rng.choice([0, 0, 1, 2])  # mostly none: usual_formula_cells' own answer is compared too
    for _ in range(unusual):
        cells.insert(rng.randint(0, len(cells)), rng.choice(_UNUSUAL_CELLS))
    # The data may start with a cell (not after a tag's end: not usual) and end right after its last "<".
    head = rng.choice(['<sheetData><row r="2">', '<row r="2">', ''])
    tail = rng.choice(['</row>', '', 'x' * rng.randint(0, 40)])
    data = f'{head}{"".join(cells)}{tail}'.encode()
    assert _same_as_general(data) or unusual or not head, data


def test_usual_cells_are_read_without_the_general_pattern() -> None:
    data = f'<sheetData><row r="2">{"".join(_USUAL_CELLS)}</row></sheetData>'.encode()
    expected = _general(data)
    assert expected is not None and _usual(data) == expected
    assert [text for *_, text in expected] == [b"A2*2", b"SUM(A1:A9)", b'"a&amp;b"', b"1/0", b"", b"A1>0",
                                               b'"long start tag"', b'"start tag just the window\'s width"']
    cells = package.SheetCells()
    package._scan_piece(data, b"", cells)
    assert cells.formulas["XFD1048576"] == "" and cells.formulas["C7"] == '"a&b"'


@pytest.mark.parametrize("cell", _UNUSUAL_CELLS)
def test_each_unusual_cell_is_read_as_the_general_pattern_reads_it_or_left_to_it(cell: str) -> None:
    _same_as_general(f'<row r="2">{_USUAL_CELLS[0]}{cell}{_USUAL_CELLS[1]}</row>'.encode())


@pytest.mark.parametrize("cell", _UNUSUAL_CELLS)
def test_each_unusual_cell_is_scanned_as_before(cell: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A piece's cells are what the general pattern alone makes of it (or both give up on it)."""
    data = f'<row r="2">{_USUAL_CELLS[0]}{cell}{_USUAL_CELLS[2]}</row>'.encode()
    outcomes = []
    for usual in (True, False):
        if not usual:
            monkeypatch.setattr(package, "usual_formula_cells", lambda data: None)
        cells = package.SheetCells()
        try:
            package._scan_piece(data, b"", cells)
        except package._Redo:
            outcomes.append("redo")
        except UnicodeDecodeError as exc:
            outcomes.append(str(exc))
        else:
            outcomes.append((cells.formula_positions(), cells.errors))
    assert outcomes[0] == outcomes[1]
