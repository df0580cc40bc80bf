"""What a filled template holds, independent of Excel: meta fields and block rows.

Row models are derived from the template spec, so a column is never listed twice.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from ..fiscal import parse_thai_date
from ..money import to_money
from ..spec import get_spec
from ..spec.base import Block, ColType, TemplateSpec

Row = dict[str, Any]


def _number(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return to_money(value)
    except TypeError:  # pydantic reports ValueError only: a list or a boolean is "not a number" too
        raise ValueError(f"ไม่ใช่ตัวเลข / not a number: {value!r}") from None


def _field(col_type: ColType) -> tuple[Any, Any]:
    if col_type is ColType.YEAR:
        return (int | None, None)
    if col_type.numeric:
        return (Decimal | None, None)
    return (str | None, None)


@cache
def row_model(block: Block) -> type[BaseModel]:
    """A pydantic model of one row of ``block``: typed fields, unknown keys refused."""
    fields: dict[str, Any] = {c.id: _field(c.type) for c in block.columns}
    numeric = [c.id for c in block.columns if c.type.numeric and c.type is not ColType.YEAR]
    texts = [c.id for c in block.columns if not c.type.numeric]

    def parse_numbers(cls: type, value: object) -> Decimal | None:
        return _number(value)

    def parse_text(cls: type, value: object) -> str | None:
        if value is None:
            return None
        text = str(value).strip()
        return text or None

    validators: dict[str, Any] = {}
    if numeric:
        validators["_numbers"] = field_validator(*numeric, mode="before")(classmethod(parse_numbers))
    if texts:
        validators["_texts"] = field_validator(*texts, mode="before")(classmethod(parse_text))
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
        """Validate raw JSON-like data against the template spec and type every value."""
        data = cls.model_validate(raw)
        spec = data.spec
        known = {b.id for b in spec.blocks}
        unknown = set(data.blocks) - known
        if unknown:
            raise ValueError(
                f"ไม่มีตาราง {sorted(unknown)} ในแม่แบบ {spec.id} / unknown blocks {sorted(unknown)}"
                f" (known: {sorted(known)})"
            )
        typed: dict[str, list[Row]] = {}
        for block in spec.blocks:
            model = row_model(block)
            complete = spec.completers.get(block.id)
            rows = []
            for n, row in enumerate(data.blocks.get(block.id, []), start=1):
                try:
                    rows.append(model.model_validate(complete(row) if complete else row).model_dump())
                except ValueError as exc:
                    first = str(exc).splitlines()
                    detail = "; ".join(line.strip() for line in first[1:3])
                    raise ValueError(f"{block.id} แถว/row {n}: {detail}") from None
            typed[block.id] = rows
        meta = {}
        for m in spec.meta:
            try:
                meta[m.id] = meta_value(m.kind, data.meta.get(m.id))
            except ValueError as exc:
                raise ValueError(f"meta {m.id}: {exc}") from None
        return cls(template=spec.id, meta=meta, blocks=typed)


def meta_value(kind: str, value: Any) -> Any:
    """A meta field's value of ``kind`` ("text", "int", "date"); ValueError (Thai / English) if it is not one.

    Dates may be ISO ("2021-06-30") or Thai ("30 มิ.ย.64", "30 มิถุนายน 2564").
    """
    if value is None or value == "":
        return None
    if kind == "int":
        number = to_money(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None
        if number is None or not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"ต้องเป็นจำนวนเต็ม / must be a whole number, not {value!r}")
        return int(number)
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
