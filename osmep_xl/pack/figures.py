"""The quantitative content of the quarterly report, taken from validated workbooks: tables and the standard
sentence of each, written from the same figures. Pure data; the Word writer and the charts only lay it out."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from ..fiscal import THAI_MONTHS_FULL, ce_to_be, fiscal_quarter, fiscal_year, format_thai_date, quarter_end
from ..model.evaluate import BlockCalc, group_key
from ..money import translate_thai_digits
from ..spec.base import STATUS_ACHIEVED, STATUS_NOT_YET, STATUS_PENDING, Block, ColType
from ..xlsx.read import ReadBlock, ReadWorkbook

Kind = Literal["text", "money", "count", "number", "percent"]
Cell = Decimal | str | None
_ARABIC_TO_THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


@dataclass(frozen=True)
class NumberStyle:
    """Thai report style: ``#,##0.00`` money, Arabic digits or Thai digits (๐-๙)."""

    thai_digits: bool = False

    def digits(self, text: str) -> str:
        return text.translate(_ARABIC_TO_THAI) if self.thai_digits else text

    def format(self, value: Cell, kind: Kind) -> str:
        """A cell as printed: money and percentages ``#,##0.00``, counts ``#,##0``; blank is empty."""
        if value is None:
            return ""
        if not isinstance(value, Decimal):
            return self.digits(str(value)) if self.thai_digits else str(value)
        if kind in ("money", "percent"):
            return self.digits(f"{value:,.2f}")
        if kind == "count" or value == value.to_integral_value():
            return self.digits(f"{value:,.0f}")
        return self.digits(f"{value.normalize():,f}")


def parse_shown(text: str) -> Decimal | None:
    """A figure as printed back to a number (Thai or Arabic digits, separators); None for text or blank."""
    plain = translate_thai_digits(text).replace(",", "").strip()
    try:
        return Decimal(plain) if plain else None
    except ArithmeticError:
        return None


@dataclass(frozen=True)
class Period:
    """Labels of the report's as-of date: Thai months, BE years, the fiscal quarter."""

    as_of: dt.date

    @property
    def fiscal_year(self) -> int:
        return fiscal_year(self.as_of)

    @property
    def quarter(self) -> int:
        return fiscal_quarter(self.as_of)

    @property
    def short(self) -> str:
        """"30 มิ.ย. 64" as in the report's sentences."""
        day, rest = format_thai_date(self.as_of).split(" ", 1)
        return f"{day} {rest[:-2]} {rest[-2:]}"

    @property
    def full(self) -> str:
        return format_thai_date(self.as_of, full=True)

    @property
    def months(self) -> str:
        """The quarter's months: "เมษายน – มิถุนายน 2564"."""
        end = quarter_end(self.fiscal_year, self.quarter)
        first = (end.month - 3) % 12
        return f"{THAI_MONTHS_FULL[first]} – {THAI_MONTHS_FULL[end.month - 1]} {ce_to_be(end.year)}"

    def heading(self, agency: str) -> str:
        return (f"รายงานผลการดำเนินงาน {agency} ประจำปีงบประมาณ พ.ศ. {self.fiscal_year} "
                f"ไตรมาสที่ {self.quarter} ({self.months})")


@dataclass
class Sentence:
    """A standard sentence and the figures it states, by the table column each comes from."""

    text: str
    figures: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Table:
    """One report table: headers, kinds (how each column prints), rows of cell values, its sentence."""

    key: str
    title: str
    headers: list[str]
    kinds: list[Kind]
    rows: list[list[Cell]]
    widths: list[float]  # centimetres
    bold: list[bool] = field(default_factory=list)
    indent: list[int] = field(default_factory=list)
    sentence: Sentence | None = None
    landscape: bool = False
    source: str = ""  # workbook sheet the figures come from
    name_col: int = 0  # the column indented by level


