"""Phase 5: prospects join firms; firms try to win back former customers.

A prospect joins firm f this month with the Bass hazard (Bass 1969), on the network as in
Rand & Rust (2011):

    h_f = (advertising_f + imitation * referral signal_f) * exp(attitude_on_joining * min(attitude_f, 0))

The referral signal is this month's referrals heard, in units of "share of one's contacts
recommending f", so under complete mixing with everyone advocating, h = p + q F(t) exactly
as in the Bass model. Bad news heard (a negative attitude) holds people back; the strongly
negative are Goldenberg et al.'s (2007) rejecters. The channel of every acquisition
(advertising or referral) is drawn in proportion to the two terms. People who left this
month wait until next month.
"""

from __future__ import annotations

import numpy as np

from .. import compiled
from ..customers import ADVERTISING, NO_FIRM, REFERRAL


def run(market) -> None:
    c, p, month = market.customers, market.parameters, market.month
    fast = compiled.kernels()
    if fast is not None:  # the same hazards and draws in two compiled passes around numpy's exp
        prospects, exponent = fast.prospects_held_back(c.firm, c.left_month, month, c.attitude, p.attitude_on_joining)
        people, hazard, imitation = fast.joiners(prospects, market.firm_advertising, p.imitation,
                                                 market.heard_positive, np.exp(exponent),
                                                 market.streams.key("joins", month))
    else:
        prospects = np.flatnonzero(~c.is_customer & (c.left_month != month))
        advertising = market.firm_advertising[None, :]
        imitation = p.imitation * market.heard_positive[prospects]
        held_back = np.exp(p.attitude_on_joining * np.minimum(c.attitude[prospects], 0.0))
        hazard = np.clip((advertising + imitation) * held_back, 0.0, 1.0)
        join_any = 1.0 - np.prod(1.0 - hazard, axis=1)
        joining = market.streams.chance("joins", month, prospects, join_any)
        people, hazard, imitation = prospects[joining], hazard[joining], imitation[joining]
    if fast is not None:  # the same draws in one compiled pass (sim.kernels.joined_firms)
        firm, channel = fast.joined_firms(people, hazard, imitation, market.firm_advertising,
                                          market.streams.key("joins_which", month),
                                          market.streams.key("join_channel", month))
        market.welcome(people, firm, channel)
    else:
        market.welcome(people, *firm_and_channel(market, people, hazard, imitation))

    if not market.policies_act:
        return
    former = np.flatnonzero((c.firm == NO_FIRM) & (c.last_firm != NO_FIRM))
    for k in range(market.n_firms):
        mine = former[c.last_firm[former] == k]
        for policy in market.policies_of(k):
            policy.reach_former_customers(market, k, mine[c.firm[mine] == NO_FIRM])


def firm_and_channel(market, people: np.ndarray, hazard: np.ndarray, imitation: np.ndarray) -> tuple:
    """Which firm each joiner joins (in proportion to the hazards) and through which channel
    (referral with the imitation term's share of the hazard's terms, else advertising)."""
    month = market.month
    if market.n_firms == 1:  # the only firm (its draw would change no one else's: streams are keyed)
        firm = np.zeros(people.size, np.int64)
    else:
        cumulative = np.cumsum(hazard, axis=1)
        u = market.streams.uniform("joins_which", month, people) * cumulative[:, -1]
        firm = np.minimum((u[:, None] >= cumulative).sum(axis=1), market.n_firms - 1)
    pick = np.arange(people.size)
    referral_share = imitation[pick, firm] / (imitation[pick, firm] + market.firm_advertising[firm] + 1e-12)
    by_referral = market.streams.chance("join_channel", month, people, referral_share)
    return firm, np.where(by_referral, REFERRAL, ADVERTISING)
