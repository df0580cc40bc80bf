"""Cell edits spliced into a worksheet's bytes: the edited ``<c>`` elements are replaced, every other byte
is kept, and nothing is parsed beyond the rows holding the edits.

Re-serialising a whole sheet through ElementTree to change a few cells costs memory in proportion to the
sheet (2.3 GB for a 50,000-row one); here it is the sheet's bytes and the edits. A sheet the splice cannot
edit safely — a cell that does not exist yet, a shared or array formula, a merged or table header cell,
an encoding other than UTF-8, comments or CDATA that a byte scan could misread — is left to the tree
editor (:mod:`osmep_xl.xlsx.sheet`), which the caller then uses for that sheet.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from ..a1 import a1
from .ooxml import CellValue
from .values import cell_range, inside, number_text, xstring
from .xmldoc import escape_attr, escape_text

_ROW_TAG = re.compile(rb"<(?:[\w.-]+:)?row\b")
_ROW = re.compile(rb"<(?:[\w.-]+:)?row\b[^>]*?\sr=\"(\d+)\"")
_ARRAY = re.compile(rb"<(?:[\w.-]+:)?f\b[^>]*?\st=\"(?:array|dataTable)\"")
_MERGE = re.compile(rb"<(?:[\w.-]+:)?mergeCell\b[^>]*?\sref=\"([^\"]+)\"")
_TYPED_FORMULA = re.compile(rb"<(?:[\w.-]+:)?f\b[^>]*?\st=")
_ATTR = re.compile(rb"([\w:.-]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
_DROPPED = (b"t", b"cm", b"vm")  # the old content's type and its dynamic-array / rich-value metadata
_UNSAFE = (b"<!--", b"<![CDATA[", b"<!DOCTYPE", b"<!ENTITY")
_CELL = re.compile(rb"<((?:[\w.-]+:)?)c\b([^>]*?)(/?)>")
_REF = re.compile(rb"\sr=\"([A-Z]+[0-9]+)\"")
_Cell = tuple[int, int, bytes, bytes, bytes]  # start, end, tag prefix, attributes, content
_FEW_ROWS = 32  # rows edited before every row is indexed


class SplicedSheet:
    """One worksheet's bytes and the cell edits spliced into them."""

    def __init__(self, data: bytes, blocked: list[tuple[int, int, int, int]]) -> None:
        self.data = data
        self._blocked = blocked  # merged ranges and table headers: the tree editor checks those cells
        self._rows: dict[int, int] | None = None  # row number -> offset of its <row>
        self._starts: list[int] = []  # offsets of every <row>, ascending
        self._edits: dict[int, tuple[int, bytes]] = {}  # offset of the old <c> -> (its end, new bytes)
        self._row_cells: dict[int, dict[bytes, _Cell]] = {}
        self.formulas_changed = False

    @classmethod
    def open(cls, data: bytes, headers: list[tuple[int, int, int, int]]) -> SplicedSheet | None:
        """The sheet as spliceable bytes, or None when only the tree editor can edit it safely (``headers``:
        the sheet's table header ranges)."""
        head = data[:200]
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (b"encoding" in head and not re.search(
                rb"encoding\s*=\s*[\"']utf-?8[\"']", head, re.I)):
            return None
        if any(marker in data for marker in _UNSAFE):
            return None
        if (b'"array"' in data or b'"dataTable"' in data) and _ARRAY.search(data):
            return None
        # Merged ranges follow the cells: only the bytes after them are scanned.
        tail = max(data.rfind(b"sheetData>"), 0)
        merges = [box for ref in _MERGE.findall(data, tail) if (box := cell_range(ref.decode("ascii", "replace")))]
        return cls(data, merges + headers)

    def _row_offsets(self) -> dict[int, int] | None:
        if self._rows is None:
            rows = {int(m[1]): m.start() for m in _ROW.finditer(self.data)}
            self._starts = sorted(rows.values())
            plain = sum(self.data.count(tag) for tag in (b"<row ", b"<row>", b"<row/>"))
            if len(rows) != plain and len(rows) != len(_ROW_TAG.findall(self.data)):
                self._starts = []
                return None  # a row without its number (or twice the same): the tree editor numbers them
            self._rows = rows
        return self._rows

    def _row_span(self, number: int) -> tuple[int, int] | None:
        """Where row ``number``'s cells lie: from its <row> to the next row's (or the end)."""
        if self._rows is None and len(self._row_cells) < _FEW_ROWS:
            # A few rows: found by a search for the row as Excel and every writer we know write it (r first),
            # which is far quicker than indexing every row of a large sheet.
            start = self.data.find(b'<row r="%d"' % number)
            if start >= 0:
                end = self.data.find(b"<row", start + 4)
                return start, end if end >= 0 else len(self.data)
        rows = self._row_offsets()
        if rows is None or number not in rows:
            return None
        start = rows[number]
        nxt = bisect_right(self._starts, start)
        return start, self._starts[nxt] if nxt < len(self._starts) else len(self.data)

    def set_cell(self, row: int, col: int, value: CellValue, formula: str | None) -> bool:
        """Replace the content of the existing cell at 0-based (row, col); False when the splice cannot (the
        caller then edits the sheet as a tree). ``value`` and ``formula`` are already checked and clean."""
        if any(inside(box, row, col) for box in self._blocked):
            return False
        cells = self._cells(row + 1)
        found = cells.get(a1(row, col).encode("ascii")) if cells is not None else None
        if found is None:
            return False
        begin, stop, prefix, attrs, body = found
        close = b"</" + prefix + b"c>"
        if _TYPED_FORMULA.search(body):
            return False  # a shared or array formula: its dependants need the tree editor
        kept = [m[0] for m in _ATTR.finditer(attrs) if m[1] not in _DROPPED]
        content, kind = _content(prefix, value, formula)
        if kind:
            kept.append(b't="' + kind + b'"')
        tag = prefix + b"c"
        new = b"<" + tag + b" " + b" ".join(kept) + (b">" + content + close if content else b"/>")
        self._edits[begin] = (stop, new)
        self.formulas_changed |= formula is not None or b"<" + prefix + b"f" in body
        return True

    def _cells(self, number: int) -> dict[bytes, _Cell] | None:
        """The cells of row ``number`` by address (read once per row): where each starts and ends, its tag's
        prefix, attributes and content; None when the row is not found. A cell whose end cannot be found is
        left out (the tree editor's)."""
        if number not in self._row_cells:
            span = self._row_span(number)
            if span is None:
                return None
            start, end = span
            cells: dict[bytes, _Cell] = {}
            for cell in _CELL.finditer(self.data, start, end):
                ref = _REF.search(cell[2])
                if ref is None:
                    continue
                prefix = cell[1]
                if cell[3]:
                    cells[ref[1]] = (cell.start(), cell.end(), prefix, cell[2], b"")
                    continue
                close = self.data.find(b"</" + prefix + b"c>", cell.end(), end)
                if close >= 0:
                    cells[ref[1]] = (cell.start(), close + len(prefix) + 4, prefix, cell[2],
                                     self.data[cell.end():close])
            self._row_cells[number] = cells
        return self._row_cells[number]

    @property
    def edited(self) -> bool:
        return bool(self._edits)

    def pieces(self) -> list[bytes | memoryview]:
        """The sheet's bytes with every edit spliced in, as pieces: views of the original between the edits
        (no copy of the sheet is made) and the edited cells."""
        view = memoryview(self.data)
        out: list[bytes | memoryview] = []
        pos = 0
        for start in sorted(self._edits):
            stop, new = self._edits[start]
            out += [view[pos:start], new]
            pos = stop
        out.append(view[pos:])
        return out

    def render(self) -> bytes:
        """The sheet's bytes with every edit spliced in."""
        return b"".join(self.pieces())


def _content(prefix: bytes, value: CellValue, formula: str | None) -> tuple[bytes, bytes]:
    """A cell's children and its t attribute, as :func:`osmep_xl.xlsx.edits.set_cell` writes them."""

    def el(name: str, text: str, attrs: str = "") -> bytes:
        tag = prefix + name.encode()
        return b"<" + tag + attrs.encode() + b">" + escape_text(text).encode("utf-8") + b"</" + tag + b">"

    out = el("f", formula) if formula is not None else b""
    if isinstance(value, bool):
        return out + el("v", "1" if value else "0"), b"b"
    if isinstance(value, str) and formula is not None:
        return out + el("v", xstring(value)), b"str"
    if isinstance(value, str):
        text = xstring(value)
        space = f' xml:space="{escape_attr("preserve")}"' if value != value.strip() else ""
        inline = prefix + b"is"
        return out + b"<" + inline + b">" + el("t", text, space) + b"</" + inline + b">", b"inlineStr"
    if value is not None:
        return out + el("v", number_text(value)), b""
    return out, b""
