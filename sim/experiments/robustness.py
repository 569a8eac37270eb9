"""What each verdict hinges on: the paired differences again, one assumption at a time at the
ends of its plausible range, and on the other network families.

    variants(scenario)                    # the assumptions with a weak source, and the networks
    plan(scenario, replications, mode)    # those variants as an Experiment (one point each)
    analyse(main_comparison, folder)      # robustness.csv: each verdict at each variant, and flips

Which assumptions: every default whose source is not measured and that has a plausible range
(`sim.parameters.uncertain()`, recorded beside each default): market parameters, the firms'
settings, and the settings of the policies the scenario runs (in every arm that runs them; an
arm's own `set` still wins). Each is moved to the low end and to the high end of its range with
everything else as the scenario has it, on the scenario's seeds (common random numbers), so a
change in a paired difference is the assumption's doing. The networks are the scenario's other
generated families (small world, scale-free, communities).

A verdict flips at a variant when its paired difference there has the other sign, and is said
to flip clearly when that interval excludes zero. Where the estimate crosses zero between the
default and an end, the break-even is read off a straight line between the two (an
approximation, said so).

The quick pass costs at most `QUICK_BUDGET` times the main run: it runs as many replications
per variant as that allows (one at the least, which gives an indicative estimate without an
interval); the full pass runs the main run's replications at every variant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import format_path
from ..parameters import uncertain
from ..scenario import Scenario
from .design import Experiment
from .folder import RunFolder

NETWORKS = ("small_world", "scale_free", "communities")
QUICK_BUDGET = 3.0  # the quick pass costs at most this many times the main run's runs
# The quick pass varies these market assumptions (the ones word of mouth, complaints and churn
# turn on, among them those the audit of issue 11 found verdicts hinging on), the firms' failure
# rate and the settings of the policies the arms add; the full pass varies every assumption.
QUICK_MARKET = ("negative_talk_probability", "negative_reach_min", "negative_reach_max", "complaint_probability",
                "temperament_mean", "forgiveness", "relay_probability", "referral_probability", "base_churn",
                "churn_grievance", "peer_defection_effect")
# Settings that do nothing in some markets: (setting, when it matters)
INERT = {
    "rewiring": lambda market: market.network == "small_world",
    "community_size": lambda market: market.network == "communities",
    "between_community_share": lambda market: market.network == "communities",
    "strong_tie_share": lambda market: market.network in ("scale_free", "edge_list"),
    "relay_reach": lambda market: market.relay_probability > 0,
    "rejecter_attitude": lambda market: market.relay_probability > 0,
}
MODES = ("off", "quick", "full")
FILE = "robustness.csv"


@dataclass(frozen=True)
class Variant:
    """One changed assumption: a setting at one end of its range, or another network family."""

    setting: str  # 'market.temperament_mean', 'SmallGifts.surprise_per_price_share', 'market.network'
    end: str  # low | high | network
    value: Any
    default: Any
    quality: str  # measured | calibrated | tuned | judgement | structure
    reason: str = ""
    also: tuple = ()  # (setting, value) pairs moved with it to keep the market valid

    @property
    def label(self) -> str:
        if self.end == "network":
            return f"a {self.value.replace('_', '-')} network"
        return f"{self.setting.split('.', 1)[1]} = {_show(self.value)} ({self.end} end)"


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def variants(scenario: Scenario, mode: str = "full") -> list[Variant]:
    """The variants of a robustness pass for this scenario (quick: the key ones), in a fixed order."""
    data = scenario.resolved()
    added = {p["kind"] for arm in data["compare"]["arms"] for p in
             [*arm["add"], *(q for new in arm["replace"].values() for q in new)]}
    if scenario.groups.head_to_head:  # the policies some firms run and others do not
        kinds = [{p["kind"] for p in firm["policies"]} for firm in data["firms"]]
        added = set().union(*kinds) - set.intersection(*kinds)
    found = []
    fitted = set(scenario.posterior.parameters) if scenario.posterior is not None else set()
    for row in uncertain():
        if not _paths(row.path, data):
            continue  # a policy the scenario does not run
        if row.path in fitted:
            continue  # fitted to the firm's data: each replication draws it from the posterior
        if row.owner == "market" and row.name in INERT and not INERT[row.name](scenario.market):
            continue
        if mode == "quick" and not (row.path in {f"market.{name}" for name in QUICK_MARKET}
                                    or row.path == "firm.failure_rate" or row.owner in added):
            continue
        current = _current(row.path, data)
        for end, value in (("low", row.low), ("high", row.high)):
            value = type(current)(value) if isinstance(current, (int, float)) and not isinstance(current, bool) else value
            if value != current:
                found.append(Variant(row.path, end, value, current, row.quality, row.reason,
                                     _kept_in_order(row.path, value, data)))
    network = scenario.market.network
    if network in NETWORKS:
        found += [Variant("market.network", "network", family, network, "structure",
                          "the network's structure is a modelling choice") for family in NETWORKS if family != network]
    if mode == "quick":  # what the quick budget keeps first: networks, the arms' own policies, then the market
        order = [f"market.{name}" for name in QUICK_MARKET]
        found.sort(key=lambda v: (0 if v.end == "network" else 1 if not v.setting.startswith(("market.", "firm."))
                                  else 2 + (order.index(v.setting) if v.setting in order else len(order))))
    return found


# Pairs of settings that must stay in order (min <= max): moving one past the other moves both.
ORDERED = (("market.negative_reach_min", "market.negative_reach_max"),)


def _kept_in_order(setting: str, value: Any, data: dict) -> tuple:
    for low, high in ORDERED:
        if setting == high and value < _current(low, data):
            return ((low, value),)
        if setting == low and value > _current(high, data):
            return ((high, value),)
    return ()


def _paths(setting: str, data: dict) -> list[tuple]:
    """Every place in the scenario's data that holds `setting` (a policy's, in every arm that runs it)."""
    owner, name = setting.split(".", 1)
    if owner == "market":
        return [("market", name)]
    if owner == "firm":
        return [("firms", i, name) for i in range(len(data["firms"]))]
    paths = [("firms", i, "policies", j, name) for i, firm in enumerate(data["firms"])
             for j, policy in enumerate(firm["policies"]) if policy["kind"] == owner]
    for a, arm in enumerate(data["compare"]["arms"]):
        paths += [("compare", "arms", a, "add", j, name) for j, p in enumerate(arm["add"]) if p["kind"] == owner]
        paths += [("compare", "arms", a, "replace", old, j, name) for old, new in arm["replace"].items()
                  for j, p in enumerate(new) if p["kind"] == owner]
    return paths


def _current(setting: str, data: dict) -> Any:
    node = data
    for part in _paths(setting, data)[0]:
        node = node[part]
    return node


def replications_for(mode: str, main_replications: int, count: int) -> int:
    """Replications per variant: the main run's (full), or what the quick budget allows (at least 1)."""
    if mode == "full":
        return main_replications
    return max(1, min(main_replications, math.floor(QUICK_BUDGET * main_replications / max(count, 1))))


