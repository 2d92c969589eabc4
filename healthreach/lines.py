"""Straight-line distance (metres) from each cell centre to the nearest site of a facility group.

Reported beside the road-network radius, so a planner sees how much the
roads add. A change of sites updates only the cells it can affect.
"""

from __future__ import annotations

import numpy as np
from numba import njit
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

    def bounds(self, x: float, y: float, half_m: float) -> tuple[int, int, int, int]:
        """Rows ``r0:r1`` and columns ``c0:c1`` of the grid square enclosing ``half_m`` metres around (x, y)."""
        t = self.grid.transform
        c0, c1 = int(np.floor((x - half_m - t.c) / t.a)), int(np.floor((x + half_m - t.c) / t.a)) + 1
        r0, r1 = int(np.floor((y + half_m - t.f) / t.e)), int(np.floor((y - half_m - t.f) / t.e)) + 1
        height, width = self.grid.height, self.grid.width
        return min(max(r0, 0), height), min(max(r1, 0), height), min(max(c0, 0), width), min(max(c1, 0), width)


def banded(metres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Each distance rounded up to the next tested radius (inf beyond the largest).

    ``banded(d) <= r`` exactly when ``d <= r`` for every tested radius ``r``,
    and a change of distance changes the band only where it crosses a
    radius: the cells to re-test are those.
    """
    return np.r_[radii, np.inf][np.searchsorted(radii, metres, side="left")]


def update_sites(cells: Cells, window: CellWindow, metres: np.ndarray, removed: tuple[np.ndarray, np.ndarray],
                 sites: tuple[np.ndarray, np.ndarray], added: tuple[np.ndarray, np.ndarray],
                 within_m: float) -> tuple[np.ndarray, np.ndarray]:
    """The cells whose distance to the nearest site may change (possibly repeated), and the new distances.

    ``metres`` is today's distance per cell, kept exact up to ``within_m``
    (the largest distance any test reads) and inf beyond; ``removed`` (x, y)
    the sites that go, ``sites`` (x, y) every site after the change,
    ``added`` (x, y) the new ones. Around a removed site, the cells that had
    it as nearest (or no site within ``within_m``) are measured anew against
    the sites after the change that can be within ``within_m`` of them;
    around an added site, a cell takes it where it is nearer (the nearest
    of a larger set is the nearer of the two). Farther cells cannot change
    within ``within_m``.
    """
    parts, values = [], []
    sx, sy = sites
    for rx, ry in zip(*removed, strict=True):
        lost = _lost(window.lookup, *window.bounds(rx, ry, within_m), cells.x, cells.y, metres, rx, ry)
        # A lost cell the removed site reached lies within within_m of it, so a site within within_m of that cell
        # lies within 2 within_m of the removed site (1 m for rounding). A lost cell at inf (a corner of the
        # square) had no site within within_m: no site kept can be, and the added ones are measured below.
        near = (sx - rx) ** 2 + (sy - ry) ** 2 <= (2 * within_m + 1.0) ** 2
        parts.append(lost)
        values.append(_nearest_within(cells.x, cells.y, lost, sx[near], sy[near], within_m))
    current = metres
    if parts:
        current = metres.copy()
        for idx, dist in zip(parts, values, strict=True):
            current[idx] = dist
    for ax, ay in zip(*added, strict=True):
        if current is metres:
            current = metres.copy()
        parts.append(_nearer(window.lookup, *window.bounds(ax, ay, within_m), cells.x, cells.y, current, ax, ay,
                             within_m))
    return (np.concatenate(parts) if parts else np.zeros(0, np.int64)), current


@njit(cache=True)
def _lost(  # noqa: PLR0913, PLR0917  a compiled kernel takes plain arrays, not objects
        lookup, r0, r1, c0, c1, x, y, metres, rx, ry):  # pragma: no cover - compiled
    """The cells of the grid square (rows ``r0:r1``, columns ``c0:c1``) that are no nearer to another site than
    to the removed site (rx, ry): ``metres`` (their distance to the nearest site) >= their distance to it.
    """
    out = np.empty((r1 - r0) * (c1 - c0), np.int64)
    n = 0
    for r in range(r0, r1):
        for c in range(c0, c1):
            i = lookup[r, c]
            if i >= 0 and metres[i] >= np.sqrt((x[i] - rx) ** 2 + (y[i] - ry) ** 2) - 1e-6:
                out[n] = i
                n += 1
    return out[:n]


@njit(cache=True)
def _nearer(  # noqa: PLR0913, PLR0917  a compiled kernel takes plain arrays, not objects
        lookup, r0, r1, c0, c1, x, y, current, ax, ay, within_m):  # pragma: no cover - compiled
    """Give the cells of the grid square that the added site (ax, ay) is nearer to than ``current`` (and within
    ``within_m``) their distance to it, in place; return those cells.
    """
    out = np.empty((r1 - r0) * (c1 - c0), np.int64)
    n = 0
    for r in range(r0, r1):
        for c in range(c0, c1):
            i = lookup[r, c]
            if i < 0:
                continue
            dist = np.sqrt((x[i] - ax) ** 2 + (y[i] - ay) ** 2)
            if dist < current[i] and dist <= within_m:
                current[i] = dist
                out[n] = i
                n += 1
    return out[:n]


@njit(cache=True)
def _nearest_within(x, y, idx, sx, sy, within_m):  # pragma: no cover - compiled
    """Metres from each cell ``idx`` to its nearest site (sx, sy) where that is at most ``within_m``, else inf:
    the squared distances as :func:`nearest_site` forms them, the least one's square root.
    """
    out = np.empty(len(idx))
    for i in range(len(idx)):
        c = idx[i]
        best = np.inf
        for j in range(len(sx)):
            d2 = (x[c] - sx[j]) ** 2 + (y[c] - sy[j]) ** 2
            best = min(best, d2)
        dist = np.sqrt(best)
        out[i] = dist if dist <= within_m else np.inf
    return out
