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
so a pair's seconds agree with the nearest-facility surface's wherever
that facility is the nearest (to the rounding of the sums: the surface
adds the partial segment's cost first). Only populated cells are paired:
an empty cell adds nothing to any figure, and maps draw populated cells
only; they are read segment by segment from one array per mode, with
their legs beside them (:class:`PopulatedCells`).

A facility's pairs depend only on its site and the roads, so they are kept
per (mode, segment, position along it, limit): a scenario that adds, moves or
closes a facility searches only from the new sites. Many sites at once (an
evaluation from scratch) are searched on one thread per core, each with its
own scratch (:meth:`ReachTables.search_rows`): the pairs are the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from healthreach.bounded_search import SiteSearch
from healthreach.incremental import CellIndex, CellLegs, segments_near
from healthreach.network import Attachment, Network
from healthreach.reach import Surface, point_cost, source_seeds

THREADS = 4
"""The most threads :meth:`ReachTables.search_rows` searches on (fewer on a machine with fewer cores)."""


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):  # Linux: the cores it is allowed, which a container may limit
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class Scratch:
    """One thread's bounded search and its per-segment marks (False between calls)."""

    search: SiteSearch
    marked: np.ndarray


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
        self._scratch: dict[str, list[Scratch]] = {}  # per mode: one bounded search and its scratch per thread
        self._populated_cells: dict[str, PopulatedCells] = {}

    @staticmethod
    def site_key(mode: str, at: Attachment, limit_s: float, row: int = 0) -> tuple[str, int, float, float]:
        """The key of the search from the site of ``row`` of a table attached at ``at``: mode, segment, metres
        along it, limit (seconds).
        """
        return mode, int(at.seg[row]), float(at.along_m[row]), float(limit_s)

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
        rows = np.asarray(rows, np.int64)
        self.search_rows(mode, at, rows, limit_s)
        cells, row, seconds = [], [], []
        for r in rows:
            c, s = self.of_row(mode, at, int(r), limit_s)
            cells.append(c)
            seconds.append(s)
            row.append(np.full(len(c), r, np.int64))
        if not cells:
            return Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        return Pairs(np.concatenate(cells), np.concatenate(row), np.concatenate(seconds))

    def of_row(self, mode: str, at: Attachment, row: int, limit_s: float) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`one` for the facility of ``row`` of a table attached at ``at``."""
        found = self._kept.get(self.site_key(mode, at, limit_s, row))
        return found if found is not None else self.one(mode, at[np.array([row])], limit_s)

    def one(self, mode: str, site: Attachment, limit_s: float) -> tuple[np.ndarray, np.ndarray]:
        """The populated cells within ``limit_s`` seconds of one facility attached at ``site``, and their seconds
        (kept).
        """
        key = self.site_key(mode, site, limit_s)
        if key not in self._kept:
            self._kept[key] = self._search(mode, site, limit_s, self.scratch(mode, 1)[0])
        return self._kept[key]

    def search_rows(self, mode: str, at: Attachment, rows: np.ndarray, limit_s: float) -> None:
        """Search from the sites of ``rows`` (of a table attached at ``at``) not searched yet, on as many
        threads as the machine has cores (up to :data:`THREADS`), and keep their pairs. The searches are the
        ones :meth:`one` runs, each on its own scratch; the compiled parts run outside the interpreter lock.
        """
        todo: dict[tuple[str, int, float, float], int] = {}
        for r in np.asarray(rows, np.int64):
            key = self.site_key(mode, at, limit_s, int(r))
            if key not in self._kept:
                todo.setdefault(key, int(r))
        keys = list(todo)
        threads = min(THREADS, cores(), len(keys))
        if threads < 2:  # one search at a time: :meth:`one` runs it when asked
            return
        scratch = self.scratch(mode, threads)

        def run(worker: int) -> list[tuple[tuple[str, int, float, float], tuple[np.ndarray, np.ndarray]]]:
            return [(key, self._search(mode, at[np.array([todo[key]])], limit_s, scratch[worker]))
                    for key in keys[worker::threads]]
        with ThreadPoolExecutor(threads) as pool:
            for part in pool.map(run, range(threads)):
                self._kept.update(part)

    def scratch(self, mode: str, threads: int) -> list[Scratch]:
        """A bounded search towards a site on ``mode``'s roads (patients travelling) with its scratch arrays,
        for each of ``threads`` threads (made when first needed, then kept); the mode's populated cells are
        made first too, since every search reads them.
        """
        kept = self._scratch.setdefault(mode, [])
        while len(kept) < threads:
            kept.append(Scratch(SiteSearch(self.net.graph(mode, "time", reverse=True)),
                                np.zeros(self.net.n_segments, bool)))
        self.populated_cells(mode)  # made before any thread reads it
        return kept[:threads]

    def populated_cells(self, mode: str) -> PopulatedCells:
        """``mode``'s populated cells grouped by segment, with their legs (made once per mode)."""
        if mode not in self._populated_cells:
            index = self.cell_index[mode]
            legs = index.legs(self.net, mode, "time", "to", self.access_kmh)
            self._populated_cells[mode] = PopulatedCells.build(index, legs, self.populated, self.net.n_segments)
        return self._populated_cells[mode]

    def _search(self, mode: str, site: Attachment, limit_s: float, scratch: Scratch) -> tuple[np.ndarray, np.ndarray]:
        net, index = self.net, self.cell_index[mode]
        u, v, cost_u, cost_v = source_seeds(net, mode, "time", "to", site)
        search = scratch.search
        grouped = self._populated_cells[mode]
        with search.costs(int(u[0]), float(cost_u[0]), int(v[0]), float(cost_v[0]), limit_s) as reached:
            node = search.node_cost  # seconds from each node to the site within the limit; inf elsewhere
            segments = segments_near(index.node_start, index.node_segs, reached, site.seg, scratch.marked)
            cells, seconds = _via_ends(segments, net.tail, net.head, grouped.start, grouped.cell, grouped.to_u,
                                       grouped.to_v, grouped.leg, node, int(site.seg[0]), float(limit_s))
            own = np.flatnonzero(index.at.seg[cells] == site.seg[0])  # may reach it along the segment itself
            if len(own):
                surface = Surface(mode, "time", "to", node, search.node_row, site, np.zeros(1, np.int64))
                seconds[own], _ = point_cost(net, surface, index.at[cells[own]], self.access_kmh)
                keep = seconds <= limit_s
                cells, seconds = cells[keep], seconds[keep]
        return cells, seconds


