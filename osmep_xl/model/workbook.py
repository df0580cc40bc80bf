"""What a filled template holds, independent of Excel: meta fields and block rows.

Row models are derived from the template spec, so a column is never listed twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, create_model, field_validator
from pydantic_core import ErrorDetails

from ..fiscal import parse_thai_date
from ..money import to_money
from ..spec import get_spec
from ..spec.base import Block, ColType, TemplateSpec

Row = dict[str, Any]

DASHES = ("-", "–", "—", "−")  # a dash for an amount means zero, as in Thai finance tables
SHOWN_PROBLEMS = 5  # problems listed one per line before "and N more"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in fill data, in Thai and English: where, and why."""

    message: str
    place: str = ""  # where, for what is not a table row ("meta as_of")
    block: str | None = None
    row: int | None = None  # index of the row in its block's rows
    column: str | None = None  # column id (or key) of that row

    def where(self) -> str:
        if self.block is not None and self.row is not None:
            return f"{self.block} แถว/row {self.row + 1}" + (f", {self.column}" if self.column else "")
        return self.place


class DataProblems(ValueError):
    """Everything wrong in fill data; each problem says where and why in Thai and English."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems

    def render(self, where: Callable[[Problem], str]) -> str:
        """One line per problem, the first few only, then how many more."""
        lines = [f"{place}: {p.message}" if (place := where(p)) else p.message
                 for p in self.problems[:SHOWN_PROBLEMS]]
        more = len(self.problems) - SHOWN_PROBLEMS
        if more > 0:
            lines.append(f"และอีก {more} รายการ / and {more} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render(Problem.where)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# What pydantic's own checks mean to someone who wrote the data (our validators speak for themselves).
_PLAIN = {
    "extra_forbidden": "ไม่รู้จักคอลัมน์นี้ / unknown column",
    "dict_type": "ต้องเป็นออบเจกต์ JSON {...} / must be a JSON object {...}",
    "model_type": "ต้องเป็นออบเจกต์ JSON {...} / must be a JSON object {...}",
    "list_type": "ต้องเป็นรายการ JSON [...] / must be a JSON list [...]",
    "string_type": "ต้องเป็นข้อความ / must be text",
    "missing": "ต้องมีค่า / is required",
}


def _problem_text(error: ErrorDetails) -> str:
    cause = (error.get("ctx") or {}).get("error")
    if error["type"] == "value_error" and cause is not None:
        return str(cause)
    return _PLAIN.get(error["type"], f"ค่าไม่ถูกต้อง / invalid value: {_shown(error.get('input'))}")


def _problems(exc: ValidationError, block: str | None = None, row: int | None = None) -> list[Problem]:
    """A pydantic error as problems in Thai and English, located in blocks and rows where it can be."""
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if block is None and len(loc) >= 3 and loc[0] == "blocks":  # ("blocks", block, row, ...)
            problems.append(Problem(_problem_text(error), block=loc[1], row=int(loc[2]),
                                    column=".".join(loc[3:]) or None))
        elif block is not None:
            problems.append(Problem(_problem_text(error), block=block, row=row, column=".".join(loc) or None))
        else:
            problems.append(Problem(_problem_text(error), place=".".join(loc)))
    return problems


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: object) -> Decimal | None:
    if _blank(value):
        return None
    if isinstance(value, str) and value.strip() in DASHES:
        return Decimal(0)
    try:
        return to_money(value)
    except (TypeError, ValueError):  # a list or a boolean is "not a number" too
        raise ValueError(f"ไม่ใช่ตัวเลข / not a number: {_shown(value)}") from None


def _whole_number(value: object) -> int | None:
    """A whole number however it is written (2564, ๒๕๖๔, "2,564", 2564.0); None if it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        number = to_money(value)
    except (TypeError, ValueError):
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def _year(value: object) -> int | None:
    if _blank(value):
        return None
    year = _whole_number(value)
    if year is None:
        raise ValueError(f"ต้องเป็นปี พ.ศ. เช่น 2564 / must be a year such as 2564, not {_shown(value)}")
    return year


