"""A live workbook through xlwings, as the core reads and writes workbooks.

:class:`BookSource` is :class:`osmep_xl.xlsx.read.Source` over an ``xw.Book``: each sheet is read in
one range read of values (and one of formulas) from A1 to the last used cell, never cell by cell.
:class:`WritePlan` collects every change a button makes; nothing touches the book until
:meth:`WritePlan.apply`, so a failure while computing leaves the workbook as it was.
Works with every xlwings engine: desktop Excel (COM/AppleScript) and the remote engine of xlwings
Server/Lite (``xw.Book(json=...)``), which reads no formulas synchronously and knows notes only with an
Office.js client; what an engine cannot do is skipped and reported, never half-done.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlwings as xw

from ..a1 import a1, parse_a1
from ..check import refuse_newer
from ..spec import UnknownTemplateError
from ..xlsx.coerce import EXCEL_ERRORS
from ..xlsx.package import SheetCells
from ..xlsx.read import ReadWorkbook, read_sources
from ..xlsx.source import UnreadableWorkbookError
from .front import NAME_STATUS

MAX_COLOR_CELLS = 10_000  # xlwings' Range.set_colors takes at most this many cells per call
_TEXT_NEEDS_GUARD = re.compile(r"^[=+\-@']|\d|^(true|false)$", re.IGNORECASE)

Color = str | None  # "#RRGGBB", or None for no fill


def _rows(value: Any) -> list[list[Any]]:
    """An engine's 2-D answer (tuples, a lone scalar for one cell) as a list of lists."""
    if isinstance(value, (list, tuple)):
        if value and not isinstance(value[0], (list, tuple)):
            return [list(value)]
        return [list(row) for row in value]
    return [[value]]


@dataclass
class _SheetRead:
    grid: list[list[Any]]
    cells: SheetCells


class BookSource:
    """A live ``xw.Book`` as the reader's :class:`~osmep_xl.xlsx.read.Source`."""

    def __init__(self, book: xw.Book) -> None:
        self.book = book
        self.path = Path(book.fullname)
        self.formulas_known = True  # False when the engine cannot read formulas (xlwings Server/Lite)
        self._read: dict[str, _SheetRead] = {}

    def sheet_names(self) -> list[str]:
        return [sheet.name for sheet in self.book.sheets]

    def _load(self, name: str) -> _SheetRead:
        if name not in self._read:
            sheet = self.book.sheets[name]
            last = sheet.used_range.last_cell
            area = sheet.range((1, 1), (last.row, last.column))
            grid = _rows(area.options(ndim=2, err_to_str=True).value)
            cells = SheetCells()
            for r, row in enumerate(grid):
                for c, value in enumerate(row):
                    if isinstance(value, str) and value in EXCEL_ERRORS:
                        cells.errors[a1(r, c)] = value
            try:
                texts = _rows(area.formula)
            except NotImplementedError:  # the remote engine reads formulas only asynchronously
                self.formulas_known = False
                texts = []
            for r, row in enumerate(texts):
                for c, text in enumerate(row):
                    if isinstance(text, str) and text.startswith("="):
                        cells.formulas[a1(r, c)] = text[1:]
            self._read[name] = _SheetRead(grid, cells)
        return self._read[name]

    def grid(self, sheet: str) -> list[list[Any]]:
        return self._load(sheet).grid

    def cells(self, sheet: str) -> SheetCells:
        return self._load(sheet).cells

    def defined_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for name in self.book.names:
            if "!" in name.name:  # sheet-scoped (print titles...): the reader wants workbook names only
                continue
            refers_to = name.refers_to
            if isinstance(refers_to, str):
                names[name.name] = refers_to
        return names

    def properties(self) -> dict[str, str]:
        """Custom document properties where the engine exposes them (Excel on Windows), else {}:
        the reader then finds the template ids on the information sheet."""
        try:
            props = self.book.api.CustomDocumentProperties
            return {str(p.Name): str(p.Value) for p in props}
        except Exception:  # any engine without COM document properties
            return {}


def read_book(source: BookSource) -> list[ReadWorkbook]:
    """Every template the book holds, refusing one made by a newer osmep_xl (as the CLI does)."""
    try:
        books = read_sources(source)
    except UnknownTemplateError as exc:
        raise UnreadableWorkbookError(str(exc)) from None
    return refuse_newer(books, "the workbook")


def named_range(book: xw.Book, name: str) -> xw.Range | None:
    """The range a workbook-level defined name refers to, or None when the book has no such name."""
    try:
        rng: xw.Range = book.names[name].refers_to_range
    except Exception:  # KeyError, COM errors, names that are not ranges
        return None
    return rng


def named_value(book: xw.Book, name: str) -> Any:
    """The value of a named cell, or None."""
    rng = named_range(book, name)
    return None if rng is None else rng.value


def excel_text(text: str) -> str:
    """Text that Excel stores as this text: a leading apostrophe stops Excel from reading
    "=..." as a formula or "1.10" as a number when a value is assigned (Excel drops the apostrophe)."""
    return "'" + text if _TEXT_NEEDS_GUARD.search(text) else text


