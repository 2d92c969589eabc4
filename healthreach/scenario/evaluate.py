"""A scenario evaluated against its baseline: the baseline, the result, and the tables comparing two audits.

The scenario is evaluated as an audit of the changed facility table, its
travel surfaces repaired incrementally from the baseline's
(:mod:`healthreach.incremental`).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from healthreach.incremental import TravelUpdater
from healthreach.inputs import StudyInputs
from healthreach.scenario.apply import apply_changes
from healthreach.scenario.checks import check
from healthreach.scenario.schema import Scenario
from healthreach.standards import Audit
from healthreach.standards import audit as run_audit
from healthreach.travel import Need, cell_travel


@dataclass
class Baseline:
    """A study's baseline audit and the travel updater scenarios are evaluated with."""

    inputs: StudyInputs
    audit: Audit
    updater: TravelUpdater
    seconds: float = 0.0

    @classmethod
    def build(cls, inputs: StudyInputs) -> Baseline:
        """Compute the baseline surfaces (one full pass) and audit them."""
        start = time.perf_counter()
        updater = TravelUpdater(inputs)
        result = run_audit(inputs, inputs.facilities, updater.travel)
        return cls(inputs, result, updater, time.perf_counter() - start)


@dataclass
class ScenarioResult:
    """A scenario evaluated against its baseline.

    ``standards``, ``townships`` and ``facilities`` are the comparison tables
    (see :func:`compare_audits`); ``gained`` / ``lost`` mark the cells that
    enter / leave the primary-care circle; ``flows`` the people whose nearest
    primary-care facility changes (from, to, people).
    """

    scenario: Scenario
    baseline: Audit
    audit: Audit
    moves: pd.DataFrame
    standards: pd.DataFrame
    townships: pd.DataFrame
    facilities: pd.DataFrame
    flows: pd.DataFrame
    gained: np.ndarray
    lost: np.ndarray
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def newly_covered(self) -> float:
        """People who enter the primary-care circle."""
        return float(self.audit.inputs.cells.people[self.gained].sum())

    @property
    def lose_coverage(self) -> float:
        """People who leave the primary-care circle."""
        return float(self.audit.inputs.cells.people[self.lost].sum())


def evaluate(scenario: Scenario, base: Baseline, incremental: bool = True) -> ScenarioResult:
    """Check, apply and evaluate a scenario against a baseline.

    ``incremental=False`` recomputes every travel surface from scratch
    instead of repairing the baseline's (the same result, slower).
    """
    inputs = base.inputs
    t = {"start": time.perf_counter()}
    sites = check(scenario, inputs)
    changed, moves = apply_changes(scenario, inputs, sites)
    t["apply"] = time.perf_counter()
    travel = base.updater.update(changed) if incremental else cell_travel(inputs, changed, base.updater.access)
    t["travel"] = time.perf_counter()
    after = run_audit(inputs, changed, travel)
    t["audit"] = time.perf_counter()
    tables = compare_audits(base.audit, after)
    t["diff"] = time.perf_counter()
    keys = list(t)
    seconds = {k: t[k] - t[prev] for prev, k in itertools.pairwise(keys)}
    return ScenarioResult(scenario, base.audit, after, moves, *tables, seconds=seconds)


def cell_masks(result: Audit) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per standard with a per-cell test: (cell meets it, standard applies to the cell).

    Mirrors :func:`healthreach.standards.audit`, so ``people[ok & applies]``
    sums to each figure's covered population (checked by the tests).
    """
    inp = result.inputs
    s = inp.profile.standards
    urban = inp.cells.urban
    every = np.ones(len(urban), bool)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if s.primary_care_15min:
        out["primary_care_15min"] = (result.primary_s <= s.primary_care_15min.threshold_min * 60, every)
    for area, spec in (("urban", s.emergency_radius_urban), ("rural", s.emergency_radius_rural)):
        if not spec:
            continue
        dist = result.travel[Need(spec.group, "ambulance", "length", "from")].cost
        for radius in spec.radii_m:
            sid = f"emergency_radius_{area}" + ("" if len(spec.radii_m) == 1 else f"_{radius / 1000:g}km")
            out[sid] = (dist <= radius, urban if area == "urban" else ~urban)
    if s.emergency_response_18min:
        r = s.emergency_response_18min
        response = (result.travel[Need(r.group, "ambulance", "time", "from")].cost
                    + inp.profile.travel.dispatch_delay_min * 60)
        out["emergency_response_18min"] = (response <= r.threshold_min * 60, every)
    if s.tertiary_hospital_1h:
        t = s.tertiary_hospital_1h
        out["tertiary_hospital_1h"] = (result.travel[Need(t.group, "drive", "time", "to")].cost
                                       <= t.threshold_min * 60, every)
    return out


def _baseline_masks(before: Audit) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`cell_masks` of a baseline audit, computed once while scenarios are compared with it.

    Kept on the audit's inputs for the last baseline asked for.
    """
    return before.inputs.memo("baseline_cell_masks", (before,), lambda: cell_masks(before))


