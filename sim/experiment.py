"""Experiments: arms x replications, their seeds, executors, paired statistics and verdicts.

Replication r of every arm runs with the same market seed (derived from the scenario seed
and r only), so every arm meets the same network and the same service events (common
random numbers) and the differences between arms are paired. Results do not depend on
how many workers ran them: each run is a pure function of its task.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Protocol

import numpy as np
import pandas as pd

from .scenario import Scenario

KPIS = {  # name: (what it is, how it is shown)
    "retention": "share of the initial customers still with the firm at the horizon, %",
    "customers": "customers at the horizon",
    "market_share": "share of all customers at the horizon, %",
    "share_gain": "market share at the horizon minus market share at month 0, points",
    "revenue": "revenue over the horizon",
    "cost": "cost over the horizon",
    "profit": "profit over the horizon",
    "npv": "net present value of the monthly profits",
    "nps": "net promoter score at the horizon",
}
ARM_KPIS = ("retention", "customers", "revenue", "cost", "profit", "npv", "nps")
HEAD_TO_HEAD_KPIS = ("market_share", "share_gain", "customers", "retention", "revenue", "cost", "profit", "npv", "nps")


# --- runs ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunTask:
    """One run: an arm, a replication and everything the engine needs (picklable)."""

    arm: str
    replication: int
    seed: int
    firms: tuple
    market: dict

    @property
    def key(self) -> str:
        return f"{self.arm}__r{self.replication}"


@dataclass(frozen=True)
class PointTask:
    """One run at one point of a design: a sweep's grid or sample, a sensitivity sample."""

    point: int
    run: RunTask

    @property
    def key(self) -> str:
        return f"p{self.point:05d}__{self.run.key}"


def replication_seed(scenario_seed: int, replication: int) -> int:
    """The market seed of replication r: the same in every arm, from (seed, r) only."""
    state = np.random.SeedSequence([int(scenario_seed), int(replication)]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def plan(scenario: Scenario) -> list[RunTask]:
    """Every run of the scenario, arm by arm, replication by replication."""
    market = scenario.market.model_dump(mode="json")
    seeds = [replication_seed(scenario.seed, r) for r in range(scenario.replications)]
    return [RunTask(arm, r, seeds[r], tuple(scenario.firms_for(arm)), market)
            for arm in scenario.arm_names() for r in range(scenario.replications)]


def simulate(task: RunTask) -> pd.DataFrame:
    """Run one market to the horizon; its monthly series with arm and replication in front."""
    from .market import Market

    market = Market(firms=[dict(f) for f in task.firms], seed=task.seed, **task.market)
    monthly = market.run().monthly()
    release(market)
    monthly.insert(0, "replication", task.replication)
    monthly.insert(0, "arm", task.arm)
    return monthly


def release(model) -> None:
    """Let a finished model be freed. Mesa 3.3's `Agent._ids` (a class-level dict keyed by
    model) keeps every model ever built alive (mesa issue #3179, fixed upstream by #3180), so
    a worker running thousands of runs would grow without bound."""
    import mesa

    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


# --- executors: a small interface (Dask ones in sim/executors.py) ------------------------
class Executor(Protocol):
    def run(self, fn: Callable, tasks: Iterable) -> Iterator[tuple]:
        """Yield (task, result) as runs finish, in any order."""

    def close(self) -> None:
        """Stop: cancel what has not started."""


class SerialExecutor:
    def run(self, fn, tasks):
        for task in tasks:
            yield task, fn(task)

    def close(self) -> None:
        pass


def _ignore_interrupts() -> None:  # workers leave Ctrl-C to the main process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class ProcessExecutor:
    """Local processes (concurrent.futures); at most `workers` runs at a time.

    On Linux the workers are forked from a parent that has already imported the engine, so
    they start at once. (Importing mesa sets the global start method to 'spawn', hence the
    explicit context.)"""

    def __init__(self, workers: int):
        from . import market  # noqa: F401  (imported once, inherited by forked workers)

        method = "fork" if sys.platform == "linux" else "spawn"
        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                                        initializer=_ignore_interrupts)

    def run(self, fn, tasks):
        pending = {}
        tasks = iter(tasks)
        for task in tasks:  # keep the queue short so that an interruption cancels quickly
            pending[self.pool.submit(fn, task)] = task
            if len(pending) >= 2 * self.workers:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f].key):
                task = pending.pop(future)
                yield task, future.result()
                nxt = next(tasks, None)
                if nxt is not None:
                    pending[self.pool.submit(fn, nxt)] = nxt

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def make_executor(workers: int, scheduler: str | None = None) -> Executor:
    """Serial for one worker; a local Dask cluster for more; an existing Dask cluster for a
    scheduler address (or inside `executors.using(address)`). See sim/executors.py."""
    from .executors import make_executor as _make

    return _make(workers, scheduler)


