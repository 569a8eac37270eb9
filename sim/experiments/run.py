"""A scenario's comparison, start to finish: run every arm x replication, then the final tables.

    folder = RunFolder.create(Experiment.single(scenario))
    runner.execute(folder, executor)
    tables = finalize(folder)        # timeseries, summary, comparison (also written to the folder)

The final files depend only on the saved runs, so an interrupted run finished with `--resume`
ends with the same files as an uninterrupted one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import showcase, stats
from .design import Experiment
from .executors import make_executor
from .folder import RunFolder, assemble, kept_or_temporary
from .runner import execute

FINAL_FILES = ("timeseries.parquet", "timeseries.csv", "summary.csv", "comparison.csv")


def finalize(folder: RunFolder) -> dict[str, pd.DataFrame]:
    """timeseries, summary and comparison from the saved runs, written to the folder and returned."""
    experiment = folder.plan
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
    todo = len(folder.missing())
    execute(folder, make_executor(min(workers, max(todo, 1))), progress=progress)
    return finalize(folder)


def run_scenario_tables(experiment: Experiment, workers: int = 1, progress: bool = False) -> dict[str, pd.DataFrame]:
    """The final tables of an experiment run in a temporary folder that is removed afterwards."""
    with kept_or_temporary(None, experiment.name) as where:
        return run_in(RunFolder.create(experiment, where), workers, progress)
