"""Catchments per tier and beds, doctors and nurses per 1,000 people, on the demo county and small cases.

Tier catchments are checked against the nearest facility each cell reaches
on the tier's own surfaces (summed over cells here, independently of the
standard's township-by-facility sums); the ratios against counts taken from
the facility file by hand; scenario results against the same facility table
evaluated from scratch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from healthreach.errors import InputError, StudyError
from healthreach.evaluation import Study
from healthreach.inputs import load_inputs
from healthreach.profile import PROFILES, load_profile
from healthreach.scenario.schema import load_scenario
from healthreach.standards.tiers import Tiers
from healthreach.study import load_study
from tests.conftest import DEMO_DIR, write_study

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
TIERS = ("village", "township", "county", "tertiary")


def tiers_unit(study) -> Tiers:
    return next(s for s in study.standards if isinstance(s, Tiers))


def test_hospitals_have_catchments_of_plausible_size(demo_audit):
    table = demo_audit.facility_table
    total = demo_audit.study.weights.total
    hospitals = table[table["tier"].isin(["county", "tertiary"])]
    assert set(hospitals["type"]) == {"tertiary_hospital", "general_hospital", "tcm_hospital",
                                      "maternal_child_hospital"}
    assert (hospitals["tier_catchment_people"] >= 10_000).all(), hospitals
    assert (hospitals["tier_catchment_people"] <= total + 0.5).all()
    # the one tertiary hospital serves everyone who can drive to it: the whole county
    tertiary = table[table["tier"] == "tertiary"]
    assert tertiary["tier_catchment_people"].iloc[0] == pytest.approx(total, abs=1)
    # beds per 1,000 of the people who use each facility: none is absurd
    assert table["beds_per_1000"].max() < 300
    assert table.loc[table["beds"] > 0, "beds_per_1000"].notna().all()


def test_tier_catchments_equal_the_nearest_facility_of_each_tier(demo_audit):
    study, table = demo_audit.study, demo_audit.facility_table
    unit = tiers_unit(study)
    cells = study.inputs.cells
    expected = np.zeros(len(table))
    for name, tier in unit.spec.tiers.items():
        urban, rural = unit.tier_needs(tier)
        row = np.where(cells.urban, demo_audit.travel[urban].facility, demo_audit.travel[rural].facility)
        expected += np.bincount(row[row >= 0], weights=cells.people[row >= 0], minlength=len(table))
        members = table["type"].isin(study.inputs.profile.groups[tier.group].types)
        assert (table.loc[members, "tier"] == name).all()
    in_tier = table["tier"] != ""
    np.testing.assert_allclose(table.loc[in_tier, "tier_catchment_people"], expected[in_tier].round(0), atol=0)
    assert table.loc[~in_tier, "tier_catchment_people"].isna().all()   # the emergency station
    assert set(table.loc[in_tier, "tier"]) == set(TIERS)
    with np.errstate(divide="ignore"):
        people_per_doctor = (expected / table["doctors"].to_numpy(float)).round(1)
    has = in_tier & (table["doctors"] > 0)
    np.testing.assert_allclose(table.loc[has, "people_per_doctor"], people_per_doctor[has], atol=0.051)


def test_ratios_per_1000_both_ways(demo_audit):
    study, towns = demo_audit.study, demo_audit.townships
    raw = pd.read_csv(DEMO_DIR / "facilities.csv", dtype={"township_code": str})
    people = study.weights.township_people
    located = demo_audit.facility_township
    for resource, target in (("beds", 8.0), ("doctors", 3.0), ("nurses", 3.9)):
        counts = raw[resource].to_numpy(float)
        admin = np.bincount(located[located >= 0], weights=counts[located >= 0], minlength=len(people))
        np.testing.assert_allclose(towns[f"{resource}_per_1000_admin"], (admin / people * 1000).round(3), atol=0)
        assert list(towns[f"{resource}_per_1000_admin_pass"]) == list(admin / people * 1000 >= target)
        figure = demo_audit.figures[f"{resource}_per_1000"]
        inside = counts[located >= 0].sum()
        assert figure.share == pytest.approx(inside / people.sum() * 1000, rel=1e-12)
        assert figure.target == target
        assert figure.passed is (figure.share >= target)
        # by catchment: every facility's count is shared out among its tier catchment, whoever uses it
        catchment = towns[f"{resource}_per_1000_catchment"].to_numpy()
        used = (catchment * people / 1000).sum()
        shared = counts[demo_audit.facility_table["tier_catchment_people"].fillna(0).to_numpy() > 0].sum()
        assert used == pytest.approx(shared, rel=1e-3)
        assert figure.details["by_catchment_per_1000"] == pytest.approx(shared / people.sum() * 1000, rel=1e-4)
    # the tertiary hospital stands outside the county: administratively it counts nowhere, by catchment everywhere
    assert towns["beds_per_1000_catchment"].min() > 0


def test_profile_targets_are_the_plans(demo_audit):
    profile = load_profile("default")
    targets = {sid: spec.target_per_1000 for sid, spec in profile.standards.items() if spec.kind == "per_1000"}
    assert targets == {"beds_per_1000": 8.0, "doctors_per_1000": 3.0, "nurses_per_1000": 3.9}


@pytest.mark.parametrize("scenario", sorted(p.stem for p in SCENARIOS.glob("*.yaml")))
def test_scenarios_equal_a_fresh_evaluation(demo_audit, scenario):
    after = demo_audit.apply(load_scenario(SCENARIOS / f"{scenario}.yaml"))
    fresh = Study(demo_audit.study.inputs).evaluate(after.facilities)
    for column in ("tier", "tier_catchment_people", "people_per_bed", "people_per_doctor", "people_per_nurse",
                   "beds_per_1000"):
        pd.testing.assert_series_equal(after.facility_table[column], fresh.facility_table[column], atol=0.051)
    ratios = [c for c in after.townships.columns if "_per_1000_" in c]
    assert len(ratios) == 12
    pd.testing.assert_frame_equal(after.townships[ratios], fresh.townships[ratios], atol=1e-9)
    for sid in ("beds_per_1000", "doctors_per_1000", "nurses_per_1000"):
        assert after.figures[sid].share == pytest.approx(fresh.figures[sid].share, rel=1e-12)
        assert after.figures[sid].details == pytest.approx(fresh.figures[sid].details, rel=1e-9)
    diff = demo_audit.diff(after)
    assert {"beds_per_1000_catchment_change", "doctors_per_1000_admin_change"} <= set(diff.townships.columns)
    assert {"tier_catchment_people_change", "people_per_bed_change"} <= set(diff.facilities.columns)
    assert {"beds_per_1000", "e2sfca_beds"} <= set(diff.standards["standard"])


def test_a_merged_facility_takes_the_closed_ones_staff(demo_audit):
    table = demo_audit.facility_table.set_index("id")
    after = demo_audit.apply([{"close": "THC03", "into": "THC02"}])
    changed = after.facility_table.set_index("id")
    for c in ("doctors", "nurses"):
        assert changed.loc["THC02", c] == table.loc["THC02", c] + table.loc["THC03", c]
        assert changed.loc["THC03", c] == 0
    assert changed.loc["THC03", "tier"] == ""
    assert after.figures["doctors_per_1000"].share == pytest.approx(demo_audit.figures["doctors_per_1000"].share)


def _profile_with_tiers(folder: Path, tiers: dict) -> Path:
    data = yaml.safe_load((PROFILES / "default.yaml").read_text(encoding="utf-8"))
    data["standards"]["tier_catchments"]["tiers"] = tiers
    path = folder / "tiers.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_a_type_in_two_tiers_is_refused(tmp_path):
    path = _profile_with_tiers(tmp_path, {"low": {"group": "village_tier"}, "high": {"group": "primary_care"}})
    with pytest.raises(StudyError, match=r"tiers\.high\.group: facility type 'community_station' is in tier 'low' "
                                         r"and tier 'high'"):
        load_profile(str(path))


def test_a_tier_chosen_by_the_emergency_flag_is_refused(tmp_path):
    path = _profile_with_tiers(tmp_path, {"emergency": {"group": "emergency"}})
    with pytest.raises(StudyError, match=r"tiers\.emergency\.group: group 'emergency' is chosen by the emergency flag"):
        load_profile(str(path))


def test_a_tier_of_an_unknown_group_is_refused(tmp_path):
    path = _profile_with_tiers(tmp_path, {"low": {"group": "clinics"}})
    with pytest.raises(StudyError, match=r"tiers\.low\.group: no group 'clinics'"):
        load_profile(str(path))


def test_a_named_doctor_column_the_file_lacks_stops(tmp_path):
    path = write_study(tmp_path / "s")
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    study["facilities"]["doctors_column"] = "医师数"
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=r"no column '医师数' for facilities.doctors_column .*`doctors_column: null`"):
        load_inputs(load_study(path))


def test_without_staff_counts_the_staff_ratios_are_not_assessed(tmp_path):
    inputs = load_inputs(load_study(write_study(tmp_path / "s")))
    evaluation = Study(inputs).baseline()
    for sid in ("doctors_per_1000", "nurses_per_1000", "e2sfca_doctors"):
        figure = evaluation.figures[sid]
        assert figure.passed is None
        assert figure.share is None
        assert "not_assessed" in figure.details
    assert "doctors_per_1000_admin" not in evaluation.townships
    assert "beds_per_1000_admin" in evaluation.townships
    assert evaluation.facility_table["people_per_doctor"].isna().all()


def test_changes_on_changes_equal_a_fresh_evaluation(demo_audit):
    first = demo_audit.apply([{"close": "THC05"}])
    second = first.apply([{"upgrade": "VC042", "type": "township_hc"}, {"expand": "THC02", "beds": 120}])
    fresh = Study(demo_audit.study.inputs).evaluate(second.facilities)
    for column in ("tier", "tier_catchment_people", "beds_per_1000", "e2sfca_beds_ratio_per_1000"):
        pd.testing.assert_series_equal(second.facility_table[column], fresh.facility_table[column], atol=1e-9)
    ratios = [c for c in second.townships.columns if "_per_1000" in c]
    pd.testing.assert_frame_equal(second.townships[ratios], fresh.townships[ratios], atol=1e-9)
    assert second.facility_table.set_index("id").loc["VC042", "tier"] == "township"
