"""A small market to look at: the data behind the pictures of the social network.

The figures of a run folder read saved data only; the two pictures of people on their network
need a market small enough to draw (400 people), so the run computes it here, once, with the
scenario's settings, and saves what the pictures show in `showcase.npz`:

- the network and everyone's firm and mood after the warm-up;
- month by month around a wave of service failures: who tells others about a bad experience,
  who hears net bad news about the firm, who has left it, and the negative messages.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..market import Market
from ..population import at_size
from ..scenario import Scenario
from .folder import atomic_write

FILE = "showcase.npz"
PEOPLE = 400
MONTHS, WAVE_MONTH, WAVE_FAILURE_RATE = 8, 2, 0.3


def small_market(scenario: Scenario, run: str | None = None, n_people: int = PEOPLE) -> Market:
    """A small market on a small world with the scenario's market and firm settings (baseline arm)."""
    groups = scenario.groups
    firms, settings = scenario.run_settings(run or (groups.runs[0] if groups.head_to_head else groups.baseline))
    firms, settings = at_size(firms, settings, n_people)
    settings.update(network="small_world", edge_list_path=None)
    return Market(firms=firms, seed=scenario.seed, **settings)


def snapshot(market: Market) -> dict[str, np.ndarray]:
    """The network (each tie once) and every person's firm and mood."""
    net, c = market.network, market.customers
    rows = net.rows
    upper = rows < net.indices
    return {"tie_a": rows[upper], "tie_b": net.indices[upper].astype(np.int32),
            "firm": c.firm.astype(np.int16), "mood": c.mood(market.parameters), "customer": c.is_customer.copy()}


def failure_wave(market: Market, firm: int = 0, months: int = MONTHS, wave_month: int = WAVE_MONTH,
                 wave_failure_rate: float = WAVE_FAILURE_RATE) -> dict[str, np.ndarray]:
    """Step `market` through `months`, with `firm` failing at `wave_failure_rate` during
    `wave_month`: per month, who tells, who hears bad news, who has left, negative messages."""
    c, p = market.customers, market.parameters
    normal_rate = float(market.firm_failure_rate[firm])
    start_customer = c.is_customer & (c.firm == firm)
    frames = {name: [] for name in ("telling", "heard", "left", "customer")}
    messages = []
    for month in range(months + 1):
        before = c.attitude[:, firm].copy()
        if month > 0:
            if month == wave_month:
                market.firm_failure_rate[firm] = wave_failure_rate
            market.step()
            market.firm_failure_rate[firm] = normal_rate
        news = c.attitude[:, firm] - p.attitude_memory * before if month > 0 else np.zeros(c.n)
        frames["telling"].append((c.talks_negative & (c.firm == firm)) if month > 0 else np.zeros(c.n, bool))
        frames["heard"].append(news < -0.05)
        frames["left"].append(start_customer & (c.firm != firm))
        frames["customer"].append(c.is_customer & (c.firm == firm))
        messages.append(float(market.metrics["messages_negative"][firm]) if month > 0 else 0.0)
    return {**{f"wave_{name}": np.array(value) for name, value in frames.items()},
            "wave_messages": np.array(messages), "wave_normal_rate": np.array(normal_rate),
            "wave_rate": np.array(wave_failure_rate), "wave_month": np.array(wave_month)}


def compute(scenario: Scenario) -> dict[str, np.ndarray]:
    market = small_market(scenario)
    data = snapshot(market)
    data["firms"] = np.array(json.dumps([f.name for f in market.firms]))
    data.update(failure_wave(market))
    return data


def write(folder_path: Path, scenario: Scenario, data: dict | None = None) -> Path:
    path = Path(folder_path) / FILE
    data = compute(scenario) if data is None else data

    def save(temp: Path) -> None:
        with open(temp, "wb") as handle:
            np.savez_compressed(handle, **data)

    atomic_write(path, save)
    return path


def read(folder_path: Path) -> dict[str, np.ndarray] | None:
    path = Path(folder_path) / FILE
    if not path.exists():
        return None
    with np.load(path) as data:
        return {name: data[name] for name in data.files}
