"""One full audit of a generated study through the public API, timed, in a process of its own.

Run as ``python -m benchmarks.audit_case SIZE CACHE``; prints one JSON object
on the last line of stdout. ``CACHE`` is the disk cache root the study is
opened with and must be an empty folder (``benchmarks.run`` passes a new
temporary one). The generated study's files are written beforehand (once, then
reused, under the usual cache root: ``benchmarks/synth.py``); writing them is
not counted.

Counted (``full_audit_s``), exactly what a user's first audit of the study
does: :func:`healthreach.open_study` with the empty cache (``open_s``: reading
the township boundaries, reading the road file and building the network,
reading the population raster, reading the facilities and attaching them to the
roads, then attaching every cell to the roads and keeping the network and the
cell attachment in the cache), then :meth:`Study.baseline` (``baseline_s``: one
CSR graph and one multi-source Dijkstra pass per travel surface, every cell's
cost, every figure and table). ``open_steps`` splits ``open_s`` at the
progress messages ``open_study`` reports; the last step runs from "reading
facilities" to the end, so it holds the facilities and the cells' attachment.
``baseline_steps`` splits ``baseline_s`` by the evaluation's own timing
(``Evaluation.seconds``): travel surfaces, per-cell costs and sums, then the
figures and tables. Peak memory is the process's peak resident set size at
that point.

Timed after that: evaluating the same facilities again from scratch on the
same study (``evaluate_again_s``: every surface and figure, the graphs and the
cell attachment kept), and a second run of the unchanged study from the caches
(``second_run_s``: ``open_study`` again, the network and the cell attachment
read from the cache, then the baseline). Step by step, on a third opening:
the CSR graphs alone (``Network.graph`` per surface), the Dijkstra passes alone
(:func:`healthreach.travel.surfaces`, graphs built) and searching every cell's
road point again without the cache (:func:`healthreach.travel.attach_cells`;
the segment indexes were built when the facilities were attached).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path


def rss_mb() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident set size of this process now, MiB."""
    with Path("/proc/self/statm").open() as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


class Marks:
    """A ``progress`` callback that notes when each step began; :meth:`steps` gives seconds per step."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []

    def __call__(self, message: object) -> None:
        """Note that the step ``message`` (its English text) begins now."""
        self.marks.append((str(message), time.perf_counter()))

    def steps(self, end: float) -> dict[str, float]:
        """Seconds from each message to the next (the last one to ``end``, a perf_counter time)."""
        stamps = [at for _, at in self.marks[1:]] + [end]
        return {msg: stamps[i] - at for i, (msg, at) in enumerate(self.marks)}


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall time (seconds) of one call, and its result."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(size_name: str, cache: Path) -> dict:
    """Time the audit of the generated study ``size_name`` with ``cache`` (an empty folder) as cache root."""
    from benchmarks import synth
    from healthreach import open_study
    from healthreach.travel import attach_cells, surfaces

    out: dict = {"size": size_name, "rss_after_imports_mb": current_rss_mb()}
    out["generated_now"] = not (synth.study_folder(size_name) / "study.yaml").is_file()
    out["generate_s"], path = timed(lambda: synth.study_path(size_name))  # writing the files (0 when reused)
    out["rss_after_generating_mb"] = current_rss_mb()

    # --- the counted run: open_study with an empty cache, then the baseline -----------------------
    marks = Marks()
    t0 = time.perf_counter()
    study = open_study(path, cache=cache, progress=marks)
    t1 = time.perf_counter()
    base = study.baseline()
    t2 = time.perf_counter()
    out.update(open_s=t1 - t0, baseline_s=t2 - t1, full_audit_s=t2 - t0, peak_rss_mb=rss_mb(),
               open_steps=marks.steps(t1))
    travel_s = base.seconds["travel"]
    out["baseline_steps"] = {"surfaces_costs_and_sums_s": travel_s, "figures_and_tables_s": (t2 - t1) - travel_s}
    inputs = study.inputs
    out.update(nodes=int(inputs.network.n_nodes), directed_edges=len(inputs.network.tail),
               road_lines=len(inputs.network.lines), cells=len(inputs.cells.people),
               people=float(inputs.cells.people.sum()), facilities=len(inputs.facilities),
               surfaces=len(study.needs))
    out["figures"] = {key: f.share for key, f in base.figures.items()}

    # --- the same facilities evaluated again from scratch: graphs and cell attachment kept -----------
    out["evaluate_again_s"], again = timed(lambda: study.evaluate(inputs.facilities))
    assert all(again.figures[k].share == f.share for k, f in base.figures.items())  # noqa: S101
    del again, base, study, inputs

    # --- a second run of the unchanged study: network and cell attachment from the cache -----------
    marks = Marks()
    t0 = time.perf_counter()
    study = open_study(path, cache=cache, progress=marks)
    t1 = time.perf_counter()
    second = study.baseline()
    t2 = time.perf_counter()
    out.update(second_open_s=t1 - t0, second_baseline_s=t2 - t1, second_run_s=t2 - t0,
               second_open_steps=marks.steps(t1))
    out["network_reused"] = "reusing the cached road network" in out["second_open_steps"]
    out["network_cache_mb"] = sum(p.stat().st_size for p in (cache / "networks").glob("*.npz")) / 2**20
    assert all(second.figures[k].share == share for k, share in out["figures"].items())  # noqa: S101
    del second, study

    # --- step by step, on a third opening (network read from the cache: no graph built yet) -----------
    study = open_study(path, cache=cache)
    net, inputs = study.inputs.network, study.inputs
    t0 = time.perf_counter()
    for need in study.needs:
        net.graph(need.mode, need.weight, reverse=need.direction == "to")
    steps = {"csr_graphs_s": time.perf_counter() - t0}
    steps["dijkstra_passes_s"], _ = timed(lambda: surfaces(net, study.needs, study.own.member, study.own.attached))
    steps["cell_search_s"], _ = timed(lambda: attach_cells(net, inputs.cells, {n.mode for n in study.needs}, None))
    out["steps"] = steps
    out["peak_rss_end_mb"] = rss_mb()
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], Path(sys.argv[2]))))
