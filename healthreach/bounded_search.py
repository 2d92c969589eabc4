"""Shortest paths from one site within a time limit, in proportion to what the search reaches.

``scipy.sparse.csgraph.dijkstra(graph, indices=..., limit=...)`` allocates
and fills arrays of the whole network's size on every call (the distances,
and a heap record per node), although a search stopped at 30 minutes
reaches a small part of a city's network. The compiled search here keeps
its cost arrays of the network's size per graph, ``inf`` between calls,
writes only the nodes it reaches and resets only those before returning:
a search costs in proportion to the nodes it reaches and the edges leaving
them.

Its costs equal scipy's bit for bit: each node's cost is the least, over
the paths to it, of the path's edge weights added one after another from
the source (floating-point addition of non-negative weights never lowers a
sum, so every correct Dijkstra finds that same least sum, whatever the
order it settles ties in), and a node reached at exactly the limit counts,
as scipy's ``limit`` does.

A site on a road segment is searched from the segment's two ends, each
from zero cost, and the two are combined as ``min(cost_u + d_u, cost_v +
d_v)`` (:meth:`SiteSearch.costs`), the sums and order of the full-array
code. Both ends search in one heap, ordered by ``cost + d``; a node is not
expanded from one end where the other already reaches it for less by more
than ``MARGIN`` times the limit. A path through such a node is then cheaper
from the other end by more than the rounding of any sum within the limit
(about 2^-53 of the limit per edge added; the margin is 2^-30, room for
millions of edges), so no node's minimum comes from it: the costs stay
equal, bit for bit, to both full searches', while each end searches little
more than its own side of the site.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from numba import njit
from scipy import sparse

MARGIN = 2.0 ** -30
"""Times the limit: how much cheaper the other end must be for a node not to be expanded from one end."""


@njit(cache=True, nogil=True)
def _site(  # noqa: PLR0913, PLR0917  a compiled kernel takes plain arrays, not objects
        indptr, indices, weights, ends, starts, limit, margin, dist, reached, heap_cost, heap_node, node_cost,
        written, labels):  # pragma: no cover - compiled
    """Both ends' searches of a site in one heap; fold ``min(starts[0] + d_0, starts[1] + d_1)`` into
    ``node_cost`` where it is within ``limit``; return how many distinct nodes ``written`` lists (-1: the
    heap was full, nothing written), and set ``labels[0]`` to how many (end, node) costs it wrote (its work).

    ``dist`` holds end 0's cost of node ``w`` at ``w`` and end 1's at
    ``n + w`` (``n`` nodes), each summed edge after edge from 0 at its end
    as a search from that end alone sums it; ``inf`` on entry and on
    return. Records are popped by their total ``start + d``. A node is not
    expanded from one end when the other already reaches it for ``margin``
    less: every path on through it is then cheaper from the other end by
    more than the rounding of any sum within ``limit``, so no node's
    minimum comes from there. ``node_cost`` is ``inf`` everywhere on entry.

    The heap has room for a record per edge and end: each end lowers a
    node's cost once per edge into it, unless a later pop at the same total
    lowers a settled node again (costs that differ by less than the
    rounding of their totals). Should that fill the heap, the search stops
    and resets what it wrote, for a larger heap to run it again.
    """
    n = len(node_cost)
    n_reached, n_written, size = 0, 0, 0
    for e in range(2):
        start = starts[e]
        if start <= limit and start < np.inf:  # an end the site cannot be reached from adds nothing
            x = e * n + ends[e]
            dist[x] = 0.0
            reached[n_reached] = x
            n_reached += 1
            size = _push(heap_cost, heap_node, size, start, x)
    while size > 0:
        total, x = heap_cost[0], heap_node[0]
        size = _pop(heap_cost, heap_node, size)
        e = 1 if x >= n else 0
        w = x - e * n
        d = dist[x]
        start = starts[e]
        if total > start + d:
            continue  # stale: this end reached w more cheaply since
        if total < node_cost[w]:
            if node_cost[w] == np.inf:
                written[n_written] = w
                n_written += 1
            node_cost[w] = total
        elif total > node_cost[w] + margin:
            continue  # the other end is cheaper here by more than any rounding: nothing beyond comes from this one
        size, n_reached = _expand(indptr, indices, weights, w, e * n, start, d, limit, dist, reached, n_reached,
                                  heap_cost, heap_node, size)
        if size < 0:
            break
    for j in range(n_reached):
        dist[reached[j]] = np.inf
    labels[0] = n_reached
    if size < 0:
        for j in range(n_written):
            node_cost[written[j]] = np.inf
        return -1
    return n_written


@njit(cache=True, inline="always")
def _expand(  # noqa: PLR0913, PLR0917  a compiled kernel takes plain arrays, not objects
        indptr, indices, weights, w, offset, start, d, limit, dist, reached, n_reached, heap_cost, heap_node,
        size):  # pragma: no cover - compiled
    """Lower, through node ``w`` at cost ``d``, the costs of its heads (one end's: ``dist`` from ``offset``)
    within ``limit`` of the site; the heap's new size (-1: it was full) and how many places are reached.
    """
    for k in range(indptr[w], indptr[w + 1]):
        nd = d + weights[k]
        nt = start + nd
        y = offset + indices[k]
        if nt <= limit and nd < dist[y]:
            if size == len(heap_cost):
                return -1, n_reached
            if dist[y] == np.inf:
                reached[n_reached] = y
                n_reached += 1
            dist[y] = nd
            size = _push(heap_cost, heap_node, size, nt, y)
    return size, n_reached


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
        best, best_c = first, heap_cost[first]
        for child in range(first + 1, min(first + 4, size)):
            if heap_cost[child] < best_c:
                best, best_c = child, heap_cost[child]
        if best_c >= last_c:
            break
        heap_cost[i], heap_node[i] = best_c, heap_node[best]
        i = best
    heap_cost[i], heap_node[i] = last_c, last_v
    return size


@njit(cache=True, inline="always")
def _push(heap_cost, heap_node, size, c, v):  # pragma: no cover - compiled
    """Add the record (``c``, ``v``) to the 4-ary heap of ``size`` records (room for one more); the new size."""
    i = size
    while i > 0:
        parent = (i - 1) // 4
        if heap_cost[parent] <= c:
            break
        heap_cost[i], heap_node[i] = heap_cost[parent], heap_node[parent]
        i = parent
    heap_cost[i], heap_node[i] = c, v
    return size + 1


class SiteSearch:
    """Costs between one site on a road segment and every node within a limit: a bounded search from each end
    of the site's segment, combined as ``min(start_u + d_u, start_v + d_v)``.

    Owns the graph's arrays and scratch reused by every search: two costs
    per node (one per end), a node list and a heap with room for a record
    per edge and end (memory pages are touched only where a search writes), and the site's
    surface: a cost, a facility row and a node list of the graph's size
    (``inf`` and -1 between calls). One instance per graph; not shared
    between threads.
    """

    def __init__(self, graph: sparse.csr_matrix):
        n, m = graph.shape[0], graph.nnz
        self.indptr = graph.indptr
        self.indices = graph.indices
        self.weights = np.asarray(graph.data, float)
        self.dist = np.full(2 * n, np.inf)             # per end and node: the cost from that end, inf between calls
        self.reached = np.empty(2 * n, np.int64)       # the (end, node) places a search wrote in dist
        self.heap_cost = np.empty(2 * m + 2)           # the heap's records: (start + cost, end * n + node)
        self.heap_node = np.empty(2 * m + 2, np.int64)
        self.labels = np.zeros(1, np.int64)            # (end, node) costs the last search wrote: its work
        self.node_cost = np.full(n, np.inf)            # per node: cost of the site searched, inside costs()
        self.node_row = np.full(n, -1, np.int64)       # per node: 0 where node_cost is finite, else -1
        self.written = np.empty(n, np.int64)           # the nodes where node_cost is finite, inside costs()

    @contextmanager
    def costs(self, u: int, start_u: float, v: int, start_v: float, limit: float) -> Iterator[np.ndarray]:
        """The nodes within ``limit`` of the site (distinct); inside the block, ``node_cost`` is
        ``min(start_u + d_u, start_v + d_v)`` at them (``d``: the shortest path's cost from that end, its
        edges added one after another; ``start``: the cost between the site and that end, in the graph's
        unit; a node at exactly ``limit`` counts), and ``node_row`` is 0 there; both are reset on leaving the
        block, and the nodes given are a view valid inside it only.

        An end with an infinite start (a one-way segment) is not searched.
        Without a limit (``inf``) no node is left unexpanded by the margin.
        """
        n = -1  # unknown until the search returns; an interrupt (Ctrl-C) may come before it is stored
        try:
            while n < 0:
                n = _site(self.indptr, self.indices, self.weights, np.array([u, v], np.int64),
                          np.array([start_u, start_v], float), float(limit), float(limit) * MARGIN, self.dist,
                          self.reached, self.heap_cost, self.heap_node, self.node_cost, self.written, self.labels)
                if n < 0:  # the heap was full (and the search reset): again with twice the room
                    self.heap_cost = np.empty(2 * len(self.heap_cost))
                    self.heap_node = np.empty(2 * len(self.heap_node), np.int64)
            nodes = self.written[:n]
            self.node_row[nodes] = 0
            yield nodes
        finally:
            if n < 0:  # which nodes were written is not known: reset every node
                self.dist.fill(np.inf)
                self.node_cost.fill(np.inf)
                self.node_row.fill(-1)
            else:
                self.node_cost[self.written[:n]] = np.inf
                self.node_row[self.written[:n]] = -1
