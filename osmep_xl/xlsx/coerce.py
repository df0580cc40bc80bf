"""Turn a raw cell value into the typed value its column wants, noting what was wrong.

The reader keeps going with the best value it can find (so roll-ups still work)
and the validator reports each problem at its cell.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache, partial
from typing import Any

import numpy as np

from ..fiscal import BE_YEARS
from ..model.columnar import float_cells
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
ERROR = Coerced(None, CellProblem.ERROR_VALUE)


def coerce(column: Column, raw: Any, *, error: bool = False) -> Coerced:
    """Typed value of ``raw`` for ``column``; ``problem`` names the cell rule broken, if any.

    ``error``: the sheet marks the cell as an Excel error value (``t="e"``); text that merely reads
    "#N/A" is text.
    """
    if error:
        return ERROR
    return coercer(column)(raw)


Coercer = Callable[[Any], Coerced]
MAX_EXACT = 9e12  # below this a double nearest to k/100 prints with at most two decimals
MAX_WHOLE = 1e15  # below this a whole double prints without an exponent


@cache
def coercer(column: Column) -> Coercer:
    """The function typing one raw value of ``column``."""
    return partial(_number, column) if column.type.numeric else _text


def coerce_column(column: Column, raws: Sequence[Any]) -> tuple[list[Any], dict[int, CellProblem]]:
    """The typed values of a column's cells, and the problem of each cell that has one (by position): exactly
    those :func:`coerce` gives, cell by cell."""
    if not column.type.numeric:
        return [(v.strip() or None) if type(v) is str else _text(v).value for v in raws], {}
    numbers = NumberCells(column, raws)
    return numbers.values(), numbers.problems


class NumberCells:
    """A numeric column typed at once, each Decimal made only when asked.

    The doubles python-calamine gives are classified together (whole numbers, exact hundredths, zeros, float
    noise past the sixth decimal, Buddhist Era years): only the cells no class takes go through :func:`coerce`,
    up front, as their problems are wanted at once. A cell of a class costs nothing until it is asked for: one
    cell alone is what :func:`coerce` gives it, the whole column is made class by class (one Decimal and no
    call per cell) and kept. The values are exactly those :func:`coerce` gives, cell by cell.
    """

    def __init__(self, column: Column, raws: Sequence[Any], floats: np.ndarray | None = None) -> None:
        self.column = column
        self.raws = raws
        slow, self._fast = _classify(column, float_cells(raws) if floats is None else floats)
        # Each cell whose value is known without the classes: what coerce gave it, or what set() put there.
        self.decided: dict[int, Any] = {}
        self.problems: dict[int, CellProblem] = {}
        for i in slow.tolist():
            coerced = coercer(column)(raws[i])
            self.decided[i] = coerced.value
            if coerced.problem is not None:
                self.problems[i] = coerced.problem
        self._values: list[Any] | None = None
        self._known: np.ndarray | None = None

    def value(self, i: int) -> Any:
        """Cell ``i``'s typed value (a cell of a class alone: through :func:`coerce`, which gives the same)."""
        if self._values is not None:
            return self._values[i]
        if i in self.decided:
            return self.decided[i]
        return coercer(self.column)(self.raws[i]).value

    def values(self) -> list[Any]:
        """Every cell's typed value (made once, then kept)."""
        if self._values is None:
            values = list(self.raws)
            for at, numbers, make in self._fast:
                typed = numbers.tolist()
                for i, value in zip(at.tolist(), typed if make is None else map(make, typed), strict=True):
                    values[i] = value
            for i, value in self.decided.items():  # after the classes: set() may override a cell of theirs
                values[i] = value
            self._values, self._fast = values, []
        return self._values

    def known(self) -> np.ndarray:
        """Where the typed value is not None (every cell of a class is a number), without making one."""
        if self._known is None:
            known = np.ones(len(self.raws), np.bool_)
            known[[i for i, value in self.decided.items() if value is None]] = False
            known.flags.writeable = False  # shared with every caller: set() is the one way to change a cell
            self._known = known
        return self._known

    def set(self, i: int, value: Any) -> None:
        """Give cell ``i`` another typed value (an error cell, an entry blanked for the next quarter)."""
        self.decided[i] = value
        if self._values is not None:
            self._values[i] = value
        self._known = None  # made again when next asked: an array handed out before stays as it was


_ZERO, _MINUS_ZERO, _CENT = Decimal(0), Decimal("-0"), Decimal("0.01")
_NOISE_FROM = 1e8  # below this x * 1e6 is within 0.02 of its integer: the sixth-decimal test is exact


