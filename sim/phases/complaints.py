"""Phase 2: who is now unhappy, who complains, and how the firm answers.

A customer whose mood fell to dissatisfied this month will tell peers (phase 3) unless the
problem is resolved first. Among those with a service failure, a share complains
(`complaint_probability`: most do not); silent dissatisfaction is invisible to the firm
unless it reaches out (ProactiveCheckIns). Policies answer complaints through their
`on_complaints` hook; check-ins and upsell offers run here too (`after_experience`).
A failure that is not resolved leaves a grievance: a slowly fading memory that weighs on
the next decision to stay (TARP: 37% of silent sufferers repurchase, 95% of complainers
resolved quickly); an unanswered complaint vents a little of it.
"""

from __future__ import annotations

import numpy as np


def run(market) -> None:
    c, p, month = market.customers, market.parameters, market.month
    members = np.flatnonzero(c.is_customer)
    now_unhappy = c.satisfaction[members] < p.dissatisfied_below
    became_unhappy = members[now_unhappy & (c.satisfaction_before[members] >= p.dissatisfied_below)]
    c.talks_negative[became_unhappy] = market.streams.chance(
        "talks_negative", month, became_unhappy, p.negative_talk_probability
    )

    with_problem = members[c.failed[members] & now_unhappy]
    complainers = with_problem[market.streams.chance("complains", month, with_problem, p.complaint_probability)]
    c.complained[complainers] = True
    market.tally.add_by_firm("complaints", c.firm[complainers])
    market.for_each_policy("on_complaints", complainers)
    market.tally.add_by_firm("complaints_resolved", c.firm[complainers[c.resolved[complainers]]])
    market.for_each_policy("after_experience", members)

    failed = members[c.failed[members] & ~c.resolved[members]]
    damage = 1.0 - p.forgiveness * c.loyalty[failed]
    damage *= np.where(c.complained[failed], p.complaint_venting, 1.0)
    c.grievance[failed] += damage
