"""Tier catchments, E2SFCA and capacity coverage: their time on the demo county and a generated 1M-cell study.

Each timed case starts from an evaluated baseline (travel surfaces done) and
computes the standard from nothing kept: new per-facility bounded searches
(:class:`~healthreach.standards.reach_tables.ReachTables`), then every
figure, township and facility column (and, for E2SFCA, the per-cell values
the map draws). The peer is PySAL ``access`` (``enhanced_two_stage_fca``)
given the same cost table (the populated cells' pairs within 30 minutes):
its answers are checked equal to healthreach's (1e-9 relative) before any
time is taken, and it runs interleaved with healthreach's own sums over the
same table, the same number of times.

Targets (issue 14): E2SFCA and tier catchments on the demo < 1 s; capacity
coverage on the demo < 2 s and on the 1M-cell study < 20 s.

Run: ``.venv/bin/python -m benchmarks.bench_standards [--reps 5] [--synth large]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from healthreach import open_study
from healthreach.evaluation import Evaluation, Study
from healthreach.profile import PROFILES, Profile
from healthreach.standards.capacity import Capacity
from healthreach.standards.e2sfca import E2sfca, floating_catchment, weights
from healthreach.standards.per_1000 import Per1000
from healthreach.standards.reach_tables import ReachTables
from healthreach.standards.tiers import Tiers
from healthreach.standards.whole import Whole

RESULTS = Path(__file__).resolve().parent / "results"
CAPACITY = {"kind": "capacity", "group": "with_beds", "threshold_min": 30, "mode": "drive", "capacity": "beds",
            "people_per_bed": 125, "target_share": 0.95}


def fresh(evaluation: Evaluation) -> Whole:
    """The evaluation's arrays with nothing kept: no searches, no sums."""
    whole = _whole(evaluation)
    study = evaluation.study
    reach = ReachTables(study.inputs.network, study.cell_index, study.inputs.profile.travel.access_kmh,
                        study.inputs.cells.people > 0)
    return dataclasses.replace(whole, reach=reach, parent=None, changed=None, kept={})


def _whole(evaluation: Evaluation) -> Whole:
    if evaluation.whole is None:
        msg = "an evaluation keeps its arrays"
        raise ValueError(msg)
    return evaluation.whole


def units(study: Study, kind: type) -> list[Any]:
    """The study's standards of one kind."""
    return [s for s in study.standards if isinstance(s, kind)]


def tiers_and_e2sfca(evaluation: Evaluation) -> Callable[[], Any]:
    """Every tier, ratio and E2SFCA column and figure, and the E2SFCA values per cell, from nothing kept."""
    study = evaluation.study

    def run() -> Any:
        whole = fresh(evaluation)
        context = dataclasses.replace(_context(evaluation), whole=whole)
        out = []
        for unit in [*units(study, Tiers), *units(study, Per1000), *units(study, E2sfca)]:
            out += [unit.figures(evaluation.tally, context), unit.township_values(context),
                    unit.facility_values(context)]
        out += [unit.per_cell_per_1000(whole) for unit in units(study, E2sfca)]
        return out
    return run


def _context(evaluation: Evaluation) -> Any:
    from healthreach.standards.base import Context
    s = evaluation.study
    return Context(s.weights.total, s.weights.area_total, 0.0, True, 3.0, evaluation.whole)


def capacity(evaluation: Evaluation, unit: Capacity) -> Callable[[], Any]:
    """One capacity standard's figure and columns, from nothing kept."""
    def run() -> Any:
        context = dataclasses.replace(_context(evaluation), whole=fresh(evaluation))
        return unit.figures(evaluation.tally, context), unit.township_values(context), unit.facility_values(context)
    return run


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def pysal_case(evaluation: Evaluation, unit: E2sfca) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(healthreach's sums, PySAL's E2SFCA) on one cost table, checked equal first."""
    import access  # the peer: pip install access (dev extra)

    whole = _whole(evaluation)
    s = unit.spec
    pairs = whole.reach.within(s.mode, whole.attached[s.mode], unit.supplied(whole), s.reach_min * 60)
    keep = whole.people[pairs.cell] > 0
    cell, row, minutes = pairs.cell[keep], pairs.row[keep], pairs.seconds[keep] / 60
    cells, rows = np.unique(cell), np.unique(row)
    supply = whole.counts(s.resource)
    steps = access.weights.step_fn(dict(s.steps_min))

    def ours() -> np.ndarray:  # the same table grouped by facility row, as the standard reads its sites
        full = np.zeros(len(supply))
        full[rows] = supply[rows]
        weight = weights(s, minutes)
        order = np.argsort(row, kind="stable")
        ends = np.searchsorted(row[order], rows, side="right")
        sites = ((r, cell[order[a:b]], weight[order[a:b]]) for r, a, b in zip(rows, np.r_[0, ends[:-1]], ends,
                                                                              strict=True))
        return floating_catchment(full, whole.people, sites, len(whole.people)).access

    def peer() -> pd.Series:
        model = access.Access(demand_df=pd.DataFrame({"cell": cells, "people": whole.people[cells]}),
                              demand_index="cell", demand_value="people",
                              supply_df=pd.DataFrame({"row": rows, "supply": supply[rows]}), supply_index="row",
                              supply_value="supply", cost_df=pd.DataFrame({"cell": cell, "row": row, "m": minutes}),
                              cost_origin="cell", cost_dest="row", cost_name="m")
        return model.enhanced_two_stage_fca(name="e", weight_fn=steps, max_cost=s.reach_min)["e_supply"]

    reference = peer().reindex(cells).fillna(0).to_numpy()
    np.testing.assert_allclose(ours()[cells], reference, rtol=1e-9, atol=0)
    return ours, peer


def interleaved(cases: dict[str, Callable[[], Any]], reps: int) -> dict[str, dict[str, float]]:
    """Each case ``reps`` times, the cases taking turns; median and best seconds."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(reps):
        for name, fn in cases.items():
            times[name].append(timed(fn))
    return {name: {"median_s": statistics.median(t), "min_s": min(t), "runs": len(t)} for name, t in times.items()}


