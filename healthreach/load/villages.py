"""Administrative villages (or populated places) as points with a population."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from healthreach.errors import InputError
from healthreach.load.tables import read_table, require_columns, require_unique_ids
from healthreach.messages import Message, message_list
from healthreach.study import VillagesSpec


def read_villages(spec: VillagesSpec, crs: str, boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Villages in the analysis CRS ``crs``, with the township each lies in.

    Columns: ``id``, ``name``, ``population`` (people), ``x``, ``y`` (metres),
    ``township`` (row in ``boundaries``) and ``urban`` (bool, the township's
    class). A village without a point, or outside every township, is an
    error naming its row and id.
    """
    gdf = read_table(spec.path, spec.layer)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.crs is None:
        msg = Message("{path}: villages must be a point layer with a coordinate system", path=spec.path)
        raise InputError(msg)
    require_columns(gdf, {"id_column": spec.id_column, "name_column": spec.name_column,
                          "population_column": spec.population_column}, spec.path)
    ids = gdf[spec.id_column].astype(str)
    require_unique_ids(ids, spec.path, row_offset=1)
    people = pd.to_numeric(gdf[spec.population_column], errors="coerce").to_numpy(float)
    if not np.isfinite(people).all() or (people < 0).any():
        row = int(np.flatnonzero(~(np.isfinite(people) & (people >= 0)))[0])
        msg = Message(
            "{path}: row {row} (id {id}): '{population_column}' must be a number of people >= 0",
            path=spec.path, row=row + 1, id=ids.iloc[row], population_column=spec.population_column)
        raise InputError(msg)
    if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
        row = int(np.flatnonzero((gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy())[0])
        msg = Message(
            "{path}: row {row} (id {id}) has no location; give every village a point",
            path=spec.path, row=row + 1, id=ids.iloc[row])
        raise InputError(msg)
    if not gdf.geom_type.isin(["Point", "MultiPoint"]).all():
        row = int(np.flatnonzero(~gdf.geom_type.isin(["Point", "MultiPoint"]).to_numpy())[0])
        msg = Message(
            "{path}: row {row} (id {id}) is a {kind}; villages are points",
            path=spec.path, row=row + 1, id=ids.iloc[row], kind=gdf.geom_type.iloc[row])
        raise InputError(msg)
    points = gdf.geometry.to_crs(crs).representative_point()
    # on a township's edge counts as inside it (a village on the boundary line belongs to one of them)
    found = boundaries.sindex.query(points, predicate="intersects")
    township = np.full(len(gdf), -1)
    township[found[0][::-1]] = found[1][::-1]  # the first township listed, where a point touches two
    outside = np.flatnonzero(township < 0)
    if len(outside):
        listed = message_list([Message("{id} (row {row})", id=ids.iloc[i], row=i + 1) for i in outside[:10]], ", ")
        msg = Message(
            "{path}: {n_outside} villages lie outside every township: {listed}{more}; check their "
            "coordinates and the layer's coordinate system, or leave out villages of other districts",
            path=spec.path, n_outside=len(outside), listed=listed, more=" ..." if len(outside) > 10 else "")
        raise InputError(msg)
    urban = (boundaries["area_class"].to_numpy() == "urban")[np.maximum(township, 0)] & (township >= 0)
    return gpd.GeoDataFrame({"id": ids.to_numpy(), "name": gdf[spec.name_column].astype(str).to_numpy(),
                             "population": people, "x": points.x.to_numpy(), "y": points.y.to_numpy(),
                             "township": township, "urban": urban}, geometry=points.to_numpy(), crs=crs)
