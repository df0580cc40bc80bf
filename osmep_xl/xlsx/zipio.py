"""Package bytes in and out: read a zip within the size guard, write one copying unchanged members' compressed
bytes as they are, and the one atomic save every writer uses.

:func:`atomic_target` is how osmep_xl replaces a file (the lossless patcher and XlsxWriter output alike):
a hidden temp file in the same folder, written, flushed to disk, given the target's mode, renamed over
the target with ``os.replace`` and the folder synced. A crash at any moment leaves the old file or the
whole new one, never a mix; a failure removes the temp file and leaves the target as it was.
"""

from __future__ import annotations

import copy
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .deflate import Chunk, Deflater
from .safety import MAX_UNCOMPRESSED

PARALLEL_MIN = 4 << 20  # bytes of a part below which one stream on one core is as quick as blocks on two
# zlib's level for such a part: 5 deflates a sheet's XML within 1 % of the default (6) in 60 % of its time
# (the 50,000-row sheet, 60 MB: 8.85 against 8.79 MB, 0.82 against 1.34 s CPU); 6 searches longer chains
# for matches that repetitive XML rarely rewards.
LARGE_PART_LEVEL = 5
READ_CHUNK = 1 << 20  # uncompressed bytes read at a time from a member streamed


@dataclass(frozen=True)
class Pieces:
    """A part's new bytes as pieces written one after another (a spliced sheet: slices of the original and
    the edited cells); ``open`` gives them afresh each time it is called. ``size`` is their length, which
    chooses how the part is written (for a streamed sheet, the source's: its edits change it by a few bytes;
    the header gets the length written)."""

    size: int
    open: Callable[[], Iterator[Chunk]]

    @classmethod
    def of(cls, pieces: list[Chunk]) -> Pieces:
        """Pieces held in memory."""
        return cls(sum(len(p) for p in pieces), lambda: iter(pieces))


class PackageTooLargeError(Exception):
    """The package would expand beyond :data:`~osmep_xl.xlsx.safety.MAX_UNCOMPRESSED` (a zip bomb)."""


class TargetFolderError(OSError):
    """No temp file can be made beside the target (a missing or read-only folder)."""

    def __init__(self, folder: Path, cause: OSError) -> None:
        super().__init__(cause.errno, f"cannot write into {folder} ({cause})")
        self.folder, self.cause = folder, cause


def read_infos(path: Path) -> list[zipfile.ZipInfo]:
    """Every member's info, in zip order; refused when the members would expand beyond MAX_UNCOMPRESSED."""
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
        raise PackageTooLargeError(f"package expands beyond {MAX_UNCOMPRESSED} bytes")
    return infos


def read_member(path: Path, info: zipfile.ZipInfo) -> bytes:
    """One member's uncompressed bytes (zip errors, a bad CRC included, are the caller's to report)."""
    with zipfile.ZipFile(path) as zf:
        return zf.read(info)


