"""Cell edits are spliced into the sheet's bytes: every byte but the edited cells' is kept, every other
part's stored (compressed) bytes are copied, and a workbook with nothing to change is copied byte for byte.
The result reads as the tree editor's does."""

from __future__ import annotations

import re
import struct
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree.ElementTree import canonicalize

import pytest

from osmep_xl.check import recalc_result
from osmep_xl.data import load_report
from osmep_xl.xlsx import parts
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.package import sheet_parts
from osmep_xl.xlsx.patch import WorkbookPatch
from osmep_xl.xlsx.read import read_workbook
from tests.cells import address


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workbook(load_report("disbursement"), tmp_path_factory.mktemp("demo") / "disbursement.xlsx")


def stored(path: Path) -> dict[str, bytes]:
    """Each member's bytes as stored in the zip: local header, compressed data (not decompressed)."""
    out = {}
    with zipfile.ZipFile(path) as zf, path.open("rb") as fh:
        for info in zf.infolist():
            fh.seek(info.header_offset)
            header = fh.read(30)
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            fh.seek(info.header_offset + 30 + name_len + extra_len)
            out[info.filename] = header[4:26] + fh.read(info.compress_size)
    return out


def cells_removed(xml: bytes, refs: list[str]) -> bytes:
    """The sheet's bytes without the <c> elements of ``refs``."""
    for ref in refs:
        xml, n = re.subn(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', b"", xml, flags=re.S)
        assert n == 1, ref
    return xml


# One edit of every kind: a number, text, a formula with a number and with a text result, true, a blank.
def _edits(demo: Path) -> list[tuple[str, Decimal | str | bool | None, str | None]]:
    rb = read_workbook(demo).blocks["lines"]
    return [
        (address(rb, "allocated", "1", "project"), Decimal("1234.5"), None),
        (address(rb, "name", "1", "project"), "  โครงการ <ใหม่> & 'ทดสอบ'  ", None),
        (address(rb, "total", "1", "project"), Decimal(7), "1+6"),
        (address(rb, "note", "1", "project"), "ข้อความ", 'IF(TRUE,"ข้อความ","")'),
        (address(rb, "source", "1", "project"), True, None),
        (address(rb, "committed", "1", "project"), None, None),
    ]


def _patched(demo: Path, out: Path, *, tree: bool) -> Path:
    rb = read_workbook(demo).blocks["lines"]
    patch = WorkbookPatch(demo)
    if tree:
        patch._sheet(rb.sheet)  # the tree editor, as before splicing (and still for structural edits)
    for cell, value, formula in _edits(demo):
        patch.set_cell(rb.sheet, cell, value, formula=formula)
    return patch.save(out)


def test_edits_change_only_their_cells_and_read_as_the_tree_editors(demo: Path, tmp_path: Path) -> None:
    spliced = _patched(demo, tmp_path / "spliced.xlsx", tree=False)
    tree = _patched(demo, tmp_path / "tree.xlsx", tree=True)
    sheet = read_workbook(demo).blocks["lines"].sheet
    with zipfile.ZipFile(demo) as zf:
        part = sheet_parts(zf)[sheet]
        before = zf.read(part)
    with zipfile.ZipFile(spliced) as a, zipfile.ZipFile(tree) as b:
        after, via_tree = a.read(part), b.read(part)
    refs = [cell for cell, _, _ in _edits(demo)]
    assert after != before and cells_removed(after, refs) == cells_removed(before, refs)
    assert canonicalize(after) == canonicalize(via_tree)
    # every other part is stored exactly as it was (the workbook part may get its recalculate-on-open flag)
    old, new = stored(demo), stored(spliced)
    assert part in {n for n in old if old[n] != new.get(n)} <= {part, "xl/workbook.xml"}
    back = read_workbook(spliced).blocks["lines"]
    i = next(i for i, r in enumerate(back.rows) if r["code"] == "1" and r["level"] == "project")
    assert back.rows[i]["allocated"] == Decimal("1234.5") and back.rows[i]["committed"] is None
    assert back.rows[i]["name"] == "โครงการ <ใหม่> & 'ทดสอบ'"  # the reader trims (the cell keeps the spaces)
    assert back.formula_text[(i, "total")] == "1+6"


def test_a_cell_that_does_not_exist_yet_goes_through_the_tree_editor(demo: Path, tmp_path: Path) -> None:
    rb = read_workbook(demo).blocks["lines"]
    patch = WorkbookPatch(demo)
    patch.set_cell(rb.sheet, address(rb, "allocated", "1", "project"), Decimal(1))  # spliced
    patch.set_cell(rb.sheet, "ZZ9000", "ใหม่")  # no such row: the tree editor adds it, keeping the splice
    back = patch.save(tmp_path / "out.xlsx")
    with zipfile.ZipFile(back) as zf:
        xml = zf.read(sheet_parts(zf)[rb.sheet])
    assert b'<c r="ZZ9000"' in xml
    assert read_workbook(back).blocks["lines"].rows[rb.rows.index(next(
        r for r in rb.rows if r["code"] == "1" and r["level"] == "project"))]["allocated"] == 1


def test_recalc_with_nothing_to_change_copies_the_file_byte_for_byte(demo: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    first = tmp_path / "first.xlsx"
    recalc_result(demo, first)  # the demo keeps the printed report's figures: recalc restores formulas
    again = tmp_path / "again.xlsx"

    def no_zip(*args: object) -> None:
        raise AssertionError("a clean workbook went through the zip writer")

    monkeypatch.setattr(parts, "write_zip", no_zip)  # copied as a file: nothing unzipped or deflated
    assert not [f for f in recalc_result(first, again).findings if f.rule == "recalc.changed"]
    assert again.read_bytes() == first.read_bytes()


def test_an_edit_decompresses_only_the_parts_it_needs(demo: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []
    original = parts.read_member

    def counted(path: Path, info: zipfile.ZipInfo) -> bytes:
        read.append(info.filename)
        return original(path, info)

    monkeypatch.setattr(parts, "read_member", counted)
    rb = read_workbook(demo).blocks["lines"]
    patch = WorkbookPatch(demo)
    patch.set_cell(rb.sheet, address(rb, "allocated", "1", "project"), Decimal(1))
    patch.save(tmp_path / "out.xlsx")
    with zipfile.ZipFile(demo) as zf:
        sheet = sheet_parts(zf)[rb.sheet]
        others = set(zf.namelist()) - set(read)
    # the sheet once, the workbook and how it finds its sheets; every other part copied as stored
    assert read.count(sheet) == 1 and set(read) <= {sheet, "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                                                     f"xl/worksheets/_rels/{sheet.rsplit('/', 1)[1]}.rels",
                                                     "[Content_Types].xml"}
    assert len(others) >= 8
