"""What a population group costs: the demo county with its 65+ group against the same study without it.

Both studies are opened once; then, interleaved (the order alternating each
repetition), with the same repetitions:

* the whole evaluation from scratch (``Study.evaluate`` of the study's own facility table);
* the whole answer to one planned change (``Evaluation.apply`` then ``Evaluation.diff``)
  for the random adds, relocations and closures of :mod:`benchmarks.bench_scenario`.

Before any time counts, every figure of everyone must be the same in both
(a group adds figures, it never changes everyone's).

Run: ``.venv/bin/python -m benchmarks.bench_groups [--changes 10] [--repeats 3]``;
writes ``benchmarks/results/groups.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import yaml

import healthreach
from benchmarks.bench_scenario import random_changes, same_answer, stats
from healthreach.evaluation import Study
from healthreach.outputs import write_atomic
from healthreach.study import DEMO_STUDY

RESULTS = Path(__file__).resolve().parent / "results" / "groups.json"


def demo_without_groups() -> Study:
    """The demo study with its population_groups removed (paths made absolute)."""
    data = yaml.safe_load(DEMO_STUDY.read_text(encoding="utf-8"))
    data.pop("population_groups")
    for key in ("roads", "facilities", "population", "boundaries", "villages"):
        if isinstance(data.get(key), dict) and "path" in data[key]:
            data[key]["path"] = str(DEMO_STUDY.parent / data[key]["path"])
    return healthreach.open_study(data)


def run(changes_per_kind: int, repeats: int) -> dict:
    """Time both studies, interleaved (see the module's docstring); milliseconds and ratios."""
    plain, grouped = demo_without_groups(), healthreach.open_study("demo")
    if not grouped.inputs.cells.groups:
        msg = "the demo declares no population group"
        raise RuntimeError(msg)
    studies = {"without groups": plain, "with 65plus": grouped}
    bases = {name: s.baseline() for name, s in studies.items()}
    for fid, figure in bases["without groups"].figures.items():  # correctness first: everyone's figures unchanged
        other = bases["with 65plus"].figures[fid]
        if (figure.share, figure.covered, figure.population) != (other.share, other.covered, other.population):
            msg = f"{fid}: everyone's figure differs once a group is declared"
            raise AssertionError(msg)
    full: dict[str, list[float]] = {name: [] for name in studies}
    for r in range(repeats):
        for name in (list(studies) if r % 2 == 0 else list(studies)[::-1]):
            t = time.perf_counter()
            studies[name].evaluate(studies[name].facilities)
            full[name].append(time.perf_counter() - t)
    changes = random_changes(plain, changes_per_kind)
    for base in bases.values():  # warm-up: kernels compiled, transformers built
        base.diff(base.apply([changes[0][1]], name="warm-up"))
    answer: dict[str, list[float]] = {name: [] for name in studies}
    for k, (_, change) in enumerate(changes):
        results = {}
        for name in (list(studies) if k % 2 == 0 else list(studies)[::-1]):
            t = time.perf_counter()
            after = bases[name].apply([change], name="bench")
            bases[name].diff(after)
            answer[name].append(time.perf_counter() - t)
            results[name] = after
        # everyone's figures (those of the study without groups) must be the same in both
        same_answer(results["without groups"], results["with 65plus"], f"change {change}")
    full_stats = {name: stats(v) for name, v in full.items()}
    answer_stats = {name: stats(v) for name, v in answer.items()}
    return {
        "cells": len(grouped.inputs.cells.people), "group_people": float(grouped.inputs.cells.groups["65plus"].sum()),
        "figures": {name: len(b.figures) for name, b in bases.items()},
        "evaluate_from_scratch": full_stats, "change_whole_answer": answer_stats,
        "ratio_evaluate_median": round(full_stats["with 65plus"]["median_ms"]
                                       / full_stats["without groups"]["median_ms"], 3),
        "ratio_change_median": round(answer_stats["with 65plus"]["median_ms"]
                                     / answer_stats["without groups"]["median_ms"], 3),
        "load_average": os.getloadavg(),
    }


def main() -> None:
    """Run the benchmark from the command line and print its summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=10, help="random changes of each kind (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="evaluations from scratch of each study (default 3)")
    args = parser.parse_args()
    result = run(args.changes, args.repeats)
    for what in ("evaluate_from_scratch", "change_whole_answer"):
        row = result[what]
        print(f"{what}: without groups {row['without groups']['median_ms']:.1f} ms, with 65plus "
              f"{row['with 65plus']['median_ms']:.1f} ms (medians, n={row['with 65plus']['n']})")
    print(f"ratios with/without: evaluate {result['ratio_evaluate_median']}, change {result['ratio_change_median']}; "
          f"load average {', '.join(f'{x:.1f}' for x in result['load_average'])}; figures {result['figures']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(RESULTS, lambda tmp: tmp.write_text(json.dumps(result, indent=2, default=float), encoding="utf-8"))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
