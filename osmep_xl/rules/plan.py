"""Monthly spending plan: each project against its own plan, spending after a cancellation, transfers
that do not balance within a budget source, and end dates that cannot be read."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ..findings import Finding
from ..fiscal import BE_YEARS, fiscal_month_start, parse_thai_date
from ..model.evaluate import BlockCalc, group_key
from ..spec.spending_plan import (
    ACTUAL_CUM,
    ACTUAL_MONTHS,
    CANCELLED,
    END_DATE,
    MONTHS,
    PLAN_CUM,
    STATUS,
    TRANSFER_IN,
    TRANSFER_OUT,
)
from ..xlsx.read import ReadBlock
from .catalog import INFO, W, check, rule
from .context import Context

BEHIND = rule("plan.behind", W, "ผลเบิกจ่ายสะสมต่ำกว่าแผนสะสมของโครงการเกินเกณฑ์",
              "cumulative actual behind the project's own cumulative plan beyond the threshold")
AHEAD = rule("plan.ahead", INFO, "ผลเบิกจ่ายสะสมสูงกว่าแผนสะสมเกินเกณฑ์ (มักเป็นตัวเลขที่กรอกผิดเดือน)",
             "cumulative actual ahead of the cumulative plan beyond the threshold (often a figure in the wrong month)")
AFTER_CANCEL = rule("plan.spent_after_cancel", W, "โครงการที่ยกเลิกแล้วยังมีผลเบิกจ่ายในเดือนหลังวันยกเลิก",
                    "a cancelled project has spending in a month after its cancellation date")
NO_DATE = rule("plan.end_date", W, "อ่านวันสิ้นสุด/ยกเลิกไม่ได้ (เช่น 31 ส.ค.64)",
               "the end or cancellation date cannot be read (e.g. 31 ส.ค.64)")
# A warning, not an error: a budget source may receive money from outside its own projects (the fund's balance
# topping up a project) or return it (a cancelled project's budget going back to the fund).
UNBALANCED = rule("plan.transfers_unbalanced", W, "ยอดโอนเข้าและโอนออกในแหล่งงบประมาณเดียวกันไม่หักล้างกัน"
                  " (เงินมาจากหรือออกไปนอกแหล่งนี้)",
                  "transfers in and out within a budget source do not net to zero (money from or to outside it)")


def read_date(value: Any) -> dt.date | None:
    """An end date as written ("31 ส.ค.64", "31 สิงหาคม 2564") or as Excel stores a date (ISO); None if neither."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        pass
    try:
        return parse_thai_date(value)
    except ValueError:
        return None


def _name(row: dict[str, Any]) -> str:
    return str(row.get("name") or row.get("code") or "")


def _plan_blocks(ctx: Context) -> Iterator[tuple[ReadBlock, BlockCalc]]:
    for rb, calc in ctx.blocks():
        if {PLAN_CUM.id, ACTUAL_CUM.id, STATUS.id} <= set(rb.columns):
            yield rb, calc


@check(BEHIND, AHEAD)
def against_plan(ctx: Context) -> Iterator[Finding]:
    """Each project's cumulative actual against its own cumulative plan, both to the as-of month."""
    cfg = ctx.settings.plan
    for rb, calc in _plan_blocks(ctx):
        money = ACTUAL_CUM.format
        for i, row in enumerate(rb.rows):
            if row.get("level") not in cfg.levels or row.get(STATUS.id) == CANCELLED:
                continue
            plan, actual = calc.cell(i, PLAN_CUM.id), calc.cell(i, ACTUAL_CUM.id)
            if not (plan.has_data and actual.has_data):
                continue
            p, a = plan.value, actual.value
            if not isinstance(p, Decimal) or not isinstance(a, Decimal):
                continue
            cell, name = rb.address(i, ACTUAL_CUM.id), _name(row)
            th, en = f"{name}: ผลสะสม {money(a)} แผนสะสม {money(p)}", f"{name}: actual {money(a)} vs plan {money(p)}"
            if a < p * (1 - cfg.behind_tolerance):
                limit = f"{cfg.behind_tolerance * 100:f}%"
                yield BEHIND.at(rb.sheet, cell, expected=p, actual=a, th=f"{th} (เกณฑ์ต่ำกว่า {limit})",
                                en=f"{en} (threshold {limit} below)")
            elif a > p * (1 + cfg.ahead_tolerance):
                limit = f"{cfg.ahead_tolerance * 100:f}%"
                yield AHEAD.at(rb.sheet, cell, expected=p, actual=a, th=f"{th} (เกณฑ์สูงกว่า {limit})",
                               en=f"{en} (threshold {limit} above)")


@check(AFTER_CANCEL, NO_DATE)
def cancellations(ctx: Context) -> Iterator[Finding]:
    """A cancelled project spends nothing in the months after its cancellation date; a cancelled or extended
    project's date can be read."""
    year = ctx.workbook.meta.get("fiscal_year")
    for rb, calc in _plan_blocks(ctx):
        if END_DATE.id not in rb.columns:
            continue
        for i, row in enumerate(rb.rows):
            status, text = row.get(STATUS.id), row.get(END_DATE.id)
            day = read_date(text)
            if day is None and (text is not None or status == CANCELLED):
                yield NO_DATE.at(rb.sheet, rb.address(i, END_DATE.id), actual=text,
                                 th=f"{_name(row)} ({status or '-'})", en=f"{_name(row)} ({status or '-'})")
            if status != CANCELLED or day is None or not isinstance(year, int) or year not in BE_YEARS:
                continue
            for n, column in enumerate(ACTUAL_MONTHS, start=1):
                spent = calc.cell(i, column).value
                if column not in rb.columns or not isinstance(spent, Decimal) or spent == 0:
                    continue
                if fiscal_month_start(year, n) > day:
                    m_th, m_en = MONTHS[n - 1][1], MONTHS[n - 1][2]
                    yield AFTER_CANCEL.at(rb.sheet, rb.address(i, column), expected=Decimal(0), actual=spent,
                                          th=f"{_name(row)}: ยกเลิก {text} แต่มีผลเดือน {m_th}",
                                          en=f"{_name(row)}: cancelled {text} but spent in {m_en}")


@check(UNBALANCED)
def transfers(ctx: Context) -> Iterator[Finding]:
    """Within a fiscal year and budget source, what its lines received equals what its lines gave."""
    for rb, calc in _plan_blocks(ctx):
        if not {TRANSFER_IN.id, TRANSFER_OUT.id} <= set(rb.columns):
            continue
        net: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
        first: dict[tuple[Any, ...], int] = {}
        for i, row in enumerate(rb.rows):
            key = group_key(rb.block, row)
            first.setdefault(key, i)
            if calc.structure.children.get(i):
                continue  # a roll-up: its lines are counted
            for column, sign in ((TRANSFER_IN.id, 1), (TRANSFER_OUT.id, -1)):
                value = calc.cell(i, column).value
                if isinstance(value, Decimal):
                    net[key] += sign * value
        money = TRANSFER_IN.format
        for key, value in net.items():
            if value == 0:
                continue
            i = first[key]
            where = " ".join(str(k) for k in key if k is not None)
            yield UNBALANCED.at(rb.sheet, rb.address(i, TRANSFER_IN.id), expected=Decimal(0), actual=value,
                                th=f"{where}: โอนเข้า − โอนออก = {money(value)}",
                                en=f"{where}: transferred in − out = {money(value)}")
