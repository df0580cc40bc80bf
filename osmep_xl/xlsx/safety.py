"""Refuse files that are not safe or not possible to read, before opening them."""

from __future__ import annotations

import os
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO

MAX_UNCOMPRESSED = 512 * 1024 * 1024  # a template is a few MB; more is a zip bomb
MAX_RATIO = 200
RATIO_CHECK_FROM = 32 * 1024 * 1024  # small parts compress far better than 200x; harmless
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"  # a compound file: a legacy .xls, or an encrypted .xlsx


class RefusedFileError(Exception):
    """A file osmep_xl will not read or write; the message is Thai / English."""


def owner_file(path: Path) -> Path:
    """The lock file Excel keeps beside a workbook it has open (``~$name.xlsx``)."""
    return path.with_name("~$" + path.name[2:] if len(path.name) > 2 else "~$" + path.name)


def check_writable(path: Path) -> None:
    """Refuse to write where it would clash with a user: a workbook open in Excel, a read-only file."""
    if path.exists():
        for lock in (owner_file(path), path.with_name("~$" + path.name)):
            if lock.exists():
                raise RefusedFileError(
                    f"ไฟล์เปิดอยู่ใน Excel กรุณาปิดก่อน / {path} is open in Excel ({lock.name} exists): close it first")
        # The mode bits too: root may write anywhere, but a file marked read-only is the user's "no".
        if not os.access(path, os.W_OK) or not path.stat().st_mode & stat.S_IWUSR:
            raise RefusedFileError(f"ไฟล์เป็นแบบอ่านอย่างเดียว / {path} is read-only")
    folder = path.parent if str(path.parent) else Path(".")
    if folder.exists() and not os.access(folder, os.W_OK):
        raise RefusedFileError(f"เขียนโฟลเดอร์นี้ไม่ได้ / cannot write in folder {folder}")


def open_package(path: Path) -> zipfile.ZipFile:
    """The package at ``path``, open, once it is a plain, sane .xlsx/.xlsm package (else
    :class:`RefusedFileError`): the reader goes on with the same open zip (its directory is read once)."""
    if not path.exists():
        raise RefusedFileError(f"ไม่พบไฟล์ / file not found: {path}")
    if path.is_dir():
        raise RefusedFileError(f"เป็นโฟลเดอร์ ไม่ใช่ไฟล์ / is a folder, not a file: {path}")
    # What the bytes are, not what the name says: an .xlsx saved as "book.xls" is read like any .xlsx.
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(OLE2_MAGIC):
        if path.suffix.lower() == ".xls":
            raise RefusedFileError(
                f"ไม่รองรับไฟล์ .xls รุ่นเก่า ให้บันทึกเป็น .xlsx / legacy .xls is not supported, save as .xlsx: {path}")
        raise RefusedFileError(
            f"ไฟล์ถูกเข้ารหัสหรือเป็นรูปแบบเก่า / encrypted (password-protected) or legacy workbook: {path}")
    if not zipfile.is_zipfile(path):
        raise RefusedFileError(f"ไม่ใช่ไฟล์ Excel (.xlsx) / not an .xlsx file (not a zip package): {path}")
    broken = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)
    try:
        zf = zipfile.ZipFile(path)
    except broken as exc:
        raise _corrupt(path, exc) from exc
    try:
        _check_parts(zf, path)
    except BaseException as exc:
        zf.close()
        if isinstance(exc, broken):
            raise _corrupt(path, exc) from exc
        raise
    return zf


def _corrupt(path: Path, exc: BaseException) -> RefusedFileError:
    return RefusedFileError(f"ไฟล์เสียหายหรือไม่สมบูรณ์ / truncated or corrupt zip: {path} ({exc})")


