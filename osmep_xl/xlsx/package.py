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
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import IO
from xml.etree.ElementTree import Element

import numpy as np
from defusedxml import ElementTree

from ..a1 import a1, column_index, parse_a1
from .formula_scan import MAX_ROW_DIGITS, usual_formula_cells

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
WORKBOOK_PART = "xl/workbook.xml"


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


class SheetCells:
    """Cells of one sheet that hold a formula, and cells holding an Excel error value.

    ``formulas`` maps an A1 address to the formula text ("" if shared). The sheet scan keeps the formula
    cells as it found them instead, in arrays of 0-based rows and columns beside their texts (a 50,000-row
    sheet has some 350,000: no tuple or A1 string each), which is what the reader wants; the A1 map is
    built only when asked for.
    """

    def __init__(self, formulas: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> None:
        self._formulas = formulas
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._texts: list[str] = []
        self.errors: dict[str, str] = {} if errors is None else errors  # A1 -> "#DIV/0!" ...

    def add_found(self, rows: np.ndarray, cols: np.ndarray, texts: list[str]) -> None:
        """Formula cells found by the scan, in sheet order (a cell found twice: the later text holds)."""
        self._rows.append(rows)
        self._cols.append(cols)
        self._texts += texts

    @property
    def formulas(self) -> dict[str, str]:
        if self._formulas is None:
            self._formulas = {a1(r, c): text for (r, c), text in self.formula_positions().items()}
        return self._formulas

    def formula_positions(self) -> dict[tuple[int, int], str]:
        """The formula cells by 0-based (row, column), in the order the sheet has them."""
        if self._formulas is not None:
            return {_position(ref): text for ref, text in self._formulas.items()}
        rows, cols, texts = self.formula_arrays()
        return {(r, c): text for r, c, text in zip(rows.tolist(), cols.tolist(), texts, strict=True)}

    def formula_arrays(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """0-based rows, columns and texts of the formula cells, in sheet order (as :meth:`formula_positions`
        has them, but a cell found twice may be listed twice: the later text holds)."""
        if self._formulas is not None:
            positions = self.formula_positions()
            return (np.array([r for r, _ in positions], np.int64), np.array([c for _, c in positions], np.int64),
                    list(positions.values()))
        if not self._rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), []
        return np.concatenate(self._rows), np.concatenate(self._cols), self._texts


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


_PIECE = 4 << 20  # bytes inflated at a time: a 50,000-row sheet is ~125 MB of XML, never held at once
_ROW_END, _DATA_END = b"</row>", b"</sheetData>"


class _Redo(Exception):
    """The piecewise scan cannot decide: scan the whole part at once."""


def scan_sheet(zf: zipfile.ZipFile, part: str) -> SheetCells:
    """Formula and error cells of a worksheet part.

    An unprefixed sheet (what Excel, LibreOffice and XlsxWriter write) is scanned a few MB at a time, cut
    after a row's closing tag so that no cell spans two pieces; any other is scanned whole."""
    cells = SheetCells()
    try:
        with zf.open(part) as fh:
            first = True
            for piece in _pieces(fh):
                if (_prefix(piece) != b"") if first else _MAIN in piece:  # a prefix, or one declared later
                    raise _Redo
                first = False
                _scan_piece(piece, b"", cells)
    except _Redo:
        cells = SheetCells()
        data = zf.read(part)
        try:
            _scan_piece(data, _prefix(data), cells)
        except _Redo:
            return _scan_sheet_xml(zf, part)
    return cells


def _pieces(fh: IO[bytes]) -> Iterator[bytes]:
    """The part's cell data in pieces each ending after a row's closing tag (the last at the end of the
    sheet data: what follows, conditional formats and validations that can be most of the part, holds no
    cell and is only inflated, in pieces, for the zip's checksum)."""
    pending = fh.read(_PIECE)
    while pending:
        end = pending.find(_DATA_END)
        if end >= 0:
            yield pending[:end]
            while fh.read(_PIECE):  # to the end, so that a damaged part fails its CRC check as before
                pass
            return
        more = fh.read(_PIECE)
        if not more:
            yield pending
            return
        cut = pending.rfind(_ROW_END)
        if cut < 0:  # no row ends in it yet: read on
            pending += more
            continue
        cut += len(_ROW_END)
        yield pending[:cut]
        pending = pending[cut:] + more


_ERROR_TYPE = re.compile(rb't="e"')  # (the regex engine finds it in half the time ``in`` takes)


def _scan_piece(data: bytes, prefix: bytes, cells: SheetCells) -> None:
    """Add the formula and error cells of ``data`` to ``cells``; :class:`_Redo` for a cell without an address
    (allowed, rare) or with an impossible row number, which only the full parser places as written.

    The formula cells come from :func:`.formula_scan.usual_formula_cells` when the piece is in the form every
    writer gives it (a fraction of the general pattern's time), from the general pattern otherwise."""
    usual = None if prefix else usual_formula_cells(data)
    if usual is not None:
        if len(usual.rows):
            cells.add_found(usual.rows, usual.cols, _formula_texts(usual.texts(data)))
    elif found := _cell_patterns(prefix)[0].findall(data):
        letters, digits, texts = zip(*found, strict=True)
        del found
        if not all(letters) or max(map(len, digits)) > MAX_ROW_DIGITS:
            raise _Redo
        column = {found: column_index(found.decode()) for found in set(letters)}
        cols = np.fromiter(map(column.__getitem__, letters), np.int64, len(letters))
        cells.add_found(np.array(digits).astype(np.int64) - 1, cols, _formula_texts(texts))
    if _ERROR_TYPE.search(data) is None:  # no error cell: no need to look for one
        return
    for attrs, body in _cell_patterns(prefix)[1].findall(data):
        ref = _REF_ATTR.search(attrs)
        if ref is None:
            raise _Redo
        value = _VALUE.search(body)
        cells.errors[ref.group(1).decode()] = value.group(1).decode() if value and value.group(1) else "#VALUE!"


def _formula_texts(texts: Sequence[bytes]) -> list[str]:
    """The texts decoded (and unescaped) at once: joined by a NUL, which no XML text holds (a file whose
    formula holds one anyway is decoded text by text)."""
    joined = b"\0".join(texts)
    try:
        if joined.count(b"\0") != len(texts) - 1:
            raise ValueError
        decoded = joined.decode("utf-8").split("\0")
    except ValueError:  # (a text not UTF-8 raises here as it did alone, saying where in it)
        return [_formula_text(t) for t in texts]
    if b"&" not in joined:
        return decoded
    return [html.unescape(t) if "&" in t else t for t in decoded]


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
