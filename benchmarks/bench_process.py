"""Whole commands as a user runs them: ``healthreach audit`` and ``healthreach scenario``, each a process.

Each case is a command line run in a new process, with every output it
writes (tables, GeoPackage, summary and the HTML map) into a temporary
folder, against a disk cache warmed by one untimed run first (the road
network and the cell attachment read back, as on a user's second run). The
time is the process's wall time, from start to exit, imports included;
each case runs ``--repeats`` times, the cases in turn, and is reported as
median, least and greatest, with the CPU seconds it used (user + system:
close to its wall time on an idle machine, and much less changed by other
work than the wall time) and the peak resident memory of its largest run.

So that a busy machine can be told from a slow program, every round also
times the bare ``scipy.sparse.csgraph.dijkstra`` pass of the demo county
(the engine's lower bound, in a process of its own) and each case is also
given as a multiple of that pass's median in the same run.

With ``--peer DIR`` (another checkout of healthreach, e.g. the previous
release, with its own ``.venv`` or run by this interpreter from its folder)
every case is also run by that checkout, right
after this one's in each round, with the same cache, and each case gets the
peer's median and the median of the pair-by-pair ratios (peer / this).

Run: ``.venv/bin/python -m benchmarks.bench_process [--repeats 5] [--sizes large,xlarge] [--cache DIR] [--peer DIR]``;
writes
``benchmarks/results/process.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import user_environment

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "process.json"
DEMO_SCENARIO = ROOT / "scenarios" / "new-community-health-centre-county-seat.yaml"
# goal (seconds) of each case on this 2-core machine when it is otherwise idle (issue 18)
TARGETS_S = {"demo audit": 1.5, "demo scenario": 0.5, "large audit": 6.0, "xlarge audit": 40.0}
BARE_DIJKSTRA_SCRIPT = """
import sys, time, json
import numpy as np
from scipy.sparse.csgraph import dijkstra
from healthreach import open_study
from healthreach.travel import facility_attachment, in_group
inputs = open_study("demo", cache=sys.argv[1]).inputs
rows = np.flatnonzero(in_group(inputs.facilities, inputs.profile.groups["primary_care"]))
nodes = np.unique(inputs.network.segment_ends(facility_attachment(inputs.facilities, "drive").seg[rows])[0])
csr = inputs.network.graph("drive", "time", reverse=True)
times = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    dijkstra(csr, directed=True, indices=nodes, min_only=True, return_predecessors=True)
    times.append(time.perf_counter() - t0)
