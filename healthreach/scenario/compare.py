"""Several scenarios of one study side by side, ranked by one standard."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from healthreach.diff import Diff
from healthreach.errors import ScenarioError
from healthreach.evaluation import Evaluation
from healthreach.labels import standard_titles, standards_named
from healthreach.messages import Message
from healthreach.scenario.schema import Scenario
from healthreach.standards.groups import group_id
from healthreach.study import DEMO_STUDY, StudyFile


def check_standard(by: str, evaluation: Evaluation, lang: str = "zh") -> str:
    """The figure id ``by`` names (an id, or a standard's Chinese or English title); a ScenarioError listing
    the standards (with their titles in ``lang``) when it names none or several.
    """
    english = {fid: f.title for fid, f in evaluation.figures.items()}
    found = standards_named(by, evaluation.study.standards, english)
    if len(found) == 1:
        return found[0]
    ids = list(english)
    titles = standard_titles(evaluation.study.standards, english, lang)
    listed = ", ".join(f"{i} ({titles.get(i, english[i])})" for i in ids)
    if found:
        msg = Message("--by: '{by}' names several standards ({found}); give one id (standards: {listed})",
                      by=by, found=", ".join(found), listed=listed)
        raise ScenarioError(msg)
    close = difflib.get_close_matches(by, ids, n=1)
    hint = Message("; did you mean '{id}'?", id=close[0]) if close else ""
    msg = Message("--by: no standard '{by}'{hint} (standards: {listed})", by=by, hint=hint, listed=listed)
    raise ScenarioError(msg)


def compare_table(results: list[Diff], by: str | None = None) -> pd.DataFrame:
    """One row per scenario (and the baseline), ranked by figure ``by`` (highest value first; default: the
    first circle standard; an id or a title, see :func:`check_standard`).

    Columns: rank, scenario (its ``name:``), file, the ``by`` value and its
    change, the people who newly meet / no longer meet the ``by`` standard
    (``newly_covered_people`` / ``lose_coverage_people``; empty for a
    standard not counted in people, such as an ambulance ratio), the same
    people of each population group for whom ``by`` has a figure
    (``newly_covered_people_65plus``, ...), then every figure's value.
    """
    if not results:
        msg = Message("no scenarios to compare")
        raise ScenarioError(msg)
    base = results[0].before
    by = check_standard(by or (base.study.primary.id if base.study.primary else next(iter(base.figures))), base)
    ids = list(base.figures)
    groups = [g for g in base.inputs.cells.groups if group_id(by, g) in base.figures]
    people = ["newly_covered_people", "lose_coverage_people",
              *(group_id(c, g) for g in groups for c in ("newly_covered_people", "lose_coverage_people"))]
    rows = [{"scenario": "(baseline)", "file": "", by: base.figure(by).share, f"{by}_change": 0.0,
             **dict.fromkeys(people, 0.0), **{i: base.figure(i).share for i in ids if i != by}}]
    for r in results:
        value = r.after.figure(by).share
        b = r.before.figure(by).share
        standards = r.standards.set_index("standard")
        moved = standards.loc[by]
        of_groups = {group_id(c, g): _people(standards.loc[group_id(by, g), c])
                     for g in groups for c in ("newly_covered_people", "lose_coverage_people")}
        rows.append({"scenario": r.scenario.name, "file": r.scenario.source.name if r.scenario.source else "",
                     by: value, f"{by}_change": None if value is None or b is None else value - b,
                     "newly_covered_people": _people(moved["newly_covered_people"]),
                     "lose_coverage_people": _people(moved["lose_coverage_people"]), **of_groups,
                     **{i: r.after.figure(i).share for i in ids if i != by}})
    table = pd.DataFrame(rows)
    for c in [by, f"{by}_change", *people, *(i for i in ids if i != by)]:
        table[c] = table[c].astype(float)
    for c in [by, f"{by}_change", *(i for i in ids if i != by)]:
        table[c] = table[c].round(6)
    if table.loc[1:, "newly_covered_people"].isna().all():  # not counted in people: no baseline zeros either
        table[people] = np.nan
    order = table.assign(_v=table[by].astype(float).fillna(-np.inf)).sort_values(
        ["_v", "newly_covered_people"], ascending=[False, False], kind="stable").index
    table = table.loc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def _people(value: Any) -> float | None:
    """People, rounded to 0.1 as the comparison writes them; None when the standard does not count people."""
    return None if value is None or pd.isna(value) else round(float(value), 1)


def check_distinct(paths: list[Path]) -> None:
    """A ScenarioError when one scenario file is given twice (the same file by any path)."""
    seen: dict[Path, Path] = {}
    for path in paths:
        key = path.resolve()
        if key in seen:
            msg = Message("the scenario file {path} is given twice (also as {other}); give each scenario once",
                          path=path, other=seen[key])
            raise ScenarioError(msg)
        seen[key] = path


def baseline_for(scenarios: list[Scenario]) -> StudyFile:
    """The one study several scenarios share, or a ScenarioError naming the ones that differ."""
    studies = {s.study or DEMO_STUDY for s in scenarios}
    if len(studies) > 1:
        listed = "; ".join(f"{s.where}: {s.study or DEMO_STUDY}" for s in scenarios)
        msg = Message("scenarios compared together must share one base study; got {listed}", listed=listed)
        raise ScenarioError(msg)
    return scenarios[0].load_study()
