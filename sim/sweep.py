"""Sweeps: the scenario at every point of a grid, a random sample or a Latin hypercube over
settings given in its `sweep:` section, each point with all its arms and replications.

    design = prepare(load_scenario("scenarios/sweep-effort.yaml"))
    folder = SweepFolder.create(design, Path("results/x"))
    execute(folder, executors.make_executor(2))

Replication r uses the same market seed at every point and in every arm (from the scenario
seed and r only), so points are compared on common random numbers, like arms. A run's seed
never depends on where or when it ran, and every run is saved as its own Parquet file the
moment it arrives, so a sweep gives the same files serially, on a local Dask cluster or on a
remote one, after a worker died, or after an interruption and `--resume`.

The sweep folder:

    manifest.json               the base scenario, the sweep, every point, seeds, versions, times
    points.csv                  point, one column per swept setting
    runs/p00000/<arm>__r<k>.parquet   one file per finished run (temp file + rename)
    timeseries.parquet          point, arm, replication, month, firm, metrics (streamed, row groups)
    summary.csv                 point, the settings, arm, replication, firm, seed, KPIs
    comparison.csv              point, the settings, then experiment.compare per point

The final files are written point by point from the saved runs (a single pass, bounded
memory), so the client's memory does not grow with the number of points.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from . import experiment
from .results import FILE_MODE, atomic_text, now, output_folder, provenance, reopen
from .scenario import Scenario, ScenarioError, Sweep, SweepRange, setting_path, validate

FINAL_FILES = ("points.csv", "timeseries.parquet", "summary.csv", "comparison.csv")
MAX_POINTS = 1_000_000
FORBIDDEN = ("name", "description", "sweep", "sensitivity")
ROW_GROUP = 20_000  # rows of timeseries.parquet written at a time (the bound on what is buffered)


# --- the design: settings, their paths and the points ---------------------------------------
@dataclass
class Design:
    scenario: Scenario           # the base scenario (with its sweep section)
    base: dict                   # its resolved data, without the sweep
    names: list[str]             # the swept settings as written
    paths: list[tuple]           # their field paths in `base`
    points: list[tuple]          # one tuple of values per point
    source: str = "scenario"
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def spec(self) -> Sweep:
        return self.scenario.sweep

    @property
    def runs_per_point(self) -> int:
        return len(self.scenario.arm_names()) * self.scenario.replications

    def point_scenario(self, i: int) -> Scenario:
        """The scenario at point i (validated; the last one is kept)."""
        if i not in self._cache:
            self._cache.clear()
            self._cache[i] = point_scenario(self, self.points[i], f"{self.source}: sweep point {i}")
        return self._cache[i]

    def values(self, i: int) -> dict[str, Any]:
        return dict(zip(self.names, self.points[i]))

    def digest(self) -> str:
        body = {"scenario": self.base, "sweep": self.spec.model_dump(mode="json"), "points": _jsonable(self.points)}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def prepare(scenario: Scenario, source: str = "scenario", points: list | None = None) -> Design:
    """Check the sweep section against the scenario and build every point (bad input stops here)."""
    if scenario.sweep is None:
        raise ScenarioError([f"{source}: no sweep section; add one, e.g.\n"
                             f"  sweep:\n    method: grid\n    parameters:\n"
                             f"      market.n_people: [1000, 2000]\n"
                             f"      firms[0].quality: {{low: 0.5, high: 0.9, steps: 3}}"])
    base = scenario.resolved()
    names = list(scenario.sweep.parameters)
    problems, paths = [], []
    for name in names:
        try:
            paths.append(resolve_path(name, base))
        except ScenarioError as error:
            problems += [f"{source}: sweep.parameters.{line}" for line in error.problems]
    if problems:
        raise ScenarioError(problems)
    if points is None:
        points = make_points(scenario.sweep, scenario.seed)
    design = Design(scenario, base, names, paths, [tuple(p) for p in points], source)
    # every value of every setting, each alone at the base, then every point: a clear message early
    for j, (name, path) in enumerate(zip(names, paths)):
        distinct = {json.dumps(p[j], sort_keys=True): p[j] for p in design.points}
        for value in distinct.values():
            data = copy.deepcopy(base)
            _set(data, path, value)
            try:
                validate(data, "")
            except ScenarioError as error:
                detail = error.problems[0].split(": ", 1)[-1]
                detail = detail.split(" is not allowed: ", 1)[-1]
                problems.append(f"{source}: sweep.parameters.{name} = {_short(value)} is not allowed: {detail}")
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems))[:20])
    for i in range(len(design.points)):
        design.point_scenario(i)
    return design


def resolve_path(name: str, data: dict) -> tuple:
    """The field path of a swept setting (see `scenario.setting_path`), not the seed's neighbours."""
    path = setting_path(name, data)
    if path[0] in FORBIDDEN:
        raise ScenarioError([f"{name}: {path[0]} cannot be swept; sweep settings of the market, firms, arms, "
                             f"seed or replications"])
    return path


