"""Rules on single cells and the information sheet: types, blanks, lists, version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ..findings import Finding
from ..spec.base import Column
from ..xlsx.cells import a1
from ..xlsx.coerce import BE_YEARS
from ..xlsx.read import ReadBlock
from .catalog import finding
from .context import Context
from .evaluate import BlockCalc
from .quarters import quarter_reached


def version_findings(ctx: Context) -> Iterator[Finding]:
    wb = ctx.workbook
    if wb.version is not None and wb.version != wb.spec.version:
        first = wb.spec.blocks[0]
        yield finding("structure.version", first.sheet, "A1", expected=wb.spec.version, actual=wb.version,
                      th=f"ไฟล์รุ่น {wb.version} สเปกรุ่น {wb.spec.version}",
                      en=f"file is v{wb.version}, spec is v{wb.spec.version}")


def _quarter_of_as_of(meta: dict[str, object]) -> int | None:
    as_of, year = meta.get("as_of"), meta.get("fiscal_year")
    if isinstance(as_of, dt.date) and isinstance(year, int) and year in BE_YEARS:
        return quarter_reached(as_of, year)
    return None


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
        elif field.id == "fiscal_year" and value not in BE_YEARS:
            yield finding("meta.invalid", sheet, cell, actual=str(value),
                          th=f"{field.th} ต้องเป็นปี พ.ศ. เช่น 2564", en=f"{field.en} must be a BE year such as 2564")
        elif field.id == "quarter" and value not in (1, 2, 3, 4):
            yield finding("meta.invalid", sheet, cell, actual=str(value),
                          th=f"{field.th} ต้องเป็น 1-4", en=f"{field.en} must be 1-4")
        elif field.id == "quarter" and (reached := _quarter_of_as_of(wb.meta)) not in (None, value):
            yield finding("meta.invalid", sheet, cell, expected=str(reached), actual=str(value),
                          th=f"{field.th} {value} ไม่ตรงกับวันที่ข้อมูล (ไตรมาส {reached})",
                          en=f"{field.en} {value} does not match the as-of date (Q{reached})")


def _shown(raw: object) -> str | None:
    """A raw cell value as the user sees it (2021, not 2021.0)."""
    if raw is None:
        return None
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    return str(raw)


def _inherited_error(rb: ReadBlock, calc: BlockCalc, i: int, col: Column) -> bool:
    """True when a formula cell shows an error only because a cell it uses does."""
    if (i, col.id) not in rb.formula_cells:
        return False
    if col.formula is not None:
        inputs = [(i, dep) for dep in col.formula.inputs]
    else:
        inputs = [(child, col.id) for child in calc.structure.children.get(i, [])]
    return any(rb.problems.get(key) == "cell.error_value" for key in inputs)


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
                problem = rb.problems.get((i, col.id))
                value = row.get(col.id)
                if not problem and value is not None and not col.choices:
                    continue  # the common case: a clean value, nothing to report
                cell = rb.address(i, col.id)
                raw = rb.raw[i].get(col.id)
                if problem == "cell.negative" and (col.derived or (i, col.id) in rb.formula_cells):
                    continue  # a computed negative (overspending) is a variance, not a bad cell
                if problem == "cell.error_value" and _inherited_error(rb, calc, i, col):
                    continue  # reported once, where the error starts
                if problem:
                    actual = row.get(col.id) if problem == "cell.negative" else _shown(raw)
                    yield finding(problem, rb.sheet, cell, actual=actual,
                                  expected=row.get(col.id) if problem != "cell.negative" else None,
                                  th=col.th, en=col.en)
                    continue
                if value is None and col.required and not calc.is_computable(i, col):
                    yield finding("cell.required_blank", rb.sheet, cell, th=col.th, en=col.en)
                elif value is not None and col.choices and str(value) not in col.choices:
                    yield finding("cell.invalid_choice", rb.sheet, cell, expected=" | ".join(col.choices),
                                  actual=str(value), th=col.th, en=col.en)
