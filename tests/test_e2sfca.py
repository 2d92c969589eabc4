"""E2SFCA access (healthreach.standards.e2sfca) against PySAL ``access``, hand-computed cases and itself after changes.

The reference is PySAL's own ``Access.enhanced_two_stage_fca`` on the same
cost table (the demo county's cell-facility pairs within 30 minutes); values
must agree to 1e-9 relative. The bounded per-facility searches are checked
against the nearest-facility surfaces, and the figures kept per site after a
change against a study that searches every site again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from healthreach.evaluation import Study
from healthreach.profile import E2sfcaStandard
from healthreach.scenario.schema import load_scenario
from healthreach.standards.e2sfca import E2sfca, floating_catchment, weights

access = pytest.importorskip("access", reason="PySAL access is the reference (dev extra)")
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.set_index")  # inside PySAL access


SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def demo(demo_audit):
    return demo_audit.study, demo_audit


def unit_of(study, sid: str) -> E2sfca:
    return next(s for s in study.standards if s.id == sid)


def pysal_e2sfca(whole, unit: E2sfca, weight_fn) -> tuple[np.ndarray, np.ndarray]:
    """PySAL's E2SFCA over the populated cells within reach: (cells, access per person)."""
    s = unit.spec
    pairs = whole.reach.within(s.mode, whole.attached[s.mode], unit.supplied(whole), s.reach_min * 60)
    populated = whole.people[pairs.cell] > 0
    cell, row, minutes = pairs.cell[populated], pairs.row[populated], pairs.seconds[populated] / 60
    cells = np.unique(cell)
    rows = np.unique(row)
    demand = pd.DataFrame({"cell": cells, "people": whole.people[cells]})
    supply = pd.DataFrame({"row": rows, "supply": whole.counts(s.resource)[rows]})
    costs = pd.DataFrame({"cell": cell, "row": row, "minutes": minutes})
    model = access.Access(demand_df=demand, demand_index="cell", demand_value="people", supply_df=supply,
                          supply_index="row", supply_value="supply", cost_df=costs, cost_origin="cell",
                          cost_dest="row", cost_name="minutes")
    result = model.enhanced_two_stage_fca(name="e2", weight_fn=weight_fn, max_cost=s.reach_min)
    return cells, result["e2_supply"].reindex(cells).fillna(0).to_numpy()


def test_step_weights_match_pysal_on_the_demo(demo):
    study, base = demo
    unit = unit_of(study, "e2sfca_beds")
    cells, reference = pysal_e2sfca(base.whole, unit, access.weights.step_fn({10: 1, 20: 0.68, 30: 0.22}))
    ours = unit.evaluate(base.whole).access[cells]
    assert len(cells) > 10_000
    assert (reference > 0).sum() > 10_000
    np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=0)


def test_gaussian_weights_match_pysal(demo):
    _study, base = demo
    spec = E2sfcaStandard(group="with_beds", resource="beds", weight="gaussian", sigma_min=12, max_min=40)
    unit = E2sfca("e2sfca_beds_gaussian", spec, base.inputs.profile.travel)
    cells, reference = pysal_e2sfca(base.whole, unit, access.weights.gaussian(12))
    np.testing.assert_allclose(unit.evaluate(base.whole).access[cells], reference, rtol=1e-9, atol=0)


def test_hand_computed_case():
    # two facilities (beds 10 and 30), three cells (100, 200, 300 people); minutes:
    #   cell 0: 5 to A, 25 to B      cell 1: 15 to A      cell 2: 8 to B, 35 to A (beyond 30: no weight)
    spec = E2sfcaStandard(group="g", resource="beds")
    cell = np.array([0, 0, 1, 2, 2])
    row = np.array([0, 1, 0, 1, 0])
    w = weights(spec, np.array([5.0, 25, 15, 8, 35]))
    np.testing.assert_array_equal(w, [1, 0.22, 0.68, 1, 0])
    sites = [(r, cell[row == r], w[row == r]) for r in (0, 1)]
    out = floating_catchment(np.array([10.0, 30.0]), np.array([100.0, 200, 300]), sites, 3)
    r_a = 10 / (100 * 1 + 200 * 0.68)          # 0.0423728...
    r_b = 30 / (100 * 0.22 + 300 * 1)          # 0.0931677...
    np.testing.assert_allclose(out.ratio, [r_a, r_b], rtol=1e-15)
    np.testing.assert_allclose(out.access, [r_a + 0.22 * r_b, 0.68 * r_a, r_b], rtol=1e-15)
    # every bed is shared out: sum_i P_i A_i = sum_j S_j (each facility has people within reach)
    assert (np.array([100.0, 200, 300]) * out.access).sum() == pytest.approx(40, rel=1e-12)


