"""Sweeps: the scenario at every point of a grid, a random sample or a Latin hypercube over
settings given in its `sweep:` section, each point with all its arms and replications.

    experiment = design(load_scenario("scenarios/sweep-recovery.yaml"))
    folder = RunFolder.create(experiment, prefix="sweep-")
    runner.execute(folder, executors.make_executor(2))
    finalize(folder)

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

import itertools
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from ..errors import InputError
from ..formatting import amounts, number, text_table
from ..scenario import Scenario, Sweep, SweepRange
from . import stats
from .design import Experiment, tasks_of
from .folder import FILE_MODE, RunFolder

FINAL_FILES = ("points.csv", "timeseries.parquet", "summary.csv", "comparison.csv")
MAX_POINTS = 1_000_000
FORBIDDEN = ("name", "description", "sweep", "sensitivity")
ROW_GROUP = 20_000  # rows of timeseries.parquet written at a time (the bound on what is buffered)


# --- the design: settings, their paths and the points ---------------------------------------
def design(scenario: Scenario, source: str = "scenario") -> Experiment:
    """Check the sweep section against the scenario and build every point (bad input stops here)."""
    if scenario.sweep is None:
        raise InputError(f"{source}: no sweep section; add one, e.g.\n"
                         f"  sweep:\n    method: grid\n    parameters:\n"
                         f"      market.n_people: [1000, 2000]\n"
                         f"      firms[0].quality: {{low: 0.5, high: 0.9, steps: 3}}")
    spec = scenario.sweep
    return Experiment.varying("sweep", scenario, list(spec.parameters), make_points(spec, scenario.seed),
                              source=source, section="sweep.parameters.", check=_sweepable,
                              extra={"sweep": spec.model_dump(mode="json")})


def _sweepable(name: str, path: tuple, data: dict) -> None:
    if path[0] in FORBIDDEN:
        raise InputError(f"{name}: {path[0]} cannot be swept; sweep settings of the market, firms, arms, "
                         f"seed or replications")


def resume(path: Path) -> RunFolder:
    return RunFolder.resume(path, "sweep", Experiment.from_description)


def make_points(spec: Sweep, scenario_seed: int) -> list[tuple]:
    """The points of the sweep, in a fixed order: a grid in the order of its settings (the last
    changes fastest); a sample from the sweep seed (default: the scenario's)."""
    specs = list(spec.parameters.values())
    if spec.method == "grid":
        axes = [list(s) if isinstance(s, list) else _steps(s) for s in specs]
        count = math.prod(len(a) for a in axes)
        if count > MAX_POINTS:
            raise InputError(f"sweep: the grid has {count:,} points; at most {MAX_POINTS:,} "
                             f"(fewer values, or method: latin_hypercube with samples)")
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


def _cell(v):
    """A setting's value in a table cell: numbers and text as they are, anything else as JSON."""
    return json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) or v is None else v


def points_table(experiment: Experiment) -> pd.DataFrame:
    table = pd.DataFrame([[_cell(v) for v in p] for p in experiment.points], columns=experiment.settings)
    table.insert(0, "point", range(len(experiment.points)))
    return table


# --- the final tables -------------------------------------------------------------------------
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


def _timeseries_schema(folder: RunFolder):
    """The columns of every saved run, in order of first appearance, and their common types (a
    metric missing from some runs, e.g. an event only one policy has, is a float there, 0)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    order: dict[str, None] = {}
    types: dict[str, set] = {}
    present: dict[str, int] = {}
    runs = 0
    for task in folder.plan.tasks():
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
    is 0 (as in `folder.assemble`), every column cast to the common type."""
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
    """What `stats.summarize` reads from a scenario besides the data: points that agree
    on it are summarized in one call."""
    return (scenario.seed, scenario.replications, scenario.market.months, scenario.groups,
            tuple(f.name for f in scenario.firms))


