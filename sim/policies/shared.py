"""Parts that several policies share: a running discount and a contact's annoyance.

Each is one instance that the policies using it list in their `shares`; the market makes its
state once and calls its hooks once per firm and month, however many policies list it.
"""

from __future__ import annotations

import numpy as np

from ..customers import NEVER
from .base import Shared, State


class Discount(Shared):
    """A share of the price taken off every month up to `discount_until` (retention and
    win-back offers), booked as a cost ("offers") so that revenue stays at list price. The
    month after it ends the customer pays the full price again: a price rise they feel
    (`customers.price_rise`, phase 1)."""

    states = (
        State("discount", float, 0.0, on_join=False,
              description="share of the price taken off while month <= discount_until"),
        State("discount_until", np.int32, NEVER, on_join=True, on_leave=True,
              description="last month of the discount; offers are made after joining"),
    )
    costs = ("offers",)

    def shape_experience(self, market, firm, members):
        c = market.customers
        ended = members[c.discount_until[members] == market.month - 1]
        c.price_rise[ended] += c.discount[ended]  # a share of the list price, paid again from now on

    def settle_month(self, market, firm, members):
        c = market.customers
        discounted = members[c.discount_until[members] >= market.month]
        market.ledger.charge_by_firm("offers", c.firm[discounted], c.discount[discounted] * market.firm_price[firm])


class Annoyance(Shared):
    """A contact that reminds customers they could leave (check-ins, a pushed upsell): their
    hazard of leaving is multiplied by 1 + `annoyance` up to `annoyed_until` (Ascarza,
    Iyengar & Schleicher 2016)."""

    states = (
        State("annoyance", float, 0.0, on_join=False, description="hazard ratio - 1 while annoyed"),
        State("annoyed_until", np.int32, NEVER, on_join=True, on_leave=True,
              description="last month the contact weighs on the wish to leave"),
    )

    def churn_pressure(self, market, firm, members):
        c = market.customers
        return 1.0 + c.annoyance[members] * (c.annoyed_until[members] >= market.month)


DISCOUNT = Discount()
ANNOYANCE = Annoyance()
