"""Every validation rule: id, severity and what it checks, in Thai and English."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..findings import Finding, Severity

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    th: str
    en: str


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("structure.version", W, "รุ่นของแม่แบบไม่ตรงกับรุ่นที่ติดตั้ง", "template version differs from the installed spec"),
    Rule("structure.sheet_missing", E, "ชีตที่แม่แบบกำหนดหายไป", "a sheet the template requires is missing"),
    Rule("structure.column_missing", E, "คอลัมน์ที่แม่แบบกำหนดหายไปหรือหัวคอลัมน์ถูกแก้",
         "a column the template requires is missing or its header was changed"),
    Rule("structure.header_changed", W, "หัวคอลัมน์ภาษาไทยถูกแก้ (ยังระบุคอลัมน์ได้จากหัวภาษาอังกฤษ)",
         "a Thai column header was edited (the column was still found by its English header)"),
    Rule("structure.block_empty", W, "ตารางไม่มีข้อมูล", "a table has no rows"),
    Rule("meta.required", E, "ข้อมูลทั่วไปที่จำเป็นว่าง (เช่น วันที่ข้อมูล)", "a required information field is blank"),
    Rule("meta.invalid", E, "ข้อมูลทั่วไปไม่ถูกต้อง (เช่น วันที่ไม่ใช่วันที่)", "an information field is invalid"),
    Rule("cell.required_blank", E, "ช่องที่ต้องกรอกว่าง", "a required cell is blank"),
    Rule("cell.number_as_text", W, "ตัวเลขถูกเก็บเป็นข้อความ", "a number is stored as text"),
    Rule("cell.thai_digits", W, "ตัวเลขเขียนด้วยเลขไทย (เก็บเป็นข้อความ)",
         "a number written in Thai digits (stored as text)"),
    Rule("cell.formatted_number_text", W,
         "ตัวเลขมีเครื่องหมายคั่นหรือคำว่า 'บาท' (เก็บเป็นข้อความ)",
         "a number typed with separators or a unit such as 'บาท' (stored as text)"),
    Rule("cell.not_a_number", E, "ช่องตัวเลขมีข้อความที่ไม่ใช่ตัวเลข", "a number cell holds text that is not a number"),
    Rule("cell.error_value", E, "ช่องมีค่าผิดพลาดของ Excel (#DIV/0!, #REF! ...)", "a cell holds an Excel error value"),
    Rule("cell.negative", E, "จำนวนเงินหรือจำนวนนับติดลบ", "a negative amount or count"),
    Rule("cell.invalid_year", E, "ปีงบประมาณต้องเป็นปี พ.ศ. เช่น 2564 (ไม่ใช่ ค.ศ.)",
         "a fiscal year must be a Buddhist Era year such as 2564 (not CE)"),
    Rule("cell.invalid_choice", E, "ค่าไม่อยู่ในรายการที่กำหนด", "a value outside its list"),
    Rule("identity.sum", E, "ยอดรวมไม่เท่ากับเบิกจ่าย + ผูกพัน", "total differs from disbursed + committed"),
    Rule("identity.difference", E, "คงเหลือไม่เท่ากับงบประมาณ - ยอดรวม", "remaining differs from allocated - total"),
    Rule("identity.percent", E, "ร้อยละไม่ตรงกับอัตราส่วนของจำนวนเงิน (ปัดแบบ Excel ROUND)",
         "a stated percentage differs from its amounts' ratio rounded as Excel's ROUND"),
    Rule("kpi.achievement", E, "ร้อยละของเป้าหมายไม่ตรงกับผล/เป้าหมาย", "KPI achievement differs from result / target"),
    Rule("kpi.status", E, "สถานะตัวชี้วัดไม่ตรงกับผลเทียบเป้าหมาย", "KPI status differs from result against target"),
    Rule("rollup.sum", E, "ยอดรวมของระดับบนไม่เท่ากับผลรวมของรายการย่อย",
         "a stated total differs from the sum of its lines"),
    Rule("link.mismatch", E, "ตัวเลขเดียวกันในสองตารางไม่ตรงกัน", "the same figure differs between two tables"),
    Rule("ref.parent_missing", E, "ไม่พบรายการระดับบนตามรหัสที่อ้างถึง", "the parent code refers to no row"),
    Rule("ref.duplicate_key", E, "รหัสซ้ำในตารางเดียวกัน", "a code is used twice in the same table"),
    Rule("ref.unknown", E, "รหัสอ้างอิงไม่มีอยู่ (เช่น ยุทธศาสตร์ของตัวชี้วัด)",
         "a reference to a code that does not exist (e.g. a KPI's strategy)"),
    Rule("formula.overwritten", INFO, "ช่องที่ควรเป็นสูตรถูกพิมพ์ตัวเลขทับ",
         "a derived cell holds a typed value, not its formula"),
    Rule("formula.stale", W, "ค่าที่คำนวณไว้ของสูตรไม่เป็นปัจจุบัน", "a formula's cached value is out of date"),
    Rule("recalc.changed", INFO, "ค่าที่คำนวณใหม่ต่างจากค่าเดิม", "recalculation changed a stated value"),
    Rule("variance.kpi_behind", W, "ผลตัวชี้วัดต่ำกว่าเป้าหมายตามสัดส่วนไตรมาส",
         "KPI result behind the pro-rata expectation for the quarter"),
    Rule("variance.kpi_over", INFO, "ผลตัวชี้วัดสูงกว่าเป้าหมาย", "KPI result above target (over-achievement)"),
    Rule("variance.disbursement_behind", W, "การเบิกจ่ายต่ำกว่าเป้าหมายการเบิกจ่ายรายไตรมาสของรัฐบาล",
         "disbursement behind the government's quarterly target"),
    Rule("variance.overspent", W, "ยอดเบิกจ่ายรวมผูกพันเกินงบประมาณ (คงเหลือติดลบ)",
         "disbursed + committed exceeds the allocation (negative remaining)"),
    Rule("variance.decreased", W, "ตัวเลขสะสมลดลงจากไตรมาสก่อน",
         "a cumulative figure went down since the previous quarter"),
)}


def finding(rule_id: str, sheet: str, cell: str, *, expected: Decimal | str | None = None,
            actual: Decimal | str | None = None, th: str = "", en: str = "") -> Finding:
    """A finding of a catalogued rule; ``th``/``en`` add the specifics to the rule's text."""
    rule = RULES[rule_id]
    return Finding(
        rule=rule.id, severity=rule.severity, sheet=sheet, cell=cell, expected=expected, actual=actual,
        message_th=f"{rule.th}: {th}" if th else rule.th,
        message_en=f"{rule.en}: {en}" if en else rule.en,
    )
