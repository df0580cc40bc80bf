"""KPI targets and results: the report's own texts, and format -> parse properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from osmep_xl.data import load_report
from osmep_xl.kpi_text import Change, TargetKind, parse_result, parse_target

units = st.sampled_from(["ราย", "เรื่อง", "ฐานข้อมูล", "ระบบ", "กระบวนการ", "คะแนน", "ล้านบาท", "ศูนย์"])
amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@given(amounts, units, st.sampled_from([("", TargetKind.EXACT), ("ไม่น้อยกว่า ", TargetKind.MINIMUM),
                                         ("ไม่เกิน ", TargetKind.MAXIMUM)]))
def test_target_round_trip(value: Decimal, unit: str, prefix: tuple[str, TargetKind]) -> None:
    words, kind = prefix
    target = parse_target(f"{words}{value:,} {unit}")
    assert (target.kind, target.low, target.unit, target.high) == (kind, value, unit, None)
    assert target.direction == ("<=" if kind is TargetKind.MAXIMUM else ">=")


@given(amounts, amounts)
def test_range_target(a: Decimal, b: Decimal) -> None:
    low, high = min(a, b), max(a, b)
    target = parse_target(f"ร้อยละ {low}-{high}")
    assert (target.kind, target.low, target.high, target.unit) == (TargetKind.RANGE, low, high, "ร้อยละ")


@pytest.mark.parametrize(("text", "value", "unit", "remark"), [
    ("139,825 ราย", Decimal(139825), "ราย", None),
    ("1 ระบบ (ระบบ D-join)", Decimal(1), "ระบบ", "ระบบ D-join"),
    ("๑ ฐานข้อมูล", Decimal(1), "ฐานข้อมูล", None),
    ("อยู่ระหว่างดำเนินการ", None, None, None),
    ("ร้อยละ 85", Decimal(85), "ร้อยละ", None),
    ("ประมวลผลเมื่อสิ้นปีบัญชี", None, None, None),
    ("1 เรื่อง อยู่ระหว่างดำเนินการ", None, None, None),  # a count still in progress is not a result yet
    ("ดำเนินการแล้ว 1 เรื่อง", Decimal(1), "เรื่อง", None),  # a completion phrase before the number
    ("1 ระบบ (อยู่ระหว่างขยายผล)", Decimal(1), "ระบบ", "อยู่ระหว่างขยายผล"),  # a remark is not the status
])
def test_results(text: str, value: Decimal | None, unit: str | None, remark: str | None) -> None:
    result = parse_result(text)
    assert (result.value, result.unit, result.remark) == (value, unit, remark)
    assert result.pending is (value is None)


@pytest.mark.parametrize("text", ["ร้อยละ 70 ถึง 80", "ร้อยละ 70 - 80", "ร้อยละ 70–80"])
def test_range_written_in_words(text: str) -> None:
    target = parse_target(text)
    assert (target.kind, target.low, target.high) == (TargetKind.RANGE, Decimal(70), Decimal(80))


def test_target_without_number_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_target("อยู่ระหว่างกำหนด")


def test_report_texts_agree_with_their_numbers() -> None:
    """Every KPI of the report: the number transcribed beside a text is what the text says."""
    for row in load_report("kpi").blocks["kpis"]:
        target = parse_target(row["target_text"])
        assert row["target"] == target.low
        assert row["target_high"] == target.high
        if row["result_text"]:
            assert row["result"] == parse_result(row["result_text"]).value


@pytest.mark.parametrize(("text", "kind", "low", "unit", "change"), [
    ("ลดลงร้อยละ 10", TargetKind.MINIMUM, Decimal(10), "ร้อยละ", Change.DECREASE),
    ("ลดลง ไม่น้อยกว่าร้อยละ 5", TargetKind.MINIMUM, Decimal(5), "ร้อยละ", Change.DECREASE),
    ("เพิ่มขึ้นร้อยละ 3", TargetKind.MINIMUM, Decimal(3), "ร้อยละ", Change.INCREASE),
    ("ลดต้นทุน 2 เรื่อง", TargetKind.EXACT, Decimal(2), "เรื่อง", None),  # "ลด" starting a name is no change
])
def test_a_reduction_target_is_met_by_at_least_that_reduction(text: str, kind: TargetKind, low: Decimal,
                                                               unit: str, change: Change | None) -> None:
    """"ลดลงร้อยละ 10": the number is the size of the decrease, more is better, never "at most 10"."""
    target = parse_target(text)
    assert (target.kind, target.low, target.unit, target.change) == (kind, low, unit, change)
    assert target.direction == ">="
