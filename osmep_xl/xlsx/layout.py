"""Where things sit in a generated workbook; shared by the writer and the reader."""

from __future__ import annotations

from ..spec.base import Block

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
FONT_SIZE = 14


def block_name(block: Block) -> str:
    """Defined name anchoring a block: header row through last data row."""
    return f"osmep_{block.id}"


def meta_name(field_id: str) -> str:
    """Defined name of a meta field's value cell on the information sheet."""
    return f"osmep_meta_{field_id}"