def compare_audits(before: Audit, after: Audit) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame,
                                                          pd.DataFrame, np.ndarray, np.ndarray]:
    """Tables comparing two audits of one study (baseline, scenario).

    Returns
    -------
    standards : one row per standard: value (share of people, or ambulances
        available / required) before, after and the change; people covered
        before, after and the change; people newly covered and losing
        coverage; pass before and after.
    townships : per township, every share before, after and the change, and
        the people newly covered / losing primary-care coverage.
    facilities : per facility, status, type, beds, ambulances and catchment
        population (nearest-facility allocation) before and after; for a
        facility others merge into, ``merged_in_people``: the baseline
        catchment of the closed facilities it takes over.
    flows : people whose nearest primary-care facility changes (from_id, to_id, people).
    gained, lost : bool per cell, entering / leaving the primary-care circle.
    """
    inp = after.inputs
    people = inp.cells.people
    masks_before, masks_after = _baseline_masks(before), cell_masks(after)
    rows: list[dict] = []
    shown: set[str] = set()  # detail rows, each once (both ambulance ratios share one count)
    for fb, fa in zip(before.figures, after.figures):
        row = {"standard": fb.id, "title": fb.title, "unit": fb.unit,
               "baseline": fb.share, "scenario": fa.share,
               "change": None if fb.share is None or fa.share is None else fa.share - fb.share,
               "baseline_people": fb.covered, "scenario_people": fa.covered,
               "change_people": None if fb.covered is None or fa.covered is None else fa.covered - fb.covered,
               "newly_covered_people": None, "lose_coverage_people": None,
               "target": fb.target, "baseline_pass": fb.passed, "scenario_pass": fa.passed}
        if fb.id in masks_before:
            (ok0, applies), (ok1, _) = masks_before[fb.id], masks_after[fb.id]
            row["newly_covered_people"] = float(people[ok1 & ~ok0 & applies].sum())
            row["lose_coverage_people"] = float(people[ok0 & ~ok1 & applies].sum())
        elif fb.id == "village_clinic_800" and before.village_table is not None and after.village_table is not None:
            # villages, not cells: a large village is covered while it does not need a clinic
            pop = before.village_table["population"].to_numpy(float)
            large = pop >= inp.profile.standards.village_clinic_800.min_population
            ok0 = large & ~before.village_table["needs_clinic"].to_numpy(bool)
            ok1 = large & ~after.village_table["needs_clinic"].to_numpy(bool)
            row["newly_covered_people"] = float(pop[ok1 & ~ok0].sum())
            row["lose_coverage_people"] = float(pop[ok0 & ~ok1].sum())
        rows.append(row)
        for key, unit in (("mean_response_min", "minutes (mean emergency response)"),
                          ("ambulances", "ambulances in the study area")):
            b, a = fb.details.get(key), fa.details.get(key)
            if key in fb.details and key not in shown:
                shown.add(key)
                rows.append({"standard": f"{fb.id}.{key}", "title": fb.title, "unit": unit, "baseline": b,
                             "scenario": a, "change": None if a is None or b is None else a - b})
    standards = pd.DataFrame(rows)
    decimals = {"baseline": 6, "scenario": 6, "change": 6, "baseline_people": 1, "scenario_people": 1,
                "change_people": 1, "newly_covered_people": 1, "lose_coverage_people": 1}
    standards = pd.DataFrame({c: standards[c].to_numpy(float).round(decimals[c]) if c in decimals else standards[c]
                              for c in standards.columns})  # rebuilt at once: column by column is slow in pandas

    # townships
    tb, ta = before.townships, after.townships
    town_cols: dict[str, Any] = {k: tb[k] for k in ("township_id", "name", "area_class", "people")}
    for c in (c for c in tb.columns if c.endswith("_share")):
        town_cols[f"{c}_baseline"] = tb[c].to_numpy()
        town_cols[f"{c}_scenario"] = ta[c].to_numpy()
        town_cols[f"{c}_change"] = (ta[c].to_numpy() - tb[c].to_numpy()).round(4)
    gained = lost = np.zeros(len(people), bool)
    if "primary_care_15min" in masks_before:
        ok0, ok1 = masks_before["primary_care_15min"][0], masks_after["primary_care_15min"][0]
        gained, lost = ok1 & ~ok0, ok0 & ~ok1
        n = len(tb)
        town = inp.cells.township
        town_cols["newly_covered_people"] = np.bincount(town[gained], weights=people[gained], minlength=n).round(1)
        town_cols["lose_coverage_people"] = np.bincount(town[lost], weights=people[lost], minlength=n).round(1)
    towns = pd.DataFrame(town_cols, index=tb.index)  # built at once: column by column is slow in pandas

    # facilities
    fb_tab, fa_tab = before.facility_table, after.facility_table
    nb, na = len(fb_tab), len(fa_tab)

    def before_col(c: str, dtype: type = float) -> np.ndarray:
        """A baseline column extended to the scenario's rows (NaN for added facilities)."""
        col = fb_tab[c].to_numpy(dtype) if c in fb_tab else np.full(nb, np.nan)
        return np.r_[col, np.full(na - nb, np.nan, dtype=dtype)]

    changed = after.facilities
    fac_ids = fa_tab["id"].to_numpy()
    fac_cols: dict[str, Any] = {"id": fac_ids, "name": fa_tab["name"].to_numpy(),
                                "status": changed["status"].to_numpy() if "status" in changed else "",
                                "type_before": before_col("type", object), "type_after": fa_tab["type"].to_numpy()}
    if "merged_into" in changed:
        # a merged facility answers for the closed one's people: its baseline catchment is counted here
        into = changed["merged_into"].to_numpy(str)
        fac_cols["merged_into"] = into
        merged_in = np.zeros(na)
        if (into != "").any():
            reach0 = before.primary_facility >= 0
            catch0 = np.bincount(before.primary_facility[reach0], weights=people[reach0], minlength=na)
            row_of = {fid: k for k, fid in enumerate(fac_ids)}
            for k in np.flatnonzero(into != ""):
                merged_in[row_of[into[k]]] += catch0[k]
        fac_cols["merged_in_people"] = merged_in.round(0)
    for c in ("beds", "ambulances", "catchment_people", "catchment_people_15min", "emergency_catchment_people"):
        if c not in fa_tab:
            continue
        b, a = before_col(c), fa_tab[c].to_numpy(float)
        fac_cols[f"{c}_before"], fac_cols[f"{c}_after"] = b, a
        fac_cols[f"{c}_change"] = np.where(np.isnan(a) & ~np.isnan(b), -b,
                                           np.where(np.isnan(b) & ~np.isnan(a), a, a - b))
    fac = pd.DataFrame(fac_cols)

    # flows between catchments
    f0, f1 = before.primary_facility, after.primary_facility
    moved = f0 != f1
    moved[moved] = people[moved] > 0  # only the few cells that move need the test
    ids = np.r_[fa_tab["id"].to_numpy(dtype=object), np.array(["(none)"], dtype=object)]
    if moved.any():
        key = (f0[moved] + 1) * (na + 1) + (f1[moved] + 1)
        uniq, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse, weights=people[moved])
        src, dst = np.divmod(uniq, na + 1)
        flows = pd.DataFrame({"from_id": ids[src - 1], "to_id": ids[dst - 1], "people": sums.round(1)})
        flows = flows.sort_values("people", ascending=False, ignore_index=True)
    else:
        flows = pd.DataFrame({"from_id": [], "to_id": [], "people": []})
    return standards, towns, fac, flows, gained, lost
