"""The test a firm should run before rolling an arm out (`grapevine pilot FILE --arm NAME`).

The pilot is simulated inside the model: on the same network, in the same market, a random share
of the firm's customers get the arm's policies (the treated) and the rest stay as they are (the
control; `sim.policies.pilot`). Four runs per replication, on common seeds:

    <baseline>, <arm>          the rollout: nobody, then everybody, treated (the effect to confirm)
    pilot-by-customer          customers randomised one by one
    pilot-by-community         whole communities randomised (cluster randomisation)

Each run counts, month by month, the firm's month-0 customers still with it, by community and
group (`cohort_counts`). From them, for every month m of the horizon:

- the effect the rollout has (arm minus baseline: points of the month-0 customers kept) and the
  effect each pilot sees (treated minus control);
- how much of the rollout's effect the pilot hides: 1 - pilot / rollout. Word of mouth carries a
  treated customer's better experience to their untreated friends (Ascarza, Ebbes, Netzer &
  Danielson 2017 measured about 28% of the effect on the targets spilling over to their
  contacts), so a customer-level pilot's control group is not untouched, and the full effect of
  treating everyone (whose friends are treated too) is larger still;
- the customers per group needed to detect the pilot's effect with 80% power at the 5% level
  (two-sided two-proportion z-test; Fleiss, Levin & Paik 2003, eq. 4.14 without continuity
  correction); by community the same, times the design effect 1 + (m - 1) ICC of clusters of
  m customers (Donner & Klar 2000), the intraclass correlation estimated from the pilot's own
  communities (one-way analysis of variance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..errors import InputError
from ..scenario import Scenario, policy_data, validate
from .design import Experiment
from .folder import RunFolder
from .stats import interval

ALPHA, POWER = 0.05, 0.80
BY_CUSTOMER, BY_COMMUNITY = "pilot-by-customer", "pilot-by-community"


# --- the two-proportion test ---------------------------------------------------------------------
def required_per_group(p1: float, p2: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """Customers per group for a two-sided two-proportion z-test to detect p1 vs p2."""
    if p1 == p2:
        return math.inf
    z_a, z_b = norm.ppf(1 - alpha / 2), norm.ppf(power)
    mean = (p1 + p2) / 2
    top = z_a * math.sqrt(2 * mean * (1 - mean)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return top ** 2 / (p1 - p2) ** 2


def power_of(p1: float, p2: float, n: float, alpha: float = ALPHA) -> float:
    """The power of that test with n customers per group (the other tail neglected)."""
    z_a = norm.ppf(1 - alpha / 2)
    mean = (p1 + p2) / 2
    spread = math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return float(norm.cdf((abs(p1 - p2) * math.sqrt(n) - z_a * math.sqrt(2 * mean * (1 - mean))) / spread))


def rejects(kept_1: float, n_1: float, kept_2: float, n_2: float, alpha: float = ALPHA) -> bool:
    """The pooled two-proportion z-test at level alpha, two-sided."""
    p1, p2, pooled = kept_1 / n_1, kept_2 / n_2, (kept_1 + kept_2) / (n_1 + n_2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_1 + 1 / n_2))
    return se > 0 and abs(p1 - p2) / se > norm.ppf(1 - alpha / 2)


def icc(kept: np.ndarray, n: np.ndarray) -> float:
    """The intraclass correlation of a binary outcome over clusters with `kept` of `n` (one-way
    analysis of variance estimator; Donner & Klar 2000), 0 when negative."""
    kept, n = kept[n > 0].astype(float), n[n > 0].astype(float)
    k, total = n.size, n.sum()
    if k < 2 or total <= k:
        return 0.0
    rate, overall = kept / n, kept.sum() / total
    between = float((n * (rate - overall) ** 2).sum() / (k - 1))
    within = float((n * rate * (1 - rate)).sum() / (total - k))
    n0 = (total - (n ** 2).sum() / total) / (k - 1)
    denominator = between + (n0 - 1) * within
    return max(0.0, (between - within) / denominator) if denominator > 0 else 0.0


# --- the plan --------------------------------------------------------------------------------------
def pilot_arm(scenario: Scenario, arm: str, by: str, share: float) -> dict:
    """The pilot of `arm` as an arm of the scenario: the policies the arm changes run for the
    treated only (`Pilot`), the baseline's versions of them for the control only."""
    groups = scenario.groups
    focal = [f.name for f in scenario.firms].index(groups.focal_firm)
    base = [policy_data(p) for p in scenario.firms[focal].policies]
    treated = scenario.run_settings(arm)[0][focal]["policies"]
    control_only = [p for p in base if p not in treated]
    treated_only = [p for p in treated if p not in base]
    wrap = [*({"kind": "Pilot", "policy": p, "group": "control", "share": share, "by": by} for p in control_only),
            *({"kind": "Pilot", "policy": p, "group": "treated", "share": share, "by": by} for p in treated_only)]
    return {"name": BY_CUSTOMER if by == "customer" else BY_COMMUNITY,
            "description": f"{arm} for {share:.0%} of the {'customers' if by == 'customer' else 'communities'}",
            "remove": [p["kind"] for p in control_only], "add": wrap}


