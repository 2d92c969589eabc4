"""Bad study files fail at the door with one message naming the file and the key."""

from __future__ import annotations

import pytest
import yaml

from healthreach.errors import StudyError
from healthreach.study import DEMO_STUDY, load_study


def edit(path, **changes):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = data
        for key in parents:
            target = target[key]
        if value is None:
            target.pop(last)
        else:
            target[last] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_valid_study_resolves_paths(small_study):
    study = load_study(small_study)
    assert study.roads.path.is_absolute()
    assert study.roads.path.exists()
    assert load_study(small_study.parent).source == small_study  # a folder means its study.yaml


def test_missing_study_file(tmp_path):
    with pytest.raises(StudyError, match=r"study file not found: .*nope.yaml"):
        load_study(tmp_path / "nope.yaml")


def test_unknown_key_suggests_the_right_one(small_study):
    edit(small_study, roads__clas_column="road_class")
    with pytest.raises(StudyError,
                       match=r"study.yaml: unknown key 'roads.clas_column' \(did you mean 'class_column'\?\)"):
        load_study(small_study)


def test_missing_key(small_study):
    edit(small_study, population=None)
    with pytest.raises(StudyError, match="missing required key 'population'"):
        load_study(small_study)


def test_wrong_type_names_key_and_value(small_study):
    edit(small_study, grid_m="fine")
    with pytest.raises(StudyError, match=r"study.yaml: grid_m: .*number.*'fine'"):
        load_study(small_study)


def test_out_of_range_value(small_study):
    edit(small_study, roads__merge_tolerance_m=-3)
    with pytest.raises(StudyError, match=r"roads.merge_tolerance_m: .*greater than or equal to 0"):
        load_study(small_study)


def test_missing_input_file_names_the_key(small_study):
    edit(small_study, facilities__path="clinics.csv")
    with pytest.raises(StudyError, match=r"facilities.path: file not found: .*clinics.csv"):
        load_study(small_study)


def test_invalid_yaml_gives_the_line(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("name: x\nroads: [unclosed\n", encoding="utf-8")
    with pytest.raises(StudyError, match=r"not valid YAML at line \d+"):
        load_study(path)


def test_unknown_profile(small_study):
    from healthreach.profile import load_profile

    study = load_study(edit(small_study, profile="strictest"))
    with pytest.raises(StudyError, match="no profile 'strictest' \\(bundled: default"):
        load_profile(study.profile, study)


def test_demo_study_file_is_valid():
    if not (DEMO_STUDY.parent / "roads.gpkg").exists():
        pytest.skip("demo data not generated")
    study = load_study(None)
    assert "synthetic" in study.name