# --- KPIs and paired statistics ----------------------------------------------------------
def run_all(executor: Executor, fn: Callable, tasks: Iterable, on_result: Callable, *, progress: bool = False,
            total: int | None = None, done: int = 0, desc: str = "") -> None:
    """Run `tasks` on `executor`, handing each (task, result) to `on_result` as it arrives
    (so it is saved before the next), with a progress bar on stderr; closes the executor."""
    bar = None
    if progress:
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: workers are forked from this process
        bar = tqdm(total=total, initial=done, unit="run", desc=desc, file=sys.stderr, dynamic_ncols=True)
    try:
        for task, result in executor.run(fn, tasks):
            on_result(task, result)
            if bar is not None:
                bar.update()
    finally:
        executor.close()
        if bar is not None:
            bar.close()


def summarize(timeseries: pd.DataFrame, scenario: Scenario, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per (arm, replication, firm): the run's KPIs. `by` names leading key columns
    (a sweep summarizes many points of the same design at once, `by=("point",)`)."""
    seeds = {r: replication_seed(scenario.seed, r) for r in range(scenario.replications)}
    keys = [*by, "arm", "replication", "firm"]
    runs = [*by, "arm", "replication"]
    order = {name: i for i, name in enumerate(scenario.arm_names())}
    firm_order = {f.name: i for i, f in enumerate(scenario.firms)}
    last = timeseries[timeseries["month"] == timeseries["month"].max()].set_index(keys)
    totals = timeseries[timeseries["month"] > 0].groupby(keys)[["revenue", "cost"]].sum()
    all_customers = last.groupby(level=runs)["customers"].transform("sum")
    first = timeseries[timeseries["month"] == 0].set_index(keys)["customers"].reindex(last.index)
    first_share = 100.0 * first / first.groupby(level=runs).transform("sum").clip(lower=1.0)
    summary = pd.DataFrame({
        "seed": [seeds[r] for r in last.index.get_level_values("replication")],
        "retention": 100.0 * last["retained"],
        "customers": last["customers"],
        "market_share": 100.0 * last["customers"] / all_customers.clip(lower=1.0),
        "share_gain": 100.0 * last["customers"] / all_customers.clip(lower=1.0) - first_share,
        "revenue": totals["revenue"].reindex(last.index),
        "cost": totals["cost"].reindex(last.index),
        "profit": last["cumulative_profit"],
        "npv": last["npv"],
        "nps": last["nps"],
    }, index=last.index).reset_index()
    summary = summary.sort_values(
        keys,
        key=lambda col: col.map(order) if col.name == "arm" else col.map(firm_order) if col.name == "firm" else col,
    )
    return summary.reset_index(drop=True)


def baseline_churn(timeseries: pd.DataFrame, scenario: Scenario) -> float:
    """Mean monthly churn of the baseline (the focal firm in the baseline arm, or the baseline
    firm head to head) over the compared months, all replications."""
    t = timeseries[timeseries["month"] > 0]
    if scenario.compare.kind == "head_to_head":
        t = t[t["firm"] == scenario.baseline]
    else:
        t = t[(t["firm"] == scenario.focal_firm) & (t["arm"] == scenario.baseline)]
    return float(t["churn_rate"].mean())


def t_quantile(df: int) -> float:
    """The 97.5% quantile of Student's t (exact table to 30, Cornish-Fisher beyond)."""
    table = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
             2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
             2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)
    if df < 1:
        return math.nan
    if df <= len(table):
        return table[df - 1]
    z, v = 1.959963984540054, float(df)
    return (z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
            + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4))


def interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t-interval of the mean."""
    values = np.asarray(values, float)
    n, mean = values.size, float(values.mean())
    if n < 2:
        return mean, math.nan, math.nan
    half = t_quantile(n - 1) * float(values.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def compare(summary: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per arm (or firm, head to head) and KPI: mean and interval, and the paired difference
    from the baseline with its interval (a t-interval over replications)."""
    if scenario.compare.kind == "head_to_head":
        column, groups, kpis = "firm", [f.name for f in scenario.firms], HEAD_TO_HEAD_KPIS
        rows = summary
    else:
        column, groups, kpis = "arm", scenario.arm_names(), ARM_KPIS
        rows = summary[summary["firm"] == scenario.focal_firm]
    table = rows.pivot(index="replication", columns=column, values=list(kpis)).sort_index()
    base = scenario.baseline
    out = []
    for group in groups:
        for kpi in kpis:
            values = table[(kpi, group)].to_numpy()
            mean, low, high = interval(values)
            diff = diff_low = diff_high = math.nan
            if group != base:
                diff, diff_low, diff_high = interval(values - table[(kpi, base)].to_numpy())
            out.append({
                "compared": group, "baseline": base, "kpi": kpi, "n": values.size,
                "mean": mean, "low": low, "high": high,
                "diff": diff, "diff_low": diff_low, "diff_high": diff_high,
                "diff_includes_zero": (bool(diff_low <= 0 <= diff_high) if group != base else None),
            })
    return pd.DataFrame(out)


