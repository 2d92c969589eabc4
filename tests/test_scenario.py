"""Scenarios: bad files fail at the door, coverage moves the way the world says, incremental = full."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import CRS, X0, Y0, write_study
from pyproj import Transformer

from healthreach.cli import cli
from healthreach.crs import wgs84_to_bd09, wgs84_to_gcj02
from healthreach.diff import Diff
from healthreach.errors import ScenarioError
from healthreach.evaluation import Evaluation, Study
from healthreach.incremental import repair_surface
from healthreach.inputs import load_inputs
from healthreach.maps.base import render_html
from healthreach.network import Attachment
from healthreach.reach import nearest_facility, point_cost
from healthreach.scenario.apply import apply_changes
from healthreach.scenario.checks import check
from healthreach.scenario.compare import compare_table
from healthreach.scenario.schema import load_scenario, parse_scenario
from healthreach.study import load_study
from healthreach.travel import facility_attachment, in_group

REPO = Path(__file__).resolve().parents[1]
TO_LONLAT = Transformer.from_crs(CRS, 4326, always_xy=True)

FACILITIES = [  # on the 4 x 4 km street grid of conftest (streets every 400 m)
    {"id": "CHC01", "name": "城东社区卫生服务中心", "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
     "beds": 20, "ambulances": 0, "emergency": "false"},
    {"id": "THC01", "name": "白云镇中心卫生院", "type": "central_township_hc", "x": X0 + 3200, "y": Y0 + 2000,
     "beds": 40, "ambulances": 1, "emergency": "true"},
    {"id": "THC02", "name": "石桥乡卫生院", "type": "township_hc", "x": X0 + 3600, "y": Y0 + 3600,
     "beds": 20, "ambulances": 1, "emergency": "false"},
    {"id": "VC01", "name": "石桥村卫生室", "type": "village_clinic", "x": X0 + 2800, "y": Y0 + 400,
     "beds": 0, "ambulances": 0, "emergency": "false"},
    {"id": "VC02", "name": "柳树村卫生室", "type": "village_clinic", "x": X0 + 1200, "y": Y0 + 3600,
     "beds": 0, "ambulances": 0, "emergency": "false"},
    {"id": "GH01", "name": "县人民医院", "type": "general_hospital", "x": X0 + 1600, "y": Y0 + 1200,
     "beds": 300, "ambulances": 3, "emergency": "true"},
    {"id": "ES01", "name": "城北急救站", "type": "emergency_station", "x": X0 + 2400, "y": Y0 + 2800,
     "beds": 0, "ambulances": 2, "emergency": "false"},
    {"id": "TH01", "name": "市第一人民医院", "type": "tertiary_hospital", "x": X0, "y": Y0,
     "beds": 800, "ambulances": 5, "emergency": "true"},
]
TYPES = ["community_hc", "township_hc", "central_township_hc", "regional_subcentre", "village_clinic",
         "general_hospital", "emergency_station", "tertiary_hospital"]


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    return write_study(tmp_path_factory.mktemp("scenario") / "county", FACILITIES)


@pytest.fixture(scope="module")
def base(study) -> Evaluation:
    return Study(load_inputs(load_study(study), use_cache=False)).baseline()


def scenario(study: Path, changes: list[dict], **top) -> dict:
    return {"name": "test", "study": str(study), **top, "changes": changes}


def at(x: float, y: float) -> dict:
    """A site as metres on the test grid."""
    return {"x": float(X0 + x), "y": float(Y0 + y), "crs": CRS}


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_LONLAT.transform(X0 + x, Y0 + y)
    return float(lon), float(lat)


def run(base: Evaluation, study: Path, changes: list[dict], **top) -> Diff:
    """The baseline compared with the scenario's evaluation."""
    return base.diff(base.apply(parse_scenario(scenario(study, changes, **top))))


def problem(base: Evaluation, study: Path, changes: list[dict], **top) -> str:
    """The message of the ScenarioError the scenario raises before any work."""
    with pytest.raises(ScenarioError) as err:
        check(parse_scenario(scenario(study, changes, **top), study.parent / "plan.yaml"), base.inputs)
    return str(err.value)


