"""A large part deflated on two cores, the way pigz does: one raw deflate stream made of blocks compressed
in parallel.

Each block is compressed on its own, primed with the 32 KB of data before it (``zdict``, so that matches
reaching back across the cut are still found and the ratio stays that of one stream), and ends with a
``Z_SYNC_FLUSH`` (a byte boundary, no final bit); the last one ends with ``Z_FINISH``. Their concatenation
inflates to the data. zlib releases the GIL while it compresses, so a small thread pool keeps both cores
busy; a bounded number of blocks in flight keeps memory bounded whatever the part's size.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

Chunk = bytes | memoryview  # a piece of a part written in pieces

BLOCK = 1 << 20  # uncompressed bytes per block: enough to amortise a block's flush and priming
WINDOW = 1 << 15  # deflate's window: the most a match can reach back, hence the priming dictionary
WORKERS = 2
IN_FLIGHT = 2 * WORKERS  # blocks compressing or compressed and not yet written


class Deflater:
    """Deflate a part's pieces block by block in parallel; ``crc``, ``size`` and ``compressed`` (the zip
    header's CRC-32 and sizes) are complete once :meth:`deflate` is exhausted."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.crc = 0
        self.size = 0
        self.compressed = 0

    def deflate(self, pieces: Iterable[Chunk]) -> Iterator[bytes]:
        """The raw deflate stream of the pieces' concatenation, in order, as blocks of compressed bytes."""
        pending: deque[Future[bytes]] = deque()
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="deflate") as pool:
            for block, primer, last in _blocks(pieces):
                self.crc = zlib.crc32(block, self.crc)
                self.size += len(block)
                pending.append(pool.submit(_deflate_block, block, primer, self.level, last))
                while len(pending) >= IN_FLIGHT or (pending and pending[0].done()):
                    yield self._written(pending.popleft().result())
            while pending:
                yield self._written(pending.popleft().result())

    def _written(self, out: bytes) -> bytes:
        self.compressed += len(out)
        return out


def _blocks(pieces: Iterable[Chunk]) -> Iterator[tuple[bytes, bytes, bool]]:
    """The data cut into blocks of :data:`BLOCK` bytes (the last may be shorter), each with the
    :data:`WINDOW` bytes before it and whether it is the last."""
    primer, ready = b"", None  # a block is sent once it is known whether another follows
    for block in _cut(pieces):
        if ready is not None:
            yield ready, primer, False
            primer = ready[-WINDOW:]
        ready = block
    yield ready or b"", primer, True


def _cut(pieces: Iterable[Chunk]) -> Iterator[bytes]:
    """The pieces' concatenation in blocks of :data:`BLOCK` bytes, the last one shorter."""
    held: list[Chunk] = []
    count = 0
    for piece in pieces:
        view = memoryview(piece)
        while count + len(view) >= BLOCK:
            take = BLOCK - count
            yield b"".join([*held, view[:take]])
            held, count, view = [], 0, view[take:]
        if len(view):
            held.append(view)
            count += len(view)
    if held:
        yield b"".join(held)


def _deflate_block(block: bytes, primer: bytes, level: int, last: bool) -> bytes:
    """One block as raw deflate, matching into ``primer`` (the data before it) and ended on a byte boundary,
    or as the stream's final block."""
    if primer:
        comp = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=primer)
    else:
        comp = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return comp.compress(block) + comp.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
