"""Inputs that disagree by a Chinese web-map datum shift (GCJ-02 or BD-09).

Facilities copied from Amap and roads drawn in WGS84 (or the other way round)
sit a few hundred metres apart in one direction when one of them is declared
in the wrong coordinate system. Every figure is then wrong without a word, so
the facilities' distance to the roads is measured as given and with each
datum shift applied or removed; when a shift brings them markedly closer to
the roads, the study gets a warning naming both inputs and the shift.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from healthreach import crs as datum
from healthreach.messages import Message

# (name, direction) -> the move applied to the facilities' WGS84 lon/lat
_SHIFTS = {
    ("GCJ-02", "roads"): datum.wgs84_to_gcj02,          # roads are GCJ-02 relative to the facilities
    ("GCJ-02", "facilities"): datum.gcj02_to_wgs84,     # facilities are GCJ-02 relative to the roads
    ("BD-09", "roads"): datum.wgs84_to_bd09,
    ("BD-09", "facilities"): datum.bd09_to_wgs84,
    ("BD-09 vs GCJ-02", "roads"): datum.gcj02_to_bd09,
    ("BD-09 vs GCJ-02", "facilities"): datum.bd09_to_gcj02,
}
MIN_FACILITIES = 3
MIN_GIVEN_M = 25.0     # facilities this close to roads (median) are taken as consistent
MARKED_RATIO = 0.5     # a shift must at least halve the median distance
MIN_SHIFT_M = 50.0     # shifts smaller than this (outside China: none) are not tested


def median_road_distance_m(x: np.ndarray, y: np.ndarray, tree: shapely.STRtree) -> float:
    """Median distance (metres) from points (x, y, analysis CRS) to the nearest line in ``tree``."""
    _, dist = tree.query_nearest(shapely.points(x, y), return_distance=True, all_matches=False)
    return float(np.median(dist))


def datum_offset_warnings(study, facilities: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> list[Message]:
    """A warning when the facilities and the roads disagree by the GCJ-02 or BD-09 offset.

    ``facilities`` from :func:`healthreach.load.facilities.read_facilities`
    (``x``, ``y`` metres in the analysis CRS, ``lon``, ``lat`` WGS84
    degrees); ``lines`` the network's road lines in the same CRS. Compares
    the facilities' median distance to the nearest road as given with that
    after each datum shift; warns when one cuts it at least in half from 25 m
    or more.
    """
    if len(facilities) < MIN_FACILITIES or len(lines) == 0 or not {"lon", "lat"} <= set(facilities.columns):
        return []
    tree = shapely.STRtree(lines.geometry.to_numpy())
    x, y = facilities["x"].to_numpy(float), facilities["y"].to_numpy(float)
    given = median_road_distance_m(x, y, tree)
    if not given >= MIN_GIVEN_M:
        return []
    lon, lat = facilities["lon"].to_numpy(float), facilities["lat"].to_numpy(float)
    to_local = Transformer.from_crs(4326, facilities.crs, always_xy=True)
    best = None
    for (name, side), move in _SHIFTS.items():
        sx, sy = to_local.transform(*move(lon, lat))
        shift = float(np.median(np.hypot(sx - x, sy - y)))
        if shift < MIN_SHIFT_M:
            continue
        moved = median_road_distance_m(sx, sy, tree)
        if best is None or moved < best[0]:
            best = (moved, shift, name, side)
    if best is None or best[0] > MARKED_RATIO * given:
        return []
    moved, shift, name, side = best
    roads = study.roads.path.name if study.roads.path is not None else f"roads.source {study.roads.source}"
    values = {"roads": roads, "roads_crs": study.roads.crs or Message("as in the file"),
              "facilities": study.facilities.path.name, "facilities_crs": study.facilities.crs, "name": name,
              "given_m": given, "moved_m": moved, "shift_m": shift, "datum": name.split(" ")[0]}
    if side == "roads":
        return [Message(
            "roads ({roads}, roads.crs: {roads_crs}) and facilities ({facilities}, facilities.crs: {facilities_crs}) "
            "disagree by the {name} offset: the facilities lie a median {given_m:,.0f} m from the nearest road as "
            "given, {moved_m:,.0f} m once shifted by {shift_m:,.0f} m (the {name} offset here). The roads look like "
            "{datum} coordinates relative to the facilities: check roads.crs and facilities.crs; every figure is "
            "wrong while the two disagree", **values)]
    return [Message(
        "roads ({roads}, roads.crs: {roads_crs}) and facilities ({facilities}, facilities.crs: {facilities_crs}) "
        "disagree by the {name} offset: the facilities lie a median {given_m:,.0f} m from the nearest road as "
        "given, {moved_m:,.0f} m once shifted by {shift_m:,.0f} m (the {name} offset here). The facilities look "
        "like {datum} coordinates relative to the roads: check roads.crs and facilities.crs; every figure is "
        "wrong while the two disagree", **values)]
