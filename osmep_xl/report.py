"""Views of a findings list: JSON, a console table grouped by sheet, and sheet rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from .findings import Finding, Severity, sort_findings
from .spec.base import Column
from .xlsx.layout import FONT_SIZE, text_lines
from .xlsx.metrics import row_height

SEVERITY_TH = {Severity.ERROR: "ผิดพลาด", Severity.WARNING: "เตือน", Severity.INFO: "ข้อมูล"}
MARK = {Severity.ERROR: "✗", Severity.WARNING: "!", Severity.INFO: "·"}
SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


@dataclass
class FileResult:
    """Findings of one workbook, or why it could not be read."""

    path: Path
    template: str | None = None
    version: str | None = None
    findings: list[Finding] = field(default_factory=list)
    unreadable: str | None = None

    @property
    def errors(self) -> int:
        return sum(f.severity is Severity.ERROR for f in self.findings)


def make_console(*, stderr: bool = False) -> Console:
    """The console of the command line: on a terminal it wraps at the window's width; piped or redirected it
    never wraps, so that a long Thai line reaches a file or another program whole."""
    console = Console(stderr=stderr)
    console.soft_wrap = not console.is_terminal
    return console


def exit_code(results: Iterable[FileResult]) -> int:
    """0 clean, 1 some error finding, 2 some file could not be used."""
    results = list(results)
    if any(r.unreadable for r in results):
        return 2
    return 1 if any(r.errors for r in results) else 0


def summary(results: list[FileResult]) -> dict[str, Any]:
    counts = Counter(f.severity.value for r in results for f in r.findings)
    return {
        "files": len(results),
        "clean": sum(1 for r in results if not r.unreadable and not r.errors),
        "with_errors": sum(1 for r in results if r.errors),
        "unreadable": sum(1 for r in results if r.unreadable),
        "errors": counts.get("error", 0),
        "warnings": counts.get("warning", 0),
        "info": counts.get("info", 0),
        "by_rule": dict(sorted(Counter(f.rule for r in results for f in r.findings).items())),
    }


def to_json(results: list[FileResult]) -> dict[str, Any]:
    """The documented JSON shape: ``{"files": [...], "summary": {...}}``."""
    files = []
    for r in results:
        entry: dict[str, Any] = {"path": str(r.path), "template": r.template, "version": r.version,
                                 "findings": [f.to_json() for f in r.findings]}
        if r.unreadable:
            entry["unreadable"] = r.unreadable
        files.append(entry)
    return {"files": files, "summary": summary(results)}


def _num(value: Decimal | str | None) -> str:
    if isinstance(value, Decimal):
        return f"{value:,}"
    return "" if value is None else str(value)


def fold_consequences(findings: list[Finding]) -> tuple[list[Finding], dict[str, list[Finding]]]:
    """The findings to show on their own, causes first within each sheet, and per cause (``sheet!cell``) the
    findings it causes; a consequence whose cause is not among ``findings`` stays on its own."""
    causes = {f.where for f in findings if f.cause is None}
    folded: dict[str, list[Finding]] = {}
    alone: list[Finding] = []
    for f in findings:
        if f.cause is not None and f.cause in causes and f.cause != f.where:
            folded.setdefault(f.cause, []).append(f)
        else:
            alone.append(f)
    first = {f.where for f in alone if f.where in folded or f.candidates}
    alone.sort(key=lambda f: (f.severity.rank, f.where not in first))  # stable: sheet and cell order kept
    return alone, folded


def _print_finding(console: Console, f: Finding, *, under: Finding | None = None) -> None:
    values = ""
    if f.expected is not None or f.actual is not None:
        values = (f"  ควรเป็น/expected [bold]{escape(_num(f.expected))}[/]"
                  f"  ที่ระบุ/actual [bold]{escape(_num(f.actual))}[/]")
    pad = "      " if under is not None else ""
    where = f.cell if under is None or under.sheet == f.sheet else f"{f.sheet}!{f.cell}"
    lead = "↳ ผลจาก/caused by above  " if under is not None else ""
    console.print(f"  {pad}[{SEVERITY_STYLE[f.severity]}]{MARK[f.severity]} {SEVERITY_TH[f.severity]}/"
                  f"{f.severity.value}[/]  {lead}[bold]{escape(where)}[/]  [dim]{f.rule}[/]{values}")
    console.print(f"      {pad}{escape(f.message_th)}", highlight=False)
    console.print(f"      {pad}[dim]{escape(f.message_en)}[/]", highlight=False)
    if f.candidates:
        console.print(f"      {pad}ช่องที่อาจผิด/candidate cells: {escape(', '.join(f.candidates))}", highlight=False)


def print_results(results: list[FileResult], console: Console, *, show_info: bool = False) -> None:
    """Readable findings per file, grouped by sheet, errors first."""
    for r in results:
        if r.unreadable:  # no template to name: the file, and on the next line why it could not be read
            console.rule(f"[bold]{escape(str(r.path))}[/] · [bold red]อ่านไม่ได้ / unreadable[/]")
            console.print(f"[bold red]อ่านไม่ได้ / unreadable:[/] {escape(r.unreadable)}")
            continue
        template = f" ({r.template}{f' v{r.version}' if r.version else ''})" if r.template else ""
        console.rule(f"[bold]{escape(str(r.path))}[/]{escape(template)}")
        shown = [f for f in r.findings if show_info or f.severity is not Severity.INFO]
        hidden = len(r.findings) - len(shown)
        if not shown:
            console.print("[green]ไม่พบข้อผิดพลาด / no errors or warnings[/]")
        # One block per finding rather than a table: it stays readable at any terminal width. A cause comes
        # first and the findings it causes are folded under it.
        ordered, folded = fold_consequences(sort_findings(shown))
        for sheet in dict.fromkeys(f.sheet for f in ordered):
            console.print(f"[bold]ชีต / sheet: {escape(sheet)}[/]")
            for f in (f for f in ordered if f.sheet == sheet):
                _print_finding(console, f)
                for g in folded.get(f.where, []):
                    _print_finding(console, g, under=f)
        if hidden:
            console.print(f"[dim]และข้อมูล (info) อีก {hidden} รายการ ใช้ --all เพื่อแสดง / "
                          f"{hidden} info findings hidden, use --all[/]")
    s = summary(results)
    console.print(
        f"[bold]สรุป / summary:[/] {s['files']} ไฟล์/files · ผ่าน/clean {s['clean']} · "
        f"มีข้อผิดพลาด/with errors {s['with_errors']} · อ่านไม่ได้/unreadable {s['unreadable']} · "
        f"errors {s['errors']} · warnings {s['warnings']} · info {s['info']}")


FINDINGS_HEADER = ["ระดับ / Severity", "ชีต / Sheet", "ช่อง / Cell", "กฎ / Rule", "ควรเป็น / Expected",
                   "ที่ระบุ / Actual", "รายละเอียด (ไทย)", "Message (English)"]


SheetRow = list[Decimal | int | float | str | None]


def finding_row(f: Finding) -> SheetRow:
    """One finding as a row under :data:`FINDINGS_HEADER`."""
    return [f"{SEVERITY_TH[f.severity]} / {f.severity.value}", f.sheet, f.cell, f.rule, f.expected, f.actual,
            f.message_th, f.message_en]


def sheet_rows(findings: list[Finding]) -> list[SheetRow]:
    """Rows of the in-workbook findings sheet (header first)."""
    return [list(FINDINGS_HEADER), *(finding_row(f) for f in sort_findings(findings))]


# Columns of the findings sheet. It prints all but the last (the English message, kept in the workbook) on
# A4 landscape at about 89 %, the Thai message wrapping in the widest column.
FINDINGS_WIDTHS = [10, 8, 5, 17, 15, 15, 44, 70]
FINDINGS_PRINTED = len(FINDINGS_WIDTHS) - 1


def value_text(value: Decimal | str | None, column: Column | None = None) -> str:
    """An expected or actual value as it reads on paper: formatted as its column (``9,500,000.00``,
    ``338,500``, ``93.89``), or with separators when the column is not known."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if column is not None and column.type.numeric:
            return column.format(value)
        return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    return str(value)


def printed_rows(findings: list[Finding], column: Callable[[Finding], Column | None]) -> list[SheetRow]:
    """:func:`sheet_rows` with every value as text, expected and actual formatted as ``column(finding)``."""
    rows: list[SheetRow] = [list(FINDINGS_HEADER)]
    for f in sort_findings(findings):
        row = finding_row(f)
        row[4], row[5] = value_text(f.expected, column(f)), value_text(f.actual, column(f))
        rows.append(["" if v is None else str(v) for v in row])
    return rows


def row_heights(rows: Sequence[Sequence[object]], widths: Sequence[float], *, header: int = 1) -> list[float]:
    """Points high each row must be for its wrapped text (the first ``header`` rows bold)."""
    return [row_height(max([1, *(text_lines(str(v), w, bold=n < header) for v, w in zip(row, widths, strict=False)
                                 if v not in (None, ""))]), FONT_SIZE)
            for n, row in enumerate(rows)]