def design(scenario: Scenario, arm: str | None, source: str = "scenario", share: float = 0.5,
           replications: int | None = None) -> Experiment:
    """The rollout and the two pilots of `arm`; bad input stops here (InputError naming it)."""
    groups = scenario.groups
    if groups.head_to_head:
        raise InputError(f"{source}: a pilot tests an arm of one firm; this scenario compares firms head to head")
    others = [name for name in groups.names if name != groups.baseline]
    if arm is None:
        raise InputError(f"--arm: give the arm to pilot: one of {', '.join(others)}")
    if arm not in others:
        raise InputError(f"--arm {arm} is not allowed: choose one of {', '.join(others)} (the baseline "
                         f"{groups.baseline} is what the control keeps)")
    if not 0 < share < 1:
        raise InputError(f"--share {share:g} is not allowed: give a share between 0 and 1 (0.5: half treated)")
    for path in scenario.arm(arm).set:
        if path.split(".", 1)[0] in ("market", "firm", "firms"):
            raise InputError(f"{source}: arm {arm} sets {path} for everyone: a pilot gives some customers a policy "
                             f"and cannot give some of them a market or firm setting")
    data = scenario.resolved()
    arms = [a for a in data["compare"]["arms"] if a["name"] in (groups.baseline, arm)]
    data["compare"]["arms"] = arms + [pilot_arm(scenario, arm, by, share) for by in ("customer", "community")]
    data["compare"]["baseline"] = groups.baseline
    reps = replications or (scenario.replications if isinstance(scenario.replications, int) else 16)
    data["replications"] = max(2, reps)
    return Experiment("pilot", validate(data, source), replications=max(2, reps), source=source,
                      extra={"arm": arm, "share": share})


def kept_design(path) -> tuple[str | None, float, int | None]:
    """The arm, share and replications a pilot folder was started with (for `--resume`)."""
    import json
    from pathlib import Path

    try:
        body = json.loads((Path(path) / "manifest.json").read_text())["experiment"]
        return body["extra"]["arm"], float(body["extra"]["share"]), body["replications"]
    except (OSError, ValueError, KeyError, TypeError):
        return None, 0.5, None  # opening the folder says what is wrong with it


# --- one run: the month-0 customers kept, by month, community and group ----------------------------
def cohort_counts(focal: int, task) -> pd.DataFrame:
    from ..market import Market
    from ..policies.pilot import community_of, treated
    from .runner import release

    market = Market(firms=[dict(f) for f in task.firms], seed=task.seed, **task.market)
    c = market.customers
    people = np.arange(c.n)
    cohort = c.is_customer & (c.firm == focal)
    design = next((p for p in task.firms[focal]["policies"] if p["kind"] == "Pilot"), None)
    group = treated(market, design["share"], design["by"]) if design else np.zeros(c.n, bool)
    community = community_of(market, people)
    cell = (community * 2 + group)[cohort]
    cells = int(community.max() + 1) * 2
    at_start = np.bincount(cell, minlength=cells)
    frames = []
    while market.month < market.parameters.months:
        market.step()
        kept = np.bincount(cell, weights=(c.firm[cohort] == focal) & c.is_customer[cohort], minlength=cells)
        used = np.flatnonzero(at_start)
        frames.append(pd.DataFrame({"month": market.month, "community": used // 2, "treated": (used % 2).astype(bool),
                                    "customers": at_start[used], "kept": kept[used].astype(np.int64)}))
    release(market)
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "replication", task.replication)
    frame.insert(0, "arm", task.arm)
    return frame


