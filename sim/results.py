"""The run folder: one file per finished run (written atomically), the final tables, the manifest.

    results/<scenario>/<timestamp>/
        runs/<arm>__r<k>.parquet   each run as soon as it finishes (temp file + os.replace)
        timeseries.parquet, timeseries.csv, summary.csv, comparison.csv
        manifest.json              the resolved scenario, seeds, versions, git commit, times, hash

Final files depend only on the runs, never on the clock or on the number of workers, so a
resumed run ends with the same files as an uninterrupted one (the manifest keeps the times).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable

import pandas as pd

from . import experiment
from .scenario import Scenario, ScenarioError

PACKAGES = ("grapevine", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "pyyaml", "networkx")
FINAL_FILES = ("timeseries.parquet", "timeseries.csv", "summary.csv", "comparison.csv")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()


def reopen(folder, kind: str) -> None:
    """Resume a run or sweep folder: warn if the code changed, clear what a killed process left
    half-written (hidden temp files, never finished ones) and record the resume in the manifest."""
    if folder.manifest.get("code_hash") != code_hash():
        print(f"warning: the grapevine code changed since {folder.path} was started; the runs still to do "
              f"may not match the saved ones (start a new {kind} for a clean comparison)", file=sys.stderr)
    for temp in folder.path.rglob(".*.tmp"):
        temp.unlink(missing_ok=True)
    folder.runs.mkdir(exist_ok=True)
    folder.manifest["resumed"].append(now())
    folder.manifest["finished"] = None
    folder.save_manifest()


def provenance(extra_versions: dict | None = None) -> dict:
    """What a manifest records about how and when results were made."""
    return {
        "versions": {**versions(), **(extra_versions or {})},
        "git": git_state(),
        "code_hash": code_hash(),
        "started": now(),
        "finished": None,
        "resumed": [],
    }


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a hidden temp file in the same folder, then rename: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    temp = Path(temp)
    try:
        write(temp)
        os.chmod(temp, FILE_MODE)  # mkstemp makes 0600; finished files get the usual mode
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def atomic_text(path: Path, text: str) -> None:
    atomic_write(path, lambda temp: temp.write_text(text))


def output_folder(scenario: Scenario, out: Path | None, prefix: str = "", hint: str = "choose another folder") -> Path:
    """`out`, or results/<scenario>/<prefix><timestamp> (-2, -3, ... if taken); refused if it
    already holds anything, so nothing finished is ever written over."""
    if out is None:
        stamp = f"{prefix}{datetime.now().strftime('%Y%m%d-%H%M%S')}"
        out, suffix = Path("results") / scenario.name / stamp, 1
        while out.exists():
            suffix += 1
            out = Path("results") / scenario.name / f"{stamp}-{suffix}"
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ScenarioError([f"--out {out}: already exists and is not empty; {hint}"])
    return out


class RunFolder:
    """A run folder on disk: create it, resume it, save runs, write the final files."""

    def __init__(self, path: Path, scenario: Scenario, manifest: dict):
        self.path, self.scenario, self.manifest = Path(path), scenario, manifest
        self.runs = self.path / "runs"

    # --- creating and reopening -----------------------------------------------------
    @classmethod
    def create(cls, scenario: Scenario, out: Path | None = None, source: str = "",
               overrides: list[str] = ()) -> RunFolder:
        out = output_folder(scenario, out, hint=f"to finish a run there use `grapevine run --resume {out}`")
        manifest = {
            "scenario_name": scenario.name,
            "scenario_file": source,
            "overrides": list(overrides),
            "scenario_hash": scenario.digest(),
            "scenario": scenario.resolved(),
            "runs": len(scenario.arm_names()) * scenario.replications,
            "seeds": {str(r): experiment.replication_seed(scenario.seed, r) for r in range(scenario.replications)},
            **provenance(),
        }
        folder = cls(out, scenario, manifest)
        folder.runs.mkdir(parents=True, exist_ok=True)
        folder.save_manifest()
        return folder

    @classmethod
    def resume(cls, path: Path) -> RunFolder:
        path = Path(path)
        try:
            manifest = json.loads((path / "manifest.json").read_text())
            scenario = Scenario.model_validate(manifest["scenario"])
        except FileNotFoundError:
            raise ScenarioError([f"--resume {path}: no manifest.json there; is this a run folder?"]) from None
        except (ValueError, KeyError, TypeError) as error:
            raise ScenarioError([f"--resume {path}: manifest.json cannot be read ({type(error).__name__}); "
                                 f"start a new run"]) from None
        if scenario.digest() != manifest.get("scenario_hash"):
            raise ScenarioError([f"--resume {path}: the scenario in manifest.json does not match its hash "
                                 f"(edited, or written by another version of grapevine); start a new run"])
        folder = cls(path, scenario, manifest)
        reopen(folder, "run")
        return folder

    # --- runs -----------------------------------------------------------------------------
    def run_path(self, task: experiment.RunTask) -> Path:
        return self.runs / f"{task.key}.parquet"

    def has_run(self, task: experiment.RunTask) -> bool:
        return self.run_path(task).exists()

    def save_run(self, task: experiment.RunTask, frame: pd.DataFrame) -> None:
        atomic_write(self.run_path(task), lambda temp: frame.to_parquet(temp, index=False))

    def load_run(self, task: experiment.RunTask) -> pd.DataFrame:
        return pd.read_parquet(self.run_path(task))

    # --- final files --------------------------------------------------------------------
    def write_final(self, timeseries: pd.DataFrame, summary: pd.DataFrame, comparison: pd.DataFrame) -> None:
        atomic_write(self.path / "timeseries.parquet", lambda t: timeseries.to_parquet(t, index=False))
        atomic_write(self.path / "timeseries.csv", lambda t: timeseries.to_csv(t, index=False))
        atomic_write(self.path / "summary.csv", lambda t: summary.to_csv(t, index=False))
        atomic_write(self.path / "comparison.csv", lambda t: comparison.to_csv(t, index=False))
        self.manifest["finished"] = now()
        self.save_manifest()

    def save_manifest(self) -> None:
        atomic_text(self.path / "manifest.json", json.dumps(self.manifest, indent=2) + "\n")


def assemble(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The runs in plan order, one table; an event a policy adds is 0 where it did not run."""
    columns: list[str] = []
    for frame in frames:
        columns += [c for c in frame.columns if c not in columns]
    table = pd.concat(frames, ignore_index=True)[columns]
    metrics = columns[columns.index("firm") + 1:]
    table[metrics] = table[metrics].fillna(0.0)
    return table


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def code_hash() -> str:
    """A hash of the package's source: a resumed run can tell whether the code changed."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def git_state() -> dict | None:
    """The commit of the code that ran (and whether it had uncommitted changes), if in git."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
        return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


def execute(folder: RunFolder, workers: int = 1, progress: bool = True) -> dict:
    """Run what is missing in `folder`, then write the final files. Returns the tables."""
    scenario = folder.scenario
    tasks = experiment.plan(scenario)
    todo = [task for task in tasks if not folder.has_run(task)]
    executor = experiment.make_executor(min(workers, max(len(todo), 1)))
    experiment.run_all(executor, experiment.simulate, todo, folder.save_run, progress=progress,
                       total=len(tasks), done=len(tasks) - len(todo), desc=scenario.name)
    timeseries = assemble([folder.load_run(task) for task in tasks])
    summary = experiment.summarize(timeseries, scenario)
    comparison = experiment.compare(summary, scenario)
    folder.write_final(timeseries, summary, comparison)
    return {"timeseries": timeseries, "summary": summary, "comparison": comparison,
            "verdicts": experiment.verdicts(comparison, scenario, _focal(summary, scenario))}


def _focal(summary: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    return summary if scenario.compare.kind == "head_to_head" else summary[summary["firm"] == scenario.focal_firm]


def done_count(folder: RunFolder) -> int:
    return sum(folder.has_run(task) for task in experiment.plan(folder.scenario))

