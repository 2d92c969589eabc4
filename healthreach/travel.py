"""Per-cell travel costs for the standards, from one pass per (group, mode, weight, direction)."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from typing import NamedTuple

import geopandas as gpd
import numpy as np
from scipy.spatial import cKDTree

from healthreach.inputs import Cells, StudyInputs
from healthreach.network import Network, cache_dir
from healthreach.profile import Group, Profile
from healthreach.reach import Access, Direction, Surface, access, nearest_facility, point_cost

log = logging.getLogger(__name__)


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
    same nodes share the result). The result is kept on ``inputs``, so
    repeated audits and scenarios of the same study do not snap again, and
    in the on-disk cache (see :func:`healthreach.network.cache_dir`) under a
    hash of the node and cell coordinates, so a later run of an unchanged
    study reads it instead of snapping.
    """
    net, cache = inputs.network, inputs._cell_access
    for mode in sorted(modes - cache.keys()):
        nodes, tree = net.snap_tree(mode)
        shared = next((acc for done, acc in cache.items() if net.snap_tree(done)[1] is tree), None)
        cache[mode] = shared or _snap_cells(net, nodes, inputs.cells, mode)
    return {mode: cache[mode] for mode in modes}


def _snap_cells(net: Network, nodes: np.ndarray, cells: Cells, mode: str) -> Access:
    """Snap the cells to the mode's usable ``nodes``, through the on-disk cache."""
    digest = hashlib.blake2b(b"cell-snap-v1", digest_size=16)
    for part in (nodes, net.x[nodes], net.y[nodes], cells.x, cells.y):
        digest.update(np.ascontiguousarray(part).tobytes())
    path = cache_dir() / "snaps" / f"{digest.hexdigest()}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                node, leg = z["node"], z["leg_m"]
            if len(node) == len(cells.x):
                return Access(node, leg)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("cell snapping cache %s not read (%s)", path, exc)
    acc = access(net, cells.x, cells.y, mode)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}-{id(acc):x}.tmp.npz")  # one per writer
        np.savez(tmp, node=acc.node, leg_m=acc.leg_m)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cell snapping cache not written (%s)", exc)
    return acc


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


_LINE_CACHE_SIZE = 8  # sets of sites whose distances are kept per study (2.3 MB each for 300k cells)


def straight_line_m(inputs: StudyInputs, facilities: gpd.GeoDataFrame, group: str,
                    member: np.ndarray | None = None) -> np.ndarray:
    """Straight-line distance (metres) from each cell centre to the group's nearest facility.

    ``member`` may pass :func:`in_group` of the group, when known. The
    distances depend only on the sites' coordinates: they are kept on
    ``inputs`` under those coordinates, so scenarios that leave the group's
    sites where they are reuse them. The result is read-only.
    """
    member = in_group(facilities, inputs.profile.groups[group]) if member is None else member
    fx, fy = facilities["x"].to_numpy(float)[member], facilities["y"].to_numpy(float)[member]
    cache = inputs._memo.setdefault("straight_line_m", {})
    sites = np.sort(fx + 1j * fy)  # the set of sites (the nearest one does not depend on their order)
    key = sites.tobytes()
    hit = cache.get(key)
    if hit is not None and hit[0] is inputs.cells:
        return hit[2]
    dist = _add_sites(inputs.cells, sites, cache)
    dist.flags.writeable = False  # shared by every audit that asks for these sites
    if len(cache) >= _LINE_CACHE_SIZE:
        cache.pop(next(iter(cache)))  # the oldest
    cache[key] = (inputs.cells, sites, dist)
    return dist


def _add_sites(cells: Cells, sites: np.ndarray, cache: dict) -> np.ndarray:
    """Distances to ``sites`` (x + iy), from a kept set that lacks only some of them (sites added), else anew.

    The nearest of a larger set is the nearer of the kept set's nearest and
    the added sites' nearest: the same distances as computing them anew.
    """
    kept = [(len(s), s, d) for c, s, d in cache.values() if c is cells and len(s) < len(sites) and np.isin(s, sites).all()]
    if not kept:
        return _nearest_site_m(cells, sites.real, sites.imag)
    _, base, dist = max(kept, key=lambda k: k[0])
    added = sites[~np.isin(sites, base)]
    return np.minimum(dist, _nearest_site_m(cells, added.real, added.imag))


def _nearest_site_m(cells: Cells, fx: np.ndarray, fy: np.ndarray) -> np.ndarray:
    """Straight-line distance (metres) from each cell centre to the nearest of the sites (fx, fy)."""
    if len(fx) == 0:
        return np.full(len(cells.x), np.inf)
    if len(fx) <= 32:  # a few sites: one vectorised pass per site beats a KD-tree query per cell
        best = np.full(len(cells.x), np.inf)
        for x, y in zip(fx, fy):
            dx, dy = cells.x - x, cells.y - y
            np.minimum(best, dx * dx + dy * dy, out=best)
        return np.sqrt(best)
    tree = cKDTree(np.column_stack([fx, fy]))
    dist, _ = tree.query(np.column_stack([cells.x, cells.y]), workers=-1)
    return dist
