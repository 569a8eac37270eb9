"""The compiled network build (sim.kernels, counting in O(ties)) gives the numpy build's arrays,
bit for bit and dtype for dtype, for every generator and every edge list, and takes the same
draws from the random generator: a network, and so every result, must not change with numba."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim import network as networks
from sim.network import SocialNetwork

from test_fast_paths import kernels, use


def both(monkeypatch, build) -> tuple[SocialNetwork, SocialNetwork]:
    """`build()` with the compiled kernels, then with numpy alone (and the kernels back on)."""
    fast_kernels = kernels()
    use(monkeypatch, fast_kernels)
    fast = build()
    use(monkeypatch, None)
    plain = build()
    use(monkeypatch, fast_kernels)
    return fast, plain


def assert_same_arrays(fast: SocialNetwork, plain: SocialNetwork) -> None:
    assert fast.n == plain.n
    for name in ("indptr", "indices", "strong"):
        mine, reference = getattr(fast, name), getattr(plain, name)
        assert (mine.dtype, mine.shape) == (reference.dtype, reference.shape), name
        np.testing.assert_array_equal(mine, reference, err_msg=name)


def from_edges(monkeypatch, n, a, b, strong) -> SocialNetwork:
    fast, plain = both(monkeypatch, lambda: networks.from_edges(n, np.array(a), np.array(b), np.array(strong)))
    assert_same_arrays(fast, plain)
    return fast


GENERATED = [
    ("small_world", {"mean_degree": 10, "rewiring": 0.1}),
    ("small_world", {"mean_degree": 4, "rewiring": 0.0}),
    ("small_world", {"mean_degree": 30, "rewiring": 1.0}),
    ("scale_free", {"mean_degree": 10}),
    ("scale_free", {"mean_degree": 2}),
    ("communities", {"mean_degree": 10, "community_size": 9}),
    ("communities", {"mean_degree": 12, "community_size": 64, "between_community_share": 0.1}),
    ("communities", {"mean_degree": 10, "community_size": 500}),  # partners drawn at random
]


@pytest.mark.parametrize("n", [2, 3, 11, 5_000])
@pytest.mark.parametrize(("network", "settings"), GENERATED,
                         ids=[f"{network}-" + "-".join(map(str, settings.values())) for network, settings in GENERATED])
def test_every_generator_builds_the_same_arrays_and_takes_the_same_draws(network, settings, n, monkeypatch):
    parameters = sim.make_parameters(n_people=max(n, 2), network=network, **settings)
    rngs = []

    def build():
        rngs.append(np.random.default_rng(17))
        return networks.build(parameters, rngs[-1])

    assert_same_arrays(*both(monkeypatch, build))
    assert rngs[0].random() == rngs[1].random(), "the builds took different draws from the generator"


def test_a_duplicate_tie_keeps_the_strength_it_first_had_in_either_orientation(monkeypatch):
    a = [0, 1, 2, 1, 3, 0, 2, 3]
    b = [1, 0, 3, 2, 2, 1, 1, 0]
    strong = [True, False, False, True, True, False, False, True]
    net = from_edges(monkeypatch, 4, a, b, strong)
    assert net.contacts(0).tolist() == [1, 3] and net.strong[:2].tolist() == [True, True]
    assert net.contacts(2).tolist() == [1, 3] and net.strong[net.indptr[2]:net.indptr[3]].tolist() == [True, False]


def test_self_ties_are_dropped_and_isolated_people_have_empty_rows(monkeypatch):
    net = from_edges(monkeypatch, 6, [0, 2, 2, 5, 0], [0, 2, 4, 5, 4], [True, False, True, True, False])
    assert net.degree.tolist() == [1, 0, 1, 0, 2, 0]


def test_two_people_and_no_ties_at_all(monkeypatch):
    net = from_edges(monkeypatch, 2, [1, 0, 1], [0, 1, 1], [False, True, True])
    assert net.indices.tolist() == [1, 0] and net.strong.tolist() == [False, False]
    empty = from_edges(monkeypatch, 2, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool))
    assert empty.indptr.tolist() == [0, 0, 0] and empty.indices.size == 0


def test_hubs_longer_than_the_insertion_sort_are_sorted_stably(monkeypatch):
    """A star whose centre has hundreds of entries, each contact repeated with other strengths
    and in both orientations: the hub's row takes the merge-sort branch of the kernel."""
    rng = np.random.default_rng(4)
    leaves = rng.integers(1, 300, 2_000)
    centre_first = rng.random(2_000) < 0.5
    a = np.where(centre_first, 0, leaves)
    b = np.where(centre_first, leaves, 0)
    from_edges(monkeypatch, 300, a, b, rng.random(2_000) < 0.5)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint16, np.float64])
def test_any_numeric_person_ids_give_the_same_arrays(dtype, monkeypatch):
    rng = np.random.default_rng(8)
    a, b = rng.integers(0, 50, 400).astype(dtype), rng.integers(0, 50, 400).astype(dtype)
    from_edges(monkeypatch, 50, a, b, rng.random(400) < 0.3)


@pytest.mark.parametrize(("a", "b"), [([0, 5], [1, 2]), ([0, -1], [1, 2])])
def test_a_person_outside_the_network_is_an_error_either_way(a, b, monkeypatch):
    for module in (kernels(), None):
        use(monkeypatch, module)
        with pytest.raises(ValueError):
            networks.from_edges(5, np.array(a), np.array(b), np.array([True, False]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(2, 40),
    ties=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39), st.booleans()), max_size=300),
)
def test_any_edge_list_gives_the_same_arrays(n, ties, monkeypatch):
    ties = [(x % n, y % n, s) for x, y, s in ties]
    a, b, strong = (np.array([tie[i] for tie in ties], dtype) for i, dtype in ((0, np.int64), (1, np.int64), (2, bool)))
    from_edges(monkeypatch, n, a, b, strong)
