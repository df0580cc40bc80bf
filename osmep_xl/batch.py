"""Validate or recalculate many workbooks: in this process, in a process pool, or on Dask.

Every executor runs the same per-file function, :func:`process_file`, which never raises: a broken
file becomes a :class:`FileResult` with ``unreadable`` set and the run goes on. Only FileResults
travel back from the workers (never a read workbook), and they arrive as each file finishes
(``imap_unordered`` with a chunk size, or Dask's ``as_completed``), so a run over thousands of files
holds little more than their findings.
"""

from __future__ import annotations

import glob
import importlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from .check import check_file, recalc_result
from .model.load import DataError
from .report import FileResult
from .rules.config import Settings
from .xlsx.patch import PatchError
from .xlsx.read import UnreadableWorkbookError
from .xlsx.safety import RefusedFileError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
GLOB_CHARS = frozenset("*?[")
Operation = Literal["validate", "recalc"]
Progress = Callable[[int], None]


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


def process_file(path: Path, task: Task) -> list[FileResult]:
    """Validate or recalculate one file; never raises, so one bad file cannot stop a batch."""
    try:
        if task.operation == "validate":
            return check_file(path, task.settings)
        try:
            return [recalc_result(path, task.target(path))]
        except (UnreadableWorkbookError, RefusedFileError, PatchError) as exc:
            return [FileResult(path=path, unreadable=str(exc))]
    except Exception as exc:  # a bug must not lose the other 999 results; it is reported with the file
        return [FileResult(path=path, unreadable=f"ข้อผิดพลาดที่ไม่คาดคิด / unexpected error: "
                                                 f"{type(exc).__name__}: {exc}")]


Item = tuple[int, Path]
Done = tuple[int, list[FileResult]]


def process_chunk(items: Sequence[Item], task: Task) -> list[Done]:
    """The unit of work sent to a Dask worker: several files, each with its position in the run."""
    return [(index, process_file(path, task)) for index, path in items]


_worker_task: Task | None = None


def _init_worker(task: Task) -> None:
    global _worker_task
    _worker_task = task


def _pool_job(item: Item) -> Done:
    assert _worker_task is not None, "worker not initialised"
    return item[0], process_file(item[1], _worker_task)


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
                 chunksize: int | None = None) -> Iterator[Done]:
    """``(position, results)`` for each file as it finishes, in no particular order."""
    items = list(enumerate(paths))
    if not items:
        return
    jobs = max(1, min(jobs or default_jobs(), len(items)))
    chunk = chunksize or default_chunksize(len(items), jobs)
    if executor is Executor.DASK:
        yield from _dask_results(items, task, jobs, scheduler, chunk)
    elif jobs == 1:
        for index, path in items:
            yield index, process_file(path, task)
    else:
        with multiprocessing.Pool(jobs, initializer=_init_worker, initargs=(task,)) as pool:
            yield from pool.imap_unordered(_pool_job, items, chunksize=chunk)


def run_batch(paths: Sequence[Path], task: Task, *, jobs: int | None = None,
              executor: Executor = Executor.POOL, scheduler: str | None = None,
              chunksize: int | None = None, progress: Progress | None = None) -> list[FileResult]:
    """Every file's results, in input order; ``progress(n)`` is called as ``n`` more files finish."""
    slots: list[list[FileResult]] = [[] for _ in paths]
    for index, results in iter_results(paths, task, jobs=jobs, executor=executor, scheduler=scheduler,
                                       chunksize=chunksize):
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
