"""Phase 1: every customer uses the service; satisfaction, expectation and loyalty move.

Satisfaction follows expectation-disconfirmation (Oliver 1980): the month's service is
compared with what the customer expected. A difference inside the zone of tolerance
(`tolerance_zone`: Zeithaml, Berry & Parasuraman 1993) is taken in the customer's stride;
only what lies beyond it is felt, a shortfall `loss_aversion` times as much as a surplus
(Tversky & Kahneman 1992). So ordinary month-to-month variation of the service rarely
dissatisfies anyone; problems do (TARP/Goodman: dissatisfaction and bad word of mouth
follow problems customers experienced). Expectations adapt to the service experienced, so a
surprise repeated stops surprising. A delight beyond the service (`customers.surprise`, e.g.
a gift) adds to what is felt without raising expectations of the service; gifts keep their
own expectation. A rise in the price a customer pays (`customers.price_rise`, e.g. a
discount that ended) is felt as a loss (reference prices: Kalyanaram & Winer 1995).
Performance also counts in itself (Churchill & Surprenant 1982): service above the
category's `quality_norm` pleases even once it is expected. Satisfaction is an exponential
average settling at each person's temperament when expectations are met by a service of
normal quality.

A service failure is an incident on top of the month's service: it takes away
`failure_severity` of the customer's satisfaction, less the share loyalty forgives
(`forgiveness` x loyalty: East et al. 2008, people resist bad news about brands they
favour). A share, not an amount, so a failure never drives anyone to the floor and a loyal
customer visibly loses less. The service fails the poorly served (`poorly_served_share` of
people: a defect, a badly covered area) every month. Loyalty grows slowly while satisfied
and erodes while unhappy.
"""

from __future__ import annotations

import numpy as np

from .. import compiled


def run(market) -> None:
    c, p, month = market.customers, market.parameters, market.month
    c.start_month()
    members = c.members()
    fast = compiled.kernels()
    if fast is not None:  # the same service in one compiled pass (sim.kernels.serve_the_month)
        # the member's normal draw of `Streams.normal`, numpy's log1p and cos in between
        log_part, cos_part = fast.normal_parts(members, market.streams.key("quality:1", month),
                                               market.streams.key("quality:2", month))
        np.log1p(log_part, out=log_part)
        np.cos(cos_part, out=cos_part)
        failures = fast.serve_the_month(members, c.firm, c.tenure, c.satisfaction, c.satisfaction_before,
                                        c.poorly_served, market.firm_quality, market.firm_failure_rate, log_part,
                                        cos_part, p.quality_noise, c.failed, c.failures, c.experience,
                                        market.streams.key("failure", month), market.n_firms)
        market.tally.add_per_firm("service_failures", failures)
    else:
        _serve_the_month(market, members, market.streams.normal("quality", month, members))
    market.for_each_policy("shape_experience", members)
    if fast is not None:  # the same arithmetic in one compiled pass (sim.kernels.feel_the_month)
        fast.feel_the_month(members, c.experience, c.expectation, c.satisfaction, c.temperament, c.surprise,
                            c.price_rise, c.loyalty, c.failed, p.tolerance_zone, p.loss_aversion, p.price_weight,
                            p.performance_weight, p.quality_norm, p.disconfirmation_sensitivity,
                            p.satisfaction_memory, p.failure_severity, p.forgiveness, p.expectation_adaptation,
                            p.satisfied_above, p.dissatisfied_below, p.loyalty_growth, p.loyalty_erosion)
    else:
        _feel_the_month(c, p, members)
    c.grievance *= p.grievance_memory


def _serve_the_month(market, members: np.ndarray, noise: np.ndarray) -> None:
    """Tenure, satisfaction when the month began, failures and the quality experienced (numpy)."""
    c, p, month = market.customers, market.parameters, market.month
    firm = c.firm[members]
    c.tenure[members] += 1
    c.satisfaction_before[members] = c.satisfaction[members]
    quality = market.firm_quality[firm] + p.quality_noise * noise
    failure_rate = np.where(c.poorly_served[members], 1.0, market.firm_failure_rate[firm])
    failed = market.streams.chance("failure", month, members, failure_rate)
    c.failed[members] = failed
    c.failures[members] += failed
    market.tally.add_by_firm("service_failures", firm[failed])
    c.experience[members] = quality


def _feel_the_month(c, p, members: np.ndarray) -> None:
    """Satisfaction, expectation and loyalty after the month's service (numpy)."""
    experience, failed = c.experience[members], c.failed[members]
    loyalty = c.loyalty[members]
    gap = experience - c.expectation[members]
    beyond = np.sign(gap) * np.maximum(np.abs(gap) - p.tolerance_zone, 0.0)  # outside the zone of tolerance
    felt = np.where(beyond >= 0, beyond, p.loss_aversion * beyond) + c.surprise[members]
    felt -= p.loss_aversion * p.price_weight * c.price_rise[members]
    performance = p.performance_weight * (experience - p.quality_norm)
    target = np.clip(c.temperament[members] + p.disconfirmation_sensitivity * felt + performance, 0.0, 1.0)
    satisfaction = p.satisfaction_memory * c.satisfaction[members] + (1 - p.satisfaction_memory) * target
    satisfaction *= 1.0 - p.failure_severity * (1.0 - p.forgiveness * loyalty) * failed
    c.satisfaction[members] = satisfaction
    c.expectation[members] += p.expectation_adaptation * (experience - c.expectation[members])

    pleased = np.clip((satisfaction - p.satisfied_above) / (1 - p.satisfied_above + 1e-12), 0, 1)
    unhappy = np.clip((p.dissatisfied_below - satisfaction) / (p.dissatisfied_below + 1e-12), 0, 1)
    c.loyalty[members] = np.clip(loyalty + p.loyalty_growth * pleased - p.loyalty_erosion * unhappy, 0, 1)
