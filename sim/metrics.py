"""The monthly series: what the DataCollector records for each firm at the end of a month."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np

from . import compiled
from .bookkeeping import monthly_discount_rate
from .customers import MOODS

STATE_METRICS = (
    "customers", "share", "prospects", "retained", "churn_rate",
    *MOODS, "nps", "promoters", "detractors", "satisfaction", "loyalty", "attitude",
)


def likelihood_to_recommend(satisfaction: np.ndarray, loyalty: np.ndarray, parameters) -> np.ndarray:
    """The 0-10 answer each customer would give to "how likely are you to recommend us?".

    Satisfaction maps piecewise-linearly through the points the mood thresholds already stand
    for (Reichheld 2003: promoters answer 9-10, passives 7-8, detractors 0-6): 0 -> 0,
    `satisfied_above` -> 7, `delighted_above` -> 9, 1 -> 10, rounded down. A loyal customer
    (loyalty at least `loyal_above`) answers at least 9: in the model the delighted and the
    loyal are the ones who refer, so the promoters are exactly the customers who recommend."""
    p = parameters
    points = ([0.0, p.satisfied_above, p.delighted_above, 1.0], [0.0, 7.0, 9.0, 10.0])
    score = np.floor(np.interp(satisfaction, *points) + 1e-9)
    return np.where(loyalty >= p.loyal_above, np.maximum(score, 9.0), score).astype(np.int8)


def monthly_metrics(market) -> dict[str, np.ndarray]:
    """Every metric of the month as an array over firms (market-wide ones repeat per firm)."""
    c, p, k = market.customers, market.parameters, market.n_firms
    customers, moods, satisfied, loyal, retained, promoters, detractors = _sums_by_firm(market)
    per_customer = np.maximum(customers, 1.0)
    events = market.tally.counts
    churned = sum(events[f"churned_{reason}"] for reason in ("renewal", "contract_break", "no_contract"))
    churn_rate = churned / np.maximum(market.customers_at_start, 1.0)
    books = market.ledger.closed
    metrics = {
        "customers": customers,
        "share": customers / c.n,
        "prospects": np.full(k, c.n - customers.sum()),
        "retained": retained / np.maximum(market.initial_customers, 1.0),
        "churn_rate": churn_rate,
        **{name: moods[:, i].astype(float) for i, name in enumerate(MOODS)},
        "nps": 100.0 * (promoters - detractors) / per_customer,  # Reichheld 2003: % promoters - % detractors
        "promoters": 100.0 * promoters / per_customer,
        "detractors": 100.0 * detractors / per_customer,
        "satisfaction": satisfied / per_customer,
        "loyalty": loyal / per_customer,
        "attitude": c.attitude.mean(axis=0),
        **dict(zip(market.tally.events, market.tally.table.copy())),  # the month's counts, kept
        **books,
    }
    margin = books["profit"] / per_customer
    metrics["clv"] = customer_lifetime_value(margin, 1.0 - churn_rate, p.discount_rate)
    return metrics


def _sums_by_firm(market) -> tuple:
    """Per firm: customers, customers per mood (firm x MOODS), sums of satisfaction and loyalty,
    month-0 customers still there, promoters and detractors; one compiled pass
    (sim.kernels.firm_sums) or numpy's bincounts."""
    c, p, k = market.customers, market.parameters, market.n_firms
    fast = compiled.kernels()
    if fast is not None:
        bins = np.array([p.dissatisfied_below, p.satisfied_above, p.delighted_above])
        return fast.firm_sums(c.firm, c.initial_firm, c.satisfaction, c.loyalty, bins, k, p.loyal_above,
                              *score_thresholds(p.satisfied_above, p.delighted_above))
    members = c.members()
    firm = c.firm[members].astype(np.int64)
    moods = np.bincount(firm * len(MOODS) + c.mood(p, members), minlength=k * len(MOODS)).reshape(k, len(MOODS))
    score = likelihood_to_recommend(c.satisfaction[members], c.loyalty[members], p)
    return (np.bincount(firm, minlength=k).astype(float), moods,
            np.bincount(firm, weights=c.satisfaction[members], minlength=k),
            np.bincount(firm, weights=c.loyalty[members], minlength=k),
            np.bincount(np.maximum(c.initial_firm, 0), weights=c.initial_firm >= 0, minlength=k),
            np.bincount(firm, weights=score >= 9, minlength=k), np.bincount(firm, weights=score <= 6, minlength=k))


@functools.lru_cache(maxsize=256)
def score_thresholds(satisfied_above: float, delighted_above: float) -> tuple[float, float]:
    """The least satisfaction that scores 9 or more, and the least that scores 7 or more, by
    `likelihood_to_recommend` itself (numpy's interp, found by bisection over the floats in 0..1):
    the score never falls as satisfaction rises, so a customer who is not loyal is a promoter
    exactly when at or above the first and a detractor exactly when below the second."""
    parameters = SimpleNamespace(satisfied_above=satisfied_above, delighted_above=delighted_above, loyal_above=np.inf)

    def least(score: int) -> float:
        low, high = 0, int(np.float64(1.0).view(np.int64))  # non-negative floats sort as their bits do
        if likelihood_to_recommend(np.array([0.0]), np.zeros(1), parameters)[0] >= score:
            return 0.0
        while high - low > 1:  # scores below `score` at low, at least `score` at high
            middle = (low + high) // 2
            value = np.int64(middle).view(np.float64)
            if likelihood_to_recommend(np.array([value]), np.zeros(1), parameters)[0] >= score:
                high = middle
            else:
                low = middle
        return float(np.int64(high).view(np.float64))

    return least(9), least(7)


def customer_lifetime_value(monthly_margin, monthly_retention, yearly_discount_rate):
    """Gupta & Lehmann's infinite-horizon CLV: m (1 + d) / (1 + d - r), per month."""
    d = monthly_discount_rate(yearly_discount_rate)
    return monthly_margin * (1.0 + d) / (1.0 + d - np.asarray(monthly_retention))
