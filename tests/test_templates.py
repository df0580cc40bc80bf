"""The spec is the single source of truth: generated workbooks carry exactly what it says,
and the checked-in templates are what the spec generates today."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from osmep_xl.cli import build_templates
from osmep_xl.data import load_report
from osmep_xl.spec import TEMPLATES
from osmep_xl.spec.base import ColType
from osmep_xl.xlsx.dashboard import DASHBOARD_SHEET
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.layout import FIRST_DATA_ROW, HEADER_EN_ROW, HEADER_TH_ROW, INFO_SHEET, block_name

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo_books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("demo")
    return {t: write_workbook(load_report(t), out / f"{t}.xlsx") for t in TEMPLATES}


@pytest.mark.parametrize("template_id", list(TEMPLATES))
def test_workbook_follows_spec(template_id: str, demo_books: dict[str, Path]) -> None:
    spec = TEMPLATES[template_id]
    wb = openpyxl.load_workbook(demo_books[template_id])
    assert wb.sheetnames == [INFO_SHEET, *(b.sheet for b in spec.blocks), DASHBOARD_SHEET]  # filled: charts
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props == {"osmep_xl.template": spec.id, "osmep_xl.version": spec.version}
    data = load_report(template_id)
    for block in spec.blocks:
        ws = wb[block.sheet]
        th = [c.value for c in ws[HEADER_TH_ROW + 1]][: len(block.columns)]
        en = [c.value for c in ws[HEADER_EN_ROW + 1]][: len(block.columns)]
        assert th == [c.th for c in block.columns]
        assert en == [c.en for c in block.columns]
        name = wb.defined_names[block_name(block)]
        assert name.attr_text.startswith(f"'{block.sheet}'!$A${HEADER_TH_ROW + 1}:")
        assert ws.freeze_panes is not None
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        validated = {str(dv.sqref).split(":")[0] for dv in ws.data_validations.dataValidation}
        for n, col in enumerate(block.columns):
            letter = openpyxl.utils.get_column_letter(n + 1)
            if col.choices:
                assert f"{letter}{FIRST_DATA_ROW + 1}" in validated, col.id
        rows = data.blocks[block.id]
        for i, row in enumerate(rows):
            for n, col in enumerate(block.columns):
                cell = ws.cell(row=FIRST_DATA_ROW + 1 + i, column=n + 1)
                if row.get(col.id) is None and col.derived:
                    assert isinstance(cell.value, str) and cell.value.startswith("="), cell.coordinate
                if col.type is ColType.MONEY:
                    assert cell.number_format == "#,##0.00"
                if col.type is ColType.PERCENT:
                    assert cell.number_format == "0.00"
                assert cell.font.name == "TH Sarabun New"


@pytest.mark.parametrize("template_id", list(TEMPLATES))
def test_checked_in_templates_match_the_spec(template_id: str, tmp_path: Path) -> None:
    """Fails when a spec change was not followed by `make templates`."""
    fresh = {p.stem: p for p in build_templates(tmp_path)}[template_id]
    checked_in = ROOT / "templates" / f"{template_id}.xlsx"
    assert checked_in.exists(), "run `make templates`"
    with zipfile.ZipFile(fresh) as a, zipfile.ZipFile(checked_in) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name), f"{name} differs: run `make templates`"


def test_building_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    first = build_templates(tmp_path / "a")
    second = build_templates(tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_blank_templates_hold_structure_not_figures(tmp_path: Path) -> None:
    for path in build_templates(tmp_path):
        spec = TEMPLATES[path.stem]
        wb = openpyxl.load_workbook(path)
        for block in spec.blocks:
            ws = wb[block.sheet]
            for n, col in enumerate(block.columns):
                for row in ws.iter_rows(min_row=FIRST_DATA_ROW + 1, min_col=n + 1, max_col=n + 1):
                    value = row[0].value
                    if not col.structure and not (isinstance(value, str) and value.startswith("=")):
                        assert value is None, f"{block.sheet}!{row[0].coordinate} = {value!r}"
