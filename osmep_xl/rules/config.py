"""Validation settings: tolerances, KPI pro-rata tolerance and disbursement targets.

Defaults ship in ``osmep_xl/config/defaults.toml``; a user file overrides any key.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ..spec.columns import BUDGET_SOURCE

Kind = Literal["overall", "recurrent", "investment", "carryover"]
Basis = Literal["disbursed_committed", "disbursed"]


class Tolerance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    money: Decimal
    percent: Decimal
    count: Decimal


class KpiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    behind_tolerance: Decimal


class DisbursementTarget(BaseModel):
    """One of the government's cumulative disbursement targets: a fiscal year, a kind, four quarters (percent
    of the allocation; None where the source states none), where it comes from and which budget sources
    it applies to."""

    model_config = ConfigDict(extra="forbid")
    fiscal_year: int
    kind: Kind
    quarters: list[Decimal | None]
    source: str
    budget_sources: list[str]

    @field_validator("quarters", mode="before")
    @classmethod
    def _blank_is_unstated(cls, value: Any) -> Any:
        return [None if q == "" else q for q in value] if isinstance(value, list) else value

    @field_validator("quarters")
    @classmethod
    def _four_quarters(cls, value: list[Decimal | None]) -> list[Decimal | None]:
        if len(value) != 4:
            raise ValueError("quarters must list 4 quarters (\"\" for one the source does not state)")
        return value

    @field_validator("source")
    @classmethod
    def _source_named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("source must name the Cabinet resolution or document the target comes from")
        return value.strip()

    @field_validator("budget_sources")
    @classmethod
    def _known_sources(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("budget_sources must name at least one budget source")
        known = [BUDGET_SOURCE.canonical(v) for v in value]
        unknown = [v for v, k in zip(value, known, strict=True) if k is None]
        if unknown:
            raise ValueError(f"unknown budget sources {unknown} (known: {list(BUDGET_SOURCE.choices)})")
        return [k for k in known if k is not None]

    def quarter(self, quarter: int) -> Decimal | None:
        return self.quarters[quarter - 1]


class OutputSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    over_target_factor: Decimal


class DisbursementSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    basis: Basis
    levels: list[str]
    targets: list[DisbursementTarget]

    @model_validator(mode="after")
    def _one_target_per_line(self) -> DisbursementSettings:
        seen: dict[tuple[int, str, str], DisbursementTarget] = {}
        for t in self.targets:
            for source in t.budget_sources:
                if (t.fiscal_year, t.kind, source) in seen:
                    raise ValueError(f"two {t.kind} targets for {t.fiscal_year} apply to {source}")
                seen[(t.fiscal_year, t.kind, source)] = t
        return self

    def targets_for(self, fiscal_year: int, kind: Kind) -> list[DisbursementTarget]:
        """The targets configured for a fiscal year and kind (one per set of budget sources)."""
        return [t for t in self.targets if t.fiscal_year == fiscal_year and t.kind == kind]

    def target_for(self, fiscal_year: int, kind: Kind, budget_source: str | None) -> DisbursementTarget | None:
        """The target of that year and kind declared for ``budget_source`` (any source when None)."""
        return next((t for t in self.targets_for(fiscal_year, kind)
                     if budget_source is None or budget_source in t.budget_sources), None)


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
    outputs: OutputSettings
    disbursement: DisbursementSettings
    plan: PlanSettings


class ConfigError(ValueError):
    """A configuration file that cannot be used."""


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _old_format(user: dict[str, Any], path: Path) -> None:
    """Refuse, in one clear line, the settings of osmep_xl before per-line targets (one kind for the whole
    run, targets without their source): guessing which budget sources they meant would judge lines
    silently against the wrong numbers."""
    disb = user.get("disbursement")
    if not isinstance(disb, dict):
        return
    if "kind" in disb:
        raise ConfigError(
            f"ไฟล์ตั้งค่ารูปแบบเก่า {path}: disbursement.kind เลิกใช้แล้ว ประเภทเป้าหมายมาจากหมวดงบรายจ่ายของแต่ละบรรทัด"
            f" (คอลัมน์ budget_category) ให้ลบบรรทัดนี้ / old settings format in {path}: disbursement.kind is no longer"
            " used, the kind comes from each line's budget category (column budget_category): remove it")
    if isinstance(disb.get("targets"), dict):
        raise ConfigError(
            f"ไฟล์ตั้งค่ารูปแบบเก่า {path}: [disbursement.targets.ปี] ต้องเขียนใหม่เป็น [[disbursement.targets]] พร้อม"
            " fiscal_year, kind, quarters, source (มติ ครม./เอกสาร) และ budget_sources (ดู defaults.toml) / old settings"
            f" format in {path}: rewrite [disbursement.targets.YEAR] as [[disbursement.targets]] entries with"
            " fiscal_year, kind, quarters, source and budget_sources (see defaults.toml)")


def _merge_targets(base: list[Any], override: list[Any]) -> list[Any]:
    """The default targets with the user's: a user entry replaces the defaults of its fiscal year and kind."""
    mine = {(t.get("fiscal_year"), t.get("kind")) for t in override if isinstance(t, dict)}
    return [t for t in base if (t.get("fiscal_year"), t.get("kind")) not in mine] + override


def load_settings(path: Path | None = None) -> Settings:
    """Defaults, overridden by the TOML file at ``path`` if given."""
    raw = tomllib.loads(resources.files("osmep_xl").joinpath("config/defaults.toml").read_text("utf-8"))
    if path is not None:
        try:
            user = tomllib.loads(Path(path).read_text("utf-8"))
            _old_format(user, Path(path))
            disb = user.get("disbursement")
            targets = disb.get("targets") if isinstance(disb, dict) else None
            merged = _merge(raw, user)
            if isinstance(targets, list):
                merged["disbursement"]["targets"] = _merge_targets(raw["disbursement"]["targets"], targets)
            raw = merged
        except FileNotFoundError:
            raise ConfigError(f"ไม่พบไฟล์ตั้งค่า / config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"ไฟล์ตั้งค่าไม่ถูกต้อง / invalid config {path}: {exc}") from None
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"ค่าตั้งไม่ถูกต้อง / invalid settings: {problems}") from None
