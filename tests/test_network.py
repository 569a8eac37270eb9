"""The social network: every generator gives a clean, symmetric CSR of the size and density asked."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim import network as networks
from sim.network import SocialNetwork

from conftest import make_market

N = 2_000


def ties(net: SocialNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return net.rows.astype(np.int64), net.indices.astype(np.int64), net.strong


def assert_clean_symmetric_csr(net: SocialNetwork) -> None:
    assert net.indptr.shape == (net.n + 1,)
    assert net.indptr[0] == 0 and net.indptr[-1] == net.indices.size == net.strong.size
    assert np.all(np.diff(net.indptr) >= 0)
    a, b, strong = ties(net)
    assert np.all((b >= 0) & (b < net.n))
    assert not np.any(a == b), "self-ties"
    keys = a * net.n + b
    assert np.unique(keys).size == keys.size, "duplicate ties"
    # every tie is stored both ways, with the same strength
    forward = dict(zip(keys.tolist(), strong.tolist()))
    backward = (b * net.n + a).tolist()
    assert all(key in forward for key in backward), "asymmetric ties"
    assert all(forward[key] == s for key, s in zip(backward, strong.tolist())), "strength differs by direction"


def build(network: str, n: int = N, **settings) -> SocialNetwork:
    parameters = sim.make_parameters(n_people=n, network=network, **settings)
    return networks.build(parameters, np.random.default_rng(0))


GENERATED = ["small_world", "scale_free", "communities"]


@pytest.mark.parametrize("network", GENERATED)
@pytest.mark.parametrize("mean_degree", [4, 10])
def test_generated_networks_are_symmetric_without_self_or_duplicate_ties(network, mean_degree):
    assert_clean_symmetric_csr(build(network, mean_degree=mean_degree))


@pytest.mark.parametrize("network", ["small_world", "scale_free"])
@pytest.mark.parametrize("mean_degree", [4, 10, 20])
def test_mean_degree_is_near_the_requested_degree(network, mean_degree):
    net = build(network, mean_degree=mean_degree)
    assert net.degree.mean() == pytest.approx(mean_degree, rel=0.1)


@pytest.mark.parametrize("mean_degree,community_size", [(10, 9), (10, 12)])
def test_communities_in_small_groups_reach_the_requested_degree(mean_degree, community_size):
    net = build("communities", mean_degree=mean_degree, community_size=community_size,
                between_community_share=0.3)
    assert net.degree.mean() == pytest.approx(mean_degree, rel=0.15)


@pytest.mark.parametrize("mean_degree,community_size", [(4, 50), (10, 100)])
def test_communities_in_large_groups_reach_the_requested_degree(mean_degree, community_size):
    net = build("communities", mean_degree=mean_degree, community_size=community_size,
                between_community_share=0.3)
    assert net.degree.mean() == pytest.approx(mean_degree, rel=0.15)


def test_small_world_lattice_ties_are_strong_and_rewired_ties_weak():
    lattice = build("small_world", mean_degree=10, rewiring=0.0)
    assert lattice.strong.all()
    assert np.all(lattice.degree == 10)
    # without rewiring everyone knows exactly the k/2 nearest on each side of the ring
    a, b, _ = ties(lattice)
    ring_distance = np.minimum((a - b) % N, (b - a) % N)
    assert ring_distance.max() == 5
    rewired = build("small_world", mean_degree=10, rewiring=0.2)
    assert (~rewired.strong).mean() == pytest.approx(0.2, abs=0.03)
    a, b, strong = ties(rewired)
    ring_distance = np.minimum((a - b) % N, (b - a) % N)
    assert np.all(ring_distance[strong] <= 5), "a strong tie that is not a lattice tie"


def test_communities_ties_between_groups_are_weak_and_strong_ties_stay_inside():
    size = 20
    net = build("communities", mean_degree=10, community_size=size, between_community_share=0.3)
    a, b, strong = ties(net)
    same_group = a // size == b // size
    assert not np.any(strong & ~same_group), "a strong tie between groups"
    assert np.all(~strong[~same_group])
    assert strong.any() and (~strong).any()


def test_communities_cross_group_share_is_near_between_community_share():
    size = 9
    net = build("communities", mean_degree=10, community_size=size, between_community_share=0.3)
    a, b, _ = ties(net)
    crossing = (a // size != b // size).mean()
    assert crossing == pytest.approx(0.3, abs=0.05)


@pytest.mark.parametrize("share", [0.2, 0.8])
def test_scale_free_tie_strength_is_drawn_with_strong_tie_share(share):
    net = build("scale_free", mean_degree=10, strong_tie_share=share)
    assert net.strong.mean() == pytest.approx(share, abs=0.03)


def test_scale_free_degrees_are_heavy_tailed():
    net = build("scale_free", n=5_000, mean_degree=10)
    degree = net.degree
    assert degree.max() > 10 * degree.mean()
    assert degree.min() >= 1
    # a hub-dominated tail: the top 1% hold far more than 1% of the ties
    top = np.sort(degree)[-len(degree) // 100:]
    assert top.sum() / degree.sum() > 0.05


def test_small_world_degrees_are_not_heavy_tailed():
    degree = build("small_world", n=5_000, mean_degree=10).degree
    assert degree.max() < 3 * degree.mean()


def test_complete_mixing_connects_everyone_without_storing_ties():
    net = build("complete", n=300, mean_degree=10)
    assert net.complete
    assert np.all(net.degree == 299)
    assert net.indices.size == 0
    assert list(net.contacts(5)) == [i for i in range(300) if i != 5]
    flag = np.zeros(300, bool)
    flag[:30] = True
    # expected count of flagged people among the `mean_degree` one meets
    expected = net.count_among_contacts(flag)
    assert expected[100] == pytest.approx(30 * 10 / 299)
    assert expected[0] == pytest.approx(29 * 10 / 299)


def test_count_among_contacts_counts_flagged_neighbours():
    net = build("small_world", n=500, mean_degree=6, rewiring=0.3)
    flag = np.random.default_rng(1).random(500) < 0.3
    counted = net.count_among_contacts(flag)
    slow = np.array([flag[net.contacts(i)].sum() for i in range(500)])
    np.testing.assert_array_equal(counted, slow)


def write_edges(tmp_path, text: str):
    path = tmp_path / "edges.txt"
    path.write_text(text)
    return path


def test_edge_list_file_defines_the_people_and_their_ties(tmp_path):
    path = write_edges(tmp_path, "# a b\n10 20\n20, 30\n30 10\n40 10  # comment\n10 10\n20 10\n")
    net = build("edge_list", n=2, edge_list_path=str(path))
    assert net.n == 4  # ids 10, 20, 30, 40 renumbered 0..3 in sorted order
    assert_clean_symmetric_csr(net)
    assert sorted(net.contacts(0).tolist()) == [1, 2, 3]
    assert net.degree.sum() == 2 * 4  # the self-tie and the repeated 20-10 are dropped
    assert net.degree.mean() == pytest.approx(2.0)


def test_edge_list_third_column_gives_tie_strength(tmp_path):
    path = write_edges(tmp_path, "1 2 strong\n2 3 0\n3 4 1\n")
    net = build("edge_list", edge_list_path=str(path))
    a, b, strong = ties(net)
    as_dict = {(int(x), int(y)): bool(s) for x, y, s in zip(a, b, strong)}
    assert as_dict[(0, 1)] and as_dict[(1, 0)]
    assert not as_dict[(1, 2)]
    assert as_dict[(2, 3)]


def test_edge_list_market_has_one_person_per_id_in_the_file(tmp_path):
    lines = [f"{i} {(i + 1) % 50}" for i in range(50)] + [f"{i} {(i + 7) % 50}" for i in range(50)]
    path = write_edges(tmp_path, "\n".join(lines))
    market = sim.Market(seed=1, network="edge_list", edge_list_path=str(path), months=2).run()
    assert market.customers.n == 50 and market.parameters.n_people == 50
    assert len(market.customer_table()) == 50
    assert market.network.degree.mean() == pytest.approx(4.0)


def test_n_people_that_disagrees_with_the_edge_list_file_is_refused_not_ignored(tmp_path):
    path = write_edges(tmp_path, "\n".join(f"{i} {(i + 1) % 10}" for i in range(10)))
    with pytest.raises(ValueError, match=r"n_people = 300 is not allowed: .* has 10 people"):
        sim.Market(network="edge_list", edge_list_path=str(path), n_people=300)
    assert sim.Market(network="edge_list", edge_list_path=str(path), n_people=10, months=1).network.n == 10


def test_missing_edge_list_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(ValueError, match="edge_list_path.*no such file"):
        make_market(network="edge_list", edge_list_path=str(missing))


def test_malformed_edge_list_file_is_a_clear_error(tmp_path):
    path = write_edges(tmp_path, "1 2\n3\n")
    with pytest.raises(ValueError, match="edge_list_path"):
        make_market(network="edge_list", edge_list_path=str(path))


@pytest.mark.parametrize("network", GENERATED)
def test_networks_are_built_from_the_seed(network):
    first = make_market(seed=9, network=network).network
    second = make_market(seed=9, network=network).network
    np.testing.assert_array_equal(first.indices, second.indices)


def test_to_networkx_has_the_same_ties():
    net = build("small_world", n=200, mean_degree=6, rewiring=0.2)
    graph = net.to_networkx()
    assert graph.number_of_nodes() == 200
    assert 2 * graph.number_of_edges() == net.indices.size
    for person in (0, 57, 199):
        assert sorted(graph.neighbors(person)) == sorted(net.contacts(person).tolist())


@pytest.mark.parametrize("seed", range(4))
def test_the_csr_layout_is_row_major_with_contacts_in_increasing_order(seed):
    """`from_edges` lays ties out by a stable sort on the row alone; the layout must be the one
    a sort on (row, contact) gives, with each tie's strength (its first strength if repeated)."""
    rng = np.random.default_rng(seed)
    n = 300
    a, b = rng.integers(0, n, 3_000), rng.integers(0, n, 3_000)  # with self-ties and repeats
    strong = rng.random(3_000) < 0.5
    net = networks.from_edges(n, a, b, strong)
    first_strength = {}
    for x, y, s in zip(a.tolist(), b.tolist(), strong.tolist()):
        if x != y:
            first_strength.setdefault((min(x, y), max(x, y)), s)
    expected = sorted((x, y, s) for (low, high), s in first_strength.items() for x, y in ((low, high), (high, low)))
    rows = net.rows.tolist()
    assert list(zip(rows, net.indices.tolist(), net.strong.tolist())) == expected
    np.testing.assert_array_equal(net.indptr, np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n)))))