print(json.dumps(times))
"""


def healthreach_command(*args: str, python: str = sys.executable) -> list[str]:
    """The ``healthreach`` command line run by ``python`` (default: this interpreter)."""
    return [python, "-c", "from healthreach.cli import main; main()", *args]


def peer_python(peer: Path) -> str:
    """The interpreter of the checkout ``peer``: its own ``.venv``'s, else this one (run in ``peer``, a command
    imports ``peer``'s package before any installed one).
    """
    own = peer / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def cases(out: Path, sizes: list[str], cache: Path, python: str = sys.executable) -> dict[str, list[str]]:
    """Name -> command line of each case run by ``python``; generated studies are written first (not timed)."""
    found = {"demo audit": healthreach_command("audit", "--out", str(out / "audit"), "--force", python=python),
             "demo scenario": healthreach_command("scenario", str(DEMO_SCENARIO), "--out", str(out / "scenario"),
                                                  "--force", python=python)}
    if sizes:
        from benchmarks import synth

        for size in sizes:
            path = synth.study_path(size, cache)
            found[f"{size} audit"] = healthreach_command("audit", str(path), "--out", str(out / size), "--force",
                                                         python=python)
    return found


def run_process(command: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, float, float]:
    """Wall seconds of one process run in ``cwd``, its CPU seconds (user + system) and its peak resident memory
    (MiB), the last two read by GNU time (NaN without it).
    """
    timed = ["/usr/bin/time", "-f", "%M %U %S", *command] if Path("/usr/bin/time").exists() else command
    t0 = time.perf_counter()
    proc = subprocess.run(timed, capture_output=True, text=True, env=env, cwd=cwd,  # noqa: S603  our own commands
                          check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        msg = f"{' '.join(command[3:])} failed ({proc.returncode}): {proc.stderr.strip()[-800:]}"
        raise RuntimeError(msg)
    last = proc.stderr.strip().splitlines()[-1].split() if proc.stderr.strip() else []
    if len(last) == 3 and last[0].isdigit():
        return wall, float(last[1]) + float(last[2]), int(last[0]) / 1024
    return wall, float("nan"), float("nan")


def measure(repeats: int, sizes: list[str], peer: Path | None = None, cache: Path | None = None) -> dict:
    """Every case ``repeats`` times, in turn with the bare scipy pass (and the ``peer`` checkout's run of the
    same case right after this one's); medians, spreads and ratios.

    ``cache``: the disk cache root to use and keep (generated studies, networks, cell attachments); default a
    temporary one, filled by the untimed first run.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out, cache = Path(tmp) / "out", cache or Path(tmp) / "cache"
        env = user_environment(HEALTHREACH_CACHE=str(cache))  # each command sets its own memory defaults
        commands = cases(out, sizes, cache)
        # the peer runs in its own folder, so that its interpreter imports its own package
        peers = cases(Path(tmp) / "peer", sizes, cache, peer_python(peer)) if peer else {}
        peer_root = peer or ROOT
        for command in commands.values():  # warm the cache: network built, cells attached, numba compiled
            run_process(command, env)
        for command in peers.values():
            run_process(command, env, peer_root)
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        peaks: dict[str, float] = dict.fromkeys(commands, 0.0)
        peer_times: dict[str, list[float]] = {name: [] for name in peers}
        peer_cpu: dict[str, list[float]] = {name: [] for name in peers}
        bare: list[float] = []
        load = [os.getloadavg()[0]]
        for _ in range(repeats):
            for name, command in commands.items():
                wall, used, peak = run_process(command, env)
                times[name].append(wall)
                cpu[name].append(used)
                peaks[name] = max(peaks[name], peak)
                if name in peers:
                    wall, used, _ = run_process(peers[name], env, peer_root)
                    peer_times[name].append(wall)
                    peer_cpu[name].append(used)
            proc = subprocess.run([sys.executable, "-c", BARE_DIJKSTRA_SCRIPT, str(cache), "3"],  # noqa: S603  this interpreter
                                  capture_output=True, text=True, env=env, check=True)
            bare.append(min(json.loads(proc.stdout.strip().splitlines()[-1])))
            load.append(os.getloadavg()[0])
    bare_s = float(np.median(bare))
    res: dict = {"repeats": repeats, "load_average": load, "bare_scipy_pass_s": bare_s, "cases": {},
                 "peer": str(peer) if peer else None}
    for name, t in times.items():
        median = float(np.median(t))
        res["cases"][name] = {"median_s": median, "min_s": min(t), "max_s": max(t), "peak_rss_mib": peaks[name],
                              "cpu_median_s": float(np.median(cpu[name])),
                              "x_bare_pass": median / bare_s, "target_s": TARGETS_S.get(name),
                              "met": None if name not in TARGETS_S else median <= TARGETS_S[name]}
        if name in peers:
            res["cases"][name].update(
                peer_median_s=float(np.median(peer_times[name])), peer_cpu_median_s=float(np.median(peer_cpu[name])),
                peer_over_this=float(np.median(np.array(peer_times[name]) / np.array(t))),
                peer_over_this_cpu=float(np.median(np.array(peer_cpu[name]) / np.array(cpu[name]))))
    return res


def show(res: dict) -> str:
    """The results as a Markdown table."""
    lines = [(f"Whole commands, each a new process with every output and the map, warm cache; {res['repeats']} "
              f"runs each, in turn; load average {min(res['load_average']):.1f}–{max(res['load_average']):.1f}; bare "
              f"scipy pass of the demo county in the same run: {res['bare_scipy_pass_s'] * 1000:.2f} ms (median)"),
             "", ("| command | median | least–greatest | CPU (user + system), median | × bare pass | peak RSS "
                  "| goal (idle machine) | met |"),
             "|---|--:|--:|--:|--:|--:|--:|---|"]
    for name, c in res["cases"].items():
        goal = f"≤ {c['target_s']:g} s" if c["target_s"] else "—"
        met = "—" if c["met"] is None else ("yes" if c["met"] else "**no**")
        lines.append(f"| {name} | {c['median_s']:.2f} s | {c['min_s']:.2f}–{c['max_s']:.2f} s "
                     f"| {c['cpu_median_s']:.2f} s | {c['x_bare_pass']:,.0f}× | {c['peak_rss_mib']:,.0f} MiB "
                     f"| {goal} | {met} |")
    if res.get("peer"):
        lines += ["", f"Against {res['peer']}, run right after each of these runs, same cache:", "",
                  "| command | this: median (CPU) | peer: median (CPU) | peer / this, pair by pair: wall (CPU) |",
                  "|---|--:|--:|--:|"]
        lines += [f"| {name} | {c['median_s']:.2f} s ({c['cpu_median_s']:.2f} s) | {c['peer_median_s']:.2f} s "
                  f"({c['peer_cpu_median_s']:.2f} s) | {c['peer_over_this']:.2f}× ({c['peer_over_this_cpu']:.2f}×) |"
                  for name, c in res["cases"].items() if "peer_median_s" in c]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure, print and write ``benchmarks/results/process.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--sizes", default="", help="generated studies to audit too: large, xlarge (default none)")
    parser.add_argument("--peer", type=Path, default=None,
                        help="another checkout whose commands run right after each of these (its .venv, else this "
                             "interpreter, in its folder)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="disk cache root to use and keep, e.g. $HEALTHREACH_CACHE: generated studies, networks "
                             "and cell attachments written once are reused by later runs (default: a temporary "
                             "folder; the xlarge study then takes minutes to write and open before the first timing)")
    args = parser.parse_args(argv)
    res = measure(args.repeats, [s for s in args.sizes.split(",") if s], args.peer, args.cache)
    text = show(res)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2), encoding="utf-8")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
