"""The audit's township and facility tables, from the standards' sums."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from healthreach.inputs import StudyInputs
from healthreach.load.facilities import has_ambulance_counts
from healthreach.profile import AmbulanceRatio
from healthreach.standards import Standard, TownshipColumn
from healthreach.standards.ambulances import Ambulances
from healthreach.standards.groups import group_id
from healthreach.standards.naming import minutes
from healthreach.standards.tally import CellWeights, Tally, nullable_integers

if TYPE_CHECKING:
    from healthreach.evaluation import Sources, Study


def township_identity(inputs: StudyInputs, weights: CellWeights) -> dict[str, Any]:
    """The township table's first columns, the same in every evaluation of a study: id, name, area class, people,
    census people and area (km²).
    """
    b = inputs.boundaries
    return {"township_id": b["id"], "name": b["name"], "area_class": b["area_class"],
            "people": weights.township_people.round(0), "census_people": b["census_pop"],
            "area_km2": (weights.township_cells * inputs.grid.cell_km2).round(2)}


def township_table(identity: dict[str, Any], standards: tuple[Standard, ...], tally: Tally,
                   values: dict[str, np.ndarray], groups: dict[str, Tally] | None = None) -> dict[str, Any]:
    """The township table's columns (in order): the ``identity`` columns (:func:`township_identity`), every
    standard's shares, the people who reach no facility,
    the columns standards compute from every cell (``values``: ratios, floating catchments, capacity); then for
    each population group (``groups``: its sums) its people and the same share and people columns, named with
    the group key (``people_65plus``, ``primary_care_15min_share_65plus``).

    A share's denominator is the township's people (of the group) in the area
    the standard applies to (NaN where it has none).
    """
    table = dict(identity)
    columns = [c for s in standards for c in s.township_columns()]
    table.update(_standard_columns(columns, tally))
    table.update(values)
    for group, group_tally in (groups or {}).items():
        table[group_id("people", group)] = group_tally.weights.township_people.round(0)
        table.update({group_id(name, group): column
                      for name, column in _standard_columns(columns, group_tally).items()})
    return table


def _standard_columns(columns: list[TownshipColumn], tally: Tally) -> dict[str, np.ndarray]:
    """The standards' township columns from one tally: shares first, then people.

    Each kind is computed for all its columns at once (a township x column table, then one array per
    column): the same arithmetic, element by element, as column by column, with fewer NumPy calls.
    """
    out: dict[str, np.ndarray] = {}
    w = tally.weights
    shares = [c for c in columns if not c.people]
    if shares:
        sums = tally.sums[:, [tally.columns[c.column] for c in shares]]
        denom = np.stack([w.township_people if c.area is None else w.area_people[c.area] for c in shares], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(denom > 0, sums / denom, np.nan).round(4)
        out.update(zip((c.name for c in shares), np.ascontiguousarray(ratio.T), strict=True))
    people = [c for c in columns if c.people]
    if people:
        counted = tally.sums[:, [tally.columns[c.column] for c in people]].round(0)
        out.update(zip((c.name for c in people), np.ascontiguousarray(counted.T), strict=True))
    return out


def facility_table(study: Study, sources: Sources, township: np.ndarray,
                   catchments: dict[str, np.ndarray], values: dict[str, Any]) -> dict[str, Any]:
    """The facility table's columns (in order): snap distances and catchment people (nearest-facility allocation),
    each catchment and the circle's share of it also for each population group (``catchment_people_65plus``,
    ``catchment_share_15min_65plus``), then the standards' own
    columns (``values``: tiers, floating catchments, capacity).

    Catchments follow the profile's first circle standard (people whose
    nearest facility of its group, by their area's mode, is this one; and
    those of them within the circle) and its first response standard
    (people whose nearest station it is), with the ambulances that people
    require by the first ambulance ratio.
    """
    inputs = study.inputs
    cols, member = sources.columns, sources.member
    n = len(cols["id"])
    names = study.township_names
    known = inputs.study.facilities  # counts the facility list does not give are blank, not zeros
    beds = cols["beds"].astype(float) if known.beds_column is not None else np.full(n, np.nan)
    ambulances = cols["ambulances"].astype(float) if has_ambulance_counts(known) else np.full(n, np.nan)
    columns = {
        "id": cols["id"], "name": cols["name"], "type": cols["type"],
        "township": np.where(township >= 0, names[np.maximum(township, 0)], ""),
        "beds": nullable_integers(beds), "ambulances": nullable_integers(ambulances),
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
    for group in study.group_weights:  # each population group's catchments, after everyone's
        columns[group_id("catchment_people", group)] = np.where(
            in_primary, catchments.get(group_id("primary", group), np.zeros(n)).round(0), np.nan)
        columns[group_id(f"catchment_people_{m}", group)] = np.where(
            in_primary, catchments.get(group_id("primary_within", group), np.zeros(n)).round(0), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns[group_id(f"catchment_share_{m}", group)] = (columns[group_id(f"catchment_people_{m}", group)]
                                                                / columns[group_id("catchment_people", group)]).round(4)
    if study.response is not None:
        in_emergency = member[study.response.spec.group]
        people = catchments["emergency"]
        columns["emergency_catchment_people"] = np.where(in_emergency, people.round(0), np.nan)
        for group in study.group_weights:
            columns[group_id("emergency_catchment_people", group)] = np.where(
                in_emergency, catchments[group_id("emergency", group)].round(0), np.nan)
        ratio = next((s.spec for s in study.standards
                      if isinstance(s, Ambulances) and isinstance(s.spec, AmbulanceRatio)), None)
        if ratio is not None:
            columns["ambulances_required"] = np.where(
                in_emergency, (ratio.county_base_factor * people / ratio.people_per_ambulance).round(2), np.nan)
    columns.update(values)
    return columns