# --- the file and its errors -------------------------------------------------------------------------------

def test_unknown_id_suggests_the_closest_ids_and_names(base, study):
    msg = problem(base, study, [{"close": "THC1"}])
    assert "plan.yaml: change 1 (close THC1): no facility with id 'THC1' in facilities.csv" in msg
    assert "did you mean THC01 (白云镇中心卫生院)" in msg
    assert "did you mean THC02 (石桥乡卫生院)" in problem(base, study, [{"close": "thc2"}])  # zero-padding aside
    msg = problem(base, study, [{"expand": "白云镇中心卫生院", "beds": 60}])
    assert "'白云镇中心卫生院' is the name of THC01: refer to facilities by id" in msg
    msg = problem(base, study, [{"upgrade": "XYZ-99", "type": "regional_subcentre"}])
    assert "ids look like CHC01, THC01, THC02, VC01, VC02, ... (8 facilities)" in msg


def test_every_problem_is_listed_in_one_message(base, study):
    msg = problem(base, study, [{"close": "NOPE1"}, {"relocate": "NOPE2", "to": at(400, 400)}])
    assert "change 1 (close NOPE1)" in msg
    assert "change 2 (relocate NOPE2)" in msg


def test_site_outside_the_study_area(base, study):
    msg = problem(base, study, [{"relocate": "CHC01", "to": at(-6000, 2000)}])
    assert "change 1 (relocate CHC01)" in msg
    assert "lies 6.0 km outside the study area" in msg
    assert "allow_outside: true" in msg
    # a tertiary hospital beyond the district is allowed when said so (and it must still be near a road)
    msg = problem(base, study, [{"add": "TH02", "name": "市中心医院", "type": "tertiary_hospital",
                                 "at": at(-300, 2000), "allow_outside": True}], max_road_m=100)
    assert "lies 300 m from the nearest drivable road, farther than max_road_m (100 m)" in msg
    check(parse_scenario(scenario(study, [{"add": "TH02", "name": "市中心医院", "type": "tertiary_hospital",
                                           "at": at(-300, 2000), "allow_outside": True}])), base.inputs)


def test_site_far_from_any_road_names_the_change_and_facility(base, study):
    # the block centre (200 m, 200 m) is 200 m from the nearest street (283 m from a junction): the street counts
    msg = problem(base, study, [{"expand": "CHC01", "beds": 30},
                                {"add": "NEW1", "name": "新卫生院", "type": "township_hc", "at": at(200, 200)}],
                  max_road_m=150)
    assert "change 2 (add NEW1): the site of NEW1 (新卫生院)" in msg
    assert "lies 200 m from the nearest drivable road, farther than max_road_m (150 m)" in msg
    msg = problem(base, study, [{"relocate": "VC02", "to": at(200, 200)}], max_road_m=150)
    assert "change 1 (relocate VC02): the site of VC02 (柳树村卫生室)" in msg


def test_swapped_lon_lat(base, study):
    lon, lat = lonlat(800, 800)
    msg = problem(base, study, [{"relocate": "VC01", "to": {"lon": lat, "lat": lon}}])
    assert f"change 1 (relocate VC01): longitude {lat} / latitude {lon} look swapped" in msg
    x, y = at(800, 800)["x"], at(800, 800)["y"]
    msg = problem(base, study, [{"relocate": "VC01", "to": {"x": y, "y": x, "crs": CRS}}])
    assert f"x {y}, y {x} looks swapped" in msg


def test_location_and_crs_must_agree(base, study):
    lon, lat = lonlat(800, 800)
    msg = problem(base, study, [{"relocate": "VC01", "to": {"lon": lon, "lat": lat, "crs": CRS}}])
    assert "lon/lat given but crs EPSG:4545 is projected" in msg
    msg = problem(base, study, [{"relocate": "VC01", "to": {"x": 480800.0, "y": 3250800.0}}])
    assert "x/y given but crs wgs84 is geographic" in msg


