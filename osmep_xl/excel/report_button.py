"""The Build report button (สร้างรายงาน): the report pack of the calling workbook, as it is in Excel.

The templates are read from the live book (unsaved changes included), validated like the Validate button,
and the report is written beside the workbook: ``<book>_report.docx`` and, when LibreOffice is installed,
the PDF. A book with error findings gives a watermarked draft (``<book>_report_DRAFT.docx``) whose annex
lists them, so that nothing with wrong figures leaves as a final report.
"""

from __future__ import annotations

from pathlib import Path

import xlwings as xw

from ..check import refuse_newer
from ..pack.build import publish
from ..pack.office import find_soffice
from ..report import FileResult
from ..rules.config import load_settings
from ..rules.validate import validate_set
from .book import BookSource, WritePlan, read_book


def report_path(book: xw.Book, draft: bool) -> Path:
    """Where the report of ``book`` goes: beside it (the working folder for a book that was never saved)."""
    home = Path(book.fullname)
    stem = home.stem or "osmep_xl"
    return home.with_name(f"{stem}_report{'_DRAFT' if draft else ''}.docx")


def plan_report(book: xw.Book) -> WritePlan:
    """Validate the book's templates and write its report; the plan only carries the message."""
    books = refuse_newer(read_book(BookSource(book)), book.name)
    settings = load_settings()
    found = validate_set(books, settings)
    home = Path(book.fullname)
    results = [FileResult(path=home, template=wb.spec.id, version=wb.version, findings=f)
               for wb, f in zip(books, found, strict=True)]
    errors = sum(r.errors for r in results)
    out = report_path(book, draft=bool(errors))
    result = publish(books, results, out, settings, pdf=find_soffice() is not None, draft=True)
    written = f"{out}" + (f" + {result.pdf.name}" if result.pdf else "")
    if errors:
        message = (f"สร้างรายงานฉบับร่าง (มีข้อผิดพลาด {errors} รายการ ดูภาคผนวก) / built a DRAFT report with {errors}"
                   f" errors (listed in its annex): {written}")
    else:
        message = f"สร้างรายงานแล้ว / built the report: {written}"
    if result.notes:
        message += " · " + " · ".join(result.notes)
    plan = WritePlan()
    plan.status, plan.alert = message, (message, "osmep_xl")
    return plan
