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
from healthreach.load.tables import (
    apply_declared_crs,
    check_crs_fits,
    drop_missing_geometries,
    per_distinct,
    read_table,
    require_columns,
)
from healthreach.messages import Message, message_list
from healthreach.study import RoadsSpec, oneway_text
from healthreach.vocab import NO_CLASS, road_classes

# one-way words: along the digitised direction, against it, and both ways (numbers are read apart; never the
# single letters T and F, which are true/false in some data and from/to the first point in navigation data)
_ONEWAY_FORWARD = {"yes", "true", "y", "ft", "f-t", "forward", "是", "单行", "单向", "正向", "顺向"}
_ONEWAY_BACK = {"tf", "t-f", "backward", "reverse", "逆向", "反向"}
_ONEWAY_BOTH = {"no", "false", "n", "b", "both", "否", "双向", "双行", "reversible", "alternating"}
_ONEWAY_BLANK = {"", "nan", "none", "<na>", "null"}
_ONEWAY_NUMBERS = {"1": 1, "0": 0, "-1": -1}
# the Chinese navigation-data convention, shown in messages as the line to add
NAVIGATION_CONVENTION = "oneway_values: {both: [1], forward: [2], backward: [3]}"


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


def roads_file(spec: RoadsSpec, area: shapely.Geometry | None, cache_folder: Path, offline: bool = False,
               where: str | Message = "roads.source") -> Path:
    """The road file to read: ``spec.path``, or the (cached) download for ``spec.source``.

    ``area`` is the study area as a WGS84 polygon; it is buffered by
    ``spec.buffer_km`` for a download by boundary. With ``offline`` a
    download that is not cached is an error naming ``where``.
    """
    if spec.path is not None:
        return spec.path
    boundary = buffer_wgs84(area, spec.buffer_km) if area is not None else None
    return osm.download_roads(spec.source, spec.network_type, boundary, cache_folder, where,  # type: ignore[arg-type]
                              offline=offline)  # a study without roads.path has roads.source


def buffer_wgs84(area: shapely.Geometry, km: float) -> shapely.Geometry:
    """``area`` (WGS84) grown by ``km`` kilometres, measured in a local metric CRS."""
    from healthreach.crs import local_metric_crs

    centre = shapely.centroid(area)
    local = gpd.GeoSeries([area], crs=4326).to_crs(local_metric_crs(centre.x, centre.y))
    return local.buffer(km * 1000).to_crs(4326).iloc[0]


def read_roads(spec: RoadsSpec, crs: str, area: shapely.Geometry | None = None,
               path: Path | None = None, notes: list[str | Message] | None = None) -> gpd.GeoDataFrame:
    """Read roads in any supported format and project them to ``crs``.

    ``area`` (WGS84 polygon, the study area) limits an OpenStreetMap PBF
    extract to the roads within ``spec.buffer_km`` of it; ``path`` replaces
    ``spec.path`` (a download from :func:`roads_file`). What reading drops or
    ignores (rows without geometry, features that are not lines, speeds that
    are not a positive number) is counted in ``notes``.
    """
    path = path or spec.path
    if path is None:
        msg = Message("roads: no road file; give roads.path, or roads.source and read it through roads_file()")
        raise InputError(msg)
    spec = spec.model_copy(update={"path": path})
    fmt = road_format(spec)
    if fmt != "gis" and spec.crs is not None and not _is_wgs84(spec.crs):
        msg = Message(
            "roads.crs: {crs!r} contradicts the road source ({file}): OpenStreetMap data ({fmt}) is "
            "WGS84 by definition; remove roads.crs",
            crs=spec.crs, file=path.name, fmt=fmt.upper())
        raise InputError(msg)
    if fmt == "gis":
        roads = _read_gis(spec, notes)
    elif fmt == "pbf":
        clip = buffer_wgs84(area, spec.buffer_km) if area is not None else None
        roads = osm.read_pbf_roads(path, spec.network_type, clip)
    else:
        roads = _read_osmnx(spec, fmt)
    roads["road_class"] = road_classes(roads["road_class"].to_numpy())
    return roads.to_crs(crs)


