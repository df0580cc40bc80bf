"""Thai fiscal calendar: properties over every date, and the report's own spellings."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from osmep_xl.fiscal import (
    THAI_MONTHS_ABBR,
    be_to_ce,
    ce_to_be,
    fiscal_quarter,
    fiscal_year,
    fiscal_year_bounds,
    format_thai_date,
    parse_thai_date,
    quarter_end,
)

dates = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31))


@given(dates)
def test_fiscal_year_contains_the_date(day: dt.date) -> None:
    start, end = fiscal_year_bounds(fiscal_year(day))
    assert start <= day <= end
    assert (end - start).days in (364, 365)
    assert start.month == 10 and start.day == 1 and end.month == 9 and end.day == 30


@given(dates)
def test_quarter_bounds(day: dt.date) -> None:
    fy, q = fiscal_year(day), fiscal_quarter(day)
    assert 1 <= q <= 4
    end = quarter_end(fy, q)
    assert day <= end
    assert fiscal_year(end) == fy and fiscal_quarter(end) == q
    assert fiscal_quarter(end + dt.timedelta(days=1)) == q % 4 + 1


@given(st.integers(min_value=1, max_value=9999))
def test_be_ce_round_trip(year: int) -> None:
    assert be_to_ce(ce_to_be(year)) == year
    assert ce_to_be(year) - year == 543


@given(st.dates(min_value=dt.date(1957, 1, 1), max_value=dt.date(2056, 12, 31)))
def test_format_parse_round_trip(day: dt.date) -> None:
    assert parse_thai_date(format_thai_date(day)) == day
    assert parse_thai_date(format_thai_date(day, full=True)) == day
    assert parse_thai_date(format_thai_date(day, short_year=False)) == day


@pytest.mark.parametrize(("text", "expected"), [
    ("30 มิ.ย.64", dt.date(2021, 6, 30)),
    ("28 ธ.ค.63", dt.date(2020, 12, 28)),
    ("มี.ย.64", dt.date(2021, 6, 30)),  # the report's slip for มิ.ย.
    ("๓๐ มิ.ย.๖๔", dt.date(2021, 6, 30)),
    ("มิ.ย. 2564", dt.date(2021, 6, 30)),
    ("20 ก.พ.63", dt.date(2020, 2, 20)),
    ("1 ตุลาคม 2563", dt.date(2020, 10, 1)),
    ("30 มิ.ย. 2021", dt.date(2021, 6, 30)),  # a Common Era year, not BE 2021 (= 1478)
    ("30 มิถุนายน พ.ศ. 2564", dt.date(2021, 6, 30)),
    ("30 มิ.ย. ค.ศ. 2021", dt.date(2021, 6, 30)),
    ("ณ วันที่ 30 มิ.ย.64", dt.date(2021, 6, 30)),
    ("ข้อมูล ณ เดือน มิ.ย. 2564", dt.date(2021, 6, 30)),
])
def test_report_dates(text: str, expected: dt.date) -> None:
    assert parse_thai_date(text) == expected


def test_fy2564_is_oct2020_to_sep2021() -> None:
    assert fiscal_year_bounds(2564) == (dt.date(2020, 10, 1), dt.date(2021, 9, 30))
    assert [fiscal_quarter(dt.date(2021, m, 1)) for m in (10, 1, 4, 7)] == [1, 2, 3, 4]
    assert len(THAI_MONTHS_ABBR) == 12


@pytest.mark.parametrize("text", ["", "30", "30 foo 64", "31 ก.พ.64", "30 มิ.ย. 1478", "30 มิ.ย. 3100"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(ValueError):
        parse_thai_date(text)
