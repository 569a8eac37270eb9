"""Results: a finished comparison as one object, read by everything that draws or reports.

    results = sim.run_scenario("quickstart", replications=4)      # or Results.load("results/quickstart/...")
    results.verdicts          # the sentences
    results.comparison        # paired differences with 95% intervals, per arm (or firm) and KPI
    results.summary           # each run's KPIs
    results.timeseries        # every month of every run
    results.plot("retention") # a matplotlib figure (shown inline in a notebook)
    results.save("my-folder") # the tables, the manifest and showcase data, as `grapevine run` writes them
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from ..experiments import robustness, showcase, stats, verdicts
from ..experiments.folder import atomic_text, new_folder, write_table
from ..experiments.run import FINAL_FILES
from ..scenario import Groups, Scenario
from ..sectors import churn_sentence


def _read_or_none(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:  # a pass with nothing to vary
        return pd.DataFrame()


# The figures a Results can draw: name -> (order, draw(results), applies(results)); `sim.outputs.plots`
# registers them with @figure (as policies register themselves), so this module never imports it.
FIGURES: dict[str, tuple[int, Callable, Callable]] = {}


def figure(name: str, order: int, applies: Callable = lambda results: True) -> Callable:
    """Register a figure function under `name` (its file stem), at place `order` in the report."""

    def register(draw: Callable) -> Callable:
        FIGURES[name] = (order, draw, applies)
        return draw

    return register


@dataclass
class Results:
    """The tables of a finished comparison, its scenario and its manifest."""

    scenario: Scenario
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    comparison: pd.DataFrame
    manifest: dict = field(default_factory=dict)
    path: Path | None = None
    showcase: dict | None = field(default=None, repr=False)
    robustness: pd.DataFrame | None = field(default=None, repr=False)  # robustness.csv, if the pass ran

    # --- reading and writing ---------------------------------------------------------------------
    @classmethod
    def load(cls, folder: str | Path) -> Results:
        """Read a finished run folder (written by `grapevine run` or `Results.save`)."""
        path = Path(folder)
        manifest = json.loads((path / "manifest.json").read_text())
        if (path / "timeseries.parquet").exists():
            timeseries = pd.read_parquet(path / "timeseries.parquet")
        else:
            timeseries = pd.read_csv(path / "timeseries.csv")
        robust = path / robustness.FILE
        return cls(scenario=Scenario.model_validate(manifest["experiment"]["scenario"]), timeseries=timeseries,
                   summary=pd.read_csv(path / "summary.csv"), comparison=pd.read_csv(path / "comparison.csv"),
                   manifest=manifest, path=path, showcase=showcase.read(path),
                   robustness=_read_or_none(robust))

    def save(self, folder: str | Path) -> Path:
        """Write the final tables, the manifest and the showcase data into a new `folder`."""
        path = new_folder(self.scenario.name, Path(folder))
        for name, frame in zip(FINAL_FILES, (self.timeseries, self.timeseries, self.summary, self.comparison)):
            write_table(path / name, frame)
        atomic_text(path / "manifest.json", json.dumps(self.manifest, indent=2) + "\n")
        if self.showcase is None:
            self.showcase = showcase.compute(self.scenario)
        showcase.write(path, self.scenario, self.showcase)
        if self.robustness is not None:
            write_table(path / robustness.FILE, self.robustness)
        self.path = path
        return path

    # --- what was compared -------------------------------------------------------------------------
    @property
    def groups(self) -> Groups:
        return self.scenario.groups

    @property
    def head_to_head(self) -> bool:
        return self.groups.head_to_head

    @property
    def baseline(self) -> str:
        return self.groups.baseline

    @property
    def names(self) -> list[str]:
        """The compared arms (or, head to head, the firms), baseline wherever the scenario put it."""
        return list(self.groups.names)

    @property
    def replications(self) -> int:
        return int(self.timeseries["replication"].nunique())

    @property
    def months(self) -> int:
        return int(self.timeseries["month"].max())

    def focal(self) -> pd.DataFrame:
        """The compared series: the focal firm in every arm, or every firm head to head; column `group`."""
        return self.groups.rows(self.timeseries)

    def focal_summary(self) -> pd.DataFrame:
        return self.groups.rows(self.summary)

    def wide(self, values: pd.Series | str) -> dict[str, pd.DataFrame]:
        """Per group: a table month x replication of `values` (a column name or a series on `focal()`)."""
        frame = self.focal()
        column = frame[values] if isinstance(values, str) else values.reindex(frame.index)
        frame = frame.assign(_value=column)
        return {g: frame[frame["group"] == g].pivot(index="month", columns="replication", values="_value")
                for g in self.names}

    def comparison_row(self, group: str, kpi: str) -> pd.Series:
        return verdicts.row(self.comparison, group, kpi)

    def between(self, x: str, y: str) -> Results:
        """The same runs compared another way: `x` against `y` as the baseline (any two arms, or
        firms head to head; the pairing by replication holds between any two)."""
        for name in (x, y):
            if name not in self.names:
                raise ValueError(f"{name!r} is not an {self.groups.word} of {self.scenario.name}: choose one of "
                                 f"{', '.join(self.names)}")
        if x == y:
            raise ValueError(f"compare two different {self.groups.word}s, not {x!r} with itself")
        compare = self.scenario.compare
        if self.head_to_head:
            scenario = self.scenario.model_copy(update={"compare": compare.model_copy(update={"baseline": y})})
            keep = self.summary
        else:
            arms = [compare.arms[self.names.index(y)], compare.arms[self.names.index(x)]]
            scenario = self.scenario.model_copy(
                update={"compare": compare.model_copy(update={"baseline": y, "arms": arms})})
            keep = self.summary[self.summary["arm"].isin([x, y])]
        comparison = stats.compare(keep, scenario)
        if self.head_to_head:
            comparison = comparison[comparison["compared"].isin([x, y])].reset_index(drop=True)
        return Results(scenario, self.timeseries, keep, comparison, self.manifest, self.path, self.showcase)

    # --- words ------------------------------------------------------------------------------------
    @property
    def verdicts(self) -> list[str]:
        """One sentence per compared arm (or firm): its paired difference from the baseline."""
        return verdicts.verdicts(self.comparison, self.scenario, self.focal_summary())

    @property
    def robustness_lines(self) -> list[str]:
        """One line per compared arm (or firm): what its verdict holds under, and what flips it."""
        if self.robustness is None or self.robustness.empty:
            return []
        return robustness.lines(self.robustness, self.scenario, self.comparison)

    def table(self) -> str:
        """The comparison as a text table."""
        return verdicts.comparison_table(self.comparison, self.scenario)

    def churn_sentence(self) -> str:
        """The baseline's simulated churn beside the published churn of the scenario's sector."""
        return churn_sentence(self.scenario.sector, self.baseline, stats.baseline_churn(self.timeseries, self.scenario),
                              calibrated=self.scenario.posterior is not None)

    # --- pictures ---------------------------------------------------------------------------------
    def figures(self) -> dict[str, Callable]:
        """The figures that apply to these results, by name, in report order."""
        return {name: draw for name, (order, draw, applies) in sorted(FIGURES.items(), key=lambda item: item[1][0])
                if applies(self)}

    def plot(self, name: str = "poster"):
        """One figure by name ('poster', 'retention', 'market-share', 'money', 'moods', 'word-of-mouth',
        'network'): a matplotlib Figure, which shows itself in a notebook."""
        drawers = self.figures()
        if name not in drawers:
            raise ValueError(f"plot {name!r} is not available here: choose one of {', '.join(drawers)}")
        return drawers[name](self)

    def __repr__(self) -> str:
        where = f" from {self.path}" if self.path else ""
        return (f"Results({self.scenario.name}{where}: {len(self.names)} {self.groups.word}s x "
                f"{self.replications} replications)\n" + self.table() + "\n" + "\n".join(f"- {v}" for v in self.verdicts))
