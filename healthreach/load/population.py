"""Population onto the analysis grid, totals preserved.

Sources: a raster of people per cell in any CRS and resolution (WorldPop's
GeoTIFFs are the common case), or a polygon layer with a people column
(a census table joined to polygons, a population grid published as squares),
spread over the polygons by :mod:`healthreach.load.census`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from pyproj import CRS, Transformer
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from healthreach.errors import InputError
from healthreach.grid import Grid
from healthreach.load.tables import (
    VECTOR_SUFFIXES,
    check_crs_fits,
    check_overlaps,
    drop_missing_geometries,
    read_table,
    repair_invalid,
)
from healthreach.messages import Message
from healthreach.study import PopulationSpec

_MAX_PARTS = 40_000_000  # cap on source-cell parts projected in one aggregation (memory, time)


def is_polygon_source(path: Path) -> bool:
    """True when a population file is a vector layer (people per polygon) rather than a raster."""
    return path.suffix.lower() in VECTOR_SUFFIXES


def read_population_polygons(spec: PopulationSpec, notes: list[str | Message] | None = None) -> gpd.GeoDataFrame:
    """Polygons with people: a GeoDataFrame with a float ``people`` column, in the file's CRS.

    Every row needs a number of people (0 where nobody lives): blank, text,
    negative or infinite values are rejected naming the row, and so are
    polygons that overlap (their people would count twice). Rows without
    geometry are dropped and invalid polygons repaired, both counted in
    ``notes``.
    """
    gdf = read_table(spec.path, spec.layer)  # type: ignore[arg-type]  # the study file's check guarantees it
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.isna().all():
        msg = Message(
            "{path}: population polygons must be a polygon layer (GeoPackage, GeoJSON, Shapefile)",
            path=spec.path)
        raise InputError(msg)
    if gdf.crs is None:
        msg = Message("{path}: the layer has no coordinate system; set one in the file", path=spec.path)
        raise InputError(msg)
    gdf = drop_missing_geometries(gdf, spec.path, Message("population polygon"), notes)
    check_crs_fits(gdf.total_bounds, gdf.crs, spec.path, Message("population layer"))
    if spec.column not in gdf.columns:
        msg = Message(
            "{path}: no column '{column}' (study key population.column); the file has: {columns}",
            path=spec.path, column=spec.column, columns=", ".join(map(str, gdf.columns)))
        raise InputError(msg)
    raw = gdf[spec.column]
    people = pd.to_numeric(raw, errors="coerce")
    bad = people.isna() | ~np.isfinite(people.fillna(0)) | (people < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        msg = Message(
            "{path}: row {row}: '{column}' must be a number of people >= 0 (0 where nobody lives), got "
            "{value!r} ({bad} rows like this)",
            path=spec.path, row=i + 1, column=spec.column, value=raw.iloc[i], bad=int(bad.sum()))
        raise InputError(msg)
    polys = gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polys.all():
        i = int(np.flatnonzero(~polys.to_numpy())[0])
        msg = Message(
            "{path}: row {row} is a {kind}, not a polygon (population layers hold areas with their "
            "number of people)",
            path=spec.path, row=gdf.index[i] + 1, kind=gdf.geom_type.iloc[i])
        raise InputError(msg)
    gdf = repair_invalid(gdf, spec.path, Message("population"), notes)
    check_overlaps(gdf.geometry.to_numpy(), [Message("row {row}", row=i + 1) for i in range(len(gdf))], spec.path,
                   Message("population polygons"),
                   Message("their people would be counted twice; fix the layer so each place is in one"))
    return gpd.GeoDataFrame({"people": people.to_numpy(float)},
                            geometry=gdf.geometry.to_numpy(), crs=gdf.crs)


def read_population(spec: PopulationSpec, crs: str, bounds: tuple[float, float, float, float],
                    cell_m: float, notes: list[str | Message] | None = None) -> tuple[Grid, np.ndarray]:
    """People per cell on the analysis grid covering ``bounds`` (metres in ``crs``).

    A raster already in ``crs`` at ``cell_m`` resolution is used on its own
    grid (cropped to ``bounds``); any other raster is aggregated onto a new
    grid by :func:`aggregate_to_grid`. Only the window of the raster that
    covers ``bounds`` is read, so a national WorldPop file works as well as a
    clipped one. The nodata value (WorldPop's is about -3.4e38), NaN and
    negative cells count as no people; NaN or infinite cells that are not
    nodata, and negative ones, are counted in ``notes``. Returns the grid
    and a float64 array of its shape.
    """
    values, transform, src_crs = _read_window(spec, crs, bounds, notes)
    same_grid = (CRS.from_user_input(src_crs) == CRS.from_user_input(crs)
                 and np.isclose(transform.a, cell_m) and np.isclose(-transform.e, cell_m)
                 and transform.b == 0 and transform.d == 0)
    if same_grid:
        return _crop(values, transform, crs, bounds)
    grid = Grid.covering(bounds, cell_m, crs)
    return grid, aggregate_to_grid(values, transform, src_crs.to_wkt(), grid)


def read_population_on_grid(spec: PopulationSpec, grid: Grid, notes: list[str | Message] | None = None,
                            key: str = "population") -> np.ndarray:
    """People per cell of an existing analysis ``grid`` from a raster in any CRS and resolution.

    The raster is read and cleaned as :func:`read_population` reads it, then
    aggregated onto ``grid`` by :func:`aggregate_to_grid` (totals kept; people
    beyond the grid dropped). ``key``: the study key that names the raster,
    for messages. Returns a float64 array of the grid's shape.
    """
    left, top = grid.transform.c, grid.transform.f
    bounds = (left, top - grid.height * grid.cell_m, left + grid.width * grid.cell_m, top)
    values, transform, src_crs = _read_window(spec, grid.crs, bounds, notes, key)
    return aggregate_to_grid(values, transform, src_crs.to_wkt(), grid)


def _read_window(spec: PopulationSpec, crs: str, bounds: tuple[float, float, float, float],
                 notes: list[str | Message] | None, key: str = "population") -> tuple[np.ndarray, Any, Any]:
    """The raster's people around ``bounds`` (metres in ``crs``): values (nodata, NaN, inf and negative
    cells as 0), the window's transform and the raster's CRS.
    """
    try:
        src = rasterio.open(spec.path)
    except rasterio.errors.RasterioIOError as exc:
        msg = Message("{path}: cannot be read as a raster ({exc})", path=spec.path, exc=exc)
        raise InputError(msg) from None
    with src:
        if src.crs is None:
            msg = Message("{path}: the raster has no coordinate system; set one (e.g. EPSG:4326)", path=spec.path)
            raise InputError(msg)
        if spec.band > src.count:
            msg = Message(
                "{path}: {key}.band is {band} but the raster has {count} band(s)",
                path=spec.path, key=key, band=spec.band, count=src.count)
            raise InputError(msg)
        check_crs_fits(src.bounds, src.crs, spec.path, Message("population raster"))
        window = _window(src, crs, bounds)
        if window is None:
            msg = Message(
                "{path}: the raster does not overlap the study area; check that it covers the boundaries "
                "(raster bounds {bounds} in {crs})",
                path=spec.path, bounds=tuple(round(b, 4) for b in src.bounds), crs=src.crs)
            raise InputError(msg)
        masked = src.read(spec.band, window=window, masked=True)
        values = masked.astype(np.float64).filled(0.0)
        src_crs, transform = src.crs, src.window_transform(window)
    nodata = np.ma.getmaskarray(masked)
    _note_dropped_cells(values, nodata, spec, notes)
    values[nodata | ~np.isfinite(values) | (values < 0)] = 0.0
    return values, transform, src_crs


def _note_dropped_cells(values: np.ndarray, nodata: np.ndarray, spec: PopulationSpec,
                        notes: list[str | Message] | None) -> None:
    """Count, in ``notes``, raster cells (not nodata) that hold no usable number of people: NaN, ±inf or < 0."""
    if notes is None:
        return
    with np.errstate(invalid="ignore"):
        kinds = [(Message("NaN"), np.isnan(values)), (Message("infinite"), np.isinf(values)),
                 (Message("negative"), np.isfinite(values) & (values < 0))]
    for kind, mask in kinds:
        n = int((mask & ~nodata).sum())
        if n:
            notes.append(Message(
                "{path}: {n:,} population cells near the study area are {kind} (not the raster's nodata "
                "value) and count as no people; fix the raster or set its nodata value",
                path=spec.path, n=n, kind=kind))


def apply_affine(t, x, y) -> tuple[np.ndarray, np.ndarray]:
    """``t`` applied to coordinate arrays (``x, y``), element by element."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return t.a * x + t.b * y + t.c, t.d * x + t.e * y + t.f


