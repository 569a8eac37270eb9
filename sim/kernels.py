"""Compiled loops (numba) for the engine's hot spots, each giving the same bits as the numpy
expression it stands in for.

The month is written in numpy (`sim.phases`): that is the model as it reads. Where numpy needs
many passes over big arrays for what one loop does in one (sampling contacts, counting loyal
contacts, building the network), the loop is here, compiled with numba: `cache=True`, so it
is compiled once per machine and Python and then loaded from disk, and `nogil`, so Dask's
threads run it side by side. Only arithmetic whose bits cannot differ from numpy's is done
here (no exp, log or cos: numpy may use other implementations of those).

The engine imports this module through `sim.compiled.kernels()`, which returns None without
numba or with GRAPEVINE_NUMBA=0; the numpy expressions run then. tests/test_fast_paths.py
checks that both give the same results, bit for bit, on markets of every network family and
with every policy: a rule changed in a phase and not in its kernel (or the other way) fails it.
So to change a rule, change both; to try a rule out, GRAPEVINE_NUMBA=0 runs the numpy alone.

Loops over every person pick people without branching on their data: `chosen[count] = person;
count += condition` writes every person and keeps the ones meeting the condition. A branch on
data that is true for a random third of people is mispredicted often, and that cost most of
these loops' time at a million people; the selection and its order are the same.

Three more patterns, each measured: keyed draws are made in a loop of their own before the loop
that uses them (a loop of draws alone runs several draws at a time); loops over every (person,
firm) run flat over the raveled arrays (the compiler then works several lanes at a time, each
with the same arithmetic); and a block of talkers' rows is loaded before the rows are read, so
that their cache misses overlap (`_touch_rows`). Where a phase has no policy hook inside it, its
whole month is one kernel (`word_of_mouth_month`, `after_decisions`): fewer calls from Python.

Each loop below names the phase whose expressions it follows. Floating-point operations are
written in numpy's order (numba does not reorder them or fuse a multiply and an add unless
told to, and it is not told to), so the same inputs give the same bits.
"""

from __future__ import annotations

import numba
import numpy as np

# the engine's codes (numba reads module-level integers as constants)
from .codes import (ADVERTISING, CAUSES, CONTACT, CONTRACT_BREAK, FAILURE, NEVER, NO_CAUSE, NO_CONTRACT, NO_FIRM,
                    PRICE, QUALITY, REFERRAL, RENEWAL)

N_CAUSES = len(CAUSES)

jit = numba.njit(cache=True, nogil=True)

_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@jit
def keyed_uniform(id_, key):
    """The keyed stream's uniform for one id (sim.randomness: SplitMix64's finaliser twice on
    id ^ key, top 53 bits)."""
    x = np.uint64(id_) ^ key
    for _ in range(2):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return np.float64(x >> np.uint64(11)) * _TO_UNIT


@jit
def uniform(ids, key):
    """`keyed_uniform` for every id (ids as int64: uint64 ids wrap, bit for bit the same)."""
    out = np.empty(ids.size)
    for i in range(ids.size):
        out[i] = keyed_uniform(ids[i], key)
    return out


@jit
def members_of(firm):
    """The customers' rows in order: np.flatnonzero(firm != NO_FIRM), without branches."""
    members = np.empty(firm.size, np.int64)
    count = 0
    for person in range(firm.size):
        members[count] = person
        count += firm[person] >= 0
    return members[:count]


# --- experience (sim.phases.experience) ---
@jit
def normal_parts(ids, radius_key, angle_key):
    """`Streams.normal`'s two keyed uniforms as its in-place steps leave them before numpy's log1p
    and cos: -u1 and 2 pi u2 (the rest, sqrt(-2 log1p(-u1)) cos(2 pi u2), is `serve_the_month`'s)."""
    radius, angle = uniform(ids, radius_key), uniform(ids, angle_key)
    for i in range(ids.size):
        radius[i] = -radius[i]
        angle[i] *= 2.0 * np.pi
    return radius, angle


@jit
def serve_the_month(members, firm, tenure, satisfaction, satisfaction_before, poorly_served, firm_quality,
                    firm_failure_rate, log_part, cos_part, quality_noise, failed, failures, experience, failure_key,
                    n_firms):
    """The month's service to every member, in place: tenure, satisfaction when the month began,
    a failure (keyed draw below the firm's rate; always for the poorly served) and the quality
    experienced (the firm's, plus `quality_noise` x the member's normal draw, Box-Muller's
    sqrt(-2 log_part) cos_part: `normal_parts`; sqrt is correctly rounded everywhere, as numpy's).
    Returns the failures per firm."""
    failures_by_firm = np.zeros(n_firms)
    draw = uniform(members, failure_key)  # apart: a loop of draws alone runs several at a time
    for i in range(members.size):
        person = members[i]
        k = firm[person]
        tenure[person] += 1
        satisfaction_before[person] = satisfaction[person]
        rate = 1.0 if poorly_served[person] else firm_failure_rate[k]
        failed[person] = draw[i] < rate
        if failed[person]:
            failures[person] += 1
            failures_by_firm[k] += 1.0
        noise = np.sqrt(log_part[i] * -2.0) * cos_part[i]
        experience[person] = firm_quality[k] + quality_noise * noise
    return failures_by_firm


