"""Build an Excel VBA project binary (``vbaProject.bin``) from VBA source text, without Excel.

The result is what XlsxWriter's ``Workbook.add_vba_project`` embeds into an ``.xlsm``. It holds the
streams of [MS-OVBA] 2.2.1 inside a [MS-CFB] version 3 compound file:

- ``PROJECT`` (2.3.1) and ``PROJECTwm`` (2.3.3): the project's text description and module name map;
- ``VBA/_VBA_PROJECT`` (2.3.4.1): a 7-byte header whose version 0xFFFF makes Office ignore any
  compiled state and recompile from the source, so no performance cache is written;
- ``VBA/dir`` (2.3.4.2): the compressed project information, references and module records;
- one ``VBA/<module>`` stream per module (2.3.4.3): the compressed source text at offset 0.

Written from the specifications rather than on the ``ms-ovba`` package (0.0.1): its compressor
(``ms_ovba_compression`` 1.0.1) computes the copy-token maximum length as ``0xFFFF << bitCount + 3``
instead of ``(0xFFFF >> bitCount) + 3``, and its stack (``ms-cfb``, ``ms-ovba-crypto``, PyYAML, a red-black
tree package) is a lot to carry for a few hundred lines. ``olefile`` cannot create compound files, and the
other writers on PyPI are AGPL-licensed (``cfbwrite``) or part of that same 0.0.x stack (``ms-cfb``), so a
minimal [MS-CFB] writer is included as well. Only the standard library is needed.
"""

from __future__ import annotations

import re
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["VbaModule", "build_vba_project", "compress", "decompress"]

ModuleKind = Literal["standard", "document", "class"]


@dataclass(frozen=True)
class VbaModule:
    """One VBA module: ``standard`` (a .bas procedural module), ``class`` (a .cls class module) or
    ``document`` (ThisWorkbook or a sheet)."""

    name: str
    code: str
    kind: ModuleKind = "standard"

    def __post_init__(self) -> None:
        if self.kind not in ("standard", "document", "class"):
            raise ValueError(
                f"VBA module {self.name!r}: kind must be 'standard', 'class' or 'document', not {self.kind!r}")


# --------------------------------------------------------------------------------------------------
# [MS-OVBA] 2.4.1 compression
# --------------------------------------------------------------------------------------------------

_CHUNK = 4096  # a DecompressedChunk holds at most 4096 bytes (2.4.1.1.3)
_CHUNK_SIGNATURE = 0b011  # CompressedChunkSignature (2.4.1.1.5)


def _copy_token_help(difference: int) -> tuple[int, int]:
    """BitCount and MaximumLength of a CopyToken ``difference`` bytes into its chunk (2.4.1.3.19.1).

    BitCount is the smallest n >= 4 with 2**n >= difference; MaximumLength is (0xFFFF >> BitCount) + 3.
    """
    bit_count = max((difference - 1).bit_length(), 4)
    return bit_count, (0xFFFF >> bit_count) + 3


def _longest_match(buf: bytes, chunk_start: int, pos: int, chunk_end: int) -> tuple[int, int]:
    """The spec's Matching (2.4.1.3.19.4): the nearest earlier position with the longest match.

    Returns ``(offset, length)``, or ``(0, 0)`` when no match of at least 3 bytes exists. Equivalent to the
    spec's backwards scan over every candidate, but uses ``bytes.rfind`` to jump straight to the nearest
    candidate that beats the best length so far, which keeps compression fast on large modules.
    """
    available = chunk_end - pos
    if available < 3:
        return 0, 0
    best_pos, best_len = -1, 0
    need = 3  # matches shorter than 3 bytes are never encoded
    while need <= available:
        # Occurrences may overlap the current position (start <= pos - 1), exactly like the spec's C/D scan.
        found = buf.rfind(buf[pos : pos + need], chunk_start, pos + need - 1)
        if found < 0:
            break
        lo, hi = need, available  # the match is at least `need` long: binary-search its true length
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if buf[found : found + mid] == buf[pos : pos + mid]:
                lo = mid
            else:
                hi = mid - 1
        best_pos, best_len = found, lo
        need = lo + 1
    if best_len < 3:
        return 0, 0
    _, maximum_length = _copy_token_help(pos - chunk_start)
    return pos - best_pos, min(best_len, maximum_length)


