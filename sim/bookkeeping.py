"""The month's books: money by category (Ledger) and events by kind (Tally), per firm.

The engine's own categories and events are listed here; policies declare theirs (`events`,
`costs`, `revenues` in `sim.policies`) and the market adds them after these.
"""

from __future__ import annotations

import numpy as np

REVENUES = ("subscriptions", "penalties")  # the monthly price; contract breakers' penalties
COSTS = ("service",)  # the cost to serve

EVENTS = (
    "acquired_advertising", "acquired_referral", "acquired_win_back",
    "churned_renewal", "churned_contract_break", "churned_no_contract", "switched_out",
    "complaints", "complaints_resolved", "messages_negative",
    # negative messages by the cause of the teller's dissatisfaction (sim.customers.CAUSES), and
    # second-hand (relayed by rejecters): together they are messages_negative
    "messages_negative_failure", "messages_negative_quality", "messages_negative_price", "messages_negative_contact",
    "messages_relayed", "messages_positive", "messages_defended",
    # answers of asked contacts, by what they said about their firm (solicited word of mouth)
    "answers_positive", "answers_neutral", "answers_negative",
    "service_failures", "negative_talkers", "negative_listeners",  # what happened, for a narrator
    "customers_landed",
)


class Tally:
    """Counts of this month's events per firm; `reset` at the start of each month.

    One table, a row per event (`counts[event]` is that row): a month's reset is one fill, not
    an array per event."""

    def __init__(self, n_firms: int, events=EVENTS):
        self.n_firms = n_firms
        self.events = tuple(events)
        self.table = np.zeros((len(self.events), n_firms))
        self.counts = dict(zip(self.events, self.table))
        self._rows: dict[tuple, list] = {}  # add_rows' event names -> (table rows, given rows) blocks

    def reset(self) -> None:
        self.table.fill(0.0)

    def add(self, event: str, firm: int, count: float) -> None:
        self._count(event)[firm] += count

    def add_by_firm(self, event: str, firms: np.ndarray, weights=None) -> None:
        count = self._count(event)
        if weights is None and self.n_firms == 1:  # one firm: the count is the number of entries
            count[0] += len(firms)
            return
        count += np.bincount(np.asarray(firms, np.int64), weights=weights, minlength=self.n_firms)

    def add_per_firm(self, event: str, counts: np.ndarray) -> None:
        """Add a count per firm."""
        self._count(event)[:] += counts

    def add_rows(self, events: tuple, counts: np.ndarray) -> None:
        """Add a (event x firm) table of counts, a row per event named in `events`."""
        runs = self._rows.get(events)
        if runs is None:
            runs = self._rows[events] = _runs([self.events.index(self._check(event)) for event in events])
        for rows, given in runs:  # events next to each other in the table: added as a block
            self.table[rows] += counts[given]

    def _check(self, event: str) -> str:
        self._count(event)
        return event

    def _count(self, event: str) -> np.ndarray:
        try:
            return self.counts[event]
        except KeyError:
            raise KeyError(f"event {event!r} is not declared: list it in the policy's `events`") from None


class Ledger:
    """Revenue and cost of the month per firm, closed into profit and a running NPV."""

    def __init__(self, n_firms: int, revenues=REVENUES, costs=COSTS):
        self.n_firms = n_firms
        self.revenues, self.costs = tuple(revenues), tuple(costs)
        self.npv = np.zeros(n_firms)
        self.cumulative_profit = np.zeros(n_firms)
        self._open()
        self.closed = self._summary()

    def _open(self) -> None:
        self.revenue = {name: np.zeros(self.n_firms) for name in self.revenues}
        self.cost = {name: np.zeros(self.n_firms) for name in self.costs}

    def charge(self, firm: int, category: str, amount: float) -> None:
        _book(self.cost, category, "costs")[firm] += amount

    def charge_by_firm(self, category: str, firms: np.ndarray, amounts: np.ndarray) -> None:
        _book(self.cost, category, "costs")[:] += np.bincount(firms.astype(np.int64), weights=amounts,
                                                              minlength=self.n_firms)

    def earn_by_firm(self, category: str, firms: np.ndarray, amounts: np.ndarray) -> None:
        _book(self.revenue, category, "revenues")[:] += np.bincount(firms.astype(np.int64), weights=amounts,
                                                                    minlength=self.n_firms)

    def charge_per_firm(self, category: str, amounts: np.ndarray) -> None:
        """Cost of `category`, an amount per firm."""
        _book(self.cost, category, "costs")[:] += amounts

    def earn_per_firm(self, category: str, amounts: np.ndarray) -> None:
        """Revenue of `category`, an amount per firm."""
        _book(self.revenue, category, "revenues")[:] += amounts

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


def _runs(rows: list[int]) -> list[tuple[slice, slice]]:
    """Rows as blocks of consecutive ones: (rows of the table, rows of the given counts) slices."""
    runs, start = [], 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i] != rows[i - 1] + 1:
            runs.append((slice(rows[start], rows[i - 1] + 1), slice(start, i)))
            start = i
    return runs


def monthly_discount_rate(yearly: float) -> float:
    """The monthly rate that compounds to `yearly` over twelve months."""
    return (1.0 + yearly) ** (1.0 / 12.0) - 1.0


def _book(books: dict[str, np.ndarray], category: str, kind: str) -> np.ndarray:
    try:
        return books[category]
    except KeyError:
        raise KeyError(f"category {category!r} is not declared: list it in the policy's `{kind}`") from None
