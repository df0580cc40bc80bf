"""Paper: every workbook osmep_xl writes is printed the way a finance officer would print it (LibreOffice
headless to PDF, with Laksaman from fonts-thai-tlwg standing in for TH Sarabun New) and measured.

- every page names its sheet, and no sheet takes more pages than its content needs;
- the print scale of every sheet (a set scale, or what fitting to one page wide gives) keeps every printed
  text at 10 points or more on paper;
- the PDF uses the Thai font only (no fallback font for cells in the default font);
- no printed cell text is cut: measured with the real font file, text that does not wrap fits its column
  (or runs into empty cells beside it), wrapped text has a row high enough for its lines, and every row is
  high enough for one line of Thai with its marks above and below.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import subprocess
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.cell.cell import Cell
from openpyxl.utils import column_index_from_string
from openpyxl.worksheet.worksheet import Worksheet

from osmep_xl.check import annotate_file, check_file
from osmep_xl.consolidate import consolidate
from osmep_xl.data import load_report
from osmep_xl.rules.config import load_settings
from osmep_xl.spec import TEMPLATES
from osmep_xl.xlsx.generate import write_workbook
from tests.libreoffice import convert

pytestmark = [pytest.mark.libreoffice, pytest.mark.filterwarnings("ignore::UserWarning:openpyxl")]

ROOT = Path(__file__).resolve().parents[1]
FONT_DIR = Path("/usr/share/fonts/truetype/tlwg")
FONT_FILES = {False: FONT_DIR / "Laksaman.ttf", True: FONT_DIR / "Laksaman-Bold.ttf"}
TOOLS = ("pdftotext", "pdffonts")
MIN_PRINTED = 10.0  # points on paper
A4_LANDSCAPE, A4_PORTRAIT = 841.89, 595.28
INSET = 3.0  # points of a column its text cannot use (cell padding)


def _require() -> None:
    """Skip (with the reason) when the Thai font or poppler is missing, unless CI requires these tests."""
    missing = [str(p) for p in FONT_FILES.values() if not p.exists()]
    missing += [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        reason = f"needs fonts-thai-tlwg and poppler-utils (apt-get install fonts-thai-tlwg poppler-utils): {missing}"
        if os.environ.get("OSMEP_REQUIRE_LIBREOFFICE"):
            pytest.fail(reason)
        pytest.skip(reason)


class Font:
    """Advance widths and line height of the Thai font, read from the font file itself."""

    def __init__(self, path: Path) -> None:
        from fontTools.ttLib import TTFont  # the test extra

        font = TTFont(str(path))
        self.upm = font["head"].unitsPerEm
        self.cmap = font.getBestCmap()
        self.advance = {name: width for name, (width, _) in font["hmtx"].metrics.items()}
        os2 = font["OS/2"]
        # LibreOffice lays a line of this font out in the typographic ascender + descender.
        self.line = (os2.sTypoAscender - os2.sTypoDescender) / self.upm

    def width(self, text: str, size: float) -> float:
        default = self.advance[self.cmap[ord("0")]]
        return sum(self.advance.get(self.cmap.get(ord(ch), ""), default) for ch in text) * size / self.upm


@dataclass
class Printed:
    """One workbook and its PDF."""

    kind: str
    xlsx: Path
    pdf: Path


@pytest.fixture(scope="module")
def fonts() -> dict[bool, Font]:
    _require()
    return {bold: Font(path) for bold, path in FONT_FILES.items()}


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> list[Printed]:
    """The checked-in templates and ready workbook, a demo workbook, an annotated one and a consolidation."""
    _require()
    tmp = tmp_path_factory.mktemp("paper")
    books = {f"template:{t}": ROOT / "templates" / f"{t}.xlsx" for t in TEMPLATES}
    books["xlsm"] = ROOT / "workbook" / "osmep_xl.xlsm"
    settings = load_settings()
    for t in ("disbursement", "kpi"):
        books[f"demo:{t}"] = write_workbook(load_report(t), tmp / f"demo_{t}.xlsx")
    demo = books["demo:disbursement"]
    books["annotated"] = annotate_file(demo, check_file(demo, settings)[0].findings, tmp / "annotated.xlsx")
    subs = []
    for key in ("a", "b"):
        subs.append(tmp / "in" / f"{key}.xlsx")
        subs[-1].parent.mkdir(exist_ok=True)
        shutil.copy(demo, subs[-1])
    books["consolidated"] = consolidate("disbursement", subs, tmp / "consolidated.xlsx", settings).out
    sources = []
    for kind, path in books.items():  # one name each, so that the PDFs do not overwrite each other
        sources.append(tmp / "src" / f"{kind.replace(':', '_')}{path.suffix}")
        sources[-1].parent.mkdir(exist_ok=True)
        shutil.copy(path, sources[-1])
    pdfs = convert(sources, tmp / "pdf", "pdf", recalc=False)
    return [Printed(kind, src, pdf) for kind, src, pdf in zip(books, sources, pdfs, strict=True)]


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def _sheet_of(page: str, names: list[str]) -> str | None:
    """The sheet a page's footer names (sheet name at the left, then หน้า n / N at the right). pdftotext may
    put a Thai tone mark after the vowel it sits on, so names are compared as sets of letters. The footer's
    line is found by its page number; a chart's labels printed level with it (or clipped at the page's edge)
    may come on the same text line, apart by a wide gap, or push the name onto the line above."""
    lines = [line for line in page.splitlines() if line.strip()]
    at = [k for k, line in enumerate(lines) if re.search(r"หน้า \d+ / \d+", line)]
    if not at:
        return None
    for line in (lines[at[-1]], lines[at[-1] - 1] if at[-1] else ""):
        footer = "".join(re.split(r"\s{3,}", line.strip())[0].split())
        found = next((n for n in names if sorted(footer) == sorted(n.replace(" ", ""))), None)
        if found:
            return found
    return None


# Most pages a sheet may take: a table of the report's rows fills a few pages down, two across when wide.
MAX_PAGES = {
    "ข้อมูล": 1, "หน้าหลัก": 3, "xlwings.conf": 1, "ยุทธศาสตร์": 1, "ตัวชี้วัด": 8, "แหล่งงบประมาณ": 3,
    "แผนปฏิบัติการ": 12, "เบิกจ่าย": 10, "แนวทาง": 6, "เบิกจ่ายแนวทาง": 2, "ผลตรวจสอบ": 16,
    "ผลตรวจรายหน่วยงาน": 36,
    # The ready workbook's dashboard: a chart a page (the spending plan's and the outputs' included), some
    # followed by a page of an axis label LibreOffice pushes past it.
    "แดชบอร์ด": 34,
    "ผลผลิตโครงการ": 8,  # the outputs: 2 pages across (quarters), 4 down for 17 outputs
    "แผนผลรายเดือน": 40,  # 74 rows, three pages across: its quarters and months stay off paper
}
MAX_PAGES_CONSOLIDATED = {"เบิกจ่าย": 20}  # two submitters' rows under a grand total


def test_every_page_names_its_sheet_and_no_sheet_sprawls(printed: list[Printed]) -> None:
    for p in printed:
        names = openpyxl.load_workbook(p.xlsx, data_only=True).sheetnames
        pages = _pages(p.pdf)
        owners = [_sheet_of(page, names) for page in pages]
        assert None not in owners, f"{p.kind}: page {owners.index(None) + 1} names no sheet in its footer"
        counts = Counter(owners)
        for sheet, n in counts.items():
            assert sheet is not None
            bound = (MAX_PAGES_CONSOLIDATED if p.kind == "consolidated" else {}).get(sheet, MAX_PAGES[sheet])
            assert 1 <= n <= bound, f"{p.kind}: sheet {sheet} prints on {n} pages"


def _raw_text(pdf: Path) -> list[str]:
    """Each page's text in drawing order: a wrapped cell's lines follow each other."""
    out = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return out.split("\f")[:-1]


_MARKS = re.compile(r"[\s\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")


def _plain(text: str) -> str:
    """Text without spaces and Thai vowel and tone marks, which pdftotext may move or split off."""
    return _MARKS.sub("", unicodedata.normalize("NFKD", text))


def _print_areas(path: Path) -> dict[str, str]:
    """Sheet name -> its print area as written (openpyxl drops whole-column areas such as ``$A:$O``)."""
    with zipfile.ZipFile(path) as zf:
        book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    sheets = [s.get("name", "") for s in book.iterfind("m:sheets/m:sheet", ns)]
    return {sheets[int(d.get("localSheetId", "0"))]: d.text or ""
            for d in book.iterfind("m:definedNames/m:definedName", ns) if d.get("name") == "_xlnm.Print_Area"}


def _print_area(ws: Worksheet, area: str | None) -> tuple[int, int, int, int]:
    """1-based first row, first column, last row, last column that print."""
    last_row, last_col = ws.max_row, ws.max_column
    if area:
        ref = area.split("!")[-1].replace("$", "")
        match = re.fullmatch(r"([A-Z]+)(\d*):([A-Z]+)(\d*)", ref)
        assert match, ref
        rows = (int(match[2]), int(match[4])) if match[2] else (1, last_row)
        return rows[0], column_index_from_string(match[1]), min(rows[1], last_row), column_index_from_string(match[3])
    return 1, 1, last_row, last_col


def _column_points(ws: Worksheet, col: int, digit: float) -> float:
    """Printed width of a column: its width (a range of columns may share one record) times the unit."""
    width = ws.sheet_format.defaultColWidth or 8.43 + 5 / 7
    for dim in ws.column_dimensions.values():
        if dim.customWidth and (dim.min or 0) <= col <= (dim.max or 0):
            width = dim.width
    return float(width) * digit


def _workbook_digit(wb: openpyxl.Workbook, fonts: dict[bool, Font]) -> tuple[float, str]:
    """Points per unit of column width: the width of "0" in the workbook's default font (the Thai font)."""
    normal = wb._fonts[0]  # the default font, every column width's unit
    return fonts[False].width("0", float(normal.sz or 11)), str(normal.name)


