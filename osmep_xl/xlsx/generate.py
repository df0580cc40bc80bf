"""Write a template workbook from its spec, optionally filled with data.

Derived and roll-up cells get a formula (with the value Python computed as its
cached result) unless the data states a figure for them, in which case the
figure is written as printed so that validation can check it. Text is always
written as text, so data can never become a formula.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from ..a1 import a1, column_letter
from ..model.evaluate import BlockCalc
from ..model.workbook import WorkbookData
from ..money import EXCEL
from ..spec.base import Block, ColType, Column, TemplateSpec
from ..spec.columns import NAME
from ..version import __version__
from .dashboard import TargetLookup, add_dashboard, thai_chart_fonts
from .formulas import cell_formula, rollups, row_cells
from .layout import (
    COMPUTED_FILL,
    ENGLISH_TEXT,
    ERROR_FILL,
    ERROR_TEXT,
    FIRST_DATA_ROW,
    FONT,
    FONT_SIZE,
    HEADER_EN_ROW,
    HEADER_FILL,
    HEADER_TH_ROW,
    INFO_FIRST_ROW,
    INFO_SHEET,
    INPUT_FILL,
    PROP_TEMPLATE,
    PROP_VERSION,
    SMALL_SIZE,
    SUBTITLE_ROW,
    SUBTLE_TEXT,
    TITLE_ROW,
    TITLE_SIZE,
    PrintPlan,
    block_name,
    key_columns,
    meta_name,
    page_setup,
    plan_print,
    text_lines,
)
from .metrics import row_height
from .zipio import atomic_target

MAX_ROW = 1_048_575  # a print area ending here is whole columns: rows added later print too
# Fixed so that building a template twice gives the same bytes.
BUILD_TIME = dt.datetime(2024, 1, 1)
# Text starting with these would become a formula (or DDE call) if retyped in Excel: such text is
# written as a string with Excel's quote prefix, so it stays text even when a user edits the cell.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER_FORMATS = {
    ColType.MONEY: "#,##0.00",
    ColType.COUNT: "#,##0",
    ColType.NUMBER: "#,##0.00",
    ColType.PERCENT: "0.00",
    ColType.YEAR: "0",
}


class Formats:
    """Cell formats made on demand and reused (XlsxWriter wants few distinct formats)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self._book = book
        self._cache: dict[tuple[Any, ...], Format] = {}
        self.flag = book.add_format({"bg_color": ERROR_FILL, "font_color": ERROR_TEXT})

    def get(self, **props: Any) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self._book.add_format(
                {"font_name": FONT, "font_size": FONT_SIZE, "valign": "top", **props}
            )
        return self._cache[key]

    def cell(self, column: Column, *, computed: bool, bold: bool, indent: int, quoted: bool = False) -> Format:
        props: dict[str, Any] = {"border": 1, "bold": bold,
                                 "bg_color": COMPUTED_FILL if computed else INPUT_FILL}
        if quoted:
            props["quote_prefix"] = True
        if column.type in NUMBER_FORMATS:
            props["num_format"] = NUMBER_FORMATS[column.type]
        else:
            # Long free text that does not print stays on one line: it would make every row tall.
            props["text_wrap"] = column.printed
            if column.id == NAME.id and indent:
                props["indent"] = indent
        return self.get(**props)


def blank_data(spec: TemplateSpec) -> WorkbookData:
    """A blank workbook's data: the rows the standard fixes (the spec's skeleton), no figures."""
    blocks = {}
    for block in spec.blocks:
        keep = [c.id for c in block.columns if c.structure]
        blocks[block.id] = [{k: row.get(k) for k in keep} for row in spec.skeleton.get(block.id, ())]
    return WorkbookData(template=spec.id, meta={}, blocks=blocks)


def _excel_value(value: Any) -> float | str:
    if isinstance(value, Decimal):
        return float(value)
    return "" if value is None else str(value)


