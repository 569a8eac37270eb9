"""Offers around leaving: keep them before they go, or win them back after."""

from __future__ import annotations

import numpy as np

from ..customers import WIN_BACK
from ..provenance import decision, judgement, setting
from .base import Lever, Policy, offer_acceptance
from .shared import DISCOUNT


class RetentionOffers(Policy):
    """The best deal, offered to customers who are about to leave (a 'save desk'): a
    discount of `discount` of the price for `months` months if they stay."""

    discount: float = setting(0.2, "share of price taken off", decision("the policy's lever"), ge=0, le=1)
    months: int = setting(6, "months the discount lasts", decision("the policy's lever"), ge=1, le=60)
    acceptance: float = setting(0.1, "acceptance of a same-terms ask; modelling choice",
                                judgement(0.05, 0.2, "judgement"), ge=0, le=1)
    discount_sensitivity: float = setting(1.5, "acceptance per unit of discount; modelling choice",
                                          judgement(0.75, 3.0, "judgement: half to twice the default"), ge=0)
    contact_cost: float = setting(2.0, "currency per offer made", decision("the firm's cost"), ge=0)

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

    discount: float = setting(0.3, "share of price taken off on return", decision("the policy's lever"), ge=0, le=1)
    months: int = setting(6, "months the discount lasts", decision("the policy's lever"), ge=1, le=60)
    wait_months: int = setting(2, "months after leaving when the offer is made", decision("the policy's lever"),
                               ge=1, le=60)
    acceptance: float = setting(0.05, "acceptance without discount; modelling choice",
                                judgement(0.02, 0.1, "judgement"), ge=0, le=1)
    discount_sensitivity: float = setting(1.0, "acceptance per unit of discount; modelling choice",
                                          judgement(0.5, 2.0, "judgement: half to twice the default"), ge=0)
    contact_cost: float = setting(2.0, "currency per offer made", decision("the firm's cost"), ge=0)

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
