"""The audit's township and facility tables, from the standards' sums."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from healthreach.inputs import StudyInputs
from healthreach.load.facilities import has_ambulance_counts
from healthreach.profile import AmbulanceRatio
from healthreach.standards import Standard
from healthreach.standards.ambulances import Ambulances
from healthreach.standards.naming import minutes
from healthreach.standards.tally import Tally

if TYPE_CHECKING:
    from healthreach.evaluation import Sources, Study


def township_table(inputs: StudyInputs, standards: tuple[Standard, ...], tally: Tally,
                   values: dict[str, np.ndarray]) -> dict[str, Any]:
    """The township table's columns (in order): people, every standard's shares, the people who reach no facility,
    then the columns standards compute from every cell (``values``: ratios, floating catchments, capacity).

    A share's denominator is the township's people in the area the standard
    applies to (NaN where it has none).
    """
    b, w = inputs.boundaries, tally.weights
    table = {"township_id": b["id"], "name": b["name"], "area_class": b["area_class"],
             "people": w.township_people.round(0), "census_people": b["census_pop"],
             "area_km2": (w.township_cells * inputs.grid.cell_km2).round(2)}
    columns = [c for s in standards for c in s.township_columns()]
    for c in (c for c in columns if not c.people):
        denom = w.township_people if c.area is None else w.area_people[c.area]
        with np.errstate(invalid="ignore", divide="ignore"):
            table[c.name] = np.where(denom > 0, tally.per_township(c.column) / denom, np.nan).round(4)
    for c in (c for c in columns if c.people):
        table[c.name] = tally.per_township(c.column).round(0)
    table.update(values)
    return table


def facility_table(study: Study, sources: Sources, township: np.ndarray,
                   catchments: dict[str, np.ndarray], values: dict[str, Any]) -> dict[str, Any]:
    """The facility table's columns (in order): snap distances and catchment people (nearest-facility allocation),
    then the standards' own columns (``values``: tiers, floating catchments, capacity).

    Catchments follow the profile's first circle standard (people whose
    nearest facility of its group, by their area's mode, is this one; and
    those of them within the circle) and its first response standard
    (people whose nearest station it is), with the ambulances that people
    require by the first ambulance ratio.
    """
    inputs = study.inputs
    cols, member = sources.columns, sources.member
    n = len(cols["id"])
    names = inputs.boundaries["name"].to_numpy()
    known = inputs.study.facilities  # counts the facility list does not give are blank, not zeros
    beds = cols["beds"].astype(float) if known.beds_column is not None else np.full(n, np.nan)
    ambulances = cols["ambulances"].astype(float) if has_ambulance_counts(known) else np.full(n, np.nan)
    columns = {
        "id": cols["id"], "name": cols["name"], "type": cols["type"],
        "township": np.where(township >= 0, names[np.maximum(township, 0)], ""),
        "beds": pd.array(beds, dtype="Int64"), "ambulances": pd.array(ambulances, dtype="Int64"),
        "emergency": cols["emergency"],
        "snap_walk_m": cols["snap_walk_m"].astype(float).round(1),
        "snap_drive_m": cols["snap_drive_m"].astype(float).round(1),
    }
    primary = study.primary
    m = minutes(primary.spec.threshold_min if primary else 15)
    in_primary = member[primary.spec.group] if primary else np.zeros(n, bool)
    catchment = catchments.get("primary", np.zeros(n))
    columns["catchment_people"] = np.where(in_primary, catchment.round(0), np.nan)
    columns[f"catchment_people_{m}"] = np.where(in_primary, catchments.get("primary_within", np.zeros(n)).round(0),
                                                np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        columns[f"catchment_share_{m}"] = (columns[f"catchment_people_{m}"] / columns["catchment_people"]).round(4)
        # beds per 1,000 of the people who use the facility: its tier catchment where the profile has tiers
        users = values.get("tier_catchment_people", catchment)
        columns["beds_per_1000"] = np.where(users > 0, beds / users * 1000, np.nan).round(2)
    if study.response is not None:
        in_emergency = member[study.response.spec.group]
        people = catchments["emergency"]
        columns["emergency_catchment_people"] = np.where(in_emergency, people.round(0), np.nan)
        ratio = next((s.spec for s in study.standards
                      if isinstance(s, Ambulances) and isinstance(s.spec, AmbulanceRatio)), None)
        if ratio is not None:
            columns["ambulances_required"] = np.where(
                in_emergency, (ratio.county_base_factor * people / ratio.people_per_ambulance).round(2), np.nan)
    columns.update(values)
    return columns
