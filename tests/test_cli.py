"""The `grapevine` command: run folders, byte-identical results, interruption and resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.experiments import stats
from sim.experiments.run import FINAL_FILES
from sim.outputs.results import Results

ROOT = Path(__file__).resolve().parent.parent
QUICK = str(ROOT / "scenarios" / "quickstart.yaml")
TINY = ["--set", "market.n_people=400", "--set", "market.months=12", "--replications", "3", "--quiet",
        "--no-figures"]  # figures have their own tests (test_plots, test_report)


def grapevine(*args, cwd=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def same_files(a: Path, b: Path, names=FINAL_FILES):
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_run_writes_the_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", QUICK, "--out", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "recover keeps" in printed and "gifts keeps" in printed and "than ignore" in printed
    assert "recover: baseline + ServiceRecovery(effort=0.8)" in printed  # each arm as its change
    assert "Sector postpaid mobile: firms lose 1.0%-1.7% of their customers a month" in printed
    results = Results.load(out)
    churn = stats.baseline_churn(results.timeseries, results.scenario)
    verdict = "within that range" if 0.010 <= churn <= 0.017 else "outside that range"
    assert f"Here ignore loses {churn:.2%} a month, {verdict}" in printed
    for name in (*FINAL_FILES, "manifest.json"):
        assert (out / name).exists()
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        f"{arm}__r{r}.parquet" for arm in ("ignore", "recover", "gifts") for r in range(3))
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 9 and {"retention", "customers", "revenue", "cost", "profit", "npv", "nps"} <= set(summary)
    timeseries = pd.read_parquet(out / "timeseries.parquet")
    assert list(timeseries.columns[:4]) == ["arm", "replication", "month", "firm"] and len(timeseries) == 9 * 13
    comparison = pd.read_csv(out / "comparison.csv")
    assert {"mean", "low", "high", "diff", "diff_low", "diff_high"} <= set(comparison)
    manifest = json.loads((out / "manifest.json").read_text())
    scenario = manifest["experiment"]["scenario"]
    assert scenario["market"]["n_people"] == 400 and scenario["replications"] == 3
    assert len(manifest["experiment_hash"]) == 64 and len(manifest["code_hash"]) == 64
    assert manifest["started"] and manifest["finished"]
    assert manifest["git"] is None or len(manifest["git"]["commit"]) == 40
    assert {"numpy", "pandas", "mesa", "python"} <= set(manifest["versions"])
    assert manifest["seeds"]["0"] == int(summary["seed"][0])
    assert not list(out.rglob(".*.tmp"))


def test_default_run_folder_is_results_name_timestamp(tmp_path):
    done = grapevine("run", QUICK, *TINY, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [folder] = (tmp_path / "results" / "quickstart").iterdir()
    assert (folder / "summary.csv").exists()


@pytest.mark.cluster
def test_workers_do_not_change_results(tmp_path):
    assert main(["run", QUICK, "--out", str(tmp_path / "one"), *TINY, "--workers", "1"]) == 0
    assert main(["run", QUICK, "--out", str(tmp_path / "two"), *TINY, "--workers", "2"]) == 0
    same_files(tmp_path / "one", tmp_path / "two")


def test_out_must_be_new(tmp_path, capsys):
    out = tmp_path / "run"
    (out / "something").mkdir(parents=True)
    assert main(["run", QUICK, "--out", str(out), *TINY]) == 2
    assert "--resume" in capsys.readouterr().err


def _interrupt_then_resume(tmp_path, sig):
    # 36 runs of about a fifth of a second each: seconds between the third saved run and the last,
    # so that the signal lands part-way even on a loaded machine (at 24 months the compiled engine
    # finished all 36 under the suite's load before the signal arrived)
    args = ["--set", "market.n_people=1500", "--set", "market.months=60", "--replications", "12", "--quiet",
            "--no-figures", "--robustness", "off"]
    reference = tmp_path / "reference"
    assert grapevine("run", QUICK, "--out", reference, *args).returncode == 0
    out = tmp_path / "interrupted"
    process = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", QUICK, "--out", str(out), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300  # a ceiling for a loaded machine, not a speed check
    while len(list((out / "runs").glob("*.parquet"))) < 3 and time.time() < deadline:
        time.sleep(0.01)
    process.send_signal(sig)
    _, err = process.communicate(timeout=300)
    saved = list((out / "runs").glob("*.parquet"))
    assert 3 <= len(saved) < 36, "the run should be stopped part-way"
    assert not any((out / name).exists() for name in FINAL_FILES)
    for path in saved:
        pd.read_parquet(path)  # every finished run is whole
    assert "Traceback" not in err
    resumed = grapevine("run", "--resume", out, "--workers", "2", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    same_files(reference, out)
    assert not list(out.rglob(".*.tmp"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resumed"] and manifest["finished"]
    return process.returncode, err


@pytest.mark.slow
def test_ctrl_c_keeps_finished_runs_and_resume_completes_identically(tmp_path):
    code, err = _interrupt_then_resume(tmp_path, signal.SIGINT)
    assert code == 130 and "grapevine run --resume" in err


@pytest.mark.slow
def test_killed_process_resumes_identically(tmp_path):
    code, _ = _interrupt_then_resume(tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL


def test_resume_refuses_other_arguments_and_non_run_folders(tmp_path, capsys):
    assert main(["run", "--resume", str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().err
    assert main(["run", QUICK, "--resume", str(tmp_path)]) == 2


def test_validate_list_schema_new(tmp_path, capsys, monkeypatch):
    assert main(["validate", "quickstart"]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in ("quickstart", "renewal-neglect", "head-to-head"))
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Grapevine scenario" and "firms" in schema["properties"]
    monkeypatch.chdir(tmp_path)
    assert main(["new", "my-plan"]) == 0
    text = (tmp_path / "my-plan.yaml").read_text()
    assert text.count("#") > 10 and yaml.safe_load(text)["name"] == "my-plan"
    assert main(["validate", "my-plan.yaml"]) == 0
    assert main(["new", "my-plan"]) == 2  # never overwrites


@pytest.mark.slow
def test_demo(tmp_path):
    done = grapevine("demo", cwd=tmp_path, timeout=900)  # the real demo: auto replications, robustness, figures
    assert done.returncode == 0, done.stderr
    assert "recover keeps" in done.stdout and "gifts keeps" in done.stdout and "than ignore" in done.stdout
    assert list((tmp_path / "results" / "quickstart").glob("*/summary.csv"))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["renewal-neglect", "small-gifts", "recovery-effort", "retention-vs-winback",
                                  "upsell-satisfied", "head-to-head", "product-defect"])
def test_shipped_scenario_runs(name, tmp_path):
    done = grapevine("run", name, "--out", tmp_path / "run", "--set", "market.n_people=1000",
                     "--replications", "2", "--quiet", "--no-figures", "--robustness", "off", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / "comparison.csv").exists()


def test_any_two_arms_can_be_compared_from_the_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", QUICK, "--out", str(out), *TINY, "--no-figures"]) == 0
    printed = capsys.readouterr().out
    assert f"grapevine compare {out} recover gifts" in printed  # the printout says how
    assert main(["compare", str(out), "recover", "gifts"]) == 0
    pair = capsys.readouterr().out
    assert "recover keeps" in pair and "than gifts" in pair and "ignore" not in pair
    summary = pd.read_csv(out / "summary.csv")
    wide = summary.pivot(index="replication", columns="arm", values="retention")
    assert f"{(wide['recover'] - wide['gifts']).mean():+.1f} [" in pair  # the paired difference of the same runs
    assert main(["compare", str(out), "recover", "nobody"]) == 2
    assert "'nobody' is not an arm" in capsys.readouterr().err
