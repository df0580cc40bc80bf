"""KPI targets and results as people write them: minimums, ranges, units, textual statuses."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel

from .money import parse_number, translate_thai_digits

HIGHER_IS_BETTER = ">="  # a KPI's direction: more is better (the usual case) ...
LOWER_IS_BETTER = "<="  # ... or less is better


class TargetKind(StrEnum):
    EXACT = "exact"  # "1 เรื่อง"
    MINIMUM = "minimum"  # "ไม่น้อยกว่า 4.10 คะแนน"
    MAXIMUM = "maximum"  # "ไม่เกิน 5 วัน"
    RANGE = "range"  # "ร้อยละ 70-80"


class Change(StrEnum):
    """A target on the size of a change, not on a level: "ลดลงร้อยละ 10" is a reduction of at least 10 %."""

    DECREASE = "decrease"
    INCREASE = "increase"


class Target(BaseModel):
    """A KPI target: kind, bounds and unit, with the text it came from. ``change`` says when the number is
    the size of a decrease or an increase ("ลดลงร้อยละ 10"), measured so that more is better."""

    kind: TargetKind
    low: Decimal
    high: Decimal | None = None
    unit: str | None = None
    change: Change | None = None
    text: str

    @property
    def direction(self) -> str:
        """">=" when more is better, "<=" when less is better."""
        return LOWER_IS_BETTER if self.kind is TargetKind.MAXIMUM else HIGHER_IS_BETTER


class KpiResult(BaseModel):
    """A result: a number with its unit and remark, or only a textual status."""

    value: Decimal | None = None
    unit: str | None = None
    remark: str | None = None
    text: str

    @property
    def pending(self) -> bool:
        return self.value is None


_NUM = r"[0-9](?:[0-9,]*[0-9])?(?:\.[0-9]+)?"  # a separator only between digits: "0," is 0 and a comma
MINIMUM_WORDS = ("ไม่น้อยกว่า", "อย่างน้อย", "≥", ">=")  # how a target says "at least"
MAXIMUM_WORDS = ("ไม่เกิน", "ไม่มากกว่า", "≤", "<=")  # ... and "at most"
# A target on a change: the number is the size of the reduction (or increase), so a reduction target is met
# when the reduction is at least that big (direction >=), never "at most 10" of the level itself.
_CHANGE = re.compile(r"^(?P<word>ลดลง|ลด|เพิ่มขึ้น|เพิ่ม)(?=\s*(?:ร้อยละ|[0-9]|ไม่|อย่างน้อย))")
_CHANGE_KIND = {"ลดลง": Change.DECREASE, "ลด": Change.DECREASE, "เพิ่มขึ้น": Change.INCREASE,
                "เพิ่ม": Change.INCREASE}
_PREFIX_UNITS = "ร้อยละ|จำนวน"
_RANGE = re.compile(rf"(?P<low>{_NUM})\s*(?:[-–]|ถึง|to)\s*(?P<high>{_NUM})")
# A result that says the work is still going on is pending, whatever count it names ("1 เรื่อง อยู่ระหว่าง
# ดำเนินการ"); a completion phrase may come before the number ("ดำเนินการแล้ว 1 เรื่อง").
_PENDING = re.compile(r"อยู่ระหว่าง|รอผล|ยังไม่แล้วเสร็จ|ยังไม่เสร็จ|ยังไม่ได้|กำลังดำเนินการ")
_DONE_PREFIX = r"(?:ดำเนินการแล้ว(?:เสร็จ)?|แล้วเสร็จ|เสร็จสิ้น|ได้)"
_FIRST = re.compile(rf"(?P<num>{_NUM})")


def _unit(before: str, after: str) -> str | None:
    after = after.strip()
    after = re.sub(r"\s*\(.*\)\s*$", "", after).strip()
    if after:
        return after
    before = before.strip()
    return before or None


def parse_target(text: str) -> Target:
    """Parse "ไม่น้อยกว่า 190,000 ราย", "ร้อยละ 70-80", "1 ระบบ/ปี"; ValueError if no number."""
    clean = translate_thai_digits(text).strip()
    body = clean
    kind = TargetKind.EXACT
    change = _CHANGE.match(body)
    if change:
        body = body[change.end():].strip()
        kind = TargetKind.MINIMUM  # "ลดลงร้อยละ 10": a reduction of at least 10 %
    for words, k in ((MINIMUM_WORDS, TargetKind.MINIMUM), (MAXIMUM_WORDS, TargetKind.MAXIMUM)):
        for word in words:
            if body.startswith(word) or f" {word}" in body:
                kind, body = k, body.replace(word, " ", 1).strip()
    changed = _CHANGE_KIND[change["word"]] if change else None
    rng = _RANGE.search(body)
    if rng:
        low, high = parse_number(rng["low"]), parse_number(rng["high"])
        assert low is not None and high is not None
        return Target(kind=TargetKind.RANGE, low=low, high=high, text=text, change=changed,
                      unit=_unit(body[:rng.start()], body[rng.end():]))
    first = _FIRST.search(body)
    if not first:
        raise ValueError(f"ไม่พบตัวเลขในเป้าหมาย / no number in target {text!r}")
    value = parse_number(first["num"])
    assert value is not None
    return Target(kind=kind, low=value, text=text, change=changed,
                  unit=_unit(body[:first.start()], body[first.end():]))


def parse_result(text: str) -> KpiResult:
    """Parse "139,825 ราย", "1 ระบบ (ระบบ D-join)"; a text without a leading number is a status."""
    clean = translate_thai_digits(text).strip()
    if _PENDING.search(re.sub(r"\(.*?\)", "", clean)):
        return KpiResult(text=text)
    # A unit may come first, as in "ร้อยละ 85" (the way targets like "ร้อยละ 70-80" are written).
    match = re.match(rf"^(?:{_DONE_PREFIX}\s*)?(?:(?P<pre>{_PREFIX_UNITS})\s*)?(?P<num>{_NUM})\s*(?P<rest>.*)$",
                     clean)
    if not match:
        return KpiResult(text=text)
    rest = match["rest"] or (match["pre"] or "")
    remark_match = re.search(r"\((?P<remark>.*)\)\s*$", rest)
    remark = remark_match["remark"].strip() if remark_match else None
    unit = re.sub(r"\s*\(.*\)\s*$", "", rest).strip() or None
    return KpiResult(value=parse_number(match["num"]), unit=unit, remark=remark, text=text)
