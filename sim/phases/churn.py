"""Phase 4: who stays, who renews, who switches and who leaves the category.

Each customer has a monthly hazard of leaving, relative to a typical customer (`base_churn`):

    hazard = base_churn * exp( churn_satisfaction * (temperament_mean - satisfaction)
                             - churn_loyalty * (loyalty - initial_loyalty_mean)
                             + churn_grievance * grievance
                             - churn_attitude * attitude toward own firm
                             + churn_attitude * best attitude toward a competitor
                             + churn_price * (price / mean price - 1) )
             * (1 + peer_defection_effect * recent defections from own firm among contacts * (1 - loyalty) / (1 - mean loyalty of customers))
             * the firm's policies' churn pressure (`churn_pressure`: e.g. 1 + annoyance while a contact still annoys)

The peer term is Nitzan & Libai (2011): a neighbour defecting from one's own firm raises the
hazard by about 80% the next month, fading by `peer_defection_memory` a month, weaker for
loyal customers. Decisions happen where they happen in life: without a contract, any month;
at contract end, a renewal decision summing the contract's months of lasting hazard plus one
month of the passing pressures (peer defections, annoyance); during a contract, only the
very unhappy break it, paying a penalty. The firm's policies may keep someone about to leave
(`before_leaving`). A leaver switches to a competitor or leaves the category, with odds
`switching_propensity` per competitor, tilted by attitude toward it.
"""

from __future__ import annotations

import numpy as np

from .. import compiled
from ..codes import CONTRACT_BREAK, NO_CONTRACT, REASONS, RENEWAL  # noqa: F401  (read from here too)
from ..customers import ADVERTISING, REFERRAL
CHURNED = tuple(f"churned_{reason}" for reason in REASONS)  # the tally's counts by reason


def state_hazard(market, members: np.ndarray) -> np.ndarray:
    """The monthly hazard that the customer's lasting state implies (no transient effects)."""
    p = market.parameters
    fast = compiled.kernels()
    if fast is not None:  # the same exponent in one compiled pass (sim.kernels.churn_exponent)
        c = market.customers
        z = fast.churn_exponent(np.asarray(members, np.int64), c.firm, c.satisfaction, c.loyalty, c.grievance,
                                c.attitude, market.firm_price, market.firm_price.mean(), p.churn_satisfaction,
                                p.temperament_mean, p.churn_loyalty, p.initial_loyalty_mean, p.churn_grievance,
                                p.churn_attitude, p.churn_price)
    else:
        z = _exponent(market, members)
    return np.minimum(1.0, p.base_churn * np.exp(z))


def _exponent(market, members: np.ndarray) -> np.ndarray:
    c, p = market.customers, market.parameters
    firm = c.firm[members]
    loyalty = c.loyalty[members]
    own_attitude = c.attitude[members, firm]
    rivals = c.attitude[members].copy()
    rivals[np.arange(members.size), firm] = -np.inf
    best_rival = np.maximum(rivals.max(axis=1), 0.0) if market.n_firms > 1 else 0.0
    relative_price = market.firm_price[firm] / market.firm_price.mean() - 1.0
    return (
        p.churn_satisfaction * (p.temperament_mean - c.satisfaction[members])
        - p.churn_loyalty * (loyalty - p.initial_loyalty_mean)
        + p.churn_grievance * c.grievance[members]
        - p.churn_attitude * own_attitude
        + p.churn_attitude * best_rival
        + p.churn_price * relative_price
    )


