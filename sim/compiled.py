"""Whether the compiled kernels run: `kernels()` is `sim.kernels` (numba) or None.

None without numba, with GRAPEVINE_NUMBA=0, or when numba cannot keep its cache (a read-only
install without a home): the numpy expressions then give the same numbers, more slowly.
Imported at the first call, so that importing sim stays quick.
"""

from __future__ import annotations

import os

import numpy as np

_loaded: list = []  # [module or None] once decided


def kernels():
    if not _loaded:
        _loaded.append(_load())
    return _loaded[0]


def _load():
    if os.environ.get("GRAPEVINE_NUMBA", "1") == "0":
        return None
    try:
        from . import kernels as module

        module.uniform(np.zeros(1, np.int64), np.uint64(1))  # compiled, or loaded from the cache, here
        return module
    except Exception:  # no numba, or nowhere to keep its cache: the numpy expressions run
        return None
