"""The printed poster against the HTML map, on the demo county: interleaved runs, ratios.

``.venv/bin/python -m benchmarks.bench_poster [--repeat N]`` draws, in turn
and ``N`` times each, the offline HTML map (``render_html(audit_map(...))``)
and the A3 and A4 posters (PDF and PNG) of the demo county's baseline, and
prints the best time of each with its ratio to the map's and the load
average. Target: a poster takes at most :data:`TARGET_X` times as long as the map.
"""

from __future__ import annotations

import argparse
import os
import time

TARGET_X = 4.0  # poster (PDF + PNG) / HTML map, best of the interleaved runs


def main(argv: list[str] | None = None) -> int:
    """Run the interleaved comparison; exit 1 when a poster misses :data:`TARGET_X`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, interleaved (default 3)")
    args = parser.parse_args(argv)

    from healthreach import open_study
    from healthreach.maps.audit import audit_map
    from healthreach.maps.base import render_html
    from healthreach.poster.poster import audit_poster

    result = open_study("demo").baseline()
    runs = {"html map": lambda: render_html(audit_map(result, offline=True)),
            "poster A3": lambda: audit_poster(result, "A3").files(),
            "poster A4": lambda: audit_poster(result, "A4").files()}
    times: dict[str, list[float]] = {name: [] for name in runs}
    load = [os.getloadavg()[0]]
    for _ in range(args.repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
        load.append(os.getloadavg()[0])
    base = min(times["html map"])
    ok = True
    print(f"demo county, best of {args.repeat} interleaved runs; load average {min(load):.1f}-{max(load):.1f}")
    for name, values in times.items():
        ratio = min(values) / base
        met = name == "html map" or ratio <= TARGET_X
        ok &= met
        target = "" if name == "html map" else f"  target <= {TARGET_X:g}x: {'met' if met else 'MISSED'}"
        print(f"{name:10s} {min(values):7.2f} s  {ratio:5.2f}x the map{target}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
