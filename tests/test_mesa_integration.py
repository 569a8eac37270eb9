"""Grapevine is a Mesa model: batch_run sweeps it, the DataCollector holds the monthly series,
and small markets show their people as Mesa agents on a network grid."""

from __future__ import annotations

import mesa
import numpy as np
import pytest
from mesa.discrete_space import Network

import sim
from sim.agents import Customer

from conftest import PRISTINE, make_market

BATCH = dict(n_people=150, months=3, **PRISTINE)


def test_market_is_a_mesa_model():
    market = make_market()
    assert isinstance(market, mesa.Model)
    assert market.running
    market.step()
    assert market.month == 1


def test_batch_run_sweeps_flat_keywords_including_policy_names():
    results = mesa.batch_run(
        sim.Market,
        parameters={**BATCH, "policies": [["ServiceRecovery", "SmallGifts"], []], "failure_rate": [0.02, 0.2]},
        iterations=2,
        max_steps=BATCH["months"],
        display_progress=False,
    )
    assert len(results) == 2 * 2 * 2  # iterations x policy mixes x failure rates, last step only
    for row in results:
        assert row["n_people"] == BATCH["n_people"]
        assert row["customers[Firm]"] + row["prospects[Firm]"] == BATCH["n_people"]
    with_policies = [row for row in results if row["policies"]]
    assert len(with_policies) == 4
    assert {row["failure_rate"] for row in results} == {0.02, 0.2}


def test_batch_run_rows_are_the_markets_monthly_series():
    results = mesa.batch_run(
        sim.Market,
        parameters={**BATCH, "seed": [5], "policies": ["ServiceRecovery(effort=0.9)"]},
        iterations=1,
        max_steps=BATCH["months"],
        data_collection_period=1,
        display_progress=False,
    )
    market = sim.Market(seed=5, policies="ServiceRecovery(effort=0.9)", **BATCH).run()
    monthly = market.monthly().set_index("month")
    assert len(results) >= BATCH["months"]
    for row in results:
        month = row["Step"]  # batch_run reads the collected series by position: row k is month k
        for metric in ("customers", "revenue", "complaints", "satisfaction"):
            assert row[f"{metric}[Firm]"] == pytest.approx(monthly.loc[month, metric])


def test_batch_run_stops_at_the_markets_horizon():
    results = mesa.batch_run(
        sim.Market, parameters={**BATCH, "seed": [1]}, iterations=1, max_steps=100,
        data_collection_period=1, display_progress=False,
    )
    assert max(row["Step"] for row in results) < BATCH["months"] + 1


def test_datacollector_has_one_column_per_metric_and_firm_and_one_row_per_month():
    firms = [sim.Firm(name="A"), sim.Firm(name="B")]
    market = make_market(firms=firms, months=4).run()
    wide = market.datacollector.get_model_vars_dataframe()
    assert len(wide) == market.month + 1  # month 0 and every month after
    for metric in market.metrics:
        assert f"{metric}[A]" in wide.columns and f"{metric}[B]" in wide.columns
    tidy = market.monthly()
    a = tidy[tidy["firm"] == "A"].reset_index(drop=True)
    np.testing.assert_array_equal(a["customers"].to_numpy(), wide["customers[A]"].to_numpy())
    np.testing.assert_array_equal(a["month"].to_numpy(), np.arange(market.month + 1))


def test_monthly_table_has_one_row_per_month_and_firm():
    firms = [sim.Firm(name="A"), sim.Firm(name="B"), sim.Firm(name="C")]
    market = make_market(firms=firms, months=3).run()
    frame = market.monthly()
    assert len(frame) == 4 * 3
    assert list(frame.columns[:2]) == ["month", "firm"]
    assert frame.groupby("month")["firm"].apply(list).map(sorted).tolist() == [["A", "B", "C"]] * 4


def test_small_markets_have_one_mesa_agent_per_person_on_a_network_grid():
    market = make_market(n_people=120, agent_view_limit=200)
    assert isinstance(market.grid, Network)
    assert len(market.agents) == 120
    assert all(isinstance(agent, Customer) for agent in market.agents)
    people = sorted(agent.person for agent in market.agents)
    assert people == list(range(120))


def test_each_agent_sits_on_its_own_cell_with_its_contacts_as_neighbours():
    market = make_market(n_people=120, agent_view_limit=200, network="small_world", rewiring=0.3)
    for agent in list(market.agents)[:30]:
        assert agent.cell.coordinate == agent.person
        assert agent in agent.cell.agents
        neighbours = sorted(cell.coordinate for cell in agent.cell.neighborhood)
        assert neighbours == sorted(market.network.contacts(agent.person).tolist())


def test_agents_show_the_persons_current_state():
    market = make_market(n_people=120, agent_view_limit=200, months=3).run()
    c = market.customers
    for agent in market.agents:
        i = agent.person
        assert agent.satisfaction == c.satisfaction[i]
        assert agent.loyalty == c.loyalty[i]
        assert agent.tenure == c.tenure[i]
        if c.firm[i] < 0:
            assert agent.firm is None and agent.mood == "prospect"
        else:
            assert agent.firm == market.firms[c.firm[i]].name
            assert agent.mood in ("dissatisfied", "neutral", "satisfied", "delighted")


def test_large_markets_have_no_mesa_agents():
    market = make_market(n_people=300, agent_view_limit=100)
    assert len(market.agents) == 0
    market.step()  # and still run
    assert market.month == 1


def test_customer_table_has_one_row_per_person():
    firms = [sim.Firm(name="A"), sim.Firm(name="B")]
    market = make_market(firms=firms, months=3).run()
    table = market.customer_table()
    assert len(table) == market.customers.n
    assert table.index.name == "person"
    counts = table["firm"].value_counts()
    assert counts.get("A", 0) == market.metrics["customers"][0]
    assert counts.get("B", 0) == market.metrics["customers"][1]
    assert counts.get("(prospect)", 0) == market.metrics["prospects"][0]
    assert {"satisfaction", "loyalty", "mood", "channel", "tenure", "grievance", "poorly_served",
            "attitude[A]", "attitude[B]"} <= set(table.columns)
    np.testing.assert_array_equal(table["degree"].to_numpy(), market.network.degree)


def test_the_market_is_seeded_through_mesa():
    # Mesa's own generators (model.rng, model.random) follow the seed: same seed, same draws
    first, again, other = make_market(seed=12), make_market(seed=12), make_market(seed=13)
    assert first.rng.random() == again.rng.random() != other.rng.random()
    assert first.random.random() == again.random.random() != other.random.random()
