"""Shortest paths from one site within a time limit, in proportion to what the search reaches.

``scipy.sparse.csgraph.dijkstra(graph, indices=..., limit=...)`` allocates
and fills arrays of the whole network's size on every call (the distances,
and a heap record per node), although a search stopped at 30 minutes
reaches a small part of a city's network. The compiled search here keeps
one cost array of the network's size per graph, ``inf`` between calls,
writes only the nodes it reaches and resets only those before returning:
a search costs in proportion to the nodes it reaches and the edges leaving
them.

Its costs equal scipy's bit for bit: each node's cost is the least, over
the paths to it, of the path's edge weights added one after another from
the source (floating-point addition of non-negative weights never lowers a
sum, so every correct Dijkstra finds that same least sum, whatever the
order it settles ties in), and a node reached at exactly the limit counts,
as scipy's ``limit`` does.

A site on a road segment is searched from the segment's two ends, each at
zero cost, and the two are combined as ``min(cost_u + d_u, cost_v + d_v)``
(:meth:`SiteSearch.costs`), the sums and order of the full-array code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from numba import njit
from scipy import sparse


@njit(cache=True)
def _search(  # noqa: PLR0913, PLR0917  a compiled kernel takes plain arrays, not objects
        indptr, indices, weights, source, limit, dist, reached, heap_cost, heap_node):  # pragma: no cover - compiled
    """Search from ``source`` up to a cost of ``limit``; return how many nodes it reached.

    Scratch arrays, reused from call to call: ``dist`` (one per node) is
    ``inf`` everywhere on entry; the search writes it at the nodes it
    reaches, which ``reached`` (one per node) lists in the order first
    reached; the caller resets ``dist`` there. ``heap_cost`` and
    ``heap_node`` (one more than the edges) hold a 4-ary heap (fewer levels
    than a binary one) of (cost, node) records, a node again each time its
    cost is lowered (each edge lowers a cost at most once); a record whose
    cost is above its node's cost is stale and skipped. Only the parts
    written are touched.
    """
    dist[source] = 0.0
    reached[0], heap_cost[0], heap_node[0] = source, 0.0, source
    n_reached, size = 1, 1
    while size > 0:
        c, v = heap_cost[0], heap_node[0]
        size = _pop(heap_cost, heap_node, size)
        if c > dist[v]:
            continue  # stale: v was reached more cheaply since
        for k in range(indptr[v], indptr[v + 1]):
            u = indices[k]
            nc = c + weights[k]
            if nc <= limit and nc < dist[u]:
                if dist[u] == np.inf:
                    reached[n_reached] = u
                    n_reached += 1
                dist[u] = nc
                size = _push(heap_cost, heap_node, size, nc, u)
    return n_reached


@njit(cache=True)
def _site(  # noqa: PLR0913, PLR0917  a compiled kernel takes plain arrays, not objects
        indptr, indices, weights, ends, starts, limit, dist, reached, heap_cost, heap_node, node_cost,
        written):  # pragma: no cover - compiled
    """One :func:`_search` from each of ``ends`` whose start cost is finite, folded into ``node_cost`` as
    ``min(starts[0] + d_0, starts[1] + d_1)``; return how many distinct nodes ``written`` lists.

    ``node_cost`` is ``inf`` everywhere on entry; ``dist`` is reset after
    each search.
    """
    n_written = 0
    for e in range(len(ends)):
        start = starts[e]
        if not np.isfinite(start):
            continue  # a search from an end the site cannot be reached from adds inf everywhere
        n_reached = _search(indptr, indices, weights, ends[e], limit, dist, reached, heap_cost, heap_node)
        for j in range(n_reached):
            w = reached[j]
            c = start + dist[w]
            dist[w] = np.inf
            if node_cost[w] == np.inf:
                written[n_written] = w
                n_written += 1
                node_cost[w] = c
            else:
                node_cost[w] = min(node_cost[w], c)
    return n_written


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


class BoundedDijkstra:
    """Single-source Dijkstra on one CSR graph (weights > 0), stopped at a cost limit.

    Owns scratch arrays reused by every search on this graph: a cost and a
    node list of the graph's size, and a heap of its edges' size (memory
    pages are touched only where a search writes); one instance per graph,
    not shared between threads.
    """

    def __init__(self, graph: sparse.csr_matrix):
        n, m = graph.shape[0], graph.nnz
        self.indptr = graph.indptr
        self.indices = graph.indices
        self.weights = np.asarray(graph.data, float)
        self.scratch = np.full(n, np.inf)         # cost per node: inf at every node between searches
        self.reached = np.empty(n, np.int64)      # the nodes a search reached, in order
        self.heap_cost = np.empty(m + 1)          # the heap's records: (cost, node)
        self.heap_node = np.empty(m + 1, np.int64)


class SiteSearch:
    """Costs between one site on a road segment and every node within a limit: a bounded search from each end
    of the site's segment, combined as the full-array code combines them.

    Owns, besides its search's scratch, a cost array, a facility-row array
    and a node list of the graph's size (``inf`` and -1 between calls),
    which hold one site's surface inside :meth:`costs`. One instance per
    graph; not shared between threads.
    """

    def __init__(self, graph: sparse.csr_matrix):
        n = graph.shape[0]
        self.search = BoundedDijkstra(graph)
        self.node_cost = np.full(n, np.inf)      # per node: cost of the site searched, inside costs()
        self.node_row = np.full(n, -1, np.int64)  # per node: 0 where node_cost is finite, else -1
        self.written = np.empty(n, np.int64)      # the nodes where node_cost is finite, inside costs()

    @contextmanager
    def costs(self, u: int, start_u: float, v: int, start_v: float, limit: float) -> Iterator[np.ndarray]:
        """The nodes reached within ``limit`` from ``u`` or ``v`` (distinct); inside the block, ``node_cost`` is
        ``min(start_u + d_u, start_v + d_v)`` at them (``d``: the search's costs from that end, ``inf`` where
        it did not reach; ``start``: the cost between the site and that end, in the graph's unit), and
        ``node_row`` is 0 there; both are reset on leaving the block, and the nodes given are a view valid
        inside it only.

        Values may exceed ``limit`` (a start plus a cost within it); an end
        with an infinite start (a one-way segment) is not searched.
        """
        s = self.search
        n = -1  # unknown until the search returns; an interrupt (Ctrl-C) may come before it is stored
        try:
            n = _site(s.indptr, s.indices, s.weights, np.array([u, v], np.int64),
                      np.array([start_u, start_v], float), float(limit), s.scratch, s.reached, s.heap_cost,
                      s.heap_node, self.node_cost, self.written)
            nodes = self.written[:n]
            self.node_row[nodes] = 0
            yield nodes
        finally:
            if n < 0:  # which nodes were written is not known: reset every node
                s.scratch.fill(np.inf)
                self.node_cost.fill(np.inf)
                self.node_row.fill(-1)
            else:
                self.node_cost[self.written[:n]] = np.inf
                self.node_row[self.written[:n]] = -1