def _read_gis(spec: RoadsSpec, notes: list[str | Message] | None = None) -> gpd.GeoDataFrame:
    gdf = read_table(spec.path, spec.layer, spec.encoding)  # type: ignore[arg-type]  # the study file's check guarantees it
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = Message("{path}: roads must be a line layer (GeoPackage, Shapefile, GeoJSON) or OSM XML", path=spec.path)
        raise InputError(msg)
    if spec.crs is not None:
        gdf = apply_declared_crs(gdf, spec.crs, spec.path, "roads.crs")
    if gdf.crs is None:
        msg = Message(
            "{path}: the road layer has no coordinate system; set one in the file, or declare it with "
            "roads.crs (an EPSG code, gcj02 or bd09)",
            path=spec.path)
        raise InputError(msg)
    require_columns(gdf, {"oneway_column": spec.oneway_column, "speed_column": spec.speed_column},
                    spec.path)  # type: ignore[arg-type]  # the study file's check guarantees it
    gdf = drop_missing_geometries(gdf, spec.path, "road", notes)
    lines = gdf.geom_type.isin(["LineString", "MultiLineString"])
    if not lines.any():
        msg = Message(
            "{path}: no LineString features (found {listed})",
            path=spec.path, listed=", ".join(gdf.geom_type.unique()))
        raise InputError(msg)
    if not lines.all() and notes is not None:
        kinds = ", ".join(sorted(set(gdf.geom_type[~lines])))
        notes.append(Message(
            "{path}: {n} features that are not lines ({kinds}) were ignored",
            path=spec.path, n=int((~lines).sum()), kinds=kinds))
    gdf = gdf[lines]
    check_crs_fits(gdf.total_bounds, gdf.crs, spec.path, "road layer")
    classes = _layer_classes(gdf, spec)
    mapping = spec.oneway_values.direction_of() if spec.oneway_values is not None else None
    direction = (oneway_direction(gdf[spec.oneway_column], spec.path, spec.oneway_column, mapping)
                 if spec.oneway_column else np.zeros(len(gdf), np.int8))
    speed = np.full(len(gdf), np.nan)
    if spec.speed_column:
        speed = osm.parse_speed(gdf[spec.speed_column])
        _note_bad_speeds(gdf[spec.speed_column], speed, spec, notes)
    geoms = gdf.geometry.to_numpy().copy()
    geoms[direction < 0] = shapely.reverse(geoms[direction < 0])
    return gpd.GeoDataFrame({"road_class": classes, "oneway": direction != 0, "speed_kmh": speed},
                            geometry=geoms, crs=gdf.crs)


def _is_wgs84(system: str) -> bool:
    """True when ``system`` names WGS84 or CGCS2000 longitude/latitude (by name, alias or EPSG code)."""
    from healthreach.crs import datum_name, parse_crs

    name = datum_name(system)
    if name is not None:
        return name in ("wgs84", "cgcs2000")
    crs = parse_crs(system, "roads.crs")
    return crs.equals("EPSG:4326") or crs.equals("EPSG:4490")


