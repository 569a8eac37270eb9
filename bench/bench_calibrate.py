"""Time a calibration at the size the issue asks for: 4 free parameters, 5 figures, 20,000 customers.

    python bench/bench_calibrate.py                 # the shipped scenarios/calibrate-telco.yaml, 2 workers
    python bench/bench_calibrate.py --workers 1 --trials 40

Runs `grapevine calibrate scenarios/calibrate-telco.yaml` (20,000 customers, 4 free parameters)
without its share-of-complaints-resolved figure, so 5 figures are fitted, into a temporary
folder, and prints the wall time against the target (10 minutes on 2 cores), the CPU time of the
command and its workers, the trials, the effective posterior draws, and the machine's load before
and after (the machine is shared: a figure measured under load says so, and the CPU time divided by
the cores is what the wall time would be on cores of its own).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from timed import run

ROOT = Path(__file__).resolve().parent.parent
TARGET = 600.0  # seconds, on 2 cores


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=None, help="default: the scenario's (200)")
    parser.add_argument("--keep", type=Path, help="write the calibration folder here (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grapevine-bench-") as temp:
        out = args.keep or Path(temp) / "fit"
        command = [sys.executable, "-m", "sim.cli", "calibrate", str(ROOT / "scenarios" / "calibrate-telco.yaml"),
                   "--set", "observed.complaints_resolved=null", "--workers", str(args.workers), "--quiet",
                   "--out", str(out)]
        if args.trials:
            command += ["--trials", str(args.trials)]
        timed = run(command)
        done, seconds, cpu, before, after = timed.done, timed.seconds, timed.cpu, timed.before, timed.after
        if done.returncode != 0:
            print(done.stdout, done.stderr, sep="\n")
            return done.returncode
        manifest = json.loads((out / "manifest.json").read_text())
        fit = manifest["calibration"]
        figures = len(manifest["experiment"]["extra"]["original"]["observed"]) - 1  # less `months`
        print(done.stdout)
        print(f"command: {' '.join(command[1:])}")
        print(f"calibration of {len(manifest['experiment']['settings'])} parameters to {figures} figures at 20,000 "
              f"customers: {fit['trials']} trials x {manifest['experiment']['replications']} replications on "
              f"{args.workers} workers in {seconds:.0f} s (target <= {TARGET:.0f} s on 2 cores: "
              f"{'PASS' if seconds <= TARGET else 'MISS'}); {fit['effective_draws']} effective posterior draws")
        print(f"CPU time of the command and its workers: {cpu:.0f} s ({cpu / seconds:.2f} cores busy on average); "
              f"on {args.workers} free cores the wall time would be about {max(cpu / args.workers, 1):.0f} s or more")
        print(f"load average (1, 5, 15 min) before {before}, after {after}; cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
