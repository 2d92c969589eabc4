"""The travel surface: cost from every node and point to the nearest facility.

Facilities and points (cells, villages) attach to the nearest point of the
nearest road segment their mode may use (:meth:`Network.attach`). One
multi-source shortest-path pass per (mode, facility group, weight, direction)
in compiled code (``scipy.sparse.csgraph.dijkstra`` with ``min_only``) gives,
for every node, the cost to the nearest facility of the group and which
facility that is: each facility is a virtual node appended to the graph, with
edges to its segment's two ends weighted by the partial segment cost.

A point's cost is its off-road leg plus the cheaper of its two ways onto the
network (the partial segment to ``u`` or to ``v``, then the node's cost), or
the direct way along its own segment to a facility on that same segment.
Partial costs are the segment's edge cost times the fraction travelled.

Direction matters on one-way streets: patients travel *to* facilities (the
search runs on the reversed graph), ambulances drive *from* their stations.
Walking ignores one-way rules; driving does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from healthreach.network import MIN_WEIGHT, Attachment, Network
from healthreach.state import overlaid, overlay_at

Direction = Literal["to", "from"]


@dataclass(frozen=True)
class Surface:
    """Cost to the nearest facility of a group, per network node.

    Per node: the cost (seconds for weight ``time``, metres for ``length``;
    ``inf`` where no facility is reachable) and the facility's row in the
    facility table (-1 where unreachable). A surface computed whole keeps
    them in ``base_cost`` and ``base_facility``. A repaired one
    (:mod:`healthreach.incremental`) shares the base arrays of the surface
    it was repaired from and keeps only the nodes where it differs
    (``nodes``, ascending, with ``node_cost`` and ``node_facility``), so an
    evaluation after a change holds what the change altered, not a copy of
    every node (:func:`nearest_facility` makes its base arrays read-only:
    they are shared). Read the values with :meth:`at`, or whole as
    :attr:`cost` and :attr:`facility`. ``source`` and ``source_row`` are
    the group's facilities (where they attach, their rows): points on a
    facility's own segment may reach it directly.
    """

    mode: str
    weight: str
    direction: Direction
    base_cost: np.ndarray
    base_facility: np.ndarray
    source: Attachment
    source_row: np.ndarray
    nodes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    node_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    node_facility: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def at(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cost and facility row at ``nodes`` (new arrays)."""
        nodes = np.asarray(nodes, np.int64)
        if not len(self.nodes):
            return self.base_cost[nodes], self.base_facility[nodes]
        cost, row = np.empty(len(nodes)), np.empty(len(nodes), np.int64)
        overlay_at(nodes, self.base_cost, self.base_facility, self.nodes, self.node_cost, self.node_facility, cost,
                   row)
        return cost, row

    @property
    def cost(self) -> np.ndarray:
        """Cost at every node (the base array itself when nothing differs from it, else a new array)."""
        return overlaid(self.base_cost, self.nodes, self.node_cost)

    @property
    def facility(self) -> np.ndarray:
        """Facility row at every node (the base array itself when nothing differs from it, else a new array)."""
        return overlaid(self.base_facility, self.nodes, self.node_facility)


def read_only(values: np.ndarray) -> np.ndarray:
    """``values``, no longer writable: a surface's base arrays are shared by every surface repaired from it."""
    values.flags.writeable = False
    return values


def partial_costs(net: Network, mode: str, weight: str, at: Attachment,
                  into: bool) -> tuple[np.ndarray, np.ndarray]:
    """Costs (seconds or metres) between attachment points and their segment's two ends: the edge's cost
    times the fraction of the segment travelled, ``inf`` where the mode may not go that way.

    ``into``: from ``u`` to the point and from ``v`` to the point; else from
    the point to ``u`` and to ``v``.
    """
    w = net.weights(mode, weight)
    forward, backward = w[at.seg], w[at.seg + net.n_segments]
    frac = np.clip(at.along_m / net.length_m[at.seg], 0.0, 1.0)
    with np.errstate(invalid="ignore"):  # no distance to go costs nothing, even on a closed edge (0 x inf)
        if into:
            return np.where(frac == 0, 0.0, frac * forward), np.where(frac == 1, 0.0, (1.0 - frac) * backward)
        return np.where(frac == 0, 0.0, frac * backward), np.where(frac == 1, 0.0, (1.0 - frac) * forward)


