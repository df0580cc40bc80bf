"""The dashboard sheet (แดชบอร์ด): native Excel charts bound to the template tables' cells, so that they
follow the figures in Excel without Python.

Every series references the data sheets' cells, located from the spec (column order) and the layout (the
first data row); rows that are not next to each other are joined as an Excel union ``('s'!$H$6,'s'!$H$9)``.
Spending blocks (:class:`~osmep_xl.spec.base.SpendingRoles`): disbursement on both bases per budget;
the action plan: budget by strategy; KPIs (:class:`~osmep_xl.spec.base.KpiRoles`): a status count (COUNTIF
over the status column) and its chart; the integrated plan: beneficiaries against targets per approach.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from ..a1 import a1, column_letter
from ..model.evaluate import BlockCalc, group_key
from ..model.workbook import WorkbookData
from ..spec.base import STATUS_ACHIEVED, STATUS_NOT_YET, STATUS_PENDING, Block
from ..spec.columns import NAME
from .layout import (
    CHART_COLORS,
    FIRST_DATA_ROW,
    FONT,
    FONT_SIZE,
    HEADER_FILL,
    PRINT_SCALE,
    SUBTLE_TEXT,
    TARGET_LINE,
    TITLE_SIZE,
    page_setup,
    text_lines,
)
from .metrics import row_height
from .patch import WorkbookPatch

DASHBOARD_SHEET = "แดชบอร์ด"
# Row levels charted: the roll-up rows an executive reads (projects and groups are too many for a chart).
CHART_LEVELS = ("total", "part", "strategy", "approach")
CHART_WIDTH = 900  # px
CHART_COLUMNS = 13  # A (30) + B, C (20) + 10 default columns: wider than a chart, one printed page across
TARGET_COLUMN = CHART_COLUMNS + 1  # each chart's target cells, right of the printed page
OUTPUT_BARS = 10  # the outputs chart is sized for this many bars: its codes are short, more bars get thinner
MAX_CHART_HEIGHT = 700  # px: at the print scale a chart fits one landscape A4 page (its bars get thinner)
NOTE_COLUMNS = 3  # the note under the title spans the status table's columns and one more (20 wide)
ROW_POINTS = row_height(1, FONT_SIZE)  # every row one Thai line high, written as a custom height so that
ROW_PX = int(ROW_POINTS / 0.75)  # every renderer places the row-anchored charts on the same rows


# The government's cumulative disbursement target (percent, label) for a chart's top line (its fiscal year,
# budget source and category) at an as-of date, or None; the app layer builds it from the settings (this
# layer does not read them).
TargetLookup = Callable[[Mapping[str, Any], dt.date], tuple[Decimal, str] | None]


@dataclass(frozen=True)
class Series:
    name: str
    categories: str
    values: str
    color: str | None = None


@dataclass(frozen=True)
class ChartSpec:
    """One chart: title, kind and its series' cell references."""

    title: str
    kind: str  # XlsxWriter chart type
    series: tuple[Series, ...]
    y_title: str = ""
    categories: int = 3  # how many, to size the chart
    target: tuple[Decimal, str] | None = None  # a target series: the same value for every category

    @property
    def height(self) -> int:
        """Pixels: room for each category's bars and its (wrapped Thai) label."""
        per = 26 * len(self.series) + 22 if self.kind == "bar" else 0
        return min(MAX_CHART_HEIGHT, max(360, 150 + per * self.categories))


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def cells_ref(block: Block, column: str, rows: Sequence[int]) -> str:
    """The cells of ``column`` on data rows ``rows`` (0-based data indexes) of ``block``'s sheet: a range
    for consecutive rows, an Excel union of ranges otherwise."""
    letter = column_letter(block.column_ids.index(column))
    runs: list[tuple[int, int]] = []
    for r in sorted(rows):
        if runs and r == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    parts = []
    for a, b in runs:
        top, bottom = FIRST_DATA_ROW + a + 1, FIRST_DATA_ROW + b + 1
        span = f"${letter}${top}" if a == b else f"${letter}${top}:${letter}${bottom}"
        parts.append(f"{_quote(block.sheet)}!{span}")
    return "=" + parts[0] if len(parts) == 1 else "=(" + ",".join(parts) + ")"


def _groups(block: Block, rows: list[dict[str, Any]]) -> list[tuple[tuple[Any, ...], list[int]]]:
    out: dict[tuple[Any, ...], list[int]] = {}
    for i, row in enumerate(rows):
        out.setdefault(group_key(block, row), []).append(i)
    return list(out.items())


def _title(block: Block, key: tuple[Any, ...]) -> str:
    return " · ".join(str(v) for v in key if v not in (None, ""))


