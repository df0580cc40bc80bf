"""Package bytes in and out: read a zip within the size guard, and the one atomic save every writer uses.

:func:`atomic_target` is how osmep_xl replaces a file (the lossless patcher and XlsxWriter output alike):
a hidden temp file in the same folder, written, flushed to disk, given the target's mode, renamed over
the target with ``os.replace`` and the folder synced. A crash at any moment leaves the old file or the
whole new one, never a mix; a failure removes the temp file and leaves the target as it was.
"""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .safety import MAX_UNCOMPRESSED


class PackageTooLargeError(Exception):
    """The package would expand beyond :data:`~osmep_xl.xlsx.safety.MAX_UNCOMPRESSED` (a zip bomb)."""


class TargetFolderError(OSError):
    """No temp file can be made beside the target (a missing or read-only folder)."""

    def __init__(self, folder: Path, cause: OSError) -> None:
        super().__init__(cause.errno, f"cannot write into {folder} ({cause})")
        self.folder, self.cause = folder, cause


def read_zip(path: Path) -> tuple[list[zipfile.ZipInfo], dict[str, bytes]]:
    """Every member's info and uncompressed bytes, in zip order; refused beyond MAX_UNCOMPRESSED."""
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
            raise PackageTooLargeError(f"package expands beyond {MAX_UNCOMPRESSED} bytes")
        return infos, {i.filename: zf.read(i) for i in infos}


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