@dataclass(frozen=True)
class PopulatedCells:
    """One mode's populated cells grouped by their segment, and each one's legs in the same order, as
    :func:`healthreach.reach.point_cost` adds them for patients travelling: the seconds from its road point to
    its segment's first end ``u`` and last end ``v``, and its off-road leg.
    """

    start: np.ndarray  # the cells of segment s are at positions start[s] to start[s + 1] - 1
    cell: np.ndarray   # the cells, segment after segment (ascending within a segment)
    to_u: np.ndarray
    to_v: np.ndarray
    leg: np.ndarray

    @classmethod
    def build(cls, index: CellIndex, legs: CellLegs, populated: np.ndarray, n_segments: int) -> PopulatedCells:
        """The populated cells of ``index`` (``populated``: per cell), in the order of ``index.order``."""
        cell = index.order[populated[index.order]]
        start = np.searchsorted(index.at.seg[cell], np.arange(n_segments + 1))
        return cls(start, cell, legs.to_u[cell], legs.to_v[cell], legs.leg[cell])


@njit(cache=True, nogil=True)
def _via_ends(  # noqa: PLR0913, PLR0917  a compiled kernel takes plain arrays, not objects
        segments, seg_u, seg_v, start, cell, to_u, to_v, leg_s, node, seg, limit_s):  # pragma: no cover
    """The populated cells of ``segments`` (ascending), segment after segment, within ``limit_s`` seconds via
    an end of their segment (``seg_u``, ``seg_v``: each segment's ends), or on segment ``seg``, and those
    seconds: ``leg_s + min(to_u + node[u], to_v + node[v])``, the sums of
    :func:`healthreach.reach.point_cost` term for term. The cells and their legs are
    :class:`PopulatedCells`'s, read range by range.
    """
    total = 0
    for s in segments:
        total += start[s + 1] - start[s]
    out = np.empty(total, np.int64)
    seconds = np.empty(total)
    n = 0
    for s in segments:
        at_u, at_v = node[seg_u[s]], node[seg_v[s]]  # every cell of the segment shares its ends
        for j in range(start[s], start[s + 1]):
            t = leg_s[j] + min(to_u[j] + at_u, to_v[j] + at_v)
            if t <= limit_s or s == seg:
                out[n], seconds[n] = cell[j], t
                n += 1
    return out[:n], seconds[:n]
