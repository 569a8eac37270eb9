"""Whom a contacting policy reaches: a targeting rule and the share of the due customers it reaches.

A policy that contacts customers (retention offers, check-ins, upsell, gifts) first finds who is
due (a leaver, a tenure anniversary, ...), then contacts the `reach` share of them chosen by its
`target` rule. Every rule ranks the due customers by one score on the model's state and takes
the top `reach` share (ties broken by a keyed draw, so a rule never shifts anyone else's luck):

- `everyone`: no ranking, a random `reach` share (all of them at reach 1, the default, with no
  draw at all: a policy without targeting runs exactly as before);
- `churn_risk`: the highest monthly hazard of leaving that their lasting state implies
  (`sim.phases.churn.state_hazard`): the usual churn-model targeting;
- `responsive`: the largest direct effect of the contact on them (the policy's `response`: an
  offer's chance of acceptance, the dissatisfaction a check-in mends, a gift's surprise).
  Ascarza 2018 (Journal of Marketing Research 55(1)) found in two field experiments that
  retention offers targeted at those most likely to respond beat offers targeted at those most
  likely to churn;
- `connected`: the most contacts in the social network (influencers: what they feel, many hear);
- `loyal`: the highest loyalty.

With `reach` 1 every due customer is contacted whatever the rule; a rule matters when the
budget reaches only some of them.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

TARGETS = ("everyone", "churn_risk", "responsive", "connected", "loyal")
Target = Literal["everyone", "churn_risk", "responsive", "connected", "loyal"]


def score(rule: str, policy, market, firm: int, due: np.ndarray) -> np.ndarray:
    """Each due customer's score under `rule` (higher: contacted first)."""
    c = market.customers
    if rule == "churn_risk":
        from ..phases.churn import state_hazard

        return state_hazard(market, due)
    if rule == "responsive":
        return policy.response(market, firm, due)
    if rule == "connected":
        return market.network.degree[due].astype(float)
    if rule == "loyal":
        return c.loyalty[due]
    raise ValueError(f"target = {rule!r} is not allowed: choose one of {', '.join(TARGETS)}")


def chosen(policy, market, firm: int, due: np.ndarray, decision: str, rule: str | None = None) -> np.ndarray:
    """The due customers `policy` contacts: its `reach` share of them by its `target` rule (or `rule`).

    `decision` names the policy's keyed draw for ties and for a random share (`everyone`)."""
    rule, reach = rule or policy.target, policy.reach
    if reach >= 1.0 or due.size == 0:
        return due
    luck = market.streams.uniform(f"target_{decision}", market.month, due)
    if rule == "everyone":
        return due[luck < reach]
    count = int(math.floor(reach * due.size + 0.5))  # the nearest whole number of contacts
    order = np.lexsort((luck, -score(rule, policy, market, firm, due)))  # highest score first, ties by luck
    return np.sort(due[order[:count]])
