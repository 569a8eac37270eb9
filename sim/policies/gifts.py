"""Small gifts after purchase: a positive surprise that can exceed expectations."""

from __future__ import annotations

import numpy as np

from ..provenance import decision, judgement, setting
from .base import Lever, Policy, State


class SmallGifts(Policy):
    """A small gift worth `value_share` of the monthly price, one month after joining and
    every `every_months` after. It delights by what it exceeds the gift the customer has
    come to expect; that expectation adapts with each gift, so a gift that always comes
    stops surprising and is then only a cost (Haisley & Loewenstein 2011: gifts raised
    satisfaction; Edstrom et al. 2022: no recovery paradox expected from small ones)."""

    value_share: float = setting(0.005, "share of monthly price; the mission's 0.5%", decision("the policy's lever"),
                                 ge=0, le=1)
    every_months: int = setting(3, "months between gifts", decision("the policy's lever"), ge=1, le=120)
    surprise_per_price_share: float = setting(
        4.0, "delight (quality units) per unit of price share; modelling choice, no source",
        judgement(1.0, 8.0, "judgement, no source: 10 ('calibrated', no target) in the first commit, 4 since "
                            "d4e6b9b with no reason given; 1 values a gift at what it costs as a share of the "
                            "price, 8 is twice the default. The gifts verdict turns on it (issue 11)"), ge=0
    )

    states = (State("gift_expectation", float, 0.0, description="the gift they have come to expect from their firm"),)
    events = ("gifts",)
    costs = ("gifts",)
    levers = (Lever("value_share", "Gift value", 0.0, 0.05, 0.0025, unit="share of price", off=0.0),)

    def shape_experience(self, market, firm, members):
        c, p = market.customers, market.parameters
        gifted = members[(c.tenure[members] - 1) % self.every_months == 0]
        value = self.value_share * self.surprise_per_price_share
        c.surprise[gifted] += np.maximum(0.0, value - c.gift_expectation[gifted])
        c.gift_expectation[gifted] += p.expectation_adaptation * (value - c.gift_expectation[gifted])
        market.ledger.charge(firm, "gifts", gifted.size * self.value_share * market.firm_price[firm])
        market.tally.add("gifts", firm, gifted.size)
