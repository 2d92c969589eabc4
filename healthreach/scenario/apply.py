"""A scenario's changes applied to the facility table.

The changed table keeps every baseline row in place. A closed facility keeps
its row with type ``closed`` (a member of no group), no beds and no
ambulances; added facilities are appended in the order they are added.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from healthreach.inputs import StudyInputs
from healthreach.scenario.schema import CLOSED_TYPE, Add, Close, Expand, Relocate, Scenario, Upgrade, kind_of
from healthreach.scenario.sites import Site
from healthreach.vocab import facility_type

_INTEGER_COLUMNS = ("beds", "ambulances", "row", "seg_walk", "seg_drive")
_SITE_COLUMNS = ("x", "y", "lon", "lat", "seg_walk", "along_walk_m", "snap_walk_m",
                 "seg_drive", "along_drive_m", "snap_drive_m")


def apply_changes(scenario: Scenario, inputs: StudyInputs, sites: dict[int, Site],
                  facilities: gpd.GeoDataFrame | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The changed facility table and one row per change (what moved where).

    Baseline rows stay in place, with every column of the study's table; new
    facilities are appended (``row`` 0: in no file; columns a change does not
    set are empty). The table gets a ``status`` column (``added``,
    ``relocated``, ``closed``, ``upgraded``, ``expanded``, ``merged_in``,
    joined by ``+``; empty when unchanged) and ``merged_into``. The change
    table has ``change`` (1-based), ``kind``, ``id``, ``name``, ``x0, y0``
    (old site, metres) and ``x1, y1`` (new site).
    """
    base = inputs.facilities if facilities is None else facilities
    cols = {c: base[c].tolist() for c in base.columns if c != base.geometry.name}
    cols["status"] = [""] * len(base)
    cols["merged_into"] = [""] * len(base)
    row_of = {fid: k for k, fid in enumerate(cols["id"])}
    log = []

    def type_of(name: str) -> str:  # Chinese names and the study's type_map read as the profile's ids
        return facility_type(name, inputs.study.facilities.type_map)

    def mark(k: int, status: str) -> None:
        cols["status"][k] = status if not cols["status"][k] else f"{cols['status'][k]}+{status}"

    def place(k: int, site: Site) -> None:
        for c in _SITE_COLUMNS:
            if c in cols:
                cols[c][k] = getattr(site, c)

    for i, change in enumerate(scenario.changes):
        kind = kind_of(change)
        if isinstance(change, Add):
            site = sites[i]
            k = len(cols["id"])
            values = {"id": change.add, "name": change.name, "type": type_of(change.type), "beds": change.beds,
                      "ambulances": change.ambulances, "emergency": change.emergency, "row": 0,
                      "status": "added", "merged_into": ""}
            for c, column in cols.items():
                column.append(values.get(c))
            place(k, site)
            row_of[change.add] = k
            log.append((i + 1, kind, change.add, change.name, np.nan, np.nan, site.x, site.y))
            continue
        k = row_of[change.ref]
        x0, y0 = cols["x"][k], cols["y"][k]
        if isinstance(change, Relocate):
            place(k, sites[i])
            for c in ("name", "beds", "ambulances"):
                if getattr(change, c) is not None:
                    cols[c][k] = getattr(change, c)
            mark(k, "relocated")
            log.append((i + 1, kind, change.ref, cols["name"][k], x0, y0, cols["x"][k], cols["y"][k]))
            continue
        if isinstance(change, Close):
            if change.into is not None:
                j = row_of[change.into]
                cols["beds"][j] += cols["beds"][k]
                cols["ambulances"][j] += cols["ambulances"][k]
                cols["merged_into"][k] = change.into
                mark(j, "merged_in")
            cols["type"][k], cols["emergency"][k], cols["beds"][k], cols["ambulances"][k] = CLOSED_TYPE, False, 0, 0
            mark(k, "closed")
        elif isinstance(change, Upgrade):
            for c in ("type", "emergency", "name"):
                if getattr(change, c) is not None:
                    cols[c][k] = type_of(change.type) if c == "type" else getattr(change, c)
            mark(k, "upgraded")
        elif isinstance(change, Expand):
            for c in ("beds", "ambulances"):
                if getattr(change, c) is not None:
                    cols[c][k] = getattr(change, c)
            mark(k, "expanded")
        log.append((i + 1, kind, change.ref, cols["name"][k], x0, y0, np.nan, np.nan))

    for c in _INTEGER_COLUMNS:
        if c in cols:
            cols[c] = np.asarray(cols[c]).astype(np.int64)
    cols["emergency"] = np.asarray(cols["emergency"]).astype(bool)
    frame = pd.DataFrame(cols)  # typed before it is built: converting column by column is slow in pandas
    changed = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=base.crs)
    moves = pd.DataFrame(log, columns=["change", "kind", "id", "name", "x0", "y0", "x1", "y1"])
    return changed, moves
