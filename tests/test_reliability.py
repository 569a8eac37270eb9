"""Reliability: nothing shared, nothing half-written, every check before the first simulation.

One test per class of failure (issue 13): folders two commands would share, output that cannot
be written, scheduler mistakes, sizes the machine cannot hold, resumes of damaged or foreign run
files and of edited scenarios, and the Python API's bad values. Broken scenario files (edge
lists, infinite numbers, ...) are in tests/broken_scenarios/, run by tests/test_scenario.py.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import sim
from sim.cli import main
from sim.errors import InputError
from sim.experiments import Experiment, RunFolder, preflight
from sim.experiments import folder as folders
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
EDGES = Path(__file__).parent / "broken_scenarios" / "edges"
TINY_YAML = """\
name: tiny
seed: {seed}
replications: 2
market: {{n_people: 150, months: 4, warm_up_months: 2}}
firms: [{{name: Telco}}]
compare:
  arms: [{{name: a}}, {{name: b, add: [ServiceRecovery]}}]
"""
QUIET = ["--quiet", "--no-figures", "--robustness", "off"]
SWEEP = "sweep:\n  parameters:\n    firms[0].quality: [0.6, 0.7]\n"
SENSITIVITY = ("sensitivity:\n  samples: 2\n  replications: 2\n  parameters:\n"
               "    firms[0].quality: [0.6, 0.8]\n")


def tiny(folder: Path, seed: int = 1, name: str = "tiny.yaml", extra: str = "") -> Path:
    path = folder / name
    path.write_text(TINY_YAML.format(seed=seed) + extra)
    return path


def grapevine(*args, cwd=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


# --- 1. folders are never shared ----------------------------------------------------------------
@pytest.mark.slow
def test_two_runs_started_together_get_their_own_folders(tmp_path):
    """Started in the same second, two runs with different seeds write two folders, each whole."""
    for seed in (1, 2):
        tiny(tmp_path, seed, f"s{seed}.yaml")
    command = [sys.executable, "-m", "sim.cli", "run"]
    runs = [subprocess.Popen([*command, f"s{seed}.yaml", *QUIET], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    for process in runs:
        assert process.wait(timeout=120) == 0, process.stderr.read()
    folders_made = sorted((tmp_path / "results" / "tiny").iterdir())
    assert len(folders_made) == 2
    seeds = set()
    for path in folders_made:
        manifest = json.loads((path / "manifest.json").read_text())
        seed = manifest["experiment"]["scenario"]["seed"]
        seeds.add(seed)
        expected = {int(s) for s in manifest["seeds"].values()}
        assert set(pd.read_csv(path / "summary.csv")["seed"]) == expected  # no run of the other seed inside
    assert seeds == {1, 2}


def test_folders_are_taken_atomically(tmp_path, monkeypatch):
    """Many takers at once: every default folder is distinct, and one empty --out goes to one taker."""
    monkeypatch.chdir(tmp_path)
    barrier, made, refused = threading.Barrier(8), [], []

    def take(out):
        barrier.wait()
        try:
            made.append(folders.new_folder("same", out))
        except InputError as error:
            refused.append(error)

    threads = [threading.Thread(target=take, args=(None,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == 8 and not refused
    (tmp_path / "empty").mkdir()
    made.clear()
    threads = [threading.Thread(target=take, args=(tmp_path / "empty",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and len(refused) == 7


# --- 2. output that cannot be written: one line, exit 2, nothing written --------------------------
def test_results_that_is_a_file_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tiny(tmp_path)
    (tmp_path / "results").write_text("not a folder")
    assert main(["run", "tiny.yaml", *QUIET]) == 2
    assert "results is a file, not a folder" in one_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "tiny.yaml"]


@pytest.mark.parametrize("out", ["tiny.yaml/inside", "/proc/grapevine-out"])
def test_out_that_cannot_be_made_is_one_line(out, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tiny(tmp_path)
    for command in ("run", "sweep", "sensitivity"):
        extra = {"sweep": SWEEP, "sensitivity": SENSITIVITY}
        tiny(tmp_path, extra=extra.get(command, ""))
        assert main([command, "tiny.yaml", "--out", out, "--quiet"]) == 2
        assert "cannot" in one_line(capsys.readouterr().err)
        assert [p.name for p in tmp_path.iterdir()] == ["tiny.yaml"]


def test_an_unwritable_folder_is_refused_before_anything_runs(tmp_path, capsys, monkeypatch):
    """A read-only working folder (as root, who may write anywhere, the check itself is shown
    the folder as not writable)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    tiny(tmp_path)
    locked.chmod(0o555)
    if os.geteuid() == 0:
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: real(p, mode) and Path(p).resolve() != locked)
    monkeypatch.chdir(locked)
    ran = []
    monkeypatch.setattr("sim.experiments.runner.simulate", lambda task: ran.append(task))
    try:
        assert main(["run", "../tiny.yaml", *QUIET]) == 2
        assert "not writable" in one_line(capsys.readouterr().err)
        assert main(["run", "../tiny.yaml", "--out", str(locked / "out"), *QUIET]) == 2
        assert "not writable" in one_line(capsys.readouterr().err)
        assert not ran and list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_new_where_it_cannot_write_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("")
    assert main(["new", "a-file/plan"]) == 2
    assert "cannot be written" in one_line(capsys.readouterr().err)
    assert main(["new", "no-folder/plan"]) == 2
    assert "cannot be written" in one_line(capsys.readouterr().err)
    if os.geteuid() != 0:  # root writes in a read-only folder; the two above are real for everyone
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        monkeypatch.chdir(locked)
        assert main(["new", "plan"]) == 2
        assert "Permission denied" in one_line(capsys.readouterr().err)
    assert main(["new", "abc\n"]) == 2  # a name ending in a newline is no name
    assert "letters, digits" in one_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) in (["a-file"], ["a-file", "locked"])


