"""Proactive check-ins: find silent dissatisfaction before it talks or leaves."""

from __future__ import annotations

import numpy as np

from ..provenance import decision, judgement, measured, setting
from .base import Lever, Policy
from .shared import ANNOYANCE


class ProactiveCheckIns(Policy):
    """Contact each customer every `every_months` of tenure (anniversary: 12, six-monthly: 6).

    A contact finds the silently dissatisfied (who mostly never complain) and mends part of
    their dissatisfaction before they talk. But contact also reminds people that they could
    leave: Ascarza, Iyengar & Schleicher (2016) saw proactive outreach raise 3-month churn
    from 6.4% to 10.0%, so contacted customers' wish to leave rises for a few months.
    """

    every_months: int = setting(6, "months of tenure between contacts", decision("the policy's lever"), ge=1, le=120)
    contact_cost: float = setting(2.0, "currency per contact; modelling choice", decision("the firm's cost"), ge=0)
    mend_share: float = setting(0.5, "share of the gap to their normal mood mended",
                                judgement(0.25, 0.75, "judgement"), ge=0, le=1)
    annoyance: float = setting(
        0.5, "hazard ratio - 1 after contact; Ascarza et al. 2016: 6.4% to 10.0% (x1.56)",
        measured("Ascarza, Iyengar & Schleicher 2016: 3-month churn 6.4% -> 10.0% after proactive outreach, "
                 "10.0/6.4 - 1 = 0.56, rounded down"), ge=0
    )
    annoy_months: int = setting(
        3, "months the contact weighs on the wish to leave; Ascarza et al. 2016 measured churn over 3 months",
        judgement(1, 6, "Ascarza et al. 2016 measured churn over the 3 months after contact; how long the effect "
                        "lasts is a judgement"), ge=0, le=24
    )

    shares = (ANNOYANCE,)
    events = ("check_ins", "silent_dissatisfaction_found")
    costs = ("contacts",)
    levers = (Lever("every_months", "Check-in every", 0, 24, 1, unit="months", off=0),)

    def after_experience(self, market, firm, members):
        c, p, month = market.customers, market.parameters, market.month
        contacted = members[(c.tenure[members] > 0) & (c.tenure[members] % self.every_months == 0)]
        market.ledger.charge(firm, "contacts", contacted.size * self.contact_cost)
        # the silent: unhappy and not complaining this month (complainers are already heard)
        unhappy = contacted[(c.satisfaction[contacted] < p.dissatisfied_below) & ~c.complained[contacted]]
        c.satisfaction[unhappy] += self.mend_share * np.maximum(0.0, c.temperament[unhappy] - c.satisfaction[unhappy])
        c.talks_negative[unhappy] = False
        c.grievance[unhappy] *= 1.0 - self.mend_share
        c.annoyed_until[contacted] = month + self.annoy_months - 1  # this month's decisions count
        c.annoyance[contacted] = self.annoyance
        market.tally.add("check_ins", firm, contacted.size)
        market.tally.add("silent_dissatisfaction_found", firm, unhappy.size)
