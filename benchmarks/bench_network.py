"""Reading a GIS road layer and building the network from it, step by step.

On the generated study's ``roads.gpkg`` (``--size large``: 496,661 segments,
250,993 nodes), each repetition reads the layer (:func:`healthreach.load.roads.read_roads`:
the file, classes, one-way values, speeds, projection) and builds the network
(:func:`healthreach.network.build_network`: parts, end-point merging,
duplicates, edge times, main component), in a process of its own after one
untimed warm-up. Reported: median, least and greatest wall seconds, the
process's CPU seconds (less sensitive to other work on the machine) and the
same per 300,000 segments (the issue's goal: 3 s).

Run: ``.venv/bin/python -m benchmarks.bench_network [--size large] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from benchmarks import synth
from healthreach.inputs import load_inputs
from healthreach.load.roads import read_roads
from healthreach.network import build_network
from healthreach.study import load_study

GOAL_S_PER_300K = 3.0


def measure(size: str, repeats: int) -> dict:
    """Time reading and building ``repeats`` times after one warm-up; medians, spreads, CPU seconds."""
    spec = load_study(synth.study_path(size))
    inputs = load_inputs(spec)  # the analysis CRS and profile, as open_study chooses them
    crs, profile = inputs.crs, inputs.profile
    del inputs
    wall: dict[str, list[float]] = {"read": [], "build": []}
    cpu: dict[str, list[float]] = {"read": [], "build": []}
    segments = 0
    for k in range(repeats + 1):
        w0, c0 = time.perf_counter(), time.process_time()
        roads = read_roads(spec.roads, crs)
        w1, c1 = time.perf_counter(), time.process_time()
        net = build_network(roads, profile)
        w2, c2 = time.perf_counter(), time.process_time()
        segments = len(roads)
        if k:  # the first run warms the file cache and the imports
            wall["read"].append(w1 - w0)
            wall["build"].append(w2 - w1)
            cpu["read"].append(c1 - c0)
            cpu["build"].append(c2 - c1)
        del roads, net
    total = np.add(wall["read"], wall["build"])
    total_cpu = np.add(cpu["read"], cpu["build"])
    per = 300_000 / segments
    return {"size": size, "segments": segments, "repeats": repeats, "load_average": os.getloadavg()[0],
            **{f"{step}_median_s": float(np.median(v)) for step, v in wall.items()},
            **{f"{step}_cpu_median_s": float(np.median(v)) for step, v in cpu.items()},
            "total_median_s": float(np.median(total)), "total_min_s": float(total.min()),
            "total_max_s": float(total.max()), "total_cpu_median_s": float(np.median(total_cpu)),
            "per_300k_segments_s": float(np.median(total)) * per,
            "per_300k_segments_cpu_s": float(np.median(total_cpu)) * per, "goal_s_per_300k": GOAL_S_PER_300K}


def main(argv: list[str] | None = None) -> int:
    """Measure and print (the JSON on the last line)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", help="generated study (small, medium, large, xlarge)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    r = measure(args.size, args.repeats)
    print(f"{r['segments']:,} segments ({r['size']}), load average {r['load_average']:.1f}: read "
          f"{r['read_median_s']:.2f} s + build {r['build_median_s']:.2f} s = {r['total_median_s']:.2f} s median "
          f"({r['total_min_s']:.2f}–{r['total_max_s']:.2f} s over {r['repeats']}); "
          f"CPU {r['total_cpu_median_s']:.2f} s; "
          f"per 300,000 segments {r['per_300k_segments_s']:.2f} s (CPU {r['per_300k_segments_cpu_s']:.2f} s), "
          f"goal {GOAL_S_PER_300K:g} s")
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