def _compress_chunk(buf: bytes, start: int, end: int) -> bytes:
    """One CompressedChunk, header included, for ``buf[start:end]`` (2.4.1.3.7)."""
    out = bytearray()
    pos = start
    overflow = False
    # CompressedEnd is 4098 bytes past the chunk start, i.e. 4096 bytes of chunk data after the header.
    while pos < end and len(out) < _CHUNK and not overflow:
        flag_index = len(out)  # 2.4.1.3.8: a FlagByte, then up to 8 tokens
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end or len(out) >= _CHUNK:
                break
            offset, length = _longest_match(buf, start, pos, end)
            if offset:  # 2.4.1.3.9: a CopyToken needs two bytes of room
                if len(out) + 1 >= _CHUNK:
                    overflow = True
                    break
                bit_count, _ = _copy_token_help(pos - start)
                token = ((offset - 1) << (16 - bit_count)) | (length - 3)  # 2.4.1.3.19.3 Pack CopyToken
                out += token.to_bytes(2, "little")
                flags |= 1 << bit
                pos += length
            else:
                out.append(buf[pos])
                pos += 1
        out[flag_index] = flags
    if pos < end:
        # 2.4.1.3.10: the tokens did not fit, so store the chunk raw. The spec pads a short final raw chunk
        # with zeros to 4096 bytes; that only happens for a final chunk of ~3.6 KB or more with almost no
        # 3-byte repeats, which VBA source text never is.
        header = (_CHUNK + 2 - 3) | (_CHUNK_SIGNATURE << 12)
        return header.to_bytes(2, "little") + buf[start:end].ljust(_CHUNK, b"\0")
    header = (len(out) + 2 - 3) | (_CHUNK_SIGNATURE << 12) | 0x8000  # 2.4.1.3.13 Pack CompressedChunkHeader
    return header.to_bytes(2, "little") + bytes(out)


def compress(data: bytes) -> bytes:
    """Compress ``data`` into an [MS-OVBA] 2.4.1 CompressedContainer (2.4.1.3.6)."""
    buf = bytes(data)
    parts = [b"\x01"]  # SignatureByte
    for start in range(0, len(buf), _CHUNK):
        parts.append(_compress_chunk(buf, start, min(start + _CHUNK, len(buf))))
    return b"".join(parts)


