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
from collections.abc import Iterable, Iterator

from ..a1 import a1
from .deflate import Chunk
from .ooxml import CellValue
from .values import cell_range, inside, number_text, xstring
from .xmldoc import escape_attr, escape_text
from .zipio import Pieces

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
Cell = tuple[int, int, bytes, bytes, bytes]  # start, end, tag prefix, attributes, content
FEW_ROWS = 32  # rows edited before every row is indexed


class SplicedSheet:
    """One worksheet's bytes and the cell edits spliced into them."""

    def __init__(self, data: bytes, blocked: list[tuple[int, int, int, int]]) -> None:
        self.data = data
        self._blocked = blocked  # merged ranges and table headers: the tree editor checks those cells
        self._rows: dict[int, int] | None = None  # row number -> offset of its <row>
        self._starts: list[int] = []  # offsets of every <row>, ascending
        self._edits: Edits = {}
        self._row_cells: dict[int, dict[bytes, Cell]] = {}
        self.formulas_changed = False

    @classmethod
    def open(cls, data: bytes, headers: list[tuple[int, int, int, int]]) -> SplicedSheet | None:
        """The sheet as spliceable bytes, or None when only the tree editor can edit it safely (``headers``:
        the sheet's table header ranges)."""
        if foreign_encoding(data) or unsafe(data):
            return None
        # Merged ranges follow the cells: only the bytes after them are scanned.
        return cls(data, merged(data, max(data.rfind(b"sheetData>"), 0)) + headers)

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
        if self._rows is None and len(self._row_cells) < FEW_ROWS:
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
        new = rewritten(found, value, formula) if found is not None else None
        if found is None or new is None:
            return False
        self._edits[found[0]] = (found[1], new)
        self.formulas_changed |= formula_touched(found, formula)
        return True

    def _cells(self, number: int) -> dict[bytes, Cell] | None:
        """The cells of row ``number`` by address (read once per row): where each starts and ends, its tag's
        prefix, attributes and content; None when the row is not found. A cell whose end cannot be found is
        left out (the tree editor's)."""
        if number not in self._row_cells:
            span = self._row_span(number)
            if span is None:
                return None
            self._row_cells[number] = row_cells(self.data, *span)
        return self._row_cells[number]

    @property
    def edited(self) -> bool:
        return bool(self._edits)

    def pieces(self) -> Pieces:
        """The sheet's bytes with every edit spliced in, as pieces: views of the original between the edits
        (no copy of the sheet is made) and the edited cells."""
        return Pieces.of(list(splice_pieces([(0, self.data)], self._edits)))

    def render(self) -> bytes:
        """The sheet's bytes with every edit spliced in."""
        return b"".join(self.pieces().open())


Edits = dict[int, tuple[int, bytes]]  # offset of an old <c> in the sheet -> (its end, the new bytes)


def foreign_encoding(head: bytes) -> bool:
    """Whether the sheet, by its first bytes, is in an encoding other than UTF-8 (which the splice keeps to)."""
    head = head[:200]
    return head.startswith((b"\xff\xfe", b"\xfe\xff")) or (b"encoding" in head and not re.search(
        rb"encoding\s*=\s*[\"']utf-?8[\"']", head, re.I))


def unsafe(data: bytes) -> bool:
    """Whether the bytes hold what a byte scan could misread (comments, CDATA, entities) or an array or data
    table formula (whose range the tree editor guards)."""
    # Every marker holds a "!", which one quick scan rules out in most sheets.
    return (b"!" in data and any(marker in data for marker in _UNSAFE)) or (
        (b'"array"' in data or b'"dataTable"' in data) and _ARRAY.search(data) is not None)


def merged(data: bytes, start: int = 0) -> list[tuple[int, int, int, int]]:
    """The merged ranges declared in the bytes from ``start``."""
    return [box for ref in _MERGE.findall(data, start) if (box := cell_range(ref.decode("ascii", "replace")))]


def row_cells(data: bytes, start: int, end: int) -> dict[bytes, Cell]:
    """The cells between ``start`` and ``end`` (one row's span) by address: where each starts and ends, its
    tag's prefix, attributes and content. A cell whose end cannot be found is left out (the tree editor's)."""
    cells: dict[bytes, Cell] = {}
    for cell in _CELL.finditer(data, start, end):
        ref = _REF.search(cell[2])
        if ref is None:
            continue
        prefix = cell[1]
        if cell[3]:
            cells[ref[1]] = (cell.start(), cell.end(), prefix, cell[2], b"")
            continue
        close = data.find(b"</" + prefix + b"c>", cell.end(), end)
        if close >= 0:
            cells[ref[1]] = (cell.start(), close + len(prefix) + 4, prefix, cell[2], data[cell.end():close])
    return cells


def rewritten(found: Cell, value: CellValue, formula: str | None) -> bytes | None:
    """The new bytes of an existing cell given ``value`` and ``formula`` (already checked and clean), keeping
    its style and other attributes; None for a shared or array formula (its dependants need the tree editor)."""
    _, _, prefix, attrs, body = found
    if _TYPED_FORMULA.search(body):
        return None
    kept = [m[0] for m in _ATTR.finditer(attrs) if m[1] not in _DROPPED]
    content, kind = _content(prefix, value, formula)
    if kind:
        kept.append(b't="' + kind + b'"')
    tag = prefix + b"c"
    return b"<" + tag + b" " + b" ".join(kept) + (b">" + content + b"</" + tag + b">" if content else b"/>")


def formula_touched(found: Cell, formula: str | None) -> bool:
    """Whether rewriting the cell writes or removes a formula (the calc chain is then stale)."""
    return formula is not None or b"<" + found[2] + b"f" in found[4]


def splice_pieces(pieces: Iterable[tuple[int, bytes]], edits: Edits) -> Iterator[Chunk]:
    """The sheet's bytes, given as pieces with their offsets, with ``edits`` spliced in: views of each piece
    between the edits and the edited cells. An edit lies within one piece (pieces are cut between rows)."""
    starts = sorted(edits)
    i = 0
    for base, piece in pieces:
        view, pos, end = memoryview(piece), 0, base + len(piece)
        while i < len(starts) and starts[i] < end:
            stop, new = edits[starts[i]]
            if stop > end:
                raise ValueError(f"an edit at {starts[i]} spans a cut between pieces")
            yield view[pos:starts[i] - base]
            yield new
            pos, i = stop - base, i + 1
        yield view[pos:]


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