def test_contradicting_changes(base, study):
    msg = problem(base, study, [{"close": "VC01"}, {"expand": "VC01", "beds": 5}])
    assert "change 2 (expand VC01): VC01 is closed by change 1 (close VC01)" in msg
    msg = problem(base, study, [{"relocate": "VC02", "to": at(400, 400)}, {"relocate": "VC02", "to": at(800, 400)}])
    assert "relocates VC02 a second time (change 1 (relocate VC02) moves it already)" in msg
    msg = problem(base, study, [{"close": "VC02"}, {"close": "VC02"}])
    assert "change 2 (close VC02): VC02 is closed by change 1" in msg
    msg = problem(base, study, [{"add": "GH01", "name": "x", "type": "village_clinic", "at": at(400, 400)}])
    assert "change 1 (add GH01): id 'GH01' already exists in facilities.csv" in msg
    msg = problem(base, study, [{"add": "N1", "name": "x", "type": "village_clinic", "at": at(400, 400)},
                                {"close": "N1"}])
    assert "closes N1, which change 1 (add N1) adds; drop both changes" in msg
    msg = problem(base, study, [{"close": "VC01", "into": "THC02"}, {"close": "THC02"}])
    assert "closes THC02, into which change 1 (close VC01) merges another facility" in msg
    msg = problem(base, study, [{"relocate": "THC02", "to": at(400, 400), "beds": 50},
                                {"expand": "THC02", "beds": 80}])
    assert "sets beds of THC02 to 80, but change 1 (relocate THC02) set it to 50" in msg


def test_unknown_type_and_keys(base, study):
    msg = problem(base, study, [{"upgrade": "THC02", "type": "regional_subcentr"}])
    expected = ("type 'regional_subcentr' is not a facility type of profile 'default'; "
                "did you mean 'regional_subcentre'")
    assert expected in msg
    with pytest.raises(ScenarioError, match=r"change 1 \(relocate THC02\): unknown key 'too' \(did you mean 'to'\?\)"):
        parse_scenario(scenario(study, [{"relocate": "THC02", "too": at(400, 400)}]))
    with pytest.raises(ScenarioError, match=r"change 1: a change starts with exactly one of add, relocate, close, "
                                            r"upgrade, expand .*got relocate, close"):
        parse_scenario(scenario(study, [{"relocate": "THC02", "close": "VC01"}]))
    with pytest.raises(ScenarioError, match="an expansion needs beds: and/or ambulances:"):
        parse_scenario(scenario(study, [{"expand": "THC02"}]))
    with pytest.raises(ScenarioError, match="missing required key 'changes'"):
        parse_scenario({"name": "x", "study": str(study)})


def test_numeric_ids_and_epsg_numbers_are_read_as_text(study):
    spec = parse_scenario(yaml.safe_load(f"""
        name: numbers
        study: {study}
        changes:
          - close: 4201
          - add: 17
            name: 101
            type: village_clinic
            at: {{x: 481000, y: 3251000, crs: 4545}}
        """))
    assert spec.changes[0].ref == "4201"
    assert spec.changes[1].ref == "17"
    assert spec.changes[1].at.crs == "4545"


def test_missing_study_and_file(tmp_path):
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.yaml")
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(scenario(Path("../nowhere/study.yaml"), [{"close": "X"}])), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"plan\.yaml: study: base study not found"):
        load_scenario(path)


@pytest.mark.parametrize(("convert", "system"), [(wgs84_to_gcj02, "gcj02"), (wgs84_to_bd09, "bd09")])
def test_web_map_coordinates_are_converted(base, study, convert, system):
    lon, lat = lonlat(2000, 2000)
    wlon, wlat = convert(lon, lat)
    given = {"lon": float(wlon), "lat": float(wlat), "crs": system}
    sites = check(parse_scenario(scenario(study, [{"relocate": "VC01", "to": given},
                                                  {"relocate": "VC02", "to": {"lon": lon, "lat": lat}}])),
                  base.inputs)
    assert sites[0].x == pytest.approx(X0 + 2000, abs=0.5)
    assert sites[0].y == pytest.approx(Y0 + 2000, abs=0.5)
    assert np.hypot(sites[0].x - sites[1].x, sites[0].y - sites[1].y) < 0.05
    # read as WGS84 the same numbers land hundreds of metres away
    off = check(parse_scenario(scenario(study, [{"relocate": "VC01", "to": {"lon": float(wlon), "lat": float(wlat)}}],
                                        max_road_m=5000)), base.inputs)
    assert np.hypot(off[0].x - sites[0].x, off[0].y - sites[0].y) > 100


