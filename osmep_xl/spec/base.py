"""The building blocks of a template spec.

A template is a few *blocks*; each block is one table on its own sheet with a
fixed list of columns. Every column says its type, whether it is an input or a
derived cell (a :class:`Formula`), and whether parent rows roll it up from
their children. Generation, reading, filling, validation and recalculation are
all driven by these objects; nothing else lists columns.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from importlib import resources
from typing import Any, Literal

from ..fiscal import fiscal_month
from ..kpi_text import LOWER_IS_BETTER, parse_result, parse_target
from ..money import DECIMAL, Arithmetic

Value = Decimal | str | None
Aliases = tuple[tuple[str, str], ...]  # (what people write, the list value it means)

_IGNORED = re.compile(r"[\s.\u200b\u200c\u200d\ufeff]+")


def fold(text: str) -> str:
    """How a list value or a header is matched: case, spaces, dots and Unicode forms ignored
    ("พ.ร.บ. งบประมาณ" = "พรบงบประมาณ", "Total" = "total", sara am typed as one or two marks)."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text).casefold())


def aliases(table: Mapping[str, Iterable[str]]) -> Aliases:
    """``{list value: [other ways people write it]}`` as a column's ``aliases``."""
    return tuple((alias, value) for value, others in table.items() for alias in others)


class ColType(StrEnum):
    """What a column holds; decides number formats, parsing and cell checks."""

    CODE = "code"
    LEVEL = "level"
    TEXT = "text"
    CHOICE = "choice"
    MONEY = "money"
    COUNT = "count"
    NUMBER = "number"
    PERCENT = "percent"
    YEAR = "year"

    @property
    def numeric(self) -> bool:
        return self in (ColType.MONEY, ColType.COUNT, ColType.NUMBER, ColType.PERCENT, ColType.YEAR)


Ref = Callable[[str], str]
Get = Callable[[str], Value | dt.date]
# A formula input naming a field of the information sheet rather than a column of the row ("@as_of"): its
# Excel reference is the field's defined name, its value the workbook's meta value.
META_PREFIX = "@"


def meta_input(field_id: str) -> str:
    """How a formula names an information-sheet field among its inputs (see :data:`META_PREFIX`)."""
    return META_PREFIX + field_id


def _num(get: Get, column: str) -> Decimal | None:
    value = get(column)
    return value if isinstance(value, Decimal) else None


class Formula:
    """A derived cell: one definition yields both the Excel text and the Python value."""

    inputs: tuple[str, ...] = ()
    meta: tuple[str, ...] = ()  # information-sheet fields it reads (``ref``/``get`` take them as "@id")
    contiguous = False  # its inputs must stand side by side in spec order: its Excel text uses a range
    linear = False  # its value is a signed sum of its inputs (the diagnosis solves such constraints directly)
    rule = "identity"  # the validation rule that checks a stated value of this formula

    def excel(self, ref: Ref) -> str:
        """Excel formula text (without '='); ``ref(column_id)`` gives this row's cell."""
        raise NotImplementedError

    def evaluate(self, get: Get, arith: Arithmetic = DECIMAL) -> Value:
        """The formula's value from this row's other cells, in ``arith``'s arithmetic."""
        raise NotImplementedError


class Sum(Formula):
    """A signed sum of cells in the row, any number of terms; ``"-id"`` subtracts a column.

    ``Sum("disbursed", "committed")`` is ``=D+E``; ``Sum("allocated", "transferred_in", "-total")`` is
    ``=A+B-C``. Blank counts as 0, as in Excel; terms are taken left to right, as Excel does.
    """

    linear = True

    def __init__(self, *terms: str) -> None:
        if not terms:
            raise ValueError("Sum needs at least one term")
        self.terms = tuple((-1 if t.startswith("-") else 1, t.lstrip("+-")) for t in terms)

    @property
    def inputs(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(column for _, column in self.terms)

    @property
    def rule(self) -> str:  # type: ignore[override]
        return "identity.difference" if any(sign < 0 for sign, _ in self.terms) else "identity.sum"

    def excel(self, ref: Ref) -> str:
        text = "".join(f"{'-' if sign < 0 else '+'}{ref(column)}" for sign, column in self.terms)
        return text.removeprefix("+")

    def evaluate(self, get: Get, arith: Arithmetic = DECIMAL) -> Value:
        acc = Decimal(0)
        for sign, column in self.terms:
            value = _num(get, column) or Decimal(0)
            acc = arith.add((acc, value)) if sign > 0 else arith.sub(acc, value)
        return acc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sum) and other.terms == self.terms

    def __hash__(self) -> int:
        return hash(self.terms)

    def __repr__(self) -> str:
        return f"Sum{tuple(('-' if s < 0 else '') + c for s, c in self.terms)}"


