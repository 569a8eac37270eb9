"""Executors: serial, a local Dask cluster, an existing Dask cluster; the same files from each,
a worker killed mid-sweep, loopback only."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import psutil
import pytest

from sim.cli import main
from sim.experiments import RunFolder, executors, sweep
from sim.experiments.runner import SerialExecutor, execute, simulate
from sim.scenario import Scenario, InputError

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.cluster

MARKET = {"n_people": 300, "months": 8, "contract_months": 6}


def tiny_sweep(points=3, replications=2) -> Scenario:
    return Scenario.model_validate({
        "name": "tiny-sweep", "seed": 7, "replications": replications, "market": MARKET,
        "firms": [{"name": "Telco", "failure_rate": 0.05, "policies": ["RenewalCall"]}],
        "compare": {"baseline": "ignore", "arms": [
            {"name": "ignore"},
            {"name": "recover", "add": [{"kind": "ServiceRecovery", "effort": 0.5}]}]},
        "sweep": {"parameters": {"firms.Telco.failure_rate": [round(0.02 + 0.02 * i, 3) for i in range(points)]}},
    })


def simulate_slowly(task):
    """A run slow enough that the workers are still busy when a test looks at them: the tiny
    markets alone finish in milliseconds, so every run in flight can be done by then."""
    time.sleep(0.25)
    return simulate(task)


def same_files(a: Path, b: Path):
    for name in sweep.FINAL_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "sweep"
    folder = RunFolder.create(sweep.design(tiny_sweep(points=4)), out)
    execute(folder, progress=False)
    sweep.finalize(folder)
    return out


@pytest.fixture(scope="module")
def cluster():
    """A cluster the tests treat as remote: scheduler and two worker processes on loopback."""
    # its web pages at a free port (None would still take 8787, which another cluster may hold)
    with distributed.LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as c:
        yield c


def children(process: psutil.Process) -> set[int]:
    """Child processes, without multiprocessing's resource tracker (it lives as long as we do)."""
    out = set()
    for child in process.children(recursive=True):
        try:
            if not any("resource_tracker" in part for part in child.cmdline()):
                out.add(child.pid)
        except psutil.NoSuchProcess:
            pass
    return out


