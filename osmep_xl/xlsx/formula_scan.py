"""The formula cells of a piece of sheet XML in the form every writer we know gives them, found with numpy.

Excel, LibreOffice, XlsxWriter and openpyxl write a formula cell as ``><c r="B2" s="3"><f>A2*2</f>``:
unprefixed, right after a tag's end, the address first, a plain ``<f>``. When each "<f" of the piece is such a
cell, the cells are read here from the positions of the piece's "<" bytes (a few passes of numpy over it, no
Python per cell), as the general pattern of :mod:`.package` reads them: each check below stands for
something that pattern requires. Anything else, however rare, gives None, and the caller reads that piece
with the general pattern (``tests/test_package_scan.py`` compares the two on mixes of odd cells).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_LT, _GT, _SLASH, _QUOTE, _F = b"<>/\"f"
_CELL = np.frombuffer(b'<c r="', np.uint8)
_ADDRESS = len(_CELL)  # where the address starts in a cell's start tag
MAX_ROW_DIGITS = 9  # a row number with more is no worksheet's (Excel's last row is 1,048,576)
_MAX_LETTERS = 3  # Excel's last column is XFD; a longer address is left to the general pattern
_WIDTH = 32  # bytes of each start tag looked at at once: a longer one's rest is checked by a search


class Found:
    """The formula cells of a piece: 0-based rows and columns, and where each text starts and ends."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        self.rows, self.cols, self.starts, self.ends = rows, cols, starts, ends

    def texts(self, data: bytes) -> list[bytes]:
        """The texts as written (escaped)."""
        return [data[s:e] for s, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True)]


def usual_formula_cells(data: bytes) -> Found | None:
    """The formula cells of ``data`` (unprefixed cell data, cut after a row's end), when every "<f" in it
    starts a usual formula cell's ``<f>``; None otherwise."""
    a = np.frombuffer(data, np.uint8)
    size = len(a)
    lt = np.flatnonzero(a == _LT)
    after = lt + 1
    if len(after) and after[-1] == size:  # a "<" that ends the piece: looked at itself, not past the end
        after[-1] -= 1
    at_f = np.flatnonzero(a[after] == _F)
    if not len(at_f):
        return Found(*(np.zeros(0, np.int64),) * 4)
    if at_f[0] == 0 or at_f[-1] + 1 >= len(lt):  # no start tag before the first, no end after the last
        return None
    # Each "<f" (p) must sit between its cell's start tag (the "<" before, q) and "</f>" (the "<" after, e).
    p, q, e = lt[at_f], lt[at_f - 1], lt[at_f + 1]
    if q[0] < 1 or e[-1] + 4 > size:
        return None
    # The start tag right after a tag's end (else it may be inside another's attribute), not "/>"-closed.
    if not ((a[p + 2] == _GT).all() and (a[p - 1] == _GT).all() and (a[p - 2] != _SLASH).all()
            and (a[q - 1] == _GT).all()
            and (a[e + 1] == _SLASH).all() and (a[e + 2] == _F).all() and (a[e + 3] == _GT).all()):
        return None
    tags = _windows(data, a, q)
    tag_end = p - 1 - q  # the start tag's ">", inside the window or past it
    letter = (tags >= ord("A")) & (tags <= ord("Z"))
    alnum = letter | ((tags >= ord("0")) & (tags <= ord("9")))
    digits_at = np.argmin(letter[:, _ADDRESS:], axis=1) + _ADDRESS
    address_end = np.argmin(alnum[:, _ADDRESS:], axis=1) + _ADDRESS
    # No ">" among the attributes (the pattern's start tag would end there): none can come before the
    # address's end quote, so the first in the window is the tag's own, or there is none (argmax 0: the window
    # starts with "<") in a tag longer than the window.
    first_stop = np.argmax(tags == _GT, axis=1)
    if not ((tags[:, :_ADDRESS] == _CELL).all()
            and (digits_at > _ADDRESS).all() and (digits_at <= _ADDRESS + _MAX_LETTERS).all()
            and (address_end > digits_at).all() and (address_end - digits_at <= MAX_ROW_DIGITS).all()
            and (tags[np.arange(len(tags)), address_end] == _QUOTE).all() and (address_end < tag_end).all()
            and (first_stop == np.where(tag_end < _WIDTH, tag_end, 0)).all()):
        return None
    for j in np.flatnonzero(tag_end > _WIDTH).tolist():
        if data.find(b">", int(q[j]) + _WIDTH, int(p[j]) - 1) >= 0:
            return None
    cols = np.zeros(len(p), np.int64)
    for i in range(_ADDRESS, _ADDRESS + _MAX_LETTERS):
        cols = np.where(i < digits_at, cols * 26 + tags[:, i] - (ord("A") - 1), cols)
    last = int(address_end.max())
    at = np.arange(last)
    if (letter[:, :last] & (at >= digits_at[:, None]) & (at < address_end[:, None])).any():  # after a digit
        return None
    rows = np.zeros(len(p), np.int64)
    for i in range(_ADDRESS + 1, last):
        rows = np.where((i >= digits_at) & (i < address_end), rows * 10 + tags[:, i] - ord("0"), rows)
    return Found(rows - 1, cols - 1, p + 3, e)


def _windows(data: bytes, a: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The ``_WIDTH`` bytes from each of ``starts`` (ascending), zero-padded past the end of ``data``."""
    whole = int(np.searchsorted(starts, len(a) - _WIDTH, side="right"))
    windows = sliding_window_view(a, _WIDTH)[starts[:whole]] if whole else np.zeros((0, _WIDTH), np.uint8)
    if whole == len(starts):
        return windows
    tail = [np.frombuffer(data[s:s + _WIDTH].ljust(_WIDTH, b"\0"), np.uint8) for s in starts[whole:].tolist()]
    return np.concatenate([windows, np.array(tail, np.uint8)])
