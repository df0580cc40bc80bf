"""Build the report pack from checked workbooks: validate, refuse or watermark, tables, charts, Word, PDF."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..check import check_opened, open_files, opened_books
from ..findings import Finding, Severity
from ..report import FileResult, summary
from ..rules.config import Settings
from ..xlsx.read import ReadWorkbook
from .charts import Chart, NoThaiFontError, make_charts
from .figures import NumberStyle, ReportContent, build_content
from .office import to_pdf
from .word import write_docx


class ReportRefusedError(Exception):
    """Inputs with error findings: the figures must not be published (``--draft`` writes a watermarked draft)."""

    def __init__(self, results: list[FileResult]) -> None:
        s = summary(results)
        files = ", ".join(r.path.name for r in results if r.errors or r.unreadable)
        unreadable = f", อ่านไม่ได้/unreadable {s['unreadable']}" if s["unreadable"] else ""
        super().__init__(
            f"ไม่สร้างรายงาน: ข้อมูลมีข้อผิดพลาด {s['errors']} รายการ (เตือน {s['warnings']}{unreadable}) ใน {files}"
            f" แก้ไขหรือใช้ --draft / report refused: {s['errors']} errors, {s['warnings']} warnings in {files};"
            " correct them or use --draft")
        self.results = results


@dataclass
class ReportResult:
    """What was written, and what the report says about its inputs."""

    docx: Path
    pdf: Path | None
    content: ReportContent
    results: list[FileResult]
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was left out and why (e.g. no Thai font for charts)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.results)


def build_report(paths: list[Path], out: Path, settings: Settings, *, pdf: bool = False, draft: bool = False,
                 as_of: dt.date | None = None, thai_digits: bool = False, template: Path | None = None,
                 charts: bool = True) -> ReportResult:
    """Validate ``paths`` together; refuse (:class:`ReportRefusedError`) when any has errors unless ``draft``;
    write the .docx at ``out`` (and the PDF beside it with ``pdf``)."""
    opened = open_files(paths)  # each file read once, for validation and for the figures
    results = check_opened(opened, settings)
    if any(r.unreadable for r in results):
        raise ReportRefusedError(results)
    books = opened_books(opened)
    return publish(books, results, out, settings, pdf=pdf, draft=draft, as_of=as_of, thai_digits=thai_digits,
                   template=template, charts=charts)


def publish(books: list[ReadWorkbook], results: list[FileResult], out: Path, settings: Settings, *,
            pdf: bool = False, draft: bool = False, as_of: dt.date | None = None, thai_digits: bool = False,
            template: Path | None = None, charts: bool = True) -> ReportResult:
    """The report of ``books`` (read from files or a live workbook) whose validation gave ``results``."""
    errors = sum(r.errors for r in results)
    if errors and not draft:
        raise ReportRefusedError(results)
    style = NumberStyle(thai_digits=thai_digits)
    content = build_content(books, as_of, style)
    findings: list[Finding] = [f for r in results for f in r.findings if f.severity is not Severity.INFO]
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="osmep-report-") as tmp:
        images: list[Chart] = []
        if charts:
            try:
                images = make_charts(content, settings, Path(tmp))
            except NoThaiFontError as exc:
                notes.append(str(exc))
        write_docx(content, out, style=style, charts=images, findings=findings, draft_errors=errors or None,
                   template=template)
    pdf_path = to_pdf(out, out.with_suffix(".pdf")) if pdf else None
    return ReportResult(out, pdf_path, content, results, images, notes)