@jit
def feel_the_month(members, experience, expectation, satisfaction, temperament, surprise, price_rise, loyalty,
                   failed, tolerance_zone, loss_aversion, price_weight, performance_weight, quality_norm,
                   disconfirmation_sensitivity, satisfaction_memory, failure_severity, forgiveness,
                   expectation_adaptation, satisfied_above, dissatisfied_below, loyalty_growth, loyalty_erosion):
    """Satisfaction, expectation and loyalty after the month's service, in place: the numpy
    expressions of `experience.run`, operation for operation in the same order (same bits)."""
    price_loss = loss_aversion * price_weight
    keep, take = satisfaction_memory, 1 - satisfaction_memory
    pleased_scale, unhappy_scale = 1 - satisfied_above + 1e-12, dissatisfied_below + 1e-12
    for i in members:
        gap = experience[i] - expectation[i]
        # the gap's sign and the loss's weight without branches on them (module docstring):
        # x * 1.0 is x, and the product's order does not change its bits
        sign = np.float64(gap > 0) - np.float64(gap < 0)
        beyond = sign * max(abs(gap) - tolerance_zone, 0.0)
        felt = beyond * (1.0 if beyond >= 0 else loss_aversion) + surprise[i]
        felt -= price_loss * price_rise[i]
        performance = performance_weight * (experience[i] - quality_norm)
        target = min(max(temperament[i] + disconfirmation_sensitivity * felt + performance, 0.0), 1.0)
        now = keep * satisfaction[i] + take * target
        now *= 1.0 - failure_severity * (1.0 - forgiveness * loyalty[i]) * np.float64(failed[i])
        satisfaction[i] = now
        expectation[i] += expectation_adaptation * (experience[i] - expectation[i])
        pleased = min(max((now - satisfied_above) / pleased_scale, 0.0), 1.0)
        unhappy = min(max((dissatisfied_below - now) / unhappy_scale, 0.0), 1.0)
        loyalty[i] = min(max(loyalty[i] + loyalty_growth * pleased - loyalty_erosion * unhappy, 0.0), 1.0)


# --- complaints (sim.phases.complaints) ---
@jit
def _cause(failed, price_rise, person):
    return FAILURE if failed[person] else (PRICE if price_rise[person] > 0 else QUALITY)


@jit
def newly_unhappy(members, satisfaction, satisfaction_before, failed, price_rise, talk_cause, talks_negative,
                  dissatisfied_below, talk_probability, quality_talk_share, complaint_probability, talk_key,
                  complain_key):
    """Before the firm answers: the members now unhappy (a mask), the cause and the talk decision of
    the newly unhappy (in place), and who complains among the failed and unhappy."""
    unhappy = np.empty(members.size, np.bool_)
    complainers = np.empty(members.size, np.int64)
    count = 0
    for i in range(members.size):
        person = members[i]
        unhappy[i] = satisfaction[person] < dissatisfied_below
        if unhappy[i] and satisfaction_before[person] >= dissatisfied_below:
            cause = _cause(failed, price_rise, person)
            share = quality_talk_share if cause == QUALITY else 1.0
            talk_cause[person] = cause
            talks_negative[person] = keyed_uniform(person, talk_key) < talk_probability * share
        if failed[person] and unhappy[i] and keyed_uniform(person, complain_key) < complaint_probability:
            complainers[count] = person
            count += 1
    return unhappy, complainers[:count].copy()


@jit
def after_answers(members, unhappy, satisfaction, satisfaction_before, failed, price_rise, resolved, complained,
                  loyalty, grievance, talk_cause, talks_negative, dissatisfied_below, talk_probability,
                  forgiveness, complaint_venting, contact_key):
    """After the firm answered: members its contacts pushed into dissatisfaction decide to talk
    (cause contact), those a policy made talk get their cause, and unresolved failures leave a
    grievance (less what loyalty forgives; a complaint vents some of it), in place."""
    for i in range(members.size):
        person = members[i]
        if (not unhappy[i] and satisfaction[person] < dissatisfied_below
                and satisfaction_before[person] >= dissatisfied_below):
            talk_cause[person] = CONTACT
            talks_negative[person] = keyed_uniform(person, contact_key) < talk_probability * 1.0
        if talks_negative[person] and talk_cause[person] == NO_CAUSE:
            talk_cause[person] = _cause(failed, price_rise, person)
        if failed[person] and not resolved[person]:
            damage = 1.0 - forgiveness * loyalty[person]
            damage *= complaint_venting if complained[person] else 1.0
            grievance[person] += damage


# --- word of mouth (sim.phases.word_of_mouth) ---
@jit
def sample_contacts(indptr, indices, strong, talkers, counts, key):
    """Each talker's `counts[i]` contacts (capped by their contacts), as the numpy version picks
    them: every tie gets the keyed uniform of its CSR position, a talker keeps the ties of its
    smallest `i + uniform` (that sum, rounded as numpy rounds it, ties broken by position), and
    messages come out talker by talker, in CSR order. Returns (talker position, listener, strong)."""
    total = 0
    for i in range(talkers.size):
        person = talkers[i]
        total += min(max(counts[i], 0), indptr[person + 1] - indptr[person])
    # one slot more: a tie not kept is written at the next slot too, then overwritten or cut off
    sender = np.empty(total + 1, np.int64)
    listener = np.empty(total + 1, np.int64)
    by_strong = np.empty(total + 1, np.bool_)
    score, smallest = np.empty(64), np.empty(64)  # grown for the rare talker with more contacts
    out = 0
    loaded = 0
    for i in range(talkers.size):
        if i % _BLOCK == 0:  # the next block's rows, loaded side by side (module docstring)
            loaded += _touch_rows(indptr, indices, strong, talkers[i:i + _BLOCK])
        person = talkers[i]
        start, degree = indptr[person], indptr[person + 1] - indptr[person]
        wanted = min(max(counts[i], 0), degree)
        if wanted == degree:  # every contact
            for t in range(start, start + degree):
                sender[out], listener[out], by_strong[out] = i, indices[t], strong[t]
                out += 1
            continue
        if wanted == 0:
            continue
        if degree > score.size:
            score, smallest = np.empty(2 * degree), np.empty(2 * degree)
        for j in range(degree):
            score[j] = np.float64(i) + keyed_uniform(start + j, key)
        cut = _smallest(score, degree, wanted, smallest)
        kept = 0  # ties scoring below the cut are kept; at the cut, the first ones (a stable sort)
        for j in range(degree):
            kept += score[j] < cut
        for j in range(degree):  # without branches (module docstring): written, and kept or not
            keep = (score[j] < cut) | ((score[j] == cut) & (kept < wanted))
            kept += (score[j] == cut) & keep
            sender[out], listener[out], by_strong[out] = i, indices[start + j], strong[start + j]
            out += keep
    sender[total] = loaded  # the loads are used: the compiler keeps them (the spare slot is cut off)
    return sender[:total], listener[:total], by_strong[:total]


