"""OSMEP's FY2564 Q3 report, transcribed exactly as printed (inconsistencies included)."""

from __future__ import annotations

import json
from importlib import resources

from ..model.workbook import WorkbookData

REPORT = "fy2564_q3"
REPORT_TITLE = "รายงานผลการดำเนินงาน สสว. ปีงบประมาณ 2564 ไตรมาส 3 (ณ 30 มิ.ย.64)"


def has_report(template_id: str, report: str = REPORT) -> bool:
    """True when the built-in report has figures for this template."""
    return resources.files(__package__).joinpath(report, f"{template_id}.json").is_file()


def load_report(template_id: str, report: str = REPORT) -> WorkbookData:
    """The built-in data of one template, typed and checked against its spec."""
    text = resources.files(__package__).joinpath(report, f"{template_id}.json").read_text("utf-8")
    return WorkbookData.parse(json.loads(text))
