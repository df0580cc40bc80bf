"""Lay the report's content out in Word (python-docx): TH Sarabun New 16 pt, A4 portrait with landscape
sections for wide tables, a draft watermark in every section's header, or an office's own template."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from ..findings import Finding, Severity, sort_findings
from ..spec.base import STATUS_ACHIEVED, STATUS_NOT_YET
from .charts import Chart
from .figures import SECTION_TITLES, NumberStyle, ReportContent, Table

FONT = "TH Sarabun New"
BODY_PT = 16
TABLE_PT = 14
PAGE_W, PAGE_H = Cm(21.0), Cm(29.7)
MARGIN = Cm(2.0)
LANDSCAPE_MARGIN = Cm(1.5)  # wide tables get a little more room
HEADER_FILL = "DDEBF7"
LINE_EM = 1.25  # table line height, in ems
STATUS_FILL = {STATUS_ACHIEVED: "E2EFDA", STATUS_NOT_YET: "FCE4D6"}  # KPI status at a glance: green, orange
MARKER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
# Markers an office template may use: a paragraph holding only a block marker becomes that block;
# text markers are replaced inside any paragraph.
BLOCK_MARKERS = ("action_plan_table", "kpi_table", "integrated_plan_table", "disbursement_tables", "charts",
                 "findings", "report")
TEXT_MARKERS = ("title", "agency", "as_of", "as_of_short", "period", "fiscal_year", "quarter", "draft")


class TemplateError(ValueError):
    """An office template that cannot be used (unknown marker, not a .docx)."""


def _font(run_or_style: Any, size: float | None = None, *, bold: bool | None = None,
          color: RGBColor | None = None) -> None:
    """TH Sarabun New for Latin and complex-script (Thai) text alike, at ``size`` points."""
    font = run_or_style.font
    font.name = FONT
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if color is not None:
        font.color.rgb = color
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):  # a theme font would win in Word
        fonts.attrib.pop(qn(attr), None)
    if size is not None:  # complex-script (Thai) size, right after w:sz as the schema orders it
        szcs = rpr.find(qn("w:szCs"))
        if szcs is None:
            szcs = OxmlElement("w:szCs")
            rpr.find(qn("w:sz")).addnext(szcs)
        szcs.set(qn("w:val"), str(int(size * 2)))
    if bold:
        rpr.get_or_add_bCs()


def _styles(doc: Any) -> None:
    _font(doc.styles["Normal"], BODY_PT)
    doc.styles["Normal"].paragraph_format.space_after = Pt(4)
    for name, size in (("Title", 22), ("Heading 1", 20), ("Heading 2", 17), ("Caption", 14)):
        style = doc.styles[name]
        _font(style, size, bold=True, color=RGBColor(0x1F, 0x4E, 0x79))
        style.paragraph_format.space_before = Pt(6)
        style.paragraph_format.space_after = Pt(3)


def _page(section: Any, landscape: bool) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (PAGE_H, PAGE_W) if landscape else (PAGE_W, PAGE_H)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, LANDSCAPE_MARGIN if landscape else MARGIN)


@cache
def _measure_font(bold: bool) -> Any:
    """A PIL font with TH Sarabun New's metrics (or its stand-in) to measure printed figures; None if none."""
    try:
        from matplotlib import font_manager
        from PIL import ImageFont

        path = font_manager.findfont(font_manager.FontProperties(
            family=["TH Sarabun New", "Laksaman"], weight="bold" if bold else "normal"), fallback_to_default=False)
        return ImageFont.truetype(path, 1000)
    except (ImportError, OSError, ValueError):
        return None


def text_width_cm(text: str, pt: float, bold: bool = False) -> float:
    """Printed width of ``text`` at ``pt`` points (an estimate when no font can be measured)."""
    font = _measure_font(bold)
    em = font.getlength(text) / 1000 if font is not None else 0.55 * len(text)
    return em * pt / 72 * 2.54


CELL_PAD_CM = 0.45  # left and right cell margins and the border


def _figure_column(table: Table, n: int) -> bool:
    """A column printed as figures (right-aligned, sized to its widest figure): numeric kind, no text values."""
    return table.kinds[n] != "text" and not any(isinstance(row[n], str) for row in table.rows)


