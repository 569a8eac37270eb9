"""What differs between the Mesa releases Grapevine runs on, in one place.

Python 3.11 gets Mesa 3.3 (3.4 dropped Python 3.11); Python 3.12 and 3.13 get Mesa 3.5. The
engine uses only API present in both (`rng=`, `mesa.discrete_space`, `DataCollector`); the
two places where the same call does different things are here:

- `network_space`: Mesa 3.5's `Network` lays the graph out with `nx.spring_layout` unless
  told not to (4 s for 1,500 people), and Mesa 3.3's does not take the argument at all.
- `batch_run` (in `sim/batch.py`, which builds on `Market`): Mesa's sweep runner changed its
  seeding in 3.4, its step count and its rows in 3.5, and is gone in Mesa 4; the adapter
  gives the same rows on 3.3, 3.4 and 3.5.
"""

from __future__ import annotations

import inspect

import mesa
from mesa.discrete_space import Network

MESA_VERSION = tuple(int(part) for part in mesa.__version__.split(".")[:2] if part.isdigit())

# Mesa 3.5 places every cell with `layout` (default nx.spring_layout) and indexes the positions;
# the engine never needs positions (the dashboard lays out the graph it draws, once).
_NO_LAYOUT = {"layout": None} if "layout" in inspect.signature(Network).parameters else {}


def network_space(graph, random) -> Network:
    """A `mesa.discrete_space.Network` over `graph` with no layout computed, on any Mesa 3."""
    return Network(graph, random=random, **_NO_LAYOUT)