def _layer_classes(gdf: gpd.GeoDataFrame, spec: RoadsSpec) -> np.ndarray:
    """Each line's road class as written: from ``class_column``, blanks and missing columns taking the default.

    The default is ``default_class``, or with ``default_speed_kmh`` the class
    :data:`~healthreach.vocab.NO_CLASS` (whose speed the profile gets from it).
    """
    default = spec.default_class if spec.default_class is not None else (
        NO_CLASS if spec.default_speed_kmh is not None else None)
    column = spec.class_column
    if column is None or column not in gdf.columns:
        if default is None:
            given = (Message("roads.class_column is '{column}', which is not a column of the layer (it has: {columns})",
                             column=column, columns=", ".join(map(str, gdf.columns)))
                     if column else Message("roads.class_column is null"))
            msg = Message(
                "{path}: {given}; name the column holding road classes, or give every line one class "
                "with roads.default_class (e.g. county) or one speed with roads.default_speed_kmh (e.g. "
                "30)",
                path=spec.path, given=given)
            raise InputError(msg)
        if column is not None and "class_column" in spec.model_fields_set:
            msg = Message(
                "{path}: roads.class_column '{column}' is not a column of the layer (it has: {columns}); "
                "set class_column: null to give every line the default class",
                path=spec.path, column=column, columns=", ".join(map(str, gdf.columns)))
            raise InputError(msg)
        return np.full(len(gdf), default, dtype=object)
    def class_text(value) -> str:
        text = "" if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else (
            str(value).strip())
        return default if default is not None and text == "" else text
    return per_distinct(gdf[column], class_text)


def _note_bad_speeds(raw: pd.Series, speed: np.ndarray, spec: RoadsSpec, notes: list[str | Message] | None) -> None:
    """Count speed values given but not a positive number of km/h (negative, zero, text): the class speed is used."""
    blank = per_distinct(raw, lambda v: str(v).strip().lower() in ("", "nan", "none", "<na>"), bool)
    given = raw.notna().to_numpy() & ~blank
    bad = given & ~(np.isfinite(speed) & (speed > 0))
    if bad.any() and notes is not None:
        negative, zero, text = bad & (speed < 0), bad & (speed == 0), bad & ~np.isfinite(speed)
        kinds = [(Message("{n} negative", n=int(negative.sum())), negative),
                 (Message("{n} zero", n=int(zero.sum())), zero),
                 (Message("{n} not a number", n=int(text.sum())), text)]
        counted = message_list([name for name, rows in kinds if rows.any()], ", ")
        examples = ", ".join(repr(v) for v in sorted(set(raw[bad].astype(str)))[:5])
        notes.append(Message(
            "{path}: {bad} roads have a '{speed_column}' that is not a positive speed in km/h "
            "({counted}: {examples}); their road class's speed is used instead",
            path=spec.path, bad=int(bad.sum()), speed_column=spec.speed_column, counted=counted, examples=examples))


def _read_osmnx(spec: RoadsSpec, fmt: str) -> gpd.GeoDataFrame:
    import osmnx as ox  # with networkx, only for OpenStreetMap XML and GraphML
    from networkx import NetworkXError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt == "osm":
                graph = ox.graph_from_xml(spec.path, bidirectional=False, simplify=True,  # type: ignore[arg-type]
                                          retain_all=True)  # a file format implies a path
            else:
                graph = ox.load_graphml(spec.path)
    # SyntaxError: not XML, or a list attribute that is not a list; ValueError, LookupError: values that are
    # not numbers, elements without an id; OSError, EOFError: unreadable or truncated; NetworkXError: XML
    # that is not GraphML
    except (SyntaxError, ValueError, LookupError, OSError, EOFError, NetworkXError) as exc:
        msg = Message(
            "{path}: cannot be read as {fmt} ({kind}: {exc})",
            path=spec.path, fmt=fmt.upper(), kind=type(exc).__name__, exc=exc)
        raise InputError(msg) from None
    if graph.number_of_edges() == 0:
        msg = Message("{path}: no roads found", path=spec.path)
        raise InputError(msg)
    edges = ox.graph_to_gdfs(graph, nodes=False, fill_edge_geometry=True)
    highway = edges["highway"].map(lambda v: v[0] if isinstance(v, list) else v).astype(str)
    speed = osm.parse_speed(edges["maxspeed"]) if "maxspeed" in edges else np.full(len(edges), np.nan)
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