# --- facts about the world --------------------------------------------------------------------------------

def figures(result) -> dict[str, float]:
    return {f.id: f.share for f in result.figures.values() if f.share is not None}


def test_adding_a_facility_never_lowers_any_figure(base, study):
    rng = np.random.default_rng(1)
    for k in range(8):
        x, y = rng.uniform(0, 4000, 2)
        kind = TYPES[k % len(TYPES)]
        r = run(base, study, [{"add": f"N{k}", "name": "新机构", "type": kind, "at": at(x, y),
                               "ambulances": int(rng.integers(0, 3)), "emergency": bool(rng.random() < 0.5)}])
        before, after = figures(r.before), figures(r.after)
        for sid, share in before.items():
            assert after[sid] >= share - 1e-12, (sid, kind)
        assert r.lose_coverage == 0
        assert (r.standards["lose_coverage_people"].fillna(0) == 0).all()


def test_closing_a_facility_never_raises_any_figure(base, study):
    for fid in ("CHC01", "THC01", "GH01", "ES01", "VC02", "TH01"):
        r = run(base, study, [{"close": fid}])
        before, after = figures(r.before), figures(r.after)
        for sid, share in before.items():
            assert after.get(sid, 0.0) <= share + 1e-12, (sid, fid)
        assert r.newly_covered == 0
        row = r.facilities.set_index("id").loc[fid]
        assert row["status"] == "closed"
        assert row["beds_after"] == 0
        assert row["ambulances_after"] == 0


def test_relocating_to_the_same_place_changes_nothing(base, study):
    table = pd.read_csv(study.parent / "facilities.csv")  # the sites as the facility file gives them
    changes = [{"relocate": row.id, "to": {"lon": row.lon, "lat": row.lat}} for row in table.itertuples()]
    r = run(base, study, changes)
    for fb, fa in zip(r.before.figures.values(), r.after.figures.values(), strict=True):
        assert fb.share == fa.share, fb.id
        assert fb.covered == fa.covered, fb.id
    assert r.newly_covered == 0
    assert r.lose_coverage == 0
    assert r.flows.empty
    assert (r.facilities["catchment_people_change"].fillna(0) == 0).all()


def test_population_total_is_the_baselines(base, study):
    r = run(base, study, [{"close": "GH01"}, {"relocate": "CHC01", "to": at(400, 3600)},
                          {"add": "N1", "name": "x", "type": "community_hc", "at": at(2000, 2000)}])
    assert r.after.inputs.total_people == pytest.approx(r.before.inputs.total_people)
    assert r.townships["people"].sum() == pytest.approx(r.before.townships["people"].sum())
    fig = r.after.figure("primary_care_15min")
    assert fig.population == pytest.approx(r.before.figure("primary_care_15min").population)


def test_a_relocation_can_both_cover_and_uncover_people(base, study):
    # the urban community centre moves from the middle of its township to a corner
    r = run(base, study, [{"relocate": "CHC01", "to": at(0, 4000)}])
    assert r.newly_covered > 0
    assert r.lose_coverage > 0
    primary = r.standards.set_index("standard").loc["primary_care_15min"]
    assert primary["change_people"] == pytest.approx(r.newly_covered - r.lose_coverage)
    people = r.after.inputs.cells.people
    assert primary["newly_covered_people"] == pytest.approx(people[r.gained].sum())
    # every cell that lost coverage was CHC01's in the baseline
    assert (r.before.primary_facility[r.mask(r.lost) & (people > 0)] == 0).all()


