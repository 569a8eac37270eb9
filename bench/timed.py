"""Run a grapevine command as a bench measures it: wall time, the CPU time of the command and its
worker processes, and the machine's load before and after (the machine may be shared)."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Timed:
    done: subprocess.CompletedProcess
    seconds: float  # wall time
    cpu: float  # CPU seconds of the command and its worker processes
    before: str  # load averages (1, 5, 15 min)
    after: str


def run(command: list[str]) -> Timed:
    """`command` from the project's folder; CPU time from the children's resource usage (call once per process)."""
    before = load()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = load()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Timed(done, seconds, usage.ru_utime + usage.ru_stime, before, after)
