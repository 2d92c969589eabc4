"""``healthreach.suggest`` on the demo county and on a generated study of 100,000 populated cells.

Targets (issue 15): on the demo county, the top 10 sites by greedy in <= 5 s
and an exact answer for 5 sites, proven optimal, in <= 30 s; on the generated
study (about 100,000 populated cells, about 1,000 candidate sites), the top 20
by greedy in <= 5 s and exact for 10 sites in <= 60 s (the gap reported when
the time limit stops it). A timed figure is the whole ``suggest`` call after
the baseline is built: placing the candidates, the coverage sets, the search,
and the chosen sites applied through ``Evaluation.apply`` to confirm them.

Peers, timed in the same run, interleaved, with the same repetitions, each
answer checked equal first:

* **engine per candidate**: the people each candidate alone newly covers, by
  applying it through ``Evaluation.apply`` (the scenario engine, one site at a
  time, as a planner trying sites by hand or AccessMod's scaling-up rounds
  would), against the coverage sets of the same candidates;
* **plain greedy**: every candidate's gain recomputed every round (one
  sparse product per round), against the lazy greedy on the same coverage sets;
* **cold MILP**: the same maximal covering program solved by HiGHS through
  ``scipy.optimize.milp``, which takes no starting solution, against
  ``highspy`` started from greedy's sites (the exact search), for the same k
  on the same coverage sets and with the same time limit.

Run: ``.venv/bin/python -m benchmarks.bench_suggest [--repeat 3] [--no-synth]``;
writes ``benchmarks/results/suggest.json``. Wall-clock and CPU seconds are both
reported: on a shared machine the CPU figure is the steadier one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

import healthreach
from healthreach.evaluation import Study
from healthreach.outputs import write_atomic, write_text
from healthreach.suggest import suggest
from healthreach.suggest.candidates import Candidates
from healthreach.suggest.coverage import Coverage, coverage_sets, undominated
from healthreach.suggest.exact import solve
from healthreach.suggest.greedy import lazy_greedy
from healthreach.suggest.objective import objective_of

T = TypeVar("T")
RESULTS = Path(__file__).resolve().parent / "results" / "suggest.json"
TARGETS_S = {("demo county", "greedy"): 5.0, ("demo county", "exact"): 30.0,
             ("generated 100k cells", "greedy"): 5.0, ("generated 100k cells", "exact"): 60.0}


def timed(fn: Callable[[], T]) -> tuple[float, float, T]:
    """(wall seconds, CPU seconds of this process, result) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def plain_greedy(cov: Coverage, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Greedy that recomputes every candidate's gain every round (the peer of the lazy greedy)."""
    by = cov.by_candidate
    open_people = cov.people.copy()
    chosen, gains = [], []
    for _ in range(count):
        gain = np.asarray(by.T @ open_people).ravel()
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen.append(j)
        gains.append(float(gain[j]))
        open_people[by.indices[by.indptr[j]:by.indptr[j + 1]]] = 0.0
    return np.array(chosen), np.array(gains)


def subset(found: Candidates, rows: np.ndarray) -> Candidates:
    """Some of the candidates."""
    return Candidates(found.table.iloc[rows].reset_index(drop=True), {m: a[rows] for m, a in found.attached.items()},
                      [])


def engine_peer(study: Study, found: Candidates, n: int, repeat: int) -> dict:
    """People newly covered by each of ``n`` candidates alone: coverage sets against one apply per candidate."""
    base = study.baseline()
    unit = objective_of(base)
    today = base.figures[unit.id].covered or 0.0
    rows = np.random.default_rng(15).choice(len(found), min(n, len(found)), replace=False)
    some = subset(found, rows)
    changes = [{"add": "BENCH", "name": "bench", "type": "township_hc",
                "at": {"lon": float(r["lon"]), "lat": float(r["lat"])}} for _, r in some.table.iterrows()]
    mine, peer = [], []
    for _ in range(repeat):
        w, c, cov = timed(lambda: coverage_sets(base, unit, some))
        mine.append((w, c))
        w, c, gains = timed(lambda: [(base.apply([ch]).figures[unit.id].covered or 0.0) - today for ch in changes])
        peer.append((w, c))
    alone = np.asarray(cov.by_candidate.T @ cov.people).ravel()
    worst = float(np.abs(alone - np.array(gains)).max())
    if worst > 1e-6:
        msg = f"coverage sets and the engine disagree by {worst} people"
        raise AssertionError(msg)
    m, p = np.median(mine, axis=0), np.median(peer, axis=0)
    return {"candidates": len(some), "coverage_sets_s": round(float(m[0]), 3), "engine_apply_s": round(float(p[0]), 3),
            "coverage_sets_cpu_s": round(float(m[1]), 3), "engine_apply_cpu_s": round(float(p[1]), 3),
            "engine_over_coverage_sets_wall": round(float(p[0] / m[0]), 1),
            "engine_over_coverage_sets_cpu": round(float(p[1] / m[1]), 1), "max_difference_people": worst}


def greedy_peer(cov: Coverage, count: int, repeat: int) -> dict:
    """Lazy greedy against plain greedy on the same coverage sets (same answer first)."""
    lazy, plain = [], []
    for _ in range(repeat):
        w, c, g = timed(lambda: lazy_greedy(cov, count))
        lazy.append((w, c))
        w, c, p = timed(lambda: plain_greedy(cov, count))
        plain.append((w, c))
    if not np.allclose(np.asarray(g.gains), p[1]):
        msg = "lazy and plain greedy gains differ"
        raise AssertionError(msg)
    m, p_ = np.median(lazy, axis=0), np.median(plain, axis=0)
    return {"lazy_s": round(float(m[0]), 4), "plain_s": round(float(p_[0]), 4),
            "plain_over_lazy_wall": round(float(p_[0] / m[0]), 1), "plain_over_lazy_cpu": round(float(p_[1] / m[1]), 1)}


def cold_milp(cov: Coverage, k: int, time_limit_s: float) -> tuple[float, bool]:
    """(people, proven optimal) of the program for ``k`` sites by ``scipy.optimize.milp``, with no starting solution,
    after its LP relaxation (the bound), as the exact search ran before it used highspy.
    """
    columns = undominated(cov)
    matrix = cov.matrix[:, columns]
    n_rows, n_cand = matrix.shape
    link = sparse.hstack([-matrix, sparse.identity(n_rows, format="csr")], format="csr")
    budget = sparse.csr_matrix(np.r_[np.ones(n_cand), np.zeros(n_rows)][None, :])
    objective = np.r_[np.zeros(n_cand), -cov.people]
    constraints = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(budget, 0, k)]
    milp(objective, integrality=np.zeros(len(objective)), bounds=Bounds(0, 1), constraints=constraints)
    res = milp(objective, integrality=np.r_[np.ones(n_cand), np.zeros(n_rows)], bounds=Bounds(0, 1),
               constraints=constraints, options={"time_limit": time_limit_s, "mip_rel_gap": 0.0})
    chosen = columns[np.flatnonzero(res.x[:n_cand] > 0.5)] if res.x is not None else np.zeros(0, np.int64)
    return cov.value(chosen), res.status == 0


