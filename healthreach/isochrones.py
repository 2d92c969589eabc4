"""Polygons from the travel surface: bands of equal travel time or distance.

Bands are made from the very cell values the figures are computed from, so a
map never disagrees with the numbers: a cell is drawn inside the 15-minute
band exactly when it counts as covered.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import OrderedDict
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from rasterio import features

from healthreach.grid import Grid

if TYPE_CHECKING:
    from healthreach.band_store import BandStore


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
    present, geoms = band_geometries(grid, flat, values, breaks)
    if simplify_m > 0:
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    return labelled(present, geoms, breaks, labels, grid.crs)


def band_geometries(grid: Grid, flat: np.ndarray, values: np.ndarray,
                    breaks: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """The bands that have cells (int, 0 = nearest) and one MultiPolygon of their cells each (grid CRS).

    The grid is polygonised once (GDAL, through rasterio); its rings become
    shapely geometries in three array calls, not one object per polygon.
    """
    code = np.searchsorted(np.asarray(breaks, float), values, side="left")  # value <= break -> that band
    raster = np.full(grid.shape, -1, np.int32)
    raster.ravel()[flat] = np.where(code < len(breaks), code, -1)
    rings: list = []
    ring_polygon: list[int] = []
    polygon_band: list[int] = []
    for geom, value in features.shapes(raster, mask=raster >= 0, transform=grid.transform, connectivity=4):
        rings.extend(geom["coordinates"])  # shell first, then holes
        ring_polygon.extend([len(polygon_band)] * len(geom["coordinates"]))
        polygon_band.append(int(value))
    if not polygon_band:
        return np.zeros(0, np.int64), np.zeros(0, dtype=object)
    size = np.fromiter(map(len, rings), np.int64, len(rings))
    xy = np.fromiter(itertools.chain.from_iterable(itertools.chain.from_iterable(rings)), float, 2 * int(size.sum()))
    ring_geoms = np.asarray(shapely.linearrings(xy.reshape(-1, 2), indices=np.repeat(np.arange(len(rings)), size)))
    polygons = np.asarray(shapely.polygons(ring_geoms, indices=np.asarray(ring_polygon)))
    # the shapes are maximal 4-connected regions, so two of one band never share an edge: grouping them
    # into one MultiPolygon per band equals a dissolve (union), at a fraction of the cost
    band = np.asarray(polygon_band)
    order = np.argsort(band, kind="stable")
    present = np.unique(band)
    return present, np.asarray(shapely.multipolygons(polygons[order], indices=np.searchsorted(present, band[order])))


def labelled(present: np.ndarray, geoms: np.ndarray, breaks: list[float], labels: list[str] | None,
             crs) -> gpd.GeoDataFrame:
    """The band table: ``band``, ``lower``, ``upper``, ``label`` and the geometry, one row per band present."""
    if not len(present):
        return gpd.GeoDataFrame({"band": [], "lower": [], "upper": [], "label": []}, geometry=[], crs=crs)
    labels = labels or [f"≤ {b:g}" for b in breaks]
    lower = [0.0, *breaks[:-1]]
    return gpd.GeoDataFrame({"band": present.astype(np.int64), "lower": [lower[b] for b in present],
                             "upper": [breaks[b] for b in present], "label": [labels[b] for b in present]},
                            geometry=list(geoms), crs=crs)


class BandPolygons:
    """The band polygons of one study's cells, each distinct layer drawn once and then reused.

    A layer is keyed by its content: a digest of the cell values, the
    breaks and the simplification tolerance (metres), so the audit's map, its
    GeoPackage and every scenario map drawn from the same evaluation share
    one computation. The ``capacity`` most recently used layers are kept in
    memory; with a ``store`` (:class:`healthreach.band_store.BandStore`) every
    layer is also kept on disk, and a later process reads it back instead of
    drawing it.
    """

    def __init__(self, grid: Grid, flat: np.ndarray, capacity: int = 16, store: BandStore | None = None):
        self.grid = grid
        self.flat = flat
        self.capacity = capacity
        self.store = store
        self.layers: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.drawn = 0  # layers computed (not reused from memory or disk)

    def bands(self, values: np.ndarray, breaks: list[float], labels: list[str] | None = None,
              simplify_m: float = 0.0) -> gpd.GeoDataFrame:
        """As :func:`bands` on this study's cells; a layer asked for before is reused, not drawn again."""
        digest = hashlib.blake2b(np.ascontiguousarray(values, float).tobytes(), digest_size=16).hexdigest()
        present, geoms = self.layer(values, breaks, simplify_m, digest)
        while len(self.layers) > self.capacity:
            self.layers.popitem(last=False)
        return labelled(present, geoms, list(breaks), labels, self.grid.crs)

    def layer(self, values: np.ndarray, breaks: list[float], simplify_m: float,
              digest: str) -> tuple[np.ndarray, np.ndarray]:
        """(bands present, their geometries) of ``values`` (whose digest is ``digest``): from memory, else from
        the store, else drawn (a simplified layer from the unsimplified one) and kept in both.
        """
        key = (digest, tuple(float(b) for b in breaks), float(simplify_m))
        if key not in self.layers:
            found = self.store.read(key) if self.store is not None else None
            if found is None:
                if simplify_m > 0:
                    present, geoms = self.layer(values, breaks, 0.0, digest)
                    found = (present, shapely.simplify(geoms, simplify_m, preserve_topology=True))
                else:
                    found = band_geometries(self.grid, self.flat, values, breaks)
                    self.drawn += 1
                if self.store is not None:
                    self.store.write(key, *found)
            self.layers[key] = found
        self.layers.move_to_end(key)
        return self.layers[key]


def cell_squares(grid: Grid, flat: np.ndarray, **columns: np.ndarray) -> gpd.GeoDataFrame:
    """One square polygon per cell, with the given per-cell columns."""
    x, y = grid.centres(flat)
    half = grid.cell_m / 2
    return gpd.GeoDataFrame(columns, geometry=shapely.box(x - half, y - half, x + half, y + half), crs=grid.crs)
