"""Lossless writer for .xlsx/.xlsm workbooks: patch the zip, re-serialise only the parts that change.

A plain openpyxl load+save drops VBA, form controls, x14 extensions, sparklines, dynamic-array metadata
and cached values. Here every part that is not edited is copied with identical uncompressed bytes, in
the original order. Edited XML parts are re-serialised by a small writer that keeps every namespace
declaration on the element that declared it, so prefixes (and those listed in mc:Ignorable) survive.
"""

from __future__ import annotations

import copy
import io
import math
import os
import posixpath
import re
import stat
import tempfile
import time
import zipfile
from bisect import bisect_right
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, ElementTree

from .cells import a1, column_index, parse_a1
from .package import NS_MAIN, NS_PKG_REL, NS_REL, WORKBOOK_PART

CellValue = Decimal | int | float | str | None

NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
NS_XML = "http://www.w3.org/XML/1998/namespace"
CT_PART = "[Content_Types].xml"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
REL_BASE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
# Relationships a replaced add_sheet sheet may drop: nothing else points into them.
DROPPABLE_RELS = ("/hyperlink", "/printerSettings")
MAX_ROWS, MAX_COLS, MAX_TEXT = 1_048_576, 16_384, 32_767
MAX_UNCOMPRESSED = 512 * 1024 * 1024  # same guard as safety.py: a bigger package is a zip bomb
XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Child order of CT_Worksheet and CT_Workbook: a new child must go to its schema position or Excel repairs.
WORKSHEET_ORDER = (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
    "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
    "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations",
    "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
    "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
    "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
    "extLst",
)
WORKBOOK_ORDER = (
    "fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets", "functionGroups",
    "externalReferences", "definedNames", "calcPr", "oleSize", "customWorkbookViews", "pivotCaches",
    "smartTagPr", "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst",
)
KNOWN_PREFIXES = {NS_REL: "r", NS_MC: "mc"}


class PatchError(Exception):
    """The workbook cannot be patched as asked; the message is Thai / English."""


def _fail(reason: str) -> PatchError:
    return PatchError(f"แก้ไขไฟล์ไม่ได้ / cannot patch: {reason}")


def _m(tag: str) -> str:
    return f"{{{NS_MAIN}}}{tag}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


C, F, V, IS, T, ROW = _m("c"), _m("f"), _m("v"), _m("is"), _m("t"), _m("row")
REL_TAG = f"{{{NS_PKG_REL}}}Relationship"
R_ID = f"{{{NS_REL}}}id"
XML_SPACE = f"{{{NS_XML}}}space"


# ---------------------------------------------------------------------------------------------------------
# XML parts: parse with defusedxml, serialise keeping each namespace declaration where it was.


@dataclass
class _XmlDoc:
    root: Element
    decls: dict[Element, list[tuple[str, str]]]  # element -> its own xmlns declarations, in source order
    prolog: bytes = XML_DECL
    epilogue: bytes = b""


def _new_doc(root: Element, *namespaces: tuple[str, str]) -> _XmlDoc:
    return _XmlDoc(root, {root: list(namespaces)})


def _split_prolog(data: bytes) -> tuple[bytes, bytes]:
    """The bytes before the root element (XML declaration, comments) and the trailing whitespace."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return XML_DECL, b""  # UTF-16 input: written back as UTF-8, so a fresh declaration
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        if data.startswith(b"<?", pos):
            end = data.find(b"?>", pos)
        elif data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos)
        else:
            break
        if end < 0:
            break
        pos = data.find(b">", end) + 1
    prolog = data[:pos]
    declared = re.search(rb"encoding\s*=\s*[\"']([^\"']+)", prolog)
    if declared and declared.group(1).lower().replace(b"-", b"") != b"utf8":
        prolog = XML_DECL  # we always write UTF-8, so the declaration must say so
    stripped = data.rstrip()
    return prolog, data[len(stripped):]


def _parse_xml(data: bytes, part: str) -> _XmlDoc:
    decls: dict[Element, list[tuple[str, str]]] = {}
    pending: list[tuple[str, str]] = []
    root: Element | None = None
    try:
        for event, item in ElementTree.iterparse(io.BytesIO(data), events=("start-ns", "start")):
            if event == "start-ns":
                pending.append(item)
                continue
            if root is None:
                root = item
            if pending:
                decls[item] = pending
                pending = []
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise _fail(f"XML เสียหาย / part {part} is not safe, well-formed XML ({exc})") from exc
    if root is None:
        raise _fail(f"ส่วนว่างเปล่า / part {part} is empty")
    prolog, epilogue = _split_prolog(data)
    return _XmlDoc(root, decls, prolog, epilogue)


def _esc_text(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")  # a parser would turn a raw CR into LF
    return text


def _esc_attr(text: str) -> str:
    text = _esc_text(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    # Raw whitespace in attribute values is normalised to spaces by parsers; escape to keep it.
    return text.replace("\n", "&#10;").replace("\t", "&#9;")


class _Scope:
    """Prefix bindings in force at an element, with a cache of Clark names already turned into QNames."""

    def __init__(self, bindings: dict[str, str]) -> None:
        self.bindings = bindings
        self.tags: dict[str, str] = {}
        self.attrs: dict[str, str] = {}

    def prefix_for(self, uri: str, *, attr: bool) -> str | None:
        if not attr and self.bindings.get("") == uri:
            return ""
        return next((p for p, bound in reversed(self.bindings.items()) if p and bound == uri), None)


class _Writer:
    def __init__(self, decls: dict[Element, list[tuple[str, str]]]) -> None:
        self.decls = decls
        self.out: list[str] = []

    def element(self, elem: Element, scope: _Scope) -> None:
        declared = self.decls.get(elem)
        if declared:
            scope = _Scope({**scope.bindings, **dict(declared)})
        emitted: list[tuple[str, str]] = list(declared or ())
        tag = scope.tags.get(elem.tag)
        if tag is None:
            tag, scope = self._qname(elem.tag, scope, emitted, attr=False)
        parts = ["<", tag]
        attrs: list[tuple[str, str]] = []
        for name, value in elem.attrib.items():
            qname = scope.attrs.get(name)
            if qname is None:
                qname, scope = self._qname(name, scope, emitted, attr=True)
            attrs.append((qname, value))
        for prefix, uri in emitted:
            parts.append(f' xmlns:{prefix}="{_esc_attr(uri)}"' if prefix else f' xmlns="{_esc_attr(uri)}"')
        for qname, value in attrs:
            parts.append(f' {qname}="{_esc_attr(value)}"')
        children = list(elem)
        if not children and not elem.text:
            parts.append("/>")
            self.out.append("".join(parts))
        else:
            parts.append(">")
            if elem.text:
                parts.append(_esc_text(elem.text))
            self.out.append("".join(parts))
            for child in children:
                self.element(child, scope)
            self.out.append(f"</{tag}>")
        if elem.tail:
            self.out.append(_esc_text(elem.tail))

    def _qname(
        self, name: str, scope: _Scope, emitted: list[tuple[str, str]], *, attr: bool
    ) -> tuple[str, _Scope]:
        cache = scope.attrs if attr else scope.tags
        if name[0] != "{":
            if attr or not scope.bindings.get(""):
                cache[name] = name
                return name, scope
            # An unqualified element under a default namespace needs xmlns="" to stay unqualified.
            emitted.append(("", ""))
            scope = _Scope({**scope.bindings, "": ""})
            scope.tags[name] = name
            return name, scope
        uri, local = name[1:].split("}", 1)
        if uri == NS_XML:
            cache[name] = f"xml:{local}"
            return cache[name], scope
        prefix = scope.prefix_for(uri, attr=attr)
        if prefix is None:
            # Not bound here (only for elements we added): declare it on this element.
            prefix = KNOWN_PREFIXES.get(uri, "ns0")
            n = 0
            while prefix in scope.bindings:
                n += 1
                prefix = f"ns{n}"
            emitted.append((prefix, uri))
            scope = _Scope({**scope.bindings, prefix: uri})
            cache = scope.attrs if attr else scope.tags
        qname = f"{prefix}:{local}" if prefix else local
        cache[name] = qname
        return qname, scope


def _serialise(doc: _XmlDoc) -> bytes:
    writer = _Writer(doc.decls)
    writer.element(doc.root, _Scope({}))
    return doc.prolog + "".join(writer.out).encode("utf-8") + doc.epilogue


def _sub(parent: Element, tag: str, attrib: dict[str, str] | None = None, text: str | None = None) -> Element:
    child = Element(tag, attrib or {})
    if text is not None:
        child.text = text
    parent.append(child)
    return child


def _order_key(elem: Element) -> str:
    """Local name used to place siblings; mc:AlternateContent counts as the element it wraps."""
    if elem.tag == f"{{{NS_MC}}}AlternateContent":
        for choice in elem:
            for inner in choice:
                return _local(inner.tag)
    return _local(elem.tag)


def _insert_ordered(parent: Element, child: Element, order: tuple[str, ...]) -> None:
    rank = order.index(_local(child.tag))
    for i, sibling in enumerate(parent):
        key = _order_key(sibling)
        if key in order and order.index(key) > rank:
            parent.insert(i, child)
            return
    parent.append(child)


def _canonical(elem: Element) -> tuple[object, ...]:
    """Structure of an element, to find an existing style record equal to one we would add."""
    return (elem.tag, tuple(sorted(elem.attrib.items())), (elem.text or "").strip(),
            tuple(_canonical(child) for child in elem))


# ---------------------------------------------------------------------------------------------------------
# Values, addresses and formulas.

_BAD_XML_CHARS = re.compile(r"_(x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
MAX_FORMULA = 8_192


def _xstring(text: str) -> str:
    """Text as an OOXML string: control characters become _xHHHH_ and a literal _xHHHH_ is escaped."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _fail(f"ข้อความมีอักขระเสีย / text has an invalid character ({exc})") from exc
    if len(text) > MAX_TEXT:
        raise _fail(f"ข้อความยาวเกิน {MAX_TEXT} ตัวอักษร / text longer than Excel's {MAX_TEXT} characters")

    def escape(match: re.Match[str]) -> str:
        if match.group(1):
            return "_x005F_" + match.group(1)
        return f"_x{ord(match.group()):04X}_"

    return _BAD_XML_CHARS.sub(escape, text)


