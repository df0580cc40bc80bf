"""Every formula of every generated workbook, recalculated by LibreOffice, equals the Python core
in its Excel arithmetic (binary doubles, ROUND on the 15-digit value).

Cached values are stripped before LibreOffice opens the files, so each value compared
here was computed by LibreOffice itself.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from osmep_xl.data import load_report
from osmep_xl.model.evaluate import BlockCalc
from osmep_xl.model.workbook import WorkbookData
from osmep_xl.money import EXCEL
from osmep_xl.spec import TEMPLATES
from osmep_xl.spec.base import ColType
from osmep_xl.spec.spending_plan import MONTHS
from osmep_xl.xlsx.dashboard import DASHBOARD_SHEET
from osmep_xl.xlsx.generate import blank_data, write_workbook
from osmep_xl.xlsx.read import read_workbook
from tests.big_tables import interleaved
from tests.libreoffice import convert, strip_cached_values

pytestmark = pytest.mark.libreoffice
SATANG = Decimal("0.005")
MONTH_IDS = [m for m, _, _ in MONTHS]


def random_disbursement(seed: int) -> WorkbookData:
    """A random three-level disbursement table; amounts chosen to hit ROUND's half-way cases."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = [dict(level="total", code="T", name="รวม")]
    for p in range(1, rng.randint(2, 4)):
        rows.append(dict(level="part", code=f"P{p}", parent="T", name=f"ส่วน {p}"))
        for s in range(1, rng.randint(2, 5)):
            allocated = Decimal(rng.choice([200, 400, 800, 1000, rng.randint(1, 10**9)]))
            # part/whole*100 landing on x.xx5 exactly: half-away-from-zero vs banker's rounding differ
            disbursed = rng.choice([Decimal("0.01"), Decimal("2.675") * allocated / 100,
                                    Decimal(rng.randint(0, int(allocated * 100))) / 100])
            committed = Decimal(rng.randint(0, int((allocated - disbursed) * 100))) / 100
            rows.append(dict(level="strategy", code=f"{p}.{s}", parent=f"P{p}", name=f"ยุทธศาสตร์ {p}.{s}",
                             allocated=str(allocated), disbursed=str(disbursed.quantize(Decimal("0.01"))),
                             committed=str(committed)))
    for row in rows:
        row.update(fiscal_year=2564, budget_source="งบกลาง")
    return WorkbookData.parse({"template": "disbursement", "meta": {"as_of": "2021-06-30"},
                               "blocks": {"lines": rows}})


def random_spending_plan(month: int) -> WorkbookData:
    """A random spending plan as of the end of fiscal month ``month`` (1 = October): the cumulative columns
    sum a different number of months in each, through OFFSET-free INDEX ranges and the as-of cell."""
    rng = random.Random(month)
    rows: list[dict[str, Any]] = [dict(level="total", code="T", name="รวม")]
    for p in range(1, 4):
        row: dict[str, Any] = dict(level="project", code=str(p), parent="T", name=f"โครงการ {p}",
                                   budget_act=str(rng.randint(10**6, 10**9)), transfer_in=str(rng.randint(0, 10**5)),
                                   transfer_out=f"{rng.randint(0, 10**7)}.{rng.randint(0, 99):02d}",
                                   committed=f"{rng.randint(0, 10**6)}.{rng.randint(0, 99):02d}")
        for kind in ("plan", "actual"):
            for m in range(1, 13):
                if kind == "plan" or m <= month:
                    row[f"{kind}_{MONTH_IDS[m - 1]}"] = f"{rng.randint(0, 10**7)}.{rng.randint(0, 99):02d}"
        rows.append(row)
    for row in rows:
        row.update(fiscal_year=2564, budget_source="เงินกองทุน")
    year, cal = (2020, month + 9) if month <= 3 else (2021, month - 3)
    as_of = dt.date(year + cal // 12, cal % 12 + 1, 1) - dt.timedelta(days=1)
    return WorkbookData.parse({"template": "spending_plan", "meta": {"as_of": as_of.isoformat()},
                               "blocks": {"projects": rows}})


def _workbooks() -> dict[str, WorkbookData]:
    books = {f"demo_{t}": load_report(t) for t in TEMPLATES}
    books.update({f"blank_{t}": blank_data(spec) for t, spec in TEMPLATES.items()})
    books.update({f"random_{n}": random_disbursement(n) for n in range(6)})
    # Parents of many interleaved lines: roll-ups as SUMIFS / SUMPRODUCT over spans, not lists of cells.
    books["interleaved_2000"] = interleaved(2000)
    books.update({f"plan_month_{m}": random_spending_plan(m) for m in (1, 3, 4, 9, 12)})
    return books


def dashboard_formulas(path: Path) -> int:
    book = openpyxl.load_workbook(path)
    if DASHBOARD_SHEET not in book.sheetnames:
        return 0
    return sum(1 for row in book[DASHBOARD_SHEET].iter_rows() for c in row if str(c.value or "").startswith("="))


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[WorkbookData, Path]]:
    """Write every workbook without cached values and let LibreOffice recalculate them all."""
    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("lo")
    books = _workbooks()
    stripped = []
    for name, data in books.items():
        write_workbook(data, src / f"{name}.full.xlsx")
        written = sum(len(rb.formula_cells) for rb in read_workbook(src / f"{name}.full.xlsx").blocks.values())
        written += dashboard_formulas(src / f"{name}.full.xlsx")  # the KPI status counts (COUNTIF)
        assert strip_cached_values(src / f"{name}.full.xlsx", src / f"{name}.xlsx") == written
        stripped.append(src / f"{name}.xlsx")
    outputs = convert(stripped, out)
    return {name: (books[name], path) for name, path in zip(books, outputs, strict=True)}


def _close(col_type: ColType, ours: Any, theirs: Any) -> bool:
    if isinstance(ours, Decimal) and isinstance(theirs, Decimal):
        return abs(ours - theirs) < SATANG  # money to the satang, percentages to 0.01 point
    return ours == theirs


@pytest.mark.parametrize("name", list(_workbooks()))
def test_every_formula_matches_python(name: str, recalculated: dict[str, tuple[WorkbookData, Path]]) -> None:
    data, path = recalculated[name]
    read = read_workbook(path)
    compared = 0
    for block in data.spec.blocks:
        rows = data.blocks.get(block.id, [])
        calc = BlockCalc(block, rows, arith=EXCEL, meta=data.meta)
        got = read.blocks[block.id]
        assert len(got.rows) == len(rows)
        for i in range(len(rows)):
            for col in block.columns:
                if not calc.is_computable(i, col) or calc.is_stated(i, col.id):
                    continue
                ours, theirs = calc.cell(i, col.id).value, got.rows[i][col.id]
                if ours is None and theirs is None:
                    compared += 1
                    continue
                if col.type is ColType.PERCENT and ours is not None:
                    assert ours == ours.quantize(Decimal("0.01"))
                assert _close(col.type, ours, theirs), (
                    f"{block.sheet}!{got.address(i, col.id)} {col.id}: python {ours} libreoffice {theirs}")
                compared += 1
    # Every formula cell was compared (a blank template may have none: its skeleton has no figures).
    assert compared == sum(len(rb.formula_cells) for rb in read.blocks.values())
