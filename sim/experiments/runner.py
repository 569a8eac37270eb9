"""The runner: one loop that computes tasks on an executor and hands each result on as it arrives.

    execute(folder, executor)      # every task of the folder's plan not saved yet, saved one by one

An executor has `run(fn, tasks)`, yielding (task, result) as runs finish in any order, and
`close()`. `SerialExecutor` runs them here, one after another; the Dask executors
(`executors.py`) run them on a local or a remote cluster. A run is a pure function of its
task, so the files do not depend on the executor.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import partial
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


@dataclass(frozen=True)
class Together:
    """Runs computed in one call on one worker: the arms of one replication at one point. They
    warm up the same way (no policy acts in the warm-up), so on one worker the second and later
    arms start from a copy of the first one's warm-up (`Market(share_warm_up=True)`) instead of
    warming up again on another worker."""

    tasks: tuple

    @property
    def key(self) -> str:
        return f"{self.tasks[0].key}+{len(self.tasks) - 1}"


def together(tasks: Iterable[RunTask]) -> list[Together]:
    """`tasks` grouped by (point, seed), in the order each group first appears."""
    groups: dict[tuple, list] = {}
    for task in tasks:
        groups.setdefault((task.point, task.seed), []).append(task)
    return [Together(tuple(group)) for group in groups.values()]


def run_together(fn: Callable, batch: Together) -> list:
    return [fn(task) for task in batch.tasks]


def run_all(executor: Executor, fn: Callable, tasks: Iterable, on_result: Callable, *, progress: bool = False,
            total: int | None = None, done: int = 0, desc: str = "", close: bool = True,
            size: Callable = lambda task: 1) -> None:
    """Run `tasks` on `executor`, handing each (task, result) to `on_result` as it arrives
    (so it is saved before the next), with a progress bar on stderr counting `size(task)` runs
    a task; closes the executor unless told not to (a caller that runs several batches on it)."""
    bar = None
    if progress:
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: workers may be forked from this process
        bar = tqdm(total=total, initial=done, unit="run", desc=desc, file=sys.stderr, dynamic_ncols=True)
    try:
        for task, result in executor.run(fn, tasks):
            on_result(task, result)
            if bar is not None:
                bar.update(size(task))
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
    todo = [task for task in plan.tasks() if not folder.has_run(task)]
    count = 0
    executor = executor or SerialExecutor()

    def save(task, result) -> None:
        nonlocal count
        folder.save_run(task, result)
        count += 1
        if on_saved is not None:
            on_saved(task, count)

    def save_together(batch: Together, results: list) -> None:
        for task, result in zip(batch.tasks, results):
            save(task, result)

    shown = dict(progress=progress, total=plan.total, done=folder.done_count(), desc=f"{plan.name} {plan.kind}".strip(),
                 close=close)
    if isinstance(executor, SerialExecutor):  # one process: the warm-ups are shared in the order given
        run_all(executor, fn, todo, save, **shown)
    else:  # workers: the arms of a replication go to one worker together
        run_all(executor, partial(run_together, fn), together(todo), save_together,
                size=lambda batch: len(batch.tasks), **shown)
