"""Road lines merged where exactly two meet: the same lines as GEOS's ``line_merge``, point for point and in the
same direction; only the order of a class's lines may differ, which draws the same map.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import DEMO_DIR, grid_roads

from healthreach.maps.assets import decode_geometry, feature_collection
from healthreach.maps.base import to_display
from healthreach.maps.layers import MAJOR_ROADS
from healthreach.maps.merge import merge_lines
from healthreach.maps.roads import ROAD_SIMPLIFY_M, draw_road_layer


def parts(geom) -> list[bytes]:
    """A geometry's lines as WKB (each point, in order), in their order."""
    return shapely.to_wkb(shapely.get_parts(geom)).tolist()


def assert_merged_as_geos(lines: np.ndarray, group: np.ndarray, ordered: bool = True) -> None:
    """``merge_lines`` gives GEOS's lines (in GEOS's order too when ``ordered``), and so do they simplified."""
    key = parts if ordered else (lambda geom: sorted(parts(geom)))
    mine = merge_lines(lines, group)
    assert len(mine) == group.max() + 1
    for g, got in enumerate(mine):
        geos = shapely.line_merge(shapely.multilinestrings(lines[group == g]))
        assert got.geom_type == geos.geom_type
        assert key(got) == key(geos)
        simplified = [shapely.simplify(x, ROAD_SIMPLIFY_M, preserve_topology=False) for x in (got, geos)]
        assert key(simplified[0]) == key(simplified[1])


def test_the_street_grid_is_merged_as_geos_merges_it():
    roads = grid_roads()
    codes, _ = pd.factorize(roads["road_class"], sort=True)
    assert_merged_as_geos(roads.geometry.to_numpy(), codes)


def test_the_demo_county_roads_are_merged_as_geos_merges_them():
    if not (DEMO_DIR / "roads.gpkg").exists():
        pytest.skip("demo county data not generated (run python -m tools.demo)")
    roads = gpd.read_file(DEMO_DIR / "roads.gpkg").explode(ignore_index=True)
    codes, _ = pd.factorize(roads["road_class"], sort=True)
    assert_merged_as_geos(roads.geometry.to_numpy(), codes)


def random_network(seed: int, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Lines between points of a small lattice (many meeting points of degree 2, 3 and more, loops, rings,
    repeated and one-point lines, lines of several points), in three groups.
    """
    rng = np.random.default_rng(seed)
    lattice = rng.integers(0, 25, size=(n, 2)).astype(float) * 10.0
    other = lattice + rng.integers(-1, 2, size=(n, 2)) * 10.0
    middle = (lattice + other) / 2 + rng.normal(0, 3, size=(n, 2)) * (rng.random((n, 1)) < 0.5)
    lines = [shapely.LineString([a, m, b]) if rng.random() < 0.7 else shapely.LineString([a, a, b])
             for a, m, b in zip(lattice, middle, other, strict=True)]
    ring = [shapely.LineString([(1000, 0), (1010, 0)]), shapely.LineString([(1010, 0), (1010, 10)]),
            shapely.LineString([(1010, 10), (1000, 0)]), shapely.LineString([(2000, 0), (2010, 5), (2000, 0)])]
    group = np.concatenate([rng.integers(0, 3, n), [0, 0, 0, 2]])
    return np.array(lines + ring, dtype=object), group


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_networks_with_rings_loops_and_repeated_points_are_merged_as_geos_merges_them(seed):
    """The same lines; their order may differ where several lines leave one node in one direction (the
    lattice's duplicate lines), which GEOS's own sort leaves in no set order.
    """
    lines, group = random_network(seed)
    assert_merged_as_geos(lines, group, ordered=False)


def test_a_group_of_one_point_lines_only_is_empty():
    lines = np.array([shapely.LineString([(0, 0), (0, 0)]), shapely.LineString([(1, 1), (2, 2)])], dtype=object)
    got = merge_lines(lines, np.array([0, 1]))
    assert got[0].is_empty
    assert got[0].geom_type == shapely.line_merge(shapely.multilinestrings(lines[:1])).geom_type
    assert got[1].equals_exact(lines[1], 0)


def unclassed_grid() -> gpd.GeoDataFrame:
    """The street grid with a few lines of no class (not drawn)."""
    roads = grid_roads()
    roads.loc[roads.index[:7], "road_class"] = None
    return roads


@pytest.mark.parametrize("network", ["grid", "unclassed", "demo"])
@pytest.mark.parametrize("inside", [True, False], ids=["major", "minor"])
def test_the_maps_road_features_draw_what_geos_merging_drew(request, network, inside):
    """The road layer as the maps drew it with ``shapely.line_merge`` per class: the same classes, each the
    same lines point for point and in the same order (decoded from the page's encoding).
    """
    if network == "demo":
        roads = request.getfixturevalue("demo_inputs").network.lines
    else:
        roads = grid_roads() if network == "grid" else unclassed_grid()
    part = roads[roads["road_class"].isin(list(MAJOR_ROADS)).to_numpy() == inside]
    names, geoms = [], []
    for cls, group in part.groupby("road_class"):
        merged = shapely.line_merge(shapely.multilinestrings(group.geometry.to_numpy()))
        geoms.append(shapely.simplify(merged, ROAD_SIMPLIFY_M, preserve_topology=False))
        names.append(str(cls))
    before = feature_collection(to_display(gpd.GeoDataFrame({"road_class": names}, geometry=geoms,
                                                             crs=roads.crs), "wgs84"))
    after = draw_road_layer(roads, MAJOR_ROADS, inside, "wgs84", ROAD_SIMPLIFY_M)
    assert [f["properties"] for f in after["features"]] == [f["properties"] for f in before["features"]]
    for a, b in zip(after["features"], before["features"], strict=True):
        drawn = [shapely.geometry.shape(decode_geometry(f["geometry"])) for f in (a, b)]
        assert parts(drawn[0]) == parts(drawn[1])
