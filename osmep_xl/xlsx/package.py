"""Read the parts of an .xlsx/.xlsm package that cell readers don't expose.

Sheet paths, custom document properties, defined names, and per sheet the cells
that hold formulas or Excel error values. XML is parsed with defusedxml, so a
part with a DTD or entities is refused rather than expanded.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
WORKBOOK_PART = "xl/workbook.xml"


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


@dataclass
class SheetCells:
    """Cells of one sheet that hold a formula, and cells holding an Excel error value."""

    formulas: dict[str, str] = field(default_factory=dict)  # A1 -> formula text ("" if shared)
    errors: dict[str, str] = field(default_factory=dict)  # A1 -> "#DIV/0!" ...


def _parse(zf: zipfile.ZipFile, name: str) -> Element:
    with zf.open(name) as fh:
        root: Element = ElementTree.parse(fh).getroot()
    return root


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part name inside the zip, in workbook order."""
    book = _parse(zf, WORKBOOK_PART)
    rels = _parse(zf, "xl/_rels/workbook.xml.rels")
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(_q(NS_PKG_REL, "Relationship"))}
    out: dict[str, str] = {}
    for sheet in book.iter(_q(NS_MAIN, "sheet")):
        target = targets.get(sheet.get(_q(NS_REL, "id")), "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target))
        out[sheet.get("name", "")] = part
    return out


def defined_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Workbook-level defined names -> their reference text."""
    book = _parse(zf, WORKBOOK_PART)
    return {
        dn.get("name", ""): (dn.text or "")
        for dn in book.iter(_q(NS_MAIN, "definedName"))
        if dn.get("localSheetId") is None
    }


def custom_properties(zf: zipfile.ZipFile) -> dict[str, str]:
    """Custom document properties as text."""
    if "docProps/custom.xml" not in zf.namelist():
        return {}
    root = _parse(zf, "docProps/custom.xml")
    out: dict[str, str] = {}
    for prop in root.iter(_q(NS_CUSTOM, "property")):
        value = next(iter(prop), None)
        out[prop.get("name", "")] = "" if value is None or value.text is None else value.text
    return out


def scan_sheet(zf: zipfile.ZipFile, part: str) -> SheetCells:
    """Formula and error cells of a worksheet part, streamed."""
    cells = SheetCells()
    c_tag, f_tag, v_tag = _q(NS_MAIN, "c"), _q(NS_MAIN, "f"), _q(NS_MAIN, "v")
    with zf.open(part) as fh:
        for _, elem in ElementTree.iterparse(fh, events=("end",)):
            if elem.tag != c_tag:
                continue
            ref = elem.get("r", "")
            formula = elem.find(f_tag)
            if formula is not None:
                cells.formulas[ref] = formula.text or ""
            if elem.get("t") == "e":
                value = elem.find(v_tag)
                cells.errors[ref] = value.text if value is not None and value.text else "#VALUE!"
            elem.clear()
    return cells
