"""Experiments: common random numbers, paired intervals, verdicts, executors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments import replication_seed, stats, verdicts
from sim.experiments.design import tasks_of
from sim.experiments.folder import assemble
from sim.experiments.runner import SerialExecutor, simulate
from sim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"n_people": 400, "months": 12}


def small(arms, replications=3, **market) -> Scenario:
    """The first arm is the baseline (its policies are the firm's); each other arm adds policies
    (or, given a mapping, makes those changes)."""
    (base, policies), *others = arms.items()
    return Scenario.model_validate({
        "name": "small", "seed": 9, "replications": replications, "market": {**SMALL, **market},
        "firms": [{"name": "Telco", "policies": policies}],
        "compare": {"arms": [{"name": base}] + [
            {"name": name, **(change if isinstance(change, dict) else {"add": change})} for name, change in others]},
    })


def outcome(scenario, executor=None):
    executor = executor or SerialExecutor()
    tasks = tasks_of(scenario)
    frames = dict((t.key, f) for t, f in executor.run(simulate, tasks))
    executor.close()
    timeseries = assemble([frames[t.key] for t in tasks])
    summary = stats.summarize(timeseries, scenario)
    return timeseries, summary, stats.compare(summary, scenario)


def test_replication_r_has_the_same_seed_in_every_arm():
    scenario = small({"a": [], "b": ["ServiceRecovery"], "c": ["SmallGifts"]}, replications=4)
    seeds = {}
    for task in tasks_of(scenario):
        seeds.setdefault(task.replication, set()).add(task.seed)
    assert all(len(s) == 1 for s in seeds.values())
    assert len({next(iter(s)) for s in seeds.values()}) == 4
    assert replication_seed(9, 2) == replication_seed(9, 2) != replication_seed(10, 2)


def test_identical_arms_differ_by_exactly_zero():
    _, summary, comparison = outcome(small({"a": ["RenewalCall"], "b": {"set": {"RenewalCall.contact_cost": 2.0}}}))
    diffs = comparison[comparison["compared"] == "b"]
    assert (diffs["diff"] == 0).all() and (diffs["diff_low"] == 0).all() and (diffs["diff_high"] == 0).all()


def test_pairing_narrows_the_interval():
    """Common random numbers: the paired interval is narrower than the arms' own spread."""
    _, summary, comparison = outcome(small({"a": [], "b": ["ServiceRecovery"]}, replications=6, n_people=1500))
    row = comparison[(comparison["compared"] == "b") & (comparison["kpi"] == "customers")].iloc[0]
    own = comparison[(comparison["compared"] == "a") & (comparison["kpi"] == "customers")].iloc[0]
    assert row["diff_high"] - row["diff_low"] < own["high"] - own["low"]


def scenario_kpis():
    return small({"a": [], "b": ["SmallGifts"]}).groups.kpis


def test_summary_and_comparison_shape():
    timeseries, summary, comparison = outcome(small({"a": [], "b": ["SmallGifts"]}))
    assert list(timeseries.columns[:4]) == ["arm", "replication", "month", "firm"]
    assert len(timeseries) == 2 * 3 * (SMALL["months"] + 1)
    assert list(summary[["arm", "replication"]].itertuples(index=False, name=None)) == [
        (a, r) for a in "ab" for r in range(3)]
    assert set(comparison["kpi"]) == set(scenario_kpis())
    assert comparison[comparison["compared"] == "a"]["diff"].isna().all()


def test_t_quantile():
    assert stats.t_quantile(1) == pytest.approx(12.706, abs=1e-3)
    assert stats.t_quantile(9) == pytest.approx(2.262, abs=1e-3)
    assert stats.t_quantile(31) == pytest.approx(2.0395, abs=1e-3)
    assert stats.t_quantile(120) == pytest.approx(1.9799, abs=1e-3)
    assert stats.t_quantile(10**6) == pytest.approx(1.95996, abs=1e-4)


def test_interval():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    mean, low, high = stats.interval(values)
    half = 3.182446 * values.std(ddof=1) / 2  # t(0.975, 3)
    assert (mean, low, high) == pytest.approx((2.5, 2.5 - half, 2.5 + half))


def _comparison(retention, npv):
    rows = []
    for group, diffs in (("ignore", None), ("recover", (retention, npv))):
        for kpi, d in (("retention", diffs and diffs[0]), ("npv", diffs and diffs[1])):
            d = d or (math.nan, math.nan, math.nan)
            rows.append({"compared": group, "kpi": kpi, "mean": 1.0, "diff": d[0], "diff_low": d[1],
                         "diff_high": d[2], "diff_includes_zero": bool(d[1] <= 0 <= d[2]) if diffs else None})
    return pd.DataFrame(rows)


def test_verdict_sentence():
    scenario = load_scenario(ROOT / "scenarios" / "quickstart.yaml", ["market.months=60"])
    [sentence] = verdicts.verdicts(_comparison((6.2, 5.1, 7.3), (1.2e6, 0.9e6, 1.5e6)), scenario)
    assert sentence == ("recover keeps 6.2 points more of its customers than ignore after "
                        "60 months (95% CI 5.1 to 7.3) and adds 1.2 M EUR in NPV (0.9 M to 1.5 M).")


def test_verdict_says_when_an_interval_includes_zero():
    scenario = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    [sentence] = verdicts.verdicts(_comparison((-0.4, -1.1, 0.3), (-2e5, -3e5, -1e5)), scenario)
    assert "0.4 points fewer" in sentence
    assert "(95% CI -1.1 to 0.3; the interval includes zero, so no clear difference)" in sentence
    assert "loses 200 K EUR in NPV (-300 K to -100 K)." in sentence


def test_head_to_head_compares_firms():
    scenario = Scenario.model_validate({
        "name": "h2h", "replications": 3, "market": SMALL,
        "firms": [{"name": "Carer", "policies": ["ServiceRecovery"]}, {"name": "Ignorer", "policies": ["IgnoreUntilRenewal"]}],
        "compare": {"kind": "head_to_head", "baseline": "Ignorer"},
    })
    _, summary, comparison = outcome(scenario)
    assert set(comparison["compared"]) == {"Carer", "Ignorer"}
    shares = summary.groupby("replication")["market_share"].sum()
    assert np.allclose(shares, 100.0)
    [sentence] = verdicts.verdicts(comparison, scenario, summary)
    assert sentence.startswith("Carer gains") and "replications." in sentence
