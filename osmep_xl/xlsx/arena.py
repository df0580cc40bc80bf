"""One malloc arena for the whole process, where the C library is glibc.

glibc gives a new thread an arena of its own and keeps what that thread frees there for its later
allocations. The reader's scan thread inflates a large sheet megabytes at a time; in an arena of its own,
that memory stays resident beside the rows the main thread types next (recalc of 50,000 rows: 292 MB
with one arena, 324 MB without, over the 300 MB it must stay under). With one arena, what either thread
frees serves both; the reader's few threads hardly contend for it. Elsewhere nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


@cache
def share_one_arena() -> bool:
    """Set glibc's arena limit to one (before the threads it should govern start); whether it was set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, 1))
    except (OSError, AttributeError):  # no such library, or a C library without mallopt (musl)
        return False
