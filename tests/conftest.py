"""Shared helpers for the engine's specification tests.

Defaults are never written into tests: they are read from `MarketParameters()` (the lead
engineer calibrates them), or the parameter a test depends on is set explicitly.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import sim
from sim.parameters import MarketParameters

# Property-based tests: few, small examples; the engine is deterministic, so no deadline.
settings.register_profile(
    "grapevine",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("grapevine")

SMALL = 400  # people in a typical rule test: big enough for counts, small enough to be instant

# Settings that switch off everything that moves people between firms, so that a rule can be
# watched on a fixed set of customers.
NOBODY_MOVES = dict(
    base_churn=0.0,
    contract_break_probability=0.0,
    imitation=0.0,
    advertising=0.0,
)


# A market exactly as set up, without the warm-up months that let the status quo settle:
# everyone at their temperament, no attitudes yet, contracts as drawn. Rules are easiest to
# watch from here.
PRISTINE = {"warm_up_months": 0} if "warm_up_months" in MarketParameters.model_fields else {}


@pytest.fixture
def defaults() -> MarketParameters:
    """The engine's current defaults (read, never copied)."""
    return MarketParameters()


def make_market(**settings) -> sim.Market:
    """A small market; every keyword is passed to `sim.Market`."""
    settings.setdefault("seed", 1)
    settings.setdefault("n_people", SMALL)
    return sim.Market(**settings)


def run_months(market: sim.Market, months: int) -> sim.Market:
    for _ in range(months):
        market.step()
    return market


def months_of(market: sim.Market):
    """Step through the market's horizon, yielding the market at month 0 and after every month."""
    yield market
    while market.month < market.parameters.months:
        market.step()
        yield market


def last_month(market: sim.Market, firm: int = 0) -> dict[str, float]:
    """The metrics of the month just ended for one firm, as plain floats."""
    return {name: float(values[firm]) for name, values in market.metrics.items()}


def total(market: sim.Market, metric: str, firm: int = 0) -> float:
    """A metric summed over all months so far (for event counts and money)."""
    frame = market.monthly()
    return float(frame.loc[frame["firm"] == market.firms[firm].name, metric].sum())


def members(market: sim.Market) -> np.ndarray:
    return np.flatnonzero(market.customers.is_customer)
