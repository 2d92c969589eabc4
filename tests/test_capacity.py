"""Capacity-constrained coverage: the maximum flow against networkx, ordered filling against the flow, the demo.

The flow is checked against networkx's maximum flow on random small
networks and on hand-made cases where the order of filling matters; on the
demo county (beds x 125 people within 30 minutes' drive) the flow's served
people, unserved people per township and saturated facilities are checked
for consistency, and ordered filling never serves more.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from healthreach.cli import cli
from healthreach.evaluation import Study
from healthreach.inputs import load_inputs
from healthreach.profile import PROFILES
from healthreach.standards.capacity import max_flow, ordered_filling
from healthreach.study import load_study
from tests.conftest import DEMO_DIR, X0, Y0, write_study

CAPACITY = {"beds_capacity_30min": {"kind": "capacity", "group": "with_beds", "threshold_min": 30, "mode": "drive",
                                    "capacity": "beds", "people_per_bed": 125, "target_share": 0.95},
            "beds_capacity_ordered_30min": {"kind": "capacity", "group": "with_beds", "threshold_min": 30,
                                            "capacity": "beds", "people_per_bed": 125, "method": "ordered",
                                            "order": "largest_first", "target_share": 0.95}}


def networkx_flow(people, capacity, cell, row) -> int:
    graph = nx.DiGraph()
    for c, p in enumerate(people):
        graph.add_edge("s", ("c", c), capacity=int(p))
    for c, r in zip(cell, row, strict=True):
        graph.add_edge(("c", int(c)), ("f", int(r)), capacity=int(people[c]))
    for r, cap in enumerate(capacity):
        graph.add_edge(("f", r), "t", capacity=int(cap))
    return int(nx.maximum_flow_value(graph, "s", "t"))


@pytest.mark.parametrize("seed", range(40))
def test_max_flow_equals_networkx_and_beats_ordered_filling(seed):
    rng = np.random.default_rng(seed)
    n_cells, n_rows = int(rng.integers(1, 30)), int(rng.integers(1, 8))
    people = rng.integers(0, 50, n_cells)
    capacity = rng.integers(0, 120, n_rows)
    linked = rng.random((n_cells, n_rows)) < 0.35
    cell, row = np.nonzero(linked)
    seconds = rng.random(len(cell)) * 1800
    served, filled = max_flow(people, capacity, cell, row)
    value = networkx_flow(people, capacity, cell, row)
    assert served.sum() == filled.sum() == value
    assert (served <= people).all()
    assert (filled <= capacity).all()
    reach = np.zeros(n_cells, bool)
    reach[cell] = True
    assert (served[~reach] == 0).all()
    for order in (np.argsort(-capacity, kind="stable"), np.arange(n_rows), rng.permutation(n_rows)):
        o_served, o_filled = ordered_filling(people, capacity, cell, row, seconds, order)
        assert o_served.sum() == o_filled.sum() <= value
        assert (o_served <= people).all()
        assert (o_filled <= capacity).all()


def test_ordered_filling_can_serve_fewer_than_the_flow():
    # cell 0 (100 people) reaches A and B, cell 1 (100 people) reaches A only; A and B hold 100 each.
    # Filling A first, nearest first, gives A to cell 0 and leaves cell 1 unserved; the flow serves both.
    people, capacity = np.array([100, 100]), np.array([100, 100])
    cell, row, seconds = np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([60.0, 600, 900])
    served, _ = max_flow(people, capacity, cell, row)
    assert served.tolist() == [100, 100]
    o_served, o_filled = ordered_filling(people, capacity, cell, row, seconds, np.array([0, 1]))
    assert o_served.tolist() == [100, 0]
    assert o_filled.tolist() == [100, 0]


def test_ordered_filling_takes_the_nearest_first_and_splits_a_cell():
    people, capacity = np.array([30, 50, 40]), np.array([60])
    cell, row, seconds = np.array([0, 1, 2]), np.array([0, 0, 0]), np.array([300.0, 100, 200])
    served, filled = ordered_filling(people, capacity, cell, row, seconds, np.array([0]))
    assert served.tolist() == [0, 50, 10]   # 50 at 100 s, then 10 of the 40 at 200 s
    assert filled.tolist() == [60]


@pytest.fixture(scope="module")
def capacity_audit(tmp_path_factory):
    """The demo county with the two capacity standards added to the default profile."""
    folder = tmp_path_factory.mktemp("capacity")
    data = yaml.safe_load((PROFILES / "default.yaml").read_text(encoding="utf-8"))
    data["standards"].update(CAPACITY)
    (folder / "profile.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    study = yaml.safe_load((DEMO_DIR / "study.yaml").read_text(encoding="utf-8"))
    for key in ("roads", "facilities", "population", "boundaries", "villages"):
        study[key]["path"] = str(DEMO_DIR / study[key]["path"])
    for group in study.get("population_groups", {}).values():
        group["path"] = str(DEMO_DIR / group["path"])
    study["profile"] = "profile.yaml"
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    return Study(load_inputs(load_study(folder / "study.yaml"))).baseline()


def test_demo_capacity_adds_up(capacity_audit):
    audit = capacity_audit
    flow, ordered = audit.figures["beds_capacity_30min"], audit.figures["beds_capacity_ordered_30min"]
    total = audit.study.weights.total
    assert 0 < ordered.covered <= flow.covered <= total
    table, towns = audit.facility_table, audit.townships
    beds = table["beds"].to_numpy(float)
    with_beds = table["type"].isin(audit.inputs.profile.groups["with_beds"].types)
    np.testing.assert_allclose(table.loc[with_beds, "beds_capacity_30min_capacity_people"], beds[with_beds] * 125)
    served = table["beds_capacity_30min_served_people"]
    assert served.sum() == pytest.approx(flow.covered, abs=0.1 * len(table))
    assert served[~with_beds].isna().all()
    assert (served[with_beds] <= table.loc[with_beds, "beds_capacity_30min_capacity_people"] + 1e-9).all()
    saturated = table["beds_capacity_30min_saturated"]
    assert saturated.any()
    assert sorted(table.loc[saturated, "id"]) == sorted(flow.details["saturated_facilities"])
    np.testing.assert_allclose(served[saturated], table.loc[saturated, "beds_capacity_30min_capacity_people"],
                               atol=0.05)
    unserved = towns["beds_capacity_30min_unserved_people"]
    assert unserved.sum() == pytest.approx(total - flow.covered, abs=0.05 * len(towns))  # rounded to 0.1
    assert unserved.sum() >= flow.details["beyond_reach_people"] - 1
    assert flow.details["capacity_people"] == pytest.approx(beds[with_beds].sum() * 125)


def test_capacity_changes_show_in_the_diff(capacity_audit):
    after = capacity_audit.apply([{"expand": "THC07", "beds": 200}])
    diff = capacity_audit.diff(after)
    row = diff.standards.set_index("standard").loc["beds_capacity_30min"]
    assert row["scenario_people"] > row["baseline_people"]
    assert "beds_capacity_30min_unserved_people_change" in diff.townships
    assert "beds_capacity_30min_served_people_change" in diff.facilities
    fresh = Study(capacity_audit.study.inputs).evaluate(after.facilities)
    assert after.figures["beds_capacity_30min"].covered == fresh.figures["beds_capacity_30min"].covered


EVERY_OPTION = {
    "tier_catchments": {"kind": "tiers", "tiers": {
        "village": {"group": "village_tier", "urban_mode": "walk", "rural_mode": "drive"},
        "township": {"group": "township_tier", "urban_mode": "walk", "rural_mode": "walk"},
        "county": {"group": "county_hospitals", "urban_mode": "drive", "rural_mode": "ambulance"}}},
    "beds_per_1000": {"kind": "per_1000", "resource": "beds", "target_per_1000": 8},
    "doctors_per_1000": {"kind": "per_1000", "resource": "doctors", "target_per_1000": 3.78},
    "nurses_per_1000": {"kind": "per_1000", "resource": "nurses", "target_per_1000": 4.15},
    "e2sfca_beds": {"kind": "e2sfca", "group": "with_beds", "resource": "beds", "mode": "drive",
                    "weight": "step", "steps_min": {5: 1.0, 10: 0.5}},
    "e2sfca_doctors": {"kind": "e2sfca", "group": "primary_care", "resource": "doctors", "mode": "walk",
                       "weight": "gaussian", "sigma_min": 10, "max_min": 25},
    "e2sfca_nurses": {"kind": "e2sfca", "group": "primary_care", "resource": "nurses"},
    "capacity_column_15min": {"kind": "capacity", "group": "primary_care", "threshold_min": 15, "mode": "walk",
                              "capacity": "column", "method": "ordered", "order": "listed", "target_share": 0.9},
    "capacity_doctors_20min": {"kind": "capacity", "group": "primary_care", "threshold_min": 20,
                               "capacity": "doctors", "people_per_doctor": 300, "method": "ordered",
                               "order": "largest_first", "target_share": 0.9},
    "capacity_beds_30min": {"kind": "capacity", "group": "with_beds", "threshold_min": 30, "mode": "ambulance",
                            "capacity": "beds", "people_per_bed": 40, "method": "max_flow", "target_share": 0.9},
}


def test_cli_audit_with_every_option_and_the_map(tmp_path):
    facilities = [
        {"id": "CHC01", "name": "城东社区卫生服务中心", "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
         "beds": 20, "ambulances": 0, "emergency": "false", "doctors": 6, "nurses": 9, "capacity": 1500},
        {"id": "THC01", "name": "白云镇中心卫生院", "type": "central_township_hc", "x": X0 + 3200, "y": Y0 + 2000,
         "beds": 40, "ambulances": 1, "emergency": "true", "doctors": 8, "nurses": 10, "capacity": 900},
        {"id": "VC01", "name": "白云村卫生室", "type": "village_clinic", "x": X0 + 3600, "y": Y0 + 400,
         "beds": 0, "ambulances": 0, "emergency": "false", "doctors": 1, "nurses": 0, "capacity": 300},
        {"id": "H001", "name": "县人民医院", "type": "general_hospital", "x": X0 + 1200, "y": Y0 + 3600,
         "beds": 120, "ambulances": 2, "emergency": "true", "doctors": 40, "nurses": 60, "capacity": 0},
    ]
    data = yaml.safe_load((PROFILES / "default.yaml").read_text(encoding="utf-8"))
    data["standards"].update(EVERY_OPTION)
    (tmp_path / "profiles").mkdir()
    profile = tmp_path / "profiles" / "every.yaml"
    profile.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    study = write_study(tmp_path / "s", facilities, profile=str(profile))
    spec = yaml.safe_load(study.read_text(encoding="utf-8"))
    spec["facilities"].update(doctors_column="doctors", nurses_column="nurses", capacity_column="capacity")
    study.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["audit", str(study), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    figures = {s["id"]: s for s in summary["standards"]}
    assert set(EVERY_OPTION) - {"tier_catchments"} <= set(figures)
    for sid in ("e2sfca_beds", "e2sfca_doctors", "e2sfca_nurses"):
        assert figures[sid]["share"] > 0
    assert figures["e2sfca_doctors"]["weight"] == "gaussian"
    assert figures["e2sfca_beds"]["reach_min"] == 10
    assert figures["doctors_per_1000"]["target"] == 3.78
    for sid in ("capacity_column_15min", "capacity_doctors_20min", "capacity_beds_30min"):
        assert 0 < figures[sid]["covered_population"] <= figures[sid]["population"]
    assert figures["capacity_column_15min"]["capacity_people"] == 1500 + 900 + 300
    assert figures["capacity_doctors_20min"]["capacity_people"] == (6 + 8 + 1 + 40) * 300
    table = pd.read_csv(out / "facilities.csv", dtype={"id": str}).set_index("id")
    assert table.loc["VC01", "tier"] == "village"
    assert table.loc["H001", "tier"] == "county"
    assert table.loc["CHC01", "people_per_nurse"] == pytest.approx(table.loc["CHC01", "tier_catchment_people"] / 9,
                                                                   abs=0.06)
    towns = pd.read_csv(out / "townships.csv")
    for column in ("beds_per_1000_admin", "beds_per_1000_catchment", "doctors_per_1000_catchment_pass",
                   "e2sfca_beds_per_1000", "e2sfca_nurses_per_1000", "capacity_beds_30min_unserved_people"):
        assert column in towns, column
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "<h4>可达床位（每千人，计竞争，E2SFCA）</h4>" in page  # the legend of the drawn access layer
    flat = "".join(result.output.split())  # the Chinese table, titles wrapped
    assert "每千人口执业（助理）医师数" in flat
    assert "容量约束下30分钟内可服务人口" in flat
    assert "Traceback" not in result.output


def test_a_capacity_from_a_count_the_list_lacks_is_not_assessed(small_study):
    data = yaml.safe_load((PROFILES / "default.yaml").read_text(encoding="utf-8"))
    data["standards"].update(capacity_doctors={"kind": "capacity", "group": "primary_care", "threshold_min": 20,
                                               "capacity": "doctors", "target_share": 0.9})
    profile = Path(small_study).parent / "p.yaml"
    profile.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    study = yaml.safe_load(Path(small_study).read_text(encoding="utf-8"))
    study["profile"] = "p.yaml"
    Path(small_study).write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    figure = Study(load_inputs(load_study(small_study))).baseline().figures["capacity_doctors"]
    assert figure.passed is None
    assert "facilities.doctors_column" in str(figure.details["not_assessed"])
