"""``osmep-xl report``: the quarterly report pack (Word, PDF) from checked workbooks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from .cli_errors import check_out, fail, user_errors
from .fiscal import parse_thai_date
from .model.load import DataError


def parse_period(text: str, option: str = "--period") -> dt.date:
    """The date an option names: ``2021-06-30``, ``30 มิ.ย. 64``, ``มิ.ย. 2564`` (end of month)."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        pass
    try:
        return parse_thai_date(text)
    except ValueError:
        raise DataError(f"{option} ไม่ใช่วันที่ (เช่น 2021-06-30 หรือ 30 มิ.ย. 64) / {option} is not a date"
                        f" (e.g. 2021-06-30 or 30 มิ.ย. 64): {text!r}") from None


@user_errors
def report_cmd(
    workbooks: Annotated[list[Path], typer.Argument(help="แม่แบบที่ตรวจแล้ว / checked workbooks (.xlsx)")],
    out: Annotated[Path, typer.Option("-o", "--out", help="ไฟล์รายงาน .docx / report file (.docx)")],
    pdf: Annotated[bool, typer.Option("--pdf", help="สร้าง PDF ด้วย LibreOffice / also write the PDF")] = False,
    period: Annotated[str | None, typer.Option(
        "--period", help="ข้อมูล ณ วันที่ (ค่าเริ่มต้นจากแม่แบบ) / as-of date, e.g. 2021-06-30 or '30 มิ.ย. 64'")] = None,
    draft: Annotated[bool, typer.Option(
        "--draft", help="สร้างฉบับร่างแม้มีข้อผิดพลาด (มีลายน้ำ) / write a watermarked draft despite errors")] = False,
    template: Annotated[Path | None, typer.Option(
        "--template", help="แม่แบบ Word ของหน่วยงาน (.docx มี {{ตัวแทน}}) / your own Word layout with {{markers}}")
    ] = None,
    thai_digits: Annotated[bool, typer.Option("--thai-digits", help="ตัวเลขไทย ๐-๙ / Thai digits")] = False,
    no_charts: Annotated[bool, typer.Option("--no-charts", help="ไม่ใส่แผนภูมิ / leave out the charts")] = False,
    config: Annotated[Path | None, typer.Option("--config", help="ไฟล์ตั้งค่า TOML / settings file")] = None,
    force: Annotated[bool, typer.Option("--force", help="เขียนทับไฟล์เดิม / overwrite")] = False,
) -> None:
    """สร้างรายงาน (Word/PDF) จากแม่แบบที่ตรวจแล้ว / build the report's tables, sentences and charts.

    Refused (exit 1) when an input has error findings, unless --draft (watermarked, findings in an annex).
    """
    from .pack.build import ReportRefusedError, build_report
    from .pack.office import OfficeError
    from .pack.word import TemplateError
    from .rules.config import load_settings

    check_out(out, force, (".docx",))
    if pdf:
        check_out(out.with_suffix(".pdf"), force, (".pdf",))
    if template is not None and not template.is_file():
        raise FileNotFoundError(f"ไม่พบแม่แบบ Word / Word template not found: {template}")
    for path in workbooks:
        if not path.exists():
            raise FileNotFoundError(f"ไม่พบไฟล์ / file not found: {path}")
    try:
        result = build_report(workbooks, out, load_settings(config), pdf=pdf, draft=draft,
                              as_of=parse_period(period) if period else None, thai_digits=thai_digits,
                              template=template, charts=not no_charts)
    except ReportRefusedError as exc:
        fail(str(exc), code=1)
        return
    except (OfficeError, TemplateError) as exc:
        fail(str(exc))
        return
    for note in result.notes:
        typer.echo(f"หมายเหตุ / note: {note}", err=True)
    kind = f"ฉบับร่าง มีข้อผิดพลาด {result.errors} รายการ / DRAFT with {result.errors} errors" if result.errors \
        else "ฉบับเผยแพร่ / final"
    typer.echo(f"เขียนแล้ว / wrote {result.docx}" + (f" และ/and {result.pdf}" if result.pdf else "") + f" ({kind})")
