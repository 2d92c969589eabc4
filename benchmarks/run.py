"""healthreach's benchmark suite: peers side by side, growth from small to large, targets.

``make bench`` (or ``.venv/bin/python -m benchmarks.run``) runs, in one run on
this machine:

* the nearest-facility pass against networkx's multi-source Dijkstra, the
  osmnx ego-graph isochrone recipe, pandana's ``nearest_pois`` and the bare
  ``scipy.sparse.csgraph.dijkstra`` call, on the demo county and on a
  generated 250k-node network (each answer checked before its ratio counts);
* the demo county opened twice with ``healthreach.open_study`` in new
  processes sharing one, at first empty, cache (the second must reuse the
  built network and the cell attachment), its baseline, and scenario changes
  (``benchmarks/bench_scenario.py``);
* a full audit of generated studies of three sizes (``benchmarks/audit_case.py``:
  ``open_study`` with an empty cache, then the baseline), each in its own
  process so that its peak memory is its own.

Every study is opened through the public API (:func:`healthreach.open_study`);
the generated ones are written as study files first (``benchmarks/synth.py``).

Results are printed as a table and written to ``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SIZES = ("small", "medium", "large")

TARGETS = {
    "vs_networkx_x": ("nearest-facility pass vs networkx multi_source_dijkstra_path_length", ">=", 10.0),
    "vs_ego_x": ("nearest-facility pass vs ego-graph recipe", ">=", 100.0),
    "engine_overhead_x": ("engine time / bare scipy dijkstra", "<=", 2.0),
    "large_full_audit_s": ("full audit, 250k nodes / 1M cells: open_study (files read) + baseline (s)", "<", 10.0),
    "large_peak_rss_mb": ("peak memory of that audit (MiB)", "<", 3072.0),
    "scenario_whole_answer_p90_ms": (("one planned change after the baseline, whole answer (check, apply, travel, "
                                     "every figure and table, diff), p90 (ms)"), "<=", 10.0),
    "cache_reused": ("second run on an unchanged study reuses the built network and cell snapping", "==", True),
    "process_demo_audit_s": ("`healthreach audit` of the demo county, whole process, outputs and map, warm cache (s)",
                             "<=", 1.5),
    "process_demo_scenario_s": ("`healthreach scenario` on the demo county, whole process, files and map (s)", "<=",
                                0.5),
    "process_large_audit_s": ("`healthreach audit` of the 250k-node / 1M-cell study, outputs and map, warm cache (s)",
                              "<=", 6.0),
}


# --- children: each runs in its own process and prints one JSON line last -------------

def child(kind: str, args: list[str], cache: Path | None) -> dict:
    """Run one child measurement (``cache``: the disk cache root it opens studies with)."""
    arg = args[0] if args else None
    if kind == "demo":
        return _demo_child(cache)
    if kind == "peers":
        return _peers_child(arg or "demo", cache, int(args[1]) if len(args) > 1 else 5)
    if kind == "scenario":
        return _scenario_child(int(arg or 30), cache)
    msg = f"unknown child {kind}"
    raise SystemExit(msg)


def _demo_child(cache: Path | None) -> dict:
    """The CLI's work on the demo county through the API: open the study, evaluate the baseline.

    Run twice with the same, at first empty, ``cache``: the first run builds
    the network and attaches the cells to the roads, the second must reuse both.
    """
    import resource

    from benchmarks.audit_case import Marks, timed
    from healthreach import open_study
    from healthreach.cache import cache_dir
    from healthreach.travel import attach_cells

    cache = cache_dir() if cache is None else cache
    snaps = cache / "snaps"
    before = sorted(p.name for p in snaps.glob("*.npz")) if snaps.is_dir() else []
    marks = Marks()
    t0 = time.perf_counter()
    study = open_study("demo", cache=cache, progress=marks)
    t1 = time.perf_counter()
    base = study.baseline()
    t2 = time.perf_counter()
    out: dict = {"study": study.inputs.study.name, "open_steps": marks.steps(t1)}
    out.update(open_s=t1 - t0, baseline_s=t2 - t1, open_and_baseline_s=t2 - t0,
               network_reused="reusing the cached road network" in out["open_steps"],
               cell_snapping_reused=bool(before) and sorted(p.name for p in snaps.glob("*.npz")) == before)
    out["network_s"] = out["open_steps"].get("reusing the cached road network",
                                             out["open_steps"].get("building the road network"))
    inputs = study.inputs
    out["evaluate_again_s"], _ = timed(lambda: study.evaluate(inputs.facilities))
    # every cell's road point searched again, without the cache (segment indexes built when facilities attached)
    out["cell_search_s"], _ = timed(lambda: attach_cells(inputs.network, inputs.cells,
                                                         {n.mode for n in study.needs}, None))
    out.update(nodes=int(inputs.network.n_nodes), directed_edges=len(inputs.network.tail),
               cells=len(inputs.cells.people), people=float(inputs.cells.people.sum()),
               facilities=len(inputs.facilities), figures={k: f.share for k, f in base.figures.items()},
               peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def _peers_child(case: str, cache: Path | None, rounds: int) -> dict:
    """The nearest-facility pass and its peers on the demo county or a generated study's network."""
    import resource

    import numpy as np

    from benchmarks import peers, synth
    from healthreach import open_study
    from healthreach.travel import facility_attachment, in_group

    where = "demo" if case == "demo" else synth.study_path(case, cache)
    study = open_study(where, cache=cache)
    ego_limit = None if case == "demo" else 12
    inputs = study.inputs
    fac = inputs.facilities
    rows = np.flatnonzero(in_group(fac, inputs.profile.groups["primary_care"]))

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    nodes = inputs.network.segment_ends(facility_attachment(fac, "drive").seg[rows])[0]
    out = peers.compare(inputs.network, nodes, rows, label=case, ego_facilities=ego_limit, log=log, rounds=rounds,
                        reopen=lambda: open_study(where, cache=cache).inputs.network)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _scenario_child(changes: int, cache: Path | None) -> dict:
    """One-change scenarios on the demo county, through benchmarks/bench_scenario.py."""
    from benchmarks import bench_scenario
    from healthreach import open_study

    return bench_scenario.run(open_study("demo", cache=cache), changes, "demo county")


