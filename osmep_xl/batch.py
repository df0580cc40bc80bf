"""Validate or recalculate many workbooks: in this process, in a process pool, or on Dask.

Every executor runs the same per-file function, :func:`process_file`, which never raises: a broken
file becomes a :class:`FileResult` with ``unreadable`` set and the run goes on. Only FileResults
travel back from the workers (never a read workbook), and they arrive as each file finishes
(one file at a time from each pool worker, or Dask's ``as_completed``), so a run over thousands of files
holds little more than their findings.

The pool watches its workers: a file that takes longer than the timeout has its worker stopped and is
reported as timed out, a worker that dies (a crash in native code) is reported with the file it was on,
and either way a fresh worker takes the next file. One bad file never hangs or ends the run.
"""

from __future__ import annotations

import glob
import importlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from enum import StrEnum
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import Any, Literal

from .check import check_and_recalc, check_file, recalc_result
from .model.load import DataError
from .report import FileResult
from .rules.config import Settings
from .xlsx.patch import PatchError
from .xlsx.safety import RefusedFileError
from .xlsx.source import UnreadableWorkbookError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
GLOB_CHARS = frozenset("*?[")
Operation = Literal["validate", "recalc"]
Progress = Callable[[int], None]
DEFAULT_TIMEOUT = 120.0  # seconds for one file; a template takes well under one


class Executor(StrEnum):
    """Where the per-file work runs."""

    POOL = "pool"
    DASK = "dask"


class BatchError(DataError):
    """A batch that cannot start (bad options, outputs that would overwrite); Thai / English message."""


@dataclass(frozen=True)
class Task:
    """What to do to every file; sent once to each worker."""

    operation: Operation
    settings: Settings
    out_dir: Path | None = None  # recalc: where each result goes, under the input's file name
    in_place: bool = False  # recalc: overwrite each input, keeping a backup beside it
    validate: bool = False  # recalc: validate each input too, from the same read

    def target(self, path: Path) -> Path:
        """Where ``recalc`` writes the result for ``path``."""
        if self.in_place:
            return path
        if self.out_dir is None:
            raise BatchError("ระบุ --out DIR หรือ --in-place / give --out DIR or --in-place")
        return self.out_dir / path.name


@dataclass
class Inputs:
    """The workbooks named by the command line, in order, without duplicates."""

    paths: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # Excel owner files and our own backups
    unmatched: list[FileResult] = field(default_factory=list)  # a folder or pattern holding no workbook


def is_skipped(path: Path) -> bool:
    """Excel's lock files (``~$book.xlsx``), ``--in-place`` backups (``book.<time>.bak.xlsx``) and
    half-written temporary files are never inputs."""
    name = path.name
    return name.startswith(("~$", ".~")) or ".bak." in name


def _is_workbook(path: Path) -> bool:
    return path.suffix.lower() in WORKBOOK_SUFFIXES and path.is_file()


def collect(args: Iterable[str | Path]) -> Inputs:
    """Expand folders (the workbooks directly in them) and glob patterns (``**`` for subfolders).

    A file named explicitly is kept whatever its suffix, so that ``book.xls`` is reported as
    unsupported rather than silently ignored; folders and patterns yield only .xlsx/.xlsm files.
    """
    inputs = Inputs()
    seen: set[Path] = set()

    def add(path: Path) -> None:
        if is_skipped(path):
            inputs.skipped.append(path)
            return
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            inputs.paths.append(path)

    for arg in args:
        text = str(arg)
        path = Path(text)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if _is_workbook(p))
            where = f"ไม่มีไฟล์ .xlsx/.xlsm ในโฟลเดอร์ / no .xlsx/.xlsm workbook in folder {path}"
        elif GLOB_CHARS & set(text) and not path.exists():
            found = [Path(p) for p in sorted(glob.glob(text, recursive=True)) if _is_workbook(Path(p))]
            where = f"ไม่มีไฟล์ตรงกับ / no workbook matches {text}"
        else:
            add(path)  # missing or not a workbook: the per-file check says why, in the results
            continue
        kept = [p for p in found if not is_skipped(p)]
        inputs.skipped += [p for p in found if is_skipped(p)]
        if not kept:
            inputs.unmatched.append(FileResult(path=path, unreadable=where))
        for p in kept:
            add(p)
    return inputs


def check_targets(task: Task, paths: Sequence[Path], *, force: bool = False) -> None:
    """Refuse, before any work, a recalc that would overwrite an input or write two results to one file."""
    if task.operation != "recalc" or task.in_place:
        return
    inputs = {p.resolve() for p in paths}
    targets: dict[Path, Path] = {}
    for path in paths:
        target = task.target(path)
        key = target.resolve()
        if key in inputs:
            raise BatchError(f"--out จะเขียนทับไฟล์ต้นฉบับ ใช้โฟลเดอร์อื่น / --out would overwrite the input {path}; "
                             "use another folder (or --in-place)")
        if key in targets:
            raise BatchError(f"ไฟล์ชื่อซ้ำกัน ผลลัพธ์จะทับกัน / two inputs share the name {path.name} "
                             f"({targets[key]}, {path}); --out keeps file names")
        targets[key] = path
        if target.exists() and not force:
            raise FileExistsError(f"มีไฟล์อยู่แล้ว ใช้ --force เพื่อเขียนทับ / {target} exists; use --force to overwrite")


