"""Chinese and English vocabularies, one-way codes and roads in any declared coordinate system.

The main fact: one county given as a GCJ-02 road layer with Chinese road classes, Chinese
facility types and navigation-data one-way codes (1/2/3) gives the same figures as the same
county given in WGS84 with English codes.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from conftest import CRS, X0, Y0, audit, grid_roads, write_study
from pyproj import Transformer

from healthreach.crs import wgs84_to_gcj02
from healthreach.errors import InputError, ScenarioError
from healthreach.inputs import load_inputs
from healthreach.load.roads import oneway_direction, read_roads
from healthreach.profile import load_profile
from healthreach.scenario.checks import check
from healthreach.scenario.schema import parse_scenario
from healthreach.study import RoadsSpec, load_study
from healthreach.vocab import facility_type, road_class

TO_LONLAT = Transformer.from_crs(CRS, 4326, always_xy=True)

ENGLISH_TO_CHINESE_ROADS = {"urban_arterial": "主干路", "urban_branch": "支路", "county": "县道", "village": "村道"}
ENGLISH_TO_CHINESE_TYPES = {"community_hc": "社区卫生服务中心", "central_township_hc": "中心卫生院",
                            "township_hc": "乡镇卫生院", "village_clinic": "村卫生室", "general_hospital": "综合医院",
                            "emergency_station": "120急救中心", "tertiary_hospital": "三甲医院"}

FACILITIES = [  # on or beside the streets of conftest's 4 x 4 km grid (streets every 400 m), mid-block
    {"id": "CHC01", "name": "城东社区卫生服务中心", "type": "community_hc", "x": X0 + 600, "y": Y0 + 2000},
    {"id": "THC01", "name": "白云镇中心卫生院", "type": "central_township_hc", "x": X0 + 3000, "y": Y0 + 2030},
    {"id": "THC02", "name": "石桥乡卫生院", "type": "township_hc", "x": X0 + 3450, "y": Y0 + 3608},
    {"id": "VC01", "name": "石桥村卫生室", "type": "village_clinic", "x": X0 + 2600, "y": Y0 + 395},
    {"id": "VC02", "name": "柳树村卫生室", "type": "village_clinic", "x": X0 + 1000, "y": Y0 + 3210},
    {"id": "GH01", "name": "县人民医院", "type": "general_hospital", "x": X0 + 1400, "y": Y0 + 1205},
    {"id": "ES01", "name": "城北急救站", "type": "emergency_station", "x": X0 + 2150, "y": Y0 + 2800},
    {"id": "TH01", "name": "市第一人民医院", "type": "tertiary_hospital", "x": X0 + 250, "y": Y0 + 5},
]


def _lonlat_lines(geoms: np.ndarray, gcj: bool) -> np.ndarray:
    """Lines of the metric test grid as WGS84 (or GCJ-02) lon/lat, vertex by vertex."""
    def move(xy):
        lon, lat = TO_LONLAT.transform(xy[:, 0], xy[:, 1])
        if gcj:
            lon, lat = wgs84_to_gcj02(lon, lat)
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, move)


def _county(folder: Path, chinese: bool, **overrides) -> Path:
    """The test county in WGS84 with English codes, or in GCJ-02 with Chinese codes and 1/2/3 one-way codes.

    One-way streets (row 5, eastbound) are written with ``yes``; in the Chinese layer every
    second one is drawn the other way round and coded 3 (against the drawing), the rest 2.
    """
    path = write_study(folder, [{**f, "beds": 10, "ambulances": 1, "emergency": "false"} for f in FACILITIES],
                       **overrides)
    roads = grid_roads()
    # moved off the cells' symmetry: no cell centre is equally near two roads, a tie that the
    # centimetres of a GCJ-02 round trip would break one way or the other
    geoms = shapely.transform(roads.geometry.to_numpy(), lambda xy: xy + np.array([13.0, 29.0]))
    oneway = roads["oneway"].to_numpy() == 1
    if chinese:
        flip = oneway & (np.cumsum(oneway) % 2 == 0)
        geoms[flip] = shapely.reverse(geoms[flip])
        codes = np.where(flip, 3, np.where(oneway, 2, 1))
        classes = roads["road_class"].map(ENGLISH_TO_CHINESE_ROADS)
        layer = gpd.GeoDataFrame({"等级": classes, "方向": codes}, geometry=_lonlat_lines(geoms, True), crs=4326)
    else:
        layer = gpd.GeoDataFrame({"road_class": roads["road_class"], "oneway": np.where(oneway, "yes", "no")},
                                 geometry=_lonlat_lines(geoms, False), crs=4326)
    (folder / "roads.gpkg").unlink()
    layer.to_file(folder / "roads.gpkg", layer="roads")
    if chinese:
        table = pd.read_csv(folder / "facilities.csv")
        table["type"] = table["type"].map(ENGLISH_TO_CHINESE_TYPES)
        table["lon"], table["lat"] = wgs84_to_gcj02(table["lon"].to_numpy(), table["lat"].to_numpy())
        table.to_csv(folder / "facilities.csv", index=False)
        study = yaml.safe_load(path.read_text(encoding="utf-8"))
        study["roads"] = {"path": "roads.gpkg", "crs": "gcj02", "class_column": "等级", "oneway_column": "方向",
                          "oneway_values": {"both": [1], "forward": [2], "backward": [3]}}
        study["facilities"] = {"path": "facilities.csv", "crs": "gcj02"}
        path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def counties(tmp_path_factory):
    root = tmp_path_factory.mktemp("vocab")
    english = audit(load_inputs(load_study(_county(root / "english", chinese=False)), use_cache=False))
    chinese = audit(load_inputs(load_study(_county(root / "chinese", chinese=True)), use_cache=False))
    return english, chinese


# --- the done-when fact -------------------------------------------------------------------------------------

def test_gcj02_chinese_coded_study_gives_the_figures_of_the_wgs84_english_one(counties):
    english, chinese = counties
    assert list(chinese.figures) == list(english.figures)
    compared = 0
    for a, b in zip(english.figures.values(), chinese.figures.values(), strict=True):
        assert (a.share is None) == (b.share is None), a.id
        if a.share is not None:
            assert b.share == pytest.approx(a.share, abs=0.001), a.id   # 0.1 point
            compared += 1
        assert a.passed == b.passed, a.id
    assert compared >= 4
    primary = english.figure("primary_care_15min").share
    assert 0.2 < primary < 1.0   # a figure that can move: not all or nothing
    # Chinese codes were read as the profile's classes and types, not merely tolerated
    assert set(chinese.inputs.network.lines["road_class"]) == set(ENGLISH_TO_CHINESE_ROADS)
    assert sorted(chinese.inputs.facilities["type"]) == sorted(f["type"] for f in FACILITIES)
    # 1/2/3 codes: the same edges are one-way as with yes/no; the GCJ-02 layer is back on WGS84 (to centimetres)
    n_closed = [int(np.isinf(x.inputs.network.time_s["drive"]).sum()) for x in (english, chinese)]
    assert n_closed[0] == n_closed[1] == 10   # the 10 segments of the one-way street, against their direction
    drawn = shapely.get_coordinates(english.inputs.network.lines.geometry.to_numpy())
    read = shapely.get_coordinates(chinese.inputs.network.lines.geometry.to_numpy())
    _, apart_m = shapely.STRtree(shapely.points(drawn)).query_nearest(shapely.points(read), return_distance=True)
    assert apart_m.max() < 0.01
    assert not [w for w in map(str, english.inputs.warnings + chinese.inputs.warnings) if "offset" in w]


def test_gcj02_roads_read_as_wgs84_move_the_figures(tmp_path):
    """Without roads.crs the same Chinese layer lands a few hundred metres off: the check above can fail."""
    path = _county(tmp_path / "undeclared", chinese=True)
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    del study["roads"]["crs"]
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    inputs = load_inputs(load_study(path), use_cache=False)
    warning = next(w for w in map(str, inputs.warnings) if "offset" in w)
    assert "roads (roads.gpkg" in warning
    assert "facilities (facilities.csv" in warning
    assert "GCJ-02" in warning


# --- road classes -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "canonical"), [
    ("国道", "national"), ("省道", "provincial"), ("县道", "county"), ("乡道", "township"), ("村道", "village"),
    ("专用公路", "special_purpose"), ("高速公路", "expressway"), ("一级公路", "grade_1"), ("四级公路", "grade_4"),
    ("等外公路", "substandard"), ("快速路", "urban_expressway"), ("主干路", "urban_arterial"),
    ("次干路", "urban_secondary"), ("支路", "urban_branch"), ("Expressway", "expressway"), ("motorway", "motorway"),
    ("residential", "residential"), (" county ", "county"), ("本地土路", "本地土路")])
def test_road_class_names(name, canonical):
    assert road_class(name) == canonical


def test_every_vocabulary_class_has_a_speed_in_the_default_profile():
    from healthreach.vocab import ROAD_CLASSES

    profile = load_profile("default")
    assert set(ROAD_CLASSES.values()) <= set(profile.drive_kmh)


def test_chinese_road_classes_are_read_and_unknown_ones_still_stop(tmp_path):
    roads = grid_roads()
    roads["road_class"] = roads["road_class"].map(ENGLISH_TO_CHINESE_ROADS)
    roads.loc[3, "road_class"] = "机耕路"
    roads.to_file(tmp_path / "roads.gpkg")
    path = write_study(tmp_path / "s")
    roads.to_file(tmp_path / "s" / "roads.gpkg", layer="roads")
    with pytest.raises(Exception, match=r"road classes without a speed: '机耕路' \(1 segments\)"):
        load_inputs(load_study(path), use_cache=False)
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    study["speeds_kmh"] = {"机耕路": 10, "县道": 40}
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    inputs = load_inputs(load_study(path), use_cache=False)
    assert inputs.profile.drive_kmh["county"] == 40
    assert inputs.profile.drive_kmh["机耕路"] == 10
    assert "county" in set(inputs.network.lines["road_class"])


def test_expressways_are_never_walkable_even_with_a_speed(tmp_path):
    roads = grid_roads()
    roads.loc[roads["road_class"] == "county", "road_class"] = "高速公路"   # the western edge
    path = write_study(tmp_path / "s", speeds_kmh={"高速公路": 100}, no_walking=["村道"])
    roads.to_file(tmp_path / "s" / "roads.gpkg", layer="roads")
    inputs = load_inputs(load_study(path), use_cache=False)
    net = inputs.network
    express = net.road_class == "expressway"
    assert express.sum() == 20   # 10 segments, two directions
    assert np.isinf(net.time_s["walk"][express]).all()
    assert np.allclose(net.time_s["drive"][express], net.length_m[express] / (100 / 3.6))
    assert np.isinf(net.time_s["walk"][net.road_class == "village"]).all()   # study-level no_walking extends
    assert np.isfinite(net.time_s["walk"][net.road_class == "urban_branch"]).all()
    # a profile that forgets its expressways does not open them to walking either
    profile = load_profile("default").model_validate(
        {**load_profile("default").model_dump(), "no_walking": []})
    assert {"expressway", "motorway", "motorway_link", "urban_expressway"} <= set(profile.no_walking)


def test_a_layer_without_a_class_column_takes_the_default(tmp_path):
    roads = grid_roads().drop(columns="road_class")
    path = write_study(tmp_path / "s")
    roads.to_file(tmp_path / "s" / "roads.gpkg", layer="roads")
    with pytest.raises(InputError, match=r"default_class.*default_speed_kmh"):
        load_inputs(load_study(path), use_cache=False)
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    study["roads"] = {"path": "roads.gpkg", "default_speed_kmh": 36}
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    net = load_inputs(load_study(path), use_cache=False).network
    drive = np.isfinite(net.time_s["drive"])
    assert np.allclose(net.time_s["drive"][drive], net.length_m[drive] / 10.0)   # 36 km/h = 10 m/s
    study["roads"] = {"path": "roads.gpkg", "class_column": None, "default_class": "县道"}
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    net = load_inputs(load_study(path), use_cache=False).network
    assert set(net.road_class) == {"county"}


# --- one-way codes --------------------------------------------------------------------------------------------

def test_navigation_codes_stop_without_a_mapping_and_are_read_with_one():
    values = pd.Series([1, 1, 2, 3, 1, None])
    with pytest.raises(InputError) as err:
        oneway_direction(values, "roads.gpkg", "方向")
    msg = str(err.value)
    assert "'2' (1 row), '3' (1 row)" in msg
    assert "'1' (3 rows)" in msg
    assert "oneway_values: {both: [1], forward: [2], backward: [3]}" in msg
    mapping = {"1": 0, "2": 1, "3": -1}
    assert oneway_direction(values, "roads.gpkg", "方向", mapping).tolist() == [0, 0, 1, -1, 0, 0]
    with pytest.raises(InputError, match=r"not listed in roads.oneway_values: '4' \(1 row\)"):
        oneway_direction(pd.Series([1, 4]), "roads.gpkg", "方向", mapping)


def test_all_ones_are_ambiguous_but_zero_one_minus_one_are_not():
    with pytest.raises(InputError, match="every one-way value is 1"):
        oneway_direction(pd.Series([1, 1, 1.0]), "roads.gpkg", "oneway")
    assert oneway_direction(pd.Series([1, 0, -1, 0.0]), "r", "oneway").tolist() == [1, 0, -1, 0]
    words = pd.Series(["yes", "no", "Y", "N", "FT", "TF", "both", "双向", "正向", "逆向", "是", "否", "", None])
    assert oneway_direction(words, "r", "oneway").tolist() == [1, 0, 1, 0, 1, -1, 0, 0, 1, -1, 1, 0, 0, 0]


def test_mapped_codes_turn_lines_against_their_drawing(tmp_path):
    lines = [shapely.LineString([(X0, Y0), (X0 + 100, Y0)])] * 3
    gpd.GeoDataFrame({"road_class": "county", "dir": [1, 2, 3]}, geometry=lines, crs=CRS).to_file(tmp_path / "r.gpkg")
    spec = RoadsSpec(path=tmp_path / "r.gpkg", oneway_column="dir",
                     oneway_values={"both": [1], "forward": [2], "backward": ["3"]})
    roads = read_roads(spec, CRS)
    assert roads["oneway"].tolist() == [False, True, True]
    assert shapely.get_x(shapely.get_point(roads.geometry.to_numpy(), 0)).tolist() == [X0, X0, X0 + 100]


# --- roads.crs ------------------------------------------------------------------------------------------------

def test_osm_roads_cannot_be_declared_another_datum(tmp_path):
    (tmp_path / "x.osm").write_text("<osm/>")
    with pytest.raises(InputError, match="WGS84 by definition"):
        read_roads(RoadsSpec(path=tmp_path / "x.osm", crs="gcj02"), CRS)


def test_a_layer_without_a_crs_takes_the_declared_one(tmp_path):
    gdf = gpd.GeoDataFrame({"road_class": ["county"]}, geometry=[shapely.LineString([(X0, Y0), (X0 + 50, Y0)])])
    gdf.to_file(tmp_path / "r.geojson")
    spec = RoadsSpec(path=tmp_path / "r.geojson", oneway_column=None, crs=4545)
    assert read_roads(spec, CRS).geometry.iloc[0].length == pytest.approx(50.0, abs=0.01)


def test_offset_warning_fires_for_a_shifted_layer_and_not_for_a_consistent_one(tmp_path):
    consistent = load_inputs(load_study(_county(tmp_path / "ok", chinese=False)), use_cache=False)
    assert not [w for w in map(str, consistent.warnings) if "offset" in w]
    path = _county(tmp_path / "shifted", chinese=False)
    table = pd.read_csv(tmp_path / "shifted" / "facilities.csv")   # WGS84 facilities declared GCJ-02
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    study["facilities"] = {"path": "facilities.csv", "crs": "gcj02"}
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    assert len(table) == len(FACILITIES)
    shifted = load_inputs(load_study(path), use_cache=False)
    warning = next(w for w in map(str, shifted.warnings) if "offset" in w)
    assert "GCJ-02" in warning
    assert "roads.gpkg" in warning
    assert "facilities.csv" in warning
    shift_m = float(warning.split("once shifted by ")[1].split(" m")[0].replace(",", ""))
    assert 200 < shift_m < 800


# --- facility types ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "canonical"), [
    ("综合医院", "general_hospital"), ("中医院", "tcm_hospital"), ("妇幼保健院", "maternal_child_hospital"),
    ("三甲医院", "tertiary_hospital"), ("三级医院", "tertiary_hospital"), ("乡镇卫生院", "township_hc"),
    ("卫生院", "township_hc"), ("中心卫生院", "central_township_hc"), ("社区卫生服务中心", "community_hc"),
    ("社区卫生服务站", "community_station"), ("村卫生室", "village_clinic"), ("村卫生所", "village_clinic"),
    ("急救站", "emergency_station"), ("120急救中心", "emergency_station"), ("急救分站", "emergency_station"),
    ("区域医疗卫生次中心", "regional_subcentre"), ("Township Health Center", "township_hc"),
    ("village_clinic", "village_clinic")])
def test_facility_type_names(name, canonical):
    assert facility_type(name) == canonical


def test_every_type_the_docs_name_is_understood():
    docs = Path(__file__).resolve().parents[1] / "docs"
    text = (docs / "study-file.md").read_text(encoding="utf-8")
    section = text[text.index("## Facility types"):text.index("## Profiles")]
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) == 11
    for ident, names in rows:
        canonical = ident.strip().strip("`")
        for name in (n.strip() for n in names.split(",")):
            assert facility_type(name) == canonical, name


def test_unknown_type_is_an_error_with_its_rows_and_type_map_fixes_it(tmp_path):
    facilities = [{**f, "beds": 0, "ambulances": 0, "emergency": "false"} for f in FACILITIES]
    facilities[2]["type"] = facilities[4]["type"] = "门诊部"
    facilities[3]["type"] = "卫生服务点"
    path = write_study(tmp_path / "s", facilities)
    with pytest.raises(InputError) as err:
        load_inputs(load_study(path), use_cache=False)
    msg = str(err.value)
    assert "facilities.csv: column 'type' has facility types nobody knows" in msg
    assert "'卫生服务点' (1 row: 5)" in msg
    assert "'门诊部' (2 rows: 4, 6)" in msg
    assert "village_clinic (村卫生室" in msg
    assert "type_map" in msg
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    study["facilities"]["type_map"] = {"门诊部": "社区卫生服务站", "卫生服务点": "village_clinic"}
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    inputs = load_inputs(load_study(path), use_cache=False)
    assert inputs.facilities["type"].tolist()[2:5] == ["community_station", "village_clinic", "community_station"]
    study["facilities"]["type_map"] = {"门诊部": "clinic_of_sorts", "卫生服务点": "village_clinic"}
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=r"facilities.type_map: '门诊部' -> 'clinic_of_sorts'"):
        load_inputs(load_study(path), use_cache=False)


def test_chinese_types_count_in_scenarios(counties, tmp_path):
    _, base = counties
    study = base.inputs.study.source

    def scenario(changes):
        return parse_scenario({"name": "t", "study": str(study), "changes": changes}, tmp_path / "plan.yaml")

    lon, lat = TO_LONLAT.transform(X0 + 200, Y0 + 3600)   # the urban north-west corner, far on foot
    add = [{"add": "VC09", "name": "新村卫生室", "type": "村卫生室", "at": {"lon": lon, "lat": lat}}]
    result = base.apply(scenario(add))
    assert result.facilities["type"].iloc[-1] == "village_clinic"
    before, after = (r.figure("primary_care_15min").share for r in (base, result))
    assert after > before   # the new clinic counts
    upgraded = base.apply(scenario([{"upgrade": "VC01", "type": "区域医疗卫生次中心"}]))
    assert upgraded.facilities.set_index("id").loc["VC01", "type"] == "regional_subcentre"
    with pytest.raises(ScenarioError, match="type '门诊部' is not a facility type"):
        check(scenario([{"upgrade": "VC01", "type": "门诊部"}]), base.inputs)


def test_chinese_types_count_in_batch_studies(counties, tmp_path):
    from healthreach.batch import audit_study

    english, chinese = counties
    row = audit_study(chinese.inputs.study.source, tmp_path / "out", draw_map=False, use_cache=False)
    assert row["status"] == "ok", row["message"]
    shares = {s["id"]: s["share"] for s in row["standards"]}
    assert shares["primary_care_15min"] == pytest.approx(english.figure("primary_care_15min").share, abs=0.001)


def test_scenario_and_compare_commands_read_the_study_type_map(tmp_path):
    from click.testing import CliRunner

    from healthreach.cli import cli

    facilities = [{**f, "beds": 0, "ambulances": 0, "emergency": "false"} for f in FACILITIES]
    path = write_study(tmp_path / "s", facilities)
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    study["facilities"]["type_map"] = {"分院": "township_hc"}
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    lon, lat = TO_LONLAT.transform(X0 + 200, Y0 + 3600)
    plans = tmp_path / "plans"
    plans.mkdir()
    for name, kind in (("add", "分院"), ("unknown", "分部")):
        (plans / f"{name}.yaml").write_text(yaml.safe_dump(
            {"name": name, "study": str(path), "changes": [
                {"add": "N1", "name": "新分院", "type": kind, "at": {"lon": lon, "lat": lat}}]},
            allow_unicode=True), encoding="utf-8")
    ok = CliRunner().invoke(cli, ["scenario", str(plans / "add.yaml"), "--out", str(tmp_path / "out"), "--no-map"])
    assert ok.exit_code == 0, ok.output
    facilities = pd.read_csv(tmp_path / "out" / "facilities.csv")
    assert facilities.set_index("id").loc["N1", "type_after"] == "township_hc"
    compared = CliRunner().invoke(cli, ["compare", str(plans / "add.yaml"), "--out", str(tmp_path / "c.csv")])
    assert compared.exit_code == 0, compared.output
    unknown = CliRunner().invoke(cli, ["scenario", str(plans / "unknown.yaml"), "--out", str(tmp_path / "o2")])
    assert unknown.exit_code == 1
    assert "分部" in unknown.output


def test_profile_groups_may_name_types_in_chinese():
    from healthreach.profile import Group

    assert Group(types=["三甲医院", "村卫生室", "village_clinic", "doctors"]).types == [
        "tertiary_hospital", "village_clinic", "doctors"]   # OSM values are kept as written


def test_a_class_setting_no_road_has_is_noted_with_a_suggestion(tmp_path):
    path = write_study(tmp_path / "s")
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    study["speeds_kmh"] = {"villag": 5, "village": 15, "县道": 30}
    study["no_walking"] = ["urban_brnch"]
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    notes = "\n".join(map(str, load_inputs(load_study(path)).warnings))
    assert ("speeds_kmh: no road of the network has the class 'villag', so the setting changes nothing; did you "
            "mean 'village'?") in notes
    assert "no_walking: no road of the network has the class 'urban_brnch'" in notes
    assert "'village'," not in notes
    assert "'县道'" not in notes
