"""One facility's bounded search (E2SFCA's and capacity's pairs): the compiled search against scipy's.

For every facility of a study, driving, within a limit (default 30 min),
it times the search that :class:`~healthreach.standards.reach_tables.ReachTables`
runs per site: the nodes within the limit from the two ends of the facility's
segment, combined as ``min(cost_u + d_u, cost_v + d_v)``. Its peer is
``scipy.sparse.csgraph.dijkstra(graph, indices=[u, v], limit=...)``, which
returns arrays of the whole network's size, then the same combination over
every node. Both run site after site, interleaved, the same number of
times; each site's nodes and costs are checked equal (bit for bit) before
any time counts. The process's CPU seconds are reported beside the clock.

Run: ``.venv/bin/python -m benchmarks.bench_site_search [--synth large] [--limit-min 30] [--sites 200]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy.sparse.csgraph import dijkstra

import healthreach
from healthreach.bounded_search import SiteSearch
from healthreach.evaluation import Study
from healthreach.reach import source_seeds


def run(study: Study, limit_s: float, sites: int, repeats: int) -> dict:
    """Per-site seconds (clock and CPU) of both searches over up to ``sites`` facilities, ``repeats`` rounds."""
    net = study.inputs.network
    at = study.baseline().whole.attached["drive"]  # type: ignore[union-attr]  # a baseline keeps its arrays
    rows = np.arange(min(sites, len(at)))
    u, v, cost_u, cost_v = source_seeds(net, "drive", "time", "to", at[rows])
    graph = net.graph("drive", "time", reverse=True)
    search = SiteSearch(graph)

    def bounded(i: int) -> tuple[np.ndarray, np.ndarray]:
        with search.costs(int(u[i]), float(cost_u[i]), int(v[i]), float(cost_v[i]), limit_s) as reached:
            within = reached[search.node_cost[reached] <= limit_s]
            return within, search.node_cost[within]

    def scipy_dense(i: int) -> tuple[np.ndarray, np.ndarray]:
        dist = dijkstra(graph, directed=True, indices=np.array([u[i], v[i]]), limit=limit_s)
        node = np.minimum(cost_u[i] + dist[0], cost_v[i] + dist[1])
        within = np.flatnonzero(node <= limit_s)
        return within, node[within]

    reached = []
    for i in range(len(rows)):  # checked equal first (and compiled)
        (nodes, cost), peer = bounded(i), scipy_dense(i)
        order = np.argsort(nodes)
        if not (np.array_equal(nodes[order], peer[0]) and np.array_equal(cost[order], peer[1])):
            msg = f"site {i}: the bounded search differs from scipy's"
            raise AssertionError(msg)
        reached.append(len(nodes))
    times: dict[str, list[float]] = {"bounded": [], "scipy": []}
    cpu: dict[str, list[float]] = {"bounded": [], "scipy": []}
    for _ in range(repeats):
        for i in range(len(rows)):
            for name, fn in (("bounded", bounded), ("scipy", scipy_dense)):
                c0, t0 = time.process_time(), time.perf_counter()
                fn(i)
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
    ms = {k: 1000 * np.asarray(t) for k, t in times.items()}
    cpu_ms = {k: 1000 * np.asarray(t) for k, t in cpu.items()}
    return {"nodes": net.n_nodes, "sites": len(rows), "limit_s": limit_s, "repeats": repeats,
            "nodes_within_median": int(np.median(reached)),
            **{f"{k}_median_ms": float(np.median(t)) for k, t in ms.items()},
            **{f"{k}_p90_ms": float(np.percentile(t, 90)) for k, t in ms.items()},
            **{f"{k}_cpu_total_s": float(t.sum() / 1000) for k, t in cpu_ms.items()},
            "ratio_median": float(np.median(ms["scipy"] / ms["bounded"])),
            "load": " ".join(f"{x:.1f}" for x in os.getloadavg())}


def main() -> None:
    """Time the searches from the command line and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synth", choices=["small", "medium", "large", "xlarge"], default=None,
                        help="a generated study of this size (benchmarks/synth.py) instead of the demo county")
    parser.add_argument("--limit-min", type=float, default=30.0, help="the search's limit in minutes (default 30)")
    parser.add_argument("--sites", type=int, default=200, help="facilities searched from (default 200)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over the sites (default 3)")
    args = parser.parse_args()
    if args.synth:
        from benchmarks import synth

        study, name = synth.open_generated(synth.SIZES[args.synth]), f"generated {args.synth}"
    else:
        study, name = healthreach.open_study("demo"), "demo county"
    r = run(study, args.limit_min * 60, args.sites, args.repeats)
    print(f"{name}: {r['nodes']:,} nodes, {r['sites']} sites, {r['limit_s']:g} s limit, median "
          f"{r['nodes_within_median']:,} nodes within; {r['repeats']} rounds, interleaved")
    for k in ("bounded", "scipy"):
        print(f"  {k:<8} median {r[f'{k}_median_ms']:.2f} ms, p90 {r[f'{k}_p90_ms']:.2f} ms per site; "
              f"CPU {r[f'{k}_cpu_total_s']:.2f} s in all")
    print(f"  scipy / bounded, site by site: median {r['ratio_median']:.1f}x; load average {r['load']}")


if __name__ == "__main__":
    main()
