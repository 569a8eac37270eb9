"""The fast paths compute the same numbers as the plain ones, bit for bit.

The compiled kernels (sim/kernels.py: the keyed streams, sampling contacts, counting defenders,
the month's feelings, the network's CSR) stand in for numpy expressions; experiment runs skip
Mesa's DataCollector and read the market's own monthly arrays. None of them may change a result.
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
    fast = streams.uniform("failure", 3, ids), streams.normal("quality", 3, ids)
    use(monkeypatch, None)
    plain = streams.uniform("failure", 3, ids), streams.normal("quality", 3, ids)
    for fast_draws, plain_draws in zip(fast, plain):  # uniforms, and the normals made of them
        assert fast_draws.shape == plain_draws.shape == ids.shape
        np.testing.assert_array_equal(fast_draws, plain_draws)


def test_a_market_gives_byte_identical_results_with_and_without_the_compiled_streams(monkeypatch):
    fast_kernels = kernels()
    policies = [sim.ServiceRecovery(effort=0.9), sim.SmallGifts()]
    use(monkeypatch, fast_kernels)
    fast = make_market(seed=11, months=6, policies=policies).run().monthly()
    use(monkeypatch, None)
    plain = make_market(seed=11, months=6, policies=policies).run().monthly()
    assert fast.to_csv(index=False) == plain.to_csv(index=False)


# Markets that exercise every kernel's branches: hubs with more than 64 contacts (scale free),
# complete mixing (no network kernels), second-hand news, heavy-tailed reach, three firms with policies
MARKETS = {
    "small world": dict(n_people=2_000),
    "scale free": dict(n_people=2_000, network="scale_free", mean_degree=16),
    "communities": dict(n_people=2_000, network="communities"),
    "complete mixing": dict(n_people=800, network="complete"),
    "relayed, heavy tail": dict(n_people=2_000, relay_probability=0.3, negative_reach_distribution="geometric",
                                negative_reach_max=40),
    "three firms": dict(n_people=2_000, firms=[
        sim.Firm(name="A", policies=["ServiceRecovery", "ProactiveCheckIns"]),
        sim.Firm(name="B", policies=["SmallGifts", "RetentionOffers", "Upsell"], failure_rate=0.05),
        sim.Firm(name="C", policies=["WinBackOffers"], quality=0.6)]),
    "targeted offers": dict(n_people=2_000, firms=[
        sim.Firm(name="A", policies=[sim.RetentionOffers(reach=0.5, target="churn_risk"),
                                     sim.ProactiveCheckIns(reach=0.3, target="connected")]),
        sim.Firm(name="B", price=45.0)]),
}


@pytest.mark.parametrize("name", MARKETS)
def test_markets_give_byte_identical_results_with_and_without_the_compiled_kernels(name, monkeypatch):
    fast_kernels = kernels()
    tables = []
    for module in (fast_kernels, None):
        use(monkeypatch, module)
        market = sim.Market(seed=17, months=12, datacollector=False, **MARKETS[name]).run()
        tables.append((market.monthly().to_csv(index=False), market.customer_table().to_csv()))
    assert tables[0] == tables[1]


def _network(kind: str):
    from sim.network import build
    from sim.parameters import make_parameters

    return build(make_parameters(n_people=3_000, network=kind, mean_degree=12), np.random.default_rng(5))


@pytest.mark.parametrize("kind", ["small_world", "scale_free", "communities"])
def test_compiled_contact_sampling_sends_the_messages_numpy_sends(kind, monkeypatch):
    from sim.phases.word_of_mouth import sample_contacts

    fast_kernels = kernels()
    market = make_market(n_people=3_000, months=1)
    market.network = _network(kind)
    rng = np.random.default_rng(2)
    talkers = np.sort(rng.choice(3_000, 900, replace=False))
    counts = rng.integers(0, 80, talkers.size)  # none, some, and more than some have (hubs have over 64)
    got = []
    for module in (fast_kernels, None):
        use(monkeypatch, module)
        got.append(sample_contacts(market, talkers, counts, "negative_listeners"))
    for fast, plain in zip(*got):
        np.testing.assert_array_equal(fast, plain)
        assert fast.dtype.kind == plain.dtype.kind
    assert got[0][0].size > 5_000  # the premise: many messages, from talkers of every kind


def test_compiled_defence_counts_the_loyal_contacts_numpy_counts(monkeypatch):
    from sim.phases.word_of_mouth import _defended

    fast_kernels = kernels()
    market = make_market(firms=[sim.Firm(name="A"), sim.Firm(name="B")], n_people=3_000, months=1)
    market.network = _network("scale_free")
    rng = np.random.default_rng(3)
    market.customers.loyalty[:] = rng.random(3_000)
    speaker = rng.integers(0, 3_000, 5_000)
    listener = market.network.indices[market.network.indptr[speaker]]  # a contact of the speaker
    about = rng.integers(0, 2, 5_000)
    got = []
    for module in (fast_kernels, None):
        use(monkeypatch, module)
        got.append(_defended(market, speaker, listener, about))
    np.testing.assert_array_equal(*got)
    assert 0 < got[0].mean() < 1


def test_compiled_feelings_follow_the_numpy_arithmetic_bit_for_bit(monkeypatch):
    """Random states far from the usual ones (surprises, price rises, failures, extremes): any
    reordering or fused multiply-add in the compiled loop would show in the last bits."""
    from sim.phases import experience

    fast_kernels = kernels()
    states = []
    for module in (fast_kernels, None):
        market = make_market(n_people=5_000, months=1, quality_noise=0.3, price_weight=0.7)
        c, rng = market.customers, np.random.default_rng(8)
        c.firm[:] = rng.integers(-1, 1, c.n)
        for name in ("expectation", "satisfaction", "temperament", "loyalty"):
            getattr(c, name)[:] = rng.random(c.n)
        def start_month(reset=c.start_month, c=c, rng=rng):  # the month's surprises and price rises, at random
            reset()
            c.price_rise[:] = rng.random(c.n) * (rng.random(c.n) < 0.2)
            c.surprise[:] = rng.random(c.n) * (rng.random(c.n) < 0.1)

        c.start_month = start_month
        use(monkeypatch, module)
        for month in range(3):
            market.month = month
            experience.run(market)
        states.append([getattr(c, name).copy() for name in ("expectation", "satisfaction", "loyalty", "grievance")])
    for fast, plain in zip(*states):
        np.testing.assert_array_equal(fast, plain)


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


def test_runs_sent_to_workers_travel_with_the_other_arms_of_their_replication():
    """On Dask workers the arms of one replication at one point are computed in one call, so the
    later arms start from the first one's warm-up on the same worker (and the plan's order is kept)."""
    from sim.experiments.design import RunTask
    from sim.experiments.runner import together

    tasks = [RunTask(arm, r, 100 + r, (), {}, point) for point in (0, 1) for arm in ("ignore", "recover", "gifts")
             for r in (0, 1)]
    groups = [[task.key for task in group.tasks] for group in together(tasks)]
    assert groups == [[f"p{point:05d}/{arm}__r{r}" for arm in ("ignore", "recover", "gifts")]
                      for point in (0, 1) for r in (0, 1)]
    assert sorted(key for group in groups for key in group) == sorted(task.key for task in tasks)


def test_only_markets_of_millions_tell_malloc_to_keep_freed_arrays(monkeypatch):
    from sim import allocation

    calls = []
    monkeypatch.setattr(allocation, "_done", [])
    monkeypatch.setattr(allocation, "_tune", lambda: calls.append(1) or True)
    assert not allocation.keep_freed_arrays(allocation.LARGE - 1) and not calls
    assert allocation.keep_freed_arrays(allocation.LARGE) and allocation.keep_freed_arrays(10**7)
    assert calls == [1]  # once per process


@pytest.mark.parametrize("satisfied_above, delighted_above", [(0.6, 0.85), (0.55, 0.9), (0.7, 0.71), (0.1, 0.99)])
def test_promoters_and_detractors_follow_from_two_satisfaction_thresholds(satisfied_above, delighted_above):
    """The compiled monthly sums count promoters as satisfaction at or above one threshold and
    detractors as below another: that must agree with the 0-10 score for every satisfaction,
    including the floats right at and beside each threshold."""
    from types import SimpleNamespace

    from sim.metrics import likelihood_to_recommend, score_thresholds

    promoter_from, passive_from = score_thresholds(satisfied_above, delighted_above)
    near = [np.nextafter(t, direction, dtype=np.float64) for t in (promoter_from, passive_from, satisfied_above,
                                                                   delighted_above) for direction in (0.0, 2.0)]
    satisfaction = np.concatenate((np.random.default_rng(4).random(200_000), np.linspace(0, 1, 10_001),
                                   [promoter_from, passive_from, satisfied_above, delighted_above], near))
    parameters = SimpleNamespace(satisfied_above=satisfied_above, delighted_above=delighted_above, loyal_above=np.inf)
    score = likelihood_to_recommend(satisfaction, np.zeros(satisfaction.size), parameters)
    np.testing.assert_array_equal(score >= 9, satisfaction >= promoter_from)
    np.testing.assert_array_equal(score <= 6, satisfaction < passive_from)
