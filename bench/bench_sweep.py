"""Sweep throughput, client memory and a million-customer run (a script, not a test).

    .venv/bin/python bench/bench_sweep.py            # everything (a few minutes on 2 cores)
    .venv/bin/python bench/bench_sweep.py --only rate
    .venv/bin/python bench/bench_sweep.py --only memory
    .venv/bin/python bench/bench_sweep.py --only million

rate:    runs per minute of a sweep serially (1 worker) and on a local Dask cluster of 2
         workers, at two market sizes; the cluster's start-up is timed apart.
memory:  the peak resident memory of the client process for sweeps of growing length
         (each in a fresh process, runs on a local cluster so the client only collects).
million: one run of a market of 1,000,000 people (time and peak memory).

Prints a Markdown table to paste into the README. Every folder is made in a temporary
directory and removed.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import os

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {  # people: (months, points); every point has 2 arms x 2 replications
    20_000: (60, 8),
    200_000: (60, 2),
}


def scenario(people: int, months: int, points: int, replications: int = 2, by_price: bool = False):
    from sim.scenario import Scenario

    return Scenario.model_validate({
        "name": "bench-sweep", "seed": 3, "replications": replications,
        "market": {"n_people": people, "months": months, "contract_months": 12},
        "firms": [{"name": "Telco", "failure_rate": 0.03, "policies": ["RenewalCall"]}],
        "compare": {"baseline": "ignore", "arms": [
            {"name": "ignore"},
            {"name": "recover", "add": [{"kind": "ServiceRecovery", "effort": 0.7}]}]},
        "sweep": {"parameters": {"market.price": [40.0 + 0.1 * i for i in range(points)]} if by_price else
                  {"firms.Telco.failure_rate": [round(0.01 + 0.01 * i, 3) for i in range(points)]}},
    })


def rate() -> list[dict]:
    from sim.experiments import RunFolder, executors, sweep
    from sim.experiments.runner import execute

    rows = []
    for people, (months, points) in SIZES.items():
        design = sweep.design(scenario(people, months, points))
        runs = design.total
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                executor = executors.make_executor(workers)
                up = time.perf_counter() - started
                folder = RunFolder.create(design, Path(tmp) / "sweep")
                last = {}
                t0 = time.perf_counter()
                execute(folder, executor, progress=False,
                        on_saved=lambda task, count: last.update(t=time.perf_counter()))
                sweep.finalize(folder)
                total = time.perf_counter() - t0
                seconds = last["t"] - t0  # every run computed and saved; the rest is the final tables
            row = {"people": people, "months": months, "runs": runs, "workers": workers,
                   "startup_s": round(up, 1), "seconds": round(seconds, 1), "final_s": round(total - seconds, 1),
                   "runs_per_min": round(60 * runs / seconds, 1)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def _client_peak(points: int) -> dict:
    """In a fresh process: a sweep of `points` x 4 tiny runs on a 2-worker local cluster."""
    code = f"""
import json, resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'bench')!r})
from bench_sweep import scenario
from sim.experiments import RunFolder, executors, sweep
from sim.experiments.runner import execute
if __name__ == "__main__":
    design = sweep.design(scenario(200, 6, {points}, by_price=True))
    with tempfile.TemporaryDirectory() as tmp:
        folder = RunFolder.create(design, Path(tmp) / "s")
        t = time.perf_counter()
        execute(folder, executors.make_executor(2), progress=False)
        sweep.finalize(folder)
        print(json.dumps({{"runs": {points} * 4, "seconds": round(time.perf_counter() - t, 1),
                          "client_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory(points=(25, 100, 400, 1000)) -> list[dict]:
    rows = []
    for n in points:
        row = _client_peak(n)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def million(people: int = 1_000_000, months: int = 60) -> dict:
    code = f"""
import json, resource, sys, time
sys.path.insert(0, {str(ROOT)!r})
from sim.market import Market
t = time.perf_counter()
m = Market(seed=1, n_people={people}, months={months}, policies=["ServiceRecovery"])
built = time.perf_counter() - t
m.run()
print(json.dumps({{"people": {people}, "months": {months}, "build_s": round(built, 1),
                  "total_s": round(time.perf_counter() - t, 1),
                  "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    row = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["rate", "memory", "million"])
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    out = []
    if args.only in (None, "rate"):
        rows = rate()
        out += ["", "| people | months | runs | workers | cluster start-up s | runs s | runs/min | final tables s |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        out += [f"| {r['people']:,} | {r['months']} | {r['runs']} | {r['workers']} | "
                f"{r['startup_s'] if r['workers'] > 1 else '-'} | {r['seconds']} | {r['runs_per_min']} | "
                f"{r['final_s']} |" for r in rows]
    if args.only in (None, "memory"):
        rows = memory()
        out += ["", "| runs in the sweep | sweep s | client peak RSS MB |", "|---:|---:|---:|"]
        out += [f"| {r['runs']} | {r['seconds']} | {r['client_peak_mb']} |" for r in rows]
    if args.only in (None, "million"):
        r = million()
        out += ["", f"One run of {r['people']:,} people over {r['months']} months: built in {r['build_s']} s, "
                    f"{r['total_s']} s in all, peak memory {r['peak_mb']:,} MB."]
    print("\n".join(out))


if __name__ == "__main__":
    main()
