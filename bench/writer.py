"""The writer's cost: ``recalc`` of a disbursement workbook of N project lines where a few cells change,
against the raw calamine read of the same file; time (median of ``--repeat``) and the process's peak RSS.

Each size runs in a fresh process, so that the peak is that size's alone. The workbooks are written once
into ``--dir`` (lines grouped under their strategy, so that every version of the writer can recalc them);
then five derived cells are typed over with wrong figures, which recalc must put right.

    .venv/bin/python -m bench.writer --sizes 1000 10000 50000
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

FY, SOURCE = Decimal(2564), "พ.ร.บ.งบประมาณ"
STRATEGIES = 10
CHANGED = 5


def _rows(n: int) -> list[dict[str, Any]]:
    base = {"fiscal_year": FY, "budget_source": SOURCE}
    rows: list[dict[str, Any]] = [{**base, "level": "total", "code": "T", "name": "รวม"}]
    for s in range(1, STRATEGIES + 1):
        rows.append({**base, "level": "strategy", "code": str(s), "parent": "T", "name": f"ยุทธศาสตร์ {s}"})
        for p in range(n // STRATEGIES):
            rows.append({**base, "level": "project", "code": f"{s}.{p + 1}", "parent": str(s),
                         "name": f"โครงการส่งเสริมผู้ประกอบการ {s}.{p + 1}",
                         "allocated": Decimal(1000 + p % 977) * 1000 + Decimal(p % 100) / 100,
                         "disbursed": Decimal(p % 701) * 100, "committed": Decimal(p % 13) * 10})
    return rows


def make(n: int, folder: Path) -> Path:
    """The workbook of ``n`` lines with :data:`CHANGED` derived cells typed over (written once)."""
    from osmep_xl.model.workbook import WorkbookData
    from osmep_xl.xlsx.generate import write_workbook
    from osmep_xl.xlsx.patch import WorkbookPatch
    from osmep_xl.xlsx.read import read_workbook

    path = folder / f"disbursement-{n}.xlsx"
    if path.exists():
        return path
    full = write_workbook(WorkbookData(template="disbursement", meta={"agency": "สสว.", "fiscal_year": 2564},
                                       blocks={"lines": _rows(n)}), folder / f"full-{n}.xlsx")
    rb = read_workbook(full).blocks["lines"]
    patch = WorkbookPatch(full)
    edits = []
    for k in range(CHANGED):
        i = len(rb.rows) * (k + 1) // (CHANGED + 1)
        patch.set_cell(rb.sheet, rb.address(i, "total"), Decimal(k + 1))
        edits.append((rb.sheet, rb.address(i, "total"), rb.formula_text[(i, "total")]))
    patch.save(path)
    full.unlink()
    path.with_suffix(".json").write_text(json.dumps(edits, ensure_ascii=False), "utf-8")
    return path


def write_only(path: Path, repeat: int) -> dict[str, float]:
    """In this process: only the writer's part of recalc — the five formulas written back, the file saved."""
    from osmep_xl.xlsx.patch import WorkbookPatch

    edits = json.loads(path.with_suffix(".json").read_text("utf-8"))
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            start = time.perf_counter()
            patch = WorkbookPatch(path)
            for sheet, cell, formula in edits:
                patch.set_cell(sheet, cell, Decimal(0), formula=formula)
            patch.save(Path(tmp) / "out.xlsx")
            times.append(time.perf_counter() - start)
            del patch
            gc.collect()  # the peak is one run's, not the repeats' left for the collector
    return {"write_ms": statistics.median(times) * 1000,
            "write_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(path: Path, repeat: int) -> dict[str, float]:
    """In this process: the raw read, then recalc (median of ``repeat``), then the peak RSS."""
    from python_calamine import CalamineWorkbook

    from osmep_xl.check import recalc_result

    def raw() -> None:
        wb = CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()

    def timed(fn: Any) -> float:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
            gc.collect()
        return statistics.median(times) * 1000

    import osmep_xl

    print(f"measuring {osmep_xl.__file__}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.xlsx"
        read_ms = timed(raw)

        def recalc() -> None:
            out.unlink(missing_ok=True)
            changes = [f for f in recalc_result(path, out, backup=False).findings if f.rule == "recalc.changed"]
            assert len(changes) == CHANGED, changes

        recalc_ms = timed(recalc)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"read_ms": read_ms, "recalc_ms": recalc_ms, "peak_mb": peak_mb}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "osmep-bench-writer")
    parser.add_argument("--code", type=Path, help="measure the osmep_xl package in this folder instead (an"
                        " earlier version: git archive COMMIT osmep_xl | tar -x -C DIR)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # the child process: measure this file
    parser.add_argument("--what", choices=("recalc", "write"), default="recalc", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        if args.code is not None:  # before the editable install's finder, which would find this checkout
            sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__]
            sys.path.insert(0, str(args.code))
        print(json.dumps((measure if args.what == "recalc" else write_only)(args.one, args.repeat)))
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    print("| project lines | raw calamine read ms | recalc ms | recalc / read | recalc peak RSS MB"
          " | writing alone ms | writing alone peak RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        path = make(n, args.dir)
        got: dict[str, float] = {}
        for what in ("recalc", "write"):
            code = ["--code", str(args.code)] if args.code is not None else []
            got |= json.loads(subprocess.run(
                [sys.executable, "-m", "bench.writer", "--one", str(path), "--what", what,
                 "--repeat", str(args.repeat), *code], check=True, capture_output=True, text=True).stdout)
        print(f"| {n:,} | {got['read_ms']:,.1f} | {got['recalc_ms']:,.0f} | {got['recalc_ms'] / got['read_ms']:.1f}"
              f" | {got['peak_mb']:,.0f} | {got['write_ms']:,.0f} | {got['write_peak_mb']:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
