"""Building the network from messy lines: merging, splitting, pruning, caching."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from healthreach.errors import NetworkError
from healthreach.network import build_network, load_network, save_network
from healthreach.profile import load_profile

PROFILE = load_profile("default")


def frame(geoms, classes=None, crs="EPSG:4545"):
    return gpd.GeoDataFrame({"road_class": classes or ["county"] * len(geoms), "oneway": False},
                            geometry=geoms, crs=crs)


def test_ends_a_few_centimetres_apart_are_joined():
    lines = [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(100.03, 0.02), (200, 0)])]
    joined = build_network(frame(lines), PROFILE, merge_tolerance_m=0.5)
    assert joined.n_nodes == 3
    assert joined.report.endpoints_merged == 1
    apart = build_network(frame(lines), PROFILE, merge_tolerance_m=0.0)
    assert apart.report.components_dropped == 1  # without merging, the second line is an island


def test_multipart_lines_are_split_and_counted():
    multi = shapely.MultiLineString([[(0, 0), (100, 0)], [(100, 0), (100, 100)]])
    net = build_network(frame([multi]), PROFILE, 0.0)
    assert net.report.parts_split == 1
    assert net.n_nodes == 3
    assert net.length_m.sum() == pytest.approx(2 * 200)  # two directions per segment


def test_duplicate_segments_keep_the_fastest():
    line = shapely.LineString([(0, 0), (1000, 0)])
    net = build_network(frame([line, line], classes=["village", "national"]), PROFILE, 0.0)
    graph = net.graph("drive", "time")
    assert graph[0, 1] == pytest.approx(1000 / (50 / 3.6))  # national 50 km/h, not village 20


def test_disconnected_parts_are_dropped_and_reported():
    main = [shapely.LineString([(i * 100, 0), ((i + 1) * 100, 0)]) for i in range(10)]
    island = [shapely.LineString([(0, 5000), (300, 5000)])]
    net = build_network(frame(main + island), PROFILE, 0.0)
    assert net.n_nodes == 11
    assert net.report.components_dropped == 1
    assert net.report.nodes_dropped == 2
    assert net.report.km_dropped == pytest.approx(0.3)
    assert any("disconnected" in str(line) for line in net.report.lines())


def test_unknown_road_class_is_an_error_naming_it():
    with pytest.raises(NetworkError, match=r"'goat_track' \(1 segments\).*speeds_kmh"):
        build_network(frame([shapely.LineString([(0, 0), (1, 1)])], ["goat_track"]), PROFILE, 0.0, where="roads.gpkg")


def test_geographic_crs_is_refused():
    with pytest.raises(NetworkError, match="projected"):
        build_network(frame([shapely.LineString([(107, 29), (107.1, 29)])], crs="EPSG:4326"), PROFILE)


def test_cache_round_trip_preserves_everything(tmp_path):
    lines = [shapely.LineString([(0, 0), (50, 80), (100, 0)]), shapely.LineString([(100, 0), (300, 0)])]
    net = build_network(frame(lines, ["county", "village"]), PROFILE, 0.0)
    save_network(net, tmp_path / "net.npz")
    back = load_network(tmp_path / "net.npz")
    for attr in ("x", "y", "tail", "head", "length_m", "road_class"):
        np.testing.assert_array_equal(getattr(back, attr), getattr(net, attr))
    for mode in net.time_s:
        np.testing.assert_array_equal(back.time_s[mode], net.time_s[mode])
    assert shapely.equals(back.lines.geometry.to_numpy(), net.lines.geometry.to_numpy()).all()
    assert back.report == net.report


def test_distinct_end_points_and_their_numbering_equal_numpy_unique():
    from healthreach.network import _unique_rows

    rng = np.random.default_rng(4)
    base = np.round(rng.uniform(-5e4, 5e4, (2_000, 2)), 2)
    base[:10, 1] = base[10:20, 1]  # equal y, other x: the x decides the order
    base[20] = [-0.0, 0.0]
    base[21] = [0.0, -0.0]  # the same point as row 20
    xy = base[rng.integers(0, len(base), 20_000)]
    distinct, inverse = _unique_rows(xy)
    expected, expected_inverse = np.unique(xy, axis=0, return_inverse=True)
    assert np.array_equal(distinct, expected)
    assert np.array_equal(inverse, expected_inverse.ravel())
    assert np.array_equal(distinct[inverse], xy)


def test_a_network_equals_one_built_from_its_segments_in_networkx():
    import networkx as nx
    from conftest import grid_roads

    roads = grid_roads()
    net = build_network(roads, PROFILE)
    graph = nx.MultiDiGraph()
    for (x0, y0), (x1, y1), cls, oneway in zip(
            shapely.get_coordinates(shapely.get_point(roads.geometry.to_numpy(), 0)),
            shapely.get_coordinates(shapely.get_point(roads.geometry.to_numpy(), -1)),
            roads["road_class"], roads["oneway"], strict=True):
        graph.add_edge((round(x0, 6), round(y0, 6)), (round(x1, 6), round(y1, 6)), cls=cls)
        if not oneway:
            graph.add_edge((round(x1, 6), round(y1, 6)), (round(x0, 6), round(y0, 6)), cls=cls)
    ours = {((round(net.x[t], 6), round(net.y[t], 6)), (round(net.x[h], 6), round(net.y[h], 6)))
            for t, h, w in zip(net.tail, net.head, net.time_s["drive"], strict=True) if np.isfinite(w)}
    assert ours == set(graph.edges())
    assert net.n_nodes == graph.number_of_nodes()


def test_the_hilbert_order_steps_from_each_grid_square_to_a_neighbour():
    from healthreach.network import hilbert_order

    side = 1 << 5
    x, y = (v.ravel() + 0.5 for v in np.meshgrid(np.arange(side, dtype=float), np.arange(side, dtype=float)))
    order = hilbert_order(x * 10.0, y * 10.0, bits=5)  # metres: squares 10 m wide
    assert np.array_equal(np.sort(order), np.arange(side * side))
    steps = np.abs(np.diff(x[order])) + np.abs(np.diff(y[order]))
    assert np.all(steps == 1.0)  # every next point is one square up, down, left or right
    assert (x[order[0]], y[order[0]]) == (0.5, 0.5)


def test_nodes_are_numbered_along_the_hilbert_curve_with_the_same_roads():
    import networkx as nx
    from conftest import grid_roads

    from healthreach.network import hilbert_order

    net = build_network(grid_roads(), PROFILE)
    assert np.array_equal(hilbert_order(net.x, net.y), np.arange(net.n_nodes))
    # the same shortest times as networkx on the graph keyed by coordinates (numbering-free)
    graph = nx.DiGraph()
    for t, h, w in zip(net.tail, net.head, net.time_s["drive"], strict=True):
        if np.isfinite(w):
            a, b = (net.x[t], net.y[t]), (net.x[h], net.y[h])
            graph.add_edge(a, b, w=min(w, graph.edges[a, b]["w"] if graph.has_edge(a, b) else np.inf))
    from scipy.sparse.csgraph import dijkstra

    ours = dijkstra(net.graph("drive", "time"), indices=0)
    theirs = nx.single_source_dijkstra_path_length(graph, (net.x[0], net.y[0]), weight="w")
    assert len(theirs) == np.isfinite(ours).sum()
    for (px, py), seconds in theirs.items():
        node = np.flatnonzero((net.x == px) & (net.y == py))[0]
        assert ours[node] == pytest.approx(seconds, abs=1e-9)
