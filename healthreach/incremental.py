"""Incremental travel surfaces: update the baseline when a few facilities change.

A full evaluation runs one multi-source Dijkstra per travel surface over the
whole network. A scenario usually moves, adds or closes a handful of
facilities, and most nodes keep their nearest facility, so the surfaces are
*repaired* instead of recomputed:

* **add** (a new source, or a facility joining a group by an upgrade): a
  Dijkstra from the new site (seeded at its segment's two ends with the
  partial segment costs) that only continues where it beats today's cost.
  Baseline costs are exact shortest-path costs, so they obey the triangle
  inequality and a node that is not improved cannot lead to one that is:
  the pruned search is exact, and it stops at the edge of the new catchment.
* **close** (a source removed, or leaving a group): only the nodes the closed
  facility served lose their cost. They are re-solved from their boundary,
  each seeded with the best baseline cost of a neighbour outside plus the
  edge between them; every other node keeps its cost, which no removal can
  lower.
* **relocate** = close at the old attachment and add at the new one, in one pass.

Both run in one compiled (numba) label-correcting Dijkstra that starts from
the current labels. A cell depends on the two nodes of its segment and on
facilities attached to that same segment, so cells are recomputed only on
segments with a changed end node or an added or removed facility. The
result equals a full evaluation of the changed table (costs exactly, the
facility wherever the cost is not tied); the tests check this on many
random changes.

The label-correcting search runs in working arrays the study keeps per
surface (:class:`NodeScratch`), equal to the baseline between repairs: a
repair writes the nodes it changes, the repaired surface keeps just those
nodes (:class:`~healthreach.reach.Surface`), and the working arrays are put
back where they were written.

Facility rows: the changed table must keep the baseline rows in order (a
closed facility stays as a row that belongs to no group) and append new
facilities at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from healthreach.network import MIN_WEIGHT, Attachment, Network
from healthreach.reach import Surface, partial_costs, read_only, same_segment, source_seeds
from healthreach.state import Changed, distinct, union


@njit(cache=True)
def _repair(  # noqa: PLR0913, PLR0917  a compiled kernel takes plain arrays, not objects
            indptr, indices, weights, rindptr, rindices, rweights,
            cost, facility, invalid, seed_node, seed_cost, seed_row):  # pragma: no cover - compiled
    """Repair a nearest-facility surface in place; return the nodes whose label changed.

    ``indptr/indices/weights``: CSR of the search graph (edges leaving a node);
    ``rindptr/rindices/rweights``: its transpose (edges entering a node).
    ``invalid``: nodes whose source was removed; ``seed_node/seed_cost/seed_row``:
    sources that reach a node at a given cost (the partial segment from a new
    site, or from a remaining site next to the invalid set).

    The heap holds (cost, node) records in a 4-ary heap on two arrays
    and pops them in (cost, node) order, so equal costs settle in the same
    order, and ties go to the same facility, whatever the heap's shape. A
    record is pushed per invalid node, per seed and per edge that lowers a
    cost (at most once per edge and label), so the heap has room for all
    of them; only the part written is touched.
    """
    n = cost.shape[0]
    touched = np.zeros(n, np.bool_)
    for i in range(invalid.shape[0]):
        v = invalid[i]
        cost[v] = np.inf
        facility[v] = -1
        touched[v] = True
    room = invalid.shape[0] + seed_node.shape[0] + indices.shape[0] + 1
    heap_cost = np.empty(room)
    heap_node = np.empty(room, np.int64)
    size = 0
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
            size = _push(heap_cost, heap_node, size, cost[v], v)
    # new sources; at an equal cost the lowest row wins
    for i in range(seed_node.shape[0]):
        v = seed_node[i]
        c = seed_cost[i]
        r = seed_row[i]
        if c < cost[v] or (c == cost[v] and r < facility[v]):
            cost[v] = c
            facility[v] = r
            touched[v] = True
            size = _push(heap_cost, heap_node, size, c, v)
    # label-correcting Dijkstra, pruned wherever today's cost is not beaten
    while size > 0:
        c, v = heap_cost[0], heap_node[0]
        size = _pop(heap_cost, heap_node, size)
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
                size = _push(heap_cost, heap_node, size, nc, u)
    return np.flatnonzero(touched)


@njit(cache=True, inline="always")
def _before(c1, v1, c2, v2):  # pragma: no cover - compiled
    """Whether the record (c1, v1) comes before (c2, v2): by cost, then by node."""
    return c1 < c2 or (c1 == c2 and v1 < v2)


@njit(cache=True, inline="always")
def _pop(heap_cost, heap_node, size):  # pragma: no cover - compiled
    """Remove the root of the 4-ary heap of ``size`` records (the last record sifts down); the new size."""
    size -= 1
    last_c, last_v = heap_cost[size], heap_node[size]
    i = 0
    while True:
        first = 4 * i + 1
        if first >= size:
            break
        best = first
        for child in range(first + 1, min(first + 4, size)):
            if _before(heap_cost[child], heap_node[child], heap_cost[best], heap_node[best]):
                best = child
        if not _before(heap_cost[best], heap_node[best], last_c, last_v):
            break
        heap_cost[i], heap_node[i] = heap_cost[best], heap_node[best]
        i = best
    heap_cost[i], heap_node[i] = last_c, last_v
    return size


@njit(cache=True, inline="always")
def _push(heap_cost, heap_node, size, c, v):  # pragma: no cover - compiled
    """Add the record (``c``, ``v``) to the 4-ary heap of ``size`` records (room for one more); the new size."""
    i = size
    while i > 0:
        parent = (i - 1) // 4
        if not _before(c, v, heap_cost[parent], heap_node[parent]):
            break
        heap_cost[i], heap_node[i] = heap_cost[parent], heap_node[parent]
        i = parent
    heap_cost[i], heap_node[i] = c, v
    return size + 1


@njit(cache=True)
def _served_by(facility, rows):  # pragma: no cover - compiled
    """Per node: whether its facility row (-1: none) is one of ``rows`` (rows >= 0).

    One pass over the nodes with a table of the rows: ``np.isin`` builds its
    own index and took several times as long on a 250,000-node surface.
    """
    top = -1
    for r in rows:
        top = max(top, r)
    table = np.zeros(top + 1, np.bool_)
    for r in rows:
        table[r] = True
    out = np.empty(facility.shape[0], np.bool_)
    for i in range(facility.shape[0]):
        f = facility[i]
        out[i] = 0 <= f <= top and table[f]
    return out


class NodeScratch:
    """Working arrays for repairing one travel surface: every node's cost and facility row.

    Between repairs they equal the base arrays of the surface last repaired
    in them, so a repair writes the nodes it changes and puts back only
    those, instead of copying every node: an evaluation after a change then
    holds the nodes that changed (see :class:`~healthreach.reach.Surface`).
    A study keeps one per travel surface. A repair that finds them in use
    (one started inside another's) works on copies of its own; a study is
    still evaluated by one thread at a time (``docs/api.md``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._base: tuple[np.ndarray, np.ndarray] | None = None  # the base arrays the working arrays mirror
        self.cost = np.zeros(0)
        self.facility = np.zeros(0, np.int64)
        self._written: list[np.ndarray] = []  # nodes to put back when the current repair ends

    @contextmanager
    def holding(self, surface: Surface) -> Iterator[NodeScratch]:
        """Working arrays equal to ``surface``'s values at every node, for one repair; nodes the repair writes
        must be reported with :meth:`written` (they are put back when it ends).
        """
        if not self._lock.acquire(blocking=False):  # in use: copies of its own
            own = NodeScratch()
            with own.holding(surface) as work:
                yield work
            return
        try:
            base = self._base
            if base is None or base[0] is not surface.base_cost or base[1] is not surface.base_facility:
                self.cost = surface.base_cost.astype(float, copy=True)
                self.facility = surface.base_facility.astype(np.int64, copy=True)
                self._base = (surface.base_cost, surface.base_facility)
            self.cost[surface.nodes], self.facility[surface.nodes] = surface.node_cost, surface.node_facility
            self._written = [surface.nodes]
            yield self
            for nodes in self._written:  # back to the base values
                self.cost[nodes], self.facility[nodes] = surface.base_cost[nodes], surface.base_facility[nodes]
        except BaseException:
            self._base = None  # left part-written: copied again next time
            raise
        finally:
            self._lock.release()

    def written(self, nodes: np.ndarray) -> None:
        """Record nodes a repair wrote, to be put back when the repair ends."""
        self._written.append(nodes)


def repair_surface(net: Network, surface: Surface, removed_rows: np.ndarray, added: Attachment,
                   added_rows: np.ndarray, *, scratch: NodeScratch | None = None) -> tuple[Surface, np.ndarray]:
    """A new surface with some sources removed and others added, and the nodes that changed.

    Parameters
    ----------
    net : Network
        The network the surface was computed on.
    surface : Surface
        The current surface (cost in seconds or metres, facility row per node).
    removed_rows : ndarray of int
        Facility rows that are no longer sources (closed, moved away, left the group).
    added, added_rows : Attachment, ndarray of int
        New sources: where each attaches to the roads and its facility row.
    scratch : NodeScratch, optional
        The working arrays to repair in (default: new ones).

    The sources that stay are the surface's own minus the removed rows; those
    next to the re-solved region seed it with their partial segment costs.
    """
    with (scratch or NodeScratch()).holding(surface) as work:
        return _repair_in(net, surface, removed_rows, added, added_rows, work)


def _repair_in(net: Network, surface: Surface, removed_rows: np.ndarray, added: Attachment,
               added_rows: np.ndarray, work: NodeScratch) -> tuple[Surface, np.ndarray]:
    """:func:`repair_surface` in ``work``, which holds the repaired values at every node when it returns."""
    reverse = surface.direction == "to"
    graph = net.graph(surface.mode, surface.weight, reverse=reverse)
    back = net.graph(surface.mode, surface.weight, reverse=not reverse)
    cost, facility = work.cost, work.facility
    removed_rows = np.asarray(removed_rows, np.int64)
    added_rows = np.asarray(added_rows, np.int64)
    remaining, remaining_rows = surface.source, surface.source_row
    invalid = np.zeros(0, np.int64)
    seeds = [_seeds(net, surface, added, added_rows, None)] if len(added_rows) else []
    if len(removed_rows):
        stays = ~np.isin(surface.source_row, removed_rows)
        remaining, remaining_rows = surface.source[stays], surface.source_row[stays]
        lost = _served_by(facility, removed_rows)
        invalid = np.flatnonzero(lost)
        if len(invalid) and len(remaining):
            seeds.append(_seeds(net, surface, remaining, remaining_rows, lost))
    seed_node, seed_cost, seed_row = (np.concatenate(parts) for parts in zip(*seeds, strict=True)) if seeds else (
        np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
    changed = _repair(graph.indptr, graph.indices, graph.data, back.indptr, back.indices, back.data,
                      cost, facility, invalid, seed_node, seed_cost, seed_row)
    work.written(changed)
    if len(added_rows):
        remaining, remaining_rows = Attachment.concat([remaining, added]), np.concatenate((remaining_rows, added_rows))
    nodes = union((surface.nodes, changed), net.n_nodes)
    if 2 * len(nodes) > net.n_nodes:  # most nodes differ (after many changes): whole arrays cost less
        repaired = Surface(surface.mode, surface.weight, surface.direction, read_only(cost.copy()),
                           read_only(facility.copy()), remaining, remaining_rows)
    else:
        repaired = Surface(surface.mode, surface.weight, surface.direction, surface.base_cost, surface.base_facility,
                           remaining, remaining_rows, nodes, cost[nodes], facility[nodes])
    return repaired, changed


def _seeds(net, surface: Surface, at: Attachment, rows: np.ndarray,
           only: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(node, cost, row) seeds of sources at their segments' two ends; ``only``: keep nodes marked True."""
    if only is not None:  # the sources next to a marked node only
        u, v = net.segment_ends(at.seg)
        near = np.flatnonzero(only[u] | only[v])
        at, rows = at[near], rows[near]
    u, v, cost_u, cost_v = source_seeds(net, surface.mode, surface.weight, surface.direction, at)
    node = np.concatenate((u, v)).astype(np.int64, copy=False)
    cost = np.maximum(np.concatenate((cost_u, cost_v)), MIN_WEIGHT)  # as the full search stores them
    row = np.concatenate((rows, rows)).astype(np.int64, copy=False)
    keep = np.isfinite(cost)
    if only is not None:
        keep &= only[node]
    return node[keep], cost[keep], row[keep]


@dataclass(frozen=True)
class CellLegs:
    """The terms of :func:`healthreach.reach.point_cost` per cell of one mode's attachment, for one weight and
    direction: the two ends ``u`` and ``v`` of the cell's segment, the cost (seconds or metres) between the
    cell's road point and each end in the direction travelled, and the off-road leg (seconds at the access
    speed, or metres).
    """

    u: np.ndarray
    v: np.ndarray
    to_u: np.ndarray
    to_v: np.ndarray
    leg: np.ndarray

    @classmethod
    def build(cls, net: Network, at: Attachment, mode: str, weight: str, direction: str,
              access_kmh: float) -> CellLegs:
        """The legs of the points attached at ``at``, as :func:`~healthreach.reach.point_cost` computes them."""
        u, v = net.segment_ends(at.seg)
        to_u, to_v = partial_costs(net, mode, weight, at, into=direction == "from")
        leg = at.leg_m / (access_kmh / 3.6) if weight == "time" else at.leg_m
        return cls(u.astype(np.int64), v.astype(np.int64), to_u, to_v, np.asarray(leg, float))


@dataclass
class CellIndex:
    """Cells grouped by their segment, and segments by their end nodes; per weight and direction, the cells'
    legs (built when first asked for).
    """

    at: Attachment          # each cell's attachment
    order: np.ndarray       # cells sorted by segment
    start: np.ndarray       # order[start[s]:start[s + 1]] are the cells of segment s
    node_segs: np.ndarray   # segments sorted by end node (each segment twice)
    node_start: np.ndarray  # node_segs[node_start[v]:node_start[v + 1]] are the segments at node v
    marked: np.ndarray = field(repr=False, compare=False)  # per segment, scratch of cells_near: False between calls
    built_legs: dict[tuple[str, str], CellLegs] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, net, at: Attachment) -> CellIndex:
        """The index of the cells attached at ``at`` on the segments of network ``net``."""
        m = net.n_segments
        order = np.argsort(at.seg, kind="stable")
        start = np.searchsorted(at.seg[order], np.arange(m + 1))
        ends = np.r_[net.tail[:m], net.head[:m]]
        by_node = np.argsort(ends, kind="stable")
        node_start = np.searchsorted(ends[by_node], np.arange(net.n_nodes + 1))
        return cls(at, order, start, np.r_[np.arange(m), np.arange(m)][by_node], node_start, np.zeros(m, bool))

    def legs(self, net: Network, mode: str, weight: str, direction: str, access_kmh: float) -> CellLegs:
        """Every cell's legs for a weight and direction on this index's mode (built once)."""
        key = (weight, direction)
        if key not in self.built_legs:
            self.built_legs[key] = CellLegs.build(net, self.at, mode, weight, direction, access_kmh)
        return self.built_legs[key]

    def cells_near(self, nodes: np.ndarray, segments: np.ndarray) -> np.ndarray:
        """Cells on a segment that ends at one of ``nodes`` or is one of ``segments`` (distinct), segment after
        segment in ascending order. Work is in proportion to the segments found, not to the network.
        """
        return _cells_near(self.node_start, self.node_segs, self.start, self.order, np.asarray(nodes, np.int64),
                           np.asarray(segments, np.int64), self.marked)

    def positions_on(self, segments: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Positions in ``cells`` (ascending) of the cells on ``segments`` (distinct; -1: none), ascending.
        Work is in proportion to the cells of ``segments``.
        """
        segments = segments[segments >= 0].astype(np.int64, copy=False)
        on = self.order[_ranges(self.start, segments)]
        pos = np.minimum(np.searchsorted(cells, on), max(len(cells) - 1, 0))
        found = pos[cells[pos] == on] if len(cells) else pos[:0]
        found.sort()
        return found


@njit(cache=True)
def _cells_near(node_start, node_segs, start, order, nodes, segments, marked):  # pragma: no cover - compiled
    """:meth:`CellIndex.cells_near` in compiled code: the distinct segments at ``nodes`` and ``segments``,
    ascending (:func:`segments_near`), then their cells.
    """
    return order[_ranges(start, segments_near(node_start, node_segs, nodes, segments, marked))]


@njit(cache=True, nogil=True)
def segments_near(node_start, node_segs, nodes, segments, marked):  # pragma: no cover - compiled
    """The distinct segments that end at one of ``nodes`` or are one of ``segments``, ascending.

    ``node_segs[node_start[v]:node_start[v + 1]]`` are the segments at node
    ``v``; ``marked`` (per segment) is False everywhere on entry and on
    return. The segments found come out ascending by a scan of ``marked``
    between the least and the greatest where that span is short (segments
    numbered near each other), else by sorting them.
    """
    bound = len(segments)
    for v in nodes:
        bound += node_start[v + 1] - node_start[v]
    segs = np.empty(bound, np.int64)
    m, lo, hi = 0, len(marked), -1
    for s in np.concatenate((node_segs[_ranges(node_start, nodes)], segments)):
        if not marked[s]:
            marked[s] = True
            segs[m] = s
            m += 1
            lo, hi = min(lo, s), max(hi, s)
    if hi - lo < 16 * m:
        m = 0
        for s in range(lo, hi + 1):
            if marked[s]:
                segs[m] = s
                m += 1
    else:
        segs[:m].sort()  # in place: nothing allocated while segments are marked
    segs = segs[:m]
    for s in segs:
        marked[s] = False
    return segs


@njit(cache=True)
def _ranges(start, keys):  # pragma: no cover - compiled
    """The positions ``start[k]`` to ``start[k + 1] - 1`` of each key ``k``, one key after another."""
    total = 0
    for k in keys:
        total += start[k + 1] - start[k]
    out = np.empty(total, np.int64)
    i = 0
    for k in keys:
        for j in range(start[k], start[k + 1]):
            out[i] = j
            i += 1
    return out


def moved_rows(at_before: Attachment, at_after: Attachment) -> np.ndarray:
    """Per facility row of the table after a change: whether it attaches elsewhere than before (appended rows:
    True).
    """
    n = len(at_before.seg)
    moved = np.ones(len(at_after.seg), bool)
    moved[:n] = (at_after.seg[:n] != at_before.seg) | (at_after.along_m[:n] != at_before.along_m)
    return moved


def sources_changed(member_before: np.ndarray, member_after: np.ndarray, moved: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Rows that stop being sources (closed, left the group, moved away) and rows that become sources.

    The table after may have more rows (appended facilities); ``moved``
    (:func:`moved_rows`) marks the rows that attach elsewhere, each both
    removed (from its old site) and added (at its new one).
    """
    before = np.zeros(len(member_after), bool)
    before[:len(member_before)] = member_before
    removed = np.flatnonzero(before & (~member_after | moved))
    added = np.flatnonzero(member_after & (~before | moved))
    return removed, added


@njit(cache=True)
def _changed_values(  # noqa: PLR0913, PLR0917  a compiled kernel takes plain arrays, not objects
        cells, u, v, to_u, to_v, leg, node_cost, node_row, direct_at, direct_cost, direct_row,
        cost0, row0, own, own_cost, own_row):  # pragma: no cover - compiled
    """Point costs at ``cells`` (ascending) from a node surface, and the cells where they differ from before.

    The cost and row are :func:`healthreach.reach.point_cost`'s, term for
    term: via ``u`` or ``v`` (``u`` on a tie), or directly along the
    segment where ``direct_at`` (ascending positions in ``cells``) gives a
    cheaper ``direct_cost`` to ``direct_row``. Before: ``cost0``/``row0``
    per cell, but the overlay ``own`` (ascending cells) with
    ``own_cost``/``own_row``. Returns, where cost or row differ: the cells,
    their cost and row after and before.
    """
    m = len(cells)
    out = np.empty(m, np.int64)
    new_cost, old_cost = np.empty(m), np.empty(m)
    new_row, old_row = np.empty(m, np.int64), np.empty(m, np.int64)
    n, d, p = 0, 0, 0
    for i in range(m):
        c = cells[i]
        via_u = to_u[c] + node_cost[u[c]]
        via_v = to_v[c] + node_cost[v[c]]
        road = min(via_u, via_v)
        row = node_row[u[c]] if via_u <= via_v else node_row[v[c]]
        if d < len(direct_at) and direct_at[d] == i:
            if direct_cost[d] < road:
                road = direct_cost[d]
                row = direct_row[d]
            d += 1
        cost = leg[c] + road
        if not np.isfinite(road):
            row = -1
        before_cost, before_row = cost0[c], row0[c]
        while p < len(own) and own[p] < c:
            p += 1
        if p < len(own) and own[p] == c:
            before_cost, before_row = own_cost[p], own_row[p]
        if cost != before_cost or row != before_row:
            out[n] = c
            new_cost[n], new_row[n] = cost, row
            old_cost[n], old_row[n] = before_cost, before_row
            n += 1
    return out[:n], new_cost[:n], new_row[:n], old_cost[:n], old_row[:n]


def update_cells(  # noqa: PLR0913  the surface, the change, and what the repair reads and writes
        net: Network, surface: Surface, index: CellIndex, removed: np.ndarray, added_at: Attachment,
        added_rows: np.ndarray, access_kmh: float, before: tuple[np.ndarray, ...], *,
        scratch: NodeScratch | None = None) -> tuple[Surface, Changed]:
    """Repair a surface for removed and added sources; the repaired surface and the cells whose values change.

    The cells recomputed are those on a segment with a changed end node, or
    on the segment of a removed or added source, with the same terms as a
    full evaluation (:func:`~healthreach.reach.point_cost`), so they equal
    recomputed values bit for bit; of those, the cells whose cost or
    nearest facility differs from the values ``before`` (the surface's
    arrays in the cell state, :meth:`~healthreach.state.CellState.arrays`)
    are returned with their values after and before. ``scratch``: the
    working arrays to repair in (see :func:`repair_surface`).
    """
    removed_segs = surface.source.seg[np.isin(surface.source_row, removed)] if len(removed) else np.zeros(0, np.int64)
    legs = index.legs(net, surface.mode, surface.weight, surface.direction, access_kmh)
    with (scratch or NodeScratch()).holding(surface) as work:
        repaired, nodes = _repair_in(net, surface, removed, added_at, added_rows, work)
        cells = distinct(index.cells_near(nodes, np.concatenate((removed_segs, added_at.seg))), len(index.at))
        direct_at, direct_cost, direct_row = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
        if len(repaired.source):
            near = index.positions_on(np.unique(repaired.source.seg), cells)  # the few cells on a facility's segment
            if len(near):
                point, direct_cost, direct_row = same_segment(net, repaired, index.at[cells[near]])
                direct_at = near[point]
        values = _changed_values(cells.astype(np.int64), legs.u, legs.v, legs.to_u, legs.to_v, legs.leg,
                                 work.cost, work.facility, direct_at.astype(np.int64), direct_cost.astype(float),
                                 direct_row.astype(np.int64), *before)
    return repaired, Changed(*values)
