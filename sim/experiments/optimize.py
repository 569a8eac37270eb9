"""The best policy mix for a budget (`grapevine optimize`).

    search = design(load_scenario("scenarios/budget-mix.yaml"))
    folder = RunFolder.create(search, prefix="optimize-")
    optimize(folder, executors.make_executor(2))      # the trials, saved as they finish
    outcome = finalize(folder)                         # trials.csv, pareto.csv, recommended.yaml, report

A trial is a mix: the compared firm's baseline with the levers at the trial's values, written as
an arm (`mix_arm`). Each mix runs `optimize.replications` times on the futures every mix shares:
replication r has the same market seed in every mix (common random numbers), and, when asked, the
same draw of the uncertain assumptions (the calibrated posterior, or a Latin hypercube over the
plausible ranges of the assumptions recorded in `sim.parameters.uncertain()`). Two mixes differ
only by their levers, so the comparison is paired, as EMA Workbench scores levers over one fixed
set of futures. A mix's score over the futures is their mean or their 10th percentile.

The runs go through the project's runner and executors and are saved as they arrive
(`runs/pNNNNN/mix__rK.parquet`: one row, the firm's NPV, policy cost and customers kept). The
baseline runs once, on the same futures (`runs/<baseline>__rK.parquet`).

Every trial is recorded in an Optuna study in the folder's SQLite file `trials.db` (the store
calibration uses). One objective within a budget: TPE with the budget as a constraint
(`constraints_func`: a trial is feasible when its mean policy cost a month minus the budget is
at most 0). With `multi_objective`: NSGA-II on the objective against the policy cost. The sampler
is seeded from the optimisation seed and the number of trials so far, so an interrupted search
resumed with `--resume` proposes what an uninterrupted one would, and the number of workers
changes nothing.
"""

from __future__ import annotations

import copy
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

from ..errors import InputError
from ..parameters import uncertain
from ..policies import Policy
from ..scenario import Scenario, validate
from ..scenario.optimize import switch_choices
from .calibration import STUDY, _open_study, _optuna
from .design import Experiment, tasks_of
from .folder import RunFolder
from .runner import execute, release

STUDY_NAME = "optimize"
MIX = "mix"  # the arm name of every trial's mix
# assumptions kept at their defaults in the plausible futures: the network's structure and the
# thresholds that define the moods (drawn apart, they could cross)
FIXED_IN_FUTURES = {"initial_customer_share", "warm_up_months", "mean_degree", "rewiring", "community_size",
                    "between_community_share", "strong_tie_share", "delighted_above", "satisfied_above",
                    "dissatisfied_below", "loyal_above", "temperament_mean", "quality_norm", "negative_reach_min",
                    "negative_reach_max", "relay_reach", "referral_reach"}


# --- levers --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FreeLever:
    """A lever: a setting of a policy (or a policy's switch) and the values it may take."""

    name: str
    kind: str
    setting: str | None  # None: the policy's switch
    low: float | None = None
    high: float | None = None
    integer: bool = False
    log: bool = False
    choices: tuple = ()

    def distribution(self):
        optuna = _optuna()
        if self.choices:
            return optuna.distributions.CategoricalDistribution(list(self.choices))
        if self.integer:
            return optuna.distributions.IntDistribution(int(math.ceil(self.low)), int(math.floor(self.high)),
                                                        log=self.log)
        return optuna.distributions.FloatDistribution(self.low, self.high, log=self.log)

    @property
    def leanest(self):
        """The value of the leanest mix: off, the low end, the first choice."""
        if self.setting is None:
            return "off" if "off" in self.choices else self.choices[0]
        if self.choices:
            return self.choices[0]
        return int(math.ceil(self.low)) if self.integer else self.low


def levers_of(scenario: Scenario) -> list[FreeLever]:
    found = []
    for name, spec in scenario.optimize.levers.items():
        kind, _, setting = name.partition(".")
        if not setting:
            found.append(FreeLever(name, kind, None, choices=switch_choices(spec)))
            continue
        annotation = Policy.registry[kind].model_fields[setting].annotation
        if spec.choices is not None:
            found.append(FreeLever(name, kind, setting, choices=tuple(spec.choices)))
        else:
            found.append(FreeLever(name, kind, setting, spec.low, spec.high, spec.integer or annotation is int,
                                   spec.log))
    return found


