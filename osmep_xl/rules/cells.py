"""Rules on single cells and the information sheet: types, blanks, lists, version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ..findings import Finding
from ..xlsx.cells import a1
from .catalog import finding
from .context import Context


def version_findings(ctx: Context) -> Iterator[Finding]:
    wb = ctx.workbook
    if wb.version is not None and wb.version != wb.spec.version:
        first = wb.spec.blocks[0]
        yield finding("structure.version", first.sheet, "A1", expected=wb.spec.version, actual=wb.version,
                      th=f"ไฟล์รุ่น {wb.version} สเปกรุ่น {wb.spec.version}",
                      en=f"file is v{wb.version}, spec is v{wb.spec.version}")


def meta_findings(ctx: Context) -> Iterator[Finding]:
    wb = ctx.workbook
    for field in wb.spec.meta:
        sheet, cell = wb.meta_cells.get(field.id, (wb.spec.blocks[0].sheet, "A1"))
        value = wb.meta.get(field.id)
        if value is None:
            if field.required:
                yield finding("meta.required", sheet, cell, expected=field.th, th=field.th, en=field.en)
        elif field.kind == "date" and not isinstance(value, dt.date):
            yield finding("meta.invalid", sheet, cell, actual=str(value),
                          th=f"{field.th} ต้องเป็นวันที่", en=f"{field.en} must be a date")
        elif field.kind == "int" and not isinstance(value, int):
            yield finding("meta.invalid", sheet, cell, actual=str(value),
                          th=f"{field.th} ต้องเป็นตัวเลข", en=f"{field.en} must be a whole number")


def cell_findings(ctx: Context) -> Iterator[Finding]:
    for rb, calc in ctx.blocks():
        block = rb.block
        if not rb.rows and rb.columns:
            yield finding("structure.block_empty", rb.sheet, a1(rb.header_row, 0),
                          th=block.title_th, en=block.title_en)
        for i, row in enumerate(rb.rows):
            for col in block.columns:
                if col.id not in rb.columns:
                    continue
                cell = rb.address(i, col.id)
                problem = rb.problems.get((i, col.id))
                raw = rb.raw[i].get(col.id)
                if problem:
                    yield finding(problem, rb.sheet, cell, actual=None if raw is None else str(raw),
                                  expected=row.get(col.id) if problem != "cell.negative" else None,
                                  th=col.th, en=col.en)
                    continue
                value = row.get(col.id)
                if value is None and col.required and not calc.is_computable(i, col):
                    yield finding("cell.required_blank", rb.sheet, cell, th=col.th, en=col.en)
                elif value is not None and col.choices and str(value) not in col.choices:
                    yield finding("cell.invalid_choice", rb.sheet, cell, expected=" | ".join(col.choices),
                                  actual=str(value), th=col.th, en=col.en)
