"""Read the parts of an .xlsx/.xlsm package that cell readers don't expose.

Sheet paths, custom document properties, defined names, and per sheet the cells
that hold formulas or Excel error values. XML is parsed with defusedxml, so a
part with a DTD or entities is refused rather than expanded.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
from functools import lru_cache
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from ..a1 import a1, column_index, parse_a1

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
WORKBOOK_PART = "xl/workbook.xml"


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


class SheetCells:
    """Cells of one sheet that hold a formula, and cells holding an Excel error value.

    ``formulas`` maps an A1 address to the formula text ("" if shared); the sheet scan gives the same cells by
    0-based (row, column) (:meth:`formula_positions`), which is what the reader wants, and only builds the
    A1 map when asked for it.
    """

    def __init__(self, formulas: dict[str, str] | None = None, errors: dict[str, str] | None = None, *,
                 positions: dict[tuple[int, int], str] | None = None) -> None:
        self._formulas = formulas if formulas is not None or positions is not None else {}
        self._positions = positions
        self.errors: dict[str, str] = {} if errors is None else errors  # A1 -> "#DIV/0!" ...

    @property
    def formulas(self) -> dict[str, str]:
        if self._formulas is None:
            self._formulas = {a1(r, c): text for (r, c), text in (self._positions or {}).items()}
        return self._formulas

    def formula_positions(self) -> dict[tuple[int, int], str]:
        """The formula cells by 0-based (row, column), in the order the sheet has them."""
        if self._positions is None:
            self._positions = {_position(ref): text for ref, text in self.formulas.items()}
        return self._positions


def _position(ref: str) -> tuple[int, int]:
    """0-based (row, col) of a cell's address as the sheet writes it (``[A-Z]+[0-9]+``)."""
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters):]) - 1, column_index(letters)


def _parse(zf: zipfile.ZipFile, name: str) -> Element:
    with zf.open(name) as fh:
        root: Element = ElementTree.parse(fh).getroot()
    return root


def workbook_xml(zf: zipfile.ZipFile) -> Element:
    """The parsed workbook part: parse it once for :func:`sheet_parts` and :func:`defined_names`."""
    return _parse(zf, WORKBOOK_PART)


