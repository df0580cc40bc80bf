"""Which fiscal quarter a report's as-of date has reached."""

from __future__ import annotations

import datetime as dt

from ..fiscal import fiscal_quarter, fiscal_year_bounds


def quarter_reached(as_of: dt.date, fiscal_year: int) -> int | None:
    """Fiscal quarter of ``fiscal_year`` reached at ``as_of``: 4 after the year ended, None before it began."""
    start, end = fiscal_year_bounds(fiscal_year)
    if as_of < start:
        return None
    return 4 if as_of > end else fiscal_quarter(as_of)
