"""Structure: the template's version, sheets, columns and headers as the reader found them."""

from __future__ import annotations

from collections.abc import Iterator

from ..a1 import a1
from ..findings import Finding
from ..xlsx.read import StructureIssue, StructureProblem
from .catalog import E, W, check, rule
from .context import Context

VERSION = rule("structure.version", W, "รุ่นของแม่แบบไม่ตรงกับรุ่นที่ติดตั้ง",
               "template version differs from the installed spec")
SHEET_MISSING = rule(StructureIssue.SHEET_MISSING, E, "ชีตที่แม่แบบกำหนดหายไป", "a sheet the template requires is missing")
COLUMN_MISSING = rule(StructureIssue.COLUMN_MISSING, E, "คอลัมน์ที่แม่แบบกำหนดหายไปหรือหัวคอลัมน์ถูกแก้",
                      "a column the template requires is missing or its header was changed")
OPTIONAL_COLUMN_MISSING = rule(StructureIssue.OPTIONAL_COLUMN_MISSING, W,
                               "คอลัมน์ที่ไม่บังคับหายไปหรือหัวคอลัมน์ถูกแก้",
                               "an optional column is missing or its header was changed")
HEADER_CHANGED = rule(StructureIssue.HEADER_CHANGED, W, "หัวคอลัมน์ภาษาไทยถูกแก้ (ยังระบุคอลัมน์ได้จากหัวภาษาอังกฤษ)",
                      "a Thai column header was edited (the column was still found by its English header)")
BLOCK_EMPTY = rule("structure.block_empty", W, "ตารางไม่มีข้อมูล", "a table has no rows")


def _problem_finding(p: StructureProblem) -> Finding:
    entry = {StructureIssue.SHEET_MISSING: SHEET_MISSING, StructureIssue.COLUMN_MISSING: COLUMN_MISSING,
             StructureIssue.OPTIONAL_COLUMN_MISSING: OPTIONAL_COLUMN_MISSING,
             StructureIssue.HEADER_CHANGED: HEADER_CHANGED}[p.issue]
    block = p.block
    col = block.column(p.column) if block is not None and p.column else None
    if p.issue is StructureIssue.SHEET_MISSING and block is not None:
        th, en = f"'{block.sheet}' ({block.title_th})", f"'{block.sheet}' ({block.title_en})"
    elif p.issue is StructureIssue.HEADER_CHANGED and col is not None:
        th, en = f"ควรเป็น '{col.th}'", f"should be '{col.th}' ({col.en})"
    elif col is not None and block is not None:
        th, en = f"'{col.th}' ในตาราง {block.title_th}", f"'{col.en}' in {block.title_en}"
    else:
        th, en = p.expected, p.expected
    return entry.at(p.sheet, p.cell, expected=p.expected, actual=p.actual, th=th, en=en)


@check(SHEET_MISSING, COLUMN_MISSING, OPTIONAL_COLUMN_MISSING, HEADER_CHANGED)
def layout_findings(ctx: Context) -> Iterator[Finding]:
    """What the reader found wrong with sheets, columns and headers."""
    return (_problem_finding(p) for p in ctx.workbook.structure)


@check(VERSION)
def version_findings(ctx: Context) -> Iterator[Finding]:
    wb = ctx.workbook
    if wb.version is not None and wb.version != wb.spec.version:
        first = wb.spec.blocks[0]
        yield VERSION.at(first.sheet, "A1", expected=wb.spec.version, actual=wb.version,
                         th=f"ไฟล์รุ่น {wb.version} สเปกรุ่น {wb.spec.version}",
                         en=f"file is v{wb.version}, spec is v{wb.spec.version}")


@check(BLOCK_EMPTY)
def empty_block_findings(ctx: Context) -> Iterator[Finding]:
    for rb in ctx.workbook.blocks.values():
        if not rb.rows and rb.columns:
            yield BLOCK_EMPTY.at(rb.sheet, a1(rb.header_row, 0), th=rb.block.title_th, en=rb.block.title_en)