def mix_arm(scenario: Scenario, levers: list[FreeLever], values: dict) -> dict:
    """The mix as an arm of `scenario`: the baseline firm with the levers' values.

    A policy the baseline runs gets its settings by `set` (or is removed when switched off); one
    it does not run is added with its settings when on."""
    focal = next(f for f in scenario.firms if f.name == scenario.groups.focal_firm)
    running = {type(p).__name__ for p in focal.policies}
    arm: dict = {"name": MIX, "add": [], "remove": [], "set": {}}
    kinds = list(dict.fromkeys(lever.kind for lever in levers))
    for kind in kinds:
        on = all(values[lever.name] == "on" for lever in levers if lever.kind == kind and lever.setting is None)
        settings = {lever.setting: _plain(values[lever.name]) for lever in levers
                    if lever.kind == kind and lever.setting is not None}
        if kind in running:
            if not on:
                arm["remove"].append(kind)
            else:
                arm["set"].update({f"{kind}.{name}": value for name, value in settings.items()})
        elif on:
            arm["add"].append({"kind": kind, **settings})
    arm = {key: value for key, value in arm.items() if value or key == "name"}
    if len(arm) == 1:  # the mix is the baseline; an arm must change something: it sets what it has
        arm["set"] = {"firm.quality": focal.quality}
    return arm


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


# --- futures --------------------------------------------------------------------------------------
def plausible_futures(scenario: Scenario, count: int, seed: int, kinds: set[str]) -> dict:
    """`count` futures: the market's assumptions and those of the policies `kinds` drawn from their
    plausible ranges by a Latin hypercube (one draw per replication, the same for every mix)."""
    from scipy.stats import qmc

    rows = [row for row in uncertain() if row.low is not None and row.low < row.high and (
        (row.owner == "market" and row.name not in FIXED_IN_FUTURES) or row.owner in kinds)]
    unit = qmc.LatinHypercube(d=len(rows), seed=np.random.default_rng([seed, 0xF07E])).random(count)
    draws = [[_typed_value(row, row.low + u * (row.high - row.low)) for row, u in zip(rows, point)] for point in unit]
    return {"parameters": [row.path for row in rows], "draws": draws}


def _typed_value(row, value: float):
    return int(round(value)) if isinstance(row.default, int) and not isinstance(row.default, bool) else float(value)


def with_future(futures: dict | None, replication: int, firms: list[dict], market: dict, focal: int):
    """The run's firms and market in future r (unchanged without futures): a market assumption
    everywhere, a policy's in every policy of that kind the compared firm runs in this run."""
    if not futures:
        return firms, market
    firms, market = copy.deepcopy(list(firms)), dict(market)
    for path, value in zip(futures["parameters"], futures["draws"][replication % len(futures["draws"])]):
        owner, _, setting = path.partition(".")
        if owner == "market":
            market[setting] = value
        elif owner == "firm":
            firms[focal][setting] = value
        else:
            for policy in firms[focal]["policies"]:
                if policy["kind"] == owner:
                    policy[setting] = value
    return firms, market


