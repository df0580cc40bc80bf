"""Codes: unique within a table, parents that exist, references to other tables that resolve."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding
from .catalog import E, check, rule
from .context import Context

PARENT_MISSING = rule("ref.parent_missing", E, "ไม่พบรายการระดับบนตามรหัสที่อ้างถึง", "the parent code refers to no row")
DUPLICATE_KEY = rule("ref.duplicate_key", E, "รหัสซ้ำในตารางเดียวกัน", "a code is used twice in the same table")
UNKNOWN = rule("ref.unknown", E, "รหัสอ้างอิงไม่มีอยู่ (เช่น ยุทธศาสตร์ของตัวชี้วัด)",
               "a reference to a code that does not exist (e.g. a KPI's strategy)")


@check(PARENT_MISSING, DUPLICATE_KEY, UNKNOWN)
def reference_findings(ctx: Context) -> Iterator[Finding]:
    for rb, calc in ctx.blocks():
        block = rb.block
        st = calc.structure
        for i in st.duplicates if "code" in rb.columns else ():
            code = rb.rows.value(i, "code")
            yield DUPLICATE_KEY.at(rb.sheet, rb.address(i, "code"), actual=str(code), th=f"รหัส {code}",
                                   en=f"code {code}")
        if block.hierarchical and "parent" in rb.columns:
            top = block.levels[0].id
            below_top = {lv.id for lv in block.levels} - {top}
            levels = rb.rows.column("level")
            for i in [i for i, level in enumerate(levels) if level in below_top and i not in st.parent]:
                level, code, parent = levels[i], rb.rows.value(i, "code"), rb.rows.value(i, "parent")
                yield PARENT_MISSING.at(rb.sheet, rb.address(i, "parent"),
                              actual=None if parent is None else str(parent),
                              th=f"{level} {code} อ้างถึง '{parent or ''}'",
                              en=f"{level} {code} refers to '{parent or ''}'")
        for col in block.columns:
            if col.ref is None or col.ref[0] not in ctx.workbook.blocks or col.id not in rb.columns:
                continue
            target = ctx.workbook.blocks[col.ref[0]]
            known = set(map(str, target.rows.column(col.ref[1])))
            for i, value in enumerate(rb.rows.column(col.id)):
                if value is not None and str(value) not in known:
                    yield UNKNOWN.at(rb.sheet, rb.address(i, col.id),
                                  expected=" | ".join(sorted(known)), actual=str(value),
                                  th=f"{col.th} '{value}' ไม่มีในชีต {target.sheet}",
                                  en=f"{col.en} '{value}' is not in sheet {target.sheet}")