def chart_specs(block: Block, rows: list[dict[str, Any]], target: TargetLookup | None = None,
                as_of: object = None) -> list[ChartSpec]:
    """The charts of one block (none when it has nothing to chart); spending charts show the government's
    target for the group's fiscal year at ``as_of`` when ``target`` gives one."""
    specs: list[ChartSpec] = []
    if block.spending is not None:
        roles = block.spending
        for key, members in _groups(block, rows):
            picked = [i for i in members if rows[i].get("level") in CHART_LEVELS]
            if not picked:
                continue
            names = cells_ref(block, NAME.id, picked)
            specs.append(ChartSpec(
                title=f"ร้อยละการเบิกจ่าย {_title(block, key)}".strip(), kind="bar",
                series=(Series("เบิกจ่าย / disbursed", names, cells_ref(block, roles.pct_disbursed, picked)),
                        Series("เบิกจ่ายรวมผูกพัน / disbursed + committed", names,
                               cells_ref(block, roles.pct_total, picked))),
                y_title="ร้อยละของงบประมาณ", categories=len(picked),
                target=_target(target, rows[picked[0]], as_of)))
    elif block.id == "plan" and "budget" in block.column_ids:
        for key, members in _groups(block, rows)[:1]:
            picked = [i for i in members if rows[i].get("level") == "strategy"]
            if picked:
                specs.append(ChartSpec(
                    title=f"งบประมาณจำแนกตามยุทธศาสตร์ {_title(block, key)}".strip(), kind="bar",
                    series=(Series("งบประมาณ (บาท)", cells_ref(block, NAME.id, picked),
                                   cells_ref(block, "budget", picked)),), y_title="บาท", categories=len(picked)))
    elif block.id == "approaches" and {"target_persons", "result_persons"} <= set(block.column_ids):
        picked = [i for i, row in enumerate(rows) if row.get("level") == "approach"]
        if picked:
            names = cells_ref(block, NAME.id, picked)
            specs.append(ChartSpec(
                title="ผู้ได้รับประโยชน์เทียบเป้าหมาย (ราย)", kind="bar",
                series=(Series("เป้าหมาย (ราย)", names, cells_ref(block, "target_persons", picked)),
                        Series("ผล (ราย)", names, cells_ref(block, "result_persons", picked))), y_title="ราย",
                categories=len(picked)))
    elif block.outputs is not None and rows:
        picked = list(range(len(rows)))
        # Output codes, not names: an indicator's name is a sentence, and long names leave the bars no room.
        names = cells_ref(block, "code", picked)
        # The target and each quarter that holds a figure: a blank quarter would only add an empty series.
        shown = [c for c in (block.outputs.target, *block.outputs.results)
                 if any(isinstance(row.get(c), Decimal | int | float) for row in rows)]
        if shown:
            specs.append(ChartSpec(
                title="ผลผลิตโครงการ: เป้าหมายและผลสะสม / outputs: target and cumulative results", kind="bar",
                series=tuple(Series(block.column(c).th, names, cells_ref(block, c, picked)) for c in shown),
                y_title="ตามหน่วยนับของแต่ละผลผลิต (รหัสผลผลิตตามตาราง) / each in its own unit",
                categories=min(len(picked), OUTPUT_BARS)))
    return specs


def _target(target: TargetLookup | None, row: Mapping[str, Any], as_of: object) -> tuple[Decimal, str] | None:
    if target is None or not isinstance(as_of, dt.date):
        return None
    return target(row, as_of)


def _filled(data: WorkbookData) -> bool:
    """True when a table holds figures (not a blank template's skeleton)."""
    for block in data.spec.blocks:
        figures = [c.id for c in block.columns if c.type.numeric and not c.structure]
        if any(isinstance(row.get(c), Decimal | int | float | str) and row.get(c) not in ("", None)
               for row in data.blocks.get(block.id, []) for c in figures):
            return True
    return False


def _status_column(block: Block) -> str | None:
    """The KPI status column a dashboard counts, if the block has one."""
    if block.kpi is None:
        return None
    return next((c.id for c in block.columns if c.formula is not None and c.formula.rule == "kpi.status"), None)