@dataclass
class DisbursementPoint:
    """A budget's spending at the as-of date on both bases, for the chart against the government's targets."""

    label: str
    fiscal_year: int
    pct_disbursed: Decimal | None
    pct_total: Decimal | None
    row: dict[str, Any] = field(default_factory=dict)  # the budget's top line: its source and category pick the target


@dataclass
class ReportContent:
    """Everything the report states, by section."""

    period: Period
    agency: str
    sections: dict[str, list[Table]] = field(default_factory=dict)
    strategy_budgets: list[tuple[str, Decimal]] = field(default_factory=list)
    kpi_status: dict[str, int] = field(default_factory=dict)
    beneficiaries: list[tuple[str, Decimal | None, Decimal | None]] = field(default_factory=list)
    disbursement_points: list[DisbursementPoint] = field(default_factory=list)

    def tables(self) -> list[Table]:
        return [t for tables in self.sections.values() for t in tables]


SECTION_TITLES = {
    "action_plan": "แผนปฏิบัติการประจำปีและงบประมาณ / Action plan and budget",
    "kpi": "ผลการดำเนินงานตามตัวชี้วัด / KPI results",
    "integrated_plan": "แผนงานบูรณาการ / Integrated plan",
    "disbursement": "ผลการเบิกจ่ายงบประมาณ / Budget disbursement",
}


class _Values:
    """Cell values of a read block as Excel shows them after recalculation."""

    def __init__(self, rb: ReadBlock) -> None:
        self.rb = rb
        self.block: Block = rb.block
        self.calc = BlockCalc(rb.block, rb.rows, formula_cells=rb.formula_cells)

    def __call__(self, i: int, column: str) -> Cell:
        if column not in self.block.column_ids:
            return None
        value = self.calc.cell(i, column).value
        return value if value != "" else None

    def text(self, i: int, column: str) -> str:
        value = self(i, column)
        return "" if value is None else str(value)

    def groups(self) -> list[tuple[tuple[Any, ...], list[int]]]:
        out: dict[tuple[Any, ...], list[int]] = {}
        for i, row in enumerate(self.rb.rows):
            out.setdefault(group_key(self.block, row), []).append(i)
        return list(out.items())

    def rank(self, i: int) -> int:
        ranks = {lv.id: n for n, lv in enumerate(self.block.levels)}
        return ranks.get(self.rb.rows[i].get("level") or "", 0)

    def has_children(self, i: int) -> bool:
        return bool(self.calc.structure.children.get(i))


def _kind(block: Block, column: str) -> Kind:
    t = block.column(column).type
    return {ColType.MONEY: "money", ColType.COUNT: "count", ColType.PERCENT: "percent",
            ColType.NUMBER: "number"}.get(t, "text")  # type: ignore[return-value]


def _label(v: _Values, i: int) -> str:
    return v.text(i, "name")


def _pct_text(value: Decimal | None, style: NumberStyle) -> str:
    return style.format(value, "percent")


def _group_title(block: Block, key: tuple[Any, ...]) -> str:
    """"ปีงบประมาณ พ.ศ. 2564 (พ.ร.บ.งบประมาณและเงินกองทุน)": how the report names a budget."""
    parts = dict(zip(block.group_by, key, strict=True))
    year = f"ปีงบประมาณ พ.ศ. {parts['fiscal_year']}" if parts.get("fiscal_year") else ""
    source = f"({parts['budget_source']})" if parts.get("budget_source") else ""
    return " ".join(p for p in (year, source) if p)


def _group_top(v: _Values, rows: list[int]) -> int:
    """The group's top row: its highest level (the total)."""
    return min(rows, key=v.rank)


