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

    from sim.analysis import sensitivity
    result = sensitivity(load_scenario("scenarios/sensitivity-recovery.yaml"))
    result.indices, result.shares, result.deciders, result.points

`grapevine sensitivity SCENARIO` does the same and writes a run folder (see `write`).
"""

from __future__ import annotations

import copy
import json
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import experiment
from .results import atomic_text, atomic_write, code_hash, git_state, now, versions
from .scenario import Scenario, ScenarioError, Sensitivity, setting_path, validate

NUM_LEVELS = 4  # Morris grid levels


# --- the design ----------------------------------------------------------------------------
@dataclass
class Design:
    """A scenario with its sensitivity section resolved: parameters, bounds, the two compared."""

    scenario: Scenario          # the base scenario (replications = the sensitivity's, at least 2)
    spec: Sensitivity
    names: list[str]            # the parameters as written
    paths: list[tuple]          # ... as field paths into scenario.resolved()
    bounds: list[list[float]]
    integer: list[bool]
    x: str                      # the two compared: arms, or firms head to head
    y: str
    base: dict = field(repr=False, default_factory=dict)

    @property
    def head_to_head(self) -> bool:
        return self.scenario.compare.kind == "head_to_head"

    @property
    def arms(self) -> list[str]:
        """The arms each point runs."""
        return ["head_to_head"] if self.head_to_head else [self.x, self.y]

    @property
    def problem(self) -> dict:
        return {"num_vars": len(self.names), "names": list(self.names), "bounds": [list(b) for b in self.bounds]}

    def outputs(self) -> list[str]:
        """Output columns: per KPI, X, Y and the paired difference X - Y."""
        return [column for kpi in self.spec.outputs for column in output_columns(kpi, self.x, self.y)]


def output_columns(kpi: str, x: str, y: str) -> tuple[str, str, str]:
    return f"{kpi}[{x}]", f"{kpi}[{y}]", f"{kpi}[{x} - {y}]"


def prepare(scenario: Scenario, spec: Sensitivity | dict | None = None, source: str = "scenario") -> Design:
    """Check the sensitivity section against the scenario; ScenarioError with readable lines."""
    if spec is None:
        spec = scenario.sensitivity
    if spec is None:
        raise ScenarioError([f"{source}: no sensitivity section: add `sensitivity: {{parameters: {{setting: "
                             f"[low, high], ...}}}}` (see scenarios/sensitivity-recovery.yaml)"])
    if isinstance(spec, dict):
        try:
            spec = Sensitivity.model_validate(spec)
        except Exception as error:  # pydantic's message names the field
            raise ScenarioError([f"{source}: sensitivity: {error}"]) from None
    scenario = scenario.model_copy(update={"replications": max(2, spec.replications)})
    groups = [f.name for f in scenario.firms] if scenario.compare.kind == "head_to_head" else scenario.arm_names()
    if spec.compare is None:
        x = next(g for g in groups if g != scenario.baseline)
        y = scenario.baseline
    else:
        x, y = spec.compare
        what = "firm" if scenario.compare.kind == "head_to_head" else "arm"
        for name in (x, y):
            if name not in groups:
                raise ScenarioError([f"{source}: sensitivity.compare: {name!r} is not an {what}: choose from "
                                     f"{', '.join(groups)}"])
        if x == y:
            raise ScenarioError([f"{source}: sensitivity.compare: give two different {what}s"])
    base = scenario.resolved()
    names, paths, bounds, integer, problems = [], [], [], [], []
    for name, (low, high) in spec.parameters.items():
        try:
            path = resolve_path(name, base)
        except ScenarioError as error:
            problems += [f"{source}: sensitivity.parameters: {line}" for line in error.problems]
            continue
        current = _get(base, path)
        names.append(name)
        paths.append(path)
        bounds.append([float(low), float(high)])
        integer.append(isinstance(current, int) and not isinstance(current, bool))
    if problems:
        raise ScenarioError(problems)
    design = Design(scenario, spec, names, paths, bounds, integer, x, y, base)
    for i, name in enumerate(names):  # each bound must be a valid setting on its own
        for value in bounds[i]:
            row = np.array([b[0] for b in bounds], float)
            row[i] = value
            try:
                point_scenario(design, row)
            except ScenarioError as error:
                detail = error.problems[0].split(": ", 1)[-1]
                problems.append(f"{source}: sensitivity.parameters.{name} = {value:g} is not allowed: {detail}")
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return design


def resolve_path(name: str, data: dict) -> tuple:
    """The field path of an uncertain setting (see `scenario.setting_path`); it must be a number."""
    path = setting_path(name, data)
    node = _get(data, path)
    if isinstance(node, bool) or not (node is None or isinstance(node, (int, float))):
        raise ScenarioError([f"{name}: is {node!r}, not a number; only numeric settings can be varied"])
    return path


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def point_values(design: Design, row: np.ndarray) -> list:
    return [int(round(v)) if is_int else float(v) for v, is_int in zip(row, design.integer)]


def point_scenario(design: Design, row: np.ndarray) -> Scenario:
    """The scenario at one sample point."""
    data = copy.deepcopy(design.base)
    for path, value in zip(design.paths, point_values(design, row)):
        _set(data, path, value)
    return validate(data, f"sensitivity point {dict(zip(design.names, point_values(design, row)))}")


def sample(design: Design, seed: int | None = None) -> np.ndarray:
    """The SALib design: Morris trajectories or a Saltelli/Sobol sample (one row per point)."""
    seed = design.scenario.seed % 2**32 if seed is None else seed
    if design.spec.method == "morris":
        from SALib.sample import morris

        return morris.sample(design.problem, design.spec.samples, num_levels=NUM_LEVELS, seed=seed)
    from SALib.sample import sobol

    with warnings.catch_warnings():  # SALib warns when N is not a power of 2; the spec says so
        warnings.simplefilter("ignore")
        return sobol.sample(design.problem, design.spec.samples, calc_second_order=False, seed=seed)


# --- running the points ----------------------------------------------------------------------
def _simulate(task: experiment.PointTask) -> pd.DataFrame:
    return experiment.simulate(task.run)


def _kpis(frame: pd.DataFrame, scenario: Scenario) -> dict:
    """The KPIs of every firm of one run, as the experiment's summary defines them."""
    summary = experiment.summarize(frame, scenario)
    return {row["firm"]: {k: float(row[k]) for k in experiment.KPIS} for _, row in summary.iterrows()}


