"""A block's links found at once (every code on one row) are those the row-by-row search found."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from osmep_xl.model.evaluate import Row, Structure, resolve_structure
from osmep_xl.spec import TEMPLATES
from osmep_xl.spec.base import Block

BLOCKS = [b for spec in TEMPLATES.values() for b in spec.blocks if b.hierarchical]


def _row_by_row(block: Block, rows: list[Row]) -> Structure:
    """resolve_structure as it searched before: each row's parent code looked up among every row with it."""
    out = Structure()
    keys = [tuple(row.get(c) for c in block.key_columns) for row in rows]
    seen: set[tuple[Any, ...]] = set()
    for i, key in enumerate(keys):
        if key in seen:
            out.duplicates.append(i)
        seen.add(key)
    ranks = {lv.id: n for n, lv in enumerate(block.levels)}
    rank_of = [ranks.get(row.get("level") or "", len(ranks)) for row in rows]
    by_code: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_code[(*(row.get(c) for c in block.group_by), row.get("code"))].append(i)
    for i, row in enumerate(rows):
        found = by_code.get((*(row.get(c) for c in block.group_by), row.get("parent")))
        if found is None or rank_of[i] == len(ranks) or row.get("parent") is None:
            continue
        candidates = [j for j in found if rank_of[j] < rank_of[i]]
        if candidates:
            j = max(candidates, key=lambda c: rank_of[c])
            out.parent[i] = j
            out.children[j].append(i)
    return out


def _rows(block: Block, unique: bool) -> st.SearchStrategy[list[Row]]:
    """Rows with levels of the block (and unknown or none), codes and parents from a few (or none), two
    groups; with ``unique`` each code on one row."""
    levels = st.sampled_from([lv.id for lv in block.levels] + ["bogus", None])
    names = st.sampled_from(["A", "B", "C", "D", None])
    groups = st.sampled_from([{c: 1 for c in block.group_by}, {c: 2 for c in block.group_by}])
    row = st.builds(lambda g, lv, parent: {**g, "level": lv, "parent": parent}, groups, levels, names)
    return st.lists(row, max_size=14).flatmap(lambda rs: st.permutations(range(len(rs))).map(
        lambda codes: [{**r, "code": _code(k, unique)} for r, k in zip(rs, codes, strict=True)]))


def _code(k: int, unique: bool) -> str | None:
    """The k-th row's code: A, B, C again and again, or each once (one row without a code)."""
    if not unique:
        return chr(65 + k % 3)
    return None if k == 0 else f"{chr(65 + k % 5)}{k // 5 if k >= 5 else ''}"


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.id)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_links_at_once_are_the_links_found_row_by_row(block: Block, data: st.DataObject) -> None:
    rows = data.draw(_rows(block, unique=data.draw(st.booleans())))
    got, want = resolve_structure(block, rows), _row_by_row(block, rows)
    assert got.parent == want.parent and list(got.parent) == list(want.parent)
    assert dict(got.children) == dict(want.children) and list(got.children) == list(want.children)
    assert got.duplicates == want.duplicates
