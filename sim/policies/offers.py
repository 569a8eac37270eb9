"""Offers around leaving: keep them before they go, or win them back after."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ..customers import WIN_BACK
from .base import Lever, Policy, offer_acceptance
from .shared import DISCOUNT


class RetentionOffers(Policy):
    """The best deal, offered to customers who are about to leave (a 'save desk'): a
    discount of `discount` of the price for `months` months if they stay."""

    discount: float = Field(0.2, ge=0, le=1, description="share of price taken off")
    months: int = Field(6, ge=1, le=60, description="months the discount lasts")
    acceptance: float = Field(0.1, ge=0, le=1, description="acceptance of a same-terms ask; modelling choice")
    discount_sensitivity: float = Field(1.5, ge=0, description="acceptance per unit of discount; modelling choice")
    contact_cost: float = Field(2.0, ge=0, description="currency per offer made")

    shares = (DISCOUNT,)
    events = ("offers_accepted",)
    costs = ("contacts",)
    levers = (Lever("discount", "Retention discount", 0.0, 0.5, 0.05, unit="share of price", off=0.0),)

    def before_leaving(self, market, firm, leavers, at_renewal):
        c, month = market.customers, market.month
        market.ledger.charge(firm, "contacts", leavers.size * self.contact_cost)
        accept = offer_acceptance(self.acceptance, self.discount, self.discount_sensitivity, c.loyalty[leavers])
        kept = market.streams.chance("retention_offer", month, leavers, accept)
        c.discount[leavers[kept]] = self.discount
        c.discount_until[leavers[kept]] = month + self.months - 1  # this month is the first
        market.tally.add("offers_accepted", firm, int(kept.sum()))
        return kept


class WinBackOffers(Policy):
    """Incentives to come back, made once, `wait_months` after a customer left (if they are
    still without a firm). Acceptance rises with how loyal they were and falls with the
    grievance they left with (Thomas, Blattberg & Fox 2004; Kumar, Bhagwat & Zhang 2015)."""

    discount: float = Field(0.3, ge=0, le=1, description="share of price taken off on return")
    months: int = Field(6, ge=1, le=60, description="months the discount lasts")
    wait_months: int = Field(2, ge=1, le=60, description="months after leaving when the offer is made")
    acceptance: float = Field(0.05, ge=0, le=1, description="acceptance without discount; modelling choice")
    discount_sensitivity: float = Field(1.0, ge=0, description="acceptance per unit of discount; modelling choice")
    contact_cost: float = Field(2.0, ge=0, description="currency per offer made")

    shares = (DISCOUNT,)
    costs = ("contacts",)
    levers = (Lever("discount", "Win-back discount", 0.0, 0.5, 0.05, unit="share of price", off=0.0),)

    def reach_former_customers(self, market, firm, former):
        c, month = market.customers, market.month
        due = former[month - c.left_month[former] == self.wait_months]
        market.ledger.charge(firm, "contacts", due.size * self.contact_cost)
        accept = offer_acceptance(self.acceptance, self.discount, self.discount_sensitivity, c.loyalty_when_left[due])
        accept *= np.exp(-c.grievance[due])
        back = due[market.streams.chance("win_back_offer", month, due, accept)]
        market.welcome(back, firm, WIN_BACK)
        c.discount[back] = self.discount
        c.discount_until[back] = month + self.months - 1