def sheet_parts(zf: zipfile.ZipFile, book: Element | None = None) -> dict[str, str]:
    """Sheet name -> part name inside the zip, in workbook order (``book``: the parsed workbook part)."""
    book = workbook_xml(zf) if book is None else book
    rels = _parse(zf, "xl/_rels/workbook.xml.rels")
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(_q(NS_PKG_REL, "Relationship"))}
    out: dict[str, str] = {}
    for sheet in book.iter(_q(NS_MAIN, "sheet")):
        target = targets.get(sheet.get(_q(NS_REL, "id")), "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target))
        out[sheet.get("name", "")] = part
    return out


def defined_names(zf: zipfile.ZipFile, book: Element | None = None) -> dict[str, str]:
    """Workbook-level defined names -> their reference text (``book``: the parsed workbook part)."""
    book = workbook_xml(zf) if book is None else book
    return {
        dn.get("name", ""): (dn.text or "")
        for dn in book.iter(_q(NS_MAIN, "definedName"))
        if dn.get("localSheetId") is None
    }


def custom_properties(zf: zipfile.ZipFile) -> dict[str, str]:
    """Custom document properties as text."""
    if "docProps/custom.xml" not in zf.namelist():
        return {}
    root = _parse(zf, "docProps/custom.xml")
    out: dict[str, str] = {}
    for prop in root.iter(_q(NS_CUSTOM, "property")):
        value = next(iter(prop), None)
        out[prop.get("name", "")] = "" if value is None or value.text is None else value.text
    return out


# Scanning the bytes is several times faster than parsing the sheet; DTDs and entities were refused
# before (safety.open_package). Any namespace prefix is accepted.
_REF_ATTR = re.compile(rb"\br=\"([A-Z]+[0-9]+)\"")
_VALUE = re.compile(rb"<(?:[\w.-]+:)?v>([^<]*)</(?:[\w.-]+:)?v>")


# Only formula cells and error cells matter, so only they are matched, each by one pattern the regex
# engine runs over the bytes: a formula is a cell's first child (the schema orders f, v, is), an error a
# cell whose type is "e". A value cell, most of a sheet, costs no Python at all.
_ANY_PREFIX = rb"(?:[\w.-]+:)?"


@lru_cache(maxsize=8)
def _cell_patterns(prefix: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """The formula-cell and error-cell patterns for elements written with ``prefix`` (b"" for none,
    ``_ANY_PREFIX`` for any): one known prefix lets the regex engine look for a literal."""
    p = re.escape(prefix) if prefix != _ANY_PREFIX else prefix
    # The address comes out split (letters, digits), or empty when the cell has none; possessive, so that
    # a value cell, its address matched, fails at once instead of being tried again without it.
    formula = re.compile(rb"<" + p + rb"c\b(?:[^>]*?\br=\"([A-Z]+)([0-9]+)\")?+[^>]*?(?<!/)>\s*<" + p
                         + rb"f\b[^>]*?(?:/>|>([^<]*)</" + p + rb"f>)")
    error = re.compile(rb"<" + p + rb"c\b(?=[^>]*?\bt=\"e\")([^>]*?)(?:/>|>(.*?)</" + p + rb"c>)", re.S)
    return formula, error


_MAIN, _DEFAULT = NS_MAIN.encode(), b'xmlns="'


def _prefix(data: bytes) -> bytes:
    """The namespace prefix the sheet's cells are written with: b"" when the spreadsheet namespace is
    declared once, as the default namespace (what Excel, LibreOffice and XlsxWriter write), so that no
    cell can carry a prefix; any prefix otherwise. (A long needle: a byte search, not a regex scan.)"""
    at = data.find(_MAIN)
    if at >= 0 and data[at - len(_DEFAULT):at] == _DEFAULT and data.find(_MAIN, at + 1) < 0:
        return b""
    return _ANY_PREFIX


@lru_cache(maxsize=256)
def _column(letters: bytes) -> int:
    return column_index(letters.decode())


def scan_sheet(zf: zipfile.ZipFile, part: str) -> SheetCells:
    """Formula and error cells of a worksheet part."""
    data = zf.read(part)
    formula_cell, error_cell = _cell_patterns(_prefix(data))
    found = formula_cell.findall(data)
    if any(not letters for letters, _, _ in found):  # a cell without an address (allowed, rare): let the
        return _scan_sheet_xml(zf, part)                # full parser place it
    column = _column
    cells = SheetCells(positions={(int(row) - 1, column(letters)): _formula_text(text)
                                  for letters, row, text in found})
    del found
    if b't="e"' not in data:  # no error cell: no need to look for one
        return cells
    for attrs, body in error_cell.findall(data):
        ref = _REF_ATTR.search(attrs)
        if ref is None:
            return _scan_sheet_xml(zf, part)
        value = _VALUE.search(body)
        cells.errors[ref.group(1).decode()] = value.group(1).decode() if value and value.group(1) else "#VALUE!"
    return cells


def _formula_text(text: bytes) -> str:
    formula = text.decode("utf-8")
    return html.unescape(formula) if "&" in formula else formula


def _scan_sheet_xml(zf: zipfile.ZipFile, part: str) -> SheetCells:
    """:func:`scan_sheet` by a full parse, numbering cells that carry no address as Excel would."""
    cells = SheetCells()
    row_tag, c_tag, f_tag, v_tag = _q(NS_MAIN, "row"), _q(NS_MAIN, "c"), _q(NS_MAIN, "f"), _q(NS_MAIN, "v")
    row_no, col_no = 0, 0
    with zf.open(part) as fh:
        for event, elem in ElementTree.iterparse(fh, events=("start", "end")):
            if event == "start":
                if elem.tag == row_tag:
                    row_no = int(elem.get("r", row_no + 1))
                    col_no = 0
                continue
            if elem.tag != c_tag:
                continue
            ref = elem.get("r")
            if ref:
                col_no = parse_a1(ref)[1] + 1
            else:
                col_no += 1
                ref = a1(row_no - 1, col_no - 1)
            formula = elem.find(f_tag)
            if formula is not None:
                cells.formulas[ref] = formula.text or ""
            if elem.get("t") == "e":
                value = elem.find(v_tag)
                cells.errors[ref] = value.text if value is not None and value.text else "#VALUE!"
            elem.clear()
    return cells