def _effective_scale(ws: Worksheet, area: tuple[int, int, int, int], digit: float) -> float:
    setup = ws.page_setup
    landscape = setup.orientation == "landscape"
    paper = (A4_LANDSCAPE if landscape else A4_PORTRAIT) - 72 * (ws.page_margins.left + ws.page_margins.right)
    if ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage:
        assert int(setup.fitToWidth or 1) == 1 and not int(setup.fitToHeight or 0)
        width = sum(_column_points(ws, c, digit) for c in range(area[1], area[3] + 1)
                    if not any(d.hidden and (d.min or 0) <= c <= (d.max or 0) for d in ws.column_dimensions.values()))
        return min(1.0, paper / width)
    return int(setup.scale or 100) / 100


def _cells(ws: Worksheet, area: tuple[int, int, int, int]) -> Iterator[Cell]:
    for row in ws.iter_rows(min_row=area[0], max_row=area[2], min_col=area[1], max_col=area[3]):
        for cell in row:
            if cell.value not in (None, ""):
                yield cell


def _sheets(printed: list[Printed], fonts: dict[bool, Font]
            ) -> Iterator[tuple[str, Worksheet, float, tuple[int, int, int, int]]]:
    """Each printed sheet: its workbook's kind, the sheet, the column width unit, and its print area."""
    for p in printed:
        wb = openpyxl.load_workbook(p.xlsx, data_only=True)  # formulas as the values they print
        digit, _ = _workbook_digit(wb, fonts)
        areas = _print_areas(p.xlsx)
        for ws in wb.worksheets:
            if ws.sheet_state == "visible":
                yield p.kind, ws, digit, _print_area(ws, areas.get(ws.title))


