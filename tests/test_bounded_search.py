"""The compiled bounded Dijkstra (healthreach.bounded_search) against scipy's, and the per-facility pairs it gives.

The reference is ``scipy.sparse.csgraph.dijkstra(graph, indices=s,
limit=...)``: on random graphs with tied weights, edges of ``MIN_WEIGHT``,
nodes at exactly the limit, unreachable parts and both directions, the
costs must be equal bit for bit, and the scratch arrays ``inf`` (and -1)
again after every search. The pairs of :class:`ReachTables` are compared,
exactly, with the whole-network computation they replace (scipy from both
ends of the site's segment, combined over every node), on the demo county
and on a generated study.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from benchmarks import synth
from healthreach import bounded_search
from healthreach.bounded_search import SiteSearch
from healthreach.network import MIN_WEIGHT
from healthreach.reach import Surface, point_cost, source_seeds
from healthreach.standards import reach_tables
from healthreach.standards.reach_tables import ReachTables

TINY = synth.Size("tiny", 11, 8)  # a 2 x 2 km generated study: 400 cells, 8 facilities


def random_graph(rng: np.random.Generator, n: int, m: int, tied: bool) -> sparse.csr_matrix:
    """A directed graph of ``n`` nodes and up to ``m`` edges, weights > 0 (a few of ``MIN_WEIGHT``); ``tied``:
    a few distinct weights, so many paths cost the same. Nodes at the end are often unreachable.
    """
    tail, head = rng.integers(0, n, m), rng.integers(0, max(n - 3, 1), m)  # the last nodes have no edge in
    if tied:
        w = rng.choice([MIN_WEIGHT, 0.1, 0.2, 0.3, 1.0, 2.0], m)
    else:
        w = rng.random(m) * 100 + MIN_WEIGHT
        w[rng.random(m) < 0.05] = MIN_WEIGHT
    graph = sparse.coo_matrix((w, (tail, head)), shape=(n, n)).tocsr()
    graph.sum_duplicates()
    return graph


def within(site: SiteSearch, source: int, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """The nodes one bounded search from ``source`` reaches within ``limit`` and their costs (a site standing
    on ``source``: its other end has an infinite start, so only ``source`` is searched).
    """
    with site.costs(source, 0.0, source, np.inf, limit) as nodes:
        return nodes.copy(), site.node_cost[nodes].copy()


def dense(nodes: np.ndarray, cost: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.inf)
    out[nodes] = cost
    return out


@pytest.mark.parametrize("tied", [True, False])
def test_costs_equal_scipy_with_a_limit_on_random_graphs(tied):
    rng = np.random.default_rng(7 if tied else 8)
    for _ in range(150):
        n = int(rng.integers(2, 400))
        graph = random_graph(rng, n, int(rng.integers(1, 4 * n)), tied)
        for g in (graph, graph.T.tocsr()):  # both directions
            search = SiteSearch(g)
            ref_all = dijkstra(g, directed=True, indices=np.arange(n))
            for s in rng.integers(0, n, 4):
                finite = ref_all[s][np.isfinite(ref_all[s])]
                # no limit, a limit some node is reached at exactly, and one between the reached costs
                for limit in (np.inf, float(rng.choice(finite)), float(rng.choice(finite)) * 0.7):
                    nodes, cost = within(search, int(s), limit)
                    ref = dijkstra(g, directed=True, indices=int(s), limit=limit)
                    assert len(np.unique(nodes)) == len(nodes)
                    np.testing.assert_array_equal(dense(nodes, cost, n), ref)
                    assert np.isinf(search.dist).all()
                    assert np.isinf(search.node_cost).all()


def test_a_node_at_exactly_the_limit_counts():
    # 0 -> 1 -> 2 costs 0.1 + 0.2 (0.30000000000000004 in floating point), 0 -> 3 costs 0.3
    graph = sparse.csr_matrix((np.array([0.1, 0.2, 0.3]), (np.array([0, 1, 0]), np.array([1, 2, 3]))), shape=(4, 4))
    search = SiteSearch(graph)
    for limit in (0.1 + 0.2, 0.3, 0.2999):
        nodes, cost = within(search, 0, limit)
        np.testing.assert_array_equal(dense(nodes, cost, 4), dijkstra(graph, indices=0, limit=limit))
    nodes, _ = within(search, 0, 0.3)
    assert sorted(nodes.tolist()) == [0, 1, 3]  # 0.1 + 0.2 > 0.3: node 2 is out
    nodes, _ = within(search, 0, 0.1 + 0.2)
    assert sorted(nodes.tolist()) == [0, 1, 2, 3]
    nodes, cost = within(search, 2, 5.0)  # nothing leaves node 2
    assert nodes.tolist() == [2]
    assert cost.tolist() == [0.0]


def test_a_site_search_combines_both_ends_as_the_whole_network_arrays_do():
    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(2, 300))
        graph = random_graph(rng, n, int(rng.integers(1, 4 * n)), bool(rng.random() < 0.5))
        site = SiteSearch(graph)
        for _ in range(4):
            u, v = (int(x) for x in rng.integers(0, n, 2))
            start_u, start_v = (float(rng.choice([0.0, MIN_WEIGHT, rng.random() * 50, np.inf])) for _ in range(2))
            limit = float(rng.choice([30.0, 100.0, np.inf]))
            dist = dijkstra(graph, directed=True, indices=np.array([u, v]))
            combined = np.minimum(start_u + dist[0], start_v + dist[1])
            expected = np.where(combined <= limit, combined, np.inf)
            with site.costs(u, start_u, v, start_v, limit) as reached:
                assert len(np.unique(reached)) == len(reached)
                np.testing.assert_array_equal(np.sort(reached), np.flatnonzero(np.isfinite(expected)))
                np.testing.assert_array_equal(site.node_cost, expected)
                np.testing.assert_array_equal(site.node_row, np.where(np.isfinite(expected), 0, -1))
            assert np.isinf(site.node_cost).all()
            assert (site.node_row == -1).all()
            assert np.isinf(site.dist).all()


def test_a_site_between_two_ends_of_equal_cost_finds_every_tie():
    # a ring: both ends reach every node, half of them at exactly the same cost (weights are powers of two)
    n = 64
    tail = np.r_[np.arange(n), (np.arange(n) + 1) % n]
    head = np.r_[(np.arange(n) + 1) % n, np.arange(n)]
    graph = sparse.csr_matrix((np.full(2 * n, 0.25), (tail, head)), shape=(n, n))
    site = SiteSearch(graph)
    dist = dijkstra(graph, directed=True, indices=np.array([0, 1]))
    expected = np.minimum(0.125 + dist[0], 0.125 + dist[1])
    for limit in (np.inf, 4.0, 3.875):
        with site.costs(0, 0.125, 1, 0.125, limit) as reached:
            np.testing.assert_array_equal(np.sort(reached), np.flatnonzero(expected <= limit))
            np.testing.assert_array_equal(site.node_cost, np.where(expected <= limit, expected, np.inf))


def test_weights_too_small_to_change_a_total_fill_the_heap_and_the_search_runs_again_with_more_room():
    # every path from 0 to node j of a complete DAG costs about 1e-19 per edge, far below the rounding of a total
    # near 1.0, so settled nodes are lowered again at the same total; a hub then fans out to 500 leaves
    k, leaves = 18, 500
    tail = [i for i in range(k) for j in range(i + 1, k)] + [k - 1] * leaves
    head = [j for i in range(k) for j in range(i + 1, k)] + list(range(k, k + leaves))
    weight = [1e-19 * (j - i) ** 2 for i in range(k) for j in range(i + 1, k)] + [1e-15] * leaves
    n = k + leaves
    graph = sparse.csr_matrix((weight, (tail, head)), shape=(n, n))
    site = SiteSearch(graph)
    expected = 1.0 + dijkstra(graph, directed=True, indices=0)
    with site.costs(0, 1.0, 0, np.inf, 10.0) as reached:
        assert len(reached) == n
        np.testing.assert_array_equal(site.node_cost, expected)
    assert len(site.heap_cost) > 2 * graph.nnz + 2  # it was full, and grew
    assert np.isinf(site.dist).all()
    assert np.isinf(site.node_cost).all()


def test_an_end_with_an_infinite_start_is_not_searched_even_without_a_limit():
    n = 1000
    chain = sparse.csr_matrix((np.ones(n - 1), (np.arange(n - 1), np.arange(1, n))), shape=(n, n))
    site = SiteSearch(chain)
    with site.costs(500, 0.5, 0, np.inf, np.inf) as reached:
        np.testing.assert_array_equal(np.sort(reached), np.arange(500, n))
        assert site.labels[0] == 500


def test_each_end_searches_little_beyond_its_own_side():
    # a 60 x 60 grid of two-way streets and a site on a segment: within a limit, each end searches its own side
    side = 60
    node = np.arange(side * side).reshape(side, side)
    pairs = [(node[:, :-1], node[:, 1:]), (node[:-1, :], node[1:, :])]
    tail = np.concatenate([a.ravel() for a, b in pairs] + [b.ravel() for a, b in pairs])
    head = np.concatenate([b.ravel() for a, b in pairs] + [a.ravel() for a, b in pairs])
    graph = sparse.csr_matrix((np.full(len(tail), 10.0), (tail, head)), shape=(side * side, side * side))
    site = SiteSearch(graph)
    u, v = int(node[30, 30]), int(node[30, 31])
    dist = dijkstra(graph, directed=True, indices=np.array([u, v]))
    expected = np.minimum(3.0 + dist[0], 7.0 + dist[1])
    with site.costs(u, 3.0, v, 7.0, np.inf) as reached:  # no limit, no margin: both ends search everything
        np.testing.assert_array_equal(site.node_cost, expected)
        assert site.labels[0] == 2 * len(reached)
    with site.costs(u, 3.0, v, 7.0, 300.0) as reached:
        np.testing.assert_array_equal(site.node_cost, np.where(expected <= 300.0, expected, np.inf))
        assert site.labels[0] < 1.2 * len(reached)  # each end one row of nodes past its own side


def test_the_scratch_arrays_are_reset_when_the_block_raises():
    graph = sparse.csr_matrix((np.ones(2), (np.array([0, 1]), np.array([1, 2]))), shape=(3, 3))
    site = SiteSearch(graph)
    seen = []

    def fail_inside() -> None:
        with site.costs(0, 0.0, 2, 0.0, 10.0) as reached:
            seen.extend(reached.tolist())
            raise KeyError(0)
    with pytest.raises(KeyError):
        fail_inside()
    assert sorted(seen) == [0, 1, 2]
    assert np.isinf(site.node_cost).all()
    assert (site.node_row == -1).all()


def test_an_interrupt_as_the_search_returns_leaves_no_scratch_behind(monkeypatch):
    """A Ctrl-C is raised when compiled code returns, before its result is stored: every node is reset."""
    graph = sparse.csr_matrix((np.ones(3), (np.array([0, 1, 2]), np.array([1, 2, 3]))), shape=(4, 4))
    site = SiteSearch(graph)
    compiled = bounded_search._site

    def interrupted(*args):
        compiled(*args)
        raise KeyboardInterrupt
    monkeypatch.setattr(bounded_search, "_site", interrupted)
    with pytest.raises(KeyboardInterrupt), site.costs(0, 0.0, 0, np.inf, 10.0):
        pass
    assert np.isinf(site.node_cost).all()
    assert (site.node_row == -1).all()
    assert np.isinf(site.dist).all()
    monkeypatch.setattr(bounded_search, "_site", compiled)
    nodes, cost = within(site, 1, 10.0)
    np.testing.assert_array_equal(dense(nodes, cost, 4), dijkstra(graph, indices=1, limit=10.0))


def whole_network_pairs(reach: ReachTables, mode: str, site, limit_s: float) -> tuple[np.ndarray, np.ndarray]:
    """One site's (cells, seconds) computed over whole-network arrays with scipy, as the searches were before
    the bounded search.
    """
    net, index = reach.net, reach.cell_index[mode]
    u, v, cost_u, cost_v = source_seeds(net, mode, "time", "to", site)
    graph = net.graph(mode, "time", reverse=True)
    dist = dijkstra(graph, directed=True, indices=np.array([u[0], v[0]]), limit=limit_s)
    node = np.minimum(cost_u[0] + dist[0], cost_v[0] + dist[1])
    cells = index.cells_near(np.flatnonzero(node <= limit_s), site.seg)
    cells = cells[reach.populated[cells]]
    if len(cells) == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    legs = index.legs(net, mode, "time", "to", reach.access_kmh)
    cell_u, cell_v, to_u, to_v, leg_s = legs.u, legs.v, legs.to_u, legs.to_v, legs.leg
    seconds = leg_s[cells] + np.minimum(to_u[cells] + node[cell_u[cells]], to_v[cells] + node[cell_v[cells]])
    own = np.flatnonzero(index.at.seg[cells] == site.seg[0])
    if len(own):
        surface = Surface(mode, "time", "to", node, np.where(np.isfinite(node), 0, -1), site, np.zeros(1, np.int64))
        seconds[own], _ = point_cost(net, surface, index.at[cells[own]], reach.access_kmh)
    keep = seconds <= limit_s
    return cells[keep].astype(np.int64), seconds[keep]


def assert_pairs_as_before(evaluation, limits_s: tuple[float, ...]) -> int:
    """Every facility's pairs, walking and driving, at each limit, equal the whole-network computation's."""
    whole = evaluation.whole
    fresh = ReachTables(whole.reach.net, whole.reach.cell_index, whole.reach.access_kmh, whole.reach.populated)
    compared = 0
    for mode in ("drive", "walk"):
        at = whole.attached[mode]
        for row in range(len(at)):
            for limit in limits_s:
                cells, seconds = fresh.one(mode, at[np.array([row])], limit)
                ref_cells, ref_seconds = whole_network_pairs(fresh, mode, at[np.array([row])], limit)
                np.testing.assert_array_equal(cells, ref_cells)
                np.testing.assert_array_equal(seconds, ref_seconds)  # bit for bit
                compared += len(cells)
    return compared


def test_pairs_equal_the_whole_network_computation_on_the_demo(demo_audit):
    assert assert_pairs_as_before(demo_audit, (600.0, 1800.0)) > 100_000


def test_pairs_equal_the_whole_network_computation_on_a_generated_study(tmp_path):
    study = synth.open_generated(TINY, tmp_path, seed=5)
    assert assert_pairs_as_before(study.baseline(), (120.0, 600.0, 1800.0)) > 1_000


def test_sites_searched_on_threads_equal_one_at_a_time(demo_audit, monkeypatch):
    whole = demo_audit.whole
    at = whole.attached["drive"]
    rows = np.arange(len(at))
    serial = ReachTables(whole.reach.net, whole.reach.cell_index, whole.reach.access_kmh, whole.reach.populated)
    threaded = ReachTables(whole.reach.net, whole.reach.cell_index, whole.reach.access_kmh, whole.reach.populated)
    monkeypatch.setattr(reach_tables, "cores", lambda: 4)  # as many threads as it may use
    threaded.search_rows("drive", at, rows, 1800.0)
    assert reach_tables.THREADS > 1
    for row in rows:
        cells, seconds = threaded.of_row("drive", at, int(row), 1800.0)
        ref_cells, ref_seconds = serial.one("drive", at[np.array([row])], 1800.0)
        np.testing.assert_array_equal(cells, ref_cells)
        np.testing.assert_array_equal(seconds, ref_seconds)
