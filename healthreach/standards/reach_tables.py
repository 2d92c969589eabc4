"""Cells within a travel time of each single facility: bounded searches, kept per facility site.

Floating catchments and capacity flows need every (cell, facility) pair
within a time, not only each cell's nearest facility. One Dijkstra per
facility, stopped at the time limit, from the two ends of the facility's
road segment (seeded with the partial segment costs, as the nearest-facility
surfaces are), gives the seconds to every node it reaches
(:class:`~healthreach.bounded_search.SiteSearch`: its work is in proportion
to the nodes it reaches, not to the network); the cells on segments ending
at those nodes (and on the facility's own segment) are read off with the
same point cost as every surface (:func:`healthreach.reach.point_cost`),
so a pair's seconds equal the nearest-facility surface's wherever that
facility is the nearest. Only populated cells are paired: an empty cell
adds nothing to any figure, and maps draw populated cells only.

A facility's pairs depend only on its site and the roads, so they are kept
per (mode, segment, position along it, limit): a scenario that adds, moves or
closes a facility searches only from the new sites.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from healthreach.bounded_search import SiteSearch
from healthreach.incremental import CellIndex
from healthreach.network import Attachment, Network
from healthreach.reach import Surface, point_cost, source_seeds


@dataclass(frozen=True)
class Pairs:
    """(cell, facility row, seconds) for every populated cell within the limit of a facility, in three arrays."""

    cell: np.ndarray
    row: np.ndarray
    seconds: np.ndarray


class ReachTables:
    """The study's per-facility bounded searches (seconds from each populated cell to one facility, patients
    travelling).
    """

    def __init__(self, net: Network, cell_index: Mapping[str, CellIndex], access_kmh: float, populated: np.ndarray):
        self.net = net
        self.cell_index = cell_index
        self.access_kmh = access_kmh  # km/h of the off-road leg from a cell centre to the road
        self.populated = populated    # per cell: whether anyone lives there (only those cells are paired)
        self._kept: dict[tuple[str, int, float, float], tuple[np.ndarray, np.ndarray]] = {}
        self._derived: dict[Hashable, Any] = {}
        self._searches: dict[str, SiteSearch] = {}  # per mode: the bounded search and its scratch arrays

    @staticmethod
    def site_key(mode: str, site: Attachment, limit_s: float) -> tuple[str, int, float, float]:
        """The key of one facility site's search: mode, segment, metres along it, limit (seconds)."""
        return mode, int(site.seg[0]), float(site.along_m[0]), float(limit_s)

    def derived(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """A value derived from one site's pairs (and the study's fixed inputs), made once under ``key``."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    def within(self, mode: str, at: Attachment, rows: np.ndarray, limit_s: float) -> Pairs:
        """Every (cell, row, seconds) with seconds <= ``limit_s`` from a populated cell to the facility of ``rows``.

        ``at`` is where each facility of the table attaches to the mode's
        roads; ``rows`` the facilities wanted.
        """
        cells, row, seconds = [], [], []
        for r in np.asarray(rows, np.int64):
            c, s = self.of_row(mode, at, int(r), limit_s)
            cells.append(c)
            seconds.append(s)
            row.append(np.full(len(c), r, np.int64))
        if not cells:
            return Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        return Pairs(np.concatenate(cells), np.concatenate(row), np.concatenate(seconds))

    def of_row(self, mode: str, at: Attachment, row: int, limit_s: float) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`one` for the facility of ``row`` of a table attached at ``at``."""
        key = (mode, int(at.seg[row]), float(at.along_m[row]), float(limit_s))
        found = self._kept.get(key)
        return found if found is not None else self.one(mode, at[np.array([row])], limit_s)

    def one(self, mode: str, site: Attachment, limit_s: float) -> tuple[np.ndarray, np.ndarray]:
        """The populated cells within ``limit_s`` seconds of one facility attached at ``site``, and their seconds
        (kept).
        """
        key = self.site_key(mode, site, limit_s)
        if key not in self._kept:
            self._kept[key] = self._search(mode, site, limit_s)
        return self._kept[key]

    def site_search(self, mode: str) -> SiteSearch:
        """The bounded search towards a site on ``mode``'s roads (patients travelling), with its scratch arrays
        (made once per mode).
        """
        if mode not in self._searches:
            self._searches[mode] = SiteSearch(self.net.graph(mode, "time", reverse=True))
        return self._searches[mode]

    def _search(self, mode: str, site: Attachment, limit_s: float) -> tuple[np.ndarray, np.ndarray]:
        net, index = self.net, self.cell_index[mode]
        u, v, cost_u, cost_v = source_seeds(net, mode, "time", "to", site)
        search = self.site_search(mode)
        with search.costs(int(u[0]), float(cost_u[0]), int(v[0]), float(cost_v[0]), limit_s) as reached:
            node = search.node_cost  # seconds from each node to the site; inf where neither search reached
            near = index.cells_near(reached[node[reached] <= limit_s], site.seg)
            cell_u, cell_v, to_u, to_v, leg_s = self.cell_parts(mode)
            cells, seconds = _via_ends(near, self.populated, cell_u, cell_v, to_u, to_v, leg_s, node, index.at.seg,
                                       int(site.seg[0]), float(limit_s))
            own = np.flatnonzero(index.at.seg[cells] == site.seg[0])  # may reach it along the segment itself
            if len(own):
                surface = Surface(mode, "time", "to", node, search.node_row, site, np.zeros(1, np.int64))
                seconds[own], _ = point_cost(net, surface, index.at[cells[own]], self.access_kmh)
                keep = seconds <= limit_s
                cells, seconds = cells[keep], seconds[keep]
        return cells, seconds

    def cell_parts(self, mode: str) -> tuple[np.ndarray, ...]:
        """Per cell, for patients travelling by ``mode``: its segment's two ends, the seconds from the cell's
        road point to each end, and the seconds of its off-road leg (as :func:`healthreach.reach.point_cost`).
        """
        legs = self.cell_index[mode].legs(self.net, mode, "time", "to", self.access_kmh)
        return legs.u, legs.v, legs.to_u, legs.to_v, legs.leg


@njit(cache=True)
def _via_ends(  # noqa: PLR0913, PLR0917  a compiled kernel takes plain arrays, not objects
        cells, populated, cell_u, cell_v, to_u, to_v, leg_s, node, cell_seg, seg, limit_s):  # pragma: no cover
    """The populated ``cells`` (in their order) within ``limit_s`` seconds via an end of their segment, or on
    segment ``seg``, and those seconds: ``leg_s + min(to_u + node[u], to_v + node[v])``, the sums of
    :func:`healthreach.reach.point_cost` term for term, in one pass with no array of every cell.
    """
    out = np.empty(len(cells), np.int64)
    seconds = np.empty(len(cells))
    n = 0
    for c in cells:
        if not populated[c]:
            continue
        s = leg_s[c] + min(to_u[c] + node[cell_u[c]], to_v[c] + node[cell_v[c]])
        if s <= limit_s or cell_seg[c] == seg:
            out[n], seconds[n] = c, s
            n += 1
    return out[:n], seconds[:n]
