"""Phase 2: who is now unhappy and why, who complains, how the firm answers, who will talk.

Every route into dissatisfaction can start negative talk. A customer who became dissatisfied
this month gets a cause (`customers.CAUSES`): a service failure; a rise in the price they pay
(a discount that ended); or, with neither, the month's service below what they expected
(quality). Such a customer will tell peers (phase 3) with `negative_talk_probability`, unless
the problem is put right first; dissatisfaction from quality alone, with no problem behind it,
is talked about `quality_talk_share` as often (TARP/Goodman tie bad word of mouth to problems
customers experienced). Among those with a service failure, a share complains
(`complaint_probability`: most do not); silent dissatisfaction is invisible to the firm
unless it reaches out (ProactiveCheckIns). Policies answer complaints through their
`on_complaints` hook; check-ins and upsell offers run here too (`after_experience`). A
customer a firm's contact pushed into dissatisfaction (an upsell pressed on the unhappy) gets
the cause `contact` and the same chance to talk, drawn after the contacts.
A failure that is not resolved leaves a grievance: a slowly fading memory that weighs on
the next decision to stay (TARP: 37% of silent sufferers repurchase, 95% of complainers
resolved quickly); an unanswered complaint vents a little of it.
"""

from __future__ import annotations

import numpy as np

from .. import compiled
from ..customers import CONTACT, FAILURE, NO_CAUSE, PRICE, QUALITY


def cause_of(customers, people: np.ndarray) -> np.ndarray:
    """What made `people` dissatisfied this month, from what happened to them in phase 1: a
    failure comes first (a problem month), then a rise of the price, else the service itself."""
    return np.select([customers.failed[people], customers.price_rise[people] > 0], [FAILURE, PRICE], QUALITY)


def decide_talk(market, people: np.ndarray, cause: np.ndarray, decision: str) -> None:
    """The newly dissatisfied `people` will talk with `negative_talk_probability`, less for
    dissatisfaction with no problem behind it (`quality_talk_share`)."""
    p, c = market.parameters, market.customers
    share = np.where(cause == QUALITY, p.quality_talk_share, 1.0)
    c.talk_cause[people] = cause
    c.talks_negative[people] = market.streams.chance(decision, market.month, people,
                                                     p.negative_talk_probability * share)


def run(market) -> None:
    c, p, month = market.customers, market.parameters, market.month
    members = c.members()
    fast = compiled.kernels()
    if fast is not None:  # the same decisions in a compiled pass before the firm answers, and one after
        now_unhappy, complainers = fast.newly_unhappy(
            members, c.satisfaction, c.satisfaction_before, c.failed, c.price_rise, c.talk_cause, c.talks_negative,
            p.dissatisfied_below, p.negative_talk_probability, p.quality_talk_share, p.complaint_probability,
            market.streams.key("talks_negative", month), market.streams.key("complains", month))
    else:
        now_unhappy = c.satisfaction[members] < p.dissatisfied_below
        became_unhappy = members[now_unhappy & (c.satisfaction_before[members] >= p.dissatisfied_below)]
        decide_talk(market, became_unhappy, cause_of(c, became_unhappy), "talks_negative")
        with_problem = members[c.failed[members] & now_unhappy]
        complainers = with_problem[market.streams.chance("complains", month, with_problem, p.complaint_probability)]
    c.complained[complainers] = True
    market.tally.add_by_firm("complaints", c.firm[complainers])
    if market.policies_act:  # only a policy resolves a complaint
        market.for_each_policy("on_complaints", complainers)
        market.tally.add_by_firm("complaints_resolved", c.firm[complainers[c.resolved[complainers]]])
    market.for_each_policy("after_experience", members)
    if fast is not None:
        fast.after_answers(members, now_unhappy, c.satisfaction, c.satisfaction_before, c.failed, c.price_rise,
                           c.resolved, c.complained, c.loyalty, c.grievance, c.talk_cause, c.talks_negative,
                           p.dissatisfied_below, p.negative_talk_probability, p.forgiveness, p.complaint_venting,
                           market.streams.key("talks_after_contact", month))
    else:
        _after_answers(market, members, now_unhappy)


def _after_answers(market, members: np.ndarray, now_unhappy: np.ndarray) -> None:
    """Talk decisions of those the firm's contacts upset, causes of those a policy made talk, and
    the grievances of unresolved failures (numpy)."""
    c, p = market.customers, market.parameters
    # pushed into dissatisfaction by a contact of the firm, after the month's first decision
    pushed = members[~now_unhappy & (c.satisfaction[members] < p.dissatisfied_below)
                     & (c.satisfaction_before[members] >= p.dissatisfied_below)]
    decide_talk(market, pushed, np.full(pushed.size, CONTACT), "talks_after_contact")
    # made to talk by a policy (a failed recovery) without a cause yet: what happened to them
    forced = members[c.talks_negative[members] & (c.talk_cause[members] == NO_CAUSE)]
    c.talk_cause[forced] = cause_of(c, forced)

    failed = members[c.failed[members] & ~c.resolved[members]]
    damage = 1.0 - p.forgiveness * c.loyalty[failed]
    damage *= np.where(c.complained[failed], p.complaint_venting, 1.0)
    c.grievance[failed] += damage
