"""A policy run for one group of a pilot only (`grapevine pilot`).

A pilot gives a random share of the firm's customers the arm's policy (the treated) and leaves
the rest as they are (the control), on the same network, in the same market: word of mouth from
the treated reaches the control. `Pilot(policy=..., group="treated")` runs `policy` for the
treated only, `group="control"` for the control only (the baseline's version of a policy the arm
changes). Who is treated is drawn once per person, or once per community (cluster
randomisation: everyone in a community is in the same group), from a keyed stream, so the
assignment is the same in every run of a replication.

A community is a block of `community_size` consecutive people: exactly the groups of the
`communities` network, and the neighbourhoods of the `small_world` ring (whose ties join
consecutive people before rewiring). On a scale-free network it is not a neighbourhood, and the
pilot says so.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import PrivateAttr

from ..provenance import decision, setting

from .base import Policy, make_policy

ASSIGNMENT = "pilot_assignment"


def community_of(market, people: np.ndarray) -> np.ndarray:
    """Each person's community: their block of `community_size` consecutive people."""
    return people // market.parameters.community_size


def treated(market, share: float, by: str) -> np.ndarray:
    """Who is in the treated group of a pilot (a mask over all people); cached on the market."""
    cache = market.__dict__.setdefault("_pilot_groups", {})
    key = (share, by)
    if key not in cache:
        people = np.arange(market.customers.n)
        units = people if by == "customer" else np.unique(community_of(market, people))
        draw = market.streams.uniform(f"{ASSIGNMENT}_{by}", 0, units) < share  # once, at month 0's key
        cache[key] = draw if by == "customer" else draw[community_of(market, people)]
    return cache[key]


class Pilot(Policy):
    """`policy` run for one group of a pilot only: the treated, or the control."""

    policy: dict[str, Any] = setting({"kind": "SmallGifts"}, "the policy, as a scenario writes it ({kind: Name, "
                                                              "setting: value})", decision("the pilot's design"))
    group: Literal["treated", "control"] = setting("treated", "whom it runs for: the treated or the control",
                                                   decision("the pilot's design"))
    share: float = setting(0.5, "share of the people (or communities) treated", decision("the pilot's design"),
                           gt=0, lt=1)
    by: Literal["customer", "community"] = setting("customer", "randomise by customer or by community",
                                                   decision("the pilot's design"))
    _inner: Policy = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        self._inner = make_policy(dict(self.policy))
        # what it declares is the inner policy's: its state and shared parts (set on the instance;
        # the class declares none, and every inner policy class is known by itself)
        object.__setattr__(self, "states", self._inner.states)
        object.__setattr__(self, "shares", self._inner.shares)

    @classmethod
    def parts(cls) -> tuple:
        return (cls,)

    def identity(self) -> str:
        return f"{type(self._inner).__name__} for the {self.group}"

    def label(self) -> str:
        return f"{self._inner.label()} for the {self.group} ({self.share:g} by {self.by})"

    # --- hooks: the inner policy's, for the group's members only ------------------------------
    def _group(self, market, people: np.ndarray) -> np.ndarray:
        mask = treated(market, self.share, self.by)[people]
        return mask if self.group == "treated" else ~mask

    def shape_experience(self, market, firm, members):
        self._inner.shape_experience(market, firm, members[self._group(market, members)])

    def on_complaints(self, market, firm, complainers):
        self._inner.on_complaints(market, firm, complainers[self._group(market, complainers)])

    def after_experience(self, market, firm, members):
        self._inner.after_experience(market, firm, members[self._group(market, members)])

    def churn_pressure(self, market, firm, members):
        mine = self._group(market, members)
        factor = self._inner.churn_pressure(market, firm, members[mine])
        if factor is None:
            return None
        pressure = np.ones(members.size)
        pressure[mine] = factor
        return pressure

    def before_leaving(self, market, firm, leavers, at_renewal):
        mine = self._group(market, leavers)
        kept = np.zeros(leavers.size, bool)
        kept[mine] = self._inner.before_leaving(market, firm, leavers[mine], at_renewal[mine])
        return kept

    def reach_former_customers(self, market, firm, former):
        self._inner.reach_former_customers(market, firm, former[self._group(market, former)])

    def settle_month(self, market, firm, members):
        self._inner.settle_month(market, firm, members[self._group(market, members)])