def _number_text(value: Decimal | int | float) -> str:
    """Shortest text that reads back as the same number, never in exponent form for Decimal."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _fail(f"ค่าตัวเลขไม่ถูกต้อง / {value!r} cannot be stored in Excel")
        text = repr(value)
        text = text.removesuffix(".0")
        return "0" if text == "-0" else text
    if not value.is_finite() or not math.isfinite(float(value)):
        raise _fail(f"ค่าตัวเลขไม่ถูกต้อง / {value!r} cannot be stored in Excel")
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def _check_value(value: object) -> None:
    if value is None or isinstance(value, (str, int, float, Decimal)):
        if isinstance(value, str):
            _xstring(value)
        elif isinstance(value, (int, float, Decimal)):
            _number_text(value)
        return
    raise _fail(f"ชนิดข้อมูลไม่รองรับ / unsupported value type {type(value).__name__}")


def _address(cell: str) -> tuple[int, int]:
    """0-based (row, col) of an A1 address within Excel's grid, or PatchError."""
    try:
        row, col = parse_a1(cell.strip())
    except (ValueError, AttributeError) as exc:
        raise _fail(f"ที่อยู่เซลล์ไม่ถูกต้อง / bad cell address {cell!r}") from exc
    if row >= MAX_ROWS or col >= MAX_COLS or row < 0:
        raise _fail(f"ที่อยู่เซลล์เกินขอบเขต / cell address {cell!r} is outside the sheet")
    return row, col


def _range(ref: str) -> tuple[int, int, int, int] | None:
    """(row0, col0, row1, col1) of 'A1' or 'A1:B2'; None if not a cell range."""
    try:
        first, _, last = ref.partition(":")
        r0, c0 = parse_a1(first)
        r1, c1 = parse_a1(last) if last else (r0, c0)
    except ValueError:
        return None
    return min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1)


def _inside(box: tuple[int, int, int, int], row: int, col: int) -> bool:
    return box[0] <= row <= box[2] and box[1] <= col <= box[3]


_REF_CELL = re.compile(r"(\$?)([A-Za-z]{1,3})(\$?)([0-9]+)(?![A-Za-z0-9_(.!\[\\?])")
_REF_COLS = re.compile(r"(\$?)([A-Za-z]{1,3}):(\$?)([A-Za-z]{1,3})(?![A-Za-z0-9_(.!\[\\?])")
_REF_ROWS = re.compile(r"(\$?)([0-9]+):(\$?)([0-9]+)(?![A-Za-z0-9_(.!\[\\?])")
_NAME_RUN = re.compile(r"[\w.\\?]+")


def _col_text(col: int) -> str | None:
    return a1(0, col)[:-1] if 0 <= col < MAX_COLS else None


def _shift_formula(formula: str, drow: int, dcol: int) -> str:
    """Move the relative A1 references of a formula by (drow, dcol), as Excel fills a shared formula.

    Absolute ($) parts stay; text in string literals, quoted sheet names and [structured] references is
    left alone; function names (LOG10() and defined names are not references.
    """
    out: list[str] = []
    i, n = 0, len(formula)
    while i < n:
        ch = formula[i]
        if ch in "\"'":
            end = i + 1
            while end < n:
                if formula[end] == ch:
                    if end + 1 < n and formula[end + 1] == ch:
                        end += 2
                        continue
                    break
                end += 1
            out.append(formula[i : end + 1])
            i = end + 1
            continue
        if ch == "[":
            depth, end = 0, i
            while end < n:
                depth += {"[": 1, "]": -1}.get(formula[end], 0)
                end += 1
                if depth == 0:
                    break
            out.append(formula[i:end])
            i = end
            continue
        if ch == "$" or ch.isalnum() or ch == "_":
            shifted = _shift_at(formula, i, drow, dcol)
            if shifted is not None:
                text, i = shifted
                out.append(text)
                continue
            run = _NAME_RUN.match(formula, i)
            end = run.end() if run else i + 1
            out.append(formula[i:end])
            i = end
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _shift_at(formula: str, i: int, drow: int, dcol: int) -> tuple[str, int] | None:
    match = _REF_COLS.match(formula, i)
    if match:
        cols = [column_index(match[2]), column_index(match[4])]
        if max(cols) < MAX_COLS:
            texts = [_col_text(c if dollar else c + dcol)
                     for c, dollar in zip(cols, (match[1], match[3]), strict=True)]
            if None in texts:
                return "#REF!", match.end()
            return f"{match[1]}{texts[0]}:{match[3]}{texts[1]}", match.end()
    match = _REF_ROWS.match(formula, i)
    if match:
        rows = [int(match[2]), int(match[4])]
        if min(rows) >= 1 and max(rows) <= MAX_ROWS:
            moved = [r if dollar else r + drow for r, dollar in zip(rows, (match[1], match[3]), strict=True)]
            if not all(1 <= r <= MAX_ROWS for r in moved):
                return "#REF!", match.end()
            return f"{match[1]}{moved[0]}:{match[3]}{moved[1]}", match.end()
    match = _REF_CELL.match(formula, i)
    if match:
        col, row = column_index(match[2]), int(match[4])
        if col < MAX_COLS and 1 <= row <= MAX_ROWS:
            new_col = col if match[1] else col + dcol
            new_row = row if match[3] else row + drow
            letters = _col_text(new_col)
            if letters is None or not 1 <= new_row <= MAX_ROWS:
                return "#REF!", match.end()
            return f"{match[1]}{letters}{match[3]}{new_row}", match.end()
    return None


# ---------------------------------------------------------------------------------------------------------
# One worksheet being edited.


