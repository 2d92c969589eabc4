"""Straight-line distance (metres) from each cell centre to the nearest site of a facility group.

Reported beside the road-network radius, so a planner sees how much the
roads add. A change of sites updates only the cells it can affect.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from healthreach.grid import Grid
from healthreach.inputs import Cells


def nearest_site(x: np.ndarray, y: np.ndarray, sx: np.ndarray, sy: np.ndarray,
                 rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metres from each point (x, y) to the nearest site (sx, sy), and that site's row (inf, -1: no site)."""
    if len(sx) == 0:
        return np.full(len(x), np.inf), np.full(len(x), -1)
    if len(sx) <= 32:  # a few sites: one vectorised pass per site beats a KD-tree query per point
        best, row = np.full(len(x), np.inf), np.full(len(x), -1)
        for fx, fy, r in zip(sx, sy, rows, strict=True):
            d2 = (x - fx) ** 2 + (y - fy) ** 2
            closer = d2 < best
            best[closer], row[closer] = d2[closer], r
        return np.sqrt(best), row
    dist, k = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([x, y]), workers=-1)
    return np.asarray(dist, float), np.asarray(rows)[k]


class CellWindow:
    """The study-area cells inside a square of the analysis grid, found by slicing (no search)."""

    def __init__(self, grid: Grid, cells: Cells):
        self.grid = grid
        lookup = np.full(grid.height * grid.width, -1, np.int64)
        lookup[cells.flat] = np.arange(len(cells.flat))
        self.lookup = lookup.reshape(grid.shape)  # cell index per grid cell (-1: outside)

    def around(self, x: float, y: float, half_m: float) -> np.ndarray:
        """Cells whose centre may lie within ``half_m`` metres of (x, y) (those of the enclosing square)."""
        t = self.grid.transform
        c0, c1 = int(np.floor((x - half_m - t.c) / t.a)), int(np.floor((x + half_m - t.c) / t.a)) + 1
        r0, r1 = int(np.floor((y + half_m - t.f) / t.e)), int(np.floor((y - half_m - t.f) / t.e)) + 1
        block = self.lookup[max(r0, 0):max(r1, 0), max(c0, 0):max(c1, 0)].ravel()
        return block[block >= 0]


def banded(metres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Each distance rounded up to the next tested radius (inf beyond the largest).

    ``banded(d) <= r`` exactly when ``d <= r`` for every tested radius ``r``,
    and a change of distance changes the band only where it crosses a
    radius: the cells to re-test are those.
    """
    return np.r_[radii, np.inf][np.searchsorted(radii, metres, side="left")]


def update_sites(cells: Cells, window: CellWindow, metres: np.ndarray, removed: tuple[np.ndarray, np.ndarray],
                 sites: tuple[np.ndarray, np.ndarray, np.ndarray], added: tuple[np.ndarray, np.ndarray],
                 within_m: float) -> tuple[np.ndarray, np.ndarray]:
    """The cells whose distance to the nearest site may change (possibly repeated), and the new distances.

    ``metres`` is today's distance per cell, kept exact up to ``within_m``
    (the largest distance any test reads) and inf beyond; ``removed`` (x, y)
    the sites that go, ``sites`` (x, y, row) every site after the change,
    ``added`` (x, y) the new ones. A cell within ``within_m`` of a removed
    site that had it as nearest is measured anew against every site; around
    an added site, a cell takes it where it is nearer (the nearest of a
    larger set is the nearer of the two). Farther cells cannot change
    within ``within_m``.
    """
    parts, values = [], []
    for rx, ry in zip(*removed, strict=True):
        near = window.around(rx, ry, within_m)
        gone = np.sqrt((cells.x[near] - rx) ** 2 + (cells.y[near] - ry) ** 2)
        lost = near[metres[near] >= gone - 1e-6]  # its nearest was the removed site (or as near)
        dist, _ = nearest_site(cells.x[lost], cells.y[lost], *sites)
        parts.append(lost)
        values.append(np.where(dist <= within_m, dist, np.inf))
    current = metres
    if parts:
        current = metres.copy()
        for idx, dist in zip(parts, values, strict=True):
            current[idx] = dist
    for ax, ay in zip(*added, strict=True):
        near = window.around(ax, ay, within_m)
        dist = np.sqrt((cells.x[near] - ax) ** 2 + (cells.y[near] - ay) ** 2)
        wins = (dist < current[near]) & (dist <= within_m)
        if current is metres:
            current = metres.copy()
        current[near[wins]] = dist[wins]
        parts.append(near[wins])
    return (np.concatenate(parts) if parts else np.zeros(0, np.int64)), current