def test_a_full_disk_is_refused_before_the_folder_and_cleaned_up_when_met(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tiny(tmp_path)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(preflight.shutil, "disk_usage", lambda p: usage._replace(free=10_000))
    assert main(["run", "tiny.yaml", *QUIET]) == 2
    assert "the disk is full" in one_line(capsys.readouterr().err)
    monkeypatch.setattr(preflight.shutil, "disk_usage", lambda p: usage._replace(free=2_000_000))
    assert main(["run", "tiny.yaml", "--set", "replications=200", *QUIET]) == 2
    assert "on disk" in one_line(capsys.readouterr().err)
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)

    def full(path, text):  # the disk fills up as the manifest is written
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(folders, "atomic_text", full)
    assert main(["run", "tiny.yaml", *QUIET]) == 2
    assert "No space left on device" in one_line(capsys.readouterr().err)
    assert main(["run", "tiny.yaml", "--out", "kept", *QUIET]) == 2
    capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml"]  # no results/, no kept/


# --- 3. scheduler mistakes: before the folder ------------------------------------------------------
@pytest.mark.parametrize("options", [["--scheduler", "nonsense://x"], ["--scheduler", "tcp://127.0.0.1:1"],
                                     ["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"]])
def test_scheduler_mistakes_write_no_folder(options, tmp_path):
    tiny(tmp_path)
    done = grapevine("run", "tiny.yaml", *options, *QUIET, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    one_line(done.stderr)
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.yaml"]


# --- 4. sizes: estimated, shown, refused when they cannot fit ----------------------------------------
def test_validate_shows_what_a_scenario_needs(capsys):
    assert main(["validate", "quickstart"]) == 0
    shown = capsys.readouterr().out
    assert "needs (replications: auto, at most): about" in shown  # quickstart asks for auto replications
    assert "of memory per run" in shown and "on disk" in shown and "adds the robustness pass" in shown


def test_a_long_plan_is_announced_with_its_time(tmp_path):
    path = tiny(tmp_path)
    plan = Experiment.single(load_scenario(path, ["replications=10000", "market.months=1200",
                                                  "market.n_people=100000"]))
    needs = preflight.estimate(plan)
    assert needs.runs == 20_000 and needs.seconds > 3600
    note = preflight.announce(needs, 2)
    assert note and "expected to take about" in note and "on 2 workers" in note
    assert preflight.announce(preflight.estimate(Experiment.single(load_scenario(path))), 1) is None


def test_more_local_workers_than_memory_allows_are_refused(monkeypatch):
    needs = preflight.Needs(runs=10, run_bytes=3e9, seconds=1.0, disk_bytes=1.0, largest="many people")
    monkeypatch.setattr(preflight, "machine_memory", lambda: (8e9, 8e9))
    preflight.check_memory(needs, workers=2)
    with pytest.raises(InputError, match="--workers 4: .* use --workers 2"):
        preflight.check_memory(needs, workers=4)
    with pytest.raises(InputError, match="this machine has 8 GB"):
        preflight.check_memory(preflight.Needs(10, 9e9, 1.0, 1.0, "many people"))


@pytest.mark.parametrize("network, degree", [("small_world", 10), ("small_world", 40), ("scale_free", 20),
                                             ("communities", 20), ("communities", 100), ("complete", 10)])
def test_the_memory_estimate_is_on_the_high_side_but_not_far(network, degree):
    """Targets set before measuring: the arrays a market allocates (numpy reports them to
    tracemalloc) peak below the estimate, and above half of it."""
    people = 40_000
    settings = {"n_people": people, "mean_degree": degree, "network": network, "months": 2, "warm_up_months": 1}
    scenario = load_scenario(ROOT / "scenarios" / "quickstart.yaml", [f"market.{k}={v}" for k, v in settings.items()])
    estimated = preflight.estimate(Experiment.single(scenario)).run_bytes - preflight.PROCESS_BYTES
    small = {**settings, "n_people": 200}  # the compiled kernels load from numba's cache at their first call
    sim.Market(seed=1, firms=scenario.firms_for(scenario.groups.runs[1]), **small).run()
    tracemalloc.start()
    try:
        market = sim.Market(seed=1, firms=scenario.firms_for(scenario.groups.runs[1]), **settings).run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert market.network.n == people
    assert estimated / 2 < peak < estimated, (peak, estimated)


# --- 5. resume trusts nothing -----------------------------------------------------------------------
def test_run_files_carry_their_stamp(tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(tiny(tmp_path)), "--out", str(out), *QUIET]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    stamp = json.loads(pq.read_metadata(out / "runs" / "b__r1.parquet").metadata[b"grapevine"])
    assert stamp == {"experiment_hash": manifest["experiment_hash"], "run": "b__r1", "arm": "b", "replication": 1,
                     "point": None, "seed": manifest["seeds"]["1"]}


def test_run_files_are_the_bytes_pandas_conversion_writes(tmp_path):
    """The run files' quick conversion (`folder.arrow_table`, schema kept from the first frame)
    writes the same file as pyarrow's pandas conversion would, whatever the frame holds."""
    import pyarrow as pa

    monthly = sim.Market(seed=3, n_people=600, months=4, warm_up_months=2, datacollector=False).run().monthly()
    monthly.insert(0, "replication", 2)
    monthly.insert(0, "arm", "ServiceRecovery")
    monthly.insert(0, "point", 1)
    frames = [monthly, monthly.assign(clv=np.nan, arm=pd.array([None] * len(monthly), dtype=monthly["arm"].dtype)),
              monthly.iloc[:0], monthly.assign(point=7, churn_rate=monthly["churn_rate"] * 3),
              monthly.assign(replication=pd.array([None] + [2] * (len(monthly) - 1), dtype="Int64"))]
    for i, frame in enumerate(frames * 2):  # the second time round, every layout is known
        quick, slow = tmp_path / f"quick{i}.parquet", tmp_path / f"slow{i}.parquet"
        pq.write_table(folders.arrow_table(frame), quick)
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), slow)
        assert quick.read_bytes() == slow.read_bytes(), i
    assert any(signature[0] == tuple(monthly.columns) for signature in folders._ARROW_LAYOUTS)


