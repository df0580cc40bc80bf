"""Which fiscal quarter a report's as-of date has reached."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..fiscal import BE_YEARS, fiscal_quarter, fiscal_year_bounds


def quarter_reached(as_of: dt.date, fiscal_year: int) -> int | None:
    """Fiscal quarter of ``fiscal_year`` reached at ``as_of``: 4 after the year ended, None before it began."""
    start, end = fiscal_year_bounds(fiscal_year)
    if as_of < start:
        return None
    return 4 if as_of > end else fiscal_quarter(as_of)


def as_of_year(meta: Mapping[str, Any]) -> tuple[dt.date, int] | None:
    """A workbook's as-of date and fiscal year, None when either is unusable (meta.invalid / meta.required say why)."""
    as_of, fy = meta.get("as_of"), meta.get("fiscal_year")
    if not isinstance(as_of, dt.date) or not isinstance(fy, int) or fy not in BE_YEARS:
        return None
    return as_of, fy


def workbook_quarter(meta: Mapping[str, Any]) -> int | None:
    """The fiscal quarter a workbook's as-of date has reached in its fiscal year, None when unknown."""
    when = as_of_year(meta)
    return quarter_reached(*when) if when is not None else None
