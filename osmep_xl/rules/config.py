"""Validation settings: tolerances, KPI pro-rata tolerance and disbursement targets.

Defaults ship in ``osmep_xl/config/defaults.toml``; a user file overrides any key.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

Kind = Literal["overall", "recurrent", "investment"]
Basis = Literal["disbursed_committed", "disbursed"]


class Tolerance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    money: Decimal
    percent: Decimal
    count: Decimal


class KpiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    behind_tolerance: Decimal


class DisbursementSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    basis: Basis
    kind: Kind
    levels: list[str]
    targets: dict[int, dict[Kind, list[Decimal]]]

    @field_validator("targets")
    @classmethod
    def _four_quarters(cls, value: dict[int, dict[Kind, list[Decimal]]]) -> dict[int, dict[Kind, list[Decimal]]]:
        for year, kinds in value.items():
            for kind, quarters in kinds.items():
                if len(quarters) != 4:
                    raise ValueError(f"targets {year}.{kind} must list 4 quarters")
        return value

    def target(self, fiscal_year: int, quarter: int) -> Decimal | None:
        """Cumulative target (percent) for the year and quarter, None if not configured."""
        quarters = self.targets.get(fiscal_year, {}).get(self.kind)
        return quarters[quarter - 1] if quarters else None


class PlanSettings(BaseModel):
    """Monthly spending plan: how far a project's cumulative actual may stray from its cumulative plan."""

    model_config = ConfigDict(extra="forbid")
    behind_tolerance: Decimal
    ahead_tolerance: Decimal
    levels: list[str]


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tolerance: Tolerance
    kpi: KpiSettings
    disbursement: DisbursementSettings
    plan: PlanSettings


class ConfigError(ValueError):
    """A configuration file that cannot be used."""


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_settings(path: Path | None = None) -> Settings:
    """Defaults, overridden by the TOML file at ``path`` if given."""
    raw = tomllib.loads(resources.files("osmep_xl").joinpath("config/defaults.toml").read_text("utf-8"))
    if path is not None:
        try:
            raw = _merge(raw, tomllib.loads(Path(path).read_text("utf-8")))
        except FileNotFoundError:
            raise ConfigError(f"ไม่พบไฟล์ตั้งค่า / config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"ไฟล์ตั้งค่าไม่ถูกต้อง / invalid config {path}: {exc}") from None
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"ค่าตั้งไม่ถูกต้อง / invalid settings: {problems}") from None
