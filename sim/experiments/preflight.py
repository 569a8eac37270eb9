"""Preflight: what a plan needs (memory, time, disk) and whether this machine and folder can give it,
checked before anything is written or run.

    needs = estimate(plan)                 # None for plans that are not markets (check-model)
    check(plan, where, workers=2)          # InputError: the folder cannot be written, the disk or the
                                           # memory is too small; returns the estimate
    needs.describe()                       # 'about 180 MB of memory per run, ...'

The estimates are rough and deliberately on the high side; where their figures come from:
- memory: the state arrays take about 150 bytes per person plus 60 per person and firm (peak RSS
  at 200,000 people with 1 to 5 firms); building the network about 75 bytes per stored tie, 90
  for scale-free, with numpy alone, and 10, 14 for scale-free and 20 for communities with the
  compiled kernels (tracemalloc peaks at 40,000 to 200,000 people, mean_degree 10 to 100: the
  estimate is 1.1 to 1.35 times the peak with numpy, 1.2 to 1.7 compiled, and
  tests/test_reliability.py keeps it above the peak and within twice it); a Python process with
  its libraries about 200 MB (peak RSS);
- time: bench/README.md, measured on this project's 2-core machine (1,000,000 people x 96
  months in 12.2 s, 2.4 s of it the network), with the share of the ties taken from the ratio of
  monthly times at mean_degree 10 and 100 measured in one session;
- disk: a run's Parquet file is about 32 kB plus 100 bytes per row (month and firm), the final
  time series about 450 bytes per row as Parquet and CSV (measured at 13 to 601 rows).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .. import compiled
from ..errors import InputError

PROCESS_BYTES = 200e6  # Python, numpy, pandas, Mesa: one worker process before its first market
PERSON_BYTES = 150.0  # customer state arrays, per person
PERSON_FIRM_BYTES = 60.0  # per person and firm (who heard what about which firm, ...)
TIE_BYTES = {"scale_free": 90.0}  # per stored tie (both directions) while numpy builds the CSR network
TIE_BYTES_OTHERWISE = 75.0
# the same, built by sim.kernels: the generators' numpy parts peak higher on numpy 2.5 (Python 3.12+)
# than on 2.4 (communities at degree 100: 20.3 bytes a tie against 16), so these hold for both
COMPILED_TIE_BYTES = {"scale_free": 14.0, "communities": 26.0, "edge_list": 75.0}
COMPILED_TIE_BYTES_OTHERWISE = 12.0
PERSON_MONTH_SECONDS = 7.8e-8  # bench: 1M people x 96 months ~ 9.8 s at mean_degree 10
TIE_MONTH_SECONDS = 2.5e-9  # per stored tie and month (word of mouth, peer churn)
MONTH_SECONDS = 1.5e-3  # per month whatever the size (about a hundred numpy calls)
TIE_BUILD_SECONDS = 2.4e-7  # bench: 10M stored ties built in 2.4 s
RUN_SECONDS = 0.05  # set-up and saving a run
RUN_FILE_BYTES = 32_000  # a run's Parquet file: column metadata, whatever its length
ROW_BYTES = {"run": 100 + 450, "sweep": 100 + 100, "sensitivity": 100}  # per row: run file + final tables
POINT_BYTES = 3_000  # a sweep or sensitivity point's rows of summary.csv and comparison.csv
MARGIN_BYTES = 256e3  # the manifest, the figures' temp files: room kept besides the estimate
ANNOUNCE_SECONDS = 600.0  # a plan expected to take longer than this is announced with its time
DASK_TERMINATE = 0.95  # a Dask worker is restarted above this share of its memory limit


@dataclass(frozen=True)
class Needs:
    """What a plan needs: the largest run's memory, the computing time of all runs on one core, disk."""

    runs: int
    run_bytes: float  # the largest run, its process included
    seconds: float  # all runs, one after another on one core
    disk_bytes: float
    largest: str  # the largest run in words: '4,000 people, 40,000 ties'

    def plus(self, other: Needs | None) -> Needs:
        """This plan's needs and another's, run after it (the robustness pass after a run)."""
        if other is None:
            return self
        largest = max((self, other), key=lambda needs: needs.run_bytes)
        return Needs(self.runs + other.runs, largest.run_bytes, self.seconds + other.seconds,
                     self.disk_bytes + other.disk_bytes, largest.largest)

    def describe(self) -> str:
        return (f"about {size(self.run_bytes)} of memory per run ({self.largest}), {size(self.disk_bytes)} on "
                f"disk, {duration(self.seconds)} of computing for {self.runs:,} runs on one core (rough estimates)")


