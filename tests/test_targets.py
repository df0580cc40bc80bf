"""The disbursement targets in the settings: per fiscal year, kind and budget source, each with its source."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from osmep_xl.rules.config import ConfigError, load_settings
from osmep_xl.rules.targets import line_kind

ACT = "พ.ร.บ.งบประมาณ"


def _entry(year: int = 2565, kind: str = "recurrent", quarters: str = '["36", "57", "80", "98"]',
           source: str = "มติ ครม. ทดสอบ", sources: str = f'"{ACT}"') -> str:
    return (f'[[disbursement.targets]]\nfiscal_year = {year}\nkind = "{kind}"\nquarters = {quarters}\n'
            f'source = "{source}"\nbudget_sources = [{sources}]\n')


def _load(tmp_path: Path, toml: str) -> object:
    path = tmp_path / "osmep.toml"
    path.write_text(toml, encoding="utf-8")
    return load_settings(path)


def test_defaults_hold_only_what_the_report_states() -> None:
    """FY2564: the recurrent Q3 80 % the report quotes, for the Budget Act (alone or with the fund's top-up),
    with its source; nothing the report does not state, and no other year."""
    cfg = load_settings().disbursement
    (target,) = cfg.targets
    assert (target.fiscal_year, target.kind, target.quarters) == (2564, "recurrent", [None, None, Decimal(80), None])
    assert target.budget_sources == [ACT, "พ.ร.บ.งบประมาณและเงินกองทุน"]
    assert "มาตรฐานการคลัง" in target.source
    assert cfg.target_for(2564, "recurrent", "เงินกองทุน") is None
    assert cfg.targets_for(2563, "recurrent") == [] and cfg.targets_for(2564, "investment") == []


def test_a_users_entry_adds_a_year_and_replaces_the_same_year_and_kind(tmp_path: Path) -> None:
    cfg = _load(tmp_path, _entry() + _entry(2564, quarters='["36", "57", "79", "98"]', sources='"budget act"'))
    disb = cfg.disbursement  # type: ignore[attr-defined]
    assert [t.quarter(3) for t in disb.targets_for(2564, "recurrent")] == [Decimal(79)]  # replaced, not added
    assert disb.target_for(2565, "recurrent", ACT).quarters[0] == Decimal(36)
    assert disb.target_for(2564, "recurrent", ACT).budget_sources == [ACT]  # "budget act" is the list value


@pytest.mark.parametrize(("toml", "says"), [
    pytest.param('[disbursement]\nkind = "recurrent"\n', "disbursement.kind", id="old-kind"),
    pytest.param('[disbursement.targets.2564]\noverall = ["32", "54", "77", "100"]\n', "[[disbursement.targets]]",
                 id="old-targets-table"),
    pytest.param(_entry(quarters='["80"]'), "4 quarters", id="three-quarters-missing"),
    pytest.param(_entry(source=" "), "source must name", id="no-source"),
    pytest.param(_entry(sources='"ภาษี"'), "unknown budget sources", id="unknown-budget-source"),
    pytest.param(_entry(sources=""), "at least one budget source", id="no-budget-source"),
    pytest.param(_entry(kind="capital"), "kind", id="unknown-kind"),
    pytest.param(_entry() + _entry(quarters='["1", "2", "3", "4"]'), "two recurrent targets for 2565",
                 id="two-targets-for-one-line"),
])
def test_unusable_targets_are_refused_in_one_line(tmp_path: Path, toml: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, toml)
    message = str(info.value)
    assert says in message and "\n" not in message and " / " in message


def test_a_lines_kind() -> None:
    assert line_kind("งบลงทุน", 2564, 2564) == "investment"
    assert {line_kind(c, 2564, 2564) for c in ("งบบุคลากร", "งบดำเนินงาน", "งบเงินอุดหนุน", "งบรายจ่ายอื่น")} == {
        "recurrent"}
    assert line_kind(None, 2564, 2564) == "overall"
    assert line_kind("งบลงทุน", 2563, 2564) == "carryover"  # an earlier year's line is carry-over, whatever it buys
