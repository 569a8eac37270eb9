"""A scenario's comparison, start to finish: run every arm x replication, then the final tables.

    folder = RunFolder.create(Experiment.single(scenario))
    run_replications(folder, executor)    # a fixed number, or batches until the verdicts are clear
    tables = finalize(folder)             # timeseries, summary, comparison (also written to the folder)

`replications: auto` runs paired replications in batches of `AUTO_BATCH` and stops when every
verdict (each arm's paired difference from the baseline in the scenario's measure and in NPV) is
clear or precise, or at `max_replications`. Looking at the data after every batch and stopping
when an interval excludes zero would find differences that are not there more often than 5% of
the time, so "clear" is judged at a stricter level, split over the looks there can be (a
Bonferroni bound); the intervals reported are the usual 95% ones at the number of replications
reached. The same seed gives the same stopping point. The final files depend only on the saved
runs, so an interrupted run finished with `--resume` ends with the same files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import showcase, stats
from .design import AUTO_BATCH, Experiment
from .executors import make_executor
from .folder import RunFolder, assemble, kept_or_temporary
from .runner import Executor, execute

FINAL_FILES = ("timeseries.parquet", "timeseries.csv", "summary.csv", "comparison.csv")
LEVEL = 0.95


@dataclass(frozen=True)
class Look:
    """What one look at the data after a batch found."""

    replications: int
    unclear: tuple[str, ...]  # 'recover npv: -1.2 K to 3.4 K', the verdicts not yet clear or precise

    @property
    def done(self) -> bool:
        return not self.unclear


def look(comparison: pd.DataFrame, experiment: Experiment) -> Look:
    """Whether every verdict is clear (its interval at the stricter level excludes zero) or precise
    (its 95% half-width is within the scenario's precision)."""
    scenario = experiment.scenario
    groups = scenario.groups
    looks = math.ceil(scenario.max_replications / AUTO_BATCH)
    strict = 1.0 - (1.0 - LEVEL) / looks
    base_npv = abs(stats_row(comparison, groups.baseline, "npv")["mean"])
    precision = {groups.share_measure: scenario.precision.points,
                 "npv": scenario.precision.money or max(0.01 * base_npv, 1e-9)}
    unclear = []
    for group in groups.others():
        for kpi, enough in precision.items():
            found = stats_row(comparison, group, kpi)
            half = (found["diff_high"] - found["diff_low"]) / 2
            n = int(found["n"])
            strict_half = half * stats.t_quantile(n - 1, strict) / stats.t_quantile(n - 1, LEVEL)
            clear = abs(found["diff"]) > strict_half
            if not (clear or half <= enough):
                unclear.append(f"{group} {kpi}")
    return Look(experiment.reps, tuple(unclear))


def stats_row(comparison: pd.DataFrame, group: str, kpi: str) -> pd.Series:
    return comparison[(comparison["compared"] == group) & (comparison["kpi"] == kpi)].iloc[0]


def comparison_so_far(folder: RunFolder) -> pd.DataFrame:
    experiment = folder.plan
    summary = stats.summarize(assemble([folder.load_run(task) for task in experiment.tasks()]), experiment.scenario)
    return stats.compare(summary, experiment.scenario)


def run_replications(folder: RunFolder, executor: Executor, progress: bool = True) -> None:
    """Run the folder's experiment: its replications, or (auto) batches until the verdicts are
    clear or precise; the decision goes into the manifest. Closes the executor."""
    experiment = folder.plan
    if not experiment.auto:
        execute(folder, executor, progress)
        return
    scenario, looks = experiment.scenario, []
    try:
        n = AUTO_BATCH
        while True:
            experiment.decided = n
            execute(folder, executor, progress, close=False)
            found = look(comparison_so_far(folder), experiment)
            looks.append({"replications": n, "unclear": list(found.unclear)})
            if found.done or n >= scenario.max_replications:
                break
            n = min(n + AUTO_BATCH, scenario.max_replications)
    finally:
        executor.close()
    why = ("every verdict is clear or precise" if found.done else
           f"the cap (max_replications {scenario.max_replications}); still unclear: {', '.join(found.unclear)}")
    folder.manifest["replications"] = {"used": n, "why": why, "looks": looks}
    folder.save_manifest()


def replications_sentence(manifest: dict) -> str | None:
    """'It took 24 paired replications: every verdict is clear or precise.' (auto runs only)"""
    decided = manifest.get("replications")
    if not decided:
        return None
    return f"It took {decided['used']} paired replications (replications: auto); stopped at {decided['why']}." \
        if decided["why"].startswith("the cap") else \
        f"It took {decided['used']} paired replications (replications: auto): {decided['why']}."


def finalize(folder: RunFolder) -> dict[str, pd.DataFrame]:
    """timeseries, summary and comparison from the saved runs, written to the folder and returned."""
    experiment = folder.plan
    if experiment.auto and experiment.decided is None:  # finishing a folder whose runs are all done
        experiment.decided = folder.manifest.get("replications", {}).get("used")
    missing = folder.missing()
    if missing:
        raise RuntimeError(f"{len(missing)} runs are not saved yet (first {missing[0]})")
    timeseries = assemble([folder.load_run(task) for task in experiment.tasks()])
    summary = stats.summarize(timeseries, experiment.scenario)
    comparison = stats.compare(summary, experiment.scenario)
    for name, frame in zip(FINAL_FILES, (timeseries, timeseries, summary, comparison)):
        folder.write(name, frame)
    showcase.write(folder.path, experiment.scenario)
    folder.finish()
    return {"timeseries": timeseries, "summary": summary, "comparison": comparison}


def resume(path: Path) -> RunFolder:
    return RunFolder.resume(path, "run", Experiment.from_description)


def run_in(folder: RunFolder, workers: int = 1, progress: bool = False) -> dict[str, pd.DataFrame]:
    """Run what is missing in `folder` (serially, or on `workers` local processes, or on the
    scheduler set with `executors.using`), then its final tables."""
    run_replications(folder, make_executor(min(workers, max(len(folder.missing()), 1))), progress=progress)
    return finalize(folder)


def run_scenario_tables(experiment: Experiment, workers: int = 1, progress: bool = False) -> dict[str, pd.DataFrame]:
    """The final tables of an experiment run in a temporary folder that is removed afterwards."""
    with kept_or_temporary(None, experiment.name) as where:
        return run_in(RunFolder.create(experiment, where), workers, progress)
