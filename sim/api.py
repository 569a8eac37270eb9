"""The one-call Python API: run a scenario, get its `Results`.

    import sim
    results = sim.run_scenario("quickstart", replications=4, n_people=2000)
    results.verdicts, results.comparison, results.plot("retention")

Overrides are `--set` paths (`**{"firms[0].quality": 0.8}`), or for convenience the names of
scenario fields (`seed`, `replications`, `sector`) and market parameters (`n_people=2000`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .errors import InputError
from .experiments import Experiment, RunFolder, preflight
from .experiments.executors import make_executor
from .experiments.folder import kept_or_temporary
from .experiments.robustness import MODES, run_pass
from .experiments.robustness import plan as run_plan
from .experiments.run import finalize, run_replications
from .outputs.results import Results
from .parameters import MarketParameters
from .scenario import Scenario, find_scenario, from_data, load_scenario, validate

TOP_LEVEL = ("name", "description", "seed", "replications", "sector")


def override_paths(overrides: dict[str, Any]) -> list[str]:
    """Keyword overrides as `--set` items: market parameter names go under `market.`."""
    items = []
    for key, value in overrides.items():
        path = f"market.{key}" if key in MarketParameters.model_fields else key
        items.append(f"{path}={_yaml(key, value)}")
    return items


def _yaml(key: str, value: Any) -> str:
    """A value as YAML text; an infinite or NaN number as YAML writes it (and the schema refuses it)."""
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        raise InputError(f"{key} = {value!r} is not allowed: give numbers, text, lists or dicts of them") from None


def _scenario(scenario_or_path: Scenario | str | Path, replications: int | None, overrides: dict) -> tuple[Scenario, str]:
    items = override_paths(overrides)
    if isinstance(scenario_or_path, Scenario):
        return from_data(scenario_or_path.resolved(), scenario_or_path.name, None, items, replications), "scenario"
    path = find_scenario(scenario_or_path)
    return load_scenario(path, items, replications), str(path)


def run_scenario(scenario_or_path: Scenario | str | Path, *, replications: int | None = None, workers: int = 1,
                 out: str | Path | None = None, progress: bool = False, robustness: str = "off",
                 **overrides: Any) -> Results:
    """Run a scenario (a `Scenario`, a file, or a shipped scenario's name) and return its Results.

    `out` keeps the run folder (as `grapevine run` writes it); without it the runs go to a temporary
    folder that is removed, and the Results hold every table in memory (`Results.save` writes them).
    `robustness` "quick" or "full" adds what each verdict hinges on (`Results.robustness_lines`)."""
    if not isinstance(scenario_or_path, (Scenario, str, Path)):
        raise InputError(f"scenario = {scenario_or_path!r} is not allowed: give a Scenario, a scenario file or the "
                         f"name of a shipped scenario")
    if out is not None and not isinstance(out, (str, Path)):
        raise InputError(f"out = {out!r} is not allowed: give a folder path (or leave it out)")
    scenario, source = _scenario(scenario_or_path, replications, overrides)
    if not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers = {workers!r} is not allowed: give a whole number, 1 or more")
    if robustness not in MODES:
        raise InputError(f"robustness = {robustness!r} is not allowed: choose one of {', '.join(MODES)}")
    plan = Experiment.single(scenario, source)
    with kept_or_temporary(out, scenario.name) as where:
        then = run_plan(scenario, plan.reps, robustness, source) if robustness != "off" else None
        preflight.check(plan, where, workers=min(workers, plan.total), then=then)  # memory, disk, a writable folder
        folder = RunFolder.create(plan, where, source=source, overrides=override_paths(overrides))
        run_replications(folder, make_executor(min(workers, folder.plan.total)), progress=progress)
        finalize(folder)
        if robustness != "off":
            run_pass(folder, robustness, make_executor(workers), progress=progress)
        results = Results.load(folder.path)
    results.path = folder.path if out is not None else None
    return results


__all__ = ["run_scenario", "Results", "validate"]