def make_points(spec: Sweep, scenario_seed: int) -> list[tuple]:
    """The points of the sweep, in a fixed order: a grid in the order of its settings (the last
    changes fastest); a sample from the sweep seed (default: the scenario's)."""
    specs = list(spec.parameters.values())
    if spec.method == "grid":
        axes = [list(s) if isinstance(s, list) else _steps(s) for s in specs]
        count = math.prod(len(a) for a in axes)
        if count > MAX_POINTS:
            raise ScenarioError([f"sweep: the grid has {count:,} points; at most {MAX_POINTS:,} "
                                 f"(fewer values, or method: latin_hypercube with samples)"])
        return list(itertools.product(*axes))
    seed = scenario_seed if spec.seed is None else spec.seed
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EE9]))
    n, d = spec.samples, len(specs)
    if spec.method == "random":
        u = rng.random((n, d))
    else:  # Latin hypercube: each setting's range cut in n equal strata, one point in each
        u = np.empty((n, d))
        for j in range(d):
            u[:, j] = (rng.permutation(n) + rng.random(n)) / n
    return [tuple(_from_unit(s, float(u[i, j])) for j, s in enumerate(specs)) for i in range(n)]


def _steps(r: SweepRange) -> list:
    values = np.geomspace(r.low, r.high, r.steps) if r.log else np.linspace(r.low, r.high, r.steps)
    out = [int(round(v)) if r.integer else _nice(v) for v in values]
    return list(dict.fromkeys(out))


def _from_unit(s, u: float):
    if isinstance(s, list):
        return s[min(int(u * len(s)), len(s) - 1)]
    if s.integer:
        low, high = math.ceil(s.low), math.floor(s.high)
        if s.log:
            return int(min(high, max(low, round(math.exp(math.log(s.low) + u * math.log(s.high / s.low))))))
        return int(min(high, low + math.floor(u * (high - low + 1))))
    if s.log:
        return _nice(math.exp(math.log(s.low) + u * (math.log(s.high) - math.log(s.low))), 6)
    return _nice(s.low + u * (s.high - s.low), 6)


def _nice(x: float, digits: int = 12) -> float:
    """Rounded to `digits` significant digits: 0.3 rather than 0.30000000000000004."""
    return float(f"{float(x):.{digits}g}")


