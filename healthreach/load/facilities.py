"""Health facilities: ids, types, capacity and a location in any coordinate system."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from healthreach.crs import to_wgs84
from healthreach.errors import InputError
from healthreach.load.tables import read_table, require_columns, require_unique_ids
from healthreach.study import FacilitiesSpec

_TRUE = {"true", "1", "yes", "y", "t", "是", "有"}
_FALSE = {"false", "0", "no", "n", "f", "否", "无", ""}
COLUMNS = ["id", "name", "type", "beds", "ambulances", "emergency", "x", "y", "row"]


def read_facilities(spec: FacilitiesSpec, crs: str) -> gpd.GeoDataFrame:
    """Facilities as points in the analysis CRS ``crs``.

    Columns: ``id`` (str), ``name``, ``type``, ``beds``, ``ambulances``
    (counts), ``emergency`` (bool), ``x``, ``y`` (metres) and ``row`` (the
    row in the source file, for messages). Coordinates are read from the x/y
    columns in ``spec.crs`` (WGS84, GCJ-02, BD-09, CGCS2000 or an EPSG code),
    or from point geometry for GIS layers.
    """
    df = read_table(spec.path, spec.layer)
    is_layer = isinstance(df, gpd.GeoDataFrame) and df.geometry.notna().any()
    row_offset = 1 if is_layer else 2  # CSV/XLSX: row 1 is the header
    require_columns(df, {"id_column": spec.id_column, "name_column": spec.name_column,
                         "type_column": spec.type_column}, spec.path)
    ids = df[spec.id_column].astype(str).str.strip()
    require_unique_ids(ids, spec.path, row_offset)

    if is_layer:
        if df.crs is None:
            raise InputError(f"{spec.path}: the layer has no coordinate system")
        pts = df.geometry.to_crs(4326) if df.crs.to_epsg() != 4326 else df.geometry
        lon, lat = pts.x.to_numpy(float), pts.y.to_numpy(float)
        system = spec.crs if spec.crs.lower() in ("gcj02", "gcj-02", "bd09", "bd-09", "amap", "baidu") else "wgs84"
    else:
        require_columns(df, {"x_column": spec.x_column, "y_column": spec.y_column}, spec.path)
        lon = _numbers(df[spec.x_column], spec.path, spec.x_column, ids, row_offset)
        lat = _numbers(df[spec.y_column], spec.path, spec.y_column, ids, row_offset)
        system = spec.crs
    _check_swapped(lon, lat, system, spec, ids, row_offset)
    lon, lat = to_wgs84(lon, lat, system)

    to_local = Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_local.transform(lon, lat)
    out = pd.DataFrame({
        "id": ids.to_numpy(),
        "name": df[spec.name_column].astype(str).to_numpy(),
        "type": df[spec.type_column].astype(str).str.strip().to_numpy(),
        "beds": _counts(df, spec.beds_column, spec, ids, row_offset),
        "ambulances": _counts(df, spec.ambulances_column, spec, ids, row_offset),
        "emergency": _flags(df, spec.emergency_column, spec, ids, row_offset),
        "x": x, "y": y, "row": np.arange(len(df)) + row_offset,
    })
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(x, y), crs=crs)


def _numbers(col: pd.Series, path, name: str, ids: pd.Series, row_offset: int) -> np.ndarray:
    values = pd.to_numeric(col.astype(str).str.strip(), errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{path}: row {i + row_offset} (id {ids.iloc[i]}): column '{name}' is not a number: "
                         f"{col.iloc[i]!r} ({bad.sum()} rows like this)")
    return values


def _counts(df: pd.DataFrame, column: str | None, spec: FacilitiesSpec, ids, row_offset) -> np.ndarray:
    if not column or column not in df.columns:
        return np.zeros(len(df), int)
    raw = df[column].astype(str).str.strip().replace("", "0")
    values = _numbers(raw, spec.path, column, ids, row_offset)
    if (values < 0).any():
        i = int(np.flatnonzero(values < 0)[0])
        raise InputError(f"{spec.path}: row {i + row_offset} (id {ids.iloc[i]}): '{column}' is negative")
    return values.round().astype(int)


def _flags(df: pd.DataFrame, column: str | None, spec: FacilitiesSpec, ids, row_offset) -> np.ndarray:
    if not column or column not in df.columns:
        return np.zeros(len(df), bool)
    text = df[column].astype(str).str.strip().str.lower()
    unknown = ~text.isin(_TRUE | _FALSE)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise InputError(f"{spec.path}: row {i + row_offset} (id {ids.iloc[i]}): '{column}' must be true or false, "
                         f"got {df[column].iloc[i]!r}")
    return text.isin(_TRUE).to_numpy()


def _check_swapped(lon: np.ndarray, lat: np.ndarray, system: str, spec: FacilitiesSpec, ids, row_offset) -> None:
    """Reject geographic coordinates out of range, with a hint when they look swapped."""
    if system.lower().startswith("epsg:") and system.split(":")[1] not in ("4326", "4490", "4490"):
        return
    bad = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    # Chinese lon (73..135) in the lat column and lat (18..54) in the lon column
    swapped = bad | ((lon > 17) & (lon < 54) & (lat > 73) & (lat < 136))
    if swapped.any():
        i = int(np.flatnonzero(swapped)[0])
        raise InputError(f"{spec.path}: row {i + row_offset} (id {ids.iloc[i]}): longitude {lon[i]} / latitude "
                         f"{lat[i]} look swapped or out of range; '{spec.x_column}' must hold longitude "
                         f"and '{spec.y_column}' latitude ({swapped.sum()} rows like this)")
