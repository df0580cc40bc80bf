"""Findings are data: one record per problem, shown by every view (console, JSON, sheet)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


class Finding(BaseModel):
    """One problem at one cell. ``expected``/``actual`` are numbers for numeric checks."""

    model_config = ConfigDict(frozen=True)

    rule: str
    severity: Severity
    sheet: str
    cell: str
    expected: Decimal | str | None = None
    actual: Decimal | str | None = None
    message_th: str
    message_en: str
    # Root-cause diagnosis (rules/diagnosis.py): a consequence names the cell that causes it ("sheet!A1");
    # a cause that several cells explain equally lists them, most likely first.
    cause: str | None = None
    candidates: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: Decimals become JSON numbers."""
        def num(v: Decimal | str | None) -> float | int | str | None:
            if isinstance(v, Decimal):
                return int(v) if v == v.to_integral_value() else float(v)
            return v
        data = self.model_dump()
        data["severity"] = self.severity.value
        data["expected"], data["actual"] = num(self.expected), num(self.actual)
        for optional in ("cause", "candidates"):  # added only where set: the fields before them are unchanged
            if data[optional] is None:
                del data[optional]
        if "candidates" in data:
            data["candidates"] = list(data["candidates"])
        return data

    @property
    def where(self) -> str:
        """``sheet!cell``, as ``cause`` and ``candidates`` name cells."""
        return f"{self.sheet}!{self.cell}"


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then by sheet and cell position."""
    from .a1 import cell_sort_key

    return sorted(findings, key=lambda f: (f.severity.rank, f.sheet, cell_sort_key(f.cell), f.rule))
