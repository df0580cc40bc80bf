"""The fast byte scan of sheet XML finds exactly what a full XML parse finds."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from osmep_xl.data import load_report
from osmep_xl.spec import TEMPLATES
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.package import _scan_sheet_xml, scan_sheet, sheet_parts
from tests.corpus_helpers import rich_workbook
from tests.libreoffice import convert_one, soffice


def _compare(path: Path) -> int:
    compared = 0
    with zipfile.ZipFile(path) as zf:
        for part in sheet_parts(zf).values():
            fast, full = scan_sheet(zf, part), _scan_sheet_xml(zf, part)
            assert fast.formulas.keys() == full.formulas.keys(), part
            assert fast.errors == full.errors, part
            for ref, text in full.formulas.items():
                assert fast.formulas[ref] == text, (part, ref)
            compared += len(full.formulas) + len(full.errors)
    return compared


def test_generated_workbooks(tmp_path: Path) -> None:
    assert sum(_compare(write_workbook(load_report(t), tmp_path / f"{t}.xlsx")) for t in TEMPLATES) > 100


@pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")
def test_rich_workbook(tmp_path: Path) -> None:
    path = rich_workbook(tmp_path)
    # openpyxl, an independent reader, counts the formula cells (array formulas too) and error cells
    # of every sheet: both scans must have found each of them (no formula here caches an error, which
    # _compare would count twice).
    book = openpyxl.load_workbook(path)
    cells = [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row]
    expected = sum(cell.data_type in ("f", "e") for cell in cells)
    assert expected > 0
    assert _compare(path) == expected


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_output_with_shared_formulas_and_errors(tmp_path: Path) -> None:
    import xlsxwriter

    src = tmp_path / "src.xlsx"
    book = xlsxwriter.Workbook(src)
    ws = book.add_worksheet("S")
    for r in range(20):
        ws.write_number(r, 0, r)
        ws.write_formula(r, 1, f"=A{r + 1}*2&\"<&>\"")
        ws.write_formula(r, 2, f"=1/A{r + 1}")  # row 1 divides by zero
    book.close()
    out = convert_one(src, tmp_path / "lo")
    assert _compare(out) >= 41
    with zipfile.ZipFile(out) as zf:
        scan = scan_sheet(zf, sheet_parts(zf)["S"])
    assert scan.errors == {"C1": "#DIV/0!"}
    assert scan.formulas["B1"] == 'A1*2&"<&>"'
