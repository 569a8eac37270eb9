"""The speed targets for thousands of runs, each printed with PASS or MISS and its figure.

    .venv/bin/python bench/bench_speed.py             # everything, 10M included (2-8 min on 2 cores, as fast as the machine is)
    .venv/bin/python bench/bench_speed.py --quick     # without the 10 million (1-4 min)

Targets (a 2-core machine):
- the engine at least 100 times faster than the per-agent Mesa twin (bench/per_agent_twin.py)
  at 10,000 people x 60 months: both timed in this process, one run of each in turn, the
  ratio of their medians. The engine's run is an experiment's: `Market(..., datacollector=False)
  .run().monthly()`, warm-up months included; the twin keeps its own DataCollector.
- at least 1,000 runs a minute of 10,000 people x 60 months in a sweep on 2 cores: a real
  sweep (`sim.experiments.sweep`, 2 arms x 2 replications a point) on a local Dask cluster
  of 2 workers, every run computed and saved; the cluster's start-up is not counted, the
  workers' own (import, kernels loaded on their first run) is. A second sweep of other seeds on
  the same workers is printed for information: what they do once warm.
- 1,000,000 x 60 months in 5 s or less, and 10,000,000 x 60 months in 120 s or less and
  16 GB or less, network and warm-up included, each in its own process (its peak memory is
  its own: ru_maxrss).
- the engine within 2 times the minimal vectorised month (bench/minimal_month.py) per
  customer-month at 1,000,000 people: both in the 1M process on the same network, one after
  the other; the engine's customer-months are its simulated months (warm-up included), its
  time is the run's without the network build.

The machine is shared: the load average is printed before and after, and only ratios
measured in one run are compared; absolute seconds under load are upper bounds. Next to wall
time the CPU time of the process is printed (time.process_time): less bent by other work on
the machine, it says what the run costs on a core of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

TARGETS = {"twin_ratio": 100.0, "runs_per_minute": 1000.0, "1M_seconds": 5.0, "10M_seconds": 120.0,
           "10M_peak_gb": 16.0, "floor_ratio": 2.0}
TWIN_PEOPLE, MONTHS = 10_000, 60


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


# --- the engine against the per-agent twin --------------------------------------------------
def timed(function, *args) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def engine_run(seed: int, n_people: int = TWIN_PEOPLE) -> tuple[float, float]:
    import sim

    return timed(lambda: sim.Market(seed=seed, n_people=n_people, months=MONTHS, datacollector=False).run().monthly())


def twin_run(seed: int, n_people: int = TWIN_PEOPLE) -> tuple[float, float]:
    import sim
    from per_agent_twin import TwinMarket

    return timed(lambda: TwinMarket(sim.Firm(), seed=seed, n_people=n_people, months=MONTHS).run())


def against_twin(twin_runs: int, engine_runs_per_twin: int) -> dict:
    engine_run(0, 1_000)  # imports and the compiled streams' cache loaded before timing
    engine, twin = [], []
    for i in range(twin_runs):
        engine += [engine_run(10 * i + j) for j in range(engine_runs_per_twin)]
        twin.append(twin_run(1000 + i))
    result = {}
    for clock, i in (("wall", 0), ("cpu", 1)):
        e, t = statistics.median(r[i] for r in engine), statistics.median(r[i] for r in twin)
        print(f"engine vs twin at {TWIN_PEOPLE:,} x {MONTHS} months, {clock} time: engine {e:.3f} s (median of "
              f"{len(engine)}), twin {t:.2f} s (median of {len(twin)}): {t / e:.0f}x", flush=True)
        result |= {f"engine_{clock}_s": e, f"twin_{clock}_s": t, f"ratio_{clock}": t / e}
    return result


# --- a sweep on 2 workers ---------------------------------------------------------------------
def sweep_rate(points: int, workers: int = 2) -> dict:
    """Runs a minute of a real sweep on a fresh local cluster (the row with the target), then of a
    second sweep of other seeds on the same cluster: what its workers do once warm (imported,
    kernels loaded), printed for information."""
    from bench_sweep import scenario
    from sim.experiments import RunFolder, executors, sweep
    from sim.experiments.runner import execute

    started = time.perf_counter()
    executor = executors.make_executor(workers)
    up = time.perf_counter() - started
    result = {"startup_s": up}
    with tempfile.TemporaryDirectory() as tmp:
        for name, seed in (("first", 3), ("warm", 4)):  # other seeds: nothing is reused but the workers
            design = sweep.design(scenario(TWIN_PEOPLE, MONTHS, points).model_copy(update={"seed": seed}))
            folder = RunFolder.create(design, Path(tmp) / name)
            saved = {}
            t0 = time.perf_counter()
            execute(folder, executor, progress=False, close=name == "warm",
                    on_saved=lambda task, count: saved.update(t=time.perf_counter()))
            seconds = saved["t"] - t0
            rate = 60 * design.total / seconds
            if name == "first":
                print(f"sweep of {design.total} runs of {TWIN_PEOPLE:,} x {MONTHS} months on {workers} workers: "
                      f"{seconds:.1f} s after a {up:.1f} s cluster start-up: {rate:.0f} runs a minute", flush=True)
                result |= {"runs": design.total, "seconds": seconds, "runs_per_minute": rate}
            else:
                print(f"  a second sweep of other seeds on the same {workers} workers, warm: {seconds:.1f} s, "
                      f"{rate:.0f} runs a minute", flush=True)
                result |= {"warm_seconds": seconds, "warm_runs_per_minute": rate}
    return result


# --- large markets, each in its own process ----------------------------------------------------
def large(n_people: int, floor_months: int) -> dict:
    """In this (child) process: the engine at n_people with network; then the minimal month."""
    import numpy as np

    import minimal_month
    import sim
    import sim.network

    build = sim.network.build
    network_s = []

    def timed_build(*args, **kwargs):
        start = time.perf_counter()
        try:
            return build(*args, **kwargs)
        finally:
            network_s.append(time.perf_counter() - start)

    sim.network.build = timed_build
    sim.Market(seed=0, n_people=1_000, months=1, datacollector=False).run()  # imports, compiled streams' cache
    network_s.clear()
    start, cpu = time.perf_counter(), time.process_time()
    market = sim.Market(seed=1, n_people=n_people, months=MONTHS, datacollector=False).run()
    market.monthly()
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    simulated = MONTHS + market.parameters.warm_up_months
    result = {"n_people": n_people, "total_s": total, "cpu_s": cpu, "network_s": network_s[0], "peak_mb": peak_mb,
              "simulated_months": simulated,
              "engine_customer_months_per_s": n_people * simulated / (total - network_s[0])}
    if floor_months:
        network, parameters = market.network, market.parameters
        del market
        seconds = minimal_month.run(network, parameters, floor_months, seed=int(np.uint32(n_people)))
        result["floor_customer_months_per_s"] = n_people * floor_months / seconds
    return result


def large_in_subprocess(n_people: int, floor_months: int) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(n_people), "--floor-months",
               str(floor_months)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    floor = result.get("floor_customer_months_per_s")
    print(f"engine {n_people:,} x {MONTHS} months (+ warm-up: {result['simulated_months']} simulated): "
          f"{result['total_s']:.1f} s ({result['cpu_s']:.1f} s CPU), network {result['network_s']:.1f} s, peak {result['peak_mb']:,.0f} MB; "
          f"{result['engine_customer_months_per_s'] / 1e6:.1f} million customer-months a second"
          + (f" (minimal month {floor / 1e6:.1f} million)" if floor else ""), flush=True)
    return result


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the 10 million")
    parser.add_argument("--twin-runs", type=int, default=3, help="twin runs (each ~7 s at 10k on a quiet core)")
    parser.add_argument("--engine-runs", type=int, default=3, help="engine runs per twin run")
    parser.add_argument("--points", type=int, default=15, help="sweep points (4 runs each)")
    parser.add_argument("--floor-months", type=int, default=24, help="months of the minimal month at 1M")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child is not None:
        print(json.dumps(large(args.child, args.floor_months)))
        return

    command = shlex.join([sys.executable, *sys.argv])
    print(f"command: (cd {shlex.quote(os.getcwd())} && {command})")
    print(f"python {sys.version.split()[0]}; at the start: {load()}", flush=True)
    twin = against_twin(args.twin_runs, args.engine_runs)
    sweep = sweep_rate(args.points)
    million = large_in_subprocess(1_000_000, args.floor_months)
    ten = None if args.quick else large_in_subprocess(10_000_000, 0)
    print(f"at the end: {load()}")

    floor_ratio = million["floor_customer_months_per_s"] / million["engine_customer_months_per_s"]
    rows = [
        (f"engine vs per-agent twin, {TWIN_PEOPLE // 1000}k x {MONTHS} months, x faster", f"{twin['ratio_wall']:.0f}",
         f">= {TARGETS['twin_ratio']:g}", verdict(twin["ratio_wall"] >= TARGETS["twin_ratio"])),
        ("  the same in CPU time", f"{twin['ratio_cpu']:.0f}", f">= {TARGETS['twin_ratio']:g}",
         verdict(twin["ratio_cpu"] >= TARGETS["twin_ratio"])),
        (f"sweep runs a minute, {TWIN_PEOPLE // 1000}k x {MONTHS} months, 2 workers",
         f"{sweep['runs_per_minute']:.0f}", f">= {TARGETS['runs_per_minute']:g}",
         verdict(sweep["runs_per_minute"] >= TARGETS["runs_per_minute"])),
        ("  a second sweep on the same workers, warm (information)", f"{sweep['warm_runs_per_minute']:.0f}", "-", "-"),
        (f"1M x {MONTHS} months incl. network, s", f"{million['total_s']:.1f}", f"<= {TARGETS['1M_seconds']:g}",
         verdict(million["total_s"] <= TARGETS["1M_seconds"])),
        ("  the same in CPU time, s", f"{million['cpu_s']:.1f}", f"<= {TARGETS['1M_seconds']:g}",
         verdict(million["cpu_s"] <= TARGETS["1M_seconds"])),
        ("peak memory at 1M, MB", f"{million['peak_mb']:,.0f}", "-", "-"),
    ]
    if ten is not None:
        rows += [
            (f"10M x {MONTHS} months incl. network, s", f"{ten['total_s']:.0f}", f"<= {TARGETS['10M_seconds']:g}",
             verdict(ten["total_s"] <= TARGETS["10M_seconds"])),
            ("  the same in CPU time, s", f"{ten['cpu_s']:.0f}", f"<= {TARGETS['10M_seconds']:g}",
             verdict(ten["cpu_s"] <= TARGETS["10M_seconds"])),
            ("peak memory at 10M, GB", f"{ten['peak_mb'] / 1024:.1f}", f"<= {TARGETS['10M_peak_gb']:g}",
             verdict(ten["peak_mb"] / 1024 <= TARGETS["10M_peak_gb"])),
        ]
    rows.append(("minimal month / engine, customer-months a second at 1M", f"{floor_ratio:.1f}",
                 f"<= {TARGETS['floor_ratio']:g}", verdict(floor_ratio <= TARGETS["floor_ratio"])))
    print(f"\n{'figure':<60}{'measured':>10}  {'target':<10}  result")
    for figure, measured, target, result in rows:
        print(f"{figure:<60}{measured:>10}  {target:<10}  {result}")
    print(f"\ncommand: {command}")


if __name__ == "__main__":
    main()
