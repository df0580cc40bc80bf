"""One worksheet being edited: its rows and cells, shared and array formulas, merges and styles in effect."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from ..a1 import a1, parse_a1
from .ooxml import IS, R_ID, REL_TAG, ROW, WORKSHEET_ORDER, C, F, V, fail, local, m
from .package import WORKBOOK_PART
from .parts import Package
from .rels import rels_doc, resolve
from .values import cell_range
from .xmldoc import XmlDoc, insert_ordered


@dataclass
class Sheet:
    name: str
    part: str
    doc: XmlDoc
    data: Element
    rows: dict[int, Element] = field(default_factory=dict)  # 1-based row number -> <row>
    numbers: list[int] = field(default_factory=list)  # sorted row numbers
    _shared: dict[str, list[Element]] | None = None
    _arrays: list[tuple[int, int, int, int]] | None = None

    @classmethod
    def load(cls, name: str, part: str, doc: XmlDoc) -> Sheet:
        root = doc.root
        if root.tag != m("worksheet"):
            raise fail(f"'{name}' ไม่ใช่แผ่นงาน / sheet '{name}' is not a worksheet ({local(root.tag)})")
        data = root.find(m("sheetData"))
        if data is None:
            data = Element(m("sheetData"))
            insert_ordered(root, data, WORKSHEET_ORDER)
        sheet = cls(name, part, doc, data)
        previous = 0
        try:
            for row in data.findall(ROW):
                # r is optional in the schema; fill it in so every lookup below can rely on it.
                number = int(row.get("r") or previous + 1)
                row.set("r", str(number))
                last = ""
                for c in row.findall(C):
                    ref = c.get("r")
                    if not ref:
                        ref = a1(number - 1, parse_a1(last)[1] + 1 if last else 0)
                        c.set("r", ref)
                    last = ref
                sheet.rows[number] = row
                previous = number
        except ValueError as exc:
            raise fail(f"ชีต '{name}' มีที่อยู่เซลล์เสีย / sheet '{name}' has a bad row or cell reference") from exc
        sheet.numbers = sorted(sheet.rows)
        return sheet

    def shared(self) -> dict[str, list[Element]]:
        """si -> cells of that shared-formula group (master included)."""
        if self._shared is None:
            self._shared = {}
            for c in self.data.iter(C):
                f = c.find(F)
                if f is not None and f.get("t") == "shared" and f.get("si") is not None:
                    self._shared.setdefault(f.get("si", ""), []).append(c)
        return self._shared

    def arrays(self) -> list[tuple[int, int, int, int]]:
        """Multi-cell array / data-table formula ranges; the master is the top-left cell."""
        if self._arrays is None:
            self._arrays = []
            for f in self.data.iter(F):
                if f.get("t") in ("array", "dataTable"):
                    box = cell_range(f.get("ref", ""))
                    if box and box[:2] != box[2:]:
                        self._arrays.append(box)
        return self._arrays

    def merged(self) -> list[tuple[int, int, int, int]]:
        merges = self.doc.root.find(m("mergeCells"))
        found = [] if merges is None else merges.findall(m("mergeCell"))
        boxes = [cell_range(merge.get("ref", "")) for merge in found]
        return [box for box in boxes if box]

    def find(self, row: int, col: int) -> tuple[Element | None, Element | None]:
        """(<row>, <c>) at 0-based (row, col), each None if absent."""
        row_el = self.rows.get(row + 1)
        if row_el is None:
            return None, None
        ref = a1(row, col)
        for c in row_el.findall(C):
            if c.get("r", "").upper().replace("$", "") == ref:
                return row_el, c
        return row_el, None

    def style_for(self, row_el: Element | None, c: Element | None, col: int) -> int:
        """Style index in effect at a cell: its own, else the row's, else the column's, as Excel applies."""
        if c is not None and c.get("s"):
            return int(c.get("s", "0"))
        if row_el is not None and row_el.get("customFormat") in ("1", "true") and row_el.get("s"):
            return int(row_el.get("s", "0"))
        cols = self.doc.root.find(m("cols"))
        for col_el in [] if cols is None else cols.findall(m("col")):
            if int(col_el.get("min", "0")) <= col + 1 <= int(col_el.get("max", "0")) and col_el.get("style"):
                return int(col_el.get("style", "0"))
        return 0

    def cell(self, row: int, col: int) -> Element:
        """The <c> at (row, col), created in row and column order if missing."""
        row_el, c = self.find(row, col)
        if c is not None:
            return c
        if row_el is None:
            row_el = Element(ROW, {"r": str(row + 1)})
            pos = bisect_right(self.numbers, row + 1)
            if pos < len(self.numbers):
                following = self.rows[self.numbers[pos]]
                self.data.insert(list(self.data).index(following), row_el)
            else:
                self.data.append(row_el)
            self.numbers.insert(pos, row + 1)
            self.rows[row + 1] = row_el
        c = Element(C, {"r": a1(row, col)})
        style = self.style_for(row_el, None, col)
        if style:
            c.set("s", str(style))
        index = len(row_el)
        for i, sibling in enumerate(row_el):
            if sibling.tag == C and parse_a1(sibling.get("r", "A1"))[1] > col:
                index = i
                break
            if sibling.tag != C:  # row extLst stays last
                index = i
                break
        row_el.insert(index, c)
        self._widen(row_el, row, col)
        return c

    def _widen(self, row_el: Element, row: int, col: int) -> None:
        spans = row_el.get("spans")
        if spans:
            # spans is an optimisation hint, but keep it true for the new cell.
            bounds = [int(x) for part in spans.split() for x in part.split(":") if x.isdigit()]
            if bounds:
                row_el.set("spans", f"{min([*bounds, col + 1])}:{max([*bounds, col + 1])}")
        dim = self.doc.root.find(m("dimension"))
        box = cell_range(dim.get("ref", "")) if dim is not None else None
        if dim is not None and box is not None:
            r0, c0, r1, c1 = min(box[0], row), min(box[1], col), max(box[2], row), max(box[3], col)
            dim.set("ref", a1(r0, c0) if (r0, c0) == (r1, c1) else f"{a1(r0, c0)}:{a1(r1, c1)}")


def clear_value(c: Element) -> None:
    for child in list(c):
        if child.tag in (F, V, IS):
            c.remove(child)
    for attr in ("t", "cm", "vm"):  # cm/vm point at dynamic-array / rich-value metadata of the old content
        c.attrib.pop(attr, None)



def sheet_entries(pkg: Package) -> list[tuple[str, Element, str]]:
    """(name, <sheet> element, part) in workbook order."""
    book = pkg.doc(WORKBOOK_PART)
    rels = rels_doc(pkg, WORKBOOK_PART)
    targets = {} if rels is None else {rel.get("Id"): resolve(WORKBOOK_PART, rel.get("Target", ""))
                                       for rel in rels.root.iter(REL_TAG)}
    out = []
    for sheet in book.root.iter(m("sheet")):
        part = targets.get(sheet.get(R_ID), "")
        out.append((sheet.get("name", ""), sheet, pkg.lookup(part) or part))
    return out


def find_sheet(pkg: Package, name: str) -> tuple[str, Element, str] | None:
    """The workbook's entry for sheet ``name``; Excel sheet names are case-insensitive."""
    entries = sheet_entries(pkg)
    for entry in entries:
        if entry[0] == name:
            return entry
    return next((e for e in entries if e[0].casefold() == name.casefold()), None)
