"""Time an optimisation at the size the issue asks for: 3 levers, 200 mixes at 10,000 people.

    python bench/bench_optimize.py                  # 2 local workers
    python bench/bench_optimize.py --workers 1 --trials 40

Runs `grapevine optimize scenarios/budget-mix.yaml` with three of its levers (the retention
offer's discount, whom it goes to first and the share of leavers it reaches; gifts and check-ins
stay off), 200 mixes x the scenario's 4 futures at 10,000 people (3,000 customers) over 36 warm-up
and 36 months, into a temporary folder, and prints the wall time against the target (15 minutes on
2 cores), the CPU time of the command and its workers, and the machine's load before and after (the
machine is shared: a figure measured under load says so, and the CPU time divided by the cores is
what the wall time would be on cores of its own).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import yaml
from timed import run

ROOT = Path(__file__).resolve().parent.parent
TARGET = 900.0  # seconds, on 2 cores
LEVERS = ("RetentionOffers.discount", "RetentionOffers.target", "RetentionOffers.reach")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="write the optimisation folder here (default: a temporary one)")
    args = parser.parse_args()
    data = yaml.safe_load((ROOT / "scenarios" / "budget-mix.yaml").read_text())
    data["optimize"]["levers"] = {name: data["optimize"]["levers"][name] for name in LEVERS}
    data["optimize"]["trials"] = args.trials
    with tempfile.TemporaryDirectory(prefix="grapevine-bench-") as temp:
        scenario = Path(temp) / "budget-mix-3-levers.yaml"
        scenario.write_text(yaml.safe_dump(data, sort_keys=False))
        out = args.keep or Path(temp) / "search"
        command = [sys.executable, "-m", "sim.cli", "optimize", str(scenario), "--workers", str(args.workers),
                   "--quiet", "--out", str(out)]
        timed = run(command)
        done, seconds, cpu, before, after = timed.done, timed.seconds, timed.cpu, timed.before, timed.after
        if done.returncode != 0:
            print(done.stdout, done.stderr, sep="\n")
            return done.returncode
        manifest = json.loads((out / "manifest.json").read_text())
        runs = sum(1 for _ in (out / "runs").rglob("*.parquet"))
        print(done.stdout)
        print(f"command: grapevine optimize <budget-mix with levers {', '.join(LEVERS)}> --workers {args.workers}")
        print(f"optimisation of {len(LEVERS)} levers: {args.trials} mixes x {manifest['experiment']['replications']} "
              f"futures ({runs} runs of 10,000 people) on {args.workers} workers in {seconds:.0f} s (target <= "
              f"{TARGET:.0f} s on 2 cores: {'PASS' if seconds <= TARGET else 'MISS'})")
        print(f"CPU time of the command and its workers: {cpu:.0f} s ({cpu / seconds:.2f} cores busy on average); "
              f"on {args.workers} free cores the wall time would be about {max(cpu / args.workers, 1):.0f} s or more")
        print(f"load average (1, 5, 15 min) before {before}, after {after}; cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
