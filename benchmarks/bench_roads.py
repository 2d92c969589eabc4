"""The maps' road layers: merging each class's lines, and the whole layer drawn or read back from the cache.

On the demo county's network (or a generated study's, ``--size large`` / ``xlarge``), each round times, in
turn and the same number of times: GEOS's ``shapely.line_merge`` per class (the peer, as the maps merged
before) and :func:`healthreach.maps.merge.merge_lines` on the same lines, their merged lines checked equal
first; then both road layers (main and minor) drawn and kept in a fresh cache folder (cold) and read back
from it by a new lines table (warm: hashing the network, reading, decoding). Reported: median, least and
greatest wall seconds of each, the merge's ratio to the peer, and the load average.

Run: ``.venv/bin/python -m benchmarks.bench_roads [--size large] [--cache DIR] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from benchmarks import synth
from healthreach.inputs import load_inputs
from healthreach.maps.layers import MAJOR_ROADS
from healthreach.maps.merge import merge_lines
from healthreach.maps.road_store import RoadStore
from healthreach.maps.roads import road_layer
from healthreach.study import load_study


def geos_merge(lines: np.ndarray, codes: np.ndarray, n_classes: int) -> list:
    """The peer: ``shapely.line_merge`` of each class's lines."""
    return [shapely.line_merge(shapely.multilinestrings(lines[codes == g])) for g in range(n_classes)]


def both_layers(table, root: Path) -> list[dict]:
    """The main and the minor road layer of ``table``, read from or kept in the cache ``root`` (the lines hashed
    each time, as a new process does).
    """
    store = RoadStore(root, table)
    return [road_layer(table, MAJOR_ROADS, inside, "wgs84", store) for inside in (True, False)]


def measure(size: str, repeats: int, cache: Path | None) -> dict:
    """Time the peer and the merge, then the layers cold and warm, ``repeats`` rounds after one warm-up."""
    study = load_study(None if size == "demo" else synth.study_path(size, cache))
    table = load_inputs(study, cache=cache).network.lines
    codes, names = pd.factorize(table["road_class"], sort=True)
    lines = table.geometry.to_numpy()
    mine, peer = merge_lines(lines, codes), geos_merge(lines, codes, len(names))
    for name, a, b in zip(names, mine, peer, strict=True):  # the same lines, point for point
        if sorted(shapely.to_wkb(shapely.get_parts(a))) != sorted(shapely.to_wkb(shapely.get_parts(b))):
            msg = f"merge_lines and GEOS's line_merge differ on the class {name}"
            raise SystemExit(msg)
    times: dict[str, list[float]] = {"geos line_merge": [], "merge_lines": [], "layers cold": [], "layers warm": []}
    for k in range(repeats + 1):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            cold, warm = table.copy(), table.copy()  # new tables: each hashes the network, as a new process does
            timed = (("geos line_merge", geos_merge, (lines, codes, len(names))),
                     ("merge_lines", merge_lines, (lines, codes)),
                     ("layers cold", both_layers, (cold, root)),
                     ("layers warm", both_layers, (warm, root)))
            for name, run, args in timed:
                start = time.perf_counter()
                run(*args)
                if k:  # the first round warms imports and compiled code
                    times[name].append(time.perf_counter() - start)
    out = {"size": size, "lines": len(lines), "repeats": repeats, "load_average": os.getloadavg()[0]}
    for name, values in times.items():
        out[name] = {"median_s": float(np.median(values)), "min_s": min(values), "max_s": max(values)}
    out["merge_ratio"] = out["geos line_merge"]["median_s"] / out["merge_lines"]["median_s"]
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure and print (the JSON on the last line)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="demo", help="demo, or a generated study (small, medium, large, xlarge)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=None, help="the disk cache root holding the study's network")
    args = parser.parse_args(argv)
    r = measure(args.size, args.repeats, args.cache)
    print(f"{r['lines']:,} road lines ({r['size']}), load average {r['load_average']:.1f}, {r['repeats']} rounds:")
    for name in ("geos line_merge", "merge_lines", "layers cold", "layers warm"):
        t = r[name]
        print(f"  {name:16} {t['median_s']:7.3f} s median ({t['min_s']:.3f}–{t['max_s']:.3f})")
    print(f"  GEOS's line_merge / merge_lines: {r['merge_ratio']:.1f}x (the same lines, checked first)")
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