def test_figures_add_up_from_the_cells(base, study):
    r = run(base, study, [{"upgrade": "THC02", "type": "regional_subcentre", "emergency": True}])
    for result in (r.before, r.after):  # the baseline computed whole, the scenario from the cells that changed
        study, people = result.study, result.inputs.cells.people
        view = study.view(result.state.view(np.arange(len(people))))
        tested = set()
        for unit in study.standards:
            values = unit.values(view)
            for fid, (column, area) in unit.tests().items():
                ok = values[column].astype(bool)
                assert not (ok & ~view.area(area)).any(), fid  # met only where the standard applies
                assert people[ok].sum() == pytest.approx(result.figure(fid).covered), fid
                tested.add(fid)
        cell_based = {f.id for f in result.figures.values() if f.covered is not None} - {"village_clinic_800"}
        assert tested == cell_based


def test_upgrade_with_emergency_adds_an_emergency_site(base, study):
    r = run(base, study, [{"upgrade": "THC02", "type": "regional_subcentre", "emergency": True},
                          {"expand": "THC02", "beds": 100, "ambulances": 3}])
    row = r.facilities.set_index("id").loc["THC02"]
    assert row["type_before"] == "township_hc"
    assert row["type_after"] == "regional_subcentre"
    assert row["status"] == "upgraded+expanded"
    assert row["beds_after"] == 100
    assert row["emergency_catchment_people_after"] > 0
    assert np.isnan(row["emergency_catchment_people_before"])
    amb = r.standards.set_index("standard").loc["ambulances_per_population.ambulances"]
    assert amb["change"] == 2


def test_merge_moves_beds_and_ambulances_and_the_catchment(base, study):
    r = run(base, study, [{"close": "THC02", "into": "THC01"}])
    fac = r.facilities.set_index("id")
    assert fac.loc["THC01", "beds_after"] == 40 + 20
    assert fac.loc["THC01", "ambulances_after"] == 1 + 1
    assert fac.loc["THC02", "merged_into"] == "THC01"
    assert fac.loc["THC01", "status"] == "merged_in"
    assert fac.loc["THC02", "catchment_people_after"] != fac.loc["THC02", "catchment_people_after"]  # NaN: closed
    # THC02's former people now go to their next nearest facility; the flows account for all of them
    flows = r.flows[r.flows["from_id"] == "THC02"]
    assert flows["people"].sum() == pytest.approx(fac.loc["THC02", "catchment_people_before"], abs=1)
    # ... and THC01 is counted as answering for them
    assert fac.loc["THC01", "merged_in_people"] == pytest.approx(fac.loc["THC02", "catchment_people_before"], abs=1)
    assert fac.loc["GH01", "merged_in_people"] == 0


# --- incremental = full recomputation ------------------------------------------------------------------------

def assert_same_travel(study: Study, incremental: dict, full: dict, facilities) -> None:
    """Costs equal to 1e-6; the facility equal wherever the cost is not tied."""
    inputs = study.inputs
    for need, expected in full.items():
        got = incremental[need]
        np.testing.assert_allclose(got.cost, expected.cost, rtol=0, atol=1e-6, err_msg=str(need))
        np.testing.assert_allclose(got.surface.cost, expected.surface.cost, rtol=0, atol=1e-6, err_msg=str(need))
        # cells read the facility of the way they take (via a node, or along their own segment)
        cost, facility = point_cost(inputs.network, got.surface, study.access[need.mode],
                                    inputs.profile.travel.access_kmh)
        assert np.array_equal(got.facility, facility)
        assert np.array_equal(got.cost, cost)
        member = in_group(facilities, inputs.profile.groups[need.group])
        reached = got.surface.facility >= 0
        assert member[got.surface.facility[reached]].all(), need
        assert np.array_equal(reached, np.isfinite(expected.surface.cost))
        differ = np.flatnonzero(got.surface.facility != expected.surface.facility)
        if len(differ) == 0:
            continue
        sites = facility_attachment(facilities, need.mode)
        for row in np.unique(got.surface.facility[differ]):
            own = nearest_facility(inputs.network, sites[[row]], need.mode, need.weight, need.direction).cost
            at_nodes = differ[got.surface.facility[differ] == row]
            np.testing.assert_allclose(own[at_nodes], expected.surface.cost[at_nodes], rtol=0, atol=1e-6,
                                       err_msg=f"{need}: facility {row} is not tied where it differs")