def test_printed_text_is_at_least_10_points_in_the_thai_font(printed: list[Printed], fonts: dict[bool, Font]) -> None:
    for p in printed:
        _, normal = _workbook_digit(openpyxl.load_workbook(p.xlsx, data_only=True), fonts)
        assert normal == "TH Sarabun New", f"{p.kind}: the workbook font is {normal}"
    for kind, ws, digit, area in _sheets(printed, fonts):
        scale = _effective_scale(ws, area, digit)
        assert ws.page_setup.paperSize in (9, "9"), f"{kind}/{ws.title}: not A4"
        for cell in _cells(ws, area):
            size = float(cell.font.sz or 11) * scale
            assert size >= MIN_PRINTED, f"{kind}/{ws.title}!{cell.coordinate} prints at {size:.1f} pt"
            assert cell.font.name == "TH Sarabun New", f"{kind}/{ws.title}!{cell.coordinate}: {cell.font.name}"


def test_pdf_uses_the_thai_font_only(printed: list[Printed]) -> None:
    for p in printed:
        out = subprocess.run(["pdffonts", str(p.pdf)], capture_output=True, text=True, check=True).stdout
        names = {line.split()[0].split("+")[-1] for line in out.splitlines()[2:] if line.strip()}
        assert names and all(n.startswith("Laksaman") for n in names), f"{p.kind}: {sorted(names)}"


