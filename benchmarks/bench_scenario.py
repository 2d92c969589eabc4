"""Time per scenario change on the demo county, once the baseline is built.

For random single changes (a new facility at a populated cell, an existing
primary-care facility relocated to one, an existing facility closed) it times:

* ``incremental``: repairing every travel surface from the baseline
  (:meth:`healthreach.incremental.TravelUpdater.update`): the figure the
  target (< 20 ms per change) is about;
* ``full``: recomputing every surface from scratch (``cell_travel``) on the
  same changed table, the peer the incremental path replaces;
* ``check_apply``: checking the change against the study and building the
  changed facility table;
* ``audit`` and ``diff``: the scenario's audit (every standard, township and
  catchment table, as for the baseline) and its comparison with the baseline.

Each incremental result is checked against the full one (costs to 1e-6)
before any time is reported. The numba kernel's compile time (empty cache,
fresh process) and its load time from numba's on-disk cache are measured
apart from the per-change times.

Run: ``.venv/bin/python -m benchmarks.bench_scenario [--changes 60] [--synth medium]``;
writes ``benchmarks/results/scenario.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from healthreach.incremental import warm_up
from healthreach.inputs import load_inputs
from healthreach.outputs import write_atomic
from healthreach.scenario import Baseline, apply_changes, check, compare_audits, parse_scenario
from healthreach.standards import audit
from healthreach.study import DEMO_STUDY, load_study
from healthreach.travel import cell_travel, in_group

RESULTS = Path(__file__).resolve().parent / "results" / "scenario.json"


def random_changes(inputs, n: int, seed: int = 0) -> list[tuple[str, dict]]:
    """``n`` adds, ``n`` relocations and ``n`` closures, each a one-change scenario."""
    rng = np.random.default_rng(seed)
    cells = inputs.cells
    populated = np.flatnonzero(cells.people >= 1)
    fac = inputs.facilities
    primary = fac["id"].to_numpy()[in_group(fac, inputs.profile.groups["primary_care"])]
    out = []
    for k in range(n):
        c = int(rng.choice(populated))
        site = {"x": float(cells.x[c]), "y": float(cells.y[c]), "crs": inputs.crs}
        out.append(("add", {"add": f"BENCH{k}", "name": "bench", "type": str(rng.choice(
            ["township_hc", "community_hc", "village_clinic", "regional_subcentre"])), "at": site,
            "emergency": bool(rng.random() < 0.3), "ambulances": 1}))
    for _ in range(n):
        c = int(rng.choice(populated))
        site = {"x": float(cells.x[c]), "y": float(cells.y[c]), "crs": inputs.crs}
        out.append(("relocate", {"relocate": str(rng.choice(primary)), "to": site}))
    for _ in range(n):
        out.append(("close", {"close": str(rng.choice(fac["id"].to_numpy()))}))
    return out


def cold_compile_s() -> float:
    """Seconds to compile the kernel with an empty numba cache (in a fresh process)."""
    with tempfile.TemporaryDirectory() as cache:
        out = subprocess.run([sys.executable, "-c", "import healthreach.incremental as m; print(m.warm_up())"],
                             env={**os.environ, "NUMBA_CACHE_DIR": cache}, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def stats(values: list[float]) -> dict:
    ms = 1000 * np.asarray(values)
    return {"median_ms": round(float(np.median(ms)), 3), "p90_ms": round(float(np.percentile(ms, 90)), 3),
            "max_ms": round(float(ms.max()), 3), "n": len(ms)}


def run(inputs, n: int, label: str) -> dict:
    t0 = time.perf_counter()
    compile_s = warm_up()
    t1 = time.perf_counter()
    base = Baseline.build(inputs)
    baseline_s = time.perf_counter() - t1
    times: dict[str, dict[str, list[float]]] = {}
    touched: list[float] = []
    for kind, change in random_changes(inputs, n):
        spec = parse_scenario({"name": "bench", "study": "demo", "max_road_m": 1e5, "changes": [change]})
        a = time.perf_counter()
        changed, _ = apply_changes(spec, inputs, check(spec, inputs))
        b = time.perf_counter()
        travel = base.updater.update(changed)
        c = time.perf_counter()
        full = cell_travel(inputs, changed, base.updater.access)
        d = time.perf_counter()
        after = audit(inputs, changed, travel)
        e0 = time.perf_counter()
        compare_audits(base.audit, after)
        e = time.perf_counter()
        for need, expected in full.items():  # a wrong answer has no time
            np.testing.assert_allclose(travel[need].cost, expected.cost, rtol=0, atol=1e-6, err_msg=f"{kind} {need}")
        changed_cells = np.mean([np.mean(travel[nd].cost != base.updater.travel[nd].cost) for nd in full])
        touched.append(float(changed_cells))
        for key, value in (("check_apply", b - a), ("incremental", c - b), ("full", d - c), ("audit", e0 - d),
                           ("diff", e - e0)):
            times.setdefault(kind, {}).setdefault(key, []).append(value)
    per_kind = {kind: {key: stats(v) for key, v in t.items()} for kind, t in times.items()}
    every = {key: stats([x for t in times.values() for x in t[key]])
             for key in ("check_apply", "incremental", "full", "audit", "diff")}
    return {
        "study": label, "nodes": int(inputs.network.n_nodes), "edges": len(inputs.network.tail),
        "cells": len(inputs.cells.people), "facilities": len(inputs.facilities),
        "surfaces": len(base.updater.needs),
        "kernel_load_s": round(compile_s, 3), "baseline_s": round(baseline_s, 3),
        "changes_per_kind": n, "per_kind": per_kind, "all": every,
        "speedup_median": round(every["full"]["median_ms"] / every["incremental"]["median_ms"], 1),
        "mean_share_of_cells_changed": round(float(np.mean(touched)), 5),
        "target_ms": 20.0, "meets_target": every["incremental"]["median_ms"] < 20.0,
        "seconds_total": round(time.perf_counter() - t0, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=60, help="random changes of each kind (default 60)")
    parser.add_argument("--study", type=Path, default=None, help="a study.yaml to time instead of the demo county")
    parser.add_argument("--synth", choices=["small", "medium", "large"], default=None,
                        help="also time a generated study of this size (benchmarks/synth.py)")
    args = parser.parse_args()
    results = {"python": platform.python_version(), "machine": platform.machine(),
               "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
               "kernel_cold_compile_s": round(cold_compile_s(), 3), "runs": []}
    print(f"kernel: {results['kernel_cold_compile_s']:.2f} s to compile with an empty numba cache (once per machine)")
    if args.study is not None:
        inputs = load_inputs(load_study(args.study))
        results["runs"].append(run(inputs, args.changes, inputs.study.name))
    elif DEMO_STUDY.parent.joinpath("roads.gpkg").exists():
        results["runs"].append(run(load_inputs(load_study(None)), args.changes, "demo county"))
    else:
        print("demo county not generated (run python -m tools.demo); skipping it")
    if args.synth:
        from benchmarks import synth

        results["runs"].append(run(synth.open_generated(args.synth).inputs, args.changes, f"generated {args.synth}"))
    for r in results["runs"]:
        print(f"\n{r['study']}: {r['nodes']:,} nodes, {r['cells']:,} cells, {r['facilities']} facilities, "
              f"{r['surfaces']} travel surfaces; kernel load {r['kernel_load_s']:.2f} s, "
              f"baseline {r['baseline_s']:.2f} s")
        print(f"{'change':<10}{'incremental':>14}{'full':>12}{'check+apply':>14}{'audit':>10}{'diff':>9}"
              "   (median ms per change)")
        for kind, t in {**r["per_kind"], "all": r["all"]}.items():
            print(f"{kind:<10}{t['incremental']['median_ms']:>14.2f}{t['full']['median_ms']:>12.1f}"
                  f"{t['check_apply']['median_ms']:>14.2f}{t['audit']['median_ms']:>10.1f}{t['diff']['median_ms']:>9.1f}")
        print(f"incremental p90 {r['all']['incremental']['p90_ms']:.2f} ms; {r['speedup_median']}x faster than "
              f"a full recomputation; target < {r['target_ms']:g} ms: {'met' if r['meets_target'] else 'MISSED'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(RESULTS, lambda tmp: tmp.write_text(json.dumps(results, indent=2), encoding="utf-8"))
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
