"""CPU time of each monthly phase per person-month, and of the network build per person.

    .venv/bin/python bench/phase_costs.py --people 10000000     # about a minute at 10M
    .venv/bin/python bench/phase_costs.py --people 1000000 --months 24

One market of the default scenario, `--months` of warm-up and as many after (the metrics run on
the months after only), every phase wrapped in a timer of this process's CPU time. Prints the
total, the peak memory and one line per phase: where the month's time goes at that size.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12, help="warm-up months, and as many after")
    args = parser.parse_args()

    import sim
    import sim.market
    import sim.network
    from sim.phases import MONTH

    from bench_engine import timer

    sim.Market(seed=0, n_people=1_000, months=2, datacollector=False).run()  # imports, kernels loaded
    spent: dict[str, float] = {}
    timed = partial(timer, spent, clock=time.process_time)
    for phase in MONTH:
        phase.run = timed(phase.__name__.rsplit(".", 1)[-1], phase.run)
    sim.market.monthly_metrics = timed("metrics", sim.market.monthly_metrics)
    sim.network.build = timed("network", sim.network.build)
    start = time.process_time()
    sim.Market(seed=1, n_people=args.people, months=args.months, warm_up_months=args.months,
               datacollector=False).run()
    total = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    person_months = args.people * 2 * args.months
    print(f"{args.people:,} people, {2 * args.months} months: {total:.1f} s CPU, peak {peak:.1f} GB")
    for name, seconds in spent.items():
        per = seconds / args.people if name == "network" else seconds / person_months
        print(f"  {name:14s} {seconds:7.2f} s  {per * 1e9:7.1f} ns per person{'' if name == 'network' else '-month'}")


if __name__ == "__main__":
    main()
