"""`batch_run` over `Market` with the same rows on Mesa 3.3, 3.4 and 3.5 (see `sim.mesa_compat`)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import mesa

from .market import Market
from .mesa_compat import MESA_VERSION


def batch_run(
    parameters: Mapping[str, Any],
    *,
    seeds: Iterable[int | None] = (None,),
    data_collection_period: int = -1,
    number_processes: int | None = 1,
    display_progress: bool = False,
) -> list[dict[str, Any]]:
    """Mesa's `batch_run` over `Market`, with the same rows on Mesa 3.3 to 3.5.

    `parameters` maps `Market` keywords to a value or a list of values (every combination is
    run, as in Mesa); each combination runs once per seed in `seeds`. A market runs to its own
    horizon (`months`, which can be swept like any parameter). Rows are Mesa's: `RunId`,
    `iteration` (the seed's position), `Step` (the month), the keywords, `seed`, and every
    DataCollector column of that month: month 0 to the horizon with `data_collection_period=1`,
    every k-th month with k, the last month with -1. Rows come sorted by run and month.

    What the adapter irons out: from Mesa 3.4, seeds given in `parameters` are overwritten by
    batch_run's own `rng` (runs silently unseeded) and `iterations` is deprecated; up to Mesa 3.4,
    batch_run runs `max_steps + 1` steps and never reads the month collected after the last step.
    Mesa 4 removes `batch_run`: there this raises, and Grapevine's own runner (`grapevine run`) is the way.
    """
    if not hasattr(mesa, "batch_run"):
        raise RuntimeError(
            f"batch_run is not available with Mesa {mesa.__version__} (Mesa 4 removed it): "
            "run scenarios with `grapevine run`, or install mesa<4"
        )
    taken = sorted({"seed", "rng"} & set(parameters))
    if taken:
        raise ValueError(f"parameters[{taken[0]!r}] is not allowed: give the seeds as batch_run(..., seeds=[...])")
    if data_collection_period != -1 and not (isinstance(data_collection_period, int) and data_collection_period >= 1):
        raise ValueError(f"data_collection_period = {data_collection_period!r} is not allowed: "
                         "-1 (the last month) or a whole number >= 1 (every k-th month)")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds = [] is not allowed: give at least one seed (None for a fresh one)")
    horizon = 10**9  # each market stops itself at its `months`
    model = Market if MESA_VERSION >= (3, 5) else _ReadToTheLastMonth
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa 3.4+: one run per seed and combination
        rows = mesa.batch_run(model, parameters, rng=seeds, max_steps=horizon,
                              data_collection_period=data_collection_period, number_processes=number_processes,
                              display_progress=display_progress)
    else:  # Mesa 3.3: the seeds as the outermost parameter, then rows numbered and ordered as 3.4+ does
        from mesa.batchrunner import _make_model_kwargs

        combinations = len(_make_model_kwargs(parameters))
        rows = mesa.batch_run(model, {"seed": seeds, **parameters}, iterations=1, max_steps=horizon,
                              data_collection_period=data_collection_period, number_processes=number_processes,
                              display_progress=display_progress)
        first = ("RunId", "iteration", "Step", *parameters, "seed")
        rows = [{"RunId": row["RunId"], "iteration": row["RunId"] // combinations, "Step": row["Step"],
                 **{key: row[key] for key in first[3:]}, **{k: v for k, v in row.items() if k not in first}}
                for row in rows]
    if model is _ReadToTheLastMonth and data_collection_period > 1:
        rows = [row for row in rows if row["Step"] % data_collection_period == 0]  # up to 3.4, the last month too
    return sorted(rows, key=lambda row: (row["RunId"], row["Step"]))


class _ReadToTheLastMonth(Market):
    """A `Market` that takes one idle step after its horizon (batch_run of Mesa 3.3 and 3.4 only).

    Up to Mesa 3.4, batch_run reads the rows of collections 0 .. steps-1, as if `collect()` ran
    before each step; the market collects after each step, so without the idle step its last
    month is never read. The idle step changes nothing in the market. (Same signature as
    `Market`: Mesa 3.4 reads it to pass the seed as `seed`.)
    """

    _reached_horizon = False

    def step(self) -> None:
        if self._reached_horizon:
            self.running = False
            return
        super().step()
        self._reached_horizon, self.running = not self.running, True
