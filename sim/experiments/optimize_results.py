"""What an optimisation found: its tables, the recommended mix and recommended.yaml.

    outcome = finalize(folder)     # after optimize.optimize(folder, executor)

writes into the optimisation folder

    trials.csv          every mix: the levers, its score over the futures, its mean NPV, policy cost a
                        month and customers kept, whether it is within the budget and on the front
    pareto.csv          the mixes no other beats on NPV, policy cost and customers kept at once
                        (within the budget, when one is given)
    recommended.yaml    the scenario with two arms, the baseline and the recommended mix: `grapevine
                        run recommended.yaml` compares them on fresh replications
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

from ..scenario import validate
from .calibration_results import _Dumper, _nice
from .folder import RunFolder, atomic_text
from .optimize import OUTCOMES, Search, load_runs, mix_arm, open_study
from .stats import interval

FILES = ("trials.csv", "pareto.csv", "recommended.yaml", "pareto.png", "report.html")
RECOMMENDED = "recommended"


@dataclass
class Outcome:
    search: Search
    trials: pd.DataFrame
    pareto: pd.DataFrame
    best: dict = field(default_factory=dict)  # the recommended mix: number, values, score, intervals
    recommended: dict = field(default_factory=dict)  # recommended.yaml as data
    path: str = ""


def non_dominated(table: pd.DataFrame) -> np.ndarray:
    """Rows no other row beats on NPV (higher), policy cost (lower) and customers kept (higher)
    at once: at least as good on all three and better on one."""
    values = np.column_stack([table["npv"], -table["policy_cost"], table["customers_kept"]])
    keep = np.ones(len(values), bool)
    for i, row in enumerate(values):
        beaten = np.all(values >= row, axis=1) & np.any(values > row, axis=1)
        keep[i] = not beaten.any()
    return keep


def finalize(folder: RunFolder) -> Outcome:
    search: Search = folder.plan
    study = open_study(folder)
    done = [t for t in study.get_trials(deepcopy=False) if "score" in t.user_attrs]
    if not done:
        raise RuntimeError(f"{folder.path}: no finished trial; resume with `grapevine optimize --resume {folder.path}`")
    rows = [{"trial": t.number, **{lever.name: search.mixes[t.number][lever.name] for lever in search.levers},
             **{key: t.user_attrs[key] for key in ("score", *OUTCOMES)},
             "within_budget": t.user_attrs["constraint"] <= 0} for t in done]
    trials = pd.DataFrame(rows).sort_values("trial").reset_index(drop=True)
    allowed = trials[trials["within_budget"]]
    trials["on_front"] = False
    trials.loc[allowed.index[non_dominated(allowed)], "on_front"] = True
    pareto = trials[trials["on_front"]].sort_values("policy_cost").drop(columns=["on_front"]).reset_index(drop=True)
    folder.write("trials.csv", trials)
    folder.write("pareto.csv", pareto)
    outcome = Outcome(search, trials, pareto, path=str(folder.path))
    if len(allowed):
        outcome.best = _recommended(folder, search, allowed)
        outcome.recommended = recommended_scenario(search, outcome.best["values"], str(folder.path))
        atomic_text(folder.path / "recommended.yaml", recommended_yaml(outcome))
    folder.finish(recommended=outcome.best.get("trial"))
    return outcome


def _recommended(folder: RunFolder, search: Search, allowed: pd.DataFrame) -> dict:
    """The mix with the best score within the budget, its outcomes with 95% intervals over the
    futures, and its paired difference from the baseline (the same futures)."""
    best = allowed.loc[allowed["score"].idxmax()]
    number = int(best["trial"])
    mine = load_runs(folder, number).sort_values("replication")
    base = load_runs(folder, None).sort_values("replication")
    found = {"trial": number, "values": dict(search.mixes[number]), "score": float(best["score"])}
    for name in OUTCOMES:
        found[name] = interval(mine[name].to_numpy())
        found[f"{name}_gain"] = interval(mine[name].to_numpy() - base[name].to_numpy())
    found["baseline"] = {name: float(base[name].mean()) for name in OUTCOMES}
    return found


# --- recommended.yaml -----------------------------------------------------------------------------
def recommended_scenario(search: Search, values: dict, source: str) -> dict:
    """The scenario as written (without its optimize section) comparing the baseline with the
    recommended mix, ready for `grapevine run`."""
    data = copy.deepcopy(search.experiment.extra["original"])
    data.pop("optimize", None)
    name = f"{data['name']}-recommended"
    data["name"] = name if len(name) <= 60 else data["name"][:48] + "-recommended"
    values = {name: _nice(v, 4) if isinstance(v, float) else v for name, v in values.items()}
    arm = mix_arm(search.original, search.levers, values)
    arm["name"] = RECOMMENDED
    # fresh luck: the search's replications chose this mix, so they would flatter it (the winner's curse)
    data["seed"] = int(np.random.SeedSequence([search.seed, 0xF2E5]).generate_state(1)[0])
    arm["description"] = f"the best mix within the budget found by grapevine optimize ({source})"[:200]
    data["compare"]["arms"] = [{"name": search.baseline}, arm]
    data["compare"]["baseline"] = search.baseline
    validate(copy.deepcopy(data), "recommended.yaml")  # what is written is a valid scenario
    return data


def recommended_yaml(outcome: Outcome) -> str:
    s, best = outcome.search, outcome.best
    head = [f"# {outcome.recommended['name']}: the best policy mix for {s.original.name} found by `grapevine optimize`.",
            f"# Arms: {s.baseline} (the firm as written) and {RECOMMENDED} (trial {best['trial']} of "
            f"{len(outcome.trials)}: {lever_text(shown(s, best['values']))}).",
            "# `grapevine run` on this file compares them on fresh replications (a new seed): the search's own",
            "# estimate of the best of many mixes is optimistic (the winner's curse); this run is the honest check.",
            f"# See {outcome.path}/report.html", ""]
    return "\n".join(head) + yaml.dump(outcome.recommended, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                                        width=120)


def shown(search: Search, values: dict) -> dict:
    """The levers that matter: a switched-off policy's settings are left out."""
    off = {lever.kind for lever in search.levers if lever.setting is None and values[lever.name] == "off"}
    return {lever.name: values[lever.name] for lever in search.levers
            if lever.setting is None or lever.kind not in off}


