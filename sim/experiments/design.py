"""What to run: one description for every command that runs markets.

An `Experiment` is a scenario's runs (its arms, or its firms head to head) x replications,
at one point (the scenario as written) or at many points, each point the scenario with some
settings changed: the points of a sweep's grid, of a sensitivity sample, or (later) the
trials of a calibration or an optimisation. It lists its `RunTask`s; the runner computes
them wherever it is told, and the run folder saves each one as it arrives.

Replication r of every run and every point has the same market seed, derived from the
scenario seed and r only (common random numbers): differences between arms, and between
points, are paired, and a result never depends on where or when a run was computed.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterator

import numpy as np

from ..errors import InputError
from ..scenario import Scenario, get_at, set_at, setting_path, validate
from ..scenario.calibration import with_posterior_draw


AUTO_BATCH = 8  # `replications: auto` runs batches of this many paired replications


def replications_of(scenario: Scenario) -> int:
    """The replications a scenario asks for; `auto` starts with one batch (the runner adds more)."""
    return scenario.replications if isinstance(scenario.replications, int) else AUTO_BATCH


@lru_cache(maxsize=65_536)
def replication_seed(scenario_seed: int, replication: int) -> int:
    """The market seed of replication r: the same in every arm and at every point."""
    state = np.random.SeedSequence([int(scenario_seed), int(replication)]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


@dataclass(frozen=True)
class RunTask:
    """One market to simulate (picklable: what a worker receives)."""

    arm: str
    replication: int
    seed: int
    firms: tuple
    market: dict
    point: int | None = None  # the point of a sweep or sample; None for a plain run

    @property
    def key(self) -> str:
        """The run's name, also its file in the run folder's runs/."""
        name = f"{self.arm}__r{self.replication}"
        return name if self.point is None else f"p{self.point:05d}/{name}"


def tasks_of(scenario: Scenario, point: int | None = None, runs=None, replications: int | None = None) -> list[RunTask]:
    """Every run of one scenario: run by run (arms, or the head-to-head run), replication by replication."""
    reps = replications_of(scenario) if replications is None else replications
    seeds = [replication_seed(scenario.seed, r) for r in range(reps)]
    tasks = []
    for run in runs or scenario.groups.runs:
        firms, market = scenario.run_settings(run)
        if scenario.posterior is not None:  # calibrated: replication r takes posterior draw r in every arm
            tasks += [RunTask(run, r, seeds[r], tuple(f), m, point) for r in range(reps)
                      for f, m in [with_posterior_draw(scenario, run, r, firms, market)]]
            continue
        tasks += [RunTask(run, r, seeds[r], tuple(firms), market, point) for r in range(reps)]
    return tasks


@dataclass
class Experiment:
    """A scenario's runs x replications at one or more points.

    `settings` name the varied settings as the user wrote them and `paths` locate them in the
    scenario's data; `points` hold one tuple of values per point (empty: the scenario as it is).
    `runs` may restrict the runs (a sensitivity analysis runs only the two it compares)."""

    kind: str  # run | sweep | sensitivity
    scenario: Scenario
    settings: list[str] = field(default_factory=list)
    paths: list[tuple] = field(default_factory=list)
    points: list[tuple] = field(default_factory=list)
    runs: tuple[str, ...] | None = None
    replications: int | None = None
    source: str = "scenario"
    extra: dict = field(default_factory=dict)  # what the kind adds (sweep spec, sample matrix, ...)
    decided: int | None = field(default=None, repr=False)  # `replications: auto`: how many so far
    _cache: dict = field(default_factory=dict, repr=False)

    # --- building ---------------------------------------------------------------------------
    @classmethod
    def single(cls, scenario: Scenario, source: str = "scenario") -> Experiment:
        return cls("run", scenario, source=source)

    @classmethod
    def varying(cls, kind: str, scenario: Scenario, settings: list[str], points: list[tuple], *,
                source: str = "scenario", section: str = "", check: Callable[[str, tuple, dict], None] | None = None,
                each_alone: bool = True, **options: Any) -> Experiment:
        """The scenario at `points` of `settings`; every path and value is checked now, so bad
        input stops before anything runs (`check(name, path, data)` may refuse a setting). Each
        value is first checked alone at the base (the clearest message), unless settings only
        make sense together (`each_alone=False`)."""
        base = scenario.resolved()
        paths, problems = [], []
        for name in settings:
            try:
                path = setting_path(name, base)
                if check:
                    check(name, path, base)
                paths.append(path)
            except InputError as error:
                problems += [f"{source}: {section}{line}" for line in error.problems]
        if problems:
            raise InputError(problems)
        experiment = cls(kind, scenario, list(settings), paths, [tuple(p) for p in points], source=source, **options)
        # each value of each setting alone at the base first (the clearest message), then every point
        for j, (name, path) in enumerate(zip(settings, paths) if each_alone else ()):
            distinct = {json.dumps(p[j], sort_keys=True): p[j] for p in experiment.points}
            for value in distinct.values():
                data = copy.deepcopy(base)
                set_at(data, path, value)
                try:
                    kept = get_at(validate(data, "").resolved(), path)
                except InputError as error:
                    detail = error.problems[0].split(": ", 1)[-1].split(" is not allowed: ", 1)[-1]
                    problems.append(f"{source}: {section}{name} = {_short(value)} is not allowed: {detail}")
                    continue
                if _number(value) and kept != value:  # a setting the scenario decides itself
                    why = (" (with network edge_list the file decides the number of people)"
                           if path == ("market", "n_people") else "")
                    problems.append(f"{source}: {section}{name} = {_short(value)} cannot be varied here: the "
                                    f"scenario sets it to {_short(kept)}{why}")
        if problems:
            raise InputError(list(dict.fromkeys(problems))[:20])
        for i in range(len(experiment.points)):
            experiment.point_scenario(i)
        return experiment

    # --- what it runs -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def auto(self) -> bool:
        """Replications until the verdicts are clear (`replications: auto`, a plain run only)."""
        return self.kind == "run" and self.replications is None and self.scenario.replications == "auto"

    @property
    def reps(self) -> int:
        if self.replications is not None:
            return self.replications
        return self.decided if self.auto and self.decided else replications_of(self.scenario)

    @property
    def run_names(self) -> tuple[str, ...]:
        return self.runs or self.scenario.groups.runs

    @property
    def point_count(self) -> int:
        return max(1, len(self.points))

    @property
    def runs_per_point(self) -> int:
        return len(self.run_names) * self.reps

    @property
    def total(self) -> int:
        return self.point_count * self.runs_per_point

    def point_scenario(self, i: int | None) -> Scenario:
        """The scenario at point i (None or a single experiment: the scenario itself); the last
        one asked for is kept, so walking the points in order validates each once."""
        if not self.points:
            return self.scenario
        if i not in self._cache:
            self._cache.clear()
            data = self.scenario.resolved()
            for path, value in zip(self.paths, self.points[i]):
                set_at(data, path, value)
            self._cache[i] = validate(data, f"{self.source}: point {i}")
        return self._cache[i]

    def values(self, i: int) -> dict[str, Any]:
        return dict(zip(self.settings, self.points[i]))

    def base_value(self, path: tuple) -> Any:
        return get_at(self.scenario.resolved(), path)

    def tasks(self) -> Iterator[RunTask]:
        """Every run, point by point, run by run, replication by replication (lazily)."""
        if not self.points:
            yield from tasks_of(self.scenario, None, self.runs, self.reps)
            return
        for i in range(len(self.points)):
            yield from tasks_of(self.point_scenario(i), i, self.runs, self.reps)

    def possible_tasks(self) -> Iterator[RunTask]:
        """Every run the experiment may make: its tasks, and with `replications: auto` every batch up
        to the cap (a resume checks saved runs against these)."""
        if self.auto:
            yield from tasks_of(self.scenario, None, self.runs, self.scenario.max_replications)
        else:
            yield from self.tasks()

    def seeds(self) -> dict[str, int]:
        return {str(r): replication_seed(self.scenario.seed, r) for r in range(self.reps)}

    # --- identity and the manifest ---------------------------------------------------------------
    def describe(self) -> dict:
        """Everything that decides the runs, as plain data (the manifest keeps it; a resume rebuilds from it)."""
        return {"kind": self.kind, "scenario": self.scenario.resolved(), "settings": self.settings,
                "points": [list(p) for p in self.points], "runs": list(self.runs) if self.runs else None,
                "replications": self.replications, "extra": self.extra}

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.describe(), sort_keys=True).encode()).hexdigest()

    @classmethod
    def from_description(cls, body: dict, source: str) -> Experiment:
        scenario = Scenario.model_validate(body["scenario"])
        points = [tuple(p) for p in body.get("points") or []]
        if not body.get("settings"):
            return cls(body["kind"], scenario, source=source, runs=_tuple(body.get("runs")),
                       replications=body.get("replications"), extra=body.get("extra") or {})
        return cls.varying(body["kind"], scenario, body["settings"], points, source=source,
                           runs=_tuple(body.get("runs")), replications=body.get("replications"),
                           extra=body.get("extra") or {}, each_alone=False)  # (checked when first made)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _tuple(value) -> tuple | None:
    return tuple(value) if value else None


def _short(v) -> str:
    text = json.dumps(v) if isinstance(v, (list, dict)) else repr(v)
    if len(text) <= 50:
        return text
    return f"'...{v[-44:]}'" if isinstance(v, str) else text[:47] + "..."  # a path's end names the file
