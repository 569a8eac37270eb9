"""Outputs: `Results` (one object read by everything that draws), figures, the report, the dashboard.

Importing the package registers the figures of `plots` with `Results.plot`.
"""

from . import plots  # noqa: F401  (registers the figures)
from .results import Results

__all__ = ["Results"]