# A class of doubles: where its cells are, a number per cell, and what makes its typed value of the number
# (None: the number itself), so that no value is made before it is asked for.
Fast = tuple[np.ndarray, np.ndarray, Callable[[Any], Any] | None]


def _classify(column: Column, x: np.ndarray) -> tuple[np.ndarray, list[Fast]]:
    """The positions that need :func:`coerce` (NaN: not a double), and each other class of doubles with how
    :func:`_number` types them, worked out without it (the equalities are ``_clean``'s rules)."""
    fast: list[Fast] = []
    with np.errstate(invalid="ignore", over="ignore"):
        size = np.abs(x)
        integral = x == np.rint(x)
        if column.type is ColType.YEAR:  # a whole double that is a Buddhist Era year: its int
            year = integral & (x >= BE_YEARS.start) & (x < BE_YEARS.stop)
            at = np.flatnonzero(year)
            fast.append((at, x[at].astype(np.int64), None))
            return np.flatnonzero(~year), fast
        positive = x > 0 if column.type in (ColType.MONEY, ColType.COUNT) else ~np.isnan(x)  # else NEGATIVE
        whole = integral & (size < MAX_WHOLE) & (x != 0) & positive
        k = np.rint(x * 100)
        cents = (k / 100 == x) & (size < MAX_EXACT) & ~integral & positive
        zero = x == 0  # 0.0 may be -0.0: _clean keeps its sign (Decimal("-0"), not negative)
        # More than six decimals (no six-decimal number is this double, so its repr has more): _clean rounds
        # it to cents (money) or to six decimals; only where the rounding is far from a tie, not to zero.
        micro = np.rint(x * 1e6)
        large = np.zeros_like(integral)
        small = (size < _NOISE_FROM) & positive & ~integral & ~cents
        few = small & (micro / 1e6 == x)  # three to six decimals: a six-decimal number is this double
        noisy = small & ~few  # so its repr has more than six: _clean rounds it (far from a tie, not to 0)
        if column.type is ColType.MONEY:
            noisy &= (np.abs(x * 100 - k) <= 0.49) & (k != 0)
            at = np.flatnonzero(noisy)
            fast.append((at, k[at], _noisy_cents))
            large = (size >= _NOISE_FROM) & (size < MAX_EXACT) & positive & ~integral & ~cents  # a roll-up's sum
            at = np.flatnonzero(large)
            fast.append((at, x[at], _large_money))
        else:
            noisy &= (np.abs(x * 1e6 - micro) <= 0.49) & (micro != 0)
            at = np.flatnonzero(noisy)
            fast.append((at, micro[at], _noisy_micro))
    at = np.flatnonzero(whole)
    fast.append((at, x[at].astype(np.int64), Decimal))  # _clean: Decimal(repr) made whole
    at = np.flatnonzero(cents)
    fast.append((at, k[at].astype(np.int64), _cents))
    at = np.flatnonzero(few)
    fast.append((at, x[at], _as_typed))
    at = np.flatnonzero(zero)
    fast.append((at, x[at], _zero))
    return np.flatnonzero(~(whole | cents | few | zero | noisy | large)), fast


def _cents(c: int) -> Decimal:
    """Hundredths as the repr writes them (no other number of two decimals is this double): the digits of
    ``c``, one decimal fewer when the last is 0, without printing the double."""
    return Decimal(c).scaleb(-2) if c % 10 else Decimal(c // 10).scaleb(-1)


def _noisy_cents(c: float) -> Decimal:
    return Decimal(int(c)).scaleb(-2)


def _noisy_micro(m: float) -> Decimal:
    return Decimal(int(m)).scaleb(-6).normalize()


def _as_typed(value: float) -> Decimal:
    """At most six decimals: kept as typed."""
    return Decimal(repr(value))


def _zero(value: float) -> Decimal:
    return _MINUS_ZERO if math.copysign(1.0, value) < 0 else _ZERO


def _large_money(value: float) -> Decimal:
    """:func:`_clean` of a positive double of money from 1e8 on, which no six-decimal test in doubles decides."""
    exact = Decimal(repr(value))
    exponent = exact.as_tuple().exponent
    return exact.quantize(_CENT) if isinstance(exponent, int) and exponent < -_NOISE_DIGITS else exact


def _text(raw: Any) -> Coerced:
    if raw is None or raw == "":
        return BLANK
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # a code typed as 1 is stored as 1.0
    if isinstance(raw, (dt.date, dt.datetime)):
        return Coerced(raw.isoformat())
    text = str(raw).strip()
    return Coerced(text or None)


def _number(column: Column, raw: Any) -> Coerced:
    if raw is None or raw == "":
        return BLANK
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