def estimate(plan, runs: int | None = None) -> Needs | None:
    """The needs of `plan` (an Experiment), or of `runs` of its runs; None for a plan without markets."""
    scenario = getattr(plan, "scenario", None)
    if scenario is None:
        return None
    from ..network import edge_list_size

    firms = len(scenario.firms)
    base = scenario.market.model_dump()
    market_paths = [(j, path[1]) for j, path in enumerate(plan.paths) if len(path) == 2 and path[0] == "market"]
    keys = ("n_people", "mean_degree", "network", "months", "warm_up_months", "edge_list_path", "community_size",
            "between_community_share")
    shapes: Counter = Counter()
    for point in plan.points or [()]:
        market = dict(base)
        for j, key in market_paths:
            market[key] = point[j]
        shapes[tuple(market[key] for key in keys)] += 1
    total_runs = plan.total if runs is None else runs
    per_point = plan.runs_per_point
    seconds = disk = 0.0
    largest = (0.0, "")
    for (people, degree, network, months, warm_up, edges, group, between), count in shapes.items():
        if network == "edge_list" and edges:
            people, ties = edge_list_size(edges)
            stored = 2 * ties
        else:
            stored = stored_ties(network, int(people), int(degree), int(group), float(between))
        memory = (PROCESS_BYTES + people * (PERSON_BYTES + PERSON_FIRM_BYTES * firms)
                  + tie_bytes(network) * stored)
        if memory > largest[0]:
            largest = (memory, f"{int(people):,} people, {int(stored) // 2:,} ties")
        share = count * per_point / max(plan.total, 1) * total_runs  # of the runs asked for
        per_run = (RUN_SECONDS + TIE_BUILD_SECONDS * stored
                   + (months + warm_up) * (MONTH_SECONDS + PERSON_MONTH_SECONDS * people + TIE_MONTH_SECONDS * stored))
        seconds += share * per_run
        disk += share * (RUN_FILE_BYTES + ROW_BYTES.get(plan.kind, 550) * (months + 1) * firms)
    disk += POINT_BYTES * len(plan.points)
    return Needs(total_runs, largest[0], seconds, disk, largest[1])


def tie_bytes(network: str) -> float:
    """Memory per stored tie while the network is built: far less with the compiled kernels, which
    count instead of sorting (a user's edge list keeps numpy's figure: its reader dominates)."""
    if compiled.kernels() is not None:
        return COMPILED_TIE_BYTES.get(network, COMPILED_TIE_BYTES_OTHERWISE)
    return TIE_BYTES.get(network, TIE_BYTES_OTHERWISE)


