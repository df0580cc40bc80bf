"""Moving a formula's relative A1 references, as Excel does when it fills a shared formula."""

from __future__ import annotations

import re

from ..a1 import a1, column_index
from .ooxml import MAX_COLS, MAX_ROWS

_REF_CELL = re.compile(r"(\$?)([A-Za-z]{1,3})(\$?)([0-9]+)(?![A-Za-z0-9_(.!\[\\?])")
_REF_COLS = re.compile(r"(\$?)([A-Za-z]{1,3}):(\$?)([A-Za-z]{1,3})(?![A-Za-z0-9_(.!\[\\?])")
_REF_ROWS = re.compile(r"(\$?)([0-9]+):(\$?)([0-9]+)(?![A-Za-z0-9_(.!\[\\?])")
_NAME_RUN = re.compile(r"[\w.\\?]+")


def _col_text(col: int) -> str | None:
    return a1(0, col)[:-1] if 0 <= col < MAX_COLS else None


def shift_formula(formula: str, drow: int, dcol: int) -> str:
    """Move the relative A1 references of a formula by (drow, dcol), as Excel fills a shared formula.

    Absolute ($) parts stay; text in string literals, quoted sheet names and [structured] references is
    left alone; function names (LOG10() and defined names are not references.
    """
    out: list[str] = []
    i, n = 0, len(formula)
    while i < n:
        ch = formula[i]
        if ch in "\"'":
            end = i + 1
            while end < n:
                if formula[end] == ch:
                    if end + 1 < n and formula[end + 1] == ch:
                        end += 2
                        continue
                    break
                end += 1
            out.append(formula[i : end + 1])
            i = end + 1
            continue
        if ch == "[":
            depth, end = 0, i
            while end < n:
                depth += {"[": 1, "]": -1}.get(formula[end], 0)
                end += 1
                if depth == 0:
                    break
            out.append(formula[i:end])
            i = end
            continue
        if ch == "$" or ch.isalnum() or ch == "_":
            shifted = _shift_at(formula, i, drow, dcol)
            if shifted is not None:
                text, i = shifted
                out.append(text)
                continue
            run = _NAME_RUN.match(formula, i)
            end = run.end() if run else i + 1
            out.append(formula[i:end])
            i = end
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _shift_at(formula: str, i: int, drow: int, dcol: int) -> tuple[str, int] | None:
    match = _REF_COLS.match(formula, i)
    if match:
        cols = [column_index(match[2]), column_index(match[4])]
        if max(cols) < MAX_COLS:
            texts = [_col_text(c if dollar else c + dcol)
                     for c, dollar in zip(cols, (match[1], match[3]), strict=True)]
            if None in texts:
                return "#REF!", match.end()
            return f"{match[1]}{texts[0]}:{match[3]}{texts[1]}", match.end()
    match = _REF_ROWS.match(formula, i)
    if match:
        rows = [int(match[2]), int(match[4])]
        if min(rows) >= 1 and max(rows) <= MAX_ROWS:
            moved = [r if dollar else r + drow for r, dollar in zip(rows, (match[1], match[3]), strict=True)]
            if not all(1 <= r <= MAX_ROWS for r in moved):
                return "#REF!", match.end()
            return f"{match[1]}{moved[0]}:{match[3]}{moved[1]}", match.end()
    match = _REF_CELL.match(formula, i)
    if match:
        col, row = column_index(match[2]), int(match[4])
        if col < MAX_COLS and 1 <= row <= MAX_ROWS:
            new_col = col if match[1] else col + dcol
            new_row = row if match[3] else row + drow
            letters = _col_text(new_col)
            if letters is None or not 1 <= new_row <= MAX_ROWS:
                return "#REF!", match.end()
            return f"{match[1]}{letters}{match[3]}{new_row}", match.end()
    return None

