"""The run folder: one writer for every command that runs (run, sweep, sensitivity, check-model).

    results/<scenario>/<prefix><timestamp>/
        manifest.json            what was run (the experiment, seeds), versions, git commit, times, hash
        runs/<key>.parquet       each task's result as soon as it arrives (temp file + os.replace),
                                 stamped in its metadata: experiment hash, run, arm, replication, seed
        ...                      the final tables and figures of the command

A folder is created atomically (two commands started in the same second get two folders; an
empty `--out` is claimed by creating its manifest exclusively) and is never written over; a
folder that cannot be made or written leaves nothing behind. Final files depend only on the
saved runs, never on the clock or the number of workers, so a resumed folder ends with the same
files as an uninterrupted one (the manifest keeps the times). A killed process leaves at most
hidden temp files, which a resume removes; a resume trusts no saved run it cannot read or whose
stamp is not this folder's, and runs it again.
"""

from __future__ import annotations

import contextlib
import errno
import functools
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

import numpy as np
import pandas as pd

from ..errors import InputError, format_path, short

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


@functools.cache
def numpy_math() -> str:
    """A fingerprint of numpy's exp, log, log1p and power on this machine. numpy computes them
    with other code on CPUs with AVX-512 than without (and other platforms have other maths
    libraries), and the engine uses all four: the same seed can then round a few values in the
    last bit otherwise (measured: docs/SWEEPS.md). The same fingerprint gives the same bytes."""
    x = np.linspace(0.001, 0.999, 4097)
    digest = hashlib.sha256()
    for values in (np.exp(-3.0 * x), np.log(x), np.log1p(-x), x ** 12.5):
        digest.update(values.tobytes())
    return digest.hexdigest()[:12]


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
            "numpy_math": numpy_math(), "started": now(), "finished": None, "resumed": []}


# --- the folder ---------------------------------------------------------------------------------
CLAIM = "manifest.json"  # made empty and exclusively when a folder is taken; written in full right after


def new_folder(name: str, out: Path | None, prefix: str = "", kind: str = "") -> Path:
    """Create `out`, or results/<name>/<prefix><timestamp> (-2, -3, ... if taken), atomically."""
    return NewFolder.make(name, out, prefix, kind).path