def _field(col_type: ColType) -> tuple[Any, Any]:
    if col_type is ColType.YEAR:
        return (int | None, None)
    if col_type.numeric:
        return (Decimal | None, None)
    return (str | None, None)


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@cache
def row_model(block: Block) -> type[BaseModel]:
    """A pydantic model of one row of ``block``: typed fields, list values in their canonical
    spelling (a level's Thai name, an alias), unknown keys refused."""
    fields: dict[str, Any] = {c.id: _field(c.type) for c in block.columns}
    years = [c.id for c in block.columns if c.type is ColType.YEAR]
    numeric = [c.id for c in block.columns if c.type.numeric and c.type is not ColType.YEAR]
    choices = [c.id for c in block.columns if c.choices]
    texts = [c.id for c in block.columns if not c.type.numeric and not c.choices]

    def parse_years(cls: type, value: object) -> int | None:
        return _year(value)

    def parse_numbers(cls: type, value: object) -> Decimal | None:
        return _number(value)

    def parse_text(cls: type, value: object) -> str | None:
        return _text(value)

    def parse_choice(cls: type, value: object, info: ValidationInfo) -> str | None:
        text = _text(value)
        if text is None or info.field_name is None:
            return text
        return block.column(info.field_name).canonical(text) or text  # validation reports what is not listed

    validators: dict[str, Any] = {}
    for name, columns, parse in (("_years", years, parse_years), ("_numbers", numeric, parse_numbers),
                                 ("_choices", choices, parse_choice), ("_texts", texts, parse_text)):
        if columns:
            validators[name] = field_validator(*columns, mode="before")(classmethod(parse))
    model: type[BaseModel] = create_model(
        f"{block.id.title()}Row",
        __config__=ConfigDict(extra="forbid"),
        __validators__=validators,
        **fields,
    )
    return model


class WorkbookData(BaseModel):
    """A template's content: meta fields and the rows of each block (outline order)."""

    template: str
    meta: dict[str, Any] = Field(default_factory=dict)
    blocks: dict[str, list[Row]] = Field(default_factory=dict)

    @property
    def spec(self) -> TemplateSpec:
        return get_spec(self.template)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> WorkbookData:
        """Validate raw JSON-like data against the template spec and type every value;
        :class:`DataProblems` lists everything that is wrong."""
        try:
            data = cls.model_validate(raw)
        except ValidationError as exc:
            raise DataProblems(_problems(exc)) from None
        spec = data.spec
        known = {b.id for b in spec.blocks}
        unknown = set(data.blocks) - known
        if unknown:
            raise ValueError(
                f"ไม่มีตาราง {sorted(unknown)} ในแม่แบบ {spec.id} / unknown blocks {sorted(unknown)}"
                f" (known: {sorted(known)})"
            )
        problems: list[Problem] = []
        typed: dict[str, list[Row]] = {}
        for block in spec.blocks:
            model = row_model(block)
            complete = spec.completers.get(block.id)
            rows = []
            for n, row in enumerate(data.blocks.get(block.id, [])):
                try:
                    rows.append(model.model_validate(complete(row) if complete else row).model_dump())
                except ValidationError as exc:
                    problems.extend(_problems(exc, block.id, n))
            typed[block.id] = rows
        meta = {}
        for m in spec.meta:
            try:
                meta[m.id] = meta_value(m.kind, data.meta.get(m.id))
            except ValueError as exc:
                problems.append(Problem(str(exc), place=f"meta {m.id}"))
        if problems:
            raise DataProblems(problems)
        return cls(template=spec.id, meta=meta, blocks=typed)


def meta_value(kind: str, value: Any) -> Any:
    """A meta field's value of ``kind`` ("text", "int", "date"); ValueError (Thai / English) if it is not one.

    Dates may be ISO ("2021-06-30") or Thai ("30 มิ.ย.64", "30 มิถุนายน 2564").
    """
    if value is None or value == "":
        return None
    if kind == "int":
        number = _whole_number(value)
        if number is None:
            raise ValueError(f"ต้องเป็นจำนวนเต็ม / must be a whole number, not {_shown(value)}")
        return number
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            try:
                return parse_thai_date(text)
            except ValueError:
                raise ValueError(f"ไม่ใช่วันที่ / not a date: {value!r} (2021-06-30 or 30 มิ.ย.64)") from None
    return str(value)