def with_capacity(study: Study) -> Study:
    """The study again, its profile with the capacity standard added (the same inputs otherwise)."""
    data = study.inputs.profile.model_dump()
    data["standards"] = {**data["standards"], "beds_capacity_30min": CAPACITY}
    return Study(dataclasses.replace(study.inputs, profile=Profile.model_validate(data)))


NEW_KINDS = ("tiers", "per_1000", "e2sfca", "capacity")


def without_new_kinds(study: Study) -> Study:
    """The study again, its profile without the tier, ratio, E2SFCA and capacity standards."""
    data = study.inputs.profile.model_dump()
    data["standards"] = {k: v for k, v in data["standards"].items() if v["kind"] not in NEW_KINDS}
    return Study(dataclasses.replace(study.inputs, profile=Profile.model_validate(data)))


def scenario_changes(study: Study, n: int) -> dict[str, Any]:
    """Single planned changes (apply + diff), with and without the new standards, interleaved: ms per change."""
    from benchmarks.bench_scenario import random_changes, stats

    with_new, without = study.baseline(), without_new_kinds(study).baseline()
    changes = random_changes(study, n)
    for base in (with_new, without):  # warm-up: compiled kernels, kept searches of the first sites
        base.diff(base.apply([changes[0][1]], name="warm-up"))
    times: dict[str, list[float]] = {"with tiers, ratios, E2SFCA": [], "without them": []}
    for _, change in changes[1:]:
        for name, base in (("with tiers, ratios, E2SFCA", with_new), ("without them", without)):
            start = time.perf_counter()
            base.diff(base.apply([change], name="bench"))
            times[name].append(time.perf_counter() - start)
    return {name: stats(t) for name, t in times.items()}


def run_study(study: Study, label: str, reps: int, peers: bool) -> dict[str, Any]:
    """Every case on one study (with the capacity standard added to its profile)."""
    out: dict[str, Any] = {"study": label, "cells": len(study.inputs.cells.x), "nodes": study.inputs.network.n_nodes,
                           "facilities": len(study.facilities)}
    start = time.perf_counter()
    base = with_capacity(study).baseline()
    out["baseline_with_every_standard_s"] = time.perf_counter() - start
    cap = next(u for u in base.study.standards if isinstance(u, Capacity))
    ordered = Capacity("beds_capacity_ordered_30min", cap.spec.model_copy(update={"method": "ordered"}), cap.travel)
    cases = {"tiers_ratios_e2sfca (searches + sums + per-cell map values)": tiers_and_e2sfca(base),
             "capacity max_flow (searches + flow)": capacity(base, cap),
             "capacity ordered filling (searches + filling)": capacity(base, ordered)}
    if peers:
        for unit in units(base.study, E2sfca):
            if unit.spec.resource in base.study.counted:
                ours, peer = pysal_case(base, unit)
                cases[f"{unit.id}: healthreach sums on the cost table"] = ours
                cases[f"{unit.id}: PySAL access on the cost table"] = peer
    out["timings"] = interleaved(cases, reps)
    out["scenario_change"] = scenario_changes(study, max(3, reps * 2))
    return out


def main() -> None:
    """Time the demo county (and a generated study) and write ``results/standards.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--synth", choices=["small", "medium", "large"], default=None)
    parser.add_argument("--no-demo", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"load_average": os.getloadavg(), "runs": []}
    if not args.no_demo:
        results["runs"].append(run_study(open_study(Path(PROFILES).parent / "demo" / "study.yaml"), "demo county",
                                         args.reps, peers=True))
    if args.synth:
        from benchmarks import synth
        results["runs"].append(run_study(synth.open_generated(synth.SIZES[args.synth]), f"generated {args.synth}",
                                         max(1, args.reps // 2), peers=False))
    results["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "standards.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(yaml.safe_dump(results, sort_keys=False, allow_unicode=True))


if __name__ == "__main__":
    main()
