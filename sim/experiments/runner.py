"""The runner: one loop that computes tasks on an executor and hands each result on as it arrives.

    execute(folder, executor)      # every task of the folder's plan not saved yet, saved one by one

An executor has `run(fn, tasks)`, yielding (task, result) as runs finish in any order, and
`close()`. `SerialExecutor` runs them here, one after another; the Dask executors
(`executors.py`) run them on a local or a remote cluster. A run is a pure function of its
task, so the files do not depend on the executor.
"""

from __future__ import annotations

import sys
from typing import Callable, Iterable, Iterator, Protocol

import pandas as pd

from .design import RunTask


class Executor(Protocol):
    def run(self, fn: Callable, tasks: Iterable) -> Iterator[tuple]:
        """Yield (task, result) as runs finish, in any order."""

    def close(self) -> None:
        """Stop: cancel what has not started."""


class SerialExecutor:
    def run(self, fn, tasks):
        for task in tasks:
            yield task, fn(task)

    def close(self) -> None:
        pass


def simulate(task: RunTask) -> pd.DataFrame:
    """Run one market to the horizon: its monthly series with (point,) arm and replication in front."""
    from ..market import Market

    market = Market(firms=[dict(f) for f in task.firms], seed=task.seed, datacollector=False, share_warm_up=True,
                    **task.market)
    monthly = market.run().monthly()
    release(market)
    monthly.insert(0, "replication", task.replication)
    monthly.insert(0, "arm", task.arm)
    if task.point is not None:
        monthly.insert(0, "point", task.point)
    return monthly


def release(model) -> None:
    """Let a finished model be freed. Mesa 3.3's `Agent._ids` (a class-level dict keyed by
    model) keeps every model ever built alive (mesa issue #3179, fixed upstream by #3180), so
    a worker running thousands of runs would grow without bound."""
    import mesa

    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def run_all(executor: Executor, fn: Callable, tasks: Iterable, on_result: Callable, *, progress: bool = False,
            total: int | None = None, done: int = 0, desc: str = "", close: bool = True) -> None:
    """Run `tasks` on `executor`, handing each (task, result) to `on_result` as it arrives
    (so it is saved before the next), with a progress bar on stderr; closes the executor
    unless told not to (a caller that runs several batches on it)."""
    bar = None
    if progress:
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: workers may be forked from this process
        bar = tqdm(total=total, initial=done, unit="run", desc=desc, file=sys.stderr, dynamic_ncols=True)
    try:
        for task, result in executor.run(fn, tasks):
            on_result(task, result)
            if bar is not None:
                bar.update()
    finally:
        if close:
            executor.close()
        if bar is not None:
            bar.close()


def execute(folder, executor: Executor | None = None, progress: bool = True, fn: Callable = simulate,
            on_saved: Callable | None = None, close: bool = True) -> None:
    """Compute every task of `folder`'s plan not saved yet with `fn`, saving each as it arrives;
    `on_saved(task, count)` is called after each save. Closes the executor unless `close` is False."""
    plan = folder.plan
    todo = (task for task in plan.tasks() if not folder.has_run(task))
    count = 0

    def save(task, result) -> None:
        nonlocal count
        folder.save_run(task, result)
        count += 1
        if on_saved is not None:
            on_saved(task, count)

    run_all(executor or SerialExecutor(), fn, todo, save, progress=progress, total=plan.total,
            done=folder.done_count(), desc=f"{plan.name} {plan.kind}".strip(), close=close)