@dataclass
class _Sheet:
    name: str
    part: str
    doc: _XmlDoc
    data: Element
    rows: dict[int, Element] = field(default_factory=dict)  # 1-based row number -> <row>
    numbers: list[int] = field(default_factory=list)  # sorted row numbers
    _shared: dict[str, list[Element]] | None = None
    _arrays: list[tuple[int, int, int, int]] | None = None

    @classmethod
    def load(cls, name: str, part: str, doc: _XmlDoc) -> _Sheet:
        root = doc.root
        if root.tag != _m("worksheet"):
            raise _fail(f"'{name}' ไม่ใช่แผ่นงาน / sheet '{name}' is not a worksheet ({_local(root.tag)})")
        data = root.find(_m("sheetData"))
        if data is None:
            data = Element(_m("sheetData"))
            _insert_ordered(root, data, WORKSHEET_ORDER)
        sheet = cls(name, part, doc, data)
        previous = 0
        try:
            for row in data.findall(ROW):
                # r is optional in the schema; fill it in so every lookup below can rely on it.
                number = int(row.get("r") or previous + 1)
                row.set("r", str(number))
                last = ""
                for c in row.findall(C):
                    ref = c.get("r")
                    if not ref:
                        ref = a1(number - 1, parse_a1(last)[1] + 1 if last else 0)
                        c.set("r", ref)
                    last = ref
                sheet.rows[number] = row
                previous = number
        except ValueError as exc:
            raise _fail(f"ชีต '{name}' มีที่อยู่เซลล์เสีย / sheet '{name}' has a bad row or cell reference") from exc
        sheet.numbers = sorted(sheet.rows)
        return sheet

    def shared(self) -> dict[str, list[Element]]:
        """si -> cells of that shared-formula group (master included)."""
        if self._shared is None:
            self._shared = {}
            for c in self.data.iter(C):
                f = c.find(F)
                if f is not None and f.get("t") == "shared" and f.get("si") is not None:
                    self._shared.setdefault(f.get("si", ""), []).append(c)
        return self._shared

    def arrays(self) -> list[tuple[int, int, int, int]]:
        """Multi-cell array / data-table formula ranges; the master is the top-left cell."""
        if self._arrays is None:
            self._arrays = []
            for f in self.data.iter(F):
                if f.get("t") in ("array", "dataTable"):
                    box = _range(f.get("ref", ""))
                    if box and box[:2] != box[2:]:
                        self._arrays.append(box)
        return self._arrays

    def merged(self) -> list[tuple[int, int, int, int]]:
        merges = self.doc.root.find(_m("mergeCells"))
        found = [] if merges is None else merges.findall(_m("mergeCell"))
        boxes = [_range(m.get("ref", "")) for m in found]
        return [box for box in boxes if box]

    def find(self, row: int, col: int) -> tuple[Element | None, Element | None]:
        """(<row>, <c>) at 0-based (row, col), each None if absent."""
        row_el = self.rows.get(row + 1)
        if row_el is None:
            return None, None
        ref = a1(row, col)
        for c in row_el.findall(C):
            if c.get("r", "").upper().replace("$", "") == ref:
                return row_el, c
        return row_el, None

    def style_for(self, row_el: Element | None, c: Element | None, col: int) -> int:
        """Style index in effect at a cell: its own, else the row's, else the column's, as Excel applies."""
        if c is not None and c.get("s"):
            return int(c.get("s", "0"))
        if row_el is not None and row_el.get("customFormat") in ("1", "true") and row_el.get("s"):
            return int(row_el.get("s", "0"))
        cols = self.doc.root.find(_m("cols"))
        for col_el in [] if cols is None else cols.findall(_m("col")):
            if int(col_el.get("min", "0")) <= col + 1 <= int(col_el.get("max", "0")) and col_el.get("style"):
                return int(col_el.get("style", "0"))
        return 0

    def cell(self, row: int, col: int) -> Element:
        """The <c> at (row, col), created in row and column order if missing."""
        row_el, c = self.find(row, col)
        if c is not None:
            return c
        if row_el is None:
            row_el = Element(ROW, {"r": str(row + 1)})
            pos = bisect_right(self.numbers, row + 1)
            if pos < len(self.numbers):
                following = self.rows[self.numbers[pos]]
                self.data.insert(list(self.data).index(following), row_el)
            else:
                self.data.append(row_el)
            self.numbers.insert(pos, row + 1)
            self.rows[row + 1] = row_el
        c = Element(C, {"r": a1(row, col)})
        style = self.style_for(row_el, None, col)
        if style:
            c.set("s", str(style))
        index = len(row_el)
        for i, sibling in enumerate(row_el):
            if sibling.tag == C and parse_a1(sibling.get("r", "A1"))[1] > col:
                index = i
                break
            if sibling.tag != C:  # row extLst stays last
                index = i
                break
        row_el.insert(index, c)
        self._widen(row_el, row, col)
        return c

    def _widen(self, row_el: Element, row: int, col: int) -> None:
        spans = row_el.get("spans")
        if spans:
            # spans is an optimisation hint, but keep it true for the new cell.
            bounds = [int(x) for part in spans.split() for x in part.split(":") if x.isdigit()]
            if bounds:
                row_el.set("spans", f"{min([*bounds, col + 1])}:{max([*bounds, col + 1])}")
        dim = self.doc.root.find(_m("dimension"))
        box = _range(dim.get("ref", "")) if dim is not None else None
        if dim is not None and box is not None:
            r0, c0, r1, c1 = min(box[0], row), min(box[1], col), max(box[2], row), max(box[3], col)
            dim.set("ref", a1(r0, c0) if (r0, c0) == (r1, c1) else f"{a1(r0, c0)}:{a1(r1, c1)}")


def _clear_value(c: Element) -> None:
    for child in list(c):
        if child.tag in (F, V, IS):
            c.remove(child)
    for attr in ("t", "cm", "vm"):  # cm/vm point at dynamic-array / rich-value metadata of the old content
        c.attrib.pop(attr, None)


# ---------------------------------------------------------------------------------------------------------
# VML for notes: Excel's VML is HTML-like and not always well-formed XML, so it is patched as bytes.

VML_NS = (b'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
          b'xmlns:x="urn:schemas-microsoft-com:office:excel"')
VML_SHAPETYPE = (b'<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
                 b'path="m,l,21600r21600,l21600,xe">\n  <v:stroke joinstyle="miter"/>\n'
                 b'  <v:path gradientshapeok="t" o:connecttype="rect"/>\n </v:shapetype>')


def _vml_shape(shape_id: int, row: int, col: int, z_index: int, declare: bool) -> bytes:
    anchor = f"{col + 1}, 15, {max(row - 1, 0)}, {10 if row else 2}, {col + 3}, 15, {row + 3}, 16"
    ns = b" " + VML_NS if declare else b""
    return (
        b'<v:shape' + ns + f' id="_x0000_s{shape_id}" type="#_x0000_t202" style="position:absolute;'
        f"margin-left:{59.25 + 48 * col}pt;margin-top:{1.5 + 15 * max(row - 1, 0)}pt;width:96pt;"
        f'height:55.5pt;z-index:{z_index};visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">\n'
        '  <v:fill color2="#ffffe1"/>\n  <v:shadow on="t" color="black" obscured="t"/>\n'
        '  <v:path o:connecttype="none"/>\n  <v:textbox style="mso-direction-alt:auto">\n'
        '   <div style="text-align:left"></div>\n  </v:textbox>\n  <x:ClientData ObjectType="Note">\n'
        f"   <x:MoveWithCells/>\n   <x:SizeWithCells/>\n   <x:Anchor>{anchor}</x:Anchor>\n"
        f"   <x:AutoFill>False</x:AutoFill>\n   <x:Row>{row}</x:Row>\n   <x:Column>{col}</x:Column>\n"
        "  </x:ClientData>\n </v:shape>".encode()
    )


def _vml_has_note(vml: bytes, row: int, col: int) -> bool:
    for shape in re.finditer(rb"<(?:\w+:)?shape\b.*?</(?:\w+:)?shape>", vml, re.S):
        block = shape.group()
        if b'ObjectType="Note"' not in block:
            continue
        found_row = re.search(rb"<(?:\w+:)?Row>\s*(\d+)\s*<", block)
        found_col = re.search(rb"<(?:\w+:)?Column>\s*(\d+)\s*<", block)
        if found_row and found_col and (int(found_row[1]), int(found_col[1])) == (row, col):
            return True
    return False


