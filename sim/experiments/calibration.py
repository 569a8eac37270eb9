"""Calibration: fit a scenario's free assumptions to the firm's own figures (`grapevine calibrate`).

    fit = design(load_scenario("scenarios/calibrate-telco.yaml"))
    folder = RunFolder.create(fit, prefix="calibrate-")
    calibrate(folder, executors.make_executor(2))     # the search, then the posterior draws
    outcome = finalize(folder)                         # tables, figure, calibrated.yaml, report

A trial is a point of the experiment: the scenario with the free parameters at the trial's
values, its baseline run (the firm as written, whose figures these are) over the observed
months, `calibrate.replications` times on the seeds every trial shares (common random numbers:
two trials differ only by their parameters, so the likelihood surface is smooth). The runs go
through the project's runner and executors and each is saved as it arrives
(`runs/pNNNNN/<run>__rK.parquet`: the month-by-month counts of `sim.observations`).

Two stages, every trial recorded in an Optuna study in the folder's SQLite file `trials.db`:

1. search: Optuna's TPE sampler proposes `batch` trials at a time, seeded from the calibration
   seed and the number of trials so far (so an interrupted fit resumed with `--resume` proposes
   what an uninterrupted one would, and the number of workers changes nothing);
2. posterior: rounds of importance sampling around the best fit, weighted and resampled into
   the posterior sample (`posterior.py`).

A fit that is stopped (Ctrl-C, a crash) keeps every finished trial in trials.db and every
finished run in runs/; `grapevine calibrate --resume DIR` completes the trials that were
running and goes on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from .. import observations
from ..errors import InputError, Located, format_path
from ..scenario import HEAD_TO_HEAD, Scenario, validate
from ..scenario.calibration import FreeParameter, free_parameters, observed_firm, sample_of
from . import likelihood, posterior
from .design import Experiment, tasks_of
from .folder import RunFolder
from .runner import execute, release

SEARCH_SHARE = 0.6  # of the trials: the rest are the posterior's importance draws, in rounds
ROUNDS = 4
STUDY = "trials.db"
STUDY_NAME = "calibration"


# --- the plan -----------------------------------------------------------------------------------
@dataclass
class Fit:
    """What a calibration runs: an experiment whose points are the trials (added as they are
    proposed), the scenario as written (with its observed and calibrate sections) and the free
    parameters. `batch` holds the points being computed now: the runner runs those."""

    experiment: Experiment
    original: Scenario
    free: list[FreeParameter]
    batch: list[int] = field(default_factory=list)
    finished: int = 0  # trials with a log-likelihood in trials.db when the plan was made
    kind: str = "calibrate"

    # the run folder's plan
    @property
    def name(self) -> str:
        return self.experiment.name

    @property
    def total(self) -> int:
        return len(self.batch) * self.experiment.runs_per_point

    def tasks(self):
        for i in self.batch:
            yield from tasks_of(self.experiment.point_scenario(i), i, self.experiment.runs, self.experiment.reps)

    def possible_tasks(self):
        """Every run of the trials so far (a resume keeps the saved runs of these)."""
        for i in range(len(self.experiment.points)):
            yield from tasks_of(self.experiment.point_scenario(i), i, self.experiment.runs, self.experiment.reps)

    def sizing(self) -> tuple[Experiment, int]:
        """What preflight weighs before anything is written: the experiment at the two corners of
        the prior (a free mean_degree changes a run's memory) and the runs still to do."""
        ends = [tuple(p.setting(v) for p, v in zip(self.free, values)) for values in
                ([p.low for p in self.free], [p.high for p in self.free])]
        corners = dataclasses.replace(self.experiment, points=ends, _cache={})
        return corners, max(self.settings.trials - self.finished, 0) * self.experiment.runs_per_point

    def describe(self) -> dict:
        return {**self.experiment.describe(), "points": []}  # the trials are in trials.db

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.describe(), sort_keys=True).encode()).hexdigest()

    def seeds(self) -> dict:
        return self.experiment.seeds()

    # what the fit reads
    @property
    def observed(self):
        return self.original.observed

    @property
    def settings(self):
        return self.original.calibrate

    @property
    def firm(self) -> int:
        return observed_firm(self.original, self.observed)

    @property
    def months(self) -> int:
        return self.observed.horizon

    @property
    def seed(self) -> int:
        return self.settings.seed if self.settings.seed is not None else self.original.seed

    @property
    def search_trials(self) -> int:
        return max(2, int(math.ceil(SEARCH_SHARE * self.settings.trials)))

    @property
    def rounds(self) -> tuple[int, ...]:
        """The posterior's importance draws per round: up to ROUNDS rounds of at least 2d + 2."""
        rest = self.settings.trials - self.search_trials
        count = max(1, min(ROUNDS, rest // (2 * len(self.free) + 2)))
        base, extra = divmod(rest, count)
        return tuple(base + (1 if i < extra else 0) for i in range(count))

    def add_point(self, number: int, values: list[float]) -> None:
        """Trial `number` is point `number` (its runs: runs/p<number>/)."""
        points = self.experiment.points
        if number != len(points):
            raise RuntimeError(f"trial {number} does not follow point {len(points) - 1}: trials.db and the plan disagree")
        points.append(tuple(p.setting(v) for p, v in zip(self.free, values)))

    def spec(self) -> dict:
        """What a run records (`observe`): the firm, the months, the window of `recommended`."""
        window = self.observed.period("recommended") if self.observed.recommended is not None else 1
        return {"firm": self.firm, "months": self.months, "window": window}


def design(scenario: Scenario, source: str = "scenario") -> Fit:
    """Check the observed and calibrate sections against the model and build the plan; bad input
    stops here (InputError naming the field), before anything is run or written."""
    if scenario.observed is None or scenario.calibrate is None:
        missing = " and ".join(name for name in ("observed", "calibrate") if getattr(scenario, name) is None)
        raise InputError(f"{source}: no {missing} section; see docs/CALIBRATION.md or scenarios/calibrate-telco.yaml")
    try:
        free = free_parameters(scenario, scenario.calibrate, observed_firm(scenario, scenario.observed))
    except Located as error:  # (the scenario's validator checked these already; kept for Python callers)
        raise InputError(f"{source}: {format_path(error.loc)}: {error.message}") from None
    original = full_data(scenario)
    data = scenario.resolved()
    data.pop("posterior", None)  # a calibrated scenario calibrated again starts from its values, not its posterior
    data["market"]["months"] = scenario.observed.horizon
    fit_scenario = validate(data, source)
    run = HEAD_TO_HEAD if scenario.groups.head_to_head else scenario.groups.baseline
    ends = [tuple(p.setting(v) for p, v in zip(free, values)) for values in
            ([p.low for p in free], [p.high for p in free])]
    experiment = Experiment.varying("calibrate", fit_scenario, [format_path(p.path) for p in free], ends,
                                    source=source, section="calibrate.parameters: ", runs=(run,),
                                    replications=scenario.calibrate.replications, extra={"original": original})
    experiment.points = []
    return Fit(experiment, scenario, free)


def full_data(scenario: Scenario) -> dict:
    """The scenario as data with its observed and calibrate sections (which runs leave out)."""
    data = scenario.resolved()
    for name in ("observed", "calibrate"):
        section = getattr(scenario, name)
        if section is not None:
            data[name] = section.model_dump(mode="json", exclude_none=True)
    return data


def from_description(body: dict, source: str) -> Fit:
    """The plan again from a manifest (for `--resume`; `source` is the folder's manifest.json),
    with the trials so far read from the folder's trials.db: the saved runs of these are kept."""
    experiment = Experiment.from_description(body, source)
    original = Scenario.model_validate(body["extra"]["original"])
    fit = Fit(experiment, original, free_parameters(original, original.calibrate,
                                                    observed_firm(original, original.observed)))
    fit.experiment.points = []
    store = Path(source).parent / STUDY
    if store.is_file():
        trials = _open_study(store).get_trials(deepcopy=False)
        for trial in trials:
            fit.add_point(trial.number, _values(fit, trial.params))
        fit.finished = sum(t.value is not None for t in trials)
    return fit


def resume(path: Path) -> RunFolder:
    return RunFolder.resume(path, "calibrate", from_description)


# --- one run: the month-by-month counts of the observed firm ---------------------------------------
def observe(spec: dict, task) -> pd.DataFrame:
    """Run one market to the end of the observed months; the observed firm's counts by month."""
    from ..market import Market

    market = Market(firms=[dict(f) for f in task.firms], seed=task.seed, **task.market)
    frame = observations.monthly_counts(market, spec["firm"], spec["months"], spec["window"])
    release(market)
    frame.insert(0, "replication", task.replication)
    frame.insert(0, "point", task.point)
    return frame


# --- scoring a trial ----------------------------------------------------------------------------------
def observed_data(fit: Fit) -> dict:
    """The firm's figures as counts, by statistic (None where only a tolerance is given)."""
    scenario, firm = fit.original, fit.firm
    customers = scenario.firms[firm].customers
    return {name: likelihood.observed_counts(name, figure, sample_of(scenario, name), fit.observed.period(name),
                                             customers)
            for name, figure in fit.observed.statistics().items()}


def score(fit: Fit, runs: pd.DataFrame, observed: dict) -> tuple[float, dict, dict]:
    """The log-likelihood of the firm's figures at one trial (its runs stacked), its parts by
    statistic, and the simulated figures."""
    parts, simulated = {}, {}
    reps = int(runs["replication"].nunique())
    for name, figure in fit.observed.statistics().items():
        months = fit.observed.period(name)
        x, n = observations.counts(runs, name, months)
        parts[name] = likelihood.log_likelihood(name, figure, observed[name], x, n, months, reps)
        simulated[name] = observations.value(name, x, n, months, reps).tolist()
    return float(sum(parts.values())), parts, simulated


def load_runs(folder: RunFolder, fit: Fit, number: int) -> pd.DataFrame:
    tasks = tasks_of(fit.experiment.scenario, number, fit.experiment.runs, fit.experiment.reps)
    return pd.concat([folder.load_run(task) for task in tasks], ignore_index=True)


# --- the study ---------------------------------------------------------------------------------------
def _optuna():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def open_study(folder: RunFolder):
    """The fit's Optuna study in the folder's SQLite file (created on first use)."""
    return _open_study(folder.path / STUDY)


def _open_study(path: Path):
    """The study in the SQLite file `path`. Write-ahead logging with normal syncing: a killed
    process loses nothing, and a trial costs half the time of SQLite's default full sync
    (measured: 54 against 121 ms for an ask and a tell)."""
    from sqlalchemy import event

    optuna = _optuna()
    storage = optuna.storages.RDBStorage(f"sqlite:///{Path(path).resolve()}")

    def pragmas(connection, _record) -> None:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")

    event.listen(storage.engine, "connect", pragmas)
    storage.engine.dispose()  # reconnect with the pragmas
    return optuna.create_study(study_name=STUDY_NAME, storage=storage, direction="maximize", load_if_exists=True)


def _distributions(fit: Fit) -> dict:
    optuna = _optuna()
    return {p.name: optuna.distributions.FloatDistribution(p.low, p.high, log=p.log) for p in fit.free}


def _sampler(fit: Fit, trials_so_far: int):
    """TPE seeded by the calibration seed and the number of trials so far: a resumed fit proposes
    what an uninterrupted one would."""
    optuna = _optuna()
    seed = int(np.random.SeedSequence([fit.seed, 0xCA11B, trials_so_far]).generate_state(1)[0])
    startup = max(2, min(fit.search_trials // 2, max(10, 3 * len(fit.free))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # multivariate TPE is marked experimental
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=startup)


def _values(fit: Fit, params: dict) -> list[float]:
    return [float(params[p.name]) for p in fit.free]


def _evaluate(folder: RunFolder, executor, numbers: list[int], observed: dict) -> dict[int, tuple]:
    """Run the trials `numbers` (points already added) on the executor and score them."""
    fit = folder.plan
    fit.batch = list(numbers)
    execute(folder, executor, progress=False, fn=partial(observe, fit.spec()), close=False)
    return {number: score(fit, load_runs(folder, fit, number), observed) for number in numbers}


def _attrs(parts: dict, simulated: dict) -> dict:
    return {"loglik_parts": parts, "simulated": simulated}


def calibrate(folder: RunFolder, executor, progress: bool = True) -> None:
    """Run the fit of `folder` to the end (or on from where it stopped). Closes the executor."""
    fit = folder.plan
    observed = observed_data(fit)
    bar = _bar(fit, progress)
    try:
        study = open_study(folder)
        _catch_up(folder, study, executor, observed, bar)
        _search(folder, study, executor, observed, bar)
        _posterior(folder, study, executor, observed, bar)
    finally:
        executor.close()
        if bar is not None:
            bar.close()


def _bar(fit: Fit, progress: bool):
    if not progress:
        return None
    from tqdm import tqdm

    tqdm.monitor_interval = 0
    return tqdm(total=fit.settings.trials, unit="trial", desc=f"{fit.name} calibrate", file=sys.stderr,
                dynamic_ncols=True)


def _show(bar, study) -> None:
    if bar is None:
        return
    done = [t for t in study.get_trials(deepcopy=False) if t.value is not None]
    bar.n = len(done)
    if done:
        bar.set_postfix_str(f"best log-likelihood {max(t.value for t in done):.1f}")
    bar.refresh()


def _catch_up(folder, study, executor, observed, bar) -> None:
    """Rebuild the points from trials.db; finish the trials an interrupted fit left running."""
    optuna = _optuna()
    fit = folder.plan
    fit.experiment.points = []
    trials = study.get_trials(deepcopy=False)
    for trial in trials:
        fit.add_point(trial.number, _values(fit, trial.params))
    running = [t for t in trials if t.state == optuna.trial.TrialState.RUNNING]
    if running:
        found = _evaluate(folder, executor, [t.number for t in running], observed)
        for frozen in running:
            trial = optuna.trial.Trial(study, frozen._trial_id)  # a trial asked before the interruption
            loglik, parts, simulated = found[frozen.number]
            for key, value in {"stage": frozen.user_attrs.get("stage", "search"), **_attrs(parts, simulated)}.items():
                trial.set_user_attr(key, value)
            study.tell(trial, loglik)
    _show(bar, study)


def _search(folder, study, executor, observed, bar) -> None:
    fit = folder.plan
    distributions = _distributions(fit)
    while True:
        trials = study.get_trials(deepcopy=False)
        searched = sum(t.user_attrs.get("stage", "search") == "search" for t in trials)
        if searched >= fit.search_trials:
            return
        study.sampler = _sampler(fit, len(trials))
        asked = []
        for _ in range(min(fit.settings.batch, fit.search_trials - searched)):
            trial = study.ask(distributions)
            trial.set_user_attr("stage", "search")
            fit.add_point(trial.number, _values(fit, trial.params))
            asked.append(trial)
        found = _evaluate(folder, executor, [t.number for t in asked], observed)
        for trial in asked:
            loglik, parts, simulated = found[trial.number]
            for key, value in _attrs(parts, simulated).items():
                trial.set_user_attr(key, value)
            study.tell(trial, loglik)
        _show(bar, study)


def unit_values(fit: Fit, values: np.ndarray) -> np.ndarray:
    """Parameter values -> their places u in their prior ranges (on the prior's scale)."""
    return np.array([[p.to_unit(v) for p, v in zip(fit.free, row)] for row in np.atleast_2d(values)])


def from_z(fit: Fit, z: np.ndarray) -> np.ndarray:
    u = posterior.to_u(np.atleast_2d(z))
    return np.array([[min(max(p.from_unit(x), p.low), p.high) for p, x in zip(fit.free, row)] for row in u])


def _table(fit: Fit, trials, stage: str, round_: int | None = None) -> tuple[np.ndarray, np.ndarray, list]:
    chosen = [t for t in trials if t.value is not None and t.user_attrs.get("stage", "search") == stage
              and (round_ is None or t.user_attrs.get("round") == round_)]
    if stage == "posterior":
        chosen.sort(key=lambda t: t.user_attrs["draw"])
    values = np.array([_values(fit, t.params) for t in chosen]).reshape(len(chosen), len(fit.free))
    return posterior.to_z(unit_values(fit, values)) if chosen else values, np.array([t.value for t in chosen]), chosen


def proposals(fit: Fit, trials) -> list[posterior.Proposal]:
    """The proposal of every round whose earlier rounds are complete, from the trials so far (the
    same every time they are asked)."""
    z, loglik, _ = _table(fit, trials, "search")
    found = [posterior.first_proposal(z, loglik)]
    done = [_table(fit, trials, "posterior", r) for r in range(1, len(fit.rounds))]
    for r, count in enumerate(fit.rounds[:-1], start=1):
        if len(done[r - 1][0]) < count:
            break
        earlier = done[:r]
        zs = np.vstack([part[0] for part in earlier])
        log_w = posterior.log_weights(zs, np.concatenate([part[1] for part in earlier]), found,
                                      [len(part[0]) for part in earlier])
        found.append(posterior.refitted(zs, log_w))
    return found


def _posterior(folder, study, executor, observed, bar) -> None:
    optuna = _optuna()
    fit = folder.plan
    distributions = _distributions(fit)
    for round_, count in enumerate(fit.rounds, start=1):
        if count == 0:
            continue
        trials = study.get_trials(deepcopy=False)
        proposal = proposals(fit, trials)[round_ - 1]
        rng = np.random.default_rng(np.random.SeedSequence([fit.seed, 0x9057, round_]))
        draws = from_z(fit, proposal.draw(count, rng))
        done = {t.user_attrs["draw"] for t in trials if t.user_attrs.get("round") == round_}
        todo = [d for d in range(count) if d not in done]
        for start in range(0, len(todo), fit.settings.batch):
            chunk = todo[start:start + fit.settings.batch]
            first = len(study.get_trials(deepcopy=False))
            numbers = list(range(first, first + len(chunk)))
            for number, d in zip(numbers, chunk):
                fit.add_point(number, list(draws[d]))
            found = _evaluate(folder, executor, numbers, observed)
            for number, d in zip(numbers, chunk):
                loglik, parts, simulated = found[number]
                study.add_trial(optuna.trial.create_trial(
                    params={p.name: float(v) for p, v in zip(fit.free, draws[d])}, distributions=distributions,
                    value=loglik, user_attrs={"stage": "posterior", "round": round_, "draw": d,
                                              **_attrs(parts, simulated)}))
            _show(bar, study)
