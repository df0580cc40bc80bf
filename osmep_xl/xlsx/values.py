"""Cell values and addresses as OOXML text, checked against Excel's limits before anything is written."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from ..a1 import parse_a1
from .ooxml import MAX_COLS, MAX_ROWS, MAX_TEXT, fail

_BAD_XML_CHARS = re.compile(r"_(x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
MAX_FORMULA = 8_192


def xstring(text: str) -> str:
    """Text as an OOXML string: control characters become _xHHHH_ and a literal _xHHHH_ is escaped."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise fail(f"ข้อความมีอักขระเสีย / text has an invalid character ({exc})") from exc
    if len(text) > MAX_TEXT:
        raise fail(f"ข้อความยาวเกิน {MAX_TEXT} ตัวอักษร / text longer than Excel's {MAX_TEXT} characters")

    def escape(match: re.Match[str]) -> str:
        if match.group(1):
            return "_x005F_" + match.group(1)
        return f"_x{ord(match.group()):04X}_"

    return _BAD_XML_CHARS.sub(escape, text)


def number_text(value: Decimal | int | float) -> str:
    """Shortest text that reads back as the same number, never in exponent form for Decimal."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise fail(f"ค่าตัวเลขไม่ถูกต้อง / {value!r} cannot be stored in Excel")
        text = repr(value)
        text = text.removesuffix(".0")
        return "0" if text == "-0" else text
    if not value.is_finite() or not math.isfinite(float(value)):
        raise fail(f"ค่าตัวเลขไม่ถูกต้อง / {value!r} cannot be stored in Excel")
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def check_value(value: object) -> None:
    if value is None or isinstance(value, (str, int, float, Decimal)):
        if isinstance(value, str):
            xstring(value)
        elif isinstance(value, (int, float, Decimal)):
            number_text(value)
        return
    raise fail(f"ชนิดข้อมูลไม่รองรับ / unsupported value type {type(value).__name__}")


def address(cell: str) -> tuple[int, int]:
    """0-based (row, col) of an A1 address within Excel's grid, or PatchError."""
    try:
        row, col = parse_a1(cell.strip())
    except (ValueError, AttributeError) as exc:
        raise fail(f"ที่อยู่เซลล์ไม่ถูกต้อง / bad cell address {cell!r}") from exc
    if row >= MAX_ROWS or col >= MAX_COLS or row < 0:
        raise fail(f"ที่อยู่เซลล์เกินขอบเขต / cell address {cell!r} is outside the sheet")
    return row, col


def cell_range(ref: str) -> tuple[int, int, int, int] | None:
    """(row0, col0, row1, col1) of 'A1' or 'A1:B2'; None if not a cell range."""
    try:
        first, _, last = ref.partition(":")
        r0, c0 = parse_a1(first)
        r1, c1 = parse_a1(last) if last else (r0, c0)
    except ValueError:
        return None
    return min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1)


def inside(box: tuple[int, int, int, int], row: int, col: int) -> bool:
    return box[0] <= row <= box[2] and box[1] <= col <= box[3]


def clean_formula(formula: str) -> str:
    """A formula's text without its leading '=', or PatchError if Excel could not store it."""
    formula = formula.strip().removeprefix("=").strip()
    if not formula or len(formula) > MAX_FORMULA or _CONTROL_CHARS.search(formula):
        raise fail(f"สูตรไม่ถูกต้อง / bad formula {formula!r}")
    return formula