def random_changes(rng, ids: list[str], n: int, new_prefix: str) -> list[dict]:
    changes, used = [], set()
    for k in range(n):
        kind = rng.choice(["add", "relocate", "close", "upgrade", "add"])
        site = at(*rng.uniform(0, 4000, 2))
        free = [i for i in ids if i not in used]
        if kind == "add" or not free:
            changes.append({"add": f"{new_prefix}{k}", "name": "新", "type": str(rng.choice(TYPES)), "at": site,
                            "emergency": bool(rng.random() < 0.4)})
            continue
        fid = str(rng.choice(free))
        used.add(fid)
        if kind == "relocate":
            changes.append({"relocate": fid, "to": site})
        elif kind == "close":
            changes.append({"close": fid})
        else:
            changes.append({"upgrade": fid, "type": str(rng.choice(TYPES)), "emergency": bool(rng.random() < 0.5)})
    return changes


def test_incremental_equals_full_recomputation_on_random_changes(base, study):
    rng = np.random.default_rng(7)
    inputs = base.inputs
    ids = inputs.facilities["id"].tolist()
    for trial in range(200):
        spec = parse_scenario(scenario(study, random_changes(rng, ids, int(rng.integers(1, 4)), f"R{trial}_")))
        changed, _ = apply_changes(spec, inputs, check(spec, inputs))
        assert_same_travel(base.study, base.updated(changed).travel, base.study.evaluate(changed).travel, changed)