def spawn(args: list[str], timeout: float = 1800) -> dict:
    """Run ``python -m benchmarks.<...>`` in a new process; its last stdout line is JSON."""
    t0 = time.perf_counter()
    command = [sys.executable, "-m", *args]  # this interpreter and one of our own modules
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,  # noqa: S603
                          check=False)
    for line in proc.stderr.splitlines():
        if line.startswith("  ["):
            print(line, flush=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        return {"error": f"exit code {proc.returncode}: {tail}"}
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    out = json.loads(lines[-1])
    out["process_wall_s"] = time.perf_counter() - t0
    return out


# --- the run ------------------------------------------------------------------------

def machine() -> dict:
    """The machine and library versions the benchmarks ran on."""
    model = platform.processor() or platform.machine()
    try:
        # an optional system tool, looked up on PATH
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout  # noqa: S607
        model = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("Model name")), model)
    except OSError:
        pass
    mem = None
    with contextlib.suppress(OSError, StopIteration):
        mem = int(next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
                  .split()[1]) / 2**20
    import networkx as nx
    import numpy as np
    import scipy

    versions = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                "networkx": nx.__version__}
    try:
        from importlib.metadata import version

        versions["pandana"] = version("pandana")
    except Exception:  # noqa: BLE001
        versions["pandana"] = None
    return {"cpu": model, "cores": os.cpu_count(), "memory_gib": round(mem, 1) if mem else None,
            "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
            "os": platform.platform(), "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "versions": versions}


def demo_available() -> bool:
    """Whether the bundled demo study's files are all present."""
    from healthreach.study import DEMO_STUDY

    folder = DEMO_STUDY.parent
    return all((folder / name).is_file() for name in ("study.yaml", "roads.gpkg", "facilities.csv",
                                                        "population.tif", "townships.gpkg"))


def run(sizes: list[str], peers_cases: list[str], demo: bool, scenario_changes: int, peer_rounds: int = 5) -> dict:
    """Every measurement, each in its own process: generated audits by size, peers, demo, scenarios."""
    res: dict = {"machine": machine(), "notes": []}
    print(f"healthreach benchmarks, {res['machine']['date']}: {res['machine']['cpu']}, "
          f"{res['machine']['cores']} cores, {res['machine']['memory_gib']} GiB", flush=True)
    have_demo = demo and demo_available()
    if demo and not have_demo:
        res["notes"].append("demo county not generated (healthreach/demo/): its rows are skipped")
        print("demo county not generated (healthreach/demo/): its rows are skipped")

    if have_demo:
        print("\n== demo county: loading (cold, then from the cache) and auditing", flush=True)
        with tempfile.TemporaryDirectory() as cache:  # an empty cache: the first run builds, the second reuses
            first = spawn(["benchmarks.run", "--child", "demo", "--cache", cache])
            second = spawn(["benchmarks.run", "--child", "demo", "--cache", cache])
        res["demo"] = {"first_run": first, "second_run": second}
        if "error" not in first and "error" not in second:
            res["demo"]["cache_reused"] = (second["network_reused"] and second["cell_snapping_reused"]
                                           and not first["network_reused"])
        _show_demo(res["demo"])

    res["peers"] = {}
    for case in peers_cases:
        if case == "demo" and not have_demo:
            continue
        print(f"\n== nearest-facility pass and its peers: {case}", flush=True)
        res["peers"][case] = spawn(["benchmarks.run", "--child", "peers", case, str(peer_rounds)])

    if have_demo and scenario_changes:
        if importlib.util.find_spec("benchmarks.bench_scenario") is None:
            res["scenario"] = {"skipped": "benchmarks/bench_scenario.py not present"}
            print("\n== scenario changes: skipped (benchmarks/bench_scenario.py not present)")
        else:
            print(f"\n== scenario changes on the demo county ({scenario_changes} of each kind)", flush=True)
            res["scenario"] = spawn(["benchmarks.run", "--child", "scenario", str(scenario_changes)])

    if have_demo:
        print("\n== whole commands as processes (benchmarks/bench_process.py)", flush=True)
        res["process"] = spawn(["benchmarks.bench_process", "--repeats", "3",
                                "--sizes", ",".join(s for s in sizes if s in ("large", "xlarge"))])

    res["audit"] = {}
    for size in sizes:
        print(f"\n== full audit, generated study: {size}", flush=True)
        with tempfile.TemporaryDirectory() as cache:
            res["audit"][size] = spawn(["benchmarks.audit_case", size, cache])
        a = res["audit"][size]
        if "error" not in a:
            print(f"  {a['nodes']:,} nodes, {a['cells']:,} cells, {a['facilities']} facilities: "
                  f"full audit {a['full_audit_s']:.2f} s, peak RSS {a['peak_rss_mb']:,.0f} MiB", flush=True)
    res["growth"] = growth(res["audit"])
    res["targets"] = targets(res)
    return res


def growth(audits: dict) -> list[dict]:
    """How time and memory grow between successive sizes (exponent of nodes: 1 = linear)."""
    done = [(s, a) for s, a in audits.items() if "error" not in a]
    out = []
    for (s0, a0), (s1, a1) in itertools.pairwise(done):
        k = a1["nodes"] / a0["nodes"]
        t = a1["full_audit_s"] / a0["full_audit_s"]
        m = (a1["peak_rss_mb"] - a1["rss_after_imports_mb"]) / max(a0["peak_rss_mb"] - a0["rss_after_imports_mb"], 1)
        out.append({"from": s0, "to": s1, "nodes_x": k, "time_x": t, "time_exponent": math.log(t) / math.log(k),
                    "memory_above_imports_x": m, "memory_exponent": math.log(m) / math.log(k)})
    return out


def measured(res: dict) -> dict[str, list[tuple[str, object]]]:
    """Target key -> (case, value) of every target measured in ``res``."""
    found: dict = {}
    for case, p in res.get("peers", {}).items():
        if "error" in p:
            continue
        for key in ("vs_networkx_x", "vs_ego_x", "engine_overhead_x"):
            if key in p:
                found.setdefault(key, []).append((case, p[key]))
    large = res.get("audit", {}).get("large", {})
    if "full_audit_s" in large:
        found["large_full_audit_s"] = [("large", large["full_audit_s"])]
        found["large_peak_rss_mb"] = [("large", large["peak_rss_mb"])]
    scen = res.get("scenario") or {}
    for r in scen.get("runs", [scen]):
        if "all" in r:
            found.setdefault("scenario_whole_answer_p90_ms", []).append(
                (r.get("study", "demo"), r["all"]["whole_answer"]["p90_ms"]))
    if "cache_reused" in res.get("demo", {}):
        found["cache_reused"] = [("demo", res["demo"]["cache_reused"])]
    for name, case in res.get("process", {}).get("cases", {}).items():
        key = "process_" + name.replace(" ", "_") + "_s"
        if key in TARGETS:
            found[key] = [(name.split()[0], case["median_s"])]
    return found


def targets(res: dict) -> list[dict]:
    """Each target of :data:`TARGETS` with the value measured and whether it is met (None: not measured)."""
    found = measured(res)
    compare = {">=": lambda v, g: v >= g, "<=": lambda v, g: v <= g, "<": lambda v, g: v < g,
               "==": lambda v, g: v == g}
    out = []
    for key, (what, op, goal) in TARGETS.items():
        for case, value in found.get(key, []):
            out.append({"target": key, "what": what, "case": case, "goal": f"{op} {goal}", "measured": value,
                        "met": bool(compare[op](value, goal))})
        if key not in found:
            out.append({"target": key, "what": what, "case": None, "goal": f"{op} {goal}", "measured": None,
                        "met": None})
    return out


# --- printing -----------------------------------------------------------------------

OPEN_STEPS = ("reading township boundaries", "building the road network", "reading population",
              "reading facilities")  # open_study's progress messages, in order, for a study without villages


def _show_demo(d: dict) -> None:
    for label in ("first_run", "second_run"):
        r = d[label]
        if "error" in r:
            print(f"  {label}: failed: {r['error']}")
            continue
        print(f"  {label.replace('_', ' ')}: open_study {r['open_s']:.2f} s (network "
              f"{'read from the cache' if r['network_reused'] else 'built'} in {r['network_s']:.2f} s; cell "
              f"attachment {'read from the cache' if r['cell_snapping_reused'] else 'searched'}), baseline "
              f"{r['baseline_s']:.2f} s, process {r['process_wall_s']:.1f} s; peak RSS {r['peak_rss_mb']:,.0f} MiB")
    if "cache_reused" in d:
        r = d["first_run"]
        print(f"  {r['nodes']:,} nodes, {r['cells']:,} cells, {r['facilities']} facilities; searching every cell's "
              f"road point {r['cell_search_s']:.2f} s; evaluating again in the same process "
              f"{r['evaluate_again_s']:.2f} s; second run reused network and cell attachment: {d['cache_reused']}")


def peers_table(peers: dict) -> list[str]:
    """The peer comparison as Markdown: ratios of medians, then each contender's spread."""
    if not peers:
        return []
    lines: list[str] = []
    rounds = {p.get("rounds") for p in peers.values()}
    lines += [("Nearest-facility pass (primary care, driving time to the nearest facility, every node); each "
               f"peer run {', '.join(map(str, sorted(rounds)))} times, each time right after a run of the engine; "
               "medians, and ratios as the median of the pairs' ratios:"), "",
              ("| case | nodes | sources | healthreach | bare scipy | overhead | networkx | × "
               "| networkx + paths | × | ego-graph recipe | × | networkx cutoff search | × "
               "| pandana query (+ contraction) | × |"),
              "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for case, p in peers.items():
        ego = p.get("ego", {})
        pan = p.get("pandana", {})
        pan_cell = (f"{pan['query_s'] * 1000:.0f} ms (+{pan['preprocess_s']:.1f} s)" if "query_s" in pan
                    else pan.get("skipped", "differs") if pan else "—")
        ego_cell = (f"{ego['seconds_all_facilities']:.1f} s" + (f" (ext. from {ego['facilities_run']})"
                                                                if ego.get("extrapolated") else "")) if ego else "—"
        cut = p.get("cutoff", {})
        cut_cell = (f"{cut['seconds_all_facilities']:.2f} s" + (f" (ext. from {cut['facilities_run']})"
                                                                if cut.get("extrapolated") else "")) if cut else "—"
        nan = float("nan")
        lines.append(
            f"| {case} | {p['nodes']:,} | {p['source_nodes']} | {p['engine_s'] * 1000:.1f} ms "
            f"| {p['scipy_bare_s'] * 1000:.1f} ms | {p['engine_overhead_x']:.2f}× "
            f"| {p.get('networkx_s', nan):.2f} s | {p.get('vs_networkx_x', nan):.0f}× "
            f"| {p.get('networkx_paths_s', nan):.2f} s | {p.get('vs_networkx_paths_x', nan):.0f}× "
            f"| {ego_cell} | {p.get('vs_ego_x', nan):,.0f}× | {cut_cell} | {p.get('vs_cutoff_x', nan):,.0f}× "
            f"| {pan_cell} | " + (f"{p['vs_pandana_x']:.1f}×" if "vs_pandana_x" in p else "—") + " |")
    lines += ["", ("Spread of each contender's times (median, least–greatest, ms; per-facility peers for the "
              "facilities they ran for) and of the engine runs paired with it:"), "",
              "| case | contender | median | least–greatest | runs | engine paired: median | least–greatest | ratio |",
              "|---|---|--:|--:|--:|--:|--:|--:|"]
    for case, p in peers.items():
        for name, t in p.get("times", {}).items():
            e = t.get("engine")
            paired = (f"{e['median_s'] * 1000:.1f} | {e['min_s'] * 1000:.1f}–{e['max_s'] * 1000:.1f} "
                      f"| {t['ratio_x']:.2f}×") if e else "— | — | —"
            lines.append(f"| {case} | {name} | {t['median_s'] * 1000:.1f} | {t['min_s'] * 1000:.1f}–"
                         f"{t['max_s'] * 1000:.1f} | {t['runs']} | {paired} |")
    lines.append("")
    lines.append("CSR graph build (once per network and mode, then cached): "
                 + "; ".join(f"{c} {p['csr_build_s'] * 1000:.0f} ms" for c, p in peers.items()))
    lines.append("")
    return lines


def table(res: dict) -> str:
    """The results as Markdown tables (printed, and pasted into docs/performance.md)."""
    m = res["machine"]
    load = m.get("load_average_at_start")
    lines = [f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; "
             + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
             + (f"; load average at start {load[0]:.1f}" if load else "")
             + (f", at end {m['load_average_at_end'][0]:.1f}" if m.get("load_average_at_end") else ""), ""]
    lines += peers_table({k: v for k, v in res.get("peers", {}).items() if "error" not in v})
    audits = {k: v for k, v in res.get("audit", {}).items() if "error" not in v}
    if audits:
        lines += [("Full audit of generated studies through the API (open_study with an empty cache, then the "
                  "baseline; writing the generated files not counted):"), "",
                  ("| size | nodes | cells | facilities | open_study | of which boundaries / roads and network / "
                  "population / facilities and cells | baseline | of which figures and tables | **full** "
                  "| peak RSS (after imports) | evaluate again | second run from the caches (open + baseline) "
                  "| CSR graphs | Dijkstra passes | cell search alone | network cache |"),
                  "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
        for size, a in audits.items():
            st = a["steps"]
            parts = " / ".join(f"{a['open_steps'].get(k, float('nan')):.2f}" for k in OPEN_STEPS)
            lines.append(
                f"| {size} | {a['nodes']:,} | {a['cells']:,} | {a['facilities']} | {a['open_s']:.2f} s | {parts} s "
                f"| {a['baseline_s']:.2f} s | {a['baseline_steps']['figures_and_tables_s']:.2f} s "
                f"| **{a['full_audit_s']:.2f} s** | {a['peak_rss_mb']:,.0f} MiB ({a['rss_after_imports_mb']:,.0f}) "
                f"| {a['evaluate_again_s']:.2f} s | {a['second_run_s']:.2f} s ({a['second_open_s']:.2f} + "
                f"{a['second_baseline_s']:.2f}) | {st['csr_graphs_s']:.2f} s "
                f"| {st['dijkstra_passes_s']:.2f} s ×{a['surfaces']} | {st['cell_search_s']:.2f} s "
                f"| {a['network_cache_mb']:,.0f} MB |")
        lines.append("")
        for g in res.get("growth", []):
            lines.append(f"- {g['from']} → {g['to']}: nodes ×{g['nodes_x']:.1f}, time ×{g['time_x']:.1f} "
                         f"(exponent {g['time_exponent']:.2f}), "
                         f"memory above imports ×{g['memory_above_imports_x']:.1f} "
                         f"(exponent {g['memory_exponent']:.2f})")
        lines.append("")
    d = res.get("demo")
    if d and "cache_reused" in d:
        a, b = d["first_run"], d["second_run"]
        lines += [(f"Demo county ({a['nodes']:,} nodes, {a['cells']:,} cells, {a['facilities']} facilities), "
                  "open_study and the baseline run twice in new processes sharing one, at first empty, cache:"), "",
                  ("| run | open_study | of which network | baseline | open + baseline | process (incl. imports) "
                  "| peak RSS |"), "|---|--:|--:|--:|--:|--:|--:|"]
        for label, r in (("first (builds, attaches)", a), ("second (reuses)", b)):
            lines.append(f"| {label} | {r['open_s']:.2f} s "
                         f"({'cell attachment from cache' if r['cell_snapping_reused'] else 'cells attached'}) "
                         f"| {r['network_s']:.2f} s ({'cache' if r['network_reused'] else 'built'}) "
                         f"| {r['baseline_s']:.2f} s | {r['open_and_baseline_s']:.2f} s | {r['process_wall_s']:.1f} s "
                         f"| {r['peak_rss_mb']:,.0f} MiB |")
        lines += ["", (f"Searching every cell's road point again ({a['cells']:,} cells, segment indexes already built "
                  f"when the facilities were attached, no cache): {a['cell_search_s']:.2f} s; evaluating the "
                  f"baseline's facilities again in the same process: {a['evaluate_again_s']:.2f} s."), ""]
    scen = res.get("scenario")
    if scen:
        runs = scen.get("runs", [scen]) if "all" in scen or "runs" in scen else []
        for r in runs:
            lines += [(f"Planned changes ({r['study']}, {r['changes']} random single changes, baseline built once "
                      f"in {r['baseline_s']:.2f} s), median / p90 ms per change. The whole answer is "
                      f"`Evaluation.apply` (check, apply, travel update, every figure and table) plus "
                      f"`Evaluation.diff`; from scratch is the same answer with every surface recomputed:"), "",
                      ("| change | whole answer | from scratch | check + apply | travel | tally | figures and "
                      "tables | diff |"), "|---|--:|--:|--:|--:|--:|--:|--:|"]
            for kind, t in {**r["per_kind"], "all": r["all"]}.items():
                cells = [f"{t[k]['median_ms']:.1f} / {t[k]['p90_ms']:.1f}"
                         for k in ("whole_answer", "from_scratch", "check_apply", "travel", "tally", "figures", "diff")]
                lines.append(f"| {kind} | " + " | ".join(cells) + " |")
        if not runs:
            lines.append(f"Scenario changes: {scen.get('skipped') or scen.get('error')}")
        lines.append("")
    if "cases" in res.get("process", {}):
        from benchmarks.bench_process import show

        lines += [show(res["process"]), ""]
    lines += ["Targets:", "", "| target | case | goal | measured | met |", "|---|---|---|--:|---|"]
    for t in res.get("targets", []):
        v = t["measured"]
        shown = "—" if v is None else (f"{v:,.2f}" if isinstance(v, float) else str(v))
        met = "not measured" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(f"| {t['what']} | {t['case'] or '—'} | {t['goal']} | {shown} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks (or one child measurement) from the command line."""
    parser = argparse.ArgumentParser(description="healthreach benchmarks (not part of the test suite)")
    parser.add_argument("--name", default="latest", help="results file name: benchmarks/results/NAME.json")
    parser.add_argument("--sizes", default=",".join(SIZES), help="generated sizes to audit (small,medium,large)")
    parser.add_argument("--peers", default="demo,large",
                        help="cases for the peer comparison (demo, small, medium, large)")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo county")
    parser.add_argument("--scenario-changes", type=int, default=30, help="changes of each kind (0: skip)")
    parser.add_argument("--peer-rounds", type=int, default=5,
                        help="times each peer runs, each time right after the engine (default 5)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, default=None, help=argparse.SUPPRESS)  # a child's disk cache root
    args = parser.parse_args(argv)
    if args.child:
        out = child(args.child[0], args.child[1:], args.cache)
        print(json.dumps(out, default=str))
        return 0
    t0 = time.perf_counter()
    res = run([s for s in args.sizes.split(",") if s], [c for c in args.peers.split(",") if c],
              not args.no_demo, args.scenario_changes, args.peer_rounds)
    res["seconds_total"] = time.perf_counter() - t0
    res["machine"]["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    text = table(res)
    print("\n" + text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{args.name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(res, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    (RESULTS / f"{args.name}.md").write_text(text + "\n", encoding="utf-8")
    print(f"\nwritten to {path.relative_to(ROOT)} ({res['seconds_total']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
