"""Road lines from GIS layers, OpenStreetMap XML or osmnx GraphML.

Every reader returns the same table: a GeoDataFrame of LineStrings in the
analysis CRS with ``road_class`` (str), ``oneway`` (bool, traffic only in the
digitised direction) and ``speed_kmh`` (float, NaN where untagged).
"""

from __future__ import annotations

import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from healthreach.errors import InputError
from healthreach.load.tables import read_table, require_columns
from healthreach.study import RoadsSpec

_ONEWAY_TRUE = {"1", "true", "yes", "y", "t", "-1", "ft", "tf", "是", "单行"}
_ONEWAY_FALSE = {"0", "false", "no", "n", "f", "", "nan", "none", "b", "否", "双向", "reversible", "alternating"}


def road_format(spec: RoadsSpec) -> str:
    """``gis``, ``osm`` or ``graphml``: as declared, else by file suffix."""
    if spec.format != "auto":
        return spec.format
    name = spec.path.name.lower()
    if name.endswith((".osm", ".osm.xml", ".xml")):
        return "osm"
    if name.endswith(".graphml"):
        return "graphml"
    return "gis"


def read_roads(spec: RoadsSpec, crs: str) -> gpd.GeoDataFrame:
    """Read roads in any supported format and project them to ``crs``."""
    fmt = road_format(spec)
    if fmt == "gis":
        roads = _read_gis(spec)
    else:
        roads = _read_osmnx(spec, fmt)
    return roads.to_crs(crs)


def _read_gis(spec: RoadsSpec) -> gpd.GeoDataFrame:
    gdf = read_table(spec.path, spec.layer, spec.encoding)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{spec.path}: roads must be a line layer (GeoPackage, Shapefile, GeoJSON) or OSM XML")
    if gdf.crs is None:
        raise InputError(f"{spec.path}: the road layer has no coordinate system; set one in the file")
    require_columns(gdf, {"class_column": spec.class_column, "oneway_column": spec.oneway_column,
                          "speed_column": spec.speed_column}, spec.path)
    lines = gdf.geom_type.isin(["LineString", "MultiLineString"])
    if not lines.any():
        raise InputError(f"{spec.path}: no LineString features (found {', '.join(gdf.geom_type.unique())})")
    gdf = gdf[lines]
    oneway = (parse_oneway(gdf[spec.oneway_column], spec.path, spec.oneway_column)
              if spec.oneway_column else np.zeros(len(gdf), bool))
    speed = (parse_speed(gdf[spec.speed_column]) if spec.speed_column else np.full(len(gdf), np.nan))
    return gpd.GeoDataFrame({"road_class": gdf[spec.class_column].astype(str).str.strip().to_numpy(),
                             "oneway": oneway, "speed_kmh": speed},
                            geometry=gdf.geometry.to_numpy(), crs=gdf.crs)


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
    edges = ox.graph_to_gdfs(graph, nodes=False)
    if len(edges) == 0:
        raise InputError(f"{spec.path}: no roads found")
    highway = edges["highway"].map(lambda v: v[0] if isinstance(v, list) else v).astype(str)
    speed = parse_speed(edges["maxspeed"]) if "maxspeed" in edges else np.full(len(edges), np.nan)
    # osmnx keeps one edge per allowed driving direction: each edge is one-way as stored
    return gpd.GeoDataFrame({"road_class": highway.to_numpy(), "oneway": np.ones(len(edges), bool),
                             "speed_kmh": speed}, geometry=edges.geometry.to_numpy(), crs=edges.crs)


def parse_oneway(values: pd.Series, path, column: str) -> np.ndarray:
    """One-way flags from the spellings found in real data (1/0, yes/no, T/F, 是/否...)."""
    text = values.astype(str).str.strip().str.lower()
    unknown = ~text.isin(_ONEWAY_TRUE | _ONEWAY_FALSE)
    if unknown.any():
        examples = sorted(set(text[unknown]))[:5]
        raise InputError(f"{path}: column '{column}' has one-way values not understood: {examples} "
                         f"({unknown.sum()} rows); use 1/0, yes/no or true/false")
    return text.isin(_ONEWAY_TRUE).to_numpy()


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