def _kpi_status(book: xlsxwriter.Workbook, ws: Worksheet, block: Block, rows: list[dict[str, Any]],
                at: int) -> ChartSpec | None:
    """A status count table on the dashboard (COUNTIF over the KPI status column) and its chart's spec."""
    status = _status_column(block) if rows else None
    if status is None:
        return None
    letter = column_letter(block.column_ids.index(status))
    span = f"{_quote(block.sheet)}!${letter}${FIRST_DATA_ROW + 1}:${letter}${FIRST_DATA_ROW + len(rows)}"
    head = book.add_format({"font_name": FONT, "bold": True, "border": 1, "bg_color": HEADER_FILL})
    cell = book.add_format({"font_name": FONT, "border": 1})
    ws.write_string(at, 0, "สถานะ / status", head)
    ws.write_string(at, 1, "จำนวนตัวชี้วัด / KPIs", head)
    labels = (STATUS_ACHIEVED, STATUS_NOT_YET, STATUS_PENDING)
    calc = BlockCalc(block, rows)  # the cached counts: what the formulas give (Excel recomputes them anyway)
    counts = [sum(1 for i in range(len(rows)) if calc.cell(i, status).value == s) for s in labels]
    ws.set_row(at, row_height(1, FONT_SIZE))
    for n, label in enumerate(labels, start=1):
        ws.set_row(at + n, row_height(1, FONT_SIZE))
        ws.write_string(at + n, 0, label, cell)
        ws.write_formula(at + n, 1, f'=COUNTIF({span},"{label}")', cell, counts[n - 1])
    me = _quote(DASHBOARD_SHEET)
    return ChartSpec(title="สถานะตัวชี้วัด / KPI status", kind="column", series=(Series(
        "จำนวนตัวชี้วัด", f"={me}!$A${at + 2}:$A${at + 4}", f"={me}!$B${at + 2}:$B${at + 4}"),),
        y_title="ตัวชี้วัด")


