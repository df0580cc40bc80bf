"""Batch throughput against its floor and its alternatives, on the same files in the same run.

    .venv/bin/python -m bench.run --n 500            # generates $TMPDIR/osmep-bench-500-s1 once

Measured, each over every file (the page cache is warmed first, so no run pays for the disk):

* ours: ``run_batch`` validate and recalc (the in-process API, a pool of ``--jobs`` processes and one
  process) and the CLI ``osmep-xl batch validate|recalc`` (wall time, including start-up);
* the floor: python-calamine opening each file and ``to_python`` of every sheet, in the same pool;
* openpyxl: a naive ``load_workbook`` + ``save`` of each file, in the same pool;
* LibreOffice headless recalculating on load (tests/libreoffice.py's profile) and saving .xlsx:
  ``--lo-batch`` files per soffice invocation, ``--jobs`` invocations at a time (each with its own
  profile), plus ``--lo-single`` files converted one per invocation (the per-file cost with start-up).

Ratios are of throughput (files/s): ours vs LibreOffice, the raw read vs ours, ours vs openpyxl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from bench.generate import bench_folder
from osmep_xl.batch import Task, collect, default_chunksize, default_jobs, run_batch
from osmep_xl.rules.config import load_settings
from tests.libreoffice import make_profile, soffice


def raw_read(path: Path) -> int:
    """The floor: open with python-calamine and materialise every sheet's values."""
    book = CalamineWorkbook.from_path(str(path))
    cells = sum(len(book.get_sheet_by_name(name).to_python()) for name in book.sheet_names)
    book.close()
    return cells


_OPENPYXL_OUT = ""


def _openpyxl_init(out: str) -> None:
    global _OPENPYXL_OUT
    _OPENPYXL_OUT = out


