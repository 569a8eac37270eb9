"""Whether the compiled kernels run: `kernels()` is `sim.kernels` (numba) or None.

None without numba, with GRAPEVINE_NUMBA=0, or when numba cannot keep its cache (a read-only
install without a home): the numpy expressions then give the same numbers, more slowly.
Imported at the first call, so that importing sim stays quick.

    python -c "import sim.compiled; sim.compiled.warm()"   # compile every kernel now (`make install` does)
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


def warm() -> bool:
    """Compile (or load from numba's cache) every kernel, for the argument types the engine
    passes, by running small markets of each network family and one with every policy.
    Returns whether the kernels are on."""
    if kernels() is None:
        return False
    import sim

    firms = [sim.Firm(name="A", policies=["ServiceRecovery", "SmallGifts", "Upsell"]),
             sim.Firm(name="B", policies=["RetentionOffers", "WinBackOffers", "ProactiveCheckIns"])]
    for network in ("small_world", "scale_free", "communities"):
        for relay_probability in (0.0, 0.2):  # word of mouth in one call, and in parts (second-hand news)
            sim.Market(seed=0, n_people=400, months=2, warm_up_months=2, network=network, firms=firms,
                       relay_probability=relay_probability, datacollector=False).run().monthly()
    return True