def test_step_edges_belong_to_the_lower_step():
    spec = E2sfcaStandard(group="g", resource="beds")
    np.testing.assert_array_equal(weights(spec, np.array([0, 10, 10.000001, 20, 30, 30.000001])),
                                  [1, 1, 0.68, 0.68, 0.22, 0])


def test_township_and_district_figures_add_up_the_cells(demo):
    study, base = demo
    whole = base.whole
    for sid in ("e2sfca_beds", "e2sfca_doctors"):
        unit = unit_of(study, sid)
        per_cell = unit.evaluate(whole).access
        people = whole.township_people
        expected = whole.by_township(whole.people * per_cell) / people * 1000
        np.testing.assert_allclose(base.townships[f"{sid}_per_1000"], expected.round(4), atol=1e-4)
        district = (whole.people * per_cell).sum() / whole.people.sum() * 1000
        assert base.figures[sid].share == pytest.approx(district, rel=1e-9)
        # the supply of every facility that someone reaches is shared out in full
        reached = unit.evaluate(whole).demand > 0
        supply = whole.counts(unit.spec.resource)[unit.supplied(whole)]
        assert (whole.people * per_cell).sum() == pytest.approx(
            supply[reached[unit.supplied(whole)]].sum(), rel=1e-9)


def test_bounded_searches_agree_with_the_nearest_facility_surface(demo):
    study, base = demo
    unit = unit_of(study, "e2sfca_beds")
    whole = base.whole
    seconds, nearest = base.travel[unit.need].cost, base.travel[unit.need].facility
    pairs = whole.reach.within("drive", whole.attached["drive"], unit.supplied(whole), 1800)
    mine = nearest[pairs.cell] == pairs.row
    assert mine.sum() > 10_000
    np.testing.assert_allclose(pairs.seconds[mine], seconds[pairs.cell[mine]], rtol=0, atol=1e-6)
    # no pair is faster than the nearest facility, and every cell within 30 min of it has its pair
    assert (pairs.seconds >= seconds[pairs.cell] - 1e-6).all()
    within = np.flatnonzero((seconds <= 1800) & (whole.people > 0))  # only populated cells are paired
    has_pair = np.zeros(len(seconds), bool)
    has_pair[pairs.cell[mine]] = True
    assert has_pair[within].all()


@pytest.mark.parametrize("scenario", ["relocate-four-township-health-centres", "merge-two-township-health-centres",
                                      "new-township-health-centre-50-beds"])
def test_a_change_equals_a_fresh_study(demo, scenario):
    study, base = demo
    changes = load_scenario(SCENARIOS / f"{scenario}.yaml")
    after = base.apply(changes)
    fresh = Study(study.inputs).evaluate(after.facilities)  # its own searches: nothing kept from before
    for sid in ("e2sfca_beds", "e2sfca_doctors"):
        assert after.figures[sid].share == pytest.approx(fresh.figures[sid].share, rel=1e-12)
        np.testing.assert_allclose(after.townships[f"{sid}_per_1000"], fresh.townships[f"{sid}_per_1000"],
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(after.facility_table[f"{sid}_ratio_per_1000"],
                                   fresh.facility_table[f"{sid}_ratio_per_1000"], rtol=1e-12)
        np.testing.assert_allclose(unit_of(study, sid).evaluate(after.whole).access,
                                   unit_of(study, sid).evaluate(fresh.whole).access, rtol=1e-12, atol=1e-18)
