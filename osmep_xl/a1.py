"""A1 cell addresses."""

from __future__ import annotations

import re
from functools import cache

_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


@cache
def column_letter(index: int) -> str:
    """0-based column index to letters: 0 -> A, 26 -> AA."""
    if index < 0:
        raise ValueError("column index must be >= 0")
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@cache
def column_index(letters: str) -> int:
    """Letters to 0-based column index."""
    value = 0
    for ch in letters.upper():
        value = value * 26 + ord(ch) - 64
    return value - 1


def a1(row: int, col: int) -> str:
    """0-based row and column to an A1 address."""
    return f"{column_letter(col)}{row + 1}"


def parse_a1(address: str) -> tuple[int, int]:
    """A1 address to 0-based (row, col)."""
    match = _A1.match(address.upper())
    if not match:
        raise ValueError(f"not an A1 address: {address!r}")
    return int(match[2]) - 1, column_index(match[1])


def cell_sort_key(address: str) -> tuple[int, int]:
    """Sort key for addresses; non-addresses sort first."""
    try:
        return parse_a1(address)
    except ValueError:
        return (-1, -1)
