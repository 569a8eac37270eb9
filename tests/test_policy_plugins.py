"""A policy is one class: it declares its state, events, costs and levers, and the engine,
the monthly table and the dashboard read them.

The new policy below (LoyaltyPoints) exists in this file only. It is defined in a fixture
and removed from `Policy.registry` afterwards, so that the other tests see only the shipped
policies. A scenario file looks its policies up in the registry when it is read, so the new
policy also runs from a scenario file, with no other edit.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import Field

import sim
from sim.customers import NEVER, NO_FIRM
from sim.outputs.dashboard.live import SideBySide
from sim.outputs.dashboard.settings import Control, controls, dashboard_settings, policy_levers
from sim.policies import Lever, Policy, Shared, State
from sim.policies.shared import ANNOYANCE, DISCOUNT

from conftest import make_market

PRICE = 40.0
BUSY = dict(contract_months=0, base_churn=0.08, advertising=0.05)  # many leave, many (re)join


@pytest.fixture(scope="module")
def loyalty_points():
    """A policy written as a newcomer would: nothing else in the code base knows it."""

    class LoyaltyPoints(Policy):
        """A point for every month with the firm; `redeem_at` points buy a reward worth
        `reward_share` of the price, which delights (a surprise) and costs the firm."""

        redeem_at: int = Field(4, ge=1, le=60, description="points for a reward")
        reward_share: float = Field(0.1, ge=0, le=1, description="reward value, share of price")

        states = (
            State("points", float, 0.0, on_join=True, on_leave=False, description="points not yet redeemed"),
            State("lifetime_points", np.int32, 0, on_join=False, on_leave=False, description="points ever earned"),
            State("card_holder", bool, False, on_join=False, on_leave=True, description="holds the card now"),
        )
        events = ("rewards_redeemed",)
        costs = ("rewards",)
        levers = (Lever("redeem_at", "Points for a reward", 0, 24, 1, unit="months", off=0),)

        def shape_experience(self, market, firm, members):
            c = market.customers
            c.points[members] += 1.0
            c.lifetime_points[members] += 1
            c.card_holder[members] = True
            redeeming = members[c.points[members] >= self.redeem_at]
            c.points[redeeming] = 0.0
            c.surprise[redeeming] += self.reward_share
            market.ledger.charge(firm, "rewards", redeeming.size * self.reward_share * market.firm_price[firm])
            market.tally.add("rewards_redeemed", firm, redeeming.size)

    yield LoyaltyPoints
    del Policy.registry["LoyaltyPoints"]


def test_a_new_policys_events_and_costs_appear_in_the_monthly_table(loyalty_points):
    market = make_market(months=12, price=PRICE, firms=[sim.Firm(policies=[loyalty_points(reward_share=0.25)])]).run()
    monthly = market.monthly()
    assert {"rewards_redeemed", "cost_rewards"} <= set(monthly.columns)
    assert monthly["rewards_redeemed"].sum() > 0
    np.testing.assert_allclose(monthly["cost_rewards"], monthly["rewards_redeemed"] * 0.25 * PRICE)
    np.testing.assert_allclose(monthly["cost"], monthly.filter(like="cost_").sum(axis=1))


def test_a_new_policy_runs_from_a_scenario_file_into_the_comparison(loyalty_points, tmp_path):
    scenario = tmp_path / "points.yaml"
    scenario.write_text(
        "name: points\nreplications: 2\nmarket: {n_people: 400, months: 12, warm_up_months: 6}\n"
        "firms: [{name: Telco, policies: [RenewalCall]}]\n"
        "compare:\n  arms:\n    - {name: plain}\n"
        "    - {name: points, add: [{kind: LoyaltyPoints, reward_share: 0.25}]}\n")
    results = sim.run_scenario(scenario)
    points = results.timeseries[results.timeseries["arm"] == "points"]
    assert points["rewards_redeemed"].sum() > 0 and points["cost_rewards"].sum() > 0
    assert set(results.comparison["compared"]) == {"plain", "points"}
    with pytest.raises(sim.scenario.InputError, match="redeem_at = 0 is not allowed"):
        sim.load_scenario(scenario, ["compare.arms[1].add[0].redeem_at=0"])


def test_a_known_policys_columns_are_in_every_market_so_arms_share_their_columns(loyalty_points):
    without = make_market(months=2).run().monthly()
    assert (without["rewards_redeemed"] == 0).all() and (without["cost_rewards"] == 0).all()
    with_it = make_market(months=2, policies=[loyalty_points()]).run().monthly()
    assert list(with_it.columns) == list(without.columns)


def test_a_new_policys_state_is_made_and_reset_on_join_and_leave_as_declared(loyalty_points):
    market = make_market(n_people=1500, months=24, policies=[loyalty_points(redeem_at=50)], **BUSY)
    c = market.customers
    assert [state.name for state in c.states] == ["points", "lifetime_points", "card_holder"]
    assert c.lifetime_points.dtype == np.int32 and c.card_holder.dtype == bool
    rejoined_with_points = 0
    while market.running:
        points, lifetime, was_customer = c.points.copy(), c.lifetime_points.copy(), c.is_customer.copy()
        market.step()
        joined = ~was_customer & c.is_customer  # prospects all month until they joined (phase 5)
        left = was_customer & ~c.is_customer  # customers at phase 1 (a point), gone at phase 4
        stayed = was_customer & c.is_customer
        assert np.all(c.points[joined] == 0)  # on_join: reset
        assert np.all(c.lifetime_points[joined] == lifetime[joined])  # not reset on join
        assert np.all(c.points[left] == points[left] + 1)  # not reset on leave
        assert np.all(c.lifetime_points[left] == lifetime[left] + 1)
        assert not c.card_holder[left].any()  # on_leave: reset
        assert c.card_holder[stayed].all()
        assert np.all(c.points[stayed] == points[stayed] + 1)
        rejoined_with_points += int(np.count_nonzero(points[joined] > 0))
    assert rejoined_with_points > 0  # the reset on joining was exercised, not vacuous
    assert market.customer_table()["lifetime_points"].sum() == c.lifetime_points.sum()


def test_a_new_policy_is_in_the_dashboards_lever_list_and_its_lever_runs_it(loyalty_points):
    assert policy_levers()["LoyaltyPoints.redeem_at"] == (loyalty_points, loyalty_points.levers[0])
    settings = dashboard_settings("quickstart")
    settings["start"]["shared"].update(n_people=300, months=2)
    _, per_side = controls(settings)
    assert Control("LoyaltyPoints.redeem_at", "Points for a reward", 0, 24, 1, "months", whole=True) in per_side
    live = SideBySide(settings)
    assert "LoyaltyPoints" not in live.policies(live.sides[1])  # at its off value: not run
    live.set("recover", "LoyaltyPoints.redeem_at", 3)
    assert live.market_of(live.sides[1]).firms[0].policies[-1] == loyalty_points(redeem_at=3)
    assert "LoyaltyPoints" not in live.policies(live.sides[0])  # the other arms as they were
    live.step()
    assert "rewards_redeemed" in live.markets["recover"].metrics


# --- shared parts: made once, booked once ------------------------------------------------------
def test_shared_state_is_made_once_and_its_hooks_run_once_per_firm():
    market = make_market(months=6, policies=["RetentionOffers", "WinBackOffers", "ProactiveCheckIns", "Upsell"])
    names = [state.name for state in market.customers.states]
    assert len(names) == len(set(names))
    assert {"discount", "discount_until", "annoyance", "annoyed_until"} <= set(names)
    parts = market.policies_of(0)
    assert sum(part is DISCOUNT for part in parts) == 1 and sum(part is ANNOYANCE for part in parts) == 1
    for _ in range(6):
        market.step()
        c = market.customers
        running = np.flatnonzero(c.is_customer & (c.discount_until >= market.month))
        expected = np.sum(c.discount[running] * market.firm_price[0])  # once, though two policies grant it
        assert market.metrics["cost_offers"][0] == pytest.approx(expected)


def test_a_policys_state_exists_only_where_a_firm_runs_it():
    assert not hasattr(make_market(months=1).customers, "discount")
    assert hasattr(make_market(months=1, policies=["WinBackOffers"]).customers, "discount")


def test_two_policies_cannot_declare_one_state_name_apart(loyalty_points):
    class Stamps(Policy):
        states = (State("points"),)

    try:
        with pytest.raises(ValueError, match="state 'points' of Stamps is not allowed: LoyaltyPoints declares"):
            make_market(policies=[loyalty_points(), Stamps()])
    finally:
        del Policy.registry["Stamps"]


def test_a_state_may_not_shadow_the_engines_own():
    class Mood(Shared):
        states = (State("satisfaction"),)

    class Moody(Policy):
        shares = (Mood(),)

    try:
        with pytest.raises(ValueError, match="state 'satisfaction' is not allowed: customers already have"):
            make_market(policies=[Moody()])
    finally:
        del Policy.registry["Moody"]


def test_an_undeclared_event_or_category_is_named_in_the_error():
    class Chatty(Policy):
        def after_experience(self, market, firm, members):
            market.tally.add("chats", firm, members.size)

    class Lavish(Policy):
        def after_experience(self, market, firm, members):
            market.ledger.charge(firm, "champagne", 1.0)

    try:
        with pytest.raises(KeyError, match="event 'chats' is not declared: list it in the policy's `events`"):
            make_market(policies=[Chatty()]).step()
        with pytest.raises(KeyError, match="category 'champagne' is not declared: list it in the policy's `costs`"):
            make_market(policies=[Lavish()]).step()
    finally:
        del Policy.registry["Chatty"], Policy.registry["Lavish"]


def test_no_policy_runs_during_the_warm_up(loyalty_points):
    market = make_market(months=1, warm_up_months=6, policies=[loyalty_points()])
    assert market.month == 0 and market.customers.lifetime_points.sum() == 0
    market.step()
    assert market.customers.lifetime_points.sum() > 0


def test_the_month_is_the_outputs_month_negative_during_the_warm_up():
    market = make_market(months=2, warm_up_months=3, **BUSY)
    assert market.month == 0  # the books open here: the first row of the monthly table
    left = market.customers.left_month[market.customers.left_month != NEVER]
    assert set(left) == {-2, -1, 0}  # the three warm-up months
    market.run()
    assert market.month == 2 and list(market.monthly()["month"]) == [0, 1, 2]
    joined = market.customers.firm != NO_FIRM
    assert np.all((market.customers.contract_end[joined] > market.month)
                  | (market.customers.contract_end[joined] == NEVER))