def transient_multiplier(market, members: np.ndarray) -> np.ndarray:
    """This month's passing pressures: contacts who just defected, and the firms' policies
    (`churn_pressure`, e.g. a contact that annoyed)."""
    c, p = market.customers, market.parameters
    # a customer of the market's average loyalty feels the cited effect; loyal ones less
    # (Nitzan & Libai 2011 report the average effect and that it is weaker for loyal customers)
    loyalty = c.loyalty[members]
    loyal_scale = max(1.0 - loyalty.mean(), 1e-9) if members.size else 1.0
    fast = compiled.kernels()
    if fast is not None:  # the same products in one compiled pass
        social = fast.peer_pressure(np.asarray(members, np.int64), c.firm, loyalty, c.peer_defections,
                                    p.peer_defection_effect, loyal_scale)
    else:
        own_firm_defections = c.peer_defections[members, c.firm[members]]
        social = 1.0 + p.peer_defection_effect * own_firm_defections * ((1.0 - loyalty) / loyal_scale)
    return social * policy_pressure(market, members) if market.policies_act else social


def policy_pressure(market, members: np.ndarray) -> np.ndarray:
    """The product of the `churn_pressure` of each member's firm's policies (1 where none presses)."""
    pressure = np.ones(members.size)
    firm = market.customers.firm[members]
    for k in range(market.n_firms):
        policies = market.policies_of(k)
        if policies:
            mine = np.flatnonzero(firm == k)
            for policy in policies:
                factor = policy.churn_pressure(market, k, members[mine])
                if factor is not None:
                    pressure[mine] *= factor
    return pressure


def monthly_hazard(market, members: np.ndarray) -> np.ndarray:
    """The chance of leaving this month for a customer free to leave."""
    return np.minimum(1.0, state_hazard(market, members) * transient_multiplier(market, members))


def decisions(market, members: np.ndarray, lasting: np.ndarray, passing: np.ndarray) -> tuple:
    """(reason, leaving) per member: at contract end the renewal decision (the contract's months
    of lasting hazard, plus one month of this month's passing pressures), during a contract only
    the very unhappy break it, without a contract the monthly hazard."""
    c, p, month = market.customers, market.parameters, market.month
    fast = compiled.kernels()
    if fast is not None:  # numpy's power for those at renewal, the rest in compiled passes
        base, months = fast.renewal_terms(members, c.contract_end, c.firm, market.firm_contract_months, month, lasting)
        survival = base ** months
        return fast.who_leaves(members, c.contract_end, month, lasting, passing, survival, c.satisfaction,
                               p.contract_break_probability, p.contract_break_below,
                               market.streams.key("leaves", month))
    contract_end = c.contract_end[members]
    contract_months = market.firm_contract_months[c.firm[members]]
    hazard = np.minimum(1.0, lasting * passing)
    reason = np.select([contract_end == month, contract_end > month], [RENEWAL, CONTRACT_BREAK], NO_CONTRACT)
    probability = np.select(
        [reason == RENEWAL, reason == CONTRACT_BREAK],
        [
            1.0 - (1.0 - lasting) ** np.maximum(contract_months, 1) * (1.0 - np.minimum(1.0, lasting * (passing - 1.0))),
            p.contract_break_probability * (c.satisfaction[members] < p.contract_break_below),
        ],
        hazard,
    )
    return reason, market.streams.chance("leaves", month, members, probability)


def run(market) -> None:
    c, p, month = market.customers, market.parameters, market.month
    members = c.members()
    lasting = state_hazard(market, members)
    passing = transient_multiplier(market, members)
    reason, leaving = decisions(market, members, lasting, passing)

    # the firm's last word: offers to those about to leave
    firm = c.firm[members] if market.policies_act else None
    for k in range(market.n_firms if market.policies_act else 0):
        mine = np.flatnonzero(leaving & (firm == k))
        for policy in market.policies_of(k):
            kept = policy.before_leaving(market, k, members[mine], reason[mine] == RENEWAL)
            leaving[mine[kept]] = False
            mine = mine[~kept]

    fast = compiled.kernels()
    if fast is not None and not market.network.complete:  # the rest in one compiled pass, same bits
        _after_decisions_compiled(market, fast, members, reason, leaving)
        return

    renewing = members[~leaving & (reason == RENEWAL)]
    c.contract_end[renewing] += market.firm_contract_months[c.firm[renewing]]

    leavers, why = members[leaving], reason[leaving]
    old_firm = c.firm[leavers]
    breakers = why == CONTRACT_BREAK
    remaining = c.contract_end[leavers[breakers]] - month
    penalty = np.minimum(remaining, p.contract_break_penalty_months) * market.firm_price[old_firm[breakers]]
    market.ledger.earn_by_firm("penalties", old_firm[breakers], penalty)
    for code, name in enumerate(REASONS):
        market.tally.add_by_firm(f"churned_{name}", old_firm[why == code])

    destination = choose_destination(market, leavers, old_firm)
    c.leave(leavers, month)
    switch(market, leavers, old_firm, destination)

    # felt in full at next month's decisions, then fading (Nitzan & Libai 2011: strongest in month 1);
    # a contact who left firm k weighs on k's customers only, not on the firm they may have joined
    c.peer_defections *= p.peer_defection_memory
    add_defections(market, leavers, old_firm)


