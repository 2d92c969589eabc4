"""The routable road network as arrays.

Every road segment becomes two directed edges (along and against its
digitised direction): with ``m`` segments, edge ``i`` runs along segment
``i`` (from its first node ``u`` to its last node ``v``), edge ``i + m``
against it, and ``lines`` row ``i`` is its geometry. Points (cells,
villages, facilities) attach to the nearest point of the nearest segment a
mode may use (:meth:`Network.attach`). Each travel mode has one time array in seconds over
those edges, ``inf`` where the mode may not pass (walking on expressways,
driving against a one-way street). Graphs for the shortest-path engine are
CSR matrices built from these arrays on demand. Coordinates are metres in the
study's analysis CRS.

Nodes are numbered along a Hilbert curve over their coordinates
(:func:`hilbert_order`): nodes near each other on the ground get numbers
near each other, so a shortest-path search reads and writes its arrays in
fewer places (0.6 times the time of numbering by x, then y, at 250,000
nodes). A node's number has no meaning outside the network it belongs to.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numba import njit
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from healthreach.cache import save_npz
from healthreach.errors import NetworkError
from healthreach.messages import Message, as_data, from_data
from healthreach.profile import Profile

log = logging.getLogger(__name__)

MODES = ("walk", "drive", "ambulance")
WEIGHTS = ("time", "length")
MIN_WEIGHT = 1e-6  # csgraph treats a stored zero as no edge: keep every edge positive
NODE_ORDER = "hilbert-16"  # how build_network numbers nodes (a Hilbert curve, 16 bits per axis); in the cache key
_HILBERT_BITS = 16


@dataclass
class BuildReport:
    """What building the network did to the input lines (counts)."""

    segments_read: int = 0
    parts_split: int = 0
    endpoints_merged: int = 0
    loops_dropped: int = 0
    duplicates_dropped: int = 0
    unknown_class_dropped: dict[str, int] = field(default_factory=dict)
    components_dropped: int = 0
    nodes_dropped: int = 0
    km_dropped: float = 0.0
    nodes: int = 0
    edges: int = 0
    km: float = 0.0
    notes: list[str | Message] = field(default_factory=list)  # what reading the road file dropped or ignored

    def lines(self) -> list[str | Message]:
        """Human-readable summary lines."""
        out: list[str | Message] = [Message(
            "{segments} road segments read; network of {nodes} nodes, {edges} directed edges, {km:.1f} km",
            segments=self.segments_read, nodes=self.nodes, edges=self.edges, km=self.km)]
        if self.parts_split:
            out.append(Message("{n} multi-part lines split into parts", n=self.parts_split))
        if self.endpoints_merged:
            out.append(Message("{n} segment ends merged with a neighbour within tolerance", n=self.endpoints_merged))
        if self.loops_dropped:
            out.append(Message("{n} zero-length or closed segments dropped", n=self.loops_dropped))
        if self.duplicates_dropped:
            out.append(Message("{n} duplicate segments dropped (same ends, class, direction and length)",
                               n=self.duplicates_dropped))
        for cls, n in self.unknown_class_dropped.items():
            out.append(Message("{n} segments of class '{cls}' dropped (no speed for this class)", n=n, cls=cls))
        if self.components_dropped:
            out.append(Message("{n} disconnected parts dropped ({nodes} nodes, {km:.1f} km)",
                               n=self.components_dropped, nodes=self.nodes_dropped, km=self.km_dropped))
        return out + self.notes


@dataclass
class Network:
    """A directed road graph in a metric CRS.

    Attributes
    ----------
    crs : str
        The analysis CRS (WKT or authority string); x and y are metres in it.
    x, y : ndarray
        Node coordinates, metres.
    tail, head : ndarray
        Directed edges as node indices.
    length_m : ndarray
        Edge length, metres.
    time_s : dict
        Mode name to edge travel time in seconds (``inf`` where not allowed).
    road_class : ndarray
        Edge road class (str).
    lines : GeoSeries
        The road geometry, one line per segment, drawn from ``u`` to ``v``.
    no_access : tuple of str
        Road classes that cannot be entered midway (expressways and their
        ramps): no point attaches to them. Set from the profile.
    """

    crs: str
    x: np.ndarray
    y: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    length_m: np.ndarray
    time_s: dict[str, np.ndarray]
    road_class: np.ndarray
    lines: gpd.GeoDataFrame
    report: BuildReport
    no_access: tuple[str, ...] = ()
    _graphs: dict = field(default_factory=dict, repr=False)
    _weights: dict = field(default_factory=dict, repr=False)
    _trees: dict = field(default_factory=dict, repr=False)
    _orders: dict = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes (road ends and junctions)."""
        return len(self.x)

    def weights(self, mode: str, weight: str) -> np.ndarray:
        """Edge weights for a mode: seconds (``time``) or metres (``length``); inf = closed."""
        if mode not in self.time_s:
            msg = Message("unknown travel mode '{mode}' (modes: {modes})", mode=mode, modes=", ".join(self.time_s))
            raise NetworkError(msg)
        if weight == "time":
            return self.time_s[mode]
        if weight == "length":
            if mode not in self._weights:
                self._weights[mode] = np.where(np.isfinite(self.time_s[mode]), self.length_m, np.inf)
            return self._weights[mode]
        msg = Message("unknown weight '{weight}' (weights: {weights})", weight=weight, weights=", ".join(WEIGHTS))
        raise NetworkError(msg)

    def graph(self, mode: str, weight: str, reverse: bool = False) -> sparse.csr_matrix:
        """CSR adjacency for (mode, weight); ``reverse`` flips every edge.

        Parallel edges keep their smallest weight. Reverse graphs answer
        "how far is each node *from* the sources" as "how far *to* them".
        """
        key = (mode, weight, reverse)
        if key not in self._graphs:
            w = self.weights(mode, weight)
            if reverse not in self._orders:
                # edges sorted by (tail, head) once per direction; every mode's graph reuses the order
                t, h = (self.head, self.tail) if reverse else (self.tail, self.head)
                pair = t.astype(np.int64) * self.n_nodes + h
                order = np.argsort(pair, kind="stable")
                self._orders[reverse] = (order, pair[order])
            order, pair = self._orders[reverse]
            self._graphs[key] = _csr_min_sorted(pair, w[order], self.n_nodes)
        return self._graphs[key]

    @property
    def n_segments(self) -> int:
        """Road segments (each is edges ``i`` and ``i + n_segments``)."""
        return len(self.tail) // 2

    def segment_ends(self, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First node ``u`` and last node ``v`` of each segment."""
        return self.tail[seg], self.head[seg]

    def attachable(self, mode: str) -> np.ndarray:
        """Per segment: whether points may attach to it in ``mode``.

        The mode must be able to travel it in at least one direction, and its
        class must not be in ``no_access`` (roads entered only at junctions).
        """
        if mode not in self.time_s:
            msg = Message("unknown travel mode '{mode}' (modes: {modes})", mode=mode, modes=", ".join(self.time_s))
            raise NetworkError(msg)
        m = self.n_segments
        t = self.time_s[mode]
        ok = np.isfinite(t[:m]) | np.isfinite(t[m:])
        if self.no_access:
            ok &= ~self.lines["road_class"].isin(list(self.no_access)).to_numpy(bool)  # hashed: no string copies
        return ok

    def segment_index(self, mode: str) -> SegmentIndex:
        """The search tree over the segments ``mode`` may attach to; modes with the same segments share one."""
        key = (mode, self.no_access)
        if key not in self._trees:
            mask = self.attachable(mode)
            if not mask.any():
                msg = Message("no road in the network can be used by mode '{mode}' (classes it may not enter midway: "
                              "{classes})", mode=mode, classes=", ".join(self.no_access) or Message("none"))
                raise NetworkError(msg)
            same = next((t for t in self._trees.values() if np.array_equal(t.mask, mask)), None)
            self._trees[key] = same or SegmentIndex.build(self.lines.geometry.to_numpy(), mask)
        return self._trees[key]

    def at_nodes(self, nodes: np.ndarray) -> Attachment:
        """Attachments standing exactly on ``nodes`` (the start or end of a segment touching each)."""
        nodes = np.asarray(nodes, np.int64)
        m = self.n_segments
        seg_from = np.full(self.n_nodes, -1, np.int64)
        seg_from[self.head[:m][::-1]] = np.arange(m)[::-1]  # a segment ending at the node...
        seg_to = np.full(self.n_nodes, -1, np.int64)
        seg_to[self.tail[:m][::-1]] = np.arange(m)[::-1]    # ...or, preferably, starting there
        seg = np.where(seg_to[nodes] >= 0, seg_to[nodes], seg_from[nodes])
        if (seg < 0).any():
            msg = Message("nodes without a segment: {nodes}", nodes=nodes[seg < 0][:5].tolist())
            raise NetworkError(msg)
        along = np.where(seg_to[nodes] >= 0, 0.0, self.length_m[np.maximum(seg, 0)])
        return Attachment(seg, along, np.zeros(len(nodes)))

    def attach(self, x: np.ndarray, y: np.ndarray, mode: str) -> Attachment:
        """Where each point (metres) meets the nearest road segment ``mode`` may attach to."""
        return self.segment_index(mode).nearest(np.asarray(x, float), np.asarray(y, float), self.length_m)


def attach_facilities(net: Network, facilities: gpd.GeoDataFrame) -> None:
    """Add each facility's attachment columns, per walk and drive: ``seg_*``, ``along_*_m`` and
    ``snap_*_m`` (metres from the facility to the road).
    """
    for mode in ("walk", "drive"):
        at = net.attach(facilities["x"].to_numpy(float), facilities["y"].to_numpy(float), mode)
        facilities[f"seg_{mode}"] = at.seg
        facilities[f"along_{mode}_m"] = at.along_m
        facilities[f"snap_{mode}_m"] = at.leg_m


@dataclass(frozen=True)
class Attachment:
    """Where points meet the road network in one mode.

    ``seg`` is the segment (row of ``Network.lines``), ``along_m`` the metres
    along it from its first node ``u`` to the attachment point, ``leg_m`` the
    straight off-road distance (metres) from the point to the road.
    """

    seg: np.ndarray
    along_m: np.ndarray
    leg_m: np.ndarray

    def __len__(self) -> int:
        """Number of points attached."""
        return len(self.seg)

    def __getitem__(self, index) -> Attachment:
        """The attachments of the points selected by ``index`` (an index, slice or mask)."""
        return Attachment(self.seg[index], self.along_m[index], self.leg_m[index])

    @staticmethod
    def concat(parts: list[Attachment]) -> Attachment:
        """The attachments of ``parts`` one after another."""
        if not parts:
            return Attachment(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        return Attachment(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("seg", "along_m", "leg_m")))


_TIE_M = 1e-9        # pieces this close (metres) to the least distance count as equally near
_ROUNDING_M = 1e-6   # slack (metres) for rounding in the bound that proves a search exact
_SUB_PIECE_M = 100.0  # longest sub-piece (metres) whose midpoint enters the KD-tree (chosen by measurement)
_ROUNDS = (8, 32)    # nearest midpoints examined per point, first pass then for the points not yet proven
_CHUNK = 131_072     # points per KD-tree query (bounds memory: chunk x candidates x 16 bytes)
_SORT_CELL_M = 200.0  # points are searched in row-major order of squares this wide (metres)
_NEAR_SQUARE_M = 2_000.0  # few points are searched among the pieces in the squares this wide around them
_PIECES_PER_FEW = 64  # fewer points than pieces / this: a search over the pieces near them, not a tree of all


@dataclass
class SegmentIndex:
    """Exact nearest-road search over the straight pieces of a set of segments.

    ``mask`` marks the segments indexed; piece ``k`` runs from ``start[k]`` to
    ``end[k]`` (metres) on segment ``seg[k]``, beginning ``offset_m[k]``
    metres along it. Pieces are ordered by segment row, then along it.

    Every piece is cut into sub-pieces no longer than ``2 * half_m`` metres;
    a KD-tree holds their midpoints (``sub_piece`` names each one's piece).
    For a point, the pieces of its ``k`` nearest midpoints are candidates and
    the nearest candidate, at ``d`` metres, is proven nearest of all when the
    ``k``-th midpoint lies farther than ``d + half_m``: every other sub-piece
    is then at least ``r_k - half_m > d`` away. Points not proven with the
    first ``k`` are tried with more, then (few, far from every road) answered
    by an STRtree over the pieces, built on first need.

    The KD-tree is built when first needed: the first search of a few points
    (a facility list against a province's roads) looks among the pieces near
    them only (see :meth:`nearest`); a later one (an added or moved facility of
    a scenario, one after another) builds the tree once and queries it.

    Ties: the nearest piece is the one at the least distance; pieces within
    1e-9 m of it count as equally near and the lowest piece wins (lowest
    segment row, then nearest its start), whichever search answers.
    """

    mask: np.ndarray
    start: np.ndarray
    end: np.ndarray
    seg: np.ndarray
    offset_m: np.ndarray
    sub_piece_m: float = _SUB_PIECE_M
    _midpoint_search: tuple[np.ndarray, float, cKDTree] | None = field(default=None, repr=False)
    _strtree: shapely.STRtree | None = field(default=None, repr=False)
    _searched: bool = field(default=False, repr=False, compare=False)  # a search was made: the next builds the KD-tree

    @classmethod
    def build(cls, lines: np.ndarray, mask: np.ndarray, sub_piece_m: float = _SUB_PIECE_M) -> SegmentIndex:
        """Index the segments of ``lines`` (metric CRS) marked by ``mask``, cut into sub-pieces of at most
        ``sub_piece_m`` metres.
        """
        segs = np.flatnonzero(mask)
        coords, which = shapely.get_coordinates(lines[segs], return_index=True)
        inner = which[1:] == which[:-1]
        a, b, seg = coords[:-1][inner], coords[1:][inner], segs[which[:-1][inner]]
        piece_m = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
        before = np.cumsum(piece_m) - piece_m  # metres before each piece, over all pieces
        first = np.r_[True, seg[1:] != seg[:-1]]
        offset = before - np.repeat(before[first], np.diff(np.r_[np.flatnonzero(first), len(seg)]))
        keep = piece_m > 0  # repeated vertices make zero-length pieces: nothing to attach to
        return cls(mask, a[keep], b[keep], seg[keep], offset[keep], sub_piece_m)

    def midpoint_search(self) -> tuple[np.ndarray, float, cKDTree]:
        """Each sub-piece's piece, half the longest sub-piece (metres) and the KD-tree of the sub-pieces'
        midpoints (built once, on first need).
        """
        if self._midpoint_search is None:
            a, b = self.start, self.end
            piece_m = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
            cuts = np.maximum(np.ceil(piece_m / self.sub_piece_m), 1).astype(np.int64)
            sub_piece = np.repeat(np.arange(len(a)), cuts)
            first_sub = np.cumsum(cuts) - cuts
            frac = (np.arange(len(sub_piece)) - first_sub[sub_piece] + 0.5) / cuts[sub_piece]
            mid = a[sub_piece] + frac[:, None] * (b - a)[sub_piece]
            half_m = float((piece_m / cuts).max() / 2) if len(a) else 0.0
            tree = cKDTree(mid, balanced_tree=False, compact_nodes=False)  # quicker to build and, here, to query
            self._midpoint_search = (sub_piece, half_m, tree)
        return self._midpoint_search

    @property
    def strtree(self) -> shapely.STRtree:
        """An STRtree over the pieces, for the points the midpoint search cannot prove (built once, on need)."""
        if self._strtree is None:
            pieces = shapely.linestrings(np.stack([self.start, self.end], axis=1))
            self._strtree = shapely.STRtree(pieces)  # type: ignore[arg-type]  # an array of lines, not one
        return self._strtree

    def nearest(self, x: np.ndarray, y: np.ndarray, length_m: np.ndarray) -> Attachment:
        """Exact nearest point on the indexed segments for each point; ``length_m`` per segment clamps ``along_m``.

        In the index's first search, fewer points than pieces / 64 are first
        searched among the pieces near them (:meth:`near_pieces`); an answer
        within 2 km is proven there, the others are searched among all pieces.
        Later searches query the KD-tree of every piece (built once): an index
        searched again will be searched many times.
        """
        x, y = np.asarray(x, float), np.asarray(y, float)
        bad = ~(np.isfinite(x) & np.isfinite(y))
        if bad.any():
            msg = Message("{n} points without finite coordinates (first at row {row}) cannot be attached to a road; "
                          "drop or fix them", n=int(bad.sum()), row=int(np.flatnonzero(bad)[0]))
            raise NetworkError(msg)
        searched, self._searched = self._searched, True
        if searched or self._midpoint_search is not None or not 0 < len(x) * _PIECES_PER_FEW < len(self.seg):
            return self.nearest_among_all(x, y, length_m)
        near = self.near_pieces(x, y)
        if not len(near):
            return self.nearest_among_all(x, y, length_m)
        local = SegmentIndex(self.mask, self.start[near], self.end[near], self.seg[near], self.offset_m[near],
                             self.sub_piece_m)
        at = local.nearest_among_all(x, y, length_m)
        # every piece as near as the answer (ties included) is among the near pieces when it is this close
        far = np.flatnonzero(at.leg_m > _NEAR_SQUARE_M - _TIE_M - _ROUNDING_M)
        if len(far):
            again = self.nearest_among_all(x[far], y[far], length_m)
            at.seg[far], at.along_m[far], at.leg_m[far] = again.seg, again.along_m, again.leg_m
        return at

    def near_pieces(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The pieces (ascending) with an end in the 5 x 5 squares of 2 km around a point's square, and every
        piece longer than 2 km: among them is every piece within 2 km of a point.

        (A piece at most 2 km long and within 2 km of a point has both ends
        within 4 km of it, so in one of the 5 x 5 squares.)
        """
        side = _NEAR_SQUARE_M
        x0, y0 = x.min() - 2 * side, y.min() - 2 * side
        cols, rows = int((x.max() - x0) // side) + 3, int((y.max() - y0) // side) + 3
        marked = np.zeros((rows, cols), bool)
        px, py = ((x - x0) // side).astype(np.int64), ((y - y0) // side).astype(np.int64)
        for dx in range(-2, 3):
            for dy in range(-2, 3):
                marked[py + dy, px + dx] = True

        def in_marked(xy: np.ndarray) -> np.ndarray:
            c, r = (xy[:, 0] - x0) // side, (xy[:, 1] - y0) // side
            inside = (c >= 0) & (c < cols) & (r >= 0) & (r < rows)
            out = np.zeros(len(xy), bool)
            out[inside] = marked[r[inside].astype(np.int64), c[inside].astype(np.int64)]
            return out
        long = np.hypot(*(self.end - self.start).T) > side
        return np.flatnonzero(in_marked(self.start) | in_marked(self.end) | long)

    def nearest_among_all(self, x: np.ndarray, y: np.ndarray, length_m: np.ndarray) -> Attachment:
        """:meth:`nearest` over every piece: the KD-tree of sub-piece midpoints, then the STRtree for the points
        it cannot prove.
        """
        n = len(x)
        piece = np.full(n, -1, np.int64)
        if not n:
            return self.attachment(piece, x, y, length_m)
        sub_piece, half_m, midpoints = self.midpoint_search()
        # points in row-major order of 200 m squares: neighbours search the same branches of the tree
        col, row = np.floor((x - x.min()) / _SORT_CELL_M), np.floor((y - y.min()) / _SORT_CELL_M)
        todo = np.argsort(row * (col.max() + 1) + col, kind="stable")
        for candidates in _ROUNDS:
            if not len(todo):
                break
            k = min(candidates, len(sub_piece))
            for lo in range(0, len(todo), _CHUNK):
                rows = todo[lo:lo + _CHUNK]
                r, sub = midpoints.query(np.column_stack([x[rows], y[rows]]), k=k, workers=-1)
                r, sub = r.reshape(len(rows), k), sub.reshape(len(rows), k)  # type: ignore[union-attr]  # arrays
                best, d = _nearest_candidate(x[rows], y[rows], sub_piece[sub], self.start, self.end, _TIE_M)
                proven = r[:, -1] > d + _TIE_M + half_m + _ROUNDING_M
                if k == len(sub_piece):
                    proven[:] = True  # every piece was a candidate
                piece[rows[proven]] = best[proven]
            todo = todo[piece[todo] < 0]
        if len(todo):
            piece[todo] = self._nearest_by_strtree(x[todo], y[todo])
        return self.attachment(piece, x, y, length_m)

    def _nearest_by_strtree(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Nearest piece of each point by the STRtree, with the same distance arithmetic and tie rule."""
        pts = shapely.points(x, y)
        (row, _), geos_m = self.strtree.query_nearest(pts, all_matches=False, return_distance=True)
        reach = np.empty(len(x))
        reach[row] = geos_m
        row, cand = self.strtree.query(pts, predicate="dwithin", distance=reach + _TIE_M + _ROUNDING_M)
        d = _piece_distance(x[row], y[row], self.start[cand], self.end[cand])
        least = np.full(len(x), np.inf)
        np.minimum.at(least, row, d)
        tied = d <= least[row] + _TIE_M
        out = np.full(len(x), np.iinfo(np.int64).max)
        np.minimum.at(out, row[tied], cand[tied])
        return out

    def attachment(self, piece: np.ndarray, x: np.ndarray, y: np.ndarray, length_m: np.ndarray) -> Attachment:
        """Where each point ``(x, y)`` (metres) attaches to its given ``piece``; ``length_m`` per segment clamps
        ``along_m``.
        """
        if not len(piece):
            return Attachment(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        a, b = self.start[piece], self.end[piece]
        t, px, py = _project(x, y, a, b)
        seg = self.seg[piece]
        along = np.minimum(self.offset_m[piece] + t * np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]), length_m[seg])
        return Attachment(seg, along, np.hypot(x - px, y - py))


def _project(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fraction ``t`` along each piece ``a -> b`` of the point nearest ``(x, y)``, and that point (metres)."""
    dx, dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    t = np.clip(((x - a[:, 0]) * dx + (y - a[:, 1]) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    end = t == 1.0  # the far end exactly, not a + (b - a)
    return t, np.where(end, b[:, 0], a[:, 0] + t * dx), np.where(end, b[:, 1], a[:, 1] + t * dy)


def _piece_distance(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Metres from each point to its piece ``a -> b``."""
    _, px, py = _project(x, y, a, b)
    return np.hypot(x - px, y - py)


@njit(cache=True)
def _nearest_candidate(x, y, cand, start, end, tie_m):  # pragma: no cover - compiled
    """Per point (row of ``cand``, piece indices): the nearest candidate piece and its distance (metres).

    Same arithmetic as :func:`_project`; candidates within ``tie_m`` of the
    least distance are tied and the lowest piece index wins.
    """
    n, k = cand.shape
    best = np.empty(n, np.int64)
    least = np.empty(n)
    d = np.empty(k)
    for i in range(n):
        lo = np.inf
        for j in range(k):
            p = cand[i, j]
            ax, ay, bx, by = start[p, 0], start[p, 1], end[p, 0], end[p, 1]
            dx, dy = bx - ax, by - ay
            t = ((x[i] - ax) * dx + (y[i] - ay) * dy) / (dx * dx + dy * dy)
            if t <= 0.0:
                px, py = ax, ay
            elif t >= 1.0:
                px, py = bx, by
            else:
                px, py = ax + t * dx, ay + t * dy
            d[j] = np.hypot(x[i] - px, y[i] - py)
            if d[j] < lo:  # noqa: PLR1730 - the compiled loop keeps the plain comparison of the original
                lo = d[j]
        pick = np.iinfo(np.int64).max
        for j in range(k):
            if d[j] <= lo + tie_m and cand[i, j] < pick:
                pick = cand[i, j]
        best[i] = pick
        least[i] = lo
    return best, least


def _csr_min_sorted(pair: np.ndarray, w: np.ndarray, n: int) -> sparse.csr_matrix:
    """CSR matrix from edges sorted by ``pair = tail * n + head``.

    Edges with a non-finite weight are left out, weights are raised to
    ``MIN_WEIGHT`` (csgraph reads a stored zero as no edge) and parallel
    edges keep their smallest weight (scipy would sum them).
    """
    ok = np.isfinite(w)
    pair, w = pair[ok], np.maximum(w[ok], MIN_WEIGHT)
    first = np.ones(len(pair), bool)
    first[1:] = pair[1:] != pair[:-1]
    starts = np.flatnonzero(first)
    data = np.minimum.reduceat(w, starts) if len(starts) else w
    tail, head = np.divmod(pair[starts], n)
    index = np.int32 if max(n, len(starts)) < np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(n + 1, index)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    out = sparse.csr_matrix((data, head.astype(index), indptr), shape=(n, n))
    out.has_sorted_indices = True
    return out


def edge_speeds(road_class: np.ndarray, speed_kmh: np.ndarray, profile: Profile) -> dict[str, np.ndarray]:
    """Speed in km/h per mode for each segment (0 = not allowed).

    Driving uses a tagged speed where one is given, else the class speed;
    ambulances drive at that times ``ambulance_factor``; walking is one speed
    on every class except those listed in ``no_walking``.
    """
    classes = pd.Series(np.asarray(road_class), dtype=object)  # hashed look-ups: fast on 1M segments
    drive = classes.map(profile.drive_kmh).to_numpy(float, na_value=np.nan)
    tagged = np.isfinite(speed_kmh) & (speed_kmh > 0)
    drive = np.where(tagged, speed_kmh, drive)
    walk = np.where(classes.isin(profile.no_walking).to_numpy(), 0.0, profile.travel.walk_kmh)
    return {"walk": walk, "drive": drive, "ambulance": drive * profile.travel.ambulance_factor}


def build_network(roads: gpd.GeoDataFrame, profile: Profile, merge_tolerance_m: float = 1.0,
                  unknown_classes: str = "error", where: str = "roads") -> Network:
    """Build a :class:`Network` from road lines in a metric CRS.

    Parameters
    ----------
    roads : GeoDataFrame
        LineStrings (multi-part allowed) with columns ``road_class`` (str),
        ``oneway`` (bool: traffic only in the digitised direction) and
        ``speed_kmh`` (float, NaN where untagged), in a projected CRS (metres).
    profile : Profile
        Speeds per road class and mode.
    merge_tolerance_m : float
        Segment ends closer than this (metres) become one node.
    unknown_classes : {"error", "drop"}
        What to do with classes that have no speed in the profile.
    where : str
        The input's name, for messages.
    """
    report = BuildReport(segments_read=len(roads))
    parts = _line_parts(roads, where, report)
    parts, classes = _known_classes(parts, profile, unknown_classes, where, report)
    geoms, node_xy, u, v, length, classes, oneway, speed = _segments(parts, classes, merge_tolerance_m, report)
    tail, head, length2, time_s = _edge_times(u, v, length, classes, oneway, speed, profile)
    keep_node, keep_seg = _main_component(u, tail, head, time_s, len(node_xy), report)
    report.km_dropped = float(length[~keep_seg].sum() / 1000)

    kept = np.flatnonzero(keep_node)
    kept = kept[hilbert_order(node_xy[kept, 0], node_xy[kept, 1])]  # numbered for locality
    new_id = np.full(len(node_xy), -1, np.int64)
    new_id[kept] = np.arange(len(kept))
    keep_edge = np.r_[keep_seg, keep_seg]
    net = Network(
        crs=roads.crs.to_wkt(),
        x=node_xy[kept, 0], y=node_xy[kept, 1],
        tail=new_id[tail[keep_edge]].astype(np.int32), head=new_id[head[keep_edge]].astype(np.int32),
        length_m=length2[keep_edge],
        time_s={m: t[keep_edge] for m, t in time_s.items()},
        road_class=np.r_[classes, classes][keep_edge],
        lines=gpd.GeoDataFrame({"road_class": classes[keep_seg]}, geometry=geoms[keep_seg], crs=roads.crs),
        report=report,
        no_access=tuple(profile.no_access),
    )
    report.nodes = net.n_nodes
    report.edges = int(np.isfinite(np.vstack(list(net.time_s.values()))).any(axis=0).sum())
    report.km = float(length[keep_seg].sum() / 1000)
    return net


def hilbert_order(x: np.ndarray, y: np.ndarray, bits: int = _HILBERT_BITS) -> np.ndarray:
    """The order of the points (metres) along a Hilbert curve over their bounding box, ``2**bits`` steps per
    side; points in the same step keep their given order.
    """
    if len(x) == 0:
        return np.zeros(0, np.int64)
    side = 1 << bits
    qx, qy = (np.minimum(((v - v.min()) / max(np.ptp(v), 1e-9) * side).astype(np.int64), side - 1) for v in (x, y))
    d = np.zeros(len(x), np.int64)
    s = side // 2
    while s > 0:  # Hilbert's xy -> distance, one bit per round from the top
        rx, ry = (qx & s) > 0, (qy & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        flip = ~ry & rx
        qx, qy = np.where(flip, side - 1 - qx, qx), np.where(flip, side - 1 - qy, qy)
        qx, qy = np.where(ry, qx, qy), np.where(ry, qy, qx)  # rotate the quadrant: swap where ry is 0
        s //= 2
    return np.argsort(d, kind="stable")


def _line_parts(roads: gpd.GeoDataFrame, where: str, report: BuildReport) -> gpd.GeoDataFrame:
    """The single LineStrings of ``roads`` (multi-part lines split, empty ones dropped), counted in ``report``."""
    if roads.crs is None or not roads.crs.is_projected:
        msg = Message("{where}: roads must be in a projected (metre) CRS before building", where=where)
        raise NetworkError(msg)
    multi = roads.geom_type.isin(["MultiLineString", "GeometryCollection"]).any()
    parts = roads.explode(index_parts=False) if multi else roads
    report.parts_split = len(parts) - len(roads)
    parts = parts[parts.geometry.notna() & ~parts.geometry.is_empty]
    parts = parts[parts.geom_type == "LineString"]
    if len(parts) == 0:
        msg = Message("{where}: no line geometry found", where=where)
        raise NetworkError(msg)
    return parts


def _known_classes(parts: gpd.GeoDataFrame, profile: Profile, unknown_classes: str, where: str,
                   report: BuildReport) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """``parts`` and their road classes, those without a speed in ``profile`` an error or dropped."""
    classes = parts["road_class"].astype(str).to_numpy()
    known = pd.Series(classes).isin([*profile.drive_kmh, *profile.no_walking]).to_numpy()
    if not known.all():
        found = dict(zip(*np.unique(classes[~known], return_counts=True), strict=False))
        counts = {str(k): int(v) for k, v in found.items()}
        if unknown_classes == "error":
            listed = ", ".join(f"{k!r} ({v} segments)" for k, v in counts.items())
            msg = Message("{where}: road classes without a speed: {listed}. Add them under `speeds_kmh:` in the study "
                          "file (km/h, 0 to forbid driving).", where=where, listed=listed)
            raise NetworkError(msg)
        report.unknown_class_dropped = counts
        parts, classes = parts[known], classes[known]
    return parts, classes


def _segments(parts: gpd.GeoDataFrame, classes: np.ndarray, merge_tolerance_m: float,
              report: BuildReport) -> tuple[np.ndarray, ...]:
    """The segments between merged end nodes, loops and duplicates dropped (counted in ``report``).

    Returns ``geoms, node_xy, u, v, length, classes, oneway, speed``: 2D
    lines, node coordinates (metres), end nodes, length (metres), class,
    one-way flag and tagged speed (km/h, NaN where untagged) per segment.
    """
    geoms = parts.geometry.to_numpy()
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    coords, which = shapely.get_coordinates(geoms, return_index=True)
    count = np.bincount(which, minlength=len(geoms))
    last = np.cumsum(count) - 1
    start, end = coords[last - count + 1], coords[last]
    node_of, node_xy, merged = _merge_endpoints(np.vstack([start, end]), merge_tolerance_m)
    report.endpoints_merged = merged
    u, v = node_of[: len(geoms)], node_of[len(geoms):]
    length = shapely.length(geoms)
    keep = (u != v) & (length > 0)
    report.loops_dropped = int((~keep).sum())

    oneway = parts["oneway"].to_numpy(bool) if "oneway" in parts else np.zeros(len(parts), bool)
    speed = parts["speed_kmh"].to_numpy(float) if "speed_kmh" in parts else np.full(len(parts), np.nan)
    duplicate = keep & _duplicate_segments(u, v, length, classes, oneway)
    report.duplicates_dropped = int(duplicate.sum())
    keep &= ~duplicate
    return (geoms[keep], node_xy, *(a[keep] for a in (u, v, length, classes, oneway, speed)))


def _edge_times(u: np.ndarray, v: np.ndarray, length: np.ndarray, classes: np.ndarray, oneway: np.ndarray,
                speed: np.ndarray, profile: Profile) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Directed edges (each segment forward, then backward): ``tail, head, length_m`` and the travel time
    (seconds, inf where the mode may not pass) per mode.
    """
    speeds = edge_speeds(classes, speed, profile)
    backward = np.r_[np.zeros(len(u), bool), np.ones(len(u), bool)]
    tail, head = np.r_[u, v], np.r_[v, u]
    length2 = np.r_[length, length]
    time_s = {}
    for mode, kmh in speeds.items():
        kmh2 = np.r_[kmh, kmh]
        allowed = kmh2 > 0
        if mode != "walk":
            allowed &= ~(np.r_[oneway, oneway] & backward)
        with np.errstate(divide="ignore"):
            time_s[mode] = np.where(allowed, length2 / (kmh2 / 3.6), np.inf)
    return tail, head, length2, time_s


def _main_component(u: np.ndarray, tail: np.ndarray, head: np.ndarray, time_s: dict, n_nodes: int,
                    report: BuildReport) -> tuple[np.ndarray, np.ndarray]:
    """The nodes and segments of the largest connected part (walking or driving); the rest counted in
    ``report``.
    """
    usable = np.isfinite(time_s["walk"]) | np.isfinite(time_s["drive"])
    adj = sparse.csr_matrix((np.ones(usable.sum()), (tail[usable], head[usable])), shape=(n_nodes, n_nodes))
    n_comp, label = connected_components(adj, directed=True, connection="weak")
    used = np.zeros(n_nodes, bool)
    used[tail[usable]] = True
    used[head[usable]] = True  # the far end of a one-way road nobody may walk (a motorway ramp) is a node too
    sizes = np.bincount(label[used], minlength=n_comp)
    main = int(np.argmax(sizes))
    report.components_dropped = int((sizes > 0).sum() - 1)
    keep_node = (label == main) & used
    report.nodes_dropped = int((used & ~keep_node).sum())
    keep_seg = keep_node[u] & (usable[: len(u)] | usable[len(u):])
    return keep_node, keep_seg


def _merge_endpoints(xy: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Cluster points closer than the tolerance (transitively) into nodes.

    Returns the node index of every point, node coordinates (first point of
    each cluster) and how many points moved onto a different coordinate.
    """
    uniq, inverse = _unique_rows(xy)
    if tolerance_m <= 0 or len(uniq) < 2:
        return inverse, uniq, 0
    pairs = cKDTree(uniq).query_pairs(tolerance_m, output_type="ndarray")
    if len(pairs) == 0:
        return inverse, uniq, 0
    graph = sparse.csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(uniq), len(uniq)))
    _, cluster = connected_components(graph, directed=False)
    first = np.full(cluster.max() + 1, -1)
    first[cluster[::-1]] = np.arange(len(uniq))[::-1]
    moved = int((first[cluster] != np.arange(len(uniq)))[inverse].sum())
    return cluster[inverse], uniq[first], moved


def _duplicate_segments(u: np.ndarray, v: np.ndarray, length: np.ndarray, classes: np.ndarray,
                        oneway: np.ndarray) -> np.ndarray:
    """True for every segment but the first of a set that repeat one road.

    A repeat joins the same two nodes (either way round for two-way roads,
    the same way round for one-way roads), has the same class and the same
    length to the metre.
    """
    along = np.where(oneway, u < v, True)
    key = pd.DataFrame({"a": np.minimum(u, v), "b": np.maximum(u, v), "c": pd.factorize(classes)[0], "o": oneway,
                        "d": along,
                        "m": np.round(length)})
    return key.duplicated().to_numpy()


def _unique_rows(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(xy, axis=0, return_inverse=True)`` for (n, 2) floats: hashed once, then only the distinct
    points sorted (faster than sorting every point).
    """
    if len(xy) == 0:
        return xy.copy(), np.zeros(0, np.int64)
    keys = np.empty(len(xy), np.complex128)  # one hashable number per point, the coordinates unchanged
    keys.real, keys.imag = xy[:, 0], xy[:, 1]
    codes, distinct = pd.factorize(keys)
    order = np.lexsort((distinct.imag, distinct.real))
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return np.column_stack([distinct.real[order], distinct.imag[order]]), rank[codes]


def save_network(net: Network, path: Path) -> None:
    """Write a network to ``path`` (npz) atomically."""
    coords, index = shapely.get_coordinates(net.lines.geometry.to_numpy(), return_index=True)
    arrays = {
        "x": net.x, "y": net.y, "tail": net.tail, "head": net.head, "length_m": net.length_m,
        "road_class": net.road_class.astype(str), "line_class": net.lines["road_class"].to_numpy(str),
        "line_coords": coords, "line_index": index,
        **{f"time_{m}": t for m, t in net.time_s.items()},
    }
    meta = {"crs": net.crs, "report": {**net.report.__dict__, "notes": [as_data(n) for n in net.report.notes]}}
    save_npz(path, meta=np.array(json.dumps(meta)), **arrays)


def load_network(path: Path) -> Network:
    """Read a network written by :func:`save_network`."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        lines = shapely.linestrings(z["line_coords"], indices=z["line_index"])
        return Network(
            crs=meta["crs"], x=z["x"], y=z["y"], tail=z["tail"], head=z["head"], length_m=z["length_m"],
            time_s={m: z[f"time_{m}"] for m in MODES}, road_class=z["road_class"],
            lines=gpd.GeoDataFrame({"road_class": z["line_class"]}, geometry=lines, crs=meta["crs"]),
            report=BuildReport(**{**meta["report"], "notes": [from_data(n) for n in meta["report"]["notes"]]}),
        )
