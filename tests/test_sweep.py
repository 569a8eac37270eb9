"""Sweeps: points of a grid or a sample, the sweep folder, resume, streaming, bad input."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments import RunFolder, stats, sweep
from sim.experiments.design import tasks_of
from sim.experiments.runner import execute, simulate
from sim.cli import main
from sim.market import Market
from sim.scenario import Scenario, InputError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
TINY = {"n_people": 200, "months": 6, "contract_months": 6}


def scenario(parameters, method="grid", samples=None, replications=2, market=TINY, seed=None) -> Scenario:
    spec = {"method": method, "parameters": parameters}
    if samples is not None:
        spec["samples"] = samples
    if seed is not None:
        spec["seed"] = seed
    return Scenario.model_validate({
        "name": "tiny-sweep", "seed": 5, "replications": replications, "market": market,
        "firms": [{"name": "Telco", "failure_rate": 0.05, "policies": ["RenewalCall"]}],
        "compare": {"baseline": "ignore", "arms": [
            {"name": "ignore"},
            {"name": "recover", "add": [{"kind": "ServiceRecovery", "effort": 0.5}]}]},
        "sweep": spec,
    })


def run_sweep(s: Scenario, out: Path, executor=None) -> RunFolder:
    folder = RunFolder.create(sweep.design(s), out)
    execute(folder, executor, progress=False)
    sweep.finalize(folder)
    return folder


def same_files(a: Path, b: Path):
    for name in sweep.FINAL_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# --- points ------------------------------------------------------------------------------------
def test_grid_points_in_order_with_ranges_and_names():
    s = scenario({"firms.Telco.failure_rate": [0.02, 0.06],
                  "arms.recover.add[0].effort": {"low": 0.25, "high": 1.0, "steps": 4},
                  "market.contract_months": {"low": 6, "high": 12, "steps": 3, "integer": True}})
    design = sweep.design(s)
    assert design.paths == [("firms", 0, "failure_rate"), ("compare", "arms", 1, "add", 0, "effort"),
                            ("market", "contract_months")]
    assert len(design.points) == 2 * 4 * 3
    assert design.points[:4] == [(0.02, 0.25, 6), (0.02, 0.25, 9), (0.02, 0.25, 12), (0.02, 0.5, 6)]
    point = design.point_scenario(23)
    assert point.firms[0].failure_rate == 0.06 and point.market.contract_months == 12
    assert point.firms_for("recover")[0]["policies"][1]["effort"] == 1.0  # after the baseline RenewalCall
    assert point.sweep is None and point.seed == s.seed  # same replication seeds at every point
    log = sweep.make_points(scenario({"market.n_people": {"low": 100, "high": 10000, "steps": 3, "log": True,
                                                          "integer": True}}).sweep, 1)
    assert log == [(100,), (1000,), (10000,)]


def test_latin_hypercube_is_stratified_and_reproducible():
    parameters = {"market.complaint_probability": {"low": 0.0, "high": 1.0},
                  "firms[0].failure_rate": {"low": 0.01, "high": 0.09},
                  "market.contract_months": [1, 12, 24, 36]}
    n = 40
    points = sweep.make_points(scenario(parameters, "latin_hypercube", n).sweep, 5)
    u = np.array([[p[0], (p[1] - 0.01) / 0.08] for p in points])
    for j in range(2):  # one point in each of the n strata of each range
        assert sorted(np.floor(u[:, j] * n).clip(0, n - 1).astype(int)) == list(range(n))
    assert sorted(pd.Series([p[2] for p in points]).value_counts()) == [10, 10, 10, 10]
    assert points == sweep.make_points(scenario(parameters, "latin_hypercube", n).sweep, 5)
    assert points != sweep.make_points(scenario(parameters, "latin_hypercube", n).sweep, 6)
    assert points != sweep.make_points(scenario(parameters, "latin_hypercube", n, seed=6).sweep, 5)
    random = sweep.make_points(scenario(parameters, "random", 25).sweep, 5)
    assert len(random) == 25 and all(0 <= p[0] <= 1 and 0.01 <= p[1] <= 0.09 for p in random)


@pytest.mark.parametrize("parameters, method, samples, expected", [
    ({"market.n_peple": [100]}, "grid", None, "did you mean 'n_people'"),
    ({"market.n_people": [300, -5]}, "grid", None, "sweep.parameters.market.n_people = -5 is not allowed"),
    ({"firms.Acme.quality": [0.5]}, "grid", None, "choose from Telco"),
    ({"name": ["x"]}, "grid", None, "cannot be swept"),
    ({"market.n_people": {"low": 100, "high": 200}}, "grid", None, "a grid needs steps"),
    ({"market.n_people": {"low": 100, "high": 200}}, "random", None, "needs samples"),
    ({"market.n_people": {"low": 300, "high": 200, "steps": 2}}, "grid", None, "low < high"),
    ({"market.n_people": [100]}, "grid", 5, "samples is for"),
])
def test_bad_sweeps_are_refused_with_a_clear_message(parameters, method, samples, expected, tmp_path):
    data = {"name": "bad", "firms": [{"name": "Telco"}], "market": TINY,
            "compare": {"arms": [{"name": "a"}, {"name": "b", "add": ["SmallGifts"]}]},
            "sweep": {"method": method, "parameters": parameters, **({"samples": samples} if samples else {})}}
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as error:
        sweep.design(load_scenario(path), str(path))
    assert expected in "\n".join(error.value.problems)


def test_cli_refuses_a_scenario_without_a_sweep_and_writes_nothing(tmp_path, capsys):
    assert main(["sweep", "quickstart", "--out", str(tmp_path / "s"), "--quiet"]) == 2
    assert "no sweep section" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_shipped_sweeps_validate(capsys):
    for name in ("sweep-recovery", "sweep-assumptions"):
        assert main(["validate", name]) == 0
        assert "sweep:" in capsys.readouterr().out


# --- the sweep folder -----------------------------------------------------------------------
def test_sweep_folder_tables(tmp_path):
    s = scenario({"firms.Telco.failure_rate": [0.02, 0.08],
                  "arms.recover.add": [["ServiceRecovery"], ["SmallGifts"]]})  # SmallGifts adds columns
    out = tmp_path / "sweep"
    run_sweep(s, out)
    points = pd.read_csv(out / "points.csv")
    assert list(points.columns) == ["point", "firms.Telco.failure_rate", "arms.recover.add"]
    assert len(points) == 4 and points["arms.recover.add"][1] == '["SmallGifts"]'
    assert sorted(p.name for p in (out / "runs").iterdir()) == [f"p{i:05d}" for i in range(4)]
    timeseries = pd.read_parquet(out / "timeseries.parquet")
    assert list(timeseries.columns[:5]) == ["point", "arm", "replication", "month", "firm"]
    assert len(timeseries) == 4 * 2 * 2 * (TINY["months"] + 1)
    assert not timeseries.isna().any().any()
    gifts = [c for c in timeseries.columns if "gift" in c]
    assert gifts and (timeseries.loc[timeseries["point"] == 0, gifts] == 0).all().all()
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:6]) == ["point", "firms.Telco.failure_rate", "arms.recover.add", "arm",
                                         "replication", "firm"]
    assert len(summary) == 4 * 2 * 2
    assert summary.groupby("replication")["seed"].nunique().eq(1).all()  # same luck at every point
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison["point"]) == {0, 1, 2, 3} and set(comparison["kpi"]) == set(s.groups.kpis)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["runs"] == 16 and manifest["finished"]
    assert manifest["experiment"]["points"][3] == [0.08, ["SmallGifts"]]
    # a point's results are those of the plain scenario at that point
    point = sweep.design(s).point_scenario(2)
    tasks = tasks_of(point)
    plain = stats.summarize(pd.concat([simulate(t) for t in tasks], ignore_index=True), point)
    mine = summary[summary["point"] == 2].reset_index(drop=True)
    assert np.allclose(mine["npv"], plain["npv"]) and (mine["customers"] == plain["customers"]).all()


def test_final_tables_are_the_same_whether_points_are_batched_or_not(tmp_path, monkeypatch):
    # a different horizon is a different structure: the batches split there
    s = scenario({"market.months": [4, 6], "arms.recover.add": [["ServiceRecovery"], ["SmallGifts"]]})
    out = tmp_path / "sweep"
    folder = run_sweep(s, out)
    batched = {name: (out / name).read_bytes() for name in ("summary.csv", "comparison.csv")}
    timeseries = pd.read_parquet(out / "timeseries.parquet")
    monkeypatch.setattr(sweep, "BATCH", 1)
    sweep.finalize(folder)
    assert {name: (out / name).read_bytes() for name in batched} == batched
    pd.testing.assert_frame_equal(pd.read_parquet(out / "timeseries.parquet"), timeseries)
    summary = pd.read_csv(out / "summary.csv")
    for i, months in enumerate([4, 4, 6, 6]):  # each point summarized at its own horizon
        point = sweep.design(s).point_scenario(i)
        plain = stats.summarize(pd.concat([simulate(t) for t in tasks_of(point)]), point)
        mine = summary[summary["point"] == i].reset_index(drop=True)
        assert point.market.months == months
        assert np.allclose(mine["npv"], plain["npv"]) and (mine["customers"] == plain["customers"]).all()


def test_interrupted_sweep_resumes_to_the_same_files(tmp_path, capsys):
    s = scenario({"firms.Telco.failure_rate": [0.02, 0.05, 0.08]})
    run_sweep(s, tmp_path / "reference")

    out = tmp_path / "interrupted"
    folder = RunFolder.create(sweep.design(s), out)
    save, saved = folder.save_run, []

    def save_then_stop(task, frame):  # Ctrl-C arrives after the fifth run is saved
        save(task, frame)
        saved.append(task)
        if len(saved) == 5:
            raise KeyboardInterrupt

    folder.save_run = save_then_stop
    with pytest.raises(KeyboardInterrupt):
        execute(folder, progress=False)
    assert folder.done_count() == 5
    assert not any((out / name).exists() for name in sweep.FINAL_FILES[1:])
    (out / "runs" / "p00001" / ".recover__r1.parquet.x.tmp").write_bytes(b"partial")  # as left by a kill
    assert main(["sweep", "--resume", str(out), "--quiet"]) == 0
    assert "recover - ignore" in capsys.readouterr().out
    same_files(tmp_path / "reference", out)
    assert not list(out.rglob(".*.tmp"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resumed"] and manifest["finished"]
    assert main(["sweep", "--resume", str(out), "--set", "market.months=3"]) == 2
    assert main(["run", "--resume", str(out)]) == 2  # a sweep folder is not a run folder


def test_resume_refuses_an_edited_manifest(tmp_path, capsys):
    out = tmp_path / "s"
    run_sweep(scenario({"firms.Telco.failure_rate": [0.02, 0.05]}), out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["experiment"]["points"][1] = [0.07]
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert main(["sweep", "--resume", str(out)]) == 2
    assert "does not match its hash" in capsys.readouterr().err


def test_client_memory_stays_flat_as_the_sweep_grows(tmp_path, monkeypatch):
    """Runs go to disk as they finish, finished markets are freed, and the final tables are
    written point by point: the client's peak memory does not grow with the number of points."""
    market = {"n_people": 60, "months": 2, "contract_months": 2}

    frames = {}  # one simulation per arm and replication, saved at every point (finalize reads files)

    def saved(points: int) -> RunFolder:
        s = scenario({"market.price": [40.0 + i for i in range(points)]}, market=market)
        folder = RunFolder.create(sweep.design(s), tmp_path / f"p{points}")
        for task in folder.plan.tasks():
            run = (task.arm, task.replication)
            if run not in frames:
                frames[run] = simulate(task)
            folder.save_run(task, frames[run].assign(point=task.point))
        return folder

    def peak(folder) -> int:
        tracemalloc.start()
        try:
            sweep.finalize(folder)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    monkeypatch.setattr(sweep, "ROW_GROUP", 100)  # rows buffered before a write: the bound, made small here
    monkeypatch.setattr(sweep, "BATCH", 2)  # points read and summarized together: another bound
    monkeypatch.setattr(sweep, "SHOW", 2)  # points kept for the screen: the other bound
    def markets() -> int:
        gc.collect()
        # type(), not isinstance(): isinstance on a weakref proxy whose object died raises ReferenceError
        return sum(issubclass(type(o), Market) for o in gc.get_objects())

    before = markets()  # other tests may keep markets of their own
    small, large = saved(3), saved(12)
    assert markets() <= before  # no model outlives its run (mesa 3.3 keeps them: runner.release)
    peak(small)  # first use: imports and caches
    small_peak, large_peak = peak(small), peak(large)
    assert large_peak < 1.2 * small_peak + 100_000, (small_peak, large_peak)
    assert len(pd.read_parquet(large.path / "timeseries.parquet")) == 4 * 12 * (market["months"] + 1)
