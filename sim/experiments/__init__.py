"""The experiment layer: what to run (`Experiment`), where (`executors`), the one runner loop
(`runner`), the run folder (`folder`), paired statistics and verdicts (`stats`, `verdicts`), and
the commands built on them (`run`, `sweep`, `sensitivity`, `validation`)."""

from .design import Experiment, RunTask, replication_seed
from .folder import RunFolder

__all__ = ["Experiment", "RunTask", "replication_seed", "RunFolder"]
