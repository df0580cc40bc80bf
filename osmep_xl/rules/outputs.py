"""Project outputs: cumulative results that go down between quarters, results far beyond target (an extra
zero), and, with the KPI workbook, each KPI counted as the sum of its outputs against that sum."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from ..findings import Finding
from ..spec.base import Column, KpiRoles, OutputRoles
from ..xlsx.read import ReadBlock
from .catalog import INFO, W, check, cross_check, rule
from .context import Context, WorkbookSet
from .quarters import workbook_quarter

WENT_DOWN = rule("outputs.decreasing", W, "ผลสะสมของผลผลิตลดลงจากไตรมาสก่อนหน้า",
                 "a cumulative output result is lower than the quarter before")
FAR_OVER = rule("outputs.far_over_target", INFO, "ผลผลิตสูงกว่าเป้าหมายหลายเท่า (มักเป็นเลขศูนย์เกิน)",
                "an output result is many times its target (often an extra zero)")
SUM_DIFFERS = rule("kpi.outputs_sum", W, "ผลตัวชี้วัดไม่เท่ากับผลรวมของผลผลิตโครงการที่เชื่อมโยง",
                   "a KPI result differs from the sum of its linked project outputs")
UNIT_DIFFERS = rule("kpi.outputs_unit", W, "หน่วยนับของผลผลิตไม่ตรงกับหน่วยนับของตัวชี้วัดที่เชื่อมโยง (ไม่นำมารวม)",
                    "an output's unit differs from its linked KPI's unit (left out of the sum)")
NO_OUTPUTS = rule("kpi.outputs_missing", W, "ตัวชี้วัดที่นับจากผลรวมผลผลิตไม่มีผลผลิตใดเชื่อมโยง (รหัสตัวชี้วัดว่าง)",
                  "a KPI counted as the sum of outputs has no output linked to it (blank KPI code)")
UNKNOWN_KPI = rule("outputs.kpi_unknown", W, "รหัสตัวชี้วัดของผลผลิตไม่มีในตารางตัวชี้วัด",
                   "an output's KPI code is not in the KPI table")


def _blocks(ctx: Context) -> Iterator[tuple[ReadBlock, OutputRoles]]:
    for rb in ctx.workbook.blocks.values():
        if rb.block.outputs is not None:
            yield rb, rb.block.outputs


def _number(rb: ReadBlock, i: int, column: str) -> Decimal | None:
    value = rb.rows[i].get(column) if column in rb.columns else None
    return value if isinstance(value, Decimal) else None


def _label(rb: ReadBlock, i: int) -> str:
    row = rb.rows[i]
    return " ".join(str(row[k]) for k in ("code", "name") if row.get(k))


@check(WENT_DOWN, FAR_OVER)
def output_findings(ctx: Context) -> Iterator[Finding]:
    """Per output: each quarter's cumulative result at least the last one given; the latest within
    ``over_target_factor`` times the annual target."""
    factor = ctx.settings.outputs.over_target_factor
    for rb, roles in _blocks(ctx):
        for i in range(len(rb.rows)):
            last: tuple[Column, Decimal] | None = None
            for column_id in roles.results:
                value = _number(rb, i, column_id)
                if value is None:
                    continue
                col = rb.block.column(column_id)
                if last is not None and value < last[1]:
                    yield WENT_DOWN.at(rb.sheet, rb.address(i, column_id), expected=last[1], actual=value,
                                       th=f"{_label(rb, i)}: {last[0].th} {col.format(last[1])} {col.th}"
                                          f" {col.format(value)}",
                                       en=f"{_label(rb, i)}: {last[0].en} {col.format(last[1])}, {col.en}"
                                          f" {col.format(value)}")
                last = (col, value)
            target = _number(rb, i, roles.target)
            if last is None or target is None or target <= 0 or last[1] <= target * factor:
                continue
            col, value = last
            yield FAR_OVER.at(rb.sheet, rb.address(i, col.id), expected=target, actual=value,
                              th=f"{_label(rb, i)}: {col.th} {col.format(value)} มากกว่า {factor} เท่าของเป้าหมาย"
                                 f" {col.format(target)}",
                              en=f"{_label(rb, i)}: {col.en} {col.format(value)} is over {factor} times the target"
                                 f" {col.format(target)}")


def _kpi_blocks(ctx: Context) -> Iterator[tuple[ReadBlock, KpiRoles]]:
    for rb in ctx.workbook.blocks.values():
        roles = rb.block.kpi
        if roles is not None and roles.counted and roles.counted in rb.columns:
            yield rb, roles


def _unit(text: object) -> str:
    return " ".join(str(text).split()) if text not in (None, "") else ""


@cross_check(SUM_DIFFERS, UNIT_DIFFERS, NO_OUTPUTS, UNKNOWN_KPI, templates=("kpi", "outputs"))
def kpi_output_findings(wset: WorkbookSet) -> Iterator[Finding]:
    """A KPI counted as the sum of outputs: its result at each quarter equals the sum of its linked outputs'
    results at that quarter (outputs in another unit are named, not added); every output's KPI code exists."""
    kpi_ctx, out_ctx = wset.get("kpi"), wset.get("outputs")
    assert kpi_ctx is not None and out_ctx is not None  # the registry runs this only with both
    linked: dict[str, list[tuple[ReadBlock, int]]] = {}  # KPI code -> (block, row) of each linked output
    for rb, roles in _blocks(out_ctx):
        for i, row in enumerate(rb.rows):
            if row.get(roles.kpi) not in (None, ""):
                linked.setdefault(str(row[roles.kpi]), []).append((rb, i))
    known: set[str] = set()
    as_of_quarter = workbook_quarter(kpi_ctx.workbook.meta)
    for kb, kroles in _kpi_blocks(kpi_ctx):
        for k, krow in enumerate(kb.rows):
            code = str(krow.get("code"))
            known.add(code)
            if krow.get(kroles.counted) in (None, ""):
                continue
            outputs = linked.get(code, [])
            name = f"{code} {krow.get('name') or ''}".strip()
            if not outputs:
                yield NO_OUTPUTS.at(kb.sheet, kb.address(k, kroles.counted), th=name, en=name)
                continue
            yield from _sum_findings(kb, k, kroles, outputs, as_of_quarter, name)
    for code, group in linked.items():
        if code in known:
            continue
        for rb, i in group:
            link = rb.block.outputs
            assert link is not None
            yield UNKNOWN_KPI.at(rb.sheet, rb.address(i, link.kpi), actual=code,
                                 th=f"{_label(rb, i)}: {code}", en=f"{_label(rb, i)}: {code}")