def exact_peer(cov: Coverage, k: int, time_limit_s: float, repeat: int) -> dict:
    """HiGHS (highspy) started from greedy's sites against scipy's cold milp, same program and time limit (same optimum
    first when both prove it).
    """
    greedy = lazy_greedy(cov, k)
    warm, cold = [], []
    for _ in range(repeat):
        w, c, e = timed(lambda: solve(cov, k, time_limit_s, greedy.chosen[:k]))
        warm.append((w, c))
        w, c, (people, optimal) = timed(lambda: cold_milp(cov, k, time_limit_s))
        cold.append((w, c))
    if e.optimal and optimal and abs(e.people - people) > 1e-6 * max(1.0, people):
        msg = f"warm and cold exact optima differ: {e.people} and {people} people"
        raise AssertionError(msg)
    m, p = np.median(warm, axis=0), np.median(cold, axis=0)
    return {"k": k, "warm_s": round(float(m[0]), 3), "cold_s": round(float(p[0]), 3),
            "cold_over_warm_wall": round(float(p[0] / m[0]), 2), "cold_over_warm_cpu": round(float(p[1] / m[1]), 2),
            "warm_optimal": e.optimal, "cold_optimal": optimal, "people": round(e.people, 1),
            "warm_start_people": None if e.warm_start is None else round(e.warm_start, 1)}


