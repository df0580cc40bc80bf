"""The parts of one package: read when first needed, parsed XML parts, and what was added or removed.

A part that is never parsed or touched is not even decompressed: on save its stored (compressed) bytes are
copied as they are, in its original place in the zip. Only touched XML parts are re-serialised, and a sheet
edited cell by cell is spliced (:mod:`osmep_xl.xlsx.splice`); a package with no edit at all is copied byte
for byte.
"""

from __future__ import annotations

import time
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from .ooxml import PatchError, fail
from .package import WORKBOOK_PART
from .xmldoc import XmlDoc, parse_xml, serialise
from .zipio import PackageTooLargeError, Pieces, copy_file, member_chunks, read_infos, read_member, write_zip

# What reading a damaged member can raise: a bad CRC or header, a corrupt deflate stream, an unknown method.
_MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, RuntimeError)


class Package:
    """Parts of ``source`` by zip name, with the edits made to them so far."""

    def __init__(self, source: Path) -> None:
        self.source = Path(source)
        try:
            infos = read_infos(self.source)
            stat = self.source.stat()
        except PackageTooLargeError as exc:
            raise fail(f"ไฟล์ขยายตัวผิดปกติ / {exc}") from exc
        except FileNotFoundError as exc:
            raise fail(f"ไม่พบไฟล์ / file not found: {self.source}") from exc
        except (zipfile.BadZipFile, OSError) as exc:
            raise fail(f"ไม่ใช่ไฟล์ .xlsx/.xlsm หรือไฟล์เสียหาย / not a readable .xlsx/.xlsm package: "
                       f"{self.source} ({exc})") from exc
        self._infos = {i.filename: i for i in infos}
        self._order = list(dict.fromkeys(i.filename for i in infos))
        self._stamp = (stat.st_size, stat.st_mtime_ns)  # parts are read when needed: the file must not change
        if WORKBOOK_PART not in self._infos:
            raise fail(f"ไม่มี {WORKBOOK_PART} / not an Excel workbook package: {self.source}")
        self._docs: dict[str, XmlDoc] = {}
        self._dirty: set[str] = set()
        self._raw: dict[str, bytes] = {}  # parts replaced by bytes (VML)
        self._pieces: dict[str, Pieces] = {}  # parts replaced by pieces written one after another (spliced sheets)
        self._new: list[str] = []
        self._removed: set[str] = set()
        # Workbook-level consequences for the save: recalculate on open, drop a stale calc chain.
        self.values_changed = False
        self.formulas_changed = False

    def names(self) -> list[str]:
        return [n for n in [*self._order, *self._new] if n not in self._removed]

    @property
    def unchanged(self) -> bool:
        """True when saving would write the package as it was read."""
        return not (self._dirty or self._raw or self._pieces or self._new or self._removed)

    def original(self, part: str) -> bytes:
        """The part's bytes as read from the source."""
        self._check_source()
        try:
            return read_member(self.source, self._infos[part])
        except _MEMBER_ERRORS as exc:
            raise _unreadable(part, self.source, exc) from exc

    def size(self, part: str) -> int:
        """The part's size as read from the source, uncompressed."""
        return self._infos[part].file_size

    def stream(self, part: str) -> Iterator[bytes]:
        """The part's bytes as read from the source, in chunks (a large sheet is never held whole)."""
        self._check_source()
        try:
            yield from member_chunks(self.source, self._infos[part])
        except _MEMBER_ERRORS as exc:
            raise _unreadable(part, self.source, exc) from exc

    def _check_source(self) -> None:
        try:
            stat = self.source.stat()
        except OSError as exc:
            raise fail(f"อ่านไฟล์ต้นฉบับไม่ได้ / cannot read {self.source} ({exc})") from exc
        if (stat.st_size, stat.st_mtime_ns) != self._stamp:
            raise fail(f"ไฟล์ต้นฉบับถูกแก้ไขระหว่างทำงาน ไม่ได้บันทึก / {self.source} changed while it was being"
                       " edited; nothing was saved, run the command again")

    def lookup(self, part: str) -> str | None:
        """Actual zip name of a part; OPC part names are case-insensitive."""
        if part in self._docs or part in self._infos or part in self._raw or part in self._pieces:
            return part if part not in self._removed else None
        lowered = part.lower()
        return next((n for n in self.names() if n.lower() == lowered), None)

    def data(self, part: str) -> bytes:
        """The part's bytes as they would be saved now."""
        if part in self._raw:
            return self._raw[part]
        if part in self._pieces:
            return b"".join(self._pieces[part].open())
        if part in self._dirty:
            return serialise(self._docs[part])
        return self.original(part)

    def doc(self, part: str) -> XmlDoc:
        if part not in self._docs:
            self._docs[part] = parse_xml(self.original(part), part)
        return self._docs[part]

    def set_pieces(self, part: str, pieces: Pieces) -> None:
        """Replace an existing part by these bytes, in order (a spliced sheet: the original's slices and the
        edited cells, never joined into a second copy of the sheet); a parsed copy of it is dropped."""
        self._docs.pop(part, None)
        self._dirty.discard(part)
        self._pieces[part] = pieces

    def name_of(self, doc: XmlDoc) -> str:
        """The part a parsed document belongs to."""
        return next(name for name, d in self._docs.items() if d is doc)

    def touch(self, part: str) -> None:
        """Mark a parsed part as edited, so it is re-serialised on save (pieces set by an earlier save, whose
        edits the parsed part then holds, are dropped)."""
        self._dirty.add(part)
        self._pieces.pop(part, None)

    def replace_doc(self, part: str, doc: XmlDoc) -> None:
        self._docs[part] = doc
        self.touch(part)

    def add_part(self, part: str, doc: XmlDoc | None = None, raw: bytes | None = None) -> None:
        if part in self._removed:
            self._removed.discard(part)
        elif part not in self._infos and part not in self._new:
            self._new.append(part)
        if doc is not None:
            self._docs[part] = doc
            self._dirty.add(part)
        if raw is not None:
            self._raw[part] = raw

    def remove_part(self, part: str) -> None:
        self._removed.add(part)
        self._dirty.discard(part)
        self._raw.pop(part, None)
        self._pieces.pop(part, None)
        if part in self._new:
            self._new.remove(part)
            self._removed.discard(part)

    def free_name(self, pattern: str, start: int = 1) -> str:
        taken = {n.lower() for n in self.names()}
        n = start
        while pattern.format(n).lower() in taken:
            n += 1
        return pattern.format(n)

    def entries(self) -> Iterable[tuple[zipfile.ZipInfo, bytes | Pieces | None]]:
        """Zip entries to save: kept parts keep their date, compression and attributes; bytes None for a part
        never touched (its stored bytes are copied), pieces for a spliced sheet."""
        now = time.localtime()[:6]
        for name in self.names():
            old = self._infos.get(name)
            changed = name in self._raw or name in self._dirty or name in self._pieces
            if old is not None and not changed:
                yield old, None
                continue
            info = zipfile.ZipInfo(name, old.date_time if old else now)
            info.compress_type = old.compress_type if old else zipfile.ZIP_DEFLATED
            info.external_attr = old.external_attr if old else 0o644 << 16
            yield info, self._pieces.get(name) or self.data(name)

    def write(self, path: Path) -> None:
        """Write the package as a zip at ``path``: a copy of the source's bytes when nothing changed."""
        self._check_source()
        if self.unchanged:
            copy_file(self.source, path)
            return
        try:
            write_zip(path, self.source, self.entries())
        except _MEMBER_ERRORS as exc:
            if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile):
                raise  # the target's disk: the caller says the file is unchanged
            raise fail(f"ไฟล์เสียหาย / {self.source} cannot be copied ({exc})") from exc


def _unreadable(part: str, source: Path, exc: Exception) -> PatchError:
    return fail(f"ส่วน {part} ของไฟล์เสียหาย / part {part} of {source} cannot be read ({exc})")
