"""Refuse files that are not safe or not possible to read, before opening them."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

MAX_UNCOMPRESSED = 512 * 1024 * 1024  # a template is a few MB; more is a zip bomb
MAX_RATIO = 200
RATIO_CHECK_FROM = 32 * 1024 * 1024  # small parts compress far better than 200x; harmless


class RefusedFileError(Exception):
    """A file osmep_xl will not read or write; the message is Thai / English."""


def check_package(path: Path) -> None:
    """Raise :class:`RefusedFileError` unless ``path`` is a plain, sane .xlsx/.xlsm package."""
    if not path.exists():
        raise RefusedFileError(f"ไม่พบไฟล์ / file not found: {path}")
    if path.is_dir():
        raise RefusedFileError(f"เป็นโฟลเดอร์ ไม่ใช่ไฟล์ / is a folder, not a file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise RefusedFileError(
            f"ไม่รองรับไฟล์ .xls รุ่นเก่า ให้บันทึกเป็น .xlsx / legacy .xls is not supported, save as .xlsx: {path}")
    if suffix == ".xlsb":
        raise RefusedFileError(f"ไม่รองรับไฟล์ .xlsb ให้บันทึกเป็น .xlsx / .xlsb is not supported, save as .xlsx: {path}")
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise RefusedFileError(
            f"ไฟล์ถูกเข้ารหัสหรือเป็นรูปแบบเก่า / encrypted (password-protected) or legacy workbook: {path}")
    if not zipfile.is_zipfile(path):
        raise RefusedFileError(f"ไม่ใช่ไฟล์ Excel (.xlsx) / not an .xlsx file (not a zip package): {path}")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if total > MAX_UNCOMPRESSED or (total > RATIO_CHECK_FROM and total / packed > MAX_RATIO):
                raise RefusedFileError(
                    f"ไฟล์ขยายตัวผิดปกติ (zip bomb) / refused: expands to {total} bytes: {path}")
            if "xl/workbook.xml" not in zf.namelist():
                raise RefusedFileError(f"ไม่ใช่สมุดงาน Excel / not an Excel workbook package: {path}")
            bad = zf.testzip()
            if bad is not None:
                raise RefusedFileError(f"ไฟล์เสียหาย / corrupt part {bad} in {path}")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise RefusedFileError(f"ไฟล์เสียหายหรือไม่สมบูรณ์ / truncated or corrupt zip: {path} ({exc})") from exc