class SumToMonth(Formula):
    """The sum of twelve fiscal-month columns (ต.ค. … ก.ย., side by side) up to the month of a date on the
    information sheet, that month included: the cumulative plan or actual to the as-of date.

    ``IF(ISNUMBER(d),SUM(oct:INDEX(oct:sep,MOD(MONTH(d)+2,12)+1)),0)``: INDEX returns a reference, so the
    range ends at the as-of month without OFFSET (volatile) and reads the same in Excel and LibreOffice;
    SUM skips text and blanks as the Python value does. 0 while the date is not a date (not "": the formulas
    that add it up would show #VALUE!).
    """

    rule = "identity.sum"
    contiguous = True
    linear = True

    def __init__(self, months: Iterable[str], date_field: str = "as_of") -> None:
        self.months = tuple(months)
        if len(self.months) != 12:
            raise ValueError("SumToMonth needs the twelve months of a fiscal year")
        self.date_field = date_field

    @property
    def inputs(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.months

    @property
    def meta(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.date_field,)

    def excel(self, ref: Ref) -> str:
        day, first, last = ref(meta_input(self.date_field)), ref(self.months[0]), ref(self.months[-1])
        return f"IF(ISNUMBER({day}),SUM({first}:INDEX({first}:{last},MOD(MONTH({day})+2,12)+1)),0)"

    def evaluate(self, get: Get, arith: Arithmetic = DECIMAL) -> Value:
        day = get(meta_input(self.date_field))
        if not isinstance(day, dt.date):
            return Decimal(0)
        values = (_num(get, column) for column in self.months[:fiscal_month(day)])
        return arith.add(v for v in values if v is not None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SumToMonth) and (other.months, other.date_field) == (self.months, self.date_field)

    def __hash__(self) -> int:
        return hash((self.months, self.date_field))

    def __repr__(self) -> str:
        return f"SumToMonth({self.months[0]}..{self.months[-1]} to @{self.date_field})"


@dataclass(frozen=True)
class Pct(Formula):
    """``ROUND(part / whole * 100, 2)``; blank when the whole is 0 or blank."""

    rule = "identity.percent"

    part: str
    whole: str

    @property
    def inputs(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.part, self.whole)

    def excel(self, ref: Ref) -> str:
        p, w = ref(self.part), ref(self.whole)
        return f'IF(N({w})=0,"",ROUND(N({p})/{w}*100,2))'

    def evaluate(self, get: Get, arith: Arithmetic = DECIMAL) -> Value:
        whole = _num(get, self.whole)
        if whole is None or whole == 0:
            return None
        return arith.percent(_num(get, self.part) or Decimal(0), whole)


@dataclass(frozen=True)
class _KpiFormula(Formula):
    """A KPI formula over a result, a target and a direction: ">=" (more is better) or "<=" (less is better)."""

    result: str
    target: str
    direction: str

    @property
    def inputs(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.result, self.target, self.direction)

    def _operands(self, get: Get) -> tuple[Decimal, Decimal, bool] | None:
        res, tgt = _num(get, self.result), _num(get, self.target)
        if res is None or tgt is None:
            return None
        return res, tgt, get(self.direction) == LOWER_IS_BETTER


@dataclass(frozen=True)
class Achievement(_KpiFormula):
    """KPI achievement in percent of target; blank for a textual (pending) result."""

    rule = "kpi.achievement"

    def excel(self, ref: Ref) -> str:
        r, t, d = ref(self.result), ref(self.target), ref(self.direction)
        return (
            f'IF(OR(NOT(ISNUMBER({r})),NOT(ISNUMBER({t}))),"",'
            f'IF({d}="<=",IF({r}=0,"",ROUND({t}/{r}*100,2)),IF({t}=0,"",ROUND({r}/{t}*100,2))))'
        )

    def evaluate(self, get: Get, arith: Arithmetic = DECIMAL) -> Value:
        operands = self._operands(get)
        if operands is None:
            return None
        res, tgt, lower_better = operands
        return arith.percent(tgt, res) if lower_better else arith.percent(res, tgt)


STATUS_ACHIEVED = "บรรลุ"
STATUS_NOT_YET = "ยังไม่บรรลุ"
STATUS_PENDING = "รอผล"


@dataclass(frozen=True)
class KpiStatus(_KpiFormula):
    """Status of a KPI from its result and target (minimum/exact or range low end)."""

    rule = "kpi.status"

    def excel(self, ref: Ref) -> str:
        r, t, d = ref(self.result), ref(self.target), ref(self.direction)
        return (
            f'IF(OR(NOT(ISNUMBER({r})),NOT(ISNUMBER({t}))),"{STATUS_PENDING}",'
            f'IF(IF({d}="<=",{r}<={t},{r}>={t}),"{STATUS_ACHIEVED}","{STATUS_NOT_YET}"))'
        )

    def evaluate(self, get: Get, arith: Arithmetic = DECIMAL) -> Value:
        operands = self._operands(get)
        if operands is None:
            return STATUS_PENDING
        res, tgt, lower_better = operands
        return STATUS_ACHIEVED if (res <= tgt if lower_better else res >= tgt) else STATUS_NOT_YET


@dataclass(frozen=True)
class StatedText:
    """The text column that states a number column's figure in words ("ไม่น้อยกว่า 4.10 คะแนน", "139,825 ราย"):
    the number must be the text's. ``part`` is which number of the text: a target's ``low`` or ``high``
    bound (:func:`~osmep_xl.kpi_text.parse_target`) or a result's ``value``
    (:func:`~osmep_xl.kpi_text.parse_result`)."""

    column: str
    part: str = "low"  # "low" | "high" | "value"

    def number(self, text: object) -> Decimal | None:
        """The figure ``text`` states; None when it states none (blank, "อยู่ระหว่างดำเนินการ")."""
        if not isinstance(text, str) or not text.strip():
            return None
        if self.part == "value":
            return parse_result(text).value
        try:
            target = parse_target(text)
        except ValueError:
            return None
        return target.high if self.part == "high" else target.low


@dataclass(frozen=True)
class Column:
    """One column of a block."""

    id: str
    th: str
    en: str
    type: ColType
    required: bool = False
    formula: Formula | None = None
    rollup: bool = False
    choices: tuple[str, ...] = ()
    width: float = 14
    ref: tuple[str, str] | None = None  # (block id, column id) this value must exist in
    structure: bool = False  # identifies the row; kept in a blank template
    cumulative: bool = False  # year-to-date figure: must not go down from one quarter to the next
    aliases: Aliases = ()  # other names of list values, accepted in fill data as the list value
    stated_from: StatedText | None = None  # the text column stating this figure: the two must agree
    printed: bool = True  # False: kept in the workbook, left off paper (long free text about the transcription)
    period_entry: bool = False  # this period's entry: blank when the next period's workbook is started

    def __post_init__(self) -> None:
        if self.formula is not None and self.rollup:
            raise ValueError(f"column {self.id}: a derived column cannot also roll up")
        if self.period_entry and (self.structure or self.cumulative or self.formula is not None):
            raise ValueError(f"column {self.id}: a period entry is neither structure, cumulative nor derived")
        _ = self._choice_index  # checks the aliases when the spec is defined

    @cached_property
    def _choice_index(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for name, value in (*((c, c) for c in self.choices), *self.aliases):
            if value not in self.choices:
                raise ValueError(f"column {self.id}: alias {name!r} names {value!r}, not one of {self.choices}")
            if index.setdefault(fold(name), value) != value:
                raise ValueError(f"column {self.id}: {name!r} would mean both {index[fold(name)]!r} and {value!r}")
        return index

    def canonical(self, text: str) -> str | None:
        """The list value ``text`` means (its own spelling, a level's Thai or English name, an alias);
        None when it is none of them."""
        return self._choice_index.get(fold(text))

    def accepted(self) -> dict[str, list[str]]:
        """Each list value with the other ways of writing it that fill data may use."""
        return {c: [name for name, value in self.aliases if value == c] for c in self.choices}

    @property
    def derived(self) -> bool:
        return self.formula is not None

    def format(self, value: Value) -> str:
        """How a value of this column reads in a message: 1,234.50 / 338,500 / 93.89."""
        if value is None:
            return "ว่าง/blank"
        if not isinstance(value, Decimal):
            return str(value)
        if self.type in (ColType.MONEY, ColType.PERCENT):
            return f"{value:,.2f}"
        if value == value.to_integral_value():
            return f"{value:,.0f}"
        return f"{value.normalize():,f}"


@dataclass(frozen=True)
class Level:
    """A row kind in a block's hierarchy, e.g. strategy or project."""

    id: str
    th: str
    en: str


@dataclass(frozen=True)
class SpendingRoles:
    """Which columns of a block track spending against a budget: the variance flags and the UDFs read
    these ids, so a template that renames or adds amount columns says so here, once."""

    budget: str  # the base of the percentages and of the government's targets
    disbursed: str
    committed: str
    total: str
    remaining: str
    pct_disbursed: str
    pct_total: str


@dataclass(frozen=True)
class KpiRoles:
    """Which columns of a block hold a KPI's result, target (low end and upper bound) and direction; and,
    where the block tracks them, its type (what "behind target" means), whether its result is the sum of
    project outputs, and its plan and result per quarter (Q1-Q4, cumulative)."""

    result: str
    target: str
    target_high: str
    direction: str
    kind: str = ""
    counted: str = ""
    unit: str = ""
    plans: tuple[str, ...] = ()
    results: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutputRoles:
    """Which columns of a block hold a project output: its unit, annual target, cumulative result per quarter
    (Q1-Q4) and the code of the KPI its results count towards."""

    unit: str
    target: str
    results: tuple[str, ...]
    kpi: str


def role_columns(roles: object) -> list[str]:
    """Every column id a roles object names (tuples of quarters flattened; "" is an unused role)."""
    out: list[str] = []
    for value in vars(roles).values():
        out.extend(value if isinstance(value, tuple) else (value,))
    return [c for c in out if c]


@dataclass(frozen=True)
class Block:
    """A table on its own sheet: the unit of reading, filling and validation."""

    id: str
    sheet: str
    title_th: str
    title_en: str
    columns: tuple[Column, ...]
    levels: tuple[Level, ...] = ()
    group_by: tuple[str, ...] = ()  # columns that split the table into independent blocks
    spending: SpendingRoles | None = None
    kpi: KpiRoles | None = None
    outputs: OutputRoles | None = None

    def __post_init__(self) -> None:
        ids = [c.id for c in self.columns]
        if len(ids) != len(set(ids)):
            raise ValueError(f"block {self.id}: duplicate column ids")
        for col in self.columns:
            for dep in col.formula.inputs if col.formula else ():
                if dep not in ids:
                    raise ValueError(f"block {self.id}: {col.id} uses unknown column {dep}")
            if col.formula is not None and col.formula.contiguous:
                at = [ids.index(dep) for dep in col.formula.inputs]
                if at != list(range(at[0], at[0] + len(at))):
                    raise ValueError(f"block {self.id}: {col.id} needs its inputs side by side")
            if col.stated_from is not None and col.stated_from.column not in ids:
                raise ValueError(f"block {self.id}: {col.id} is stated in unknown column {col.stated_from.column}")
        for roles in (self.spending, self.kpi, self.outputs):
            unknown = [c for c in role_columns(roles) if c not in ids] if roles is not None else []
            if unknown:
                raise ValueError(f"block {self.id}: roles name unknown columns {unknown}")

    @property
    def hierarchical(self) -> bool:
        return bool(self.levels)

    def column(self, column_id: str) -> Column:
        for col in self.columns:
            if col.id == column_id:
                return col
        raise KeyError(f"block {self.id} has no column {column_id}")

    @property
    def column_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.columns)

    @property
    def key_columns(self) -> tuple[str, ...]:
        keys = (*self.group_by, "level", "code") if self.hierarchical else (*self.group_by, "code")
        return tuple(k for k in keys if k in self.column_ids)



@dataclass(frozen=True)
class Link:
    """Cross-block identity: ``left.column`` equals ``right.column`` on rows with equal keys."""

    left_block: str
    left_column: str
    right_block: str
    right_column: str
    levels: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetaField:
    """A single value on the information sheet (as-of date, fiscal year...)."""

    id: str
    th: str
    en: str
    kind: str  # "text" | "int" | "date"
    required: bool = False


@dataclass(frozen=True)
class TemplateSpec:
    """A whole template: its blocks, links and the fields of its information sheet."""

    id: str
    version: str
    title_th: str
    title_en: str
    blocks: tuple[Block, ...]
    links: tuple[Link, ...] = ()
    meta: tuple[MetaField, ...] = field(default=())
    # Per block: a function that fills blank values derivable from text (e.g. a KPI's target
    # number from "ไม่น้อยกว่า 4.10 คะแนน"), applied to fill data and to rows read from a workbook.
    completers: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)
    # Per block: the rows the standard fixes (structure columns only), which a blank workbook starts with.
    skeleton: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    # How often a workbook of this template is reported: the next period (osmep-xl next-period) starts at
    # the end of the next fiscal quarter, or of the next month for a monthly template.
    period: Literal["quarter", "month"] = "quarter"

    def block(self, block_id: str) -> Block:
        for blk in self.blocks:
            if blk.id == block_id:
                return blk
        raise KeyError(f"template {self.id} has no block {block_id}")


def load_skeleton(template_id: str) -> dict[str, tuple[Mapping[str, Any], ...]]:
    """The skeleton rows shipped beside the specs (``skeletons/<id>.json``), per block."""
    text = resources.files(__package__).joinpath("skeletons", f"{template_id}.json").read_text("utf-8")
    return {block: tuple(rows) for block, rows in json.loads(text)["blocks"].items()}
