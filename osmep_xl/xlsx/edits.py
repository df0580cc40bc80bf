"""Writing one cell: refuse cells Excel would not let a user type into, keep dependent formulas working,
then replace the cell's content with a constant or a formula and its cached result."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from ..a1 import a1, parse_a1
from .ooxml import IS, XML_SPACE, CellValue, F, T, V, fail
from .parts import Package
from .rels import related
from .sheet import Sheet, clear_value
from .shift import shift_formula
from .values import cell_range, inside, number_text, xstring
from .xmldoc import sub


def table_headers(pkg: Package, sheet_part: str) -> list[tuple[int, int, int, int]]:
    """The header rows of the tables on a sheet (by its part)."""
    boxes = []
    for _, part in related(pkg, sheet_part, "/table"):
        found = pkg.lookup(part)
        if found is None:
            continue
        table = pkg.doc(found).root
        box = cell_range(table.get("ref", ""))
        if box and table.get("headerRowCount", "1") != "0":
            boxes.append((box[0], box[1], box[0], box[3]))
    return boxes


def check_writable(pkg: Package, sheet: Sheet, row: int, col: int, *, blank: bool) -> None:
    """Refuse a cell hidden by a merge (unless blanking it), inside an array formula's range or in a
    table header."""
    ref = a1(row, col)
    if not blank:
        for box in sheet.merged():
            if inside(box, row, col) and box[:2] != (row, col):
                raise fail(f"{ref} อยู่ในเซลล์ที่ผสาน ให้เขียนที่ {a1(box[0], box[1])} / {ref} is hidden "
                           f"inside merged range {a1(*box[:2])}:{a1(*box[2:])}; write to {a1(*box[:2])}")
    for box in sheet.arrays():
        if inside(box, row, col) and box[:2] != (row, col):
            raise fail(f"{ref} เป็นส่วนหนึ่งของสูตรอาร์เรย์ / {ref} is part of the array formula in "
                       f"{a1(*box[:2])}; change that cell instead")
    for box in table_headers(pkg, sheet.part):
        if inside(box, row, col):
            raise fail(f"{ref} เป็นหัวตาราง / {ref} is a table header; "
                       "renaming table columns is not supported")


def set_cell(pkg: Package, sheet: Sheet, row: int, col: int, value: CellValue, formula: str | None) -> None:
    """Replace the content of the cell at (row, col) with checked ``value`` and clean ``formula``."""
    check_writable(pkg, sheet, row, col, blank=value is None and formula is None)
    c = sheet.cell(row, col)
    if detach_formula(sheet, c, row, col):
        pkg.formulas_changed = True
    clear_value(c)
    children: list[Element] = []
    if formula is not None:
        pkg.formulas_changed = True
        children.append(Element(F))
        children[0].text = formula
    if isinstance(value, bool):
        c.set("t", "b")
        children.append(Element(V))
        children[-1].text = "1" if value else "0"
    elif isinstance(value, str) and formula is not None:
        c.set("t", "str")
        children.append(Element(V))
        children[-1].text = xstring(value)
    elif isinstance(value, str):
        c.set("t", "inlineStr")
        inline = Element(IS)
        text = sub(inline, T, text=xstring(value))
        if value != value.strip():
            text.set(XML_SPACE, "preserve")
        children.append(inline)
    elif value is not None:
        children.append(Element(V))
        children[-1].text = number_text(value)
    for i, child in enumerate(children):
        c.insert(i, child)
    pkg.values_changed = True
    pkg.touch(sheet.part)


def detach_formula(sheet: Sheet, c: Element, row: int, col: int) -> bool:
    """Before a cell's content is replaced, keep the cells that depend on its formula working.

    True if the cell held a formula (the calc chain is then stale).
    """
    f = c.find(F)
    if f is None:
        return False
    kind, si = f.get("t"), f.get("si")
    if kind == "shared" and si is not None:
        group = sheet.shared().pop(si, [])
        if f.text:  # the master: give every dependent its own copy of the formula
            for dep in group:
                dep_f = dep.find(F)
                if dep is c or dep_f is None:
                    continue
                dep_row, dep_col = parse_a1(dep.get("r", ""))
                for attr in ("t", "ref", "si"):
                    dep_f.attrib.pop(attr, None)
                dep_f.text = shift_formula(f.text, dep_row - row, dep_col - col)
        else:
            group = [d for d in group if d is not c]
            if group:
                sheet.shared()[si] = group
    elif kind in ("array", "dataTable"):
        for box in [b for b in sheet.arrays() if b[:2] == (row, col)]:
            # Like deleting the formula in Excel: the range it filled empties (styles stay).
            for r in range(box[0], box[2] + 1):
                for k in range(box[1], box[3] + 1):
                    _, other = sheet.find(r, k)
                    if other is not None and other is not c:
                        clear_value(other)
            sheet.arrays().remove(box)
    return True
