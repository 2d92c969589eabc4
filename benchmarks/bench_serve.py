"""Click-to-repaint in the real browser: ``healthreach serve``'s page in Chromium, on a real uvicorn server.

For random single changes (a facility added at a populated cell, a
primary-care facility relocated to one, a facility closed: the changes of
:mod:`benchmarks.bench_scenario`), the page's own ``hrServe.change`` sends
the change as a click does and the time is taken in the page from the call
to the first animation frame after the panel, the markers and the changed
cells' canvas are redrawn (``performance.now()``): request, server (check,
incremental evaluation, diff, payload), JSON, DOM and canvas. Each change
is then undone, the undo timed the same way, so every change starts from the
baseline. Its peer is the engine alone: ``Evaluation.apply`` and
``Evaluation.diff`` of the same change in this process, interleaved change by
change (the ratio says what the page adds: HTTP, payload, JSON, drawing);
each answer's figures are checked against that evaluation.

Targets (issue 16): p95 <= 100 ms on the demo county, <= 250 ms on the
generated 1M-cell study (``--synth large``).

Run: ``.venv/bin/python -m benchmarks.bench_serve [--changes 20] [--synth large] [--no-demo]``;
writes ``benchmarks/results/serve.json``. Needs Chromium (``HEALTHREACH_CHROMIUM``, default /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import threading
import time
from pathlib import Path

import numpy as np

import healthreach
from benchmarks.bench_scenario import random_changes
from healthreach.evaluation import Study
from healthreach.outputs import write_atomic

RESULTS = Path(__file__).resolve().parent / "results" / "serve.json"
TARGETS_MS = {"demo county": 100.0, "generated large": 250.0}  # p95 click-to-repaint (issue 16)
CHROMIUM = Path(os.environ.get("HEALTHREACH_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def percentiles(values: list[float]) -> dict:
    """Median, 95th percentile and maximum of ``values`` (milliseconds)."""
    ms = np.asarray(values)
    return {"median_ms": round(float(np.median(ms)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "max_ms": round(float(ms.max()), 1), "n": len(ms)}


def serve_in_thread(study: Study):
    """A uvicorn server on a free port of 127.0.0.1 serving ``study``'s baseline; (server, address, seconds)."""
    import uvicorn

    from healthreach.serve.app import Server, create_app

    t0 = time.perf_counter()
    app = create_app(Server(study.baseline()))
    built = time.perf_counter() - t0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}/", built


def run(study: Study, n: int, label: str, browser) -> dict:
    """Time ``n`` random changes of each kind, and their undos, in the page."""
    base = study.baseline()
    server, address, built = serve_in_thread(study)
    page = browser.new_page(viewport={"width": 1600, "height": 950})
    t0 = time.perf_counter()
    page.goto(address)
    page.wait_for_selector("#hr-figures tr", timeout=600_000)
    page.wait_for_function("hrServe.busy === 0")
    loaded = time.perf_counter() - t0
    changes = random_changes(study, n)
    circle = study.primary.id if study.primary else next(iter(base.figures))
    page.evaluate("(c) => hrServe.change(c).then(() => hrServe.undo())", changes[0][1])  # warm-up, not timed
    page.evaluate("hrServe.timings.length = 0")
    times: dict[str, list[float]] = {"change": [], "undo": []}
    server_ms: list[float] = []
    cells: list[int] = []
    engine_ms: list[float] = []
    for _kind, change in changes:
        data = page.evaluate("(c) => hrServe.change(c)", change)
        t = time.perf_counter()  # the engine alone, in this process, interleaved: apply and diff
        after = base.apply([change])
        base.diff(after)
        engine_ms.append(1000 * (time.perf_counter() - t))
        want = after.figures[circle].share
        got = next(r["now"] for r in data["figures"] if r["standard"] == circle)
        if want is not None and abs(got - round(want, 6)) > 1e-9:
            msg = f"{change}: the page shows {got}, Evaluation.apply gives {want}"
            raise AssertionError(msg)
        cells.append(len(data["cells"]["lon"]))
        page.evaluate("hrServe.undo()")
        change_t, undo_t = page.evaluate("hrServe.timings.splice(0)")
        times["change"].append(change_t["ms"])
        times["undo"].append(undo_t["ms"])
        server_ms.append(change_t["server_ms"])
    page.close()
    server.should_exit = True
    target = TARGETS_MS.get(label)
    p95 = percentiles(times["change"])["p95_ms"]
    return {
        "study": label, "cells": len(study.inputs.cells.people), "facilities": len(study.inputs.facilities),
        "server_start_s": round(built, 1), "page_load_s": round(loaded, 1), "changes": len(changes),
        "click_to_repaint": percentiles(times["change"]), "undo_to_repaint": percentiles(times["undo"]),
        "server": percentiles(server_ms), "engine": percentiles(engine_ms),
        "page_over_engine_median": round(float(np.median(times["change"]) / np.median(engine_ms)), 2),
        "cells_painted_median": int(np.median(cells)),
        "cells_painted_max": int(np.max(cells)), "target_p95_ms": target,
        "meets_target": None if target is None else p95 <= target,
    }


def main() -> None:
    """Parse options, time each study, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20, help="random changes of each kind (default 20)")
    parser.add_argument("--synth", choices=["small", "medium", "large"], default=None,
                        help="also time a generated study of this size")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo county")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from benchmarks.synth import open_generated

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        if not args.no_demo:
            results.append(run(healthreach.open_study("demo"), args.changes, "demo county", browser))
            print(json.dumps(results[-1], indent=1))
        if args.synth:
            results.append(run(open_generated(args.synth), args.changes, f"generated {args.synth}", browser))
            print(json.dumps(results[-1], indent=1))
        browser.close()
    load = os.getloadavg()
    out = {"machine": platform.platform(), "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in load],
           "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "results": results}
    RESULTS.parent.mkdir(exist_ok=True)
    write_atomic(RESULTS, lambda tmp: tmp.write_text(json.dumps(out, indent=1), encoding="utf-8"))


if __name__ == "__main__":
    main()
