"""Phase 1: every customer uses the service; satisfaction, expectation and loyalty move.

Satisfaction follows expectation-disconfirmation (Oliver 1980): the experience is compared
with what the customer expected; a shortfall weighs `loss_aversion` times a surplus
(Tversky & Kahneman 1992); loyal customers absorb part of a failure (forgiveness).
Expectations adapt to the service experienced, so a surprise repeated stops surprising.
A delight beyond the service (`customers.surprise`, e.g. a gift) adds to what is felt
without raising expectations of the service; gifts keep their own expectation.
Performance also counts in itself (Churchill & Surprenant 1982): service above the
category's `quality_norm` pleases even once it is expected, so a better firm keeps happier
customers after the surprise has faded. Satisfaction is an exponential average settling at
each person's temperament when expectations are met by a service of normal quality. Loyalty
grows slowly while satisfied and erodes while unhappy. The service fails the poorly served
(`poorly_served_share` of people: a defect, a badly covered area) every month.
"""

from __future__ import annotations

import numpy as np


def run(market) -> None:
    c, p, month = market.customers, market.parameters, market.month
    c.start_month()
    members = np.flatnonzero(c.is_customer)
    firm = c.firm[members]
    c.tenure[members] += 1
    c.satisfaction_before[members] = c.satisfaction[members]

    quality = market.firm_quality[firm] + p.quality_noise * market.streams.normal("quality", month, members)
    failure_rate = np.where(c.poorly_served[members], 1.0, market.firm_failure_rate[firm])
    failed = market.streams.chance("failure", month, members, failure_rate)
    c.failed[members] = failed
    c.failures[members] += failed
    market.tally.add_by_firm("service_failures", firm[failed])
    c.experience[members] = quality - p.failure_severity * failed
    market.for_each_policy("shape_experience", members)

    experience = c.experience[members]
    loyalty = c.loyalty[members]
    gap = experience - c.expectation[members]
    felt = np.where(gap >= 0, gap, p.loss_aversion * gap)
    felt = np.where(failed, felt * (1.0 - p.forgiveness * loyalty), felt) + c.surprise[members]
    performance = p.performance_weight * (experience - p.quality_norm)
    target = np.clip(c.temperament[members] + p.disconfirmation_sensitivity * felt + performance, 0.0, 1.0)
    satisfaction = p.satisfaction_memory * c.satisfaction[members] + (1 - p.satisfaction_memory) * target
    c.satisfaction[members] = satisfaction
    c.expectation[members] += p.expectation_adaptation * (experience - c.expectation[members])

    pleased = np.clip((satisfaction - p.satisfied_above) / (1 - p.satisfied_above + 1e-12), 0, 1)
    unhappy = np.clip((p.dissatisfied_below - satisfaction) / (p.dissatisfied_below + 1e-12), 0, 1)
    c.loyalty[members] = np.clip(loyalty + p.loyalty_growth * pleased - p.loyalty_erosion * unhappy, 0, 1)
    c.grievance *= p.grievance_memory
