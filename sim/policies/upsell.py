"""Upselling: more revenue from customers who are happy, resentment from those who are not."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from .base import Lever, Policy, State
from .shared import ANNOYANCE


class Upsell(Policy):
    """Every `every_months` of tenure, offer an upgrade worth `uplift` of the price.

    Acceptance grows with loyalty. Customers who buy expect more for what they pay. Offers
    pushed on unhappy customers (target 'everyone') backfire: satisfaction drops and the
    wish to leave rises (Shah, Kumar et al. 2012: 1 in 5 cross-buyers is unprofitable and
    that group carries 70% of customer losses).
    """

    uplift: float = Field(0.2, ge=0, le=5, description="extra share of price per month once bought")
    every_months: int = Field(6, ge=1, le=120, description="months of tenure between offers")
    acceptance: float = Field(0.3, ge=0, le=1, description="acceptance at average loyalty; modelling choice")
    target: str = Field("satisfied", pattern="^(satisfied|everyone)$", description="'satisfied' or 'everyone'")
    backfire: float = Field(0.1, ge=0, le=1, description="satisfaction lost by an unhappy customer pushed to buy")
    expectation_rise: float = Field(0.25, ge=0, le=1, description="share of the uplift added to expectations")
    annoyance: float = Field(0.5, ge=0, description="hazard ratio - 1 of a pushed unhappy customer; as check-ins")
    annoy_months: int = Field(3, ge=0, le=24, description="months the push is remembered; as check-ins")
    contact_cost: float = Field(1.0, ge=0, description="currency per offer")

    shares = (ANNOYANCE,)
    states = (
        State("upsold", bool, False, on_join=True, on_leave=True, description="bought the upgrade"),
        State("upsell_uplift", float, 0.0, description="the upgrade's extra share of the price"),
    )
    events = ("upsells",)
    costs = ("contacts",)
    revenues = ("upsell",)
    levers = (Lever("target", "Upsell", choices=("satisfied", "everyone"), off="off"),)

    def after_experience(self, market, firm, members):
        c, p, month = market.customers, market.parameters, market.month
        due = members[(c.tenure[members] > 0) & (c.tenure[members] % self.every_months == 0) & ~c.upsold[members]]
        happy = c.satisfaction[due] >= p.satisfied_above
        offered = due if self.target == "everyone" else due[happy]
        happy = c.satisfaction[offered] >= p.satisfied_above
        market.ledger.charge(firm, "contacts", offered.size * self.contact_cost)
        accept = np.clip(self.acceptance * (0.5 + c.loyalty[offered]) * np.where(happy, 1.0, 0.5), 0, 1)
        bought = offered[market.streams.chance("upsell", month, offered, accept)]
        c.upsold[bought] = True
        c.upsell_uplift[bought] = self.uplift
        c.expectation[bought] += self.expectation_rise * self.uplift
        pushed = offered[~happy]
        c.satisfaction[pushed] = np.maximum(0.0, c.satisfaction[pushed] - self.backfire)
        c.annoyed_until[pushed] = month + self.annoy_months - 1
        c.annoyance[pushed] = self.annoyance
        market.tally.add("upsells", firm, bought.size)

    def settle_month(self, market, firm, members):
        """Upgraded customers pay price * (1 + uplift): the uplift is booked as upsell revenue."""
        c = market.customers
        uplift = market.firm_price[firm] * c.upsold[members] * c.upsell_uplift[members]
        market.ledger.earn_by_firm("upsell", c.firm[members], uplift)