def _write_block(book: xlsxwriter.Workbook, block: Block, rows: list[dict[str, Any]],
                 fmt: Formats, meta: dict[str, Any]) -> None:
    ws = book.add_worksheet(block.sheet)
    letters = {c.id: column_letter(n) for n, c in enumerate(block.columns)}
    last_col = len(block.columns) - 1
    ws.set_default_row(row_height(1, FONT_SIZE))
    _title(ws, fmt, block.title_th, block.title_en)
    head = fmt.get(bold=True, bg_color=HEADER_FILL, border=1, text_wrap=True, align="center")
    head_en = fmt.get(bg_color=HEADER_FILL, border=1, text_wrap=True, align="center",
                      font_size=SMALL_SIZE, font_color=ENGLISH_TEXT)
    plan = plan_print(block)
    widths = [*plan.widths, *(c.width for c in block.columns[len(plan.widths):])]
    for n, col in enumerate(block.columns):
        ws.write_string(HEADER_TH_ROW, n, col.th, head)
        ws.write_string(HEADER_EN_ROW, n, col.en, head_en)
        ws.set_column(n, n, widths[n])
    printed = list(zip(block.columns, plan.widths, strict=False))
    ws.set_row(HEADER_TH_ROW, row_height(max(text_lines(c.th, w, bold=True) for c, w in printed), FONT_SIZE))
    ws.set_row(HEADER_EN_ROW, row_height(max(text_lines(c.en, w, size=SMALL_SIZE) for c, w in printed), SMALL_SIZE))
    calc = BlockCalc(block, rows, meta=meta)
    excel = BlockCalc(block, rows, arith=EXCEL, meta=meta)  # cached values exactly as Excel would store them
    ranks = {lv.id: i for i, lv in enumerate(block.levels)}

    def excel_row(i: int) -> int:
        return FIRST_DATA_ROW + i

    def address(i: int, column_id: str) -> str:
        return f"{letters[column_id]}{excel_row(i) + 1}"

    for i, row in enumerate(rows):
        r = excel_row(i)
        rank = ranks.get(row.get("level") or "", 0)
        has_children = bool(calc.structure.children.get(i))
        lines = 1
        for n, (col, formula, computed) in enumerate(row_cells(calc, i, address)):
            value = row.get(col.id)
            cell_fmt = fmt.cell(col, computed=computed, bold=has_children, indent=rank,
                                quoted=isinstance(value, str) and value.startswith(FORMULA_TRIGGERS))
            if formula is not None and computed:
                value = excel.cell(i, col.id).value
                ws.write_formula(r, n, "=" + formula, cell_fmt, _excel_value(value))
            else:
                _write_value(ws, r, n, col, value, cell_fmt)
            if formula is not None and col.type.numeric and not col.derived:
                _flag_mismatch(ws, (r, r), n, formula, fmt, rollups(calc, address).carries(i, col.id))
            if n < len(printed) and not col.type.numeric and value is not None:
                lines = max(lines, text_lines(str(value), widths[n], bold=has_children,
                                              indent=rank if col.id == NAME.id else 0))
        options = {"level": min(rank, 7)} if block.hierarchical else {}
        ws.set_row(r, row_height(lines, FONT_SIZE), None, options)
    if rows:
        # A derived column's formula is the same relative formula on every row: one red-fill rule over the
        # column (written for its first row) rather than one per cell, which at 50,000 rows would be
        # 300,000 rules to write and for Excel to hold.
        for n, col in enumerate(block.columns):
            if col.formula is not None and col.type.numeric:
                _flag_mismatch(ws, (excel_row(0), excel_row(len(rows) - 1)), n, cell_formula(col, calc, 0, address),
                               fmt)
    last_row = max(FIRST_DATA_ROW, excel_row(len(rows) - 1)) if rows else FIRST_DATA_ROW
    book.define_name(block_name(block), f"='{block.sheet}'!$A${HEADER_TH_ROW + 1}:"
                                        f"${column_letter(last_col)}${last_row + 1}")
    _validations(ws, block, last_row)
    ws.freeze_panes(FIRST_DATA_ROW, key_columns(block)[1] + 1)
    _print_block(ws, block, plan)


def _flag_mismatch(ws: Worksheet, rows: tuple[int, int], n: int, formula: str, fmt: Formats,
                   carries: str | None = None) -> None:
    """Red fill when a typed figure disagrees with what its formula would give, on rows ``rows`` (first, last)
    of column ``n``; ``formula`` is the first row's (Excel moves it down the rows as it would a copied cell).
    A roll-up's ``carries`` tests that its lines carry a figure: a total typed over blank lines is the input
    there, as validation judges it, not a total that fails to add up."""
    cell = a1(rows[0], n)
    condition = f"{carries}," if carries else ""
    ws.conditional_format(rows[0], n, rows[1], n, {
        "type": "formula",
        "criteria": f"=AND(ISNUMBER({cell}),{condition}ROUND({cell}-N({formula}),2)<>0)",
        "format": fmt.flag,
    })


def _write_value(ws: Worksheet, r: int, n: int, col: Column, value: Any, cell_fmt: Format) -> None:
    if value is None:
        ws.write_blank(r, n, None, cell_fmt)
    elif col.type.numeric:
        ws.write_number(r, n, float(value), cell_fmt)
    else:
        ws.write_string(r, n, str(value), cell_fmt)


