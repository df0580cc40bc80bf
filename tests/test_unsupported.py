"""rollup.unsupported: a typed total whose lines are all blank in its column is the input there (no roll-up
error), and an information names the blank lines, where a figure may have been left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from osmep_xl.findings import Severity
from tests.cells import Table
from tests.rule_cases import build, check, disb, of_rule, set_cells, sheet

DISB = sheet("disbursement", "lines")


def _rows(total: Any, p1: Any, p2: Any) -> list[dict[str, Any]]:
    return [disb("total", "T", allocated=total), disb("project", "P1", "T", p1, "600", "250"),
            disb("project", "P2", "T", p2, "300", "130")]


LINES = Table("disbursement", "lines", _rows("1500", None, None))


def test_total_over_blank_lines_names_them(tmp_path: Path) -> None:
    """The information lists the blank lines, where a figure may be missing (the rule's break-one-thing case
    and its clean twin are in tests/test_rules.py)."""
    found = check(build(tmp_path / "t.xlsx", "disbursement", {"lines": _rows("1500", None, None)}))
    (info,) = of_rule(found, "rollup.unsupported")
    assert (info.severity, info.cell) == (Severity.INFO, LINES.at("allocated", "T"))
    assert info.candidates == tuple(f"{DISB}!{LINES.at('allocated', code)}" for code in ("P1", "P2"))
    assert not of_rule(found, "rollup.sum")  # the total is the input there: not an error


def test_one_line_with_a_figure_supports_the_total(tmp_path: Path) -> None:
    path = build(tmp_path / "t.xlsx", "disbursement", {"lines": _rows("1500", "1500", None)})
    assert not of_rule(check(path), "rollup.unsupported")


def test_zero_over_blank_lines_is_not_flagged(tmp_path: Path) -> None:
    """A typed 0 there is what the template's SUM over the blank lines shows: nothing to say."""
    path = build(tmp_path / "t.xlsx", "disbursement", {"lines": _rows("1500", None, None)})
    path = set_cells(path, DISB, {LINES.at("allocated", "T"): 0}, out=tmp_path / "zero.xlsx")
    assert not of_rule(check(path), "rollup.unsupported")
