"""xlwings' remote engine as a stand-in for Excel in the tests of the buttons.

The xlwings clients (the VBA module ``RunRemotePython``, the Office.js add-in) send the server a JSON
payload of the whole workbook — book name, active sheet, defined names, and per sheet its values from A1
to the last used cell — and the Python side answers with a list of actions that the client replays on the
workbook. :func:`payload_from_file` builds that payload from a real workbook file (the schema is the one in
``xlwings/addin/Remote.bas`` and ``xlwings/pro/_xlremote.py``), ``xw.Book(json=payload)`` opens it in the
real remote engine, and :func:`apply_actions` replays the book's ``json()["actions"]`` on the file
(openpyxl standing in for the client), so the result can be read back like any workbook.

The remote clients send no formulas (xlwings Lite reads them lazily with ``await range.get_formula()``),
while desktop Excel's COM engine returns them from ``Range.formula``. :func:`com_like_formulas` adds the
formula text to the payload and gives the remote ``Range`` a synchronous ``formula`` getter over it, so the
stand-in behaves like desktop Excel in that one respect.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, range_boundaries
from python_calamine import CalamineWorkbook

from osmep_xl.xlsx.package import scan_sheet, sheet_parts

LICENSE = "noncommercial"  # xlwings PRO's PolyForm Noncommercial licence: see README "Licence notes"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")


def _json_value(value: Any) -> Any:
    """A cell value as the clients put it in JSON: dates as ISO text, blanks as ""."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00.000Z"
    if isinstance(value, dt.time):
        return value.isoformat()
    return value


def _address(ref: str) -> str:
    return ref.replace("$", "")


def payload_from_file(path: Path, *, client: str = "Office.js", formulas: bool = False,
                      book_name: str | None = None, active_sheet: int = 0) -> dict[str, Any]:
    """The JSON an xlwings client would send for the workbook at ``path``.

    ``client`` is "Office.js" (the add-in: notes supported) or "VBA" (RunRemotePython: no notes).
    ``formulas`` adds each sheet's formula texts (see :func:`com_like_formulas`).
    """
    import xlwings as xw

    book = openpyxl.load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm")
    values_book = CalamineWorkbook.from_path(str(path))
    with zipfile.ZipFile(path) as zf:
        parts = sheet_parts(zf)
        errors = {name: scan_sheet(zf, part).errors for name, part in parts.items()}
    order = [ws.title for ws in book.worksheets]
    names: list[dict[str, Any]] = []
    for name, defined in book.defined_names.items():
        for sheet, ref in defined.destinations:
            names.append({"name": name, "sheet_index": order.index(sheet), "address": _address(ref),
                          "book_scope": True, "scope_sheet_name": None, "scope_sheet_index": None})
    sheets: list[dict[str, Any]] = []
    for index, ws in enumerate(book.worksheets):
        grid = values_book.get_sheet_by_name(ws.title).to_python(skip_empty_area=False)
        grid = [[_json_value(v) for v in row] for row in grid] or [[]]
        for ref, error in errors.get(ws.title, {}).items():
            min_col, min_row, _, _ = range_boundaries(ref)
            if min_row - 1 < len(grid) and min_col - 1 < len(grid[min_row - 1]):
                grid[min_row - 1][min_col - 1] = error
        for name, defined in ws.defined_names.items():
            for _, ref in defined.destinations:
                names.append({"name": name, "sheet_index": index, "address": _address(ref), "book_scope": False,
                              "scope_sheet_name": ws.title, "scope_sheet_index": index})
        entry: dict[str, Any] = {"name": ws.title, "values": grid, "pictures": [], "tables": []}
        if client == "Office.js":
            entry.update({"shapes": [], "charts": [], "pivot_tables": [], "show_gridlines": True,
                          "notes": [{"address": c.coordinate} for row in ws.iter_rows() for c in row if c.comment]})
        if formulas:
            width = max((len(r) for r in grid), default=0)
            entry["formulas"] = [[_formula_text(ws.cell(r + 1, c + 1).value) for c in range(width)]
                                 for r in range(len(grid))]
        sheets.append(entry)
    return {
        "client": client,
        "version": xw.__version__,
        "book": {"name": book_name or path.name, "active_sheet_index": active_sheet, "selection": "A1"},
        "names": names,
        "sheets": sheets,
    }


def _formula_text(value: Any) -> str:
    """What COM's Range.Formula shows: the formula, or the constant as text ("" when empty)."""
    if isinstance(value, str):
        return value
    return "" if value is None else str(value)


def _formula_getter(self: Any) -> Any:
    texts = self.sheet.api.get("formulas")
    if texts is None:
        raise NotImplementedError("this payload carries no formulas")
    top, left = self.arg1
    bottom, right = self.arg2 or self.arg1
    out = [[(texts[r - 1][c - 1] if r - 1 < len(texts) and c - 1 < len(texts[r - 1]) else "")
            for c in range(left, right + 1)] for r in range(top, bottom + 1)]
    return out[0][0] if (bottom, right) == (top, left) else tuple(tuple(row) for row in out)


