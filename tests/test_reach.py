"""The shortest-path engine against networkx and against hand-computed cases."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from healthreach.network import build_network
from healthreach.profile import load_profile
from healthreach.reach import nearest_facility, point_cost

PROFILE = load_profile("default")
CRS = "EPSG:4545"


def roads(segments, classes=None, oneway=None) -> gpd.GeoDataFrame:
    """Road lines from ((x0, y0), (x1, y1)) pairs in metres."""
    n = len(segments)
    return gpd.GeoDataFrame({"road_class": classes or ["county"] * n, "oneway": oneway or [False] * n},
                            geometry=[shapely.LineString(s) for s in segments], crs=CRS)


def random_network(seed: int, n: int = 250):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 8000, (n, 2)).round(1)
    pairs = {(i, int(j)) for i in range(n) for j in rng.choice(n, 3, replace=False) if i != j}
    pairs = sorted(pairs)
    frame = roads([(xy[a], xy[b]) for a, b in pairs],
                  classes=list(rng.choice(["national", "county", "village", "urban_branch", "expressway"], len(pairs))),
                  oneway=list(rng.random(len(pairs)) < 0.35))
    return build_network(frame, PROFILE, merge_tolerance_m=0.0), rng


def reference(net, mode: str, weight: str, direction: str) -> nx.DiGraph:
    """The same graph in networkx, edges reversed for searches *to* the sources."""
    graph = nx.DiGraph()
    graph.add_nodes_from(range(net.n_nodes))
    for t, h, w in zip(net.tail, net.head, net.weights(mode, weight), strict=False):
        if not np.isfinite(w):
            continue
        a, b = (h, t) if direction == "to" else (t, h)
        if not graph.has_edge(a, b) or graph[a][b]["w"] > w:
            graph.add_edge(a, b, w=w)
    return graph


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(("mode", "weight", "direction"), [
    ("walk", "time", "to"), ("drive", "time", "to"), ("ambulance", "time", "from"), ("ambulance", "length", "from"),
])
def test_engine_equals_networkx_on_random_directed_graphs(seed, mode, weight, direction):
    net, rng = random_network(seed)
    sources = rng.choice(net.n_nodes, 6, replace=False)
    surface = nearest_facility(net, net.at_nodes(sources), mode, weight, direction)

    graph = reference(net, mode, weight, direction)
    lengths = nx.multi_source_dijkstra_path_length(graph, set(sources.tolist()), weight="w")
    expected = np.full(net.n_nodes, np.inf)
    expected[list(lengths)] = list(lengths.values())
    np.testing.assert_allclose(surface.cost, expected, rtol=0, atol=1e-5)

    # the facility reported as nearest is one whose own cost equals the minimum
    reached = np.flatnonzero(np.isfinite(expected))
    own = {k: nx.single_source_dijkstra_path_length(graph, int(sources[k]), weight="w") for k in range(len(sources))}
    for node in rng.choice(reached, 40):
        k = surface.facility[node]
        assert own[k][node] == pytest.approx(expected[node], abs=1e-5)
    assert (surface.facility[~np.isfinite(expected)] == -1).all()


def test_shared_node_reports_the_first_listed_facility():
    net = build_network(roads([((0, 0), (1000, 0))]), PROFILE, 0.0)
    surface = nearest_facility(net, net.at_nodes(np.array([0, 0])), "walk", rows=np.array([7, 3]))
    assert set(surface.facility) == {7}


def test_access_leg_walked_then_road_followed():
    # road 0 -- 500 -- 1000 m along y = 0; a clinic at x = 0; a home 200 m north of the middle node
    net = build_network(roads([((0, 0), (500, 0)), ((500, 0), (1000, 0))]), PROFILE, 0.0)
    clinic = net.attach(np.array([0.0]), np.array([0.0]), "walk")
    surface = nearest_facility(net, clinic, "walk")
    home = net.attach(np.array([500.0]), np.array([200.0]), "walk")
    assert home.leg_m[0] == pytest.approx(200.0)
    # 200 m off-road + 500 m of road, walked at 4.5 km/h = 1.25 m/s: 560 s
    assert point_cost(net, surface, home, access_kmh=4.5)[0][0] == pytest.approx(560.0)
    distance = nearest_facility(net, clinic, "walk", weight="length")
    assert point_cost(net, distance, home, access_kmh=4.5)[0][0] == pytest.approx(700.0)


def test_one_way_street_direction():
    # A(0,0) -> B(1000,0) is one-way; the way back from B runs over C(500,1000), two-way
    detour = 2 * np.hypot(500, 1000)
    net = build_network(roads([((0, 0), (1000, 0)), ((1000, 0), (500, 1000)), ((500, 1000), (0, 0))],
                              oneway=[True, False, False]), PROFILE, 0.0)
    a, b = np.argmin(np.hypot(net.x, net.y)), np.argmin(np.hypot(net.x - 1000, net.y))
    a = net.at_nodes(np.array([a]))
    county_ms = 35 / 3.6
    # a patient at B drives to a clinic at A: not against the one-way street, so via C
    to_a = nearest_facility(net, a, "drive", direction="to")
    assert to_a.cost[b] == pytest.approx(detour / county_ms)
    # an ambulance based at A drives to B along the one-way street
    from_a = nearest_facility(net, a, "drive", direction="from")
    assert from_a.cost[b] == pytest.approx(1000 / county_ms)
    # walking ignores one-way rules: 1000 m at 1.25 m/s
    assert nearest_facility(net, a, "walk").cost[b] == pytest.approx(800.0)
    # ambulances drive 1.2 x faster than cars
    amb = nearest_facility(net, a, "ambulance", direction="from")
    assert amb.cost[b] == pytest.approx(1000 / (county_ms * 1.2))


def test_walking_is_not_allowed_on_expressways():
    net = build_network(roads([((0, 0), (1000, 0)), ((1000, 0), (2000, 0))], classes=["expressway", "county"]),
                        PROFILE, 0.0)
    node = net.attach(np.array([2000.0]), np.array([0.0]), "walk")
    walk = nearest_facility(net, node, "walk")
    drive = nearest_facility(net, node, "drive")
    start = int(np.argmin(np.hypot(net.x, net.y)))
    assert np.isinf(walk.cost[start])
    assert drive.cost[start] == pytest.approx(1000 / (80 / 3.6) + 1000 / (35 / 3.6))


def test_no_facilities_means_nothing_is_reachable():
    net = build_network(roads([((0, 0), (1000, 0))]), PROFILE, 0.0)
    surface = nearest_facility(net, net.at_nodes(np.array([], int)), "walk")
    assert np.isinf(surface.cost).all()
    assert (surface.facility == -1).all()