_BLOCK = 32  # people whose rows are loaded together before they are read


@jit
def _touch_rows(indptr, indices, strong, people):
    """Load the first and last entries of these people's rows (their cache lines) in one short
    loop: the loads wait for memory side by side instead of one after another."""
    loaded = 0
    for person in people:
        start, end = indptr[person], indptr[person + 1]
        if end > start:
            loaded += indices[start] + indices[end - 1] + strong[start] + strong[end - 1]
    return loaded


@jit
def _smallest(values, size, k, smallest):
    """The k-th smallest of values[:size] (1 <= k < size), keeping the k smallest so far in order in
    `smallest`: most values are above the k-th and cost one comparison (numpy's sort for a hub)."""
    if size > 64:
        return np.sort(values[:size])[k - 1]
    for j in range(size):
        value = values[j]
        if j >= k and value >= smallest[k - 1]:
            continue
        at = min(j, k - 1)  # the slot freed at the end: the list's new place, or its largest's
        while at > 0 and smallest[at - 1] > value:
            smallest[at] = smallest[at - 1]
            at -= 1
        smallest[at] = value
    return smallest[k - 1]


@jit
def defended(indptr, indices, firm, loyalty, loyal_above, speaker, listener, about):
    """Per negative message: 1 if the listener has a loyal customer of the firm talked about among
    their contacts other than the speaker, else 0 (the network version of `_defended`)."""
    if about.size * (indices.size / max(firm.size, 1)) * 8 > firm.size:
        # many contacts to look at (a big market's month): who is a loyal customer of each firm
        # talked about, a bit a person (a million people in 125 kB), then one bit a contact
        # instead of a firm and a loyalty read at random
        return _defended_by(indptr, indices, _loyal_bits(firm, loyalty, loyal_above, about.max() + 1), speaker,
                            listener, about)
    out = np.zeros(about.size)
    for m in range(about.size):
        person, talked_about = listener[m], about[m]
        found = 0  # how many loyal customers of that firm among the contacts, counted without branches
        for t in range(indptr[person], indptr[person + 1]):
            contact = indices[t]
            found += (firm[contact] == talked_about) & (loyalty[contact] >= loyal_above)
        speaker_is = (firm[speaker[m]] == talked_about) & (loyalty[speaker[m]] >= loyal_above)
        others = np.float64(found) - (1.0 if speaker_is else 0.0)
        out[m] = min(max(others, 0.0), 1.0)
    return out


