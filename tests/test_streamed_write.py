"""A large sheet's edits streamed into the new zip, large parts deflated in parallel blocks: the package written
inflates, part by part and in the same order, to exactly what the in-memory splice and one deflate stream write.

The size thresholds are lowered so that a workbook of a few hundred lines takes the large-sheet paths, cut into
many pieces and blocks."""

from __future__ import annotations

import struct
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from osmep_xl.a1 import a1
from osmep_xl.check import open_all, plan_recalc_all
from osmep_xl.xlsx import deflate, patch, streamed, zipio
from osmep_xl.xlsx.generate import write_workbook
from osmep_xl.xlsx.ooxml import CellValue, PatchError
from osmep_xl.xlsx.package import sheet_parts
from osmep_xl.xlsx.patch import WorkbookPatch
from osmep_xl.xlsx.read import ReadBlock, read_workbook
from osmep_xl.xlsx.splice import FEW_ROWS
from tests.big_tables import interleaved
from tests.libreoffice import convert_one

Edit = tuple[str, CellValue, str | None]  # cell, value, formula


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workbook(interleaved(300), tmp_path_factory.mktemp("big") / "big.xlsx")


@pytest.fixture(scope="module")
def block(big: Path) -> ReadBlock:
    return read_workbook(big).blocks["lines"]


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every sheet streamed, read and cut in pieces of a few rows."""
    monkeypatch.setattr(patch, "STREAM_MIN", 0)
    monkeypatch.setattr(streamed, "PIECE", 700)
    monkeypatch.setattr(zipio, "READ_CHUNK", 300)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every part written anew deflated in parallel blocks of a few KB."""
    monkeypatch.setattr(zipio, "PARALLEL_MIN", 0)
    monkeypatch.setattr(deflate, "BLOCK", 4096)