# --- the plan -------------------------------------------------------------------------------------
@dataclass
class Search:
    """What an optimisation runs: the mixes (added as they are proposed) x the futures, and the
    baseline on the same futures. `batch` holds the mixes being computed now."""

    experiment: Experiment  # the scenario to run (no optimize section), its baseline run, the replications
    original: Scenario
    levers: list[FreeLever]
    futures: dict | None
    mixes: list[dict] = field(default_factory=list)  # trial number -> lever values
    batch: list[int] = field(default_factory=list)
    finished: int = 0  # mixes scored in trials.db when the plan was made
    kind: str = "optimize"
    _scenario: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.experiment.name

    @property
    def settings(self):
        return self.original.optimize

    @property
    def reps(self) -> int:
        return self.experiment.reps

    @property
    def seed(self) -> int:
        return self.settings.seed if self.settings.seed is not None else self.original.seed

    @property
    def baseline(self) -> str:
        return self.experiment.scenario.groups.baseline

    @property
    def focal(self) -> int:
        names = [f.name for f in self.experiment.scenario.firms]
        return names.index(self.experiment.scenario.groups.focal_firm)

    @property
    def total(self) -> int:
        return (len(self.batch) + 1) * self.reps

    def mix_scenario(self, number: int) -> Scenario:
        """The scenario whose arms are the baseline and trial `number`'s mix (the last one is kept)."""
        if number not in self._scenario:
            self._scenario.clear()
            data = self.experiment.scenario.resolved()
            data["compare"]["arms"] = [{"name": self.baseline}, mix_arm(self.experiment.scenario, self.levers,
                                                                         self.mixes[number])]
            self._scenario[number] = validate(data, f"optimize: trial {number}")
        return self._scenario[number]

    def run_tasks(self, number: int | None) -> list:
        """The runs of trial `number` (None: the baseline), each in its replication's future."""
        scenario = self.experiment.scenario if number is None else self.mix_scenario(number)
        run = self.baseline if number is None else MIX
        tasks = tasks_of(scenario, number, (run,), self.reps)
        return [_in_future(task, self.futures, self.focal) for task in tasks]

    def tasks(self):
        yield from self.run_tasks(None)
        for number in self.batch:
            yield from self.run_tasks(number)

    def possible_tasks(self):
        """Every run of the mixes so far and the baseline (a resume keeps the saved runs of these)."""
        yield from self.run_tasks(None)
        for number in range(len(self.mixes)):
            yield from self.run_tasks(number)

    def sizing(self) -> tuple[Experiment, int]:
        """What preflight weighs before anything is written: the baseline's runs (a mix changes
        policies, not the market's size) and the runs still to do."""
        return self.experiment, (max(self.settings.trials - self.finished, 0) + 1) * self.reps

    def describe(self) -> dict:
        return {**self.experiment.describe(), "points": []}  # the mixes are in trials.db

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.describe(), sort_keys=True).encode()).hexdigest()

    def seeds(self) -> dict:
        return self.experiment.seeds()

    def add_mix(self, number: int, values: dict) -> None:
        if number != len(self.mixes):
            raise RuntimeError(f"trial {number} does not follow trial {len(self.mixes) - 1}: trials.db and the plan "
                               f"disagree")
        self.mixes.append({lever.name: _plain(values[lever.name]) for lever in self.levers})


def _in_future(task, futures, focal):
    if not futures:
        return task
    from dataclasses import replace

    firms, market = with_future(futures, task.replication, list(task.firms), task.market, focal)
    return replace(task, firms=tuple(firms), market=market)


def design(scenario: Scenario, source: str = "scenario") -> Search:
    """Check the optimize section against the model and build the plan; bad input stops here
    (InputError naming the field), before anything is run or written."""
    if scenario.optimize is None:
        raise InputError(f"{source}: no optimize section; see docs/OPTIMIZE.md or scenarios/budget-mix.yaml")
    section = scenario.optimize
    original = _full_data(scenario)
    levers = levers_of(scenario)
    data = scenario.resolved()
    if section.robust_against != "posterior":
        data.pop("posterior", None)
    run_scenario = validate(data, source)
    kinds = {lever.kind for lever in levers} | {type(p).__name__ for f in scenario.firms for p in f.policies}
    seed = section.seed if section.seed is not None else scenario.seed
    futures = plausible_futures(scenario, section.replications, seed, kinds) \
        if section.robust_against == "plausible" else None
    experiment = Experiment("optimize", run_scenario, runs=(run_scenario.groups.baseline,),
                            replications=section.replications, source=source,
                            extra={"original": original, "futures": futures})
    search = Search(experiment, scenario, levers, futures)
    # every lever's every end, alone, must make a valid arm (the clearest message, before anything runs)
    problems = []
    for lever in levers:
        ends = lever.choices or (lever.low, lever.high)
        for end in ends:
            values = {other.name: other.leanest for other in levers}
            values[lever.name] = int(round(end)) if lever.integer and not lever.choices else end
            try:
                arm = mix_arm(scenario, levers, values)
                trial = copy.deepcopy(data)
                trial["compare"]["arms"] = [{"name": run_scenario.groups.baseline}, arm]
                validate(trial, source)
            except InputError as error:
                detail = error.problems[0].split(": ", 1)[-1]
                problems.append(f"{source}: optimize.levers.{lever.name} = {end!r} is not allowed: {detail}")
    if futures:  # every future must be a valid market
        for r in range(section.replications):
            firms, market = with_future(futures, r, *run_scenario.run_settings(run_scenario.groups.baseline),
                                        search.focal)
            trial = copy.deepcopy(data)
            trial["market"].update(market)
            try:
                validate(trial, source)
            except InputError as error:
                problems.append(f"{source}: optimize.robust_against = plausible: future {r} is not a valid market "
                                f"({error.problems[0].split(': ', 1)[-1]})")
                break
    if problems:
        raise InputError(list(dict.fromkeys(problems))[:20])
    return search


