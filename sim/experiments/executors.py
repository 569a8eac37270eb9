"""Executors: where the runs of an experiment or a sweep are computed.

    serial         one run after another in this process (--workers 1, the default)
    local Dask     `--workers N`: a Dask LocalCluster of N single-threaded worker processes on
                   this machine, every socket on 127.0.0.1
    remote Dask    `--scheduler tcp://HOST:PORT` (or GRAPEVINE_SCHEDULER): the runs go to an
                   existing Dask cluster; the client talks to that address only

All three have the interface of `runner.Executor`: `run(fn, tasks)` yields (task, result)
as runs finish, in any order, and `close()`. A run is a pure function of its task (its seed
comes from the scenario seed and the replication, never from the order or place it ran), and
the caller writes each result to disk as it arrives, so the files are the same whichever
executor ran them. Only a bounded window of runs is in flight, so nothing accumulates in the
client however long the sweep.

Faults: a Dask worker that dies has its runs moved to other workers by the scheduler (a run
that has been on `distributed.scheduler.allowed-failures` + 1 dying workers is given up, with
an `ExecutorError`); a run that raises is retried `retries` times, then the error is raised.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import socket
import sys
import time
from typing import Callable, Iterable, Iterator

from ..errors import InputError
from .folder import code_hash, numpy_math
from .runner import SerialExecutor

ENV_SCHEDULER = "GRAPEVINE_SCHEDULER"
LOOPBACK = "127.0.0.1"
# Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also fixes glibc's mmap
# threshold at 128 KiB: every array of more than 16,000 people is then mapped and unmapped
# afresh, and a run of 200,000 people takes 3.5 times as long. A large mmap threshold undoes it.
WORKER_ENVIRON = {"MALLOC_MMAP_THRESHOLD_": str(64 * 2**20)}
# The local cluster's settings besides. Its workers' sampling profiler (a thread looking at every
# stack each 10 ms) feeds only the dashboard's profile page, which is not served; it took 3.4 ms
# of CPU a run of 10,000 people x 60 months (8.6 -> 5.2 ms outside the run, about 4%). Dask's
# clocks wake every process often: the event loop's health check every 20 ms, the worker's memory
# check every 100 ms, the system monitor every 500 ms. An idle 2-worker cluster took 100 ms of
# CPU a second that way (5% of 2 cores), 25 with the intervals below; they still see a blocked
# loop (warned after 3 s) and a worker outgrowing its memory within half a second.
LOCAL_CLUSTER_CONFIG = {**{f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_ENVIRON.items()},
                        "distributed.worker.profile.enabled": False,
                        "distributed.admin.tick.interval": "200ms",
                        "distributed.worker.memory.monitor-interval": "500ms",
                        "distributed.admin.system-monitor.interval": "2s"}

_scheduler: contextvars.ContextVar[str | None] = contextvars.ContextVar("grapevine_scheduler", default=None)


class ExecutorError(RuntimeError):
    """The cluster could not finish a run (its workers kept dying, or it cannot run grapevine)."""


def scheduler_from(option: str | None, workers: int | None) -> str | None:
    """The scheduler to use: --scheduler, else GRAPEVINE_SCHEDULER unless --workers was given."""
    if option:
        if workers is not None and workers > 1:
            raise InputError(["give --workers N (a local cluster) or --scheduler ADDRESS (an existing "
                                 "cluster), not both"])
        return option
    if workers is None:
        return os.environ.get(ENV_SCHEDULER) or None
    return None


@contextlib.contextmanager
def using(scheduler: str | None):
    """Within the block, `make_executor` sends the runs to `scheduler` (None: local)."""
    token = _scheduler.set(scheduler)
    try:
        yield
    finally:
        _scheduler.reset(token)


def make_executor(workers: int = 1, scheduler: str | None = None, **options):
    """Serial for one worker, a local Dask cluster for more, a remote one for a scheduler address."""
    scheduler = scheduler or _scheduler.get()
    if scheduler:
        return DaskExecutor(scheduler=scheduler, **options)
    if workers <= 1:
        return SerialExecutor()
    return DaskExecutor(workers=workers, **options)


# --- Dask -----------------------------------------------------------------------------------
def _worker_code(_dask_worker=None) -> tuple[str, bool, str]:
    """Runs on each worker: the hash of the grapevine code it would run, whether glibc's malloc
    is set up for large arrays (see WORKER_ENVIRON), and the fingerprint of its numpy's maths."""
    slow = "MALLOC_TRIM_THRESHOLD_" in os.environ and "MALLOC_MMAP_THRESHOLD_" not in os.environ
    return code_hash(), not slow, numpy_math()