def tasks(design: Design, X: np.ndarray) -> list[experiment.PointTask]:
    out = []
    for i, row in enumerate(X):
        point = point_scenario(design, row)
        for task in experiment.plan(point):
            if task.arm in design.arms and task.replication < design.spec.replications:
                out.append(experiment.PointTask(i, task))
    return out


def evaluate(design: Design, X: np.ndarray, workers: int = 1, progress: bool = False) -> pd.DataFrame:
    """Run every point; one row per point: the parameter values, the outputs, the winner."""
    todo = tasks(design, X)
    results: dict[tuple, dict] = {}

    def keep(task, frame) -> None:
        results[(task.point, task.run.arm, task.run.replication)] = _kpis(frame, design.scenario)

    executor = experiment.make_executor(min(workers, max(len(todo), 1)))
    experiment.run_all(executor, _simulate, todo, keep, progress=progress, total=len(todo),
                       desc=f"{design.scenario.name} sensitivity")
    return points_table(design, X, results)


def points_table(design: Design, X: np.ndarray, results: dict) -> pd.DataFrame:
    reps = range(design.spec.replications)
    focal = design.scenario.focal_firm

    def values(i: int, who: str, kpi: str) -> np.ndarray:
        if design.head_to_head:
            return np.array([results[(i, "head_to_head", r)][who][kpi] for r in reps])
        return np.array([results[(i, who, r)][focal][kpi] for r in reps])

    rows = []
    for i, row in enumerate(X):
        out = {"point": i, **dict(zip(design.names, point_values(design, row)))}
        for kpi in sorted(set(design.spec.outputs) | {design.spec.winner_by}, key=list(experiment.KPIS).index):
            x, y = values(i, design.x, kpi), values(i, design.y, kpi)
            cx, cy, cd = output_columns(kpi, design.x, design.y)
            out[cx], out[cy], out[cd] = x.mean(), y.mean(), (x - y).mean()
            if kpi == design.spec.winner_by:
                _, low, high = experiment.interval(x - y)
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


