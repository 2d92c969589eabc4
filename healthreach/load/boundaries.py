"""Township boundaries with an urban/rural class and census totals."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from healthreach.errors import InputError
from healthreach.load.tables import read_table, require_columns, require_unique_ids
from healthreach.study import BoundariesSpec

AREA_CLASSES = ("urban", "rural")
_CLASS_WORDS = {"urban": "urban", "城市": "urban", "城镇": "urban", "街道": "urban",
                "rural": "rural", "农村": "rural", "乡村": "rural", "乡镇": "rural"}


def read_boundaries(spec: BoundariesSpec) -> gpd.GeoDataFrame:
    """Townships as a GeoDataFrame with columns ``id, name, area_class, census_pop``.

    The CRS is the file's own; ``area_class`` is ``urban`` or ``rural``;
    ``census_pop`` is people (NaN where no column is given).
    """
    gdf = read_table(spec.path, spec.layer)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.isna().all():
        raise InputError(f"{spec.path}: boundaries must be a polygon layer (GeoPackage, GeoJSON, Shapefile)")
    if gdf.crs is None:
        raise InputError(f"{spec.path}: the layer has no coordinate system; set one (e.g. EPSG:4490) in the file")
    require_columns(gdf, {"id_column": spec.id_column, "name_column": spec.name_column,
                          "class_column": spec.class_column, "population_column": spec.population_column}, spec.path)
    ids = gdf[spec.id_column].astype(str)
    require_unique_ids(ids, spec.path, row_offset=1)
    raw_class = gdf[spec.class_column].astype(str).str.strip()
    area_class = raw_class.str.lower().map(_CLASS_WORDS)
    if area_class.isna().any():
        bad = gdf.loc[area_class.isna(), spec.id_column].astype(str).tolist()[:5]
        values = sorted(set(raw_class[area_class.isna()]))[:5]
        raise InputError(f"{spec.path}: column '{spec.class_column}' must be 'urban' or 'rural'; "
                         f"got {values} for {', '.join(bad)}")
    polys = gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polys.all():
        bad = ids[~polys].tolist()[:5]
        raise InputError(f"{spec.path}: not polygons: {', '.join(bad)}")
    census = (pd.to_numeric(gdf[spec.population_column], errors="coerce")
              if spec.population_column else pd.Series(np.nan, index=gdf.index))
    return gpd.GeoDataFrame({"id": ids.to_numpy(), "name": gdf[spec.name_column].astype(str).to_numpy(),
                             "area_class": area_class.to_numpy(), "census_pop": census.to_numpy(float)},
                            geometry=gdf.geometry.make_valid().to_numpy(), crs=gdf.crs)
