"""add_sheet: a worksheet of plain values appended to the workbook, or written over an earlier one."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from ..a1 import a1
from .ooxml import (
    CT_WORKSHEET,
    DROPPABLE_RELS,
    IS,
    R_ID,
    REL_TAG,
    ROW,
    WORKBOOK_ORDER,
    XML_SPACE,
    C,
    CellValue,
    F,
    T,
    V,
    fail,
    m,
)
from .package import NS_MAIN, NS_REL, WORKBOOK_PART
from .parts import Package
from .rels import add_rel, content_type, override, rels_doc, rels_name
from .sheet import find_sheet
from .styles import Styles
from .values import address, check_value, number_text, xstring
from .xmldoc import XmlDoc, insert_ordered, new_doc, sub


def add_sheet(pkg: Package, styles: Styles, name: str, rows: list[list[CellValue]], header_rows: int,
              widths: list[float] | None, links: dict[str, tuple[str, str]] | None) -> str | None:
    """Write sheet ``name`` (see :meth:`WorkbookPatch.add_sheet`); the part it replaced, if any."""
    _check_sheet_name(name)
    for values in rows:
        for value in values:
            check_value(value)
    if header_rows < 0:
        raise fail("header_rows ต้องไม่ติดลบ / header_rows must be >= 0")
    for width in widths or []:
        if not 0 <= width <= 255:
            raise fail(f"ความกว้างไม่ถูกต้อง / column width {width} outside 0..255")
    hyperlinks: list[tuple[str, str]] = []
    for ref, (to_sheet, to_cell) in (links or {}).items():
        at = a1(*address(ref))
        # A target may be a cell or a range; each end must be a real address.
        target_ref = ":".join(a1(*address(end)) for end in to_cell.split(":", 1))
        entry = find_sheet(pkg, to_sheet)
        if entry is None and to_sheet.casefold() != name.casefold():
            raise fail(f"ไม่พบชีต '{to_sheet}' / link target sheet '{to_sheet}' not found")
        real = entry[0] if entry else name
        hyperlinks.append((at, "'" + real.replace("'", "''") + "'!" + target_ref))
    existing = find_sheet(pkg, name)
    if existing is not None:
        part = _prepare_replace(pkg, existing[0], existing[2])
        code_name = pkg.doc(part).root.find(m("sheetPr"))
        code = None if code_name is None else code_name.get("codeName")
    else:
        part, code = pkg.free_name("xl/worksheets/sheet{}.xml"), None
    bold = styles.bold_xf() if header_rows and rows else 0
    doc = _build_sheet(rows, header_rows, bold, widths or [], hyperlinks, code)
    if existing is not None:
        pkg.replace_doc(part, doc)
    else:
        pkg.add_part(part, doc)
        override(pkg, part, CT_WORKSHEET)
        rid = add_rel(pkg, WORKBOOK_PART, "worksheet", part)
        book = pkg.doc(WORKBOOK_PART).root
        sheets = book.find(m("sheets"))
        if sheets is None:
            sheets = Element(m("sheets"))
            insert_ordered(book, sheets, WORKBOOK_ORDER)
        ids = [int(s.get("sheetId", "0")) for s in sheets.findall(m("sheet"))]
        sub(sheets, m("sheet"), {"name": name, "sheetId": str(max(ids, default=0) + 1), R_ID: rid})
        pkg.touch(WORKBOOK_PART)
    pkg.values_changed = True
    return part if existing is not None else None


def _check_sheet_name(name: str) -> None:
    if (not name or len(name) > 31 or re.search(r"[\[\]:*?/\\\x00-\x1f]", name)
            or name.startswith("'") or name.endswith("'") or name.casefold() == "history"):
        raise fail(f"ชื่อชีตไม่ถูกต้อง / invalid sheet name {name!r} (1-31 characters, none of []:*?/\\, "
                   "not starting or ending with ', not 'History')")


def _prepare_replace(pkg: Package, name: str, part: str) -> str:
    """Check an existing sheet may be overwritten; drop the relationships its old content used."""
    if not content_type(pkg, part).endswith("worksheet+xml"):
        raise fail(f"'{name}' ไม่ใช่แผ่นงานธรรมดา / sheet '{name}' is not a plain worksheet; not replaced")
    rels = rels_doc(pkg, part)
    if rels is not None:
        kept = [r.get("Type", "") for r in rels.root.iter(REL_TAG)
                if not r.get("Type", "").endswith(DROPPABLE_RELS)]
        if kept:
            raise fail(f"ชีต '{name}' มีรูป/บันทึก/ตาราง จึงไม่เขียนทับ / sheet '{name}' holds related parts "
                       f"({', '.join(sorted({k.rsplit('/', 1)[-1] for k in kept}))}); not replaced")
        pkg.remove_part(pkg.lookup(rels_name(part)) or rels_name(part))
    if any(True for _ in pkg.doc(part).root.iter(F)):
        pkg.formulas_changed = True
    return part


def _build_sheet(rows: list[list[CellValue]], header_rows: int, bold: int, widths: list[float],
                 hyperlinks: list[tuple[str, str]], code_name: str | None) -> XmlDoc:
    root = Element(m("worksheet"))
    doc = new_doc(root, ("", NS_MAIN), ("r", NS_REL))
    if code_name:  # VBA binds its sheet modules by code name
        sub(root, m("sheetPr"), {"codeName": code_name})
    width = max((len(r) for r in rows), default=0)
    sub(root, m("dimension"), {"ref": f"A1:{a1(len(rows) - 1, width - 1)}" if rows and width else "A1"})
    view = sub(sub(root, m("sheetViews")), m("sheetView"), {"workbookViewId": "0"})
    if 0 < header_rows < len(rows):
        sub(view, m("pane"), {"ySplit": str(header_rows), "topLeftCell": a1(header_rows, 0),
                              "activePane": "bottomLeft", "state": "frozen"})
        sub(view, m("selection"), {"pane": "bottomLeft"})
    sub(root, m("sheetFormatPr"), {"defaultRowHeight": "15"})
    if widths:
        cols = sub(root, m("cols"))
        for i, w in enumerate(widths):
            sub(cols, m("col"), {"min": str(i + 1), "max": str(i + 1), "width": number_text(w),
                                 "customWidth": "1"})
    data = sub(root, m("sheetData"))
    for r, values in enumerate(rows):
        row_el = sub(data, ROW, {"r": str(r + 1)})
        for k, value in enumerate(values):
            attrib = {"r": a1(r, k)}
            if r < header_rows and bold:
                attrib["s"] = str(bold)
            if value is None and "s" not in attrib:
                continue
            c = sub(row_el, C, attrib)
            if isinstance(value, bool):
                c.set("t", "b")
                sub(c, V, text="1" if value else "0")
            elif isinstance(value, str):
                c.set("t", "inlineStr")
                t = sub(sub(c, IS), T, text=xstring(value))
                if value != value.strip():
                    t.set(XML_SPACE, "preserve")
            elif value is not None:
                sub(c, V, text=number_text(value))
    if hyperlinks:
        links = sub(root, m("hyperlinks"))
        for ref, location in sorted(hyperlinks, key=lambda h: address(h[0])):
            sub(links, m("hyperlink"), {"ref": ref, "location": location})
    sub(root, m("pageMargins"), {"left": "0.7", "right": "0.7", "top": "0.75", "bottom": "0.75",
                                 "header": "0.3", "footer": "0.3"})
    return doc