def action_plan_tables(wb: ReadWorkbook, style: NumberStyle) -> tuple[list[Table], list[tuple[str, Decimal]]]:
    """Budget by strategy, tactic and project, one table per fiscal year and budget source."""
    v = _Values(wb.blocks["plan"])
    tables: list[Table] = []
    strategies: list[tuple[str, Decimal]] = []
    for key, rows in v.groups():
        top = _group_top(v, rows)
        total = v(top, "budget")
        projects = [i for i in rows if v.rb.rows[i].get("level") == "project"]
        body = [[v.text(i, "code"), _label(v, i), v(i, "budget")] for i in rows]
        figures: dict[str, Decimal] = {}
        text = f"แผนปฏิบัติการประจำ{_group_title(v.block, key)} มีงบประมาณรวม"
        if isinstance(total, Decimal):
            figures["budget"] = total
            text += f" {style.format(total, 'money')} บาท"
        figures["projects"] = Decimal(len(projects))
        text += f" ดำเนินงาน {style.digits(str(len(projects)))} งาน/โครงการ"
        tables.append(Table(
            key=f"action_plan.{len(tables) + 1}", title=f"งบประมาณตามแผนปฏิบัติการ {_group_title(v.block, key)}",
            headers=["รหัส", "ยุทธศาสตร์ / กลยุทธ์ / งาน/โครงการ", "งบประมาณ (บาท)"],
            kinds=["text", "text", "money"], rows=body, widths=[1.6, 11.0, 3.4],
            bold=[v.has_children(i) for i in rows], indent=[v.rank(i) for i in rows],
            sentence=Sentence(text, figures), source=v.rb.sheet, name_col=1))
        if not strategies:
            strategies = [(v.text(i, "code"), b) for i in rows if v.rb.rows[i].get("level") == "strategy"
                          and isinstance(b := v(i, "budget"), Decimal)]
    return tables, strategies


def kpi_tables(wb: ReadWorkbook, period: Period, style: NumberStyle) -> tuple[list[Table], dict[str, int]]:
    """Targets, results to the as-of date and status of every KPI, with the count sentence."""
    rb = wb.blocks["kpis"]
    roles = rb.block.kpi
    assert roles is not None
    v = _Values(rb)
    body: list[list[Cell]] = []
    statuses: Counter[str] = Counter()
    status_col = next(c.id for c in rb.block.columns if c.formula is not None and c.formula.rule == "kpi.status")
    pct_col = next(c.id for c in rb.block.columns if c.formula is not None and c.formula.rule == "kpi.achievement")
    for i in range(len(rb.rows)):
        status = v.text(i, status_col)
        statuses[status] += 1
        target = v(i, "target_text") or v(i, roles.target)
        result = v(i, "result_text") or v(i, roles.result)
        body.append([v.text(i, "code"), _label(v, i), target, result, v(i, pct_col), status])
    counts = {s: statuses.get(s, 0) for s in (STATUS_ACHIEVED, STATUS_NOT_YET, STATUS_PENDING)}
    n = len(rb.rows)
    text = (f"ณ {period.short} ตัวชี้วัดทั้งหมด {style.digits(str(n))} ตัว บรรลุเป้าหมาย "
            f"{style.digits(str(counts[STATUS_ACHIEVED]))} ตัว ยังไม่บรรลุ {style.digits(str(counts[STATUS_NOT_YET]))} ตัว"
            f" และรอผล {style.digits(str(counts[STATUS_PENDING]))} ตัว")
    figures = {"kpis": Decimal(n), **{s: Decimal(c) for s, c in counts.items()}}
    table = Table(
        key="kpi", title=f"ตัวชี้วัดตามแผนปฏิบัติการ ผล ณ {period.short}",
        headers=["ที่", "ตัวชี้วัด", "เป้าหมาย", f"ผล ณ {period.short}", "ร้อยละของเป้าหมาย", "สถานะ"],
        kinds=["text", "text", "number", "number", "percent", "text"], rows=body,
        widths=[1.0, 8.6, 4.4, 4.4, 2.6, 2.6], sentence=Sentence(text, figures), landscape=True, source=rb.sheet)
    return [table], counts


