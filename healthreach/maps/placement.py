"""Where township labels go: inside their township, near its middle, and clear of facility icons.

Used by the HTML map and the poster alike. Distances are metres in the
analysis CRS; the clearance is a share of the study area's width, since both
maps open showing the whole study area, where an icon and a label span a
fixed share of it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

CLEARANCE_SHARE = 1 / 50  # a label keeps this share of the study area's width above and below every facility
ASPECT = 2.5              # ... and this many times more to its sides, as a label is wider than tall
GRID = 9                  # candidate points per side of a township's bounding box


def label_points(areas: gpd.GeoSeries, obstacles_xy: np.ndarray, clearance_m: float | None = None) -> gpd.GeoSeries:
    """One label point per area (metres, same CRS): the point nearest its representative point that lies
    ``clearance_m`` above or below every obstacle or :data:`ASPECT` times that to its sides (default:
    :data:`CLEARANCE_SHARE` of the areas' width), or the point farthest from them when none does; always
    inside the area.
    """
    west, _, east, _ = areas.total_bounds
    clearance = (east - west) * CLEARANCE_SHARE if clearance_m is None else clearance_m
    obstacles = np.asarray(obstacles_xy, float).reshape(-1, 2)
    tree = cKDTree(obstacles / [ASPECT, 1.0]) if len(obstacles) else None  # distances with x shrunk
    centres = areas.representative_point()
    out = []
    for geom, centre in zip(areas.to_numpy(), centres.to_numpy(), strict=True):
        out.append(_place(geom, centre, tree, clearance))
    return gpd.GeoSeries(out, index=areas.index, crs=areas.crs)


def _place(geom, centre, tree: cKDTree | None, clearance: float):
    if tree is None or tree.query([centre.x / ASPECT, centre.y])[0] >= clearance:
        return centre
    x0, y0, x1, y1 = geom.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, GRID + 2)[1:-1], np.linspace(y0, y1, GRID + 2)[1:-1])
    points = shapely.points(np.column_stack([xs.ravel(), ys.ravel()]))
    inside = np.asarray(shapely.contains_xy(geom, xs.ravel(), ys.ravel()))
    # keep some room from the township's edge, as the label is wider than a point
    room = np.asarray(shapely.distance(shapely.boundary(geom), points)) >= 0.25 * clearance
    keep = inside & room
    if not keep.any():
        keep = inside
    if not keep.any():
        return centre
    pts = np.column_stack([xs.ravel(), ys.ravel()])[keep]
    clear = np.asarray(tree.query(pts / [ASPECT, 1.0])[0], float)
    near = np.hypot(pts[:, 0] - centre.x, pts[:, 1] - centre.y)
    ok = clear >= clearance
    best = int(np.argmin(np.where(ok, near, np.inf))) if ok.any() else int(np.argmax(clear))
    return shapely.Point(pts[best])
