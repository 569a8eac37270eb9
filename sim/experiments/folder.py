"""The run folder: one writer for every command that runs (run, sweep, sensitivity, check-model).

    results/<scenario>/<prefix><timestamp>/
        manifest.json            what was run (the experiment, seeds), versions, git commit, times, hash
        runs/<key>.parquet       each task's result as soon as it arrives (temp file + os.replace)
        ...                      the final tables and figures of the command

A folder is created atomically (two commands started in the same second get two folders) and is
never written over. Final files depend only on the saved runs, never on the clock or the number
of workers, so a resumed folder ends with the same files as an uninterrupted one (the manifest
keeps the times). A killed process leaves at most hidden temp files, which a resume removes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

import pandas as pd

from ..errors import InputError

# Grapevine's distribution: "grapevine" on the package index is someone else's
DISTRIBUTION = "grapevine-abm"
# what a result records the version of: name in the manifest -> installed distribution
PACKAGES = {"grapevine": DISTRIBUTION, "mesa": "mesa", "numpy": "numpy", "pandas": "pandas", "pyarrow": "pyarrow",
            "pydantic": "pydantic", "pyyaml": "pyyaml", "networkx": "networkx"}
RESULTS = Path("results")


class Plan(Protocol):
    """What a folder runs: an `Experiment`, or check-model's list of checks."""

    kind: str

    @property
    def name(self) -> str: ...
    @property
    def total(self) -> int: ...
    def tasks(self) -> Iterable: ...
    def describe(self) -> dict: ...
    def digest(self) -> str: ...
    def seeds(self) -> dict: ...


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()


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


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """A table as CSV or Parquet (by the file's suffix), atomically."""
    if path.suffix == ".parquet":
        atomic_write(path, lambda temp: frame.to_parquet(temp, index=False))
    else:
        atomic_write(path, lambda temp: frame.to_csv(temp, index=False))