def run_fn(experiment: Experiment):
    scenario = experiment.scenario
    return partial(cohort_counts, [f.name for f in scenario.firms].index(scenario.groups.focal_firm))


# --- what the runs say ---------------------------------------------------------------------------------
@dataclass
class Design:
    arm: str
    table: pd.DataFrame  # one row per month
    cohort: float  # the firm's month-0 customers (mean over replications)
    share: float
    network: str

    def pick(self) -> pd.Series | None:
        """The shortest pilot the firm's customers can staff: its treated share per group."""
        fits = self.table[self.table["customers_needed"] <= self.available]
        return fits.iloc[0] if len(fits) else None

    @property
    def available(self) -> float:
        return self.cohort * min(self.share, 1 - self.share)

    def sentence(self) -> str:
        row = self.pick()
        last = self.table.iloc[-1]
        if row is None:
            return (f"No pilot of {self.arm} on this firm's {self.cohort:,.0f} customers confirms it with 80% power "
                    f"at the 5% level within {int(last['month'])} months: at month {int(last['month'])} the pilot sees "
                    f"{last['pilot_effect']:+.1f} points and needs {_n(last['customers_needed'])} customers per group "
                    f"(the firm has {self.available:,.0f}).")
        community = (f"randomising by community needs {_n(row['community_customers_needed'])} per group, and there "
                     f"spillover hides {_hidden(row, 'community_')}")
        return (f"To confirm {row['rollout_effect']:+.1f} points of month-0 customers kept (what rolling {self.arm} out "
                f"to everyone does by month {int(row['month'])}), treat {_n(row['customers_needed'])} customers for "
                f"{int(row['month'])} months and keep as many as control; with customer-level randomisation spillover "
                f"hides {_hidden(row)} of the effect (the pilot sees {row['pilot_effect']:+.1f}); {community}.")


def _n(value: float) -> str:
    return "more than 10 million" if not math.isfinite(value) or value > 1e7 else f"{math.ceil(value):,}"


def _hidden(row: pd.Series, prefix: str = "") -> str:
    """'22% (95% interval 10% to 34%)', or 'no measurable share' when the interval holds 0."""
    share, low, high = row[f"{prefix}hidden"], row[f"{prefix}hidden_low"], row[f"{prefix}hidden_high"]
    if math.isfinite(low) and low <= 0 <= high:
        return f"no measurable share ({_pct(share)}, 95% interval {_pct(low)} to {_pct(high)})"
    return f"{_pct(share)} (95% interval {_pct(low)} to {_pct(high)})"


def _pct(value: float) -> str:
    return "an unknown share" if not math.isfinite(value) else f"{100 * value:.0f}%"


