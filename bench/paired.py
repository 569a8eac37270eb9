"""Is this code faster than another checkout of it? Paired runs, taking turns.

    git worktree add --detach /tmp/old <commit>        # the code to compare against
    .venv/bin/python bench/paired.py --base /tmp/old                              # 10k x 60 months, 40 pairs
    .venv/bin/python bench/paired.py --base /tmp/old --people 1000000 --months 12 --pairs 10

Two processes, one running the markets with `--base`'s code and one with this checkout's, take
turns on the same markets (same seeds; who goes first alternates); each pair gives a ratio
new/old. On a shared machine whose speed drifts by tens of percent over minutes, the median of
those ratios says what single timings cannot. `--months` sets the warm-up months too. Prints
each side's median time and the median ratio with its quartiles.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def worker(people: int, months: int | None) -> None:
    """Run one market per line read (the seed), print its seconds; imports and kernels first."""
    import sim

    sizes = {} if months is None else {"months": months, "warm_up_months": months}
    sim.Market(seed=0, n_people=1_000, datacollector=False, **(sizes or {"months": 2})).run()
    for line in sys.stdin:
        start = time.perf_counter()
        sim.Market(seed=int(line), n_people=people, datacollector=False, **(sizes or {"months": 60})).run().monthly()
        print(time.perf_counter() - start, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the other checkout (its top folder)")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=None, help="months and warm-up months (default: 60 and the default warm-up)")
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.people, args.months)
        return

    def start(checkout: Path) -> subprocess.Popen:
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--base", str(checkout),
                   "--people", str(args.people)] + (["--months", str(args.months)] if args.months else [])
        return subprocess.Popen(command, cwd=checkout, env=dict(os.environ, PYTHONPATH=str(checkout)),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(process: subprocess.Popen, seed: int) -> float:
        process.stdin.write(f"{seed}\n")
        process.stdin.flush()
        return float(process.stdout.readline())

    old, new = start(Path(args.base).resolve()), start(HERE.parent)
    old_s, new_s = [], []
    for pair in range(args.pairs):
        if pair % 2:
            old_s.append(run(old, pair + 1)), new_s.append(run(new, pair + 1))
        else:
            new_s.append(run(new, pair + 1)), old_s.append(run(old, pair + 1))
    for process in (old, new):
        process.stdin.close()
        process.wait()
    ratios = sorted(n / o for n, o in zip(new_s, old_s))
    quarter = len(ratios) // 4
    print(f"{args.people:,} people, {args.pairs} pairs: old {statistics.median(old_s) * 1000:.0f} ms, "
          f"new {statistics.median(new_s) * 1000:.0f} ms (medians); new/old {statistics.median(ratios):.3f} "
          f"(quartiles {ratios[quarter]:.3f}-{ratios[-quarter - 1]:.3f})")


if __name__ == "__main__":
    main()
