"""Long fuzz run of the readers and the validator (issue: never crash on hostile or broken input).

    python bench/fuzz.py --workbooks 10000 --cells 100000 --seed 1

Damaged workbooks must give findings (of catalogued rules, at valid cells) or a clean refusal; random
cell values must coerce without raising. The seed is random unless given (--seed, or OSMEP_FUZZ_SEED) and
printed first, so any run can be replayed. Exits non-zero on the first uncaught exception, a Rust panic
included, naming the run's seed and the failing case's.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from osmep_xl.data import load_report
from osmep_xl.spec import TEMPLATES
from osmep_xl.xlsx.coerce import coerce
from osmep_xl.xlsx.generate import write_workbook
from tests.fuzzing import mutate_workbook, random_rows, raw_cells, read_and_validate

HOSTILE = [None, "x", "๑๒๓", "1,234 บาท", "#REF!", -5, 1e300, -1e12, "=1+1", "1e999", 2564.9, "[b]", "30 มิ.ย.64"]
COLUMNS = [c for spec in TEMPLATES.values() for b in spec.blocks for c in b.columns]


def fuzz_cells(n: int, run_seed: int) -> None:
    import hypothesis.strategies as st

    @seed(run_seed)
    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(COLUMNS), raw_cells)
    def run(column, raw):  # type: ignore[no-untyped-def]
        coerce(column, raw)

    run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workbooks", type=int, default=10_000)
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=None, help="default: OSMEP_FUZZ_SEED, else random")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = int(os.environ.get("OSMEP_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
    print(f"seed {args.seed} (replay: python bench/fuzz.py --seed {args.seed})", flush=True)
    started = time.perf_counter()
    try:
        fuzz_cells(args.cells, args.seed)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        traceback.print_exc()
        print(f"FAILED coercing cells, run seed {args.seed}")
        return 1
    print(f"cells: {args.cells} random values coerced for {len(COLUMNS)} columns, no exception")
    rng = random.Random(args.seed)
    refused = findings = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        seeds = {t: write_workbook(load_report(t), root / f"{t}.xlsx").read_bytes() for t in TEMPLATES}
        for n in range(args.workbooks):
            case_seed = rng.randrange(2**32)
            case = random.Random(case_seed)
            path = root / "case.xlsx"
            try:
                if n % 4 == 3:  # random structures through the writer, reader and validator
                    write_workbook(random_rows(case, case.choice(list(TEMPLATES))), path)
                else:
                    values = [case.choice(HOSTILE) for _ in range(8)]
                    path.write_bytes(mutate_workbook(seeds[case.choice(list(TEMPLATES))], case, values))
                result = read_and_validate(path)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:  # a Rust panic in a reader is a BaseException, and a bug like any other
                traceback.print_exc()
                print(f"FAILED at workbook {n}, case seed {case_seed}, run seed {args.seed}")
                return 1
            refused += result < 0
            findings += max(result, 0)
            if n and n % 1000 == 0:
                print(f"  {n} workbooks, {refused} refused, {findings} findings, {time.perf_counter() - started:.0f} s")
    print(f"workbooks: {args.workbooks} fuzzed, {refused} refused cleanly, {findings} findings, no uncaught exception")
    print(f"time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