def _full_data(scenario: Scenario) -> dict:
    """The scenario as data with its optimize section (which runs leave out)."""
    data = scenario.resolved()
    data["optimize"] = scenario.optimize.model_dump(mode="json", exclude_none=True)
    return data


def from_description(body: dict, source: str) -> Search:
    """The plan again from a manifest (for `--resume`; `source` is the folder's manifest.json), with
    the mixes so far read from the folder's trials.db: the saved runs of these are kept."""
    search = design(Scenario.model_validate(body["extra"]["original"]), source)  # (the folder checks the hash)
    store = Path(source).parent / STUDY
    if store.is_file():
        trials = _open_study(store, STUDY_NAME, _directions(search)).get_trials(deepcopy=False)
        for trial in trials:
            search.add_mix(trial.number, trial.params)
        search.finished = sum("score" in t.user_attrs for t in trials)
    return search


def resume(path: Path) -> RunFolder:
    return RunFolder.resume(path, "optimize", from_description)


def open_study(folder: RunFolder):
    """The search's Optuna study in the folder's SQLite file trials.db (created on first use)."""
    return _open_study(folder.path / STUDY, STUDY_NAME, _directions(folder.plan))


# --- one run: what a mix achieved for the firm ----------------------------------------------------
OUTCOMES = ("npv", "policy_cost", "customers_kept", "retention")


def measure(focal: int, task) -> pd.DataFrame:
    """Run one market to the horizon; one row: the firm's NPV, its policies' mean cost a month
    (every cost but the cost to serve), its month-0 customers still with it, and their share."""
    from ..market import Market

    market = Market(firms=[dict(f) for f in task.firms], seed=task.seed, **task.market)
    market.run()
    monthly = market.monthly()
    release(market)
    mine = monthly[(monthly["firm"] == monthly["firm"].unique()[focal]) & (monthly["month"] > 0)]
    last = mine.iloc[-1]
    initial = float(market.initial_customers[focal])
    return pd.DataFrame({"point": [task.point if task.point is not None else -1], "arm": [task.arm],
                         "replication": [task.replication], "npv": [float(last["npv"])],
                         "policy_cost": [float((mine["cost"] - mine["cost_service"]).mean())],
                         "customers_kept": [float(last["retained"]) * initial],
                         "retention": [100.0 * float(last["retained"])]})


def load_runs(folder: RunFolder, number: int | None) -> pd.DataFrame:
    return pd.concat([folder.load_run(task) for task in folder.plan.run_tasks(number)], ignore_index=True)


def robust(values: np.ndarray, how: str) -> float:
    """A mix's score over the futures: their mean, or their 10th percentile."""
    values = np.asarray(values, float)
    return float(values.mean()) if how == "mean" else float(np.quantile(values, 0.1))


def score(search: Search, runs: pd.DataFrame) -> dict:
    """What a trial's runs say: the robust score of the objective, the mean outcomes, the constraint."""
    objective = runs[search.settings.objective].to_numpy()
    found = {"score": robust(objective, search.settings.robust_score),
             **{name: float(runs[name].mean()) for name in OUTCOMES}}
    budget = search.settings.budget
    found["constraint"] = found["policy_cost"] - budget if budget is not None else 0.0
    return found


# --- the search -----------------------------------------------------------------------------------
def _directions(search: Search) -> tuple[str, ...]:
    return ("maximize", "minimize") if search.settings.multi_objective else ("maximize",)


def _constraint(trial) -> tuple[float]:
    return (trial.user_attrs["constraint"],)