def _window(src, crs: str, bounds, margin_cells: int = 2) -> Window | None:
    """The raster window covering ``bounds`` (metres in ``crs``) plus a margin; None if disjoint."""
    left, bottom, right, top = transform_bounds(crs, src.crs, *bounds, densify_pts=21)
    inv = ~src.transform
    cols, rows = apply_affine(inv, np.array([left, right, left, right]), np.array([bottom, bottom, top, top]))
    c0 = max(int(np.floor(cols.min())) - margin_cells, 0)
    r0 = max(int(np.floor(rows.min())) - margin_cells, 0)
    c1 = min(int(np.ceil(cols.max())) + margin_cells, src.width)
    r1 = min(int(np.ceil(rows.max())) + margin_cells, src.height)
    if c1 <= c0 or r1 <= r0:
        return None
    return Window(c0, r0, c1 - c0, r1 - r0)


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
    grid = Grid(crs, transform @ transform.translation(col0, row0), out.shape[1], out.shape[0])
    return grid, out


def aggregate_to_grid(values: np.ndarray, transform, src_crs: str, grid: Grid,
                      supersample: int | None = None) -> np.ndarray:
    """Sum people from a source raster into ``grid`` cells, preserving the total.

    Each populated source cell is split into ``k x k`` equal parts whose
    centres are projected into the grid's CRS and binned; ``k`` defaults to
    enough parts that each is at most half a grid cell across (up to 32, and
    fewer when the raster has so many populated cells that the parts would
    exceed 40 million). People that fall outside the grid are dropped (they
    lie outside the study area); every other person is counted exactly once.
    """
    rows, cols = np.nonzero(values > 0)
    people = values[rows, cols]
    if supersample is None:
        src_size = _cell_size_m(transform, src_crs, rows, cols)
        k_max = max(1, int(np.sqrt(_MAX_PARTS / max(len(rows), 1))))
        supersample = int(np.clip(np.ceil(2 * src_size / grid.cell_m), 1, min(32, k_max)))
    k = supersample
    offsets = (np.arange(k) + 0.5) / k
    out = np.zeros(grid.height * grid.width)
    to_grid = Transformer.from_crs(src_crs, grid.crs, always_xy=True)
    inv = ~grid.transform
    for dy in offsets:
        for dx in offsets:
            sx, sy = apply_affine(transform, cols + dx, rows + dy)
            gx, gy = to_grid.transform(sx, sy)
            gc, gr = apply_affine(inv, gx, gy)
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
    _, lat = apply_affine(transform, np.median(cols), np.median(rows))
    return float(max(abs(transform.a) * 111_320 * np.cos(np.radians(lat)), abs(transform.e) * 110_574))
