"""Per-cell travel costs for the standards, from one pass per (group, mode, weight, direction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import geopandas as gpd
import numpy as np
from scipy.spatial import cKDTree

from healthreach.inputs import StudyInputs
from healthreach.profile import Group, Profile
from healthreach.reach import Access, Direction, Surface, access, nearest_facility, point_cost


class Need(NamedTuple):
    """One travel surface a standard needs."""

    group: str
    mode: str
    weight: str
    direction: Direction


@dataclass(frozen=True)
class CellCost:
    """Cost per study-area cell (seconds or metres) and the nearest facility's row (-1: none)."""

    cost: np.ndarray
    facility: np.ndarray
    surface: Surface


def in_group(facilities: gpd.GeoDataFrame, group: Group) -> np.ndarray:
    """Which facilities belong to a group (by type, or by the emergency flag)."""
    member = facilities["type"].isin(group.types).to_numpy()
    if group.emergency_flag:
        member = member | facilities["emergency"].to_numpy(bool)
    return member


def needs(profile: Profile) -> list[Need]:
    """The travel surfaces the profile's standards need, each once."""
    s = profile.standards
    out: list[Need] = []
    if s.primary_care_15min:
        p = s.primary_care_15min
        for mode in dict.fromkeys(("walk", "drive", p.urban_mode, p.rural_mode)):
            out.append(Need(p.group, mode, "time", "to"))
    for radius in (s.emergency_radius_urban, s.emergency_radius_rural):
        if radius:
            out.append(Need(radius.group, "ambulance", "length", "from"))
    if s.emergency_response_18min:
        out.append(Need(s.emergency_response_18min.group, "ambulance", "time", "from"))
    if s.tertiary_hospital_1h:
        out.append(Need(s.tertiary_hospital_1h.group, "drive", "time", "to"))
    if s.village_clinic_800:
        v = s.village_clinic_800
        out += [Need(v.group, v.urban_mode, "time", "to"), Need(v.group, v.rural_mode, "time", "to")]
    return list(dict.fromkeys(out))


def cell_access(inputs: StudyInputs, modes: set[str]) -> dict[str, Access]:
    """Each cell's nearest usable node and off-road leg, per mode (ambulance uses drive roads).

    Cells are snapped once per set of usable nodes (modes that can use the
    same nodes share the result) and the result is kept on ``inputs``, so
    repeated audits and scenarios of the same study do not snap again.
    """
    net, cells, cache = inputs.network, inputs.cells, inputs._cell_access
    out = {}
    for mode in sorted(modes):
        hit = cache.get(mode)
        if hit is None or hit[0] is not net or hit[1] is not cells:
            _, tree = net.snap_tree(mode)
            same = next((h[3] for h in cache.values() if h[0] is net and h[1] is cells and h[2] is tree), None)
            hit = cache[mode] = (net, cells, tree, same or access(net, cells.x, cells.y, mode))
        out[mode] = hit[3]
    return out


def facility_node(facilities: gpd.GeoDataFrame, mode: str) -> np.ndarray:
    """Snapped node of each facility for a mode (ambulances use the driving snap)."""
    return facilities["node_walk" if mode == "walk" else "node_drive"].to_numpy()


def cell_travel(inputs: StudyInputs, facilities: gpd.GeoDataFrame | None = None,
                cells_access: dict[str, Access] | None = None) -> dict[Need, CellCost]:
    """Every surface the profile needs, read off at every study-area cell.

    ``facilities`` defaults to the study's own (a scenario passes its changed
    table); ``cells_access`` may be passed in to reuse snapping.
    """
    facilities = inputs.facilities if facilities is None else facilities
    wanted = needs(inputs.profile)
    cells_access = cells_access or cell_access(inputs, {n.mode for n in wanted})
    out = {}
    for need in wanted:
        rows = np.flatnonzero(in_group(facilities, inputs.profile.groups[need.group]))
        surface = nearest_facility(inputs.network, facility_node(facilities, need.mode)[rows],
                                   need.mode, need.weight, need.direction, rows)
        acc = cells_access[need.mode]
        out[need] = CellCost(point_cost(surface, acc, inputs.profile.travel.access_kmh),
                             surface.facility[acc.node], surface)
    return out


def straight_line_m(inputs: StudyInputs, facilities: gpd.GeoDataFrame, group: str) -> np.ndarray:
    """Straight-line distance (metres) from each cell centre to the group's nearest facility."""
    member = in_group(facilities, inputs.profile.groups[group])
    if not member.any():
        return np.full(len(inputs.cells.x), np.inf)
    tree = cKDTree(np.column_stack([facilities["x"].to_numpy()[member], facilities["y"].to_numpy()[member]]))
    dist, _ = tree.query(np.column_stack([inputs.cells.x, inputs.cells.y]), workers=-1)
    return dist
