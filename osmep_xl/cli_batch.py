"""`osmep-xl batch` and `osmep-xl consolidate` (registered on the main CLI)."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .batch import DEFAULT_TIMEOUT, BatchError, Executor, Operation, Task, check_targets, collect, run_batch
from .cli_errors import check_out, out_or_in_place, user_errors
from .findings import Severity
from .report import SEVERITY_STYLE, FileResult, exit_code, make_console, summary, to_json

batch_app = typer.Typer(help="ประมวลผลหลายไฟล์ / batch runs over many workbooks", no_args_is_help=True)

LISTED = 20  # files named in the closing summary; the rest are in --json
REFRESH = 0.1  # seconds between progress redraws


Paths = Annotated[list[str], typer.Argument(
    help="ไฟล์ โฟลเดอร์ หรือรูปแบบ เช่น 'ส่งมา/*.xlsx' / files, folders or glob patterns ('**' for subfolders)")]
Jobs = Annotated[int | None, typer.Option(
    "--jobs", "-j", min=1, help="จำนวนโปรเซส (ค่าเริ่มต้น: ทุกคอร์; 1 = ทำในโปรเซสนี้) / worker processes "
                                "(default: all cores; 1 runs in-process)")]
JsonOut = Annotated[Path | None, typer.Option(
    "--json", help="เขียนผลทุกไฟล์เป็น JSON / write every file's results as one JSON object")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="ไม่แสดงแถบความคืบหน้า / no progress bar")]
Config = Annotated[Path | None, typer.Option("--config", help="ไฟล์ตั้งค่า TOML / settings file")]
ExecutorOpt = Annotated[Executor, typer.Option(
    "--executor", help="pool = โปรเซสในเครื่องนี้ / local processes; dask = คลัสเตอร์ Dask / a Dask cluster "
                       "(pip install 'osmep-xl\\[dask]')")]
Timeout = Annotated[float, typer.Option(
    "--timeout", min=0.1, help="วินาทีต่อไฟล์ เกินนี้รายงานว่าอ่านไม่ได้แล้วทำไฟล์ต่อไป / seconds per file: a file that "
                               "takes longer is reported as timed out and the run goes on (not with dask)")]
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", help="ที่อยู่ Dask scheduler เช่น tcp://10.0.0.5:8786 (ใช้ dask อัตโนมัติ) / Dask scheduler "
                        "address (implies --executor dask); workers must see the same paths")]


def _run(operation: Operation, paths: list[str], *, jobs: int | None, json_out: Path | None, quiet: bool,
         config: Path | None, executor: Executor, scheduler: str | None, timeout: float = DEFAULT_TIMEOUT,
         out_dir: Path | None = None, in_place: bool = False, force: bool = False, validate: bool = False) -> None:
    from .rules.config import load_settings

    settings = load_settings(config)
    inputs = collect(paths)
    task = Task(operation, settings, out_dir=out_dir, in_place=in_place, validate=validate)
    check_targets(task, inputs.paths, force=force)
    if json_out is not None and json_out.resolve() in {p.resolve() for p in inputs.paths}:
        raise BatchError(f"--json จะเขียนทับไฟล์ต้นฉบับ / --json would overwrite the input {json_out}")
    if out_dir is not None and inputs.paths:
        out_dir.mkdir(parents=True, exist_ok=True)
    if scheduler:
        executor = Executor.DASK
    err = make_console(stderr=True)
    started = time.perf_counter()
    # No auto-refresh thread: the pool forks its workers while the bar is live.
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("·"),
                  TimeElapsedColumn(), TextColumn("· เหลือ/ETA"), TimeRemainingColumn(), console=err,
                  auto_refresh=False, transient=False, disable=quiet or not err.is_terminal) as bar:
        label = "ตรวจสอบ / validate" if operation == "validate" else "คำนวณใหม่ / recalc"
        bar_task = bar.add_task(label, total=len(inputs.paths))
        last = [0.0]

        def advance(n: int) -> None:
            bar.advance(bar_task, n)
            now = time.perf_counter()
            if now - last[0] >= REFRESH or bar.tasks[0].completed >= len(inputs.paths):
                last[0] = now
                bar.refresh()

        results = run_batch(inputs.paths, task, jobs=jobs, executor=executor, scheduler=scheduler,
                            progress=advance, timeout=timeout)
    results = inputs.unmatched + results
    elapsed = time.perf_counter() - started
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(to_json(results), ensure_ascii=False, indent=2), "utf-8")
    print_summary(results, make_console(), elapsed=elapsed, skipped=len(inputs.skipped), operation=operation,
                  out_dir=out_dir, json_out=json_out)
    raise typer.Exit(exit_code(results))


def print_summary(results: list[FileResult], console: Console, *, elapsed: float, skipped: int = 0,
                  operation: Operation = "validate", out_dir: Path | None = None,
                  json_out: Path | None = None) -> None:
    """Closing summary: files clean / with errors / unreadable, findings by rule, the files to look at."""
    from .rules.catalog import RULES

    s = summary(results)
    files = len({r.path for r in results})
    rate = files / elapsed if elapsed > 0 else 0.0
    if operation == "recalc":
        changed = sum(1 for r in results if any(f.rule == "recalc.changed" for f in r.findings))
        outcome = (f"[green]ไม่เปลี่ยน/unchanged {s['clean'] - changed}[/] · "
                   f"[yellow]เปลี่ยนค่า/values changed {changed}[/]")
    else:
        outcome = f"[green]ผ่าน/clean {s['clean']}[/] · [red]มีข้อผิดพลาด/with errors {s['with_errors']}[/]"
    console.print(f"[bold]สรุป / summary:[/] {files} ไฟล์/files ใน/in {elapsed:.1f} s ({rate:.1f} ไฟล์/s files/s) · "
                  f"{outcome} · [bold red]อ่านไม่ได้/unreadable {s['unreadable']}[/]"
                  + (f" · ข้าม/skipped {skipped} (~$, .bak.)" if skipped else ""), highlight=False)
    if s["by_rule"]:
        severity = {f.rule: f.severity for r in results for f in r.findings}
        width = max(len(rule) for rule in s["by_rule"])
        console.print("[bold]ผลตรวจตามกฎ / findings by rule[/] (ระดับ/severity · กฎ/rule · จำนวน/count · "
                      "ไฟล์/files · ตรวจอะไร/checks):", highlight=False)
        per_file = Counter(rule for r in results for rule in {f.rule for f in r.findings})
        for rule, count in sorted(s["by_rule"].items(), key=lambda kv: (severity[kv[0]].rank, -kv[1])):
            known = RULES.get(rule)
            sev = severity[rule]
            line = f"  [{SEVERITY_STYLE[sev]}]{sev.value:<7}[/] {rule:<{width}} {count:>7,} {per_file[rule]:>6,}  "
            # One line per rule: cut to the terminal's width, whole when piped.
            console.print(line + (f"{known.th} / {known.en}" if known else ""), highlight=False, no_wrap=True,
                          overflow=None if console.soft_wrap else "ellipsis")
    unreadable = [(r, r.unreadable or "") for r in results if r.unreadable]
    with_errors = [(r, f"{r.errors} errors · {sum(f.severity is Severity.WARNING for f in r.findings)} warnings")
                   for r in results if r.errors]
    for title, chosen in (("อ่านไม่ได้ / unreadable", unreadable), ("มีข้อผิดพลาด / with errors", with_errors)):
        if not chosen:
            continue
        console.print(f"[bold]{title}:[/] {len(chosen)}", highlight=False)
        for r, detail in chosen[:LISTED]:
            console.print(f"  {escape(str(r.path))}: {escape(detail)}", highlight=False)
        if len(chosen) > LISTED:
            rest = f" (--json {json_out})" if json_out else " (ดูทั้งหมดด้วย / all with --json FILE)"
            console.print(escape(f"  … และอีก / and {len(chosen) - LISTED} more{rest}"), highlight=False)
    if operation == "recalc":
        written = sum(1 for r in results if not r.unreadable)
        where = f" → {out_dir}" if out_dir is not None else " (แทนที่ไฟล์เดิม มีสำรอง / in place, backups kept)"
        console.print(escape(f"เขียนแล้ว / wrote {written} ไฟล์/files{where}"), highlight=False)
    if json_out is not None:
        console.print(escape(f"JSON: {json_out}"), highlight=False)


@batch_app.command("validate")
@user_errors
def batch_validate(
    paths: Paths, jobs: Jobs = None, json_out: JsonOut = None, quiet: Quiet = False, config: Config = None,
    executor: ExecutorOpt = Executor.POOL, scheduler: Scheduler = None, timeout: Timeout = DEFAULT_TIMEOUT,
) -> None:
    """ตรวจสอบหลายไฟล์พร้อมกัน / validate many workbooks in parallel.

    Exit 0: no error · 1: some file has an error finding · 2: some file could not be used.
    """
    _run("validate", paths, jobs=jobs, json_out=json_out, quiet=quiet, config=config, executor=executor,
         scheduler=scheduler, timeout=timeout)


@batch_app.command("recalc")
@user_errors
def batch_recalc(
    paths: Paths,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="โฟลเดอร์ผลลัพธ์ (ชื่อไฟล์เดิม) / output folder (same file names)")] = None,
    in_place: Annotated[bool, typer.Option(
        "--in-place", help="เขียนทับไฟล์เดิม (เก็บสำรองไว้ข้างกัน) / overwrite each input, keeping a backup")] = False,
    force: Annotated[bool, typer.Option("--force", help="เขียนทับไฟล์ผลลัพธ์ที่มีอยู่ / overwrite existing outputs")
                     ] = False,
    validate: Annotated[bool, typer.Option(
        "--validate", help="ตรวจสอบแต่ละไฟล์ด้วย (อ่านครั้งเดียว) / validate each input too, from the same read")] = False,
    jobs: Jobs = None, json_out: JsonOut = None, quiet: Quiet = False, config: Config = None,
    executor: ExecutorOpt = Executor.POOL, scheduler: Scheduler = None, timeout: Timeout = DEFAULT_TIMEOUT,
) -> None:
    """คำนวณใหม่หลายไฟล์พร้อมกัน / recalculate every derived cell of many workbooks.

    Results go to --out DIR under the same names (inputs are never overwritten), or replace the inputs
    with --in-place. Each changed stated figure is reported (recalc.changed); with --validate each input's
    findings are listed too.
    """
    out_or_in_place(out, in_place, option="--out DIR")
    _run("recalc", paths, jobs=jobs, json_out=json_out, quiet=quiet, config=config, executor=executor,
         scheduler=scheduler, timeout=timeout, out_dir=out, in_place=in_place, force=force, validate=validate)


@user_errors
def consolidate_cmd(
    template: Annotated[str, typer.Argument(
        help="รหัสแม่แบบ หรือไฟล์แม่แบบ / template id (see `templates list`) or a template workbook")],
    inputs: Annotated[list[str], typer.Argument(
        help="ไฟล์ที่หน่วยงานส่งมา (ไฟล์ โฟลเดอร์ หรือรูปแบบ) / submissions: files, folders or glob patterns")],
    out: Annotated[Path, typer.Option("-o", "--out", help="ไฟล์รวม .xlsx / consolidated workbook (.xlsx)")],
    agency: Annotated[str | None, typer.Option(
        "--agency", help="ชื่อหน่วยงานของไฟล์รวม / agency field of the consolidated workbook")] = None,
    force: Annotated[bool, typer.Option("--force", help="เขียนทับไฟล์เดิม / overwrite")] = False,
    config: Config = None,
) -> None:
    """รวมไฟล์จากหลายหน่วยงานเป็นไฟล์เดียว / merge many submissions of one template into one workbook.

    Each submitter becomes a row whose children are its rows (codes prefixed with the submitter) under a
    grand total; KPI tables are concatenated. Every submission is validated first and its findings listed
    on an extra sheet. Exit 0: all clean · 1: a submission has errors · 2: a submission was skipped.
    """
    from .consolidate import read_submissions, template_id_of, write_consolidated
    from .rules.config import load_settings
    from .rules.variance import target_lookup

    check_out(out, force)
    settings = load_settings(config)
    template_id = template_id_of(template)
    found = collect(inputs)
    paths = [p for p in found.paths if p.resolve() != out.resolve()]  # a rerun must not merge its own output
    subs = read_submissions(template_id, paths, settings)
    console = make_console()
    for sub in subs:
        r = sub.result
        if r.unreadable:
            console.print(f"[bold red]✗ ข้าม / skipped[/] {escape(str(sub.path))}: {escape(r.unreadable)}",
                          highlight=False)
            continue
        warnings = sum(f.severity is Severity.WARNING for f in r.findings)
        mark = "[red]![/]" if r.errors else "[green]✓[/]"
        console.print(f"{mark} {escape(sub.key)} · {escape(sub.label)} · {escape(str(sub.path))}: "
                      f"{r.errors} errors · {warnings} warnings", highlight=False)
    for unmatched in found.unmatched:
        console.print(f"[bold red]✗[/] {escape(unmatched.unreadable or '')}", highlight=False)
    result = write_consolidated(template_id, subs, out, agency=agency, target=target_lookup(settings))
    for note in result.notes:
        console.print(f"[yellow]![/] {escape(note.message_th)} / {escape(note.message_en)}", highlight=False)
    for block_id, groups in result.totals.items():
        for group, columns in groups.items():
            where = " ".join(str(g) for g in group if g is not None)
            figures = " · ".join(f"{c} {v:,.2f}" for c, v in columns.items())
            console.print(escape(f"ยอดรวม / total {block_id}{' ' + where if where else ''}: {figures}"),
                          highlight=False)
    merged = sum(1 for s in subs if s.merged)
    console.print(f"เขียนแล้ว / wrote {escape(str(out))}: รวม {merged} หน่วยงาน / {merged} submitters merged · "
                  f"ข้าม / skipped {len(subs) - merged}", highlight=False)
    raise typer.Exit(exit_code([*result.results, *found.unmatched]))
