"""Validation at the door: every input that would give a silent wrong figure stops with a clear error or a
counted note (safe YAML, setting ranges, empty and far-away inputs, dropped data, CRS that do not fit).
"""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
import yaml
from conftest import CRS, X0, Y0, audit, grid_roads, set_study_keys, write_study

from healthreach.errors import InputError, ScenarioError, StudyError
from healthreach.grid import check_grid
from healthreach.inputs import load_inputs
from healthreach.messages import render
from healthreach.scenario.schema import parse_scenario
from healthreach.study import load_study

# --- YAML --------------------------------------------------------------------------------------------


def test_alias_bomb_is_refused_fast(small_study):
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    # 10**10 items once expanded
    bomb.extend(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]" for i in range(1, 10))
    bomb.append("grid_m: *j")
    small_study.write_text(small_study.read_text(encoding="utf-8") + "\n".join(bomb) + "\n", encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(StudyError, match=r"study.yaml: line \d+: anchor '&a' refused") as err:
        load_study(small_study)
    assert time.perf_counter() - start < 2.0
    assert len(str(err.value)) < 400


def test_alias_alone_is_refused(tmp_path):
    from healthreach.study import read_yaml

    path = tmp_path / "profile.yaml"
    path.write_text("name: x\nspeeds: *s\n", encoding="utf-8")
    with pytest.raises(StudyError, match=r"profile.yaml: .*alias|profile.yaml: not valid YAML"):
        read_yaml(path, "profile file")


def test_duplicate_key_names_the_key_and_both_lines(small_study):
    text = small_study.read_text(encoding="utf-8")
    small_study.write_text("grid_m: 100\n" + text + "grid_m: 200\n", encoding="utf-8")
    last = len(small_study.read_text(encoding="utf-8").splitlines())
    with pytest.raises(StudyError, match=rf"duplicate key 'grid_m' at lines 1 and {last}"):
        load_study(small_study)


def test_nested_duplicate_key_in_a_scenario(tmp_path, small_study):
    from healthreach.scenario.schema import load_scenario

    path = tmp_path / "plan.yaml"
    path.write_text(f"name: p\nstudy: {small_study}\nchanges:\n  - close: CHC01\n    note: a\n    note: b\n",
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match="duplicate key 'note' at lines 5 and 6"):
        load_scenario(path)


def test_validation_error_echoes_a_short_excerpt(small_study):
    set_study_keys(small_study, grid_m="9" * 100_000)
    with pytest.raises(StudyError, match=r"grid_m: .*characters\)") as err:
        load_study(small_study)
    assert len(str(err.value)) < 500


# --- setting ranges ------------------------------------------------------------------------------------


@pytest.mark.parametrize("grid_m", [0.001, 5, 2500])
def test_grid_m_out_of_range_is_refused_by_the_study_file(small_study, grid_m):
    set_study_keys(small_study, grid_m=grid_m)
    with pytest.raises(StudyError, match=r"study.yaml: grid_m: Input should be (greater|less) than or equal to"):
        load_study(small_study)


def test_grid_too_coarse_for_the_study_area_is_refused(small_study):
    # 4 x 4 km at 1,000 m: 16 cells, each deciding 6 % of the people
    set_study_keys(small_study, grid_m=1000)
    with pytest.raises(InputError, match=r"study.yaml: grid_m: 1000 m leaves only 16.0 cells in the study area "
                                         r"\(16.0 km²\); at least 100 .* use grid_m 400 or less"):
        load_inputs(load_study(small_study), use_cache=False)


def test_grid_needing_more_memory_than_the_machine_has_is_refused():
    # a 300 x 300 km extent at 10 m: 900 million cells, about 168 GiB
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"study.yaml: grid_m: 10 m .* makes 900,\d+,\d+ cells, needing "
                                         r"about 16\d\.\d GiB of memory, more than half of this machine's 16.0 GiB"):
        check_grid((0, 0, 300_000, 300_000), 9e10, 10, "study.yaml", memory_bytes=16 * 2**30)
    assert time.perf_counter() - start < 0.1
    check_grid((0, 0, 30_000, 30_000), 9e8, 10, "study.yaml", memory_bytes=16 * 2**30)  # 9 M cells: fine