def source_seeds(net: Network, surface_mode: str, weight: str, direction: Direction,
                 at: Attachment) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nodes ``u``, ``v`` of each source's segment and the source's cost at each, in the search's direction.

    ``to``: the cost of travelling from the node to the facility; ``from``:
    from the facility to the node.
    """
    cost_u, cost_v = partial_costs(net, surface_mode, weight, at, into=direction == "to")
    u, v = net.segment_ends(at.seg)
    return u, v, cost_u, cost_v


def _with_sources(graph: sparse.csr_matrix, u: np.ndarray, v: np.ndarray, cost_u: np.ndarray,
                  cost_v: np.ndarray) -> sparse.csr_matrix:
    """The graph with one virtual node per source appended (rows and columns at the end), edges to u and v."""
    n, k = graph.shape[0], len(u)
    cols = np.column_stack([u, v]).ravel()
    w = np.column_stack([cost_u, cost_v]).ravel()
    ok = np.isfinite(w)
    counts = ok.reshape(k, 2).sum(axis=1)
    index = graph.indices.dtype if n + k < np.iinfo(graph.indices.dtype).max else np.int64
    data = np.concatenate([graph.data, w[ok]])
    indices = np.concatenate([graph.indices, cols[ok]]).astype(index, copy=False)
    indptr = np.concatenate([graph.indptr, graph.indptr[-1] + np.cumsum(counts)]).astype(index, copy=False)
    return sparse.csr_matrix((data, indices, indptr), shape=(n + k, n + k))  # type: ignore[arg-type]  # scipy-stubs


def nearest_facility(net: Network, at: Attachment, mode: str, weight: str = "time",
                     direction: Direction = "to", rows: np.ndarray | None = None) -> Surface:
    """Run one multi-source Dijkstra from a group's facilities.

    Parameters
    ----------
    at : Attachment
        Where each facility of the group attaches to the mode's roads.
    rows : ndarray of int, optional
        The facilities' rows in the facility table (default ``0..k-1``).
        Where several facilities stand at the same point, the first listed
        is the one reported as nearest.
    direction : {"to", "from"}
        ``to``: cost of travelling from each node to the facility (patients);
        ``from``: cost from the facility out to each node (ambulances).
    """
    rows = np.arange(len(at)) if rows is None else np.asarray(rows, np.int64)
    n = net.n_nodes
    if len(at) == 0:
        return Surface(mode, weight, direction, read_only(np.full(n, np.inf)), read_only(np.full(n, -1, np.int64)), at,
                       rows)
    # one virtual node per distinct attachment point; the first listed facility there speaks for it
    _, first = np.unique(np.column_stack([at.seg, at.along_m]), axis=0, return_index=True)
    first = np.sort(first)
    u, v, cost_u, cost_v = source_seeds(net, mode, weight, direction, at[first])
    graph = net.graph(mode, weight, reverse=(direction == "to"))
    # csgraph reads a stored zero as no edge: a facility standing on a node gets the smallest positive cost
    big = _with_sources(graph, u, v, np.maximum(cost_u, MIN_WEIGHT), np.maximum(cost_v, MIN_WEIGHT))
    cost, _, origin = dijkstra(big, directed=True, indices=np.arange(n, n + len(first)), min_only=True,
                               return_predecessors=True)
    origin = origin[:n]
    facility = np.where(origin >= n, rows[first][np.maximum(origin - n, 0)], -1)
    return Surface(mode, weight, direction, read_only(cost[:n]), read_only(facility), at, rows)


def point_cost(net: Network, surface: Surface, at: Attachment, access_kmh: float,
               out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cost and nearest facility's row for points attached at ``at`` (written into ``out``'s two arrays, one
    entry per point, when given).

    Time surfaces add the off-road leg walked at ``access_kmh`` (seconds);
    length surfaces add the leg's straight-line length (metres). The road
    part is the cheapest of: via the segment's first node ``u``, via its
    last node ``v``, or directly along the segment to a facility on it.
    """
    u, v = net.segment_ends(at.seg)
    # patients ('to') leave their point for an end, ambulances ('from') come from an end into it
    to_u, to_v = partial_costs(net, surface.mode, surface.weight, at, into=surface.direction == "from")
    (cost_u, row_u), (cost_v, row_v) = surface.at(u), surface.at(v)
    via_u, via_v = to_u + cost_u, to_v + cost_v
    road = np.minimum(via_u, via_v)
    facility = np.where(via_u <= via_v, row_u, row_v)
    point, direct, row = same_segment(net, surface, at)
    if len(point):
        better = direct < road[point]
        road[point[better]] = direct[better]
        facility[point[better]] = row[better]
    leg = at.leg_m / (access_kmh / 3.6) if surface.weight == "time" else at.leg_m
    cost, row = (np.empty(len(road)), np.empty(len(road), np.int64)) if out is None else out
    np.add(leg, road, out=cost)
    np.copyto(row, np.where(np.isfinite(road), facility, -1))
    return cost, row


def same_segment(net: Network, surface: Surface, at: Attachment) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points that share a segment with a facility: (point index, cheapest direct road cost, that facility's row).

    The direct way runs along the segment between the two attachment points
    without passing a node, in the surface's direction (to / from the facility).
    """
    src = surface.source
    empty = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
    if len(src) == 0 or len(at) == 0:
        return empty
    with_source = np.zeros(net.n_segments, bool)
    with_source[src.seg] = True
    candidates = np.flatnonzero(with_source[at.seg])  # the few points on a facility's segment
    if len(candidates) == 0:
        return empty
    point, cost, row = _same_segment(net, surface, at[candidates])
    return candidates[point], cost, row


def _same_segment(net: Network, surface: Surface, at: Attachment) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`same_segment` for points that all share a segment with some facility."""
    src = surface.source
    order = np.argsort(src.seg, kind="stable")
    sorted_seg = src.seg[order]
    lo = np.searchsorted(sorted_seg, at.seg, "left")
    count = np.searchsorted(sorted_seg, at.seg, "right") - lo
    total = int(count.sum())
    point = np.repeat(np.arange(len(at)), count)
    j = order[np.repeat(lo - np.cumsum(count) + count, count) + np.arange(total)]
    seg = at.seg[point]
    # metres travelled in the segment's drawn direction: facility ahead of the point ('to'), or behind it ('from')
    ahead = src.along_m[j] - at.along_m[point]
    if surface.direction == "from":
        ahead = -ahead
    w = net.weights(surface.mode, surface.weight)
    edge = np.where(ahead >= 0, seg, seg + net.n_segments)
    cost = w[edge]
    cost = np.where(ahead == 0, 0.0, np.where(np.isfinite(cost),
                                              np.abs(ahead) / net.length_m[seg] * np.where(np.isfinite(cost), cost, 0),
                                              np.inf))
    # cheapest per point; the first listed facility among equals
    pick = np.lexsort((j, cost, point))
    point, cost, j = point[pick], cost[pick], j[pick]
    head = np.r_[True, point[1:] != point[:-1]]
    return point[head], cost[head], surface.source_row[j[head]]