def openpyxl_roundtrip(path: Path) -> int:
    """What a naive script does: load the whole workbook with openpyxl and save it again."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    book.save(os.path.join(_OPENPYXL_OUT, path.name))
    return 1


def in_pool(func: Callable[[Path], int], paths: Sequence[Path], jobs: int,
            init: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()) -> float:
    """Seconds to run ``func`` over ``paths`` in a pool of ``jobs`` processes, like ``run_batch``."""
    started = time.perf_counter()
    if jobs == 1:
        if init is not None:
            init(*initargs)
        for p in paths:
            func(p)
    else:
        with multiprocessing.Pool(jobs, initializer=init, initargs=initargs) as pool:
            for _ in pool.imap_unordered(func, paths, chunksize=default_chunksize(len(paths), jobs)):
                pass
    return time.perf_counter() - started


def cpu_seconds() -> float:
    """User + system CPU of this process and every descendant it has waited for (pool workers, soffice)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(func: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (all processes) of ``func``."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    func()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def libreoffice(paths: Sequence[Path], out: Path, *, jobs: int, batch: int, single: int) -> dict[str, float]:
    """LibreOffice recalculating on load and saving .xlsx: batched, and one file per invocation."""
    exe = soffice()
    if exe is None:
        return {}
    profiles = [Path(tempfile.mkdtemp(prefix="osmep-lo-")) for _ in range(jobs)]

    def convert(files: Sequence[Path], slot: int, dest: Path) -> None:
        cmd = [exe, f"-env:UserInstallation={make_profile(profiles[slot])}", "--headless", "--norestore",
               "--nolockcheck", "--convert-to", "xlsx", "--outdir", str(dest), *map(str, files)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=3600)

    def batched() -> None:
        chunks = [paths[i:i + batch] for i in range(0, len(paths), batch)]
        with ThreadPoolExecutor(jobs) as pool:  # ``jobs`` soffice processes at a time, one profile each
            list(pool.map(lambda k: [convert(c, k, out / "batch") for c in chunks[k::jobs]], range(jobs)))
        written = len(list((out / "batch").glob("*.xlsx")))
        if written != len(paths):
            raise RuntimeError(f"LibreOffice wrote {written} of {len(paths)} files")

    try:
        for slot in range(jobs):  # a profile's first start builds it: not part of the measurement
            convert(paths[:1], slot, out / "warmup")
        wall, cpu = timed(batched)
        few = paths[:single]
        single_wall, single_cpu = timed(lambda: [convert([p], 0, out / "single") for p in few])
    finally:
        for profile in profiles:
            shutil.rmtree(profile, ignore_errors=True)
    return {"batch_wall": wall, "batch_cpu": cpu, "single_wall_per_file": single_wall / max(1, len(few)),
            "single_cpu_per_file": single_cpu / max(1, len(few))}


def machine() -> dict[str, Any]:
    cpu = ""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as fh:
        ram = int(fh.readline().split()[1]) // (1024 * 1024)
    lo = subprocess.run([soffice() or "false", "--version"], capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": ram, "python": platform.python_version(),
            "libreoffice": lo, "date": dt.date.today().isoformat()}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="osmep-xl batch throughput vs raw read, openpyxl, LibreOffice")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--dir", type=Path, default=None, help="folder of submissions (generated if missing)")
    parser.add_argument("--lo-batch", type=int, default=50, help="files per soffice invocation")
    parser.add_argument("--lo-single", type=int, default=10, help="files converted one per invocation")
    parser.add_argument("--skip-lo", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    folder = bench_folder(args.n, args.seed, args.error_rate, args.dir)
    paths = collect([folder]).paths
    for p in paths:  # warm the page cache: every contender reads from memory
        p.read_bytes()
    n, jobs = len(paths), args.jobs
    settings = load_settings()
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    print(f"{n} workbooks in {folder}, {jobs} processes; wall time, throughput, CPU time per file (all processes)")

    def record(name: str, seconds: float, cpu_seconds: float) -> None:
        wall[name], cpu[name] = seconds, cpu_seconds
        print(f"  {name:<36} {seconds:8.2f} s {n / seconds:8.1f} files/s {1000 * cpu_seconds / n:8.2f} ms CPU/file",
              flush=True)

    with tempfile.TemporaryDirectory(prefix="osmep-bench-") as tmp_name:
        tmp = Path(tmp_name)

        def fresh(name: str) -> Path:
            shutil.rmtree(tmp / name, ignore_errors=True)
            (tmp / name).mkdir()
            return tmp / name

        osmep = [sys.executable, "-m", "osmep_xl", "batch"]
        steps: list[tuple[str, Callable[[], object]]] = [
            ("raw read (calamine), pool", lambda: in_pool(raw_read, paths, jobs)),
            ("raw read (calamine), 1 process", lambda: in_pool(raw_read, paths, 1)),
            ("validate API, pool", lambda: run_batch(paths, Task("validate", settings), jobs=jobs)),
            ("validate API, 1 process", lambda: run_batch(paths, Task("validate", settings), jobs=1)),
            ("recalc API, pool", lambda: run_batch(paths, Task("recalc", settings, out_dir=fresh("r1")), jobs=jobs)),
            ("recalc API, 1 process", lambda: run_batch(paths, Task("recalc", settings, out_dir=fresh("r2")), jobs=1)),
            ("validate CLI (--json)", lambda: subprocess.run(
                [*osmep, "validate", str(folder), "-q", "--jobs", str(jobs), "--json", str(tmp / "v.json")],
                capture_output=True)),
            ("recalc CLI (--out)", lambda: subprocess.run(
                [*osmep, "recalc", str(folder), "-q", "--jobs", str(jobs), "--out", str(fresh("r3"))],
                capture_output=True)),
            ("openpyxl load+save, pool", lambda: in_pool(openpyxl_roundtrip, paths, jobs, _openpyxl_init,
                                                         (str(fresh("op")),))),
        ]
        for name, step in steps:
            record(name, *timed(step))
        lo = {} if args.skip_lo else libreoffice(paths, tmp / "lo", jobs=jobs, batch=args.lo_batch,
                                                 single=args.lo_single)
    if lo:
        record(f"LibreOffice, {args.lo_batch} files per run", lo["batch_wall"], lo["batch_cpu"])
        print(f"  {'LibreOffice, one file per run':<36} {lo['single_wall_per_file']:8.2f} s per file, "
              f"{1000 * lo['single_cpu_per_file']:.0f} ms CPU/file")
    lo_name = f"LibreOffice, {args.lo_batch} files per run"
    both_wall = wall["validate API, pool"] + wall["recalc API, pool"]  # validate, then recalc, each file
    both_cpu = cpu["validate API, pool"] + cpu["recalc API, pool"]
    raw = "raw read (calamine), pool"
    ratios: dict[str, dict[str, float | None]] = {
        "validate vs LibreOffice batches (x faster)": {
            "wall": wall[lo_name] / wall["validate API, pool"] if lo else None,
            "cpu": cpu[lo_name] / cpu["validate API, pool"] if lo else None},
        "validate+recalc vs LibreOffice batches (x faster)": {
            "wall": wall[lo_name] / both_wall if lo else None, "cpu": cpu[lo_name] / both_cpu if lo else None},
        "recalc vs LibreOffice batches (x faster)": {
            "wall": wall[lo_name] / wall["recalc API, pool"] if lo else None,
            "cpu": cpu[lo_name] / cpu["recalc API, pool"] if lo else None},
        "validate+recalc vs LibreOffice one file per run (x faster)": {
            "wall": lo["single_wall_per_file"] * n / both_wall if lo else None,
            "cpu": lo["single_cpu_per_file"] * n / both_cpu if lo else None},
        "validate vs raw read (x slower than the floor)": {
            "wall": wall["validate API, pool"] / wall[raw], "cpu": cpu["validate API, pool"] / cpu[raw]},
        "recalc vs raw read (x slower than the floor)": {
            "wall": wall["recalc API, pool"] / wall[raw], "cpu": cpu["recalc API, pool"] / cpu[raw]},
        "validate+recalc vs raw read (x slower than the floor)": {"wall": both_wall / wall[raw],
                                                                   "cpu": both_cpu / cpu[raw]},
        "openpyxl load+save vs recalc (x slower than ours)": {
            "wall": wall["openpyxl load+save, pool"] / wall["recalc API, pool"],
            "cpu": cpu["openpyxl load+save, pool"] / cpu["recalc API, pool"]},
        "openpyxl load+save vs validate (x slower than ours)": {
            "wall": wall["openpyxl load+save, pool"] / wall["validate API, pool"],
            "cpu": cpu["openpyxl load+save, pool"] / cpu["validate API, pool"]},
    }
    print(f"\nvalidate+recalc (both, each file): {n / both_wall:.1f} files/s on {jobs} processes, "
          f"{1000 * both_cpu / n:.1f} ms CPU/file")
    print(f"  {'ratio':<60} {'wall':>7} {'CPU':>7}")
    for name, value in ratios.items():
        if value["wall"] is not None and value["cpu"] is not None:
            print(f"  {name:<60} {value['wall']:7.1f} {value['cpu']:7.1f}")
    vs_lo = ratios["validate vs LibreOffice batches (x faster)"]
    if vs_lo["wall"] is None or vs_lo["cpu"] is None:
        print("\ngoal: batch validate >= 20x batched LibreOffice (50x aimed): not measured (--skip-lo)")
    else:
        met = "MET (50x aimed: " + ("met)" if min(vs_lo["wall"], vs_lo["cpu"]) >= 50 else "not met)")
        print(f"\ngoal: batch validate >= 20x batched LibreOffice: "
              f"{met if min(vs_lo['wall'], vs_lo['cpu']) >= 20 else 'NOT MET'}"
              f" ({vs_lo['wall']:.1f}x wall, {vs_lo['cpu']:.1f}x CPU)")
    info = machine()
    info["load_average_1min"] = os.getloadavg()[0]
    print(json.dumps(info, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "files": n, "jobs": jobs, "wall_seconds": wall,
                                         "cpu_seconds": cpu, "libreoffice": lo, "ratios": ratios}, indent=2,
                                        ensure_ascii=False))


if __name__ == "__main__":
    main()
