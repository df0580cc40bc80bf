"""One malloc arena for the process: a thread's allocations land in the main thread's arena (glibc)."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's arenas only")

# In a fresh process (arenas are per process and never merged): a thread allocates, then glibc's own
# account of its heaps (malloc_info) is counted.
PROBE = textwrap.dedent("""
    import ctypes, sys, threading
    from osmep_xl.xlsx.arena import share_one_arena
    if sys.argv[1] == "one":
        assert share_one_arena()
    kept = []
    thread = threading.Thread(target=lambda: kept.extend(bytes(1000 + i) for i in range(2000)))
    thread.start()
    thread.join()
    libc = ctypes.CDLL(None)
    libc.open_memstream.restype = ctypes.c_void_p
    buf, size = ctypes.c_char_p(), ctypes.c_size_t()
    stream = ctypes.c_void_p(libc.open_memstream(ctypes.byref(buf), ctypes.byref(size)))
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    print(ctypes.string_at(buf, size.value).count(b"<heap nr="))
""")


def heaps(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_a_thread_allocates_in_the_one_arena_once_it_is_shared() -> None:
    assert heaps("one") == 1


def test_a_thread_gets_an_arena_of_its_own_otherwise() -> None:
    assert heaps("default") == 2
