"""Size sweep: one disbursement workbook per size (10 to 50,000 project rows), measured in one process on the
same files against the raw read and what an analyst would write instead (pandas).

    .venv/bin/python -m bench.sweep                         # generates $TMPDIR/osmep-sweep-s1-<stamp> once
    .venv/bin/python -m bench.sweep --sizes 10,1000 --repeat 3
    .venv/bin/python -m bench.sweep --cpu --no-rss --ops "raw read,pandas script,validate"

Per size, median of ``--repeat`` runs after a warm-up: the raw python-calamine read (open + ``to_python``
of every sheet: the floor), the pandas script (``bench/pandas_check.py``), ``validate`` (``check_file``),
``recalc`` to a new file (``recalc_result``) and validate + recalc of the same file (``check_and_recalc``).
Peak RSS of each (``VmHWM``) comes from a fresh process per size and operation, so one never inherits
another's peak.

The workbooks are written as ``osmep-xl fill`` writes them: projects carry the figures, every strategy,
part and the total are the template's roll-up formulas (ten projects a strategy, ten strategies a part,
so that no roll-up formula exceeds Excel's 8,192 characters), each derived column its formula.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.generate import FY, META, SOURCE, _disbursement_leaf
from bench.run import raw_read
from osmep_xl.check import check_and_recalc, check_file, recalc_result
from osmep_xl.model.workbook import WorkbookData
from osmep_xl.rules.config import load_settings
from osmep_xl.xlsx.generate import write_workbook

SIZES = (10, 100, 1_000, 10_000, 50_000)
PER_STRATEGY = PER_PART = 10
OPERATIONS = ("raw read", "pandas script", "validate", "recalc", "validate + recalc")


def sweep_data(projects: int, seed: int = 1) -> WorkbookData:
    """A disbursement table of ``projects`` project rows under strategies, parts and one total."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = [{"level": "total", "code": "T", "name": "รวมทั้งสิ้น"}]
    for n in range(projects):
        strategy, part = n // PER_STRATEGY, n // (PER_STRATEGY * PER_PART)
        if n % (PER_STRATEGY * PER_PART) == 0:
            rows.append({"level": "part", "code": f"P{part + 1}", "parent": "T", "name": f"ส่วนที่ {part + 1}"})
        if n % PER_STRATEGY == 0:
            rows.append({"level": "strategy", "code": f"S{strategy + 1}", "parent": f"P{part + 1}",
                         "name": f"ยุทธศาสตร์ที่ {strategy + 1}"})
        rows.append({"level": "project", "code": str(n + 1), "parent": f"S{strategy + 1}",
                     "name": f"โครงการที่ {n + 1}", **_disbursement_leaf(rng)})
    for row in rows:
        row.update(fiscal_year=FY, budget_source=SOURCE)
    return WorkbookData.parse({"template": "disbursement", "meta": {**META, "agency": "สสว."},
                               "blocks": {"lines": rows}})


def generator_stamp() -> str:
    """A short digest of the sheets this code writes for a 10-row table: the default folder is named by it,
    so that workbooks written by an earlier generator (other formulas or formats) are not measured."""
    with tempfile.TemporaryDirectory(prefix="osmep-sweep-") as tmp:
        path = write_workbook(sweep_data(10), Path(tmp) / "stamp.xlsx")
        with zipfile.ZipFile(path) as zf:
            sheets = sorted(n for n in zf.namelist() if n.startswith("xl/worksheets/"))
            return hashlib.sha1(b"".join(zf.read(n) for n in sheets)).hexdigest()[:10]


