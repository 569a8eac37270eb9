"""Paired statistics: each run's KPIs, and the paired differences between arms (or firms) with
95% t-intervals over replications.

Replication r of every arm runs on the same market seed, so every arm meets the same network
and the same service events (common random numbers) and the differences between arms are
paired: their interval is much narrower than the spread of either arm.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..scenario import Scenario
from .design import replication_seed

KPIS = {  # name: what it is
    "retention": "customers kept from month 0: the month-0 customers still with the firm at the horizon, %",
    "customer_base": "customer base vs month 0 (kept, won back and new): customers at the horizon, % of month 0",
    "customers": "customers at the horizon",
    "market_share": "share of all customers at the horizon, %",
    "share_gain": "market share at the horizon minus market share at month 0, points",
    "revenue": "revenue over the horizon",
    "cost": "cost over the horizon",
    "profit": "profit over the horizon",
    "npv": "net present value of the monthly profits",
    "nps": "net promoter score at the horizon",
}


def summarize(timeseries: pd.DataFrame, scenario: Scenario, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per (arm, replication, firm): the run's KPIs. `by` names leading key columns
    (a sweep summarizes many points of the same design at once, `by=("point",)`)."""
    keys = [*by, "arm", "replication", "firm"]
    runs = [*by, "arm", "replication"]
    order = {name: i for i, name in enumerate(scenario.groups.runs)}
    firm_order = {f.name: i for i, f in enumerate(scenario.firms)}
    last = timeseries[timeseries["month"] == timeseries["month"].max()].set_index(keys)
    totals = timeseries[timeseries["month"] > 0].groupby(keys)[["revenue", "cost"]].sum()
    all_customers = last.groupby(level=runs)["customers"].transform("sum")
    first = timeseries[timeseries["month"] == 0].set_index(keys)["customers"].reindex(last.index)
    first_share = 100.0 * first / first.groupby(level=runs).transform("sum").clip(lower=1.0)
    summary = pd.DataFrame({
        "seed": [replication_seed(scenario.seed, r) for r in last.index.get_level_values("replication")],
        "retention": 100.0 * last["retained"],
        "customer_base": 100.0 * last["customers"] / first.clip(lower=1.0),
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
    groups = scenario.groups
    t = groups.rows(t)
    t = t[t["group"] == groups.baseline]
    return float(t["churn_rate"].mean())


def t_quantile(df: int, level: float = 0.95) -> float:
    """The two-sided `level` quantile of Student's t with `df` degrees of freedom."""
    if df < 1:
        return math.nan
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, df))


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-interval of the mean (95% unless `level` says otherwise)."""
    values = np.asarray(values, float)
    n, mean = values.size, float(values.mean())
    if n < 2:
        return mean, math.nan, math.nan
    half = t_quantile(n - 1, level) * float(values.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def compare(summary: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per arm (or firm, head to head) and KPI: mean and interval, and the paired difference
    from the baseline with its interval (a t-interval over replications)."""
    groups = scenario.groups
    kpis, base = groups.kpis, groups.baseline
    table = groups.rows(summary).pivot(index="replication", columns="group", values=list(kpis)).sort_index()
    out = []
    for group in groups.names:
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


