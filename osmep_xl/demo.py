"""The main job on the built-in report data: fill every template the report has figures for, validate them
together (so that checks across templates, such as KPIs against their project outputs, run), report."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from .check import check_files
from .data import REPORT_TITLE, has_report, load_report
from .findings import Severity
from .report import FileResult, make_console, summary
from .rules.config import load_settings
from .rules.variance import target_lookup
from .spec import TEMPLATES
from .xlsx.generate import write_workbook


def run_demo(out_dir: Path, console: Console | None = None) -> int:
    """Write the filled workbooks to ``out_dir``, validate them together and print a summary.

    Returns 0: finding the report's own errors is the demo's purpose, not a failure.
    """
    console = console or make_console()
    console.print(f"[bold]สาธิตด้วยข้อมูล / demo data:[/] {REPORT_TITLE}")
    settings = load_settings()
    paths: list[Path] = []
    for template_id, spec in TEMPLATES.items():
        if not has_report(template_id):
            continue  # a template the report has no table for
        data = load_report(template_id)
        path = write_workbook(data, out_dir / f"{template_id}.xlsx", target=target_lookup(settings))
        counts = ", ".join(f"{b.sheet} {len(data.blocks.get(b.id, []))}" for b in spec.blocks)
        console.print(f"  เขียนแล้ว / wrote [cyan]{escape(str(path))}[/]  {spec.title_th} ({counts} แถว/rows)")
        paths.append(path)
    # Validated together, as `osmep-xl validate A B ...`: the checks across templates run too.
    results: list[FileResult] = check_files(paths, settings)
    console.print("\n[bold]ผลตรวจสอบตัวเลขตามที่พิมพ์ในรายงาน / validation of the figures as printed:[/]")
    for r in results:
        errors = [f for f in r.findings if f.severity is Severity.ERROR]
        warnings = [f for f in r.findings if f.severity is Severity.WARNING]
        console.print(f"  [bold]{escape(r.path.name)}[/]: {len(errors)} ข้อผิดพลาด/errors, "
                      f"{len(warnings)} เตือน/warnings")
        for f in errors:
            console.print(f"    [red]✗[/] {escape(f.sheet)}!{f.cell} [dim]{f.rule}[/] {escape(f.message_th)}")
    s = summary(results)
    console.print(f"\nรวม / total: errors {s['errors']} · warnings {s['warnings']} · info {s['info']}. "
                  f"ดูรายละเอียด / details: [cyan]osmep-xl validate {escape(str(out_dir))}/*.xlsx[/]")
    return 0