def sweep_files(folder: Path, sizes: Sequence[int]) -> dict[int, Path]:
    """One workbook per size in ``folder``, written when missing."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[int, Path] = {}
    for size in sizes:
        path = folder / f"disbursement_{size}.xlsx"
        if not path.exists():
            print(f"writing {path} ...", flush=True)
            write_workbook(sweep_data(size), path)
        out[size] = path
    return out


def operations(path: Path, out: Path) -> dict[str, Callable[[], object]]:
    """Each measured operation on ``path``; recalc writes ``out`` (removed first)."""
    settings = load_settings()

    def recalc() -> object:
        out.unlink(missing_ok=True)
        return recalc_result(path, out)

    def both() -> object:
        out.unlink(missing_ok=True)
        return check_and_recalc(path, out, settings)

    def pandas_script() -> object:
        # imported here: a peak-RSS process measuring another operation does not carry pandas (~37 MB)
        from bench.pandas_check import pandas_check
        return pandas_check(path)

    return {"raw read": lambda: raw_read(path), "pandas script": pandas_script,
            "validate": lambda: check_file(path, settings), "recalc": recalc, "validate + recalc": both}


def median_ms(call: Callable[[], object], repeat: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """Median milliseconds of ``repeat`` calls after a warm-up (imports, caches, the page cache); ``clock``
    ``time.process_time`` counts this process's CPU time, which other load on a shared machine disturbs
    far less than wall time."""
    call()
    runs = []
    for _ in range(repeat):
        started = clock()
        call()
        runs.append(clock() - started)
    return 1000 * statistics.median(runs)


def peak_rss_mb(operation: str, path: Path) -> float:
    """Peak RSS of a fresh process that runs ``operation`` once on ``path`` (imports included)."""
    done = subprocess.run([sys.executable, "-m", "bench.sweep", "--rss", operation, str(path)], check=True,
                          capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def _rss_child(operation: str, path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="osmep-sweep-") as tmp:
        operations(path, Path(tmp) / "out.xlsx")[operation]()
    print(peak_rss_kib() / 1024)


def peak_rss_kib() -> int:
    """This process's peak RSS: VmHWM, which starts afresh at exec (ru_maxrss keeps the forking parent's)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def table(results: dict[int, dict[str, Any]]) -> str:
    """The markdown table of the sweep."""
    head = ("| project rows | raw read ms | pandas ms | validate ms | recalc ms | validate + recalc ms "
            "| validate ÷ pandas | validate ÷ raw | peak RSS MB: pandas / validate / recalc / both |")
    lines = [head, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size, r in sorted(results.items()):
        ms, rss = r["ms"], r["rss_mb"]
        lines.append(
            f"| {size:,} | {ms['raw read']:,.1f} | {ms['pandas script']:,.1f} | {ms['validate']:,.1f} "
            f"| {ms['recalc']:,.1f} | {ms['validate + recalc']:,.1f} "
            f"| {ms['validate'] / ms['pandas script']:.2f} | {ms['validate'] / ms['raw read']:.1f} "
            f"| {rss.get('pandas script', 0):.0f} / {rss.get('validate', 0):.0f} / {rss.get('recalc', 0):.0f}"
            f" / {rss.get('validate + recalc', 0):.0f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="size sweep: validate and recalc against pandas and the raw read")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="project rows, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None,
                        help="folder of the workbooks (default: $TMPDIR/osmep-sweep-s1-<generator stamp>)")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-RSS processes")
    parser.add_argument("--cpu", action="store_true", help="CPU time of this process instead of wall time")
    parser.add_argument("--ops", default=",".join(OPERATIONS), help="operations to measure, comma-separated")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    parser.add_argument("--rss", nargs=2, metavar=("OPERATION", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss:
        _rss_child(args.rss[0], Path(args.rss[1]))
        return
    folder = args.dir or Path(tempfile.gettempdir()) / f"osmep-sweep-s1-{generator_stamp()}"
    files = sweep_files(folder, [int(s) for s in args.sizes.split(",")])
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="osmep-sweep-") as tmp:
        for size, path in files.items():
            ops = operations(path, Path(tmp) / f"out_{size}.xlsx")
            chosen = [name for name in OPERATIONS if name in args.ops.split(",")]
            clock = time.process_time if args.cpu else time.perf_counter
            ms = {name: median_ms(ops[name], args.repeat, clock) for name in chosen}
            rss = {} if args.no_rss else {name: peak_rss_mb(name, path) for name in chosen}
            results[size] = {"ms": ms, "rss_mb": rss}
            print(f"{size:>6,} rows: " + "  ".join(f"{k} {v:,.1f} ms" for k, v in ms.items())
                  + ("  RSS MB " + " ".join(f"{v:.0f}" for v in rss.values()) if rss else ""), flush=True)
    if set(OPERATIONS) <= set(args.ops.split(",")):
        print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
