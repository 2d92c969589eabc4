"""The nearest-road search (``SegmentIndex``) is exact: brute force, the STRtree search and ties.

``SegmentIndex.nearest`` answers most points from a KD-tree over sub-piece
midpoints and proves each answer; the rest go to an STRtree. Both must give
the nearest road point of a brute-force search over every piece, and the
same answer as each other, ties included.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from healthreach import network
from healthreach.errors import NetworkError
from healthreach.network import SegmentIndex


def random_lines(seed: int, n: int = 60, extent_m: float = 5000.0) -> np.ndarray:
    """Random polylines: 2 to 7 vertices, some repeated (zero-length pieces), many starting at another's vertex."""
    rng = np.random.default_rng(seed)
    lines, vertices = [], []
    for _ in range(n):
        reuse = vertices and rng.random() < 0.6
        start = vertices[rng.integers(len(vertices))] if reuse else rng.uniform(0, extent_m, 2)
        steps = rng.uniform(-700, 700, (rng.integers(1, 7), 2)).round(1)
        steps[rng.random(len(steps)) < 0.15] = 0.0  # a repeated vertex
        coords = np.vstack([start, start + np.cumsum(steps, axis=0)])
        if np.hypot(*(coords[-1] - coords[0])) == 0 and len(np.unique(coords, axis=0)) == 1:
            coords[-1] += 10.0
        lines.append(shapely.LineString(coords))
        vertices.extend(coords)
    return np.array(lines, dtype=object)


def brute_force(lines: np.ndarray, x: np.ndarray, y: np.ndarray):
    """Per point: the least distance (metres) to any line, and whether the nearest road point is unique."""
    pts = shapely.points(x, y)
    d = shapely.distance(pts[:, None], lines[None, :])
    least = d.min(axis=1)
    near = shapely.shortest_line(pts[:, None], lines[None, :])
    end = shapely.get_coordinates(shapely.get_point(near, 1)).reshape(len(x), len(lines), 2)
    tied = d <= least[:, None] + 1e-6
    best = end[np.arange(len(x)), d.argmin(axis=1)]
    unique = np.array([np.abs(end[i][tied[i]] - best[i]).max() < 1e-6 for i in range(len(x))])
    return least, best, unique


def attached_xy(lines: np.ndarray, at) -> np.ndarray:
    return shapely.get_coordinates(shapely.line_interpolate_point(lines[at.seg], at.along_m))