def _check_parts(zf: zipfile.ZipFile, path: Path) -> None:
    """No zip bomb, no DTD or entity in any XML part, and a workbook part (not .xlsb)."""
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > MAX_UNCOMPRESSED or (total > RATIO_CHECK_FROM and total / packed > MAX_RATIO):
        raise RefusedFileError(
            f"ไฟล์ขยายตัวผิดปกติ (zip bomb) / refused: expands to {total} bytes: {path}")
    xml = [info for info in infos if info.filename.endswith((".xml", ".rels", ".vml"))]
    for info, head in zip(xml, _heads(zf, xml), strict=True):
        if head is None:  # anything unusual about the part: zipfile reads it (and says what is wrong)
            with zf.open(info) as part:
                head = part.read(HEAD)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise RefusedFileError(
                f"ไฟล์มีการประกาศ DTD/entity ซึ่งไม่ปลอดภัย / refused: {info.filename} declares a DTD"
                f" or entities (unsafe XML): {path}")
    names = set(zf.namelist())
    if "xl/workbook.bin" in names and "xl/workbook.xml" not in names:
        raise RefusedFileError(
            f"ไม่รองรับไฟล์ .xlsb ให้บันทึกเป็น .xlsx / .xlsb is not supported, save as .xlsx: {path}")
    if "xl/workbook.xml" not in names:
        raise RefusedFileError(f"ไม่ใช่สมุดงาน Excel / not an Excel workbook package: {path}")


HEAD = 4096  # the bytes of each XML part looked at: a DTD or entity is declared before the root element
_LOCAL_HEADER = struct.Struct("<4s2sHHHHIIIHH")
_UNUSUAL = 0x61  # encrypted, compressed patched data, strong encryption: zipfile refuses or asks


def _heads(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> list[bytes | None]:
    """The first :data:`HEAD` bytes of each part, inflated straight from the file: a template has some twenty
    XML parts, and zipfile's open costs more than the inflating. The checks are zipfile's (local header,
    name, flags; the CRC of a part read to its end); None for a part any of them fails, or that is not stored
    or deflated: zipfile then reads it, and raises what it raised."""
    fh = zf.fp
    if fh is None:
        return [None] * len(infos)
    return [_head(zf, fh, info) for info in infos]


def _head(zf: zipfile.ZipFile, fh: IO[bytes], info: zipfile.ZipInfo) -> bytes | None:
    fh.seek(info.header_offset)
    header = fh.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or info.flag_bits & _UNUSUAL:
        return None
    magic, _, flags, _, _, _, _, _, _, name_len, extra_len = _LOCAL_HEADER.unpack(header)
    try:
        name = fh.read(name_len).decode("utf-8" if flags & 0x800 else getattr(zf, "metadata_encoding", None) or "cp437")
    except UnicodeDecodeError:
        return None
    if magic != b"PK\x03\x04" or name != info.orig_filename:
        return None
    fh.seek(extra_len, os.SEEK_CUR)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    try:
        return _read_head(fh, info)
    except (EOFError, zlib.error):
        return None


_MIN_READ = 4096  # zipfile.ZipExtFile.MIN_READ_SIZE


def _read_head(fh: IO[bytes], info: zipfile.ZipInfo) -> bytes | None:
    """``ZipExtFile.read(HEAD)`` step for step (the same reads, inflating and CRC check), None where it would
    raise for a bad CRC."""
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    left, compress_left, crc, n, eof, out = info.file_size, info.compress_size, 0, HEAD, False, b""
    while n > 0 and not eof:
        data = inflate.unconsumed_tail if inflate is not None else b""
        if n > len(data) and compress_left > 0:
            got = fh.read(min(max(n - len(data), _MIN_READ), compress_left))
            compress_left -= len(got)
            if not got:
                raise EOFError
            data += got
        if inflate is None:
            eof = compress_left <= 0
        else:
            data = inflate.decompress(data, max(n, _MIN_READ))
            eof = inflate.eof or (compress_left <= 0 and not inflate.unconsumed_tail)
            if eof:
                data += inflate.flush()
        data = data[:left]
        left -= len(data)
        eof = eof or left <= 0
        crc = zlib.crc32(data, crc)
        if eof and crc != info.CRC:
            return None
        out += data
        n -= len(data)
    return out[:HEAD]
