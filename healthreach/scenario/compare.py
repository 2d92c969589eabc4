"""Several scenarios of one study side by side, ranked by one standard."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from healthreach.diff import Diff
from healthreach.errors import ScenarioError
from healthreach.evaluation import Evaluation
from healthreach.scenario.schema import Scenario
from healthreach.study import DEMO_STUDY, StudyFile


def check_standard(by: str, evaluation: Evaluation) -> None:
    """Raise a ScenarioError unless ``by`` names one of the evaluation's figures."""
    ids = list(evaluation.figures)
    if by not in ids:
        close = difflib.get_close_matches(by, ids, n=1)
        raise ScenarioError(f"--by: no standard '{by}'" + (f"; did you mean '{close[0]}'?" if close else "")
                            + f" (standards: {', '.join(ids)})")


def compare_table(results: list[Diff], by: str | None = None) -> pd.DataFrame:
    """One row per scenario (and the baseline), ranked by figure ``by`` (highest value first; default: the
    first circle standard).

    Columns: rank, scenario, file, the ``by`` value and its change, people
    newly covered / losing coverage of the first circle, then every figure's value.
    """
    if not results:
        msg = "no scenarios to compare"
        raise ScenarioError(msg)
    base = results[0].before
    by = by or (base.study.primary.id if base.study.primary else next(iter(base.figures)))
    check_standard(by, base)
    ids = list(base.figures)
    rows = [{"scenario": "(baseline)", "file": "", by: base.figure(by).share, f"{by}_change": 0.0,
             "newly_covered_people": 0.0, "lose_coverage_people": 0.0,
             **{i: base.figure(i).share for i in ids if i != by}}]
    for r in results:
        value = r.after.figure(by).share
        b = r.before.figure(by).share
        rows.append({"scenario": r.scenario.name, "file": r.scenario.source.name if r.scenario.source else "",
                     by: value, f"{by}_change": None if value is None or b is None else value - b,
                     "newly_covered_people": round(r.newly_covered, 1),
                     "lose_coverage_people": round(r.lose_coverage, 1),
                     **{i: r.after.figure(i).share for i in ids if i != by}})
    table = pd.DataFrame(rows)
    for c in [by, f"{by}_change", *(i for i in ids if i != by)]:
        table[c] = table[c].astype(float).round(6)
    order = table.assign(_v=table[by].astype(float).fillna(-np.inf)).sort_values(
        ["_v", "newly_covered_people"], ascending=[False, False], kind="stable").index
    table = table.loc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def baseline_for(scenarios: list[Scenario]) -> StudyFile:
    """The one study several scenarios share, or a ScenarioError naming the ones that differ."""
    studies = {s.study or DEMO_STUDY for s in scenarios}
    if len(studies) > 1:
        listed = "; ".join(f"{s.where}: {s.study or DEMO_STUDY}" for s in scenarios)
        msg = f"scenarios compared together must share one base study; got {listed}"
        raise ScenarioError(msg)
    return scenarios[0].load_study()
