"""python-calamine's Rust panics print to file descriptor 2: the reader sets that aside for each call, passes
on what a call that did not panic printed, and drops a panic's noise, call after call."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from osmep_xl.xlsx.source import UnreadableWorkbookError, calamine


class PanicException(BaseException):  # named as pyo3 names it: that is how a panic is known
    """Stands for pyo3's PanicException."""


def _prints(text: bytes, *, panic: bool = False) -> int:
    os.write(2, text)
    if panic:
        raise PanicException("panicked at 'date out of range'")
    return 1


def test_panic_noise_is_dropped_and_other_output_passed_on_call_after_call(capfd: pytest.CaptureFixture[str]) -> None:
    where = ("ไฟล์", "the workbook")
    assert calamine(lambda: _prints(b"first\n"), Path("a.xlsx"), where) == 1
    with pytest.raises(UnreadableWorkbookError, match="date out of range"):
        calamine(lambda: _prints(b"thread panicked at src/x.rs\n", panic=True), Path("a.xlsx"), where)
    assert calamine(lambda: _prints(b"second\n"), Path("a.xlsx"), where) == 1
    err = capfd.readouterr().err
    assert "first" in err and "second" in err
    assert "panicked at src" not in err


def test_the_collector_is_paused_only_while_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paused during a read, running again after it, even when the file was refused; left off if it was."""
    import gc

    from osmep_xl.data import load_report
    from osmep_xl.spec import TEMPLATES
    from osmep_xl.xlsx import read as reader
    from osmep_xl.xlsx.generate import write_workbook

    path = write_workbook(load_report(next(iter(TEMPLATES))), tmp_path / "b.xlsx")
    seen: list[bool] = []

    def refuse(source: object) -> object:
        seen.append(gc.isenabled())
        raise UnreadableWorkbookError("refused")

    monkeypatch.setattr(reader, "read_sources", refuse)
    assert gc.isenabled()
    try:
        with pytest.raises(UnreadableWorkbookError):
            reader.read_workbooks(path)
        assert seen == [False] and gc.isenabled()
        gc.disable()
        with pytest.raises(UnreadableWorkbookError):
            reader.read_workbooks(path)
        assert not gc.isenabled()
    finally:
        gc.enable()