def fit_widths(table: Table, usable: float, style: NumberStyle) -> tuple[list[float], float]:
    """Column widths (cm) and font size: each figure column as wide as its widest printed figure, text
    columns sharing the rest by their weights; the font shrinks (down to 10 pt) until the text columns keep
    at least a fifth of the width, so that no table is wider than the page."""
    figures = [n for n in range(len(table.headers)) if _figure_column(table, n)]
    text_cols = [n for n in range(len(table.headers)) if n not in figures]
    weights = sum(table.widths[n] for n in text_cols) or 1.0
    for pt in (TABLE_PT, 13, 12, 11, 10):
        need = [0.0] * len(table.headers)
        for n in figures:
            widest = max((text_width_cm(style.format(row[n], table.kinds[n]), pt, bold=bold)
                          for row, bold in zip(table.rows, table.bold or [True] * len(table.rows), strict=True)),
                         default=1.0)
            need[n] = max(widest + CELL_PAD_CM, 1.9 if table.kinds[n] == "percent" else 1.6)
        rest = usable - sum(need)
        if (rest >= 0.2 * usable if text_cols else rest >= 0) or pt == 10:
            for n in text_cols:
                need[n] = max(rest, 0) * table.widths[n] / weights
            if not text_cols and rest > 0:
                need = [w + rest / len(need) for w in need]
            return need, pt
    raise AssertionError("unreachable")


