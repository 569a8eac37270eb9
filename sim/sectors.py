"""Sectors a scenario can say it models, with the monthly churn measured in each.

A scenario names its sector (`sector:` in the file); `grapevine check-model` checks that every
shipped scenario churns within its sector's band, and the report sets a run's churn beside it.
Figures are from `mission-anchors.md` section 3. A range reported by the source is the band;
a single figure gets +-25% (one source, one period: it is a typical value, not a bound).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

POINT_TOLERANCE = 0.25  # relative, around a single published figure


@dataclass(frozen=True)
class Sector:
    label: str
    low: float  # monthly churn, share of customers
    high: float
    source: str

    def contains(self, monthly_churn: float) -> bool:
        return self.low <= monthly_churn <= self.high

    def band(self) -> str:
        return f"{self.low:.1%}-{self.high:.1%}/month"


def _around(figure: float) -> tuple[float, float]:
    return figure * (1 - POINT_TOLERANCE), figure * (1 + POINT_TOLERANCE)


def _monthly(annual_defection: float) -> float:
    return 1.0 - (1.0 - annual_defection) ** (1 / 12)


SECTORS: dict[str, Sector] = {
    "postpaid_mobile": Sector(
        "postpaid mobile", 0.010, 0.017,
        "US postpaid wireless ~1.1-1.7%/month: AT&T 1.71% Q4 2016, Verizon 1.23% Q4 2017 (Statista, Strategy Analytics)",
    ),
    "prepaid_mobile": Sector(
        "prepaid mobile", 0.03, 0.06, "US prepaid wireless ~3-6%/month: Sprint 5.62% Q1 2016 (Statista)",
    ),
    "broadband": Sector(
        "broadband / internet service", *_around(_monthly(0.22)),
        "ISPs lose 22% of customers a year, 2.0%/month (Thomas, Blattberg & Fox 2004, JMR 41(1))",
    ),
    "b2c_subscription": Sector(
        "B2C subscription", *_around(0.068), "B2C subscription sites 6.8%/month (Recurly benchmark, 1,500+ sites)",
    ),
    "b2b_subscription": Sector(
        "B2B subscription", *_around(0.049), "B2B subscription sites 4.9%/month (Recurly benchmark, 1,500+ sites)",
    ),
}

def churn_sentence(sector_name: str, who: str, monthly_churn: float, calibrated: bool = False) -> str:
    """A simulated churn set beside the published churn of the sector (report and command line);
    a scenario calibrated to the firm's own figures is judged by those instead."""
    sector = SECTORS[sector_name]
    verdict = ("within that range" if sector.contains(monthly_churn) else
               "outside that range, as the firm's own figures have it (calibrated)" if calibrated else
               "outside that range: check the market's churn settings (base_churn, contract_months) "
               "before trusting levels")
    return (f"Sector {sector.label}: firms lose {sector.low:.1%}-{sector.high:.1%} of their customers a month "
            f"[{sector.source}]. Here {who} loses {monthly_churn:.2%} a month, {verdict}.")


SectorName = Literal[tuple(SECTORS)]  # the names a scenario may give, for validation and the schema