def decompress(data: bytes) -> bytes:
    """Expand an [MS-OVBA] 2.4.1 CompressedContainer (2.4.1.3.1); raises ValueError on malformed input."""
    if not data or data[0] != 0x01:
        raise ValueError("not an MS-OVBA compressed container: the signature byte must be 0x01")
    out = bytearray()
    pos, total = 1, len(data)
    while pos < total:
        if pos + 2 > total:
            raise ValueError(f"truncated chunk header at offset {pos}")
        header = int.from_bytes(data[pos : pos + 2], "little")
        size = (header & 0x0FFF) + 3
        if (header >> 12) & 0b111 != _CHUNK_SIGNATURE:
            raise ValueError(f"bad CompressedChunkSignature at offset {pos}")
        chunk_end = min(total, pos + size)  # 2.4.1.3.2: CompressedEnd is capped by the record end
        cur = pos + 2
        if not header & 0x8000:  # 2.4.1.3.3: a raw chunk is always 4096 bytes
            if size != _CHUNK + 2 or pos + size > total:
                raise ValueError(f"bad raw chunk at offset {pos}")
            out += data[cur : cur + _CHUNK]
            pos += size
            continue
        chunk_start = len(out)
        while cur < chunk_end:  # 2.4.1.3.4 Decompressing a TokenSequence
            flags = data[cur]
            cur += 1
            for bit in range(8):
                if cur >= chunk_end:
                    break
                if not (flags >> bit) & 1:
                    out.append(data[cur])
                    cur += 1
                    continue
                if cur + 2 > chunk_end:
                    raise ValueError(f"truncated CopyToken at offset {cur}")
                token = int.from_bytes(data[cur : cur + 2], "little")
                cur += 2
                bit_count, _ = _copy_token_help(len(out) - chunk_start)  # 2.4.1.3.19.2 Unpack CopyToken
                offset = (token >> (16 - bit_count)) + 1
                length = (token & (0xFFFF >> bit_count)) + 3
                if offset > len(out) - chunk_start:
                    raise ValueError(f"CopyToken at offset {cur - 2} points before its chunk")
                src = len(out) - offset
                # The copy may overlap what it writes (offset < length): repeat the period.
                period = bytes(out[src:])
                out += (period * (length // offset + 1))[:length]
        pos = chunk_end
    return bytes(out)


# --------------------------------------------------------------------------------------------------
# [MS-OVBA] 2.3 streams
# --------------------------------------------------------------------------------------------------

_CODEPAGE = 1252  # PROJECTCODEPAGE; the sources are ASCII, so every byte means the same in any code page
_LCID = 0x0409  # PROJECTLCID / PROJECTLCIDINVOKE: MUST be 0x0409 (2.3.4.2.1.3-4)
_SYSKIND_WIN32 = 0x00000001  # PROJECTSYSKIND (2.3.4.2.1.1); Office recompiles for its own bitness anyway
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}\Z")  # VBA identifiers; 31 chars also fits a CFB name

# References as Excel writes them for a new workbook (2.3.4.2.2.5 REFERENCEREGISTERED). Office resolves
# them by GUID and version from the registry; the paths only document where they usually are.
_REFERENCES = (
    ("stdole", r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation"),
    (
        "Office",
        r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files\Microsoft Shared\OFFICE16"
        r"\MSO.DLL#Microsoft Office 16.0 Object Library",
    ),
)

_WORKBOOK_CODE_NAME = "ThisWorkbook"
# VB_Base of a document module names the host class it extends: Workbook (00020819) or Worksheet (00020820).
_WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
_WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"

_ATTRIBUTE_LINE = re.compile(r"\s*Attribute\s+VB_(\w+)\s*=", re.IGNORECASE)
_CLASS_HEADER = re.compile(r"\s*VERSION\s+[\d.]+\s+CLASS\s*\Z", re.IGNORECASE)


def _rec(rec_id: int, payload: bytes) -> bytes:
    """An Id / Size / Data record of the dir stream (2.3.4.2).

    The Unicode halves of the two-part records (Reserved 0x0040, 0x003D, 0x003C, 0x003E, 0x0032, 0x0048
    followed by a size and UTF-16 text) have the same shape, so they are written with this too.
    """
    return struct.pack("<HI", rec_id, len(payload)) + payload


def _mbcs(text: str) -> bytes:
    return text.encode("cp1252")


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _dir_stream(project_name: str, modules: Sequence[tuple[str, bool]]) -> bytes:
    """The decompressed ``dir`` stream (2.3.4.2) for ``(name, is_document)`` modules."""
    out = bytearray()
    # PROJECTINFORMATION (2.3.4.2.1), in the order the spec fixes.
    out += _rec(0x0001, struct.pack("<I", _SYSKIND_WIN32))  # PROJECTSYSKIND
    out += _rec(0x0002, struct.pack("<I", _LCID))  # PROJECTLCID
    out += _rec(0x0014, struct.pack("<I", _LCID))  # PROJECTLCIDINVOKE
    out += _rec(0x0003, struct.pack("<H", _CODEPAGE))  # PROJECTCODEPAGE
    out += _rec(0x0004, _mbcs(project_name))  # PROJECTNAME
    out += _rec(0x0005, b"") + _rec(0x0040, b"")  # PROJECTDOCSTRING (empty) + its Unicode form
    out += _rec(0x0006, b"") + _rec(0x003D, b"")  # PROJECTHELPFILEPATH: HelpFile1, HelpFile2
    out += _rec(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _rec(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS: MUST be 0
    # PROJECTVERSION: its Reserved field reads like a size of 4 but 6 bytes follow (2.3.4.2.1.11).
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)
    out += _rec(0x000C, b"") + _rec(0x003C, b"")  # PROJECTCONSTANTS (none) + Unicode form
    # PROJECTREFERENCES (2.3.4.2.2): REFERENCENAME then REFERENCEREGISTERED for each library.
    for name, libid in _REFERENCES:
        out += _rec(0x0016, _mbcs(name)) + _rec(0x003E, _utf16(name))
        lib = _mbcs(libid)
        out += _rec(0x000D, struct.pack("<I", len(lib)) + lib + struct.pack("<IH", 0, 0))
    # PROJECTMODULES (2.3.4.2.3) with its PROJECTCOOKIE (Cookie MUST be 0xFFFF on write).
    out += _rec(0x000F, struct.pack("<H", len(modules)))
    out += _rec(0x0013, struct.pack("<H", 0xFFFF))
    for name, is_document in modules:  # MODULE record (2.3.4.2.3.2)
        out += _rec(0x0019, _mbcs(name)) + _rec(0x0047, _utf16(name))  # MODULENAME, MODULENAMEUNICODE
        out += _rec(0x001A, _mbcs(name)) + _rec(0x0032, _utf16(name))  # MODULESTREAMNAME: stream = module name
        out += _rec(0x001C, b"") + _rec(0x0048, b"")  # MODULEDOCSTRING
        out += _rec(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: no performance cache, source starts at 0
        out += _rec(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += _rec(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
        # MODULETYPE: 0x0021 procedural, 0x0022 document/class; its Reserved field is a zero "size".
        out += struct.pack("<HI", 0x0022 if is_document else 0x0021, 0)
        out += struct.pack("<HI", 0x002B, 0)  # module Terminator
    out += struct.pack("<HI", 0x0010, 0)  # dir stream Terminator
    return bytes(out)


def _encrypt(project_id: str, data: bytes, seed: int) -> str:
    """[MS-OVBA] 2.4.3.2 data encryption, as the hex text of the PROJECT stream's CMG/DPB/GC values."""
    version = 2
    project_key = sum(project_id.encode("ascii")) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ project_key])
    unencrypted_1, encrypted_1, encrypted_2 = project_key, seed ^ project_key, seed ^ version
    ignored = bytes([seed]) * ((seed & 6) // 2)  # IgnoredLength bytes, whose values are ignored on read
    for byte in ignored + struct.pack("<I", len(data)) + data:
        encrypted = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(encrypted)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, encrypted, byte
    return out.hex().upper()


_VISIBLE = bytes([0xFF])  # ProjectVisibilityState: the project is visible in the editor


def _project_stream(project_name: str, project_id: str, documents: Sequence[str], standards: Sequence[str],
                    classes: Sequence[str] = ()) -> bytes:
    """The ``PROJECT`` stream (2.3.1): the project's properties as CRLF-terminated text."""
    seeds = uuid.uuid5(uuid.NAMESPACE_OID, project_id).bytes  # random in Office; fixed here for reproducibility
    lines = [f'ID="{project_id}"']
    lines += [f"Document={name}/&H00000000" for name in documents]  # ProjectDocModule (2.3.1.4)
    lines += [f"Module={name}" for name in standards]  # ProjectStdModule (2.3.1.5)
    lines += [f"Class={name}" for name in classes]  # ProjectClassModule (2.3.1.6)
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        # Unprotected values: ProjectProtectionState 0 (2.3.1.15), ProjectPassword "none" = one 0x00 byte
        # (2.3.1.16) and ProjectVisibilityState 0xFF = visible (2.3.1.17).
        f'CMG="{_encrypt(project_id, bytes(4), seeds[0])}"',
        f'DPB="{_encrypt(project_id, bytes(1), seeds[1])}"',
        f'GC="{_encrypt(project_id, _VISIBLE, seeds[2])}"',
        "",
        "[Host Extender Info]",  # 2.3.1.18: the VBE extender every Office host lists
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
        "[Workspace]",  # 2.3.1.19: code windows closed
    ]
    lines += [f"{name}=0, 0, 0, 0, C" for name in (*documents, *standards, *classes)]
    return _mbcs("\r\n".join(lines) + "\r\n")


def _projectwm_stream(names: Sequence[str]) -> bytes:
    """The ``PROJECTwm`` stream (2.3.3): each module name in MBCS and UTF-16, zero-terminated."""
    out = bytearray()
    for name in names:
        out += _mbcs(name) + b"\0" + _utf16(name) + b"\0\0"
    out += b"\0\0"  # Terminator
    return bytes(out)


# _VBA_PROJECT (2.3.4.1): Reserved1 0x61CC, Version 0xFFFF ("recompile from source"), Reserved2, Reserved3.
_VBA_PROJECT_STREAM = struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0000)


def _check_source(name: str, code: str) -> None:
    """Reject non-ASCII (and NUL) source, naming the first offending character's position."""
    if code.isascii() and "\0" not in code:
        return
    for line_no, line in enumerate(code.splitlines(), start=1):
        for col, char in enumerate(line, start=1):
            if not char.isascii() or char == "\0":
                raise ValueError(
                    f"VBA module {name!r} must be ASCII-only text: {char!r} (U+{ord(char):04X}) at line {line_no},"
                    f" column {col}"
                )
    raise ValueError(f"VBA module {name!r} must be ASCII-only text")


_CLASS = ""  # the "base" of a plain class module
# The attribute block Excel writes at the top of every class module's stream, in this order (after VB_Name).
# A .cls exported from the VBA editor states the middle four; VB_Base and the last two are not exported.
_CLASS_ATTRIBUTES = (
    ("Base", '"0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"'),
    ("GlobalNameSpace", "False"),
    ("Creatable", "False"),
    ("PredeclaredId", "False"),
    ("Exposed", "False"),
    ("TemplateDerived", "False"),
    ("Customizable", "False"),
)


def _attribute_block(name: str, base: str | None, given: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Leading ``Attribute`` lines as Excel writes them: VB_Name first, then the full class block for
    documents and class modules. ``given`` are ``(key, line)`` of the module's own leading attributes
    (other than VB_Name): a class module keeps their values, in Excel's order, and any others after them."""
    lines = [f'Attribute VB_Name = "{name}"']
    if base == _CLASS:
        own = {key.upper(): line for key, line in given}
        lines += [own.pop(key.upper(), f"Attribute VB_{key} = {value}") for key, value in _CLASS_ATTRIBUTES]
        lines += own.values()
    elif base is not None:
        lines += [
            f'Attribute VB_Base = "{base}"',
            "Attribute VB_GlobalNameSpace = False",
            "Attribute VB_Creatable = False",
            "Attribute VB_PredeclaredId = True",
            "Attribute VB_Exposed = True",
            "Attribute VB_TemplateDerived = False",
            "Attribute VB_Customizable = True",
        ]
    else:
        lines += [line for _, line in given]
    return lines


def _module_source(name: str, code: str, base: str | None) -> bytes:
    """The text of a module stream (2.3.4.3): the Attribute header, then the code, CRLF line ends.

    Accepts code as exported by the VBA editor too: a ``.cls`` file's ``VERSION 1.0 CLASS`` / ``BEGIN`` ..
    ``END`` block is dropped (it is not part of the stream), and leading ``Attribute VB_*`` lines are replaced
    by the ones this project needs; standard and class modules keep their own leading attributes other than
    VB_Name (a class module's in the block Excel writes).
    """
    _check_source(name, code)
    lines = code.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    i = 0
    if lines and _CLASS_HEADER.match(lines[0]):
        ends = [k for k, line in enumerate(lines) if line.strip().upper() == "END"]
        if ends:
            i = ends[0] + 1
    kept: list[tuple[str, str]] = []
    while i < len(lines) and (match := _ATTRIBUTE_LINE.match(lines[i])):
        if base in (None, _CLASS) and match.group(1).upper() != "NAME":
            kept.append((match.group(1), lines[i].strip()))
        i += 1
    body = "\r\n".join(lines[i:])
    if body and not body.endswith("\r\n"):
        body += "\r\n"
    header = "\r\n".join(_attribute_block(name, base, kept)) + "\r\n"
    return _mbcs(header + body)


def _check_identifier(what: str, name: str) -> None:
    if not _IDENTIFIER.match(name):
        raise ValueError(
            f"{what} {name!r} is not a valid VBA name:"
            " 1-31 ASCII letters, digits or underscores, starting with a letter"
        )


def build_vba_project(
    modules: list[VbaModule], project_name: str = "VBAProject", sheet_code_names: Sequence[str] = ()
) -> bytes:
    """The bytes of a ``vbaProject.bin`` holding ``modules``, ready for XlsxWriter's ``add_vba_project``.

    The project always has the document modules Excel expects: ``ThisWorkbook`` and one per sheet code name
    (XlsxWriter names them ``Sheet1``, ``Sheet2``, ... unless ``set_vba_name`` says otherwise). A ``document``
    module in ``modules`` supplies the code of one of those; ``standard`` modules are added after them.
    Raises ValueError for invalid or duplicate names and non-ASCII source.
    """
    _check_identifier("Project name", project_name)
    documents = [_WORKBOOK_CODE_NAME, *sheet_code_names]
    for name in documents:
        _check_identifier("Sheet code name", name)
    doc_code: dict[str, str] = {}
    standard: list[VbaModule] = []
    for module in modules:
        _check_identifier("Module name", module.name)
        if module.kind == "document":
            match = [doc for doc in documents if doc.lower() == module.name.lower()]
            if not match:
                raise ValueError(
                    f"document module {module.name!r} is neither {_WORKBOOK_CODE_NAME} nor one of the sheet code"
                    f" names {list(sheet_code_names)}"
                )
            if match[0] in doc_code:
                raise ValueError(f"document module {module.name!r} is given twice")
            doc_code[match[0]] = module.code
        else:
            standard.append(module)
    names = [*documents, *(m.name for m in standard)]
    seen: set[str] = set()
    for name in names:
        # VBA names are case-insensitive, and "dir" is the one stream name taken inside the VBA storage.
        key = name.lower()
        if key in seen or key == "dir":
            raise ValueError(f"module name {name!r} is used twice or is reserved")
        seen.add(key)

    streams: dict[str, bytes] = {}
    for name in documents:
        base = _WORKBOOK_BASE if name == _WORKBOOK_CODE_NAME else _WORKSHEET_BASE
        streams[name] = compress(_module_source(name, doc_code.get(name, ""), base))
    for module in standard:
        kind_base = _CLASS if module.kind == "class" else None
        streams[module.name] = compress(_module_source(module.name, module.code, kind_base))

    # The project GUID is random in Office; deriving it from the names keeps builds reproducible.
    project_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "osmep-xl:" + "/".join([project_name, *names]))).upper() + "}"
    classes = {m.name for m in standard if m.kind == "class"}
    dir_stream = _dir_stream(project_name, [(name, name in documents or name in classes) for name in names])
    vba = _Entry(
        "VBA",
        children=[
            _Entry("_VBA_PROJECT", _VBA_PROJECT_STREAM),
            _Entry("dir", compress(dir_stream)),
            *(_Entry(name, data) for name, data in streams.items()),
        ],
    )
    root = _Entry(
        "Root Entry",
        children=[
            _Entry("PROJECT", _project_stream(project_name, project_id, documents,
                                              [m.name for m in standard if m.kind == "standard"], sorted(classes))),
            _Entry("PROJECTwm", _projectwm_stream(names)),
            vba,
        ],
    )
    return _write_cfb(root)


# --------------------------------------------------------------------------------------------------
# [MS-CFB] version 3 writer
# --------------------------------------------------------------------------------------------------

_SECTOR = 512  # version 3: 512-byte sectors (MS-CFB 2.2)
_MINI_SECTOR = 64
_MINI_CUTOFF = 4096  # streams smaller than this live in the mini stream (MS-CFB 2.6.3)
_ENTRIES_PER_FAT = _SECTOR // 4
_FREESECT, _ENDOFCHAIN, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_RED, _BLACK = 0, 1
_STORAGE, _STREAM, _ROOT = 1, 2, 5
# MS-CFB 2.6.1 directory entry: name, name length, type, colour, left, right, child, CLSID, state bits,
# creation and modification times (zero), starting sector, stream size.
_DIR_ENTRY_FORMAT = struct.Struct("<64sHBBIII16sIQQIQ")


@dataclass
class _Entry:
    """A storage (``data`` is None) or stream of the compound file, and its directory links once laid out."""

    name: str
    data: bytes | None = None
    children: list[_Entry] = field(default_factory=list)
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    color: int = _BLACK
    start: int = _ENDOFCHAIN
    size: int = 0


def _name_key(entry: _Entry) -> tuple[int, str]:
    # MS-CFB 2.6.4: siblings are ordered by name length first, then by the upper-cased names.
    return len(entry.name), entry.name.upper()


def _link_siblings(siblings: list[_Entry], ids: dict[int, int]) -> int:
    """Arrange sorted siblings as a balanced binary search tree and return the root's directory id.

    MS-CFB 2.6.4 asks for a red-black tree. Splitting at the median fills every level but the last, so
    colouring that last level red and everything above it black meets the red-black rules exactly.
    """
    ordered = sorted(siblings, key=_name_key)
    complete_levels = (len(ordered) + 1).bit_length() - 1

    def build(lo: int, hi: int, depth: int) -> int:
        if lo >= hi:
            return _NOSTREAM
        mid = (lo + hi) // 2
        node = ordered[mid]
        node.left = build(lo, mid, depth + 1)
        node.right = build(mid + 1, hi, depth + 1)
        node.color = _RED if depth >= complete_levels else _BLACK
        return ids[id(node)]

    return build(0, len(ordered), 0)


def _write_cfb(root: _Entry) -> bytes:
    """Serialise a tree of storages and streams as an MS-CFB version 3 compound file."""
    entries = [root]  # directory order: breadth first, root entry at id 0
    for entry in entries:
        entries.extend(entry.children)
    for entry in entries:
        if len(entry.name) > 31:
            raise ValueError(f"compound file names are at most 31 characters: {entry.name!r}")
    ids = {id(entry): index for index, entry in enumerate(entries)}
    for entry in entries:
        if entry.children:
            entry.child = _link_siblings(entry.children, ids)

    sectors: list[bytes] = []
    fat: list[int] = []

    def allocate(data: bytes) -> int:
        """Append ``data`` as a FAT chain of whole sectors; returns its first sector."""
        if not data:
            return _ENDOFCHAIN
        first = len(sectors)
        count = -(-len(data) // _SECTOR)
        for k in range(count):
            sectors.append(data[k * _SECTOR : (k + 1) * _SECTOR].ljust(_SECTOR, b"\0"))
            fat.append(first + k + 1 if k < count - 1 else _ENDOFCHAIN)
        return first

    # Small streams go into the mini stream (the root entry's data) in 64-byte mini sectors.
    mini_stream = bytearray()
    mini_fat: list[int] = []
    for entry in entries[1:]:
        if entry.data is None or len(entry.data) >= _MINI_CUTOFF:
            continue
        entry.size = len(entry.data)
        if not entry.data:
            continue
        first = len(mini_stream) // _MINI_SECTOR
        count = -(-len(entry.data) // _MINI_SECTOR)
        mini_stream += entry.data.ljust(count * _MINI_SECTOR, b"\0")
        mini_fat += [first + k + 1 for k in range(count - 1)] + [_ENDOFCHAIN]
        entry.start = first
    root.start, root.size = allocate(bytes(mini_stream)), len(mini_stream)
    for entry in entries[1:]:
        if entry.data is not None and len(entry.data) >= _MINI_CUTOFF:
            entry.start, entry.size = allocate(entry.data), len(entry.data)
    mini_fat += [_FREESECT] * (-len(mini_fat) % _ENTRIES_PER_FAT)
    mini_fat_start = allocate(struct.pack(f"<{len(mini_fat)}I", *mini_fat))
    mini_fat_sectors = len(mini_fat) // _ENTRIES_PER_FAT

    directory = bytearray()
    for entry in entries:
        kind = _ROOT if entry is root else _STORAGE if entry.data is None else _STREAM
        directory += _DIR_ENTRY_FORMAT.pack(
            _utf16(entry.name) + b"\0\0", 2 * len(entry.name) + 2, kind, entry.color, entry.left, entry.right,
            entry.child, bytes(16), 0, 0, 0, 0 if kind == _STORAGE else entry.start, entry.size,
        )  # fmt: skip
    while len(directory) % _SECTOR:  # unused entries: no name, no links (MS-CFB 2.6.3)
        directory += _DIR_ENTRY_FORMAT.pack(b"", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM, bytes(16), 0, 0, 0, 0, 0)
    dir_start = allocate(bytes(directory))

    # The FAT also maps its own sectors, so grow it until it covers everything including itself.
    fat_sectors = 1
    while fat_sectors * _ENTRIES_PER_FAT < len(sectors) + fat_sectors:
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("VBA project too large: more than 109 FAT sectors would need DIFAT sectors")
    fat_first = len(sectors)
    fat += [_FATSECT] * fat_sectors
    fat += [_FREESECT] * (fat_sectors * _ENTRIES_PER_FAT - len(fat))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    sectors += [fat_bytes[k * _SECTOR : (k + 1) * _SECTOR] for k in range(fat_sectors)]

    difat = [fat_first + k for k in range(fat_sectors)] + [_FREESECT] * (109 - fat_sectors)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII109I",
        bytes.fromhex("D0CF11E0A1B11AE1"), bytes(16),
        0x003E, 0x0003, 0xFFFE, 9, 6, bytes(6),  # minor/major version 3, little-endian, 2**9 / 2**6 sectors
        0, fat_sectors, dir_start, 0, _MINI_CUTOFF,  # version 3 keeps "number of directory sectors" at 0
        mini_fat_start if mini_fat_sectors else _ENDOFCHAIN, mini_fat_sectors,
        _ENDOFCHAIN, 0,  # no DIFAT sectors
        *difat,
    )  # fmt: skip
    return header + b"".join(sectors)
