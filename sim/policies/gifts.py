"""Small gifts after purchase: a positive surprise that can exceed expectations."""

from __future__ import annotations

from pydantic import Field

from .base import Policy


class SmallGifts(Policy):
    """A small gift worth `value_share` of the monthly price, one month after joining and
    every `every_months` after. It adds to the month's experience; because expectations
    adapt, a gift that always comes stops surprising (Haisley & Loewenstein 2011: gifts
    raised satisfaction; Edstrom et al. 2022: no paradox expected from small ones)."""

    value_share: float = Field(0.005, ge=0, le=1, description="share of monthly price; the mission's 0.5%")
    every_months: int = Field(3, ge=1, le=120, description="months between gifts")
    surprise_per_price_share: float = Field(
        4.0, ge=0, description="experience (quality units) per unit of price share; modelling choice: 0.5% gives +0.02"
    )

    def shape_experience(self, market, firm, members):
        c = market.customers
        gifted = members[(c.tenure[members] - 1) % self.every_months == 0]
        c.experience[gifted] += self.value_share * self.surprise_per_price_share
        market.ledger.charge(firm, "gifts", gifted.size * self.value_share * market.firm_price[firm])
        market.tally.add("gifts", firm, gifted.size)
