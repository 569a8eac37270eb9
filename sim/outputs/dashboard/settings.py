"""What the dashboard compares and where its controls start: read once from a scenario.

The sides are what the scenario compares: its arms (the baseline and up to two others, or
the arms named with `--arms`), each a run of the market, or, head to head, its firms in one
run. Each side has the controls of its firm's policies, one per lever the policy classes
declare (`sim.policies.Lever`), so a new policy's levers appear without editing this file;
head to head, a firm's quality and failure rate are its own too. The market's assumptions
(people, horizon, word of mouth, complaints, contracts) and, for arms, the compared firm's
quality and failure rate are shared: they change every side at once.

Everything here is plain data (`dashboard_settings` returns JSON-ready dicts), so it travels
from `grapevine dashboard` to the server process in an environment variable.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

from ...errors import InputError
from ...experiments.design import replication_seed
from ...policies import Lever, Policy
from ...population import at_size

MAX_SIDES = 3  # columns a projector shows side by side
START_PEOPLE = 5_000  # a bigger scenario starts at this size (the slider goes further)
MAX_PEOPLE = 20_000
DEFAULT_SCENARIO = "quickstart"


@dataclass(frozen=True)
class Control:
    """A control of the page: a slider (`low` to `high` by `step`, in `unit`), a switch, or a choice."""

    name: str
    label: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05
    unit: str = ""
    kind: str = "slider"  # slider | switch | choice
    choices: tuple = ()
    whole: bool = False  # whole numbers

    def clamp(self, value):
        if self.kind != "slider":
            return value
        value = min(max(float(value), self.low), self.high)
        return int(round(value)) if self.whole else value

    def shown(self, value) -> str:
        """The value as the room reads it, with its unit: '80% of full effort', '6 months'."""
        if self.kind == "switch":
            return "on" if value else "off"
        if self.kind == "choice":
            return str(value)
        if self.unit.startswith("share"):
            digits = _digits(self.step * 100)
            return f"{value * 100:.{digits}f}% {self.unit.removeprefix('share').strip()}".rstrip()
        number = f"{value:,.0f}" if self.whole else f"{value:.{_digits(self.step)}f}"
        return f"{number} {self.unit}".rstrip()


def _digits(step: float) -> int:
    """Decimals that show every multiple of `step` exactly (0.25 -> 2, 5 -> 0)."""
    text = f"{step:.6f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


# the shared assumptions; a side's firm has FIRM (shared for arms: one firm in every arm)
SHARED = (
    Control("n_people", "People", 500, MAX_PEOPLE, 500, "people", whole=True),
    Control("months", "Horizon", 12, 120, 6, "months", whole=True),
    Control("replication", "Replication", 1, 30, 1, "(its people, network and luck)", whole=True),
    Control("negative_reach", "An unhappy customer tells", 0, 40, 1, "peers", whole=True),
    Control("complaint_probability", "Complaints", 0.0, 1.0, 0.05, "share of failures that upset"),
    Control("relay_probability", "Bad news passed on", 0.0, 0.5, 0.05, "share of rejecters a month"),
    Control("contract_months", "Contracts", 0, 36, 1, "months (0: none)", whole=True),
)
FIRM = (
    Control("quality", "Service quality", 0.0, 1.0, 0.05, "(0 awful, 1 perfect)"),
    Control("failure_rate", "Service failures", 0.0, 0.2, 0.005, "share of customers a month"),
)


# --- the policy levers, from what the policy classes declare -------------------------------------
def lever_name(kind: str, lever: Lever) -> str:
    return kind if lever.setting is None else f"{kind}.{lever.setting}"


def policy_levers() -> dict[str, tuple[type[Policy], Lever]]:
    """Every lever of every known policy, by control name: 'Kind' (a switch) or 'Kind.setting'."""
    return {lever_name(kind, lever): (policy, lever)
            for kind, policy in Policy.registry.items() for lever in policy.levers}


def lever_control(name: str, policy: type[Policy], lever: Lever) -> Control:
    if lever.setting is None:
        return Control(name, lever.label, kind="switch")
    if lever.choices:
        return Control(name, lever.label, unit=lever.unit, kind="choice",
                       choices=(*(() if lever.off is None else (lever.off,)), *lever.choices))
    whole = policy.model_fields[lever.setting].annotation is int
    return Control(name, lever.label, lever.low, lever.high, lever.step, lever.unit, whole=whole)


def _is_off(lever: Lever, value) -> bool:
    return value is False if lever.setting is None else lever.off is not None and value == lever.off


def lever_values(policies: list[dict]) -> dict[str, Any]:
    """Where each lever starts for a firm running `policies` ({kind, settings} mappings):
    a switch is on if its policy runs; a setting is the policy's, or the lever's off value."""
    running = {spec["kind"]: spec for spec in policies}
    values = {}
    for name, (policy, lever) in policy_levers().items():
        spec = running.get(policy.__name__)
        if lever.setting is None:
            values[name] = spec is not None
        elif spec is None and lever.off is not None:
            values[name] = lever.off
        else:
            values[name] = (spec or {}).get(lever.setting, policy.model_fields[lever.setting].default)
    return values


def apply_levers(policies: list[dict], values: dict[str, Any]) -> list[dict]:
    """The firm's policies under the controls: a policy with levers runs while its switch is on
    and none of its levers is at its off value, with the settings the sliders give and its
    other settings as written; a policy without levers runs as written. Policies keep the
    written order (then the registry's), so at the scenario's values the firm is the scenario's."""
    written = {spec["kind"]: spec for spec in policies}
    kinds = [*written, *(kind for kind in Policy.registry if kind not in written)]
    unknown = sorted(set(values) - set(policy_levers()))
    if unknown:
        raise ValueError(f"dashboard control {unknown[0]!r} is not a policy lever: choose one of "
                         f"{', '.join(policy_levers())}")
    chosen = []
    for kind in kinds:
        policy = Policy.registry.get(kind)
        if policy is None or not policy.levers:
            chosen += [written[kind]] if kind in written else []
            continue
        spec = dict(written.get(kind, {"kind": kind}))
        runs = True
        for lever in policy.levers:
            value = values.get(lever_name(kind, lever), False if lever.setting is None else lever.off)
            if _is_off(lever, value) or (lever.setting is not None and value is None):
                runs = False
            elif lever.setting is not None:
                spec[lever.setting] = value
        if runs:
            chosen.append(spec)
    # two switches that do one job (ServiceRecovery and IgnoreUntilRenewal both answer
    # complaints): the policy that does fewer jobs runs, the other is left out
    taken: set[str] = set()
    kept = []
    for spec in sorted(chosen, key=lambda spec: len(Policy.registry[spec["kind"]].jobs)
                       if spec["kind"] in Policy.registry else 0):
        jobs = set(Policy.registry[spec["kind"]].jobs) if spec["kind"] in Policy.registry else set()
        if not jobs & taken:
            kept.append(spec)
            taken |= jobs
    return [spec for spec in chosen if spec in kept]


# --- from a scenario --------------------------------------------------------------------------
def dashboard_settings(scenario: str | None = None, arms: list[str] | None = None,
                       people: int | None = None) -> dict[str, Any]:
    """The sides, their runs and every control's starting value, from a scenario (default: quickstart).

    `arms` names the two or three arms to show (default: the baseline and the first two
    others); `people` sets the market's size (default: the scenario's, at most `START_PEOPLE`)."""
    from ...scenario import find_scenario, load_scenario

    path = find_scenario(scenario or DEFAULT_SCENARIO)
    loaded = load_scenario(path)
    groups = loaded.groups
    notes: list[str] = []
    if groups.head_to_head:
        if arms:
            raise InputError(f"--arms {','.join(arms)}: {loaded.name} compares firms head to head, not arms; "
                             f"every firm is shown")
        names = list(groups.names)
        sides = [{"name": name, "run": groups.runs[0], "firm": k, "changes": _policies_text(firm.policies)}
                 for k, (name, firm) in enumerate(zip(names, loaded.firms))]
        hidden: list[str] = []
    else:
        names = _chosen_arms(loaded, arms)
        focal = next(k for k, firm in enumerate(loaded.firms) if firm.name == groups.focal_firm)
        sides = [{"name": name, "run": name, "firm": focal, "changes": loaded.arm(name).changes()} for name in names]
        hidden = [name for name in groups.names if name not in names]
        if hidden:
            notes.append(f"also in this scenario: {', '.join(hidden)} (choose with --arms)")
    reference = groups.baseline if groups.baseline in names else names[0]

    runs = {}
    for side in sides:
        firms, market = loaded.run_settings(side["run"])
        if market.get("network") == "edge_list":  # a given network has its own size: not for a slider
            market.update(network="small_world", edge_list_path=None)
            note = "the scenario's edge-list network is replaced by a small world of the same mean degree"
            notes += [note] if note not in notes else []
        runs[side["run"]] = {"firms": firms, "market": market}
    first = runs[sides[0]["run"]]
    market = first["market"]
    size = people if people is not None else min(market["n_people"], START_PEOPLE)
    if people is None and market["n_people"] > START_PEOPLE:
        notes.append(f"people start at {START_PEOPLE:,} (the scenario has {market['n_people']:,}) so that the "
                     f"months play at 5 a second; the People slider goes to {MAX_PEOPLE:,}")
    if any(f.get("contract_months") is not None for f in first["firms"]):
        notes.append("firms with their own contract length keep it; the Contracts slider sets the others'")
    # the shared controls start at the first side's values; a side whose run sets one of them
    # itself (an arm's `set`) keeps its own value: the slider moves the others
    arms_mode = not groups.head_to_head
    of_run = {side["run"]: _shared_values(runs[side["run"]], side["firm"], arms_mode) for side in sides}
    shared = {**of_run[sides[0]["run"]], "n_people": int(size), "replication": 1}
    own = {run: sorted(name for name, value in values.items() if value != of_run[sides[0]["run"]][name])
           for run, values in of_run.items()}
    own = {run: names for run, names in own.items() if names}
    for run, names in own.items():
        notes.append(f"{run} sets {', '.join(names)} itself: the shared sliders leave its value")
    low, high = market["negative_reach_min"], market["negative_reach_max"]
    side_values = {}
    for side in sides:
        firm = runs[side["run"]]["firms"][side["firm"]]
        values = lever_values(firm["policies"])
        if groups.head_to_head:
            values.update(quality=firm["quality"], failure_rate=firm["failure_rate"])
        side_values[side["name"]] = values
    start = {"shared": shared, "sides": side_values}
    # the levers of the policies some side runs: shown first (the others fold away)
    in_play = {spec["kind"] for run in runs.values() for firm in run["firms"] for spec in firm["policies"]}
    levers_in_play = [name for name, (policy, _) in policy_levers().items() if policy.__name__ in in_play]

    shown = ", ".join(s["name"] for s in sides)
    return {
        "scenario": loaded.name,
        "description": loaded.description,
        "source": str(path),
        "compare": "firms" if groups.head_to_head else "arms",
        "focal_firm": groups.focal_firm,
        "seed": loaded.seed,
        "reference": reference,
        "sides": sides,
        "runs": runs,
        "reach_spread": [(low + high) // 2 - low, high - (low + high) // 2],
        "own": own,
        "start": start,
        "levers_in_play": levers_in_play,
        "currency": "" if loaded.currency == "units" else loaded.currency,  # money is labelled with it
        "notes": notes,
        "title": f"{loaded.name}: {shown}",
    }


def _shared_values(run: dict, firm: int, arms_mode: bool) -> dict[str, Any]:
    """Where the shared controls stand in one run (for arms, the compared firm's quality and failures too)."""
    market = run["market"]
    values = {"n_people": market["n_people"], "months": market["months"],
              "negative_reach": (market["negative_reach_min"] + market["negative_reach_max"]) // 2,
              "complaint_probability": market["complaint_probability"],
              "relay_probability": market["relay_probability"], "contract_months": market["contract_months"]}
    if arms_mode:
        values.update(quality=run["firms"][firm]["quality"], failure_rate=run["firms"][firm]["failure_rate"])
    return values


def _chosen_arms(scenario, arms: list[str] | None) -> list[str]:
    names = list(scenario.groups.names)
    if not arms:
        baseline = scenario.groups.baseline
        return [baseline, *[name for name in names if name != baseline][:MAX_SIDES - 1]]
    unknown = [arm for arm in arms if arm not in names]
    if unknown:
        raise InputError(f"--arms: {unknown[0]!r} is not an arm of {scenario.name}: choose two or three of "
                         f"{', '.join(names)}")
    if not 2 <= len(arms) <= MAX_SIDES or len(set(arms)) != len(arms):
        raise InputError(f"--arms {','.join(arms)}: name two or three different arms (of {', '.join(names)})")
    return list(arms)


def _policies_text(policies) -> str:
    return " + ".join(policy.label() for policy in policies) or "no policy"


def controls(settings: dict) -> tuple[list[Control], list[Control]]:
    """(shared controls, each side's controls): the market's assumptions (and, for arms, the
    firm's quality and failures); each side's policy levers (and, head to head, its firm's
    quality and failures). A scenario's value beyond a slider's range widens the range."""
    levers = [lever_control(name, policy, lever) for name, (policy, lever) in policy_levers().items()]
    head_to_head = settings["compare"] == "firms"
    shared = [*SHARED, *(() if head_to_head else FIRM)]
    per_side = [*levers, *(FIRM if head_to_head else ())]
    start = settings["start"]
    shared = [_widened(c, [start["shared"][c.name]]) for c in shared]
    per_side = [_widened(c, [values[c.name] for values in start["sides"].values()]) for c in per_side]
    return shared, per_side


def _widened(control: Control, values: list) -> Control:
    if control.kind != "slider":
        return control
    return replace(control, low=min([control.low, *values]), high=max([control.high, *values]))


# --- from the controls to the markets -----------------------------------------------------------
def run_of(settings: dict, values: dict, run: str) -> tuple[list[dict], dict, int]:
    """The firms, market settings and seed of one run under the controls' `values` (a setting
    the run sets itself, `settings["own"]`, keeps the run's value)."""
    base = settings["runs"][run]
    firms, market = copy.deepcopy(base["firms"]), dict(base["market"])
    shared = {name: value for name, value in values["shared"].items() if name not in settings["own"].get(run, ())}
    below, above = settings["reach_spread"]
    if "n_people" in shared:  # firms stated in customers shrink or grow with the people (sim.population)
        firms, market = at_size(firms, market, int(shared["n_people"]))
    for name in ("months", "contract_months"):
        if name in shared:
            market[name] = int(shared[name])
    for name in ("complaint_probability", "relay_probability"):
        if name in shared:
            market[name] = float(shared[name])
    if "negative_reach" in shared:
        reach = int(shared["negative_reach"])
        market.update(negative_reach_min=max(0, reach - below), negative_reach_max=reach + above)
    market["agent_view_limit"] = 0  # the page draws from the arrays; no Mesa agent per person is needed
    for side in settings["sides"]:
        if side["run"] != run:
            continue
        firm = firms[side["firm"]]
        mine = values["sides"][side["name"]]
        firm["policies"] = apply_levers(firm["policies"], {k: v for k, v in mine.items() if k in policy_levers()})
        source = mine if settings["compare"] == "firms" else shared
        firm.update({name: float(source[name]) for name in ("quality", "failure_rate") if name in source})
    seed = replication_seed(settings["seed"], int(values["shared"]["replication"]) - 1)
    return firms, market, seed


def reach_text(settings: dict, reach: int) -> str:
    below, above = settings["reach_spread"]
    low, high = max(0, reach - below), reach + above
    return f"{low}-{high} peers" if high != low else f"{low} peers"
