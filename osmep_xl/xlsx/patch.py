"""Lossless writer for .xlsx/.xlsm workbooks: patch the zip, re-serialise only the parts that change.

A plain openpyxl load+save drops VBA, form controls, x14 extensions, sparklines, dynamic-array metadata
and cached values. Here every part that is not edited is copied as it is stored (its compressed bytes), in
the original order, and a workbook with no edit is copied byte for byte. Cell values and formulas are
spliced into the sheet's bytes (:mod:`osmep_xl.xlsx.splice`); other edited XML parts are re-serialised by
a small writer that keeps every namespace declaration on the element that declared it, so prefixes (and
those listed in mc:Ignorable) survive.

This module is the API; each concern lives in its own module (see :mod:`osmep_xl.xlsx.ooxml`).
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element

from . import edits, newsheet, notes, printsetup
from .layout import ERROR_FILL
from .ooxml import WORKBOOK_ORDER, CellValue, PatchError, fail, m
from .package import WORKBOOK_PART
from .parts import Package
from .rels import content_type, override, related, rels_doc
from .sheet import Sheet, find_sheet, sheet_entries
from .shift import shift_formula as _shift_formula
from .splice import SplicedSheet
from .streamed import STREAM_MIN, StreamedSheet, Unstreamable
from .styles import Styles
from .values import address, check_value, clean_formula, xstring
from .values import number_text as _number_text
from .xmldoc import insert_ordered
from .xmldoc import parse_xml as _parse_xml
from .xmldoc import serialise as _serialise
from .zipio import TargetFolderError, atomic_target

# The tests reach a few helpers under their old private names.
__all__ = ["CellValue", "PatchError", "WorkbookPatch", "_number_text", "_parse_xml", "_serialise",
           "_shift_formula"]


class WorkbookPatch:
    """Edits to one workbook, kept in memory until :meth:`save` writes the patched package."""

    def __init__(self, source: Path) -> None:
        self.source = Path(source)
        self._pkg = Package(self.source)
        self._sheets: dict[str, Sheet] = {}  # part -> sheet being edited
        self._by_name: dict[str, Sheet] = {}  # sheet name asked for -> its sheet (set_cell is called per cell)
        # Sheets edited cell by cell in their bytes (part -> sheet: in memory, or streamed on save when large;
        # None: needs the tree editor), and which part each sheet name asked for is.
        self._spliced: dict[str, SplicedSheet | StreamedSheet | None] = {}
        self._parts: dict[str, tuple[str, str]] = {}
        self._styles = Styles(self._pkg)
        if self._pkg.doc(WORKBOOK_PART).root.tag != m("workbook"):
            raise fail("รองรับเฉพาะรูปแบบ Transitional / only Transitional (not Strict) OOXML workbooks")

    def _part(self, name: str) -> tuple[str, str]:
        """(sheet name, part) of the sheet called ``name``; PatchError when there is none or its part is missing."""
        if name not in self._parts:
            entry = find_sheet(self._pkg, name)
            if entry is None:
                names = ", ".join(e[0] for e in sheet_entries(self._pkg))
                raise fail(f"ไม่พบชีต '{name}' / sheet '{name}' not found (sheets: {names})")
            sheet_name, _, part = entry
            if self._pkg.lookup(part) is None:
                raise fail(f"ชีต '{sheet_name}' ไม่มีข้อมูล / part {part} of sheet '{sheet_name}' is missing")
            self._parts[name] = (sheet_name, part)
        return self._parts[name]

    def _sheet(self, name: str) -> Sheet:
        """The sheet as a tree to edit; edits already spliced into its bytes are carried over first."""
        if name in self._by_name:
            return self._by_name[name]
        sheet_name, part = self._part(name)
        if part not in self._sheets:
            self._unstream(part)  # which may itself need the tree (and make it)
        if part not in self._sheets:
            spliced = self._spliced.get(part)
            self._spliced[part] = None  # from now on this sheet is edited as a tree
            if isinstance(spliced, SplicedSheet) and spliced.edited:
                self._pkg.replace_doc(part, _parse_xml(spliced.render(), part))
            self._sheets[part] = Sheet.load(sheet_name, part, self._pkg.doc(part))
        self._by_name[name] = self._sheets[part]
        return self._sheets[part]

    def _splice(self, name: str) -> SplicedSheet | StreamedSheet | None:
        """The sheet's bytes to splice cell edits into, or None when it is (to be) edited as a tree."""
        sheet_name, part = self._part(name)
        if part not in self._spliced:
            headers = [] if part in self._sheets else edits.table_headers(self._pkg, part)
            if part in self._sheets:
                self._spliced[part] = None
            elif self._pkg.size(part) >= STREAM_MIN:  # never held whole: its edits are spliced as it is written
                self._spliced[part] = StreamedSheet(sheet_name, part, lambda: self._pkg.stream(part),
                                                    self._pkg.size(part), headers)
            else:
                self._spliced[part] = SplicedSheet.open(self._pkg.original(part), headers)
        return self._spliced[part]

    def _unstream(self, part: str) -> None:
        """A streamed sheet's edits made again on the sheet in memory, in their order (spliced, or by the tree
        editor where the splice cannot), as if it had never been streamed."""
        streamed = self._spliced.get(part)
        if isinstance(streamed, StreamedSheet):
            self._spliced[part] = SplicedSheet.open(self._pkg.original(part), edits.table_headers(self._pkg, part))
            for row, col, value, formula in streamed.edits:
                self._set(streamed.name, row, col, value, formula)

    # --- public edits ------------------------------------------------------------------------------------

    def set_cell(self, sheet: str, cell: str, value: CellValue = None, formula: str | None = None) -> None:
        """Set a constant (formula None) or a formula (text without '=') with ``value`` as its cached result.

        The cell keeps its style; a new cell takes its row's or column's style, as in Excel. Strings are
        inline strings (sharedStrings.xml stays untouched); a formula's string result is t="str". A string
        constant is always text, never a formula. value None without formula blanks the cell. Cells that
        depend on this cell's shared formula get their own copy of it first; writing into a cell hidden
        by a merge, inside an array formula's range or into a table header is refused: here, or by
        :meth:`save` for a sheet streamed as it is written (one of ``STREAM_MIN`` bytes or more, whose cells
        are seen only then), with the same :class:`PatchError` and nothing written.
        """
        check_value(value)
        if formula is not None:
            formula = clean_formula(formula)
        self._set(sheet, *address(cell), value, formula)

    def _set(self, sheet: str, row: int, col: int, value: CellValue, formula: str | None) -> None:
        spliced = self._splice(sheet)
        if spliced is not None and spliced.set_cell(row, col, value, formula):
            self._pkg.values_changed = True
            self._pkg.formulas_changed |= spliced.formulas_changed
            return
        edits.set_cell(self._pkg, self._sheet(sheet), row, col, value, formula)

    def highlight(self, sheet: str, cell: str, rgb: str = ERROR_FILL) -> None:
        """Give the cell a solid fill, keeping its number format, font and border (a cloned cell format)."""
        colour = rgb.strip().lstrip("#").upper()
        if not re.fullmatch(r"[0-9A-F]{6}([0-9A-F]{2})?", colour):
            raise fail(f"สีไม่ถูกต้อง / bad colour {rgb!r}; use RRGGBB or AARRGGBB")
        colour = colour if len(colour) == 8 else "FF" + colour
        target = self._sheet(sheet)
        row, col = address(cell)
        row_el, c = target.find(row, col)
        base = target.style_for(row_el, c, col)
        xf = self._styles.fill_xf(base, colour)
        c = target.cell(row, col)
        c.set("s", str(xf))
        self._pkg.touch(target.part)

    def comment(self, sheet: str, cell: str, text: str, author: str = "osmep_xl") -> None:
        """Add a note to a cell, replacing one already on that cell; other notes are kept.

        The text goes to the sheet's commentsN.xml, the note box to its legacy VML drawing (Excel shows
        notes only through it); either part, its relationship and content type are created if missing.
        """
        body, who = xstring(text), xstring(author)
        target = self._sheet(sheet)
        row, col = address(cell)
        notes.add_note(self._pkg, target, row, col, body, who)

    def add_sheet(self, name: str, rows: list[list[CellValue]], *, header_rows: int = 1,
                  widths: list[float] | None = None, links: dict[str, tuple[str, str]] | None = None) -> None:
        """Append a worksheet of values (inline strings; first ``header_rows`` rows bold).

        ``links`` maps a cell of the new sheet to an internal hyperlink target (sheet, cell). If a sheet
        of that name exists (e.g. an earlier run's annotation sheet), its content is replaced in place,
        in the same part, so references to it stay valid; a sheet holding drawings, notes, tables or
        other related parts is refused rather than orphaning them.
        """
        replaced = newsheet.add_sheet(self._pkg, self._styles, name, rows, header_rows, widths, links)
        if replaced is not None:
            self._sheets.pop(replaced, None)
            self._spliced[replaced] = None  # its new content is a tree: edits spliced before are gone with it
            self._by_name.clear()
            self._parts.clear()

    def print_table(self, name: str, *, heights: list[float], font: str, size: float, header_fill: str,
                    landscape: bool = True, footer: str = "", columns: int = 0, right: tuple[int, ...] = ()) -> None:
        """Make a sheet written by :meth:`add_sheet` print as a table: every cell in ``font`` at ``size``,
        wrapped, top-aligned and boxed, row 1 bold on ``header_fill`` (ARGB); rows ``heights`` points high (from
        row 1); A4 in the given orientation, one page wide, row 1 repeated on every page, ``footer`` below;
        only the first ``columns`` columns print when given; columns ``right`` (0-based) aligned right."""
        printsetup.print_table(self._pkg, self._styles, self._sheet(name), heights=heights, font=font, size=size,
                               header_fill=header_fill, landscape=landscape, footer=footer, columns=columns,
                               right=right)

    # --- saving ------------------------------------------------------------------------------------------

    def _finish(self) -> None:
        """Workbook-level consequences of the edits: recalculation on open and no stale calc chain."""
        pkg = self._pkg
        for part, spliced in self._spliced.items():
            if isinstance(spliced, StreamedSheet):
                pkg.set_pieces(part, spliced.plan())
                pkg.formulas_changed |= spliced.formulas_changed
            elif spliced is not None and spliced.edited:
                pkg.set_pieces(part, spliced.pieces())
        if pkg.values_changed:
            book = pkg.doc(WORKBOOK_PART).root
            calc = book.find(m("calcPr"))
            if calc is None:
                calc = Element(m("calcPr"))
                insert_ordered(book, calc, WORKBOOK_ORDER)
            calc.set("fullCalcOnLoad", "1")
            pkg.touch(WORKBOOK_PART)
        if pkg.formulas_changed:
            rels = rels_doc(pkg, WORKBOOK_PART)
            for rel, part in related(pkg, WORKBOOK_PART, "/calcChain"):
                assert rels is not None
                rels.root.remove(rel)
                pkg.touch(pkg.name_of(rels))
                found = pkg.lookup(part)
                if found is not None:
                    pkg.remove_part(found)
                    override(pkg, found, None)

    def _check_target(self, target: Path) -> None:
        kind = content_type(self._pkg, WORKBOOK_PART)
        suffix = target.suffix.lower()
        if "macroEnabled" in kind and suffix == ".xlsx":
            raise fail(f"ไฟล์มีแมโคร ต้องบันทึกเป็น .xlsm / workbook has macros; save as .xlsm, "
                       f"not {target.name}")
        if "macroEnabled" not in kind and suffix == ".xlsm":
            raise fail(f"ไฟล์ไม่มีแมโคร ต้องบันทึกเป็น .xlsx / workbook has no macros; save as .xlsx, "
                       f"not {target.name}")

    def save(self, target: Path) -> Path:
        """Write the patched package atomically (temp file, fsync, os.replace); target may be the source.

        Parts not edited keep identical uncompressed bytes and their order. A symlink target keeps
        pointing at the file it named; a new file takes the source's mode.
        """
        target = Path(target)
        self._check_target(target)
        self._finish()
        try:
            while True:
                try:
                    with atomic_target(target, mode_from=self.source) as tmp:
                        self._pkg.write(tmp)
                    break
                except Unstreamable as exc:  # nothing written: the sheet's edits are made in memory, and again
                    self._unstream(exc.part)
                    self._finish()
        except TargetFolderError as exc:
            raise fail(f"เขียนโฟลเดอร์ไม่ได้ / cannot write into {exc.folder} ({exc.cause})") from exc
        except OSError as exc:
            hint = " ปิดไฟล์ใน Excel ก่อน / is it open in Excel?" if isinstance(exc, PermissionError) else ""
            raise fail(f"บันทึกไฟล์ไม่สำเร็จ ไฟล์เดิมไม่เปลี่ยน / could not write {target}; "
                       f"it is unchanged ({exc}){hint}") from exc
        return target