class NewFolder:
    """A folder this command has just taken: made by it, or an empty `out` claimed by creating its
    manifest exclusively (so two commands never share one). `undo()` removes what was made."""

    def __init__(self, path: Path, made: list[Path]):
        self.path, self.made = path, made

    @classmethod
    def make(cls, name: str, out: Path | None, prefix: str = "", kind: str = "") -> NewFolder:
        if out is not None:
            out = Path(out)
            if out.exists() and (not out.is_dir() or any(out.iterdir())):
                hint = f"; to finish a {kind} there use `grapevine {kind} --resume {out}`" if kind else ""
                raise InputError(f"--out {out}: already exists and is not empty; choose another folder{hint}")
            folder = cls(out, make_folder(out, f"--out {out}"))
            folder._claim(f"--out {out}: another command has just taken this folder; choose another folder")
            return folder
        stamp = f"{prefix}{datetime.now().strftime('%Y%m%d-%H%M%S')}"
        parent = RESULTS / name
        made = make_folder(parent, "")
        for suffix in range(1, 10_000):
            path = parent / (stamp if suffix == 1 else f"{stamp}-{suffix}")
            try:
                path.mkdir()
            except FileExistsError:
                continue
            except OSError as error:
                remove_made(made)
                raise InputError(cannot_create(path, error)) from None
            folder = cls(path, [*made, path])
            folder._claim(f"{path}: taken by another command")
            return folder
        remove_made(made)
        raise InputError(f"{parent}: no free folder name for {stamp}; clear old results")

    def _claim(self, taken: str) -> None:
        try:
            os.close(os.open(self.path / CLAIM, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
        except FileExistsError:
            remove_made(self.made)
            raise InputError(taken) from None
        except OSError as error:
            remove_made(self.made)
            raise InputError(cannot_create(self.path, error)) from None

    def undo(self) -> None:
        """Remove what this command made: the folders, or its files in a claimed empty `out`."""
        if self.path not in self.made:
            for child in list(self.path.iterdir()) if self.path.is_dir() else []:
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        remove_made(self.made)


def make_folder(path: Path, label: str) -> list[Path]:
    """mkdir -p `path`: the folders it made (to remove on failure), or one InputError line."""
    missing = [p for p in (path, *path.parents) if not p.exists()][::-1]
    made: list[Path] = []
    try:
        for folder in missing:
            try:
                folder.mkdir()
            except FileExistsError:
                if folder.is_dir():  # another command made it a moment ago: not ours to remove
                    continue
                raise
            made.append(folder)
        if not path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(path))
    except OSError as error:
        remove_made(made)
        raise InputError(cannot_create(path, error, label)) from None
    return made


def remove_made(made: list[Path]) -> None:
    """Remove folders this command made, deepest first (with whatever it wrote in them)."""
    for folder in reversed(made):
        shutil.rmtree(folder, ignore_errors=True)


def cannot_create(path: Path, error: OSError, label: str = "") -> str:
    """One line: why `path` cannot be made or written (a file in the way, no permission, no space)."""
    blocker = next((p for p in (path, *path.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        why = f"{blocker} is a file, not a folder"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS) and blocker is not None:
        why = f"no permission to write in {blocker}" if error.errno != errno.EROFS else f"{blocker} is read-only"
    else:
        why = error.strerror or type(error).__name__
    hint = ("free some space, or give --out a folder on another disk" if error.errno == errno.ENOSPC
            else "give --out a folder you can write to")
    return f"{label + ': ' if label else ''}cannot create {path}: {why}; {hint}"


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
        self.untrusted: list[tuple[Path, str]] = []  # run files a resume removes (see `open`)

    @classmethod
    def create(cls, plan: Plan, out: Path | None = None, *, prefix: str = "", source: str = "",
               overrides: Iterable[str] = (), extra_packages: Iterable[str] = ()) -> RunFolder:
        taken = NewFolder.make(plan.name, out, prefix, plan.kind)
        manifest = {
            "kind": plan.kind,
            "scenario_name": plan.name,
            "scenario_file": source,
            "scenario_path": str(Path(source).resolve()) if source and Path(source).is_file() else None,
            "overrides": list(overrides),
            "experiment": plan.describe(),
            "experiment_hash": plan.digest(),
            "runs": plan.total,
            "seeds": plan.seeds(),
            **provenance(extra_packages),
        }
        folder = cls(taken.path, plan, manifest)
        try:
            folder.runs.mkdir(parents=True, exist_ok=True)
            folder.save_manifest()
        except OSError as error:  # a full disk, most likely: leave nothing behind
            taken.undo()
            raise InputError(cannot_create(taken.path, error)) from None
        except BaseException:
            taken.undo()
            raise
        return folder

    @classmethod
    def resume(cls, path: Path, kind: str, rebuild: Callable[[dict, str], Plan]) -> RunFolder:
        """Reopen a folder of `kind` to finish it; `rebuild` makes its plan from the manifest."""
        folder = cls.open(path, kind, rebuild)
        folder.reopen()
        return folder

    @classmethod
    def open(cls, path: Path, kind: str, rebuild: Callable[[dict, str], Plan]) -> RunFolder:
        """A folder of `kind` read and checked for a resume, nothing written yet (see `reopen`):
        its manifest, the plan rebuilt from it and its hash, and every saved run file."""
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
        except NotADirectoryError:
            raise InputError(f"--resume {path}: not a folder") from None
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            if isinstance(error, InputError):
                raise
            raise InputError(f"--resume {path}: manifest.json cannot be read ({type(error).__name__}); "
                             f"start a new {kind}") from None
        except OSError as error:
            raise InputError(f"--resume {path}: manifest.json cannot be read ({error.strerror})") from None
        if plan.digest() != manifest.get("experiment_hash"):
            raise InputError(f"--resume {path}: the experiment in manifest.json does not match its hash "
                             f"(edited, or written by another version of grapevine); start a new {kind}")
        folder = cls(path, plan, manifest)
        folder.untrusted = folder.check_runs()
        return folder

    def reopen(self) -> None:
        """Warn if the code changed, remove what cannot be trusted (half-written temp files, run files
        truncated or made by another experiment, each said), note the resume."""
        if self.manifest.get("code_hash") != code_hash():
            print(f"warning: the grapevine code changed since {self.path} was started; the runs still to do "
                  f"may not match the saved ones (start a new {self.plan.kind} for a clean comparison)",
                  file=sys.stderr)
        made_with = self.manifest.get("numpy_math")
        if made_with is not None and made_with != numpy_math():
            print(f"note: {self.path}'s saved runs were made on a machine whose numpy computes exp and log with "
                  f"other code (another CPU family or platform): the runs still to do may round a few values in "
                  f"the last bit otherwise than runs made there would", file=sys.stderr)
        for temp in self.path.rglob(".*.tmp"):
            temp.unlink(missing_ok=True)
        for i, (path, why) in enumerate(self.untrusted):
            if i < SHOWN:
                again = "" if why == NOT_PLANNED else " and will be run again"
                print(f"note: {path.relative_to(self.path)} {why}: it is removed{again}", file=sys.stderr)
            path.unlink(missing_ok=True)
        if len(self.untrusted) > SHOWN:
            print(f"note: ... and {len(self.untrusted) - SHOWN} more run files like these, removed and to be run "
                  f"again", file=sys.stderr)
        self.untrusted = []
        self.runs.mkdir(exist_ok=True)
        self.manifest.setdefault("resumed", []).append(now())
        self.manifest["finished"] = None
        self.save_manifest()

    # --- runs -----------------------------------------------------------------------------
    def run_path(self, task: Any) -> Path:
        return self.runs / f"{task.key}.parquet"

    def has_run(self, task: Any) -> bool:
        return self.run_path(task).exists()

    def stamp(self, task: Any) -> dict:
        """What a run file says it is: the experiment's hash, the run, and its arm, replication,
        point and seed (a resume checks each file against it)."""
        found = {"experiment_hash": self.manifest["experiment_hash"], "run": task.key}
        for name in ("arm", "replication", "point", "seed"):
            if hasattr(task, name):
                found[name] = getattr(task, name)
        return found

    def save_run(self, task: Any, frame: pd.DataFrame) -> None:
        stamp = json.dumps(self.stamp(task), sort_keys=True).encode()
        atomic_write(self.run_path(task), lambda temp: _write_stamped(frame, temp, stamp))

    def load_run(self, task: Any) -> pd.DataFrame:
        return pd.read_parquet(self.run_path(task))

    def done_count(self) -> int:
        return sum(1 for _ in self.runs.rglob("*.parquet"))

    def missing(self) -> list[str]:
        return [task.key for task in self.plan.tasks() if not self.has_run(task)]

    def check_runs(self) -> list[tuple[Path, str]]:
        """The saved run files that cannot be trusted, each with why: unreadable (truncated),
        without a stamp, or stamped for another experiment, run or seed, or not a run of the plan."""
        import pyarrow.parquet as pq

        if not self.runs.is_dir():
            return []
        tasks = {task.key: task for task in getattr(self.plan, "possible_tasks", self.plan.tasks)()}
        found = []
        for path in sorted(self.runs.rglob("*.parquet")):
            task = tasks.get(path.relative_to(self.runs).with_suffix("").as_posix())
            if task is None:
                found.append((path, NOT_PLANNED))
                continue
            try:
                metadata = pq.read_metadata(path).metadata or {}
                stamp = json.loads(metadata.get(STAMP, b"null"))
            except Exception:  # noqa: BLE001 - pyarrow says "invalid" in many ways: the file is not whole
                found.append((path, "is truncated or unreadable"))
                continue
            mine = self.stamp(task)
            if not isinstance(stamp, dict):
                found.append((path, "has no grapevine stamp (copied from elsewhere, or written by an older "
                                    "grapevine)"))
            elif stamp != mine:
                name = next(k for k in ("seed", "replication", "arm", "point", "run", "experiment_hash", *stamp)
                            if stamp.get(k) != mine.get(k))
                found.append((path, f"belongs to another experiment ({name} {_brief(stamp.get(name))}, this "
                                    f"folder's is {_brief(mine.get(name))})"))
        return found

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


NOT_PLANNED = "is not a run of this folder's plan"
SHOWN = 5  # untrusted run files named one by one; the rest are counted
STAMP = b"grapevine"  # the Parquet metadata key of a run file's stamp


def _write_stamped(frame: pd.DataFrame, path: Path, stamp: bytes) -> None:
    import pyarrow.parquet as pq

    table = arrow_table(frame)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), STAMP: stamp})
    pq.write_table(table, path)


