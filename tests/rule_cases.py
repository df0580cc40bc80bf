"""Small synthetic workbooks for the rule tests: build them, break them at the Excel level, validate.

Everything here works on files written by :func:`osmep_xl.xlsx.generate.write_workbook`, so a
test starts from a valid workbook and changes exactly one thing, the way a person editing the
file in Excel would (a typed value, a renamed header, a deleted sheet...).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import openpyxl

from osmep_xl.findings import Finding
from osmep_xl.model.workbook import WorkbookData
from osmep_xl.rules.config import Settings, load_settings
from osmep_xl.rules.validate import validate
from osmep_xl.spec import get_spec
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.package import sheet_parts
from osmep_xl.xlsx.read import read_workbook

FY = 2564
SOURCE = "เงินกองทุน"
# As of the end of Q3 of FY2564 (1 Oct 2020 - 30 Sep 2021).
META: dict[str, Any] = {"agency": "หน่วยงานทดสอบ", "fiscal_year": FY, "quarter": 3, "as_of": "2021-06-30",
                        "title": "รายงานทดสอบ"}


# --------------------------------------------------------------------------- rows


def disb(level: str, code: str, parent: str | None = None, allocated: Any = None, disbursed: Any = None,
         committed: Any = None, **stated: Any) -> dict[str, Any]:
    """A row of the disbursement block (FY2564, one budget source)."""
    row: dict[str, Any] = {"fiscal_year": FY, "budget_source": SOURCE, "level": level, "code": code,
                           "parent": parent, "name": f"รายการ {code}", "allocated": allocated,
                           "disbursed": disbursed, "committed": committed}
    row.update(stated)
    return row


def disbursement_rows() -> list[dict[str, Any]]:
    """A consistent total with two projects, on the Q3 target; the total's figures are formulas."""
    return [
        disb("total", "T"),
        disb("project", "P1", "T", "1000", "600", "250"),
        disb("project", "P2", "T", "500", "300", "130"),
    ]


def plan_row(level: str, code: str, parent: str | None, budget: Any) -> dict[str, Any]:
    """A row of the action plan's sources or plan block (both have the same columns)."""
    return {"fiscal_year": FY, "budget_source": SOURCE, "level": level, "code": code, "parent": parent,
            "name": f"รายการ {code}", "budget": budget}


def kpi(code: str, target: Any, result: Any, direction: str = ">=", strategy: str | None = "1",
        **more: Any) -> dict[str, Any]:
    """A row of the KPI block."""
    row = {"code": code, "strategy": strategy, "name": f"ตัวชี้วัด {code}", "unit": "ราย",
           "direction": direction, "target": target, "result": result}
    row.update(more)
    return row