def analyse(folder: RunFolder) -> Design:
    experiment: Experiment = folder.plan
    frames = [folder.load_run(task) for task in experiment.tasks()]
    runs = pd.concat(frames, ignore_index=True)
    arm, baseline = experiment.extra["arm"], experiment.scenario.groups.baseline
    share = experiment.extra["share"]

    def rate(name: str, treated: bool | None = None) -> pd.DataFrame:
        mine = runs[runs["arm"] == name]
        if treated is not None:
            mine = mine[mine["treated"] == treated]
        totals = mine.groupby(["month", "replication"])[["kept", "customers"]].sum()
        return (totals["kept"] / totals["customers"]).unstack("replication")

    by_replication = 100 * (rate(arm) - rate(baseline))
    rollout = by_replication.mean(axis=1)
    rows = []
    for by, name in (("customer", BY_CUSTOMER), ("community", BY_COMMUNITY)):
        p_t, p_c = rate(name, True), rate(name, False)
        seen = 100 * (p_t - p_c)
        # what the pilot misses of the rollout's effect, paired by replication, as a share of the rollout's
        missed = np.array([interval(row) for row in (by_replication - seen).to_numpy()])
        rows.append(pd.DataFrame({"pilot_effect": seen.mean(axis=1), "p_treated": p_t.mean(axis=1),
                                  "p_control": p_c.mean(axis=1), "hidden": missed[:, 0] / rollout,
                                  "hidden_low": missed[:, 1] / rollout, "hidden_high": missed[:, 2] / rollout},
                                 index=seen.index).add_prefix("" if by == "customer" else "community_"))
    table = pd.concat(rows, axis=1)
    table.insert(0, "rollout_effect", rollout)
    table["customers_needed"] = [required_per_group(a, b) for a, b in zip(table["p_treated"], table["p_control"])]
    community = runs[runs["arm"] == BY_COMMUNITY]
    per_month = []
    for month, part in community.groupby("month"):
        estimates = [icc(g["kept"].to_numpy(), g["customers"].to_numpy())
                     for _, g in part.groupby(["replication", "treated"])]
        size = part.groupby(["replication", "community"])["customers"].sum().mean()
        per_month.append((month, float(np.mean(estimates)), float(size)))
    icc_table = pd.DataFrame(per_month, columns=["month", "icc", "community_customers"]).set_index("month")
    table = table.join(icc_table)
    table["design_effect"] = 1 + (table["community_customers"] - 1) * table["icc"]
    table["community_customers_needed"] = [
        required_per_group(a, b) * d for a, b, d in
        zip(table["community_p_treated"], table["community_p_control"], table["design_effect"])]
    table = table.reset_index()
    cohort = float(runs[(runs["arm"] == baseline) & (runs["month"] == 1)].groupby("replication")["customers"].sum()
                   .mean())
    return Design(arm, table, cohort, share, experiment.scenario.market.network)


def finish(folder: RunFolder) -> Design:
    found = analyse(folder)
    folder.write("pilot.csv", found.table)
    folder.finish(sentence=found.sentence())
    return found


def printout(found: Design) -> str:
    show = found.table[["month", "rollout_effect", "pilot_effect", "hidden", "customers_needed",
                        "community_pilot_effect", "community_hidden", "icc", "community_customers_needed"]].copy()
    step = max(1, len(show) // 12)
    show = show[(show["month"] % step == 0) | (show["month"] == show["month"].max())]
    text = pd.DataFrame({
        "months": show["month"].astype(int),
        "rollout, points": show["rollout_effect"].map(lambda v: f"{v:+.1f}"),
        "pilot sees": show["pilot_effect"].map(lambda v: f"{v:+.1f}"),
        "hidden": show["hidden"].map(_pct),
        "per group": show["customers_needed"].map(_n),
        "by community sees": show["community_pilot_effect"].map(lambda v: f"{v:+.1f}"),
        "hidden ": show["community_hidden"].map(_pct),
        "ICC": show["icc"].map(lambda v: f"{v:.3f}"),
        "per group ": show["community_customers_needed"].map(_n),
    }).to_string(index=False)
    lines = [found.sentence(), "", text,
             "", f"Per group: customers in each of the treated and control groups for 80% power at the 5% level "
                 f"(two-sided two-proportion test); the firm has {found.cohort:,.0f} customers at month 0."]
    if found.network == "scale_free":
        lines.append("Note: on a scale-free network a 'community' is a block of consecutive people, not a "
                     "neighbourhood; the community design is then no better than the customer design.")
    return "\n".join(lines)


def pilot_scenario(scenario: Scenario, arm: str, share: float = 0.5, replications: int | None = None,
                   workers: int = 1, out=None, progress: bool = False) -> Design:
    """Design the pilot of `arm` in one call: in `out`, kept, or in a temporary folder that is removed."""
    from .executors import make_executor
    from .folder import kept_or_temporary
    from .runner import execute

    with kept_or_temporary(out, scenario.name) as where:
        experiment = design(scenario, arm, share=share, replications=replications)
        folder = RunFolder.create(experiment, where)
        execute(folder, make_executor(workers), progress=progress, fn=run_fn(experiment))
        return finish(folder)
