"""Compiled loops (numba) for the engine's hot spots, each giving the same bits as the numpy
expression it stands in for.

The month is written in numpy (`sim.phases`): that is the model as it reads. Where numpy needs
many passes over big arrays for what one loop does in one (sampling contacts, counting loyal
contacts, building the network), the loop is here, compiled with numba: `cache=True`, so it
is compiled once per machine and Python and then loaded from disk, and `nogil`, so Dask's
threads run it side by side. Only arithmetic whose bits cannot differ from numpy's is done
here (no exp, log or cos: numpy may use other implementations of those).

The engine imports this module through `sim.compiled.kernels()`, which returns None without
numba or with GRAPEVINE_NUMBA=0; the numpy expressions run then. tests/test_fast_paths.py
checks that both give the same results, bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np

jit = numba.njit(cache=True, nogil=True)

_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@jit
def keyed_uniform(id_, key):
    """The keyed stream's uniform for one id (sim.randomness: SplitMix64's finaliser twice on
    id ^ key, top 53 bits)."""
    x = np.uint64(id_) ^ key
    for _ in range(2):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return np.float64(x >> np.uint64(11)) * _TO_UNIT


@jit
def uniform(ids, key):
    """`keyed_uniform` for every id (ids as int64: uint64 ids wrap, bit for bit the same)."""
    out = np.empty(ids.size)
    for i in range(ids.size):
        out[i] = keyed_uniform(ids[i], key)
    return out
