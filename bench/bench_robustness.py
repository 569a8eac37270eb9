"""What the robustness pass costs on the shipped scenarios, against the run it follows.

    .venv/bin/python bench/bench_robustness.py                 # every shipped comparison, quick pass
    .venv/bin/python bench/bench_robustness.py --only quickstart --mode full

For each scenario: `grapevine run` as shipped (replications auto) with `--robustness MODE`; the
runs of the main comparison and of the pass (from the run folder's manifest), their ratio, and
the seconds of each. Runs are the budget's unit (every run of a scenario is the same size);
seconds depend on the machine and its load, so the script prints the load beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = ("sweep-", "sensitivity-", "wom-")  # sweeps, sensitivity and the validation twins are not plain runs


def measure(name: str, mode: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "sim.cli", "run", name, "--out", str(out), "--quiet",
                               "--no-figures", "--robustness", mode], cwd=ROOT, capture_output=True, text=True)
        total = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{name}: {done.stderr[-2000:]}")
        manifest = json.loads((out / "manifest.json").read_text())
    cost = manifest["robustness"]
    main_runs = round(cost["runs"] / cost["times_main"]) if cost["times_main"] else 0
    return {"scenario": name, "main_runs": main_runs, "pass_runs": cost["runs"], "variants": cost["variants"],
            "replications": cost["replications"], "times_main": round(cost["times_main"], 2),
            "main_s": round(total - cost["seconds"], 1), "pass_s": cost["seconds"], "load": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="scenario names (default: every shipped comparison)")
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    args = parser.parse_args()
    names = args.only or [p.stem for p in sorted((ROOT / "scenarios").glob("*.yaml")) if not p.stem.startswith(SKIP)]
    print("| scenario | main runs | robustness runs | variants x replications | x main | main s | robustness s | load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        row = measure(name, args.mode)
        print(f"| {row['scenario']} | {row['main_runs']} | {row['pass_runs']} | {row['variants']} x "
              f"{row['replications']} | {row['times_main']} | {row['main_s']} | {row['pass_s']} | {row['load']:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
