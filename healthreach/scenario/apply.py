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


# counts a closed facility loses (to the one it merges into, if any)
_COUNT_COLUMNS = ("beds", "ambulances", "doctors", "nurses", "capacity")
_INTEGER_COLUMNS = (*_COUNT_COLUMNS, "row", "seg_walk", "seg_drive")
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
    out = _with_rows(base, len(adds))  # a few cells change: copied whole, then written cell by cell
    out["status"] = np.full(len(out), "", dtype=object)
    out["merged_into"] = np.full(len(out), "", dtype=object)
    table = _Cells(out, inputs.study.facilities.type_map)
    row_of = {fid: k for k, fid in enumerate(base["id"])}
    added = len(base)
    log = []
    for i, change in enumerate(scenario.changes):
        kind = kind_of(change)
        if isinstance(change, Add):
            site, k = sites[i], added
            added += 1
            _add(table, k, change, site)
            row_of[change.add] = k
            log.append((i + 1, kind, change.add, change.name, np.nan, np.nan, site.x, site.y))
            continue
        k = row_of[change.ref]
        x0, y0 = table.get(k, "x"), table.get(k, "y")
        if isinstance(change, Relocate):
            _relocate(table, k, change, sites[i])
            log.append((i + 1, kind, change.ref, table.get(k, "name"), x0, y0, table.get(k, "x"), table.get(k, "y")))
            continue
        if isinstance(change, Close):
            _close(table, k, change, None if change.into is None else row_of[change.into])
        elif isinstance(change, Upgrade):
            _upgrade(table, k, change)
        elif isinstance(change, Expand):
            _expand(table, k, change)
        log.append((i + 1, kind, change.ref, table.get(k, "name"), x0, y0, np.nan, np.nan))
    moves = pd.DataFrame(log, columns=["change", "kind", "id", "name", "x0", "y0", "x1", "y1"])
    return out, moves


def _with_rows(base: pd.DataFrame, n: int) -> pd.DataFrame:
    """A copy of ``base`` with ``n`` rows appended (index 0, 1, ...; each column keeps its dtype), to be filled by
    :func:`_add`.
    """
    if not n:
        return base.copy()
    # copies of the first row (a study has facilities) keep every column's dtype (pd.concat with new rows costs
    # ten times as much)
    rows = base.iloc[np.r_[np.arange(len(base)), np.zeros(n, np.intp)].tolist()]
    return rows.reset_index(drop=True)


class _Cells:
    """The facility table being changed, read and written one cell at a time (row position, column name)."""

    def __init__(self, table: pd.DataFrame, type_map: dict[str, str]) -> None:
        self.table = table
        self.type_map = type_map
        self.column = {c: j for j, c in enumerate(table.columns)}  # column names are unique

    def get(self, k: int, c: str) -> Any:
        """The value in row ``k``, column ``c``."""
        return self.table.iat[k, self.column[c]]  # noqa: PD009  one cell by position: .iat is the scalar accessor

    def put(self, k: int, c: str, value: Any) -> None:
        """Set row ``k``, column ``c`` (a column the table lacks is skipped)."""
        if c in self.column:
            self.table.iat[k, self.column[c]] = value  # noqa: PD009  one cell by position, as in get

    def mark(self, k: int, status: str) -> None:
        """Add ``status`` to row ``k``'s statuses (joined by ``+``)."""
        self.put(k, "status", f"{self.get(k, 'status')}+{status}" if self.get(k, "status") else status)

    def place(self, k: int, site: Site) -> None:
        """Move row ``k`` to ``site`` (coordinates and road attachments)."""
        for c in _SITE_COLUMNS:
            self.put(k, c, getattr(site, c))

    def type_of(self, name: str) -> str:
        """A facility type as the profile's id (Chinese names and the study's type_map are read)."""
        return facility_type(name, self.type_map)


def _add(table: _Cells, k: int, change: Add, site: Site) -> None:
    """Fill the appended row ``k`` with the new facility at ``site`` (columns it does not set are empty)."""
    for c in table.column:
        table.put(k, c, _EMPTY.get(table.table[c].dtype.kind))
    for c, value in {"id": change.add, "name": change.name, "type": table.type_of(change.type),
                     "beds": change.beds, "ambulances": change.ambulances, "emergency": change.emergency,
                     "row": 0, "status": "added", "merged_into": ""}.items():
        table.put(k, c, value)
    table.place(k, site)


def _relocate(table: _Cells, k: int, change: Relocate, site: Site) -> None:
    """Move row ``k`` to ``site``, with the new name, beds and ambulances the change gives."""
    table.place(k, site)
    for c in ("name", "beds", "ambulances"):
        if getattr(change, c) is not None:
            table.put(k, c, getattr(change, c))
    table.mark(k, "relocated")


def _close(table: _Cells, k: int, change: Close, into: int | None) -> None:
    """Close row ``k``; its beds, ambulances, doctors, nurses and capacity go to row ``into`` when it merges there."""
    if into is not None:
        for c in _COUNT_COLUMNS:
            table.put(into, c, table.get(into, c) + table.get(k, c))
        table.put(k, "merged_into", change.into)
        table.mark(into, "merged_in")
    for c, value in (("type", CLOSED_TYPE), ("emergency", False), *((c, 0) for c in _COUNT_COLUMNS)):
        table.put(k, c, value)
    table.mark(k, "closed")


def _upgrade(table: _Cells, k: int, change: Upgrade) -> None:
    """Give row ``k`` the new type, emergency capability and name the change sets."""
    if change.type is not None:
        table.put(k, "type", table.type_of(change.type))
    if change.emergency is not None:
        table.put(k, "emergency", change.emergency)
    if change.name is not None:
        table.put(k, "name", change.name)
    table.mark(k, "upgraded")


def _expand(table: _Cells, k: int, change: Expand) -> None:
    """Give row ``k`` the new numbers of beds and ambulances the change sets."""
    for c in ("beds", "ambulances"):
        if getattr(change, c) is not None:
            table.put(k, c, getattr(change, c))
    table.mark(k, "expanded")
