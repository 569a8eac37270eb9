"""Grapevine is a Mesa model: batch_run sweeps it, the DataCollector holds the monthly series,
and small markets show their people as Mesa agents on a network grid; on Mesa 3.3 and 3.5 alike."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import warnings

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
    results = sim.batch_run(
        {**BATCH, "policies": [["ServiceRecovery", "SmallGifts"], []], "failure_rate": [0.02, 0.2]}, seeds=[1, 2],
    )
    assert len(results) == 2 * 2 * 2  # seeds x policy mixes x failure rates, last month only
    for row in results:
        assert row["n_people"] == BATCH["n_people"]
        assert row["customers[Firm]"] + row["prospects[Firm]"] == BATCH["n_people"]
    with_policies = [row for row in results if row["policies"]]
    assert len(with_policies) == 4
    assert {row["failure_rate"] for row in results} == {0.02, 0.2}


def test_batch_run_rows_are_the_markets_monthly_series():
    results = sim.batch_run({**BATCH, "policies": "ServiceRecovery(effort=0.9)"}, seeds=[5], data_collection_period=1)
    market = sim.Market(seed=5, policies="ServiceRecovery(effort=0.9)", **BATCH).run()
    monthly = market.monthly().set_index("month")
    assert [row["Step"] for row in results] == list(range(BATCH["months"] + 1))  # month 0 to the horizon
    for row in results:
        assert row["seed"] == 5 and row["iteration"] == 0
        for metric in market.metrics:
            assert row[f"{metric}[Firm]"] == monthly.loc[row["Step"], metric], (row["Step"], metric)


def test_batch_run_runs_every_combination_once_per_seed_numbered_as_mesa_does():
    results = sim.batch_run({**BATCH, "failure_rate": [0.02, 0.2]}, seeds=[7, 8, 9])
    assert [row["RunId"] for row in results] == list(range(6))
    assert [(row["iteration"], row["seed"], row["failure_rate"]) for row in results] == [
        (0, 7, 0.02), (0, 7, 0.2), (1, 8, 0.02), (1, 8, 0.2), (2, 9, 0.02), (2, 9, 0.2)]
    assert list(results[0])[:3] == ["RunId", "iteration", "Step"]
    alone = sim.Market(seed=8, failure_rate=0.2, **BATCH).run()
    assert results[3]["revenue[Firm]"] == alone.metrics["revenue"][0]  # each run is the market of its seed


def test_batch_run_stops_at_each_markets_horizon():
    last = sim.batch_run({**BATCH, "months": [2, 4]}, seeds=[1])
    assert [(row["months"], row["Step"]) for row in last] == [(2, 2), (4, 4)]
    every_other = sim.batch_run({**BATCH, "months": 5}, seeds=[1], data_collection_period=2)
    assert [row["Step"] for row in every_other] == [0, 2, 4]


def test_batch_run_takes_seeds_only_as_seeds_and_a_period_mesa_reads_alike():
    with pytest.raises(ValueError, match=r"parameters\['seed'\] is not allowed: give the seeds as"):
        sim.batch_run({**BATCH, "seed": [1, 2]})
    with pytest.raises(ValueError, match="seeds = \\[\\] is not allowed"):
        sim.batch_run(BATCH, seeds=[])
    with pytest.raises(ValueError, match="data_collection_period = -2 is not allowed: -1 .* or a whole number >= 1"):
        sim.batch_run(BATCH, data_collection_period=-2)


def test_batch_run_says_where_mesa_has_none(monkeypatch):
    monkeypatch.delattr(mesa, "batch_run")  # as in Mesa 4
    with pytest.raises(RuntimeError, match="batch_run is not available with Mesa .* \\(Mesa 4 removed it\\)"):
        sim.batch_run(BATCH)


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


def test_monthly_table_rows_are_each_firms_series_in_name_order():
    """monthly() builds its table in one array; it is the table pandas' own way gives: each firm's
    series with its name and month, concatenated and sorted (stably) by month and firm name."""
    import pandas as pd

    firms = [sim.Firm(name="Zeta"), sim.Firm(name="alpha", quality=0.7), sim.Firm(name="Beta")]
    market = make_market(firms=firms, months=5).run()
    series = np.stack(market.history)
    reference = pd.concat(
        [pd.DataFrame(series[:, :, k], columns=list(market.metrics)).assign(firm=firm.name,
                                                                             month=np.arange(len(series)))
         for k, firm in enumerate(market.firms)], ignore_index=True).sort_values(["month", "firm"], kind="stable")
    reference = reference[["month", "firm", *market.metrics]].reset_index(drop=True)
    pd.testing.assert_frame_equal(market.monthly(), reference, check_exact=True)
    assert market.monthly()["firm"].tolist()[:3] == ["Beta", "Zeta", "alpha"]


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


def test_the_seed_goes_to_mesa_as_rng_and_seeds_everything():
    market = make_market(seed=12)
    assert market.streams.root == np.random.default_rng(12).integers(2**63)  # Mesa's generator, seeded with 12
    assert market.random.getstate() == random.Random(12).getstate()
    same = make_market(seed=None, rng=12)
    np.testing.assert_array_equal(same.customers.satisfaction, market.customers.satisfaction)


def test_a_seed_must_be_a_whole_number_and_not_given_twice():
    for bad in (1.5, -1, "7", True):
        with pytest.raises(ValueError, match=re.escape(f"seed = {bad!r} is not allowed: a whole number >= 0")):
            make_market(seed=bad)
    with pytest.raises(ValueError, match="a seed or an rng, not both"):
        make_market(seed=1, rng=2)
    assert make_market(seed=np.int64(12)).streams.root == make_market(seed=12).streams.root


def test_mesa_has_nothing_to_warn_about():
    """No FutureWarning or DeprecationWarning (or any other) from a market with agents, run and swept."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        market = make_market(n_people=150, agent_view_limit=200, months=2).run()
        assert len(market.agents) == 150
        sim.batch_run({**BATCH, "failure_rate": [0.02, 0.2]}, seeds=[1, 2], data_collection_period=1)


def test_small_markets_get_their_network_grid_without_a_layout():
    """Mesa 3.5's Network would run nx.spring_layout over every person (seconds for 1,500)."""
    market = make_market(n_people=1500, agent_view_limit=2000)
    assert len(market.grid.all_cells) == 1500
    assert getattr(next(iter(market.grid.all_cells)), "_position", None) is None


@pytest.mark.slow
def test_batch_run_in_worker_processes_gives_the_same_rows():
    parameters = {**BATCH, "failure_rate": [0.02, 0.2]}
    alone = sim.batch_run(parameters, seeds=[1, 2], data_collection_period=1)
    assert sim.batch_run(parameters, seeds=[1, 2], data_collection_period=1, number_processes=2) == alone


def test_a_user_sees_no_warning(tmp_path):
    """`grapevine run` as a user starts it (Python's default warning filters): nothing on stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", "quickstart", "--set", "market.n_people=300", "--set",
         "market.months=6", "--replications", "2", "--quiet", "--no-figures", "--out", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_the_market_is_seeded_through_mesa():
    # Mesa's own generators (model.rng, model.random) follow the seed: same seed, same draws
    first, again, other = make_market(seed=12), make_market(seed=12), make_market(seed=13)
    assert first.rng.random() == again.rng.random() != other.rng.random()
    assert first.random.random() == again.random.random() != other.random.random()