def integrated_tables(wb: ReadWorkbook, period: Period, style: NumberStyle
                      ) -> tuple[list[Table], list[tuple[str, Decimal | None, Decimal | None]]]:
    """Beneficiary targets and results by approach, and spending by approach."""
    tables: list[Table] = []
    v = _Values(wb.blocks["approaches"])
    rows = list(range(len(v.rb.rows)))
    cols = ["target_persons", "result_persons", "pct_persons", "target_centers", "result_centers", "budget"]
    body = [[_label(v, i), *(v(i, c) for c in cols)] for i in rows]
    beneficiaries = [(v.text(i, "code"), _num(v(i, "target_persons")), _num(v(i, "result_persons")))
                     for i in rows if v.rb.rows[i].get("level") == "approach"]
    top = _group_top(v, rows) if rows else 0
    figures = {c: x for c in ("result_persons", "pct_persons", "target_persons") if isinstance(x := v(top, c), Decimal)}
    text = (f"ณ {period.short} SME ได้รับประโยชน์รวมทั้งสิ้น {style.format(figures.get('result_persons'), 'count')} ราย"
            f" คิดเป็นร้อยละ {_pct_text(figures.get('pct_persons'), style)} ของเป้าหมาย "
            f"{style.format(figures.get('target_persons'), 'count')} ราย")
    tables.append(Table(
        key="integrated_plan", title="แผนงานบูรณาการ: เป้าหมายและผลการดำเนินงานจำแนกตามแนวทาง",
        headers=["แนวทาง / กลุ่มโครงการ", "เป้าหมาย (ราย)", "ผล (ราย)", "ร้อยละ", "เป้าหมาย (ศูนย์)",
                 "ผล (ศูนย์)", "งบประมาณ (บาท)"],
        kinds=["text", *(_kind(v.block, c) for c in cols)], rows=body,
        widths=[9.6, 2.6, 2.6, 1.8, 2.0, 2.0, 3.6], bold=[v.has_children(i) for i in rows],
        indent=[v.rank(i) for i in rows], sentence=Sentence(text, figures), landscape=True, source=v.rb.sheet))
    spending = wb.blocks.get("disbursement")
    if spending is not None and spending.block.spending is not None:
        tables += spending_tables(spending, period, style, key="integrated_plan.spending",
                                  title="แผนงานบูรณาการ: ผลการใช้จ่ายงบประมาณจำแนกตามแนวทาง")
    return tables, beneficiaries


def _num(value: Cell) -> Decimal | None:
    return value if isinstance(value, Decimal) else None


def spending_sentence(v: _Values, top: int, period: Period, style: NumberStyle, lead: str = "") -> Sentence:
    """"ผลการเบิกจ่ายรวมผูกพันสะสม ณ 30 มิ.ย. 64 จำนวน … บาท คิดเป็นร้อยละ … ของงบประมาณ … บาท"; with
    commitments, both bases side by side: disbursed only and disbursed + committed."""
    roles = v.block.spending
    assert roles is not None
    get = {name: _num(v(top, col)) for name, col in vars(roles).items()}
    figures = {k: x for k, x in get.items() if x is not None}
    budget = style.format(get["budget"], "money")
    committed = get["committed"]
    if committed:
        text = (f"{lead}ผลการเบิกจ่ายสะสม ณ {period.short} เบิกจ่ายแล้ว {style.format(get['disbursed'], 'money')} บาท"
                f" คิดเป็นร้อยละ {_pct_text(get['pct_disbursed'], style)} และผลการเบิกจ่ายรวมผูกพันสะสม "
                f"จำนวน {style.format(get['total'], 'money')} บาท คิดเป็นร้อยละ {_pct_text(get['pct_total'], style)}"
                f" ของงบประมาณ {budget} บาท")
    else:
        text = (f"{lead}ผลการเบิกจ่ายสะสม ณ {period.short} จำนวน {style.format(get['disbursed'], 'money')} บาท"
                f" คิดเป็นร้อยละ {_pct_text(get['pct_disbursed'], style)} ของงบประมาณ {budget} บาท")
        for k in ("committed", "total", "pct_total"):
            figures.pop(k, None)
    figures.pop("remaining", None)
    return Sentence(text, figures)


