"""Per-cell travel costs for the standards, from one pass per (group, mode, weight, direction)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import NamedTuple

import geopandas as gpd
import numpy as np
from scipy.spatial import cKDTree

from healthreach.inputs import Cells, StudyInputs
from healthreach.cache import cache_dir, save_npz
from healthreach.network import Attachment, Network, SegmentIndex
from healthreach.profile import Group, Profile
from healthreach.reach import Direction, Surface, nearest_facility, point_cost

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


def cell_access(inputs: StudyInputs, modes: set[str]) -> dict[str, Attachment]:
    """Where each cell centre attaches to the roads, per mode (ambulance uses drive roads).

    Cells attach once per set of attachable segments (modes that may use the
    same segments share the result). The result is kept on ``inputs``, so
    repeated audits and scenarios of the same study do not attach again, and
    in the on-disk cache (see :func:`healthreach.cache.cache_dir`) under a
    hash of the segments' geometry and the cell coordinates, so a later run
    of an unchanged study reads it instead of searching.
    """
    net = inputs.network
    cache = inputs.memo("cell_access", (inputs.network, inputs.cells), dict)  # per mode; again for moved cells
    for mode in sorted(modes - cache.keys()):
        index = net.segment_index(mode)
        shared = next((acc for done, acc in cache.items() if net.segment_index(done) is index), None)
        cache[mode] = shared or _attach_cells(net, index, inputs.cells, mode)
    return {mode: cache[mode] for mode in modes}


_CELL_CACHE_VERSION = b"cell-attach-v3"  # v1 held nearest nodes; v2, v3 segment attachments (v3: lowest row wins a tie)


def _attach_cells(net: Network, index: SegmentIndex, cells: Cells, mode: str) -> Attachment:
    """Attach the cells to the segments of ``index``, through the on-disk cache."""
    digest = hashlib.blake2b(_CELL_CACHE_VERSION, digest_size=16)
    for part in (index.seg, index.start, index.end, index.offset_m, net.length_m[: net.n_segments], cells.x, cells.y):
        digest.update(np.ascontiguousarray(part).tobytes())
    path = cache_dir() / "snaps" / f"{digest.hexdigest()}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                at = Attachment(z["seg"], z["along_m"], z["leg_m"])
            if len(at) == len(cells.x):
                return at
        except (OSError, ValueError, KeyError) as exc:
            log.warning("cell attachment cache %s not read (%s)", path, exc)
    at = net.attach(cells.x, cells.y, mode)
    try:
        save_npz(path, seg=at.seg, along_m=at.along_m, leg_m=at.leg_m)
    except OSError as exc:
        log.warning("cell attachment cache not written (%s)", exc)
    return at


def facility_attachment(facilities: gpd.GeoDataFrame, mode: str) -> Attachment:
    """Where each facility attaches to the roads in a mode (ambulances use the driving attachment)."""
    key = "walk" if mode == "walk" else "drive"
    return Attachment(facilities[f"seg_{key}"].to_numpy(np.int64), facilities[f"along_{key}_m"].to_numpy(float),
                      facilities[f"snap_{key}_m"].to_numpy(float))


def cell_travel(inputs: StudyInputs, facilities: gpd.GeoDataFrame | None = None,
                cells_access: dict[str, Attachment] | None = None) -> dict[Need, CellCost]:
    """Every surface the profile needs, read off at every study-area cell.

    ``facilities`` defaults to the study's own (a scenario passes its changed
    table); ``cells_access`` may be passed in to reuse the cells' attachment.
    """
    facilities = inputs.facilities if facilities is None else facilities
    wanted = needs(inputs.profile)
    cells_access = cells_access or cell_access(inputs, {n.mode for n in wanted})
    out = {}
    for need in wanted:
        rows = np.flatnonzero(in_group(facilities, inputs.profile.groups[need.group]))
        surface = nearest_facility(inputs.network, facility_attachment(facilities, need.mode)[rows],
                                   need.mode, need.weight, need.direction, rows)
        cost, facility = point_cost(inputs.network, surface, cells_access[need.mode], inputs.profile.travel.access_kmh)
        out[need] = CellCost(cost, facility, surface)
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
    cache = inputs.memo("straight_line_m", (), dict)
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