def probe_points(lines: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Points near and far (up to 20 km off), on every vertex (junctions) and on the middle of pieces."""
    coords = shapely.get_coordinates(lines)
    spread = rng.uniform(-1500, 6500, (400, 2))
    far = rng.uniform(-20000, 25000, (60, 2))
    mid = (coords[:-1] + coords[1:]) / 2
    xy = np.vstack([spread, far, coords, mid])
    return xy[:, 0].copy(), xy[:, 1].copy()


@pytest.mark.parametrize("seed", range(6))
def test_nearest_equals_brute_force_on_random_lines(seed):
    lines = random_lines(seed)
    mask = np.ones(len(lines), bool)
    mask[::7] = False  # segments a mode may not use are not searched
    index = SegmentIndex.build(lines, mask, sub_piece_m=[25.0, 50.0, 100.0][seed % 3])
    x, y = probe_points(lines[mask], np.random.default_rng(seed))
    length = shapely.length(lines)
    at = index.nearest(x, y, length)
    least, best, unique = brute_force(lines[mask], x, y)
    np.testing.assert_allclose(at.leg_m, least, rtol=0, atol=1e-9)
    assert mask[at.seg].all()
    np.testing.assert_allclose(attached_xy(lines, at)[unique], best[unique], rtol=0, atol=1e-6)
    assert ((at.along_m >= 0) & (at.along_m <= length[at.seg])).all()


@pytest.mark.parametrize("seed", range(4))
def test_the_kd_tree_and_the_strtree_give_the_same_answer_ties_included(seed, monkeypatch):
    lines = random_lines(seed + 10)
    index = SegmentIndex.build(lines, np.ones(len(lines), bool), sub_piece_m=40.0)
    x, y = probe_points(lines, np.random.default_rng(seed))
    length = shapely.length(lines)
    fast = index.nearest(x, y, length)
    monkeypatch.setattr(network, "_ROUNDS", ())  # every point to the STRtree
    slow = index.nearest(x, y, length)
    np.testing.assert_array_equal(fast.seg, slow.seg)
    np.testing.assert_array_equal(fast.along_m, slow.along_m)
    np.testing.assert_array_equal(fast.leg_m, slow.leg_m)


def test_points_far_from_every_road_are_answered_by_the_strtree(monkeypatch):
    # a long straight road beside the random ones: 20 km off its middle, dozens of midpoints are about as near
    far_road = shapely.LineString([(-20000, -30000), (20000, -30000)])
    lines = np.r_[random_lines(3, n=60), np.array([far_road], dtype=object)]
    index = SegmentIndex.build(lines, np.ones(len(lines), bool), sub_piece_m=25.0)
    rng = np.random.default_rng(0)
    x = np.r_[rng.uniform(-60000, 60000, 300), rng.uniform(-5000, 5000, 20)]
    y = np.r_[rng.uniform(-60000, 60000, 300), np.full(20, -50000.0)]
    asked = []
    original = index._nearest_by_strtree
    monkeypatch.setattr(index, "_nearest_by_strtree", lambda px, py: asked.append(len(px)) or original(px, py))
    at = index.nearest(x, y, shapely.length(lines))
    assert sum(asked) >= 20  # the midpoint bound cannot prove these: the fallback ran
    least, best, unique = brute_force(lines, x, y)
    np.testing.assert_allclose(at.leg_m, least, rtol=0, atol=1e-9)
    np.testing.assert_allclose(attached_xy(lines, at)[unique], best[unique], rtol=0, atol=1e-6)


def test_points_near_the_roads_never_need_the_strtree(monkeypatch):
    lines = random_lines(5, n=120)
    index = SegmentIndex.build(lines, np.ones(len(lines), bool), sub_piece_m=50.0)
    coords = shapely.get_coordinates(lines)
    rng = np.random.default_rng(1)
    xy = coords[rng.integers(len(coords), size=2000)] + rng.uniform(-60, 60, (2000, 2))
    monkeypatch.setattr(index, "_nearest_by_strtree", lambda px, py: pytest.fail(f"{len(px)} points not proven"))
    index.nearest(xy[:, 0], xy[:, 1], shapely.length(lines))


@pytest.mark.parametrize("fallback", [False, True])
def test_ties_go_to_the_lowest_segment_row(fallback, monkeypatch):
    if fallback:
        monkeypatch.setattr(network, "_ROUNDS", ())
    # rows 0-1: two parallel roads 100 m apart; rows 2-4: three roads meeting at (5000, 5000), listed high to low
    lines = np.array([shapely.LineString([(0, 100), (1000, 100)]), shapely.LineString([(0, 0), (1000, 0)]),
                      shapely.LineString([(5000, 5000), (5000, 6000)]),
                      shapely.LineString([(4000, 5000), (5000, 5000)]),
                      shapely.LineString([(5000, 5000), (6000, 4000)])], dtype=object)
    for order in (np.arange(5), np.array([1, 0, 4, 3, 2])):
        shuffled = lines[order]
        index = SegmentIndex.build(shuffled, np.ones(5, bool), sub_piece_m=30.0)
        x, y = np.array([500.0, 5000.0, 5000.0]), np.array([50.0, 5000.0, 4990.0])
        at = index.nearest(x, y, shapely.length(shuffled))
        assert at.leg_m[:2].tolist() == [50.0, 0.0]
        # the midway point goes to the lower row; the junction to the lowest of its three roads
        assert at.seg[0] == min(np.flatnonzero(np.isin(order, [0, 1])))
        assert at.seg[1] == min(np.flatnonzero(np.isin(order, [2, 3, 4])))
        # 10 m south of the junction: equally near the junction for roads 2 and 3, nearer road 4 (the diagonal)
        assert shuffled[at.seg[2]].equals(lines[4])


def test_zero_length_pieces_are_skipped_and_metres_along_count_the_real_pieces():
    # a line with a repeated vertex: pieces 0-100, 100-100 (nothing), 100-300 along x
    lines = np.array([shapely.LineString([(0, 0), (100, 0), (100, 0), (300, 0)])], dtype=object)
    index = SegmentIndex.build(lines, np.ones(1, bool), sub_piece_m=25.0)
    assert len(index.start) == 2
    at = index.nearest(np.array([100.0, 250.0, -30.0]), np.array([0.0, 7.0, 40.0]), np.array([300.0]))
    np.testing.assert_allclose(at.along_m, [100.0, 250.0, 0.0])
    np.testing.assert_allclose(at.leg_m, [0.0, 7.0, 50.0])


def test_points_without_finite_coordinates_are_an_error():
    lines = np.array([shapely.LineString([(0, 0), (100, 0)])], dtype=object)
    index = SegmentIndex.build(lines, np.ones(1, bool))
    with pytest.raises(NetworkError, match=r"2 points without finite coordinates.*row 1"):
        index.nearest(np.array([1.0, np.nan, 3.0]), np.array([1.0, 2.0, np.inf]), np.array([100.0]))


def test_no_points_give_an_empty_attachment():
    lines = np.array([shapely.LineString([(0, 0), (100, 0)])], dtype=object)
    at = SegmentIndex.build(lines, np.ones(1, bool)).nearest(np.zeros(0), np.zeros(0), np.array([100.0]))
    assert len(at) == 0
    assert at.seg.dtype == np.int64


def test_demo_county_kd_tree_equals_strtree_and_geos_distance(demo_inputs, monkeypatch):
    net = demo_inputs.network
    cells = demo_inputs.cells
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = net.lines.total_bounds
    x = np.r_[rng.uniform(x0, x1, 15000), rng.choice(cells.x, 5000)]
    y = np.r_[rng.uniform(y0, y1, 15000), rng.choice(cells.y, 5000)]
    for mode in ("walk", "drive"):
        index = net.segment_index(mode)
        fast = net.attach(x, y, mode)
        with monkeypatch.context() as patch:
            patch.setattr(network, "_ROUNDS", ())
            slow = index.nearest(x, y, net.length_m)
        np.testing.assert_array_equal(fast.seg, slow.seg)
        np.testing.assert_array_equal(fast.along_m, slow.along_m)
        lines = net.lines.geometry.to_numpy()
        usable = lines[net.attachable(mode)]
        geos = shapely.distance(shapely.points(x, y), usable[shapely.STRtree(usable).query_nearest(
            shapely.points(x, y), all_matches=False)[1]])
        np.testing.assert_allclose(fast.leg_m, geos, rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_a_few_points_are_searched_among_the_pieces_near_them_with_the_same_answer(seed):
    # 400 lines over 30 km (about 1,500 pieces), 12 points: the search over near pieces answers
    lines = random_lines(seed + 20, n=400, extent_m=30000.0)
    index = SegmentIndex.build(lines, np.ones(len(lines), bool), sub_piece_m=50.0)
    rng = np.random.default_rng(seed)
    coords = shapely.get_coordinates(lines)
    xy = np.vstack([coords[rng.integers(len(coords), size=6)],  # on junctions: ties between roads
                    rng.uniform(0, 30000, (4, 2)),
                    [[-9000.0, 15000.0], [15000.0, 60000.0]]])  # far from every road: searched among all pieces
    x, y = xy[:, 0].copy(), xy[:, 1].copy()
    assert 0 < len(x) * network._PIECES_PER_FEW < len(index.start)
    length = shapely.length(lines)
    at = index.nearest(x, y, length)
    assert index._midpoint_search is not None  # the far points needed the tree of all pieces
    every = index.nearest_among_all(x, y, length)
    np.testing.assert_array_equal(at.seg, every.seg)
    np.testing.assert_array_equal(at.along_m, every.along_m)
    np.testing.assert_array_equal(at.leg_m, every.leg_m)
    least, best, unique = brute_force(lines, x, y)
    np.testing.assert_allclose(at.leg_m, least, rtol=0, atol=1e-9)
    np.testing.assert_allclose(attached_xy(lines, at)[unique], best[unique], rtol=0, atol=1e-6)


def test_points_near_roads_build_no_tree_of_all_pieces():
    lines = random_lines(30, n=400, extent_m=30000.0)
    index = SegmentIndex.build(lines, np.ones(len(lines), bool))
    coords = shapely.get_coordinates(lines)
    at = index.nearest(coords[:5, 0] + 3.0, coords[:5, 1] - 4.0, shapely.length(lines))
    assert index._midpoint_search is None
    assert (at.leg_m <= 5.0).all()
    # searched again (a scenario's added sites, one after another): the tree is built once, same answers
    again = index.nearest(coords[:5, 0] + 3.0, coords[:5, 1] - 4.0, shapely.length(lines))
    assert index._midpoint_search is not None
    for name in ("seg", "along_m", "leg_m"):
        np.testing.assert_array_equal(getattr(again, name), getattr(at, name))


def test_the_near_pieces_hold_every_piece_within_2_km_of_a_point():
    lines = random_lines(31, n=400, extent_m=30000.0)
    index = SegmentIndex.build(lines, np.ones(len(lines), bool))
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 30000, 5), rng.uniform(0, 30000, 5)
    near = index.near_pieces(x, y)
    pieces = shapely.linestrings(np.stack([index.start, index.end], axis=1))
    within = shapely.distance(shapely.points(x, y)[:, None], pieces[None, :]) <= network._NEAR_SQUARE_M
    assert set(np.flatnonzero(within.any(axis=0))) <= set(near)
    assert len(near) < len(index.start)  # and not every piece