@jit
def _loyal_bits(firm, loyalty, loyal_above, n_firms):
    """Per firm, a bit per person: a loyal customer of that firm (person p is bit p % 8 of byte p // 8)."""
    n = firm.size
    bits = np.zeros((n_firms, (n + 7) // 8), np.uint8)
    for k in range(n_firms):
        for byte in range(bits.shape[1]):
            packed = 0
            for bit in range(min(8, n - 8 * byte)):
                person = 8 * byte + bit
                packed |= np.int64((firm[person] == k) & (loyalty[person] >= loyal_above)) << bit
            bits[k, byte] = packed
    return bits


@jit
def _is_set(bits, k, person):
    return (bits[k, person >> 3] >> (person & 7)) & 1


@jit
def _defended_by(indptr, indices, loyal_bits, speaker, listener, about):
    """`defended` given `_loyal_bits` of the firms talked about."""
    out = np.zeros(about.size)
    for m in range(about.size):
        person, talked_about = listener[m], about[m]
        found = 0
        for t in range(indptr[person], indptr[person + 1]):
            found += _is_set(loyal_bits, talked_about, indices[t])
        others = np.float64(found) - (1.0 if _is_set(loyal_bits, talked_about, speaker[m]) else 0.0)
        out[m] = min(max(others, 0.0), 1.0)
    return out


@jit
def referring(firm, satisfaction, loyalty, delighted_above, loyal_above, probability, key):
    """The customers who recommend their firm this month: the delighted or loyal, each with a
    keyed draw below `probability`, in person order."""
    advocates = np.empty(firm.size, np.int64)
    count = 0
    for person in range(firm.size):  # without branches (module docstring)
        advocates[count] = person
        count += (firm[person] >= 0) & ((satisfaction[person] >= delighted_above) | (loyalty[person] >= loyal_above))
    draw = uniform(advocates[:count], key)  # apart: a loop of draws alone runs several at a time
    chosen = np.empty(count, np.int64)
    kept = 0
    for i in range(count):
        chosen[kept] = advocates[i]
        kept += draw[i] < probability
    return chosen[:kept].copy()


@jit
def askers(firm, contract_end, satisfaction, month, break_below, advertising, imitation, told_positive, signal_unit,
           key):
    """Who asks contacts about their provider: customers at renewal or weighing a break, then the
    prospects shopping (a keyed draw below 1 - prod(1 - clip(advertising + imitation x signal))),
    each group in person order: `word_of_mouth.askers`'s numpy expressions in the same order."""
    deciding, prospects = np.empty(firm.size, np.int64), np.empty(firm.size, np.int64)
    n_deciding = n_prospects = 0
    for person in range(firm.size):  # without branches (module docstring)
        customer = firm[person] >= 0
        deciding[n_deciding] = person
        n_deciding += customer & ((contract_end[person] == month) | (satisfaction[person] < break_below))
        prospects[n_prospects] = person
        n_prospects += not customer
    draw = uniform(prospects[:n_prospects], key)  # apart: a loop of draws alone runs several at a time
    n_shopping = 0
    for i in range(n_prospects):  # kept in place: the write never passes the read
        person = prospects[i]
        stay = 1.0
        for k in range(advertising.size):
            told = told_positive[person, k]  # most heard nothing: 0 / signal_unit is 0, without the division
            trigger = min(max(advertising[k] + imitation * (told / signal_unit if told != 0.0 else 0.0), 0.0), 1.0)
            stay = (1.0 - trigger) if k == 0 else stay * (1.0 - trigger)
        prospects[n_shopping] = person
        n_shopping += draw[i] < 1.0 - stay
    return np.concatenate((deciding[:n_deciding], prospects[:n_shopping]))


@jit
def hear(attitude, told_positive, good_listener, good_about, good_weight, bad_listener, bad_about, bad_weight,
         more_bad_listener, more_bad_about, more_bad_weight, memory, positive_weight, negative_weight, signal_unit):
    """Attitudes fade and move with the month's weighted messages, in place; returns the referral
    signal (positive messages heard / `signal_unit`). Messages are summed in the order numpy's
    bincounts sum them: bad news as told then as answered, good answers apart from the referrals."""
    return hear_touched(attitude, told_positive, np.zeros(attitude.shape), np.zeros(attitude.shape), good_listener,
                        good_about, good_weight, bad_listener, bad_about, bad_weight, more_bad_listener,
                        more_bad_about, more_bad_weight, memory, positive_weight, negative_weight, signal_unit)


@jit
def _heard(attitude, told_positive, answered, told_badly, memory, positive_weight, negative_weight, signal_unit):
    """One (person, firm)'s attitude after the month's messages, and their referral signal."""
    heard_positive = told_positive + answered
    moved = attitude * memory
    moved += positive_weight * heard_positive - negative_weight * told_badly
    return min(max(moved, -1.0), 1.0), heard_positive / signal_unit


@jit
def hear_touched(attitude, told_positive, answered, told_badly, good_listener, good_about, good_weight, bad_listener,
                 bad_about, bad_weight, more_bad_listener, more_bad_about, more_bad_weight, memory, positive_weight,
                 negative_weight, signal_unit):
    """`hear`, with the answers' and the bad news' sums in `answered` and `told_badly`, which come
    zero and are left zero. The flat loop over (person, firm) reads neither: it computes everyone
    as if they heard no answer and no bad news (their +0.0 written as a constant, the same
    arithmetic as numpy's with zeros there); the few people messages reached are then computed
    again from their attitudes before the month."""
    n_firms = attitude.shape[1]
    mood, told = attitude.ravel(), told_positive.ravel()
    answered_of, told_badly_of = answered.ravel(), told_badly.ravel()
    touched = np.empty(bad_listener.size + more_bad_listener.size + good_listener.size, np.int64)
    for m in range(bad_listener.size):
        touched[m] = bad_listener[m] * n_firms + bad_about[m]
    for m in range(more_bad_listener.size):
        touched[bad_listener.size + m] = more_bad_listener[m] * n_firms + more_bad_about[m]
    for m in range(good_listener.size):
        touched[bad_listener.size + more_bad_listener.size + m] = good_listener[m] * n_firms + good_about[m]
    before = np.empty(touched.size)
    for j in range(touched.size):
        before[j] = mood[touched[j]]
    for m in range(bad_listener.size):  # summed in `hear`'s order
        told_badly_of[bad_listener[m] * n_firms + bad_about[m]] += bad_weight[m]
    for m in range(more_bad_listener.size):
        told_badly_of[more_bad_listener[m] * n_firms + more_bad_about[m]] += more_bad_weight[m]
    for m in range(good_listener.size):
        answered_of[good_listener[m] * n_firms + good_about[m]] += good_weight[m]
    signal = np.empty(attitude.shape)
    signal_of = signal.ravel()
    for i in range(mood.size):  # as if no answer and no bad news was heard
        mood[i], signal_of[i] = _heard(mood[i], told[i], 0.0, 0.0, memory, positive_weight, negative_weight,
                                       signal_unit)
    for j in range(touched.size):  # where some were: from the attitude before the month
        i = touched[j]
        mood[i], signal_of[i] = _heard(before[j], told[i], answered_of[i], told_badly_of[i], memory, positive_weight,
                                       negative_weight, signal_unit)
    for j in range(touched.size):
        answered_of[touched[j]] = 0.0
        told_badly_of[touched[j]] = 0.0
    return signal


@jit
def listeners_by_firm(listener, about, n_people, n_firms):
    """Per firm, how many distinct people heard bad news about it (each listener once per firm)."""
    seen = np.zeros(n_people * n_firms, np.bool_)
    count = np.zeros(n_firms)
    for m in range(listener.size):
        pair = listener[m] * n_firms + about[m]
        if not seen[pair]:
            seen[pair] = True
            count[about[m]] += 1.0
    return count


# the rows of the month's word-of-mouth counts `word_of_mouth_month` returns, in the tally's names
# (in the tally's order, so that they are added in two blocks)
WORD_OF_MOUTH_EVENTS = ("messages_negative", "messages_negative_failure", "messages_negative_quality",
                        "messages_negative_price", "messages_negative_contact", "messages_relayed",
                        "messages_positive", "messages_defended", "answers_positive", "answers_neutral",
                        "answers_negative", "negative_talkers", "negative_listeners")
(_NEGATIVE, _FIRST_CAUSE, _RELAYED, _POSITIVE, _DEFENDED, _ANSWERS_POSITIVE, _ANSWERS_NEUTRAL, _ANSWERS_NEGATIVE,
 _TALKERS, _LISTENERS) = 0, 1, 5, 6, 7, 8, 9, 10, 11, 12  # their rows (the causes in CAUSES' order from 1)


@jit
def word_of_mouth_month(indptr, indices, strong, firm, talks_negative, talk_cause, satisfaction, loyalty,
                        contract_end, attitude, last_referral, month, advertising, tie_weight, reach_low,
                        reach_high, referral_reach, asked_contacts, loyal_above, delighted_above, satisfied_above,
                        dissatisfied_below, referral_probability, break_below, imitation, signal_unit,
                        defence_damping, asked_weight, memory, positive_weight, negative_weight, reach_key,
                        listeners_key, refers_key, referral_key, shops_key, asked_key, told_positive, answered,
                        told_badly):
    """The whole of `word_of_mouth.run` on a network without second-hand news, with uniform reach:
    the kernels above in the phase's order, and the numpy glue between them as loops in the same
    order (same bits). Updates attitudes and `last_referral` in place; returns the referral signal
    and the month's counts (a row per WORD_OF_MOUTH_EVENTS, a column per firm). `told_positive`,
    `answered` and `told_badly` are (person x firm) sums kept from month to month: they come zero
    and are left zero (only the entries messages reach are touched)."""
    n, n_firms = attitude.shape
    counts = np.zeros((len(WORD_OF_MOUTH_EVENTS), n_firms))

    # negative talk by this month's newly dissatisfied customers
    talkers = np.empty(n, np.int64)
    n_talkers = 0
    for person in range(n):  # without branches (module docstring)
        talkers[n_talkers] = person
        n_talkers += talks_negative[person] & (firm[person] >= 0)
    talkers = talkers[:n_talkers]
    reach = np.empty(n_talkers, np.int64)
    for i in range(n_talkers):  # Streams.integers
        reach[i] = reach_low + min(np.int64(keyed_uniform(talkers[i], reach_key) * (reach_high - reach_low + 1)),
                                   reach_high - reach_low)
        counts[_TALKERS, firm[talkers[i]]] += 1.0
    sender, listener, by_strong = sample_contacts(indptr, indices, strong, talkers, reach, listeners_key)
    speaker, about = np.empty(sender.size, np.int64), np.empty(sender.size, np.int64)
    for m in range(sender.size):
        speaker[m] = talkers[sender[m]]
        about[m] = firm[speaker[m]]
        counts[_NEGATIVE, about[m]] += 1.0
        cause = talk_cause[speaker[m]]
        if 0 <= cause < N_CAUSES:
            counts[_FIRST_CAUSE + cause, about[m]] += 1.0
    shielded = defended(indptr, indices, firm, loyalty, loyal_above, speaker, listener, about)
    bad_weight = np.empty(sender.size)
    for m in range(sender.size):
        bad_weight[m] = tie_weight[np.int64(by_strong[m])] * (1.0 - defence_damping * shielded[m])
        counts[_DEFENDED, about[m]] += shielded[m]
    counts[_LISTENERS] = listeners_by_firm(listener, about, n, n_firms)

    # referrals by the delighted and loyal
    advocates = referring(firm, satisfaction, loyalty, delighted_above, loyal_above, referral_probability, refers_key)
    for i in range(advocates.size):
        last_referral[advocates[i]] = month
    sender, referred, referred_strong = sample_contacts(indptr, indices, strong, advocates,
                                                       np.full(advocates.size, referral_reach, np.int64), referral_key)
    referred_about = np.empty(sender.size, np.int64)
    for m in range(sender.size):  # np.bincount's order
        k = referred_about[m] = firm[advocates[sender[m]]]
        counts[_POSITIVE, k] += 1.0
        told_positive[referred[m], k] += tie_weight[np.int64(referred_strong[m])]

    # asked: those about to decide ask a few contacts; the customers among them answer by mood
    if asked_contacts > 0:
        asking = askers(firm, contract_end, satisfaction, month, break_below, advertising, imitation, told_positive,
                        signal_unit, shops_key)
    else:
        asking = np.zeros(0, np.int64)
    sender, contact, contact_strong = sample_contacts(indptr, indices, strong, asking,
                                                      np.full(asking.size, asked_contacts, np.int64), asked_key)
    n_good = n_bad = 0
    good_asker, good_about, good_weight = (np.empty(sender.size, np.int64), np.empty(sender.size, np.int64),
                                           np.empty(sender.size))
    bad_answerer, bad_asker, bad_about, bad_answer_weight = (np.empty(sender.size, np.int64),
                                                             np.empty(sender.size, np.int64),
                                                             np.empty(sender.size, np.int64), np.empty(sender.size))
    for m in range(sender.size):
        k = firm[contact[m]]
        if k < 0:  # a prospect has no provider to talk about
            continue
        weight = asked_weight * tie_weight[np.int64(contact_strong[m])]
        if satisfaction[contact[m]] >= satisfied_above:
            counts[_ANSWERS_POSITIVE, k] += 1.0
            good_asker[n_good], good_about[n_good], good_weight[n_good] = asking[sender[m]], k, weight
            n_good += 1
        elif satisfaction[contact[m]] < dissatisfied_below:
            counts[_ANSWERS_NEGATIVE, k] += 1.0
            bad_answerer[n_bad], bad_asker[n_bad], bad_about[n_bad] = contact[m], asking[sender[m]], k
            bad_answer_weight[n_bad] = weight
            n_bad += 1
        else:
            counts[_ANSWERS_NEUTRAL, k] += 1.0
    warned = defended(indptr, indices, firm, loyalty, loyal_above, bad_answerer[:n_bad], bad_asker[:n_bad],
                      bad_about[:n_bad])
    warning_weight = np.empty(n_bad)
    for m in range(n_bad):
        warning_weight[m] = bad_answer_weight[m] * (1.0 - defence_damping * warned[m])
    signal = hear_touched(attitude, told_positive, answered, told_badly, good_asker[:n_good], good_about[:n_good],
                          good_weight[:n_good], listener, about, bad_weight, bad_asker[:n_bad], bad_about[:n_bad],
                          warning_weight, memory, positive_weight, negative_weight, signal_unit)
    for m in range(referred.size):  # the referrals' sums back to zero for next month
        told_positive[referred[m], referred_about[m]] = 0.0
    return signal, counts


# --- churn (sim.phases.churn) ---
@jit
def churn_exponent(members, firm, satisfaction, loyalty, grievance, attitude, firm_price, mean_price,
                   churn_satisfaction, temperament_mean, churn_loyalty, initial_loyalty_mean, churn_grievance,
                   churn_attitude, churn_price):
    """The exponent of each member's lasting hazard (`churn.state_hazard`'s z), term by term in
    numpy's order; numpy takes its exp."""
    z = np.empty(members.size)
    n_firms = attitude.shape[1]
    for i in range(members.size):
        person = members[i]
        own = firm[person]
        best_rival = 0.0
        if n_firms > 1:
            best = -np.inf
            for k in range(n_firms):
                if k != own and attitude[person, k] > best:
                    best = attitude[person, k]
            best_rival = best if best >= 0.0 else 0.0  # np.maximum(best, 0.0)
        z[i] = (churn_satisfaction * (temperament_mean - satisfaction[person])
                - churn_loyalty * (loyalty[person] - initial_loyalty_mean)
                + churn_grievance * grievance[person]
                - churn_attitude * attitude[person, own]
                + churn_attitude * best_rival
                + churn_price * (firm_price[own] / mean_price - 1.0))
    return z


@jit
def peer_pressure(members, firm, member_loyalty, peer_defections, effect, loyal_scale):
    """1 + effect x each member's recent defections from their own firm x (1 - loyalty) /
    `loyal_scale`: `churn.transient_multiplier`'s social term in numpy's order (the mean loyalty
    behind `loyal_scale` stays numpy's sum)."""
    social = np.empty(members.size)
    for i in range(members.size):
        person = members[i]
        social[i] = 1.0 + effect * peer_defections[person, firm[person]] * ((1.0 - member_loyalty[i]) / loyal_scale)
    return social


@jit
def renewal_terms(members, contract_end, firm, firm_contract_months, month, lasting):
    """For the members whose contract ends this month, in order: 1 - their lasting hazard, and
    their contract's months (at least 1), the base and exponent of their renewal survival."""
    renewing = np.empty(members.size, np.int64)
    count = 0
    for i in range(members.size):  # without branches (module docstring)
        renewing[count] = i
        count += contract_end[members[i]] == month
    base, months = np.empty(count), np.empty(count, firm_contract_months.dtype)
    for j in range(count):
        i = renewing[j]
        base[j] = 1.0 - lasting[i]
        months[j] = max(firm_contract_months[firm[members[i]]], 1)
    return base, months


@jit
def who_leaves(members, contract_end, month, lasting, passing, renewal_survival, satisfaction, break_probability,
               break_below, key):
    """Each member's reason to decide (RENEWAL, CONTRACT_BREAK or NO_CONTRACT) and whether they
    leave (a keyed draw below the chance for that reason), as `churn.run`'s numpy expressions.
    `renewal_survival` holds (1 - lasting) ** contract months for the members at renewal, in
    order (numpy's power)."""
    reason = np.empty(members.size, np.int64)
    leaving = np.empty(members.size, np.bool_)
    draw = uniform(members, key)  # apart: a loop of draws alone runs several at a time
    at_renewal = 0
    for i in range(members.size):
        person = members[i]
        if contract_end[person] == month:
            reason[i] = RENEWAL
            passing_now = 1.0 - min(1.0, lasting[i] * (passing[i] - 1.0))
            probability = 1.0 - renewal_survival[at_renewal] * passing_now
            at_renewal += 1
        elif contract_end[person] > month:
            reason[i] = CONTRACT_BREAK
            probability = break_probability * (1.0 if satisfaction[person] < break_below else 0.0)
        else:
            reason[i] = NO_CONTRACT
            probability = min(1.0, lasting[i] * passing[i])
        leaving[i] = draw[i] < probability
    return reason, leaving


@jit
def after_decisions(members, reason, leaving, firm, contract_end, firm_contract_months, firm_price, penalty_months,
                    month, tenure, initial_firm, last_firm, left_month, loyalty, loyalty_when_left, indptr,
                    indices, peer_defections, defection_memory, count):
    """`churn.run` after the firms' last word, in place: renewals extend contracts; leavers pay their
    penalties, are counted by reason and leave (`Customers.leave`'s arrays, not the policies'
    states); peer defections fade and grow by the contacts who left (`churn.add_defections`). Returns
    the leavers, their old firms, the penalties per firm and the churned counts (reason x firm)."""
    n_firms = firm_price.size
    leavers, old_firm = np.empty(members.size, np.int64), np.empty(members.size, np.int64)
    n_leavers = 0
    penalties, churned = np.zeros(n_firms), np.zeros((3, n_firms))
    for i in range(members.size):
        person = members[i]
        if leaving[i]:
            k = firm[person]
            leavers[n_leavers], old_firm[n_leavers] = person, k
            n_leavers += 1
            churned[reason[i], k] += 1.0
            if reason[i] == CONTRACT_BREAK:  # the penalty, in np.bincount's order
                penalties[k] += min(contract_end[person] - month, penalty_months) * firm_price[k]
        elif reason[i] == RENEWAL:
            contract_end[person] += firm_contract_months[firm[person]]
    leavers, old_firm = leavers[:n_leavers], old_firm[:n_leavers]
    for m in range(n_leavers):  # Customers.leave
        person = leavers[m]
        last_firm[person] = firm[person]
        left_month[person] = month
        loyalty_when_left[person] = loyalty[person]
        firm[person] = NO_FIRM
        initial_firm[person] = NO_FIRM
        contract_end[person] = NEVER
        tenure[person] = 0
    for m in range(n_leavers):  # each person's contacts who just left firm k, counted
        for t in range(indptr[leavers[m]], indptr[leavers[m] + 1]):
            count[indices[t], old_firm[m]] += 1
    # then, in one flat pass: fade, add the count (adding 0.0 to a count of zero changes no bit:
    # counts fade from +0.0 and never go below it), and leave the counts zero for next month
    fading, counted = peer_defections.ravel(), count.ravel()
    for i in range(fading.size):
        fading[i] = fading[i] * defection_memory + np.float64(counted[i])
        counted[i] = 0
    return leavers, old_firm, penalties, churned


# --- acquisition (sim.phases.acquisition) ---
@jit
def prospects_held_back(firm, left_month, month, attitude, attitude_on_joining):
    """The prospects this month (no firm, not left this month) and, per prospect and firm, the
    exponent of how much bad news holds them back: attitude_on_joining * min(attitude, 0)."""
    prospects = np.empty(firm.size, np.int64)
    count = 0
    for person in range(firm.size):  # without branches (module docstring)
        prospects[count] = person
        count += (firm[person] < 0) & (left_month[person] != month)
    exponent = np.empty((count, attitude.shape[1]))
    for i in range(count):
        for k in range(attitude.shape[1]):
            exponent[i, k] = attitude_on_joining * min(attitude[prospects[i], k], 0.0)
    return prospects[:count].copy(), exponent


@jit
def joiners(prospects, advertising, imitation, heard_positive, held_back, key):
    """The prospects who join a firm this month, with their Bass hazard per firm (advertising +
    imitation x referrals heard, x held back) and its imitation term: a prospect joins when a
    keyed draw falls below 1 - prod(1 - hazard). `acquisition.run`'s numpy expressions in the
    same order; only the joiners' rows are kept."""
    m, n_firms = prospects.size, advertising.size
    draw = uniform(prospects, key)  # apart: a loop of draws alone runs several at a time
    chosen = np.empty(m, np.int64)
    count = 0
    for i in range(m):  # who joins, without keeping anyone's rows (few join)
        stay = 1.0
        for k in range(n_firms):
            row_heard = imitation * heard_positive[prospects[i], k]
            row_hazard = min(max((advertising[k] + row_heard) * held_back[i, k], 0.0), 1.0)
            stay = (1.0 - row_hazard) if k == 0 else stay * (1.0 - row_hazard)
        chosen[count] = i
        count += draw[i] < 1.0 - stay
    people, hazard, heard = np.empty(count, np.int64), np.empty((count, n_firms)), np.empty((count, n_firms))
    for j in range(count):  # the joiners' rows, computed again the same way
        i = chosen[j]
        people[j] = prospects[i]
        for k in range(n_firms):
            heard[j, k] = imitation * heard_positive[prospects[i], k]
            hazard[j, k] = min(max((advertising[k] + heard[j, k]) * held_back[i, k], 0.0), 1.0)
    return people, hazard, heard


@jit
def joined_firms(people, hazard, heard, advertising, which_key, channel_key):
    """Which firm each joiner joins (a keyed draw on the cumulative hazards; with one firm, no
    draw) and through which channel (referral with the imitation term's share of the hazard's
    terms, else advertising): `acquisition.run`'s numpy expressions in the same order."""
    n_firms = advertising.size
    firm, channel = np.zeros(people.size, np.int64), np.empty(people.size, np.int64)
    for i in range(people.size):
        if n_firms > 1:
            total = 0.0
            for k in range(n_firms):  # np.cumsum's order
                total += hazard[i, k]
            u = keyed_uniform(people[i], which_key) * total
            cumulative, chosen = 0.0, 0
            for k in range(n_firms):
                cumulative += hazard[i, k]
                chosen += u >= cumulative
            firm[i] = min(chosen, n_firms - 1)
        k = firm[i]
        share = heard[i, k] / (heard[i, k] + advertising[k] + 1e-12)
        channel[i] = REFERRAL if keyed_uniform(people[i], channel_key) < share else ADVERTISING
    return firm, channel


@jit
def join(people, new_firm, new_channel, month, firm_quality, firm_contract_months, referred_loyalty,
         usual_loyalty, firm, tenure, channel, contract_end, expectation, satisfaction, temperament, loyalty, failures,
         grievance, last_referral):
    """`Customers.join`'s arrays (not the policies' states), in place."""
    for i in range(people.size):
        person, k = people[i], new_firm[i]
        firm[person] = k
        tenure[person] = 0
        channel[person] = new_channel[i]
        months = firm_contract_months[k]
        contract_end[person] = month + months if months > 0 else NEVER
        expectation[person] = firm_quality[k]
        satisfaction[person] = temperament[person]
        loyalty[person] = referred_loyalty if new_channel[i] == REFERRAL else usual_loyalty
        failures[person] = 0
        grievance[person] = 0.0
        last_referral[person] = NEVER


# --- accounting (sim.phases.accounting) ---
@jit
def subscriptions(members, firm, firm_price, unit_cost_share):
    """Per firm, the month's subscriptions (each member pays their firm's price) and cost to serve
    (`unit_cost_share` x that price), added member by member in order, as np.bincount adds."""
    revenue, cost = np.zeros(firm_price.size), np.zeros(firm_price.size)
    for person in members:
        k = firm[person]
        revenue[k] += firm_price[k]
        cost[k] += unit_cost_share * firm_price[k]
    return revenue, cost


# --- the monthly metrics (sim.metrics) ---
@jit
def customers_by_firm(firm, n_firms):
    """How many customers each firm has (as floats, like np.bincount(...).astype(float))."""
    count = np.zeros(n_firms)
    for k in range(n_firms):  # a pass per firm, summing in a local integer: several people at a time
        mine = 0
        for person in range(firm.size):
            mine += firm[person] == k
        count[k] = mine
    return count


@jit
def firm_sums(firm, initial_firm, satisfaction, loyalty, mood_bins, n_firms, loyal_above, promoter_from,
              passive_from):
    """Per firm: customers, the customers in each of the four moods (satisfaction against the three
    `mood_bins`, as np.searchsorted side='right'), the sums of satisfaction and loyalty (customer
    by customer in order, the order np.bincount adds in), how many of the month-0 customers are
    still there, and the promoters and detractors (the loyal, or satisfaction from
    `promoter_from`; not loyal and satisfaction below `passive_from`: `metrics.score_thresholds`).
    Counts are whole numbers, exact in any order: a pass per firm sums them in local integers,
    which the compiler sums several people at a time."""
    moods = np.zeros((n_firms, 4), np.int64)
    customers, promoters, detractors, retained = (np.zeros(n_firms), np.zeros(n_firms), np.zeros(n_firms),
                                                  np.zeros(n_firms))
    low, middle, high = mood_bins[0], mood_bins[1], mood_bins[2]
    for k in range(n_firms):
        mine_total = promoted = detracted = stayed = mood_0 = mood_1 = mood_2 = mood_3 = 0
        for person in range(firm.size):
            mine = firm[person] == k
            value = satisfaction[person]
            is_loyal = loyalty[person] >= loyal_above
            mood = np.int64(low <= value) + np.int64(middle <= value) + np.int64(high <= value)
            mine_total += mine
            promoted += mine & (is_loyal | (value >= promoter_from))
            detracted += mine & (not is_loyal) & (value < passive_from)
            mood_0 += mine & (mood == 0)
            mood_1 += mine & (mood == 1)
            mood_2 += mine & (mood == 2)
            mood_3 += mine & (mood == 3)
            stayed += initial_firm[person] == k
        customers[k], promoters[k], detractors[k], retained[k] = mine_total, promoted, detracted, stayed
        moods[k, 0], moods[k, 1], moods[k, 2], moods[k, 3] = mood_0, mood_1, mood_2, mood_3
    satisfied, loyal = np.zeros(n_firms), np.zeros(n_firms)
    members = members_of(firm)
    for i in range(members.size):  # floating-point sums: in person order
        person = members[i]
        satisfied[firm[person]] += satisfaction[person]
        loyal[firm[person]] += loyalty[person]
    return customers, moods, satisfied, loyal, retained, promoters, detractors


# --- the network (sim.network) ---
# `sim.network.from_edges` builds its CSR arrays with these in O(ties), where numpy sorts every tie
# twice (np.unique, then a stable argsort). The caller allocates the arrays with numpy, which asks
# for huge pages, and the kernels reuse them in place: at ten million people, first touching fresh
# memory is much of the cost. A row's entry packs contact * 2 + strong in an int32 (contacts are
# below 2**30): one array to lay out, sort and compact, which then becomes the CSR's indices.

_SHORT_ROW = 32  # rows up to this many entries are sorted by insertion; longer ones (hubs) by merge sort


@jit
def count_ties(n, a, b, start):
    """Row starts: start[p] is where person p's row begins, start[n] the total. A tie has an
    entry in both its rows, a self-tie in none. `start` comes zeroed."""
    for e in range(a.size):
        u, v = a[e], b[e]
        if u < 0 or u >= n or v < 0 or v >= n:
            raise ValueError("from_edges: a tie names a person outside 0..n-1")
        if u != v:
            start[u + 1] += 1
            start[v + 1] += 1
    for person in range(n):
        start[person + 1] += start[person]


@jit
def lay_ties(a, b, strong, start, entry):
    """Every tie into both its rows, in input order. Each row's start moves up as it fills, so
    afterwards start[p] is where row p ends (and row p begins where row p - 1 ends)."""
    for e in range(a.size):
        u, v = a[e], b[e]
        if u != v:
            tie = 1 if strong[e] else 0
            entry[start[u]] = v * 2 + tie
            start[u] += 1
            entry[start[v]] = u * 2 + tie
            start[v] += 1


@jit
def sort_rows(ends, entry):
    """Each row's contacts in increasing order, repeats dropped keeping the first in input order
    (a stable sort: as np.unique's return_index, a duplicate tie keeps its first strength). Rows
    are compacted to the front of `entry` (safe in place: rows only shrink, so the write position
    never passes the row being read), and `ends` (where each row ends, from `lay_ties`) becomes
    the CSR's indptr. Returns the number of entries kept."""
    n = ends.size - 1
    out = 0
    lo = 0
    for person in range(n):
        hi = ends[person]
        if hi - lo <= _SHORT_ROW:
            for i in range(lo + 1, hi):  # insertion sort on the contact: stable
                key = entry[i]
                j = i - 1
                while j >= lo and (entry[j] >> 1) > (key >> 1):
                    entry[j + 1] = entry[j]
                    j -= 1
                entry[j + 1] = key
            row = entry[lo:hi]
        else:
            row = entry[lo:hi][np.argsort(entry[lo:hi] >> 1, kind="mergesort")]  # a copy: a hub's row
        last = -1
        for i in range(row.size):
            if (row[i] >> 1) != last:
                last = row[i] >> 1
                entry[out] = row[i]
                out += 1
        ends[person] = out
        lo = hi
    for person in range(n, 0, -1):  # kept ends, shifted by one: indptr
        ends[person] = ends[person - 1]
    ends[0] = 0
    return out


@jit
def split_ties(entry, kept, strong):
    """The first `kept` packed entries into contacts (in place) and strengths."""
    for i in range(kept):
        strong[i] = (entry[i] & 1) != 0
        entry[i] >>= 1


@jit
def ring_lattice(n, half, source, target):
    """The small world's ring before rewiring, as np.tile(arange(n), half) and
    (source + step) % n: person i's ties to i+1..i+half, around the ring."""
    for step in range(1, half + 1):
        base = (step - 1) * n
        for i in range(n):
            contact = i + step
            while contact >= n:  # (i + step) % n without a division
                contact -= n
            source[base + i] = i
            target[base + i] = contact


@jit
def preferential_targets(m, uniform, source, target):
    """Barabasi-Albert ties from the draws of `sim.network.scale_free`, in one pass: tie t copies
    entry pick < 2t + 1 of the edge sequence M; an even entry is a source, an odd one the target
    of an earlier tie, already known (where the numpy version's pointer jumping ends)."""
    for tie in range(uniform.size):
        source[tie] = tie // m
        pick = np.int64(uniform[tie] * np.float64(2 * tie + 1))
        if pick % 2 == 0:
            target[tie] = (pick // 2) // m
        else:
            target[tie] = target[pick // 2]