def _sum_findings(kb: ReadBlock, k: int, kroles: KpiRoles, outputs: list[tuple[ReadBlock, int]],
                  as_of_quarter: int | None, name: str) -> Iterator[Finding]:
    kpi_unit = _unit(kb.rows[k].get(kroles.unit)) if kroles.unit else ""
    added: list[tuple[ReadBlock, int]] = []
    for rb, i in outputs:
        roles = rb.block.outputs
        assert roles is not None
        unit = _unit(rb.rows[i].get(roles.unit))
        if kpi_unit and unit and unit != kpi_unit:
            yield UNIT_DIFFERS.at(rb.sheet, rb.address(i, roles.unit), expected=kpi_unit, actual=unit,
                                  th=f"{_label(rb, i)}: หน่วย '{unit}' ตัวชี้วัด {name}: หน่วย '{kpi_unit}'",
                                  en=f"{_label(rb, i)}: unit '{unit}', KPI {name}: unit '{kpi_unit}'")
        else:
            added.append((rb, i))
    for q, column_id in enumerate(kroles.results, start=1):
        # The quarter's own result column, else the KPI's result as of the report's quarter.
        at = column_id if _number(kb, k, column_id) is not None else None
        if at is None and q == as_of_quarter and _number(kb, k, kroles.result) is not None:
            at = kroles.result
        if at is None:
            continue
        values = [v for rb, i in added if (v := _number(rb, i, _output_quarter(rb, q))) is not None]
        if not values:
            continue
        total, stated = sum(values, Decimal(0)), _number(kb, k, at)
        assert stated is not None
        if total != stated:
            fmt = kb.block.column(at).format
            yield SUM_DIFFERS.at(kb.sheet, kb.address(k, at), expected=total, actual=stated,
                                 th=f"{name} ไตรมาส {q}: ผล {fmt(stated)} ผลรวมผลผลิต {len(values)} รายการ {fmt(total)}",
                                 en=f"{name} Q{q}: result {fmt(stated)}, sum of {len(values)} outputs {fmt(total)}")


def _output_quarter(rb: ReadBlock, quarter: int) -> str:
    roles = rb.block.outputs
    assert roles is not None
    return roles.results[quarter - 1]