@pytest.mark.parametrize("speed", [-5, 1e6])
def test_study_speeds_out_of_range_are_refused(small_study, speed):
    set_study_keys(small_study, speeds_kmh={"village": speed})
    with pytest.raises(StudyError, match=r"speeds_kmh: .*0 \(no driving\) to 200 km/h, got village"):
        load_study(small_study)


# --- empty or far-away inputs --------------------------------------------------------------------------


def _write_raster(path, values, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype="float32", crs=CRS, transform=rasterio.transform.from_origin(X0, Y0 + 4000, 100, 100),
                       nodata=nodata) as dst:
        dst.write(values.astype(np.float32), 1)


@pytest.mark.parametrize(("fill", "nodata"), [(0.0, None), (-9999.0, -9999.0)])
def test_study_with_no_people_is_refused(small_study, fill, nodata):
    _write_raster(small_study.parent / "population.tif", np.full((40, 40), fill), nodata)
    with pytest.raises(InputError, match=r"population.tif: no people in the study area"):
        load_inputs(load_study(small_study), use_cache=False)


def test_population_raster_beside_the_study_area_is_refused(small_study):
    with rasterio.open(small_study.parent / "population.tif", "w", driver="GTiff", width=40, height=40, count=1,
                       dtype="float32", crs=CRS,
                       transform=rasterio.transform.from_origin(X0 + 4100, Y0 + 4000, 100, 100)) as dst:
        dst.write(np.full((40, 40), 5, np.float32), 1)
    with pytest.raises(InputError, match=r"population.tif: no people in the study area"):
        load_inputs(load_study(small_study), use_cache=False)


