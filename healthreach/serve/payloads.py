"""The JSON the page and scripts get: figures baseline -> now, the cells that changed, the facilities that changed.

Every figure row is a row of :attr:`healthreach.diff.Diff.standards`, the
table ``healthreach scenario`` writes as ``standards.csv``, so the page and
the command line cannot disagree. Sites are WGS84 degrees; cell centres are
sent as integers of 1e-5 degree (about a metre) to keep the payload small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyproj

from healthreach.diff import Diff
from healthreach.evaluation import Evaluation
from healthreach.i18n import group_name
from healthreach.maps.layers import TIME_BREAKS_MIN
from healthreach.scenario.schema import CLOSED_TYPE
from healthreach.serve.session import Session, State

SITE_COLUMNS = ("name", "type", "beds", "ambulances", "emergency", "x", "y")
MICRODEGREES = 1e5  # cell centres: integers of 1e-5 degree
GAINED, LOST, CHANGED = 1, 2, 0  # a changed cell's kind: enters / leaves the circle, or only its minutes change


@dataclass(frozen=True)
class Grid:
    """Every study-area cell's centre in WGS84, as integers of 1e-5 degree; the cell size (metres); the
    transformation from the study's analysis CRS to WGS84 (made once: making one takes a tenth of a second).
    """

    lon: np.ndarray
    lat: np.ndarray
    cell_m: float
    to_wgs84: pyproj.Transformer

    @classmethod
    def of(cls, base: Evaluation) -> Grid:
        """The cells of ``base``'s study."""
        inputs = base.inputs
        to_wgs84 = pyproj.Transformer.from_crs(inputs.crs, 4326, always_xy=True)
        lon, lat = to_wgs84.transform(inputs.cells.x, inputs.cells.y)
        return cls(np.round(np.asarray(lon) * MICRODEGREES).astype(np.int64),
                   np.round(np.asarray(lat) * MICRODEGREES).astype(np.int64), float(inputs.grid.cell_m), to_wgs84)


def number(value: Any) -> float | None:
    """A JSON number, or None for a missing or non-finite value."""
    if value is None or isinstance(value, str):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def flag(value: Any) -> bool | None:
    """A JSON boolean, or None for a missing one."""
    return bool(value) if value in (True, False) else None


def figures(result: Diff, lang: str = "zh") -> list[dict[str, Any]]:
    """One row per figure of ``result.standards``: its title in ``lang``, baseline, now, change, people gained and
    lost, pass.
    """
    from healthreach.labels import standard_titles

    english = {fid: f.title for fid, f in result.after.figures.items()}
    titles = standard_titles(result.after.study.standards, english, lang)
    return [
        {
            "standard": row["standard"], "title": titles.get(row["standard"], row["title"]), "unit": row["unit"],
            "baseline": number(row["baseline"]), "now": number(row["scenario"]), "change": number(row["change"]),
            "baseline_people": number(row["baseline_people"]), "now_people": number(row["scenario_people"]),
            "newly_covered_people": number(row["newly_covered_people"]),
            "lose_coverage_people": number(row["lose_coverage_people"]),
            "target": number(row["target"]),
            "baseline_pass": flag(row["baseline_pass"]), "now_pass": flag(row["scenario_pass"]),
        }
        for row in result.standards.to_dict("records")
    ]


def band_of(seconds: np.ndarray) -> np.ndarray:
    """The map's travel-time band of each cost (seconds): 0 for <= 5 min, ... len(breaks) beyond the last."""
    return np.searchsorted(np.array(TIME_BREAKS_MIN, float) * 60, seconds, side="left")


def cells(result: Diff, grid: Grid) -> dict[str, Any]:
    """The cells whose minutes to primary care differ from the baseline, with their band and kind.

    ``lon``, ``lat``: centres (1e-5 degree); ``band``: the travel-time band
    now (:func:`band_of`; one past the last: beyond every band);
    ``kind``: 1 enters the circle, 2 leaves it, 0 only its minutes change.
    """
    base, now = result.before, result.after
    study = now.study
    idx = np.zeros(0, np.int64)
    if study.primary is not None:  # only the travel surfaces the circle reads: a closed hospital moves more cells
        idx = now.state.differing(study.primary.needs())
    if study.primary is None or not len(idx):
        seconds = np.zeros(0)
    else:
        seconds, _ = study.primary.cell_seconds(study.view(now.state.view(idx), idx))
        keep = seconds != base.primary_seconds[idx]
        idx, seconds = idx[keep], seconds[keep]
    kind = np.full(len(idx), CHANGED, np.int8)
    kind[np.isin(idx, result.gained, assume_unique=True)] = GAINED
    kind[np.isin(idx, result.lost, assume_unique=True)] = LOST
    return {"cell_m": grid.cell_m, "lon": grid.lon[idx].tolist(), "lat": grid.lat[idx].tolist(),
            "band": band_of(seconds).tolist(), "kind": kind.tolist()}


def facility_rows(evaluation: Evaluation, rows: np.ndarray, grid: Grid) -> list[dict[str, Any]]:
    """Facilities (table rows) as the page draws them: id, name, type, beds, ambulances, emergency, site."""
    part = evaluation.facilities.iloc[rows]
    lon, lat = grid.to_wgs84.transform(part["x"].to_numpy(float), part["y"].to_numpy(float))
    out = []
    for k, (_, row) in enumerate(part.iterrows()):
        out.append({"id": str(row["id"]), "name": str(row["name"]), "type": str(row["type"]),
                    "beds": number(row["beds"]), "ambulances": number(row["ambulances"]),
                    "emergency": bool(row["emergency"]), "closed": str(row["type"]) == CLOSED_TYPE,
                    "lon": round(float(lon[k]), 6), "lat": round(float(lat[k]), 6)})
    return out


def changed_facilities(base: Evaluation, now: Evaluation, grid: Grid) -> list[dict[str, Any]]:
    """The facilities that differ from the baseline (moved, resized, retyped, closed) and those added."""
    n = len(base.facilities)
    before, after = base.facilities, now.facilities
    differ = np.zeros(n, bool)
    for column in SITE_COLUMNS:
        a, b = before[column].to_numpy(), after[column].to_numpy()[:n]
        differ |= ~((a == b) | (pd.isna(a) & pd.isna(b)))
    rows = np.r_[np.flatnonzero(differ), np.arange(n, len(after))]
    return facility_rows(now, rows, grid)


def state(session: Session, current: State, grid: Grid, lang: str = "zh") -> dict[str, Any]:
    """Everything the page redraws after a change, an undo or a redo (figure titles and group names in ``lang``;
    ``population_groups``: per group, its people entering and leaving the first circle).
    """
    result = session.base.diff(current.evaluation)
    return {
        "figures": figures(result, lang),
        "newly_covered_people": result.newly_covered,
        "lose_coverage_people": result.lose_coverage,
        "population_groups": [{"group": group, "name": group_name(group, lang),
                               "newly_covered_people": result.newly_covered_of(group),
                               "lose_coverage_people": result.lose_coverage_of(group)}
                              for group in result.after.inputs.cells.groups],
        "cells": cells(result, grid),
        "facilities": changed_facilities(session.base, current.evaluation, grid),
        "changes": list(current.changes),
        "can_undo": len(session.history) > 1,
        "can_redo": bool(session.future),
    }
