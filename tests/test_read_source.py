"""python-calamine's Rust panics print to file descriptor 2: the reader sets that aside for each call, passes
on what a call that did not panic printed, and drops a panic's noise, call after call."""

from __future__ import annotations

import os
import zipfile
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


def _outcome(path: Path) -> object:
    """What the reader makes of a file: every block's cells, or the refusal's one line."""
    from osmep_xl.xlsx.read import read_workbooks

    try:
        books = read_workbooks(path)
    except UnreadableWorkbookError as exc:
        return str(exc)
    return [(wb.meta, wb.structure, [(rb.rows, rb.raw, dict(rb.formula_text), rb.problems, rb.sheet_rows)
                                     for rb in wb.blocks.values()]) for wb in books]


def test_a_sheet_scanned_beside_its_parse_reads_as_one_scanned_after_it(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Sound files, damaged copies and a formula the scan cannot decode (it raises in the scan's thread):
    read the same, refused with the same line, with the scan in a thread beside python-calamine or after it."""
    import random
    import threading

    from osmep_xl.data import load_report
    from osmep_xl.spec import TEMPLATES
    from osmep_xl.xlsx import package, source
    from osmep_xl.xlsx.generate import write_workbook
    from osmep_xl.xlsx.package import sheet_parts
    from tests.corpus_helpers import replace_part, zip_parts
    from tests.fuzzing import mutate_workbook

    paths = [write_workbook(load_report(t), tmp_path / f"{t}.xlsx") for t in TEMPLATES]
    rng = random.Random(3)
    for n in range(12):
        damaged = tmp_path / f"damaged{n}.xlsx"
        damaged.write_bytes(mutate_workbook(rng.choice(paths).read_bytes(), rng, [None, "#REF!", 1.005, "x"]))
        paths.append(damaged)
    # A formula cell without an address sends the scan to the full XML parse, which fails on what follows
    # the cells (python-calamine stops reading before it): the scan raises, in its thread.
    unparsable = tmp_path / "unparsable.xlsx"
    unparsable.write_bytes(paths[0].read_bytes())
    sheet = next(name for name, data in zip_parts(unparsable).items() if b"<f>" in data)
    xml = zip_parts(unparsable)[sheet].replace(b"</row>", b"<c><f>1+1</f></c></row>", 1)
    replace_part(unparsable, sheet, xml.replace(b"</sheetData>", b"</sheetData><x></y>"))
    paths.append(unparsable)
    missing = tmp_path / "missing.xlsx"  # the workbook names a sheet part the package lacks
    missing.write_bytes(paths[0].read_bytes())
    replace_part(missing, "xl/_rels/workbook.xml.rels",
                 zip_parts(missing)["xl/_rels/workbook.xml.rels"].replace(b"sheet2.xml", b"sheet9.xml"))
    paths.append(missing)

    after = [_outcome(path) for path in paths]
    scans: list[tuple[str, bool]] = []  # (thread, whether the scan raised)
    scan = package.scan_sheet

    def recorded(*args: object) -> package.SheetCells:
        try:
            found = scan(*args)  # type: ignore[arg-type]
        except Exception:
            scans.append((threading.current_thread().name, True))
            raise
        scans.append((threading.current_thread().name, False))
        return found

    monkeypatch.setattr(source, "scan_sheet", recorded)
    monkeypatch.setattr(source, "SCAN_MIN", 0)
    assert [_outcome(path) for path in paths] == after
    # Every scan ran in the thread; the main thread scans again only what failed there (unless python-calamine
    # refused the sheet first), and fails as well.
    in_thread = [raised for name, raised in scans if name.startswith("osmep-scan")]
    again = [raised for name, raised in scans if not name.startswith("osmep-scan")]
    assert in_thread and again and all(again) and len(again) <= in_thread.count(True)
    assert "mismatched tag" in str(after[-2]), after[-2]
    with zipfile.ZipFile(paths[0]) as zf:  # refused as before: python-calamine finds no such sheet
        lost = next(name for name, part in sheet_parts(zf).items() if part.endswith("/sheet2.xml"))
    assert str(after[-1]).endswith(f": {lost}"), after[-1]


def test_the_scan_thread_starts_after_the_process_shares_one_arena(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from osmep_xl.data import load_report
    from osmep_xl.xlsx import source
    from osmep_xl.xlsx.generate import write_workbook
    from osmep_xl.xlsx.read import read_workbooks

    path = write_workbook(load_report("disbursement"), tmp_path / "d.xlsx")
    events: list[str] = []

    class Pool(source.ThreadPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            events.append("thread")
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(source, "share_one_arena", lambda: events.append("one arena"))
    monkeypatch.setattr(source, "ThreadPoolExecutor", Pool)
    monkeypatch.setattr(source, "SCAN_MIN", 0)
    read_workbooks(path)
    assert events and events == ["one arena", "thread"] * (len(events) // 2)


def test_without_a_thread_to_be_had_the_cells_are_scanned_after_the_parse(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from osmep_xl.data import load_report
    from osmep_xl.xlsx import source
    from osmep_xl.xlsx.generate import write_workbook

    path = write_workbook(load_report("disbursement"), tmp_path / "d.xlsx")
    before = _outcome(path)

    class NoThread(source.ThreadPoolExecutor):
        def submit(self, *args: object, **kwargs: object) -> source.Future[object]:
            raise RuntimeError("can't start new thread")

    monkeypatch.setattr(source, "ThreadPoolExecutor", NoThread)
    monkeypatch.setattr(source, "SCAN_MIN", 0)
    assert _outcome(path) == before
    assert isinstance(before, list)
