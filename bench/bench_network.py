"""Seconds to build each generated network, with the compiled kernels (numba) and with numpy alone.

    .venv/bin/python bench/bench_network.py                      # 1,000,000 people, median of 5 builds
    .venv/bin/python bench/bench_network.py --ten-million        # 10,000,000 people, median of 3
    .venv/bin/python bench/bench_network.py --compiled-only      # skip the numpy builds (slow at 10M)

Each generator uses the default parameters (`network`, `mean_degree`, ...: sim/parameters.py) with
its own seed per repeat. Both builds of one repeat must give the same arrays; the bench says so.
Targets (issue 16, on one quiet core): the default small world in <= 0.6 s at 1M and <= 8 s at
10M; scale-free and communities in <= 1.5 s at 1M. The machine may be shared: the load average
is printed before and after, and a figure measured under a load above 2 is not final.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import sim
from sim import compiled
from sim import network as networks

GENERATORS = ("small_world", "scale_free", "communities")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def build_seconds(parameters, seed: int, kernels) -> tuple[float, networks.SocialNetwork]:
    compiled._loaded[:] = [kernels]  # the engine's switch (sim.compiled.kernels()), as the tests set it
    start = time.perf_counter()
    net = networks.build(parameters, np.random.default_rng(seed))
    return time.perf_counter() - start, net


def same(first: networks.SocialNetwork, second: networks.SocialNetwork) -> bool:
    return all(getattr(first, name).dtype == getattr(second, name).dtype
               and np.array_equal(getattr(first, name), getattr(second, name))
               for name in ("indptr", "indices", "strong"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--ten-million", action="store_true", help="10,000,000 people (3 repeats unless --repeats)")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--compiled-only", action="store_true", help="skip the numpy builds")
    parser.add_argument("--generators", default=",".join(GENERATORS))
    args = parser.parse_args()
    people = 10_000_000 if args.ten_million else args.people
    repeats = args.repeats or (3 if people >= 5_000_000 else 5)
    fast = compiled.kernels()
    if fast is None:
        raise SystemExit("numba is not available here (or GRAPEVINE_NUMBA=0): nothing to compare")
    for generator in GENERATORS:  # compile, or load from numba's cache, out of the timings
        build_seconds(sim.make_parameters(n_people=500, network=generator), 0, fast)

    print(f"network build, {people:,} people, median of {repeats} (load average before: {load()}, "
          f"{os.cpu_count()} cores)")
    print(f"{'generator':<13} {'compiled':>9} {'numpy':>9} {'ratio':>7}  same arrays")
    for generator in args.generators.split(","):
        parameters = sim.make_parameters(n_people=people, network=generator)
        compiled_times, numpy_times, identical = [], [], []
        for seed in range(1, repeats + 1):
            seconds, fast_net = build_seconds(parameters, seed, fast)
            compiled_times.append(seconds)
            if not args.compiled_only:
                seconds, plain_net = build_seconds(parameters, seed, None)
                numpy_times.append(seconds)
                identical.append(same(fast_net, plain_net))
                del plain_net
            del fast_net
        fast_median = statistics.median(compiled_times)
        if numpy_times:
            plain_median = statistics.median(numpy_times)
            print(f"{generator:<13} {fast_median:8.3f}s {plain_median:8.3f}s {plain_median / fast_median:6.1f}x  "
                  f"{'yes' if all(identical) else 'NO'}")
        else:
            print(f"{generator:<13} {fast_median:8.3f}s {'-':>9} {'-':>7}  -")
        print(f"{'':<13} compiled: {', '.join(f'{x:.3f}' for x in compiled_times)}"
              + (f"; numpy: {', '.join(f'{x:.3f}' for x in numpy_times)}" if numpy_times else ""))
    compiled._loaded[:] = [fast]
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