def _sampler(search: Search, trials_so_far: int):
    """Seeded by the optimisation seed and the number of trials so far: a resumed search proposes
    what an uninterrupted one would."""
    optuna = _optuna()
    seed = int(np.random.SeedSequence([search.seed, 0x0971, trials_so_far]).generate_state(1)[0])
    constraints = _constraint if search.settings.budget is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # multivariate TPE and constraints are marked experimental
        if search.settings.multi_objective:
            return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, search.settings.batch),
                                                 constraints_func=constraints)
        startup = max(2, min(search.settings.trials // 3, max(8, 3 * len(search.levers))))
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=startup,
                                          constraints_func=constraints)


def _tell(study, trial, found: dict, multi: bool) -> None:
    for key, value in found.items():
        trial.set_user_attr(key, value)
    study.tell(trial, [found["score"], found["policy_cost"]] if multi else found["score"])


def _evaluate(folder: RunFolder, executor, numbers: list[int]) -> dict[int, dict]:
    search = folder.plan
    search.batch = list(numbers)
    execute(folder, executor, progress=False, fn=partial(measure, search.focal), close=False)
    return {number: score(search, load_runs(folder, number)) for number in numbers}


def optimize(folder: RunFolder, executor, progress: bool = True) -> None:
    """Run the search of `folder` to the end (or on from where it stopped). Closes the executor."""
    optuna = _optuna()
    search = folder.plan
    multi = search.settings.multi_objective
    bar = _bar(search, progress)
    try:
        study = open_study(folder)
        distributions = {lever.name: lever.distribution() for lever in search.levers}
        # rebuild the mixes from trials.db; finish what an interrupted search left running
        search.mixes = []
        trials = study.get_trials(deepcopy=False)
        for trial in trials:
            search.add_mix(trial.number, trial.params)
        running = [t for t in trials if t.state == optuna.trial.TrialState.RUNNING]
        if running:
            found = _evaluate(folder, executor, [t.number for t in running])
            for frozen in running:
                _tell(study, optuna.trial.Trial(study, frozen._trial_id), found[frozen.number], multi)
        _show(bar, study, search)
        while len(study.get_trials(deepcopy=False)) < search.settings.trials:
            trials = study.get_trials(deepcopy=False)
            if not trials and search.settings.budget is not None:  # first the leanest mix: can the budget be met?
                study.enqueue_trial({lever.name: lever.leanest for lever in search.levers})
            study.sampler = _sampler(search, len(trials))
            asked = []
            for _ in range(min(search.settings.batch, search.settings.trials - len(trials))):
                trial = study.ask(distributions)
                search.add_mix(trial.number, trial.params)
                asked.append(trial)
            found = _evaluate(folder, executor, [t.number for t in asked])
            for trial in asked:
                _tell(study, trial, found[trial.number], multi)
            _check_budget(study, search)
            _show(bar, study, search)
    finally:
        executor.close()
        if bar is not None:
            bar.close()


def _check_budget(study, search: Search) -> None:
    """A budget no mix can meet is bad input: the leanest mix (trial 0) costs more."""
    if search.settings.budget is None:
        return
    done = [t for t in study.get_trials(deepcopy=False) if "constraint" in t.user_attrs]
    if done and done[0].number == 0 and done[0].user_attrs["constraint"] > 0 and \
            all(t.user_attrs["constraint"] > 0 for t in done):
        cheapest = min(t.user_attrs["policy_cost"] for t in done)
        raise InputError(f"optimize.budget = {search.settings.budget:g} is not allowed: no mix can meet it; the "
                         f"leanest mix (every switch off, every lever at its low end) costs "
                         f"{done[0].user_attrs['policy_cost']:,.0f} a month and the cheapest tried "
                         f"{cheapest:,.0f}; raise the budget or give the levers cheaper ends")


def _bar(search: Search, progress: bool):
    if not progress:
        return None
    from tqdm import tqdm

    tqdm.monitor_interval = 0
    return tqdm(total=search.settings.trials, unit="mix", desc=f"{search.name} optimize", file=sys.stderr,
                dynamic_ncols=True)


def _show(bar, study, search: Search) -> None:
    if bar is None:
        return
    done = [t for t in study.get_trials(deepcopy=False) if "score" in t.user_attrs]
    bar.n = len(done)
    feasible = [t.user_attrs["score"] for t in done if t.user_attrs["constraint"] <= 0]
    if feasible:
        bar.set_postfix_str(f"best {search.settings.objective} within budget {max(feasible):,.0f}")
    bar.refresh()
