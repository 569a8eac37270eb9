"""Sensitivity analysis: which uncertain assumptions drive the outcomes, and when does X beat Y?

A scenario's `sensitivity:` section names the uncertain settings and their ranges:

    sensitivity:
      method: morris            # morris (screening, cheap) | sobol (variance shares, costly)
      samples: 8                # morris: trajectories; sobol: base sample N (a power of 2)
      replications: 2           # paired runs per arm at each sample point
      outputs: [retention, npv] # KPIs, analysed for X, for Y and for the paired difference X - Y
      compare: [recover, ignore]  # X and Y (default: the first other arm and the baseline)
      winner_by: npv            # the KPI that decides who wins at a point
      parameters:               # setting: [low, high]
        market.complaint_probability: [0.1, 0.6]
        firms.Telco.failure_rate: [0.01, 0.06]
        arms.recover.policies[0].effort: [0.3, 1.0]

Settings are written as `--set` paths (`market.x`, `firms[0].x`, `compare.arms[1].policies[0].x`)
or with names (`firms.NAME.x`, `arms.NAME.policies[k].x`). A market or firm setting changes
every arm alike; an arm's policy setting changes that arm only. Integer settings are rounded.

Every sample point runs X and Y (`replications` times each) with the seeds of the scenario's
replications, the same at every point and in both arms (common random numbers): the paired
difference is sharp, and a setting that cannot change the outcome gets an index of exactly 0.

    from sim.experiments.sensitivity import sensitivity
    result = sensitivity(load_scenario("scenarios/sensitivity-recovery.yaml"))
    result.indices, result.shares, result.deciders, result.points

`grapevine sensitivity SCENARIO` does the same in a run folder: each run is saved as it
arrives (so `--resume` finishes an interrupted analysis), then the tables are written.
The figures are drawn by `sim.outputs.sensitivity_plots`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..errors import InputError, explain
from ..formatting import number, text_table
from ..scenario import Scenario, Sensitivity, get_at
from . import stats
from .design import Experiment
from .folder import RunFolder, kept_or_temporary

NUM_LEVELS = 4  # Morris grid levels
TABLES = ("points.csv", "indices.csv", "winners.csv", "deciders.csv")


# --- the design ----------------------------------------------------------------------------
@dataclass
class Design:
    """The sensitivity section read against its experiment: parameters, bounds, the two compared."""

    experiment: Experiment
    spec: Sensitivity
    bounds: list[list[float]]
    integer: list[bool]
    x: str  # the two compared: arms, or firms head to head
    y: str
    X: np.ndarray  # the SALib sample, one row per point (before rounding integer settings)

    @property
    def scenario(self) -> Scenario:
        return self.experiment.scenario

    @property
    def names(self) -> list[str]:
        return self.experiment.settings

    @property
    def problem(self) -> dict:
        return {"num_vars": len(self.names), "names": list(self.names), "bounds": [list(b) for b in self.bounds]}

    def outputs(self) -> list[str]:
        """Output columns: per KPI, X, Y and the paired difference X - Y."""
        return [column for kpi in self.spec.outputs for column in output_columns(kpi, self.x, self.y)]


def output_columns(kpi: str, x: str, y: str) -> tuple[str, str, str]:
    return f"{kpi}[{x}]", f"{kpi}[{y}]", f"{kpi}[{x} - {y}]"


def experiment(scenario: Scenario, spec: Sensitivity | dict | None = None, source: str = "scenario") -> Experiment:
    """The runs of the analysis: X and Y at every sample point (bad input stops here)."""
    spec = _spec(scenario, spec, source)
    groups = scenario.groups
    x, y = _compared(scenario, spec, source)
    names = list(spec.parameters)
    bounds = [[float(low), float(high)] for low, high in spec.parameters.values()]
    # the ends of every range first: a bad bound is reported before anything is sampled
    ends = Experiment.varying("sensitivity", scenario, names, [tuple(b[0] for b in bounds), tuple(b[1] for b in bounds)],
                              source=source, section="sensitivity.parameters: ", check=_numeric)
    integer = [type(ends.base_value(path)) is int for path in ends.paths]
    X = sample(spec, names, bounds, scenario.seed)
    points = [tuple(_value(v, is_int) for v, is_int in zip(row, integer)) for row in X]
    runs = groups.runs if groups.head_to_head else (x, y)
    return Experiment.varying("sensitivity", scenario, names, points, source=source,
                              section="sensitivity.parameters: ", runs=tuple(runs), replications=spec.replications,
                              extra={"sensitivity": spec.model_dump(mode="json"), "compared": [x, y],
                                     "integer": integer, "X": X.tolist()})


def _numeric(name: str, path: tuple, data: dict) -> None:
    node = get_at(data, path)
    if isinstance(node, bool) or not (node is None or isinstance(node, (int, float))):
        raise InputError(f"{name}: is {node!r}, not a number; only numeric settings can be varied")


def _spec(scenario: Scenario, spec, source: str) -> Sensitivity:
    spec = scenario.sensitivity if spec is None else spec
    if spec is None:
        raise InputError(f"{source}: no sensitivity section: add `sensitivity: {{parameters: {{setting: "
                         f"[low, high], ...}}}}` (see scenarios/sensitivity-recovery.yaml)")
    if isinstance(spec, dict):
        try:
            spec = Sensitivity.model_validate(spec)
        except ValidationError as error:  # one line per problem, each naming its field
            raise InputError([f"{source}: {line}" for line in explain(error, ("sensitivity",))]) from None
    return spec


def _compared(scenario: Scenario, spec: Sensitivity, source: str) -> tuple[str, str]:
    groups = scenario.groups
    if spec.compare is None:
        return groups.others()[0], groups.baseline
    x, y = spec.compare
    for name in (x, y):
        if name not in groups.names:
            raise InputError(f"{source}: sensitivity.compare: {name!r} is not an {groups.word}: choose from "
                             f"{', '.join(groups.names)}")
    if x == y:
        raise InputError(f"{source}: sensitivity.compare: give two different {groups.word}s")
    return x, y


def _value(v: float, is_int: bool):
    return int(round(v)) if is_int else float(v)


def design_of(experiment: Experiment) -> Design:
    extra = experiment.extra
    spec = Sensitivity.model_validate(extra["sensitivity"])
    bounds = [[float(low), float(high)] for low, high in spec.parameters.values()]
    x, y = extra["compared"]
    return Design(experiment, spec, bounds, list(extra["integer"]), x, y, np.array(extra["X"], float))


def sample(spec: Sensitivity, names: list[str], bounds: list[list[float]], seed: int) -> np.ndarray:
    """The SALib design: Morris trajectories or a Saltelli/Sobol sample (one row per point)."""
    problem = {"num_vars": len(names), "names": list(names), "bounds": bounds}
    seed = seed % 2**32
    if spec.method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, spec.samples, num_levels=NUM_LEVELS, seed=seed)
    from SALib.sample import sobol

    with warnings.catch_warnings():  # SALib warns when N is not a power of 2; the spec says so
        warnings.simplefilter("ignore")
        return sobol.sample(problem, spec.samples, calc_second_order=False, seed=seed)


def resume(path: Path) -> RunFolder:
    return RunFolder.resume(path, "sensitivity", Experiment.from_description)


# --- from the saved runs to the points table ---------------------------------------------------
def points_table(design: Design, folder: RunFolder) -> pd.DataFrame:
    """One row per sample point: the values, each output for X, Y and X - Y, and the winner."""
    experiment = design.experiment
    kpis = sorted(set(design.spec.outputs) | {design.spec.winner_by}, key=list(stats.KPIS).index)
    groups = design.scenario.groups
    found: dict[tuple, float] = {}
    for task in experiment.tasks():
        summary = stats.summarize(folder.load_run(task), experiment.point_scenario(task.point))
        for _, line in groups.rows(summary).iterrows():
            for kpi in kpis:
                found[(task.point, line["group"], task.replication, kpi)] = float(line[kpi])
    reps = range(experiment.reps)
    rows = []
    for i, values in enumerate(experiment.points):
        out = {"point": i, **dict(zip(design.names, values))}
        for kpi in kpis:
            x = np.array([found[(i, design.x, r, kpi)] for r in reps])
            y = np.array([found[(i, design.y, r, kpi)] for r in reps])
            cx, cy, cd = output_columns(kpi, design.x, design.y)
            out[cx], out[cy], out[cd] = x.mean(), y.mean(), (x - y).mean()
            if kpi == design.spec.winner_by:
                _, low, high = stats.interval(x - y)
                out["diff_low"], out["diff_high"] = low, high
        diff = out[output_columns(design.spec.winner_by, design.x, design.y)[2]]
        out["winner"] = design.x if diff > 0 else design.y if diff < 0 else "tie"
        out["clear"] = bool(not math.isnan(out["diff_low"]) and (out["diff_low"] > 0 or out["diff_high"] < 0))
        rows.append(out)
    return pd.DataFrame(rows)


# --- indices ---------------------------------------------------------------------------------
def indices(design: Design, X: np.ndarray, points: pd.DataFrame) -> pd.DataFrame:
    """One row per (output, parameter): Morris mu*, sigma (or Sobol S1, ST) with 95% intervals.
    `importance` is mu* (Morris) or ST (Sobol), the column the plots and rankings use."""
    rows = []
    seed = design.scenario.seed % 2**32
    for output in design.outputs():
        Y = points[output].to_numpy(float)
        constant = np.ptp(Y) == 0
        if design.spec.method == "morris":
            from SALib.analyze import morris

            si = morris.analyze(design.problem, X, Y, num_levels=NUM_LEVELS, seed=seed)
            for j, name in enumerate(design.names):
                rows.append({"output": output, "parameter": name, "mu": float(si["mu"][j]),
                             "mu_star": float(si["mu_star"][j]), "mu_star_conf": float(si["mu_star_conf"][j]),
                             "sigma": float(si["sigma"][j]), "importance": float(si["mu_star"][j])})
        else:
            from SALib.analyze import sobol

            if constant:
                si = {key: np.zeros(len(design.names)) for key in ("S1", "S1_conf", "ST", "ST_conf")}
            else:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    si = sobol.analyze(design.problem, Y, calc_second_order=False, seed=seed)
            for j, name in enumerate(design.names):
                rows.append({"output": output, "parameter": name, "S1": float(si["S1"][j]),
                             "S1_conf": float(si["S1_conf"][j]), "ST": float(si["ST"][j]),
                             "ST_conf": float(si["ST_conf"][j]), "importance": float(si["ST"][j])})
    table = pd.DataFrame(rows)
    table["rank"] = table.groupby("output")["importance"].rank(ascending=False, method="min").astype(int)
    return table


# --- when does X beat Y? ------------------------------------------------------------------------
def winner_shares(design: Design, points: pd.DataFrame) -> pd.DataFrame:
    """The share of the sampled space where each of X and Y wins (sums to 1), and how often clearly."""
    order = [design.x, design.y] + (["tie"] if (points["winner"] == "tie").any() else [])
    n = len(points)
    rows = []
    for who in order:
        mine = points["winner"] == who
        rows.append({"winner": who, "points": int(mine.sum()), "share": mine.sum() / n,
                     "clear_points": int((mine & points["clear"]).sum()),
                     "clear_share": (mine & points["clear"]).sum() / n})
    return pd.DataFrame(rows)


def deciders(design: Design, points: pd.DataFrame) -> pd.DataFrame:
    """Which parameters decide the winner (scenario discovery, one parameter at a time).

    For each parameter, the region `parameter > t` (or `<= t`) that best tells the points X
    wins from the others (the threshold with the highest balanced accuracy, fair when one
    side wins most of the space), described as in PRIM: its `density` (the share of points
    in the region that X wins) and its `coverage` (the share of X's wins inside it). Also the
    rank correlation of the parameter with the paired difference, and the mean value of the
    parameter where X and where Y wins. Sorted by balanced accuracy, most decisive first."""
    diff = points[output_columns(design.spec.winner_by, design.x, design.y)[2]].to_numpy(float)
    x_wins = (points["winner"] == design.x).to_numpy()
    rows = []
    for name in design.names:
        v = points[name].to_numpy(float)
        threshold, side, balanced = _stump(v, x_wins)
        inside = (v > threshold if side == "above" else v <= threshold) if side else np.zeros(len(v), bool)
        rows.append({
            "parameter": name, "balanced_accuracy": balanced,
            "rule": (f"{name} {'>' if side == 'above' else '<='} {threshold:.4g}" if side else ""),
            "threshold": threshold, "x_wins": side,
            "density": float(x_wins[inside].mean()) if inside.any() else math.nan,
            "coverage": float(inside[x_wins].mean()) if x_wins.any() else math.nan,
            "spearman": _spearman(v, diff),
            f"mean_where_{design.x}_wins": float(v[x_wins].mean()) if x_wins.any() else math.nan,
            f"mean_where_{design.y}_wins": float(v[~x_wins].mean()) if (~x_wins).any() else math.nan,
        })
    table = pd.DataFrame(rows)
    table["abs_spearman"] = table["spearman"].abs().fillna(0.0)
    table = table.sort_values(["balanced_accuracy", "abs_spearman"], ascending=False, kind="stable")
    return table.drop(columns="abs_spearman").reset_index(drop=True)


def _stump(v: np.ndarray, y: np.ndarray) -> tuple[float, str, float]:
    """The threshold t and side ('above': y where v > t; 'below': y where v <= t) with the
    highest balanced accuracy (mean of the hit rates among y and among not-y); 0.5 is chance."""
    y = np.asarray(y, bool)
    best = (math.nan, "", 0.5)
    if y.all() or not y.any():
        return best
    levels = np.unique(v)
    for low, high in zip(levels[:-1], levels[1:]):
        t = (low + high) / 2
        above = v > t
        for side, region in (("above", above), ("below", ~above)):
            balanced = 0.5 * (region[y].mean() + (~region[~y]).mean())
            if balanced > best[2] + 1e-12:
                best = (float(t), side, float(balanced))
    return best


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    if np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


def verdict(design: Design, shares: pd.DataFrame, decide: pd.DataFrame) -> list[str]:
    """Plain sentences: who wins where, and what decides it."""
    kpi, x, y = design.spec.winner_by, design.x, design.y
    s = shares.set_index("winner")
    lines = [f"{x} beats {y} on {kpi} in {s.loc[x, 'share']:.0%} of the sampled space "
             f"({s.loc[x, 'clear_share']:.0%} clearly, with a 95% interval above zero); {y} wins in "
             f"{s.loc[y, 'share']:.0%} ({s.loc[y, 'clear_share']:.0%} clearly)."]
    if len(decide) and decide["rule"].iloc[0] and decide["balanced_accuracy"].iloc[0] >= 0.6:
        top = decide.iloc[0]
        lines.append(f"{x} wins at {top['density']:.0%} of the points where {top['rule']} (against "
                     f"{s.loc[x, 'share']:.0%} overall); that region holds {top['coverage']:.0%} of {x}'s wins "
                     f"(balanced accuracy {top['balanced_accuracy']:.2f}, 0.5 = chance).")
    elif s.loc[x, "share"] in (0.0, 1.0):
        lines.append(f"{'No' if s.loc[x, 'share'] == 0 else 'Every'} sampled point is won by {x}: nothing to separate.")
    else:
        lines.append("No single parameter separates the winners much better than chance (balanced accuracy < 0.6).")
    rho = decide.dropna(subset=["spearman"]).sort_values("spearman")
    if len(rho):
        up, down = rho.iloc[-1], rho.iloc[0]
        parts = []
        if up["spearman"] > 0:
            parts.append(f"rises most with {up['parameter']} (rank correlation {up['spearman']:+.2f})")
        if down["spearman"] < 0:
            parts.append(f"falls most with {down['parameter']} ({down['spearman']:+.2f})")
        if parts:
            lines.append(f"The paired {kpi} difference {x} - {y} " + " and ".join(parts) + ".")
    return lines


def indices_text(design: Design, table: pd.DataFrame, top: int | None = None) -> str:
    """The indices as a text table, per output, most important first."""
    morris = design.spec.method == "morris"
    headers = ["output", "parameter", *(["mu*", "95% +-", "sigma", "mu"] if morris else ["ST", "95% +-", "S1", "95% +-"])]
    rows = []
    for output in dict.fromkeys(table["output"]):
        part = table[table["output"] == output].sort_values("importance", ascending=False)
        if top:
            part = part.head(top)
        for _, r in part.iterrows():
            values = ((r["mu_star"], r["mu_star_conf"], r["sigma"], r["mu"]) if morris
                      else (r["ST"], r["ST_conf"], r["S1"], r["S1_conf"]))
            rows.append([output, r["parameter"], *(number(v) for v in values)])
    return text_table(headers, rows, left=2)


# --- everything together ------------------------------------------------------------------------
@dataclass
class SensitivityResult:
    design: Design
    points: pd.DataFrame
    indices: pd.DataFrame
    shares: pd.DataFrame
    deciders: pd.DataFrame
    path: Path | None = None

    @property
    def X(self) -> np.ndarray:
        return self.design.X

    def verdict(self) -> list[str]:
        return verdict(self.design, self.shares, self.deciders)

    def table(self, top: int | None = None) -> str:
        return indices_text(self.design, self.indices, top)


def analyse(folder: RunFolder) -> SensitivityResult:
    """The analysis of a finished sensitivity folder; writes its tables there."""
    missing = folder.missing()
    if missing:
        raise RuntimeError(f"{len(missing)} runs are not saved yet (first {missing[0]})")
    design = design_of(folder.plan)
    points = points_table(design, folder)
    shares = winner_shares(design, points)
    result = SensitivityResult(design, points, indices(design, design.X, points), shares,
                               deciders(design, points), folder.path)
    for name, frame in zip(TABLES, (result.points, result.indices, result.shares, result.deciders)):
        folder.write(name, frame)
    folder.finish(verdict=result.verdict())
    return result


def sensitivity(scenario: Scenario, spec: Sensitivity | dict | None = None, workers: int = 1,
                progress: bool = False, source: str = "scenario", out: Path | None = None) -> SensitivityResult:
    """Sample, run and analyse in one call; into `out` (a run folder), or a temporary folder that is
    removed afterwards (the result keeps every table)."""
    from .executors import make_executor
    from .runner import execute

    from . import preflight

    plan = experiment(scenario, spec, source)
    with kept_or_temporary(out, "sensitivity") as where:
        preflight.check(plan, where, workers=min(workers, plan.total))
        folder = RunFolder.create(plan, where, source=source)
        execute(folder, make_executor(min(workers, plan.total)), progress=progress)
        result = analyse(folder)
    result.path = folder.path if out is not None else None
    return result