def table_height_cm(table: Table, widths: list[float], pt: float, style: NumberStyle) -> float:
    """Estimated printed height: each row as many lines as its most wrapped cell needs, with a margin for
    where the word breaks of Thai text fall (measured against LibreOffice's pages)."""
    line = pt * LINE_EM * 1.3 / 72 * 2.54

    def lines(text: str, width: float) -> int:
        room = max(width - CELL_PAD_CM, 0.5)
        return max(1, -int(-text_width_cm(text, pt) // room))  # ceil

    rows = [table.headers, *([style.format(v, k) for v, k in zip(row, table.kinds, strict=True)]
                             for row in table.rows)]
    return sum(max(lines(t, w) for t, w in zip(row, widths, strict=True)) * line + 0.05 for row in rows)


def usable_width_cm(section: Any) -> float:
    return float((section.page_width - section.left_margin - section.right_margin) / 360000)


def _shade(cell: Any, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _cell_text(cell: Any, text: str, *, bold: bool = False, align: Any = None, indent: int = 0,
               pt: float = TABLE_PT) -> None:
    para = cell.paragraphs[0]
    para.paragraph_format.space_after = Pt(0)
    # Thai fonts carry tall ascenders for stacked marks; an exact line of 1.25 em keeps them and halves
    # the height of wrapped rows compared with the font's own line gap.
    para.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    para.paragraph_format.line_spacing = Pt(pt * LINE_EM)
    if align is not None:
        para.alignment = align
    if indent:
        para.paragraph_format.left_indent = Cm(0.3 * indent)
    _font(para.add_run(text), pt, bold=bold)


class ReportWriter:
    """Writes a :class:`ReportContent` into a python-docx document, section by section."""

    def __init__(self, content: ReportContent, style: NumberStyle, charts: list[Chart],
                 findings: list[Finding], draft_errors: int | None, template: Path | None = None) -> None:
        self.content = content
        self.style = style
        self.charts = charts
        self.findings = findings
        self.draft_errors = draft_errors
        self.template = template
        self.doc: Any = Document(str(template)) if template else Document()
        self.landscape_ok = template is None  # an office template keeps its own page layout
        self.fresh_page = True  # nothing but headings on the current page yet

    # -- text ---------------------------------------------------------------------------------------------
    @property
    def watermark(self) -> str:
        n = self.style.digits(str(self.draft_errors))
        return f"ร่าง – ยังมีข้อผิดพลาด {n} รายการ / DRAFT – {self.draft_errors} errors"

    def texts(self) -> dict[str, str]:
        p = self.content.period
        return {"title": p.heading(self.content.agency), "agency": self.content.agency,
                "as_of": self.style.digits(p.full), "as_of_short": self.style.digits(p.short),
                "period": self.style.digits(p.months), "fiscal_year": self.style.digits(str(p.fiscal_year)),
                "quarter": self.style.digits(str(p.quarter)),
                "draft": self.watermark if self.draft_errors is not None else ""}

    def para(self, text: str, style: str | None = None, *, size: float | None = None, bold: bool = False,
             align: Any = None) -> Any:
        para = self.doc.add_paragraph(style=style)
        if align is not None:
            para.alignment = align
        _font(para.add_run(text), size, bold=bold or None)
        return para

    # -- sections -------------------------------------------------------------------------------------------
    def _orientation(self, landscape: bool) -> None:
        if not self.landscape_ok:
            return
        current = self.doc.sections[-1]
        if (current.orientation == WD_ORIENT.LANDSCAPE) == landscape:
            return
        _page(self.doc.add_section(WD_SECTION.NEW_PAGE), landscape)
        self.fresh_page = True

    def table(self, table: Table) -> None:
        self._orientation(table.landscape)
        if table.title:
            title = self.para(table.title, "Heading 2")
            # A wide table starts its own page: an executive reads one budget per page, never a table
            # whose header sits alone at the foot of the page before.
            title.paragraph_format.page_break_before = table.landscape and not self.fresh_page and self.landscape_ok
            title.paragraph_format.keep_with_next = True
        if table.sentence is not None:
            self.para(table.sentence.text).paragraph_format.keep_with_next = True
        self.fresh_page = False
        fitted, pt = fit_widths(table, usable_width_cm(self.doc.sections[-1]), self.style)
        widths = [Cm(w) for w in fitted]
        t = self.doc.add_table(rows=1 + len(table.rows), cols=len(table.headers))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        tblw = t._tbl.tblPr.find(qn("w:tblW"))
        if tblw is not None:
            tblw.set(qn("w:type"), "dxa")
            tblw.set(qn("w:w"), str(sum(int(w.twips) for w in widths)))
        for n, head in enumerate(table.headers):
            cell = t.rows[0].cells[n]
            _cell_text(cell, head, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, pt=pt)
            _shade(cell, HEADER_FILL)
        trpr = t.rows[0]._tr.get_or_add_trPr()
        trpr.append(OxmlElement("w:tblHeader"))  # repeat the header on each page
        for r, row in enumerate(table.rows, start=1):
            bold = table.bold[r - 1] if table.bold else False
            indent = table.indent[r - 1] if table.indent else 0
            for n, (value, kind) in enumerate(zip(row, table.kinds, strict=True)):
                numeric = _figure_column(table, n)
                if isinstance(value, str) and value in STATUS_FILL and table.headers[n] == "สถานะ":
                    _shade(t.rows[r].cells[n], STATUS_FILL[value])
                _cell_text(t.rows[r].cells[n], self.style.format(value, kind), bold=bold,
                           align=WD_ALIGN_PARAGRAPH.RIGHT if numeric else None,
                           indent=indent if n == table.name_col else 0, pt=pt)
        usable_h = float((self.doc.sections[-1].page_height - self.doc.sections[-1].top_margin
                          - self.doc.sections[-1].bottom_margin) / 360000) - 2.5  # header, title, sentence
        short = table_height_cm(table, fitted, pt, self.style) <= usable_h
        for n, row in enumerate(t.rows):
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # a row never breaks across pages
            for cell, w in zip(row.cells, widths, strict=True):
                cell.width = w
                if short and n < len(t.rows) - 1:  # a short table stays on one page with its title
                    for p in cell.paragraphs:
                        p.paragraph_format.keep_with_next = True
        grid = t._tbl.tblGrid
        for col, w in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
            col.set(qn("w:w"), str(int(w.twips)))
        self.para("")

    def chart_block(self) -> None:
        self._orientation(False)
        if not self.charts:
            return
        self.para("แผนภูมิ / Charts", "Heading 1")
        for chart in self.charts:
            self.doc.add_picture(str(chart.path), width=Cm(15.5))
            self.doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            self.para(chart.caption, "Caption", align=WD_ALIGN_PARAGRAPH.CENTER)

    def findings_block(self) -> None:
        if self.draft_errors is None:
            return
        self._orientation(True)
        self.para("ภาคผนวก: ข้อผิดพลาดที่ยังต้องแก้ไข / Annex: findings to correct", "Heading 1")
        shown = [f for f in sort_findings(self.findings) if f.severity is not Severity.INFO]
        self.para(f"ข้อผิดพลาด {self.style.digits(str(self.draft_errors))} รายการ และคำเตือน "
                  f"{self.style.digits(str(sum(f.severity is Severity.WARNING for f in shown)))} รายการ"
                  " ตัวเลขในรายงานฉบับร่างนี้ยังนำไปเผยแพร่ไม่ได้ / this draft must not be published.")
        table = Table(key="findings", title="", headers=["ระดับ", "ชีต!ช่อง", "กฎ", "รายละเอียด"],
                      kinds=["text"] * 4, widths=[2.2, 4.4, 4.2, 14.8],
                      rows=[[f.severity.value, f"{f.sheet}!{f.cell}", f.rule, f"{f.message_th} / {f.message_en}"]
                            for f in shown], landscape=True)
        self.table(table)

    def section_blocks(self) -> dict[str, Callable[[], None]]:
        def tables(key: str) -> Callable[[], None]:
            def write() -> None:
                for table in self.content.sections.get(key, []):
                    self.table(table)
            return write
        return {"action_plan_table": tables("action_plan"), "kpi_table": tables("kpi"),
                "integrated_plan_table": tables("integrated_plan"), "disbursement_tables": tables("disbursement"),
                "charts": self.chart_block, "findings": self.findings_block, "report": self.whole}

    def whole(self) -> None:
        """The built-in layout: title, each section with its tables, the charts, the findings annex."""
        texts = self.texts()
        self.para(texts["title"], "Title")
        self.para(f"ข้อมูล ณ วันที่ {texts['as_of']} / data as of {self.content.period.as_of.isoformat()}",
                  size=BODY_PT)
        blocks = self.section_blocks()
        for key, marker in (("action_plan", "action_plan_table"), ("kpi", "kpi_table"),
                            ("integrated_plan", "integrated_plan_table"), ("disbursement", "disbursement_tables")):
            if self.content.sections.get(key):
                self._orientation(self.content.sections[key][0].landscape)
                heading = self.para(SECTION_TITLES[key], "Heading 1")
                heading.paragraph_format.page_break_before = not self.fresh_page
                heading.paragraph_format.keep_with_next = True
                self.fresh_page = True
                blocks[marker]()
        self.chart_block()
        self.findings_block()

    # -- output ---------------------------------------------------------------------------------------------
    def build(self) -> Any:
        _styles(self.doc)
        if self.template is None:
            _page(self.doc.sections[0], False)
            self.whole()
        else:
            self._fill_template()
        if self.draft_errors is not None:
            for section in self.doc.sections:
                self._watermark(section)
        return self.doc

    def _watermark(self, section: Any) -> None:
        for part in (section.header, section.first_page_header):
            part.is_linked_to_previous = False
            para = part.paragraphs[0] if part.paragraphs else part.add_paragraph()
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(para.add_run(self.watermark), 20, bold=True, color=RGBColor(0xC0, 0x00, 0x00))

    def _fill_template(self) -> None:
        """Replace the template's markers: a paragraph holding only ``{{block}}`` becomes that block, and
        ``{{title}}``-style text markers are replaced in place (their paragraph's first run keeps its style)."""
        body = self.doc.element.body
        texts = self.texts()
        blocks = self.section_blocks()
        for para in list(self.doc.paragraphs):
            names = MARKER.findall(para.text)
            unknown = [n for n in names if n not in BLOCK_MARKERS and n not in TEXT_MARKERS]
            if unknown:
                raise TemplateError(
                    f"แม่แบบ Word มีตัวแทนที่ไม่รู้จัก / unknown marker in the Word template: {{{{{unknown[0]}}}}}; "
                    f"known: {', '.join(BLOCK_MARKERS + TEXT_MARKERS)}")
            if len(names) == 1 and names[0] in BLOCK_MARKERS and para.text.strip() == f"{{{{{names[0]}}}}}":
                anchor = para._p
                start = len(body)
                blocks[names[0]]()
                added = list(body)[start - 1:-1] if body[-1].tag == qn("w:sectPr") else list(body)[start:]
                for element in added:
                    anchor.addprevious(element)
                anchor.getparent().remove(anchor)
            elif names:
                new = MARKER.sub(lambda m: texts.get(m.group(1), m.group(0)), para.text)
                runs = para.runs
                if runs:
                    runs[0].text = new
                    for run in runs[1:]:
                        run.text = ""


def write_docx(content: ReportContent, out: Path, *, style: NumberStyle, charts: list[Chart],
               findings: list[Finding], draft_errors: int | None, template: Path | None = None) -> Path:
    """The report as a .docx at ``out``; ``draft_errors`` (a count) makes it a watermarked draft."""
    writer = ReportWriter(content, style, charts, findings, draft_errors, template)
    doc = writer.build()
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


__all__ = ["BLOCK_MARKERS", "TEXT_MARKERS", "TemplateError", "usable_width_cm", "write_docx"]
