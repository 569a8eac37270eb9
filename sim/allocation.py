"""glibc's malloc told to keep freed large arrays for reuse, for markets of millions of people.

Each month the engine frees and allocates per-person arrays of the same sizes. glibc serves an
allocation above its mmap threshold (which adapts, but never above 32 MB: 4 million float64s)
with fresh pages from the kernel and unmaps it when freed, and trims the heap's free top. So at
ten million people every month pays page faults on hundreds of MB: the month cost 1.3 times as
much per person at 10M as at 1M. Raising the mmap and trim thresholds lets freed arrays serve the
next month's (measured at 10M people, 24 months: 155 to 105 ns per person-month, bench/README.md).

Applied once per process, when a market of `LARGE` people or more is built; smaller markets
gain nothing from it (measured at 10k and 1M). The process keeps up to `TRIM_BYTES` of freed
memory instead of returning it. Only on glibc (Linux); a no-op elsewhere.
"""

from __future__ import annotations

import ctypes
import ctypes.util

LARGE = 4_000_000  # people: per-person float64 arrays reach glibc's 32 MB ceiling here
MMAP_BYTES = 256 * 2**20  # arrays up to this come from the heap, and go back to it when freed
TRIM_BYTES = 2**30  # the heap's free top is returned to the system only beyond this

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_done: list = []


def keep_freed_arrays(n_people: int) -> bool:
    """For a market of `n_people`: tune malloc if it is large and not tuned yet. Returns whether tuned."""
    if n_people < LARGE or _done:
        return bool(_done and _done[0])
    _done.append(_tune())
    return _done[0]


def _tune() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_BYTES))
