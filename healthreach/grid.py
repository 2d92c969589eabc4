"""The analysis grid: square cells in the study's metric CRS.

Population, travel times and isochrone bands all live on this one grid, so
the figures and the map are computed from the same cells.
"""

from __future__ import annotations

import math
import os
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
        """Cell area, square kilometres."""
        return self.cell_m**2 / 1e6

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape as (rows, columns), the shape of every per-cell raster."""
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


MIN_CELLS = 100  # fewest cells the study area must hold for its shares to mean anything
BYTES_PER_CELL = 200  # memory per grid cell over a whole audit: population, townships, cell tables, travel times


def check_grid(bounds: tuple[float, float, float, float], area_m2: float, cell_m: float, where: str,
               memory_bytes: int | None = None) -> None:
    """Refuse a grid too coarse for the study area, or too large for memory, before anything is allocated.

    ``bounds`` is the study area's extent and ``area_m2`` its area (metres in
    the analysis CRS). The study area must hold at least :data:`MIN_CELLS`
    cells of ``cell_m`` metres (else a handful of cells decides every
    figure); the grid over the extent, at about :data:`BYTES_PER_CELL` bytes
    a cell, must fit in half of ``memory_bytes`` (default: this machine's
    physical memory). Raises :class:`~healthreach.errors.InputError` naming
    ``where`` (the study file).
    """
    from healthreach.errors import InputError
    from healthreach.messages import Message

    cells_in_area = area_m2 / cell_m**2
    if cells_in_area < MIN_CELLS:
        finest = math.sqrt(area_m2 / MIN_CELLS)
        msg = Message("{where}: grid_m: {cell_m:g} m leaves only {cells:,.1f} cells in the study area ({area_km2:,.1f} "
                      "km²); at least {least} are needed for the shares to mean anything: use grid_m {finest} or less "
                      "(100 is usual)", where=where, cell_m=cell_m, cells=cells_in_area, area_km2=area_m2 / 1e6,
                      least=MIN_CELLS, finest=_round_down(finest))
        raise InputError(msg)
    xmin, ymin, xmax, ymax = bounds
    n_cells = math.ceil((xmax - xmin) / cell_m + 1) * math.ceil((ymax - ymin) / cell_m + 1)
    need = n_cells * BYTES_PER_CELL
    memory_bytes = memory_bytes if memory_bytes is not None else _physical_memory()
    if memory_bytes and need > memory_bytes / 2:
        coarsest = cell_m * math.sqrt(need / (memory_bytes / 2))
        msg = Message("{where}: grid_m: {cell_m:g} m over the study area's extent ({width_km:,.1f} x {height_km:,.1f} "
                      "km) makes {n_cells:,} cells, needing about {need} of memory, more than half of this machine's "
                      "{memory}: use grid_m {coarsest} or more", where=where, cell_m=cell_m,
                      width_km=(xmax - xmin) / 1000, height_km=(ymax - ymin) / 1000, n_cells=n_cells, need=_size(need),
                      memory=_size(memory_bytes), coarsest=math.ceil(coarsest))
        raise InputError(msg)


def _round_down(value: float) -> str:
    """A round number of metres at or below ``value``."""
    for step in (100, 50, 10, 5, 1):
        if value >= step:
            return f"{math.floor(value / step) * step:g}"
    return f"{value:.2g}"


def _size(n_bytes: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n_bytes >= size:
            return f"{n_bytes / size:,.1f} {unit}"
    return f"{n_bytes / 1024:,.0f} KiB"


def _physical_memory() -> int | None:
    """The physical memory of this machine in bytes, or None where the system does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None