def run(study: Study, label: str, greedy_count: int, exact_count: int, exact_limit_s: float, spacing_m: float,
        repeat: int) -> dict:
    """Time greedy and exact ``suggest`` on ``study`` (median of ``repeat``), then the peers."""
    t0 = time.perf_counter()
    study.baseline()
    baseline_s = time.perf_counter() - t0
    suggest(study, "township_hc", 1, spacing_m=spacing_m)  # warm-up: numba kernels, graphs, transformers
    out: dict = {"study": label, "cells": len(study.inputs.cells.people),
                 "populated_cells": int((study.inputs.cells.people > 0).sum()),
                 "nodes": int(study.inputs.network.n_nodes), "baseline_s": round(baseline_s, 2)}
    for method, count in (("greedy", greedy_count), ("exact", exact_count)):
        runs = []
        for _ in range(repeat if method == "greedy" else 1):
            w, c, res = timed(partial(suggest, study, "township_hc", count, spacing_m=spacing_m, method=method,
                                      time_limit_s=exact_limit_s))
            runs.append((w, c, res))
        w, c, res = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
        target = TARGETS_S[(label, method)]
        entry = {"count": count, "wall_s": round(w, 2), "cpu_s": round(c, 2), "target_s": target,
                 "meets_target_wall": w <= target, "meets_target_cpu": c <= target,
                 "parts_s": {k: round(v, 3) for k, v in res.seconds.items()},
                 "candidates": len(res.candidates),
                 "rows": int(res.coverage.matrix.shape[0]),
                 "uncovered_cells": res.coverage.uncovered_cells,
                 "people": round(res.newly_covered, 1)}
        if method == "exact":
            e = res.exact[count]
            out["peer_exact"] = exact_peer(res.coverage, count, exact_limit_s, repeat)
            entry.update(optimal=e.optimal, status=str(e.status), bound_people=round(e.bound, 1),
                         warm_start_people=e.warm_start,
                         lp_bound_people=round(e.lp_bound, 1), gap_percent=round(100 * e.gap, 3),
                         solves={k: {"optimal": x.optimal, "seconds": round(x.seconds, 2)}
                                 for k, x in sorted(res.exact.items())})
        else:
            last = res.curve.iloc[-1]
            entry.update(upper_bound_people=round(float(last["upper_bound_people"]), 1),
                         greedy_gap_percent=round(100 * float(last["greedy_gap"]), 3))
            out["peer_greedy"] = greedy_peer(res.coverage, count, repeat)
            out["peer_engine"] = engine_peer(study, res.candidates, 100, repeat)
        out[method] = entry
    return out


def main() -> None:
    """Run the benchmark from the command line and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each greedy timing (median)")
    parser.add_argument("--no-synth", action="store_true", help="skip the generated 100k-cell study")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo county")
    args = parser.parse_args()
    results: dict = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
                     "load_before": os.getloadavg(), "runs": []}
    if not args.no_demo:
        results["runs"].append(run(healthreach.open_study("demo"), "demo county", 10, 5, 30.0, 1000.0, args.repeat))
    if not args.no_synth:
        from benchmarks import synth

        size = synth.Size("suggest", 159, 60)  # 158 x 200 m = 31.6 km a side: 99,856 cells, every one populated
        results["runs"].append(run(synth.open_generated(size), "generated 100k cells", 20, 10, 60.0, 1000.0,
                                   args.repeat))
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, indent=2, ensure_ascii=False))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(RESULTS, lambda tmp: write_text(tmp, json.dumps(results, indent=2)))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
