"""A scenario's changes applied to the facility table.

The changed table keeps every baseline row in place. A closed facility keeps
its row with type ``closed`` (a member of no group), no beds and no
ambulances; added facilities are appended in the order they are added.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from healthreach.inputs import StudyInputs
from healthreach.scenario.schema import CLOSED_TYPE, Add, Close, Expand, Relocate, Scenario, Upgrade, kind_of
from healthreach.scenario.sites import Site
from healthreach.vocab import facility_type

MOVE_COLUMNS = ("change", "kind", "id", "name", "x0", "y0", "x1", "y1")
Move = tuple[int, str, str, str, float, float, float, float]  # one change: as MOVE_COLUMNS name them
_EMPTY = {"b": False, "i": 0, "u": 0, "f": np.nan}  # by dtype kind: what a new row holds where no change sets it


# counts a closed facility loses (to the one it merges into, if any)
_COUNT_COLUMNS = ("beds", "ambulances", "doctors", "nurses", "capacity")
_SITE_COLUMNS = ("x", "y", "lon", "lat", "seg_walk", "along_walk_m", "snap_walk_m",
                 "seg_drive", "along_drive_m", "snap_drive_m")


def apply_changes(scenario: Scenario, inputs: StudyInputs, sites: dict[int, Site],
                  facilities: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The changed facility table as a pandas frame, and one row per change (what moved where).

    ``facilities``: the table changed (default: the study's own); its geometry
    column, if any, is dropped. See :func:`changed_columns`.
    """
    base = inputs.facilities if facilities is None else facilities
    if isinstance(base, gpd.GeoDataFrame):
        base = pd.DataFrame(base.drop(columns=[base.geometry.name]))
    columns, moves = changed_columns(scenario, inputs, sites, {c: base[c].to_numpy() for c in base.columns})
    # a table with no facility added keeps its row labels; one with new rows is numbered 0, 1, ...
    return pd.DataFrame(columns, index=base.index if len(columns["id"]) == len(base) else None), moves_table(moves)


def changed_columns(scenario: Scenario, inputs: StudyInputs, sites: dict[int, Site],
                    columns: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[Move]]:
    """The changed facility table's columns (arrays, in the table's order) and what each change moved.

    ``columns`` are the columns of the table changed (no geometry: sites are
    its ``x``, ``y`` in the analysis CRS, metres, and ``lon``, ``lat``); they
    are not written to: a column a change writes is copied first, the others
    are shared.

    Baseline rows stay in place; new facilities are appended (``row`` 0: in
    no file; columns a change does not set are empty). The table gets a
    ``status`` column (``added``, ``relocated``, ``closed``, ``upgraded``,
    ``expanded``, ``merged_in``, joined by ``+``; empty when unchanged) and
    ``merged_into``. Each change gives one :data:`Move` (see :func:`moves_table`).
    """
    adds = [c for c in scenario.changes if isinstance(c, Add)]
    n = len(columns["id"])
    table = _Table(*_with_rows(columns, len(adds)), inputs.study.facilities.type_map)
    row_of = {fid: k for k, fid in enumerate(columns["id"].tolist())}
    added = n
    log: list[Move] = []
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
    return table.columns, log


def moves_table(moves: list[Move]) -> pd.DataFrame:
    """One row per change: ``change`` (1-based), ``kind``, ``id``, ``name``, ``x0, y0`` (old site, metres; NaN for
    an add) and ``x1, y1`` (new site; NaN unless added or relocated).
    """
    return pd.DataFrame(moves, columns=list(MOVE_COLUMNS))


def _with_rows(columns: Mapping[str, np.ndarray], n: int) -> tuple[dict[str, np.ndarray], set[str]]:
    """The columns with ``n`` empty rows appended (each column keeps its dtype; see :data:`_EMPTY`) and blank
    ``status`` and ``merged_into`` columns; and the names of the columns made here (the others are ``columns``'
    own arrays).
    """
    rows = len(columns["id"])
    out = {c: v if not n else np.concatenate([v, np.full(n, _EMPTY.get(v.dtype.kind), v.dtype)])
           for c, v in columns.items()}
    out["status"] = np.full(rows + n, "", dtype=object)
    out["merged_into"] = np.full(rows + n, "", dtype=object)
    made = set(out) if n else {"status", "merged_into"}
    return out, made


class _Table:
    """The facility table's columns being changed, read and written one cell at a time (row position, column
    name); a column shared with the table changed is copied when first written.
    """

    def __init__(self, columns: dict[str, np.ndarray], own: set[str], type_map: dict[str, str]) -> None:
        self.columns = columns
        self.own = own  # the columns that may be written in place
        self.type_map = type_map

    def get(self, k: int, c: str) -> Any:
        """The value in row ``k``, column ``c``."""
        return self.columns[c][k]

    def put(self, k: int, c: str, value: Any) -> None:
        """Set row ``k``, column ``c`` (a column the table lacks is skipped; an integer column given a
        fraction becomes a float column, as pandas widens it, instead of cutting the fraction off).
        """
        if c not in self.columns:
            return
        if self.columns[c].dtype.kind in "iu" and isinstance(value, float | np.floating):
            self.columns[c] = self.columns[c].astype(float)
            self.own.add(c)
        elif c not in self.own:
            self.columns[c] = self.columns[c].copy()
            self.own.add(c)
        self.columns[c][k] = value

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


def _add(table: _Table, k: int, change: Add, site: Site) -> None:
    """Fill the appended row ``k`` with the new facility at ``site`` (columns it does not set stay empty)."""
    for c, value in {"id": change.add, "name": change.name, "type": table.type_of(change.type),
                     "beds": change.beds, "ambulances": change.ambulances, "emergency": change.emergency,
                     "row": 0, "status": "added", "merged_into": ""}.items():
        table.put(k, c, value)
    table.place(k, site)


def _relocate(table: _Table, k: int, change: Relocate, site: Site) -> None:
    """Move row ``k`` to ``site``, with the new name, beds and ambulances the change gives."""
    table.place(k, site)
    for c in ("name", "beds", "ambulances"):
        if getattr(change, c) is not None:
            table.put(k, c, getattr(change, c))
    table.mark(k, "relocated")


def _close(table: _Table, k: int, change: Close, into: int | None) -> None:
    """Close row ``k``; its beds, ambulances, doctors, nurses and capacity go to row ``into`` when it merges there."""
    if into is not None:
        for c in _COUNT_COLUMNS:
            table.put(into, c, table.get(into, c) + table.get(k, c))
        table.put(k, "merged_into", change.into)
        table.mark(into, "merged_in")
    for c, value in (("type", CLOSED_TYPE), ("emergency", False), *((c, 0) for c in _COUNT_COLUMNS)):
        table.put(k, c, value)
    table.mark(k, "closed")


def _upgrade(table: _Table, k: int, change: Upgrade) -> None:
    """Give row ``k`` the new type, emergency capability and name the change sets."""
    if change.type is not None:
        table.put(k, "type", table.type_of(change.type))
    if change.emergency is not None:
        table.put(k, "emergency", change.emergency)
    if change.name is not None:
        table.put(k, "name", change.name)
    table.mark(k, "upgraded")


def _expand(table: _Table, k: int, change: Expand) -> None:
    """Give row ``k`` the new numbers of beds and ambulances the change sets."""
    for c in ("beds", "ambulances"):
        if getattr(change, c) is not None:
            table.put(k, c, getattr(change, c))
    table.mark(k, "expanded")