def test_resume_reruns_truncated_and_foreign_run_files_and_says_so(tmp_path, capsys):
    path = tiny(tmp_path)
    reference, damaged, other = tmp_path / "reference", tmp_path / "damaged", tmp_path / "other"
    assert main(["run", str(path), "--out", str(reference), *QUIET]) == 0
    assert main(["run", str(path), "--out", str(damaged), *QUIET]) == 0
    assert main(["run", str(path), "--set", "seed=7", "--out", str(other), *QUIET]) == 0
    for name in ("summary.csv", "comparison.csv"):
        (damaged / name).unlink()
    run_file = damaged / "runs" / "a__r0.parquet"
    run_file.write_bytes(run_file.read_bytes()[:300])  # truncated
    shutil.copy(other / "runs" / "b__r1.parquet", damaged / "runs" / "b__r1.parquet")  # another seed's
    capsys.readouterr()
    assert main(["run", "--resume", str(damaged), *QUIET]) == 0
    err = capsys.readouterr().err
    assert "runs/a__r0.parquet is truncated or unreadable: it is removed and will be run again" in err
    assert "runs/b__r1.parquet belongs to another experiment (seed" in err
    for name in ("summary.csv", "comparison.csv", "timeseries.parquet"):
        assert (reference / name).read_bytes() == (damaged / name).read_bytes(), name


