"""``osmep-xl next-period``: the next quarter's (or month's) workbook started from this one."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from osmep_xl.check import check_file
from osmep_xl.findings import Finding, Severity
from osmep_xl.rollforward import next_as_of, roll_forward
from osmep_xl.rules.config import load_settings
from osmep_xl.spec import register, unregister
from osmep_xl.spec.base import Block, ColType, Column, TemplateSpec
from osmep_xl.spec.columns import CODE, COMMON_META, NAME, NOTE
from osmep_xl.xlsx.read import read_workbook
from tests.cells import address, meta_cell
from tests.libreoffice import convert_one, strip_cached_values
from tests.rollforward_cases import ACT, disbursement_q1, kpi_q1, type_in, typed_cells
from tests.rule_cases import META, build

SETTINGS = load_settings()


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it."""
    return subprocess.run([sys.executable, "-m", "osmep_xl", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def findings(path: Path, previous: Path | None = None) -> list[Finding]:
    return [f for r in check_file(path, SETTINGS, previous) for f in r.findings]


def rules(found: list[Finding], at_least: Severity = Severity.WARNING) -> list[str]:
    order = [Severity.INFO, Severity.WARNING, Severity.ERROR]
    return sorted(f.rule for f in found if order.index(f.severity) >= order.index(at_least))


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


@pytest.fixture(scope="module")
def q1(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("q1")
    return {"disbursement": disbursement_q1(folder / "disbursement_q1.xlsx"), "kpi": kpi_q1(folder / "kpi_q1.xlsx")}


@pytest.mark.parametrize(("as_of", "monthly", "want"), [
    (dt.date(2020, 12, 31), False, dt.date(2021, 3, 31)),
    (dt.date(2021, 6, 30), False, dt.date(2021, 9, 30)),
    (dt.date(2021, 5, 15), False, dt.date(2021, 6, 30)),  # mid-quarter: the end of its own quarter
    (dt.date(2021, 9, 30), False, dt.date(2021, 12, 31)),  # next fiscal year: roll_forward refuses it
    (dt.date(2021, 1, 31), True, dt.date(2021, 2, 28)),
    (dt.date(2020, 12, 31), True, dt.date(2021, 1, 31)),
    (dt.date(2021, 2, 10), True, dt.date(2021, 2, 28)),
])
def test_next_as_of(as_of: dt.date, monthly: bool, want: dt.date) -> None:
    assert next_as_of(as_of, monthly) == want


@pytest.mark.parametrize("template", ["disbursement", "kpi"])
def test_rolled_clean_workbook_validates_clean_against_its_input(q1: dict[str, Path], tmp_path: Path,
                                                                 template: str) -> None:
    """Figures already ahead of Q2 (KPI results above half their targets): the rolled workbook has no finding
    above info, alone or against its input, and differs from it only in the as-of date and the quarter."""
    src = q1[template] if template == "disbursement" else kpi_q1(tmp_path / "kpi_q1.xlsx", k1="60", k2="600")
    out = tmp_path / "q2.xlsx"
    rolled = roll_forward(src, out)
    assert (rolled.as_of, rolled.quarter, rolled.blanked) == (dt.date(2021, 3, 31), 2, [])
    wb = read_workbook(out)
    assert (wb.meta["as_of"], wb.meta["quarter"], wb.meta["fiscal_year"]) == (dt.date(2021, 3, 31), 2, 2564)
    before, after = read_workbook(src), wb
    for block_id, rb in before.blocks.items():  # structure, plans, cumulative actuals and notes carried
        assert after.blocks[block_id].rows == rb.rows
    assert rules(findings(out, previous=src)) == [] and rules(findings(out)) == []
    old, new = parts(src), parts(out)
    changed = {name for name in old if old[name] != new.get(name)}
    info_sheet = {name for name in changed if name.startswith("xl/worksheets/")}
    # The information sheet; the workbook part only if it had to be told to recalculate on opening.
    assert list(new) == list(old) and changed - {"xl/workbook.xml"} == info_sheet and len(info_sheet) == 1


def test_quarter_by_quarter_cycle(q1: dict[str, Path], tmp_path: Path) -> None:
    """Q1 -> Q2 -> Q3 on both templates: each roll carries the figures, validate --previous judges what was
    typed (a cumulative figure gone down, a line behind its own target, a KPI behind pro-rata)."""
    books = dict(q1)
    seen: dict[int, dict[str, list[str]]] = {}
    for quarter in (2, 3):
        for template, prev in list(books.items()):
            rolled = tmp_path / f"{template}_q{quarter}_rolled.xlsx"
            result = run("next-period", prev, "-o", rolled)
            assert result.returncode == 0, result.stderr
            assert f"→ {[None, None, '2021-03-31', '2021-06-30'][quarter]}" in result.stdout
            now = type_in(rolled, tmp_path / f"{template}_q{quarter}.xlsx", typed_cells(rolled, quarter))
            seen.setdefault(quarter, {})[template] = rules(findings(now, previous=prev), Severity.INFO)
            books[template] = now
    assert seen[2]["disbursement"] == ["variance.no_target"] * 4  # overall, recurrent Q2, investment, carry-over
    assert seen[2]["kpi"] == []
    # A's disbursed + committed 470 -> 460 and C's disbursed 170 -> 160 went down; A is behind 80 %; recurrent
    # Q3 is configured, the overall (T), investment (B) and carry-over (C) targets are not.
    assert seen[3]["disbursement"] == ["variance.decreased", "variance.decreased", "variance.disbursement_behind",
                                       "variance.no_target", "variance.no_target", "variance.no_target"]
    assert seen[3]["kpi"] == ["variance.kpi_behind"]  # K2 600 < 750 * 0.9 by Q3
    behind = next(f for f in findings(books["disbursement"]) if f.rule == "variance.disbursement_behind")
    assert behind.cell == address(read_workbook(books["disbursement"]).blocks["lines"], "pct_total", "A")
    assert "เบิกจ่ายจริง ร้อยละ 66.67 · เบิกจ่าย+ผูกพัน ร้อยละ 76.67" in behind.message_th
    result = run("next-period", books["disbursement"], "-o", tmp_path / "q4.xlsx")
    assert result.returncode == 0 and read_workbook(tmp_path / "q4.xlsx").meta["quarter"] == 4
    result = run("next-period", tmp_path / "q4.xlsx", "-o", tmp_path / "q5.xlsx")
    assert result.returncode == 2 and "fiscal year 2564 ends on 2021-09-30" in result.stderr
    assert not (tmp_path / "q5.xlsx").exists()


def test_kpi_carried_behind_until_typed(q1: dict[str, Path], tmp_path: Path) -> None:
    """Carried Q1 results are judged at Q2 as they stand: behind pro-rata until this quarter's are typed."""
    out = tmp_path / "kpi_q2.xlsx"
    roll_forward(q1["kpi"], out)
    assert rules(findings(out, previous=q1["kpi"])) == ["variance.kpi_behind", "variance.kpi_behind"]


@pytest.mark.parametrize(("args", "says"), [
    pytest.param(("missing.xlsx", "-o", "out.xlsx"), "file not found", id="missing-file"),
    pytest.param(("IN", "-o", "EXISTS"), "use --force to overwrite", id="output-exists"),
    pytest.param(("IN", "-o", "IN", "--force"), "must be a new file, not the input", id="output-is-input"),
    pytest.param(("IN", "-o", "out.xlsx", "--as-of", "31/02/2564"), "--as-of is not a date", id="unusable-date"),
    pytest.param(("IN", "-o", "out.xlsx", "--as-of", "2020-11-30"), "is not after the input's as-of date",
                 id="as-of-before-input"),
    pytest.param(("IN", "-o", "out.xlsx", "--as-of", "2020-12-31"), "is not after the input's as-of date",
                 id="as-of-same-as-input"),
    pytest.param(("IN", "-o", "out.xlsx", "--as-of", "30 ต.ค. 64"), "ends on 2021-09-30", id="as-of-next-year"),
    pytest.param(("IN", "-o", "out.xlsm"), "output must be .xlsx", id="other-kind-of-file"),
    pytest.param(("NOTBOOK", "-o", "out.xlsx"), "not an .xlsx file", id="not-a-workbook"),
    pytest.param(("NODATE", "-o", "out.xlsx"), "no usable as-of date", id="input-without-as-of"),
])
def test_bad_input_gives_one_line_and_exit_2(q1: dict[str, Path], tmp_path: Path, args: tuple[str, ...],
                                             says: str) -> None:
    (tmp_path / "EXISTS").write_bytes(b"keep me")
    (tmp_path / "NOTBOOK").write_text("not a workbook", encoding="utf-8")
    no_date = build(tmp_path / "nodate.xlsx", "kpi", {"strategies": [], "kpis": []}, {**META, "as_of": None})
    names = {"IN": q1["disbursement"], "EXISTS": tmp_path / "EXISTS", "NOTBOOK": tmp_path / "NOTBOOK",
             "NODATE": no_date}
    before = q1["disbursement"].read_bytes()
    result = subprocess.run([sys.executable, "-m", "osmep_xl", "next-period", *(str(names.get(a, a)) for a in args)],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and says in lines[0] and "Traceback" not in result.stderr
    assert " / " in lines[0]  # Thai, then English
    assert not (tmp_path / "out.xlsx").exists() and (tmp_path / "EXISTS").read_bytes() == b"keep me"
    assert q1["disbursement"].read_bytes() == before


def test_force_overwrites_an_output(q1: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "q2.xlsx"
    out.write_bytes(b"old")
    assert run("next-period", q1["disbursement"], "-o", out).returncode == 2
    result = run("next-period", q1["disbursement"], "-o", out, "--force", "--as-of", "28 ก.พ. 64")
    assert result.returncode == 0, result.stderr
    wb = read_workbook(out)
    assert (wb.meta["as_of"], wb.meta["quarter"]) == (dt.date(2021, 2, 28), 2)
    assert "check the report title at ข้อมูล!" in result.stdout and f"validate {out} --previous" in result.stdout


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_rolled_workbook(q1: dict[str, Path], tmp_path: Path) -> None:
    """LibreOffice, recomputing every formula of the rolled and typed workbook, agrees with validation: no
    figure differs, and the new as-of date reads back as a date."""
    rolled = tmp_path / "rolled.xlsx"
    roll_forward(q1["disbursement"], rolled)
    typed = type_in(rolled, tmp_path / "typed.xlsx", typed_cells(rolled, 2))
    assert strip_cached_values(typed, tmp_path / "stripped.xlsx") > 0
    recalculated = convert_one(tmp_path / "stripped.xlsx", tmp_path / "lo")
    wb = read_workbook(recalculated)
    assert wb.meta["as_of"] == dt.date(2021, 3, 31) and wb.meta["quarter"] == 2
    assert rules(findings(recalculated)) == []
    rb = wb.blocks["lines"]
    total = next(r for r in rb.rows if r["code"] == "T")
    assert (total["disbursed"], total["committed"], total["pct_total"]) == (Decimal(470), Decimal(270), Decimal(74))


# --- generic over the registry: a monthly template with an entry of its own month ------------------------------

MONTHLY = TemplateSpec(
    id="rf_monthly", version="1.0", title_th="ทดสอบรายเดือน", title_en="Monthly test", period="month",
    blocks=(Block(id="spending", sheet="ใช้จ่ายรายเดือน", title_th="ใช้จ่าย", title_en="Spending", columns=(
        CODE, NAME,
        Column("this_month", "ใช้จ่ายเดือนนี้", "Spent this month", ColType.MONEY, period_entry=True),
        Column("to_date", "ใช้จ่ายสะสม", "Spent to date", ColType.MONEY, cumulative=True),
        NOTE)),),
    meta=COMMON_META)


@pytest.fixture
def monthly() -> Iterator[TemplateSpec]:
    register(MONTHLY)
    yield MONTHLY
    unregister(MONTHLY.id)


def test_a_monthly_template_rolls_a_month_and_blanks_its_period_entries(monthly: TemplateSpec,
                                                                       tmp_path: Path) -> None:
    rows = [{"code": "1", "name": "งาน 1", "this_month": "10", "to_date": "40", "note": "ต่อเนื่อง"},
            {"code": "2", "name": "งาน 2", "to_date": "5"}]
    src = build(tmp_path / "jan.xlsx", monthly.id, {"spending": rows}, {**META, "quarter": 2, "as_of": "2021-01-31"})
    rolled = roll_forward(src, tmp_path / "feb.xlsx")
    wb = read_workbook(tmp_path / "feb.xlsx")
    rb = wb.blocks["spending"]
    assert rolled.as_of == wb.meta["as_of"] == dt.date(2021, 2, 28)
    assert rolled.blanked == [f"{rb.sheet}!{address(rb, 'this_month', '1')}"]
    assert [(r["this_month"], r["to_date"], r["note"]) for r in rb.rows] == [
        (None, Decimal(40), "ต่อเนื่อง"), (None, Decimal(5), None)]
    assert rules(findings(tmp_path / "feb.xlsx", previous=src)) == []


def test_a_period_entry_is_neither_cumulative_nor_derived() -> None:
    with pytest.raises(ValueError, match="period entry"):
        Column("x", "x", "x", ColType.MONEY, period_entry=True, cumulative=True)


def test_meta_cell_of_the_rolled_date_is_the_generators(q1: dict[str, Path], tmp_path: Path) -> None:
    """The new date goes where the information sheet keeps it (a date cell, its format kept)."""
    out = tmp_path / "q2.xlsx"
    roll_forward(q1["disbursement"], out)
    import openpyxl

    ws = openpyxl.load_workbook(out)["ข้อมูล"]
    cell = ws[meta_cell("as_of")]
    assert cell.is_date and cell.value.date() == dt.date(2021, 3, 31)
    assert ACT  # the generated data's budget source (imported for the reader of this module)


def test_the_dashboards_target_is_the_new_quarters(tmp_path: Path) -> None:
    """The target typed beside each chart follows the roll: the Budget Act chart's overall target goes from
    Q1's to Q2's, and says so where the settings give none for the new quarter."""
    from osmep_xl.model.workbook import WorkbookData
    from osmep_xl.rules.variance import target_lookup
    from osmep_xl.xlsx.dashboard import DASHBOARD_SHEET
    from osmep_xl.xlsx.generate import write_workbook

    toml = tmp_path / "osmep.toml"
    toml.write_text('[[disbursement.targets]]\nfiscal_year = 2564\nkind = "overall"\nquarters = ["32", "54", "", ""]\n'
                    f'source = "ตัวอย่าง"\nbudget_sources = ["{ACT}"]\n', encoding="utf-8")
    cfg = load_settings(toml)
    src = disbursement_q1(tmp_path / "plain.xlsx")
    book = read_workbook(src)
    data = WorkbookData.parse({"template": "disbursement", "meta": {**book.meta, "as_of": "2020-12-31"},
                               "blocks": {"lines": [dict(r) for r in book.blocks["lines"].raw]}})
    q1 = write_workbook(data, tmp_path / "q1.xlsx", target=target_lookup(cfg))

    def targets(path: Path) -> list[tuple[str, object]]:
        import openpyxl

        ws = openpyxl.load_workbook(path)[DASHBOARD_SHEET]
        return [(str(c.value), ws.cell(c.row + 1, c.column).value) for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith(("เป้าหมาย", "ไม่มีเป้าหมาย"))]

    assert [(label.split(" (")[0], value) for label, value in targets(q1)] == [("เป้าหมายภาพรวม ไตรมาส 1", 32)]
    rolled = roll_forward(q1, tmp_path / "q2.xlsx", settings=cfg)
    assert len(rolled.retargeted) == 1
    assert [(label.split(" (")[0], value) for label, value in targets(tmp_path / "q2.xlsx")] == [
        ("เป้าหมายภาพรวม ไตรมาส 2", 54)]
    roll_forward(tmp_path / "q2.xlsx", tmp_path / "q3.xlsx", settings=cfg)
    assert [(label.split(" / ")[0], value) for label, value in targets(tmp_path / "q3.xlsx")] == [
        ("ไม่มีเป้าหมายในค่าตั้งสำหรับไตรมาสนี้", None)]


# --- the spending plan: cumulative figures that follow the as-of date -------------------------------------------

def _spending_plan(path: Path) -> Path:
    """A spending plan at 31 Dec 2020 (fiscal month 3): a plan of 100 a month, 100 spent in each month so far."""
    months = ("oct", "nov", "dec", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep")
    rows: list[dict[str, object]] = [{"level": "total", "code": "T", "name": "รวม"}]
    for code in ("1", "2"):
        row: dict[str, object] = {"level": "project", "code": code, "parent": "T", "name": f"โครงการ {code}",
                                  "budget_act": "1200"}
        row.update({f"plan_{m}": "100" for m in months})
        row.update({f"actual_{m}": "100" for m in months[:3]})
        rows.append(row)
    for row in rows:
        row.update(fiscal_year=2564, budget_source="เงินกองทุน")
    return build(path, "spending_plan", {"projects": rows}, {**META, "quarter": 1, "as_of": "2020-12-31"})


def test_the_spending_plans_cumulative_figures_follow_the_new_date(tmp_path: Path) -> None:
    """Rolled a month, the cumulative plan sums four months: the rolled file holds what Excel will show, so its
    only findings are the month not yet typed (behind plan), never a stale formula."""
    src = _spending_plan(tmp_path / "dec.xlsx")
    rolled = roll_forward(src, tmp_path / "jan.xlsx")
    assert rolled.as_of == dt.date(2021, 1, 31) and rolled.refreshed
    rb = read_workbook(tmp_path / "jan.xlsx").blocks["projects"]
    assert [(r["code"], r["plan_cum"], r["actual_cum"]) for r in rb.rows] == [
        ("T", Decimal(800), Decimal(600)), ("1", Decimal(400), Decimal(300)), ("2", Decimal(400), Decimal(300))]
    assert rules(findings(tmp_path / "jan.xlsx", previous=src)) == ["plan.behind", "plan.behind"]


@pytest.mark.libreoffice
def test_libreoffice_agrees_with_the_rolled_spending_plan(tmp_path: Path) -> None:
    roll_forward(_spending_plan(tmp_path / "dec.xlsx"), tmp_path / "jan.xlsx")
    assert strip_cached_values(tmp_path / "jan.xlsx", tmp_path / "stripped.xlsx") > 0
    recalculated = convert_one(tmp_path / "stripped.xlsx", tmp_path / "lo")
    ours, theirs = (read_workbook(p).blocks["projects"].rows for p in (tmp_path / "jan.xlsx", recalculated))
    columns = ("plan_cum", "actual_cum", "total", "remaining", "pct_disbursed", "pct_total")
    assert [[r[c] for c in columns] for r in theirs] == [[r[c] for c in columns] for r in ours]
