"""The fast paths compute the same numbers as the plain ones, bit for bit.

The keyed random streams have a compiled loop (numba) and a numpy expression; experiment runs
skip Mesa's DataCollector and read the market's own monthly arrays. Neither may change a result.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
import sim.market
from sim import compiled
from sim.randomness import Streams

from conftest import make_market

IDS = [
    np.arange(10_000),
    np.arange(7, dtype=np.int32),
    np.arange(12, dtype=np.int64).reshape(3, 4),
    np.array([], np.int64),
    np.array([2**63 + 5, 2**64 - 1], np.uint64),
    np.array([-3, -1]),
]


def kernels():
    """sim.kernels, or skip: without numba (or with GRAPEVINE_NUMBA=0) only the numpy paths run."""
    module = compiled.kernels()
    if module is None:
        pytest.skip("numba is not installed here (or GRAPEVINE_NUMBA=0): only the numpy paths run")
    return module


def use(monkeypatch, module) -> None:
    """Run the engine with the compiled kernels (`module`) or with numpy alone (None)."""
    monkeypatch.setattr(compiled, "_loaded", [module])


@pytest.mark.parametrize("ids", IDS, ids=lambda ids: f"{ids.dtype}{list(ids.shape)}")
def test_compiled_streams_draw_the_same_bits_as_the_numpy_expression(ids, monkeypatch):
    fast_kernels = kernels()
    streams = Streams(root=12345, setup_month=-36)
    use(monkeypatch, fast_kernels)
    fast = streams.uniform("failure", 3, ids)
    use(monkeypatch, None)
    plain = streams.uniform("failure", 3, ids)
    assert fast.shape == plain.shape == ids.shape
    np.testing.assert_array_equal(fast, plain)


def test_a_market_gives_byte_identical_results_with_and_without_the_compiled_streams(monkeypatch):
    fast_kernels = kernels()
    policies = [sim.ServiceRecovery(effort=0.9), sim.SmallGifts()]
    use(monkeypatch, fast_kernels)
    fast = make_market(seed=11, months=6, policies=policies).run().monthly()
    use(monkeypatch, None)
    plain = make_market(seed=11, months=6, policies=policies).run().monthly()
    assert fast.to_csv(index=False) == plain.to_csv(index=False)


def test_without_the_datacollector_the_monthly_table_is_the_same():
    firms = [sim.Firm(name="A"), sim.Firm(name="B", policies=["SmallGifts"])]
    collected = make_market(firms=firms, seed=3, months=5).run()
    lean = make_market(firms=firms, seed=3, months=5, datacollector=False).run()
    assert lean.datacollector is None
    assert lean.monthly().to_csv(index=False) == collected.monthly().to_csv(index=False)


def test_the_datacollector_holds_every_number_of_the_monthly_table():
    firms = [sim.Firm(name="A"), sim.Firm(name="B")]
    market = make_market(firms=firms, seed=5, months=4).run()
    wide = market.datacollector.get_model_vars_dataframe()
    tidy = market.monthly()
    for name in ("A", "B"):
        mine = tidy[tidy["firm"] == name].reset_index(drop=True)
        for metric in market.metrics:
            np.testing.assert_array_equal(mine[metric].to_numpy(), wide[f"{metric}[{name}]"].to_numpy(), err_msg=metric)


ARMS = [
    [],
    [sim.ServiceRecovery(effort=0.9), sim.SmallGifts()],
    [sim.RetentionOffers(), sim.WinBackOffers(wait_months=1), sim.ProactiveCheckIns(every_months=2)],
    [sim.Upsell()],
]


@pytest.mark.parametrize("n_people", [400, 3_000])  # with one Mesa agent per person, and without
def test_arms_that_share_a_warm_up_give_byte_identical_results(n_people, monkeypatch):
    """The arms of a replication warm up without policies: the second arm starts from a copy of
    the first one's warmed-up market, and must end exactly where its own warm-up would lead."""
    monkeypatch.setattr(sim.market, "_warmed", sim.market._WarmedUp())
    for policies in ARMS:
        settings = dict(seed=21, n_people=n_people, months=8, contract_months=6, policies=policies)
        shared = make_market(share_warm_up=True, **settings).run()
        alone = make_market(**settings).run()
        assert shared.monthly().to_csv(index=False) == alone.monthly().to_csv(index=False)
        assert shared.customer_table().to_csv() == alone.customer_table().to_csv()
    assert len(sim.market._warmed.kept) == 1  # one warm-up served every arm


def test_markets_that_warm_up_differently_do_not_share_a_warm_up(monkeypatch):
    monkeypatch.setattr(sim.market, "_warmed", sim.market._WarmedUp())
    for settings in (dict(seed=1), dict(seed=2), dict(seed=1, failure_rate=0.05), dict(seed=1, base_churn=0.02)):
        shared = make_market(share_warm_up=True, months=3, **settings).run()
        assert shared.monthly().to_csv(index=False) == make_market(months=3, **settings).run().monthly().to_csv(index=False)
    assert len(sim.market._warmed.kept) == 4


def test_warmed_up_markets_are_kept_within_their_memory_budget(monkeypatch):
    budget = 3 * 400 * 200  # a few markets of 400 people
    monkeypatch.setattr(sim.market, "_warmed", sim.market._WarmedUp(budget_bytes=budget))
    for seed in range(20):
        make_market(share_warm_up=True, seed=seed, months=1)
    kept = sim.market._warmed.kept
    assert 0 < len(kept) < 20 and sum(size for _, size in kept.values()) <= budget


def test_a_shared_warm_up_lands_on_the_stated_customers_as_its_own_would(monkeypatch):
    monkeypatch.setattr(sim.market, "_warmed", sim.market._WarmedUp())
    for policies in ARMS[:2]:
        firms = [sim.Firm(name="A", customers=300, policies=policies), sim.Firm(name="B", customers=200)]
        shared = sim.Market(firms=firms, seed=4, months=4, share_warm_up=True).run()
        alone = sim.Market(firms=firms, seed=4, months=4).run()
        assert shared.monthly().to_csv(index=False) == alone.monthly().to_csv(index=False)
        assert shared.customer_table().to_csv() == alone.customer_table().to_csv()
    assert len(sim.market._warmed.kept) == 1
