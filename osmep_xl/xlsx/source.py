"""Where the reader gets a workbook's cells: a :class:`Source` (a file, or a live book in Excel), and
python-calamine kept from crashing the process."""

from __future__ import annotations

import os
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar
from xml.etree.ElementTree import ParseError

from python_calamine import CalamineError, CalamineWorkbook

from .arena import share_one_arena
from .package import SheetCells, custom_properties, defined_names, scan_sheet, sheet_parts, workbook_xml

# What a damaged package raises from the zip, XML and calamine layers: the file is unreadable.
BROKEN_FILE = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, ValueError, ParseError, CalamineError,
               NotImplementedError, RuntimeError)


class UnreadableWorkbookError(Exception):
    """The file cannot be used as a template workbook; the message says why (Thai / English)."""


T = TypeVar("T")


def is_panic(exc: BaseException) -> bool:
    """A Rust panic inside python-calamine (pyo3's PanicException): a BaseException, not an Exception, so
    ``except Exception`` lets it through. One comes from, e.g., a date-formatted cell holding -1e12."""
    return type(exc).__name__ == "PanicException"


# One temporary file per process (making one per call costs ~45 us; a forked worker makes its own, as a
# file inherited from the parent would share its offset with it).
_ASIDE: dict[int, IO[bytes]] = {}


@contextmanager
def _stderr_aside() -> Iterator[list[bool]]:
    """File descriptor 2 goes to a temporary file for the duration; what was written there is passed on
    afterwards unless the caller sets the yielded flag to False. Rust prints a panic (and, with
    RUST_BACKTRACE, its whole backtrace) straight to fd 2: noise once the panic is reported in one line."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all (pythonw on Windows)
        yield [True]
        return
    keep = [True]
    aside = _ASIDE.get(os.getpid())
    if aside is None:
        aside = _ASIDE[os.getpid()] = tempfile.TemporaryFile()  # noqa: SIM115 (kept open for the process)
    if sys.stderr is not None:
        sys.stderr.flush()
    os.dup2(aside.fileno(), 2)
    try:
        yield keep
    finally:
        if sys.stderr is not None:
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        if aside.tell():
            aside.seek(0)
            data = aside.read() if keep[0] else b""
            aside.seek(0)
            aside.truncate()
            while data:
                data = data[os.write(2, data):]


def calamine(call: Callable[[], T], path: Path, where: tuple[str, str]) -> T:
    """``call()`` (a python-calamine call), with a Rust panic turned into :class:`UnreadableWorkbookError`
    saying ``where`` (Thai, English) it happened."""
    with _stderr_aside() as keep:
        try:
            return call()
        except BaseException as exc:
            if not is_panic(exc):
                raise
            keep[0] = False
            reason = (str(exc).strip().splitlines() or ["panic"])[0]
    raise UnreadableWorkbookError(
        f"อ่านค่าใน{where[0]} ไม่ได้ อาจมีช่องวันที่หรือตัวเลขที่ผิดรูป (เช่น วันที่ติดลบ) / cannot read {where[1]} of "
        f"{path}: a cell python-calamine cannot convert ({reason}), e.g. a date cell holding a huge or negative"
        " number")



class Source(Protocol):
    """A workbook as the reader needs it, whatever holds it: a file, or a live book in Excel."""

    path: Path

    def sheet_names(self) -> list[str]: ...

    def grid(self, sheet: str) -> list[list[Any]]:
        """Cell values from A1 (absolute positions), blanks as "" or None."""
        ...

    def defined_names(self) -> dict[str, str]: ...

    def properties(self) -> dict[str, str]: ...

    def cells(self, sheet: str) -> SheetCells:
        """The sheet's formula cells and error cells."""
        ...


# Sheets of this many bytes of XML have their formula and error cells scanned in a thread while python-calamine
# parses their values (it lets go of the GIL as it parses; inflating and most of the scan's numpy do too).
# Measured on 2 shared cores, validate alternating thread and no thread: from ~700 rows (0.8 MB) the thread
# saves 3-7 ms (1,000 rows), 17 ms (2,000) with a core to spare and costs nothing measurable under a competing
# load; at 100-400 rows it saves ~1 ms with a core to spare and cost up to ~7 ms (median) with one process
# spinning beside. The process shares one malloc arena first (:func:`.arena.share_one_arena`): with the
# thread's own, a 50,000-row recalc peaked at 325 MB instead of 292.
SCAN_MIN = 768 << 10


class FileSource:
    """An .xlsx/.xlsm file: values from python-calamine, the rest from the package XML."""

    def __init__(self, path: Path, package: zipfile.ZipFile | None = None) -> None:
        """``package``: the file's zip, already open (and checked, :func:`.safety.open_package`); it is
        closed with the source."""
        self.path = path
        self._zip = package if package is not None else zipfile.ZipFile(path)
        try:
            self._book = calamine(lambda: self._open(path), path, ("ไฟล์", "the workbook"))
            workbook = workbook_xml(self._zip)  # parsed once for the sheets' parts and the defined names
            self._parts = sheet_parts(self._zip, workbook)
            self._names = defined_names(self._zip, workbook)
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _open(path: Path) -> CalamineWorkbook:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return CalamineWorkbook.from_path(str(path))
        # python-calamine picks its reader by the extension; from the bytes it looks at the content.
        with path.open("rb") as fh:
            return CalamineWorkbook.from_filelike(fh)

    def close(self) -> None:
        self._zip.close()
        if hasattr(self, "_book"):
            self._book.close()

    def sheet_names(self) -> list[str]:
        return list(self._book.sheet_names)

    def grid(self, sheet: str) -> list[list[Any]]:
        rows: list[list[Any]] = calamine(
            lambda: self._book.get_sheet_by_name(sheet).to_python(skip_empty_area=False), self.path,
            (f"ชีต '{sheet}'", f"sheet '{sheet}'"))
        return rows

    def grid_and_cells(self, sheet: str) -> tuple[list[list[Any]], SheetCells]:
        """:meth:`grid` and :meth:`cells`; a large sheet's cells are scanned in a thread meanwhile, from a zip
        of the thread's own (a ZipFile's members are not opened safely from two threads at once). The
        thread is always waited for; when none can start, the cells are scanned after."""
        part = self._parts.get(sheet)
        scan: Future[SheetCells] | None = None
        if part and self._size(part) >= SCAN_MIN:
            share_one_arena()
            worker = ThreadPoolExecutor(1, thread_name_prefix="osmep-scan")
            with suppress(RuntimeError):  # no thread to be had
                scan = worker.submit(_scan_own, self.path, part)
            worker.shutdown(wait=False)  # its one thread ends when the scan does
        if scan is None:
            return self.grid(sheet), self.cells(sheet)
        try:
            grid = self.grid(sheet)
        finally:
            failed = scan.exception() is not None  # waits: the thread never outlives this call
        # A scan that failed in its thread is made again here, raising as it always did.
        return grid, self.cells(sheet) if failed else scan.result()

    def _size(self, part: str) -> int:
        """The part's bytes of XML; 0 for a part the package lacks (:meth:`cells` says so, as before)."""
        try:
            return self._zip.getinfo(part).file_size
        except KeyError:
            return 0

    def defined_names(self) -> dict[str, str]:
        return self._names

    def properties(self) -> dict[str, str]:
        return custom_properties(self._zip)

    def cells(self, sheet: str) -> SheetCells:
        part = self._parts.get(sheet)
        return scan_sheet(self._zip, part) if part else SheetCells()


def _scan_own(path: Path, part: str) -> SheetCells:
    with zipfile.ZipFile(path) as zf:
        return scan_sheet(zf, part)
