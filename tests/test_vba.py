"""vbaProject.bin writer: MS-OVBA compression, and projects that oletools, XlsxWriter and LibreOffice accept."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import olefile
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from osmep_xl.excel.vba import VbaModule, build_vba_project, compress, decompress
from tests.libreoffice import convert

# --------------------------------------------------------------------------------------------------
# Independent readings of the spec, used as oracles
# --------------------------------------------------------------------------------------------------


def _bit_count(difference: int) -> int:
    """MS-OVBA 2.4.1.3.19.1: the smallest BitCount >= 4 with 2**BitCount >= difference."""
    bit_count = 4
    while (1 << bit_count) < difference:
        bit_count += 1
    return bit_count


def _reference_compress(data: bytes) -> bytes:
    """The compression pseudo-code of MS-OVBA 2.4.1.3.6-2.4.1.3.19, transcribed literally (slow: small inputs)."""
    out = bytearray(b"\x01")
    for chunk_start in range(0, len(data), 4096):
        end = min(chunk_start + 4096, len(data))
        chunk = bytearray()
        cur = chunk_start
        while cur < end and len(chunk) < 4096:
            flag_at = len(chunk)
            chunk.append(0)
            for bit in range(8):
                if not (cur < end and len(chunk) < 4096):
                    continue
                best_len, best = 0, 0
                for candidate in range(cur - 1, chunk_start - 1, -1):  # Matching, nearest candidate first
                    c, d, n = candidate, cur, 0
                    while d < end and data[d] == data[c]:
                        c, d, n = c + 1, d + 1, n + 1
                    if n > best_len:
                        best_len, best = n, candidate
                if best_len >= 3:
                    bits = _bit_count(cur - chunk_start)
                    length = min(best_len, (0xFFFF >> bits) + 3)
                    if len(chunk) + 1 < 4096:
                        token = ((cur - best - 1) << (16 - bits)) | (length - 3)
                        chunk += token.to_bytes(2, "little")
                        chunk[flag_at] |= 1 << bit
                        cur += length
                    else:
                        chunk += bytes(4096 - len(chunk))  # "SET CompressedCurrent TO CompressedEnd"
                else:
                    chunk.append(data[cur])
                    cur += 1
        if cur < end:
            out += (0x3FFF).to_bytes(2, "little") + data[chunk_start:end].ljust(4096, b"\0")
        else:
            out += ((len(chunk) - 1) | 0xB000).to_bytes(2, "little") + chunk
    return bytes(out)


def _copy_tokens(container: bytes) -> list[tuple[int, int]]:
    """(BitCount, Length) of every CopyToken in a compressed container (MS-OVBA 2.4.1.3.2-2.4.1.3.19.2)."""
    tokens: list[tuple[int, int]] = []
    pos = 1
    while pos < len(container):
        header = int.from_bytes(container[pos : pos + 2], "little")
        end, cur = pos + (header & 0xFFF) + 3, pos + 2
        if header & 0x8000:
            produced = 0
            while cur < end:
                flags, cur = container[cur], cur + 1
                for bit in range(8):
                    if cur >= end:
                        break
                    if (flags >> bit) & 1:
                        bits = _bit_count(produced)
                        length = (int.from_bytes(container[cur : cur + 2], "little") & (0xFFFF >> bits)) + 3
                        tokens.append((bits, length))
                        produced, cur = produced + length, cur + 2
                    else:
                        produced, cur = produced + 1, cur + 1
        pos = end
    return tokens


def _assert_round_trip(data: bytes) -> None:
    container = compress(data)
    out = decompress(container)
    assert bytes(decompress_stream(bytearray(container))) == out  # oletools' decompressor agrees
    if out != data:
        # The one allowed difference (MS-OVBA 2.4.1.3.10): a final chunk that does not compress is stored raw,
        # padded with zeros to 4096 bytes.
        assert out[: len(data)] == data
        assert out[len(data) :] == bytes(len(out) - len(data))
        assert len(out) % 4096 == 0 and container[-4098:-4096] == b"\xff\x3f"


# --------------------------------------------------------------------------------------------------
# Compression
# --------------------------------------------------------------------------------------------------


def test_copy_token_help_matches_the_spec_table() -> None:
    # 2.4.1.3.19.1: MaximumLength = (0xFFFF >> BitCount) + 3, so 4098 right after a chunk starts, 18 at its end.
    container = compress(b"a" * 4096)
    assert _copy_tokens(container) == [(4, 4095)]  # one literal, then a single token for the rest of the chunk
    assert decompress(container) == b"a" * 4096
    assert [(0xFFFF >> _bit_count(d)) + 3 for d in (1, 16, 17, 32, 33, 2048, 2049, 4095)] == [
        4098, 4098, 2050, 2050, 1026, 34, 18, 18,
    ]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600) | st.builds(lambda n, rnd: rnd.randbytes(n), st.integers(0, 12_300), st.randoms()))
def test_round_trip_random_bytes(data: bytes) -> None:
    _assert_round_trip(data)


_PIECES = st.sampled_from([b"a", b"ab", b"    ", b"\r\n", b"End Sub", b'Range("A1").Value = ', b"xyz", b"\x00"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_PIECES, st.integers(1, 400)), max_size=40))
def test_round_trip_repetitive(runs: list[tuple[bytes, int]]) -> None:
    data = b"".join(piece * count for piece, count in runs)
    _assert_round_trip(data)
    assert decompress(compress(data)) == data  # repetitive data always compresses: no raw padding


@settings(max_examples=40, deadline=None)
@given(
    size=st.sampled_from([4093, 4094, 4095, 4096, 4097, 4098, 8191, 8192, 8193, 12_288, 12_290]),
    alphabet=st.sampled_from([b"a", b"ab", b"abc", b"Sub Foo()\r\n", bytes(range(256))]),
    seed=st.binary(min_size=0, max_size=64),
)
def test_round_trip_around_chunk_boundaries(size: int, alphabet: bytes, seed: bytes) -> None:
    data = (seed + alphabet * (size // len(alphabet) + 1))[:size]
    _assert_round_trip(data)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=1, max_size=3), st.integers(1, 9000)), min_size=1, max_size=4))
def test_round_trip_long_runs(runs: list[tuple[bytes, int]]) -> None:
    # Long runs make nearly every token as long as its position allows: the copy-token maximum length matters.
    data = b"".join(piece * count for piece, count in runs)[:30_000]
    _assert_round_trip(data)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"b", b"ab", b"Sub ", b"\r\n", b"x"]), max_size=120))
def test_compression_equals_the_spec_pseudo_code(pieces: list[bytes]) -> None:
    data = b"".join(pieces)[:500]
    assert compress(data) == _reference_compress(data)


def test_long_module_decompresses_in_oletools_with_maximum_length_tokens() -> None:
    line = b'    ActiveSheet.Range("A1:Z100").Value = "the same line again and again"\r\n'
    # Runs of 1-13 identical lines: long matches start at every distance from a chunk start.
    module = b"".join(b"Public Sub Fill%d()\r\n" % i + line * (i * 7 % 13 + 1) + b"End Sub\r\n" for i in range(60))
    assert len(module) > 30_000
    container = compress(module)
    assert bytes(decompress_stream(bytearray(container))) == module
    assert len(container) < len(module) // 8
    # Tokens are capped at the spec's maximum for every BitCount the module reaches: a wrong cap would either
    # never reach these lengths or write tokens oletools expands to different text.
    lengths = {bits: max(length for b, length in _copy_tokens(container) if b == bits) for bits in range(8, 13)}
    assert lengths == {bits: (0xFFFF >> bits) + 3 for bits in range(8, 13)}  # 258, 130, 66, 34, 18


def test_decompress_rejects_malformed_input() -> None:
    for bad in (b"", b"\x02", b"\x01\x00", b"\x01\x05\xb0\x01a", b"\x01\x04\xb0\x02\x00\x00"):
        with pytest.raises(ValueError):
            decompress(bad)


# --------------------------------------------------------------------------------------------------
# Projects
# --------------------------------------------------------------------------------------------------

LONG_MODULE = "Option Explicit\n" + "".join(
    f"Public Sub Fill{i}()\n" + '    ActiveSheet.Range("A1:Z100").Value = "repetitive line"\n' * 8 + "End Sub\n\n"
    for i in range(40)
)
HELLO_MODULE = 'Attribute VB_Name = "Buttons"\r\nPublic Sub Hello()\r\n    MsgBox "Hello from a button"\r\nEnd Sub'
WORKBOOK_CODE = 'Private Sub Workbook_Open()\n    Sheet1.Range("A1").Value = "opened"\nEnd Sub\n'
SHEET_CODE = 'Private Sub Worksheet_Activate()\n    Me.Range("B2").Value = 42\nEnd Sub\n'
MODULES = [
    VbaModule("ThisWorkbook", WORKBOOK_CODE, "document"),
    VbaModule("Sheet1", SHEET_CODE, "document"),
    VbaModule("Filler", LONG_MODULE),
    VbaModule("Buttons", HELLO_MODULE),
]
SOURCES = {
    "ThisWorkbook": WORKBOOK_CODE,
    "Sheet1": SHEET_CODE,
    "Sheet2": "",
    "Filler": LONG_MODULE,
    "Buttons": HELLO_MODULE,
}
SUBS = {"Workbook_Open", "Worksheet_Activate", "Hello", *(f"Fill{i}" for i in range(40))}


def _body(code: str) -> str:
    """Module text without its leading ``Attribute VB_*`` lines, with LF line ends and a final newline."""
    lines = code.replace("\r\n", "\n").split("\n")
    while lines and lines[0].startswith("Attribute VB_"):
        lines.pop(0)
    text = "\n".join(lines)
    return text if not text or text.endswith("\n") else text + "\n"


def _olevba_modules(path: Path) -> dict[str, tuple[str, str]]:
    """``{module name: (olevba file name, code)}``, parsed strictly (``relaxed=False``)."""
    parser = VBA_Parser(str(path), relaxed=False)
    try:
        return {stream.split("/")[-1]: (name, code) for _, stream, name, code in parser.extract_macros()}
    finally:
        parser.close()


@pytest.fixture(scope="module")
def project() -> bytes:
    data = build_vba_project(MODULES, sheet_code_names=["Sheet1", "Sheet2"])
    assert len(SOURCES["Filler"]) > 10_000
    return data


@pytest.fixture(scope="module")
def xlsm(project: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("vba")
    (folder / "vbaProject.bin").write_bytes(project)
    path = folder / "macros.xlsm"
    workbook = xlsxwriter.Workbook(str(path))
    first, second = workbook.add_worksheet("Data"), workbook.add_worksheet("Notes")
    first.write("A1", "hello")
    second.write("A1", 2)
    assert workbook.add_vba_project(str(folder / "vbaProject.bin")) == 0
    first.insert_button("C3", {"macro": "Hello", "caption": "Say hello", "width": 120, "height": 30})
    workbook.close()
    return path


def test_xlsm_modules_read_back_by_olevba(xlsm: Path) -> None:
    with zipfile.ZipFile(xlsm) as package:  # XlsxWriter's default code names match the sheet modules
        assert 'codeName="Sheet1"' in package.read("xl/worksheets/sheet1.xml").decode()
        assert 'codeName="Sheet2"' in package.read("xl/worksheets/sheet2.xml").decode()
        assert 'codeName="ThisWorkbook"' in package.read("xl/workbook.xml").decode()
    modules = _olevba_modules(xlsm)
    assert set(modules) == set(SOURCES)
    for name, source in SOURCES.items():
        file_name, code = modules[name]
        assert file_name == name + (".bas" if name in ("Filler", "Buttons") else ".cls")
        assert code.startswith(f'Attribute VB_Name = "{name}"\r\n')
        assert _body(code) == _body(source), name
    for name in ("ThisWorkbook", "Sheet1", "Sheet2"):
        base = "00020819" if name == "ThisWorkbook" else "00020820"
        assert f'Attribute VB_Base = "0{{{base}-0000-0000-C000-000000000046}}"\r\n' in modules[name][1]
        assert "Attribute VB_PredeclaredId = True\r\nAttribute VB_Exposed = True\r\n" in modules[name][1]


def _ole(data: bytes) -> olefile.OleFileIO:
    """Open a compound file, failing on anything olefile considers even a potential defect."""
    return olefile.OleFileIO(data, raise_defects=olefile.DEFECT_POTENTIAL)


def _decrypt(hex_text: str) -> bytes:
    """MS-OVBA 2.4.3.3 data decryption of a CMG/DPB/GC value."""
    raw = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = raw[0], raw[1], raw[2]
    assert seed ^ version_enc == 2
    plain, unencrypted_1, encrypted_1, encrypted_2 = bytearray(), seed ^ key_enc, key_enc, version_enc
    for byte in raw[3:]:
        value = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        plain.append(value)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte, value
    plain = plain[(seed & 6) // 2 :]
    size = int.from_bytes(plain[:4], "little")
    assert len(plain) == 4 + size
    return bytes(plain[4:])


def test_project_streams(project: bytes) -> None:
    ole = _ole(project)
    assert sorted("/".join(path) for path in ole.listdir()) == sorted(
        ["PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir", *(f"VBA/{name}" for name in SOURCES)]
    )
    assert ole.openstream("VBA/_VBA_PROJECT").read() == b"\xcc\x61\xff\xff\x00\x00\x00"  # 2.3.4.1, no cache
    text = ole.openstream("PROJECT").read().decode("ascii")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert re.fullmatch(r'ID="\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}"', lines[0])
    assert lines[1:6] == [
        "Document=ThisWorkbook/&H00000000",
        "Document=Sheet1/&H00000000",
        "Document=Sheet2/&H00000000",
        "Module=Filler",
        "Module=Buttons",
    ]
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    assert values["Name"] == '"VBAProject"'
    assert _decrypt(values["CMG"].strip('"')) == bytes(4)  # not protected
    assert _decrypt(values["DPB"].strip('"')) == b"\x00"  # no password
    assert _decrypt(values["GC"].strip('"')) == b"\xff"  # visible
    assert "[Host Extender Info]" in lines and "[Workspace]" in lines
    names = ["ThisWorkbook", "Sheet1", "Sheet2", "Filler", "Buttons"]
    wm = b"".join(n.encode() + b"\0" + n.encode("utf-16-le") + b"\0\0" for n in names) + b"\0\0"
    assert ole.openstream("PROJECTwm").read() == wm
    # Module streams: compressed source from offset 0, the large one past the mini-stream cutoff.
    filler = ole.openstream("VBA/Filler").read()
    assert _body(decompress(filler).decode("ascii")) == _body(LONG_MODULE)
    ole.close()


RED, BLACK = 0, 1  # MS-CFB 2.6.1 colour flags


def test_compound_file_directory_is_a_valid_red_black_tree() -> None:
    modules = [VbaModule(f"Mod{'x' * (i % 7)}{i}", f"Sub S{i}()\nEnd Sub\n") for i in range(22)]
    data = build_vba_project(modules, sheet_code_names=[f"Sheet{i}" for i in range(1, 6)])
    assert len(data) % 512 == 0
    ole = _ole(data)
    entries = ole.direntries

    def key(sid: int) -> tuple[int, str]:
        return len(entries[sid].name), entries[sid].name.upper()

    def check(sid: int, low: tuple[int, str] | None, high: tuple[int, str] | None) -> tuple[int, int]:
        """Return (black height, size) of the subtree at ``sid`` after checking order and colour rules."""
        if sid == olefile.NOSTREAM:
            return 1, 0
        entry = entries[sid]
        assert (low is None or low < key(sid)) and (high is None or key(sid) < high)
        if entry.color == RED:
            for child in (entry.sid_left, entry.sid_right):
                assert child == olefile.NOSTREAM or entries[child].color == BLACK
        left_height, left_size = check(entry.sid_left, low, key(sid))
        right_height, right_size = check(entry.sid_right, key(sid), high)
        assert left_height == right_height
        return left_height + (entry.color == BLACK), left_size + right_size + 1

    vba = next(e for e in entries if e is not None and e.name == "VBA")
    assert entries[vba.sid_child].color == BLACK
    assert check(vba.sid_child, None, None)[1] == 2 + 6 + 22
    assert any(e is not None and e.color == RED for e in entries)
    assert {"/".join(p) for p in ole.listdir()} >= {f"VBA/Mod{'x' * (i % 7)}{i}" for i in range(22)}
    for i in (0, 21):
        name = f"Mod{'x' * (i % 7)}{i}"
        assert _body(decompress(ole.openstream(f"VBA/{name}").read()).decode()) == f"Sub S{i}()\nEnd Sub\n"
    ole.close()


def test_attribute_headers_and_exported_files() -> None:
    exported_cls = (
        "VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  'True\r\nEND\r\n"
        'Attribute VB_Name = "Sheet1"\r\nAttribute VB_GlobalNameSpace = False\r\nAttribute VB_Exposed = True\r\n'
        "Option Explicit\r\n"
    )
    modules = [
        VbaModule("Sheet1", exported_cls, "document"),
        VbaModule("Renamed", 'Attribute VB_Name = "OldName"\nAttribute VB_Description = "kept"\nSub A()\nEnd Sub'),
        VbaModule("Bare", "Sub B()\rEnd Sub\r"),
    ]
    ole = _ole(build_vba_project(modules, sheet_code_names=["Sheet1"]))
    sheet = decompress(ole.openstream("VBA/Sheet1").read()).decode()
    assert sheet.startswith('Attribute VB_Name = "Sheet1"\r\nAttribute VB_Base = "0{00020820-')
    assert "VERSION" not in sheet and sheet.count("VB_Exposed") == 1 and sheet.endswith("\r\nOption Explicit\r\n")
    renamed = decompress(ole.openstream("VBA/Renamed").read()).decode()
    assert renamed == 'Attribute VB_Name = "Renamed"\r\nAttribute VB_Description = "kept"\r\nSub A()\r\nEnd Sub\r\n'
    assert decompress(ole.openstream("VBA/Bare").read()) == b'Attribute VB_Name = "Bare"\r\nSub B()\r\nEnd Sub\r\n'
    ole.close()


@pytest.mark.parametrize(
    ("modules", "sheets", "message"),
    [
        ([VbaModule("Module1", 'Sub A()\n  MsgBox "héllo"\nEnd Sub')], [], r"ASCII-only.*line 2, column 12"),
        ([VbaModule("1Module", "")], [], "not a valid VBA name"),
        ([VbaModule("Module-1", "")], [], "not a valid VBA name"),
        ([VbaModule("M" * 32, "")], [], "not a valid VBA name"),
        ([VbaModule("Module1", ""), VbaModule("MODULE1", "")], [], "used twice"),
        ([VbaModule("Sheet1", "")], ["Sheet1"], "used twice"),
        ([VbaModule("Dir", "")], [], "reserved"),
        ([VbaModule("Sheet3", "", "document")], ["Sheet1"], "neither ThisWorkbook nor one of the sheet"),
        ([VbaModule("Sheet1", "", "document"), VbaModule("sheet1", "", "document")], ["Sheet1"], "given twice"),
        ([], ["Sheet 1"], "not a valid VBA name"),
    ],
)
def test_invalid_projects_are_rejected(modules: list[VbaModule], sheets: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_vba_project(modules, sheet_code_names=sheets)


def test_invalid_module_kind_and_project_name() -> None:
    with pytest.raises(ValueError, match="kind must be"):
        VbaModule("M", "", "form")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Project name"):
        build_vba_project([], project_name="My Project")


def test_builds_are_reproducible(project: bytes) -> None:
    assert build_vba_project(MODULES, sheet_code_names=["Sheet1", "Sheet2"]) == project
    other = build_vba_project(MODULES, project_name="Budget", sheet_code_names=["Sheet1", "Sheet2"])
    assert other != project and b'Name="Budget"' in _ole(other).openstream("PROJECT").read()


# --------------------------------------------------------------------------------------------------
# LibreOffice
# --------------------------------------------------------------------------------------------------


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_imports_the_macros(xlsm: Path, tmp_path: Path) -> None:
    # As .ods, LibreOffice writes each VBA module it imported as a Basic module of a "VBAProject" library.
    (ods,) = convert([xlsm], tmp_path / "ods", "ods")
    with zipfile.ZipFile(ods) as package:
        found: dict[str, tuple[str, str]] = {}
        for name in package.namelist():
            if re.fullmatch(r"Basic/VBAProject/(?!script-lb)\w+\.xml", name):
                module = ElementTree.fromstring(package.read(name))
                script = "{http://openoffice.org/2000/script}"
                found[module.get(f"{script}name", "")] = (module.get(f"{script}moduleType", ""), module.text or "")
        content = package.read("content.xml").decode()
    assert set(found) == set(SOURCES)
    for name, source in SOURCES.items():
        kind, text = found[name]
        assert kind == ("normal" if name in ("Filler", "Buttons") else "document")
        assert _body(source) in text.replace("\r\n", "\n"), name
    assert {sub for _, text in found.values() for sub in re.findall(r"Sub (\w+)\(", text)} == SUBS
    assert "vnd.sun.star.script:VBAProject.Buttons.Hello?" in content  # the button runs the macro

    # As .xlsm, LibreOffice writes its own vbaProject.bin from what it imported: read that back too.
    (again,) = convert([xlsm], tmp_path / "xlsm", "xlsm")
    modules = _olevba_modules(again)
    assert set(modules) == set(SOURCES)
    assert {sub for _, code in modules.values() for sub in re.findall(r"Sub (\w+)\(", code)} == SUBS


def test_class_module_reads_back_as_a_class(tmp_path: Path) -> None:
    """A .cls exported from the VBA editor (VERSION/BEGIN header, its own attributes) stays a class module."""
    from oletools.olevba import VBA_Parser

    from osmep_xl.excel.vba import VbaModule, build_vba_project

    cls = ("VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  'True\r\nEND\r\nAttribute VB_Name = \"Counter\"\r\n"
           "Attribute VB_GlobalNameSpace = False\r\nAttribute VB_Creatable = False\r\n"
           "Attribute VB_PredeclaredId = False\r\nAttribute VB_Exposed = True\r\n"
           "Private n As Long\r\nPublic Sub Add()\r\n    n = n + 1\r\nEnd Sub\r\n")
    project = build_vba_project([VbaModule("Counter", cls, kind="class"),
                                 VbaModule("Main", "Sub Go()\r\n    Dim c As New Counter\r\nEnd Sub\r\n")])
    path = tmp_path / "vbaProject.bin"
    path.write_bytes(project)
    parser = VBA_Parser(str(path), relaxed=False)
    try:
        found = {name: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()
    assert "Counter.cls" in found and "Main.bas" in found
    assert "Attribute VB_Exposed = True" in found["Counter.cls"]
    assert "Public Sub Add()" in found["Counter.cls"]
    assert "VERSION 1.0 CLASS" not in found["Counter.cls"]