def excel_value(value: Any) -> Any:
    """A core value as the cell value to write: Decimal as a number, text guarded, dates as datetimes."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, (int, float)):
        return value
    return excel_text(str(value))


def _bands(cells: dict[tuple[int, int], Color]) -> Iterator[tuple[tuple[int, int], list[list[Any]]]]:
    """Rectangles of at most MAX_COLOR_CELLS cells covering ``cells``: the top-left (0-based) and a
    matrix of colours with ``...`` (keep the fill) for every cell not being changed."""
    rows = [r for r, _ in cells]
    cols = [c for _, c in cells]
    top, left, right = min(rows), min(cols), max(cols)
    width = right - left + 1
    height = max(1, MAX_COLOR_CELLS // width)
    for start in range(top, max(rows) + 1, height):
        band = {k: v for k, v in cells.items() if start <= k[0] < start + height}
        if not band:
            continue
        last = max(r for r, _ in band)
        matrix: list[list[Any]] = [[... for _ in range(width)] for _ in range(last - start + 1)]
        for (r, c), colour in band.items():
            matrix[r - start][c - left] = colour
        yield (start, left), matrix


@dataclass
class WritePlan:
    """Every change one button makes to the book, applied together at the end."""

    delete_sheets: list[str] = field(default_factory=list)
    add_sheets: list[tuple[str, str | None]] = field(default_factory=list)  # (name, after sheet)
    clear_sheets: list[str] = field(default_factory=list)
    values: list[tuple[str, str, list[list[Any]]]] = field(default_factory=list)  # sheet, top-left A1, grid
    formulas: list[tuple[str, str, list[list[Any]]]] = field(default_factory=list)
    number_formats: list[tuple[str, str, str, str]] = field(default_factory=list)  # sheet, from A1, to A1, format
    column_widths: list[tuple[str, int, float]] = field(default_factory=list)  # sheet, 0-based column, width
    bold: list[tuple[str, str, str]] = field(default_factory=list)  # sheet, from A1, to A1
    colors: dict[str, dict[str, Color]] = field(default_factory=dict)  # sheet -> A1 -> colour
    notes: dict[str, dict[str, str | None]] = field(default_factory=dict)  # sheet -> A1 -> text, None deletes
    activate: str | None = None
    status: str | None = None
    alert: tuple[str, str] | None = None  # (message, title)

    def color(self, sheet: str, cell: str, colour: Color) -> None:
        self.colors.setdefault(sheet, {})[cell] = colour

    def note(self, sheet: str, cell: str, text: str | None) -> None:
        self.notes.setdefault(sheet, {})[cell] = text

    def apply(self, book: xw.Book) -> list[str]:
        """Write everything to ``book``; returns what this engine could not do (Thai / English)."""
        skipped: list[str] = []
        for name in self.delete_sheets:
            book.sheets[name].delete()
        for name, after in self.add_sheets:
            book.sheets.add(name, after=book.sheets[after] if after else book.sheets[len(book.sheets) - 1])
        for name in self.clear_sheets:
            book.sheets[name].clear_contents()
        for sheet, cell, grid in self.values:
            _area(book, sheet, cell, grid).value = grid
        for sheet, cell, grid in self.formulas:
            _area(book, sheet, cell, grid).formula = grid
        for sheet, first, last, fmt in self.number_formats:
            book.sheets[sheet].range(f"{first}:{last}").number_format = fmt
        for sheet, col, width in self.column_widths:
            book.sheets[sheet].range((1, col + 1)).column_width = width
        for sheet, first, last in self.bold:
            book.sheets[sheet].range(f"{first}:{last}").font.bold = True
        for sheet, colours in self.colors.items():
            cells = {parse_a1(cell): colour for cell, colour in colours.items()}
            if not cells:
                continue
            for (top, left), matrix in _bands(cells):
                target = book.sheets[sheet].range((top + 1, left + 1), (top + len(matrix), left + len(matrix[0])))
                target.set_colors(matrix)
        if self.notes and not _write_notes(book, self.notes):
            skipped.append("บันทึกย่อ (note) ในช่อง: เครื่องมือนี้ไม่รองรับ / cell notes: not supported by this engine")
        if self.activate:
            book.sheets[self.activate].activate()
        note = "" if not skipped else " · ข้ามไป / skipped: " + "; ".join(skipped)
        if self.status is not None:
            status = named_range(book, NAME_STATUS)
            if status is not None:
                status.value = excel_text(self.status + note)
        if self.alert is not None:
            try:
                book.app.alert(self.alert[0] + note, title=self.alert[1])
            except NotImplementedError:
                skipped.append("กล่องข้อความ / message box")
        return skipped


def _area(book: xw.Book, sheet: str, cell: str, grid: list[list[Any]]) -> xw.Range:
    row, col = parse_a1(cell)
    width = max((len(r) for r in grid), default=1)
    return book.sheets[sheet].range((row + 1, col + 1), (row + max(len(grid), 1), col + max(width, 1)))


def _write_notes(book: xw.Book, notes: dict[str, dict[str, str | None]]) -> bool:
    """Set or delete notes; False when the engine has no notes (e.g. the remote engine with a VBA client)."""
    try:
        for sheet, cells in notes.items():
            ws = book.sheets[sheet]
            for cell, text in cells.items():
                rng = ws.range(cell)
                existing = rng.note
                if text is None:
                    if existing is not None:
                        existing.delete()
                elif existing is not None:
                    existing.text = text
                else:
                    rng.add_note(text)
    except NotImplementedError:
        return False
    return True