class FileTimeout(BaseException):
    """One file took longer than the timeout (in-process runs). Not an Exception, so that no
    ``except Exception`` on the way swallows it."""


def timed_out(path: Path, timeout: float) -> FileResult:
    return FileResult(path=path, unreadable=f"เกินเวลา {timeout:g} วินาที (--timeout) / timed out after {timeout:g} s"
                                            f" (--timeout): {path}")


def crashed(path: Path, exitcode: int | None) -> FileResult:
    how = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
    return FileResult(path=path, unreadable=f"โปรเซสที่ตรวจไฟล์นี้หยุดทำงานกะทันหัน / the worker process crashed on"
                                            f" this file ({how}): {path}")


def process_file(path: Path, task: Task) -> list[FileResult]:
    """Validate or recalculate one file; never raises, so one bad file cannot stop a batch."""
    try:
        if task.operation == "validate":
            return check_file(path, task.settings)
        try:
            if task.validate:
                return check_and_recalc(path, task.target(path), task.settings)
            return [recalc_result(path, task.target(path))]
        except (UnreadableWorkbookError, RefusedFileError, PatchError) as exc:
            return [FileResult(path=path, unreadable=str(exc))]
    except (KeyboardInterrupt, SystemExit, FileTimeout):
        raise
    except BaseException as exc:  # a bug or a native panic must not lose the other 999 results
        return [FileResult(path=path, unreadable=f"ข้อผิดพลาดที่ไม่คาดคิด / unexpected error: "
                                                 f"{type(exc).__name__}: {exc}")]


Item = tuple[int, Path]
Done = tuple[int, list[FileResult]]


def process_chunk(items: Sequence[Item], task: Task) -> list[Done]:
    """The unit of work sent to a Dask worker: several files, each with its position in the run."""
    return [(index, process_file(path, task)) for index, path in items]


# --- in this process ----------------------------------------------------------------------------------------


@contextmanager
def _alarm(seconds: float | None) -> Iterator[None]:
    """:class:`FileTimeout` in this thread after ``seconds``, where a signal can deliver it (Unix, main thread).
    It interrupts Python code; a call into native code is interrupted when it returns."""
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def ring(signum: int, frame: FrameType | None) -> None:
        raise FileTimeout

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _in_process(path: Path, task: Task, timeout: float | None) -> list[FileResult]:
    try:
        with _alarm(timeout):
            return process_file(path, task)
    except FileTimeout:
        return [timed_out(path, timeout or 0)]


# --- a pool of watched worker processes ---------------------------------------------------------------------


def _stop_on_terminate(signum: int, frame: FrameType | None) -> None:
    sys.exit(128 + signum)  # SystemExit unwinds: a half-written output's temp file is removed


