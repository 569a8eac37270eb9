"""Verdicts under watch: every shipped scenario's verdicts, recorded so that a change shows.

`docs/verdicts.yaml` holds, for each shipped scenario run on its own market with `REPLICATIONS`
paired replications (the scenario's seed), each compared arm's (or firm's) paired difference
from the baseline in the two measures its verdict sentence reports (the share kept or gained,
and NPV): the estimate, its 95% interval and its sign (+, - or ? when the interval includes
zero).

    python docs/regenerate.py --only verdicts    # re-measure, print what changed, rewrite the file
    pytest -m slow tests/test_verdicts.py        # fails if a sign flips or an estimate leaves its interval

Runs are reproducible, so on unchanged code the measurement repeats the record exactly; a
change to the model's rules or defaults that moves a verdict fails the test until the record
is regenerated, and the regenerated file's diff is what a reviewer reads.
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from ..scenario import SHIPPED, load_scenario
from .design import Experiment
from .run import run_scenario_tables

REPLICATIONS = 4  # paired replications per scenario: enough for a sign, cheap enough for the test suite
RECORD = Path(__file__).resolve().parent.parent.parent / "docs" / "verdicts.yaml"


def sign(low: float, high: float) -> str:
    """'+' or '-' when the 95% interval excludes zero, '?' when it does not."""
    return "+" if low > 0 else "-" if high < 0 else "?"


def measure_scenario(path: Path, replications: int = REPLICATIONS, workers: int = 1) -> dict:
    """One scenario's verdict measures: {group: {kpi: {diff, low, high, sign}}}."""
    scenario = load_scenario(path, [], replications)
    comparison = run_scenario_tables(Experiment.single(scenario, str(path)), workers)["comparison"]
    groups = scenario.groups
    measures = (groups.share_measure, "npv")
    verdicts = {}
    for group in groups.others():
        found = {}
        for kpi in measures:
            row = comparison[(comparison["compared"] == group) & (comparison["kpi"] == kpi)].iloc[0]
            diff, low, high = (float(row[c]) for c in ("diff", "diff_low", "diff_high"))
            found[kpi] = {"diff": round(diff, 6), "low": round(low, 6), "high": round(high, 6), "sign": sign(low, high)}
        verdicts[group] = found
    return {"baseline": groups.baseline, "verdicts": verdicts}


def measure(names: list[str] | None = None, replications: int = REPLICATIONS, workers: int = 1) -> dict:
    """The record for the shipped scenarios (all, or those named)."""
    paths = sorted(SHIPPED.glob("*.yaml"))
    chosen = [p for p in paths if names is None or p.stem in names]
    return {"replications": replications,
            "scenarios": {path.stem: measure_scenario(path, replications, workers) for path in chosen}}


def load(path: Path = RECORD) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def save(record: dict, path: Path = RECORD) -> None:
    header = ("# Verdicts of the shipped scenarios under watch (sim/experiments/watch.py). Regenerate with\n"
              "# `python docs/regenerate.py --only verdicts` and review the diff; do not edit by hand.\n")
    path.write_text(header + yaml.safe_dump(record, sort_keys=False, width=110), encoding="utf-8")


def differences(recorded: dict, measured: dict) -> list[str]:
    """What moved, one line each: a sign that flipped, an estimate outside its recorded interval,
    a scenario, group or measure that appeared or vanished. Empty: the verdicts hold."""
    lines = []
    if recorded.get("replications") != measured.get("replications"):
        lines.append(f"replications: {recorded.get('replications')} recorded, {measured.get('replications')} measured")
    old, new = recorded.get("scenarios", {}), measured.get("scenarios", {})
    for name in sorted(set(old) | set(new)):
        if name not in new or name not in old:
            lines.append(f"{name}: {'no longer measured' if name not in new else 'not in the record'}")
            continue
        before, after = old[name]["verdicts"], new[name]["verdicts"]
        for group in sorted(set(before) | set(after)):
            if group not in before or group not in after:
                lines.append(f"{name} / {group}: {'vanished' if group not in after else 'new'}")
                continue
            for kpi in sorted(set(before[group]) | set(after[group])):
                was, now = before[group].get(kpi), after[group].get(kpi)
                if was is None or now is None:
                    lines.append(f"{name} / {group} / {kpi}: {'vanished' if now is None else 'new'}")
                    continue
                where = f"{name} / {group} / {kpi}: {was['diff']:+.4g} [{was['low']:+.4g}, {was['high']:+.4g}]"
                if now["sign"] != was["sign"]:
                    lines.append(f"{where} sign {was['sign']} -> {now['sign']} (now {now['diff']:+.4g} "
                                 f"[{now['low']:+.4g}, {now['high']:+.4g}])")
                elif math.isnan(now["diff"]) or not was["low"] <= now["diff"] <= was["high"]:
                    lines.append(f"{where}: the estimate {now['diff']:+.4g} left the recorded interval")
    return lines
