"""Phase 3: word of mouth, told and asked for, counted by firm and kind; what people hear moves
their attitudes.

- Negative: a customer who became dissatisfied this month (and was not put right) tells k
  contacts, k uniform on `negative_reach_min..max` (the 10-15 of TARP folklore) or, with
  `negative_reach_distribution: geometric`, geometric from the min with the same mean (the
  survey's heavy tail), capped by their number of contacts. Counted by the cause of the
  dissatisfaction (`customers.CAUSES`, phase 2) and, apart, relayed (second-hand).
- Positive (referrals): delighted or loyal customers recommend their firm, with
  `referral_probability` a month, to `referral_reach` contacts. Neutral and merely
  satisfied customers tell nobody.
- Relayed: rejecters (not customers of a firm, attitude toward it at most
  `-rejecter_attitude`) pass the bad news on to `relay_reach` contacts with
  `relay_probability` a month (Goldenberg et al. 2007; off by default: no measured rate).
- Defence: negative talk about a firm reaching someone who has a loyal customer of that
  firm among their contacts loses `defence_damping` of its effect (Colliander & Wien 2013).
- Asked (solicited): people about to decide ask `asked_contacts` contacts about their provider:
  customers whose contract ends this month, customers weighing a break (satisfaction below
  `contract_break_below`) and prospects shopping (drawn with this month's Bass trigger, their
  advertising plus the referrals they heard). An asked contact who is a customer answers by
  their mood: the delighted and the satisfied speak well of their firm, the dissatisfied warn
  about it, the neutral say little. An answer weighs `asked_weight` times an unprompted message
  (East, Hammond & Lomax 2008: advice sought moves brand choice more than advice not sought),
  and it enters the same attitudes and referral signal, so it weighs in the renewal decision
  (phase 4), the choice of where to switch and joining (phase 5).
- A message over a strong tie weighs `strong_tie_weight`, over a weak tie `weak_tie_weight`
  (Goldenberg, Libai & Muller 2001).

Attitudes fade by `attitude_memory` a month and move with the weighted messages heard.
`market.heard_positive` keeps this month's referrals (in units of "advocates among one's
contacts", the Bass imitation signal) for the acquisition phase.
"""

from __future__ import annotations

import numpy as np

from .. import compiled
from ..customers import CAUSES, NO_FIRM

RELAYED = len(CAUSES)  # the cause code of second-hand bad news, after the first-hand causes


def sample_contacts(market, talkers: np.ndarray, counts: np.ndarray, decision: str):
    """Each talker picks `counts[i]` distinct contacts at random (capped by their contacts).

    Returns (talker position, listener, strong tie) per message. Vectorised: every tie of
    every talker gets a keyed random number, and each talker keeps its smallest `counts`.
    """
    net, month = market.network, market.month
    if net.complete:  # complete mixing: listeners are random people other than the talker
        counts = np.minimum(counts, net.n - 1)
        sender = np.repeat(np.arange(talkers.size), counts)
        slot = np.arange(sender.size) - np.repeat(np.cumsum(counts) - counts, counts)
        key = talkers[sender].astype(np.int64) * 65_536 + slot
        listener = (market.streams.uniform(decision, month, key) * (net.n - 1)).astype(np.int64)
        listener += listener >= talkers[sender]
        return sender, listener, np.ones(sender.size, bool)
    fast = compiled.kernels()
    if fast is not None:  # the same messages from one compiled loop
        key = market.streams.key(decision, month)
        return fast.sample_contacts(net.indptr, net.indices, net.strong, talkers.astype(np.int64, copy=False),
                                    counts.astype(np.int64, copy=False), key)
    degree = net.indptr[talkers + 1] - net.indptr[talkers]
    counts = np.minimum(counts, degree)
    sender, tie = net.ties_of(talkers)
    first = np.cumsum(degree) - degree
    order = np.argsort(sender + market.streams.uniform(decision, month, tie), kind="stable")
    rank = np.empty(sender.size, np.int64)
    rank[order] = np.arange(sender.size) - first[sender[order]]
    chosen = rank < counts[sender]
    return sender[chosen], net.indices[tie[chosen]].astype(np.int64), net.strong[tie[chosen]]


