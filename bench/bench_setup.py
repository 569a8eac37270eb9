"""Set-up time of a small market (Mesa agents on a Mesa Network included) on the running Python and Mesa.

    .venv/bin/python bench/bench_setup.py                   # 1,500 people, median of 7 set-ups
    .venv-3.12/bin/python bench/bench_setup.py --mesa-default-layout   # also time what Mesa 3.5's
                                                            # Network(G) costs with its default layout

Markets up to `agent_view_limit` people (2,000) get one Mesa agent per person on a
`mesa.discrete_space.Network`; Mesa 3.5 lays that network out with `nx.spring_layout` unless
told not to (`sim.mesa_compat.network_space`). Run it on each interpreter (see bench/README.md).
"""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import statistics
import time

import mesa
import numpy as np

import sim

def setup_seconds(n_people: int, seed: int) -> tuple[float, sim.Market]:
    start = time.perf_counter()
    market = sim.Market(seed=seed, n_people=n_people)
    return time.perf_counter() - start, market


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--mesa-default-layout", action="store_true",
                        help="also time mesa.discrete_space.Network(G) as Mesa builds it by default")
    args = parser.parse_args()

    setup_seconds(args.people, 0)  # imports and first-call costs out of the way
    times = []
    for seed in range(1, args.repeats + 1):
        seconds, market = setup_seconds(args.people, seed)
        times.append(seconds)
    assert len(market.agents) == args.people, "the market has no Mesa agents: raise agent_view_limit"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Python {platform.python_version()}, Mesa {mesa.__version__}, numpy {np.__version__} "
          f"(load average {load}, {os.cpu_count()} cores)")
    print(f"set-up of a {args.people:,}-person market with its Mesa agents: median {statistics.median(times):.3f} s, "
          f"min {min(times):.3f} s, max {max(times):.3f} s ({args.repeats} set-ups)")

    if args.mesa_default_layout:
        from mesa.discrete_space import Network

        graph = market.network.to_networkx()
        start = time.perf_counter()
        Network(graph, random=market.random)
        takes_layout = "layout" in inspect.signature(Network).parameters
        what = "nx.spring_layout included" if takes_layout else "this Mesa takes no layout"
        print(f"mesa.discrete_space.Network(G) as Mesa builds it by default ({what}): "
              f"{time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
