"""People who cannot reach any facility of a standard's group are counted by every standard.

The small study gets two one-way stubs in its rural (east) township: one
leads into a dead end (a car there cannot leave, so cannot reach primary
care by driving) and one leads out of a dead end (an ambulance cannot get
in). Cells whose nearest road is such a stub are unreachable by that mode.
"""

from __future__ import annotations

import itertools
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from conftest import X0, Y0, audit, grid_roads, write_study

from healthreach.cli import cli
from healthreach.inputs import load_inputs
from healthreach.report import summary
from healthreach.study import load_study
from healthreach.travel import Need


def _stub_study(folder):
    path = write_study(folder)
    roads = grid_roads()
    # each stub is two one-way segments through a middle junction, joined to the street grid at one end only:
    # a car on the first can only drive on into its dead end, an ambulance cannot drive into the second
    into = [(2800, 1200), (2900, 1300), (3000, 1400)]
    out_of = [(3400, 3000), (3500, 2900), (3600, 2800)]
    lines = [shapely.LineString([(X0 + ax, Y0 + ay), (X0 + bx, Y0 + by)])
             for stub in (into, out_of) for (ax, ay), (bx, by) in itertools.pairwise(stub)]
    stubs = gpd.GeoDataFrame({"road_class": ["county"] * 4, "oneway": [1] * 4, "name": ["stub"] * 4},
                             geometry=lines, crs=roads.crs)
    gpd.GeoDataFrame(np.r_[roads.to_numpy(), stubs.to_numpy()], columns=roads.columns, geometry="geometry",
                     crs=roads.crs).to_file(folder / "roads.gpkg", layer="roads")
    return path


@pytest.fixture(scope="module")
def stub_audit(tmp_path_factory):
    path = _stub_study(tmp_path_factory.mktemp("unreachable") / "s")
    return audit(load_inputs(load_study(path), use_cache=False)), path


def test_every_standard_counts_its_unreachable_people(stub_audit):
    result, _ = stub_audit
    inp = result.inputs
    people, urban = inp.cells.people, inp.cells.urban
    s = inp.profile.standards
    primary = result.figure("primary_care_15min")
    # rural cells count by driving: the dead-end stub's cells cannot leave it
    drive = result.travel[Need(s["primary_care_15min"].group, "drive", "time", "to")].cost
    expected = people[~urban & ~np.isfinite(drive)].sum() + people[urban & ~np.isfinite(
        result.travel[Need(s["primary_care_15min"].group, "walk", "time", "to")].cost)].sum()
    assert primary.unreachable > 0
    assert primary.unreachable == pytest.approx(expected)
    # by hand: the cell centred on the first stub (2,850 m, 1,250 m) attaches to it, so can only drive into the dead end
    on_stub = np.flatnonzero((inp.cells.x == X0 + 2850) & (inp.cells.y == Y0 + 1250))
    assert len(on_stub) == 1
    assert not urban[on_stub[0]]
    assert np.isinf(drive[on_stub[0]])
    assert np.isinf(result.primary_seconds[on_stub[0]])
    assert primary.unreachable == pytest.approx(people[~np.isfinite(result.primary_seconds)].sum())

    response = result.figure("emergency_response_18min")
    amb = result.travel[Need(s["emergency_response_18min"].group, "ambulance", "time", "from")].cost
    lost = ~np.isfinite(amb)
    assert lost.any()
    assert response.unreachable == pytest.approx(people[lost].sum())
    # the mean is over the reachable people only, checked by brute force
    delay = inp.profile.travel.dispatch_delay_min * 60
    mean = sum(p * (c + delay) for p, c in zip(people, amb, strict=False) if np.isfinite(c)) / people[~lost].sum() / 60
    assert response.details["mean_response_min"] == pytest.approx(mean)
    assert response.details["mean_over"] == "reachable people"
    assert response.details["mean_response_min"] <= response.details["target_mean_min"]   # the reachable are fast
    assert response.passed is False   # yet some people no ambulance reaches: the target fails

    rural = result.figure("emergency_radius_rural_10km")
    dist = result.travel[Need(s["emergency_radius_rural"].group, "ambulance", "length", "from")].cost
    assert rural.unreachable == pytest.approx(people[~urban & ~np.isfinite(dist)].sum())
    assert rural.unreachable > 0
    assert result.figure("ambulances_per_population").unreachable is None  # a count of vehicles, not a trip


def test_township_table_summary_and_terminal_show_unreachable(stub_audit, tmp_path):
    result, path = stub_audit
    towns = result.townships.set_index("township_id")
    primary_unreachable = result.figure("primary_care_15min").unreachable
    assert towns.loc["002", "primary_care_unreachable"] == pytest.approx(primary_unreachable, abs=0.5)
    assert towns.loc["001", "primary_care_unreachable"] == 0  # the urban township walks, both ways
    assert towns["emergency_response_unreachable"].sum() == pytest.approx(
        result.figure("emergency_response_18min").unreachable, abs=1)
    doc = summary(result)
    by_id = {f["id"]: f for f in doc["standards"]}
    assert by_id["primary_care_15min"]["unreachable_population"] == round(primary_unreachable)

    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["audit", str(path), "--out", str(out), "--no-map", "--lang", "en"],
                             env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    assert "unreachable" in run.output
    unreachable = round(result.figure("emergency_response_18min").unreachable)
    assert f"{unreachable:,} people reach no emergency facility" in run.output
    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    by_id = {f["id"]: f for f in written["standards"]}
    assert by_id["emergency_response_18min"]["unreachable_population"] == unreachable