def _validations(ws: Worksheet, block: Block, last_row: int) -> None:
    end = max(last_row, FIRST_DATA_ROW + 200)  # room for rows the user adds
    for n, col in enumerate(block.columns):
        if col.choices:
            ws.data_validation(FIRST_DATA_ROW, n, end, n, {
                "validate": "list", "source": list(col.choices),
                "error_title": "ค่าไม่อยู่ในรายการ / Not in list",
                "error_message": f"เลือกจากรายการ / choose one of: {', '.join(col.choices)}",
            })
        elif col.type in (ColType.MONEY, ColType.COUNT) and not col.derived:
            ws.data_validation(FIRST_DATA_ROW, n, end, n, {
                "validate": "decimal", "criteria": ">=", "value": 0, "error_type": "warning",
                "error_title": "ตัวเลขติดลบ / Negative amount",
                "error_message": "จำนวนเงินต้องไม่ติดลบ / amounts must not be negative",
            })


def _title(ws: Worksheet, fmt: Formats, title: str, subtitle: str, last_col: int = 0) -> None:
    """The sheet's title and subtitle, merged across ``last_col`` + 1 columns (wrapped) when more than one."""
    big = {"bold": True, "font_size": TITLE_SIZE}
    small = {"italic": True, "font_color": SUBTLE_TEXT}
    for row, text, props, size in ((TITLE_ROW, title, big, TITLE_SIZE), (SUBTITLE_ROW, subtitle, small, FONT_SIZE)):
        if last_col:
            ws.merge_range(row, 0, row, last_col, text, fmt.get(text_wrap=True, **props))
        else:
            ws.write_string(row, 0, text, fmt.get(**props))
        ws.set_row(row, row_height(1, size))


def _print_block(ws: Worksheet, block: Block, plan: PrintPlan) -> None:
    """A4 landscape at a readable scale, the header rows on every page, and pages across with the key
    columns repeated when the table is wider than a page (see :func:`~osmep_xl.xlsx.layout.plan_print`)."""
    page_setup(ws, header=(block.title_th, block.title_en))
    # From the header rows down: the title is in the page header of every page, and the sheet's own title
    # would spill into the columns repeated on the pages across.
    ws.print_area(HEADER_TH_ROW, 0, MAX_ROW, plan.last_col)
    ws.repeat_rows(HEADER_TH_ROW, HEADER_EN_ROW)
    ws.set_print_scale(plan.scale)
    if plan.breaks:
        ws.set_v_pagebreaks(list(plan.breaks))
        ws.print_across()
    if plan.repeat is not None:
        ws.repeat_columns(*plan.repeat)


INFO_WIDTHS = (22, 18, 34)  # label (Thai), label (English), value


def _write_info(book: xlsxwriter.Workbook, specs: list[TemplateSpec], data: WorkbookData,
                fmt: Formats) -> None:
    ws = book.add_worksheet(INFO_SHEET)
    ws.set_default_row(row_height(1, FONT_SIZE))
    widths = list(INFO_WIDTHS)
    for n, width in enumerate(widths):
        ws.set_column(n, n, width)
    last_col = len(widths) - 1
    title = " · ".join(s.title_th for s in specs)
    subtitle = " · ".join(f"{s.title_en} ({s.id} v{s.version})" for s in specs)
    _title(ws, fmt, title, subtitle, last_col)
    across = sum(widths) - 1
    ws.set_row(TITLE_ROW, row_height(text_lines(title, across, size=TITLE_SIZE, bold=True), TITLE_SIZE))
    ws.set_row(SUBTITLE_ROW, row_height(text_lines(subtitle, across), FONT_SIZE))
    label = fmt.get(bold=True, border=1, bg_color=HEADER_FILL, text_wrap=True)
    fields = list({f.id: f for s in specs for f in s.meta}.values())
    for n, field in enumerate(fields):
        r = INFO_FIRST_ROW + n
        ws.write_string(r, 0, field.th, label)
        ws.write_string(r, 1, field.en, label)
        value = data.meta.get(field.id)
        lines = max(text_lines(field.th, widths[0], bold=True), text_lines(field.en, widths[1], bold=True))
        if field.kind == "date":
            date_fmt = fmt.get(border=1, num_format="d mmm yyyy", align="left")
            if isinstance(value, dt.date):
                ws.write_datetime(r, 2, dt.datetime.combine(value, dt.time()), date_fmt)
            else:
                ws.write_blank(r, 2, None, date_fmt)
        elif field.kind == "int" and value is not None:
            ws.write_number(r, 2, int(value), fmt.get(border=1, align="left"))
        else:
            text = "" if value is None else str(value)
            ws.write_string(r, 2, text, fmt.get(border=1, text_wrap=True))
            lines = max(lines, text_lines(text, widths[2]))
        ws.set_row(r, row_height(lines, FONT_SIZE))
        book.define_name(meta_name(field.id), f"='{INFO_SHEET}'!$C${r + 1}")
    # A row per template, so that the sheet keeps its width (and its printed size) however many a workbook holds.
    foot = INFO_FIRST_ROW + len(fields) + 1
    ws.write_string(foot, 0, "แม่แบบ / Template", label)
    ws.write_string(foot, 1, "รุ่น / Version", label)
    for n, spec in enumerate(specs, start=1):
        ws.write_string(foot + n, 0, spec.id, fmt.get(border=1))
        ws.write_string(foot + n, 1, spec.version, fmt.get(border=1))
    notes = foot + len(specs) + 2
    ws.write_string(notes, 0, "ช่องสีเทาคำนวณด้วยสูตร ช่องสีแดงคือตัวเลขที่ไม่ตรงกับสูตร",
                    fmt.get(italic=True))
    ws.write_string(notes + 1, 0, "Grey cells are formulas; red cells are typed figures that disagree"
                    " with their formula.", fmt.get(italic=True, font_size=SMALL_SIZE))
    ws.set_row(notes + 1, row_height(1, SMALL_SIZE))
    page_setup(ws, landscape=False)  # as narrow for any number of templates: portrait has room for them down
    ws.print_area(0, 0, notes + 1, last_col)
    ws.fit_to_pages(1, 0)