# --- words ---------------------------------------------------------------------------------
def money(values: Iterable[float]) -> list[str]:
    """Amounts in one shared unit: 1.2 M, 340 K, 12."""
    values = list(values)
    top = max((abs(v) for v in values if not math.isnan(v)), default=0.0)
    scale, unit = (1e9, " bn") if top >= 1e9 else (1e6, " M") if top >= 1e6 else (1e3, " K") if top >= 1e3 else (1, "")
    digits = 2 if top / scale < 1 else 1 if top / scale < 100 else 0
    return [f"{v / scale:.{digits}f}{unit}" for v in values]


def _row(comparison: pd.DataFrame, group: str, kpi: str) -> pd.Series:
    return comparison[(comparison["compared"] == group) & (comparison["kpi"] == kpi)].iloc[0]


def _noise(row: pd.Series) -> str:
    return "; the interval includes zero, so no clear difference" if row["diff_includes_zero"] else ""


def verdicts(comparison: pd.DataFrame, scenario: Scenario, summary: pd.DataFrame | None = None) -> list[str]:
    """One plain sentence per arm (or firm): the paired differences from the baseline."""
    months, base = scenario.market.months, scenario.baseline
    head_to_head = scenario.compare.kind == "head_to_head"
    lines = []
    for group in comparison["compared"].drop_duplicates():
        if group == base:
            continue
        if head_to_head:  # share gained since month 0, so a starting gap left by the warm-up does not count
            kept = _row(comparison, group, "share_gain")
            what = f"gains {abs(kept['diff']):.1f} points {'more' if kept['diff'] >= 0 else 'less'} market share"
        else:
            kept = _row(comparison, group, "retention")
            what = f"keeps {abs(kept['diff']):.1f} points {'more' if kept['diff'] >= 0 else 'fewer'} of its customers"
        npv = _row(comparison, group, "npv")
        amount, low, high = money([abs(npv["diff"]), npv["diff_low"], npv["diff_high"]])
        gains = "adds" if npv["diff"] >= 0 else "loses"
        sentence = (f"{group} {what} than {base} after {months} months "
                    f"(95% CI {kept['diff_low']:.1f} to {kept['diff_high']:.1f}{_noise(kept)}) "
                    f"and {gains} {amount} in NPV ({low} to {high}{_noise(npv)}).")
        if head_to_head and summary is not None:
            wide = summary.pivot(index="replication", columns="firm", values="customers")
            wins = int((wide[group] > wide[base]).sum())
            sentence += f" {group} has more customers than {base} in {wins} of {len(wide)} replications."
        lines.append(sentence)
    return lines


def table(comparison: pd.DataFrame, scenario: Scenario) -> str:
    """A concise text table: per arm (or firm) the means, and the paired differences from the baseline."""
    head_to_head = scenario.compare.kind == "head_to_head"
    first = "market_share" if head_to_head else "retention"
    headers = ["firm" if head_to_head else "arm", "share %" if head_to_head else "retention %",
               "diff pts [95% CI]", "customers", "revenue", "revenue diff [95% CI]", "NPV", "NPV diff [95% CI]", "NPS"]
    rows = []
    for group in comparison["compared"].drop_duplicates():
        kept, revenue, npv, customers, nps = (_row(comparison, group, kpi)
                                              for kpi in (first, "revenue", "npv", "customers", "nps"))
        base = group == scenario.baseline
        kept_diff = "baseline" if base else f"{kept['diff']:+.1f} [{kept['diff_low']:+.1f}, {kept['diff_high']:+.1f}]"
        rows.append([group, f"{kept['mean']:.1f}", kept_diff, f"{customers['mean']:,.0f}",
                     money([revenue["mean"]])[0], "baseline" if base else _money_diff(revenue),
                     money([npv["mean"]])[0], "baseline" if base else _money_diff(npv), f"{nps['mean']:.1f}"])
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     for r in [headers, *rows])


def _money_diff(row: pd.Series) -> str:
    d, low, high = money([row["diff"], row["diff_low"], row["diff_high"]])
    return f"{'+' if row['diff'] >= 0 else ''}{d} [{low}, {high}]"
