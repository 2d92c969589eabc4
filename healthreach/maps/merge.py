"""Lines merged where exactly two of them meet, as ``shapely.line_merge`` (GEOS's LineMerger) merges them, for
a million lines in one compiled pass instead of one planar graph.

Within each group (a road class), lines are nodes-and-edges: a node is an end point (exact coordinates), its
degree the number of line ends there. A merged line runs from a node whose degree is not 2 through nodes of
degree 2 to the next such node, walked from the end that sorts first by (x, y), the lines at a node taken in
order of their direction (counterclockwise from east), and written reversed when most of its lines ran
backward: as GEOS walks and writes it. Lines closing a ring through nodes of degree 2 only are merged by GEOS
itself. Repeated consecutive points are dropped and lines of one distinct point left out, as GEOS does. The
merged lines are GEOS's point for point, in the same direction and order; the order alone may differ where
lines leave one node in directions that floating-point angles do not tell apart, which draws the same map
(``tests/test_road_merge.py`` compares them).
"""

from __future__ import annotations

import numpy as np
import shapely
from numba import njit


def merge_lines(lines: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One geometry per group (``group``: an int per line, 0..k-1, each present): its lines merged, as
    ``shapely.line_merge(shapely.multilinestrings(lines of the group))`` gives it (a LineString when one line
    is left, a MultiLineString otherwise).
    """
    coords, which = shapely.get_coordinates(lines, return_index=True)
    keep = np.ones(len(coords), bool)  # repeated consecutive points of a line are dropped
    keep[1:] = (which[1:] != which[:-1]) | (coords[1:] != coords[:-1]).any(axis=1)
    coords, which = coords[keep], which[keep]
    count = np.bincount(which, minlength=len(lines))
    valid = np.flatnonzero(count >= 2)  # a line of one distinct point is not merged (GEOS leaves it out)
    offset = np.concatenate([[0], np.cumsum(count)])
    first, last = offset[valid], offset[valid + 1] - 1
    ends = np.concatenate([coords[first], coords[last]]).view(np.complex128).ravel()  # sorts by x, then y
    key_group = np.concatenate([group[valid], group[valid]])
    node_order = np.argsort(ends)
    node_order = node_order[np.argsort(key_group[node_order], kind="stable")]  # by group, then x, then y
    ordered_xy, ordered_group = ends[node_order], key_group[node_order]
    new = np.r_[True, (ordered_xy[1:] != ordered_xy[:-1]) | (ordered_group[1:] != ordered_group[:-1])]
    node = np.empty(len(ends), np.int64)
    node[node_order] = np.cumsum(new) - 1  # node ids follow (group, x, y) order
    n_lines = len(valid)
    degree = np.bincount(node, minlength=int(new.sum()))
    # the lines at each node, node by node, each node's in GEOS's order of their directions (counterclockwise
    # from east), so that the merged lines come out in GEOS's order too
    toward = np.concatenate([coords[first + 1] - coords[first], coords[last - 1] - coords[last]])
    direction = np.mod(np.arctan2(toward[:, 1], toward[:, 0]), 2 * np.pi)
    incident = np.lexsort((direction, node)) % n_lines
    pointer = np.concatenate([[0], np.cumsum(degree)])
    seq, backward, head = _chains(node[:n_lines], node[n_lines:], degree, pointer, incident)
    point, point_chain = _chain_points(seq, backward, head, first, last, coords)
    chains = shapely.linestrings(coords[point], indices=point_chain) if len(point) else np.empty(0, object)
    parts, part_group = [chains], [group[valid][seq[head]]]  # chains come group by group (node id order)
    used = np.zeros(n_lines, bool)
    used[seq] = True
    ring_lines = valid[~used]
    for g in np.unique(group[ring_lines]):  # rings through nodes of degree 2 only: GEOS merges (and starts) them
        of_group = lines[ring_lines[group[ring_lines] == g]]
        ring = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(of_group)))
        parts.append(ring)
        part_group.append(np.full(len(ring), g))
    every, owner = np.concatenate(parts), np.concatenate(part_group)
    order = np.argsort(owner, kind="stable")
    every, owner = every[order], owner[order]
    n_groups = int(group.max()) + 1 if len(group) else 0
    per_group = np.bincount(owner, minlength=n_groups)
    out = np.full(n_groups, shapely.from_wkt("GEOMETRYCOLLECTION EMPTY"), dtype=object)
    several = per_group[owner] > 1
    if several.any():
        present = np.unique(owner[several])
        out[present] = shapely.multilinestrings(every[several], indices=np.searchsorted(present, owner[several]))
    out[owner[~several]] = every[~several]  # a group left with one line: that LineString
    return out


@njit(cache=True)
def _chains(start, end, degree, pointer, incident):  # pragma: no cover - compiled
    """The lines in chain order: (line, drawn backward, first of its chain), walking from each node of degree
    other than 2, nodes in id order, through nodes of degree 2. Lines of rings with no such node are left out.
    """
    n = len(start)
    seq = np.empty(n, np.int64)
    backward = np.zeros(n, np.bool_)
    head = np.zeros(n, np.bool_)
    used = np.zeros(n, np.bool_)
    k = 0
    for v in range(len(degree)):
        if degree[v] == 2:
            continue
        for j in range(pointer[v], pointer[v + 1]):
            line = incident[j]
            if used[line]:
                continue
            at = v
            first = True
            while True:
                used[line] = True
                back = start[line] != at
                seq[k] = line
                backward[k] = back
                head[k] = first
                k += 1
                first = False
                at = start[line] if back else end[line]
                if degree[at] != 2:
                    break
                nxt = incident[pointer[at]]
                if nxt == line:
                    nxt = incident[pointer[at] + 1]
                if used[nxt]:
                    break
                line = nxt
    return seq[:k], backward[:k], head[:k]


@njit(cache=True)
def _chain_points(seq, backward, head, first, last, coords):  # pragma: no cover - compiled
    """The points of the chains (rows of ``coords``) and the chain of each: each line's points in its
    direction, the point joining it to the line before written once; a chain most of whose lines run backward
    is written reversed, and a closed chain with as many lines each way runs the way GEOS walks it first.
    """
    n_chains = 0
    for k in range(len(seq)):
        n_chains += 1 if head[k] else 0
    size = np.zeros(n_chains, np.int64)
    balance = np.zeros(n_chains, np.int64)  # lines backward less lines forward
    c = -1
    for k in range(len(seq)):
        if head[k]:
            c += 1
            size[c] += 1
        size[c] += last[seq[k]] - first[seq[k]]
        balance[c] += 1 if backward[k] else -1
    start = np.zeros(n_chains + 1, np.int64)
    for c in range(n_chains):
        start[c + 1] = start[c] + size[c]
    point = np.empty(start[n_chains], np.int64)
    chain = np.empty(start[n_chains], np.int64)
    c = -1
    j = 0
    for k in range(len(seq)):
        a, b = first[seq[k]], last[seq[k]]
        if head[k]:
            c += 1
            j = 0
        for step in range(0 if head[k] else 1, b - a + 1):
            at = start[c] + (size[c] - 1 - j if balance[c] > 0 else j)
            point[at] = b - step if backward[k] else a + step
            chain[at] = c
            j += 1
    for c in range(n_chains):
        a, b = start[c], start[c + 1] - 1
        closed = coords[point[a], 0] == coords[point[b], 0] and coords[point[a], 1] == coords[point[b], 1]
        if balance[c] == 0 and closed and b - a >= 2 and _sorts_before(coords, point[a], point[b - 1], point[a + 1]):
            point[a:b + 1] = point[a:b + 1][::-1].copy()
    return point, chain


@njit(cache=True)
def _quadrant(dx, dy):  # pragma: no cover - compiled
    """GEOS's quadrant of a direction: 0 north-east, 1 north-west, 2 south-west, 3 south-east."""
    if dx >= 0:
        return 0 if dy >= 0 else 3
    return 1 if dy >= 0 else 2


@njit(cache=True)
def _sorts_before(coords, origin, p, q):  # pragma: no cover - compiled
    """Whether the edge from point ``origin`` towards ``p`` comes before the one towards ``q`` around their
    node, in GEOS's order (by quadrant, then clockwise of the other within one).
    """
    x0, y0 = coords[origin, 0], coords[origin, 1]
    qp = _quadrant(coords[p, 0] - x0, coords[p, 1] - y0)
    qq = _quadrant(coords[q, 0] - x0, coords[q, 1] - y0)
    if qp != qq:
        return qp < qq
    cross = (coords[q, 0] - x0) * (coords[p, 1] - y0) - (coords[q, 1] - y0) * (coords[p, 0] - x0)
    return cross < 0  # p to the right of origin -> q