def _vml_blocks(vml: bytes) -> list[int]:
    return [int(x) for m in re.finditer(rb'idmap\b[^>]*\bdata="([\d,\s]*)"', vml) for x in m[1].split(b",")
            if x.strip().isdigit()]


# ---------------------------------------------------------------------------------------------------------
# The package.


class WorkbookPatch:
    """Edits to one workbook, kept in memory until :meth:`save` writes the patched package."""

    def __init__(self, source: Path) -> None:
        self.source = Path(source)
        try:
            with zipfile.ZipFile(self.source) as zf:
                infos = zf.infolist()
                if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
                    raise _fail(f"ไฟล์ขยายตัวผิดปกติ / package expands beyond {MAX_UNCOMPRESSED} bytes")
                self._data = {i.filename: zf.read(i) for i in infos}
        except FileNotFoundError as exc:
            raise _fail(f"ไม่พบไฟล์ / file not found: {self.source}") from exc
        except (zipfile.BadZipFile, OSError) as exc:
            raise _fail(f"ไม่ใช่ไฟล์ .xlsx/.xlsm หรือไฟล์เสียหาย / not a readable .xlsx/.xlsm package: "
                        f"{self.source} ({exc})") from exc
        self._infos = {i.filename: i for i in infos}
        self._order = list(dict.fromkeys(i.filename for i in infos))
        if WORKBOOK_PART not in self._data:
            raise _fail(f"ไม่มี {WORKBOOK_PART} / not an Excel workbook package: {self.source}")
        self._docs: dict[str, _XmlDoc] = {}
        self._dirty: set[str] = set()
        self._raw: dict[str, bytes] = {}  # parts replaced by bytes (VML)
        self._new: list[str] = []
        self._removed: set[str] = set()
        self._sheets: dict[str, _Sheet] = {}  # part -> sheet being edited
        self._by_name: dict[str, _Sheet] = {}  # sheet name asked for -> its sheet (set_cell is called per cell)
        self._style_cache: dict[tuple[str, int, str], int] = {}
        self._values_changed = False
        self._formulas_changed = False
        if self._doc(WORKBOOK_PART).root.tag != _m("workbook"):
            raise _fail("รองรับเฉพาะรูปแบบ Transitional / only Transitional (not Strict) OOXML workbooks")

    # --- parts ------------------------------------------------------------------------------------------

    def _names(self) -> list[str]:
        return [n for n in [*self._order, *self._new] if n not in self._removed]

    def _lookup(self, part: str) -> str | None:
        """Actual zip name of a part; OPC part names are case-insensitive."""
        if part in self._docs or part in self._data or part in self._raw:
            return part if part not in self._removed else None
        lowered = part.lower()
        return next((n for n in self._names() if n.lower() == lowered), None)

    def _bytes(self, part: str) -> bytes:
        if part in self._raw:
            return self._raw[part]
        if part in self._dirty:
            return _serialise(self._docs[part])
        return self._data[part]

    def _doc(self, part: str) -> _XmlDoc:
        if part not in self._docs:
            self._docs[part] = _parse_xml(self._data[part], part)
        return self._docs[part]

    def _touch(self, part: str) -> None:
        self._dirty.add(part)

    def _add_part(self, part: str, doc: _XmlDoc | None = None, raw: bytes | None = None) -> None:
        if part in self._removed:
            self._removed.discard(part)
        elif part not in self._data and part not in self._new:
            self._new.append(part)
        if doc is not None:
            self._docs[part] = doc
            self._dirty.add(part)
        if raw is not None:
            self._raw[part] = raw

    def _remove_part(self, part: str) -> None:
        self._removed.add(part)
        self._dirty.discard(part)
        self._raw.pop(part, None)
        if part in self._new:
            self._new.remove(part)
            self._removed.discard(part)

    def _free_name(self, pattern: str, start: int = 1) -> str:
        taken = {n.lower() for n in self._names()}
        n = start
        while pattern.format(n).lower() in taken:
            n += 1
        return pattern.format(n)

    # --- relationships and content types -----------------------------------------------------------------

    @staticmethod
    def _rels_name(part: str) -> str:
        folder, name = posixpath.split(part)
        return posixpath.join(folder, "_rels", f"{name}.rels")

    def _rels(self, part: str, create: bool = False) -> _XmlDoc | None:
        name = self._rels_name(part)
        found = self._lookup(name)
        if found is not None:
            return self._doc(found)
        if not create:
            return None
        doc = _new_doc(Element(f"{{{NS_PKG_REL}}}Relationships"), ("", NS_PKG_REL))
        self._add_part(name, doc)
        self._ensure_default("rels", CT_RELS)
        return doc

    def _rels_part_name(self, doc: _XmlDoc) -> str:
        return next(name for name, d in self._docs.items() if d is doc)

    @staticmethod
    def _resolve(source_part: str, target: str) -> str:
        target = unquote(target)
        if target.startswith("/"):
            return target.lstrip("/")
        return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))

    def _related(self, part: str, rel_suffix: str) -> list[tuple[Element, str]]:
        """(relationship, target part) pairs of ``part`` whose type ends with ``rel_suffix``."""
        doc = self._rels(part)
        if doc is None:
            return []
        return [(rel, self._resolve(part, rel.get("Target", ""))) for rel in doc.root.iter(REL_TAG)
                if rel.get("Type", "").endswith(rel_suffix) and rel.get("TargetMode") != "External"]

    def _add_rel(self, part: str, rel_type: str, target_part: str) -> str:
        doc = self._rels(part, create=True)
        assert doc is not None
        ids = {rel.get("Id") for rel in doc.root.iter(REL_TAG)}
        n = len(ids) + 1
        while f"rId{n}" in ids:
            n += 1
        target = posixpath.relpath(target_part, posixpath.dirname(part))
        _sub(doc.root, REL_TAG, {"Id": f"rId{n}", "Type": REL_BASE + rel_type, "Target": target})
        self._touch(self._rels_part_name(doc))
        return f"rId{n}"

    def _content_types(self) -> _XmlDoc:
        name = self._lookup(CT_PART)
        if name is None:
            raise _fail("ไม่มี [Content_Types].xml / package has no [Content_Types].xml")
        return self._doc(name)

    def _ensure_default(self, extension: str, content_type: str) -> None:
        doc = self._content_types()
        for default in doc.root.iter(f"{{{NS_CT}}}Default"):
            if default.get("Extension", "").lower() == extension:
                return
        default = Element(f"{{{NS_CT}}}Default", {"Extension": extension, "ContentType": content_type})
        doc.root.insert(0, default)
        self._touch(self._lookup(CT_PART) or CT_PART)

    def _override(self, part: str, content_type: str | None) -> None:
        """Set (or with None remove) the content-type override of a part."""
        doc = self._content_types()
        name = "/" + part
        for over in list(doc.root.iter(f"{{{NS_CT}}}Override")):
            if over.get("PartName", "").lower() == name.lower():
                doc.root.remove(over)
        if content_type is not None:
            _sub(doc.root, f"{{{NS_CT}}}Override", {"PartName": name, "ContentType": content_type})
        self._touch(self._lookup(CT_PART) or CT_PART)

    def _part_content_type(self, part: str) -> str:
        doc = self._content_types()
        for over in doc.root.iter(f"{{{NS_CT}}}Override"):
            if over.get("PartName", "").lower() == "/" + part.lower():
                return over.get("ContentType", "")
        ext = part.rsplit(".", 1)[-1].lower()
        for default in doc.root.iter(f"{{{NS_CT}}}Default"):
            if default.get("Extension", "").lower() == ext:
                return default.get("ContentType", "")
        return ""

    # --- sheets ------------------------------------------------------------------------------------------

    def _sheet_entries(self) -> list[tuple[str, Element, str]]:
        """(name, <sheet> element, part) in workbook order."""
        book = self._doc(WORKBOOK_PART)
        rels = self._rels(WORKBOOK_PART)
        targets = {} if rels is None else {rel.get("Id"): self._resolve(WORKBOOK_PART, rel.get("Target", ""))
                                           for rel in rels.root.iter(REL_TAG)}
        out = []
        for sheet in book.root.iter(_m("sheet")):
            part = targets.get(sheet.get(R_ID), "")
            out.append((sheet.get("name", ""), sheet, self._lookup(part) or part))
        return out

    def _find_sheet(self, name: str) -> tuple[str, Element, str] | None:
        entries = self._sheet_entries()
        for entry in entries:
            if entry[0] == name:
                return entry
        # Excel sheet names are case-insensitive.
        return next((e for e in entries if e[0].casefold() == name.casefold()), None)

    def _sheet(self, name: str) -> _Sheet:
        if name in self._by_name:
            return self._by_name[name]
        entry = self._find_sheet(name)
        if entry is None:
            names = ", ".join(e[0] for e in self._sheet_entries())
            raise _fail(f"ไม่พบชีต '{name}' / sheet '{name}' not found (sheets: {names})")
        sheet_name, _, part = entry
        if part not in self._sheets:
            if self._lookup(part) is None:
                raise _fail(f"ชีต '{sheet_name}' ไม่มีข้อมูล / part {part} of sheet '{sheet_name}' is missing")
            self._sheets[part] = _Sheet.load(sheet_name, part, self._doc(part))
        self._by_name[name] = self._sheets[part]
        return self._sheets[part]

    def _table_headers(self, sheet: _Sheet) -> list[tuple[int, int, int, int]]:
        boxes = []
        for _, part in self._related(sheet.part, "/table"):
            found = self._lookup(part)
            if found is None:
                continue
            table = self._doc(found).root
            box = _range(table.get("ref", ""))
            if box and table.get("headerRowCount", "1") != "0":
                boxes.append((box[0], box[1], box[0], box[3]))
        return boxes

    # --- public edits ------------------------------------------------------------------------------------

    def set_cell(self, sheet: str, cell: str, value: CellValue = None, formula: str | None = None) -> None:
        """Set a constant (formula None) or a formula (text without '=') with ``value`` as its cached result.

        The cell keeps its style; a new cell takes its row's or column's style, as in Excel. Strings are
        inline strings (sharedStrings.xml stays untouched); a formula's string result is t="str". A string
        constant is always text, never a formula. value None without formula blanks the cell. Cells that
        depend on this cell's shared formula get their own copy of it first; writing into a cell hidden
        by a merge, inside an array formula's range or into a table header is refused.
        """
        _check_value(value)
        if formula is not None:
            formula = formula.strip().removeprefix("=").strip()
            if not formula or len(formula) > MAX_FORMULA or _CONTROL_CHARS.search(formula):
                raise _fail(f"สูตรไม่ถูกต้อง / bad formula {formula!r}")
        target = self._sheet(sheet)
        row, col = _address(cell)
        ref = a1(row, col)
        blank = value is None and formula is None
        if not blank:
            for box in target.merged():
                if _inside(box, row, col) and box[:2] != (row, col):
                    raise _fail(f"{ref} อยู่ในเซลล์ที่ผสาน ให้เขียนที่ {a1(box[0], box[1])} / {ref} is hidden "
                                f"inside merged range {a1(*box[:2])}:{a1(*box[2:])}; write to {a1(*box[:2])}")
        for box in target.arrays():
            if _inside(box, row, col) and box[:2] != (row, col):
                raise _fail(f"{ref} เป็นส่วนหนึ่งของสูตรอาร์เรย์ / {ref} is part of the array formula in "
                            f"{a1(*box[:2])}; change that cell instead")
        for box in self._table_headers(target):
            if _inside(box, row, col):
                raise _fail(f"{ref} เป็นหัวตาราง / {ref} is a table header; "
                            "renaming table columns is not supported")
        c = target.cell(row, col)
        self._detach_formula(target, c, row, col)
        _clear_value(c)
        children: list[Element] = []
        if formula is not None:
            self._formulas_changed = True
            children.append(Element(F))
            children[0].text = formula
        if isinstance(value, bool):
            c.set("t", "b")
            children.append(Element(V))
            children[-1].text = "1" if value else "0"
        elif isinstance(value, str) and formula is not None:
            c.set("t", "str")
            children.append(Element(V))
            children[-1].text = _xstring(value)
        elif isinstance(value, str):
            c.set("t", "inlineStr")
            inline = Element(IS)
            text = _sub(inline, T, text=_xstring(value))
            if value != value.strip():
                text.set(XML_SPACE, "preserve")
            children.append(inline)
        elif value is not None:
            children.append(Element(V))
            children[-1].text = _number_text(value)
        for i, child in enumerate(children):
            c.insert(i, child)
        self._values_changed = True
        self._touch(target.part)

    def _detach_formula(self, sheet: _Sheet, c: Element, row: int, col: int) -> None:
        """Before a cell's content is replaced, keep the cells that depend on its formula working."""
        f = c.find(F)
        if f is None:
            return
        self._formulas_changed = True
        kind, si = f.get("t"), f.get("si")
        if kind == "shared" and si is not None:
            group = sheet.shared().pop(si, [])
            if f.text:  # the master: give every dependent its own copy of the formula
                for dep in group:
                    dep_f = dep.find(F)
                    if dep is c or dep_f is None:
                        continue
                    dep_row, dep_col = parse_a1(dep.get("r", ""))
                    for attr in ("t", "ref", "si"):
                        dep_f.attrib.pop(attr, None)
                    dep_f.text = _shift_formula(f.text, dep_row - row, dep_col - col)
            else:
                group = [d for d in group if d is not c]
                if group:
                    sheet.shared()[si] = group
        elif kind in ("array", "dataTable"):
            for box in [b for b in sheet.arrays() if b[:2] == (row, col)]:
                # Like deleting the formula in Excel: the range it filled empties (styles stay).
                for r in range(box[0], box[2] + 1):
                    for k in range(box[1], box[3] + 1):
                        _, other = sheet.find(r, k)
                        if other is not None and other is not c:
                            _clear_value(other)
                sheet.arrays().remove(box)

    def highlight(self, sheet: str, cell: str, rgb: str = "FFFFC7CE") -> None:
        """Give the cell a solid fill, keeping its number format, font and border (a cloned cell format)."""
        colour = rgb.strip().lstrip("#").upper()
        if not re.fullmatch(r"[0-9A-F]{6}([0-9A-F]{2})?", colour):
            raise _fail(f"สีไม่ถูกต้อง / bad colour {rgb!r}; use RRGGBB or AARRGGBB")
        colour = colour if len(colour) == 8 else "FF" + colour
        target = self._sheet(sheet)
        row, col = _address(cell)
        row_el, c = target.find(row, col)
        base = target.style_for(row_el, c, col)
        xf = self._fill_xf(base, colour)
        c = target.cell(row, col)
        c.set("s", str(xf))
        self._touch(target.part)

    def comment(self, sheet: str, cell: str, text: str, author: str = "osmep_xl") -> None:
        """Add a note to a cell, replacing one already on that cell; other notes are kept.

        The text goes to the sheet's commentsN.xml, the note box to its legacy VML drawing (Excel shows
        notes only through it); either part, its relationship and content type are created if missing.
        """
        body, who = _xstring(text), _xstring(author)
        target = self._sheet(sheet)
        row, col = _address(cell)
        ref = a1(row, col)
        for _, part in self._related(target.part, "/threadedComment"):
            found = self._lookup(part)
            if found and any(t.get("ref", "").upper() == ref for t in self._doc(found).root.iter()):
                raise _fail(f"{ref} มีความคิดเห็นแบบเธรด / {ref} has a threaded comment; "
                            "delete it in Excel first")
        comments = self._comments_doc(target)
        root = comments.root
        authors = root.find(_m("authors"))
        if authors is None:
            authors = Element(_m("authors"))
            root.insert(0, authors)
        names = [a.text or "" for a in authors.findall(_m("author"))]
        if who not in names:
            _sub(authors, _m("author"), text=who)
            names.append(who)
        comment_list = root.find(_m("commentList"))
        if comment_list is None:
            comment_list = _sub(root, _m("commentList"))
        new = Element(_m("comment"), {"ref": ref, "authorId": str(names.index(who))})
        text_el = _sub(new, _m("text"))
        run = _sub(text_el, _m("r"))
        props = _sub(run, _m("rPr"))
        _sub(props, _m("sz"), {"val": "9"})
        _sub(props, _m("color"), {"indexed": "81"})
        _sub(props, _m("rFont"), {"val": "Tahoma"})
        _sub(props, _m("family"), {"val": "2"})
        _sub(run, _m("t"), {XML_SPACE: "preserve"}, body)
        position = None
        for i, old in enumerate(list(comment_list)):
            old_box = _range(old.get("ref", ""))
            if old_box and old_box[:2] == (row, col):
                comment_list.remove(old)  # one note per cell: the new text replaces the old
                position = i
                break
        if position is None:  # keep Excel's row-major order
            boxes = [_range(old.get("ref", "")) for old in comment_list]
            position = next((i for i, b in enumerate(boxes) if b and b[:2] > (row, col)), len(comment_list))
        comment_list.insert(position, new)
        self._add_note_shape(target, row, col)

    def _comments_doc(self, sheet: _Sheet) -> _XmlDoc:
        for _, part in self._related(sheet.part, "/comments"):
            found = self._lookup(part)
            if found is not None:
                self._touch(found)
                return self._doc(found)
        part = self._free_name("xl/comments{}.xml")
        doc = _new_doc(Element(_m("comments")), ("", NS_MAIN))
        self._add_part(part, doc)
        self._override(part, CT_COMMENTS)
        self._add_rel(sheet.part, "comments", part)
        return doc

    def _add_note_shape(self, sheet: _Sheet, row: int, col: int) -> None:
        legacy = sheet.doc.root.find(_m("legacyDrawing"))
        vml_part = None
        if legacy is not None:
            rels = self._rels(sheet.part)
            rid = legacy.get(R_ID)
            for rel in [] if rels is None else rels.root.iter(REL_TAG):
                if rel.get("Id") == rid:
                    vml_part = self._lookup(self._resolve(sheet.part, rel.get("Target", "")))
        if vml_part is None:
            # Excel shows a note only through a legacy VML drawing; block ids must differ per drawing.
            blocks = [b for name in self._names() if name.lower().endswith(".vml")
                      for b in _vml_blocks(self._bytes(name))]
            block = str(max(blocks, default=0) + 1).encode()
            vml_part = self._free_name("xl/drawings/vmlDrawing{}.vml")
            vml = (b'<xml ' + VML_NS + b'>\n <o:shapelayout v:ext="edit">\n  <o:idmap v:ext="edit" data="'
                   + block + b'"/>\n </o:shapelayout>' + VML_SHAPETYPE + b"\n</xml>\n")
            self._add_part(vml_part, raw=vml)
            self._ensure_default("vml", CT_VML)
            if legacy is not None:  # pointed at a missing part: drop it and start again
                sheet.doc.root.remove(legacy)
            legacy = Element(_m("legacyDrawing"), {R_ID: self._add_rel(sheet.part, "vmlDrawing", vml_part)})
            _insert_ordered(sheet.doc.root, legacy, WORKSHEET_ORDER)
            self._touch(sheet.part)
        vml = self._bytes(vml_part)
        if _vml_has_note(vml, row, col):
            return
        end = vml.rfind(b"</xml>")
        if end < 0:
            raise _fail(f"VML เสียหาย / drawing {vml_part} has no closing </xml>")
        # Our shapes use the v:/o:/x: prefixes; declare them on the shape if the file binds others.
        declare = not all(decl in vml for decl in VML_NS.split(b" "))
        ids = [int(x) for x in re.findall(rb'id="_x0000_s(\d+)"', vml)]
        blocks = _vml_blocks(vml) or [1]
        shape_id = max([*ids, min(blocks) * 1024]) + 1
        insert = b""
        if b'id="_x0000_t202"' not in vml:
            insert += VML_SHAPETYPE.replace(b"<v:shapetype", b"<v:shapetype " + VML_NS, 1) if declare \
                else VML_SHAPETYPE
            insert += b"\n"
        insert += _vml_shape(shape_id, row, col, len(ids) + 1, declare) + b"\n"
        self._add_part(vml_part, raw=vml[:end] + insert + vml[end:])

    def add_sheet(self, name: str, rows: list[list[CellValue]], *, header_rows: int = 1,
                  widths: list[float] | None = None, links: dict[str, tuple[str, str]] | None = None) -> None:
        """Append a worksheet of values (inline strings; first ``header_rows`` rows bold).

        ``links`` maps a cell of the new sheet to an internal hyperlink target (sheet, cell). If a sheet
        of that name exists (e.g. an earlier run's annotation sheet), its content is replaced in place,
        in the same part, so references to it stay valid; a sheet holding drawings, notes, tables or
        other related parts is refused rather than orphaning them.
        """
        self._check_sheet_name(name)
        for values in rows:
            for value in values:
                _check_value(value)
        if header_rows < 0:
            raise _fail("header_rows ต้องไม่ติดลบ / header_rows must be >= 0")
        for width in widths or []:
            if not 0 <= width <= 255:
                raise _fail(f"ความกว้างไม่ถูกต้อง / column width {width} outside 0..255")
        hyperlinks: list[tuple[str, str]] = []
        for ref, (to_sheet, to_cell) in (links or {}).items():
            at = a1(*_address(ref))
            # A target may be a cell or a range; each end must be a real address.
            target_ref = ":".join(a1(*_address(end)) for end in to_cell.split(":", 1))
            entry = self._find_sheet(to_sheet)
            if entry is None and to_sheet.casefold() != name.casefold():
                raise _fail(f"ไม่พบชีต '{to_sheet}' / link target sheet '{to_sheet}' not found")
            real = entry[0] if entry else name
            hyperlinks.append((at, "'" + real.replace("'", "''") + "'!" + target_ref))
        existing = self._find_sheet(name)
        if existing is not None:
            part = self._prepare_replace(existing[0], existing[2])
            code_name = self._doc(part).root.find(_m("sheetPr"))
            code = None if code_name is None else code_name.get("codeName")
        else:
            part, code = self._free_name("xl/worksheets/sheet{}.xml"), None
        bold = self._bold_xf() if header_rows and rows else 0
        doc = self._build_sheet(rows, header_rows, bold, widths or [], hyperlinks, code)
        if existing is not None:
            self._docs[part] = doc
            self._touch(part)
            self._sheets.pop(part, None)
            self._by_name.clear()
        else:
            self._add_part(part, doc)
            self._override(part, CT_WORKSHEET)
            rid = self._add_rel(WORKBOOK_PART, "worksheet", part)
            book = self._doc(WORKBOOK_PART).root
            sheets = book.find(_m("sheets"))
            if sheets is None:
                sheets = Element(_m("sheets"))
                _insert_ordered(book, sheets, WORKBOOK_ORDER)
            ids = [int(s.get("sheetId", "0")) for s in sheets.findall(_m("sheet"))]
            _sub(sheets, _m("sheet"), {"name": name, "sheetId": str(max(ids, default=0) + 1), R_ID: rid})
            self._touch(WORKBOOK_PART)
        self._values_changed = True

    @staticmethod
    def _check_sheet_name(name: str) -> None:
        if (not name or len(name) > 31 or re.search(r"[\[\]:*?/\\\x00-\x1f]", name)
                or name.startswith("'") or name.endswith("'") or name.casefold() == "history"):
            raise _fail(f"ชื่อชีตไม่ถูกต้อง / invalid sheet name {name!r} (1-31 characters, none of []:*?/\\, "
                        "not starting or ending with ', not 'History')")

    def _prepare_replace(self, name: str, part: str) -> str:
        """Check an existing sheet may be overwritten; drop the relationships its old content used."""
        if not self._part_content_type(part).endswith("worksheet+xml"):
            raise _fail(f"'{name}' ไม่ใช่แผ่นงานธรรมดา / sheet '{name}' is not a plain worksheet; not replaced")
        rels = self._rels(part)
        if rels is not None:
            kept = [r.get("Type", "") for r in rels.root.iter(REL_TAG)
                    if not r.get("Type", "").endswith(DROPPABLE_RELS)]
            if kept:
                raise _fail(f"ชีต '{name}' มีรูป/บันทึก/ตาราง จึงไม่เขียนทับ / sheet '{name}' holds related parts "
                            f"({', '.join(sorted({k.rsplit('/', 1)[-1] for k in kept}))}); not replaced")
            self._remove_part(self._lookup(self._rels_name(part)) or self._rels_name(part))
        if any(True for _ in self._doc(part).root.iter(F)):
            self._formulas_changed = True
        return part

    def _build_sheet(self, rows: list[list[CellValue]], header_rows: int, bold: int, widths: list[float],
                     hyperlinks: list[tuple[str, str]], code_name: str | None) -> _XmlDoc:
        root = Element(_m("worksheet"))
        doc = _new_doc(root, ("", NS_MAIN), ("r", NS_REL))
        if code_name:  # VBA binds its sheet modules by code name
            _sub(root, _m("sheetPr"), {"codeName": code_name})
        width = max((len(r) for r in rows), default=0)
        _sub(root, _m("dimension"), {"ref": f"A1:{a1(len(rows) - 1, width - 1)}" if rows and width else "A1"})
        view = _sub(_sub(root, _m("sheetViews")), _m("sheetView"), {"workbookViewId": "0"})
        if 0 < header_rows < len(rows):
            _sub(view, _m("pane"), {"ySplit": str(header_rows), "topLeftCell": a1(header_rows, 0),
                                    "activePane": "bottomLeft", "state": "frozen"})
            _sub(view, _m("selection"), {"pane": "bottomLeft"})
        _sub(root, _m("sheetFormatPr"), {"defaultRowHeight": "15"})
        if widths:
            cols = _sub(root, _m("cols"))
            for i, w in enumerate(widths):
                _sub(cols, _m("col"), {"min": str(i + 1), "max": str(i + 1), "width": _number_text(w),
                                       "customWidth": "1"})
        data = _sub(root, _m("sheetData"))
        for r, values in enumerate(rows):
            row_el = _sub(data, ROW, {"r": str(r + 1)})
            for k, value in enumerate(values):
                attrib = {"r": a1(r, k)}
                if r < header_rows and bold:
                    attrib["s"] = str(bold)
                if value is None and "s" not in attrib:
                    continue
                c = _sub(row_el, C, attrib)
                if isinstance(value, bool):
                    c.set("t", "b")
                    _sub(c, V, text="1" if value else "0")
                elif isinstance(value, str):
                    c.set("t", "inlineStr")
                    t = _sub(_sub(c, IS), T, text=_xstring(value))
                    if value != value.strip():
                        t.set(XML_SPACE, "preserve")
                elif value is not None:
                    _sub(c, V, text=_number_text(value))
        if hyperlinks:
            links = _sub(root, _m("hyperlinks"))
            for ref, location in sorted(hyperlinks, key=lambda h: _address(h[0])):
                _sub(links, _m("hyperlink"), {"ref": ref, "location": location})
        _sub(root, _m("pageMargins"), {"left": "0.7", "right": "0.7", "top": "0.75", "bottom": "0.75",
                                       "header": "0.3", "footer": "0.3"})
        return doc

    def print_table(self, name: str, *, heights: list[float], font: str, size: float, header_fill: str,
                    landscape: bool = True, footer: str = "", columns: int = 0, right: tuple[int, ...] = ()) -> None:
        """Make a sheet written by :meth:`add_sheet` print as a table: every cell in ``font`` at ``size``,
        wrapped, top-aligned and boxed, row 1 bold on ``header_fill`` (RGB); rows ``heights`` points high (from
        row 1); A4 in the given orientation, one page wide, row 1 repeated on every page, ``footer`` below;
        only the first ``columns`` columns print when given; columns ``right`` (0-based) aligned right."""
        sheet = self._sheet(name)
        entry = self._find_sheet(name)
        assert entry is not None
        styles = self._styles().root
        xfs = []
        for bold, align in ((True, "left"), (False, "left"), (False, "right")):
            font_el = Element(_m("font"))
            if bold:
                _sub(font_el, _m("b"))
            _sub(font_el, _m("sz"), {"val": _number_text(size)})
            _sub(font_el, _m("name"), {"val": font})
            border = Element(_m("border"))
            for side in ("left", "right", "top", "bottom"):
                _sub(_sub(border, _m(side), {"style": "thin"}), _m("color"), {"auto": "1"})
            _sub(border, _m("diagonal"))
            fill = Element(_m("fill"))
            pattern = _sub(fill, _m("patternFill"), {"patternType": "solid" if bold else "none"})
            if bold:
                _sub(pattern, _m("fgColor"), {"rgb": header_fill})
                _sub(pattern, _m("bgColor"), {"indexed": "64"})
            ids = {"fontId": self._append_unique(self._collection(styles, "fonts"), font_el),
                   "fillId": self._append_unique(self._collection(styles, "fills"), fill),
                   "borderId": self._append_unique(self._collection(styles, "borders"), border)}
            xf = Element(_m("xf"), {"numFmtId": "0", **{k: str(v) for k, v in ids.items()}, "xfId": "0",
                                    "applyFont": "1", "applyFill": "1", "applyBorder": "1", "applyAlignment": "1"})
            _sub(xf, _m("alignment"), {"horizontal": align, "vertical": "top", "wrapText": "1"})
            xfs.append(str(self._append_unique(self._collection(styles, "cellXfs"), xf)))
        for number in sheet.numbers:
            row = sheet.rows[number]
            if number <= len(heights):
                row.set("ht", _number_text(heights[number - 1]))
                row.set("customHeight", "1")
            for c in row.findall(C):
                c.set("s", xfs[0] if number == 1 else xfs[2] if parse_a1(c.get("r", "A1"))[1] in right else xfs[1])
        root = sheet.doc.root
        pr = root.find(_m("sheetPr"))
        if pr is None:
            pr = Element(_m("sheetPr"))
            _insert_ordered(root, pr, WORKSHEET_ORDER)
        for old in pr.findall(_m("pageSetUpPr")):
            pr.remove(old)
        _insert_ordered(pr, Element(_m("pageSetUpPr"), {"fitToPage": "1"}), ("tabColor", "outlinePr", "pageSetUpPr"))
        for tag in ("printOptions", "pageMargins", "pageSetup", "headerFooter"):
            for old in root.findall(_m(tag)):
                root.remove(old)
        _insert_ordered(root, Element(_m("pageMargins"), {"left": "0.25", "right": "0.25", "top": "0.75",
                                                          "bottom": "0.75", "header": "0.3", "footer": "0.3"}),
                        WORKSHEET_ORDER)
        _insert_ordered(root, Element(_m("pageSetup"), {
            "paperSize": "9", "fitToWidth": "1", "fitToHeight": "0",
            "orientation": "landscape" if landscape else "portrait"}), WORKSHEET_ORDER)
        if footer:
            hf = Element(_m("headerFooter"))
            _sub(hf, _m("oddFooter"), text=_xstring(footer))
            _insert_ordered(root, hf, WORKSHEET_ORDER)
        self._touch(sheet.part)
        book = self._doc(WORKBOOK_PART).root
        index = str([e[0] for e in self._sheet_entries()].index(entry[0]))
        names = book.find(_m("definedNames"))
        if names is None:
            names = Element(_m("definedNames"))
            _insert_ordered(book, names, WORKBOOK_ORDER)
        for old in names.findall(_m("definedName")):
            if (old.get("name", "").casefold() in ("_xlnm.print_titles", "_xlnm.print_area")
                    and old.get("localSheetId") == index):
                names.remove(old)
        quoted = "'" + entry[0].replace("'", "''") + "'"
        if columns:
            _sub(names, _m("definedName"), {"name": "_xlnm.Print_Area", "localSheetId": index},
                 text=f"{quoted}!$A:${a1(0, columns - 1).rstrip('123456789')}")
        _sub(names, _m("definedName"), {"name": "_xlnm.Print_Titles", "localSheetId": index}, text=f"{quoted}!$1:$1")
        self._touch(WORKBOOK_PART)

    # --- styles ------------------------------------------------------------------------------------------

    def _styles(self) -> _XmlDoc:
        for _, part in self._related(WORKBOOK_PART, "/styles"):
            found = self._lookup(part)
            if found is not None:
                return self._doc(found)
        # A package without styles (rare generators): give it Excel's minimal stylesheet.
        root = Element(_m("styleSheet"))
        fonts = _sub(root, _m("fonts"), {"count": "1"})
        font = _sub(fonts, _m("font"))
        _sub(font, _m("sz"), {"val": "11"})
        _sub(font, _m("name"), {"val": "Calibri"})
        fills = _sub(root, _m("fills"), {"count": "2"})
        _sub(_sub(fills, _m("fill")), _m("patternFill"), {"patternType": "none"})
        _sub(_sub(fills, _m("fill")), _m("patternFill"), {"patternType": "gray125"})
        border = _sub(_sub(root, _m("borders"), {"count": "1"}), _m("border"))
        for side in ("left", "right", "top", "bottom", "diagonal"):
            _sub(border, _m(side))
        _sub(_sub(root, _m("cellStyleXfs"), {"count": "1"}), _m("xf"),
             {"numFmtId": "0", "fontId": "0", "fillId": "0", "borderId": "0"})
        _sub(_sub(root, _m("cellXfs"), {"count": "1"}), _m("xf"),
             {"numFmtId": "0", "fontId": "0", "fillId": "0", "borderId": "0", "xfId": "0"})
        _sub(_sub(root, _m("cellStyles"), {"count": "1"}), _m("cellStyle"),
             {"name": "Normal", "xfId": "0", "builtinId": "0"})
        doc = _new_doc(root, ("", NS_MAIN))
        self._add_part("xl/styles.xml", doc)
        self._override("xl/styles.xml", CT_STYLES)
        self._add_rel(WORKBOOK_PART, "styles", "xl/styles.xml")
        return doc

    @staticmethod
    def _collection(root: Element, tag: str) -> Element:
        found = root.find(_m(tag))
        if found is None:
            raise _fail(f"styles.xml ไม่มี <{tag}> / styles.xml has no <{tag}>")
        return found

    def _append_unique(self, collection: Element, record: Element) -> int:
        """Index of an equal record in the collection, appending it if there is none."""
        wanted = _canonical(record)
        items = list(collection)
        for i, item in enumerate(items):
            if _canonical(item) == wanted:
                return i
        collection.append(record)
        collection.set("count", str(len(items) + 1))
        styles = self._styles()
        self._touch(next(name for name, doc in self._docs.items() if doc is styles))
        return len(items)

    def _clone_xf(self, base: int, **changes: str) -> int:
        xfs = self._collection(self._styles().root, "cellXfs")
        items = list(xfs)
        if not items:
            raise _fail("styles.xml ไม่มีรูปแบบเซลล์ / styles.xml has no cell formats")
        xf = copy.deepcopy(items[base] if base < len(items) else items[0])
        xf.tail = None
        for key, value in changes.items():
            xf.set(key, value)
        return self._append_unique(xfs, xf)

    def _fill_xf(self, base: int, rgb: str) -> int:
        key = ("fill", base, rgb)
        if key not in self._style_cache:
            fills = self._collection(self._styles().root, "fills")
            fill = Element(_m("fill"))
            pattern = _sub(fill, _m("patternFill"), {"patternType": "solid"})
            _sub(pattern, _m("fgColor"), {"rgb": rgb})
            _sub(pattern, _m("bgColor"), {"indexed": "64"})
            fill_id = self._append_unique(fills, fill)
            self._style_cache[key] = self._clone_xf(base, fillId=str(fill_id), applyFill="1")
        return self._style_cache[key]

    def _bold_xf(self) -> int:
        key = ("bold", 0, "")
        if key not in self._style_cache:
            fonts = self._collection(self._styles().root, "fonts")
            first = next(iter(fonts), None)
            font = Element(_m("font")) if first is None else copy.deepcopy(first)
            font.tail = None
            for b in font.findall(_m("b")):
                font.remove(b)
            font.insert(0, Element(_m("b")))
            font_id = self._append_unique(fonts, font)
            self._style_cache[key] = self._clone_xf(0, fontId=str(font_id), applyFont="1")
        return self._style_cache[key]

    # --- saving ------------------------------------------------------------------------------------------

    def _finish(self) -> None:
        """Workbook-level consequences of the edits: recalculation on open and no stale calc chain."""
        if self._values_changed:
            book = self._doc(WORKBOOK_PART).root
            calc = book.find(_m("calcPr"))
            if calc is None:
                calc = Element(_m("calcPr"))
                _insert_ordered(book, calc, WORKBOOK_ORDER)
            calc.set("fullCalcOnLoad", "1")
            self._touch(WORKBOOK_PART)
        if self._formulas_changed:
            rels = self._rels(WORKBOOK_PART)
            for rel, part in self._related(WORKBOOK_PART, "/calcChain"):
                assert rels is not None
                rels.root.remove(rel)
                self._touch(self._rels_part_name(rels))
                found = self._lookup(part)
                if found is not None:
                    self._remove_part(found)
                    self._override(found, None)

    def _check_target(self, target: Path) -> None:
        kind = self._part_content_type(WORKBOOK_PART)
        suffix = target.suffix.lower()
        if "macroEnabled" in kind and suffix == ".xlsx":
            raise _fail(f"ไฟล์มีแมโคร ต้องบันทึกเป็น .xlsm / workbook has macros; save as .xlsm, "
                        f"not {target.name}")
        if "macroEnabled" not in kind and suffix == ".xlsm":
            raise _fail(f"ไฟล์ไม่มีแมโคร ต้องบันทึกเป็น .xlsx / workbook has no macros; save as .xlsx, "
                        f"not {target.name}")

    def _entries(self) -> Iterable[tuple[zipfile.ZipInfo, bytes]]:
        now = time.localtime()[:6]
        for name in self._names():
            old = self._infos.get(name)
            info = zipfile.ZipInfo(name, old.date_time if old else now)
            info.compress_type = old.compress_type if old else zipfile.ZIP_DEFLATED
            info.external_attr = old.external_attr if old else 0o644 << 16
            yield info, self._bytes(name)

    def save(self, target: Path) -> Path:
        """Write the patched package atomically (temp file, fsync, os.replace); target may be the source.

        Parts not edited keep identical uncompressed bytes and their order.
        """
        target = Path(target)
        self._check_target(target)
        self._finish()
        # Replace the file a symlink points at, not the link itself.
        final = target.resolve() if target.is_symlink() else target
        folder = final.parent
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise _fail(f"เขียนโฟลเดอร์ไม่ได้ / cannot write into {folder} ({exc})") from exc
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
                    for info, data in self._entries():
                        zf.writestr(info, data)
                fh.flush()
                os.fsync(fh.fileno())
            mode_from = final if final.exists() else self.source
            with suppress(OSError):
                os.chmod(tmp, stat.S_IMODE(mode_from.stat().st_mode))  # mkstemp made it owner-only
            os.replace(tmp, final)
        except OSError as exc:
            with suppress(OSError):
                tmp.unlink()
            hint = " ปิดไฟล์ใน Excel ก่อน / is it open in Excel?" if isinstance(exc, PermissionError) else ""
            raise _fail(f"บันทึกไฟล์ไม่สำเร็จ ไฟล์เดิมไม่เปลี่ยน / could not write {target}; "
                        f"it is unchanged ({exc}){hint}") from exc
        except BaseException:
            with suppress(OSError):
                tmp.unlink()
            raise
        with suppress(OSError, AttributeError):
            dir_fd = os.open(folder, os.O_RDONLY)  # make the rename itself durable (POSIX)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return target
