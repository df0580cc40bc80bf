"""Peak memory of a batch run: the whole process tree's RSS, sampled from /proc while it runs.

    .venv/bin/python -m bench.memory --n 1000     # generates $TMPDIR/osmep-bench-1000-s2 once, then measures

Measures the command a user runs (``osmep-xl batch validate --json`` and ``batch recalc --out``) over N
generated submissions, and reports the peak of parent + workers together and of the parent alone.
Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from bench.generate import bench_folder

PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += _children(p)
    return pids


class Sampler:
    """Polls a process tree's RSS every ``interval`` seconds until stopped; keeps the peaks."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid, self.interval = pid, interval
        self.peak_total = self.peak_parent = self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = tree(self.pid)
            sizes = [_rss(p) for p in pids]
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_parent = max(self.peak_parent, sizes[0])
            self.peak_processes = max(self.peak_processes, len(pids))
            time.sleep(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(cmd: Sequence[str]) -> dict[str, float]:
    """Run ``cmd`` and return its wall time and peak RSS (MB), whole tree and parent alone."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with Sampler(proc.pid) as sampler:
        _, err = proc.communicate()
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1, 2) or b"Traceback" in err:
        raise RuntimeError(f"{cmd} failed: {err.decode()[-2000:]}")
    mb = 1024 * 1024
    return {"seconds": elapsed, "peak_tree_mb": sampler.peak_total / mb, "peak_parent_mb": sampler.peak_parent / mb,
            "processes": sampler.peak_processes, "exit": proc.returncode}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="peak RSS of osmep-xl batch over N workbooks")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--dir", type=Path, default=None, help="folder of submissions (generated if missing)")
    args = parser.parse_args(argv)
    folder = bench_folder(args.n, args.seed, args.error_rate, args.dir)
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    osmep = [sys.executable, "-m", "osmep_xl", "batch"]
    with tempfile.TemporaryDirectory(prefix="osmep-mem-") as tmp:
        runs = {
            "batch validate --json": [*osmep, "validate", str(folder), "-q", "--json", f"{tmp}/report.json", *jobs],
            "batch recalc --out --json": [*osmep, "recalc", str(folder), "-q", "--out", f"{tmp}/out",
                                          "--json", f"{tmp}/recalc.json", *jobs],
        }
        print(f"{args.n} workbooks, {os.cpu_count()} cores")
        for name, cmd in runs.items():
            m = measure(cmd)
            print(f"  {name:<28} {m['seconds']:6.1f} s  peak RSS: whole tree {m['peak_tree_mb']:6.1f} MB, "
                  f"parent {m['peak_parent_mb']:6.1f} MB ({m['processes']} processes, exit {m['exit']})")


if __name__ == "__main__":
    main()