SheetWriter = Callable[[xlsxwriter.Workbook, "Formats"], None]


def _quote_sheet_names(book: xlsxwriter.Workbook) -> None:
    """Quote the sheet name in the print titles, print area and filter names XlsxWriter defines.

    XlsxWriter quotes a sheet name only when it holds a character outside ``\\w``: ``'ยุทธศาสตร์'`` (its
    vowel marks are not word characters) but a bare ``แนวทาง!$4:$5``. Our own defined names are always
    quoted (``'แนวทาง'!$A$4``); these are made consistent with them before the workbook is written.
    """
    for ws in book.worksheets():
        quoted = "'" + ws.name.replace("'", "''") + "'!"
        for attr in ("print_area_range", "repeat_row_range", "repeat_col_range", "autofilter_area"):
            ranges = getattr(ws, attr, None)
            if isinstance(ranges, str) and ranges.startswith(ws.name + "!"):
                setattr(ws, attr, quoted + ranges[len(ws.name) + 1:])


def write_workbook(data: WorkbookData | Sequence[WorkbookData], path: Path, *,
                   before: SheetWriter | None = None, after: SheetWriter | None = None,
                   vba_project: Path | None = None, target: TargetLookup | None = None) -> Path:
    """Write one template (or several sharing one information sheet) at ``path``, atomically.

    ``before``/``after`` add sheets around the template sheets (the front-end workbook's
    front sheet and settings); ``vba_project`` embeds a vbaProject.bin (``path`` must be .xlsm); ``target``
    puts the government's disbursement target beside the dashboard's spending charts.
    """
    books = [data] if isinstance(data, WorkbookData) else list(data)
    specs = [b.spec for b in books]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_target(path) as tmp:  # fsynced and renamed over path only once the workbook is complete
        book = xlsxwriter.Workbook(tmp, {
            "strings_to_formulas": False, "strings_to_urls": False,
            # The template font is the workbook's own: column widths count its digits, and new cells use it.
            "default_format_properties": {"font_name": FONT, "font_size": FONT_SIZE},
        })
        title_th = " · ".join(s.title_th for s in specs)
        book.set_properties({
            "title": title_th, "subject": " · ".join(s.title_en for s in specs), "company": "osmep_xl",
            "comments": f"osmep_xl {__version__}", "created": BUILD_TIME,
        })
        book.set_custom_property(PROP_TEMPLATE, ",".join(s.id for s in specs))
        book.set_custom_property(PROP_VERSION, ",".join(s.version for s in specs))
        if vba_project is not None:
            book.add_vba_project(str(vba_project))
        fmt = Formats(book)
        if before is not None:
            before(book, fmt)
        _write_info(book, specs, books[0], fmt)
        for spec, filled in zip(specs, books, strict=True):
            for block in spec.blocks:
                _write_block(book, block, filled.blocks.get(block.id, []), fmt, books[0].meta)
        charts = add_dashboard(book, books, target)  # native charts over the tables, for filled templates to chart
        if after is not None:
            after(book, fmt)
        _quote_sheet_names(book)
        book.close()
        if charts is not None:
            thai_chart_fonts(Path(tmp))
    return path
