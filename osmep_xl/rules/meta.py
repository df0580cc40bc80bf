"""Rules on the information sheet: as-of date, fiscal year, quarter and the other required fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ..findings import Finding
from ..fiscal import BE_YEARS, fiscal_year_bounds
from .catalog import E, W, check, rule
from .context import Context
from .quarters import quarter_reached

REQUIRED = rule("meta.required", E, "ข้อมูลทั่วไปที่จำเป็นว่าง (เช่น วันที่ข้อมูล)", "a required information field is blank")
INVALID = rule("meta.invalid", E, "ข้อมูลทั่วไปไม่ถูกต้อง (เช่น วันที่ไม่ใช่วันที่)", "an information field is invalid")
# Raised by consolidation when the submissions' information fields disagree.
DIFFERS = rule("consolidate.meta_differs", W, "ข้อมูลทั่วไปไม่ตรงกันระหว่างหน่วยงานที่รวม",
               "an information field differs between the consolidated submissions")


def _quarter_of_as_of(meta: dict[str, object]) -> int | None:
    as_of, year = meta.get("as_of"), meta.get("fiscal_year")
    if isinstance(as_of, dt.date) and isinstance(year, int) and year in BE_YEARS:
        return quarter_reached(as_of, year)
    return None


def _outside_year(as_of: dt.date, year: object) -> str | None:
    """The fiscal year's span when ``as_of`` falls before it starts or more than a year after it ends: a date
    that would silently switch every quarterly check off."""
    if not isinstance(year, int) or year not in BE_YEARS:
        return None
    start, end = fiscal_year_bounds(year)
    if start <= as_of <= end + dt.timedelta(days=366):
        return None
    return f"{start.isoformat()} – {end.isoformat()}"


@check(REQUIRED, INVALID)
def meta_findings(ctx: Context) -> Iterator[Finding]:
    wb = ctx.workbook
    for field in wb.spec.meta:
        sheet, cell = wb.meta_cells.get(field.id, (wb.spec.blocks[0].sheet, "A1"))
        value = wb.meta.get(field.id)
        if value is None:
            if field.required:
                yield REQUIRED.at(sheet, cell, expected=field.th, th=field.th, en=field.en)
        elif field.kind == "date" and not isinstance(value, dt.date):
            yield INVALID.at(sheet, cell, actual=str(value),
                          th=f"{field.th} ต้องเป็นวันที่", en=f"{field.en} must be a date")
        elif field.kind == "int" and not isinstance(value, int):
            yield INVALID.at(sheet, cell, actual=str(value),
                          th=f"{field.th} ต้องเป็นตัวเลข", en=f"{field.en} must be a whole number")
        elif field.id == "fiscal_year" and value not in BE_YEARS:
            yield INVALID.at(sheet, cell, actual=str(value),
                          th=f"{field.th} ต้องเป็นปี พ.ศ. เช่น 2564", en=f"{field.en} must be a BE year such as 2564")
        elif field.id == "quarter" and value not in (1, 2, 3, 4):
            yield INVALID.at(sheet, cell, actual=str(value),
                          th=f"{field.th} ต้องเป็น 1-4", en=f"{field.en} must be 1-4")
        elif field.kind == "date" and (span := _outside_year(value, wb.meta.get("fiscal_year"))):
            yield INVALID.at(sheet, cell, expected=span, actual=value.isoformat(),
                             th=f"{field.th} {value.isoformat()} อยู่นอกปีงบประมาณ ({span}) การเบิกจ่ายและตัวชี้วัดจึงเทียบ"
                                f"เป้ารายไตรมาสไม่ได้ (ปี ค.ศ. พิมพ์เป็น พ.ศ.?)",
                             en=f"{field.en} {value.isoformat()} is outside the fiscal year ({span}), so no quarterly"
                                " target can be checked (a CE year typed as BE?)")
        elif field.id == "quarter" and (reached := _quarter_of_as_of(wb.meta)) not in (None, value):
            yield INVALID.at(sheet, cell, expected=str(reached), actual=str(value),
                          th=f"{field.th} {value} ไม่ตรงกับวันที่ข้อมูล (ไตรมาส {reached})",
                          en=f"{field.en} {value} does not match the as-of date (Q{reached})")