def stored_ties(network: str, people: int, degree: int, group: int, between: float) -> int:
    """Ties the generated network stores (each twice, once per end)."""
    if network == "complete":
        return 0
    if network == "small_world":
        return 2 * people * max(1, min(degree // 2, (people - 1) // 2))
    if network == "scale_free":
        return 2 * people * max(1, min(degree // 2, people - 1))
    inside = min(degree * (1 - between), group - 1)  # a group of `group` people is at most a clique
    return int(people * (inside + degree * between))  # communities


def check(plan, where: Path, runs: int | None = None, workers: int = 1, local: bool = True,
          then=None) -> Needs | None:
    """Refuse (InputError) before anything is written: `where` (the folder to make, or to resume)
    cannot be written, the disk has no room for the plan's files, or a run cannot fit in this
    machine's memory (on `workers` local processes when `local`). `then` is a plan run after it in
    the same folder (the robustness pass). Returns the estimate."""
    place = writable(where)
    needs = estimate(plan, runs)
    if needs is not None and then is not None:
        needs = needs.plus(estimate(then))
    free = free_bytes(place)
    wanted = needs.disk_bytes if needs else 0.0
    if free is not None and free < wanted + MARGIN_BYTES:
        if free < MARGIN_BYTES:
            raise InputError(f"{where}: the disk is full ({size(free)} free in {place}); free some space, or "
                             f"give --out a folder on another disk")
        raise InputError(f"{where}: needs about {size(wanted)} on disk for {needs.runs:,} runs and the tables; "
                         f"{place} has {size(free)} free: fewer replications, months or points, or give --out a "
                         f"folder on a larger disk")
    if needs is not None and local:
        check_memory(needs, workers, getattr(plan, "source", ""))
    return needs


def check_memory(needs: Needs, workers: int = 1, source: str = "") -> None:
    """Refuse a run this machine cannot hold, or more local workers than can hold one run each."""
    total, available = machine_memory()
    if total is None:
        return
    label = f"{source}: " if source else ""
    if needs.run_bytes > total:
        raise InputError(f"{label}a run needs about {size(needs.run_bytes)} of memory ({needs.largest}); this "
                         f"machine has {size(total)}: fewer people, a smaller mean_degree, or a machine with more "
                         f"memory (--scheduler)")
    if workers > 1 and needs.run_bytes > DASK_TERMINATE * total / workers:
        fits = max(1, int(DASK_TERMINATE * total // needs.run_bytes))
        raise InputError(f"{label}--workers {workers}: each local worker may use {size(total / workers)} (this "
                         f"machine's {size(total)} shared by {workers}); a run needs about {size(needs.run_bytes)} "
                         f"({needs.largest}): use --workers {fits}" + (" (serial)" if fits == 1 else ""))
    if available is not None and needs.run_bytes * max(workers, 1) > available:
        print(f"warning: the runs need about {size(needs.run_bytes * max(workers, 1))} of memory and "
              f"{size(available)} is free now; the machine may slow down or stop them", file=sys.stderr)


def check_workers(limits: list[float], needs: Needs | None, address: str) -> None:
    """A remote cluster: refuse when no worker has the memory one run needs."""
    known = [limit for limit in limits if limit]
    if needs is None or not known or max(known) * DASK_TERMINATE >= needs.run_bytes:
        return
    raise InputError(f"the workers of {address} have at most {size(max(known))} of memory each; a run needs about "
                     f"{size(needs.run_bytes)} ({needs.largest}): start workers with more memory "
                     f"(dask worker --memory-limit) or run fewer people")


def writable(where: Path) -> Path:
    """The folder in which `where` will be made (or `where` itself, if it exists), checked to be a
    folder this process may write in; InputError otherwise."""
    where = Path(where)
    absolute = where.absolute()
    place = next(p for p in (absolute, *absolute.parents) if p.exists())
    if not place.is_dir():
        raise InputError(f"cannot write {where}: {place} is a file, not a folder; give --out a folder you can "
                         f"write to")
    if not os.access(place, os.W_OK | os.X_OK):
        read_only = _read_only(place)
        raise InputError(f"cannot write {where}: {place} is {'on a read-only disk' if read_only else 'not writable'}"
                         f" for this user; give --out a folder you can write to")
    return place


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def free_bytes(path: Path) -> float | None:
    """Free bytes where `path` is; None for a file system that does not say (/proc: no blocks at
    all), where the folder's creation will tell."""
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None
    return float(usage.free) if usage.total > 0 else None


def machine_memory() -> tuple[float | None, float | None]:
    """(total, available) bytes of memory for this process: the machine's, or its container's
    limit (cgroup) when lower; None where the system does not say."""
    total = available = None
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
        total = float(info["MemTotal"].split()[0]) * 1024
        available = float(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        try:
            total = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        except (ValueError, OSError, AttributeError):
            return None, None
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and float(text) < total:
            total = float(text)
            available = min(available, total) if available is not None else total
        break
    return total, available


def announce(needs: Needs | None, parallel: int) -> str | None:
    """A line for a plan expected to take long: its expected time on `parallel` cores."""
    if needs is None:
        return None
    wall = needs.seconds / max(parallel, 1)
    if wall < ANNOUNCE_SECONDS:
        return None
    on = f"on {parallel} workers" if parallel > 1 else "on one core"
    return (f"note: {needs.runs:,} runs of up to {needs.largest}: expected to take about {duration(wall)} {on} "
            f"(a rough estimate); Ctrl-C stops, `--resume` finishes later")


def size(value: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.0f} bytes"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
