"""Incremental travel surfaces: update the baseline when a few facilities change.

A full evaluation runs one multi-source Dijkstra per travel surface over the
whole network. A scenario usually moves, adds or closes a handful of
facilities, and most nodes keep their nearest facility, so the surfaces are
*repaired* instead of recomputed:

* **add** (a new source, or a facility joining a group by an upgrade): a
  Dijkstra from the new site that only continues where it beats today's cost.
  Baseline costs are exact shortest-path costs, so they obey the triangle
  inequality and a node that is not improved cannot lead to one that is:
  the pruned search is exact, and it stops at the edge of the new catchment.
* **close** (a source removed, or leaving a group): only the nodes the closed
  facility served lose their cost. They are re-solved from their boundary,
  each seeded with the best baseline cost of a neighbour outside plus the
  edge between them; every other node keeps its cost, which no removal can
  lower.
* **relocate** = close at the old node and add at the new one, in one pass.

Both run in one compiled (numba) label-correcting Dijkstra that starts from
the current labels. Cells then read only the nodes whose label changed. The
result equals :func:`healthreach.travel.cell_travel` on the changed table
(costs exactly, the facility wherever the cost is not tied); the tests check
this on many random changes.

Facility rows: the changed table must keep the baseline rows in order (a
closed facility stays as a row that belongs to no group) and append new
facilities at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from heapq import heappop, heappush

import geopandas as gpd
import numpy as np
from numba import njit

from healthreach.inputs import StudyInputs
from healthreach.reach import Access, Surface
from healthreach.travel import CellCost, Need, cell_access, cell_travel, facility_node, in_group, needs


@njit(cache=True)
def _repair(indptr, indices, weights, rindptr, rindices, rweights,
            cost, facility, invalid, seed_node, seed_row):  # pragma: no cover - compiled
    """Repair a nearest-facility surface in place; return the nodes whose label changed.

    ``indptr/indices/weights``: CSR of the search graph (edges leaving a node);
    ``rindptr/rindices/rweights``: its transpose (edges entering a node).
    ``invalid``: nodes whose source was removed; ``seed_node/seed_row``: sources
    that start at cost 0 (new sites, and remaining sources inside the invalid set).
    """
    n = cost.shape[0]
    touched = np.zeros(n, np.bool_)
    for i in range(invalid.shape[0]):
        v = invalid[i]
        cost[v] = np.inf
        facility[v] = -1
        touched[v] = True
    heap = [(0.0, np.int64(0))]
    heap.pop()
    # seed the invalid region from its boundary (edges entering it)
    for i in range(invalid.shape[0]):
        v = invalid[i]
        for k in range(rindptr[v], rindptr[v + 1]):
            u = rindices[k]
            c = cost[u] + rweights[k]
            if c < cost[v]:
                cost[v] = c
                facility[v] = facility[u]
        if cost[v] < np.inf:
            heappush(heap, (cost[v], np.int64(v)))
    # new sources; at a shared node the lowest row wins, as in the full search
    for i in range(seed_node.shape[0]):
        v = seed_node[i]
        r = seed_row[i]
        if cost[v] > 0.0 or (cost[v] == 0.0 and r < facility[v]):
            cost[v] = 0.0
            facility[v] = r
            touched[v] = True
            heappush(heap, (0.0, np.int64(v)))
    # label-correcting Dijkstra, pruned wherever today's cost is not beaten
    while len(heap) > 0:
        c, v = heappop(heap)
        if c > cost[v]:
            continue
        f = facility[v]
        for k in range(indptr[v], indptr[v + 1]):
            u = indices[k]
            nc = c + weights[k]
            if nc < cost[u]:
                cost[u] = nc
                facility[u] = f
                touched[u] = True
                heappush(heap, (nc, np.int64(u)))
    return np.flatnonzero(touched)


def warm_up() -> float:
    """Compile (or load from numba's on-disk cache) the repair kernel; seconds taken (microseconds once warm)."""
    start = time.perf_counter()
    indptr = np.array([0, 1, 1], np.int32)
    indices = np.array([1], np.int32)
    weights = np.array([1.0])
    cost = np.array([0.0, 1.0])
    facility = np.array([0, 0], np.int64)
    _repair(indptr, indices, weights, indptr, indices, weights, cost, facility,
            np.array([1], np.int64), np.array([0], np.int64), np.array([0], np.int64))
    return time.perf_counter() - start


def repair_surface(net, surface: Surface, removed_rows: np.ndarray, seed_nodes: np.ndarray,
                   seed_rows: np.ndarray, remaining_nodes: np.ndarray | None = None,
                   remaining_rows: np.ndarray | None = None) -> tuple[Surface, np.ndarray]:
    """A new surface with some sources removed and others added, and the nodes that changed.

    Parameters
    ----------
    net : Network
        The network the surface was computed on.
    surface : Surface
        The current surface (cost in seconds or metres, facility row per node).
    removed_rows : ndarray of int
        Facility rows that are no longer sources (closed, moved away, left the group).
    seed_nodes, seed_rows : ndarray of int
        New sources: the node each stands at and its facility row.
    remaining_nodes, remaining_rows : ndarray of int, optional
        The sources that stay; only those standing inside the re-solved region
        (a node shared with a removed source) are used.
    """
    reverse = surface.direction == "to"
    graph = net.graph(surface.mode, surface.weight, reverse=reverse)
    back = net.graph(surface.mode, surface.weight, reverse=not reverse)
    cost = surface.cost.copy()
    facility = surface.facility.astype(np.int64, copy=True)
    removed_rows = np.asarray(removed_rows, np.int64)
    if len(removed_rows):
        lost = facility == removed_rows[0]
        for row in removed_rows[1:]:
            lost |= facility == row
        invalid = np.flatnonzero(lost)
    else:
        invalid = np.zeros(0, np.int64)
    seed_nodes = np.asarray(seed_nodes, np.int64)
    seed_rows = np.asarray(seed_rows, np.int64)
    if len(invalid) and remaining_nodes is not None and len(remaining_nodes):
        remaining_nodes = np.asarray(remaining_nodes, np.int64)
        inside = lost[remaining_nodes]
        seed_nodes = np.r_[seed_nodes, remaining_nodes[inside]]
        seed_rows = np.r_[seed_rows, np.asarray(remaining_rows, np.int64)[inside]]
    changed = _repair(graph.indptr, graph.indices, graph.data, back.indptr, back.indices, back.data,
                      cost, facility, invalid.astype(np.int64), seed_nodes, seed_rows)
    return Surface(surface.mode, surface.weight, surface.direction, cost, facility), changed


@dataclass
class _CellIndex:
    """Cells grouped by their access node, and each cell's off-road leg in one unit."""

    node: np.ndarray       # access node per cell
    order: np.ndarray      # cells sorted by access node
    start: np.ndarray      # order[start[v]:start[v + 1]] are the cells of node v
    leg: dict[str, np.ndarray]  # weight -> leg per cell (seconds for time, metres for length)

    def cells_of(self, nodes: np.ndarray) -> np.ndarray:
        lo, hi = self.start[nodes], self.start[nodes + 1]
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, np.int64)
        offsets = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(total)
        return self.order[offsets]