def _set(data: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = copy.deepcopy(value)


def point_scenario(design: Design, values: tuple, where: str) -> Scenario:
    data = copy.deepcopy(design.base)
    for path, value in zip(design.paths, values):
        _set(data, path, value)
    return validate(data, where)


def _dask_versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for name in ("dask", "distributed"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def _jsonable(points):
    return [list(p) for p in points]


def _cell(v):
    """A setting's value in a table cell: numbers and text as they are, anything else as JSON."""
    return json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) or v is None else v


def _short(v) -> str:
    text = json.dumps(v) if isinstance(v, (list, dict)) else repr(v)
    return text if len(text) <= 50 else text[:47] + "..."


# --- runs ----------------------------------------------------------------------------------
SweepTask = experiment.PointTask  # one run of one point (picklable; what a worker receives)


def simulate(task: SweepTask) -> pd.DataFrame:
    """One run; its monthly series with the point in front (runs on a worker)."""
    frame = experiment.simulate(task.run)
    frame.insert(0, "point", task.point)
    return frame


def plan(design: Design) -> Iterator[SweepTask]:
    """Every run, point by point, arm by arm, replication by replication (lazily)."""
    for i in range(len(design.points)):
        for run in experiment.plan(design.point_scenario(i)):
            yield SweepTask(i, run)


# --- the sweep folder ------------------------------------------------------------------------
class SweepFolder:
    def __init__(self, path: Path, design: Design, manifest: dict):
        self.path, self.design, self.manifest = Path(path), design, manifest
        self.runs = self.path / "runs"

    @classmethod
    def create(cls, design: Design, out: Path | None = None, source: str = "",
               overrides: list[str] = ()) -> SweepFolder:
        scenario = design.scenario
        out = output_folder(scenario, out, "sweep-", f"to finish a sweep there use `grapevine sweep --resume {out}`")
        manifest = {
            "kind": "sweep",
            "scenario_name": scenario.name,
            "scenario_file": source,
            "overrides": list(overrides),
            "scenario": design.base,
            "sweep": scenario.sweep.model_dump(mode="json"),
            "parameters": design.names,
            "points": _jsonable(design.points),
            "sweep_hash": design.digest(),
            "runs": len(design.points) * design.runs_per_point,
            "seeds": {str(r): experiment.replication_seed(scenario.seed, r) for r in range(scenario.replications)},
            **provenance(_dask_versions()),
        }
        folder = cls(out, design, manifest)
        folder.runs.mkdir(parents=True, exist_ok=True)
        folder.save_manifest()
        folder.write_points()
        return folder

    @classmethod
    def resume(cls, path: Path) -> SweepFolder:
        path = Path(path)
        try:
            manifest = json.loads((path / "manifest.json").read_text())
            if manifest.get("kind") != "sweep":
                raise ScenarioError([f"--resume {path}: not a sweep folder (for a run folder use "
                                     f"`grapevine run --resume {path}`)"])
            scenario = Scenario.model_validate({**manifest["scenario"], "sweep": manifest["sweep"]})
            points = manifest["points"]
        except FileNotFoundError:
            raise ScenarioError([f"--resume {path}: no manifest.json there; is this a sweep folder?"]) from None
        except (ValueError, KeyError, TypeError) as error:
            raise ScenarioError([f"--resume {path}: manifest.json cannot be read ({type(error).__name__}); "
                                 f"start a new sweep"]) from None
        design = prepare(scenario, str(path / "manifest.json"), points=points)
        if design.digest() != manifest.get("sweep_hash"):
            raise ScenarioError([f"--resume {path}: the sweep in manifest.json does not match its hash "
                                 f"(edited, or written by another version of grapevine); start a new sweep"])
        folder = cls(path, design, manifest)
        reopen(folder, "sweep")
        return folder

    def run_path(self, task: SweepTask) -> Path:
        return self.runs / f"p{task.point:05d}" / f"{task.run.key}.parquet"

    def has_run(self, task: SweepTask) -> bool:
        return self.run_path(task).exists()

    def save_run(self, task: SweepTask, frame: pd.DataFrame) -> None:
        from .results import atomic_write

        atomic_write(self.run_path(task), lambda temp: frame.to_parquet(temp, index=False))

    def save_manifest(self) -> None:
        atomic_text(self.path / "manifest.json", json.dumps(self.manifest, indent=2) + "\n")

    def points_table(self) -> pd.DataFrame:
        d = self.design
        table = pd.DataFrame([[_cell(v) for v in p] for p in d.points], columns=d.names)
        table.insert(0, "point", range(len(d.points)))
        return table

    def write_points(self) -> None:
        from .results import atomic_write

        table = self.points_table()
        atomic_write(self.path / "points.csv", lambda t: table.to_csv(t, index=False))

    def done_count(self) -> int:
        return sum(1 for _ in self.runs.glob("p*/*.parquet"))


# --- running --------------------------------------------------------------------------------
def execute(folder: SweepFolder, executor=None, progress: bool = True, on_saved=None) -> dict:
    """Run what is missing in `folder` on `executor` (serial if None), saving each run as it
    arrives, then write the final files. `on_saved(task, count)` is called after each save."""
    design = folder.design
    total = len(design.points) * design.runs_per_point
    todo = (task for task in plan(design) if not folder.has_run(task))
    count = 0

    def save(task, frame) -> None:
        nonlocal count
        folder.save_run(task, frame)
        count += 1
        if on_saved is not None:
            on_saved(task, count)

    experiment.run_all(executor or experiment.SerialExecutor(), simulate, todo, save, progress=progress,
                       total=total, done=folder.done_count(), desc=f"{design.scenario.name} sweep")
    return finalize(folder)


class _Outputs:
    """The final files, each written to a hidden temp file and renamed when all are complete."""

    def __init__(self, folder: Path, names):
        self.final = {name: folder / name for name in names}
        self.temp = {}
        for name, path in self.final.items():
            handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
            os.close(handle)
            self.temp[name] = Path(temp)

    def commit(self) -> None:
        for name, temp in self.temp.items():
            os.chmod(temp, FILE_MODE)
            os.replace(temp, self.final[name])

    def discard(self) -> None:
        for temp in self.temp.values():
            temp.unlink(missing_ok=True)


def _timeseries_schema(folder: SweepFolder):
    """The columns of every saved run, in order of first appearance, and their common types (a
    metric missing from some runs, e.g. an event only one policy has, is a float there, 0)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    order: dict[str, None] = {}
    types: dict[str, set] = {}
    present: dict[str, int] = {}
    runs = 0
    for task in plan(folder.design):
        schema = pq.read_schema(folder.run_path(task))
        runs += 1
        for f in schema:
            order.setdefault(f.name)
            types.setdefault(f.name, set()).add(f.type)
            present[f.name] = present.get(f.name, 0) + 1
    columns = list(order)
    metrics = set(columns[columns.index("firm") + 1:])
    fields = []
    for name in columns:
        kinds = types[name]
        if len(kinds) == 1 and (present[name] == runs or name not in metrics):
            fields.append(pa.field(name, next(iter(kinds))))
        else:
            fields.append(pa.field(name, pa.float64()))
    return pa.schema(fields), metrics


BATCH = 64  # points read and summarized together: fewer, larger table operations


def _conform(tables: list, schema, metrics):
    """Saved runs as one table of the sweep's schema: a metric a run lacks, or leaves empty,
    is 0 (as in `results.assemble`), every column cast to the common type."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.concat_tables(tables, promote_options="permissive")  # a missing column is null
    columns = []
    for spec in schema:
        column = table[spec.name]
        if spec.name in metrics:
            column = pc.fill_null(column, 0)
            if pa.types.is_floating(column.type):
                column = pc.if_else(pc.is_nan(column), 0.0, column)
        columns.append(column.cast(spec.type))
    return pa.Table.from_arrays(columns, schema=schema).combine_chunks()


def _structure(scenario: Scenario) -> tuple:
    """What `experiment.summarize` reads from a scenario besides the data: points that agree
    on it are summarized in one call."""
    return (scenario.seed, scenario.replications, scenario.market.months, tuple(scenario.arm_names()),
            tuple(f.name for f in scenario.firms))


def _batches(design: Design) -> Iterator[dict[int, Scenario]]:
    """Consecutive points, at most BATCH, that share their structure: {point: its scenario}."""
    batch: dict[int, Scenario] = {}
    key = None
    for i in range(len(design.points)):
        scenario = design.point_scenario(i)
        this = _structure(scenario)
        if batch and (this != key or len(batch) == BATCH):
            yield batch
            batch = {}
        batch[i] = scenario
        key = this
    if batch:
        yield batch


def finalize(folder: SweepFolder) -> dict:
    """Write points.csv, timeseries.parquet, summary.csv and comparison.csv from the saved runs,
    a batch of points at a time (bounded memory). Returns a few rows for the screen."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    design = folder.design
    missing = [task.key for task in plan(design) if not folder.has_run(task)]
    if missing:
        raise RuntimeError(f"{len(missing)} runs are not saved yet (first {missing[0]})")
    folder.write_points()
    schema, metrics = _timeseries_schema(folder)
    outputs = _Outputs(folder.path, ("timeseries.parquet", "summary.csv", "comparison.csv"))
    shown: list[pd.DataFrame] = []
    try:
        writer = pq.ParquetWriter(outputs.temp["timeseries.parquet"], schema)
        buffer: list = []  # arrow tables not yet written
        rows = 0
        with writer, open(outputs.temp["summary.csv"], "w", newline="") as summary_file, \
                open(outputs.temp["comparison.csv"], "w", newline="") as comparison_file:
            for scenarios in _batches(design):
                table = _conform([pq.ParquetFile(folder.run_path(SweepTask(i, run))).read(use_threads=False)
                                  for i, scenario in scenarios.items() for run in experiment.plan(scenario)],
                                 schema, metrics)
                buffer.append(table)
                rows += table.num_rows
                if rows >= ROW_GROUP:
                    writer.write_table(pa.concat_tables(buffer))
                    buffer, rows = [], 0
                summaries = experiment.summarize(table.to_pandas(), next(iter(scenarios.values())), by=("point",))
                for i in scenarios:
                    summary = summaries[summaries["point"] == i].drop(columns="point").reset_index(drop=True)
                    comparison = experiment.compare(summary, scenarios[i])
                    values = [_cell(v) for v in design.points[i]]
                    for frame in (summary, comparison):
                        for j, (name, value) in enumerate(zip(["point", *design.names], [i, *values])):
                            frame.insert(j, name, value)
                    summary.to_csv(summary_file, index=False, header=i == 0)
                    comparison.to_csv(comparison_file, index=False, header=i == 0)
                    if i < SHOW:
                        shown.append(comparison)
            if buffer:
                writer.write_table(pa.concat_tables(buffer))
        outputs.commit()
    except BaseException:
        outputs.discard()
        raise
    folder.manifest["finished"] = now()
    folder.save_manifest()
    return {"comparison_head": pd.concat(shown, ignore_index=True) if shown else pd.DataFrame(),
            "points": len(design.points)}


def _show(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


SHOW = 12  # points shown on the screen; every point is in comparison.csv


def table(head: pd.DataFrame, design: Design) -> str:
    """For the first points: each arm's (or firm's) paired difference from the baseline."""
    if head.empty:
        return ""
    h2h = design.scenario.compare.kind == "head_to_head"
    first = "market_share" if h2h else "retention"
    rows = []
    for (point, compared), group in head.groupby(["point", "compared"], sort=False):
        if group["baseline"].iloc[0] == compared:
            continue
        kept = group[group["kpi"] == first].iloc[0]
        npv = group[group["kpi"] == "npv"].iloc[0]
        amount, low, high = experiment.money([npv["diff"], npv["diff_low"], npv["diff_high"]])
        rows.append([str(point), *[_show(kept[n]) for n in design.names], f"{compared} - {kept['baseline']}",
                     f"{kept['diff']:+.1f} [{kept['diff_low']:+.1f}, {kept['diff_high']:+.1f}]",
                     f"{amount} [{low}, {high}]"])
    headers = ["point", *design.names, "compared", f"{'share' if h2h else 'retention'} pts [95% CI]",
               "NPV diff [95% CI]"]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [headers, *rows])
