"""Health facilities: ids, types, capacity and a location in any coordinate system."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from healthreach.crs import looks_swapped, to_wgs84
from healthreach.errors import InputError
from healthreach.load import osm
from healthreach.load.tables import check_crs_fits, read_table, require_columns, require_unique_ids
from healthreach.messages import Message, message_list
from healthreach.study import FacilitiesSpec
from healthreach.vocab import facility_types

_TRUE = {"true", "1", "yes", "y", "t", "是", "有"}
_FALSE = {"false", "0", "no", "n", "f", "否", "无", ""}


def read_facilities(spec: FacilitiesSpec, crs: str, osm_area=None) -> gpd.GeoDataFrame:
    """Facilities as points in the analysis CRS ``crs``.

    Columns: ``id`` (str), ``name``, ``type``, ``beds``, ``ambulances``,
    ``doctors``, ``nurses``, ``capacity`` (counts; zeros where the study names
    no column), ``emergency`` (bool), ``x``, ``y`` (metres) and ``row`` (the
    row in the source file, for messages). ``type`` is the canonical type
    (Chinese and English names and ``spec.type_map`` read through
    :mod:`healthreach.vocab`; unknown names are kept as written, for the
    caller to report). Coordinates are read from the x/y
    columns in ``spec.crs`` (WGS84, GCJ-02, BD-09, CGCS2000 or an EPSG code),
    or from point geometry for GIS layers (a point inside polygons). An
    OpenStreetMap extract (``.osm.pbf``, ``.osm``) is read for the points
    tagged ``spec.osm_tags`` (default: hospitals, clinics, doctors, dentists,
    pharmacies and anything tagged ``healthcare``), within ``osm_area`` (a
    WGS84 polygon) when given; its ids are ``node/123``.
    Also returns ``lon``, ``lat``: WGS84 degrees after any datum conversion.
    """
    if osm.is_pbf(spec.path) or osm.is_osm_xml(spec.path):
        df = osm.read_osm_facilities(spec.path, spec.osm_tags, osm_area)
        # the OSM table has the default column names; its types are the tag values asked for, and
        # OpenStreetMap knows no ambulance counts
        spec = FacilitiesSpec(path=spec.path, crs="wgs84", type_map=spec.type_map, ambulances_column=None)
        row_offset = 1
        is_layer = False
    else:
        df = read_table(spec.path, spec.layer)
        is_layer = isinstance(df, gpd.GeoDataFrame) and df.geometry.notna().any()
        row_offset = 1 if is_layer else 2  # CSV/XLSX: row 1 is the header
    if len(df) == 0:
        tagged = spec.osm_tags or Message("as a health facility")
        what = (Message("no point tagged {tags} in the study area", tags=tagged)
                if osm.is_pbf(spec.path) or osm.is_osm_xml(spec.path) else Message("no rows (only a header, or empty)"))
        msg = Message(
            "{path}: no facilities: the file has {what}; every standard needs facilities to measure "
            "access to",
            path=spec.path, what=what)
        raise InputError(msg)
    require_columns(df, {"id_column": spec.id_column, "name_column": spec.name_column,
                         "type_column": spec.type_column}, spec.path)
    ids = df[spec.id_column].astype(str).str.strip()
    require_unique_ids(ids, spec.path, row_offset)

    if is_layer:
        if df.crs is None:
            msg = Message("{path}: the layer has no coordinate system", path=spec.path)  # type: ignore[unreachable]  # .crs of a layer
            raise InputError(msg)
        check_crs_fits(df.total_bounds, df.crs, spec.path, Message("facility layer"))
        pts = df.geometry.to_crs(4326) if df.crs.to_epsg() != 4326 else df.geometry
        if not pts.geom_type.eq("Point").all():
            pts = pts.representative_point()
        lon, lat = pts.x.to_numpy(float), pts.y.to_numpy(float)
        system = spec.crs if spec.crs.lower() in ("gcj02", "gcj-02", "bd09", "bd-09", "amap", "baidu") else "wgs84"
    else:
        require_columns(df, {"x_column": spec.x_column, "y_column": spec.y_column}, spec.path)
        lon = _numbers(df[spec.x_column], spec.path, spec.x_column, ids, row_offset)
        lat = _numbers(df[spec.y_column], spec.path, spec.y_column, ids, row_offset)
        system = spec.crs
        if system.lower().startswith("epsg:") and system.split(":")[1] not in ("4326", "4490"):
            check_crs_fits((lon.min(), lat.min(), lon.max(), lat.max()), system, f"{spec.path} (facilities.crs)",
                           Message("facility table"))
    _check_swapped(lon, lat, system, spec, ids, row_offset)
    lon, lat = to_wgs84(lon, lat, system)

    to_local = Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_local.transform(lon, lat)
    out = pd.DataFrame({
        "id": ids.to_numpy(),
        "name": df[spec.name_column].astype(str).to_numpy(),
        "type": facility_types(df[spec.type_column].to_numpy(), spec.type_map),
        "beds": _counts(df, "beds_column", spec, ids, row_offset),
        "ambulances": _counts(df, "ambulances_column", spec, ids, row_offset),
        "emergency": _flags(df, "emergency_column", spec, ids, row_offset),
        "doctors": _counts(df, "doctors_column", spec, ids, row_offset),
        "nurses": _counts(df, "nurses_column", spec, ids, row_offset),
        "capacity": _counts(df, "capacity_column", spec, ids, row_offset),
        "x": x, "y": y, "row": np.arange(len(df)) + row_offset,
        "lon": lon, "lat": lat,
    })
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(x, y), crs=crs)


def has_ambulance_counts(spec: FacilitiesSpec) -> bool:
    """Whether the facility list gives ambulance counts (not for ``ambulances_column: null``, nor OpenStreetMap)."""
    return spec.ambulances_column is not None and not (osm.is_pbf(spec.path) or osm.is_osm_xml(spec.path))


def check_types(facilities: gpd.GeoDataFrame, profile_types, spec: FacilitiesSpec, max_rows: int = 10) -> None:
    """Stop on a facility type nobody knows: neither the vocabulary, ``type_map`` nor the profile's groups.

    ``facilities`` comes from :func:`read_facilities` (canonical ``type``,
    file ``row``); ``profile_types`` are the types the profile's groups name.
    The error lists each unknown type with its file rows, and the known
    types. Types read from an OpenStreetMap extract are the tag values the
    study asked for and are not checked here.
    """
    from healthreach.vocab import CANONICAL_FACILITY_TYPES, facility_type, known_names

    known = set(CANONICAL_FACILITY_TYPES) | set(profile_types)
    bad_map = {k: v for k, v in spec.type_map.items() if facility_type(v) not in known}
    if bad_map:
        listed = ", ".join(f"'{k}' -> '{v}'" for k, v in bad_map.items())
        msg = Message(
            "facilities.type_map: {listed}: the type on the right must be a known type: {known}",
            listed=listed, known=", ".join(sorted(known)))
        raise InputError(msg)
    if osm.is_pbf(spec.path) or osm.is_osm_xml(spec.path) or len(facilities) == 0:
        return
    types = facilities["type"].astype(str)
    unknown = ~types.isin(known)
    if not unknown.any():
        return
    parts = []
    for name, rows in facilities.loc[unknown.to_numpy(), "row"].groupby(types[unknown].to_numpy(), sort=True):
        shown = ", ".join(map(str, rows.tolist()[:max_rows])) + (", ..." if len(rows) > max_rows else "")
        parts.append(Message("'{name}' ({n} rows: {shown})", name=name, n=len(rows), shown=shown) if len(rows) > 1
                     else Message("'{name}' (1 row: {shown})", name=name, shown=shown))
    own = sorted(set(profile_types) - set(CANONICAL_FACILITY_TYPES))
    msg = Message(
        "{path}: column '{type_column}' has facility types nobody knows: {parts}. Known types: "
        "{known}{own}. Write one of these, or map each local name to one under "
        "facilities.type_map (e.g. type_map: {{门诊部: community_station}}); a facility of unknown type "
        "would count for nothing",
        path=spec.path, type_column=spec.type_column, parts=message_list(parts), known=known_names(),
        own="; " + ", ".join(own) if own else "")
    raise InputError(msg)


def check_locations(facilities: gpd.GeoDataFrame, area, path, far_outside_m: float = 50_000.0,
                    same_place_m: float = 1.0, max_listed: int = 10) -> list[Message]:
    """Warnings (and errors) about where facilities lie relative to the study area.

    Parameters
    ----------
    facilities : GeoDataFrame
        From :func:`read_facilities` (x, y metres in the analysis CRS; lon, lat).
    area : shapely geometry
        The study area (union of the boundaries) in the same CRS.
    path : Path
        The facility file, for messages.

    Raises :class:`InputError` for a facility that lies outside the study area
    where swapping its longitude and latitude would put it inside (a swapped
    column). Returns warnings for facilities outside the area (they are still
    used: patients cross boundaries, and plans count hospitals beyond them),
    for those more than ``far_outside_m`` away, and for facilities with
    different ids at one place (within ``same_place_m`` metres). At most
    ``max_listed`` facilities outside are named one by one; the rest are counted.
    """
    import shapely
    from pyproj import Transformer

    out: list[Message] = []
    if len(facilities) == 0:
        return out
    pts = shapely.points(facilities["x"].to_numpy(), facilities["y"].to_numpy())
    dist = shapely.distance(area, pts)
    outside = dist > 0
    if outside.any() and {"lon", "lat"} <= set(facilities.columns):
        to_local = Transformer.from_crs(4326, facilities.crs, always_xy=True)
        lon, lat = facilities["lon"].to_numpy(float), facilities["lat"].to_numpy(float)
        ok = outside & (np.abs(lon) <= 90)
        sx, sy = np.full(len(pts), np.inf), np.full(len(pts), np.inf)
        sx[ok], sy[ok] = to_local.transform(lat[ok], lon[ok])
        swapped = ok & np.isfinite(sx) & shapely.intersects(area, shapely.points(np.nan_to_num(sx, posinf=0),
                                                                                  np.nan_to_num(sy, posinf=0)))
        if swapped.any():
            rows = facilities[swapped]
            listed = message_list([
                Message("row {row} (id {id}): lon {lon:.6f}, lat {lat:.6f}", row=r, id=i, lon=a, lat=b)
                for r, i, a, b in zip(rows["row"], rows["id"], rows["lon"], rows["lat"], strict=False)])
            msg = Message(
                "{path}: longitude and latitude look swapped (the point lies inside the study area only "
                "when they are exchanged): {listed}. Exchange the two columns, or the x_column and "
                "y_column keys in the study file",
                path=path, listed=listed)
            raise InputError(msg)
    listed_outside = np.flatnonzero(outside)
    if len(listed_outside) > max_listed:
        more = listed_outside[max_listed:]
        out.append(Message("{n} more facilities of {file} lie outside the study area (up to {km:,.1f} km); they are "
                           "still counted", n=len(more), file=path.name, km=dist[more].max() / 1000))
    for i in listed_outside[:max_listed]:
        fac = facilities.iloc[i]
        where = Message("facility {id} ({name}, {file} row {row})", id=fac["id"], name=fac["name"], file=path.name,
                        row=fac["row"])
        if dist[i] > far_outside_m:
            out.append(Message("{where} lies {km:,.0f} km outside the study area; check its coordinates and the "
                               "coordinate system (facilities.crs)", where=where, km=dist[i] / 1000))
        else:
            out.append(Message("{where} lies {km:,.1f} km outside the study area; it is still counted (residents "
                               "cross boundaries)", where=where, km=dist[i] / 1000))
    tree_xy = np.column_stack([facilities["x"].to_numpy(), facilities["y"].to_numpy()])
    from scipy.spatial import cKDTree

    pairs = cKDTree(tree_xy).query_pairs(same_place_m, output_type="ndarray")
    if len(pairs):
        from scipy import sparse
        from scipy.sparse.csgraph import connected_components

        graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(tree_xy),) * 2)
        _, label = connected_components(graph, directed=False)
        sizes = np.bincount(label)
        for lab in np.flatnonzero(sizes > 1)[:10]:
            group = facilities.iloc[np.flatnonzero(label == lab)]
            listed = message_list([Message("{id} (row {row})", id=i, row=r)
                                   for i, r in zip(group["id"], group["row"], strict=False)], ", ")
            out.append(Message("{file}: facilities {listed} share one location; if they are one facility listed "
                               "twice, keep one row", file=path.name, listed=listed))
    return out


def _numbers(col: pd.Series, path, name: str, ids: pd.Series, row_offset: int) -> np.ndarray:
    values = pd.to_numeric(col.astype(str).str.strip(), errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = Message(
            "{path}: row {row} (id {id}): column '{name}' is not a number: {value!r} ({bad} rows like "
            "this)",
            path=path, row=i + row_offset, id=ids.iloc[i], name=name, value=col.iloc[i], bad=bad.sum())
        raise InputError(msg)
    return values


MAX_COUNT = 1_000_000  # beds, ambulances, doctors, nurses or capacity of one facility: more is a typing error
_OPTIONAL = {"beds_column": "bed counts", "ambulances_column": "ambulance counts",
             "emergency_column": "emergency flags", "doctors_column": "doctor counts", "nurses_column": "nurse counts",
             "capacity_column": "capacities"}


def _optional_column(df: pd.DataFrame, key: str, spec: FacilitiesSpec) -> str | None:
    """The column named by ``facilities.<key>``, or None when the study sets it to null.

    A named column the file lacks is an error (never read as zeros): the
    study either names the right column or says the list has none.
    """
    column = getattr(spec, key)
    if column is not None and column not in df.columns:
        msg = Message(
            "{path}: no column '{column}' for facilities.{key} (the file has: {columns}); name the "
            "column with facilities.{key}, or set `{key}: null` if the list has no {what}",
            path=spec.path, column=column, key=key, columns=", ".join(map(str, df.columns)), what=_OPTIONAL[key])
        raise InputError(msg)
    return column


def _counts(df: pd.DataFrame, key: str, spec: FacilitiesSpec, ids, row_offset) -> np.ndarray:
    """Whole, non-negative counts (beds, ambulances) per facility; blank = 0; zeros where the study has none."""
    column = _optional_column(df, key, spec)
    if column is None:
        return np.zeros(len(df), int)
    raw = df[column].astype(str).str.strip().replace("", "0")
    values = _numbers(raw, spec.path, column, ids, row_offset)
    bad = (values < 0) | (values > MAX_COUNT) | (values != np.round(values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = Message(
            "{path}: row {row} (id {id}): '{column}' must be a whole number from 0 to {max_count:,}, "
            "got {value!r} ({bad} rows like this)",
            path=spec.path, row=i + row_offset, id=ids.iloc[i], column=column, max_count=MAX_COUNT,
            value=df[column].iloc[i], bad=int(bad.sum()))
        raise InputError(msg)
    return values.astype(int)


def _flags(df: pd.DataFrame, key: str, spec: FacilitiesSpec, ids, row_offset) -> np.ndarray:
    column = _optional_column(df, key, spec)
    if column is None:
        return np.zeros(len(df), bool)
    text = df[column].astype(str).str.strip().str.lower()
    unknown = ~text.isin(_TRUE | _FALSE)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        msg = Message(
            "{path}: row {row} (id {id}): '{column}' must be true or false, got {value!r}",
            path=spec.path, row=i + row_offset, id=ids.iloc[i], column=column, value=df[column].iloc[i])
        raise InputError(msg)
    return text.isin(_TRUE).to_numpy()


def _check_swapped(lon: np.ndarray, lat: np.ndarray, system: str, spec: FacilitiesSpec, ids, row_offset) -> None:
    """Reject geographic coordinates out of range, with a hint when they look swapped."""
    if system.lower().startswith("epsg:") and system.split(":")[1] not in ("4326", "4490"):
        return
    swapped = looks_swapped(lon, lat)
    if swapped.any():
        i = int(np.flatnonzero(swapped)[0])
        msg = Message(
            "{path}: row {row} (id {id}): longitude {lon} / latitude {lat} look swapped or out of "
            "range; '{x_column}' must hold longitude and '{y_column}' latitude ({swapped} rows like this)",
            path=spec.path, row=i + row_offset, id=ids.iloc[i], lon=lon[i], lat=lat[i], x_column=spec.x_column,
            y_column=spec.y_column, swapped=swapped.sum())
        raise InputError(msg)
