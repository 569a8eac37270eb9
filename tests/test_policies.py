"""Each policy's direct effect, seen against the same market without it (same seed: common
random numbers make the arms differ only where the policy acts)."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.customers import CHANNELS, NEVER, NO_FIRM, WIN_BACK
from sim.phases.churn import monthly_hazard

from conftest import NOBODY_MOVES, PRISTINE, last_month, make_market, members, run_months, total

PRICE = 40.0
# A market with plenty of trouble and no new customers: complainers, leavers, talk.
TROUBLE = dict(**PRISTINE, n_people=3000, price=PRICE, failure_rate=0.2, imitation=0.0, advertising=0.0)


def arms(policy, months: int = 1, **settings):
    """The same market without and with `policy`, run for `months`."""
    settings = {**TROUBLE, **settings}
    return (make_market(**settings).run(months), make_market(**settings, policies=[policy]).run(months))


# --- ServiceRecovery ---------------------------------------------------------------


def test_service_recovery_keeps_more_complainers_than_no_answer():
    settings = {**TROUBLE, "n_people": 4000, "contract_months": 0, "seed": 3}
    stayed = {}
    for name, policies in (("none", []), ("recovery", [sim.ServiceRecovery(effort=1.0)])):
        market = make_market(**settings, policies=policies)
        market.step()
        complained = market.customers.complained.copy()  # the same people in both arms
        run_months(market, 11)
        stayed[name] = market.customers.is_customer[complained].mean()
        assert complained.sum() > 30
    assert stayed["recovery"] > stayed["none"] + 0.1


def test_service_recovery_renews_more_complainers_at_contract_end():
    settings = {**TROUBLE, "n_people": 4000, "contract_months": 3, "contract_break_probability": 0.0, "seed": 4}
    renewed = {}
    for name, policies in (("none", []), ("recovery", [sim.ServiceRecovery(effort=1.0)])):
        market = make_market(**settings, policies=policies)
        market.step()
        complained = market.customers.complained.copy()
        run_months(market, 3)  # every contract has come up for renewal once
        renewed[name] = market.customers.is_customer[complained].mean()
    assert renewed["recovery"] > renewed["none"]


@pytest.mark.parametrize("effort", [0.0, 0.3, 1.0])
def test_recovery_costs_effort_times_full_cost_times_price_per_complaint(effort):
    policy = sim.ServiceRecovery(effort=effort, cost_at_full_effort=0.8)
    market = make_market(**TROUBLE, policies=[policy]).run(3)
    complaints = total(market, "complaints")
    assert complaints > 0
    assert total(market, "cost_recovery") == pytest.approx(complaints * effort * 0.8 * PRICE)


def test_more_recovery_effort_costs_more_per_complaint_and_succeeds_more():
    results = {}
    for effort in (0.2, 1.0):
        market = make_market(**{**TROUBLE, "n_people": 5000}, policies=[sim.ServiceRecovery(effort=effort)]).run(4)
        complaints = total(market, "complaints")
        results[effort] = (total(market, "cost_recovery") / complaints,
                           total(market, "recoveries_succeeded") / complaints)
        assert total(market, "recoveries_succeeded") + total(market, "recoveries_failed") == complaints
    assert results[1.0][0] > results[0.2][0]
    assert results[1.0][1] > results[0.2][1]


def test_a_failed_recovery_is_worse_than_no_answer_and_a_success_is_better():
    always = sim.ServiceRecovery(effort=1.0, success_at_full_effort=1.0)
    never = sim.ServiceRecovery(effort=1.0, success_at_full_effort=0.0)
    none, won = arms(always)
    _, lost = arms(never)
    complained = none.customers.complained
    assert complained.sum() > 10
    np.testing.assert_array_equal(complained, lost.customers.complained)
    sat = {name: m.customers.satisfaction[complained].mean() for name, m in
           (("none", none), ("won", won), ("lost", lost))}
    assert sat["lost"] < sat["none"] < sat["won"]
    loyalty = {name: m.customers.loyalty[complained].mean() for name, m in
               (("none", none), ("won", won), ("lost", lost))}
    assert loyalty["lost"] < loyalty["none"] < loyalty["won"]


def test_a_successful_recovery_silences_the_complainer_and_a_failed_one_makes_them_talk():
    always = sim.ServiceRecovery(effort=1.0, success_at_full_effort=1.0)
    never = sim.ServiceRecovery(effort=1.0, success_at_full_effort=0.0)
    _, won = arms(always)
    _, lost = arms(never)
    complained = won.customers.complained
    assert not won.customers.talks_negative[complained].any()
    assert lost.customers.talks_negative[complained].all()
    assert last_month(won)["messages_negative"] < last_month(lost)["messages_negative"]


def test_a_successful_recovery_clears_the_grievance():
    always = sim.ServiceRecovery(effort=1.0, success_at_full_effort=1.0)
    none, won = arms(always)
    complained = none.customers.complained
    assert np.all(none.customers.grievance[complained] > 0)
    assert np.all(won.customers.grievance[complained] < none.customers.grievance[complained])


# --- IgnoreUntilRenewal ------------------------------------------------------------


def test_ignore_until_renewal_answers_no_complaints():
    market = make_market(**TROUBLE, policies=[sim.IgnoreUntilRenewal()]).run(4)
    assert total(market, "complaints") > 0
    assert total(market, "recoveries_succeeded") == 0
    assert total(market, "recoveries_failed") == 0
    assert total(market, "cost_recovery") == 0


def test_ignore_until_renewal_leaves_complainers_as_unhappy_as_no_policy():
    none, ignoring = arms(sim.IgnoreUntilRenewal())
    complained = none.customers.complained
    assert complained.any()
    np.testing.assert_array_equal(none.customers.satisfaction[complained],
                                  ignoring.customers.satisfaction[complained])
    assert not ignoring.customers.resolved.any()


def test_ignore_until_renewal_asks_leavers_to_renew_and_keeps_some():
    none, asking = arms(sim.IgnoreUntilRenewal(ask_acceptance=0.5, contact_cost=3.0), contract_months=3)
    left_none, left_asking = last_month(none)["churned_renewal"], last_month(asking)["churned_renewal"]
    assert left_none > 0
    assert left_asking < left_none
    assert last_month(asking)["cost_contacts"] == pytest.approx(3.0 * left_none)  # one call per leaver asked


# --- SmallGifts --------------------------------------------------------------------


@pytest.mark.parametrize("value_share", [0.005, 0.05])
def test_small_gifts_cost_exactly_value_share_times_price_per_gift(value_share):
    market = make_market(**TROUBLE, policies=[sim.SmallGifts(value_share=value_share, every_months=2)])
    for _ in range(4):
        market.step()
        month = last_month(market)
        assert month["gifts"] > 0
        assert month["cost_gifts"] == pytest.approx(month["gifts"] * value_share * PRICE)


def test_small_gifts_arrive_one_month_after_joining_and_every_few_months_after():
    every = 3
    market = make_market(**{**TROUBLE, **NOBODY_MOVES}, policies=[sim.SmallGifts(every_months=every)])
    market.step()
    tenure = market.customers.tenure[members(market)]
    assert last_month(market)["gifts"] == np.count_nonzero((tenure - 1) % every == 0)


def test_a_gift_is_a_pleasant_surprise():
    none, gifted = arms(sim.SmallGifts(value_share=0.05, every_months=1), failure_rate=0.0, quality_noise=0.0)
    people = members(none)
    assert gifted.customers.satisfaction[people].mean() > none.customers.satisfaction[people].mean()


# --- ProactiveCheckIns -------------------------------------------------------------


def test_check_ins_find_silent_dissatisfaction():
    market = make_market(**{**TROUBLE, "failure_rate": 0.4},
                         policies=[sim.ProactiveCheckIns(every_months=1)]).run(2)
    assert total(market, "check_ins") > 0
    assert 0 < total(market, "silent_dissatisfaction_found") <= total(market, "check_ins")


def test_check_ins_count_as_silent_only_the_unhappy_who_did_not_complain():
    found = {}
    for probability in (0.0, 1.0):
        market = make_market(**{**TROUBLE, "failure_rate": 0.4}, complaint_probability=probability,
                             policies=[sim.ProactiveCheckIns(every_months=1)]).run(1)
        month = last_month(market)
        found[probability] = month["silent_dissatisfaction_found"]
        c = market.customers
        contacted = contacted_this_month(market)
        silent = contacted[~c.complained[contacted]]
        assert month["silent_dissatisfaction_found"] <= silent.size
    # when every unhappy customer with a failure complains, fewer are silent
    assert found[1.0] < found[0.0]


def test_check_ins_mend_the_unhappy_they_find_before_they_talk():
    none, checked = arms(sim.ProactiveCheckIns(every_months=1, mend_share=0.5), failure_rate=0.4)
    found = last_month(checked)["silent_dissatisfaction_found"]
    assert found > 0
    assert last_month(checked)["messages_negative"] < last_month(none)["messages_negative"]
    assert (checked.customers.satisfaction[members(none)].mean()
            > none.customers.satisfaction[members(none)].mean())


@pytest.mark.parametrize("contact_cost", [0.0, 2.5])
def test_check_ins_cost_contact_cost_per_contact(contact_cost):
    market = make_market(**TROUBLE, policies=[sim.ProactiveCheckIns(every_months=2, contact_cost=contact_cost)])
    for _ in range(3):
        market.step()
        month = last_month(market)
        assert month["cost_contacts"] == pytest.approx(contact_cost * month["check_ins"])
    assert total(market, "check_ins") > 0


def annoyance_factor(market, people) -> np.ndarray:
    """How many times more likely to leave `people` are now than they would be unannoyed."""
    c = market.customers
    annoyed = monthly_hazard(market, people)
    saved = c.annoyed_until.copy()
    c.annoyed_until[people] = NEVER
    calm = monthly_hazard(market, people)
    c.annoyed_until[:] = saved
    uncapped = annoyed < 1
    return annoyed[uncapped] / calm[uncapped]


def contacted_this_month(market) -> np.ndarray:
    c = market.customers
    people = members(market)
    return people[c.annoyed_until[people] >= market.month]


def test_check_ins_raise_the_churn_hazard_of_contacted_customers():
    annoyance = 0.5
    market = make_market(**TROUBLE, policies=[sim.ProactiveCheckIns(every_months=1, annoyance=annoyance)]).run(1)
    contacted = contacted_this_month(market)
    assert 0 < contacted.size <= last_month(market)["check_ins"]  # some contacted may have left since
    np.testing.assert_allclose(annoyance_factor(market, contacted), 1 + annoyance)


def test_the_annoyance_of_a_check_in_lasts_annoy_months():
    annoyance, months = 0.5, 3
    policy = sim.ProactiveCheckIns(every_months=12, annoyance=annoyance, annoy_months=months)
    # hardly anyone leaves (a hazard of exactly 0 has no ratio), nobody joins
    market = make_market(**{**TROUBLE, **NOBODY_MOVES, "base_churn": 1e-9}, policies=[policy]).run(1)
    contacted = contacted_this_month(market)
    assert contacted.size > 0
    for _ in range(months):  # the month of the contact and the months after it
        np.testing.assert_allclose(annoyance_factor(market, contacted), 1 + annoyance)
        market.step()
    np.testing.assert_allclose(annoyance_factor(market, contacted), 1.0)


# --- RetentionOffers ---------------------------------------------------------------


def test_retention_offers_keep_some_leavers():
    none, offering = arms(sim.RetentionOffers(acceptance=0.3), contract_months=0, base_churn=0.1)
    month_none, month_offer = last_month(none), last_month(offering)
    churned = lambda m: m["churned_renewal"] + m["churned_contract_break"] + m["churned_no_contract"]
    assert month_offer["offers_accepted"] > 0
    # same would-be leavers in both arms; the offer keeps exactly those who accept
    assert churned(month_offer) == churned(month_none) - month_offer["offers_accepted"]


def test_retention_offers_book_the_discount_as_a_cost_not_lost_revenue():
    discount = 0.25
    market = make_market(**TROUBLE, contract_months=0, base_churn=0.1,
                         policies=[sim.RetentionOffers(discount=discount, months=3, acceptance=0.5)])
    for _ in range(4):
        market.step()
        c, month = market.customers, last_month(market)
        people = members(market)
        discounted = people[c.discount_until[people] >= market.month]
        assert month["cost_offers"] == pytest.approx(discount * PRICE * discounted.size)
        assert month["revenue_subscriptions"] == pytest.approx(PRICE * people.size)
    assert total(market, "cost_offers") > 0


def test_an_accepted_retention_offer_gives_the_discount_for_its_months():
    market = make_market(**TROUBLE, contract_months=0, base_churn=0.1,
                         policies=[sim.RetentionOffers(discount=0.3, months=2, acceptance=0.5)]).run(1)
    c = market.customers
    kept = np.flatnonzero(c.is_customer & (c.discount_until >= market.month))
    assert kept.size == last_month(market)["offers_accepted"] > 0
    assert np.all(c.discount[kept] == 0.3)
    # accounting charges the discount in every month up to discount_until, from this one on
    months_charged = c.discount_until[kept] - market.month + 1
    assert np.all(months_charged == 2)


# --- WinBackOffers -----------------------------------------------------------------


def test_win_back_offers_bring_back_former_customers_through_the_win_back_channel():
    wait = 2
    market = make_market(**TROUBLE, contract_months=0, base_churn=0.1,
                         policies=[sim.WinBackOffers(wait_months=wait, acceptance=0.5)])
    left_at = {}
    for _ in range(6):
        before = market.customers.firm.copy()
        market.step()
        c = market.customers
        for person in np.flatnonzero((before != NO_FIRM) & (c.firm == NO_FIRM)):
            left_at[int(person)] = market.month
        back = np.flatnonzero(c.is_customer & (c.tenure == 0) & (c.channel == WIN_BACK))
        assert back.size == last_month(market)["acquired_win_back"]
        for person in back:
            assert left_at.get(int(person)) == market.month - wait  # a former customer, reached on time
    assert total(market, "acquired_win_back") > 0
    table = market.customer_table()
    assert (table["channel"] == CHANNELS[WIN_BACK]).sum() > 0


def test_without_win_back_offers_nobody_comes_back_through_win_back():
    market = make_market(**TROUBLE, contract_months=0, base_churn=0.1).run(6)
    assert total(market, "acquired_win_back") == 0


def test_won_back_customers_get_the_discount_and_the_offer_costs_contact_cost():
    market = make_market(**TROUBLE, contract_months=0, base_churn=0.1,
                         policies=[sim.WinBackOffers(wait_months=1, acceptance=0.5, discount=0.3, contact_cost=2.0)])
    run_months(market, 2)
    c = market.customers
    back = np.flatnonzero(c.is_customer & (c.tenure == 0) & (c.channel == WIN_BACK))
    assert back.size > 0
    assert np.all(c.discount[back] == 0.3)
    assert np.all(c.discount_until[back] > market.month)
    asked = last_month(market)["cost_contacts"] / 2.0
    assert asked >= back.size


# --- Upsell ------------------------------------------------------------------------


def test_upsell_adds_upsell_revenue():
    uplift = 0.2
    none, selling = arms(sim.Upsell(uplift=uplift, every_months=1, acceptance=0.6), failure_rate=0.02)
    month = last_month(selling)
    assert month["upsells"] > 0
    assert last_month(none)["revenue_upsell"] == 0
    upsold = np.count_nonzero(selling.customers.upsold & selling.customers.is_customer)
    assert month["revenue_upsell"] == pytest.approx(upsold * uplift * PRICE)
    assert month["revenue"] > last_month(none)["revenue"]


def test_upsell_to_satisfied_customers_only_does_not_touch_the_unhappy():
    none, selling = arms(sim.Upsell(every_months=1, target="satisfied"), failure_rate=0.4)
    unhappy = none.customers.is_customer & (none.customers.satisfaction < none.parameters.satisfied_above)
    assert unhappy.any()
    np.testing.assert_array_equal(none.customers.satisfaction[unhappy], selling.customers.satisfaction[unhappy])


def test_upsell_to_everyone_backfires_on_unhappy_customers():
    backfire = 0.1
    careful, pushy = (
        make_market(**{**TROUBLE, "failure_rate": 0.4},
                    policies=[sim.Upsell(every_months=1, target=target, backfire=backfire)]).run(1)
        for target in ("satisfied", "everyone")
    )
    unhappy = careful.customers.is_customer & (careful.customers.satisfaction < careful.parameters.satisfied_above)
    assert unhappy.sum() > 10
    np.testing.assert_allclose(
        pushy.customers.satisfaction[unhappy],
        np.maximum(0, careful.customers.satisfaction[unhappy] - backfire),
    )
    people = np.flatnonzero(unhappy)
    assert np.all(monthly_hazard(pushy, people) >= monthly_hazard(careful, people))
    assert np.mean(monthly_hazard(pushy, people)) > np.mean(monthly_hazard(careful, people))


def test_upsell_offers_cost_contact_cost_each():
    market = make_market(**{**TROUBLE, **NOBODY_MOVES},
                         policies=[sim.Upsell(every_months=1, contact_cost=1.5, target="everyone")]).run(1)
    assert last_month(market)["cost_contacts"] == pytest.approx(1.5 * members(market).size)


# --- policies in general -------------------------------------------------------------


def test_a_policy_acts_only_on_its_own_firms_customers():
    firms = [sim.Firm(name="A", failure_rate=0.2, policies=[sim.SmallGifts(every_months=1), sim.ServiceRecovery()]),
             sim.Firm(name="B", failure_rate=0.2)]
    market_settings = {key: value for key, value in TROUBLE.items() if key not in ("failure_rate", "advertising")}
    market = make_market(**market_settings, firms=firms).run(2)
    frame = market.monthly()
    b = frame[frame["firm"] == "B"]
    a = frame[frame["firm"] == "A"]
    assert a["gifts"].sum() > 0 and a["complaints"].sum() > 0 and b["complaints"].sum() > 0
    assert b["gifts"].sum() == 0 and b["cost_gifts"].sum() == 0
    assert b["recoveries_succeeded"].sum() + b["recoveries_failed"].sum() == 0


def test_policies_do_not_act_during_the_warm_up():
    settings = {**TROUBLE, "warm_up_months": 6} if PRISTINE else dict(TROUBLE)
    plain = make_market(**settings)
    treated = make_market(**settings, policies=[sim.ServiceRecovery(), sim.SmallGifts(), sim.RetentionOffers()])
    np.testing.assert_array_equal(plain.customers.firm, treated.customers.firm)
    np.testing.assert_array_equal(plain.customers.satisfaction, treated.customers.satisfaction)
    assert last_month(treated)["cost"] == 0  # month 0: the books open after the warm-up


def test_policy_labels_name_the_settings_that_differ_from_default():
    assert sim.ServiceRecovery().label() == "ServiceRecovery"
    assert sim.ServiceRecovery(effort=0.8).label() == "ServiceRecovery(effort=0.8)"
    assert sim.Firm(policies=["SmallGifts", "Upsell(target=everyone)"]).label() == "SmallGifts + Upsell(target=everyone)"