def oneway_direction(values: pd.Series, path, column: str, mapping: dict[str, int] | None = None) -> np.ndarray:
    """Allowed driving direction of each line: 1 along its drawing, -1 against it, 0 both ways.

    With ``mapping`` (``roads.oneway_values``: value as text -> direction)
    only its values are read. Without it only unambiguous conventions are:
    yes/no, true/false, FT/TF/B, 是/否, 双向/正向/逆向 (and the other words; never
    the single letters T and F, which mean true/false in some data and from/to
    the line's first point in navigation data)
    in docs/inputs.md), and the numbers 0, 1, -1 when no other number is
    present and not every value is 1 (a layer of 1s alone may be Chinese
    navigation data, where 1 means both ways). Blank means both ways. Any
    other value stops with an error listing every value and its count.
    """
    text = pd.Series(per_distinct(values, oneway_text), index=values.index).astype(str)
    counts = text.value_counts()
    blank = text.isin(_ONEWAY_BLANK)
    if mapping is not None:
        known = {**dict.fromkeys(_ONEWAY_BLANK, 0), **mapping}
        unknown = sorted(set(counts.index) - set(known))
        if unknown:
            msg = Message(
                "{path}: column '{column}': one-way values not listed in roads.oneway_values: {unknown}; "
                "values found: {counted}. List each under both:, forward: or backward:",
                path=path, column=column, unknown=_counted(counts, unknown), counted=_counted(counts))
            raise InputError(msg)
        return text.map(known).to_numpy(np.int8)
    words = {**dict.fromkeys(_ONEWAY_FORWARD, 1), **dict.fromkeys(_ONEWAY_BACK, -1), **dict.fromkeys(_ONEWAY_BOTH, 0)}
    numbers = {v for v in counts.index if v in _ONEWAY_NUMBERS}
    unknown = sorted(set(counts.index) - set(words) - _ONEWAY_BLANK - numbers)
    numeric = [v for v in counts.index if re.fullmatch(r"-?\d+", v)]
    if unknown or (numbers and set(numeric) == {"1"}):
        what = (Message("one-way values not understood: {counted}", counted=_counted(counts, unknown)) if unknown else
                Message("every one-way value is 1, which is one-way in some data and both ways in Chinese "
                        "navigation data"))
        msg = Message(
            "{path}: column '{column}': {what}; values found: {counted}. Nothing is guessed: say what "
            "the values mean under roads: with oneway_values. For the common Chinese navigation "
            "convention (1 both ways, 2 along the line's drawn direction, 3 against it) add "
            "`{convention}`; for 1 = one-way along the line, 0 = both ways: `oneway_values: "
            "{{both: [0], forward: [1], backward: [-1]}}`; for B/F/T (both ways, from or to the line's "
            "first point): `oneway_values: {{both: [B], forward: [F], backward: [T]}}`. Understood "
            "without a mapping: yes/no, true/false, FT/TF/B, 是/否, 双向/正向/逆向, and 0/1/-1 when not every "
            "value is 1",
            path=path, column=column, what=what, counted=_counted(counts), convention=NAVIGATION_CONVENTION)
        raise InputError(msg)
    known = {**words, **_ONEWAY_NUMBERS, **dict.fromkeys(_ONEWAY_BLANK, 0)}
    out = text.map(known).to_numpy(np.int8)
    out[blank.to_numpy()] = 0
    return out


def _counted(counts: pd.Series, values=None) -> Message:
    """"'2' (1,204 rows), '3' (88 rows)" for ``values`` (default: all), most frequent first."""
    chosen = counts if values is None else counts[counts.index.isin(list(values))]
    def value(v) -> str | Message:
        return repr(v) if v != "" else Message("blank")

    shown = [Message("{value} (1 row)", value=value(v)) if n == 1 else
             Message("{value} ({n:,} rows)", value=value(v), n=n) for v, n in chosen.items()]
    more = Message(", ... ({n} more values)", n=len(shown) - 20) if len(shown) > 20 else ""
    return Message("{shown}{more}", shown=message_list(shown[:20], ", "), more=more)
