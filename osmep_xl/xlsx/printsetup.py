"""Page setup of a sheet the patcher added: a findings list that prints as a readable table."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from ..a1 import a1, parse_a1
from .ooxml import WORKBOOK_ORDER, WORKSHEET_ORDER, C, m
from .package import WORKBOOK_PART
from .parts import Package
from .sheet import Sheet, sheet_entries
from .styles import Styles
from .values import number_text, xstring
from .xmldoc import insert_ordered, sub


def print_table(pkg: Package, styles: Styles, sheet: Sheet, *, heights: list[float], font: str, size: float,
                header_fill: str, landscape: bool, footer: str, columns: int, right: tuple[int, ...]) -> None:
    """Style ``sheet`` as a printed table and give it an A4 page setup one page wide, row 1 repeated."""
    xfs = [str(styles.table_xf(bold=bold, align=align, font=font, size=size, header_fill=header_fill))
           for bold, align in ((True, "left"), (False, "left"), (False, "right"))]
    for number in sheet.numbers:
        row = sheet.rows[number]
        if number <= len(heights):
            row.set("ht", number_text(heights[number - 1]))
            row.set("customHeight", "1")
        for c in row.findall(C):
            c.set("s", xfs[0] if number == 1 else xfs[2] if parse_a1(c.get("r", "A1"))[1] in right else xfs[1])
    root = sheet.doc.root
    pr = root.find(m("sheetPr"))
    if pr is None:
        pr = Element(m("sheetPr"))
        insert_ordered(root, pr, WORKSHEET_ORDER)
    for old in pr.findall(m("pageSetUpPr")):
        pr.remove(old)
    insert_ordered(pr, Element(m("pageSetUpPr"), {"fitToPage": "1"}), ("tabColor", "outlinePr", "pageSetUpPr"))
    for tag in ("printOptions", "pageMargins", "pageSetup", "headerFooter"):
        for old in root.findall(m(tag)):
            root.remove(old)
    insert_ordered(root, Element(m("pageMargins"), {"left": "0.25", "right": "0.25", "top": "0.75",
                                                    "bottom": "0.75", "header": "0.3", "footer": "0.3"}),
                   WORKSHEET_ORDER)
    insert_ordered(root, Element(m("pageSetup"), {
        "paperSize": "9", "fitToWidth": "1", "fitToHeight": "0",
        "orientation": "landscape" if landscape else "portrait"}), WORKSHEET_ORDER)
    if footer:
        hf = Element(m("headerFooter"))
        sub(hf, m("oddFooter"), text=xstring(footer))
        insert_ordered(root, hf, WORKSHEET_ORDER)
    pkg.touch(sheet.part)
    _print_names(pkg, sheet.name, columns)


def _print_names(pkg: Package, name: str, columns: int) -> None:
    """The sheet's print titles (row 1) and, with ``columns``, its print area."""
    book = pkg.doc(WORKBOOK_PART).root
    index = str([e[0] for e in sheet_entries(pkg)].index(name))
    names = book.find(m("definedNames"))
    if names is None:
        names = Element(m("definedNames"))
        insert_ordered(book, names, WORKBOOK_ORDER)
    for old in names.findall(m("definedName")):
        if (old.get("name", "").casefold() in ("_xlnm.print_titles", "_xlnm.print_area")
                and old.get("localSheetId") == index):
            names.remove(old)
    quoted = "'" + name.replace("'", "''") + "'"
    if columns:
        sub(names, m("definedName"), {"name": "_xlnm.Print_Area", "localSheetId": index},
            text=f"{quoted}!$A:${a1(0, columns - 1).rstrip('0123456789')}")
    sub(names, m("definedName"), {"name": "_xlnm.Print_Titles", "localSheetId": index}, text=f"{quoted}!$1:$1")
    pkg.touch(WORKBOOK_PART)
