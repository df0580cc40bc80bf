"""Decimal money, Excel rounding and number parsing, checked by properties."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from osmep_xl.money import (
    DECIMAL,
    EXCEL,
    excel_round,
    excel_round_double,
    parse_number,
    percent,
    to_money,
    translate_thai_digits,
)

cents = st.integers(min_value=-(10**14), max_value=10**14).map(lambda n: Decimal(n) / 100)
decimals = st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=6)
THAI = "๐๑๒๓๔๕๖๗๘๙"


@pytest.mark.parametrize(("value", "expected", "bankers"), [
    ("0.125", "0.13", "0.12"), ("2.675", "2.68", "2.68"), ("-0.125", "-0.13", "-0.12"),
    ("1.005", "1.01", "1.00"), ("0.005", "0.01", "0.00"), ("-2.5", "-3", "-2"),
])
def test_half_away_from_zero_where_bankers_differs(value: str, expected: str, bankers: str) -> None:
    digits = 0 if "." not in expected else 2
    assert excel_round(Decimal(value), digits) == Decimal(expected)
    # the case is only interesting where banker's rounding would say something else
    q = Decimal(1).scaleb(-digits)
    if expected != bankers:
        assert Decimal(value).quantize(q, rounding=ROUND_HALF_EVEN) == Decimal(bankers)


@given(decimals)
def test_round_is_symmetric_and_close(x: Decimal) -> None:
    r = excel_round(x, 2)
    assert excel_round(-x, 2) == -r
    assert abs(r - x) <= Decimal("0.005")
    assert r == r.quantize(Decimal("0.01"))


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_exact_ties_go_away_from_zero(n: int) -> None:
    tie = Decimal(n) / 100 + (Decimal("0.005") if n >= 0 else Decimal("-0.005"))
    r = excel_round(tie, 2)
    assert abs(r) > abs(tie)


@given(cents, cents.filter(lambda w: w != 0))
def test_percent_matches_definition(part: Decimal, whole: Decimal) -> None:
    p = percent(part, whole)
    assert p is not None
    assert abs(p - part * 100 / whole) <= Decimal("0.005")
    assert percent(part, Decimal(0)) is None


def test_excel_arithmetic_differs_from_exact_only_at_binary_ties() -> None:
    # 200 - 197.61 is 2.38999999999998636 in binary: Excel shows ROUND(.../200*100, 2) = 1.19
    remaining = EXCEL.sub(Decimal(200), Decimal("197.61"))
    assert EXCEL.percent(remaining, Decimal(200)) == Decimal("1.19")
    assert DECIMAL.percent(DECIMAL.sub(Decimal(200), Decimal("197.61")), Decimal(200)) == Decimal("1.20")
    # but the double nearest 2.675 is shown as 2.675 at 15 digits, so Excel rounds it up
    assert excel_round_double(2.675) == Decimal("2.68")


@given(cents)
def test_parse_formatted_numbers(x: Decimal) -> None:
    text = f"{x:,.2f}"
    assert parse_number(text) == x
    assert parse_number(translate_thai_digits(text)) == x
    assert parse_number(text.translate(str.maketrans("0123456789", THAI)) + " บาท") == x
    if x > 0:
        assert parse_number(f"({text})") == -x


@pytest.mark.parametrize("text", ["", "-", "abc", "1,23", "1.2.3", "12a", "บาท", "1 2"])
def test_parse_rejects_non_numbers(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(("text", "value"), [
    ("1.5 ล้านบาท", Decimal(1_500_000)), ("๒ ล้าน", Decimal(2_000_000)), ("3,800 million", Decimal(3_800_000_000)),
])
def test_millions_are_scaled(text: str, value: Decimal) -> None:
    assert parse_number(text) == value


def test_to_money_is_exact() -> None:
    assert to_money(0.1) == Decimal("0.1")
    assert to_money("๑,๒๓๔.๕๐") == Decimal("1234.50")
    with pytest.raises(TypeError):
        to_money(True)
    with pytest.raises(ValueError):
        to_money("x")
