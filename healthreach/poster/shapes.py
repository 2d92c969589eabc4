"""Shapely geometries as matplotlib artists: polygons as one filled path, lines as one line collection.

Drawn directly (no pyplot, no geopandas plotting), so a poster is made the
same way with or without a display.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from matplotlib.collections import LineCollection
from matplotlib.patches import PathPatch
from matplotlib.path import Path


def polygon_path(geoms: Sequence[Any] | np.ndarray) -> Path:
    """One compound path of every ring of ``geoms`` (polygons or multipolygons), holes wound the other way."""
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    parts = parts[shapely.get_type_id(parts) == 3]
    if not len(parts):
        return Path(np.zeros((0, 2)))
    parts = shapely.orient_polygons(parts, exterior_cw=False)  # nonzero fill: holes run clockwise
    rings = shapely.get_rings(parts)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(coords), Path.LINETO, dtype=np.uint8)
    first = np.r_[True, ring[1:] != ring[:-1]]
    last = np.r_[ring[1:] != ring[:-1], True]
    codes[first] = Path.MOVETO
    codes[last] = Path.CLOSEPOLY
    return Path(coords, codes)


def polygon_patch(geoms: Sequence[Any] | np.ndarray, **style: Any) -> PathPatch:
    """A filled patch of ``geoms`` with matplotlib ``style`` (facecolor, edgecolor, linewidth, zorder...)."""
    return PathPatch(polygon_path(geoms), **style)


def line_collection(geoms: Sequence[Any] | np.ndarray, **style: Any) -> LineCollection:
    """The lines and polygon outlines of ``geoms`` as one collection with matplotlib ``style``."""
    arr = np.asarray(geoms, dtype=object)
    polygonal = np.isin(shapely.get_type_id(arr), (3, 6))
    lines = np.concatenate([shapely.get_parts(arr[~polygonal]),
                            shapely.get_rings(shapely.get_parts(arr[polygonal]))])
    lines = shapely.get_parts(lines)
    coords, index = shapely.get_coordinates(lines, return_index=True)
    splits = np.flatnonzero(np.diff(index)) + 1
    return LineCollection(np.split(coords, splits) if len(coords) else [], **style)
