"""A fast slice of fuzzing: the readers and the validator never crash on damaged input.
The long run (10,000+ workbooks and cell values) is `python bench/fuzz.py`."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osmep_xl.data import load_report
from osmep_xl.kpi_text import parse_result, parse_target
from osmep_xl.money import parse_number
from osmep_xl.rules.config import load_settings
from osmep_xl.rules.validate import validate
from osmep_xl.spec import TEMPLATES
from osmep_xl.xlsx.coerce import coerce
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.read import read_workbook
from tests.fuzzing import mutate_workbook, random_rows, raw_cells, read_and_validate

COLUMNS = [c for spec in TEMPLATES.values() for b in spec.blocks for c in b.columns]


@given(st.sampled_from(COLUMNS), raw_cells)
def test_coerce_never_raises(column: Any, raw: Any) -> None:
    result = coerce(column, raw)
    assert result.problem is None or result.problem.startswith("cell.")


@given(st.text(max_size=40))
def test_text_parsers_never_crash(text: str) -> None:
    parse_number(text)
    parse_result(text)
    with contextlib.suppress(ValueError):
        parse_target(text)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("seeds")
    return {t: write_workbook(load_report(t), out / f"{t}.xlsx").read_bytes() for t in TEMPLATES}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(list(TEMPLATES)), st.integers(min_value=0, max_value=2**32),
       st.lists(raw_cells, min_size=1, max_size=8))
def test_damaged_workbooks_give_findings_or_a_refusal(
        tmp_path: Path, seeds: dict[str, bytes], template_id: str, seed: int, values: list[Any]) -> None:
    path = tmp_path / "fuzzed.xlsx"
    path.write_bytes(mutate_workbook(seeds[template_id], random.Random(seed), values))
    read_and_validate(path)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(list(TEMPLATES)), st.integers(min_value=0, max_value=2**32))
def test_validator_on_random_structures(tmp_path: Path, template_id: str, seed: int) -> None:
    data = random_rows(random.Random(seed), template_id)
    path = write_workbook(data, tmp_path / "random.xlsx")
    findings = validate(read_workbook(path), load_settings())
    assert all(f.cell and f.sheet for f in findings)
