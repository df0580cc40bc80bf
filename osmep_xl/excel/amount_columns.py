"""Columns of amount cells as Excel passes them to a UDF: exact hundredths, doubles, and percentages of both.

A worksheet function gets a range as a list of cells (floats, ints, text, blanks, dates...). Where a cell is
a whole number of hundredths (a double nearest one, an int, or a plainly typed amount such as
``1,234.50 บาท``) it is held as int64 hundredths and computed exactly (:mod:`.model.columnar`); another
double (a formula's 333333.33333333331) is computed as a double, a percentage taken only where it is farther
from a rounding tie than the doubles' error. Everything else is left to the per-cell Decimal functions, which
decide it exactly as before.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ..model.columnar import REPR_MARGIN, SCALE, Bools, Floats, Ints, round_half_away, to_hundredths
from ..money import translate_thai_digits

# An amount as it is mostly typed ("1,234.50", "๑,๒๓๔ บาท", "(500)"): digits, separators between groups of
# three, a sign or parentheses, "บาท". parse_number() reads such a text as exactly this number when it has at
# most 28 digits (beyond them its Decimal arithmetic rounds); any other text is left to parse_number().
_PLAIN_NUMBER = r"[+-]?[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?"
_PLAIN_AMOUNT = re.compile(rf"\s*(?:\(({_PLAIN_NUMBER})\)|({_PLAIN_NUMBER}))\s*(?:บาท)?\s*")
_PLAIN_DIGITS = 28
_WHOLE_DIGITS = 12  # an amount in whole hundredths of at most 12 digits before the point is below MAX_STATED


def plain_amount(text: str) -> str | None:
    """The number a plainly typed amount is, as Decimal or float reads it ("-1234.50"); None for other text."""
    plain = _PLAIN_AMOUNT.fullmatch(text if text.isascii() else translate_thai_digits(text))
    if plain is None:
        return None
    negated, number = plain[1], plain[2]
    if number is None:  # in parentheses: negated, as parse_number() negates its Decimal (-0 is 0 there)
        number = negated.lstrip("+-") if negated[0] == "-" or not negated.strip("+-0.,") else "-" + negated.lstrip("+")
    number = number.replace(",", "")
    return number if len(number) <= _PLAIN_DIGITS else None


def hundredths(values: list[Any]) -> tuple[Ints, Bools, Bools]:
    """:func:`.columnar.to_hundredths` of cells, and of a plainly typed amount ("1,234.50 บาท") the whole
    hundredths it is: the Decimal parse_number() reads is then exactly that many hundredths."""
    numbers, exact, blank = to_hundredths(values)
    texts = [(i, _text_hundredths(v)) for i, v in enumerate(values) if type(v) is str]
    read = [(i, k) for i, k in texts if k is not None]
    if read:
        rows, found = zip(*read, strict=True)
        numbers[list(rows)] = found
        exact[list(rows)] = True
    return numbers, exact, blank


def _text_hundredths(text: str) -> int | None:
    """The whole hundredths a plainly typed amount is, None for other text (more decimals, beyond MAX_STATED)."""
    plain = plain_amount(text)
    if plain is None:
        return None
    whole, _, decimals = plain.partition(".")
    if decimals[2:].strip("0") or len(whole.lstrip("+-")) > _WHOLE_DIGITS:
        return None
    return int(whole + decimals[:2].ljust(2, "0"))


def doubles(values: list[Any], numbers: Ints, exact: Bools) -> Floats:
    """Each number cell as a double (whole hundredths, also typed as text, as ``numbers`` / 100); NaN elsewhere
    (blank, other text, inf and NaN)."""
    stored = np.fromiter((v if type(v) is float else float(v) if type(v) is int and abs(v) < 2**53 else math.nan
                          for v in values), np.float64, len(values))
    return np.where(exact, numbers / SCALE, np.where(np.isfinite(stored), stored, math.nan))


def percent_of_doubles(part: Floats, whole: Floats) -> tuple[Ints, Bools]:
    """``ROUND(part / whole * 100, 2)`` in hundredths, half away from zero, from the doubles of two decimals; and
    where that is surely what rounding the decimals gives (farther from a tie than a few ulps of error, both
    numbers, ``whole`` not 0)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf and NaN are never sure
        rounded, sure = round_half_away(part / np.where(whole == 0, 1.0, whole) * (100 * SCALE), REPR_MARGIN)
    sure &= whole != 0
    return np.where(sure, rounded, 0).astype(np.int64), sure
