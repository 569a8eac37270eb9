"""Would threads make a big market's month faster? A kernel of the month on one core and on all,
with its arrays in the cache and with them out of it, as they are in a month.

    .venv/bin/python bench/threads.py                                   # 1M people, ~20 s
    NUMBA_THREADING_LAYER=workqueue .venv/bin/python bench/threads.py   # numba's own thread pool

The kernel is `sim.kernels.feel_the_month` (every customer's feelings after the month's service:
seven float arrays and one flag read or written per customer), and its twin compiled with
numba's `parallel=True` and its loop made a `prange` (here, from its own source: the engine does
not ship it). Both give the same bits (checked). Each is timed twice: called again and again
on the same arrays (they stay in the cache), and called once after a pass over a buffer four
times the size of the last-level cache (its arrays come from memory again, as in a month,
where every phase passes over other arrays in between). The threading layer is numba's choice
(TBB, then OpenMP, then its workqueue) unless NUMBA_THREADING_LAYER says. bench/README.md has
what was measured, with the engine's threaded prototype (bench/threads-prototype.patch).
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def threaded_twin(kernel):
    """`kernel` with its `for i in members:` loop a `prange`, compiled with parallel=True."""
    import numba

    from sim import kernels

    source = inspect.getsource(kernel.py_func)
    loop = "    for i in members:\n"
    if loop not in source:
        raise SystemExit(f"{kernel.__name__}'s loop is no longer `{loop.strip()}`: update bench/threads.py")
    source = source.replace("@jit\n", "").replace(loop, "    for j in numba.prange(members.size):\n        i = members[j]\n")
    scope = dict(vars(kernels), numba=numba)
    exec(source, scope)  # noqa: S102 (the engine's own source, one loop changed)
    return numba.njit(parallel=True, nogil=True)(scope[kernel.__name__])


def last_level_cache_bytes() -> int:
    """The largest cache's size as Linux states it ("48K", "260M"); 64 MB where it says nothing."""
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    sizes = []
    for path in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = path.read_text().strip()
        sizes.append(int(text[:-1]) * units[text[-1]] if text[-1:] in units else int(text))
    return max(sizes, default=64 * 2**20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=41)
    args = parser.parse_args()

    import numba

    import sim
    from sim import compiled

    kernels = compiled.kernels()
    if kernels is None:
        raise SystemExit("numba is not available here (or GRAPEVINE_NUMBA=0): nothing to compare")
    market = sim.Market(seed=1, n_people=args.people, months=1, warm_up_months=6, datacollector=False)
    c, p = market.customers, market.parameters
    members = c.members()
    state = (c.experience, c.expectation, c.satisfaction, c.temperament, c.surprise, c.price_rise, c.loyalty, c.failed)
    settings = (p.tolerance_zone, p.loss_aversion, p.price_weight, p.performance_weight, p.quality_norm,
                p.disconfirmation_sensitivity, p.satisfaction_memory, p.failure_severity, p.forgiveness,
                p.expectation_adaptation, p.satisfied_above, p.dissatisfied_below, p.loyalty_growth, p.loyalty_erosion)
    kernel, twin = kernels.feel_the_month, threaded_twin(kernels.feel_the_month)

    outputs = []
    for function in (kernel, twin):
        arrays = [array.copy() for array in state]
        function(members, *arrays, *settings)
        outputs.append(arrays)
    same = all(np.array_equal(a, b) for a, b in zip(*outputs))

    flush = np.ones(4 * last_level_cache_bytes() // 8)

    def medians_ms(cached: bool) -> tuple[float, float]:
        """Both kernels' median times, taking turns (the machine's speed drifts)."""
        arrays = [[array.copy() for array in state] for _ in range(2)]
        times: list[list[float]] = [[], []]
        for _ in range(args.repeats):
            for which, function in enumerate((kernel, twin)):
                if not cached:
                    flush.sum()  # every line of the cache now holds the buffer
                start = time.perf_counter()
                function(members, *arrays[which], *settings)
                times[which].append(time.perf_counter() - start)
        return 1e3 * statistics.median(times[0]), 1e3 * statistics.median(times[1])

    print(f"feel_the_month, {members.size:,} customers of {args.people:,} people; numba {numba.__version__}, "
          f"{numba.get_num_threads()} threads, {numba.threading_layer()} layer; the same bits: {same}")
    print(f"{'arrays':<34}{'one core, ms':>14}{'every core, ms':>16}{'ratio':>8}")
    for label, cached in (("in the cache (called again)", True), ("from memory (as in a month)", False)):
        one, every = medians_ms(cached)
        print(f"{label:<34}{one:>14.2f}{every:>16.2f}{one / every:>8.2f}")


if __name__ == "__main__":
    main()