_ARROW_LAYOUTS: dict = {}  # (column names, dtypes) -> the Arrow schema pandas' conversion gave them, and
#                            the columns' positions per dtype


def arrow_table(frame: pd.DataFrame):
    """`pa.Table.from_pandas(frame, preserve_index=False)`: the same table and schema metadata, in
    a third of its time once a frame of these columns and dtypes was converted. pandas' layer
    works the schema out and takes out each column as a Series on every call (3-4 ms of a sweep's
    10,000-person run); here the schema is kept and the columns of each dtype come out as one
    array. Frames with object columns always take pandas' way: their Arrow types depend on the values."""
    import pyarrow as pa

    dtypes = tuple(frame.dtypes)
    signature = (tuple(frame.columns), dtypes, frame.columns.dtype, frame.columns.name)
    layout = _ARROW_LAYOUTS.get(signature)
    if layout is None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if frame.columns.is_unique and not any(dtype == object for dtype in dtypes):
            by_dtype: dict = {}
            for position, dtype in enumerate(dtypes):
                by_dtype.setdefault(dtype, []).append(position)
            _ARROW_LAYOUTS[signature] = table.schema, tuple(by_dtype.items())
        return table
    schema, by_dtype = layout
    arrays = [None] * len(dtypes)
    for dtype, positions in by_dtype:
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":  # its columns as one 2-d array (columns x rows)
            values = frame.iloc[:, positions].to_numpy().T
            for row, position in enumerate(positions):
                arrays[position] = pa.array(values[row], type=schema.field(position).type,
                                           from_pandas=True)  # NaN is null, as in pandas' way
        else:
            for position in positions:
                arrays[position] = pa.array(frame.iloc[:, position].array, type=schema.field(position).type)
    return pa.Table.from_arrays(arrays, schema=schema)