def dask_setup(worker=None) -> None:
    """Preload of the local cluster's workers: Ctrl-C in the terminal reaches every process of
    the group; the workers leave it to the client, which stops them cleanly. A worker's
    heartbeat cut off by the cluster's own shutdown is not reported (`heartbeat_cut_by_shutdown`)."""
    import signal

    with contextlib.suppress(ValueError):  # only possible in the main thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    logger = logging.getLogger("distributed.worker")
    if heartbeat_cut_by_shutdown not in logger.filters:
        logger.addFilter(heartbeat_cut_by_shutdown)


def heartbeat_cut_by_shutdown(record: logging.LogRecord) -> bool:
    """False for Dask's "Failed to communicate with scheduler during heartbeat" when the
    connection was closed under it: a heartbeat in flight while the cluster stops its workers
    (dask/distributed#7105, open): a traceback after a run that had finished well, at 2 of 21
    stops of a 2-worker cluster watched. In a local cluster the scheduler lives in the client's
    process, so a connection closed under a heartbeat means that process is stopping anyway."""
    if not record.getMessage().startswith("Failed to communicate with scheduler during heartbeat"):
        return True
    from distributed.comm.core import CommClosedError

    error = record.exc_info[1] if record.exc_info else None
    return not isinstance(error, CommClosedError)