def negative_reach(market, talkers: np.ndarray) -> np.ndarray:
    """How many contacts each unhappy talker means to tell (before the cap by their contacts)."""
    p = market.parameters
    low, high = p.negative_reach_min, p.negative_reach_max
    if p.negative_reach_distribution == "geometric":  # same mean, heavy tail: `high` is not a bound
        return market.streams.geometric("negative_reach", market.month, talkers, low, (low + high) / 2)
    return market.streams.integers("negative_reach", market.month, talkers, low, high)


def relaying_rejecters(market) -> tuple[np.ndarray, np.ndarray]:
    """(person, firm) for this month's second-hand bad news (Goldenberg et al. 2007's rejecters).

    A rejecter of a firm is someone not its customer whose attitude toward it has fallen to
    `-rejecter_attitude` or below; each month they pass the bad news on with `relay_probability`.
    """
    c, p = market.customers, market.parameters
    if p.relay_probability == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    person, firm = np.nonzero(c.attitude <= -p.rejecter_attitude)
    outsider = c.firm[person] != firm
    person, firm = person[outsider], firm[outsider]
    tells = market.streams.chance("relays", market.month, person * market.n_firms + firm, p.relay_probability)
    return person[tells], firm[tells]


def _heard(market, listener, firm, weight) -> np.ndarray:
    """(people x firms) sum of message weights heard."""
    n, k = market.customers.n, market.n_firms
    return np.bincount(listener * k + firm, weights=weight, minlength=n * k).reshape(n, k)


def referral_signal(market, heard_positive: np.ndarray) -> np.ndarray:
    """Positive messages heard, in units of "advocates among one's contacts" (the Bass imitation signal)."""
    return heard_positive / signal_unit(market)


def signal_unit(market) -> float:
    """The messages a typical advocate sends a month, floored: a vanishing referral rate must not
    overflow the signal."""
    p = market.parameters
    return max(p.referral_probability * p.referral_reach, 1e-9)


def referring(market) -> np.ndarray:
    """The delighted or loyal customers who recommend their firm this month (`referral_probability`)."""
    c, p, month = market.customers, market.parameters, market.month
    fast = compiled.kernels()
    if fast is not None:  # the same people in one compiled pass
        return fast.referring(c.firm, c.satisfaction, c.loyalty, p.delighted_above, p.loyal_above,
                              p.referral_probability, market.streams.key("refers", month))
    members = np.flatnonzero(c.is_customer)
    advocates = members[(c.satisfaction[members] >= p.delighted_above) | (c.loyalty[members] >= p.loyal_above)]
    return advocates[market.streams.chance("refers", month, advocates, p.referral_probability)]


def askers(market, told_positive: np.ndarray) -> np.ndarray:
    """Who asks contacts about their provider this month: customers whose contract ends now (the
    renewal decision) or who weigh a break (satisfaction below `contract_break_below`), and
    prospects shopping, each with the chance that advertising and this month's referrals put
    them in the market (the Bass trigger before attitudes hold anyone back)."""
    c, p, month = market.customers, market.parameters, market.month
    if p.asked_contacts == 0:
        return np.zeros(0, np.int64)
    fast = compiled.kernels()
    if fast is not None:  # the same people in one compiled pass
        return fast.askers(c.firm, c.contract_end, c.satisfaction, month, p.contract_break_below,
                           market.firm_advertising, p.imitation, told_positive, signal_unit(market),
                           market.streams.key("shops", month))
    signal = referral_signal(market, told_positive)
    members = np.flatnonzero(c.is_customer)
    deciding = members[(c.contract_end[members] == month) | (c.satisfaction[members] < p.contract_break_below)]
    prospects = np.flatnonzero(~c.is_customer)
    trigger = np.clip(market.firm_advertising[None, :] + p.imitation * signal[prospects], 0.0, 1.0)
    shopping = market.streams.chance("shops", month, prospects, 1.0 - np.prod(1.0 - trigger, axis=1))
    return np.concatenate((deciding, prospects[shopping]))


