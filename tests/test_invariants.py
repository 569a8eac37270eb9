"""Invariants that hold in every month of every market, whatever the parameters and policies.

Hypothesis draws small markets with random settings, one to three firms and random policy
mixes, and steps them month by month, checking the books and the people after each month.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.customers import NEVER, NO_FIRM
from sim.metrics import STATE_METRICS

from conftest import PRISTINE, months_of

unit = st.floats(0.0, 1.0, allow_nan=False)
small_unit = st.floats(0.0, 0.3, allow_nan=False)

policies = st.lists(
    st.one_of(
        st.builds(sim.ServiceRecovery, effort=unit),
        st.builds(sim.RenewalCall, ask_acceptance=unit),
        st.builds(sim.SmallGifts, value_share=st.floats(0.0, 0.1), every_months=st.integers(1, 4)),
        st.builds(sim.ProactiveCheckIns, every_months=st.integers(1, 4), mend_share=unit, annoyance=st.floats(0, 2)),
        st.builds(sim.RetentionOffers, discount=unit, acceptance=unit, months=st.integers(1, 4)),
        st.builds(sim.WinBackOffers, discount=unit, acceptance=unit, wait_months=st.integers(1, 3)),
        st.builds(sim.Upsell, uplift=st.floats(0, 1), every_months=st.integers(1, 4),
                  target=st.sampled_from(["satisfied", "everyone"]), acceptance=unit),
    ),
    max_size=4,
    unique_by=type,
)


@st.composite
def firms(draw):
    count = draw(st.integers(1, 3))
    return [
        sim.Firm(
            name=f"F{k}",
            quality=draw(unit),
            failure_rate=draw(st.floats(0.0, 0.6)),
            price=draw(st.one_of(st.none(), st.floats(1.0, 200.0))),
            advertising=draw(st.floats(0.0, 0.1)),
            contract_months=draw(st.one_of(st.none(), st.integers(0, 6))),
            policies=draw(policies),
        )
        for k in range(count)
    ]


@st.composite
def markets(draw):
    reach_min = draw(st.integers(0, 8))
    settings = dict(
        seed=draw(st.integers(0, 2**32 - 1)),
        n_people=draw(st.integers(20, 250)),
        months=draw(st.integers(1, 6)),
        initial_customer_share=draw(unit),
        network=draw(st.sampled_from(["small_world", "scale_free", "communities", "complete"])),
        mean_degree=draw(st.integers(2, 12)),
        rewiring=draw(unit),
        complaint_probability=draw(unit),
        negative_reach_min=reach_min,
        negative_reach_max=reach_min + draw(st.integers(0, 8)),
        negative_talk_probability=draw(unit),
        referral_probability=draw(unit),
        base_churn=draw(small_unit),
        contract_months=draw(st.integers(0, 6)),
        contract_break_probability=draw(unit),
        switching_propensity=draw(st.floats(0.0, 3.0)),
        imitation=draw(small_unit),
        initial_loyalty_mean=draw(unit),
        defence_damping=draw(unit),
        agent_view_limit=0,  # no Mesa agents: the invariants are about the arrays
    )
    if PRISTINE:  # a short warm-up (policies start after it)
        settings["warm_up_months"] = draw(st.integers(0, 3))
    return sim.Market(firms=draw(firms()), **settings)


@given(markets())
def test_people_are_conserved(market):
    n = market.customers.n
    for m in months_of(market):
        counts = m.metrics["customers"]
        prospects = m.metrics["prospects"]
        assert counts.sum() + prospects[0] == n
        assert np.count_nonzero(m.customers.is_customer) == counts.sum()


@given(markets())
def test_nobody_is_a_customer_of_two_firms(market):
    for m in months_of(market):
        firm = m.customers.firm
        assert firm.shape == (m.customers.n,)  # one firm index per person, by construction
        assert np.all((firm == NO_FIRM) | ((firm >= 0) & (firm < m.n_firms)))
        by_firm = np.bincount(firm[firm != NO_FIRM].astype(int), minlength=m.n_firms)
        np.testing.assert_array_equal(by_firm, m.metrics["customers"])


@given(markets())
def test_revenue_is_price_times_customers_plus_upsell_plus_penalties(market):
    for m in months_of(market):
        if m.month == 0:
            continue
        c, books = m.customers, m.ledger.closed
        paying = c.is_customer
        firm = c.firm[paying].astype(int)
        price = m.firm_price[firm]
        subscriptions = np.bincount(firm, weights=price, minlength=m.n_firms)
        upsold = getattr(c, "upsold", np.zeros(c.n, bool))[paying]  # Upsell's state, made if a firm runs it
        uplift = getattr(c, "upsell_uplift", np.zeros(c.n))[paying]
        upsell = np.bincount(firm, weights=price * upsold * uplift, minlength=m.n_firms)
        np.testing.assert_allclose(books["revenue_subscriptions"], subscriptions)
        np.testing.assert_allclose(books["revenue_upsell"], upsell)
        np.testing.assert_allclose(
            books["revenue"], subscriptions + upsell + books["revenue_penalties"]
        )


@given(markets())
def test_prospects_hold_no_upgrade_and_no_running_discount_or_annoyance(market):
    # the states policies declare as reset on leaving (Upsell, the shared discount and annoyance)
    for m in months_of(market):
        c = m.customers
        prospects = ~c.is_customer
        if hasattr(c, "upsold"):
            assert not c.upsold[prospects].any()
        if hasattr(c, "discount_until"):
            assert np.all(c.discount_until[prospects] == NEVER)
        if hasattr(c, "annoyed_until"):
            assert np.all(c.annoyed_until[prospects] == NEVER)


@given(markets())
def test_penalties_are_paid_only_by_contract_breakers(market):
    for m in months_of(market):
        breakers = m.metrics["churned_contract_break"]
        penalties = m.metrics["revenue_penalties"]
        assert np.all(penalties[breakers == 0] == 0)


@given(markets())
def test_counts_and_money_flows_are_never_negative(market):
    never_negative = [
        name for name in market.metrics
        if name not in ("nps", "attitude", "profit", "cumulative_profit", "npv", "clv")
    ]
    for m in months_of(market):
        for name in never_negative:
            assert np.all(m.metrics[name] >= 0), (name, m.metrics[name])


@given(markets())
def test_satisfaction_and_loyalty_stay_in_0_1_and_attitude_in_minus1_1(market):
    for m in months_of(market):
        c = m.customers
        assert np.all((c.satisfaction >= 0) & (c.satisfaction <= 1))
        assert np.all((c.loyalty >= 0) & (c.loyalty <= 1))
        assert np.all((c.attitude >= -1) & (c.attitude <= 1))


@given(markets())
def test_contracts_never_lapse_unnoticed(market):
    # after every month each contract customer has a contract end still to come; others have none
    for m in months_of(market):
        c = m.customers
        people = np.flatnonzero(c.is_customer)
        has_contract = m.firm_contract_months[c.firm[people]] > 0
        assert np.all(c.contract_end[people[has_contract]] > m.month)
        assert np.all(c.contract_end[people[~has_contract]] == NEVER)
        assert np.all(c.contract_end[~c.is_customer] == NEVER)


@given(markets())
def test_customer_counts_change_only_by_recorded_joins_and_departures(market):
    previous = market.metrics["customers"].copy()
    for m in months_of(market):
        if m.month == 0:
            continue
        e = m.metrics
        joined = e["acquired_advertising"] + e["acquired_referral"] + e["acquired_win_back"]
        left = e["churned_renewal"] + e["churned_contract_break"] + e["churned_no_contract"]
        np.testing.assert_array_equal(e["customers"], previous + joined - left)
        assert np.all(e["switched_out"] <= left)
        previous = e["customers"].copy()


@given(markets())
def test_monthly_table_has_one_row_per_month_and_firm(market):
    for _ in months_of(market):
        pass
    frame = market.monthly()
    assert len(frame) == (market.month + 1) * market.n_firms
    assert set(STATE_METRICS) <= set(frame.columns)
    assert not frame.duplicated(["month", "firm"]).any()
