"""Cell edits to a large worksheet, spliced into its bytes as they stream from the source zip to the new one.

A large sheet is never held whole: its edits are kept until the save, then spliced in while the zip is
written, the sheet read in pieces of about :data:`PIECE` bytes, each cut just after a row's end tag (so no
cell spans two pieces). Memory is a few pieces and the edits, whatever the sheet's size, and the sheet is
inflated once.

The streamed splice takes only what it decides exactly as the in-memory splice
(:class:`~osmep_xl.xlsx.splice.SplicedSheet`) would: each edited row found as Excel writes it
(``<row r="N"``), every edit spliceable, nothing in the sheet that makes the in-memory splice refuse it.
What it can only know once the sheet has streamed past (a merged range after the rows, a row that is not
there) raises :class:`Unstreamable` before the zip is complete: the save then discards the temp file,
replays the edits on the sheet in memory, in their order (what the splice cannot do going to the tree
editor, as if the sheet had never been streamed), and writes again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from ..a1 import a1
from .deflate import Chunk
from .ooxml import CellValue
from .splice import (
    FEW_ROWS,
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
_ANY_ROW = re.compile(rb"<row[\s>/]")  # a row's start tag, not <rowBreaks> (manual page breaks)
_Box = tuple[int, int, int, int]
_Edit = tuple[int, int, CellValue, str | None]  # 0-based row and column, value, formula


class Unstreamable(Exception):
    """The streamed sheet's edits cannot be decided piece by piece: the save replays them in memory."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.part = part


class StreamedSheet:
    """A large sheet's cell edits, kept to be spliced in when the package is written."""

    def __init__(self, name: str, part: str, chunks: Callable[[], Iterator[bytes]], size: int,
                 headers: list[_Box]) -> None:
        self.name, self.part = name, part  # the sheet's name, for replaying the edits, and its part
        self._chunks = chunks  # the sheet's bytes afresh, in chunks
        self._size = size
        self._headers = headers
        self.edits: list[_Edit] = []
        self.formulas_changed = False

    def set_cell(self, row: int, col: int, value: CellValue, formula: str | None) -> bool:
        """Keep the edit of the cell at 0-based (row, col) for the save (``value`` and ``formula`` are already
        checked and clean)."""
        self.edits.append((row, col, value, formula))
        return True

    def plan(self) -> Pieces:
        """The sheet's new bytes, spliced as they are read (their size given as the source's: the edits change
        it by a few bytes). :attr:`formulas_changed`: a formula is written (a formula overwritten, found
        while streaming, raises :class:`Unstreamable` instead)."""
        self.formulas_changed = any(formula is not None for *_, formula in self.edits)
        return Pieces(self._size, self._spliced)

    def _spliced(self) -> Iterator[Chunk]:
        """The sheet's pieces with the edits spliced in; :class:`Unstreamable` when a piece shows that the
        in-memory splice could decide otherwise.

        A row is the first ``<row r="N"`` in the sheet, as the in-memory splice finds a few rows; when it would
        index every row instead (many rows edited), every row must be numbered, in ascending order."""
        wanted: dict[bytes, list[int]] = {}  # row number -> indices of its edits
        for i, (row, _, _, _) in enumerate(self.edits):
            wanted.setdefault(b"%d" % (row + 1), []).append(i)
        strict = len(wanted) > FEW_ROWS
        touched, last, tail = False, 0, b""
        for base, piece in row_pieces(self._chunks()):
            if (base == 0 and foreign_encoding(piece)) or unsafe(piece):
                raise Unstreamable(self.part)
            numbers = _PLAIN_ROW.findall(piece)
            if strict:
                ints = [int(n) for n in numbers]
                ascending = all(b > a for a, b in zip([last, *ints], ints, strict=False))
                if len(ints) != len(_ANY_ROW.findall(piece)) or not ascending:
                    raise Unstreamable(self.part)
                last = ints[-1] if ints else last
            edits: Edits = {}
            for number in wanted.keys() & set(numbers):
                start = piece.find(b'<row r="' + number + b'"')
                end = piece.find(b"<row", start + 4)
                in_row = row_cells(piece, start, end if end >= 0 else len(piece))
                for i in wanted.pop(number):
                    row, col, value, formula = self.edits[i]
                    cell = in_row.get(a1(row, col).encode("ascii"))
                    new = rewritten(cell, value, formula) if cell is not None else None
                    if cell is None or new is None:
                        raise Unstreamable(self.part)  # a cell that does not exist yet, a shared formula
                    edits[cell[0]] = (cell[1], new)
                    touched |= formula_touched(cell, formula)
            yield from splice_pieces([(0, piece)], edits)
            tail = piece
        # Merged ranges follow the cells, hence the last row: they are in the last piece.
        blocked = merged(tail, max(tail.rfind(b"sheetData>"), 0)) + self._headers
        if wanted or touched != self.formulas_changed or any(
                inside(box, row, col) for row, col, _, _ in self.edits for box in blocked):
            raise Unstreamable(self.part)


def row_pieces(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """The sheet's bytes regrouped into pieces of about :data:`PIECE` bytes, each (but the last) ending just
    after a row's end tag, with its offset in the sheet; the last holds all that follows the last row."""
    held, base, searched = bytearray(), 0, 0  # (a bytearray grows in place: no copy of what it holds)
    for chunk in chunks:
        held += chunk
        if len(held) < PIECE:
            continue
        cut = held.rfind(_ROW_END, max(searched - len(_ROW_END), 0))  # only what no search has seen yet
        searched = len(held)
        if cut >= 0:
            cut += len(_ROW_END)
            yield base, bytes(held[:cut])
            del held[:cut]
            base, searched = base + cut, len(held)
    if held:
        yield base, bytes(held)