def lever_text(values: dict) -> str:
    return ", ".join(f"{name} = {value:.3g}" if isinstance(value, float) else f"{name} = {value}"
                     for name, value in values.items())


# --- the printout ---------------------------------------------------------------------------------
def _money(value: float, currency: str) -> str:
    unit = "" if currency == "units" else f" {currency}"
    return f"{value:,.0f}{unit}"


def sentence(outcome: Outcome) -> str:
    s, best = outcome.search, outcome.best
    settings, currency = s.settings, s.original.currency
    budget = f" within {_money(settings.budget, currency)} a month" if settings.budget is not None else ""
    if not best:
        return f"No mix tried stays{budget}; see trials.csv."
    objective = "NPV" if settings.objective == "npv" else "Customers kept"
    show = (lambda v: _money(v, currency)) if settings.objective == "npv" else (lambda v: f"{v:,.0f}")
    mean, low, high = best[settings.objective]
    gain, gain_low, gain_high = best[f"{settings.objective}_gain"]
    futures = {"none": "the replications' luck", "posterior": "the calibrated posterior",
               "plausible": "the plausible ranges of the weakly sourced assumptions"}[settings.robust_against]
    how = "mean" if settings.robust_score == "mean" else "10th percentile"
    return (f"Best mix{budget}: {lever_text(shown(s, best['values']))}. {objective} {show(mean)} (95% interval "
            f"{show(low)} to {show(high)}), {show(gain)} more than the baseline ({show(gain_low)} to "
            f"{show(gain_high)}), at {_money(best['policy_cost'][0], currency)} a month of policy spending; robust "
            f"score ({how} over {s.reps} futures drawn from {futures}) {show(best['score'])}.")


def printout(outcome: Outcome) -> str:
    lines = [sentence(outcome), "", f"The front ({len(outcome.pareto)} mixes no other beats on NPV, policy cost "
                                    f"and customers kept at once):"]
    show = outcome.pareto.copy()
    for column in ("score", "npv", "policy_cost", "customers_kept"):
        show[column] = show[column].map(lambda v: f"{v:,.0f}")
    show["retention"] = show["retention"].map(lambda v: f"{v:.1f}")
    lines.append(show.drop(columns=["within_budget"]).to_string(index=False))
    return "\n".join(lines)


def optimize_scenario(scenario, workers: int = 1, out=None, progress: bool = False) -> Outcome:
    """Optimise a scenario (with an optimize section) in one call: in `out`, kept, or in a temporary
    folder that is removed (the Outcome holds every table; `outcome.recommended` is recommended.yaml
    as data, `sim.scenario.from_data(outcome.recommended)` makes it a Scenario)."""
    from .executors import make_executor
    from .folder import kept_or_temporary
    from .optimize import design, optimize

    with kept_or_temporary(out, scenario.name) as where:
        folder = RunFolder.create(design(scenario), where)
        optimize(folder, make_executor(workers), progress=progress)
        return finalize(folder)
