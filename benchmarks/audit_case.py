"""One full audit of a generated study, timed step by step, in a process of its own.

Run as ``python -m benchmarks.audit_case SIZE``; prints one JSON object on
the last line of stdout. Generating the study stands in for reading files
and is not counted. Counted, in order, exactly what an audit does after the
files are read: building the network from the road lines, snapping the
facilities, then :func:`healthreach.standards.audit` (cell snapping, one CSR
graph and one multi-source Dijkstra per travel surface, every figure and
table). Peak memory is the process's peak resident set size at that point.
Timed after that: a second audit of the same inputs, a step-by-step
breakdown on a fresh copy, the on-disk network cache (save, load) and a
second run of the unchanged study from the caches (network loaded, cell
snapping read back, then the audit). Run it with ``HEALTHREACH_CACHE``
pointing at an empty folder, as ``benchmarks.run`` does.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def rss_mb() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def main(size_name: str) -> dict:
    from benchmarks import synth
    from benchmarks.peers import fresh_network
    from healthreach.inputs import StudyInputs
    from healthreach.network import build_network, load_network, save_network
    from healthreach.profile import load_profile
    from healthreach.standards import audit
    from healthreach.travel import cell_access, cell_travel, needs

    out: dict = {"size": size_name, "rss_after_imports_mb": current_rss_mb()}
    size = synth.SIZES[size_name]
    study = synth.study(size)
    profile = load_profile(study.profile, study)

    t0 = time.perf_counter()
    roads = synth.roads(size)
    facilities = synth.facilities(size)
    grid, boundaries, cells = synth.grid_and_cells(size)
    out["generate_s"] = time.perf_counter() - t0
    out["rss_after_generating_mb"] = current_rss_mb()

    # --- the counted run: network, facility snapping, audit -------------------------------
    t0 = time.perf_counter()
    net = build_network(roads, profile)
    t1 = time.perf_counter()
    fac = synth.snap_facilities(net, facilities)
    inputs = StudyInputs(study, profile, synth.CRS, boundaries, grid, cells, net, fac, f"generated-{size_name}")
    t2 = time.perf_counter()
    result = audit(inputs)
    t3 = time.perf_counter()
    out.update(build_network_s=t1 - t0, snap_facilities_s=t2 - t1, audit_s=t3 - t2, full_audit_s=t3 - t0,
               peak_rss_mb=rss_mb())
    out.update(nodes=int(net.n_nodes), directed_edges=int(len(net.tail)), road_segments=int(len(roads)),
               cells=int(len(cells.people)), people=float(cells.people.sum()), facilities=int(len(fac)),
               surfaces=len(result.travel))
    out["figures"] = {f.id: f.share for f in result.figures}

    # --- a second audit of the same inputs: CSR graphs and cell snapping reused -----------
    t0 = time.perf_counter()
    again = audit(inputs)
    out["audit_again_s"] = time.perf_counter() - t0
    assert all(a.share == b.share for a, b in zip(result.figures, again.figures))
    del again

    # --- the same audit step by step, on a copy with nothing cached in memory ---------------
    net2 = fresh_network(net)
    wanted = needs(profile)
    modes = {n.mode for n in wanted}
    steps = {}
    t0 = time.perf_counter()
    seen = set()
    for mode in sorted(modes):  # the attachment itself: segment trees built, every cell queried
        tree = net2.segment_index(mode)
        if id(tree) not in seen:
            seen.add(id(tree))
            net2.attach(cells.x, cells.y, mode)
    steps["snap_cells_s"] = time.perf_counter() - t0
    inputs2 = StudyInputs(study, profile, synth.CRS, boundaries, grid, cells, net2, fac, f"generated-{size_name}")
    t0 = time.perf_counter()
    cell_access(inputs2, modes)  # the first audit left the snapping in the on-disk cache
    steps["snap_cells_from_cache_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for n in wanted:
        net2.graph(n.mode, n.weight, reverse=n.direction == "to")
    steps["csr_graphs_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    travel = cell_travel(inputs2)
    steps["dijkstra_passes_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    audit(inputs2, travel=travel)
    steps["figures_and_tables_s"] = time.perf_counter() - t0
    out["steps"] = steps
    del net2, inputs2, travel

    # --- the on-disk network cache, and a second run of the unchanged study from the caches ---
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.npz"
        t0 = time.perf_counter()
        save_network(net, path)
        out["cache_save_s"] = time.perf_counter() - t0
        out["cache_file_mb"] = path.stat().st_size / 2**20
        t0 = time.perf_counter()
        loaded = load_network(path)
        out["cache_load_s"] = time.perf_counter() - t0
        loaded.no_access = net.no_access  # not part of the cached network (as in load_inputs)
        fac3 = synth.snap_facilities(loaded, facilities)
        inputs3 = StudyInputs(study, profile, synth.CRS, boundaries, grid, cells, loaded, fac3, f"generated-{size_name}")
        third = audit(inputs3)
        out["second_run_s"] = time.perf_counter() - t0
        assert all(a.share == b.share for a, b in zip(result.figures, third.figures))
    out["peak_rss_end_mb"] = rss_mb()
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