def test_resume_on_a_machine_with_other_numpy_maths_says_so(tmp_path, capsys):
    path = tiny(tmp_path)
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), *QUIET]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["numpy_math"] == folders.numpy_math()
    (out / "runs" / "a__r1.parquet").unlink()
    manifest["numpy_math"] = "0123456789ab"  # as if started on a CPU of another family
    (out / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(["run", "--resume", str(out), *QUIET]) == 0
    err = capsys.readouterr().err
    assert "saved runs were made on a machine whose numpy computes exp and log with other code" in err
    assert (out / "runs" / "a__r1.parquet").exists()


def numpy_cpu_features() -> dict:
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # numpy 1.26
        from numpy.core._multiarray_umath import __cpu_features__
    return __cpu_features__


@pytest.mark.skipif(not numpy_cpu_features().get("AVX512F"), reason="numpy has no AVX-512 code to turn off on this CPU")
def test_numpy_maths_fingerprint_tells_avx512_from_other_cpus():
    """numpy's exp and log take other code without AVX-512 (NPY_DISABLE_CPU_FEATURES stands in for
    a CPU without it): the fingerprint a manifest records must tell the two apart."""
    code = "from sim.experiments.folder import numpy_math; print(numpy_math())"
    avx512 = "X86_V4 AVX512F AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR"  # numpy's names for it
    here = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    without = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                             env={**os.environ, "NPY_DISABLE_CPU_FEATURES": avx512})
    assert here.stdout.strip() == folders.numpy_math()
    assert without.stdout.strip() != here.stdout.strip()


def test_resume_refuses_an_edited_scenario_and_says_what_changed(tmp_path, capsys):
    path = tiny(tmp_path)
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), *QUIET]) == 0
    (out / "runs" / "a__r1.parquet").unlink()
    path.write_text(path.read_text().replace("n_people: 150", "n_people: 160").replace("seed: 1", "seed: 3"))
    capsys.readouterr()
    assert main(["run", "--resume", str(out), *QUIET]) == 2
    err = capsys.readouterr().err
    assert "tiny.yaml changed since this run started: seed was 1, is now 3" in err
    assert "market.n_people was 150, is now 160" in err and "restore" in err and "Traceback" not in err
    assert not (out / "runs" / "a__r1.parquet").exists()
    path.write_text(path.read_text().replace("n_people: 160", "n_people: 150").replace("seed: 3", "seed: 1"))
    assert main(["run", "--resume", str(out), *QUIET]) == 0


def test_resume_of_a_folder_of_another_kind_says_which(tmp_path, capsys):
    path = tiny(tmp_path, extra=SWEEP)
    out = tmp_path / "sweep"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["run", "--resume", str(out)]) == 2
    assert f"this is a sweep folder, not a run folder; finish it with `grapevine sweep --resume {out}`" in \
        one_line(capsys.readouterr().err)