def within_budget(found: list[Variant], mode: str, main_replications: int) -> tuple[list[Variant], int]:
    """The variants the pass runs and its replications: every variant (full), or as many as the quick
    budget allows, both ends of an assumption together (each variant runs every arm, as the main run)."""
    replications = replications_for(mode, main_replications, len(found))
    if mode == "full":
        return found, replications
    room = math.floor(QUICK_BUDGET * main_replications) // replications
    kept, settings = [], []
    for variant in found:
        if variant.setting not in settings:
            ends = sum(v.setting == variant.setting for v in found)
            if len(kept) + ends > room:
                break
            settings.append(variant.setting)
        kept.append(variant)
    return kept, replications


def plan(scenario: Scenario, main_replications: int, mode: str = "quick", source: str = "scenario") -> Experiment:
    """The variants as one experiment: point i changes variant i's setting and nothing else."""
    found, replications = within_budget(variants(scenario, mode), mode, main_replications)
    data = scenario.resolved()
    names = list(dict.fromkeys(format_path(path) for variant in found
                               for setting in (variant.setting, *(s for s, _ in variant.also))
                               for path in _paths(setting, data)))
    base = [_value_at(data, name) for name in names]
    points = []
    for variant in found:
        values = dict(zip(names, base))
        for setting, value in ((variant.setting, variant.value), *variant.also):
            for path in _paths(setting, data):
                values[format_path(path)] = value
        points.append(tuple(values[name] for name in names))
    return Experiment.varying("robustness", scenario, names, points, source=source, section="robustness: ",
                              replications=replications, each_alone=False,
                              extra={"mode": mode, "variants": [vars(v) for v in found]})


