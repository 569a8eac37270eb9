"""Upselling: more revenue from customers who are happy, resentment from those who are not."""

from __future__ import annotations

import numpy as np

from ..provenance import decision, judgement, setting
from .base import Lever, Policy, State
from .shared import ANNOYANCE


class Upsell(Policy):
    """Every `every_months` of tenure, offer an upgrade worth `uplift` of the price.

    Acceptance grows with loyalty. Customers who buy expect more for what they pay. Offers
    pushed on unhappy customers (target 'everyone') backfire: satisfaction drops and the
    wish to leave rises (Shah, Kumar et al. 2012: 1 in 5 cross-buyers is unprofitable and
    that group carries 70% of customer losses).
    """

    uplift: float = setting(0.2, "extra share of price per month once bought", decision("the policy's lever"),
                            ge=0, le=5)
    every_months: int = setting(6, "months of tenure between offers", decision("the policy's lever"), ge=1, le=120)
    acceptance: float = setting(0.3, "acceptance at average loyalty; modelling choice",
                                judgement(0.15, 0.45, "judgement"), ge=0, le=1)
    target: str = setting("satisfied", "'satisfied' or 'everyone'", decision("the policy's lever"),
                          pattern="^(satisfied|everyone)$")
    backfire: float = setting(0.1, "satisfaction lost by an unhappy customer pushed to buy",
                              judgement(0.05, 0.2, "Shah, Kumar et al. 2012 give the direction; judgement"), ge=0, le=1)
    expectation_rise: float = setting(0.25, "share of the uplift added to expectations",
                                      judgement(0.1, 0.5, "judgement"), ge=0, le=1)
    annoyance: float = setting(
        0.5, "hazard ratio - 1 of a pushed unhappy customer; as check-ins",
        judgement(0.25, 1.0, "judgement: the check-ins figure (Ascarza et al. 2016 measured outreach, not upsell "
                             "pushes); a push on an unhappy customer may annoy more"), ge=0)
    annoy_months: int = setting(3, "months the push is remembered; as check-ins",
                                judgement(1, 6, "judgement, as check-ins"), ge=0, le=24)
    contact_cost: float = setting(1.0, "currency per offer", decision("the firm's cost"), ge=0)

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