def _shown(cell: Cell) -> str:
    """The text a cell shows, numbers in their number format."""
    value, fmt = cell.value, cell.number_format
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d %b %Y")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    decimals = len(fmt.split(".")[1]) if "." in fmt else 0
    return f"{value:,.{decimals}f}" if "," in fmt else f"{value:.{decimals}f}"


def _merged_width(ws: Worksheet, cell: Cell, digit: float) -> tuple[float, bool]:
    for box in ws.merged_cells.ranges:
        if cell.coordinate in box:
            return sum(_column_points(ws, c, digit) for c in range(box.min_col, box.max_col + 1)), True
    return _column_points(ws, cell.column, digit), False


def test_no_printed_text_is_cut(printed: list[Printed], fonts: dict[bool, Font]) -> None:
    cut: list[str] = []
    for kind, ws, digit, area in _sheets(printed, fonts):
        default_height = float(ws.sheet_format.defaultRowHeight or 15)
        for cell in _cells(ws, area):
            font = fonts[bool(cell.font.b)]
            size = float(cell.font.sz or 11)
            height = ws.row_dimensions[cell.row].height or default_height
            where = f"{kind}/{ws.title}!{cell.coordinate}"
            if height < font.line * size:
                cut.append(f"{where}: row {height} pt is lower than one line of {size} pt Thai")
                continue
            text = _shown(cell)
            room, merged = _merged_width(ws, cell, digit)
            room -= INSET + (cell.alignment.indent or 0) * digit
            if not text:
                continue
            if cell.alignment.wrap_text:
                lines = sum(max(1, math.ceil(font.width(part, size) / room)) for part in text.split("\n"))
                if height < lines * font.line * size:
                    cut.append(f"{where}: {lines} lines of {text[:30]!r} need more than {height} pt")
                continue
            wide = font.width(text, size)
            if wide <= room:
                continue
            if isinstance(cell.value, int | float) or merged:
                cut.append(f"{where}: {text!r} is wider than its column")
                continue
            # Unwrapped text runs into the empty cells to its right, within what prints.
            for col in range(cell.column + 1, area[3] + 1):
                if ws.cell(cell.row, col).value not in (None, ""):
                    break
                room += _column_points(ws, col, digit)
            if wide > room:
                cut.append(f"{where}: {text[:30]!r} runs past its column")
    assert not cut, "\n".join(cut[:40]) + f"\n({len(cut)} cells)"


def test_every_printed_cell_is_whole_in_the_pdf(printed: list[Printed], fonts: dict[bool, Font]) -> None:
    """LibreOffice leaves out of the PDF the lines of a cell that its row cuts off (and prints ### for a
    number too wide): every printed cell's text must be found, whole, on the pages of its sheet."""
    by_kind = {p.kind: p for p in printed}
    missing: list[str] = []
    texts: dict[tuple[str, str], str] = {}
    for p in printed:
        names = openpyxl.load_workbook(p.xlsx, data_only=True).sheetnames
        for raw, page in zip(_raw_text(p.pdf), _pages(p.pdf), strict=True):
            for key in ((p.kind, _sheet_of(page, names) or ""), (p.kind, "*")):
                texts[key] = texts.get(key, "") + _plain(raw)
    for kind, ws, _, area in _sheets(printed, fonts):
        wanted = Counter(_plain(_shown(cell)) for cell in _cells(ws, area))
        # The sheet's own pages; the whole PDF when its pages cannot be told (tested above).
        text = texts.get((kind, ws.title)) or texts.get((kind, "*"), "")
        for cell_text, n in wanted.items():
            if cell_text and text.count(cell_text) < n:
                missing.append(f"{kind}/{ws.title}: {cell_text[:40]!r} ({n} cells, {text.count(cell_text)} in the PDF)")
    assert by_kind and not missing, "\n".join(missing[:40]) + f"\n({len(missing)} texts)"
