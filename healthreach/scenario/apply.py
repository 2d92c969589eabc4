"""A scenario's changes applied to the facility table.

The changed table keeps every baseline row in place. A closed facility keeps
its row with type ``closed`` (a member of no group), no beds and no
ambulances; added facilities are appended in the order they are added.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from healthreach.inputs import StudyInputs
from healthreach.scenario.schema import CLOSED_TYPE, Add, Close, Expand, Relocate, Scenario, Upgrade, kind_of
from healthreach.scenario.sites import Site
from healthreach.vocab import facility_type

_EMPTY = {"b": False, "i": 0, "u": 0, "f": np.nan}  # by dtype kind: what a new row holds where no change sets it


_INTEGER_COLUMNS = ("beds", "ambulances", "row", "seg_walk", "seg_drive")
_SITE_COLUMNS = ("x", "y", "lon", "lat", "seg_walk", "along_walk_m", "snap_walk_m",
                 "seg_drive", "along_drive_m", "snap_drive_m")


def apply_changes(scenario: Scenario, inputs: StudyInputs, sites: dict[int, Site],
                  facilities: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The changed facility table and one row per change (what moved where).

    The changed table has the columns of the table changed but no geometry
    (sites are its ``x``, ``y`` in the analysis CRS, metres, and ``lon``, ``lat``).

    Baseline rows stay in place, with every column of the study's table; new
    facilities are appended (``row`` 0: in no file; columns a change does not
    set are empty). The table gets a ``status`` column (``added``,
    ``relocated``, ``closed``, ``upgraded``, ``expanded``, ``merged_in``,
    joined by ``+``; empty when unchanged) and ``merged_into``. The change
    table has ``change`` (1-based), ``kind``, ``id``, ``name``, ``x0, y0``
    (old site, metres) and ``x1, y1`` (new site).
    """
    base = inputs.facilities if facilities is None else facilities
    if isinstance(base, gpd.GeoDataFrame):
        base = pd.DataFrame(base.drop(columns=[base.geometry.name]))
    adds = [c for c in scenario.changes if isinstance(c, Add)]
    out = base.copy()  # a few cells change: copied whole, then written cell by cell
    out["status"] = np.full(len(out), "", dtype=object)
    out["merged_into"] = np.full(len(out), "", dtype=object)
    if adds:
        empty = {c: pd.Series([_EMPTY.get(out[c].dtype.kind)] * len(adds), dtype=out[c].dtype) for c in out.columns}
        out = pd.concat([out, pd.DataFrame(empty)], ignore_index=True)
    at = {c: out.columns.get_loc(c) for c in out.columns}

    def get(k: int, c: str) -> Any:
        return out.iat[k, at[c]]

    def put(k: int, c: str, value: Any) -> None:
        if c in at:
            out.iat[k, at[c]] = value

    row_of = {fid: k for k, fid in enumerate(base["id"])}
    added = len(base)
    log = []

    def type_of(name: str) -> str:  # Chinese names and the study's type_map read as the profile's ids
        return facility_type(name, inputs.study.facilities.type_map)

    def mark(k: int, status: str) -> None:
        put(k, "status", f"{get(k, 'status')}+{status}" if get(k, "status") else status)

    def place(k: int, site: Site) -> None:
        for c in _SITE_COLUMNS:
            put(k, c, getattr(site, c))

    for i, change in enumerate(scenario.changes):
        kind = kind_of(change)
        if isinstance(change, Add):
            site, k = sites[i], added
            added += 1
            for c, value in {"id": change.add, "name": change.name, "type": type_of(change.type),
                             "beds": change.beds, "ambulances": change.ambulances, "emergency": change.emergency,
                             "row": 0, "status": "added", "merged_into": ""}.items():
                put(k, c, value)
            place(k, site)
            row_of[change.add] = k
            log.append((i + 1, kind, change.add, change.name, np.nan, np.nan, site.x, site.y))
            continue
        k = row_of[change.ref]
        x0, y0 = get(k, "x"), get(k, "y")
        if isinstance(change, Relocate):
            place(k, sites[i])
            for c in ("name", "beds", "ambulances"):
                if getattr(change, c) is not None:
                    put(k, c, getattr(change, c))
            mark(k, "relocated")
            log.append((i + 1, kind, change.ref, get(k, "name"), x0, y0, get(k, "x"), get(k, "y")))
            continue
        if isinstance(change, Close):
            if change.into is not None:
                j = row_of[change.into]
                put(j, "beds", get(j, "beds") + get(k, "beds"))
                put(j, "ambulances", get(j, "ambulances") + get(k, "ambulances"))
                put(k, "merged_into", change.into)
                mark(j, "merged_in")
            for c, value in (("type", CLOSED_TYPE), ("emergency", False), ("beds", 0), ("ambulances", 0)):
                put(k, c, value)
            mark(k, "closed")
        elif isinstance(change, Upgrade):
            for c in ("type", "emergency", "name"):
                if getattr(change, c) is not None:
                    put(k, c, type_of(change.type) if c == "type" else getattr(change, c))
            mark(k, "upgraded")
        elif isinstance(change, Expand):
            for c in ("beds", "ambulances"):
                if getattr(change, c) is not None:
                    put(k, c, getattr(change, c))
            mark(k, "expanded")
        log.append((i + 1, kind, change.ref, get(k, "name"), x0, y0, np.nan, np.nan))
    changed = out
    moves = pd.DataFrame(log, columns=["change", "kind", "id", "name", "x0", "y0", "x1", "y1"])
    return changed, moves
