"""Standards declared in the profile: kinds, clear errors, names that follow the thresholds, a new unit checked."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from conftest import write_study

from healthreach.errors import StudyError
from healthreach.evaluation import Study
from healthreach.inputs import load_inputs
from healthreach.profile import PROFILES
from healthreach.study import load_study


def profile_with(tmp_path, **standards) -> str:
    """The default profile with ``standards`` added (or replaced), written beside the study."""
    data = yaml.safe_load((PROFILES / "default.yaml").read_text(encoding="utf-8"))
    data["standards"].update(standards)
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def test_a_standard_without_its_kind_is_refused_with_the_kinds(tmp_path):
    study = write_study(tmp_path / "s", profile=profile_with(
        tmp_path, township_20min={"group": "primary_care", "threshold_min": 20, "target_share": 0.9}))
    with pytest.raises(StudyError, match=r"standard 'township_20min' needs kind: one of circle, radius"):
        load_inputs(load_study(study))


def test_a_misspelt_kind_names_the_kinds(tmp_path):
    study = write_study(tmp_path / "s", profile=profile_with(
        tmp_path, township_20min={"kind": "drivetime", "group": "primary_care", "threshold_min": 20,
                                  "target_share": 0.9}))
    with pytest.raises(StudyError, match=r"'drivetime'.*'drive_time'"):
        load_inputs(load_study(study))


def test_columns_follow_the_profile_threshold(tmp_path):
    circle = {"group": "primary_care", "threshold_min": 20, "urban_mode": "walk", "rural_mode": "drive",
              "target_share": 0.95}
    study = write_study(tmp_path / "s", profile=profile_with(tmp_path, primary_care_15min=circle))
    base = Study(load_inputs(load_study(study))).baseline()
    columns = set(base.townships.columns)
    assert {"primary_care_20min_share", "primary_care_walk_20min_share", "primary_care_drive_20min_share"} <= columns
    assert not any("15min" in c for c in columns)
    assert "catchment_people_20min" in base.facility_table.columns
    assert base.figure("primary_care_15min").title.startswith("20-minute medical circle")


def test_a_new_drive_time_standard_equals_a_count_of_its_cells(tmp_path):
    """A standard added in the profile only: its share equals people within the time, counted cell by cell."""
    study = write_study(tmp_path / "s", profile=profile_with(tmp_path, community_8min={
        "kind": "drive_time", "group": "primary_care", "threshold_min": 8, "mode": "walk", "target_share": 0.5,
        "what": "A primary-care facility"}))
    base = Study(load_inputs(load_study(study))).baseline()
    figure = base.figure("community_8min")
    unit = next(s for s in base.study.standards if s.id == "community_8min")
    seconds = base.travel[unit.need].cost
    people = base.inputs.cells.people
    expected = float(people[seconds <= 8 * 60].sum())  # independent of the tally: a plain count
    assert figure.covered == pytest.approx(expected, rel=1e-12)
    assert figure.share == pytest.approx(expected / people.sum(), rel=1e-12)
    assert figure.title == "A primary-care facility within 8 min walk"
    assert list(base.figures)[-1] == "community_8min"
    towns = base.townships.set_index("township_id")
    by_town = np.bincount(base.inputs.cells.township, weights=people * (seconds <= 480), minlength=len(towns))
    np.testing.assert_allclose(towns["community_8min_share"].to_numpy(),
                               (by_town / base.study.weights.township_people).round(4), atol=1e-12)


def test_two_standards_writing_one_column_are_refused(tmp_path):
    """'primary_care_15min' and 'primary_care_15' both name 'primary_care_15min_share': refused, not overwritten."""
    circle = {"kind": "circle", "group": "primary_care", "threshold_min": 15, "target_share": 0.9}
    study = write_study(tmp_path / "s", profile=profile_with(tmp_path, primary_care_15=circle))
    with pytest.raises(StudyError, match=r"standards 'primary_care_15min' and 'primary_care_15' would both write "
                                         r"the township column 'primary_care_15min_share'"):
        Study(load_inputs(load_study(study)))


def test_a_radius_figure_named_like_another_standard_is_refused(tmp_path):
    drive = {"kind": "drive_time", "group": "emergency", "threshold_min": 10, "target_share": 0.9}
    study = write_study(tmp_path / "s", profile=profile_with(tmp_path, emergency_radius_rural_10km=drive))
    with pytest.raises(StudyError, match=r"would both write the figure 'emergency_radius_rural_10km'"):
        Study(load_inputs(load_study(study)))


def test_open_study_refuses_clashing_standards_before_reading_the_roads(tmp_path, monkeypatch):
    import healthreach

    circle = {"kind": "circle", "group": "primary_care", "threshold_min": 15, "target_share": 0.9}
    study = write_study(tmp_path / "s", profile=profile_with(tmp_path, primary_care_15=circle))

    def no_work(*args, **kwargs):
        msg = "inputs were read before the profile was checked"
        raise AssertionError(msg)

    monkeypatch.setattr("healthreach.api.load_inputs", no_work)
    with pytest.raises(StudyError, match=r"would both write the township column"):
        healthreach.open_study(study)
