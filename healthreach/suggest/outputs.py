"""What ``healthreach suggest`` writes: the ranked sites (CSV, XLSX), the coverage curve (CSV, PNG), a scenario
file of the chosen sites, a summary and the map, published together as one output set.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from healthreach import __version__
from healthreach.outputs import check_output, publish, write_csv, write_json, write_text
from healthreach.report import json_safe
from healthreach.study import DEMO_STUDY
from healthreach.suggest.suggestion import Suggestion
from healthreach.workbook import write_xlsx

SITE_COLUMNS = ["rank", "id", "candidate", "name", "lon", "lat", "township", "people_newly_covered",
                "cumulative_people", "share_after", "runner_ups"]


def site_columns(result: Suggestion) -> list[str]:
    """The columns of sites.csv: :data:`SITE_COLUMNS`, with a population group's and a tier's before the
    runner-ups.
    """
    extra = [c for c in result.sites.columns if c not in SITE_COLUMNS and c not in ("x", "y")]
    return [*SITE_COLUMNS[:-1], *extra, SITE_COLUMNS[-1]]


def scenario_document(result: Suggestion, folder: Path) -> dict:
    """The scenario file of the suggested sites, its study path relative to ``folder`` (where it is written)."""
    source = result.base.inputs.study.source
    if source is None or Path(source).resolve() == DEMO_STUDY:
        study = "demo"
    else:
        study = os.path.relpath(Path(source).resolve(), folder.resolve())
    unit = result.objective.group_figure or result.standard
    people = (f"{result.newly_covered:,.0f} people newly covered" if result.objective.population_group is None else
              f"{result.newly_covered_counted:,.0f} people of group {result.objective.population_group} "
              f"({result.newly_covered:,.0f} people in all) newly covered")
    return {"name": f"suggest: {len(result.sites)} new {result.type} for {unit}",
            "description": f"Sites suggested by healthreach suggest ({result.method}) for {unit}: {people}",
            "study": study, "crs": "wgs84", "max_road_m": result.max_road_m, "changes": result.changes}


def curve_png(result: Suggestion) -> bytes:
    """The coverage curve as PNG: share covered against new sites (greedy line, exact points, upper-bound band)."""
    import matplotlib as mpl

    mpl.use("Agg")
    from matplotlib.figure import Figure

    c = result.curve
    total = result.coverage.total
    today = result.coverage.covered_today
    k = np.r_[0, c["sites"].to_numpy()]
    pct = (lambda people: 100 * (today + people) / total) if total > 0 else (lambda people: people * 0)
    greedy = pct(np.r_[0.0, c[result.column("greedy_people")].to_numpy(float)])
    upper = pct(np.r_[0.0, c[result.column("upper_bound_people")].to_numpy(float)])
    fig = Figure(figsize=(7, 4.2), dpi=120)
    ax = fig.add_subplot()
    ax.fill_between(k, greedy, upper, color="#9ecae1", alpha=0.5, lw=0, label="upper bound (no k sites do better)")
    ax.plot(k, greedy, "-o", color="#08519c", ms=4, label="greedy")
    solved = c["exact_people"].notna().to_numpy()
    if solved.any():
        proven = solved & (c["exact_optimal"] == True).to_numpy()  # noqa: E712  a column of True/False/None
        exact = pct(c[result.column("exact_people")].to_numpy(float))
        ks = c["sites"].to_numpy()
        ax.plot(ks[proven], exact[proven], "s", color="#d95f02", ms=7, label="exact, proven optimal")
        if (solved & ~proven).any():
            ax.plot(ks[solved & ~proven], exact[solved & ~proven], "s", mfc="none", color="#d95f02", ms=7,
                    label="exact, time limit (best found)")
    target = result.objective.target(result.base)
    if target is not None:
        ax.axhline(100 * target, color="#525252", ls="--", lw=1, label=f"target {target:.0%}")
    ax.set_xlabel(f"new {result.type} sites")
    ax.set_ylabel(f"{result.objective.group_figure or result.standard}: share of people covered (%)")
    ax.set_xticks(k)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"Coverage against new sites ({result.method})", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def summary(result: Suggestion) -> dict:
    """The run as one JSON-ready mapping: options, figures before and after, every exact solve, timings."""
    objective = result.objective
    group = objective.population_group
    cov = result.coverage
    before, after = objective.covered(result.base, group=False), objective.covered(result.after, group=False)
    counted = {}
    if group is not None:
        group_before, group_after = objective.covered(result.base, group=True), objective.covered(result.after, True)
        counted = {"population_group": group, "figure": objective.group_figure,
                   "before": {"covered_people": group_before[0], "share": group_before[1]},
                   "after": {"covered_people": group_after[0], "share": group_after[1]},
                   "newly_covered_people": result.newly_covered_counted}
    tier = {} if objective.tier is None else {"tier": {"standard": objective.standard, "tier": objective.tier,
                                                       "limit_min": objective.limit_s / 60}}
    return json_safe({
        "study": result.base.inputs.study.name, "input_hash": result.base.inputs.input_hash,
        "healthreach_version": __version__, "standard": result.standard, **tier, "type": result.type,
        "method": result.method, "count": result.count,
        "candidates": len(result.candidates), "candidates_notes": [str(note) for note in result.notes],
        "reduced_instance": {"uncovered_populated_cells": cov.uncovered_cells, "rows": int(cov.matrix.shape[0]),
                             "coverable_cells": int((cov.row_of >= 0).sum()),
                             "coverable_people": float(cov.people.sum())},
        "before": {"covered_people": before[0], "share": before[1]},
        "after": {"covered_people": after[0], "share": after[1]},
        "newly_covered_people": result.newly_covered,
        **({"counted": counted} if counted else {}),
        "exact": {str(k): {"people": e.people, "optimal": e.optimal, "status": str(e.status), "bound_people": e.bound,
                           "lp_bound_people": e.lp_bound, "gap": e.gap, "seconds": round(e.seconds, 3),
                           "warm_start_people": e.warm_start}
                  for k, e in sorted(result.exact.items())},
        "sites": result.sites[site_columns(result)].to_dict("records"),
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    })


def candidate_table(result: Suggestion) -> pd.DataFrame:
    """Every candidate with the people it alone would newly cover (people), best first."""
    cov = result.coverage
    table = result.candidates.table[["id", "name", "lon", "lat", "township"]].copy()
    for column, people in (("people_alone", cov.everyone), (result.column("people_alone"), cov.people)):
        table[column] = np.asarray(cov.by_candidate.T @ people).ravel() if len(people) else 0.0
    return table.sort_values([result.column("people_alone"), "id"], ascending=[False, True], kind="stable")


def write_outputs(result: Suggestion, out_dir: Path, inputs: list[Path], map_html: str | None = None,
                  force: bool = False) -> dict[str, Path]:
    """Publish sites.csv/.xlsx, curve.csv/.png, candidates.csv, scenario.yaml, summary.json (and map.html) as the
    owned folder ``out_dir``; returns name -> path.
    """
    out_dir = check_output(out_dir, inputs, force=force, name="suggest")
    names: list[str] = []
    with publish(out_dir, "suggest", result.base.inputs.input_hash) as stage:
        sites = result.sites[site_columns(result)]
        write_csv(sites, stage / "sites.csv")
        write_xlsx({"sites": sites, "curve": result.curve}, stage / "sites.xlsx")
        write_csv(result.curve, stage / "curve.csv")
        write_csv(candidate_table(result), stage / "candidates.csv")
        (stage / "curve.png").write_bytes(curve_png(result))
        write_text(stage / "scenario.yaml", yaml.safe_dump(scenario_document(result, out_dir), allow_unicode=True,
                                                           sort_keys=False))
        write_json(stage / "summary.json", summary(result))
        if map_html is not None:
            write_text(stage / "map.html", map_html)
        names = sorted(p.name for p in stage.iterdir())
    return {name: out_dir / name for name in names}