def _after_decisions_compiled(market, fast, members, reason, leaving) -> None:
    """`run` after the firms' last word (renewals, penalties, leaving, peer defections) in one
    compiled pass (`sim.kernels.after_decisions`); the destinations of switchers (numpy's exp)
    and the policies' states after it."""
    c, p, net = market.customers, market.parameters, market.network
    leavers, old_firm, penalties, churned = fast.after_decisions(
        members, reason, leaving, c.firm, c.contract_end, market.firm_contract_months, market.firm_price,
        p.contract_break_penalty_months, market.month, c.tenure, c.initial_firm, c.last_firm, c.left_month,
        c.loyalty, c.loyalty_when_left, net.indptr, net.indices, c.peer_defections, p.peer_defection_memory,
        market.kept_zeros("defections counted", c.peer_defections.shape, np.int32))
    market.ledger.earn_per_firm("penalties", penalties)
    market.tally.add_rows(CHURNED, churned)
    c.reset_states(leavers, "on_leave")
    if market.n_firms > 1:
        switch(market, leavers, old_firm, choose_destination(market, leavers, old_firm))


def switch(market, leavers: np.ndarray, old_firm: np.ndarray, destination: np.ndarray) -> None:
    """Leavers with a destination (a competitor) join it, through a referral or advertising."""
    p, month = market.parameters, market.month
    switchers = destination >= 0
    market.tally.add_by_firm("switched_out", old_firm[switchers])
    if switchers.any():
        movers, new_firm = leavers[switchers], destination[switchers]
        signal = market.heard_positive[movers, new_firm] * p.imitation
        referral_share = signal / (signal + market.firm_advertising[new_firm] + 1e-12)
        by_referral = market.streams.chance("switch_channel", month, movers, referral_share)
        market.welcome(movers, new_firm, np.where(by_referral, REFERRAL, ADVERTISING))


def add_defections(market, leavers: np.ndarray, old_firm: np.ndarray) -> None:
    """Each person's count of recent defections from firm k grows by their contacts who just left
    k (numpy; compiled, it is part of `kernels.after_decisions`)."""
    c, net = market.customers, market.network
    for k in np.unique(old_firm):  # loop over firms, not people
        left = np.zeros(c.n, bool)
        left[leavers[old_firm == k]] = True
        c.peer_defections[:, k] += net.count_among_contacts(left)


def choose_destination(market, leavers: np.ndarray, old_firm: np.ndarray) -> np.ndarray:
    """Competitor index for switchers, -1 for those who leave the category."""
    p = market.parameters
    if market.n_firms == 1 or leavers.size == 0:
        return np.full(leavers.size, -1)
    pull = p.switching_propensity * np.exp(p.churn_attitude * market.customers.attitude[leavers])
    pull[np.arange(leavers.size), old_firm] = 0.0
    options = np.column_stack((np.ones(leavers.size), pull))  # column 0: leave the category
    cumulative = np.cumsum(options, axis=1)
    u = market.streams.uniform("destination", market.month, leavers) * cumulative[:, -1]
    return (u[:, None] >= cumulative).sum(axis=1) - 1
