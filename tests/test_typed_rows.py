"""A read block's rows held by column (:class:`TypedRows`) behave as the list of dicts they replace, and the
rules that read them by column find what reading every row's dict found."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from bench.generate import BUILDERS, generate
from osmep_xl.a1 import parse_a1
from osmep_xl.check import open_all
from osmep_xl.findings import Finding
from osmep_xl.model.columnar import evaluate_columns
from osmep_xl.model.evaluate import Row, resolve_structure
from osmep_xl.rules import cells, references
from osmep_xl.rules.config import load_settings
from osmep_xl.rules.context import Context
from osmep_xl.rules.validate import validate_set
from osmep_xl.rules.variance_screen import lines_to_judge
from osmep_xl.spec import get_spec
from osmep_xl.spec.base import ColType, Column
from osmep_xl.xlsx.coerce import NumberCells, coerce_column
from osmep_xl.xlsx.read import ReadBlock, read_workbooks
from osmep_xl.xlsx.typed import TypedRows
from tests.cells import Table
from tests.fuzzing import mutate_workbook, raw_cells
from tests.rule_cases import build, disb, disbursement_rows, set_cached_value, set_cell_xml, set_cells, sheet

BLOCK = get_spec("disbursement").block("lines")


def _typed(raws: dict[str, list[Any]]) -> tuple[TypedRows, list[Row]]:
    """Typed rows over columns typed lazily, and the list of dicts the reader made before, of the same cells."""
    n = len(next(iter(raws.values())))
    lazy: dict[str, NumberCells | list[Any]] = {}
    eager: dict[str, list[Any]] = {}
    for cid, cells_ in raws.items():
        column = BLOCK.column(cid)
        eager[cid] = coerce_column(column, cells_)[0]
        lazy[cid] = NumberCells(column, cells_) if column.type.numeric else list(eager[cid])
    typed = [eager.get(cid, [None] * n) for cid in BLOCK.column_ids]
    return TypedRows(BLOCK.column_ids, lazy, n), [dict(zip(BLOCK.column_ids, v, strict=True))
                                                 for v in zip(*typed, strict=True)]


def _exactly(rows: Sequence[Row]) -> list[dict[str, tuple[str, str]]]:
    return [{k: (type(v).__name__, str(v)) for k, v in row.items()} for row in rows]


# Some of the block's columns (the others not found in the sheet: None in every row), numeric and text.
FOUND = ["level", "code", "allocated", "disbursed", "fiscal_year", "name"]
cell_lists = st.integers(min_value=0, max_value=8).flatmap(
    lambda n: st.fixed_dictionaries({cid: st.lists(raw_cells, min_size=n, max_size=n) for cid in FOUND}))


@settings(max_examples=150, deadline=None)
@given(raws=cell_lists, seed=st.integers(0, 2**16))
def test_rows_made_one_by_one_are_the_rows_made_at_once(raws: dict[str, list[Any]], seed: int) -> None:
    """Rows asked for in any order, a column's values, where it holds one, a slice, all rows: as the list."""
    rows, want = _typed(raws)
    order = list(range(len(want)))
    random.Random(seed).shuffle(order)
    half = order[: len(order) // 2]
    assert _exactly([rows[i] for i in half]) == _exactly([want[i] for i in half])
    for cid in BLOCK.column_ids:
        assert [(type(v), str(v)) for v in rows.column(cid)] == [(type(r[cid]), str(r[cid])) for r in want]
        assert rows.known(cid).tolist() == [r[cid] is not None for r in want]
        assert [rows.value(i, cid) is r[cid] or rows.value(i, cid) == r[cid] for i, r in enumerate(want)] == \
            [True] * len(want)
    assert _exactly(rows[1::2]) == _exactly(want[1::2])
    assert len(rows) == len(want) and _exactly(list(rows)) == _exactly(want) and rows == want
    assert rows.value(0, "no such column") is None if want else True


@settings(max_examples=100, deadline=None)
@given(raws=cell_lists, seed=st.integers(0, 2**16))
def test_a_cell_set_is_seen_by_its_row_and_its_column(raws: dict[str, list[Any]], seed: int) -> None:
    """A cell blanked before its row, its column or its mask is made, or after: each sees it, as the list
    of dicts, with the dict changed in place, would."""
    rng = random.Random(seed)
    rows, want = _typed(raws)
    if not want:
        return
    for cid in rng.sample(FOUND, 2):  # made before the blanks
        rows.column(cid) if rng.random() < 0.5 else rows.known(cid)
    k = rng.randrange(len(want))
    made = rows[k]
    for _ in range(rng.randint(1, 2 * len(want))):
        i, cid = rng.randrange(len(want)), rng.choice(FOUND)
        rows.set(i, cid, None)
        want[i][cid] = None
    assert rows[k] is made and made == want[k]  # the row made before, changed in place
    for cid in BLOCK.column_ids:
        assert rows.known(cid).tolist() == [r[cid] is not None for r in want]
        assert [rows.value(i, cid) for i in range(len(want))] == [r[cid] for r in want]
        assert rows.column(cid) == [r[cid] for r in want]
    assert _exactly(list(rows)) == _exactly(want)


def test_listed_rows_are_kept_as_they_are() -> None:
    """A completer's rows: the very dicts, and their columns read from them."""
    want = [{"level": "project", "code": "P1", "allocated": None}, {"level": "total", "code": "T", "extra": 1}]
    rows = TypedRows.listed(BLOCK.column_ids, want)
    assert all(rows[i] is want[i] for i in range(2)) and list(rows) == want
    assert rows.column("code") == ["P1", "T"] and rows.known("allocated").tolist() == [False, False]


# --------------------------------------------------------------------------- the rules that read by column


def _old_cells_to_check(rb: ReadBlock, rows: list[Row]) -> list[tuple[int, Column]]:
    """The cells rules.cells looked at, read from every row's dict as before."""
    present = [col for col in rb.block.columns if col.id in rb.columns]
    order = {col.id: n for n, col in enumerate(present)}
    found = {(i, order[cid]) for i, cid in rb.problems if cid in order}
    for n, col in enumerate(present):
        if not (col.required or col.choices):
            continue
        values = [row.get(col.id) for row in rows]
        flagged = {v for v in set(values) if (v is None and col.required)
                   or (v is not None and col.choices and str(v) not in col.choices)}
        found.update((i, n) for i, v in enumerate(values) if v in flagged)
    return [(i, present[n]) for i, n in sorted(found)]


def _old_reference_cells(ctx: Context, rb: ReadBlock, rows: list[Row]) -> list[str]:
    """The cells of references' parent and unknown-code findings, read from every row's dict as before."""
    out = [rb.address(i, "code") for i in ctx.calcs[rb.block.id].structure.duplicates if "code" in rb.columns]
    block = rb.block
    if block.hierarchical and "parent" in rb.columns:
        top = block.levels[0].id
        for i, row in enumerate(rows):
            if row.get("level") == top or row.get("level") not in {lv.id for lv in block.levels}:
                continue
            if i not in ctx.calcs[block.id].structure.parent:
                out.append(rb.address(i, "parent"))
    for col in block.columns:
        if col.ref is None or col.ref[0] not in ctx.workbook.blocks or col.id not in rb.columns:
            continue
        known = {str(r.get(col.ref[1])) for r in ctx.workbook.blocks[col.ref[0]].rows}
        out += [rb.address(i, col.id) for i, row in enumerate(rows)
                if row.get(col.id) is not None and str(row.get(col.id)) not in known]
    return out


def _edge_files(tmp_path: Path) -> Iterator[Path]:
    """Every template with mistakes, damaged copies of them (text, Thai digits, error values in numeric
    cells, cells and rows deleted), and a block with a dangling parent, an unknown level, a repeated code,
    a blank required cell and an error cell."""
    generated = list(generate(tmp_path / "gen", len(BUILDERS), seed=5, error_rate=1.0))
    yield from generated
    rng = random.Random(3)
    values: list[Any] = [None, "x", "๑๒๓", "1,234 บาท", "#REF!", -5, 1e300, 2564.9, 0, 1.005, "(1,000)", "-"]
    for n in range(12):
        path = tmp_path / f"fuzz{n}.xlsx"
        path.write_bytes(mutate_workbook(rng.choice(generated).read_bytes(), rng, values))
        yield path
    rows = [*disbursement_rows(), disb("project", "P9", "NOWHERE", "5", "1", "0"), disb("project", "P8", "T", "1"),
            disb("project", "P1", "T", "7", "1", "1"), disb("project", "P6", "T", "1", "1", "1"),
            disb("project", "P7", "T", "1", "1", "1")]
    lines, name = Table("disbursement", "lines", rows), sheet("disbursement", "lines")
    edges = set_cells(build(tmp_path / "edges.xlsx", "disbursement", {"lines": rows}), name,
                      {lines.at("level", "P8"): "bogus", lines.at("code", "P6"): None})
    yield set_cell_xml(edges, name, lines.at("disbursed", "P7"), "<f>1/0</f><v>#DIV/0!</v>", "e")


def _findings(found: Iterator[Finding]) -> list[str]:
    return [f.model_dump_json() for f in found]


def test_rules_reading_by_column_find_what_reading_every_row_found(tmp_path: Path) -> None:
    """Each column reader on a block just read (no row made), against the old reading of every row's dict
    and against the same rows held as dicts: the cells checked, the links, the references, the screened
    columns and the lines the variance check judges."""
    compared = 0
    for path in _edge_files(tmp_path):
        try:
            fresh, again = read_workbooks(path), read_workbooks(path)
        except Exception:  # a damaged copy the reader refuses: nothing to compare
            continue
        for wb, old in zip(fresh, again, strict=True):
            ctx, old_ctx = Context(wb, load_settings()), Context(old, load_settings())
            for rb in old.blocks.values():  # the same cells, held as the rows' dicts
                rb.rows = TypedRows.listed(rb.block.column_ids, [dict(row) for row in rb.rows])
            for bid, rb in wb.blocks.items():
                old_rb = old.blocks[bid]
                plain = list(old_rb.rows)
                new_structure = resolve_structure(rb.block, rb.rows)
                assert new_structure == resolve_structure(rb.block, plain)
                assert cells._cells_to_check(rb) == _old_cells_to_check(old_rb, plain) \
                    == cells._cells_to_check(old_rb)
                new_columns = evaluate_columns(rb.block, rb.rows, rb.raw_columns, rb.formula_text, new_structure)
                old_columns = evaluate_columns(old_rb.block, plain, old_rb.raw_columns, old_rb.formula_text,
                                               new_structure)
                assert (new_columns is None) == (old_columns is None)
                for cid, column in (new_columns.columns if new_columns else {}).items():
                    assert old_columns is not None
                    assert column.typed.tolist() == old_columns.columns[cid].typed.tolist()
                roles, when = rb.block.spending, ctx.settings.disbursement
                if roles is not None and {roles.budget, roles.disbursed, roles.committed} <= set(rb.columns):
                    for as_of, year in ((wb.meta.get("as_of"), 2564), (None, 2565)):
                        if as_of is None:
                            continue
                        assert lines_to_judge(rb, ctx.columns[bid], roles, when, as_of, year) == \
                            lines_to_judge(old_rb, old_ctx.columns[bid], roles, when, as_of, year)
                compared += 1
            refs = _findings(references.reference_findings(ctx))
            assert refs == _findings(references.reference_findings(old_ctx))
            assert [f.split('"cell":"')[1].split('"')[0] for f in refs] == [
                c for rb in old.blocks.values() for c in _old_reference_cells(old_ctx, rb, list(rb.rows))]
            assert _findings(cells.cell_findings(ctx)) == _findings(cells.cell_findings(old_ctx))
    assert compared >= len(BUILDERS) + 1


@pytest.mark.parametrize("size", [0, 1])
def test_an_empty_or_single_block_reads(size: int) -> None:
    rows, want = _typed({cid: [1.0] * size for cid in FOUND})
    assert list(rows) == want and rows[0:5] == want


def test_validate_makes_no_row_and_no_decimal_it_does_not_report(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A disbursement block filled without mistakes (and one with a roll-up's cache off, so that a figure is
    reported): validate makes a row's dict only for a row it reports on (or a line of a total it reports), and
    no numeric column's Decimals (a year column's ints only)."""
    made: list[tuple[int, int]] = []  # (id of the rows, row)
    columns: list[Column] = []
    get_row, all_values = TypedRows.__getitem__, NumberCells.values

    def one_row(self: TypedRows, i: Any) -> Any:
        made.append((id(self), i))
        return get_row(self, i)

    def whole_column(self: NumberCells) -> list[Any]:
        columns.append(self.column)
        return all_values(self)

    def every_row(self: TypedRows) -> Iterator[Row]:
        raise AssertionError("every row made")

    paths = [p for p in generate(tmp_path / "gen", 2 * len(BUILDERS), seed=9, error_rate=0.0)
             if "disbursement" in p.name]
    rows = [disb("project", "P1", "T", "1000", "600", "250"), disb("total", "T")]
    lines = Table("disbursement", "lines", rows)
    paths.append(set_cached_value(build(tmp_path / "off.xlsx", "disbursement", {"lines": rows}),
                                  sheet("disbursement", "lines"), lines.at("allocated", "T"), "999"))
    monkeypatch.setattr(TypedRows, "__getitem__", one_row)
    monkeypatch.setattr(TypedRows, "__iter__", every_row)
    monkeypatch.setattr(NumberCells, "values", whole_column)
    for path in paths:
        books = open_all(path)
        made.clear()
        found = [f for each in validate_set(books, load_settings()) for f in each]
        reported = {(f.sheet, parse_a1(f.cell)[0]) for f in found}
        blocks = {id(rb.rows): rb for wb in books for rb in wb.blocks.values()}
        for r, i in made:  # a reported row, or a line a reported total sums
            rb = blocks[r]
            above = resolve_structure(rb.block, rb.rows).parent.get(i)
            assert {(rb.sheet, rb.sheet_rows[k]) for k in (i, above) if k is not None} & reported, path.name
    assert made and {c.type for c in columns} <= {ColType.YEAR}


def test_a_row_counted_from_the_end_is_the_row_counted_from_the_start() -> None:
    """``rows[-1]`` and ``value(-1, …)`` are the last row as a list has it, cells set before and after included;
    past either end is an IndexError, as a list's."""
    rows, want = _typed({"level": ["project"] * 3, "code": ["1", "2", "3"], "allocated": [10.0, 20.0, 30.0]})
    rows.set(2, "allocated", None)
    want[2]["allocated"] = None
    assert rows.value(-1, "allocated") is None and rows[-1] == want[-1] and rows[2] == want[2]
    rows.set(-1, "code", "9")
    want[2]["code"] = "9"
    assert rows[2] == want[2] and rows.column("code") == ["1", "2", "9"] and list(rows) == want
    for at in (3, -4):
        with pytest.raises(IndexError):
            rows[at]