class TravelUpdater:
    """Baseline travel surfaces of a study, and their incremental update for a changed facility table.

    Parameters
    ----------
    inputs : StudyInputs
        The study (network, cells, profile).
    facilities : GeoDataFrame, optional
        The baseline facility table (default: the study's own).
    travel : dict, optional
        The baseline surfaces if already computed (``Audit.travel``); they must
        come from :func:`healthreach.travel.cell_travel` on ``facilities``.
    """

    def __init__(self, inputs: StudyInputs, facilities: gpd.GeoDataFrame | None = None,
                 travel: dict[Need, CellCost] | None = None):
        self.inputs = inputs
        self.compile_s = warm_up()  # seconds to compile (or load from numba's cache) the kernel, once per process
        self.facilities = inputs.facilities if facilities is None else facilities
        self.needs = needs(inputs.profile)
        self.access: dict[str, Access] = cell_access(inputs, {n.mode for n in self.needs})
        self.travel = travel if travel is not None else cell_travel(inputs, self.facilities, self.access)
        kmh = inputs.profile.travel.access_kmh
        self._cells: dict[str, _CellIndex] = {}
        n = inputs.network.n_nodes
        for mode, acc in self.access.items():
            order = np.argsort(acc.node, kind="stable")
            start = np.searchsorted(acc.node[order], np.arange(n + 1))
            # the same arithmetic as reach.point_cost, so updated cells equal recomputed ones bit for bit
            self._cells[mode] = _CellIndex(acc.node, order, start,
                                           {"time": acc.leg_m / (kmh / 3.6), "length": acc.leg_m})
        self._base = self._sources(self.facilities)
        for need in self.needs:  # build the CSR graphs now, not during the first change
            reverse = need.direction == "to"
            inputs.network.graph(need.mode, need.weight, reverse)
            inputs.network.graph(need.mode, need.weight, not reverse)

    def _sources(self, facilities: gpd.GeoDataFrame) -> dict[Need, tuple[np.ndarray, np.ndarray]]:
        """Per need: group membership (bool per row) and the node of each row."""
        groups = self.inputs.profile.groups
        return {need: (in_group(facilities, groups[need.group]), facility_node(facilities, need.mode))
                for need in self.needs}

    def update(self, facilities: gpd.GeoDataFrame) -> dict[Need, CellCost]:
        """The travel surfaces for a changed facility table, repaired from the baseline.

        Equal to ``cell_travel(inputs, facilities)``; surfaces no change touches
        are shared with the baseline (not copied).
        """
        n_base = len(self.facilities)
        if len(facilities) < n_base or not np.array_equal(facilities["id"].to_numpy()[:n_base],
                                                          self.facilities["id"].to_numpy()):
            raise ValueError("the changed facility table must keep the baseline rows in order "
                             "and append new facilities at the end")
        extra = len(facilities) - n_base
        out: dict[Need, CellCost] = {}
        for need, (member_after, node_after) in self._sources(facilities).items():
            member_before, node_before = self._base[need]
            member_before = np.r_[member_before, np.zeros(extra, bool)]
            node_before = np.r_[node_before, np.full(extra, -1)]
            moved = node_after != node_before
            removed = np.flatnonzero(member_before & (~member_after | moved))
            added = np.flatnonzero(member_after & (~member_before | moved))
            base = self.travel[need]
            if len(removed) == 0 and len(added) == 0:
                out[need] = base
                continue
            stay = np.flatnonzero(member_after & member_before & ~moved)
            surface, changed = repair_surface(self.inputs.network, base.surface, removed,
                                              node_after[added], added, node_after[stay], stay)
            index = self._cells[need.mode]
            cells = index.cells_of(changed)
            cost = base.cost.copy()
            facility = base.facility.copy()
            nodes = index.node[cells]
            cost[cells] = surface.cost[nodes] + index.leg[need.weight][cells]
            facility[cells] = surface.facility[nodes]
            out[need] = CellCost(cost, facility, surface)
        return out
