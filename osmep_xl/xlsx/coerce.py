"""Turn a raw cell value into the typed value its column wants, noting what was wrong.

The reader keeps going with the best value it can find (so roll-ups still work)
and the validator reports each problem at its cell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ..fiscal import BE_YEARS
from ..money import is_plain_number_text, parse_number, to_money, translate_thai_digits
from ..spec.base import ColType, Column

EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!")


class CellProblem(StrEnum):
    """What can be wrong with one cell; each value is the id of the catalogued rule that reports it."""

    ERROR_VALUE = "cell.error_value"
    NOT_A_NUMBER = "cell.not_a_number"
    NEGATIVE = "cell.negative"
    NUMBER_AS_TEXT = "cell.number_as_text"
    THAI_DIGITS = "cell.thai_digits"
    FORMATTED_NUMBER_TEXT = "cell.formatted_number_text"
    INVALID_YEAR = "cell.invalid_year"


@dataclass(frozen=True)
class Coerced:
    """A typed value and, if the cell was not clean, what was wrong with it."""

    value: Any
    problem: CellProblem | None = None


BLANK = Coerced(None)


def coerce(column: Column, raw: Any, *, error: bool = False) -> Coerced:
    """Typed value of ``raw`` for ``column``; ``problem`` names the cell rule broken, if any.

    ``error``: the sheet marks the cell as an Excel error value (``t="e"``); text that merely reads
    "#N/A" is text.
    """
    if error:
        return Coerced(None, CellProblem.ERROR_VALUE)
    if raw is None or raw == "":
        return BLANK
    if column.type.numeric:
        return _number(column, raw)
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # a code typed as 1 is stored as 1.0
    if isinstance(raw, (dt.date, dt.datetime)):
        return Coerced(raw.isoformat())
    text = str(raw).strip()
    return Coerced(text or None)


def _number(column: Column, raw: Any) -> Coerced:
    if isinstance(raw, bool):
        return Coerced(None, CellProblem.NOT_A_NUMBER)
    if isinstance(raw, (dt.date, dt.datetime, dt.time)):
        return Coerced(None, CellProblem.NOT_A_NUMBER)
    if isinstance(raw, (int, float, Decimal)):
        value = _clean(column, to_money(raw))
        if column.type is ColType.YEAR:
            return _year(value, None)
        if value < 0 and column.type in (ColType.MONEY, ColType.COUNT):
            return Coerced(value, CellProblem.NEGATIVE)
        return Coerced(value)
    text = str(raw)
    parsed = parse_number(text)
    if parsed is None:
        return Coerced(None, CellProblem.NOT_A_NUMBER)
    if column.type is ColType.YEAR:
        return _year(parsed, CellProblem.NUMBER_AS_TEXT)
    if translate_thai_digits(text) != text:
        problem = CellProblem.THAI_DIGITS
    elif is_plain_number_text(text):
        problem = CellProblem.NUMBER_AS_TEXT
    else:
        problem = CellProblem.FORMATTED_NUMBER_TEXT
    return Coerced(_clean(column, parsed), problem)


def _year(value: Decimal, problem: CellProblem | None) -> Coerced:
    if value != value.to_integral_value() or int(value) not in BE_YEARS:
        return Coerced(None, CellProblem.INVALID_YEAR)
    return Coerced(int(value), problem)


_NOISE_DIGITS = 6  # more fractional digits than this in a stored double is float noise


def _clean(column: Column, value: Decimal) -> Decimal:
    """Drop binary float noise (1073229047.4399999) without hiding digits a person typed."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        return value
    if exponent < 0 and value == value.to_integral_value():
        return value.quantize(Decimal(1))  # 338500.0 read from a double is the whole number 338500
    if exponent >= -_NOISE_DIGITS:
        return value
    if column.type is ColType.MONEY:
        return value.quantize(Decimal("0.01"))
    return value.quantize(Decimal(1).scaleb(-_NOISE_DIGITS)).normalize()
