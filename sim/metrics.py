"""The monthly series: what the DataCollector records for each firm at the end of a month."""

from __future__ import annotations

import numpy as np

from .bookkeeping import monthly_discount_rate
from .customers import MOODS

STATE_METRICS = (
    "customers", "share", "prospects", "retained", "churn_rate",
    *MOODS, "nps", "satisfaction", "loyalty", "attitude",
)


def monthly_metrics(market) -> dict[str, np.ndarray]:
    """Every metric of the month as an array over firms (market-wide ones repeat per firm)."""
    c, p, k = market.customers, market.parameters, market.n_firms
    members = np.flatnonzero(c.is_customer)
    firm = c.firm[members].astype(np.int64)
    customers = np.bincount(firm, minlength=k).astype(float)
    per_customer = np.maximum(customers, 1.0)
    mood = c.mood(p)[members]
    moods = np.bincount(firm * len(MOODS) + mood, minlength=k * len(MOODS)).reshape(k, len(MOODS))
    satisfaction = c.satisfaction[members]
    promoters = np.bincount(firm, weights=satisfaction >= p.delighted_above, minlength=k)
    detractors = np.bincount(firm, weights=satisfaction < p.satisfied_above, minlength=k)
    events = market.tally.counts
    churned = sum(events[f"churned_{reason}"] for reason in ("renewal", "contract_break", "no_contract"))
    churn_rate = churned / np.maximum(market.customers_at_start, 1.0)
    books = market.ledger.closed
    metrics = {
        "customers": customers,
        "share": customers / c.n,
        "prospects": np.full(k, float(c.n - members.size)),
        "retained": np.bincount(np.maximum(c.initial_firm, 0), weights=c.initial_firm >= 0, minlength=k)
        / np.maximum(market.initial_customers, 1.0),
        "churn_rate": churn_rate,
        **{name: moods[:, i].astype(float) for i, name in enumerate(MOODS)},
        "nps": 100.0 * (promoters - detractors) / per_customer,
        "satisfaction": np.bincount(firm, weights=satisfaction, minlength=k) / per_customer,
        "loyalty": np.bincount(firm, weights=c.loyalty[members], minlength=k) / per_customer,
        "attitude": c.attitude.mean(axis=0),
        **{name: value.astype(float) for name, value in events.items()},
        **books,
    }
    margin = books["profit"] / per_customer
    metrics["clv"] = customer_lifetime_value(margin, 1.0 - churn_rate, p.discount_rate)
    return metrics


def customer_lifetime_value(monthly_margin, monthly_retention, yearly_discount_rate):
    """Gupta & Lehmann's infinite-horizon CLV: m (1 + d) / (1 + d - r), per month."""
    d = monthly_discount_rate(yearly_discount_rate)
    return monthly_margin * (1.0 + d) / (1.0 + d - np.asarray(monthly_retention))
