"""The month's books: money by category (Ledger) and events by kind (Tally), per firm."""

from __future__ import annotations

import numpy as np

REVENUES = ("subscriptions", "upsell", "penalties")
COSTS = ("service", "recovery", "gifts", "contacts", "offers")

# Events the engine counts; a policy may declare more in its `events` class attribute.
EVENTS = (
    "acquired_advertising", "acquired_referral", "acquired_win_back",
    "churned_renewal", "churned_contract_break", "churned_no_contract", "switched_out",
    "complaints", "complaints_ignored", "recoveries_succeeded", "recoveries_failed",
    "messages_negative", "messages_relayed", "messages_positive", "messages_defended",
    "gifts", "check_ins", "silent_dissatisfaction_found", "offers_accepted", "upsells",
)


class Tally:
    """Counts of this month's events per firm; `reset` at the start of each month."""

    def __init__(self, n_firms: int, events=EVENTS):
        self.n_firms = n_firms
        self.events = tuple(events)
        self.reset()

    def reset(self) -> None:
        self.counts = {event: np.zeros(self.n_firms) for event in self.events}

    def add(self, event: str, firm: int, count: float) -> None:
        self.counts[event][firm] += count

    def add_by_firm(self, event: str, firms: np.ndarray, weights=None) -> None:
        self.counts[event] += np.bincount(np.asarray(firms, np.int64), weights=weights, minlength=self.n_firms)


class Ledger:
    """Revenue and cost of the month per firm, closed into profit and a running NPV."""

    def __init__(self, n_firms: int):
        self.n_firms = n_firms
        self.npv = np.zeros(n_firms)
        self.cumulative_profit = np.zeros(n_firms)
        self._open()
        self.closed = self._summary()

    def _open(self) -> None:
        self.revenue = {name: np.zeros(self.n_firms) for name in REVENUES}
        self.cost = {name: np.zeros(self.n_firms) for name in COSTS}

    def charge(self, firm: int, category: str, amount: float) -> None:
        self.cost[category][firm] += amount

    def charge_by_firm(self, category: str, firms: np.ndarray, amounts: np.ndarray) -> None:
        self.cost[category] += np.bincount(firms.astype(np.int64), weights=amounts, minlength=self.n_firms)

    def earn_by_firm(self, category: str, firms: np.ndarray, amounts: np.ndarray) -> None:
        self.revenue[category] += np.bincount(firms.astype(np.int64), weights=amounts, minlength=self.n_firms)

    def close_month(self, month: int, monthly_discount_rate: float) -> None:
        profit = sum(self.revenue.values()) - sum(self.cost.values())
        self.cumulative_profit += profit
        self.npv += profit / (1.0 + monthly_discount_rate) ** month
        self.closed = self._summary()
        self._open()

    def _summary(self) -> dict[str, np.ndarray]:
        revenue, cost = sum(self.revenue.values()), sum(self.cost.values())
        books = {"revenue": revenue, "cost": cost, "profit": revenue - cost,
                 "cumulative_profit": self.cumulative_profit.copy(), "npv": self.npv.copy()}
        books |= {f"revenue_{name}": value for name, value in self.revenue.items()}
        books |= {f"cost_{name}": value for name, value in self.cost.items()}
        return books
