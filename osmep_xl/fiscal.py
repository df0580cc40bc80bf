"""Thai fiscal calendar: Buddhist Era years, fiscal years and quarters, Thai dates.

The Thai government fiscal year runs 1 October - 30 September and is named by
the BE year in which it ends: FY2564 = 1 Oct 2020 - 30 Sep 2021.
"""

from __future__ import annotations

import datetime as dt
import re

from .money import translate_thai_digits

BE_OFFSET = 543
BE_YEARS = range(2400, 2800)  # a fiscal year outside this is not a Buddhist Era year (2021 is CE)

THAI_MONTHS_ABBR = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)
THAI_MONTHS_FULL = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)
# Slips seen in real reports, mapped to the month they clearly mean.
_MONTH_SLIPS = {"มี.ย.": 6, "มิย": 6, "มีย": 6}


def _month_key(token: str) -> str:
    return token.replace(" ", "").rstrip(".")


_MONTHS: dict[str, int] = {}
for _i, (_abbr, _full) in enumerate(zip(THAI_MONTHS_ABBR, THAI_MONTHS_FULL, strict=True), start=1):
    _MONTHS[_month_key(_abbr)] = _i
    _MONTHS[_abbr.replace(".", "")] = _i
    _MONTHS[_full] = _i
for _slip, _m in _MONTH_SLIPS.items():
    _MONTHS[_month_key(_slip)] = _m

_DATE = re.compile(
    r"^\s*(?:(?P<day>\d{1,2})\s*)?(?P<month>[\u0e00-\u0e7f.]+?)\s*"
    r"(?:(?P<era>พ\.?\s*ศ\.?|ค\.?\s*ศ\.?)\s*)?(?P<year>\d{2}|\d{4})\s*$"
)
# Words a report puts before a date: "ณ วันที่ 30 มิ.ย.64", "ข้อมูล ณ เดือน มิ.ย. 2564".
_DATE_PREFIX = re.compile(r"^\s*(?:ข้อมูล\s*)?(?:ณ\s*)?(?:วันที่|วัน|เดือน)?\s*")


def be_to_ce(year_be: int) -> int:
    """Buddhist Era year to Common Era year."""
    return year_be - BE_OFFSET


def ce_to_be(year_ce: int) -> int:
    """Common Era year to Buddhist Era year."""
    return year_ce + BE_OFFSET


def expand_be_year(year: int) -> int:
    """Two-digit BE years ("64") to four digits (2564); four digits pass through."""
    if year >= 1000:
        return year
    if not 0 <= year <= 99:
        raise ValueError(f"not a year: {year}")
    return 2500 + year


def fiscal_year(day: dt.date) -> int:
    """BE fiscal year that contains ``day``."""
    return ce_to_be(day.year + (1 if day.month >= 10 else 0))


def fiscal_month(day: dt.date) -> int:
    """Month of the fiscal year, 1 (October) to 12 (September)."""
    return (day.month - 10) % 12 + 1


def fiscal_quarter(day: dt.date) -> int:
    """Fiscal quarter 1-4: Q1 = ต.ค.-ธ.ค., Q2 = ม.ค.-มี.ค., Q3 = เม.ย.-มิ.ย., Q4 = ก.ค.-ก.ย."""
    return (day.month - 10) % 12 // 3 + 1


def fiscal_year_bounds(year_be: int) -> tuple[dt.date, dt.date]:
    """First and last day of a BE fiscal year."""
    end_ce = be_to_ce(year_be)
    return dt.date(end_ce - 1, 10, 1), dt.date(end_ce, 9, 30)


def quarter_end(year_be: int, quarter: int) -> dt.date:
    """Last day of fiscal quarter ``quarter`` of BE fiscal year ``year_be``."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1-4, not {quarter}")
    start, _ = fiscal_year_bounds(year_be)
    last = start.month - 1 + 3 * quarter - 1  # zero-based count of the quarter's last month from January
    return month_end(start.year + last // 12, last % 12 + 1)


def month_end(year_ce: int, month: int) -> dt.date:
    """Last day of a calendar month (CE year)."""
    return dt.date(year_ce + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def fiscal_month_start(year_be: int, n: int) -> dt.date:
    """The first day of month ``n`` (1 = ต.ค.) of a BE fiscal year."""
    month = (n + 8) % 12 + 1
    return dt.date(be_to_ce(year_be) - (1 if month >= 10 else 0), month, 1)


def parse_thai_month(token: str) -> int:
    """Month number of a Thai month name or abbreviation, tolerant of dots and slips."""
    key = _month_key(token.strip())
    if key in _MONTHS:
        return _MONTHS[key]
    compact = key.replace(".", "")
    if compact in _MONTHS:
        return _MONTHS[compact]
    raise ValueError(f"unknown Thai month: {token!r}")


def parse_thai_date(text: str) -> dt.date:
    """Parse "30 มิ.ย.64", "30 มิถุนายน 2564", "30 มิถุนายน พ.ศ. 2564", "ณ วันที่ 30 มิ.ย.64",
    "มิ.ย. 2564" (last day of month), and a Common Era year where one is written ("30 มิ.ย. 2021").

    Thai digits are accepted. A date without a day means the end of that month,
    as in "ข้อมูล ณ เดือน มิ.ย. 2564".
    """
    clean = _DATE_PREFIX.sub("", translate_thai_digits(text), count=1)
    match = _DATE.match(clean)
    if not match:
        raise ValueError(f"not a Thai date: {text!r}")
    month = parse_thai_month(match["month"])
    year = int(match["year"])
    era = (match["era"] or "").replace(" ", "").replace(".", "")
    if era == "คศ" or (era != "พศ" and len(match["year"]) == 4 and year < BE_YEARS.start):
        year_ce = year  # "30 มิ.ย. 2021", "ค.ศ. 2021": a Common Era year
        if year_ce + BE_OFFSET not in BE_YEARS:
            raise ValueError(f"year out of range in {text!r}")
    else:
        year_be = expand_be_year(year)
        if year_be not in BE_YEARS:
            raise ValueError(f"not a Buddhist Era year in {text!r}")
        year_ce = be_to_ce(year_be)
    if match["day"] is None:
        return month_end(year_ce, month)
    return dt.date(year_ce, month, int(match["day"]))


def format_thai_date(day: dt.date, *, full: bool = False, short_year: bool = True) -> str:
    """Format as "30 มิ.ย.64" (default) or "30 มิถุนายน 2564"."""
    year_be = ce_to_be(day.year)
    if full:
        return f"{day.day} {THAI_MONTHS_FULL[day.month - 1]} {year_be}"
    year = f"{year_be % 100:02d}" if short_year else f" {year_be}"
    return f"{day.day} {THAI_MONTHS_ABBR[day.month - 1]}{year}"
