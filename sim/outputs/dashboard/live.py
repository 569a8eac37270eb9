"""The sides of a comparison as live markets that advance together, month by month.

Arms: one `Market` per arm, all built from one seed, so they share people, network and luck
(common random numbers) and the room watches them diverge. Head to head: one market, its
firms side by side. A control that changes a side rebuilds that side's market and replays it
to the month shown: with the same seed, that is the side as if it had had the setting from
month 0. A shared control rebuilds every side.

This is the one place outside the engine that reads a market's state directly (the network
and everyone's mood, for the pictures); everything else comes from the monthly metrics.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ...formatting import money
from ...market import Market
from ...policies.base import declared, known_parts
from .settings import run_of

CHURNED = ("churned_renewal", "churned_contract_break", "churned_no_contract")
ACQUIRED = ("acquired_advertising", "acquired_referral", "acquired_win_back")
WAVE = 1.5  # failures this many times the usual, and beyond chance (3 Poisson sd), make "a wave of failures"


@dataclass(frozen=True)
class Side:
    name: str
    run: str  # the market it is in (its arm, or the head-to-head run)
    firm: int  # its firm's index in that market
    changes: str


@dataclass(frozen=True)
class Difference:
    """A side against the reference, this month: customers now and profit to date."""

    side: str
    reference: str
    customers: float
    profit: float

    def text(self, currency: str = "") -> str:
        return (f"{self.side} so far: {self.customers:+,.0f} customers, "
                f"{money(self.profit, currency=currency, sign=True)} profit")


class SideBySide:
    """The markets of the page, one per run, stepped together under a lock (the play loop and
    the controls run in different threads)."""

    def __init__(self, settings: dict, values: dict | None = None):
        self.settings = settings
        self.sides = [Side(s["name"], s["run"], s["firm"], s["changes"]) for s in settings["sides"]]
        self.reference = settings["reference"]
        self.runs = list(dict.fromkeys(side.run for side in self.sides))
        self.values = _copy(values or settings["start"])
        self.lock = threading.RLock()
        self.version = 0  # goes up whenever anything shown changes
        self.markets: dict[str, Market] = {}
        self.records: dict[str, list[dict[str, np.ndarray]]] = {}  # each run's metrics, month 0 first
        self._build(self.runs, month=0)

    # --- time ------------------------------------------------------------------------------------
    @property
    def month(self) -> int:
        return self.markets[self.runs[0]].month

    @property
    def months(self) -> int:
        return int(self.values["shared"]["months"])

    @property
    def finished(self) -> bool:
        return self.month >= self.months

    def step(self) -> bool:
        """One month in every market; False at the horizon (nothing is run)."""
        with self.lock:
            if self.finished:
                return False
            for run in self.runs:
                market = self.markets[run]
                market.step()
                self.records[run].append(market.metrics)
            self.version += 1
            return True

    def restart(self) -> None:
        """Month 0 again, with the controls as they are."""
        with self.lock:
            self._build(self.runs, month=0)

    def back_to_scenario(self) -> None:
        """The scenario's settings on every control, from month 0."""
        with self.lock:
            self.values = _copy(self.settings["start"])
            self._build(self.runs, month=0)

    # --- controls ----------------------------------------------------------------------------------
    def set(self, side: str | None, name: str, value) -> None:
        """A control's new value: `side` None for a shared one (every market is rebuilt), else
        that side's (its market is rebuilt). Both are replayed to the month shown."""
        with self.lock:
            where = self.values["shared"] if side is None else self.values["sides"][side]
            if name not in where:
                raise ValueError(f"dashboard control {name!r} is not one of {', '.join(where)}")
            old = where[name]
            if old == value:
                return
            where[name] = value
            runs = self.runs if side is None else [s.run for s in self.sides if s.name == side]
            try:
                self._build(runs, month=min(self.month, int(self.values["shared"]["months"])))
            except ValueError:  # a combination the model refuses: nothing changes
                where[name] = old
                raise

    def _build(self, runs: list[str], month: int) -> None:
        """New markets for `runs` at `month` (all made before any is replaced)."""
        built = {}
        for run in runs:
            firms, settings, seed = run_of(self.settings, self.values, run)
            market = Market(firms=firms, seed=seed, **settings)
            record = [market.metrics]
            while market.month < month:
                market.step()
                record.append(market.metrics)
            built[run] = market, record
        for run, (market, record) in built.items():
            self.markets[run], self.records[run] = market, record
        self.version += 1

    # --- what the page shows -------------------------------------------------------------------
    def market_of(self, side: Side) -> Market:
        return self.markets[side.run]

    def series(self, metric: str) -> dict[str, np.ndarray]:
        """Per side, `metric` of its firm month by month since month 0."""
        with self.lock:
            return {side.name: np.array([month[metric][side.firm] for month in self.records[side.run]])
                    for side in self.sides}

    def now(self, side: Side, metric: str) -> float:
        return float(self.records[side.run][-1][metric][side.firm])

    def policies(self, side: Side) -> str:
        """What the side's firm runs now: 'RenewalCall + ServiceRecovery(effort=0.8)'."""
        policies = self.market_of(side).firms[side.firm].policies
        return " + ".join(p.label() for p in policies) or "no policy"

    def differences(self) -> list[Difference]:
        """Each other side against the reference: customers now, profit to date."""
        with self.lock:
            reference = next(side for side in self.sides if side.name == self.reference)
            return [Difference(side.name, reference.name,
                               self.now(side, "customers") - self.now(reference, "customers"),
                               self.now(side, "cumulative_profit") - self.now(reference, "cumulative_profit"))
                    for side in self.sides if side is not reference]

    def narration(self) -> str:
        """What just happened, in words, from the month's metrics: the headline, then each side."""
        with self.lock:
            if self.month == 0:
                return self.headline()
            return " ".join([self.headline(), *(f"{side.name}: {self.month_of(side)}." for side in self.sides)])

    def headline(self) -> str:
        """'Month 14: a wave of failures.' (or the month alone; month 0 and the horizon say what to do)."""
        with self.lock:
            if self.month == 0:
                return "Month 0: the books open. Press \u25b6 Play to play the months, or Step for one."
            end = " The horizon: Restart, or change a control." if self.finished else ""
            return f"Month {self.month}{': a wave of failures' if self._wave() else ''}.{end}"

    def month_of(self, side: Side) -> str:
        """The side's month: failures, who told how many, what its policies did, who left and joined."""
        with self.lock:
            if len(self.records[side.run]) < 2:
                return ""
            m = {name: float(values[side.firm]) for name, values in self.records[side.run][-1].items()}
        said = [f"{m['service_failures']:,.0f} failures"]
        if m["negative_talkers"]:
            said.append(f"{m['negative_talkers']:,.0f} unhappy customers told {m['negative_listeners']:,.0f} people")
        said += [f"{event.replace('_', ' ')}: {m[event]:,.0f}" for event in declared("events", known_parts())
                 if m.get(event)]
        said.append(f"{sum(m[name] for name in CHURNED):,.0f} left, {sum(m[name] for name in ACQUIRED):,.0f} joined")
        return "; ".join(said)

    def _wave(self) -> bool:
        """This month's failures in the reference's market: `WAVE` times the mean of the months
        before and more than chance would give (3 standard deviations of a Poisson count)."""
        record = self.records[next(s.run for s in self.sides if s.name == self.reference)]
        failures = np.array([float(month["service_failures"].sum()) for month in record[1:]])
        if failures.size < 4:
            return False
        usual = failures[:-1].mean()
        return failures[-1] > max(WAVE * usual, usual + 3 * np.sqrt(max(usual, 1.0)))


def _copy(values: dict) -> dict:
    return {"shared": dict(values["shared"]), "sides": {k: dict(v) for k, v in values["sides"].items()}}
