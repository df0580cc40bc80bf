"""Decimal money, Excel-compatible rounding and tolerant number parsing.

Money is always :class:`decimal.Decimal`. Percentages are percent points
(93.89 means 93.89 %) rounded half away from zero, as Excel's ROUND does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

ZERO = Decimal(0)
HUNDRED = Decimal(100)

_ROUNDING = Context(prec=28, rounding=ROUND_HALF_UP)
_QUANTUM = {d: Decimal(1).scaleb(-d) for d in range(7)}
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# Text that users type around a number and that means nothing to its value.
_NOISE = re.compile(r"(บาท|baht|thb|฿|%|ร้อยละ|\u200b)", re.IGNORECASE)
_MILLION = re.compile(r"(ล้าน|million)", re.IGNORECASE)  # "1.5 ล้านบาท" is 1,500,000 baht
_NUMBER = re.compile(r"^[+-]?(\d+(,\d{3})*|\d*)(\.\d+)?$")


def excel_round(value: Decimal, digits: int = 2) -> Decimal:
    """Round half away from zero, like Excel's ROUND (not banker's rounding).

    ``Decimal.quantize`` with ROUND_HALF_UP rounds ties away from zero for both
    signs, which is exactly Excel's rule.
    """
    if not value.is_finite():
        return value
    # Enough precision for any magnitude, so a huge amount rounds instead of raising (the usual amount
    # needs no more than the default 28 digits: one shared context, not a new one per call).
    prec = value.adjusted() + digits + 2
    context = _ROUNDING if prec <= _ROUNDING.prec else Context(prec=prec, rounding=ROUND_HALF_UP)
    return value.quantize(_QUANTUM.get(digits) or Decimal(1).scaleb(-digits), context=context)


def to_money(value: object) -> Decimal:
    """Exact Decimal of a number; floats go through ``repr`` so 0.1 stays 0.1."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not money")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"not a finite number: {value!r}")
        return Decimal(repr(value))
    if isinstance(value, str):
        parsed = parse_number(value)
        if parsed is None:
            raise ValueError(f"not a number: {value!r}")
        return parsed
    raise TypeError(f"not a number: {value!r}")


def percent(part: Decimal, whole: Decimal, digits: int = 2) -> Decimal | None:
    """``ROUND(part / whole * 100, digits)``; None where Excel would show #DIV/0!."""
    if whole == 0:
        return None
    return excel_round(part * HUNDRED / whole, digits)


def excel_round_double(value: float, digits: int = 2) -> Decimal:
    """Excel's ROUND applied to a binary double: take the value Excel shows (15 significant
    digits), then round half away from zero. ROUND(2.675, 2) = 2.68 although the double
    2.675 is slightly below the tie; 200 - 197.61 = 2.38999999999998636 is not a tie at all.
    """
    return excel_round(Decimal(format(value, ".15g")), digits)


class Arithmetic:
    """Exact decimal arithmetic: the true value of a formula (the default everywhere)."""

    name = "decimal"

    def add(self, values: Iterable[Decimal]) -> Decimal:
        return sum(values, ZERO)

    def sub(self, a: Decimal, b: Decimal) -> Decimal:
        return a - b

    def percent(self, part: Decimal, whole: Decimal) -> Decimal | None:
        return percent(part, whole)


class ExcelArithmetic(Arithmetic):
    """What Excel computes: IEEE doubles, ROUND on the 15-digit value.

    A double is carried as ``Decimal(repr(x))``, which converts back to the same double,
    so chains of formulas keep Excel's binary noise exactly. Used to accept what Excel
    itself would display and to compare with a real spreadsheet engine; never for money
    decisions on its own.
    """

    name = "excel"

    def add(self, values: Iterable[Decimal]) -> Decimal:
        acc = 0.0
        for value in values:
            acc += float(value)
        return Decimal(repr(acc))

    def sub(self, a: Decimal, b: Decimal) -> Decimal:
        return Decimal(repr(float(a) - float(b)))

    def percent(self, part: Decimal, whole: Decimal) -> Decimal | None:
        if whole == 0:
            return None
        return excel_round_double(float(part) / float(whole) * 100)


DECIMAL = Arithmetic()
EXCEL = ExcelArithmetic()


def translate_thai_digits(text: str) -> str:
    """Thai digits (๐-๙) to ASCII digits."""
    return text.translate(_THAI_DIGITS)


def parse_number(text: str) -> Decimal | None:
    """Parse the way people write amounts: Thai digits, thousands separators,
    ``บาท``/``%`` and parentheses for negatives. None when it is not a number.
    """
    text = translate_thai_digits(text)
    scale = Decimal(1)
    if _MILLION.search(text):
        scale, text = Decimal(1_000_000), _MILLION.sub("", text)
    cleaned = _NOISE.sub("", text).strip()
    if re.search(r"\s", cleaned):  # "1 2" is two numbers, not twelve
        return None
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    if negative:
        cleaned = cleaned[1:-1]
    if not cleaned or cleaned in {"-", "+", "."} or not _NUMBER.match(cleaned):
        return None
    try:
        value = Decimal(cleaned.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex already guards this
        return None
    value *= scale
    return -value if negative else value


def is_plain_number_text(text: str) -> bool:
    """True when text is a bare ASCII number that Excel would have stored as a number."""
    return bool(_NUMBER.match(text.strip())) and "," not in text and text.strip() not in {"", "-", "+", "."}