def answers(market, asking: np.ndarray):
    """(answerer, asker, strong tie, firm talked about, valence +1/0/-1) for every asked contact who
    is a customer: the delighted and satisfied speak well of their firm, the dissatisfied warn."""
    c, p = market.customers, market.parameters
    sender, contact, strong = sample_contacts(market, asking, np.full(asking.size, p.asked_contacts), "asked_contacts")
    customer = c.firm[contact] != NO_FIRM
    sender, contact, strong = sender[customer], contact[customer], strong[customer]
    satisfaction = c.satisfaction[contact]
    valence = np.where(satisfaction >= p.satisfied_above, 1, np.where(satisfaction < p.dissatisfied_below, -1, 0))
    return contact, asking[sender], strong, c.firm[contact].astype(np.int64), valence


def _defended(market, speaker: np.ndarray, listener: np.ndarray, about: np.ndarray) -> np.ndarray:
    """Per negative message: 1 (or a share, under complete mixing) if the listener has a loyal
    customer of the firm among their contacts other than the speaker (Colliander & Wien 2013)."""
    c, p, net = market.customers, market.parameters, market.network
    fast = compiled.kernels()
    if fast is not None and not net.complete:  # the same shares, counting only the listeners' contacts
        return fast.defended(net.indptr, net.indices, c.firm, c.loyalty, p.loyal_above, speaker, listener,
                             about.astype(np.int64, copy=False))
    defended = np.zeros(about.size)
    talker_weight = net.nominal_degree / max(net.n - 1, 1) if net.complete else 1.0
    for firm in np.unique(about):  # loop over firms, not people
        loyal = (c.firm == firm) & (c.loyalty >= p.loyal_above)
        defenders = net.count_among_contacts(loyal)
        these = about == firm
        # the talker is one of the listener's contacts but does not defend against themselves
        others = defenders[listener[these]] - talker_weight * loyal[speaker[these]]
        defended[these] = np.clip(others, 0.0, 1.0)
    return defended


def negative_listeners(market, listener: np.ndarray, about: np.ndarray) -> tuple:
    """(firm, weight) arguments of `Tally.add_by_firm` counting each listener once per firm talked about."""
    fast, k = compiled.kernels(), market.n_firms
    if fast is not None:
        return np.arange(k), fast.listeners_by_firm(listener, about, market.customers.n, k)
    return np.unique(listener * k + about) % k, None


def run(market) -> None:
    c, p, month = market.customers, market.parameters, market.month
    tie_weight = np.array([p.weak_tie_weight, p.strong_tie_weight])
    fast = compiled.kernels()
    if (fast is not None and not market.network.complete and p.relay_probability == 0
            and p.negative_reach_distribution == "uniform"):  # the usual month, in one compiled call
        _run_compiled(market, fast, tie_weight)
        return
    tally = market.tally

    # negative talk: first-hand from this month's newly dissatisfied, second-hand from rejecters
    talkers = np.flatnonzero(c.talks_negative & c.is_customer)
    reach = negative_reach(market, talkers)
    sender, listener, strong = sample_contacts(market, talkers, reach, "negative_listeners")
    speaker, about = talkers[sender], c.firm[talkers][sender].astype(np.int64)
    cause = c.talk_cause[talkers][sender].astype(np.int64)
    relayers, relayed = relaying_rejecters(market)
    if relayers.size:
        sender, heard_by, by_strong = sample_contacts(
            market, relayers, np.full(relayers.size, p.relay_reach), "relay_listeners")
        speaker, listener = np.concatenate((speaker, relayers[sender])), np.concatenate((listener, heard_by))
        strong, about = np.concatenate((strong, by_strong)), np.concatenate((about, relayed[sender]))
        cause = np.concatenate((cause, np.full(sender.size, RELAYED)))
    defended = _defended(market, speaker, listener, about)
    negative_weight = tie_weight[strong.astype(int)] * (1.0 - p.defence_damping * defended)
    tally.add_by_firm("messages_negative", about)
    for code, name in enumerate((*CAUSES, "relayed")):
        tally.add_by_firm(f"messages_{name}" if code == RELAYED else f"messages_negative_{name}", about[cause == code])
    tally.add_by_firm("negative_talkers", c.firm[talkers])
    tally.add_by_firm("negative_listeners", *negative_listeners(market, listener, about))
    tally.add_by_firm("messages_defended", about, weights=defended)

    # positive talk: referrals by delighted or loyal customers
    advocates = referring(market)
    c.last_referral[advocates] = month  # "did you recommend us?" (sim.observations)
    reach = np.full(advocates.size, p.referral_reach)
    sender, pos_listener, pos_strong = sample_contacts(market, advocates, reach, "referral_listeners")
    pos_about = c.firm[advocates][sender].astype(np.int64)
    positive_weight = tie_weight[pos_strong.astype(int)]
    tally.add_by_firm("messages_positive", pos_about)

    # asked: those about to decide ask a few contacts, who answer by their mood
    told_positive = _heard(market, pos_listener, pos_about, positive_weight)
    answerer, asker, ans_strong, ans_about, valence = answers(market, askers(market, told_positive))
    for kind, sign in (("positive", 1), ("neutral", 0), ("negative", -1)):
        tally.add_by_firm(f"answers_{kind}", ans_about[valence == sign])
    good, bad = valence > 0, valence < 0
    warned = _defended(market, answerer[bad], asker[bad], ans_about[bad])
    answer_weight = p.asked_weight * tie_weight[ans_strong.astype(int)]

    warning_weight = answer_weight[bad] * (1.0 - p.defence_damping * warned)
    hear(market, told_positive, (asker[good], ans_about[good], answer_weight[good]),
         (listener, about, negative_weight), (asker[bad], ans_about[bad], warning_weight))


