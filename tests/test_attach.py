"""Points attach to the nearest point of the nearest usable road, not to the nearest junction.

The reference splits every segment at its attachment points in networkx
(independently of the engine's partial-cost arithmetic) and runs a plain
multi-source Dijkstra.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from test_reach import CRS, PROFILE, random_network, roads

from healthreach.network import attach_facilities, build_network
from healthreach.profile import load_profile
from healthreach.reach import nearest_facility, point_cost

WALK_MS = 4.5 / 3.6


def split_reference(net, mode, weight, direction, facilities, points, access_kmh=4.5):
    """Cost per point by networkx on the network with every segment split at the attachment points."""
    w = net.weights(mode, weight)
    m = net.n_segments
    graph = nx.DiGraph()
    graph.add_nodes_from(range(net.n_nodes))
    stops: dict[int, list] = {}
    for kind, at in (("f", facilities), ("p", points)):
        for i in range(len(at)):
            stops.setdefault(int(at.seg[i]), []).append((float(at.along_m[i]), (kind, i)))

    def add(a, b, cost):
        if np.isfinite(cost):
            a, b = (b, a) if direction == "to" else (a, b)  # 'to': search from the facilities on the reversed graph
            if not graph.has_edge(a, b) or graph[a][b]["w"] > cost:
                graph.add_edge(a, b, w=cost)

    for s in range(m):
        u, v, length = int(net.tail[s]), int(net.head[s]), float(net.length_m[s])
        chain = [(0.0, u), *sorted(stops.get(s, [])), (length, v)]
        for (a0, n0), (a1, n1) in itertools.pairwise(chain):
            frac = (a1 - a0) / length
            add(n0, n1, frac * w[s] if frac > 0 else 0.0)
            add(n1, n0, frac * w[s + m] if frac > 0 else 0.0)
    sources = {("f", i) for i in range(len(facilities))}
    graph.add_nodes_from(sources)
    dist = nx.multi_source_dijkstra_path_length(graph, sources, weight="w")
    leg = points.leg_m / (access_kmh / 3.6) if weight == "time" else points.leg_m
    return np.array([dist.get(("p", i), np.inf) for i in range(len(points))]) + leg


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(("mode", "weight", "direction"), [
    ("walk", "time", "to"), ("drive", "time", "to"), ("drive", "time", "from"),
    ("ambulance", "length", "from"), ("drive", "length", "to"),
])
def test_points_equal_a_reference_that_splits_the_segments(seed, mode, weight, direction):
    net, rng = random_network(seed, 40)
    xy = rng.uniform(-200, 8200, (60, 2))
    points = net.attach(xy[:, 0], xy[:, 1], mode)
    fac_xy = rng.uniform(0, 8000, (4, 2))
    facilities = net.attach(fac_xy[:, 0], fac_xy[:, 1], mode)
    # a facility on the segment of two points, to exercise the direct way along one segment
    facilities.seg[0] = points.seg[0]
    facilities.along_m[0] = net.length_m[points.seg[0]] * 0.37
    surface = nearest_facility(net, facilities, mode, weight, direction)
    cost, row = point_cost(net, surface, points, 4.5)
    expected = split_reference(net, mode, weight, direction, facilities, points)
    np.testing.assert_allclose(cost, expected, rtol=1e-9, atol=1e-5)
    # the facility named is one that reaches the point at that cost
    for i in np.flatnonzero(np.isfinite(expected))[:10]:
        alone = split_reference(net, mode, weight, direction, facilities[[row[i]]], points[[i]])
        assert alone[0] == pytest.approx(expected[i], abs=1e-5)
    assert (row[~np.isfinite(expected)] == -1).all()


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_attachment_is_the_nearest_point_of_the_nearest_usable_segment(mode):
    net, rng = random_network(4, 60)
    xy = rng.uniform(-500, 8500, (300, 2))
    at = net.attach(xy[:, 0], xy[:, 1], mode)
    usable = net.attachable(mode)
    lines = net.lines.geometry.to_numpy()
    pts = shapely.points(xy)
    brute = shapely.distance(pts[:, None], lines[usable][None, :]).min(axis=1)
    np.testing.assert_allclose(at.leg_m, brute, atol=1e-6)
    assert usable[at.seg].all()
    np.testing.assert_allclose(at.along_m, shapely.line_locate_point(lines[at.seg], pts), atol=1e-6)


def test_cell_50_m_off_the_middle_of_a_2_km_road():
    net = build_network(roads([((0, 0), (2000, 0))]), PROFILE, 0.0)
    clinic = net.attach(np.array([0.0]), np.array([0.0]), "walk")
    home = net.attach(np.array([1000.0]), np.array([50.0]), "walk")
    assert (home.leg_m[0], home.along_m[0]) == (pytest.approx(50.0), pytest.approx(1000.0))
    time_s, _ = point_cost(net, nearest_facility(net, clinic, "walk"), home, 4.5)
    assert time_s[0] == pytest.approx((50 + 1000) / WALK_MS)  # 840 s, not the 1000 m to the far junction and back
    metres, _ = point_cost(net, nearest_facility(net, clinic, "walk", "length"), home, 4.5)
    assert metres[0] == pytest.approx(1050.0)


def test_facility_and_cell_on_the_same_segment_meet_without_a_junction():
    net = build_network(roads([((0, 0), (2000, 0))]), PROFILE, 0.0)
    clinic = net.attach(np.array([1500.0]), np.array([10.0]), "walk")
    home = net.attach(np.array([500.0]), np.array([-20.0]), "walk")
    metres, row = point_cost(net, nearest_facility(net, clinic, "walk", "length"), home, 4.5)
    assert metres[0] == pytest.approx(20 + 1000)
    assert row[0] == 0
    for direction in ("to", "from"):
        time_s, _ = point_cost(net, nearest_facility(net, clinic, "walk", "time", direction), home, 4.5)
        assert time_s[0] == pytest.approx(20 / WALK_MS + 1000 / WALK_MS)


def test_one_way_segment_is_left_only_along_its_direction():
    # A(0,0) -> B(1000,0) one-way; back from B to A over C(500,1000), two-way
    detour = np.hypot(500, 1000)
    net = build_network(roads([((0, 0), (1000, 0)), ((1000, 0), (500, 1000)), ((500, 1000), (0, 0))],
                              oneway=[True, False, False]), PROFILE, 0.0)
    ms = 35 / 3.6
    station = net.attach(np.array([0.0]), np.array([0.0]), "drive")    # at A
    home = net.attach(np.array([300.0]), np.array([40.0]), "drive")      # 300 m along A -> B
    patient, _ = point_cost(net, nearest_facility(net, station, "drive", "length", "to"), home, 4.5)
    assert patient[0] == pytest.approx(40 + 700 + 2 * detour)  # on to B, round by C, back to A
    ambulance, _ = point_cost(net, nearest_facility(net, station, "drive", "length", "from"), home, 4.5)
    assert ambulance[0] == pytest.approx(40 + 300)               # straight along the one-way street
    walk, _ = point_cost(net, nearest_facility(net, station, "walk", "length", "to"), home, 4.5)
    assert walk[0] == pytest.approx(40 + 300)                    # walking ignores one-way rules
    # a station ahead on the same one-way segment: the patient drives straight there, the ambulance goes round
    ahead = net.attach(np.array([800.0]), np.array([0.0]), "drive")
    to_s, _ = point_cost(net, nearest_facility(net, ahead, "drive", "time", "to"), home, 4.5)
    assert to_s[0] == pytest.approx(40 / WALK_MS + 500 / ms)
    from_m, _ = point_cost(net, nearest_facility(net, ahead, "drive", "length", "from"), home, 4.5)
    assert from_m[0] == pytest.approx(40 + 200 + 2 * detour + 300)


def test_no_access_roads_are_never_attached_to():
    # an expressway 20 m from the point, a county road 300 m away, joined at their west ends
    frame = roads([((0, 20), (4000, 20)), ((0, 300), (4000, 300)), ((0, 20), (0, 300))],
                  classes=["expressway", "county", "county"])
    net = build_network(frame, PROFILE, 0.0)
    assert "expressway" in net.no_access
    at = net.attach(np.array([2000.0]), np.array([0.0]), "drive")
    assert net.lines["road_class"].iloc[at.seg[0]] == "county"
    assert at.leg_m[0] == pytest.approx(300.0)
    net.no_access = ()  # a study may allow it
    at = net.attach(np.array([2000.0]), np.array([0.0]), "drive")
    assert net.lines["road_class"].iloc[at.seg[0]] == "expressway"
    assert at.leg_m[0] == pytest.approx(20.0)


def test_no_access_is_a_profile_list_a_study_may_replace(tmp_path):
    from healthreach.study import StudyFile

    assert load_profile("default").no_access == ["expressway", "urban_expressway", "motorway", "motorway_link"]
    spec = {"name": "x", "roads": {"path": "r.gpkg"}, "facilities": {"path": "f.csv"}, "population": {"path": "p.tif"},
            "boundaries": {"path": "b.gpkg"}, "no_access": ["national", "县道"]}
    study = StudyFile.model_validate(spec)
    assert load_profile("default", study).no_access == ["national", "county"]  # Chinese names read as classes


def test_facility_snap_distance_is_the_distance_to_the_road():
    net = build_network(roads([((0, 0), (3000, 0))]), PROFILE, 0.0)
    fac = gpd.GeoDataFrame({"x": [1500.0], "y": [0.07]}, geometry=[shapely.Point(1500, 0.07)], crs=CRS)
    attach_facilities(net, fac)
    assert fac["snap_drive_m"].iloc[0] == pytest.approx(0.07)
    assert fac["snap_walk_m"].iloc[0] == pytest.approx(0.07)
    assert fac["along_drive_m"].iloc[0] == pytest.approx(1500.0)


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_demo_cells_equal_a_reference_that_splits_the_segments(mode, demo_inputs, demo_audit):
    """300 random populated demo cells, time *to* the nearest primary-care facility, against networkx."""
    from healthreach.travel import facility_attachment, in_group

    inputs = demo_inputs
    net, fac = inputs.network, inputs.facilities
    rows = np.flatnonzero(in_group(fac, inputs.profile.groups["primary_care"]))
    facilities = facility_attachment(fac, mode)[rows]
    populated = np.flatnonzero(inputs.cells.people > 0)
    sample = np.random.default_rng(11).choice(populated, 300, replace=False)
    cells = demo_audit.study.access[mode][sample]
    access_kmh = inputs.profile.travel.access_kmh
    cost, _ = point_cost(net, nearest_facility(net, facilities, mode, "time", "to"), cells, access_kmh)
    expected = split_reference(net, mode, "time", "to", facilities, cells, access_kmh)
    assert np.isfinite(expected).mean() > 0.9
    # 1e-6 s plus rounding: the engine stores a zero-cost edge (a facility on a junction) as 1e-6 s
    np.testing.assert_allclose(cost, expected, rtol=0, atol=1e-6 + 1e-9)
