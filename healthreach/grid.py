"""The analysis grid: square cells in the study's metric CRS.

Population, travel times and isochrone bands all live on this one grid, so
the figures and the map are computed from the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid: ``transform`` maps (col, row) to metres in ``crs``."""

    crs: str
    transform: Affine
    width: int
    height: int

    @property
    def cell_m(self) -> float:
        """Cell side, metres."""
        return float(self.transform.a)

    @property
    def cell_km2(self) -> float:
        return self.cell_m**2 / 1e6

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    def centres(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centre coordinates (metres) of cells given as flat indices (row-major)."""
        row, col = np.divmod(np.asarray(flat), self.width)
        x = self.transform.c + (col + 0.5) * self.transform.a
        y = self.transform.f + (row + 0.5) * self.transform.e
        return x, y

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], cell_m: float, crs: str) -> Grid:
        """The grid of ``cell_m`` cells aligned to multiples of ``cell_m`` that covers ``bounds``."""
        xmin, ymin, xmax, ymax = bounds
        x0 = np.floor(xmin / cell_m) * cell_m
        y1 = np.ceil(ymax / cell_m) * cell_m
        width = int(np.ceil((xmax - x0) / cell_m))
        height = int(np.ceil((y1 - ymin) / cell_m))
        return cls(crs, Affine(cell_m, 0, x0, 0, -cell_m, y1), max(width, 1), max(height, 1))
