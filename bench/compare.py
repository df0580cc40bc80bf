"""Same output before and after a change to the reader or the checks: dump, then compare.

    .venv/bin/python -m bench.compare dump before.jsonl           # with the old code
    .venv/bin/python -m bench.compare dump after.jsonl            # with the new code
    .venv/bin/python -m bench.compare diff before.jsonl after.jsonl
    .venv/bin/python -m bench.compare paths                       # both identity paths, this code

The corpus: the 500 generated submissions of ``bench.run`` (20 % with mistakes), ``--fuzz`` damaged copies
of them (tests/fuzzing.py: values replaced by text, Thai digits, error values, rows and cells deleted,
bytes flipped or cut), and the size-sweep workbooks up to ``--sweep`` rows. Per file: everything the
reader returns (rows, raw values, cell problems, formula cells and text, positions, structure problems,
meta) or the one line refusing the file, every finding of ``validate``, and recalc's planned edits and
findings. ``diff`` counts files, findings and edits, and lists the first differences. ``paths`` validates
every file of the corpus twice in one process, with the identities screened in integer columns and with
every cell on the per-cell Decimal path, and counts the files whose findings differ.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.generate import bench_folder
from bench.sweep import SIZES, sweep_files
from osmep_xl.check import open_all
from osmep_xl.rules.config import load_settings
from osmep_xl.rules.recalc import plan_recalc_all, text_numbers
from osmep_xl.rules.validate import validate_set
from osmep_xl.xlsx.read import ReadWorkbook
from osmep_xl.xlsx.safety import RefusedFileError
from osmep_xl.xlsx.source import UnreadableWorkbookError


def corpus(fuzz: int, sweep: int, seed: int = 7) -> Iterator[Path]:
    """Every workbook compared: generated, damaged copies, sweep sizes."""
    from tests.fuzzing import mutate_workbook

    clean = sorted(bench_folder(500, 1, 0.2).glob("*.xlsx"))
    yield from clean
    folder = Path(tempfile.gettempdir()) / f"osmep-compare-fuzz-{fuzz}-s{seed}"
    if not folder.is_dir() or len(list(folder.iterdir())) != fuzz:
        folder.mkdir(exist_ok=True)
        rng = random.Random(seed)
        values: list[Any] = [None, "x", "๑๒๓", "1,234 บาท", "#REF!", -5, 1e300, -1e12, "=1+1", 2564.9, 0, 1.005,
                             "(1,000)", "-", 12.345678912]
        for n in range(fuzz):
            src = rng.choice(clean)
            (folder / f"fuzz{n:04d}.xlsx").write_bytes(mutate_workbook(src.read_bytes(), rng, values))
    yield from sorted(folder.iterdir())
    yield from sweep_files(Path(tempfile.gettempdir()) / "osmep-sweep-s1", [s for s in SIZES if s <= sweep]).values()


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, AbstractSet)):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, AbstractSet) else items
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return f"{type(value).__name__}:{value}"  # Decimal('1.0') and Decimal('1') must stay apart


def _read(wb: ReadWorkbook) -> dict[str, Any]:
    blocks = {bid: {"header_row": rb.header_row, "columns": rb.columns, "rows": list(rb.rows), "raw": rb.raw,
                    "sheet_rows": rb.sheet_rows, "first_row": rb.first_row, "formula_cells": rb.formula_cells,
                    "formula_text": rb.formula_text, "problems": rb.problems}
              for bid, rb in wb.blocks.items()}
    structure = [(p.issue, p.sheet, p.cell, p.expected, p.actual, p.block and p.block.id, p.column)
                 for p in wb.structure]
    plain: dict[str, Any] = _plain({"template": wb.spec.id, "version": wb.version, "meta": wb.meta,
                                    "meta_cells": wb.meta_cells, "blocks": blocks, "structure": structure})
    return plain


def record(path: Path) -> dict[str, Any]:
    """What the reader, validate and recalc make of one file."""
    out: dict[str, Any] = {"file": path.name}
    try:
        books = open_all(path)
    except (UnreadableWorkbookError, RefusedFileError) as exc:
        out["refused"] = str(exc)
        return out
    # validate first: it sees the rows as the reader left them (a row's dict not yet made), as in a run
    out["findings"] = [[f.model_dump(mode="json") for f in found]
                       for found in validate_set(books, load_settings())]
    out["read"] = [_read(wb) for wb in books]
    edits, changes = plan_recalc_all(books)
    out["edits"] = _plain([asdict(e) for e in edits])
    out["recalc"] = [f.model_dump(mode="json") for f in changes + text_numbers(books, edits)]
    return out


def dump(target: Path, fuzz: int, sweep: int) -> None:
    with target.open("w") as fh:
        for path in corpus(fuzz, sweep):
            fh.write(json.dumps(record(path), ensure_ascii=False, sort_keys=True) + "\n")


def diff(a: Path, b: Path, show: int = 5) -> int:
    """Differences between two dumps (0 when identical); prints the counts."""
    left = [json.loads(line) for line in a.open()]
    right = [json.loads(line) for line in b.open()]
    if [r["file"] for r in left] != [r["file"] for r in right]:
        print("the two dumps are of different files")
        return 1
    differ = 0
    for x, y in zip(left, right, strict=True):
        for key in ("refused", "read", "findings", "edits", "recalc"):
            if x.get(key) != y.get(key):
                differ += 1
                if differ <= show:
                    print(f"{x['file']}: {key} differs")
                break
    findings = sum(len(f) for r in left for f in r.get("findings", []))
    edits = sum(len(r.get("edits", [])) for r in left)
    print(f"{len(left)} files ({sum('refused' in r for r in left)} refused), {findings} findings, {edits} recalc "
          f"edits; {differ} files differ")
    return 1 if differ else 0


def paths(fuzz: int, sweep: int) -> int:
    """Both identity paths on every file of the corpus; 0 when every file's findings are identical."""
    from osmep_xl.rules import arithmetic
    from osmep_xl.rules.context import Context

    screen = arithmetic._screen
    files = differ = screened = findings = 0
    for path in corpus(fuzz, sweep):
        try:
            books = open_all(path)
        except (UnreadableWorkbookError, RefusedFileError):
            continue
        files += 1
        screened += sum(v is not None for wb in books for v in Context(wb, load_settings()).columns.values())
        fast = validate_set(books, load_settings())
        arithmetic._screen = lambda *args: None
        try:
            slow = validate_set(books, load_settings())
        finally:
            arithmetic._screen = screen
        findings += sum(len(f) for f in fast)
        if [[f.model_dump() for f in x] for x in fast] != [[f.model_dump() for f in x] for x in slow]:
            differ += 1
            print(f"{path.name}: findings differ")
    print(f"{files} readable files, {screened} blocks screened in columns, {findings} findings; {differ} files differ")
    return 1 if differ else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="dump or compare what the reader and the checks make of a corpus")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--fuzz", type=int, default=300, help="damaged copies of the generated files")
    d.add_argument("--sweep", type=int, default=10_000, help="sweep workbooks up to this many rows")
    both = sub.add_parser("paths")
    both.add_argument("--fuzz", type=int, default=300)
    both.add_argument("--sweep", type=int, default=10_000)
    c = sub.add_parser("diff")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.out, args.fuzz, args.sweep)
        return 0
    if args.command == "paths":
        return paths(args.fuzz, args.sweep)
    return diff(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
