"""The maps' road layers: a network's lines of some classes, merged per class, simplified and encoded for the
page, computed once per network and then read back from the disk cache (:mod:`healthreach.maps.road_store`).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from healthreach.maps.assets import feature_collection
from healthreach.maps.base import to_display
from healthreach.maps.merge import merge_lines
from healthreach.maps.road_store import RoadStore
from healthreach.messages import Message

ROAD_SIMPLIFY_M = 15.0  # Douglas-Peucker tolerance of the drawn road centre lines, metres


def road_layer(lines: gpd.GeoDataFrame, classes: set[str], inside: bool, datum: str, store: RoadStore | None,
               simplify_m: float = ROAD_SIMPLIFY_M) -> dict:
    """The FeatureCollection (display coordinates of ``datum``, encoded geometries) of the ``lines`` whose
    class is one of ``classes`` (``inside``) or none of them (not ``inside``): one feature per class present,
    its lines merged and simplified by ``simplify_m`` metres. With a ``store`` (of these lines) the layer is
    read from it when kept, else drawn and kept.
    """
    if store is not None and store.lines is not lines:
        msg = Message("a road layer store is for other lines than the ones drawn")
        raise ValueError(msg)
    key = (tuple(sorted(classes)), inside, float(simplify_m), datum)
    layer = None if store is None else store.read(key)
    if layer is None:
        layer = draw_road_layer(lines, classes, inside, datum, simplify_m)
        if store is not None:
            store.write(key, layer)
    return layer


def draw_road_layer(lines: gpd.GeoDataFrame, classes: set[str], inside: bool, datum: str,
                    simplify_m: float) -> dict:
    """:func:`road_layer` computed: per class present (sorted by name), one geometry of its lines merged where
    exactly two meet (:func:`healthreach.maps.merge.merge_lines`, as ``shapely.line_merge``), simplified by
    ``simplify_m`` metres (topology not kept), in ``datum`` display coordinates.
    """
    part = lines[lines["road_class"].isin(list(classes)).to_numpy() == inside]
    codes, names = pd.factorize(part["road_class"], sort=True)
    classed = codes >= 0  # a line with no class (-1) is not drawn
    merged = merge_lines(part.geometry.to_numpy()[classed], codes[classed])
    geoms = shapely.simplify(merged, simplify_m, preserve_topology=False)
    frame = gpd.GeoDataFrame({"road_class": [str(n) for n in names]}, geometry=geoms, crs=lines.crs)
    return feature_collection(to_display(frame, datum))