def spending_tables(rb: ReadBlock, period: Period, style: NumberStyle, *, key: str, title: str) -> list[Table]:
    """One table per fiscal year and budget source of a block with spending roles, each with its sentence."""
    roles = rb.block.spending
    assert roles is not None
    v = _Values(rb)
    cols = [roles.budget, roles.disbursed, roles.committed, roles.total, roles.remaining,
            roles.pct_disbursed, roles.pct_total]
    headers = ["รายการ", "งบประมาณ", "เบิกจ่าย", "ผูกพัน", "เบิกจ่ายรวมผูกพัน", "คงเหลือ", "ร้อยละเบิกจ่าย",
               "ร้อยละเบิกจ่ายรวมผูกพัน"]
    tables = []
    groups = v.groups()
    for n, (gkey, rows) in enumerate(groups, start=1):
        top = _group_top(v, rows)
        group = _group_title(rb.block, gkey)
        tables.append(Table(
            key=f"{key}.{n}" if len(groups) > 1 else key, title=f"{title} {group}".strip(),
            headers=headers, kinds=["text", *(_kind(rb.block, c) for c in cols)],
            rows=[[_label(v, i), *(v(i, c) for c in cols)] for i in rows],
            widths=[7.4, 3.0, 3.0, 3.0, 3.0, 2.8, 1.7, 1.7],
            bold=[v.has_children(i) for i in rows], indent=[v.rank(i) for i in rows],
            sentence=spending_sentence(v, top, period, style, lead=_budget_lead(group)),
            landscape=True, source=rb.sheet))
    return tables


def _budget_lead(group: str) -> str:
    """"งบประมาณปี พ.ศ. 2564 (…) มี" before a budget's spending sentence."""
    return f"งบประมาณ{group.replace('ปีงบประมาณ ', 'ปี ')} มี" if group else ""


def disbursement_points(rb: ReadBlock) -> list[DisbursementPoint]:
    """Each budget's top row on both bases."""
    roles = rb.block.spending
    assert roles is not None
    v = _Values(rb)
    out = []
    for gkey, rows in v.groups():
        top = _group_top(v, rows)
        parts = dict(zip(rb.block.group_by, gkey, strict=True))
        out.append(DisbursementPoint(
            label=_group_title(rb.block, gkey), fiscal_year=int(parts.get("fiscal_year") or 0),
            pct_disbursed=_num(v(top, roles.pct_disbursed)), pct_total=_num(v(top, roles.pct_total)),
            row=dict(rb.rows[top])))
    return out


def build_content(books: Iterable[ReadWorkbook], as_of: dt.date | None = None,
                  style: NumberStyle = NumberStyle()) -> ReportContent:
    """The report's tables and sentences from every template in ``books``; the as-of date comes from the
    workbooks' information sheet unless given."""
    books = list(books)
    dates = [d for wb in books if isinstance(d := wb.meta.get("as_of"), dt.date)]
    day = as_of or (max(dates) if dates else dt.date.today())
    agency = next((str(a) for wb in books if (a := wb.meta.get("agency"))), "สสว.")
    content = ReportContent(period=Period(day), agency=agency)
    by_id = {wb.spec.id: wb for wb in books}
    if "action_plan" in by_id:
        tables, content.strategy_budgets = action_plan_tables(by_id["action_plan"], style)
        content.sections["action_plan"] = tables
    if "kpi" in by_id:
        tables, content.kpi_status = kpi_tables(by_id["kpi"], content.period, style)
        content.sections["kpi"] = tables
    if "integrated_plan" in by_id:
        tables, content.beneficiaries = integrated_tables(by_id["integrated_plan"], content.period, style)
        content.sections["integrated_plan"] = tables
    if "disbursement" in by_id:
        rb = by_id["disbursement"].blocks["lines"]
        content.sections["disbursement"] = spending_tables(rb, content.period, style, key="disbursement",
                                                           title="ผลการเบิกจ่ายงบประมาณ")
        content.disbursement_points = disbursement_points(rb)
    return content
