"""Where things sit in a generated workbook, and how it prints; shared by the writer and the reader."""

from __future__ import annotations

import math
from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

from ..spec.base import Block, ColType, Column
from ..spec.columns import NAME, PARENT
from .metrics import CELL_INSET, DIGIT_EM, column_points, wrap_lines

TITLE_ROW = 0
SUBTITLE_ROW = 1
HEADER_TH_ROW = 3
HEADER_EN_ROW = 4
FIRST_DATA_ROW = 5

INFO_SHEET = "ข้อมูล"
INFO_FIRST_ROW = 3  # label th | label en | value, one meta field a row
PROP_TEMPLATE = "osmep_xl.template"
PROP_VERSION = "osmep_xl.version"
FONT = "TH Sarabun New"
# The one palette (RGB): input and computed cells, headers, flagged cells (error red, warning yellow), notes.
INPUT_FILL = "#FFFFFF"
COMPUTED_FILL = "#F2F2F2"
HEADER_FILL = "#DDEBF7"
ERROR_FILL = "#FFC7CE"
ERROR_TEXT = "#9C0006"
WARNING_FILL = "#FFEB9C"
SUBTLE_TEXT = "#595959"
ENGLISH_TEXT = "#404040"  # the English header line under each Thai header
# Chart series, in order: disbursed, disbursed + committed (or a second series), then the others.
CHART_COLORS = ("#9DC3E6", "#1F4E79", "#C55A11", "#548235", "#7F7F7F")
TARGET_LINE = "#C00000"


def argb(rgb: str) -> str:
    """"#RRGGBB" as the opaque "FFRRGGBB" that cell styles in the package XML use."""
    return "FF" + rgb.lstrip("#").upper()
FONT_SIZE = 14
TITLE_SIZE = 18
SMALL_SIZE = 12  # English header lines and notes: the smallest text on paper
INDENT_POINTS = 10.0  # what one level of cell indent takes from the text's room (Excel: about 3 spaces)

# --- paper: A4, in points -------------------------------------------------------------------------------------
A4 = (595.28, 841.89)
PAPER_A4 = 9
MARGIN_SIDE = 0.25  # inches: Excel's "narrow" left and right margins
MARGIN_TOP = MARGIN_BOTTOM = 0.75
MARGIN_HEADER = MARGIN_FOOTER = 0.3
# Every table prints at this scale, over several pages across when it must, its key columns repeated on
# each: 85 % keeps 14-point text at 11.9 points and the 12-point English headers at 10.2.
PRINT_SCALE = 85
MAX_NAME_WIDTH = 90
WIDTH_SAFETY = 0.97  # Excel rounds column widths to whole pixels: leave room on every page


def printable_width(*, landscape: bool = True) -> float:
    """Points across an A4 page inside the side margins."""
    return (A4[1] if landscape else A4[0]) - 2 * 72 * MARGIN_SIDE


def footer(sheet_label: str = "&A") -> str:
    """Each page names its sheet and its number, in the template font."""
    return f'&L&"{FONT},Regular"&{SMALL_SIZE}{sheet_label}&R&"{FONT},Regular"&{SMALL_SIZE}หน้า &P / &N'


def text_lines(text: str, width: float, *, size: float = FONT_SIZE, bold: bool = False, indent: int = 0) -> int:
    """Lines ``text`` wraps to in a column ``width`` characters wide (of a generated workbook's font)."""
    room = column_points(width, FONT_SIZE) - CELL_INSET - indent * INDENT_POINTS
    return wrap_lines(text, room, size, bold=bold)


def block_name(block: Block) -> str:
    """Defined name anchoring a block: header row through last data row."""
    return f"osmep_{block.id}"


def meta_name(field_id: str) -> str:
    """Defined name of a meta field's value cell on the information sheet."""
    return f"osmep_meta_{field_id}"


def printed_columns(block: Block) -> tuple[Column, ...]:
    """The columns of a block that print: all but the trailing ones the spec leaves off paper."""
    cols = list(block.columns)
    while cols and not cols[-1].printed:
        cols.pop()
    return tuple(cols)




def key_columns(block: Block) -> tuple[int, int]:
    """First and last index of the columns repeated on every page of a wide table: the name, and the code
    (or strategy) right before it; never the parent code or level, which only cost room."""
    ids = block.column_ids
    last = ids.index(NAME.id) if NAME.id in ids else 0
    first = last
    # Besides the name, the codes right before it (a row's code, a KPI's strategy), never its parent's.
    while first > 0 and block.columns[first - 1].type is ColType.CODE and ids[first - 1] != PARENT.id:
        first -= 1
    return first, last


@dataclass(frozen=True)
class PrintPlan:
    """How one table prints: its printed columns' widths, and where pages break across."""

    widths: tuple[float, ...]  # of the printed columns, the name column widened to fill the pages
    scale: int = PRINT_SCALE
    breaks: tuple[int, ...] = ()  # first column of each page after the first
    repeat: tuple[int, int] | None = None  # columns printed again on each page after the first

    @property
    def last_col(self) -> int:
        return len(self.widths) - 1


def _pack(points: list[float], page: float, first: int, last: int) -> tuple[list[int], list[float]]:
    """Page breaks of columns ``points`` wide on pages ``page`` wide, columns first..last repeated on each
    page after the first; and the room each page uses."""
    breaks: list[int] = []
    used = [0.0]
    repeated = sum(points[first:last + 1])
    for n, w in enumerate(points):
        if used[-1] + w > page and n > last:
            breaks.append(n)
            used.append(repeated)
        used[-1] += w
    return breaks, used


def plan_print(block: Block, font_size: float = FONT_SIZE) -> PrintPlan:
    """Every table prints at :data:`PRINT_SCALE`, its columns packed into as few pages across as they need,
    the key columns (name, and code before it) repeated on each page; the name column takes the room left
    on the fullest page, so that names wrap less and rows stay low."""
    cols = printed_columns(block)
    widths = [c.width for c in cols]
    page = printable_width() * WIDTH_SAFETY * 100 / PRINT_SCALE
    first, last = key_columns(block)
    breaks, used = _pack([column_points(w, font_size) for w in widths], page, first, last)
    if NAME.id in block.column_ids:
        name = block.column_ids.index(NAME.id)
        spare = math.floor((page - max(used)) / (DIGIT_EM * font_size))
        widths[name] = min(MAX_NAME_WIDTH, widths[name] + max(0, spare))
    return PrintPlan(widths=tuple(widths), breaks=tuple(breaks), repeat=(first, last) if breaks else None)


def page_setup(ws: Worksheet, *, landscape: bool = True, header: tuple[str, str] | None = None) -> None:
    """A4 in the given orientation, margins, a header with a (Thai, English) title on every page, and a
    footer naming the sheet and the page."""
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(PAPER_A4)
    ws.set_margins(left=MARGIN_SIDE, right=MARGIN_SIDE, top=MARGIN_TOP, bottom=MARGIN_BOTTOM)
    if header:
        th, en = (text.replace("&", "&&") for text in header)
        ws.set_header(f'&L&"{FONT},Bold"&{FONT_SIZE}{th}&"{FONT},Regular"&{SMALL_SIZE}  {en}',
                      {"margin": MARGIN_HEADER})
    ws.set_footer(footer(), {"margin": MARGIN_FOOTER})
