"""What a firm measures about itself, measured the same way on the simulated firm.

A firm's own figures (a scenario's `observed:` section; docs/CALIBRATION.md) describe the firm as
it runs now. In the model that is the baseline (the firm as written, its policies on) over the
first `months` months after month 0. Each statistic is a count over a count of that firm,
defined once here and documented in docs/MODEL.md (section 7.11):

| statistic | counted (x) | out of (n) | reported as |
|---|---|---|---|
| churn | customers who left in the period's months (at renewal, breaking a contract or without one; switchers included, leavers the firm kept not) | customers at the start of each month, summed (customer-months) | x / n a month |
| complaints | complaints made in those months (a customer complains at most once a month) | customer-months | 1,000 x / n per 1,000 customers a month |
| complaints_resolved | complaints resolved in the month they were made | complaints | x / n |
| new_customers | customers who joined (advertising, referral, win-back; switchers from rivals included) | customer-months (the exposure) | x / months a month |
| referral_share | new customers who joined through a referral | new customers | x / n |
| nps_survey | promoters (answer 9-10), passives (7-8), detractors (0-6) among the customers at the end of the period's last month (`metrics.likelihood_to_recommend`) | customers then | the three shares |
| recommended | customers at the end of the last month who recommended the firm in the period's months (since they joined) | customers then | x / n |

`monthly_counts` records the monthly counts these are built from while the market runs; the
statistic of a period is `counts(frame, name, months)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .metrics import likelihood_to_recommend

CHURN_REASONS = ("churned_renewal", "churned_contract_break", "churned_no_contract")
ACQUIRED = ("acquired_advertising", "acquired_referral", "acquired_win_back")
SURVEY = ("promoters", "passives", "detractors")


@dataclass(frozen=True)
class Statistic:
    """One figure a firm measures: what it is called and how its value reads."""

    name: str
    label: str
    unit: str
    scale: float = 1.0  # value shown = scale * x / n
    per_month: bool = False  # new customers: x / months, with n the exposure


STATISTICS = {s.name: s for s in (
    Statistic("churn", "monthly churn", "share of customers a month"),
    Statistic("complaints", "complaints per 1,000 customers a month", "per 1,000 customers a month", scale=1000.0),
    Statistic("complaints_resolved", "share of complaints resolved", "share of complaints"),
    Statistic("new_customers", "new customers a month", "customers a month", per_month=True),
    Statistic("referral_share", "share of new customers from referrals", "share of new customers"),
    Statistic("nps_survey", "NPS survey (promoters, passives, detractors)", "shares of respondents"),
    Statistic("recommended", "share of customers who recommended the firm", "share of customers"),
)}


def monthly_counts(market, firm: int, months: int, recommended_window: int) -> pd.DataFrame:
    """Run `market` from month 0 for `months` months and return firm `firm`'s counts, one row per
    month: customers at its start and end, churned, complaints, complaints resolved, acquired (and
    through referral), the survey's three groups at its end, and the customers at its end who
    recommended the firm in the last `recommended_window` months."""
    rows = []
    c, p = market.customers, market.parameters
    for _ in range(months):
        market.step()
        events = market.tally.counts
        members = np.flatnonzero(c.firm == firm)
        score = likelihood_to_recommend(c.satisfaction[members], c.loyalty[members], p)
        promoters, detractors = int((score >= 9).sum()), int((score <= 6).sum())
        rows.append({
            "month": market.month,
            "customers_start": float(market.customers_at_start[firm]),
            "churned": float(sum(events[name][firm] for name in CHURN_REASONS)),
            "complaints": float(events["complaints"][firm]),
            "complaints_resolved": float(events["complaints_resolved"][firm]),
            "acquired": float(sum(events[name][firm] for name in ACQUIRED)),
            "acquired_referral": float(events["acquired_referral"][firm]),
            "customers": float(members.size),
            "promoters": float(promoters),
            "passives": float(members.size - promoters - detractors),
            "detractors": float(detractors),
            "recommended": float((c.last_referral[members] > market.month - recommended_window).sum()),
        })
    return pd.DataFrame(rows)


def counts(frame: pd.DataFrame, name: str, months: int) -> tuple[np.ndarray, float]:
    """The statistic `name` over the first `months` months of `frame` (one run's, or several runs'
    frames stacked with a `replication` column: counts add up over runs): (x, n), where x is one
    count, or the survey's three counts, and n what it is out of (for new customers, the exposure
    in customer-months)."""
    period = frame[frame["month"] <= months]
    last = period[period["month"] == months]
    column = {"churn": ("churned", "customers_start"), "complaints": ("complaints", "customers_start"),
              "complaints_resolved": ("complaints_resolved", "complaints"),
              "new_customers": ("acquired", "customers_start"), "referral_share": ("acquired_referral", "acquired")}
    if name in column:
        x, n = column[name]
        return np.array([period[x].sum()]), float(period[n].sum())
    if name == "nps_survey":
        return last[list(SURVEY)].sum().to_numpy(float), float(last["customers"].sum())
    if name == "recommended":
        return np.array([last["recommended"].sum()]), float(last["customers"].sum())
    raise KeyError(f"no statistic {name!r}: choose one of {', '.join(STATISTICS)}")


def value(name: str, x: np.ndarray, n: float, months: int, runs: int = 1) -> np.ndarray:
    """The figure as a firm states it, from counts: a rate or share (x / n, times the scale), the
    survey's shares, or new customers a month (x per run and month)."""
    statistic = STATISTICS[name]
    if statistic.per_month:
        return np.asarray(x, float) / (months * runs)
    return statistic.scale * np.asarray(x, float) / max(n, 1e-12)