@pytest.mark.slow
def test_sensitivity_resumes_to_the_same_tables(tmp_path, capsys):
    path = tiny(tmp_path, extra=SENSITIVITY)
    out = tmp_path / "sensitivity"
    tables = ("points.csv", "indices.csv", "winners.csv", "deciders.csv")
    assert main(["sensitivity", str(path), "--out", str(out), "--quiet"]) == 0
    whole = {name: (out / name).read_bytes() for name in tables}
    runs = sorted((out / "runs").rglob("*.parquet"))
    for run_file in runs[: len(runs) // 2]:  # as if interrupted half-way
        run_file.unlink()
    for name in tables:
        (out / name).unlink()
    assert main(["sensitivity", "--resume", str(out), "--quiet"]) == 0
    assert len(list((out / "runs").rglob("*.parquet"))) == len(runs)
    for name in tables:
        assert (out / name).read_bytes() == whole[name], name


# --- 6. the Python API: ValueError naming the parameter ----------------------------------------------
@pytest.mark.parametrize("make, named", [
    (lambda: sim.Market(policies=42), "policies"),
    (lambda: sim.Market(firms="abc"), "firms"),
    (lambda: sim.Market(firms=[42]), "firms[0]"),
    (lambda: sim.Market(seed=-1), "seed = -1"),
    (lambda: sim.Market(seed="x"), "seed = 'x'"),
    (lambda: sim.Market(price=float("inf")), "price = inf"),
    (lambda: sim.Market(n_people=50, quality=float("nan")), "quality = nan"),
    (lambda: sim.Market(n_people=50, months=1).run(months=-5), "months = -5"),
    (lambda: sim.Market(n_people=50, months=1).run(months="x"), "months = 'x'"),
    (lambda: sim.run_scenario(42), "scenario = 42"),
    (lambda: sim.run_scenario("quickstart", out=42), "out = 42"),
    (lambda: sim.run_scenario("quickstart", n_people=float("inf")), "market.n_people = inf"),
    (lambda: sim.run_scenario("quickstart", workers="2"), "workers = '2'"),
])
def test_the_python_api_names_the_bad_parameter(make, named):
    with pytest.raises(ValueError) as error:
        make()
    assert type(error.value) in (ValueError, InputError)
    assert named in str(error.value)


def test_run_months_zero_does_nothing_and_more_runs_on():
    market = sim.Market(n_people=60, months=3)
    assert market.run(months=0).month == 0
    assert market.run(months=2).month == 2 and market.run(months=np.int64(1)).month == 3


# --- 7. the smaller ones -------------------------------------------------------------------------------
def test_dashboard_port_mistakes_are_one_line(capsys):
    done = grapevine("dashboard", "--port", "70000")
    assert done.returncode == 2 and "Traceback" not in done.stderr and "a port is 1 to 65535" in done.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
    assert f"--port {port}: cannot listen" in one_line(capsys.readouterr().err)


def test_a_sweep_over_edge_list_files_takes_each_files_people(tmp_path, capsys):
    """Relative paths are read beside the scenario file whatever the working folder; the file
    decides the number of people, at every point."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(EDGES / "ten_people.txt", data / "ten.txt")
    (data / "six.txt").write_text("1 2\n2 3\n3 4\n4 5\n5 6\n6 1\n")
    path = data / "edges.yaml"
    path.write_text(TINY_YAML.format(seed=1).replace("n_people: 150", "network: edge_list, edge_list_path: ten.txt")
                    + "sweep:\n  parameters:\n    market.edge_list_path: [ten.txt, six.txt]\n")
    assert load_scenario(path).market.n_people == 10
    out = tmp_path / "sweep"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 0
    plan = Experiment.from_description(json.loads((out / "manifest.json").read_text())["experiment"], "manifest")
    assert [plan.point_scenario(i).market.n_people for i in (0, 1)] == [10, 6]
    assert len(pd.read_parquet(out / "runs" / "p00001" / "a__r0.parquet")) == 4 + 1
    capsys.readouterr()
    path.write_text(path.read_text().replace("edge_list_path: ten.txt", "edge_list_path: ten.txt, n_people: 300"))
    assert main(["validate", str(path)]) == 2
    assert "market.n_people = 300 is not allowed: the edge-list file has 10 people" in capsys.readouterr().err


def test_resume_keeps_the_runs_of_every_batch_of_auto_replications(tmp_path, capsys):
    """`replications: auto` saves runs batch after batch: a resume keeps them all (none is taken
    for a run of another plan)."""
    path = tiny(tmp_path)
    path.write_text(path.read_text().replace("replications: 2", "replications: auto\nmax_replications: 16"))
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), *QUIET]) == 0
    folder = RunFolder.open(out, "run", Experiment.from_description)
    later = next(t for t in folder.plan.possible_tasks() if t.replication == 12)  # a run of the second batch
    first = next(t for t in folder.plan.tasks() if t.arm == later.arm)
    folder.save_run(later, folder.load_run(first).assign(replication=later.replication))  # as if it had run
    folder = RunFolder.open(out, "run", Experiment.from_description)
    assert folder.untrusted == []
    saved = sorted(p.name for p in (out / "runs").iterdir())
    (out / "summary.csv").unlink()
    capsys.readouterr()
    assert main(["run", "--resume", str(out), *QUIET]) == 0
    assert "removed" not in capsys.readouterr().err
    assert sorted(p.name for p in (out / "runs").iterdir()) == saved
