"""Road lines from GIS layers, OpenStreetMap (PBF, XML, download) or osmnx GraphML.

Every reader returns the same table: a GeoDataFrame of LineStrings in the
analysis CRS with ``road_class`` (str), ``oneway`` (bool, traffic only in the
digitised direction; lines one-way against it are reversed on reading) and
``speed_kmh`` (float, NaN where untagged).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from healthreach.errors import InputError
from healthreach.load import osm
from healthreach.load.tables import check_crs_fits, drop_missing_geometries, read_table, require_columns
from healthreach.study import RoadsSpec

# one-way spellings: along the digitised direction, against it, and both ways
_ONEWAY_TRUE = {"1", "true", "yes", "y", "t", "ft", "f-t", "forward", "是", "单行", "单向", "正向"}
_ONEWAY_BACK = {"-1", "tf", "t-f", "backward", "reverse", "逆向", "反向"}
_ONEWAY_FALSE = {"0", "false", "no", "n", "f", "", "nan", "none", "<na>", "b", "both", "2", "否", "双向", "双行",
                 "reversible", "alternating"}


def road_format(spec: RoadsSpec) -> str:
    """``gis``, ``osm``, ``pbf`` or ``graphml``: as declared, else by file suffix (downloads are GraphML)."""
    if spec.format != "auto":
        return spec.format
    if spec.path is None:
        return "graphml"
    name = spec.path.name.lower()
    if osm.is_pbf(spec.path):
        return "pbf"
    if name.endswith((".osm", ".osm.xml", ".xml")):
        return "osm"
    if name.endswith(".graphml"):
        return "graphml"
    return "gis"


def roads_file(spec: RoadsSpec, area: shapely.Geometry | None, cache_folder: Path) -> Path:
    """The road file to read: ``spec.path``, or the (cached) download for ``spec.source``.

    ``area`` is the study area as a WGS84 polygon; it is buffered by
    ``spec.buffer_km`` for a download by boundary.
    """
    if spec.path is not None:
        return spec.path
    boundary = buffer_wgs84(area, spec.buffer_km) if area is not None else None
    return osm.download_roads(spec.source, spec.network_type, boundary, cache_folder)


def buffer_wgs84(area: shapely.Geometry, km: float) -> shapely.Geometry:
    """``area`` (WGS84) grown by ``km`` kilometres, measured in a local metric CRS."""
    from healthreach.crs import local_metric_crs

    centre = area.centroid
    local = gpd.GeoSeries([area], crs=4326).to_crs(local_metric_crs(centre.x, centre.y))
    return local.buffer(km * 1000).to_crs(4326).iloc[0]


def read_roads(spec: RoadsSpec, crs: str, area: shapely.Geometry | None = None,
               path: Path | None = None, notes: list[str] | None = None) -> gpd.GeoDataFrame:
    """Read roads in any supported format and project them to ``crs``.

    ``area`` (WGS84 polygon, the study area) limits an OpenStreetMap PBF
    extract to the roads within ``spec.buffer_km`` of it; ``path`` replaces
    ``spec.path`` (a download from :func:`roads_file`). What reading drops or
    ignores (rows without geometry, features that are not lines, speeds that
    are not a positive number) is counted in ``notes``.
    """
    path = path or spec.path
    if path is None:
        raise InputError("roads: no road file; give roads.path, or roads.source and read it through roads_file()")
    spec = spec.model_copy(update={"path": path})
    fmt = road_format(spec)
    if fmt == "gis":
        roads = _read_gis(spec, notes)
    elif fmt == "pbf":
        clip = buffer_wgs84(area, spec.buffer_km) if area is not None else None
        roads = osm.read_pbf_roads(path, spec.network_type, clip)
    else:
        roads = _read_osmnx(spec, fmt)
    return roads.to_crs(crs)


def _read_gis(spec: RoadsSpec, notes: list[str] | None = None) -> gpd.GeoDataFrame:
    gdf = read_table(spec.path, spec.layer, spec.encoding)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{spec.path}: roads must be a line layer (GeoPackage, Shapefile, GeoJSON) or OSM XML")
    if gdf.crs is None:
        raise InputError(f"{spec.path}: the road layer has no coordinate system; set one in the file")
    require_columns(gdf, {"class_column": spec.class_column, "oneway_column": spec.oneway_column,
                          "speed_column": spec.speed_column}, spec.path)
    gdf = drop_missing_geometries(gdf, spec.path, "road", notes)
    lines = gdf.geom_type.isin(["LineString", "MultiLineString"])
    if not lines.any():
        raise InputError(f"{spec.path}: no LineString features (found {', '.join(gdf.geom_type.unique())})")
    if not lines.all() and notes is not None:
        kinds = ", ".join(sorted(set(gdf.geom_type[~lines])))
        notes.append(f"{spec.path}: {int((~lines).sum())} features that are not lines ({kinds}) were ignored")
    gdf = gdf[lines]
    check_crs_fits(gdf.total_bounds, gdf.crs, spec.path, "road layer")
    direction = (oneway_direction(gdf[spec.oneway_column], spec.path, spec.oneway_column)
                 if spec.oneway_column else np.zeros(len(gdf), np.int8))
    speed = np.full(len(gdf), np.nan)
    if spec.speed_column:
        speed = parse_speed(gdf[spec.speed_column])
        _note_bad_speeds(gdf[spec.speed_column], speed, spec, notes)
    geoms = gdf.geometry.to_numpy().copy()
    geoms[direction < 0] = shapely.reverse(geoms[direction < 0])
    return gpd.GeoDataFrame({"road_class": gdf[spec.class_column].astype(str).str.strip().to_numpy(),
                             "oneway": direction != 0, "speed_kmh": speed},
                            geometry=geoms, crs=gdf.crs)


def _note_bad_speeds(raw: pd.Series, speed: np.ndarray, spec: RoadsSpec, notes: list[str] | None) -> None:
    """Count speed values given but not a positive number of km/h (negative, zero, text): the class speed is used."""
    blank = raw.astype(str).str.strip().str.lower().isin(["", "nan", "none", "<na>"])
    given = raw.notna().to_numpy() & ~blank.to_numpy()
    bad = given & ~(np.isfinite(speed) & (speed > 0))
    if bad.any() and notes is not None:
        examples = ", ".join(repr(v) for v in sorted(set(raw[bad].astype(str)))[:5])
        notes.append(f"{spec.path}: {int(bad.sum())} roads have a '{spec.speed_column}' that is not a positive "
                     f"speed in km/h ({examples}); their road class's speed is used instead")


def _read_osmnx(spec: RoadsSpec, fmt: str) -> gpd.GeoDataFrame:
    import osmnx as ox

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt == "osm":
                graph = ox.graph_from_xml(spec.path, bidirectional=False, simplify=True, retain_all=True)
            else:
                graph = ox.load_graphml(spec.path)
    except Exception as exc:  # osmnx raises several types on bad files; name the file
        raise InputError(f"{spec.path}: cannot be read as {fmt.upper()} ({type(exc).__name__}: {exc})") from None
    if graph.number_of_edges() == 0:
        raise InputError(f"{spec.path}: no roads found")
    edges = ox.graph_to_gdfs(graph, nodes=False, fill_edge_geometry=True)
    highway = edges["highway"].map(lambda v: v[0] if isinstance(v, list) else v).astype(str)
    speed = parse_speed(edges["maxspeed"]) if "maxspeed" in edges else np.full(len(edges), np.nan)
    # osmnx stores a two-way street as two edges (u->v and v->u): keep one, marked two-way;
    # a one-way street is stored once, along its direction of travel.
    oneway = (edges["oneway"].map(lambda v: any(map(_truthy, v)) if isinstance(v, list) else _truthy(v))
              .to_numpy(bool) if "oneway" in edges else np.ones(len(edges), bool))
    u = edges.index.get_level_values("u").to_numpy()
    v = edges.index.get_level_values("v").to_numpy()
    keep = oneway | (u < v)
    return gpd.GeoDataFrame({"road_class": highway.to_numpy()[keep], "oneway": oneway[keep],
                             "speed_kmh": speed[keep]}, geometry=edges.geometry.to_numpy()[keep], crs=edges.crs)


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


def oneway_direction(values: pd.Series, path, column: str) -> np.ndarray:
    """Allowed driving direction from the one-way spellings found in real data.

    1: only along the digitised direction (1, yes, T, FT, 是, 单行...);
    -1: only against it (-1, TF, 逆向...); 0: both ways (0, no, B, 否, 双向, blank).
    """
    text = values.astype("string").str.strip().str.lower().fillna("")
    text = text.str.replace(r"\.0$", "", regex=True)  # 1.0 / 0.0 from numeric columns
    unknown = ~text.isin(_ONEWAY_TRUE | _ONEWAY_BACK | _ONEWAY_FALSE)
    if unknown.any():
        examples = sorted(set(text[unknown]))[:5]
        raise InputError(f"{path}: column '{column}' has one-way values not understood: {examples} "
                         f"({unknown.sum()} rows); use 1/0, yes/no, -1 (against the line's direction), "
                         f"FT/TF/B or 是/否")
    return np.where(text.isin(_ONEWAY_TRUE), 1, np.where(text.isin(_ONEWAY_BACK), -1, 0)).astype(np.int8)


def parse_oneway(values: pd.Series, path, column: str) -> np.ndarray:
    """One-way flags (either direction) from the spellings found in real data; see :func:`oneway_direction`."""
    return oneway_direction(values, path, column) != 0


def parse_speed(values: pd.Series) -> np.ndarray:
    """Speeds in km/h from numbers or OSM ``maxspeed`` text ('50', '30 mph', ['40', '60'])."""
    def one(v) -> float:
        if isinstance(v, list):
            nums = [one(x) for x in v]
            nums = [n for n in nums if np.isfinite(n)]
            return min(nums) if nums else np.nan
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return np.nan
        match = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph)?", str(v))
        if not match:
            return np.nan
        return float(match.group(1)) * (1.609344 if match.group(2) else 1.0)

    return np.array([one(v) for v in values], float)