def inflated(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return [(name, zf.read(name)) for name in zf.namelist()]


def write(src: Path, out: Path, sheet: str, edits: list[Edit]) -> Path:
    wp = WorkbookPatch(src)
    for cell, value, formula in edits:
        wp.set_cell(sheet, cell, value, formula=formula)
    return wp.save(out)


def every_kind(rb: ReadBlock, i: int) -> list[Edit]:
    """One edit of every kind in data row ``i``: a number, text to escape, a formula with a number and with
    a text result, true, a blank."""
    return [(rb.address(i, "allocated"), Decimal("1234.5"), None),
            (rb.address(i, "name"), "  โครงการ <ใหม่> & 'ทดสอบ'  ", None),
            (rb.address(i, "total"), Decimal(7), "1+6"),
            (rb.address(i, "note"), "ข้อความ", 'IF(TRUE,"ข้อความ","")'),
            (rb.address(i, "source"), True, None),
            (rb.address(i, "committed"), None, None)]


def few_rows(rb: ReadBlock) -> list[Edit]:
    """The first and last data rows, and rows scattered between (fewer than FEW_ROWS rows)."""
    rows = [0, len(rb.rows) - 1, *range(7, len(rb.rows), 61)]
    assert len(rows) < FEW_ROWS
    return [edit for i in rows for edit in every_kind(rb, i)]


def many_rows(rb: ReadBlock) -> list[Edit]:
    """More rows than the in-memory splice finds one by one (it indexes every row): projects' amounts."""
    rows = [i for i, row in enumerate(rb.rows) if row["level"] == "project"][::5]
    assert len(rows) > FEW_ROWS
    return [(rb.address(i, "allocated"), Decimal(i), None) for i in rows]


def same_cell_twice(rb: ReadBlock) -> list[Edit]:
    """The last edit of a cell wins; a formula written and then replaced still makes the calc chain stale."""
    cell = rb.address(3, "total")
    return [(cell, Decimal(1), "1+0"), (rb.address(4, "allocated"), Decimal(2), None), (cell, Decimal(5), None)]


def streaming(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What became of each streamed sheet: "streamed", or "gave way" (its edits replayed in memory)."""
    seen: list[str] = []
    plan, unstream = streamed.StreamedSheet.plan, patch.WorkbookPatch._unstream

    def planned(self: streamed.StreamedSheet) -> zipio.Pieces:
        seen.append("streamed")
        return plan(self)

    def replayed(self: patch.WorkbookPatch, part: str) -> None:
        if isinstance(self._spliced.get(part), streamed.StreamedSheet):
            seen[-1] = "gave way"
        unstream(self, part)

    monkeypatch.setattr(streamed.StreamedSheet, "plan", planned)
    monkeypatch.setattr(patch.WorkbookPatch, "_unstream", replayed)
    return seen


def streams_as_in_memory(src: Path, sheet: str, edits: list[Edit], tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    """``edits`` written to ``src``'s sheet streamed, and the same bytes as when spliced in memory."""
    with monkeypatch.context() as m:
        m.setattr(patch, "STREAM_MIN", 1 << 40)
        memory = write(src, tmp_path / "memory.xlsx", sheet, edits)
    seen = streaming(monkeypatch)
    out = write(src, tmp_path / "streamed.xlsx", sheet, edits)
    assert seen == ["streamed"]
    assert inflated(out) == inflated(memory)


@pytest.mark.parametrize("edits", [few_rows, many_rows, same_cell_twice])
def test_streamed_edits_write_what_the_in_memory_splice_writes(big: Path, block: ReadBlock, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch, edits: object,
                                                               small_pieces: None) -> None:
    assert callable(edits)
    chosen = edits(block)
    streams_as_in_memory(big, block.sheet, chosen, tmp_path, monkeypatch)
    with zipfile.ZipFile(big) as zf:
        part = sheet_parts(zf)[block.sheet]
        pieces = [piece for _, piece in streamed.row_pieces(zipio.member_chunks(big, zf.getinfo(part)))]
    assert len(pieces) > 20 and all(piece.endswith(b"</row>") for piece in pieces[:-1])


def test_a_sheet_with_page_breaks_streams_many_rows_of_edits(big: Path, block: ReadBlock, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              small_pieces: None) -> None:
    from tests.corpus_helpers import replace_part, zip_parts

    broken = tmp_path / "breaks.xlsx"
    broken.write_bytes(big.read_bytes())
    with zipfile.ZipFile(broken) as zf:
        part = sheet_parts(zf)[block.sheet]
    breaks = b'<rowBreaks count="1" manualBreakCount="1"><brk id="10" max="16383" man="1"/></rowBreaks>'
    replace_part(broken, part, zip_parts(broken)[part].replace(b"</worksheet>", breaks + b"</worksheet>"))
    streams_as_in_memory(broken, block.sheet, many_rows(block), tmp_path, monkeypatch)


def test_what_streaming_cannot_decide_is_replayed_in_memory(big: Path, block: ReadBlock, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            small_pieces: None) -> None:
    last, name, beyond = block.sheet_rows[-1], block.columns["name"], max(block.columns.values()) + 40
    project = next(i for i, row in enumerate(block.rows) if row["level"] == "project")
    amount = (block.address(project, "allocated"), Decimal(1), None)  # an amount typed in: a constant
    cases: list[list[Edit]] = [
        [*every_kind(block, 2), (a1(block.sheet_rows[5], beyond), "ใหม่", None)],  # no such cell yet: the tree's
        [amount, (a1(last + 40, name), 5, None)],  # no such row yet
        [amount, (block.address(len(block.rows) - 1, "name"), 5, None), (a1(last + 3, name), 6, None)],
        [amount, (block.address(4, "total"), Decimal(5), None)],  # a formula overwritten, none written
    ]
    for n, edits in enumerate(cases):
        with monkeypatch.context() as m:
            m.setattr(patch, "STREAM_MIN", 1 << 40)
            memory = write(big, tmp_path / f"memory{n}.xlsx", block.sheet, edits)
        with monkeypatch.context() as m:
            seen = streaming(m)
            out = write(big, tmp_path / f"streamed{n}.xlsx", block.sheet, edits)
        assert seen == ["gave way"], n
        assert inflated(out) == inflated(memory), n


def test_a_merged_cell_is_refused_as_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               small_pieces: None) -> None:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>1</v></c></row>' for r in range(1, 400))
    src = tmp_path / "merged.xlsx"
    hand_book(src, f"<sheetData>{rows}</sheetData><mergeCells count=\"1\"><mergeCell ref=\"A300:B300\"/></mergeCells>")
    messages = []
    for limit in (1 << 40, 0):
        monkeypatch.setattr(patch, "STREAM_MIN", limit)
        with pytest.raises(PatchError) as err:
            write(src, tmp_path / "out.xlsx", "S", [("A2", 5, None), ("B300", 7, None)])
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "B300" in messages[0]
    assert not (tmp_path / "out.xlsx").exists()


def test_a_comment_past_the_edits_sends_the_sheet_to_the_tree_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      small_pieces: None) -> None:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 400))
    src = tmp_path / "commented.xlsx"
    hand_book(src, f"<sheetData>{rows}</sheetData><!-- a comment the byte scan could misread -->")
    outs, seen = [], streaming(monkeypatch)
    for limit in (1 << 40, 0):
        monkeypatch.setattr(patch, "STREAM_MIN", limit)
        outs.append(inflated(write(src, tmp_path / f"out{limit}.xlsx", "S", [("A2", 5, None)])))
    assert outs[0] == outs[1] and seen == ["gave way"]