def test_facility_file_with_only_a_header_is_refused(small_study):
    (small_study.parent / "facilities.csv").write_text("id,name,type,lon,lat\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"facilities.csv: no facilities: the file has no rows"):
        load_inputs(load_study(small_study), use_cache=False)


def test_roads_far_from_the_study_area_are_refused(small_study):
    roads = grid_roads()
    roads.geometry = roads.geometry.translate(300_000, 0)  # 300 km east, same CRS
    roads.to_file(small_study.parent / "roads.gpkg", layer="roads")
    with pytest.raises(InputError, match=r"roads.gpkg: no road of the network lies in the study area \(the nearest "
                                         r"road lies 296.0 km outside"):
        load_inputs(load_study(small_study), use_cache=False)


def test_standard_with_an_empty_group_is_not_assessed_never_passed(tmp_path):
    # no emergency station and no facility flagged emergency: the emergency standards cannot be measured
    study = write_study(tmp_path / "s", facilities=[
        {"id": "CHC01", "name": "城东社区卫生服务中心", "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
         "beds": 20, "ambulances": 2, "emergency": "false"}])
    result = audit(load_inputs(load_study(study), use_cache=False))
    emergency = [f for f in result.figures.values() if f.id.startswith(("emergency_radius", "emergency_response"))]
    assert len(emergency) == 4
    for f in emergency:
        assert f.passed is None, f.id
        assert f.share is None, f.id
        assert "no facility of group 'emergency'" in str(f.details["not_assessed"])
    assert result.figure("primary_care_15min").passed is not None  # its group is not empty

    from rich.console import Console

    from healthreach.report import print_summary, summary

    console = Console(record=True, width=200)
    print_summary(result, console, lang="en")
    assert console.export_text().count("not assessed") >= 8  # four rows and four reasons
    assert {s["id"]: s["pass"] for s in summary(result)["standards"]}["emergency_response_18min"] is None


# --- dropped or repaired data is counted -----------------------------------------------------------------


def test_non_finite_population_cells_are_counted(small_study):
    values = np.full((40, 40), 1.0)
    values[0, 0], values[1, 1], values[2, 2] = np.inf, np.nan, -4
    _write_raster(small_study.parent / "population.tif", values, nodata=-9999.0)
    inputs = load_inputs(load_study(small_study), use_cache=False)
    notes = "\n".join(map(str, inputs.warnings))
    assert "1 population cells near the study area are infinite" in notes
    assert "1 population cells near the study area are NaN" in notes
    assert "1 population cells near the study area are negative" in notes
    assert inputs.total_people == pytest.approx(1600 - 3)


def test_null_road_geometries_and_bad_speeds_are_counted(small_study):
    roads = grid_roads()
    roads["speed"] = ["30"] * len(roads)
    roads.loc[[3, 4], "speed"] = ["-30", "0"]
    roads.loc[5, "geometry"] = None
    roads.to_file(small_study.parent / "roads.gpkg", layer="roads")
    set_study_keys(small_study, roads={"path": "roads.gpkg", "speed_column": "speed"})
    inputs = load_inputs(load_study(small_study), use_cache=False)
    notes = "\n".join(map(str, inputs.warnings))
    assert "1 road rows without geometry (null or empty) were dropped (rows 6)" in notes
    assert "2 roads have a 'speed' that is not a positive speed in km/h (1 negative, 1 zero: '-30', '0')" in notes
    again = load_inputs(load_study(small_study))  # the notes survive the network cache
    cached = load_inputs(load_study(small_study)).warnings
    for lang in ("en", "zh"):  # the notes kept with the cached network read as the fresh ones, in either language
        assert [render(w, lang) for w in cached] == [render(w, lang) for w in again.warnings]
    assert "1 road rows without geometry" in "\n".join(map(str, again.warnings))


def _write_towns(study, geoms):
    n = len(geoms)
    gpd.GeoDataFrame({"code": [f"00{i + 1}" for i in range(n)], "name": ["城东街道", "白云镇"][:n],
                      "class": ["urban", "rural"][:n], "population": [4000, 2000][:n]},
                     geometry=geoms, crs=CRS).to_file(study.parent / "townships.gpkg")


def test_overlapping_townships_are_refused_naming_both(small_study):
    # the west township reaches 500 m into the east one: a quarter of the east township is in both
    _write_towns(small_study, [shapely.box(X0, Y0, X0 + 2500, Y0 + 4000),
                               shapely.box(X0 + 2000, Y0, X0 + 4000, Y0 + 4000)])
    with pytest.raises(InputError, match=r"townships overlap: 001 \(城东街道\) and 002 \(白云镇\): 25.0% of the "
                                         r"smaller"):
        load_inputs(load_study(small_study), use_cache=False)


def test_self_intersecting_township_is_repaired_and_counted(small_study):
    bowtie = shapely.Polygon([(X0 + 2000, Y0), (X0 + 4000, Y0 + 4000), (X0 + 4000, Y0), (X0 + 2000, Y0 + 4000)])
    _write_towns(small_study, [shapely.box(X0, Y0, X0 + 2000, Y0 + 4000), bowtie])
    inputs = load_inputs(load_study(small_study), use_cache=False)
    assert any("1 invalid township polygons" in w and "rows 2" in w for w in map(str, inputs.warnings))
    assert inputs.boundaries.geometry.is_valid.all()


# --- coordinates that do not fit the declared CRS ------------------------------------------------------


def test_road_layer_declared_wgs84_with_metre_coordinates_is_named(small_study):
    grid_roads().set_crs(4326, allow_override=True).to_file(small_study.parent / "roads.gpkg", layer="roads")
    with pytest.raises(InputError, match=r"roads.gpkg: the road layer's coordinate system does not fit its "
                                         r"coordinates: it declares EPSG:4326 \(degrees\) but its coordinates "
                                         r"\(x 480,000 to 484,000.*look like metres"):
        load_inputs(load_study(small_study), use_cache=False)


def test_boundaries_declared_projected_with_degree_coordinates_are_named(small_study):
    towns = gpd.read_file(small_study.parent / "townships.gpkg").to_crs(4326).set_crs(CRS, allow_override=True)
    towns.to_file(small_study.parent / "townships.gpkg")
    with pytest.raises(InputError, match=r"townships.gpkg: the boundary layer's coordinate system .* declares "
                                         r"EPSG:4545 \(metres\) but .* like longitudes/latitudes"):
        load_inputs(load_study(small_study), use_cache=False)


def test_coordinates_far_outside_the_crs_area_of_use_are_named(small_study):
    # Gauss-Krueger zone 108E declared on coordinates of zone 120E's false easting but 2,000 km north
    roads = grid_roads()
    roads.geometry = roads.geometry.translate(0, 6_000_000)
    roads.to_file(small_study.parent / "roads.gpkg", layer="roads")
    with pytest.raises(InputError, match=r"roads.gpkg: .* far outside where that CRS applies"):
        load_inputs(load_study(small_study), use_cache=False)


def test_facility_table_in_a_projected_crs_with_degrees_is_named(small_study):
    set_study_keys(small_study, facilities={"path": "facilities.csv", "crs": "EPSG:4545"})
    with pytest.raises(InputError, match=r"facilities.csv \(facilities.crs\): the facility table's .* like "
                                         r"longitudes/latitudes"):
        load_inputs(load_study(small_study), use_cache=False)


# --- scenario sites -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_scenario_site_that_is_not_a_number_names_the_change(small_study, value):
    data = yaml.safe_load(f"""
name: plan
study: {small_study}
changes:
  - add: NEW1
    name: 新卫生院
    type: township_hc
    at: {{lon: {value}, lat: 29.4}}
""")
    with pytest.raises(ScenarioError, match=r"change 1 \(add NEW1\): at.lon: Input should be a finite number"):
        parse_scenario(data)


def test_scenario_site_out_of_range_names_the_change(small_study):
    from healthreach.scenario.checks import check

    inputs = load_inputs(load_study(small_study))
    data = {"name": "plan", "study": str(small_study),
            "changes": [{"add": "NEW1", "name": "n", "type": "township_hc", "at": {"lon": 500.0, "lat": 29.4}}]}
    with pytest.raises(ScenarioError, match=r"change 1 \(add NEW1\): longitude 500.0 / latitude 29.4 look swapped "
                                            r"\(or out of range\)"):
        check(parse_scenario(data), inputs)


def test_real_inputs_pass_the_crs_checks():
    """The demo county's own files fit their declared CRSs (no false alarm)."""
    from healthreach.study import DEMO_STUDY

    if not (DEMO_STUDY.parent / "roads.gpkg").exists():
        pytest.skip("demo county data not generated")
    from healthreach.crs import crs_mismatch

    for name in ("roads.gpkg", "townships.gpkg"):
        layer = gpd.read_file(DEMO_STUDY.parent / name)
        assert crs_mismatch(layer.crs, layer.total_bounds) is None, name


@pytest.mark.parametrize(("written", "read_as"), [("0100", "64"), ("050", "40"), ("1:30", "90")])
def test_numbers_yaml_would_silently_change_are_refused(small_study, written, read_as):
    text = small_study.read_text(encoding="utf-8")
    small_study.write_text(f"grid_m: {written}\n" + text.replace("grid_m:", "# grid_m:"), encoding="utf-8")
    with pytest.raises(StudyError, match=rf"line 1: '{written}' would be read as {read_as}"):
        load_study(small_study)


def test_scenario_counts_with_a_leading_zero_are_refused(tmp_path, small_study):
    from healthreach.scenario.schema import load_scenario

    path = tmp_path / "plan.yaml"
    path.write_text(f"name: p\nstudy: {small_study}\nchanges:\n  - expand: CHC01\n    beds: 050\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="line 5: '050' would be read as 40"):
        load_scenario(path)


@pytest.mark.parametrize(("standards", "message"), [
    ({}, "the profile names no standard"),
    ({"emergency_radius_urban": {"group": "emergency", "radius_km": 0, "target_share": 0.95}}, "radii are kilometres"),
    ({"emergency_radius_rural": {"group": "emergency", "radius_km": [10, -5], "target_share": 0.95}},
     "radii are kilometres"),
    ({"primary_care_15min": {"group": "primary_care", "threshold_min": 15, "urban_mode": "bike",
                             "target_share": 0.95}}, "urban_mode"),
])
def test_profile_standards_are_checked_at_the_door(tmp_path, standards, message):
    import yaml

    from healthreach.profile import PROFILES, load_profile

    data = yaml.safe_load((PROFILES / "default.yaml").read_text(encoding="utf-8"))
    data["standards"] = standards
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(StudyError, match=message) as err:
        load_profile(str(path))
    assert str(path) in str(err.value)
