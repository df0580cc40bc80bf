"""A fast slice of fuzzing: the readers and the validator never crash on damaged input.
The long run (10,000+ workbooks and cell values) is `python bench/fuzz.py`.

Each run draws a new seed (so that runs explore different inputs) unless OSMEP_FUZZ_SEED is set; a failure
names the seed, and OSMEP_FUZZ_SEED=<seed> replays the same run.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, seed, settings
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
from tests.cells import meta_cell
from tests.fuzzing import check_findings, mutate_workbook, random_rows, raw_cells, read_and_validate

COLUMNS = [c for spec in TEMPLATES.values() for b in spec.blocks for c in b.columns]
SEED = int(os.environ.get("OSMEP_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
T = TypeVar("T", bound=Callable[..., Any])


def seeded(test: T) -> T:
    """Run ``test``'s examples from this run's seed (its settings have no example database: the seed alone
    decides the examples)."""
    return seed(SEED)(test)


@contextlib.contextmanager
def replay_hint() -> Iterator[None]:
    """Any failure, even a BaseException such as a Rust panic, becomes an assertion naming the seed."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        raise AssertionError(f"{type(exc).__name__}: {exc} (replay: OSMEP_FUZZ_SEED={SEED})") from exc


@seeded
@settings(database=None)
@given(st.sampled_from(COLUMNS), raw_cells)
def test_coerce_never_raises(column: Any, raw: Any) -> None:
    with replay_hint():
        result = coerce(column, raw)
        assert result.problem is None or result.problem.startswith("cell.")


@seeded
@settings(database=None)
@given(st.text(max_size=40))
def test_text_parsers_never_crash(text: str) -> None:
    with replay_hint():
        parse_number(text)
        parse_result(text)
        with contextlib.suppress(ValueError):
            parse_target(text)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("seeds")
    return {t: write_workbook(load_report(t), out / f"{t}.xlsx").read_bytes() for t in TEMPLATES}


@seeded
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(list(TEMPLATES)), st.integers(min_value=0, max_value=2**32),
       st.lists(raw_cells, min_size=1, max_size=8))
def test_damaged_workbooks_give_findings_or_a_refusal(
        tmp_path: Path, seeds: dict[str, bytes], template_id: str, case: int, values: list[Any]) -> None:
    path = tmp_path / "fuzzed.xlsx"
    with replay_hint():
        path.write_bytes(mutate_workbook(seeds[template_id], random.Random(case), values))
        read_and_validate(path)


@seeded
@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(list(TEMPLATES)), st.integers(min_value=0, max_value=2**32))
def test_validator_on_random_structures(tmp_path: Path, template_id: str, case: int) -> None:
    with replay_hint():
        data = random_rows(random.Random(case), template_id)
        path = write_workbook(data, tmp_path / "random.xlsx")
        check_findings(validate(read_workbook(path), load_settings()))


def test_a_date_cell_python_calamine_panics_on_is_refused(tmp_path: Path, seeds: dict[str, bytes]) -> None:
    """The value that once made this run flaky: -1e12 in the date-formatted as-of cell, on which
    python-calamine panics (a BaseException). It is a refusal like any unreadable file."""
    path = tmp_path / "panic.xlsx"
    as_of = meta_cell("as_of", "kpi").encode()
    with zipfile.ZipFile(io.BytesIO(seeds["kpi"])) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            part = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":  # the information sheet
                part, n = re.subn(rb'(<c r="' + as_of + rb'" s="\d+">)<v>[^<]*</v>', rb"\1<v>-1000000000000</v>",
                                  part)
                assert n == 1
            zout.writestr(info, part)
    assert read_and_validate(path) == -1