# --- provenance ---------------------------------------------------------------------------------
def versions(extra: Iterable[str] = ()) -> dict[str, str]:
    """The Python and package versions that made a result."""
    found = {"python": platform.python_version()}
    for key, name in {**PACKAGES, **{name: name for name in extra}}.items():
        try:
            found[key] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def code_hash() -> str:
    """A hash of the package's source: a resumed run can tell whether the code changed."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
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


def provenance(extra_packages: Iterable[str] = ()) -> dict:
    """What a manifest records about how and when results were made."""
    return {"versions": versions(extra_packages), "git": git_state(), "code_hash": code_hash(),
            "started": now(), "finished": None, "resumed": []}


# --- the folder ---------------------------------------------------------------------------------
def new_folder(name: str, out: Path | None, prefix: str = "", kind: str = "") -> Path:
    """Create `out`, or results/<name>/<prefix><timestamp> (-2, -3, ... if taken), atomically: the
    folder is made by this call or refused, so two commands never share one."""
    if out is not None:
        out = Path(out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            hint = f"; to finish a {kind} there use `grapevine {kind} --resume {out}`" if kind else ""
            raise InputError(f"--out {out}: already exists and is not empty; choose another folder{hint}")
        out.mkdir(parents=True, exist_ok=True)
        return out
    stamp = f"{prefix}{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    parent = RESULTS / name
    parent.mkdir(parents=True, exist_ok=True)
    for suffix in range(1, 10_000):
        path = parent / (stamp if suffix == 1 else f"{stamp}-{suffix}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise InputError(f"{parent}: no free folder name for {stamp}; clear old results")


@contextlib.contextmanager
def kept_or_temporary(out: Path | None, name: str):
    """`out` (kept), or a path in a temporary folder that is removed when the block ends (for
    Python calls that want results in memory, not a run folder)."""
    if out is not None:
        yield Path(out)
        return
    parent = Path(tempfile.mkdtemp(prefix="grapevine-"))
    try:
        yield parent / name
    finally:
        shutil.rmtree(parent, ignore_errors=True)


class RunFolder:
    """A folder on disk for one plan: create it, resume it, save runs, write the final files."""

    def __init__(self, path: Path, plan: Plan, manifest: dict):
        self.path, self.plan, self.manifest = Path(path), plan, manifest
        self.runs = self.path / "runs"

    @classmethod
    def create(cls, plan: Plan, out: Path | None = None, *, prefix: str = "", source: str = "",
               overrides: Iterable[str] = (), extra_packages: Iterable[str] = ()) -> RunFolder:
        path = new_folder(plan.name, out, prefix, plan.kind)
        manifest = {
            "kind": plan.kind,
            "scenario_name": plan.name,
            "scenario_file": source,
            "overrides": list(overrides),
            "experiment": plan.describe(),
            "experiment_hash": plan.digest(),
            "runs": plan.total,
            "seeds": plan.seeds(),
            **provenance(extra_packages),
        }
        folder = cls(path, plan, manifest)
        folder.runs.mkdir(parents=True, exist_ok=True)
        folder.save_manifest()
        return folder

    @classmethod
    def resume(cls, path: Path, kind: str, rebuild: Callable[[dict, str], Plan]) -> RunFolder:
        """Reopen a folder of `kind` to finish it; `rebuild` makes its plan from the manifest."""
        path = Path(path)
        command = {"run": "run", "sweep": "sweep", "sensitivity": "sensitivity", "check-model": "check-model",
                   "robustness": "run"}
        try:
            manifest = json.loads((path / "manifest.json").read_text())
            found = manifest.get("kind")
            if found != kind:
                raise InputError(f"--resume {path}: this is a {found} folder, not a {kind} folder; finish it "
                                 f"with `grapevine {command.get(found, found)} --resume {path}`")
            plan = rebuild(manifest["experiment"], str(path / "manifest.json"))
        except FileNotFoundError:
            raise InputError(f"--resume {path}: no manifest.json there; is this a {kind} folder?") from None
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            if isinstance(error, InputError):
                raise
            raise InputError(f"--resume {path}: manifest.json cannot be read ({type(error).__name__}); "
                             f"start a new {kind}") from None
        if plan.digest() != manifest.get("experiment_hash"):
            raise InputError(f"--resume {path}: the experiment in manifest.json does not match its hash "
                             f"(edited, or written by another version of grapevine); start a new {kind}")
        folder = cls(path, plan, manifest)
        folder._reopen()
        return folder

    def _reopen(self) -> None:
        """Warn if the code changed, clear what a killed process left half-written, note the resume."""
        if self.manifest.get("code_hash") != code_hash():
            print(f"warning: the grapevine code changed since {self.path} was started; the runs still to do "
                  f"may not match the saved ones (start a new {self.plan.kind} for a clean comparison)",
                  file=sys.stderr)
        for temp in self.path.rglob(".*.tmp"):
            temp.unlink(missing_ok=True)
        self.runs.mkdir(exist_ok=True)
        self.manifest.setdefault("resumed", []).append(now())
        self.manifest["finished"] = None
        self.save_manifest()

    # --- runs -----------------------------------------------------------------------------
    def run_path(self, task: Any) -> Path:
        return self.runs / f"{task.key}.parquet"

    def has_run(self, task: Any) -> bool:
        return self.run_path(task).exists()

    def save_run(self, task: Any, frame: pd.DataFrame) -> None:
        atomic_write(self.run_path(task), lambda temp: frame.to_parquet(temp, index=False))

    def load_run(self, task: Any) -> pd.DataFrame:
        return pd.read_parquet(self.run_path(task))

    def done_count(self) -> int:
        return sum(1 for _ in self.runs.rglob("*.parquet"))

    def missing(self) -> list[str]:
        return [task.key for task in self.plan.tasks() if not self.has_run(task)]

    # --- final files ------------------------------------------------------------------------
    def write(self, name: str, frame: pd.DataFrame) -> Path:
        path = self.path / name
        write_table(path, frame)
        return path

    def finish(self, **record: Any) -> None:
        """The plan is done: note the time (and anything else worth keeping) in the manifest."""
        self.manifest.update(record)
        self.manifest["finished"] = now()
        self.save_manifest()

    def save_manifest(self) -> None:
        atomic_text(self.path / "manifest.json", json.dumps(self.manifest, indent=2) + "\n")


def assemble(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Runs in plan order as one table; an event a policy adds is 0 where it did not run."""
    columns: list[str] = []
    for frame in frames:
        columns += [c for c in frame.columns if c not in columns]
    table = pd.concat(frames, ignore_index=True)[columns]
    metrics = columns[columns.index("firm") + 1:]
    table[metrics] = table[metrics].fillna(0.0)
    return table