def _batches(experiment: Experiment) -> Iterator[dict[int, Scenario]]:
    """Consecutive points, at most BATCH, that share their structure: {point: its scenario}."""
    batch: dict[int, Scenario] = {}
    key = None
    for i in range(len(experiment.points)):
        scenario = experiment.point_scenario(i)
        this = _structure(scenario)
        if batch and (this != key or len(batch) == BATCH):
            yield batch
            batch = {}
        batch[i] = scenario
        key = this
    if batch:
        yield batch


def finalize(folder: RunFolder) -> dict:
    """Write points.csv, timeseries.parquet, summary.csv and comparison.csv from the saved runs,
    a batch of points at a time (bounded memory). Returns a few rows for the screen."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    experiment = folder.plan
    missing = folder.missing()
    if missing:
        raise RuntimeError(f"{len(missing)} runs are not saved yet (first {missing[0]})")
    folder.write("points.csv", points_table(experiment))
    schema, metrics = _timeseries_schema(folder)
    outputs = _Outputs(folder.path, ("timeseries.parquet", "summary.csv", "comparison.csv"))
    shown: list[pd.DataFrame] = []
    try:
        writer = pq.ParquetWriter(outputs.temp["timeseries.parquet"], schema)
        buffer: list = []  # arrow tables not yet written
        rows = 0
        with writer, open(outputs.temp["summary.csv"], "w", newline="") as summary_file, \
                open(outputs.temp["comparison.csv"], "w", newline="") as comparison_file:
            for scenarios in _batches(experiment):
                table = _conform([pq.ParquetFile(folder.run_path(task)).read(use_threads=False)
                                  for i, scenario in scenarios.items()
                                  for task in tasks_of(scenario, i, experiment.runs, experiment.reps)],
                                 schema, metrics)
                buffer.append(table)
                rows += table.num_rows
                if rows >= ROW_GROUP:
                    writer.write_table(pa.concat_tables(buffer))
                    buffer, rows = [], 0
                summaries = stats.summarize(table.to_pandas(), next(iter(scenarios.values())), by=("point",))
                for i in scenarios:
                    summary = summaries[summaries["point"] == i].drop(columns="point").reset_index(drop=True)
                    comparison = stats.compare(summary, scenarios[i])
                    values = [_cell(v) for v in experiment.points[i]]
                    for frame in (summary, comparison):
                        for j, (name, value) in enumerate(zip(["point", *experiment.settings], [i, *values])):
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
    folder.finish()
    return {"comparison_head": pd.concat(shown, ignore_index=True) if shown else pd.DataFrame(),
            "points": len(experiment.points)}


SHOW = 12  # points shown on the screen; every point is in comparison.csv


def table(head: pd.DataFrame, experiment: Experiment) -> str:
    """For the first points: each arm's (or firm's) paired difference from the baseline."""
    if head.empty:
        return ""
    groups = experiment.scenario.groups
    first = "market_share" if groups.head_to_head else "retention"
    rows = []
    for (point, compared), group in head.groupby(["point", "compared"], sort=False):
        if group["baseline"].iloc[0] == compared:
            continue
        kept = group[group["kpi"] == first].iloc[0]
        npv = group[group["kpi"] == "npv"].iloc[0]
        amount, low, high = amounts([npv["diff"], npv["diff_low"], npv["diff_high"]])
        rows.append([str(point), *[_show(kept[n]) for n in experiment.settings], f"{compared} - {kept['baseline']}",
                     f"{kept['diff']:+.1f} [{kept['diff_low']:+.1f}, {kept['diff_high']:+.1f}]",
                     f"{amount} [{low}, {high}]"])
    headers = ["point", *experiment.settings, "compared", f"{'share' if groups.head_to_head else 'retention'} "
               f"pts [95% CI]", "NPV diff [95% CI]"]
    return text_table(headers, rows, left=0)


def _show(v) -> str:
    return number(v) if isinstance(v, float) else str(v)
