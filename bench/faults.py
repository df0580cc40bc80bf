"""Fault injection: does validation point at the typed cell?

    .venv/bin/python -m bench.faults --per-class 40 --seed 1        # the table in bench/README.md
    .venv/bin/python -m bench.faults --double --per-class 100 --synthetic 16 --seed 1   # two faults a variant
    .venv/bin/python -m bench.faults --overhead --n 200             # what diagnosis adds to batch validate

Clean bases: the demo workbooks (``osmep-xl demo``) and synthetic submissions (bench/generate.py, no
mistakes), each recalculated and then made *values only*: every formula replaced by its value, as a
workbook typed by hand or pasted as values is. A formula over nothing (a sub-row whose lines are all blank)
becomes a blank, not a typed 0 (see bench/README.md). What validation already reports on a base (the
printed report's own inconsistencies) is subtracted from what it reports on each variant.

One fault per variant, of the kinds finance staff make: two adjacent digits transposed, an extra or a
missing zero, one digit changed, a percentage typed as a fraction, a number typed as text, a figure left
blank, a wrong but existing parent code, a row deleted, a row entered twice. Per class:

* detected: some new error or warning, or a new ``rollup.unsupported`` information (a typed total whose
  lines are all blank, listing them as candidates: the only line under a parent left blank);
* at cause: a finding at the typed cell that is not a consequence and lists no other candidate;
* candidate: the typed cell is the cause or among a finding's candidates;
* false alarm: a new error at a cell that is neither the typed cell nor marked as a consequence (``cause``)
  nor the finding listing the candidates.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from osmep_xl.check import check_file, recalc_file
from osmep_xl.data import load_report
from osmep_xl.findings import Finding, Severity
from osmep_xl.model.evaluate import BlockCalc
from osmep_xl.rules.catalog import RULES
from osmep_xl.rules.config import Settings, load_settings
from osmep_xl.spec.base import ColType
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.patch import WorkbookPatch
from osmep_xl.xlsx.read import ReadBlock, read_workbook

ERROR_RULES = {r.id for r in RULES.values() if r.severity is Severity.ERROR}
DETECTING_INFO = {"rollup.unsupported"}  # an information that lists the blank cells as candidates
T = TypeVar("T")  # a planned fault: one, or a pair
VALUE_CLASSES = ("transpose", "extra_zero", "missing_zero", "digit", "pct_fraction", "as_text", "blank")
CLASSES = ("transpose", "extra_zero", "missing_zero", "digit", "pct_fraction", "as_text", "blank",
           "wrong_parent", "row_deleted", "row_duplicated")


def values_only(source: Path, out: Path) -> Path:
    """``source`` recalculated, then every formula replaced by the value it shows."""
    with tempfile.TemporaryDirectory() as tmp:
        rec = Path(tmp) / source.name
        recalc_file(source, rec, backup=False)
        wb = read_workbook(rec)
        patch = WorkbookPatch(rec)
        for rb in wb.blocks.values():
            for i, c in sorted(rb.formula_cells):
                patch.set_cell(rb.sheet, rb.address(i, c), rb.rows[i].get(c))
        if out.exists():
            out.unlink()
        patch.save(out)
    return out


def bases(folder: Path, synthetic: int, seed: int) -> list[Path]:
    from bench.generate import TEMPLATES, submission

    made: list[Path] = []
    for template in TEMPLATES:
        src = write_workbook(load_report(template), folder / f"src_demo_{template}.xlsx")
        made.append(values_only(src, folder / f"demo_{template}.xlsx"))
    rng = random.Random(seed)
    for n in range(synthetic):
        template = TEMPLATES[n % len(TEMPLATES)]
        data, _ = submission(template, rng, agency="สสว.", error_rate=0.0, small=False)
        src = write_workbook(data, folder / f"src_syn{n}_{template}.xlsx")
        made.append(values_only(src, folder / f"syn{n}_{template}.xlsx"))
    return made


@dataclass(frozen=True)
class Fault:
    kind: str
    sheet: str
    cell: str  # the typed cell ("" when no cell is to blame: a deleted row)
    edits: tuple[tuple[str, str, Any], ...]  # (sheet, cell, value) to write


def _digits_fault(kind: str, value: Decimal, rng: random.Random) -> Decimal | None:
    sign = "-" if value < 0 else ""
    text = f"{abs(value):f}"
    whole, _, frac = text.partition(".")
    if kind == "extra_zero":
        return Decimal(sign + whole + "0" + ("." + frac if frac else ""))
    if kind == "missing_zero":
        if whole.count("0") == 0 or len(whole) < 2:
            return None
        spots = [n for n, ch in enumerate(whole) if ch == "0"]
        n = rng.choice(spots)
        return Decimal(sign + (whole[:n] + whole[n + 1:] or "0") + ("." + frac if frac else ""))
    digits = whole + frac
    spots = [n for n in range(len(digits))]
    if kind == "transpose":
        pairs = [n for n in range(len(digits) - 1) if digits[n] != digits[n + 1]]
        if not pairs:
            return None
        n = rng.choice(pairs)
        digits = digits[:n] + digits[n + 1] + digits[n] + digits[n + 2:]
    else:  # one digit changed
        n = rng.choice(spots)
        digits = digits[:n] + rng.choice([d for d in "0123456789" if d != digits[n]]) + digits[n + 1:]
    new = digits[:len(whole)] + ("." + digits[len(whole):] if frac else "")
    return Decimal(sign + new)


def _typed_cells(rb: ReadBlock, calc: BlockCalc, percent: bool, inputs: bool = False) -> list[tuple[int, str]]:
    """Typed non-zero figures (``inputs``: only those no formula of the template would compute)."""
    out = []
    for i, row in enumerate(rb.rows):
        for col in rb.block.columns:
            if col.id not in rb.columns or not col.type.numeric or col.type is ColType.YEAR:
                continue
            if (col.type is ColType.PERCENT) != percent:
                continue
            value = row.get(col.id)
            if inputs and (calc.is_computable(i, col) or col.stated_from is not None):
                continue  # computed by the template's formula, or read from its text: blank is no mistake
            if isinstance(value, Decimal) and value != 0 and calc.is_stated(i, col.id):
                out.append((i, col.id))
    return out


def faults(path: Path, kind: str, rng: random.Random, count: int) -> Iterator[Fault]:
    wb = read_workbook(path)
    blocks = list(wb.blocks.values())
    tries = 0
    made = 0
    while made < count and tries < count * 20:
        tries += 1
        rb = rng.choice(blocks)
        calc = BlockCalc(rb.block, rb.rows, formula_cells=rb.formula_cells)
        fault = _one(rb, calc, kind, rng)
        if fault is not None:
            made += 1
            yield fault


def _one(rb: ReadBlock, calc: BlockCalc, kind: str, rng: random.Random) -> Fault | None:
    sheet = rb.sheet
    if kind in VALUE_CLASSES:
        # A derived or roll-up cell left blank is computed (the template's formula): not a mistake.
        cells = _typed_cells(rb, calc, percent=kind == "pct_fraction", inputs=kind == "blank")
        if not cells:
            return None
        i, c = rng.choice(cells)
        return _value_fault(rb, kind, i, c, rng)
    if not rb.block.hierarchical or "parent" not in rb.columns:
        return None
    # lines with a figure (deleting or doubling a line that carries none changes no total)
    leaves = [i for i in range(len(rb.rows)) if i in calc.structure.parent and not calc.structure.children.get(i)
              and any(isinstance(v, Decimal) and v and rb.block.column(c).rollup for c, v in rb.rows[i].items())]
    if not leaves:
        return None
    i = rng.choice(leaves)
    if kind == "wrong_parent":
        p = calc.structure.parent[i]
        level = rb.rows[p].get("level")
        others = [j for j in range(len(rb.rows)) if j != p and rb.rows[j].get("level") == level
                  and all(rb.rows[j].get(g) == rb.rows[i].get(g) for g in rb.block.group_by)]
        if not others:
            return None
        j = rng.choice(others)
        cell = rb.address(i, "parent")
        return Fault(kind, sheet, cell, ((sheet, cell, str(rb.rows[j]["code"])),))
    if kind == "row_deleted":
        return Fault(kind, sheet, "", tuple((sheet, rb.address(i, c), None) for c in rb.columns))
    if kind == "row_duplicated":
        last = len(rb.rows) - 1
        target = {c: rb.address(last, c).rstrip("0123456789") + str(rb.sheet_rows[last] + 2) for c in rb.columns}
        edits = tuple((sheet, target[c], _plain(rb.rows[i].get(c))) for c in rb.columns
                      if rb.rows[i].get(c) is not None)
        return Fault(kind, sheet, target["code"], edits)
    return None


def _value_fault(rb: ReadBlock, kind: str, i: int, c: str, rng: random.Random) -> Fault | None:
    """A fault of a value class typed at row ``i``, column ``c``."""
    value = rb.rows[i][c]
    cell = rb.address(i, c)
    new: Any
    if kind == "pct_fraction":
        new = value / 100
    elif kind == "as_text":
        new = f"{value:f}"
    elif kind == "blank":
        new = None
    else:
        new = _digits_fault(kind, value, rng)
        if new is None or new == value:
            return None
    return Fault(kind, rb.sheet, cell, ((rb.sheet, cell, new),))


def _plain(value: Any) -> Any:
    return value


def double_faults(path: Path, kind: str, rng: random.Random, count: int) -> Iterator[tuple[Fault, Fault]]:
    """Two faults of ``kind`` in one workbook: half of them in lines of one parent (the same cluster, most
    often), the others anywhere."""
    wb = read_workbook(path)
    blocks = list(wb.blocks.values())
    made = tries = 0
    while made < count and tries < count * 20:
        tries += 1
        rb = rng.choice(blocks)
        calc = BlockCalc(rb.block, rb.rows, formula_cells=rb.formula_cells)
        cells = _typed_cells(rb, calc, percent=kind == "pct_fraction", inputs=kind == "blank")
        if len(cells) < 2:
            continue
        i, c = rng.choice(cells)
        if rng.random() < 0.5:  # near: the same line or a line of the same parent
            p = calc.structure.parent.get(i)
            near = [(j, d) for j, d in cells if (j, d) != (i, c) and (j == i or calc.structure.parent.get(j, -1) == p)]
            if not near:
                continue
            orb, (j, d) = rb, rng.choice(near)
        else:
            orb = rng.choice(blocks)
            ocalc = BlockCalc(orb.block, orb.rows, formula_cells=orb.formula_cells)
            ocells = [(j, d) for j, d in _typed_cells(orb, ocalc, percent=kind == "pct_fraction",
                                                      inputs=kind == "blank") if orb is not rb or (j, d) != (i, c)]
            if not ocells:
                continue
            j, d = rng.choice(ocells)
        first, second = _value_fault(rb, kind, i, c, rng), _value_fault(orb, kind, j, d, rng)
        if first is not None and second is not None:
            made += 1
            yield first, second


def inject(base: Path, fault: Fault, out: Path) -> Path:
    patch = WorkbookPatch(base)
    for sheet, cell, value in fault.edits:
        patch.set_cell(sheet, cell, value)
    if out.exists():
        out.unlink()
    return patch.save(out)


def _key(f: Finding) -> tuple[str, str, str]:
    return (f.rule, f.sheet, f.cell)


@dataclass
class Tally:
    n: int = 0
    detected: int = 0
    at_cause: int = 0
    candidate: int = 0
    false_alarm: int = 0
    seconds: float = 0.0
    ambiguous: int = 0  # the finding lists several candidate cells (not identifiable from the constraints)
    unique_at_cause: int = 0  # identifiable, and reported at the typed cell as the cause
    cells: int = 0  # variants with a typed cell to point at (all but deleted rows)
    listed: int = 0  # not identifiable, and the typed cell among the candidates


def _new(found: list[Finding], before: set[tuple[str, str, str]]) -> list[Finding]:
    """What a variant adds to its base: errors, warnings and the information that names cells a figure may be
    missing from (a total over lines all blank: what the only line under a parent left blank looks like)."""
    return [f for f in found if (f.severity is not Severity.INFO or f.rule in DETECTING_INFO) and _key(f) not in before]


def judge(fault: Fault, found: list[Finding], before: set[tuple[str, str, str]], t: Tally) -> dict[str, bool]:
    new = _new(found, before)
    where = f"{fault.sheet}!{fault.cell}"
    detected = bool(new)
    mine = [f for f in new if f.where == where and f.cause is None]
    at_cause = any(not f.candidates or f.candidates[0] == where for f in mine) if fault.cell else False
    candidate = at_cause or any(f.candidates and where in f.candidates for f in new)
    false = [f for f in new if f.severity is Severity.ERROR and f.where != where and f.cause is None
             and not (f.candidates and where in f.candidates)]
    if fault.kind == "row_deleted":  # no typed cell: the parent's roll-up is where it shows
        false = []
    ambiguous = any(f.candidates and where in f.candidates and f.cause is None for f in new)
    t.n += 1
    t.cells += bool(fault.cell)
    t.ambiguous += ambiguous
    t.listed += ambiguous and candidate
    t.unique_at_cause += at_cause and not ambiguous
    t.detected += detected
    t.at_cause += at_cause
    t.candidate += candidate
    t.false_alarm += bool(false)
    return {"detected": detected, "at_cause": at_cause, "candidate": candidate, "false": bool(false)}


@dataclass
class DoubleTally:
    n: int = 0
    detected: int = 0
    as_pair: int = 0  # the diagnosis reported a double fault (diagnosis.pair)
    both_causes: int = 0  # each typed cell reported at the cell, as a cause (no consequence)
    both_listed: int = 0  # each typed cell a cause or among a finding's candidates
    false_alarm: int = 0
    seconds: float = 0.0


def judge_double(pair: tuple[Fault, Fault], found: list[Finding], before: set[tuple[str, str, str]],
                 t: DoubleTally) -> dict[str, bool]:
    new = _new(found, before)
    wheres = {f"{fault.sheet}!{fault.cell}" for fault in pair}
    causes = {f.where for f in new if f.where in wheres and f.cause is None}
    listed = causes | {c for f in new for c in f.candidates or () if c in wheres}
    false = [f for f in new if f.severity is Severity.ERROR and f.where not in wheres and f.cause is None
             and not (f.candidates and wheres & set(f.candidates))]
    verdict = {"detected": bool(new), "pair": any(f.rule == "diagnosis.pair" for f in new),
               "causes": causes == wheres, "listed": listed == wheres, "false": bool(false)}
    t.n += 1
    t.detected += verdict["detected"]
    t.as_pair += verdict["pair"]
    t.both_causes += verdict["causes"]
    t.both_listed += verdict["listed"]
    t.false_alarm += verdict["false"]
    return verdict


def _timed_check(variant: Path, settings: Settings, t: Tally | DoubleTally) -> list[Finding]:
    """Every finding of one variant (read, rules, diagnosis), its time added to ``t``; the file is then removed."""
    started = time.perf_counter()
    found = [f for r in check_file(variant, settings) for f in r.findings]
    t.seconds += time.perf_counter() - started
    variant.unlink()
    return found


def _print_new(found: list[Finding], before: set[tuple[str, str, str]]) -> None:
    for f in _new(found, before):
        print("   ", f.rule, f.where, f.expected, f.actual, f.cause, f.candidates)


def _variants(per_class: int, seed: int, synthetic: int, settings: Settings, classes: list[str] | tuple[str, ...],
              make: Callable[[Path, str, random.Random, int], Iterator[T]],
              ) -> Iterator[tuple[Path, str, Path, int, T, set[tuple[str, str, str]]]]:
    """Each fault ``make`` plans for each clean base and class: (temp folder, class, base, number, fault, what
    validation reports on the base)."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        made, base_findings = _clean_bases(folder, synthetic, seed, settings)
        for kind in classes:
            per_base = max(1, per_class // len(made))
            for base in made:
                for n, fault in enumerate(make(base, kind, rng, per_base)):
                    yield folder, kind, base, n, fault, base_findings[base]


def run_double(per_class: int, seed: int, synthetic: int, settings: Settings,
               verbose: bool = False) -> dict[str, DoubleTally]:
    """Two faults of one class per variant (``--double``)."""
    tallies: dict[str, DoubleTally] = defaultdict(DoubleTally)
    for folder, kind, base, n, pair, before in _variants(per_class, seed, synthetic, settings, VALUE_CLASSES,
                                                          double_faults):
        both = Fault(kind, "", "", pair[0].edits + pair[1].edits)
        found = _timed_check(inject(base, both, folder / f"d_{kind}_{n}_{base.name}"), settings, tallies[kind])
        verdict = judge_double(pair, found, before, tallies[kind])
        if verbose and (not verdict["listed"] or verdict["false"]):
            print(kind, base.name, [(f.sheet, f.cell, f.edits[0][2]) for f in pair], verdict)
            _print_new(found, before)
    return tallies


def double_table(tallies: dict[str, DoubleTally]) -> str:
    lines = ["| fault class (twice) | variants | detected | reported as a double (`diagnosis.pair`) |"
             " both typed cells as causes | both typed cells causes or candidates | false alarms | ms / variant |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    total = DoubleTally()

    def pct(k: int, n: int) -> str:
        return f"{k} / {n} ({100 * k / n:.0f} %)" if n else "–"
    for kind in [*VALUE_CLASSES, "**all**"]:
        t = total if kind == "**all**" else tallies.get(kind)
        if t is None or not t.n:
            continue
        if t is not total:
            for f in ("n", "detected", "as_pair", "both_causes", "both_listed", "false_alarm", "seconds"):
                setattr(total, f, getattr(total, f) + getattr(t, f))
        lines.append(f"| {kind} | {t.n} | {pct(t.detected, t.n)} | {pct(t.as_pair, t.n)} | {pct(t.both_causes, t.n)} |"
                     f" {pct(t.both_listed, t.n)} | {pct(t.false_alarm, t.n)} | {1000 * t.seconds / t.n:.0f} |")
    return "\n".join(lines)


def _clean_bases(folder: Path, synthetic: int, seed: int,
                 settings: Settings) -> tuple[list[Path], dict[Path, set[tuple[str, str, str]]]]:
    """The clean values-only bases and what validation reports on each (bases with an error left out)."""
    made = bases(folder, synthetic, seed)
    base_findings = {p: {_key(f) for r in check_file(p, settings) for f in r.findings} for p in made}
    unclean = [p for p in made if any(k[0] in ERROR_RULES for k in base_findings[p])]
    for p in unclean:  # a fault would meet the base's own errors in the same clusters
        print(f"base {p.name} is not clean ({sorted(k for k in base_findings[p] if k[0] in ERROR_RULES)}):"
              " left out")
    return [p for p in made if p not in unclean], base_findings


def run(per_class: int, seed: int, synthetic: int, settings: Settings, verbose: bool = False) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    for folder, kind, base, n, fault, before in _variants(per_class, seed, synthetic, settings, CLASSES, faults):
        found = _timed_check(inject(base, fault, folder / f"v_{kind}_{n}_{base.name}"), settings, tallies[kind])
        verdict = judge(fault, found, before, tallies[kind])
        if verbose and (not verdict["candidate"] or verdict["false"]):
            print(kind, base.name, fault.sheet, fault.cell, fault.edits[:1], verdict)
            _print_new(found, before)
    return tallies


def table(tallies: dict[str, Tally]) -> str:
    lines = ["| fault class | variants | detected | identifiable: at the typed cell, as the cause |"
             " not identifiable: the typed cell among the candidates | false alarms | ms / variant |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    total = Tally()
    for kind in CLASSES:
        t = tallies.get(kind)
        if t is None or not t.n:
            continue
        lines.append(_line(kind, t))
        for f in ("n", "detected", "at_cause", "candidate", "false_alarm", "seconds", "ambiguous",
                  "unique_at_cause", "cells", "listed"):
            setattr(total, f, getattr(total, f) + getattr(t, f))
    lines.append(_line("**all**", total))
    return "\n".join(lines)


def _line(kind: str, t: Tally) -> str:
    def pct(k: int, n: int) -> str:
        return f"{k} / {n} ({100 * k / n:.0f} %)" if n else "–"
    if kind == "row_deleted":
        cause = candidates = "n/a (no typed cell)"
    else:
        cause = pct(t.unique_at_cause, t.cells - t.ambiguous)
        candidates = pct(t.listed, t.ambiguous)
    return (f"| {kind} | {t.n} | {pct(t.detected, t.n)} | {cause} | {candidates} | {pct(t.false_alarm, t.n)} |"
            f" {1000 * t.seconds / t.n:.0f} |")


def overhead(n: int, seed: int, settings: Settings, repeat: int = 3) -> tuple[float, float]:
    """CPU seconds to validate the bench corpus without and with diagnosis (best of ``repeat``), one process."""
    import osmep_xl.rules.validate as validate_module
    from bench.generate import bench_folder

    folder = bench_folder(n, seed, 0.2)
    paths = sorted(folder.glob("*.xlsx"))
    real = validate_module.diagnose_findings

    def timed() -> float:
        best = float("inf")
        for _ in range(repeat):
            started = time.process_time()
            for p in paths:
                check_file(p, settings)
            best = min(best, time.process_time() - started)
        return best

    try:
        validate_module.diagnose_findings = lambda ctx, found: found  # type: ignore[assignment]
        without = timed()
    finally:
        validate_module.diagnose_findings = real
    return without, timed()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-class", type=int, default=40, help="variants per fault class")
    parser.add_argument("--synthetic", type=int, default=8, help="synthetic clean submissions besides the demo")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="print each miss and false alarm")
    parser.add_argument("--overhead", action="store_true", help="measure diagnosis time on the bench corpus")
    parser.add_argument("--n", type=int, default=200, help="corpus size for --overhead")
    parser.add_argument("--double", action="store_true", help="two faults of one class per variant")
    args = parser.parse_args()
    settings = load_settings()
    if args.overhead:
        without, with_ = overhead(args.n, args.seed, settings)
        print(f"validate {args.n} files, 1 process, CPU s: without diagnosis {without:.2f}, with {with_:.2f}"
              f" (+{100 * (with_ / without - 1):.1f} %)")
        return
    started = time.perf_counter()
    if args.double:
        doubles = run_double(args.per_class, args.seed, args.synthetic, settings, args.verbose)
        print(double_table(doubles))
        print(f"\n{sum(t.n for t in doubles.values())} variants in {time.perf_counter() - started:.0f} s")
        return
    tallies = run(args.per_class, args.seed, args.synthetic, settings, args.verbose)
    print(table(tallies))
    print(f"\n{sum(t.n for t in tallies.values())} variants in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

__all__ = ["CLASSES", "VALUE_CLASSES", "Fault", "bases", "double_faults", "faults", "inject", "judge", "run",
           "run_double", "shutil", "values_only"]