def hand_book(path: Path, sheet_body: str, *, calc_chain: bool = False) -> None:
    """A minimal workbook of one sheet "S" with this content (and a calc chain)."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    types = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    chain = (f'<Override PartName="/xl/calcChain.xml" ContentType="{types}.calcChain+xml"/>',
             f'<Relationship Id="rId2" Type="{rel}/calcChain" Target="calcChain.xml"/>') if calc_chain else ("", "")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                    'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="applica'
                    'tion/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="app'
                    f'lication/xml"/><Override PartName="/xl/workbook.xml" ContentType="{types}.sheet.main+xml"/>'
                    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{types}.worksheet+xml"/>'
                    f"{chain[0]}</Types>")
        zf.writestr("_rels/.rels", f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relati'
                    f'onships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
                    '</Relationships>')
        zf.writestr("xl/workbook.xml", f'<workbook {ns} xmlns:r="{rel}"><sheets><sheet name="S" sheetId="1" '
                    'r:id="rId1"/></sheets></workbook>')
        zf.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/packag'
                    f'e/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
                    f'Target="worksheets/sheet1.xml"/>{chain[1]}</Relationships>')
        zf.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}>'
                    f"{sheet_body}</worksheet>")
        if calc_chain:
            zf.writestr("xl/calcChain.xml", f'<calcChain {ns}><c r="B1" i="1"/></calcChain>')


def test_a_formula_overwritten_drops_the_calc_chain_as_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 small_pieces: None) -> None:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><f>A{r}*2</f><v>{2 * r}</v></c></row>'
                   for r in range(1, 400))
    src = tmp_path / "chain.xlsx"
    hand_book(src, f"<sheetData>{rows}</sheetData>", calc_chain=True)
    outs, seen = [], streaming(monkeypatch)
    for limit in (1 << 40, 0):
        monkeypatch.setattr(patch, "STREAM_MIN", limit)
        outs.append(inflated(write(src, tmp_path / f"out{limit}.xlsx", "S", [("A3", 5, None), ("B350", 9, None)])))
    assert outs[0] == outs[1] and seen == ["gave way"]
    assert "xl/calcChain.xml" not in dict(outs[1])


# --- parallel deflate ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("block", "size"), [(64, 0), (64, 1), (64, 63), (64, 64), (64, 65), (64, 200), (64, 64 * 5),
                                             (64, 64 * 5 + 1), (64, 3000), (deflate.WINDOW + 999, 150_000)])
def test_parallel_deflate_inflates_to_the_data(block: int, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deflate, "BLOCK", block)  # smaller than the window, and larger (primed by its end)
    monkeypatch.setattr(deflate, "IN_FLIGHT", 3)
    data = bytes((i * 7919 >> 3) % 11 + 60 for i in range(size))
    for pieces in ([data], [data[:5], b"", memoryview(data)[5:70], data[70:]]):
        deflater = deflate.Deflater(6)
        out = b"".join(deflater.deflate(pieces))
        assert zlib.decompress(out, -zlib.MAX_WBITS) == data == zlib.decompress(zlib.compress(data))
        assert (deflater.crc, deflater.size, deflater.compressed) == (zlib.crc32(data), size, len(out))


def test_parallel_deflate_keeps_the_ratio_of_one_stream(big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with zipfile.ZipFile(big) as zf:
        xml = zf.read(sheet_parts(zf)[read_workbook(big).blocks["lines"].sheet])
    monkeypatch.setattr(deflate, "BLOCK", 16 << 10)  # many cuts, each a chance to lose matches
    assert len(xml) > 15 * deflate.BLOCK
    blocks = sum(len(out) for out in deflate.Deflater(6).deflate([xml]))
    one = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert blocks <= 1.01 * len(one.compress(xml) + one.flush())


def test_a_large_part_written_anew_is_within_a_percent_of_the_default_level(big: Path, block: ReadBlock,
                                                                              tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipio, "PARALLEL_MIN", 0)
    monkeypatch.setattr(patch, "STREAM_MIN", 0)
    out = write(big, tmp_path / "out.xlsx", block.sheet, few_rows(block))
    with zipfile.ZipFile(out) as zf:
        part = sheet_parts(zf)[block.sheet]
        xml, written = zf.read(part), zf.getinfo(part).compress_size
    default = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert written <= 1.01 * len(default.compress(xml) + default.flush())


def test_parts_deflated_in_parallel_read_everywhere(big: Path, block: ReadBlock, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    edits = few_rows(block)
    single = write(big, tmp_path / "single.xlsx", block.sheet, edits)
    with monkeypatch.context() as m:
        m.setattr(zipio, "PARALLEL_MIN", 0)
        m.setattr(deflate, "BLOCK", 4096)
        m.setattr(patch, "STREAM_MIN", 0)
        parallel = write(big, tmp_path / "parallel.xlsx", block.sheet, edits)
    assert inflated(parallel) == inflated(single)
    with zipfile.ZipFile(single) as a, zipfile.ZipFile(parallel) as b:
        assert [(i.filename, i.CRC, i.file_size, i.date_time) for i in a.infolist()] == [
            (i.filename, i.CRC, i.file_size, i.date_time) for i in b.infolist()]
    def sheets(path: Path) -> list[list[object]]:
        wb = CalamineWorkbook.from_path(str(path))
        return [wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names]

    assert sheets(parallel) == sheets(single)
    ws = openpyxl.load_workbook(parallel)[block.sheet]
    assert ws[block.address(0, "total")].value == "=1+6"


@pytest.mark.libreoffice
def test_libreoffice_opens_a_package_deflated_in_parallel(big: Path, block: ReadBlock, tmp_path: Path,
                                                          small_pieces: None, small_blocks: None) -> None:
    out = write(big, tmp_path / "parallel.xlsx", block.sheet, [(block.address(0, "allocated"), 4321, None)])
    converted = convert_one(out, tmp_path / "lo", recalc=False)
    ws = openpyxl.load_workbook(converted)[block.sheet]
    assert ws[block.address(0, "allocated")].value == 4321
    assert ws[block.address(len(block.rows) - 1, "name")].value == block.rows[-1]["name"]


def test_zip64_header_as_zipfile_writes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"<row>" * 30_000  # over the lowered limit: its header needs the zip64 extra field
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", len(data) // 2)
    monkeypatch.setattr(zipio, "PARALLEL_MIN", 0)
    headers = []
    for parallel in (False, True):
        out = tmp_path / f"{parallel}.zip"
        with out.open("wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            info = zipfile.ZipInfo("big.xml", (2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if parallel:
                zipio._write_deflated(zf, fh, info, zipio.Pieces.of([data]))
            else:
                info.file_size = len(data)
                with zf.open(info, "w") as member:
                    member.write(data)
        raw = out.read_bytes()
        name_len, extra_len = struct.unpack("<HH", raw[26:30])
        # signature, version, flags, method, time, date, CRC; the extra field (zip64 sizes, one compressed)
        headers.append((raw[:18], name_len, extra_len, raw[30 + name_len:30 + name_len + 12]))
        with zipfile.ZipFile(out) as zf:
            assert zf.read("big.xml") == data and zf.testzip() is None
    assert headers[0] == headers[1] and headers[0][2] > 0


# --- never lose data ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("in_place", [False, True])
def test_a_failure_mid_write_leaves_the_target_untouched(big: Path, block: ReadBlock, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, in_place: bool,
                                                         small_pieces: None, small_blocks: None) -> None:
    src = tmp_path / "book.xlsx"
    src.write_bytes(big.read_bytes())
    target = src if in_place else tmp_path / "target.xlsx"
    if not in_place:
        target.write_bytes(b"an earlier file")
    before = target.read_bytes()
    calls = []
    real = deflate._deflate_block

    def disk_full(*args: object) -> bytes:
        calls.append(1)
        if len(calls) == 5:
            raise OSError(28, "No space left on device")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(deflate, "_deflate_block", disk_full)
    with pytest.raises(PatchError, match="unchanged"):
        write(src, target, block.sheet, few_rows(block))
    assert len(calls) >= 5 and target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({src.name, target.name})  # no temp file left


def test_a_sheet_damaged_past_its_first_pieces_is_reported(big: Path, block: ReadBlock, tmp_path: Path,
                                                           small_pieces: None) -> None:
    src = tmp_path / "damaged.xlsx"
    raw = bytearray(big.read_bytes())
    with zipfile.ZipFile(big) as zf:
        info = zf.getinfo(sheet_parts(zf)[block.sheet])
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
    at = info.header_offset + 30 + name_len + extra_len + info.compress_size * 3 // 4
    raw[at:at + 8] = bytes(8)  # the deflate stream broken three quarters in
    src.write_bytes(bytes(raw))
    target = tmp_path / "out.xlsx"
    with pytest.raises(PatchError, match="cannot be read"):
        write(src, target, block.sheet, [(block.address(0, "allocated"), 1, None)])
    assert not target.exists() and sorted(p.name for p in tmp_path.iterdir()) == [src.name]


def test_recalc_of_a_streamed_sheet_is_recalc_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        small_pieces: None, small_blocks: None) -> None:
    src = tmp_path / "wrong.xlsx"
    full = write_workbook(interleaved(120), tmp_path / "full.xlsx")
    rb = read_workbook(full).blocks["lines"]
    with monkeypatch.context() as m:
        m.setattr(patch, "STREAM_MIN", 1 << 40)
        write(full, src, rb.sheet, [(rb.address(i, "total"), Decimal(i + 1), None) for i in range(3, 100, 9)])
    edits, _ = plan_recalc_all(open_all(src))
    assert len(edits) > 10
    outs = []
    for limit in (1 << 40, 0):
        monkeypatch.setattr(patch, "STREAM_MIN", limit)
        assert {e.sheet for e in edits} == {rb.sheet}
        outs.append(inflated(write(src, tmp_path / f"out{limit}.xlsx", rb.sheet,
                                   [(e.cell, e.value, e.formula) for e in edits])))
    assert outs[0] == outs[1]


def test_a_sheet_edited_as_a_tree_after_a_failed_save_keeps_every_edit(big: Path, block: ReadBlock, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    outs = []
    for limit in (1 << 40, 0):
        monkeypatch.setattr(patch, "STREAM_MIN", limit)
        wp = WorkbookPatch(big)
        for cell, value, formula in few_rows(block):
            wp.set_cell(block.sheet, cell, value, formula=formula)
        with monkeypatch.context() as m:
            m.setattr(zipio.os, "replace", lambda *_: (_ for _ in ()).throw(OSError("disk full")))
            with pytest.raises(PatchError, match="unchanged"):
                wp.save(tmp_path / f"out{limit}.xlsx")
        wp.highlight(block.sheet, block.address(1, "allocated"))  # the tree editor takes the sheet over
        wp.set_cell(block.sheet, block.address(2, "allocated"), 99)
        outs.append(inflated(wp.save(tmp_path / f"out{limit}.xlsx")))
    assert outs[0] == outs[1]
    back = read_workbook(tmp_path / "out0.xlsx").blocks["lines"]
    assert back.rows[0]["allocated"] == Decimal("1234.5") and back.rows[2]["allocated"] == 99
