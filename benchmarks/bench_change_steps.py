"""The steps of one planned change's whole answer, against another checkout of healthreach, interleaved.

For the random single changes of :mod:`benchmarks.bench_scenario` (the same
seed, so the same changes on both sides), each side opens the study in a
process of its own, builds the baseline, answers every change once (numba
kernels, transformers and graphs warmed), then answers every change again,
timed: per change the whole answer (``Evaluation.apply`` then
``Evaluation.diff``) by the clock and in CPU time (``time.process_time``),
and its steps as ``Evaluation.seconds`` gives them (``check_apply``:
checking and applying the change to the facility table; ``travel``;
``tally``; ``figures``: every figure, the township and facility tables and
the village tables; ``diff``: the rest of the answer). The timed answers find each new site's bounded
search kept from the first pass (:class:`~healthreach.standards.reach_tables.ReachTables`),
so relocations and adds cost less than a first answer does: the whole
answer's target is timed by :mod:`benchmarks.bench_scenario`, on first answers.

The two checkouts run in turn, ``--rounds`` times each, alternating which
goes first, so load from other work on a shared machine falls on both.
Per step it prints the median of each side and their ratio (peer / this),
and the whole answer's 90th percentile.

Run: ``.venv/bin/python -m benchmarks.bench_change_steps --peer DIR [--synth large] [--changes 30] [--rounds 2]``;
writes ``benchmarks/results/change_steps.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from benchmarks.bench_process import peer_python
from healthreach.outputs import write_atomic

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "change_steps.json"
STEPS = ("check_apply", "travel", "tally", "figures", "diff", "whole_answer", "whole_answer_cpu")

# run by each checkout's own interpreter in its own folder: it imports that checkout's healthreach and
# benchmarks, and only what both sides have (open_study, apply, diff, seconds, random_changes)
WORKER = """
import json, sys, time
import healthreach
from benchmarks.bench_scenario import random_changes
size, n = sys.argv[1], int(sys.argv[2])
if size == "demo":
    study = healthreach.open_study("demo")
else:
    from benchmarks import synth
    study = synth.open_generated(synth.SIZES[size])
base = study.baseline()
changes = random_changes(study, n)
for kind, change in changes:
    base.diff(base.apply([change], name="bench"))
rows = []
for kind, change in changes:
    t0, c0 = time.perf_counter(), time.process_time()
    after = base.apply([change], name="bench")
    base.diff(after)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    steps = {key: after.seconds[key] for key in ("check_apply", "travel", "tally", "figures")}
    rows.append({"kind": kind, "whole_answer": wall, "whole_answer_cpu": cpu, **steps,
                 "diff": wall - sum(after.seconds.values())})
print(json.dumps(rows))
"""


def answers(tree: Path, python: str, size: str, changes: int) -> list[dict]:
    """Per change, the seconds of its whole answer and of each step, from one process of checkout ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "NUMPY_MADVISE_HUGEPAGE": "0"}
    proc = subprocess.run([python, "-c", WORKER, size, str(changes)], cwd=tree, env=env,  # noqa: S603  our own code
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        msg = f"{tree}: the changes failed ({proc.returncode}): {proc.stderr.strip()[-800:]}"
        raise RuntimeError(msg)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(peer: Path, size: str, changes: int, rounds: int) -> dict:
    """Both checkouts ``rounds`` times each, in turn (this one first in even rounds): per step, medians (ms)."""
    sides = {"this": (ROOT, sys.executable), "peer": (peer, peer_python(peer))}
    rows: dict[str, list[dict]] = {side: [] for side in sides}
    loads = []
    for r in range(rounds * 2):
        side = ("this", "peer")[(r + r // 2) % 2]  # this, peer, peer, this, this, peer, ...
        rows[side] += answers(*sides[side], size, changes)
        loads.append(os.getloadavg()[0])

    def ms(side: str, key: str, q: float = 50) -> float:
        return round(1000 * float(np.percentile([row[key] for row in rows[side]], q)), 3)

    steps = {key: {"this_ms": ms("this", key), "peer_ms": ms("peer", key),
                   "ratio": round(ms("peer", key) / ms("this", key), 2)} for key in STEPS}
    p90 = {key: {"this_ms": ms("this", key, 90), "peer_ms": ms("peer", key, 90),
                 "ratio": round(ms("peer", key, 90) / ms("this", key, 90), 2)}
           for key in ("whole_answer", "whole_answer_cpu")}
    return {"study": size, "changes_per_side": len(rows["this"]), "rounds": rounds, "peer": str(peer),
            "median": steps, "p90": p90, "load_1min": [round(x, 2) for x in loads]}


def main() -> None:
    """Run the comparison from the command line and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", type=Path, required=True, help="another checkout of healthreach, with its .venv")
    parser.add_argument("--synth", choices=["small", "medium", "large"], default=None,
                        help="a generated study (benchmarks/synth.py) instead of the demo county")
    parser.add_argument("--changes", type=int, default=30, help="random changes of each kind (default 30)")
    parser.add_argument("--rounds", type=int, default=2, help="processes per checkout (default 2)")
    args = parser.parse_args()
    result = measure(args.peer.resolve(), args.synth or "demo", args.changes, args.rounds)
    print(f"{result['study']}: {result['changes_per_side']} changes per checkout, {args.rounds} processes each, "
          f"in turn; load (1 min) {', '.join(map(str, result['load_1min']))}")
    print(f"{'median ms':<18}{'this':>9}{'peer':>9}{'peer/this':>11}")
    for key, row in result["median"].items():
        print(f"{key:<18}{row['this_ms']:>9.2f}{row['peer_ms']:>9.2f}{row['ratio']:>11.2f}")
    for key, row in result["p90"].items():
        print(f"{key + ' p90':<18}{row['this_ms']:>9.2f}{row['peer_ms']:>9.2f}{row['ratio']:>11.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(RESULTS, lambda tmp: tmp.write_text(json.dumps(result, indent=2), encoding="utf-8"))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
