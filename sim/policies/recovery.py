"""Answering complaints: service recovery with effort, or ignoring the customer until renewal."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from .base import Lever, Policy, State, offer_acceptance


class ServiceRecovery(Policy):
    """Answer every complaint with recovery effort (0-1).

    Success chance and cost rise with effort. A success restores satisfaction, clears the
    grievance of the failure (TARP: complainers resolved quickly repurchase at 82-95%) and
    builds a little loyalty (TARP: "up to 8% more loyal"); the recovery paradox is small, on
    satisfaction only, and only after a first failure (de Matos et al. 2007; Maxham &
    Netemeyer 2002). A failed recovery is a double deviation: worse than no answer.
    """

    effort: float = Field(0.5, ge=0, le=1, description="0 = token answer, 1 = everything it takes")
    success_at_no_effort: float = Field(0.3, ge=0, le=1, description="modelling choice")
    success_at_full_effort: float = Field(0.9, ge=0, le=1, description="TARP: up to 95% kept when resolved quickly")
    cost_at_full_effort: float = Field(
        1.0, ge=0, description="share of the monthly price per complaint; Edstrom et al. 2022 paradox at ~80%"
    )
    paradox: float = Field(0.05, ge=0, le=1, description="satisfaction bonus; de Matos et al. 2007: small")
    loyalty_gain: float = Field(0.08, ge=0, le=1, description="TARP: satisfied complainers up to 8% more loyal")
    double_deviation: float = Field(0.15, ge=0, le=1, description="satisfaction lost when recovery fails")

    states = (State("recovered", bool, False, description="a complaint of theirs was recovered: the paradox happens once"),)
    events = ("recoveries_succeeded", "recoveries_failed")
    costs = ("recovery",)
    levers = (Lever(None, "Service recovery"),
              Lever("effort", "Recovery effort", 0.0, 1.0, 0.05, unit="share of full effort"))
    jobs = ("answer complaints",)

    def on_complaints(self, market, firm, complainers):
        c, month = market.customers, market.month
        market.ledger.charge(
            firm, "recovery", complainers.size * self.effort * self.cost_at_full_effort * market.firm_price[firm]
        )
        chance = self.success_at_no_effort + (self.success_at_full_effort - self.success_at_no_effort) * self.effort
        success = market.streams.chance("recovery", month, complainers, chance)
        won, lost = complainers[success], complainers[~success]

        first_failure = (c.failures[won] <= 1) & ~c.recovered[won]
        c.satisfaction[won] = np.minimum(1.0, np.maximum(c.satisfaction[won], c.satisfaction_before[won])
                                         + self.paradox * first_failure)
        c.loyalty[won] = np.minimum(1.0, c.loyalty[won] + self.loyalty_gain)
        c.recovered[won] = True
        c.resolved[won] = True
        c.talks_negative[won] = False  # resolved before they told anyone

        c.satisfaction[lost] = np.maximum(0.0, c.satisfaction[lost] - self.double_deviation)
        c.loyalty[lost] = np.maximum(0.0, c.loyalty[lost] - self.double_deviation / 2)
        c.talks_negative[lost] = True
        market.tally.add("recoveries_succeeded", firm, won.size)
        market.tally.add("recoveries_failed", firm, lost.size)


class RenewalCall(Policy):
    """At contract end, customers about to leave are asked to renew on the same terms (no
    discount). Most firms do this whatever else they do, so an experiment that compares
    ways of answering complaints should give every arm the same renewal call."""

    ask_acceptance: float = Field(0.1, ge=0, le=1, description="modelling choice: a same-terms ask keeps few")
    contact_cost: float = Field(2.0, ge=0, description="currency per renewal call; modelling choice")

    costs = ("contacts",)
    levers = (Lever(None, "Renewal call"),)
    jobs = ("call at renewal",)

    def before_leaving(self, market, firm, leavers, at_renewal):
        asked = leavers[at_renewal]
        market.ledger.charge(firm, "contacts", asked.size * self.contact_cost)
        kept = np.zeros(leavers.size, bool)
        accept = offer_acceptance(self.ask_acceptance, 0.0, 0.0, market.customers.loyalty[asked])
        kept[np.flatnonzero(at_renewal)] = market.streams.chance("renewal_ask", market.month, asked, accept)
        return kept


class IgnoreUntilRenewal(RenewalCall):
    """No answer to complaints during the contract; only the same-terms renewal call at
    contract end (RenewalCall). The comparator that Ascarza et al. (2016) make legitimate:
    contact is not free of risk."""

    events = ("complaints_ignored",)
    levers = (Lever(None, "Ignore complaints until renewal"),)
    jobs = ("answer complaints", "call at renewal")

    def on_complaints(self, market, firm, complainers):
        market.tally.add("complaints_ignored", firm, complainers.size)
