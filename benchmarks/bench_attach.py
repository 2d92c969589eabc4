"""Attaching points to the roads: the midpoint KD-tree search against the STRtree search it replaced.

On the demo county (walking roads) it times, interleaved and in one process,
``SegmentIndex.nearest`` (KD-tree over sub-piece midpoints, proven exact or
answered by the STRtree) and the STRtree search alone
(``STRtree.query_nearest`` over the straight pieces, then the same
projection), for the demo's populated and unpopulated cells and for 1M
random points in the cells' extent. Before any time is reported, both
searches must give the same distance to the road (to 1e-9 m) for every
point, and the same segment and metres along it wherever the nearest road
point is unique (no other piece within 1e-6 m).

Run: ``.venv/bin/python -m benchmarks.bench_attach [--repeats 5] [--points 1000000]``;
writes ``benchmarks/results/attach.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import shapely

from healthreach.inputs import load_inputs
from healthreach.network import Attachment, SegmentIndex
from healthreach.outputs import write_atomic
from healthreach.study import load_study

RESULTS = Path(__file__).resolve().parent / "results" / "attach.json"


def strtree_nearest(index: SegmentIndex, x: np.ndarray, y: np.ndarray, length_m: np.ndarray) -> Attachment:
    """The STRtree search alone: GEOS's nearest piece per point, then the index's projection."""
    found = index.strtree.query_nearest(shapely.points(x, y), all_matches=False)
    piece = np.empty(len(x), np.int64)
    piece[found[0]] = found[1]
    return index.attachment(piece, x, y, length_m)


def check_same(index: SegmentIndex, x: np.ndarray, y: np.ndarray, new: Attachment, old: Attachment) -> dict:
    """Raise if the two searches disagree; counts of points checked and of ties."""
    gap = np.abs(new.leg_m - old.leg_m)
    if gap.max() > 1e-9:
        msg = f"distances differ by up to {gap.max():.3g} m"
        raise SystemExit(msg)
    differ = np.flatnonzero((new.seg != old.seg) | (np.abs(new.along_m - old.along_m) > 1e-9))
    # a different segment is allowed only where another piece is as near (a tie)
    pts = shapely.points(x[differ], y[differ])
    row, _ = index.strtree.query(pts, predicate="dwithin", distance=new.leg_m[differ] + 1e-6)
    within = np.bincount(row, minlength=len(differ))
    if (within < 2).any():
        msg = f"{int((within < 2).sum())} points attach differently with a unique nearest road point"
        raise SystemExit(msg)
    return {"points": len(x), "ties_resolved_differently": len(differ)}


def main() -> None:
    """Time the cell attachment on the chosen point sets and print (and write) the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--mode", default="walk")
    args = ap.parse_args()

    inputs = load_inputs(load_study(None))
    net = inputs.network
    lines, mask = net.lines.geometry.to_numpy(), net.attachable(args.mode)
    t = time.perf_counter()
    index = SegmentIndex.build(lines, mask)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    index.strtree  # noqa: B018 - built on first need; timed apart
    strtree_s = time.perf_counter() - t
    cells = inputs.cells
    rng = np.random.default_rng(0)
    rx = rng.uniform(cells.x.min(), cells.x.max(), args.points)
    ry = rng.uniform(cells.y.min(), cells.y.max(), args.points)
    sets = {"demo_cells": (cells.x, cells.y), f"random_{args.points}": (rx, ry)}

    index.nearest(rx[:1000], ry[:1000], net.length_m)  # load the compiled kernel
    out: dict = {"machine": platform.platform(), "cpus": os.cpu_count(), "mode": args.mode,
                 "sub_pieces": len(index.midpoint_search()[0]), "pieces": len(index.start),
                 "build_kdtree_s": build_s, "build_strtree_s": strtree_s, "sets": {}}
    for name, (x, y) in sets.items():
        times: dict[str, list[float]] = {"kdtree": [], "strtree": []}
        for _ in range(args.repeats):
            for label, search in (("kdtree", index.nearest), ("strtree", lambda *a: strtree_nearest(index, *a))):
                t = time.perf_counter()
                at = search(x, y, net.length_m)
                times[label].append(time.perf_counter() - t)
                if label == "kdtree":
                    new = at
                else:
                    old = at
        entry = {"check": check_same(index, x, y, new, old),
                 **{f"{k}_median_s": statistics.median(v) for k, v in times.items()},
                 **{f"{k}_s": v for k, v in times.items()}}
        ratios = (o / n for o, n in zip(times["strtree"], times["kdtree"], strict=False))
        entry["ratio_median"] = statistics.median(ratios)
        out["sets"][name] = entry
        print(f"{name}: {len(x)} points, KD-tree {entry['kdtree_median_s']:.2f} s, "
              f"STRtree {entry['strtree_median_s']:.2f} s (median of {args.repeats}; "
              f"STRtree/KD-tree {entry['ratio_median']:.1f}x); {entry['check']}", flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    write_atomic(RESULTS, lambda tmp: tmp.write_text(json.dumps(out, indent=2), encoding="utf-8"))


if __name__ == "__main__":
    main()
