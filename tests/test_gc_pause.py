"""The collector is paused inside a read-and-check, and always resumed: after an error, and only at the
outermost of nested pauses (a validate inside a batch worker); a caller that paused it keeps it paused."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from osmep_xl import check
from osmep_xl.gc_pause import paused_gc
from osmep_xl.rules.config import load_settings


def test_paused_inside_resumed_after_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block leaves it to the outer one
        _ = 1 / 0
    assert gc.isenabled()


def test_a_caller_that_paused_it_keeps_it_paused(tmp_path: Path) -> None:
    gc.disable()
    try:
        check.check_file(tmp_path / "missing.xlsx", load_settings())
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_validate_runs_with_the_collector_paused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    opened = check.open_files

    def spy(paths: list[Path]) -> check.Opened:
        seen.append(gc.isenabled())
        return opened(paths)

    monkeypatch.setattr(check, "open_files", spy)
    check.check_file(tmp_path / "missing.xlsx", load_settings())
    assert seen == [False] and gc.isenabled()
