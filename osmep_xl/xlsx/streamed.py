"""Cell edits to a large worksheet, spliced into its bytes as they stream from the source zip to the new one.

A large sheet is never held whole: its edits are kept until the save, then two passes read it in pieces
of about :data:`PIECE` bytes, each cut just after a row's end tag (so no cell spans two pieces). The first
finds the edited cells and checks the sheet as :class:`~osmep_xl.xlsx.splice.SplicedSheet` would; the
second, while the zip is written, yields each piece with its edits spliced in. Memory is a few pieces and
the edits, whatever the sheet's size.

The streamed splice takes only what it decides exactly as the in-memory splice would: each edited row
found as Excel writes it (``<row r="N"``) and every edit spliceable. Anything else — a row or cell that does
not exist yet, a merged cell, a shared formula — sends the sheet back to the in-memory splice, which replays
the edits in their order and hands what it cannot splice to the tree editor, as if they had been made there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from ..a1 import a1
from .ooxml import CellValue
from .splice import (
    FEW_ROWS,
    Cell,
    Edits,
    foreign_encoding,
    formula_touched,
    merged,
    rewritten,
    row_cells,
    splice_pieces,
    unsafe,
)
from .values import inside
from .zipio import Pieces

PIECE = 1 << 20  # bytes of the sheet read before a cut is looked for
STREAM_MIN = 8 << 20  # a sheet this large (uncompressed) is streamed; a smaller one is spliced in memory
_ROW_END = b"</row>"
_PLAIN_ROW = re.compile(rb"<row r=\"(\d+)\"")
_Box = tuple[int, int, int, int]
_Edit = tuple[int, int, CellValue, str | None]  # 0-based row and column, value, formula


class StreamedSheet:
    """A large sheet's cell edits, kept to be spliced in when the package is written."""

    def __init__(self, name: str, chunks: Callable[[], Iterator[bytes]], headers: list[_Box]) -> None:
        self.name = name  # the sheet's name, for replaying the edits
        self._chunks = chunks  # the sheet's bytes afresh, in chunks
        self._headers = headers
        self.edits: list[_Edit] = []
        self.formulas_changed = False

    def set_cell(self, row: int, col: int, value: CellValue, formula: str | None) -> bool:
        """Keep the edit of the cell at 0-based (row, col) for :meth:`plan` (``value`` and ``formula`` are
        already checked and clean)."""
        self.edits.append((row, col, value, formula))
        return True

    def plan(self) -> Pieces | None:
        """The sheet's new bytes, to be streamed; None when the edits cannot all be spliced piece by piece
        (the caller then replays :attr:`edits` on the sheet in memory)."""
        found = self._find()
        if found is None:
            return None
        edits: Edits = {}
        size, cells, blocked = found
        touched = False
        for (row, col, value, formula), cell in zip(self.edits, cells, strict=True):
            new = rewritten(cell, value, formula)
            if new is None or any(inside(box, row, col) for box in blocked):
                return None
            edits[cell[0]] = (cell[1], new)
            touched |= formula_touched(cell, formula)
        self.formulas_changed = touched
        size += sum(len(new) - (stop - start) for start, (stop, new) in edits.items())
        return Pieces(size, lambda: splice_pieces(row_pieces(self._chunks()), edits))

    def _find(self) -> tuple[int, list[Cell], list[_Box]] | None:
        """The first pass: the sheet's size, each edit's cell (offsets from the sheet's start) and the
        blocked ranges; None when the in-memory splice could decide otherwise than a piece shows.

        A row is the first ``<row r="N"`` in the sheet, as the in-memory splice finds a few rows; when it would
        index every row instead (many rows edited), every row must be numbered, in ascending order."""
        wanted: dict[bytes, list[int]] = {}  # row number -> indices of its edits
        for i, (row, _, _, _) in enumerate(self.edits):
            wanted.setdefault(b"%d" % (row + 1), []).append(i)
        strict = len(wanted) > FEW_ROWS
        cells: dict[int, Cell] = {}
        size, last, tail = 0, 0, b""
        for base, piece in row_pieces(self._chunks()):
            if (base == 0 and foreign_encoding(piece)) or unsafe(piece):
                return None
            numbers = _PLAIN_ROW.findall(piece)
            if strict:
                ints = [int(n) for n in numbers]
                if len(ints) != piece.count(b"<row") or any(b <= a for a, b in zip([last, *ints], ints, strict=False)):
                    return None
                last = ints[-1] if ints else last
            for number in wanted.keys() & set(numbers):
                start = piece.find(b'<row r="' + number + b'"')
                end = piece.find(b"<row", start + 4)
                in_row = row_cells(piece, start, end if end >= 0 else len(piece))
                for i in wanted.pop(number):
                    cell = in_row.get(a1(self.edits[i][0], self.edits[i][1]).encode("ascii"))
                    if cell is None:
                        return None  # a cell that does not exist yet: the tree editor's
                    cells[i] = (base + cell[0], base + cell[1], cell[2], cell[3], cell[4])
            size, tail = base + len(piece), piece
        if wanted:
            return None
        # Merged ranges follow the cells, hence the last row: they are in the last piece.
        blocked = merged(tail, max(tail.rfind(b"sheetData>"), 0)) + self._headers
        return size, [cells[i] for i in range(len(self.edits))], blocked


def row_pieces(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """The sheet's bytes regrouped into pieces of about :data:`PIECE` bytes, each (but the last) ending just
    after a row's end tag, with its offset in the sheet; the last holds all that follows the last row."""
    held, base = b"", 0
    for chunk in chunks:
        held += chunk
        if len(held) < PIECE:
            continue
        cut = held.rfind(_ROW_END)
        if cut >= 0:
            cut += len(_ROW_END)
            yield base, held[:cut]
            base, held = base + cut, held[cut:]
    if held:
        yield base, held