def _run_compiled(market, fast, tie_weight: np.ndarray) -> None:
    """`run` as one compiled loop (`sim.kernels.word_of_mouth_month`): the same messages, counts
    and attitudes, bit for bit, without a hundred small array operations a month."""
    c, p, net, key = market.customers, market.parameters, market.network, market.streams.key
    month = market.month
    market.heard_positive, counts = fast.word_of_mouth_month(
        net.indptr, net.indices, net.strong, c.firm, c.talks_negative, c.talk_cause, c.satisfaction, c.loyalty,
        c.contract_end, c.attitude, c.last_referral, month, market.firm_advertising, tie_weight,
        p.negative_reach_min, p.negative_reach_max, p.referral_reach, p.asked_contacts, p.loyal_above,
        p.delighted_above, p.satisfied_above, p.dissatisfied_below, p.referral_probability, p.contract_break_below,
        p.imitation, signal_unit(market), p.defence_damping, p.asked_weight, p.attitude_memory,
        p.positive_message_weight, p.negative_message_weight, key("negative_reach", month),
        key("negative_listeners", month), key("refers", month), key("referral_listeners", month),
        key("shops", month), key("asked_contacts", month),
        *(market.kept_zeros(f"{heard} heard", c.attitude.shape) for heard in ("referrals", "answers", "bad news")))
    market.tally.add_rows(fast.WORD_OF_MOUTH_EVENTS, counts)


def hear(market, told_positive: np.ndarray, answered_well: tuple, told_badly: tuple, answered_badly: tuple) -> None:
    """Attitudes fade by `attitude_memory` and move with the weighted messages heard; the referral
    signal of the month is kept for acquisition. Each message set is (listener, firm, weight)."""
    c, p = market.customers, market.parameters
    fast = compiled.kernels()
    if fast is not None:  # the same sums and attitudes in one compiled pass (sim.kernels.hear)
        market.heard_positive = fast.hear(c.attitude, told_positive, *answered_well, *told_badly, *answered_badly,
                                          p.attitude_memory, p.positive_message_weight, p.negative_message_weight,
                                          signal_unit(market))
        return
    heard_negative = _heard(market, *(np.concatenate(parts) for parts in zip(told_badly, answered_badly)))
    heard_positive = told_positive + _heard(market, *answered_well)
    c.attitude *= p.attitude_memory
    c.attitude += p.positive_message_weight * heard_positive - p.negative_message_weight * heard_negative
    np.clip(c.attitude, -1.0, 1.0, out=c.attitude)
    market.heard_positive = referral_signal(market, heard_positive)
