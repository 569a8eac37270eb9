"""Answering complaints: service recovery with effort, or ignoring the customer until renewal."""

from __future__ import annotations

import numpy as np

from ..provenance import decision, judgement, setting
from .base import Lever, Policy, State, offer_acceptance


class ServiceRecovery(Policy):
    """Answer every complaint with recovery effort (0-1).

    Success chance and cost rise with effort. A success restores satisfaction, clears the
    grievance of the failure (TARP: complainers resolved quickly repurchase at 82-95%) and
    builds a little loyalty (TARP: "up to 8% more loyal"); the recovery paradox is small, on
    satisfaction only, and only after a first failure (de Matos et al. 2007; Maxham &
    Netemeyer 2002). A failed recovery is a double deviation: worse than no answer.
    """

    effort: float = setting(0.5, "0 = token answer, 1 = everything it takes", decision("the policy's lever"),
                            ge=0, le=1)
    success_at_no_effort: float = setting(0.3, "modelling choice", judgement(0.1, 0.5, "judgement"), ge=0, le=1)
    success_at_full_effort: float = setting(
        0.9, "TARP: up to 95% kept when resolved quickly",
        judgement(0.8, 0.95, "judgement: TARP measures repurchase after a quick resolution (82-95%), not how often "
                             "a recovery succeeds"), ge=0, le=1)
    cost_at_full_effort: float = setting(
        1.0, "share of the monthly price per complaint; Edstrom et al. 2022 paradox at ~80%",
        judgement(0.5, 1.5, "judgement: the firm's cost of a full recovery is rarely known; Edstrom et al. 2022 "
                            "put the paradox threshold near 80% of the price"), ge=0)
    paradox: float = setting(0.05, "satisfaction bonus; de Matos et al. 2007: small",
                             judgement(0.0, 0.1, "de Matos et al. 2007: a small effect on satisfaction, none on "
                                                 "repurchase; judgement"), ge=0, le=1)
    loyalty_gain: float = setting(
        0.08, "TARP: satisfied complainers up to 8% more loyal",
        judgement(0.0, 0.08, "TARP's 'up to 8% more loyal' read as +0.08 loyalty is the top; Knox & van Oest 2014 "
                             "find recovery rarely offsets a complaint fully; judgement"), ge=0, le=1)
    double_deviation: float = setting(0.15, "satisfaction lost when recovery fails",
                                      judgement(0.05, 0.25, "judgement"), ge=0, le=1)

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

    ask_acceptance: float = setting(0.1, "modelling choice: a same-terms ask keeps few",
                                    judgement(0.05, 0.2, "judgement"), ge=0, le=1)
    contact_cost: float = setting(2.0, "currency per renewal call; modelling choice", decision("the firm's cost"),
                                  ge=0)

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
