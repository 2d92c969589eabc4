"""Administrative villages (or populated places) as points with a population."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from healthreach.errors import InputError
from healthreach.load.tables import read_table, require_columns, require_unique_ids
from healthreach.study import VillagesSpec


def read_villages(spec: VillagesSpec, crs: str, boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Villages in the analysis CRS ``crs``, with the township each lies in.

    Columns: ``id``, ``name``, ``population`` (people), ``x``, ``y`` (metres),
    ``township`` (row in ``boundaries``; -1 outside every township) and
    ``urban`` (bool, the township's class).
    """
    gdf = read_table(spec.path, spec.layer)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.crs is None:
        raise InputError(f"{spec.path}: villages must be a point layer with a coordinate system")
    require_columns(gdf, {"id_column": spec.id_column, "name_column": spec.name_column,
                          "population_column": spec.population_column}, spec.path)
    ids = gdf[spec.id_column].astype(str)
    require_unique_ids(ids, spec.path, row_offset=1)
    people = pd.to_numeric(gdf[spec.population_column], errors="coerce").to_numpy(float)
    if not np.isfinite(people).all() or (people < 0).any():
        row = int(np.flatnonzero(~(np.isfinite(people) & (people >= 0)))[0])
        raise InputError(f"{spec.path}: row {row + 1} (id {ids.iloc[row]}): '{spec.population_column}' "
                         f"must be a number of people >= 0")
    points = gdf.geometry.to_crs(crs).representative_point()
    found = boundaries.sindex.query(points, predicate="within")
    township = np.full(len(gdf), -1)
    township[found[0]] = found[1]
    urban = (boundaries["area_class"].to_numpy() == "urban")[np.maximum(township, 0)] & (township >= 0)
    return gpd.GeoDataFrame({"id": ids.to_numpy(), "name": gdf[spec.name_column].astype(str).to_numpy(),
                             "population": people, "x": points.x.to_numpy(), "y": points.y.to_numpy(),
                             "township": township, "urban": urban}, geometry=points.to_numpy(), crs=crs)
