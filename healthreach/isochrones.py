"""Polygons from the travel surface: bands of equal travel time or distance.

Bands are made from the very cell values the figures are computed from, so a
map never disagrees with the numbers: a cell is drawn inside the 15-minute
band exactly when it counts as covered.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from rasterio import features

from healthreach.grid import Grid


def bands(grid: Grid, flat: np.ndarray, values: np.ndarray, breaks: list[float],
          labels: list[str] | None = None, simplify_m: float = 0.0) -> gpd.GeoDataFrame:
    """Dissolved polygons of cells whose value falls in each band ``(lower, upper]``.

    Parameters
    ----------
    flat : ndarray
        Flat (row-major) grid indices of the cells.
    values : ndarray
        The value per cell (seconds, metres...); ``inf`` lies beyond every band.
    breaks : list of float
        Upper bounds of the bands, ascending; the first band starts at 0.
    simplify_m : float
        Douglas-Peucker tolerance (metres) for drawing; 0 keeps the cell edges.

    Returns
    -------
    GeoDataFrame with ``band`` (int, 0 = nearest), ``lower``, ``upper`` and
    ``label``, one row per band that has cells, in the grid's CRS.
    """
    labels = labels or [f"≤ {b:g}" for b in breaks]
    code = np.searchsorted(np.asarray(breaks, float), values, side="left")  # value <= break -> that band
    raster = np.full(grid.shape, -1, np.int32)
    raster.ravel()[flat] = np.where(code < len(breaks), code, -1)
    geoms, codes = [], []
    for geom, value in features.shapes(raster, mask=raster >= 0, transform=grid.transform, connectivity=4):
        geoms.append(shapely.geometry.shape(geom))
        codes.append(int(value))
    frame = gpd.GeoDataFrame({"band": codes}, geometry=geoms, crs=grid.crs)
    if frame.empty:
        return gpd.GeoDataFrame({"band": [], "lower": [], "upper": [], "label": []}, geometry=[], crs=grid.crs)
    # the shapes are maximal 4-connected regions, so two of one band never share an edge: grouping them
    # into one MultiPolygon per band equals a dissolve (union), at a fraction of the cost
    parts, part_codes = np.asarray(geoms, dtype=object), np.asarray(codes)
    present = np.unique(part_codes)
    frame = gpd.GeoDataFrame({"band": present},
                             geometry=[shapely.multipolygons(parts[part_codes == b]) for b in present],
                             crs=grid.crs)
    if simplify_m > 0:
        frame["geometry"] = frame.geometry.simplify(simplify_m, preserve_topology=True)
    lower = [0.0, *breaks[:-1]]
    frame["lower"] = [lower[b] for b in frame["band"]]
    frame["upper"] = [breaks[b] for b in frame["band"]]
    frame["label"] = [labels[b] for b in frame["band"]]
    return frame[["band", "lower", "upper", "label", "geometry"]]


def cell_squares(grid: Grid, flat: np.ndarray, **columns: np.ndarray) -> gpd.GeoDataFrame:
    """One square polygon per cell, with the given per-cell columns."""
    x, y = grid.centres(flat)
    half = grid.cell_m / 2
    return gpd.GeoDataFrame(columns, geometry=shapely.box(x - half, y - half, x + half, y + half), crs=grid.crs)