# --- plots -----------------------------------------------------------------------------------
def plot_indices(design: Design, table: pd.DataFrame):
    """A bar (tornado-style) chart per output: parameters by importance, with 95% intervals."""
    from matplotlib.figure import Figure

    outputs = list(dict.fromkeys(table["output"]))
    cols = 3 if len(outputs) % 3 == 0 else 2 if len(outputs) > 1 else 1
    rows = math.ceil(len(outputs) / cols)
    height = max(2.2, 0.32 * len(design.names) + 1.0)
    fig = Figure(figsize=(5.2 * cols, height * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    morris = design.spec.method == "morris"
    for ax, output in zip(axes, outputs):
        part = table[table["output"] == output].sort_values("importance")
        y = np.arange(len(part))
        if morris:
            ax.barh(y, part["mu_star"], xerr=part["mu_star_conf"], color="tab:blue", alpha=0.8, label="mu*")
            ax.plot(part["sigma"], y, "k|", markersize=12, label="sigma")
            ax.set_xlabel("Morris mu* (change over the range)")
        else:
            ax.barh(y + 0.2, part["ST"], height=0.4, xerr=part["ST_conf"], color="tab:blue", label="total ST")
            ax.barh(y - 0.2, part["S1"], height=0.4, xerr=part["S1_conf"], color="tab:orange", label="first order S1")
            ax.set_xlabel("Sobol index (share of variance)")
        ax.set_yticks(y, part["parameter"], fontsize=8)
        ax.set_title(output, fontsize=10)
        ax.axvline(0, color="grey", lw=0.5)
    for ax in axes[len(outputs):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{design.scenario.name}: sensitivity ({design.spec.method}, {design.spec.samples} samples, "
                 f"{design.spec.replications} replications per point)", fontsize=11)
    return fig


def plot_winners(design: Design, points: pd.DataFrame, shares: pd.DataFrame, decide: pd.DataFrame):
    """Left: the share of the space each wins. Right: the winner over the two deciding parameters."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 2.2])
    colors = {design.x: "tab:green", design.y: "tab:red", "tie": "tab:grey"}
    left.bar(shares["winner"], shares["share"], color=[colors[w] for w in shares["winner"]], alpha=0.4,
             label="wins")
    left.bar(shares["winner"], shares["clear_share"], color=[colors[w] for w in shares["winner"]],
             label="wins clearly")
    left.set_ylim(0, 1)
    left.set_ylabel(f"share of the sampled space (by {design.spec.winner_by})")
    left.legend(fontsize=8)
    top = list(decide["parameter"][:2])
    rng = np.random.default_rng(0)
    if len(top) == 1:
        top = top * 2
    jitter = [0.01 * np.ptp(points[p].to_numpy(float)) or 0.01 for p in top]
    for who, color in colors.items():
        mine = points[points["winner"] == who]
        if mine.empty:
            continue
        xs = mine[top[0]] + rng.normal(0, jitter[0], len(mine))
        ys = mine[top[1]] + rng.normal(0, jitter[1], len(mine))
        right.scatter(xs, ys, c=color, s=np.where(mine["clear"], 28, 10), alpha=0.7, label=f"{who} wins")
    first = decide.iloc[0]
    if first["rule"] and first["balanced_accuracy"] >= 0.6:
        right.axvline(first["threshold"], color="k", ls="--", lw=1,
                      label=f"{first['rule']}: {design.x} wins {first['density']:.0%}")
    right.set_xlabel(top[0])
    right.set_ylabel(top[1])
    right.legend(fontsize=7, loc="best")
    right.set_title("winner at each sample point (large: clear)", fontsize=10)
    fig.suptitle(f"When does {design.x} beat {design.y}?", fontsize=11)
    return fig


# --- everything together ------------------------------------------------------------------------
@dataclass
class SensitivityResult:
    design: Design
    X: np.ndarray
    points: pd.DataFrame
    indices: pd.DataFrame
    shares: pd.DataFrame
    deciders: pd.DataFrame
    seconds: float = 0.0

    def verdict(self) -> list[str]:
        return verdict(self.design, self.shares, self.deciders)

    def table(self, top: int | None = None) -> str:
        return indices_text(self.design, self.indices, top)

    def plot_indices(self):
        return plot_indices(self.design, self.indices)

    def plot_winners(self):
        return plot_winners(self.design, self.points, self.shares, self.deciders)


def sensitivity(scenario: Scenario, spec: Sensitivity | dict | None = None, workers: int = 1,
                progress: bool = False, source: str = "scenario") -> SensitivityResult:
    """Sample, run, analyse: the whole analysis in memory (nothing is written)."""
    started = time.perf_counter()
    design = prepare(scenario, spec, source)
    X = sample(design)
    points = evaluate(design, X, workers=workers, progress=progress)
    shares = winner_shares(design, points)
    return SensitivityResult(design, X, points, indices(design, X, points), shares, deciders(design, points),
                             time.perf_counter() - started)


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
            rows.append([output, r["parameter"], *(_num(v) for v in values)])
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
                     for row in [headers, *rows])


def _num(v: float) -> str:
    if math.isnan(v):
        return "nan"
    a = abs(v)
    return f"{v:,.0f}" if a >= 1000 else f"{v:.3g}" if a >= 0.001 or a == 0 else f"{v:.1e}"


FILES = ("points.csv", "indices.csv", "winners.csv", "deciders.csv", "indices.png", "winners.png", "manifest.json")


def write(result: SensitivityResult, out: Path, source: str = "", overrides: list[str] = (),
          started: str | None = None) -> Path:
    """The run folder: points.csv (one row per sample point), indices.csv, winners.csv,
    deciders.csv, indices.png, winners.png and manifest.json."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    d = result.design
    atomic_write(out / "points.csv", lambda t: result.points.to_csv(t, index=False))
    atomic_write(out / "indices.csv", lambda t: result.indices.to_csv(t, index=False))
    atomic_write(out / "winners.csv", lambda t: result.shares.to_csv(t, index=False))
    atomic_write(out / "deciders.csv", lambda t: result.deciders.to_csv(t, index=False))
    for name, fig in (("indices.png", result.plot_indices()), ("winners.png", result.plot_winners())):
        atomic_write(out / name, lambda t, fig=fig: fig.savefig(t, format="png", dpi=110))
    manifest = {
        "kind": "sensitivity",
        "scenario_name": d.scenario.name,
        "scenario_file": source,
        "overrides": list(overrides),
        "scenario": d.scenario.resolved(),
        "sensitivity": d.spec.model_dump(mode="json"),
        "compared": [d.x, d.y],
        "points": len(result.points),
        "runs": len(result.points) * len(d.arms) * d.spec.replications,
        "seeds": {str(r): experiment.replication_seed(d.scenario.seed, r) for r in range(d.spec.replications)},
        "verdict": result.verdict(),
        "versions": {**versions(), **_salib_version()},
        "git": git_state(),
        "code_hash": code_hash(),
        "started": started,
        "finished": now(),
        "seconds": round(result.seconds, 1),
    }
    atomic_text(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return out


def _salib_version() -> dict:
    from importlib import metadata

    try:
        return {"SALib": metadata.version("SALib")}
    except metadata.PackageNotFoundError:
        return {}
