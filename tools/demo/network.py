"""Least-cost routing on the 8-connected cell grid and the growing road network."""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from tools.demo.grid import CELL, RANK


class Router:
    """Least-cost paths on the 8-connected cell graph; edge cost = length (m) x grade penalty x cell factors."""

    # neighbour offsets sorted by index delta, so that row-major flattening gives a sorted CSR
    OFFS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))

    def __init__(self, grid, h):
        ny, nx = grid.ny, grid.nx
        N = grid.N
        r = np.arange(ny)[:, None]
        c = np.arange(nx)[None, :]
        nb = np.empty((ny, nx, 8), np.int64)
        valid = np.empty((ny, nx, 8), bool)
        for k, (dr, dc) in enumerate(self.OFFS):
            rr, cc = r + dr, c + dc
            valid[..., k] = (rr >= 0) & (rr < ny) & (cc >= 0) & (cc < nx)
            nb[..., k] = rr * nx + cc
        valid = valid.reshape(N, 8)
        nb = nb.reshape(N, 8)
        pos = np.cumsum(valid.ravel()).reshape(N, 8) - 1
        self.rows = np.repeat(np.arange(N), valid.sum(1))
        self.cols = nb[valid].astype(np.int32)
        k_of = np.broadcast_to(np.arange(8), (N, 8))[valid]
        self.L = np.where(np.isin(k_of, (0, 2, 5, 7)), CELL * math.sqrt(2), CELL)
        self.rev = pos[self.cols, 7 - k_of]
        self.indptr = np.r_[0, np.cumsum(valid.sum(1))].astype(np.int32)
        hf = h.ravel()
        self.grade = np.abs(hf[self.rows] - hf[self.cols]) / self.L
        self.N = N
        self.cf = np.ones(N)

    def set_phase(self, g0, cellfactor, cap=40.0):
        """Set the grade penalty (grade ``g0`` doubles a length's cost, at most ``cap`` + 1 times) and the
        cost factor of every cell.
        """
        self.G = self.L * (1.0 + np.minimum((self.grade / g0) ** 2, cap))
        self.cf = np.asarray(cellfactor, float).ravel().copy()
        self.w = 0.5 * self.G * (self.cf[self.rows] + self.cf[self.cols])
        self._g = None

    def set_cells(self, cells, values):
        """Set the cost factor of ``cells`` to ``values`` and update the edges touching them."""
        cells = np.asarray(cells, np.int64)
        if cells.size == 0:
            return
        self.cf[cells] = values
        st = self.indptr[cells].astype(np.int64)
        cnt = (self.indptr[cells + 1] - self.indptr[cells]).astype(np.int64)
        pos = np.repeat(st - np.r_[0, np.cumsum(cnt)[:-1]], cnt) + np.arange(cnt.sum())
        pos = np.r_[pos, self.rev[pos]]
        self.w[pos] = 0.5 * self.G[pos] * (self.cf[self.rows[pos]] + self.cf[self.cols[pos]])
        self._g = None

    def graph(self):
        """The cost graph as a sparse matrix (cells by cells), rebuilt after a change."""
        if self._g is None:
            self._g = csr_matrix((self.w, self.cols, self.indptr), shape=(self.N, self.N))
        return self._g

    def pair(self, a, b, grid, lim=None):
        """Least-cost path of cells from cell ``a`` to cell ``b``; ``lim`` bounds the search cost."""
        dxy = float(np.hypot(*(grid.xy(a) - grid.xy(b))))
        if lim is None:
            lim = 6.0 * dxy + 5000.0 if dxy < 12000 else np.inf
        dist, pred = dijkstra(self.graph(), indices=int(a), return_predecessors=True, limit=lim)
        if not np.isfinite(dist[b]):
            dist, pred = dijkstra(self.graph(), indices=int(a), return_predecessors=True)
        if not np.isfinite(dist[b]):
            msg = "no route"
            raise RuntimeError(msg)
        path = [int(b)]
        while path[-1] != a:
            path.append(int(pred[path[-1]]))
        return path[::-1]

    def to_net(self, a, is_src, lim=15000.0):
        """Least-cost path from cell a to the nearest source cell (returned a -> source)."""
        for _ in range(8):
            dist, pred = dijkstra(self.graph(), indices=int(a), return_predecessors=True, limit=lim)
            cand = np.flatnonzero(np.isfinite(dist) & is_src)
            if cand.size:
                t = int(cand[np.argmin(dist[cand])])
                path = [t]
                while path[-1] != a:
                    path.append(int(pred[path[-1]]))
                return path[::-1]
            lim *= 2.0
        msg = "no route to network"
        raise RuntimeError(msg)

    def tree(self, is_src):
        """Least cost and predecessor of every cell from the nearest source cell (``is_src``)."""
        src = np.flatnonzero(is_src)
        dist, pred, _ = dijkstra(self.graph(), indices=src, return_predecessors=True, min_only=True)
        return dist, pred


class Net:
    """Road edges on grid cells (ids < N) and town street nodes (vnodes, ids >= N), best class wins."""

    def __init__(self, grid, router):
        self.r = router
        self.N = grid.N
        self.edges = {}
        self.on_road = np.zeros(self.N, bool)
        self.is_src = np.zeros(self.N, bool)
        self.vxy = {}
        self.special = set()
        self.gw = {}          # gateway cell -> vnode
        self.road_factor = 0.3

    def vnode(self, xy):
        """A new town street node at ``xy`` (metres); returns its id."""
        k = self.N + len(self.vxy)
        self.vxy[k] = (float(xy[0]), float(xy[1]))
        return k

    def add_edge(self, a, b, cls, name, ow_from=-1):
        """Add the road a-b of class ``cls``, unless an edge of a better class is there already."""
        if a == b:
            return
        key = (a, b) if a < b else (b, a)
        cur = self.edges.get(key)
        if cur is None or RANK[cls] > cur[0]:
            self.edges[key] = [RANK[cls], cls, name, ow_from]

    def add_path(self, path, cls, name):
        """Add a road along the cells of ``path`` and make its cells cheaper to route along."""
        if len(path) < 2:
            return
        for a, b in itertools.pairwise(path):
            self.add_edge(a, b, cls, name)
        for c in path:
            v = self.gw.get(c)
            if v is not None:
                self.add_edge(v, c, cls, name)
        arr = np.array(path, np.int64)
        new = arr[~self.on_road[arr]]
        self.on_road[arr] = True
        self.is_src[arr] = True
        self.r.set_cells(new, self.r.cf[new] * self.road_factor)

    def add_tree_paths(self, targets, pred, cls, namer):
        """Add the path from each target cell along ``pred`` to the network; returns how many were added."""
        n_added = 0
        for target in targets:
            t = int(target)
            if self.is_src[t]:
                continue
            path = [t]
            while not self.is_src[path[-1]]:
                p = int(pred[path[-1]])
                if p < 0:
                    path = None
                    break
                path.append(p)
            if path is None:
                continue
            self.add_path(path, cls, namer(t))
            n_added += 1
        return n_added