@pytest.mark.parametrize("seed", range(6))
def test_repaired_surface_equals_a_fresh_search_on_random_graphs(seed):
    from test_reach import random_network

    net, rng = random_network(seed, 300)

    def sites(mode, count):  # facilities attach mid-segment; some stand on a node
        xy = rng.uniform(0, 8000, (count, 2))
        at = net.attach(xy[:, 0], xy[:, 1], mode)
        on_node = net.at_nodes(rng.choice(net.n_nodes, count))
        return Attachment.concat([at[: count // 2], on_node[count // 2:]])

    for mode, weight, direction in (("walk", "time", "to"), ("drive", "time", "to"),
                                    ("ambulance", "length", "from"), ("ambulance", "time", "from")):
        k = 8
        before = sites(mode, k)
        base = nearest_facility(net, before, mode, weight, direction, np.arange(k))
        gone = rng.choice(k, 3, replace=False)          # one closes, two move
        new = sites(mode, 4)
        after = Attachment.concat([before, new[2:]])     # two new sites
        after.seg[gone[1:]], after.along_m[gone[1:]] = new.seg[:2], new.along_m[:2]
        keep = np.ones(k + 2, bool)
        keep[gone[0]] = False
        added = np.r_[gone[1:], k, k + 1]
        surface, changed = repair_surface(net, base, gone, after[added], added)
        fresh = nearest_facility(net, after[keep], mode, weight, direction, np.flatnonzero(keep))
        np.testing.assert_allclose(surface.cost, fresh.cost, rtol=0, atol=1e-6)
        moved = (surface.cost != base.cost) | (surface.facility != base.facility)
        assert set(np.flatnonzero(moved)) <= set(changed.tolist())
        assert len(changed) < net.n_nodes  # bounded: not a full recomputation
        # points read the same costs from the repaired and the fresh surface (sources on their own segment too)
        xy = rng.uniform(0, 8000, (200, 2))
        points = Attachment.concat([net.attach(xy[:, 0], xy[:, 1], mode), after[added]])
        np.testing.assert_allclose(point_cost(net, surface, points, 4.5)[0], point_cost(net, fresh, points, 4.5)[0],
                                   rtol=0, atol=1e-6)


@pytest.mark.slow
def test_incremental_equals_full_on_the_demo_county(demo_inputs, demo_audit):
    base = demo_audit
    rng = np.random.default_rng(3)
    ids = demo_inputs.facilities["id"].tolist()
    cells = demo_inputs.cells
    populated = np.flatnonzero(cells.people > 1)
    for trial in range(30):
        changes = []
        for k, fid in enumerate(rng.choice(ids, int(rng.integers(1, 4)), replace=False)):
            c = int(rng.choice(populated))
            site = {"x": float(cells.x[c]), "y": float(cells.y[c]), "crs": demo_inputs.crs}
            kind = ("add", "relocate", "close", "upgrade")[(trial + k) % 4]
            changes.append({"add": f"R{trial}_{k}", "name": "新", "type": "township_hc", "at": site, "emergency": True}
                           if kind == "add" else {"relocate": str(fid), "to": site} if kind == "relocate"
                           else {"close": str(fid)} if kind == "close"
                           else {"upgrade": str(fid), "type": "regional_subcentre", "emergency": True})
        spec = parse_scenario({"name": "t", "study": "demo", "max_road_m": 100_000, "changes": changes})
        changed, _ = apply_changes(spec, demo_inputs, check(spec, demo_inputs))
        assert_same_travel(base.study, base.updated(changed).travel, base.study.evaluate(changed).travel, changed)


# --- outputs, command line, map ------------------------------------------------------------------------------

def write_scenario(folder: Path, name: str, study: Path, changes: list[dict]) -> Path:
    path = folder / "scenarios" / f"{name}.yaml"  # outputs go beside, never into, the inputs' folder
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"name": name, "study": str(study), "changes": changes}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_scenario_command_writes_every_output(study, tmp_path):
    lon, lat = lonlat(0, 4000)
    path = write_scenario(tmp_path, "move-chc", study, [
        {"relocate": "CHC01", "to": {"lon": lon, "lat": lat}, "beds": 50},
        {"add": "N1", "name": "<script>alert(1)</script>", "type": "community_hc", "at": at(2000, 400)},
        {"close": "VC02", "into": "THC02"}])
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scenario", str(path), "--out", str(out), "--offline"])
    assert result.exit_code == 0, result.output
    names = ("comparison.json", "standards.csv", "townships.csv", "facilities.csv", "flows.csv",
             "changes.gpkg", "map.html")
    assert all((out / n).is_file() for n in names)
    assert [p.name for p in out.glob(".*")] == [".healthreach.json"], "no temporary files left behind"
    summary = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    primary = next(s for s in summary["standards"] if s["standard"] == "primary_care_15min")
    assert primary["change_people"] == pytest.approx(summary["primary_care"]["newly_covered_people"]
                                                     - summary["primary_care"]["lose_coverage_people"], abs=1)
    import geopandas as gpd
    moves = gpd.read_file(out / "changes.gpkg", layer="moves")
    assert len(moves) == 1
    assert moves.geometry.iloc[0].length == pytest.approx(np.hypot(800, 2000), abs=1)
    assert len(gpd.read_file(out / "changes.gpkg", layer="lost_cells")) > 0
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    towns = pd.read_csv(out / "townships.csv")
    assert {"primary_care_15min_share_baseline", "primary_care_15min_share_scenario",
            "primary_care_15min_share_change"} <= set(towns)


def test_bad_scenario_exits_1_with_one_message(study, tmp_path):
    path = write_scenario(tmp_path, "bad", study, [{"close": "THC9"}])
    result = CliRunner().invoke(cli, ["scenario", "--lang", "en", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "no facility with id 'THC9'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_compare_ranks_scenarios(study, tmp_path):
    good = write_scenario(tmp_path, "good", study, [
        {"add": "N1", "name": "a", "type": "community_hc", "at": at(400, 400)},
        {"add": "N2", "name": "b", "type": "community_hc", "at": at(400, 3600)}])
    bad = write_scenario(tmp_path, "bad", study, [{"close": "CHC01"}])
    out = tmp_path / "compare.csv"
    result = CliRunner().invoke(cli, ["compare", str(bad), str(good), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert table["scenario"].tolist() == ["good", "(baseline)", "bad"]
    assert table["primary_care_15min"].is_monotonic_decreasing
    result = CliRunner().invoke(cli, ["compare", "--lang", "en", str(good), "--by", "primary_care", "--out", str(out)])
    assert result.exit_code == 1
    assert "did you mean 'primary_care_15min'" in result.output


def test_compare_table_of_one_baseline(base, study):
    results = [run(base, study, [{"close": fid}]) for fid in ("GH01", "VC01")]
    table = compare_table(results, by="emergency_response_18min")
    assert table.iloc[0]["scenario"] == "(baseline)" or table.iloc[0]["emergency_response_18min"] >= \
        table.iloc[1]["emergency_response_18min"]
    with pytest.raises(ScenarioError, match="no standard 'nope'"):
        compare_table(results, by="nope")


def test_map_has_before_after_gained_lost_and_moves(base, study):
    from healthreach.maps.scenario import scenario_map

    r = run(base, study, [{"relocate": "CHC01", "to": at(0, 4000)}, {"close": "VC02"}])
    page = render_html(scenario_map(r, lang="en", offline=True))
    for text in ("Before: Travel time to primary care", "After: Travel time to primary care", "Newly covered",
                 "Coverage lost", "Planned changes", "change 1: 城东社区卫生服务中心 (CHC01) relocated",
                 "change 2: 柳树村卫生室 (VC02) closed"):
        assert text in page, text


# --- the bundled scenarios ---------------------------------------------------------------------------------------

SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenarios_are_valid_for_the_demo(path, demo_inputs):
    spec = load_scenario(path)
    assert spec.load_study().source == demo_inputs.study.source
    assert "#" in path.read_text(encoding="utf-8"), "each scenario says which plan project it mirrors"
    check(spec, demo_inputs)


def test_there_are_at_least_four_bundled_scenarios():
    assert len(SCENARIOS) >= 4


def test_closing_a_groups_last_facility_leaves_nobody_covered_not_unassessed(study, base):
    emergency = ["THC01", "GH01", "ES01", "TH01"]   # flagged emergency, or an emergency station
    result = run(base, study, [{"close": fid} for fid in emergency])
    for sid in ("emergency_radius_urban", "emergency_radius_rural_10km", "emergency_response_18min"):
        before, after = result.before.figure(sid), result.after.figure(sid)
        assert before.covered > 0, sid
        assert "not_assessed" not in after.details, sid
        assert after.covered == 0, sid
        assert after.passed is False, sid


def test_facility_ids_in_a_scenario_file_are_read_as_written(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("name: ids\nstudy: demo\nchanges:\n  - close: 001\n    into: 010\n  - upgrade: 0x1F\n"
                    "    type: regional_subcentre\n  - expand: 1e3\n    beds: 10\n", encoding="utf-8")
    plan = load_scenario(path)
    assert [c.ref for c in plan.changes] == ["001", "0x1F", "1e3"]   # not 1, 31 and 1000.0
    assert plan.changes[0].into == "010"                             # not 8 (YAML 1.1 octal)


def test_closing_the_only_tertiary_hospital_fails_the_one_hour_standard(study, base):
    result = run(base, study, [{"close": "TH01"}])
    before, after = result.before.figure("tertiary_hospital_1h"), result.after.figure("tertiary_hospital_1h")
    assert before.covered > 0
    assert after.covered == 0
    assert after.passed is False
    assert "not_assessed" not in after.details
    assert after.unreachable == after.population


def test_an_ambulance_change_on_a_study_without_ambulance_counts_is_an_error(tmp_path):
    path = write_study(tmp_path / "s", FACILITIES)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["facilities"]["ambulances_column"] = None
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    inputs = load_inputs(load_study(path))
    plan = parse_scenario(scenario(path, [{"expand": "THC01", "beds": 50}, {"expand": "THC02", "ambulances": 5}]))
    with pytest.raises(ScenarioError, match=r"change 2 \(expand THC02\): sets ambulances, but the study's facility "
                                            r"list gives no ambulance counts"):
        check(plan, inputs)