def use_remote_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Licence the xlwings PRO parts for this test and make sure the remote engines are registered: xlwings
    registers them when it is first imported, which in a test run may have happened without the licence."""
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", LICENSE)
    import xlwings as xw
    from xlwings.pro import _xlofficejs, _xlremote

    for impl in (_xlremote.engine, _xlofficejs.engine):  # the same two xlwings registers when licensed
        if impl.name not in [engine.name for engine in xw.engines]:
            xw.engines.add(xw.main.Engine(impl=impl))


@contextmanager
def com_like_formulas(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Let the remote engine's ``Range.formula`` read the payload's ``formulas`` like COM Excel does."""
    use_remote_engine(monkeypatch)
    from xlwings.pro import _xlremote

    original = _xlremote.Range.formula
    monkeypatch.setattr(_xlremote.Range, "formula", property(_formula_getter, original.fset))
    yield


def open_remote(path: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Any:
    """``xw.Book(json=...)`` of the workbook file at ``path`` (xlwings PRO noncommercial licence)."""
    use_remote_engine(monkeypatch)
    import xlwings as xw

    return xw.Book(json=payload_from_file(path, **kwargs))


# --- the client side: replay actions on the file ----------------------------------------------------------------


def _typed(value: Any) -> Any:
    """A value as Excel stores what is assigned to Range.Value/Formula: "'" makes text, "=" a formula,
    number-like text a number, ISO dates a date."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if value.startswith("'"):
            return value[1:]
        if value.startswith("="):
            return value
        if _ISO_DATE.match(value):
            return dt.datetime.fromisoformat(value)
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _cells(ws: Any, action: dict[str, Any]) -> Iterator[tuple[int, int, Any]]:
    for r in range(action["row_count"]):
        for c in range(action["column_count"]):
            yield r, c, ws.cell(action["start_row"] + r + 1, action["start_column"] + c + 1)


def apply_actions(path: Path, actions: list[dict[str, Any]], out: Path | None = None) -> list[str]:
    """Replay remote-engine actions on the workbook file; returns the alert messages. Unknown actions fail."""
    book = openpyxl.load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm")
    alerts: list[str] = []
    for action in actions:
        func, args = action["func"], action["args"]
        sheets = book.worksheets
        ws = sheets[action["sheet_position"]] if action.get("sheet_position") is not None else None
        if func in ("setValues", "setFormula"):
            for r, row in enumerate(action["values"]):
                for c, value in enumerate(row):
                    ws.cell(action["start_row"] + r + 1, action["start_column"] + c + 1).value = _typed(value)
        elif func == "setRangeColors":
            for r, row in enumerate(args[0]):
                for c, colour in enumerate(row):
                    if colour == "keep":
                        continue
                    cell = ws.cell(action["start_row"] + r + 1, action["start_column"] + c + 1)
                    cell.fill = PatternFill() if colour is None else PatternFill(
                        "solid", fgColor="FF" + colour.lstrip("#").upper())
        elif func == "setRangeColor":
            for _, _, cell in _cells(ws, action):
                cell.fill = PatternFill("solid", fgColor="FF" + args[0].lstrip("#").upper())
        elif func == "addSheet":
            book.create_sheet(args[1], args[0])
        elif func == "sheetDelete":
            book.remove(ws)
        elif func == "sheetClearContents":
            for row in ws.iter_rows():
                for cell in row:
                    cell.value = None
        elif func in ("addNote", "setNoteText"):
            ws[args[0].replace("$", "")].comment = Comment(args[1], "osmep_xl")
        elif func == "deleteNote":
            ws[args[0].replace("$", "")].comment = None
        elif func == "setFontProperty" and args[0] == "bold":
            for _, _, cell in _cells(ws, action):
                cell.font = Font(name=cell.font.name, size=cell.font.size, bold=args[1])
        elif func == "setColumnWidth":
            for c in range(action["column_count"]):
                ws.column_dimensions[get_column_letter(action["start_column"] + c + 1)].width = args[0]
        elif func == "setNumberFormat":
            for _, _, cell in _cells(ws, action):
                cell.number_format = args[0]
        elif func == "activateSheet":
            book.active = args[0]
        elif func == "alert":
            alerts.append(args[0])
        else:
            raise AssertionError(f"the test client does not know action {func!r}")
    book.save(out or path)
    return alerts


def set_cell(payload: dict[str, Any], sheet: str, cell: str, value: Any) -> None:
    """Type a value into the payload's copy of a cell, as the user would have before pressing a button."""
    min_col, min_row, _, _ = range_boundaries(cell)
    values = next(s for s in payload["sheets"] if s["name"] == sheet)["values"]
    width = max(len(values[0]) if values else 0, min_col)
    for row in values:
        row.extend([""] * (width - len(row)))
    while len(values) < min_row:
        values.append([""] * width)
    values[min_row - 1][min_col - 1] = value


def cells(path: Path, sheet: str) -> dict[str, Any]:
    """Every non-empty cell of a sheet (formulas as "=..." text), for comparing two workbooks."""
    ws = openpyxl.load_workbook(path)[sheet]
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value not in (None, "")}


def fill_colour(cell: Any) -> str | None:
    """A cell's solid fill as AARRGGBB, or None."""
    return cell.fill.fgColor.rgb if cell.fill is not None and cell.fill.fill_type == "solid" else None