def _worker(conn: Connection, task: Task) -> None:
    """A pool worker: files in, results out, one at a time, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, _stop_on_terminate)
    while True:
        try:
            item: Item | None = conn.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        conn.send((item[0], process_file(item[1], task)))


@dataclass
class _Slot:
    """One worker process and the file it is on."""

    process: BaseProcess
    conn: Connection
    item: Item | None = None
    started: float = 0.0


def _start(task: Task) -> _Slot:
    context = multiprocessing.get_context()
    parent, child = context.Pipe()
    process = context.Process(target=_worker, args=(child, task), daemon=True, name="osmep-xl-worker")
    process.start()
    child.close()
    return _Slot(process, parent)


def _stop(slot: _Slot, *, wait_for: float = 5.0) -> None:
    """End a worker: asked politely when idle, terminated when busy, killed when it does not listen."""
    if slot.item is None and slot.process.is_alive():
        with suppress(OSError):
            slot.conn.send(None)
        slot.process.join(wait_for)
    if slot.process.is_alive():
        slot.process.terminate()
        slot.process.join(1.0)
    if slot.process.is_alive():
        slot.process.kill()
        slot.process.join()
    slot.conn.close()


def _pool_results(items: list[Item], task: Task, jobs: int, timeout: float | None) -> Iterator[Done]:
    """Run the files on ``jobs`` worker processes, each file under ``timeout`` seconds."""
    todo = deque(items)
    slots: list[_Slot] = []

    def feed(slot: _Slot) -> None:
        slot.item = None
        if todo:
            slot.item = todo.popleft()
            slot.started = time.monotonic()
            with suppress(OSError):  # a worker that just died: its sentinel reports the file as crashed
                slot.conn.send(slot.item)

    try:
        for _ in range(jobs):
            slots.append(_start(task))
            feed(slots[-1])
        while any(s.item is not None for s in slots):
            busy = [s for s in slots if s.item is not None]
            left = None if timeout is None else max(0.0, min(s.started for s in busy) + timeout - time.monotonic())
            ready = set(wait([s.conn for s in busy] + [s.process.sentinel for s in busy], left))
            finished: list[Done] = []
            for n, slot in enumerate(slots):
                if slot.item is None:
                    continue
                index, path = slot.item
                if slot.conn in ready or slot.process.sentinel in ready:
                    try:
                        got: Done | None = slot.conn.recv() if slot.conn.poll() else None
                    except (EOFError, OSError):
                        got = None
                    if got is not None:
                        finished.append(got)
                        feed(slot)
                        continue
                    slot.process.join(5.0)
                    finished.append((index, [crashed(path, slot.process.exitcode)]))
                elif timeout is not None and time.monotonic() - slot.started >= timeout:
                    finished.append((index, [timed_out(path, timeout)]))
                else:
                    continue
                _stop(slot)  # crashed or timed out: a fresh worker takes the next file
                slot.item = None
                slots[n] = _start(task) if todo else slot
                feed(slots[n])
            yield from finished
    finally:
        for slot in slots:
            if not slot.conn.closed:
                _stop(slot)


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_chunksize(files: int, jobs: int) -> int:
    """Big enough to amortise inter-process overhead, small enough that cores finish together."""
    return max(1, min(16, files // (jobs * 8)))


def iter_results(paths: Sequence[Path], task: Task, *, jobs: int | None = None,
                 executor: Executor = Executor.POOL, scheduler: str | None = None,
                 chunksize: int | None = None, timeout: float | None = DEFAULT_TIMEOUT) -> Iterator[Done]:
    """``(position, results)`` for each file as it finishes, in no particular order.

    ``timeout`` (seconds per file, None for none) applies in this process (``jobs`` 1) and in the pool;
    ``chunksize`` (files per task) to Dask, which does not apply the timeout.
    """
    items = list(enumerate(paths))
    if not items:
        return
    jobs = max(1, min(jobs or default_jobs(), len(items)))
    chunk = chunksize or default_chunksize(len(items), jobs)
    if executor is Executor.DASK:
        yield from _dask_results(items, task, jobs, scheduler, chunk)
    elif jobs == 1:
        for index, path in items:
            yield index, _in_process(path, task, timeout)
    else:
        yield from _pool_results(items, task, jobs, timeout)


def run_batch(paths: Sequence[Path], task: Task, *, jobs: int | None = None,
              executor: Executor = Executor.POOL, scheduler: str | None = None,
              chunksize: int | None = None, progress: Progress | None = None,
              timeout: float | None = DEFAULT_TIMEOUT) -> list[FileResult]:
    """Every file's results, in input order; ``progress(n)`` is called as ``n`` more files finish."""
    slots: list[list[FileResult]] = [[] for _ in paths]
    for index, results in iter_results(paths, task, jobs=jobs, executor=executor, scheduler=scheduler,
                                       chunksize=chunksize, timeout=timeout):
        slots[index] = results
        if progress is not None:
            progress(1)
    return [r for results in slots for r in results]


# --- Dask ------------------------------------------------------------------------------------------------


def _import_distributed() -> Any:
    """dask.distributed, imported only when asked for: it is an optional extra."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise BatchError("ต้องติดตั้ง dask ก่อน / the dask executor needs dask: "
                         "pip install 'osmep-xl[dask]'") from None


def _dask_results(items: list[Item], task: Task, jobs: int, scheduler: str | None, chunk: int) -> Iterator[Done]:
    """Run :func:`process_chunk` on a Dask cluster: ``scheduler``'s, or a local one of ``jobs`` processes.

    Workers must see the files at the same paths (a shared folder), so paths are sent absolute and
    the caller's own spelling is put back on the results.
    """
    distributed = _import_distributed()
    absolute = [(i, p.resolve()) for i, p in items]
    task = replace(task, out_dir=task.out_dir.resolve() if task.out_dir else None)
    given = dict(items)
    cluster = None
    try:
        if scheduler:
            client = distributed.Client(scheduler, timeout=10)
        else:
            cluster = distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                               host="127.0.0.1", dashboard_address=None)
            client = distributed.Client(cluster)
    except (OSError, TimeoutError) as exc:
        raise BatchError(f"ติดต่อ Dask scheduler ไม่ได้ / cannot reach the Dask scheduler {scheduler}: {exc}") from None
    try:
        chunks = [absolute[i:i + chunk] for i in range(0, len(absolute), chunk)]
        futures = client.map(process_chunk, chunks, task=task, pure=False)
        for future in distributed.as_completed(futures):
            done: list[Done] = future.result()
            future.release()
            for index, results in done:
                yield index, [replace(r, path=given[index]) if r.path == absolute[index][1] else r
                              for r in results]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
