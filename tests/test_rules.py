"""Each rule of the model in isolation, with parameters set so that only that rule is at work.

Markets start `PRISTINE` (no warm-up) unless a rule needs a history: everyone then sits at
their temperament, expects exactly the firm's quality and has heard nothing yet.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.customers import ADVERTISING, CAUSES, CHANNELS, CONTACT, NO_FIRM, PRICE, QUALITY, REFERRAL
from sim.phases.churn import monthly_hazard
from sim.phases.word_of_mouth import negative_reach, sample_contacts

from conftest import NOBODY_MOVES, PRISTINE, last_month, make_market, members, run_months

# Month-1 talk with nothing else going on: no positive talk, equal tie weights.
TALK_ONLY = dict(
    **PRISTINE,
    **NOBODY_MOVES,
    referral_probability=0.0,
    strong_tie_weight=1.0,
    weak_tie_weight=1.0,
    negative_talk_probability=1.0,
    quality_talk_share=1.0,  # whatever made them unhappy
    asked_contacts=0,  # unprompted talk only; asked-for word of mouth has its own tests
)


def unhappy_talkers(market) -> int:
    """People who became unhappy this month and told peers (nobody left, so all still customers)."""
    return int(np.count_nonzero(market.customers.talks_negative & market.customers.is_customer))


# --- word of mouth: who talks, to how many -----------------------------------------


def test_unhappy_talkers_reach_between_min_and_max_peers_when_they_have_that_many_contacts():
    market = make_market(
        **TALK_ONLY, network="small_world", mean_degree=30, rewiring=0.0,
        negative_reach_min=10, negative_reach_max=15, failure_rate=0.3,
    ).run(1)
    talkers = unhappy_talkers(market)
    messages = last_month(market)["messages_negative"]
    assert talkers > 10
    assert 10 * talkers <= messages <= 15 * talkers
    assert 11 * talkers < messages < 14 * talkers  # spread over the range, not stuck at one end


def test_every_talker_reaches_a_number_of_distinct_contacts_within_the_range():
    market = make_market(network="small_world", mean_degree=30, rewiring=0.2)
    talkers = np.arange(0, 400, 7)
    counts = market.streams.integers("test", 1, talkers, 10, 15)
    sender, listener, strong = sample_contacts(market, talkers, counts, "test_listeners")
    told = np.bincount(sender, minlength=talkers.size)
    np.testing.assert_array_equal(told, np.minimum(counts, market.network.degree[talkers]))
    for i, person in enumerate(talkers):
        heard = listener[sender == i]
        assert np.unique(heard).size == heard.size  # nobody is told twice
        assert set(heard.tolist()) <= set(market.network.contacts(person).tolist())


def test_unhappy_talkers_with_fewer_contacts_tell_all_their_contacts():
    market = make_market(
        **TALK_ONLY, network="small_world", mean_degree=4, rewiring=0.0,
        negative_reach_min=10, negative_reach_max=15, failure_rate=0.3,
    ).run(1)
    talkers = unhappy_talkers(market)
    assert talkers > 10
    assert last_month(market)["messages_negative"] == 4 * talkers


def test_a_fixed_reach_tells_exactly_that_many_peers():
    market = make_market(
        **TALK_ONLY, network="small_world", mean_degree=30, rewiring=0.0,
        negative_reach_min=12, negative_reach_max=12, failure_rate=0.3,
    ).run(1)
    assert last_month(market)["messages_negative"] == 12 * unhappy_talkers(market)


def test_geometric_reach_keeps_the_mean_and_has_the_surveys_heavy_tail():
    # Wharton/Verde 2006 among those who told: about 4 people on average, a quarter told one,
    # about a fifth six or more; uniform 1..7 has the mean but not the shape
    market = make_market(negative_reach_min=1, negative_reach_max=7, negative_reach_distribution="geometric")
    reach = negative_reach(market, np.arange(200_000))
    assert reach.min() == 1 and reach.max() > 20
    assert reach.mean() == pytest.approx(4.0, abs=0.05)
    assert (reach == 1).mean() == pytest.approx(0.25, abs=0.01)
    assert (reach >= 6).mean() == pytest.approx(0.75 ** 5, abs=0.01)


def test_geometric_reach_from_a_fixed_point_is_that_point():
    market = make_market(negative_reach_min=12, negative_reach_max=12, negative_reach_distribution="geometric")
    assert np.all(negative_reach(market, np.arange(1000)) == 12)


def test_only_the_newly_dissatisfied_talk_and_only_with_negative_talk_probability():
    market = make_market(**{**TALK_ONLY, "negative_talk_probability": 0.0}, failure_rate=0.5).run(3)
    frame = market.monthly()
    assert frame["dissatisfied"].iloc[-1] > 0
    assert frame["messages_negative"].sum() == 0


@pytest.mark.parametrize("mood", ["neutral", "satisfied"])
def test_neutral_and_merely_satisfied_customers_tell_nobody(defaults, mood):
    # Service exactly as expected: everyone stays at their temperament, which sits in the
    # middle of one mood band; nobody is loyal (loyalty 0, no growth).
    low, high = {
        "neutral": (defaults.dissatisfied_below, defaults.satisfied_above),
        "satisfied": (defaults.satisfied_above, defaults.delighted_above),
    }[mood]
    market = make_market(
        **PRISTINE, **NOBODY_MOVES,
        temperament_mean=(low + high) / 2, temperament_spread=0.0,
        quality_noise=0.0, failure_rate=0.0,
        initial_loyalty_mean=0.0, loyalty_growth=0.0, referred_loyalty_bonus=0.0,
        referral_probability=1.0, negative_talk_probability=1.0,
        asked_contacts=0,  # unprompted: when asked, the satisfied do speak (tests of asked talk)
    ).run(6)
    frame = market.monthly()
    assert (frame[mood].iloc[1:] == frame["customers"].iloc[1:]).all()
    assert frame["messages_positive"].sum() == 0
    assert frame["messages_negative"].sum() == 0
    assert np.all(market.customers.attitude == 0)


def test_delighted_customers_recommend_their_firm(defaults):
    market = make_market(
        **PRISTINE, **NOBODY_MOVES,
        temperament_mean=(defaults.delighted_above + 1) / 2, temperament_spread=0.0,
        quality_noise=0.0, failure_rate=0.0, initial_loyalty_mean=0.0, loyalty_growth=0.0,
        referral_probability=1.0, referral_reach=2, mean_degree=10, rewiring=0.0,
    ).run(1)
    month = last_month(market)
    assert month["messages_positive"] == 2 * month["customers"]
    assert month["messages_negative"] == 0
    assert market.customers.attitude.max() > 0


def test_loyal_customers_recommend_their_firm_even_when_not_delighted(defaults):
    market = make_market(
        **PRISTINE, **NOBODY_MOVES,
        temperament_mean=(defaults.satisfied_above + defaults.delighted_above) / 2, temperament_spread=0.0,
        quality_noise=0.0, failure_rate=0.0, initial_loyalty_mean=1.0, loyalty_growth=0.0,
        loyal_above=0.9, referral_probability=1.0, referral_reach=2, mean_degree=10, rewiring=0.0,
    ).run(1)
    month = last_month(market)
    assert month["delighted"] == 0
    assert month["messages_positive"] == 2 * month["customers"]


# --- what talk does to attitudes ------------------------------------------------------


def test_hearing_negative_talk_lowers_attitude_toward_the_firm():
    market = make_market(**TALK_ONLY, failure_rate=0.3, defence_damping=0.0).run(1)
    attitude = market.customers.attitude[:, 0]
    assert last_month(market)["messages_negative"] > 0
    assert attitude.min() < 0
    assert attitude.max() == 0  # nothing positive was said
    # only contacts of someone who talked can have heard anything
    talkers = np.flatnonzero(market.customers.talks_negative)
    reached = np.zeros(market.customers.n, bool)
    for person in talkers:
        reached[market.network.contacts(person)] = True
    assert not np.any((attitude < 0) & ~reached)


def test_without_negative_talk_attitudes_stay_neutral():
    market = make_market(**{**TALK_ONLY, "negative_talk_probability": 0.0}, failure_rate=0.3).run(1)
    assert np.all(market.customers.attitude == 0)


def test_each_negative_message_moves_attitude_by_its_weight():
    # Equal tie weights, no defence, weights small enough that nothing clips.
    weight = 0.01
    market = make_market(**TALK_ONLY, failure_rate=0.3, defence_damping=0.0,
                         negative_message_weight=weight).run(1)
    heard = market.customers.attitude[:, 0].sum()
    assert heard == pytest.approx(-weight * last_month(market)["messages_negative"])


def test_strong_ties_carry_more_weight_than_weak_ties():
    settings = dict(**{**TALK_ONLY, "strong_tie_weight": 1.0, "weak_tie_weight": 0.0},
                    failure_rate=0.3, defence_damping=0.0, network="small_world", rewiring=0.5)
    market = make_market(**settings).run(1)
    net = market.network
    weak_only = np.array([not net.strong[net.indptr[i]:net.indptr[i + 1]].any() for i in range(net.n)])
    attitude = market.customers.attitude[:, 0]
    assert attitude.min() < 0
    assert np.all(attitude[weak_only] == 0)  # messages over weak ties weigh nothing here


# --- second-hand bad news: rejecters pass it on (Goldenberg et al. 2007) ---------------


def test_by_default_nobody_passes_bad_news_on():
    market = make_market(**TALK_ONLY, failure_rate=0.3)
    market.customers.attitude[:, 0] = -1.0  # everyone a rejecter
    market.step()
    assert last_month(market)["messages_relayed"] == 0


def test_rejecters_pass_bad_news_on_to_their_contacts():
    reach, weight = 2, 0.01
    market = make_market(**{**TALK_ONLY, "negative_talk_probability": 0.0}, failure_rate=0.0, defence_damping=0.0,
                         relay_probability=1.0, relay_reach=reach, rejecter_attitude=0.5,
                         negative_message_weight=weight, attitude_memory=1.0)
    c = market.customers
    prospects = np.flatnonzero(~c.is_customer)
    rejecters, customers = prospects[:50], members(market)[:50]
    c.attitude[rejecters, 0] = c.attitude[customers, 0] = -0.5  # at the threshold
    c.attitude[prospects[50:100], 0] = -0.49  # not quite
    before = c.attitude[:, 0].copy()
    market.step()
    month = last_month(market)
    # only outsiders relay (the firm's own customers are not its rejecters), each to `reach` contacts
    assert month["messages_relayed"] == rejecters.size * reach == month["messages_negative"]
    assert (before - c.attitude[:, 0]).sum() == pytest.approx(weight * month["messages_relayed"])


def test_relayed_bad_news_spreads_beyond_those_who_were_let_down():
    settings = dict(**TALK_ONLY, failure_rate=0.0, quality_noise=0.0, temperament_spread=0.0,
                    poorly_served_share=0.02, attitude_memory=1.0, n_people=2000)
    quiet = run_months(make_market(**settings), 12).customers.attitude[:, 0]
    relayed = run_months(make_market(**settings, relay_probability=0.3, relay_reach=3), 12).customers.attitude[:, 0]
    assert (relayed < 0).sum() > 2 * (quiet < 0).sum() > 0


# --- the poorly served --------------------------------------------------------------


def test_the_poorly_served_meet_a_failure_every_month_and_no_one_else_does():
    market = make_market(**PRISTINE, failure_rate=0.0, poorly_served_share=0.1, n_people=4000)
    c = market.customers
    assert 0.08 < c.poorly_served.mean() < 0.12
    customers = c.is_customer.copy()  # those who use the service this month
    market.step()
    assert c.poorly_served[customers].any()
    assert np.array_equal(c.failed[customers], c.poorly_served[customers])


def test_drawing_the_poorly_served_shifts_no_one_elses_luck():
    # their own keyed stream: the same network, temperaments and firms as a market without them
    plain = make_market(**PRISTINE, n_people=2000)
    flawed = make_market(**PRISTINE, n_people=2000, poorly_served_share=0.1)
    assert not plain.customers.poorly_served.any() and flawed.customers.poorly_served.sum() > 100
    np.testing.assert_array_equal(plain.customers.temperament, flawed.customers.temperament)
    np.testing.assert_array_equal(plain.customers.firm, flawed.customers.firm)
    np.testing.assert_array_equal(plain.network.indices, flawed.network.indices)


# --- defence by loyal customers -------------------------------------------------------

LOYAL_BASE = dict(
    **TALK_ONLY,
    failure_rate=0.3,
    initial_loyalty_mean=0.5,
    loyal_above=0.9,  # a few loyal customers: some listeners have one among their contacts, most not
    negative_message_weight=0.01,
)


def test_loyal_contacts_defend_the_firm_against_negative_talk():
    market = make_market(**LOYAL_BASE).run(1)
    month = last_month(market)
    assert month["messages_negative"] > 0
    assert 0 < month["messages_defended"] < month["messages_negative"]


def test_defence_removes_defence_damping_of_each_defended_message():
    damping = 0.6
    market = make_market(**LOYAL_BASE, defence_damping=damping).run(1)
    month = last_month(market)
    heard = market.customers.attitude[:, 0].sum()
    felt = month["messages_negative"] - damping * month["messages_defended"]
    assert heard == pytest.approx(-LOYAL_BASE["negative_message_weight"] * felt)


def test_attitudes_fall_less_when_loyal_customers_surround_the_listeners():
    damped = make_market(**LOYAL_BASE, defence_damping=0.8).run(1)
    undamped = make_market(**LOYAL_BASE, defence_damping=0.0).run(1)
    # the same people talked to the same people (common random numbers) ...
    assert last_month(damped)["messages_negative"] == last_month(undamped)["messages_negative"]
    # ... but the defended talk hurt less
    assert damped.customers.attitude.mean() > undamped.customers.attitude.mean()


def test_without_defence_damping_loyal_neighbours_change_nothing():
    market = make_market(**LOYAL_BASE, defence_damping=0.0).run(1)
    month = last_month(market)
    assert month["messages_defended"] > 0  # they were there ...
    heard = market.customers.attitude[:, 0].sum()
    assert heard == pytest.approx(-LOYAL_BASE["negative_message_weight"] * month["messages_negative"])  # ... to no avail


def test_nobody_defends_a_firm_that_has_no_loyal_customers():
    market = make_market(**{**LOYAL_BASE, "initial_loyalty_mean": 0.0},
                         loyalty_growth=0.0, defence_damping=1.0).run(1)
    month = last_month(market)
    assert month["messages_negative"] > 0
    assert month["messages_defended"] == 0


# --- churn -------------------------------------------------------------------------


def test_a_defecting_neighbour_raises_the_churn_hazard_of_a_typical_customer_by_the_cited_effect(defaults):
    # Nitzan & Libai (2011): one defecting neighbour raises a customer's hazard by
    # peer_defection_effect (about 80%); a customer of average loyalty feels exactly that.
    market = make_market(**PRISTINE, contract_months=0)
    people = members(market)
    market.customers.loyalty[people] = defaults.initial_loyalty_mean
    before = monthly_hazard(market, people)
    market.customers.peer_defections[people] = 1.0
    after = monthly_hazard(market, people)
    uncapped = after < 1
    assert uncapped.any()
    np.testing.assert_allclose(after[uncapped], (1 + defaults.peer_defection_effect) * before[uncapped])


def test_a_defecting_neighbour_raises_everyones_churn_hazard_except_the_fully_loyal():
    market = make_market(**PRISTINE, contract_months=0)
    people = members(market)
    before = monthly_hazard(market, people)
    market.customers.peer_defections[people] = 1.0
    after = monthly_hazard(market, people)
    loyalty = market.customers.loyalty[people]
    open_to_it = (loyalty < 1) & (before < 1)
    assert np.all(after[open_to_it] > before[open_to_it])
    assert np.all(after >= before)


def test_the_defection_effect_is_weaker_for_loyal_customers():
    market = make_market(**PRISTINE, peer_defection_effect=0.8)
    people = members(market)[:2]
    market.customers.loyalty[people] = [0.1, 0.9]
    before = monthly_hazard(market, people)
    market.customers.peer_defections[people] = 1.0
    ratio = monthly_hazard(market, people) / before
    assert ratio[0] > ratio[1] > 1


def test_without_peer_defection_effect_neighbours_leaving_changes_nothing():
    market = make_market(**PRISTINE, peer_defection_effect=0.0)
    people = members(market)
    before = monthly_hazard(market, people)
    market.customers.peer_defections[people] = 3.0
    np.testing.assert_array_equal(monthly_hazard(market, people), before)


def test_leavers_are_counted_as_defections_among_their_contacts_and_fade():
    market = make_market(**PRISTINE, contract_months=0, base_churn=0.2, imitation=0.0,
                         advertising=0.0, peer_defection_memory=0.5, n_people=1000)
    before = market.customers.firm.copy()
    market.step()
    left = (before != NO_FIRM) & ~market.customers.is_customer
    assert left.any()
    expected = market.network.count_among_contacts(left)
    np.testing.assert_allclose(market.customers.peer_defections[:, 0], expected)


def test_only_defections_from_ones_own_firm_raise_the_churn_hazard():
    # a contact who leaves a rival (perhaps to join one's own firm) is no reason to leave
    market = make_market(**PRISTINE, contract_months=0, firms=[{"name": "A"}, {"name": "B"}])
    people = members(market)
    own = market.customers.firm[people].astype(int)
    before = monthly_hazard(market, people)
    market.customers.peer_defections[people, 1 - own] = 1.0
    np.testing.assert_array_equal(monthly_hazard(market, people), before)
    market.customers.peer_defections[people, own] = 1.0
    after = monthly_hazard(market, people)
    open_to_it = (market.customers.loyalty[people] < 1) & (before < 1)
    assert np.all(after[open_to_it] > before[open_to_it])


def test_leavers_weigh_on_contacts_as_defections_from_the_firm_they_left():
    silent = {"advertising": 0.0}
    market = make_market(**PRISTINE, contract_months=0, base_churn=0.2, imitation=0.0, peer_defection_memory=0.5,
                         n_people=1000, firms=[{"name": "A", **silent}, {"name": "B", **silent}])
    before = market.customers.firm.copy()
    market.step()
    for k in (0, 1):
        left_k = (before == k) & (market.customers.left_month == market.month)
        assert left_k.any()
        np.testing.assert_allclose(market.customers.peer_defections[:, k], market.network.count_among_contacts(left_k))


def test_unhappy_customers_have_a_higher_churn_hazard():
    market = make_market(**PRISTINE)
    people = members(market)[:2]
    market.customers.satisfaction[people] = [0.9, 0.1]
    hazard = monthly_hazard(market, people)
    assert hazard[1] > hazard[0]


def test_a_remembered_grievance_raises_the_churn_hazard():
    market = make_market(**PRISTINE)
    people = members(market)[:1]
    before = monthly_hazard(market, people)
    market.customers.grievance[people] = 1.0
    assert monthly_hazard(market, people)[0] > before[0]


CONTRACTS = dict(**PRISTINE, contract_months=6, imitation=0.0, advertising=0.0, n_people=2000)


def test_contract_customers_leave_only_at_contract_end_unless_very_unhappy(defaults):
    market = make_market(**CONTRACTS, base_churn=0.3, failure_rate=0.3,
                         contract_break_probability=1.0)
    broke = 0
    for _ in range(8):
        contract_end = market.customers.contract_end.copy()
        firm_before = market.customers.firm.copy()
        market.step()
        c = market.customers
        left = (firm_before != NO_FIRM) & ~c.is_customer
        at_end = contract_end == market.month
        very_unhappy = c.satisfaction < defaults.contract_break_below
        assert np.all(at_end[left] | very_unhappy[left])
        broke += last_month(market)["churned_contract_break"]
        assert last_month(market)["churned_contract_break"] == np.count_nonzero(left & ~at_end)
    assert broke > 0


def test_contract_customers_never_break_a_contract_when_breaking_is_switched_off():
    market = make_market(**CONTRACTS, base_churn=0.5, failure_rate=0.5, contract_break_probability=0.0)
    for _ in range(6):
        contract_end = market.customers.contract_end.copy()
        firm_before = market.customers.firm.copy()
        market.step()
        left = (firm_before != NO_FIRM) & ~market.customers.is_customer
        assert np.all(contract_end[left] == market.month)
        assert last_month(market)["churned_contract_break"] == 0
    assert market.monthly()["churned_renewal"].sum() > 0


def test_customers_without_contract_may_leave_any_month():
    market = make_market(**{**CONTRACTS, "contract_months": 0}, base_churn=0.1).run(3)
    frame = market.monthly()
    assert (frame["churned_no_contract"].iloc[1:] > 0).all()
    assert frame["churned_renewal"].sum() == 0
    assert frame["churned_contract_break"].sum() == 0


def test_a_renewing_customer_gets_a_new_contract():
    market = make_market(**CONTRACTS, base_churn=0.0, contract_break_probability=0.0)
    ending = np.flatnonzero(market.customers.contract_end == 1)
    assert ending.size > 0
    market.step()
    assert market.customers.is_customer[ending].all()
    assert np.all(market.customers.contract_end[ending] == 1 + 6)


def test_contract_breakers_pay_the_penalty(defaults):
    price = 40.0
    market = make_market(**CONTRACTS, base_churn=0.0, failure_rate=0.6, price=price,
                         contract_break_probability=1.0, contract_break_penalty_months=2.0)
    paid = 0.0
    for _ in range(6):
        contract_end = market.customers.contract_end.copy()
        firm_before = market.customers.firm.copy()
        market.step()
        c = market.customers
        breakers = (firm_before != NO_FIRM) & ~c.is_customer & (contract_end != market.month)
        remaining = contract_end[breakers] - market.month
        expected = (np.minimum(remaining, 2.0) * price).sum()
        assert last_month(market)["revenue_penalties"] == pytest.approx(expected)
        paid += expected
    assert paid > 0


def test_leavers_switch_to_competitors_with_switching_propensity():
    firms = [sim.Firm(name="A", advertising=0.0), sim.Firm(name="B", advertising=0.0)]
    switching = make_market(**PRISTINE, firms=firms, contract_months=0, base_churn=0.2, imitation=0.0,
                            switching_propensity=5.0).run(1)
    leaving = make_market(**PRISTINE, firms=firms, contract_months=0, base_churn=0.2, imitation=0.0,
                          switching_propensity=0.0).run(1)
    assert switching.metrics["switched_out"].sum() > 0
    assert leaving.metrics["switched_out"].sum() == 0
    # a switcher is counted as a departure from one firm and an acquisition by the other
    assert switching.metrics["switched_out"].sum() == (
        switching.metrics["acquired_advertising"] + switching.metrics["acquired_referral"]
    ).sum()


# --- acquisition ----------------------------------------------------------------------


def test_acquisitions_are_recorded_by_channel_and_sum_to_the_joins():
    market = make_market(**PRISTINE, n_people=2000, initial_customer_share=0.2, advertising=0.05,
                         imitation=0.5, referral_probability=0.5, base_churn=0.05, contract_months=0,
                         policies=[sim.WinBackOffers(wait_months=1, acceptance=0.5)])
    seen = {name: 0.0 for name in CHANNELS[1:]}
    for _ in range(6):
        before = market.customers.firm.copy()
        market.step()
        c = market.customers
        joined = c.is_customer & (c.tenure == 0)  # tenure counts up at the start of a month
        assert np.count_nonzero(joined & (before != NO_FIRM)) == 0  # nobody rejoins the month they left
        month = last_month(market)
        for code, name in enumerate(CHANNELS):
            if name == "initial":
                assert np.count_nonzero(joined & (c.channel == code)) == 0
                continue
            assert month[f"acquired_{name}"] == np.count_nonzero(joined & (c.channel == code))
            seen[name] += month[f"acquired_{name}"]
        assert sum(month[f"acquired_{name}"] for name in seen) == np.count_nonzero(joined)
    assert all(count > 0 for count in seen.values()), seen


def test_table_channels_match_the_channel_codes():
    market = make_market(**PRISTINE, advertising=0.05, imitation=0.5).run(2)
    table = market.customer_table()
    customers = table[table["firm"] != "(prospect)"]
    assert set(customers["channel"]) <= set(CHANNELS)
    assert (customers["channel"] == "initial").any()
    assert customers["channel"].isin(["advertising", "referral"]).any()


def test_without_advertising_or_referrals_nobody_joins():
    market = make_market(**PRISTINE, advertising=0.0, imitation=0.0).run(4)
    frame = market.monthly()
    assert frame[["acquired_advertising", "acquired_referral", "acquired_win_back"]].to_numpy().sum() == 0


def test_advertising_alone_brings_customers_through_the_advertising_channel():
    market = make_market(**PRISTINE, advertising=0.1, imitation=0.0, base_churn=0.0).run(3)
    frame = market.monthly()
    assert frame["acquired_advertising"].sum() > 0
    assert frame["acquired_referral"].sum() == 0


def test_referred_customers_start_more_loyal_by_the_referral_bonus():
    bonus = 0.2
    market = make_market(**PRISTINE, n_people=2000, advertising=0.05, imitation=1.0, referral_probability=1.0,
                         referred_loyalty_bonus=bonus, initial_loyalty_mean=0.3).run(1)
    c = market.customers
    new = c.is_customer & (c.tenure == 0)
    referred = c.loyalty[new & (c.channel == REFERRAL)]
    advertised = c.loyalty[new & (c.channel == ADVERTISING)]
    assert referred.size > 0 and advertised.size > 0
    assert referred.mean() - advertised.mean() == pytest.approx(bonus)


def test_bad_news_holds_prospects_back_from_joining():
    market = make_market(**PRISTINE, advertising=0.2, imitation=0.0, attitude_on_joining=3.0)
    prospects = np.flatnonzero(~market.customers.is_customer)
    market.customers.attitude[prospects[: prospects.size // 2], 0] = -1.0
    hostile = np.zeros(market.customers.n, bool)
    hostile[prospects[: prospects.size // 2]] = True
    neutral = np.zeros(market.customers.n, bool)
    neutral[prospects[prospects.size // 2:]] = True
    market.step()
    joined = market.customers.is_customer
    assert joined[hostile].mean() < joined[neutral].mean() / 3


# --- satisfaction: expectation-disconfirmation ---------------------------------------

STEADY = dict(
    **PRISTINE, **NOBODY_MOVES,
    quality=0.6, quality_norm=0.6, quality_noise=0.0, failure_rate=0.0,
    performance_weight=0.0,  # disconfirmation in isolation; performance has its own test
    tolerance_zone=0.0,  # every difference is felt; the zone of tolerance has its own test
    temperament_mean=0.5, temperament_spread=0.0,
    disconfirmation_sensitivity=1.0, satisfaction_memory=0.5,
)


def surprise(delta: float, **settings):
    """A market whose service turns out `delta` better (or worse) than everyone expects."""
    market = make_market(**{**STEADY, **settings})
    market.firm_quality[:] += delta
    return market


def mean_satisfaction(market) -> float:
    return float(market.customers.satisfaction[members(market)].mean())


def test_met_expectations_keep_satisfaction_at_temperament():
    market = make_market(**STEADY).run(3)
    np.testing.assert_allclose(market.customers.satisfaction[members(market)], 0.5)


def test_a_better_service_keeps_customers_happier_even_once_it_is_expected(defaults):
    # performance above the category norm pleases in itself (Churchill & Surprenant 1982):
    # after a year expectations have caught up, yet the better firm's customers are happier
    settled = {**STEADY, "performance_weight": defaults.performance_weight}
    settled = {key: value for key, value in settled.items() if key != "quality"}
    good = make_market(**settled, quality=0.8).run(12)
    normal = make_market(**settled, quality=0.6).run(12)
    assert mean_satisfaction(good) > mean_satisfaction(normal) + 0.05


def test_losses_weigh_more_than_gains():
    aversion = 2.0
    better = surprise(+0.05, loss_aversion=aversion).run(1)
    worse = surprise(-0.05, loss_aversion=aversion).run(1)
    gain = mean_satisfaction(better) - 0.5
    loss = 0.5 - mean_satisfaction(worse)
    assert gain > 0 and loss > 0
    assert loss == pytest.approx(aversion * gain)


def test_without_loss_aversion_gains_and_losses_weigh_the_same():
    better = surprise(+0.05, loss_aversion=1.0).run(1)
    worse = surprise(-0.05, loss_aversion=1.0).run(1)
    assert mean_satisfaction(better) - 0.5 == pytest.approx(0.5 - mean_satisfaction(worse))


def test_expectations_adapt_so_a_repeated_surprise_fades():
    market = surprise(+0.1, expectation_adaptation=0.3)
    lift = []
    for _ in range(24):
        market.step()
        lift.append(mean_satisfaction(market) - 0.5)
    assert lift[0] > 0
    assert max(lift) > 5 * lift[-1]  # the surprise fades ...
    assert lift[-1] < 0.01
    np.testing.assert_allclose(market.customers.expectation[members(market)], 0.7, atol=0.01)  # ... as expectations catch up


def test_without_adaptation_a_repeated_surprise_keeps_pleasing():
    market = surprise(+0.1, expectation_adaptation=0.0)
    market.step()
    first = mean_satisfaction(market)
    run_months(market, 12)
    assert mean_satisfaction(market) >= first
    assert mean_satisfaction(market) > 0.55


def test_a_failure_takes_away_failure_severity_of_satisfaction_less_what_loyalty_forgives():
    market = make_market(**{**STEADY, "failure_rate": 1.0}, failure_severity=0.6, forgiveness=0.8,
                         complaint_probability=0.0)
    people = members(market)
    half = people.size // 2
    market.customers.loyalty[people[:half]] = 0.0
    market.customers.loyalty[people[half:]] = 1.0
    market.step()
    s = market.customers.satisfaction
    np.testing.assert_allclose(s[people[:half]], 0.5 * (1 - 0.6))  # a share of what they felt, not an amount
    np.testing.assert_allclose(s[people[half:]], 0.5 * (1 - 0.6 * (1 - 0.8)))
    assert market.customers.grievance[people[half:]].max() < market.customers.grievance[people[:half]].min()


def test_at_equal_failures_loyal_customers_lose_less_satisfaction_and_few_hit_the_floor():
    # issue 12: with the failure as an amount of quality, 97.5% of failures drove satisfaction to
    # the floor, so forgiveness had nothing left to soften; as a share, loyalty visibly protects
    market = make_market(failure_rate=1.0, n_people=4000, complaint_probability=0.0)
    c = market.customers
    people = members(market)
    loyal = np.arange(people.size) % 2 == 0  # the same mix of moods on both sides
    disloyal = ~loyal
    c.loyalty[people[loyal]], c.loyalty[people[disloyal]] = 0.9, 0.1
    before = c.satisfaction[people].copy()
    market.step()
    lost = before - c.satisfaction[people]
    assert lost[loyal].mean() < 0.8 * lost[disloyal].mean()
    assert np.mean(c.satisfaction[people] < 0.05) < 0.05


def test_without_forgiveness_loyalty_does_not_soften_a_failure():
    market = make_market(**{**STEADY, "failure_rate": 1.0}, failure_severity=0.6, forgiveness=0.0)
    people = members(market)
    market.customers.loyalty[people[: people.size // 2]] = 0.0
    market.customers.loyalty[people[people.size // 2:]] = 1.0
    market.step()
    np.testing.assert_allclose(market.customers.satisfaction[people], market.customers.satisfaction[people[0]])


def test_loyalty_grows_while_satisfied_and_erodes_while_unhappy(defaults):
    happy = make_market(**{**STEADY, "temperament_mean": 0.95}, initial_loyalty_mean=0.3).run(1)
    unhappy = make_market(**{**STEADY, "temperament_mean": 0.05}, initial_loyalty_mean=0.3).run(1)
    start = make_market(**STEADY, initial_loyalty_mean=0.3)
    base = start.customers.loyalty[members(start)].mean()
    assert happy.customers.loyalty[members(happy)].mean() > base
    assert unhappy.customers.loyalty[members(unhappy)].mean() < base


def test_a_failure_brings_a_complaint_from_complaint_probability_of_the_unhappy():
    market = make_market(**PRISTINE, **NOBODY_MOVES, n_people=3000, failure_rate=1.0,
                         complaint_probability=0.3, failure_severity=1.0).run(1)
    c = market.customers
    unhappy_failed = c.failed & (c.satisfaction < market.parameters.dissatisfied_below) & c.is_customer
    assert unhappy_failed.sum() > 300
    assert c.complained.sum() == last_month(market)["complaints"]
    assert not np.any(c.complained & ~unhappy_failed)
    assert c.complained.sum() / unhappy_failed.sum() == pytest.approx(0.3, abs=0.05)


def test_an_unhappy_loyal_customer_does_not_defend_the_firm_against_their_own_complaints():
    # Loyal customers spaced far apart on a ring lattice turn unhappy and talk; their
    # listeners have no other loyal contact, so nobody is there to defend the firm.
    market = make_market(
        **TALK_ONLY, network="small_world", mean_degree=10, rewiring=0.0, n_people=1000,
        negative_reach_min=10, negative_reach_max=15,
        initial_customer_share=1.0, failure_rate=0.0, quality_noise=0.0,
        temperament_mean=0.7, temperament_spread=0.0, satisfaction_memory=0.5,
        dissatisfied_below=0.4, loyal_above=0.7, defence_damping=1.0,
    )
    c = market.customers
    c.loyalty[:] = 0.0
    talkers = np.arange(0, 1000, 50)  # 50 apart: no two within each other's reach
    c.loyalty[talkers] = 1.0
    c.temperament[talkers] = 0.0  # their month disappoints them: 0.5 * 0.7 + 0.5 * 0 < 0.4
    market.step()
    assert c.talks_negative[talkers].all()
    assert c.loyalty[talkers].min() >= 0.7  # still loyal after one bad month
    month = last_month(market)
    assert month["messages_negative"] == 10 * talkers.size
    assert month["messages_defended"] == 0


# --- where bad news comes from: the causes of dissatisfaction (issue 12) ------------------


def negative_by_cause(market) -> dict[str, float]:
    frame = market.monthly()
    causes = [f"messages_negative_{cause}" for cause in CAUSES] + ["messages_relayed"]
    return {name: float(frame[name].sum()) for name in ["messages_negative", *causes]}


def test_a_difference_inside_the_zone_of_tolerance_is_not_felt():
    inside = surprise(-0.05, tolerance_zone=0.1, loss_aversion=2.0).run(1)
    beyond = surprise(-0.15, tolerance_zone=0.1, loss_aversion=2.0).run(1)
    np.testing.assert_allclose(inside.customers.satisfaction[members(inside)], 0.5)
    # only what lies beyond the zone is felt: 0.05 below it, weighed by loss aversion, half remembered
    np.testing.assert_allclose(beyond.customers.satisfaction[members(beyond)], 0.5 - 0.5 * 2.0 * 0.05)


def test_negative_messages_are_counted_by_cause_and_the_causes_add_up():
    market = make_market(n_people=2000, relay_probability=0.2, months=24,
                         policies=["Upsell(target='everyone')", "RetentionOffers"]).run()
    counts = negative_by_cause(market)
    frame = market.monthly()
    parts = frame[[f"messages_negative_{cause}" for cause in CAUSES] + ["messages_relayed"]].sum(axis=1)
    np.testing.assert_array_equal(parts, frame["messages_negative"])
    assert all(counts[name] > 0 for name in counts), counts  # every cause happens in this market


def test_without_failures_little_bad_news_remains_and_without_quality_noise_none():
    default = negative_by_cause(make_market(n_people=3000).run())
    no_failures = negative_by_cause(make_market(n_people=3000, failure_rate=0.0).run())
    neither = negative_by_cause(make_market(n_people=3000, failure_rate=0.0, quality_noise=0.0).run())
    assert default["messages_negative_failure"] > default["messages_negative_quality"]  # problems come first
    assert no_failures["messages_negative_failure"] == 0
    assert 0 < no_failures["messages_negative"] < default["messages_negative"] / 3
    assert neither["messages_negative"] == 0


def test_dissatisfaction_without_a_problem_is_talked_about_quality_talk_share_as_often():
    # the temperament of half the people makes their month a disappointment with no failure
    def talkers(share):
        market = make_market(**PRISTINE, **NOBODY_MOVES, n_people=4000, initial_customer_share=1.0,
                             failure_rate=0.0, quality_noise=0.0, negative_talk_probability=0.8,
                             quality_talk_share=share)
        c = market.customers
        c.temperament[::2] = 0.0
        market.step()
        newly = (c.satisfaction < market.parameters.dissatisfied_below) & (c.satisfaction_before >= 0.4)
        assert np.all(c.talk_cause[newly] == QUALITY)
        return c.talks_negative[newly].mean()

    assert talkers(1.0) == pytest.approx(0.8, abs=0.03)
    assert talkers(0.25) == pytest.approx(0.8 * 0.25, abs=0.03)
    assert talkers(0.0) == 0


def test_a_discount_that_ends_is_felt_as_a_price_rise_and_its_talk_is_counted_as_price():
    market = make_market(**{**STEADY, "temperament_mean": 0.45}, n_people=2000, initial_customer_share=1.0,
                         policies=["RetentionOffers"], negative_talk_probability=1.0)
    c = market.customers
    ending = members(market)[::2]
    c.discount[ending], c.discount_until[ending] = 0.3, market.month + 1  # the coming month is the last discounted
    market.step()  # still discounted: nothing felt
    np.testing.assert_allclose(c.satisfaction[members(market)], 0.45)
    market.step()  # the full price again
    rest = np.setdiff1d(members(market), ending)
    np.testing.assert_allclose(c.satisfaction[rest], 0.45)
    assert np.all(c.satisfaction[ending] < 0.4)
    assert np.all(c.talk_cause[ending] == PRICE) and c.talks_negative[ending].all()
    assert last_month(market)["messages_negative_price"] == last_month(market)["messages_negative"] > 0


# --- upsell backfire talks (issue 12, point 2) ------------------------------------------


def test_customers_an_upsell_pushes_into_dissatisfaction_tell_peers():
    # everyone sits at 0.45, neither unhappy nor satisfied; a push costs 0.1 and lands them below 0.4
    settings = dict(**{**STEADY, "temperament_mean": 0.45}, n_people=1000, initial_customer_share=1.0,
                    negative_talk_probability=1.0, asked_contacts=0)
    pushed = make_market(**settings, policies=["Upsell(target='everyone', every_months=1, backfire=0.1)"]).run(1)
    quiet = make_market(**settings).run(1)
    c = pushed.customers
    assert np.all(c.satisfaction[members(pushed)] < 0.4)
    assert c.talks_negative[members(pushed)].all()
    assert np.all(c.talk_cause[members(pushed)] == CONTACT)
    month = last_month(pushed)
    assert month["messages_negative_contact"] == month["messages_negative"] > 0
    assert last_month(quiet)["messages_negative"] == 0


def test_upselling_everyone_brings_more_bad_news_than_upselling_the_satisfied():
    everyone = negative_by_cause(make_market(n_people=3000, policies=["Upsell(target='everyone')"]).run())
    satisfied = negative_by_cause(make_market(n_people=3000, policies=["Upsell(target='satisfied')"]).run())
    assert satisfied["messages_negative_contact"] == 0
    assert everyone["messages_negative_contact"] > 0
    assert everyone["messages_negative"] > satisfied["messages_negative"]


# --- asked, not only told: solicited word of mouth (issue 12, point 8) ---------------------


def test_asked_contacts_answer_by_their_mood(defaults):
    from sim.phases.word_of_mouth import answers

    market = make_market(**PRISTINE, n_people=1000, initial_customer_share=0.5, asked_contacts=3)
    c = market.customers
    mood = np.array([0.2, 0.5, 0.7, 0.95])  # dissatisfied, neutral, satisfied, delighted
    c.satisfaction[:] = mood[np.arange(c.n) % 4]
    answerer, asker, strong, about, valence = answers(market, np.arange(0, c.n, 5))
    assert answerer.size > 100
    assert np.all(c.firm[answerer] == about) and np.all(c.is_customer[answerer])  # only customers answer
    s = c.satisfaction[answerer]
    np.testing.assert_array_equal(valence, np.select([s >= defaults.satisfied_above, s < defaults.dissatisfied_below],
                                                     [1, -1], 0))
    assert set(np.unique(valence)) == {-1, 0, 1}


def test_answers_are_counted_by_kind_and_only_when_people_ask():
    asked = make_market(n_people=2000).run(12)
    frame = asked.monthly()
    assert frame["answers_positive"].sum() > frame["answers_negative"].sum() > 0  # most customers are content
    assert frame["answers_neutral"].sum() > 0
    silent = make_market(n_people=2000, asked_contacts=0).run(12).monthly()
    assert silent[["answers_positive", "answers_neutral", "answers_negative"]].to_numpy().sum() == 0


def switchers_to_the_attentive_firm(asked_contacts: int) -> float:
    """Customers the neglectful firm lost to its attentive rival: two providers, everything else equal."""
    firms = [sim.Firm(name="Neglectful", failure_rate=0.06, advertising=0.0, policies=["IgnoreUntilRenewal"]),
             sim.Firm(name="Attentive", advertising=0.0, policies=["RenewalCall"])]
    total = 0.0
    for seed in (1, 2, 3, 4):
        market = sim.Market(firms=firms, seed=seed, n_people=3000, months=36, contract_months=24,
                            asked_contacts=asked_contacts).run()
        frame = market.monthly()
        total += frame.loc[frame.firm == "Neglectful", "switched_out"].sum()
    return total


def test_a_satisfied_firm_gains_switchers_from_a_neglectful_rival_through_asked_talk():
    # the seed's story: at renewal, the neglectful firm's customers ask friends; the attentive
    # firm's merely satisfied customers, who tell nobody unprompted, answer well of it
    # paired by seed (the asking draws have their own streams); the gain is a few percent at the
    # defaults (about 6% over these seeds), more with more contacts asked
    without = switchers_to_the_attentive_firm(0)
    assert switchers_to_the_attentive_firm(2) > 1.03 * without
    assert switchers_to_the_attentive_firm(4) > switchers_to_the_attentive_firm(2)


def test_a_vanishing_referral_rate_gives_a_finite_referral_signal():
    """A referral probability of 1e-310 (found by the invariant tests' random search) overflowed the
    signal to infinity, and the referral shares of joiners and switchers became NaN."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        market = sim.Market(seed=2, n_people=1_500, months=12, warm_up_months=6, referral_probability=1e-310)
        market.run()
    assert np.isfinite(market.heard_positive).all()
    assert not market.monthly().select_dtypes("number").isna().any().any()