def listening(process: psutil.Process) -> list[str]:
    found = []
    for proc in [process, *process.children(recursive=True)]:
        try:
            found += [c.laddr.ip for c in proc.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        except psutil.NoSuchProcess:
            pass
    return found


def test_which_executor():
    assert isinstance(executors.make_executor(1), SerialExecutor)
    assert executors.scheduler_from("tcp://10.1.2.3:8786", None) == "tcp://10.1.2.3:8786"
    with pytest.raises(InputError):
        executors.scheduler_from("tcp://10.1.2.3:8786", 2)


def test_environment_variable_names_the_scheduler_unless_workers_are_given(monkeypatch):
    monkeypatch.setenv(executors.ENV_SCHEDULER, "tcp://10.9.9.9:8786")
    assert executors.scheduler_from(None, None) == "tcp://10.9.9.9:8786"
    assert executors.scheduler_from(None, 2) is None and executors.scheduler_from(None, 1) is None
    monkeypatch.delenv(executors.ENV_SCHEDULER)
    assert executors.scheduler_from(None, None) is None


def test_unreachable_or_malformed_scheduler_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(InputError, match="not a Dask address"):
        executors.DaskExecutor(scheduler="http://example.org")
    started = time.monotonic()
    with pytest.raises(InputError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        executors.DaskExecutor(scheduler="127.0.0.1:9", connect_timeout=2)
    assert time.monotonic() - started < 30


def test_local_cluster_listens_on_loopback_only_and_stops(serial, tmp_path):
    me = psutil.Process()
    before = children(me)
    executor = executors.DaskExecutor(workers=2)
    try:
        addresses = listening(me)
        assert addresses and set(addresses) == {"127.0.0.1"}, addresses
        workers = executor.client.scheduler_info()["workers"]
        assert len(workers) == 2 and all(a.startswith("tcp://127.0.0.1:") for a in workers)
        quiet = executor.client.run(lambda: executors.heartbeat_cut_by_shutdown in
                                    logging.getLogger("distributed.worker").filters)
        assert list(quiet.values()) == [True, True], "workers would print Dask's shutdown race"
        profiling = executor.client.run(lambda: __import__("dask").config.get("distributed.worker.profile.enabled"))
        assert list(profiling.values()) == [False, False], "workers sample their stacks for nobody"
        clocks = ("distributed.admin.tick.interval", "distributed.worker.memory.monitor-interval")
        seen = executor.client.run(lambda: [__import__("dask").config.get(key) for key in clocks])
        assert list(seen.values()) == [["200ms", "500ms"]] * 2, "workers wake Dask's clocks 50 times a second"
        folder = RunFolder.create(sweep.design(tiny_sweep(points=4)), tmp_path / "local")
        execute(folder, executor, progress=False)  # closes the executor
        sweep.finalize(folder)
    finally:
        executor.close()
    same_files(serial, tmp_path / "local")
    deadline = time.monotonic() + 20
    while children(me) - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not children(me) - before, "worker processes left running"


def test_only_a_heartbeat_cut_by_the_shutdown_is_left_unreported():
    from distributed.comm.core import CommClosedError

    def record(message, error=None):
        exc_info = (type(error), error, None) if error else None
        return logging.LogRecord("distributed.worker", logging.ERROR, __file__, 1, message, None, exc_info)

    heartbeat = "Failed to communicate with scheduler during heartbeat."
    assert not executors.heartbeat_cut_by_shutdown(record(heartbeat, CommClosedError("Stream is closed")))
    assert executors.heartbeat_cut_by_shutdown(record(heartbeat, ConnectionRefusedError("refused")))
    assert executors.heartbeat_cut_by_shutdown(record("Compute Failed", CommClosedError("Stream is closed")))
    assert executors.heartbeat_cut_by_shutdown(record("Worker stream died during communication"))


def test_remote_scheduler_gives_the_same_files(serial, cluster, tmp_path, capsys):
    scenario_file = tmp_path / "tiny.yaml"
    scenario_file.write_text(tiny_sweep(points=4).model_dump_json(exclude={"sweep"})[:-1]
                             + ', "sweep": ' + tiny_sweep(points=4).sweep.model_dump_json(exclude_none=True) + "}")
    out = tmp_path / "remote"
    assert main(["sweep", str(scenario_file), "--out", str(out), "--scheduler", cluster.scheduler_address]) == 0
    err = capsys.readouterr().err
    assert f"the Dask cluster at {cluster.scheduler_address}" in err
    assert "with other code than this machine" not in err  # the workers are on this machine
    same_files(serial, out)


def test_workers_whose_numpy_maths_differ_are_named(cluster, monkeypatch, capsys):
    monkeypatch.setattr(executors, "numpy_math", lambda: "as-if-elsewhere")  # this client's side only
    executors.DaskExecutor(scheduler=cluster.scheduler_address).close()
    err = capsys.readouterr().err
    assert "note: 2 of the 2 worker(s) of" in err and "compute numpy's exp and log with other code" in err


def test_a_worker_killed_mid_sweep_loses_nothing(serial, cluster, tmp_path):
    """Kill a worker process that is running runs: the scheduler moves them to the other
    worker (the nanny restarts the dead one), and the files equal the serial ones."""
    executor = executors.DaskExecutor(scheduler=cluster.scheduler_address)
    client = executor.client
    killed = {}

    def kill_a_busy_worker(task, count):
        assert len(executor._futures) <= max(executor.min_window, 2 * 2)  # a bounded window in flight
        if count == 3 and not killed:
            busy = [w for w, keys in client.processing().items() if keys]
            assert busy, "no worker is running anything"
            pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            running = client.processing()[busy[0]]  # read before the kill: after it the scheduler may drop them
            os.kill(pid, signal.SIGKILL)
            killed.update(pid=pid, address=busy[0], keys=running)

    out = tmp_path / "killed"
    folder = RunFolder.create(sweep.design(tiny_sweep(points=4)), out)
    execute(folder, executor, progress=False, fn=simulate_slowly, on_saved=kill_a_busy_worker)
    sweep.finalize(folder)
    assert killed["keys"], "the killed worker was running runs"
    assert not psutil.pid_exists(killed["pid"]) or psutil.Process(killed["pid"]).status() == psutil.STATUS_ZOMBIE
    same_files(serial, out)
    assert folder.done_count() == 4 * 4


def test_interrupted_local_cluster_sweep_resumes_identically(serial, tmp_path):
    def stop(task, count):
        if count == 6:
            raise KeyboardInterrupt

    out = tmp_path / "interrupted"
    folder = RunFolder.create(sweep.design(tiny_sweep(points=4)), out)
    with pytest.raises(KeyboardInterrupt):
        execute(folder, executors.DaskExecutor(workers=2), progress=False, on_saved=stop)
    assert 6 <= folder.done_count() < 16
    assert main(["sweep", "--resume", str(out), "--quiet"]) == 0
    same_files(serial, out)