def member_chunks(path: Path, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """One member's uncompressed bytes, :data:`READ_CHUNK` at a time (its CRC is checked at the end)."""
    with zipfile.ZipFile(path) as zf, zf.open(info) as member:
        while chunk := member.read(READ_CHUNK):
            yield chunk


def _stored_spans(path: Path) -> dict[str, tuple[zipfile.ZipInfo, int, int]]:
    """Per member: its info and where its local header, compressed data and data descriptor lie in the file
    (up to the next member or the central directory). A member whose bytes do not start with a local
    header, or that shares them with another, is left out: it is decompressed and written anew."""
    with zipfile.ZipFile(path) as zf:
        infos, directory = zf.infolist(), zf.start_dir
    bounds = sorted({i.header_offset for i in infos} | {directory})
    spans: dict[str, tuple[zipfile.ZipInfo, int, int]] = {}
    with path.open("rb") as fh:
        for info in infos:
            start = info.header_offset
            end = next((b for b in bounds if b > start), directory)
            fh.seek(start)
            if fh.read(4) != b"PK\x03\x04" or end - start < 30 + info.compress_size:
                spans.pop(info.filename, None)
                continue
            spans[info.filename] = (info, start, end)
    return spans


def write_zip(target: Path, source: Path,
              entries: Iterable[tuple[zipfile.ZipInfo, bytes | Pieces | None]]) -> None:
    """Write a zip at ``target``: each entry's bytes (or pieces, written one after another) compressed anew —
    a large one deflated on two cores (:mod:`osmep_xl.xlsx.deflate`) — or (None) the source's member of that
    name copied as it is stored: the same compressed bytes, CRC, date and flags, never re-deflated."""
    spans = _stored_spans(source)
    with target.open("wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf, source.open("rb") as src:
        for info, data in entries:
            if isinstance(data, bytes) and len(data) >= PARALLEL_MIN:
                data = Pieces.of([data])
            if isinstance(data, Pieces) and data.size >= PARALLEL_MIN and info.compress_type == zipfile.ZIP_DEFLATED:
                _write_deflated(zf, fh, info, data)
                continue
            if isinstance(data, Pieces):
                info.file_size = data.size  # for zipfile's choice of zip64, as writestr knows the size
                with zf.open(info, "w") as member:
                    for piece in data.open():
                        member.write(piece)
                continue
            stored = spans.get(info.filename) if data is None else None
            if stored is None:
                zf.writestr(info, data if data is not None else read_member(source, info))
                continue
            old, start, end = stored
            src.seek(start)
            kept = copy.copy(old)
            kept.header_offset = fh.tell()
            shutil.copyfileobj(_Limited(src, end - start), fh)
            # What ZipFile.writestr does after a member: list it for the central directory, which starts next.
            zf.filelist.append(kept)
            zf.NameToInfo[kept.filename] = kept
            zf.start_dir = fh.tell()


def _write_deflated(zf: zipfile.ZipFile, fh: BinaryIO, info: zipfile.ZipInfo, data: Pieces) -> None:
    """One member deflated in parallel blocks, its header written as ``ZipFile.open(info, "w")`` writes it
    into a seekable file: zip64 when the size calls for it, CRC and sizes filled in afterwards."""
    info.compress_size = info.CRC = info.flag_bits = 0
    info.file_size = data.size
    info.external_attr = info.external_attr or 0o600 << 16
    zip64 = data.size * 1.05 > zipfile.ZIP64_LIMIT  # zipfile's margin: deflate may grow the data
    info.header_offset = fh.tell()
    fh.write(info.FileHeader(zip64))
    deflater = Deflater(LARGE_PART_LEVEL)
    for block in deflater.deflate(data.open()):
        fh.write(block)
    info.CRC, info.file_size, info.compress_size = deflater.crc, deflater.size, deflater.compressed
    if not zip64 and max(info.file_size, info.compress_size) > zipfile.ZIP64_LIMIT:
        raise RuntimeError(f"{info.filename} outgrew its header ({info.file_size} bytes)")
    end = fh.tell()
    fh.seek(info.header_offset)
    fh.write(info.FileHeader(zip64))
    fh.seek(end)
    zf.filelist.append(info)
    zf.NameToInfo[info.filename] = info
    zf.start_dir = end


class _Limited:
    """The next ``size`` bytes of a file, read in chunks (copyfileobj's source)."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self._fh, self._left = fh, size

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        chunk = self._fh.read(n)
        self._left -= len(chunk)
        return chunk


def copy_file(source: Path, target: Path) -> None:
    """``target`` as a byte-for-byte copy of ``source``: nothing unzipped or re-deflated."""
    shutil.copyfile(source, target)


def file_mode(path: Path, fallback: Path | None = None) -> int:
    """The mode a rewritten ``path`` should get: its own, else ``fallback``'s, else a new file's (umask)."""
    for source in (path, fallback):
        if source is not None and source.exists():
            return stat.S_IMODE(source.stat().st_mode)
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)  # Windows commits only a writable handle
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows cannot open a folder and needs no such step)."""
    with suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def atomic_target(path: Path, *, mode_from: Path | None = None) -> Iterator[Path]:
    """Yield a temp file beside ``path`` to write; when the block ends normally, it replaces ``path``.

    The temp file is fsynced, given the mode of ``path`` (if it exists, else of ``mode_from``, else a new
    file's: mkstemp made it owner-only), moved onto ``path`` with ``os.replace`` and the folder is
    fsynced. A symlink ``path`` stays a link: the file it points at is replaced. If the block or any
    step raises, the temp file is removed and ``path`` is untouched. :class:`TargetFolderError` means
    the folder does not take new files.
    """
    path = Path(path)
    final = path.resolve() if path.is_symlink() else path
    folder = final.parent
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise TargetFolderError(folder, exc) from exc
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync_file(tmp)
        with suppress(OSError):
            os.chmod(tmp, file_mode(final, mode_from))
        os.replace(tmp, final)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise
    _fsync_folder(folder)
