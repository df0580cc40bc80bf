"""The report pack: the .docx read back (tables equal the data, sentences equal their tables), refusal on
errors, the draft watermark, an office template, the PDF pages from LibreOffice, the dashboard's charts."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from osmep_xl.cli import main
from osmep_xl.data import load_report
from osmep_xl.money import percent
from osmep_xl.pack import charts as charts_module
from osmep_xl.pack.build import ReportRefusedError, build_report
from osmep_xl.pack.figures import Period, parse_shown
from osmep_xl.pack.office import OfficeError, to_pdf
from osmep_xl.pack.word import TemplateError
from osmep_xl.rules.config import load_settings
from osmep_xl.spec.disbursement import SPEC as DISBURSEMENT
from osmep_xl.xlsx.dashboard import CHART_LEVELS, DASHBOARD_SHEET
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.layout import HEADER_TH_ROW
from tests.cells import Table
from tests.libreoffice import soffice

DATA = Path(__file__).resolve().parent.parent / "osmep_xl" / "data" / "fy2564_q3"
ORDER = ("action_plan", "kpi", "integrated_plan", "disbursement")
WATERMARK = "DRAFT – 9 errors"
FIGURE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+")  # figures as printed, not dates or years


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("books")
    return {t: write_workbook(load_report(t), out / f"{t}.xlsx") for t in ORDER}


@pytest.fixture(scope="module")
def draft(books: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.docx"
    result = build_report([books[t] for t in ORDER], out, load_settings(), draft=True)
    assert result.errors == 9 and len(result.charts) == 4
    return out


def body_items(path: Path) -> list[Paragraph | DocxTable]:
    doc = Document(str(path))
    items: list[Paragraph | DocxTable] = []
    for el in doc.element.body:
        if el.tag == qn("w:p"):
            items.append(Paragraph(el, doc))
        elif el.tag == qn("w:tbl"):
            items.append(DocxTable(el, doc))
    return items


def tables_with_sentence(path: Path) -> list[tuple[str, str, list[list[str]]]]:
    """(title, sentence, cell texts) of every table: the two paragraphs written before it."""
    items = body_items(path)
    out = []
    texts = [i.text for i in items if isinstance(i, Paragraph) and i.text.strip()]
    seen = 0
    for item in items:
        if isinstance(item, Paragraph) and item.text.strip():
            seen += 1
        if isinstance(item, DocxTable):
            rows = [[c.text for c in row.cells] for row in item.rows]
            out.append((texts[seen - 2], texts[seen - 1], rows))
    return out


def json_rows(template: str, block: str) -> list[dict[str, Any]]:
    return list(json.loads((DATA / f"{template}.json").read_text("utf-8"))["blocks"][block])


def num(text: str) -> Decimal | None:
    return parse_shown(text)


# --- the tables and sentences ---------------------------------------------------------------------------------

def test_disbursement_tables_equal_the_data(draft: Path) -> None:
    tables = [t for t in tables_with_sentence(draft) if t[0].startswith("ผลการเบิกจ่ายงบประมาณ")]
    rows = [r for _, _, cells in tables for r in cells[1:]]
    data = json_rows("disbursement", "lines")
    assert [r[0] for r in rows] == [d["name"] for d in data]
    header = tables[0][2][0]
    columns = {"งบประมาณ": "allocated", "เบิกจ่าย": "disbursed", "ผูกพัน": "committed", "เบิกจ่ายรวมผูกพัน": "total",
               "คงเหลือ": "remaining", "ร้อยละเบิกจ่าย": "pct_disbursed", "ร้อยละเบิกจ่ายรวมผูกพัน": "pct_total"}
    checked = 0
    for cells, d in zip(rows, data, strict=True):
        got = {columns[h]: num(c) for h, c in zip(header, cells, strict=True) if h in columns}
        for col, value in got.items():
            if d.get(col) is not None:  # a figure as printed in the report: as stated
                assert value == Decimal(d[col]), (d["name"], col)
                checked += 1
        # a figure the report did not print: what its formula gives from the figures beside it
        if d.get("total") is None and got["disbursed"] is not None:
            assert got["total"] == got["disbursed"] + (got["committed"] or 0)
        if d.get("pct_total") is None and got["allocated"] and got["total"] is not None:
            assert got["pct_total"] == percent(got["total"], got["allocated"])
    assert checked > 100


def test_sentences_state_their_tables_figures(draft: Path) -> None:
    found = 0
    for title, sentence, cells in tables_with_sentence(draft):
        if "ร้อยละเบิกจ่าย" not in cells[0]:
            continue
        top = dict(zip(cells[0], cells[1], strict=True))
        stated = [num(f) for f in FIGURE.findall(sentence)]
        expected = [num(top[h]) for h in ("เบิกจ่าย", "ร้อยละเบิกจ่าย", "เบิกจ่ายรวมผูกพัน",
                                          "ร้อยละเบิกจ่ายรวมผูกพัน", "งบประมาณ")]
        assert stated == expected, title
        found += 1
    assert found == 5  # four disbursement tables and the integrated plan's spending
    sentences = [s for _, s, _ in tables_with_sentence(draft)]
    assert any("เบิกจ่ายรวมผูกพันสะสม จำนวน 1,073,229,047.44 บาท คิดเป็นร้อยละ 93.89 ของงบประมาณ "
               "1,143,094,400.00 บาท" in s for s in sentences)


def test_kpi_table_and_its_sentence(draft: Path) -> None:
    (title, sentence, cells), = [t for t in tables_with_sentence(draft) if t[0].startswith("ตัวชี้วัด")]
    data = json_rows("kpi", "kpis")
    assert [r[1] for r in cells[1:]] == [d["name"] for d in data]
    assert [r[2] for r in cells[1:]] == [d["target_text"] for d in data]
    statuses = [r[-1] for r in cells[1:]]
    for status, d in zip(statuses, data, strict=True):
        if d.get("result") is None:
            assert status == "รอผล"
        else:
            assert status == ("บรรลุ" if Decimal(d["result"]) >= Decimal(d["target"]) else "ยังไม่บรรลุ")
    counts = [int(n) for n in re.findall(r"(\d+) ตัว(?!ชี้)", sentence)]
    assert counts == [len(data), statuses.count("บรรลุ"), statuses.count("ยังไม่บรรลุ"), statuses.count("รอผล")]
    assert "30 มิ.ย. 64" in title


def test_action_plan_and_integrated_plan_tables(draft: Path) -> None:
    tables = tables_with_sentence(draft)
    plan = [r for t, _, cells in tables if t.startswith("งบประมาณตามแผนปฏิบัติการ") for r in cells[1:]]
    data = json_rows("action_plan", "plan")
    assert [r[1] for r in plan] == [d["name"] for d in data]
    for cells, d in zip(plan, data, strict=True):
        if d.get("budget") is not None:
            assert num(cells[2]) == Decimal(d["budget"])
    first = next(s for t, s, _ in tables if t.startswith("งบประมาณตามแผนปฏิบัติการ"))
    assert "1,143,094,400.00 บาท" in first and "41 งาน/โครงการ" in first
    (_, sentence, cells), = [t for t in tables if t[0].startswith("แผนงานบูรณาการ: เป้าหมาย")]
    top = dict(zip(cells[0], cells[1], strict=True))
    assert [num(f) for f in FIGURE.findall(sentence)] == [num(top["ผล (ราย)"]), num(top["ร้อยละ"]),
                                                            num(top["เป้าหมาย (ราย)"])]


def test_no_table_wider_than_its_page(draft: Path) -> None:
    doc = Document(str(draft))
    body = list(doc.element.body)
    sections = iter(doc.sections)
    section = next(sections)
    tables = 0
    for el in body:  # a paragraph holding a sectPr ends its section
        if el.tag == qn("w:tbl"):
            width = sum(int(c.get(qn("w:w"))) for c in el.find(qn("w:tblGrid")).findall(qn("w:gridCol")))
            usable = (section.page_width - section.left_margin - section.right_margin) // 635  # EMU to twips
            assert width <= usable + 5
            tables += 1
        elif el.tag == qn("w:p") and el.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None:
            section = next(sections)
    assert tables >= 10


def test_draft_watermark_in_every_section_and_findings_annex(draft: Path) -> None:
    doc = Document(str(draft))
    assert len(doc.sections) > 2
    for section in doc.sections:
        assert WATERMARK in section.header.paragraphs[0].text
        assert "ร่าง – ยังมีข้อผิดพลาด 9 รายการ" in section.header.paragraphs[0].text
    texts = [p.text for p in doc.paragraphs]
    assert any(t.startswith("ภาคผนวก: ข้อผิดพลาด") for t in texts)
    annex = doc.tables[-1]
    cells = [c.text for row in annex.rows for c in row.cells]
    lines = Table("disbursement", "lines", json_rows("disbursement", "lines"))
    assert f"{lines.sheet}!{lines.at('pct_committed', 'T', fiscal_year=2563, budget_source='พ.ร.บ.งบประมาณ')}" in cells
    assert "rollup.sum" in cells


def test_a_workbook_with_errors_is_refused(books: dict[str, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.docx"
    with pytest.raises(ReportRefusedError, match="9 errors"):
        build_report([books[t] for t in ORDER], out, load_settings())
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(books["disbursement"]), "-o", str(out)])
    assert exit_.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "4 errors" in err[0] and "--draft" in err[0]
    assert not out.exists()


def test_a_clean_workbook_gives_a_final_report(books: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "kpi.docx"
    result = build_report([books["kpi"]], out, load_settings(), thai_digits=True,
                          as_of=dt.date(2021, 6, 30))
    assert result.errors == 0
    doc = Document(str(out))
    assert all(not s.header.paragraphs[0].text.strip() for s in doc.sections)  # no watermark
    table = doc.tables[0]
    assert table.rows[3].cells[3].text == "๑๓๙,๘๒๕ ราย"  # Thai digits, parsed back to the data
    assert num(table.rows[3].cells[4].text) == percent(Decimal(139825), Decimal(190000))


def test_period_labels() -> None:
    q3 = Period(dt.date(2021, 6, 30))
    assert (q3.short, q3.months, q3.quarter, q3.fiscal_year) == ("30 มิ.ย. 64", "เมษายน – มิถุนายน 2564", 3, 2564)
    q1 = Period(dt.date(2020, 12, 31))
    assert (q1.months, q1.quarter, q1.fiscal_year) == ("ตุลาคม – ธันวาคม 2563", 1, 2564)


def test_office_template_markers(books: dict[str, Path], tmp_path: Path) -> None:
    template = tmp_path / "office.docx"
    doc = Document()
    doc.add_paragraph("รายงานของกอง: {{title}}")
    doc.add_paragraph("{{kpi_table}}")
    doc.add_paragraph("ท้ายรายงาน ณ {{as_of}}")
    doc.save(str(template))
    out = tmp_path / "r.docx"
    build_report([books["kpi"]], out, load_settings(), template=template)
    items = body_items(out)
    texts = [i.text for i in items if isinstance(i, Paragraph)]
    assert texts[0].startswith("รายงานของกอง: รายงานผลการดำเนินงาน") and "ไตรมาสที่ 3" in texts[0]
    assert texts[-1] == "ท้ายรายงาน ณ 30 มิถุนายน 2564"
    kinds = [type(i).__name__ for i in items]
    assert kinds.index("Table") < max(n for n, i in enumerate(items) if isinstance(i, Paragraph)
                                      and i.text.startswith("ท้ายรายงาน"))  # the table sits at its marker
    assert not any("{{" in t for t in texts)
    doc.add_paragraph("{{budget_table}}")
    doc.save(str(template))
    with pytest.raises(TemplateError, match="budget_table"):
        build_report([books["kpi"]], tmp_path / "bad.docx", load_settings(), template=template)


def test_charts_fail_soft_without_a_thai_font(books: dict[str, Path], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts_module, "THAI_FONTS", ("No Such Thai Font",))
    result = build_report([books["kpi"]], tmp_path / "r.docx", load_settings())
    assert result.charts == [] and "fonts-thai-tlwg" in result.notes[0]


def test_missing_libreoffice_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSMEP_SOFFICE", str(tmp_path / "no-soffice"))
    with pytest.raises(OfficeError, match="LibreOffice") as exc:
        to_pdf(tmp_path / "x.docx", tmp_path / "x.pdf")
    assert "\n" not in str(exc.value)


# --- the PDF, as LibreOffice prints it ----------------------------------------------------------------------

def pdf_pages(pdf: Path) -> list[str]:
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout).group(1))  # type: ignore[union-attr]
    return [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout for n in range(1, pages + 1)]


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils not installed")
def test_pdf_pages_fonts_width_and_watermark(draft: Path, tmp_path: Path) -> None:
    assert soffice() is not None
    pdf = to_pdf(draft, tmp_path / "report.pdf")
    pages = pdf_pages(pdf)
    assert 15 <= len(pages) <= 60
    assert all(WATERMARK in page for page in pages)  # on every page, portrait and landscape
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Laksaman|Sarabun", fonts)
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', bbox, re.S):
        width, height = float(page[1]), float(page[2])
        assert {round(width), round(height)} == {595, 842}  # A4, either way round
        right = max((float(x) for x in re.findall(r'xMax="([\d.]+)"', page[3])), default=0)
        assert right <= width - 28  # nothing printed into the last centimetre: no table runs off the page
    joined = "\n".join(pages)
    assert "93.89" in joined and "1,073,229,047.44" in joined


# --- the dashboard ------------------------------------------------------------------------------------------

def chart_refs(path: Path) -> list[list[str]]:
    with zipfile.ZipFile(path) as zf:
        names = sorted(n for n in zf.namelist() if n.startswith("xl/charts/chart"))
        return [re.findall(r"<c:f>([^<]*)</c:f>", zf.read(n).decode()) for n in names]


def resolve(wb: openpyxl.Workbook, ref: str) -> list[Any]:
    """The values of an Excel reference, a union ``(a,b)`` included, in order."""
    out: list[Any] = []
    for part in ref.strip("()").split(","):
        sheet, cells = part.rsplit("!", 1)
        ws = wb[sheet.strip("'")]
        block = ws[cells.replace("$", "")]
        rows = block if isinstance(block, tuple) else ((block,),)
        out += [c.value for row in (rows if isinstance(rows[0], tuple) else (rows,)) for c in row]
    return out


def test_dashboard_charts_reference_the_tables(books: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(books["disbursement"])
    assert wb.sheetnames[-1] == DASHBOARD_SHEET
    refs = chart_refs(books["disbursement"])
    data = json_rows("disbursement", "lines")
    groups: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for d in data:
        groups.setdefault((d["fiscal_year"], d["budget_source"]), []).append(d)
    assert len(refs) == len(groups)
    block = DISBURSEMENT.blocks[0]
    for (cats, disbursed, cats2, total), rows in zip(refs, groups.values(), strict=True):
        charted = [d for d in rows if d["level"] in CHART_LEVELS]
        assert cats == cats2 and resolve(wb, cats) == [d["name"] for d in charted]
        for ref, column in ((disbursed, "pct_disbursed"), (total, "pct_total")):
            sheet, first = ref.strip("=(").split(",")[0].rsplit("!", 1)
            letter = re.match(r"\$([A-Z]+)", first).group(1)  # type: ignore[union-attr]
            assert wb[sheet.strip("'")][f"{letter}{HEADER_TH_ROW + 1}"].value == block.column(column).th
            for value, d in zip(resolve(wb, ref), charted, strict=True):
                if d.get(column) is not None:
                    assert Decimal(str(value)) == Decimal(d[column])
    kpi = openpyxl.load_workbook(books["kpi"])
    _, status = chart_refs(books["kpi"])[0]
    assert kpi[DASHBOARD_SHEET]["B5"].value.startswith("=COUNTIF('ตัวชี้วัด'!$")
    assert status == f"'{DASHBOARD_SHEET}'!$B$5:$B$7"


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_libreoffice_renders_the_dashboard(books: dict[str, Path], tmp_path: Path) -> None:
    from tests.libreoffice import convert_one

    pdf = convert_one(books["disbursement"], tmp_path, "pdf", recalc=False)
    pages = pdf_pages(pdf)
    dash = [p for p in pages if "Dashboard" in p]
    assert dash
    text = "\n".join(pages[pages.index(dash[0]):])
    assert "ร้อยละการเบิกจ่าย" in text and "93.89" in text  # a chart title and a data label


# --- the Build report button (xlwings' remote engine stands in for Excel) -----------------------------------

def test_build_report_button_writes_a_draft_beside_the_workbook(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from osmep_xl.excel import report_button as report_module
    from osmep_xl.excel.buttons import BUTTONS, report_button
    from osmep_xl.excel.front import ACTIONS
    from osmep_xl.excel.workbook import build_workbook
    from tests.test_excel_buttons import press

    assert BUTTONS[next(a for a in ACTIONS if a.id == "report").function] is report_button
    work = build_workbook(tmp_path / "osmep_xl.xlsm")
    monkeypatch.chdir(tmp_path)  # the remote engine's book has no folder: the report goes to the working one
    monkeypatch.setattr(report_module, "find_soffice", lambda: None)  # the PDF is tested above
    _, status = press(report_button, work, monkeypatch)
    out = tmp_path / "osmep_xl_report_DRAFT.docx"
    assert out.exists() and "DRAFT report with 9 errors" in status
    doc = Document(str(out))
    assert all(WATERMARK in s.header.paragraphs[0].text for s in doc.sections)
    sentences = [p.text for p in doc.paragraphs]
    assert any("1,073,229,047.44 บาท คิดเป็นร้อยละ 93.89" in s for s in sentences)


def test_cli_period_and_usage_lines(books: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.docx"
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(books["kpi"]), "-o", str(out), "--period", "31 มี.ค. 64", "--no-charts"])
    assert exit_.value.code == 0 and out.exists()
    assert "ไตรมาสที่ 2 (มกราคม – มีนาคม 2564)" in Document(str(out)).paragraphs[0].text
    for args, code, words in ((["--period", "ไม่ใช่วันที่", "--force"], 2, "--period"), ([], 2, "--force")):
        with pytest.raises(SystemExit) as exit_:
            main(["report", str(books["kpi"]), "-o", str(out), *args])
        err = capsys.readouterr().err.strip().splitlines()
        assert exit_.value.code == code and len(err) == 1 and words in err[0]


@pytest.mark.libreoffice
def test_libreoffice_recounts_the_kpi_status(books: dict[str, Path], tmp_path: Path) -> None:
    from tests.libreoffice import convert_one, strip_cached_values

    bare = tmp_path / "kpi.xlsx"
    assert strip_cached_values(books["kpi"], bare) > 3
    recalculated = convert_one(bare, tmp_path / "lo")  # LibreOffice computes every formula itself
    ws = openpyxl.load_workbook(recalculated, data_only=True)[DASHBOARD_SHEET]
    statuses = ["รอผล" if d.get("result") is None else
                "บรรลุ" if Decimal(d["result"]) >= Decimal(d["target"]) else "ยังไม่บรรลุ"
                for d in json_rows("kpi", "kpis")]
    assert [(ws[f"A{r}"].value, ws[f"B{r}"].value) for r in (5, 6, 7)] == [
        (s, statuses.count(s)) for s in ("บรรลุ", "ยังไม่บรรลุ", "รอผล")]


def test_dashboard_shows_the_governments_target(tmp_path: Path) -> None:
    """Each spending chart gets the target its top line is judged against (FY2564 Budget Act and fund, a
    subsidy: the recurrent Q3 80 %) as a series of its own, labelled with its kind and the judged basis beside
    the bars of both bases; none for a budget no target applies to (the fund, the central budget) or whose
    kind has none configured (the FY2563 carry-over)."""
    from osmep_xl.rules.variance import target_lookup

    settings = load_settings()
    path = write_workbook(load_report("disbursement"), tmp_path / "d.xlsx", target=target_lookup(settings))
    wb = openpyxl.load_workbook(path, data_only=True)
    years = list(dict.fromkeys(d["fiscal_year"] for d in json_rows("disbursement", "lines")))
    refs = chart_refs(path)
    assert len(refs) >= len(years)
    seen = 0
    for (cats, *series), fiscal_year in zip(refs, [d["fiscal_year"] for d in _groups_in_order()], strict=True):
        wanted = Decimal(80) if fiscal_year == 2564 else None
        if wanted is None:
            assert len(series) == 3  # disbursed, the categories again, total: no target series
            continue
        seen += 1
        target = [Decimal(str(v)) for v in resolve(wb, series[-1])]
        assert target == [wanted] * len(resolve(wb, cats))
    assert seen == 1
    label = next(str(c.value) for ws in [wb["แดชบอร์ด"]] for row in ws.iter_rows() for c in row
                 if str(c.value).startswith("เป้าหมาย"))
    assert label == ("เป้าหมายรายจ่ายประจำ ไตรมาส 3 (วัดด้วยเบิกจ่าย+ผูกพัน) / recurrent Q3 target"
                     " (judged on disbursed + committed)")


def _groups_in_order() -> list[dict[str, Any]]:
    groups: dict[tuple[Any, Any], dict[str, Any]] = {}
    for d in json_rows("disbursement", "lines"):
        groups.setdefault((d["fiscal_year"], d["budget_source"]), d)
    return list(groups.values())