def add_dashboard(book: xlsxwriter.Workbook, books: Sequence[WorkbookData],
                  target: TargetLookup | None = None) -> Worksheet | None:
    """Add the dashboard sheet after the template sheets when a filled template has something to chart."""
    filled = [data for data in books if _filled(data)]
    planned = [(block, data.blocks.get(block.id, []), data.meta.get("as_of"))
               for data in filled for block in data.spec.blocks]
    specs = [s for block, rows, as_of in planned for s in chart_specs(block, rows, target, as_of)]
    has_kpi = any(block.kpi is not None and rows for block, rows, _ in planned)
    if not specs and not has_kpi:
        return None
    ws = book.add_worksheet(DASHBOARD_SHEET)
    title = book.add_format({"font_name": FONT, "bold": True, "font_size": TITLE_SIZE})
    ws.write_string(0, 0, "แดชบอร์ด / Dashboard", title)
    note = ("แผนภูมิอ้างอิงช่องในตารางของแม่แบบ ปรับตามตัวเลขใน Excel โดยอัตโนมัติ / the charts read the template "
            "tables' cells and follow them in Excel")
    ws.merge_range(1, 0, 1, NOTE_COLUMNS - 1, note, book.add_format(
        {"font_name": FONT, "italic": True, "text_wrap": True, "valign": "top", "font_color": SUBTLE_TEXT}))
    ws.set_row(0, row_height(1, TITLE_SIZE))
    ws.set_column(0, 0, 30)
    ws.set_row(1, row_height(text_lines(note, 30 + 20 * (NOTE_COLUMNS - 1)), FONT_SIZE))
    ws.set_column(1, NOTE_COLUMNS - 1, 20)
    row = 3
    for block, rows, _ in planned:
        kpi = _kpi_status(book, ws, block, rows, row)
        if kpi is not None:
            specs.insert(0, kpi)
            row += 6
    breaks = []
    for n, spec in enumerate(specs):
        breaks.append(row)  # each chart on a page of its own: a printed page never cuts one
        _insert(book, ws, _with_target(ws, spec, TARGET_COLUMN + n, row), row)
        row += -(-spec.height // ROW_PX) + 2
    for r in range(breaks[0] if breaks else row, row):  # every chart row written: renderers differ on defaults
        ws.set_row(r, ROW_POINTS)
    ws.set_h_pagebreaks(breaks)
    ws.print_area(0, 0, row, CHART_COLUMNS - 1)  # the charts, not the target cells beside them
    page_setup(ws)
    ws.set_print_scale(PRINT_SCALE)  # as the tables: never shrunk below readable
    return ws


def _with_target(ws: Worksheet, spec: ChartSpec, column: int, row: int) -> ChartSpec:
    """The spec with its target as a series of its own: the target typed once in a cell beside the chart
    (edit it and the chart follows) and repeated for every category by formulas, in a column outside the
    printed page."""
    if spec.target is None:
        return spec
    value, label = spec.target
    letter = column_letter(column)
    ws.write_string(row, column, label)
    ws.write_number(row + 1, column, float(value))
    for k in range(spec.categories):
        ws.write_formula(row + 2 + k, column, f"=${letter}${row + 2}", None, float(value))
    me = _quote(DASHBOARD_SHEET)
    values = f"={me}!${letter}${row + 3}:${letter}${row + 2 + spec.categories}"
    return replace(spec, series=(*spec.series, Series(label, spec.series[0].categories, values, TARGET_LINE)))


def _insert(book: xlsxwriter.Workbook, ws: Worksheet, spec: ChartSpec, row: int) -> None:
    chart = book.add_chart({"type": spec.kind})
    font = {"name": FONT, "size": FONT_SIZE}
    for n, s in enumerate(spec.series):
        color = s.color or CHART_COLORS[n % len(CHART_COLORS)]
        chart.add_series({"name": s.name, "categories": s.categories, "values": s.values,
                          "fill": {"color": color}, "data_labels": {"value": True, "font": font}})
    chart.set_title({"name": spec.title, "name_font": {"name": FONT, "size": 16, "bold": True}})
    chart.set_legend({"position": "bottom", "font": font})
    value_axis = {"name": spec.y_title, "name_font": font, "num_font": font, "num_format": "#,##0"}
    category_axis = {"num_font": font, "reverse": spec.kind == "bar"}
    if spec.kind == "bar":
        chart.set_x_axis(value_axis)
        chart.set_y_axis(category_axis)
    else:
        chart.set_y_axis(value_axis)
        chart.set_x_axis(category_axis)
    chart.set_size({"width": CHART_WIDTH, "height": spec.height})
    ws.insert_chart(row, 0, chart)


def thai_chart_fonts(path: Path) -> None:
    """Give the charts' text the template font for Thai too: XlsxWriter names only the Latin typeface, so
    Excel and LibreOffice set the Thai in a fallback font (Loma, DejaVu). Rewrites the written package in
    place (it is the temp file of an atomic save), every other part byte for byte."""
    latin = f'<a:latin typeface="{FONT}"/>'.encode()
    every = latin + f'<a:ea typeface="{FONT}"/><a:cs typeface="{FONT}"/>'.encode()
    with zipfile.ZipFile(path) as zin:
        parts = [(item, zin.read(item)) for item in zin.infolist()]
    with zipfile.ZipFile(path, "w") as zout:
        for item, data in parts:
            if item.filename.startswith("xl/charts/chart"):
                data = data.replace(latin, every)
            zout.writestr(item, data)


def _label_row(grid: list[list[Any]], column: int) -> int | None:
    """The row of a chart's target label in ``column``: text above the typed target (a number)."""
    def at(r: int) -> Any:
        return grid[r][column] if r < len(grid) and column < len(grid[r]) else None
    return next((r for r in range(len(grid)) if isinstance(at(r), str) and at(r)
                 and isinstance(at(r + 1), int | float) and not isinstance(at(r + 1), bool)), None)


def retarget(patch: WorkbookPatch, grid: list[list[Any]],
             planned: Sequence[tuple[Block, list[dict[str, Any]], dt.date]], target: TargetLookup) -> list[str]:
    """Set each spending chart's target cells on a written dashboard (``grid``) to what ``target`` gives for the
    planned blocks and as-of date: the label, the typed value and the cells repeating it, in the places
    :func:`add_dashboard` put them; the charts themselves are unchanged. A chart drawn without a target series
    keeps none (a series cannot be added by patching cells); one whose target is no longer configured keeps
    its series at 0, labelled so. Returns the value cells changed (sheet!cell)."""
    kpis = sum(1 for block, rows, _ in planned if rows and _status_column(block) is not None)
    specs = [s for block, rows, as_of in planned for s in chart_specs(block, rows, target, as_of)]
    changed: list[str] = []
    for n, spec in enumerate(specs, start=kpis):  # the KPI status charts come first, as add_dashboard puts them
        column = TARGET_COLUMN + n
        row = _label_row(grid, column)
        if row is None:
            continue
        value, label = spec.target or (None, "ไม่มีเป้าหมายในค่าตั้งสำหรับไตรมาสนี้ / no target configured for"
                                             " this quarter")
        letter = column_letter(column)
        patch.set_cell(DASHBOARD_SHEET, a1(row, column), label)
        patch.set_cell(DASHBOARD_SHEET, a1(row + 1, column), value)
        for k in range(spec.categories):
            patch.set_cell(DASHBOARD_SHEET, a1(row + 2 + k, column), value if value is not None else 0,
                           formula=f"${letter}${row + 2}")
        changed.append(f"{DASHBOARD_SHEET}!{a1(row + 1, column)}")
    return changed