def kpi_blocks(*kpis: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    strategies = [{"code": "1", "name": "ยุทธศาสตร์ 1"}, {"code": "2", "name": "ยุทธศาสตร์ 2"}]
    return {"strategies": strategies, "kpis": list(kpis)}


def approach(block: str, level: str, code: str, parent: str | None, amount: Any) -> dict[str, Any]:
    """A row of the integrated plan: ``amount`` is the budget (approaches) or allocation (disbursement)."""
    column = "budget" if block == "approaches" else "allocated"
    return {"level": level, "code": code, "parent": parent, "name": f"แนวทาง {code}", column: amount}


# --------------------------------------------------------------------------- build and check


def build(path: Path, template: str, blocks: dict[str, list[dict[str, Any]]],
          meta: dict[str, Any] | None = None) -> Path:
    """Write a workbook of ``template`` holding ``blocks`` (raw rows, parsed as the JSON data is)."""
    data = WorkbookData.parse({"template": template, "meta": META if meta is None else meta,
                               "blocks": blocks})
    return write_workbook(data, path)


def check(path: Path, settings: Settings | None = None, previous: Path | None = None) -> list[Finding]:
    """Read ``path`` and validate it (against ``previous`` if given)."""
    prev = read_workbook(previous) if previous is not None else None
    return validate(read_workbook(path), settings or load_settings(), prev, strict=True)


def of_rule(findings: Iterable[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def sheet(template: str, block_id: str) -> str:
    return get_spec(template).block(block_id).sheet


def settings_from(path: Path, toml: str) -> Settings:
    """Settings: the defaults overridden by ``toml`` (written to ``path``)."""
    path.write_text(toml, encoding="utf-8")
    return load_settings(path)


# --------------------------------------------------------------------------- breaking a workbook


def set_cells(path: Path, sheet_name: str, values: dict[str, Any], out: Path | None = None) -> Path:
    """Type ``values`` into cells with openpyxl (it drops cached formula values; validation recomputes)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet_name]
    for ref, value in values.items():
        ws[ref] = value
    target = out or path
    wb.save(target)
    return target


def remove_sheet(path: Path, sheet_name: str, out: Path | None = None) -> Path:
    wb = openpyxl.load_workbook(path)
    wb.remove(wb[sheet_name])
    target = out or path
    wb.save(target)
    return target


def rewrite_part(path: Path, part: str, edit: Callable[[str], str], out: Path | None = None) -> Path:
    """Rewrite one XML part of the package with ``edit`` (text in, text out); ``edit`` must change it."""
    target = out or path
    with zipfile.ZipFile(path) as zin:
        items = [(info, zin.read(info.filename)) for info in zin.infolist()]
    tmp = target.with_name(target.name + ".tmp")
    changed = False
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, payload in items:
            if info.filename == part:
                text = payload.decode("utf-8")
                new = edit(text)
                changed = new != text
                payload = new.encode("utf-8")
            zout.writestr(info, payload)
    if not changed:
        tmp.unlink()
        raise AssertionError(f"{part} was not changed")
    tmp.replace(target)
    return target


def sheet_part(path: Path, sheet_name: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return sheet_parts(zf)[sheet_name]


def _cell_element(ref: str) -> re.Pattern[str]:
    return re.compile(rf'<c r="{ref}"(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</c>)', re.DOTALL)


def set_cell_xml(path: Path, sheet_name: str, ref: str, body: str, cell_type: str | None = None,
                 out: Path | None = None) -> Path:
    """Replace the content of cell ``ref`` in the sheet XML by ``body`` (e.g. ``<f>1/0</f><v>#DIV/0!</v>``)."""
    pattern = _cell_element(ref)

    def edit(xml: str) -> str:
        match = pattern.search(xml)
        if match is None:
            raise AssertionError(f"no cell {ref} in {sheet_name}")
        style = re.search(r'\ss="\d+"', match["attrs"])
        attrs = (style.group(0) if style else "") + (f' t="{cell_type}"' if cell_type else "")
        return xml[:match.start()] + f'<c r="{ref}"{attrs}>{body}</c>' + xml[match.end():]

    return rewrite_part(path, sheet_part(path, sheet_name), edit, out)


def set_cached_value(path: Path, sheet_name: str, ref: str, value: str, out: Path | None = None) -> Path:
    """Change the cached value ``<v>`` of formula cell ``ref``, leaving its formula alone."""
    pattern = _cell_element(ref)

    def edit(xml: str) -> str:
        match = pattern.search(xml)
        if match is None or "<f>" not in (match["body"] or ""):
            raise AssertionError(f"{ref} in {sheet_name} is not a formula cell")
        body = re.sub(r"<v>.*?</v>", f"<v>{value}</v>", match["body"])
        return xml[:match.start("body")] + body + xml[match.end("body"):]

    return rewrite_part(path, sheet_part(path, sheet_name), edit, out)


def set_version(path: Path, version: str, out: Path | None = None) -> Path:
    """Change the template version stored in the custom document properties."""
    def edit(xml: str) -> str:
        return re.sub(r'(name="osmep_xl\.version"><vt:lpwstr>)[^<]*', rf"\g<1>{version}", xml)

    return rewrite_part(path, "docProps/custom.xml", edit, out)