def _value_at(data: dict, name: str) -> Any:
    from ..scenario import get_at, parse_path

    return get_at(data, parse_path(name))


# --- what the variants say about each verdict ------------------------------------------------------
def table(main: pd.DataFrame, comparison: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """One row per (verdict, variant): the paired difference there, against the main run's."""
    scenario = experiment.scenario
    groups = scenario.groups
    found = [Variant(**v) for v in experiment.extra["variants"]]
    kpis = (groups.share_measure, "npv")
    rows = []
    for group in groups.others():
        for kpi in kpis:
            here = main[(main["compared"] == group) & (main["kpi"] == kpi)].iloc[0]
            for i, variant in enumerate(found):
                there = comparison[(comparison["point"] == i) & (comparison["compared"] == group)
                                   & (comparison["kpi"] == kpi)].iloc[0]
                opposite = np.sign(there["diff"]) != np.sign(here["diff"]) and there["diff"] != 0
                clear = bool(opposite and not math.isnan(there["diff_low"])
                             and (there["diff_low"] > 0 or there["diff_high"] < 0))
                rows.append({
                    "compared": group, "baseline": groups.baseline, "kpi": kpi, "variant": i,
                    "setting": variant.setting, "end": variant.end, "value": _show(variant.value),
                    "default": _show(variant.default), "quality": variant.quality,
                    "diff": there["diff"], "diff_low": there["diff_low"], "diff_high": there["diff_high"],
                    "n": int(there["n"]), "main_diff": here["diff"], "flips": bool(opposite), "flips_clearly": clear,
                    "break_even": _break_even(variant, here["diff"], there["diff"]) if opposite else math.nan,
                })
    return pd.DataFrame(rows)


def _break_even(variant: Variant, at_default: float, at_end: float) -> float:
    """Where a straight line between (default, main estimate) and (end, estimate there) crosses zero."""
    if variant.end == "network" or not isinstance(variant.value, (int, float)) or at_default == at_end:
        return math.nan
    x0, x1 = float(variant.default), float(variant.value)
    return x0 + (x1 - x0) * at_default / (at_default - at_end)


SHOWN = 3  # flips named in a line; all of them are in robustness.csv


def lines(robust: pd.DataFrame, scenario: Scenario, main: pd.DataFrame | None = None) -> list[str]:
    """One line per compared arm (or firm): what its verdict holds under, and what flips it (the
    largest changes first)."""
    out = []
    measure = scenario.groups.share_measure
    names = {measure: {"retention": "retention", "customer_base": "customer base",
                       "share_gain": "share"}[measure], "npv": "NPV"}
    for group, part in robust.groupby("compared", sort=False):
        tested = part[part["kpi"] == "npv"]
        settings = tested[tested["end"] != "network"]["setting"].nunique()
        networks = int((tested["end"] == "network").sum())
        n = int(part["n"].iloc[0])
        tested_text = (f"{settings} assumption{'s' if settings != 1 else ''} at the ends of their plausible ranges"
                       + (f" and {networks} other network famil{'ies' if networks != 1 else 'y'}" if networks else "")
                       + (" (indicative: one replication each)" if n == 1 else f" ({n} replications each)"))
        said, unclear = [], []
        for kpi in (measure, "npv"):
            if main is not None:
                here = main[(main["compared"] == group) & (main["kpi"] == kpi)].iloc[0]
                if here["diff_includes_zero"]:
                    unclear.append(names[kpi])
                    continue
            mine = part[(part["kpi"] == kpi) & part["flips"]]
            if mine.empty:
                continue
            mine = mine.assign(change=(mine["diff"] - mine["main_diff"]).abs()).sort_values("change", ascending=False)
            reasons = [_reason(row) for _, row in mine.head(SHOWN).iterrows()]
            more = f" and {len(mine) - SHOWN} more" if len(mine) > SHOWN else ""
            said.append(f"its {names[kpi]} verdict flips " + "; ".join(reasons) + more)
        note = (f"; no clear {' or '.join(unclear)} difference to test" if unclear else "")
        if said:
            out.append(f"{group}: tested under {tested_text}: " + "; and ".join(said) + note + ".")
        else:
            out.append(f"{group}: holds under all {tested_text}{note}.")
    return out


def _reason(row: pd.Series) -> str:
    how = "" if row["flips_clearly"] or row["n"] < 2 else " (not clearly: its interval includes zero)"
    if row["end"] == "network":
        return f"on a {str(row['value']).replace('_', '-')} network ({row['diff']:+.2g}){how}"
    name = row["setting"].split(".", 1)[1]
    side = "below" if float(row["value"]) < float(row["default"]) else "above"
    if not math.isnan(row["break_even"]):
        where = f"when {name} is {side} about {row['break_even']:.2g}"
    else:
        where = f"when {name} is {row['value']}"
    return f"{where} ({row['quality']}; default {row['default']}){how}"


def write(robust: pd.DataFrame, folder: RunFolder) -> None:
    folder.write(FILE, robust)


# --- the pass, in a run folder -------------------------------------------------------------------
SUBFOLDER = "robustness"


def run_pass(folder: RunFolder, mode: str, executor, progress: bool = True) -> dict:
    """Run the pass for a finished run folder (resuming its `robustness/` folder if there is one),
    write robustness.csv beside the run's tables; what it cost, in runs and as a multiple of the run."""
    import time

    from .runner import execute
    from .sweep import finalize

    main = folder.plan
    place = folder.path / SUBFOLDER
    started = time.perf_counter()
    if (place / "manifest.json").exists():
        sub = RunFolder.resume(place, "robustness", Experiment.from_description)
    else:
        sub = RunFolder.create(plan(main.scenario, main.reps, mode, main.source), place)
    if sub.plan.points:
        execute(sub, executor, progress=progress)
        finalize(sub)
        comparison = pd.read_csv(sub.path / "comparison.csv")
        robust = table(pd.read_csv(folder.path / "comparison.csv"), comparison, sub.plan)
    else:
        executor.close()
        robust = pd.DataFrame()
    write(robust, folder)
    cost = {"mode": sub.plan.extra.get("mode", mode), "variants": len(sub.plan.points), "runs": sub.plan.total,
            "replications": sub.plan.reps, "times_main": sub.plan.total / max(main.total, 1),
            "seconds": round(time.perf_counter() - started, 1)}
    folder.manifest["robustness"] = cost
    folder.save_manifest()
    return cost


def cost_sentence(cost: dict) -> str:
    return (f"Robustness ({cost['mode']}): {cost['variants']} variants x {cost['replications']} "
            f"replication{'s' if cost['replications'] != 1 else ''} = {cost['runs']:,} runs, "
            f"{cost['times_main']:.1f} times the main run's, {cost['seconds']:.0f} s.")