def _brief(value: Any) -> str:
    text = repr(value)
    return text[:15] + "..." if isinstance(value, str) and len(value) > 16 else text


def changes(before: Any, after: Any, path: tuple = ()) -> list[str]:
    """What differs between two descriptions of an experiment, one line per setting:
    'market.n_people was 400, is now 500' (the scenario's settings named as in the file)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in [*before, *(k for k in after if k not in before)]:
            found += changes(before.get(key, _ABSENT), after.get(key, _ABSENT), (*path, key))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [line for i, (b, a) in enumerate(zip(before, after)) for line in changes(b, a, (*path, i))]
    if before == after:
        return []
    name = format_path(path[1:] if path[:1] == ("scenario",) else path) or "the experiment"
    return [f"{name} was {_shown(before)}, is now {_shown(after)}"]


_ABSENT = object()


def _shown(value: Any) -> str:
    return "not set" if value is _ABSENT else short(value)


def assemble(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Runs in plan order as one table; an event a policy adds is 0 where it did not run."""
    columns: list[str] = []
    for frame in frames:
        columns += [c for c in frame.columns if c not in columns]
    table = pd.concat(frames, ignore_index=True)[columns]
    metrics = columns[columns.index("firm") + 1:]
    table[metrics] = table[metrics].fillna(0.0)
    return table
