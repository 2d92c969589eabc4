"""Population rasters (people per cell) onto the analysis grid, totals preserved."""

from __future__ import annotations

import numpy as np
import rasterio
from pyproj import CRS, Transformer

from healthreach.errors import InputError
from healthreach.grid import Grid
from healthreach.study import PopulationSpec


def read_population(spec: PopulationSpec, crs: str, bounds: tuple[float, float, float, float],
                    cell_m: float) -> tuple[Grid, np.ndarray]:
    """People per cell on the analysis grid covering ``bounds`` (metres in ``crs``).

    A raster already in ``crs`` at ``cell_m`` resolution is used on its own
    grid (cropped to ``bounds``); any other raster is aggregated onto a new
    grid by :func:`aggregate_to_grid`. Nodata, NaN and negative cells count as
    no people. Returns the grid and a float64 array of its shape.
    """
    try:
        src = rasterio.open(spec.path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{spec.path}: cannot be read as a raster ({exc})") from None
    with src:
        if src.crs is None:
            raise InputError(f"{spec.path}: the raster has no coordinate system; set one (e.g. EPSG:4326)")
        if spec.band > src.count:
            raise InputError(f"{spec.path}: population.band is {spec.band} but the raster has {src.count} band(s)")
        values = src.read(spec.band, masked=True).astype(np.float64).filled(np.nan)
        src_crs, transform = src.crs, src.transform
    values[~np.isfinite(values) | (values < 0)] = 0.0

    same_grid = (CRS.from_user_input(src_crs) == CRS.from_user_input(crs)
                 and np.isclose(transform.a, cell_m) and np.isclose(-transform.e, cell_m)
                 and transform.b == 0 and transform.d == 0)
    if same_grid:
        return _crop(values, transform, crs, bounds)
    grid = Grid.covering(bounds, cell_m, crs)
    return grid, aggregate_to_grid(values, transform, src_crs.to_wkt(), grid)


def _crop(values: np.ndarray, transform, crs: str, bounds) -> tuple[Grid, np.ndarray]:
    """The window of an aligned raster that covers ``bounds``, padded with zeros."""
    cell = transform.a
    col0 = int(np.floor((bounds[0] - transform.c) / cell))
    row0 = int(np.floor((transform.f - bounds[3]) / cell))
    col1 = int(np.ceil((bounds[2] - transform.c) / cell))
    row1 = int(np.ceil((transform.f - bounds[1]) / cell))
    out = np.zeros((row1 - row0, col1 - col0))
    r0, c0 = max(row0, 0), max(col0, 0)
    r1, c1 = min(row1, values.shape[0]), min(col1, values.shape[1])
    if r1 > r0 and c1 > c0:
        out[r0 - row0:r1 - row0, c0 - col0:c1 - col0] = values[r0:r1, c0:c1]
    grid = Grid(crs, transform * transform.translation(col0, row0), out.shape[1], out.shape[0])
    return grid, out


def aggregate_to_grid(values: np.ndarray, transform, src_crs: str, grid: Grid,
                      supersample: int | None = None) -> np.ndarray:
    """Sum people from a source raster into ``grid`` cells, preserving the total.

    Each populated source cell is split into ``k x k`` equal parts whose
    centres are projected into the grid's CRS and binned; ``k`` defaults to
    enough parts that each is at most half a grid cell across. People that
    fall outside the grid are dropped (they lie outside the study area).
    """
    rows, cols = np.nonzero(values > 0)
    people = values[rows, cols]
    if supersample is None:
        src_size = _cell_size_m(transform, src_crs, rows, cols)
        supersample = int(np.clip(np.ceil(2 * src_size / grid.cell_m), 1, 8))
    k = supersample
    offsets = (np.arange(k) + 0.5) / k
    out = np.zeros(grid.height * grid.width)
    to_grid = Transformer.from_crs(src_crs, grid.crs, always_xy=True)
    inv = ~grid.transform
    for dy in offsets:
        for dx in offsets:
            sx, sy = transform * (cols + dx, rows + dy)
            gx, gy = to_grid.transform(sx, sy)
            gc, gr = inv * (gx, gy)
            gc, gr = np.floor(gc).astype(np.int64), np.floor(gr).astype(np.int64)
            inside = (gc >= 0) & (gc < grid.width) & (gr >= 0) & (gr < grid.height)
            out += np.bincount(gr[inside] * grid.width + gc[inside], weights=people[inside] / k**2,
                               minlength=out.size)
    return out.reshape(grid.shape)


def _cell_size_m(transform, crs: str, rows: np.ndarray, cols: np.ndarray) -> float:
    """Approximate source cell side in metres (degrees converted at the data's centre)."""
    src = CRS.from_user_input(crs)
    if not src.is_geographic:
        return float(abs(transform.a))
    if len(rows) == 0:
        return 0.0
    _, lat = transform * (np.median(cols), np.median(rows))
    return float(max(abs(transform.a) * 111_320 * np.cos(np.radians(lat)), abs(transform.e) * 110_574))
