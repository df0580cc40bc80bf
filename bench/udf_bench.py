"""Time one 10,000-row call of each vectorised worksheet function (Python time only).

    .venv/bin/python bench/udf_bench.py [--rows 10000] [--repeat 5] [--cpu] [--hard]

Each function gets whole columns, as Excel passes a range to a UDF, and is called once per run; the
figure is the best of ``--repeat`` runs after a warm-up call (Excel's own round trip is not included).
``--cpu`` times the process's CPU instead of the wall clock: on a shared machine that is the figure that holds.
``--hard`` gives inputs that defeat the fast paths instead of the usual ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
from collections.abc import Callable
from typing import Any

from osmep_xl.excel.udfs import (
    OSMEP_BE,
    OSMEP_CE,
    OSMEP_DISBURSEMENT_FLAG,
    OSMEP_FISCAL_QUARTER,
    OSMEP_FISCAL_YEAR,
    OSMEP_KPI_ACHIEVEMENT,
    OSMEP_KPI_STATUS,
    OSMEP_NUMBER,
    OSMEP_PERCENT,
    OSMEP_REMAINING,
)


def column(make: Callable[[int], Any], rows: int) -> list[list[Any]]:
    return [[make(i)] for i in range(rows)]


def cases(rows: int) -> dict[str, tuple[Callable[..., Any], tuple[Any, ...]]]:
    start = dt.date(2020, 10, 1)
    dates = column(lambda i: start + dt.timedelta(days=i % 365), rows)
    allocated = column(lambda i: 1_000_000 + i * 137.25, rows)
    disbursed = column(lambda i: 400_000 + (i % 997) * 311.5, rows)
    committed = column(lambda i: (i % 13) * 1_000.0, rows)
    results = column(lambda i: "อยู่ระหว่างดำเนินการ" if i % 10 == 0 else 50 + i % 60, rows)
    targets = column(lambda i: ("ร้อยละ 70-80", "ไม่น้อยกว่า 4.10", 100, "ไม่เกิน 5 วัน")[i % 4], rows)
    return {
        "OSMEP_PERCENT": (OSMEP_PERCENT, (disbursed, allocated)),
        "OSMEP_REMAINING": (OSMEP_REMAINING, (allocated, disbursed, committed)),
        "OSMEP_KPI_ACHIEVEMENT": (OSMEP_KPI_ACHIEVEMENT, (results, targets, None)),
        "OSMEP_KPI_STATUS": (OSMEP_KPI_STATUS, (results, targets, None)),
        "OSMEP_DISBURSEMENT_FLAG": (OSMEP_DISBURSEMENT_FLAG, (column(lambda i: 2564, rows), dates, allocated,
                                                              disbursed, committed, None, None)),
        "OSMEP_FISCAL_YEAR": (OSMEP_FISCAL_YEAR, (dates,)),
        "OSMEP_FISCAL_QUARTER": (OSMEP_FISCAL_QUARTER, (dates,)),
        "OSMEP_BE": (OSMEP_BE, (column(lambda i: 1990 + i % 50, rows),)),
        "OSMEP_CE": (OSMEP_CE, (column(lambda i: 2533 + i % 50, rows),)),
        "OSMEP_NUMBER": (OSMEP_NUMBER, (column(lambda i: f"{i:,}.50 บาท" if i % 2 else f"๑,{i % 1000:03d}", rows),)),
    }


def hard_cases(rows: int) -> dict[str, tuple[Callable[..., Any], tuple[Any, ...]]]:
    """Inputs that defeat the fast paths: distinct KPI results, amounts of three decimals or typed as text,
    a group per row, negatives in parentheses."""
    as_of, act, subsidy = dt.date(2021, 6, 30), "พ.ร.บ.งบประมาณ", "งบเงินอุดหนุน"
    results = column(lambda i: 50 + i * 0.37, rows)
    targets = column(lambda i: ("ร้อยละ 70-80", "ไม่น้อยกว่า 4.10", 100, "ไม่เกิน 5 วัน")[i % 4], rows)
    disbursed = column(lambda i: 400_000 + (i % 997) * 311.5, rows)
    return {
        "KPI_ACHIEVEMENT distinct": (OSMEP_KPI_ACHIEVEMENT, (results, targets, None)),
        "KPI_STATUS distinct": (OSMEP_KPI_STATUS, (results, targets, None)),
        "FISCAL_YEAR serials": (OSMEP_FISCAL_YEAR, (column(lambda i: 40000.0 + i, rows),)),
        "NUMBER (negatives)": (OSMEP_NUMBER, (column(lambda i: f"({i:,}.50)", rows),)),
        "PERCENT 3 decimals": (OSMEP_PERCENT, (column(lambda i: 400_000 + i * 0.125, rows), 1_000_000.0)),
        "FLAG 3 decimals": (OSMEP_DISBURSEMENT_FLAG, (2564, as_of, column(lambda i: 1_000_000 + i * 137.255, rows),
                                                      disbursed, 0, None, None, act, subsidy)),
        "FLAG text amounts": (OSMEP_DISBURSEMENT_FLAG, (2564, as_of, column(lambda i: f"{1_000_000 + i:,}", rows),
                                                        disbursed, 0, None, None, act, subsidy)),
        "FLAG group per row": (OSMEP_DISBURSEMENT_FLAG, (
            column(lambda i: 2563 + i % 3, rows), column(lambda i: dt.date(2020, 10, 1) + dt.timedelta(days=i % 700),
                                                         rows),
            column(lambda i: 1_000_000 + i * 137.25, rows), disbursed, column(lambda i: (i % 13) * 1_000.0, rows),
            None, None, column(lambda i: (act, "เงินกองทุน")[i % 2], rows),
            column(lambda i: (subsidy, "งบลงทุน", None)[i % 3], rows))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cpu", action="store_true", help="CPU time of the process, not wall time")
    parser.add_argument("--hard", action="store_true", help="inputs that defeat the fast paths (hard_cases)")
    args = parser.parse_args()
    clock = time.process_time if args.cpu else time.perf_counter
    print(f"osmep_xl UDFs, {args.rows:,} rows per call, best of {args.repeat}, {'CPU' if args.cpu else 'wall'} "
          f"(Python {platform.python_version()}, {platform.machine()})")
    print(f"{'function':<26}{'ms / call':>12}{'µs / row':>12}")
    for name, (func, call_args) in (hard_cases if args.hard else cases)(args.rows).items():
        out = func(*call_args)  # warm-up (settings, caches) and a shape check
        assert len(out) == args.rows
        best = min(_timed(func, call_args, clock) for _ in range(args.repeat))
        print(f"{name:<26}{best * 1e3:>12.1f}{best * 1e6 / args.rows:>12.2f}")


def _timed(func: Callable[..., Any], call_args: tuple[Any, ...], clock: Callable[[], float]) -> float:
    start = clock()
    func(*call_args)
    return clock() - start


if __name__ == "__main__":
    main()
