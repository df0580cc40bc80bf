"""rollup.unsupported: a typed total whose lines are all blank in its column is the input there (no roll-up
error), and an information names the blank lines, where a figure may have been left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.generate import BUILDERS, generate
from osmep_xl.findings import Severity
from osmep_xl.rules import unsupported
from osmep_xl.rules.config import load_settings
from osmep_xl.rules.context import Context
from osmep_xl.xlsx.read import read_workbooks
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


def _both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[Any], int]:
    """The rule's findings with the parents picked from the block's columns and with every parent looked at
    one by one, and how many typed parents the columns picked."""
    books = read_workbooks(path)
    picked = 0
    for wb in books:
        ctx = Context(wb, load_settings())
        for rb in wb.blocks.values():
            columns = [c for c in rb.block.columns if c.rollup and c.id in rb.columns]
            picked += len(unsupported._typed_parents(ctx, rb, columns) or ())
    fast = [[f.model_dump() for f in unsupported.unsupported_totals(Context(wb, load_settings()))] for wb in books]
    with monkeypatch.context() as m:
        m.setattr(unsupported, "_typed_parents", lambda *args: None)
        slow = [[f.model_dump() for f in unsupported.unsupported_totals(Context(wb, load_settings()))]
                for wb in books]
    return fast, slow, picked


def test_parents_picked_from_the_columns_are_those_looked_at_one_by_one(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Typed totals over blank lines (in one column, in two, in a column other than the first), over lines
    with figures, a typed 0, and generated workbooks of every template, mistakes included."""
    blank = build(tmp_path / "blank.xlsx", "disbursement", {"lines": _rows("1500", None, None)})
    two = [disb("total", "T", None, "1500", "900"), disb("project", "P1", "T"), disb("project", "P2", "T")]
    second = [disb("total", "T", None, None, "900"), disb("project", "P1", "T"), disb("project", "P2", "T")]
    crafted = [blank, build(tmp_path / "figures.xlsx", "disbursement", {"lines": _rows("1500", "1500", None)}),
               build(tmp_path / "two.xlsx", "disbursement", {"lines": two}),
               build(tmp_path / "second.xlsx", "disbursement", {"lines": second}),
               set_cells(blank, DISB, {LINES.at("allocated", "T"): 0, LINES.at("disbursed", "T"): 7},
                         out=tmp_path / "zero.xlsx")]
    generated = generate(tmp_path / "gen", 2 * len(BUILDERS), seed=13, error_rate=1.0)
    found = picked = 0
    for path in [*crafted, *generated]:
        fast, slow, n = _both_ways(path, monkeypatch)
        assert fast == slow, path.name
        found += sum(map(len, fast))
        picked += n
    assert found >= 4 and picked > found  # findings, and typed parents that have none