class DaskExecutor:
    """Runs on Dask: a LocalCluster on loopback (`workers`) or an existing cluster (`scheduler`).

    The client submits a bounded window of runs (twice the cluster's threads, at least
    `min_window`), hands each result on as it completes (`as_completed`) and submits the next,
    so results stream to the caller and the client's memory stays flat."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None, *, retries: int = 2,
                 min_window: int = 4, connect_timeout: float = 20.0, check_code: bool = True):
        if (workers is None) == (scheduler is None):
            raise ValueError("give workers (a local cluster) or scheduler (an address), one of the two")
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
            raise InputError(["--workers/--scheduler need Dask: pip install 'dask[distributed]'"]) from None
        self.retries, self.min_window = retries, min_window
        self.cluster = None
        self.client = None
        self._futures: dict = {}
        try:
            if scheduler is None:
                import dask

                with dask.config.set(LOCAL_CLUSTER_CONFIG):
                    self.cluster = LocalCluster(
                        host=LOOPBACK, n_workers=int(workers), threads_per_worker=1, processes=True,
                        # the scheduler's web pages (its health check) on loopback at a free port
                        # (dashboard_address=None alone still serves them, on port 8787)
                        dashboard_address=None, scheduler_kwargs={"dashboard_address": f"{LOOPBACK}:0"},
                        worker_dashboard_address=None, silence_logs=logging.ERROR,
                        preload=["sim.experiments.executors"],  # runs dask_setup (above) in each worker
                    )
                self.client = Client(self.cluster, set_as_default=False, direct_to_workers=False)
                self.address = self.cluster.scheduler_address
                self.where = f"a local Dask cluster of {workers} workers at {self.address}"
            else:
                self.address = _address(scheduler)
                _reachable(self.address)
                try:
                    self.client = Client(self.address, timeout=connect_timeout, set_as_default=False,
                                         direct_to_workers=False)  # talk to the scheduler only
                except (OSError, TimeoutError) as error:
                    raise InputError([f"cannot reach the Dask scheduler at {self.address} "
                                         f"({type(error).__name__}: {error}); is `dask scheduler` running "
                                         f"there, and is the address right?"]) from None
                self.where = f"the Dask cluster at {self.address}"
                if check_code:
                    self._check_workers()
        except BaseException:
            self.close()
            raise

    def _check_workers(self) -> None:
        """Every worker present must run the same grapevine code, or the results would differ."""
        try:
            found = self.client.run(_worker_code)
        except Exception as error:
            raise InputError([f"the workers of {self.address} cannot run grapevine ({type(error).__name__}: "
                                 f"{error}); install this grapevine on every worker "
                                 f"(pip install -e /path/to/grapevine)"]) from None
        mine, maths = code_hash(), numpy_math()
        # (digest, *_): a worker with other grapevine code may answer with fewer or more fields
        other = sorted(worker for worker, (digest, *_) in found.items() if digest != mine)
        if other:
            raise InputError([f"{len(other)} worker(s) of {self.address} run other grapevine code than "
                                 f"this client ({', '.join(other[:3])}); install the same version everywhere"])
        if not found:
            print(f"note: no workers at {self.address} yet; the runs wait for them", file=sys.stderr)
        unlike = sorted(worker for worker, (_, _, theirs) in found.items() if theirs != maths)
        if unlike:
            print(f"note: {len(unlike)} of the {len(found)} worker(s) of {self.address} compute numpy's exp and "
                  f"log with other code than this machine (another CPU family or platform): their runs may round "
                  f"a few values in the last bit otherwise than runs made here; a replication's arms still run "
                  f"together on one worker, so each paired difference comes from one machine", file=sys.stderr)
        slow = sorted(worker for worker, (_, fast, _) in found.items() if not fast)
        if slow:
            print(f"note: {len(slow)} worker(s) of {self.address} run with Dask's MALLOC_TRIM_THRESHOLD_ and no "
                  f"MALLOC_MMAP_THRESHOLD_: large markets run up to 3.5 times slower there; start the workers "
                  f"with MALLOC_MMAP_THRESHOLD_={WORKER_ENVIRON['MALLOC_MMAP_THRESHOLD_']} (see the README)",
                  file=sys.stderr)

    def _workers(self) -> dict:
        try:
            return self.client.scheduler_info(n_workers=-1)["workers"]
        except TypeError:  # older distributed
            return self.client.scheduler_info()["workers"]

    def threads(self) -> int:
        return sum(int(w.get("nthreads", 1)) for w in self._workers().values())

    def memory_limits(self) -> list[float]:
        """Each worker's memory limit in bytes (0: none set)."""
        return [float(w.get("memory_limit") or 0) for w in self._workers().values()]

    def run(self, fn: Callable, tasks: Iterable) -> Iterator[tuple]:
        from distributed import KilledWorker, as_completed

        tasks = iter(tasks)
        window, checked = max(self.min_window, 2 * self.threads()), time.monotonic()
        pending = self._futures
        done = as_completed(loop=self.client.loop)

        def submit_more() -> None:
            while len(pending) < window:
                task = next(tasks, None)
                if task is None:
                    return
                # one key prefix ("grapevine") for every run: the scheduler keeps statistics per
                # prefix forever; the random part keeps two sweeps on one cluster apart
                future = self.client.submit(fn, task, pure=False, retries=self.retries,
                                            key=("grapevine", _name(task), os.urandom(8).hex()))
                pending[future] = task
                done.add(future)

        submit_more()
        for future in done:
            task = pending.pop(future)
            try:
                result = future.result()
            except KilledWorker:
                raise ExecutorError(f"run {_name(task)} was on workers that died repeatedly (out of "
                                    f"memory?); the finished runs are saved, resume to retry") from None
            finally:
                future.release()
            yield task, result
            if time.monotonic() - checked > 2.0:  # the cluster may grow or shrink
                window, checked = max(self.min_window, 2 * self.threads()), time.monotonic()
            submit_more()

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                if self._futures:
                    self.client.cancel(list(self._futures), force=True)
            self._futures.clear()
            with contextlib.suppress(Exception):
                self.client.close(timeout=10)
            self.client = None
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=20)
            self.cluster = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _name(task) -> str:
    return str(getattr(task, "key", "run")).replace("/", "_")


def _reachable(address: str, timeout: float = 5.0) -> None:
    """A quick look before Dask's own connection (which waits its full timeout): is anything
    listening at a tcp address?"""
    scheme, _, rest = address.partition("://")
    host, _, port = rest.rpartition(":")
    if scheme != "tcp" or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]") or LOOPBACK, int(port)), timeout=timeout).close()
    except (OSError, OverflowError) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise InputError([f"cannot reach the Dask scheduler at {address} ({reason}); is `dask scheduler` running "
                          f"there, and is the address right?"]) from None


def _address(text: str) -> str:
    text = text.strip()
    if not text:
        raise InputError(["--scheduler: give the scheduler's address, e.g. tcp://10.0.0.5:8786"])
    if "://" not in text:
        text = f"tcp://{text}"
    scheme, _, rest = text.partition("://")
    if scheme not in ("tcp", "tls", "ucx", "ws", "wss") or not rest:
        raise InputError([f"--scheduler {text}: not a Dask address; write tcp://HOST:PORT"])
    return text
