"""OpenStreetMap: extracts (``.osm.pbf``, ``.osm`` XML) and downloads by place or polygon.

Roads leave here as the common road table of :mod:`healthreach.load.roads`
(``road_class`` from the ``highway`` tag, ``oneway``, ``speed_kmh`` from
``maxspeed``) in WGS84; health facilities as a plain table of OSM points
(``id``, ``name``, ``type``, ``beds``, ``ambulances``, ``emergency``,
``lon``, ``lat``) read by :mod:`healthreach.load.facilities`.

Network types follow osmnx's names (``all``, ``all_public``, ``drive``,
``drive_service``, ``walk``, ``bike``). Downloads need the internet once: the
result is kept as GraphML in the cache folder and reused while the place (or
boundary) and network type are unchanged.
"""

from __future__ import annotations

import json
import re
import warnings
import zlib
from pathlib import Path
from xml.etree.ElementTree import ParseError

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from healthreach.cache import cache_key
from healthreach.errors import InputError
from healthreach.load.tables import per_distinct
from healthreach.messages import Message
from healthreach.outputs import write_atomic

# osmnx network type -> pyrosm network type
PYROSM_TYPES = {"all": "all", "all_public": "all", "drive": "driving", "drive_service": "driving+service",
                "walk": "walking", "bike": "cycling"}

# The health points a study reads from OSM unless facilities.osm_tags says otherwise.
HEALTH_TAGS: dict[str, list[str] | bool] = {
    "amenity": ["hospital", "clinic", "doctors", "dentist", "pharmacy"],
    "healthcare": True,
}

_FORWARD = {"yes", "true", "1"}
_BACKWARD = {"-1", "reverse"}


def is_pbf(path: Path) -> bool:
    """True for an OpenStreetMap protocol-buffer extract (``.pbf``)."""
    return path.name.lower().endswith(".pbf")


def is_osm_xml(path: Path) -> bool:
    """True for OpenStreetMap XML (``.osm``, ``.osm.xml``)."""
    return path.name.lower().endswith((".osm", ".osm.xml"))


def osm_oneway(oneway: pd.Series, highway: pd.Series, junction: pd.Series | None = None) -> np.ndarray:
    """Direction of travel allowed for drivers: 1 digitised direction only, -1 against it only, 0 both.

    Follows OSM's rules: ``oneway=yes/true/1`` forward, ``oneway=-1`` backward,
    ``oneway=no`` both; untagged motorways and roundabouts are one-way forward.
    """
    text = oneway.astype("string").str.strip().str.lower().fillna("")
    out = np.where(text.isin(_FORWARD), 1, np.where(text.isin(_BACKWARD), -1, 0)).astype(np.int8)
    untagged = (text == "").to_numpy()
    implied = highway.astype(str).isin(["motorway"]).to_numpy().copy()
    if junction is not None:
        implied |= junction.astype("string").str.lower().isin(["roundabout", "circular"]).fillna(False).to_numpy(bool)
    out[untagged & implied] = 1
    return out


def parse_speed(values: pd.Series) -> np.ndarray:
    """Speeds in km/h from numbers or OSM ``maxspeed`` text ('50', '30 mph', ['40', '60'])."""
    def one(v) -> float:
        if isinstance(v, list):
            nums = [one(x) for x in v]
            nums = [n for n in nums if np.isfinite(n)]
            return min(nums) if nums else np.nan
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return np.nan
        match = re.match(r"\s*([-+]?\d+(?:\.\d+)?)\s*(mph)?", str(v))
        if not match:
            return np.nan
        return float(match.group(1)) * (1.609344 if match.group(2) else 1.0)

    return per_distinct(pd.Series(values), one, float)


def read_pbf_roads(path: Path, network_type: str = "all", area: shapely.Geometry | None = None) -> gpd.GeoDataFrame:
    """Roads of an ``.osm.pbf`` extract, split at every OSM node, in WGS84.

    ``area`` (WGS84 polygon) keeps only the roads inside it; lines one-way
    against their digitised direction are reversed so that ``oneway`` always
    means "only along the geometry".
    """
    osm = _pyrosm(path, area)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = osm.get_network(network_type=PYROSM_TYPES[network_type], nodes=True)
    except _pbf_read_errors() as exc:
        msg = Message(
            "{path}: cannot be read as an OpenStreetMap PBF extract ({kind}: {exc})",
            path=path, kind=type(exc).__name__, exc=exc)
        raise InputError(msg) from None
    edges = result[1] if isinstance(result, tuple) else None
    if edges is None or len(edges) == 0:
        msg = (Message("{path}: no roads of network type '{network_type}' in this extract inside the study area",
                       path=path, network_type=network_type) if area is not None else
               Message("{path}: no roads of network type '{network_type}' in this extract", path=path,
                       network_type=network_type))
        raise InputError(msg)
    highway = edges["highway"].astype(str).str.split(";").str[0].str.strip()
    direction = osm_oneway(edges.get("oneway", pd.Series("", index=edges.index)), highway, edges.get("junction"))
    geoms = edges.geometry.to_numpy()
    backward = direction < 0
    geoms[backward] = shapely.reverse(geoms[backward])
    speed = parse_speed(edges["maxspeed"]) if "maxspeed" in edges else np.full(len(edges), np.nan)
    return gpd.GeoDataFrame({"road_class": highway.to_numpy(), "oneway": direction != 0, "speed_kmh": speed},
                            geometry=geoms, crs="EPSG:4326")


def _pyrosm(path: Path, area: shapely.Geometry | None):
    try:
        import pyrosm
    except ImportError:
        msg = Message("{path}: reading .osm.pbf needs the 'pyrosm' package: pip install 'healthreach[osm]'", path=path)
        raise InputError(msg) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pyrosm.OSM(str(path), bounding_box=area)
    except _pbf_read_errors() as exc:
        msg = Message(
            "{path}: cannot be opened as an OpenStreetMap PBF extract ({kind}: {exc})",
            path=path, kind=type(exc).__name__, exc=exc)
        raise InputError(msg) from None


def _pbf_read_errors() -> tuple[type[Exception], ...]:
    """What pyrosm raises on a damaged or foreign PBF file (needs pyrosm installed).

    Its own ``PBFException`` (not a PBF file), protobuf's decoding errors
    (a damaged block), zlib's (a damaged compressed block), ``OSError``
    (unreadable) and ``ValueError`` (values out of range).
    """
    from google.protobuf.message import Error as ProtobufError
    from pyrosm.exceptions import PBFException

    return (PBFException, ProtobufError, zlib.error, OSError, ValueError)


def read_osm_facilities(path: Path, tags: dict[str, list[str] | bool] | None = None,
                        area: shapely.Geometry | None = None) -> pd.DataFrame:
    """Health points of an OSM extract (PBF or XML) as a plain table in WGS84.

    Columns: ``id`` (``node/123``, ``way/456``), ``name`` (the ``name`` tag,
    else type and id), ``type`` (the value of the first of ``tags``' keys that
    is set, e.g. ``doctors``), ``beds``, ``ambulances`` (0), ``emergency``
    (``emergency=yes``), ``lon``, ``lat``. Buildings and areas are placed at a
    point inside them. ``area`` (WGS84 polygon) keeps only the points inside it.
    """
    tags = tags or HEALTH_TAGS
    gdf = _pbf_pois(path, tags, area) if is_pbf(path) else _xml_pois(path, tags)
    if gdf is None or len(gdf) == 0:
        msg = Message(
            "{path}: no facilities tagged {tags} in this extract; set facilities.osm_tags to the tags "
            "your data uses",
            path=path, tags=json.dumps(tags))
        raise InputError(msg)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].reset_index(drop=True)
    if area is not None:
        gdf = gdf[shapely.intersects(area, gdf.geometry.to_numpy())].reset_index(drop=True)
        if len(gdf) == 0:
            msg = Message("{path}: no facilities tagged {tags} in the study area", path=path, tags=json.dumps(tags))
            raise InputError(msg)
    point = shapely.point_on_surface(gdf.geometry.to_numpy())
    kind = pd.Series(None, index=gdf.index, dtype=object)
    for key in tags:
        if key in gdf:
            value = gdf[key].astype("string").str.strip()
            kind = kind.where(kind.notna(), value.where(value.notna() & (value != "")).astype(object))
    kind = kind.fillna("unknown").astype(str)
    osm_type = gdf["osm_type"].astype(str) if "osm_type" in gdf else pd.Series("node", index=gdf.index)
    ids = osm_type + "/" + gdf["id"].astype("int64").astype(str)
    name = gdf["name"].astype("string") if "name" in gdf else pd.Series(pd.NA, index=gdf.index, dtype="string")
    name = name.fillna(kind + " " + ids).astype(str)
    beds = _tag(gdf, "beds").str.extract(r"(\d+)", expand=False).fillna("0")
    emergency = _tag(gdf, "emergency").str.lower().isin(["yes", "true", "designated"])
    return pd.DataFrame({"id": ids.to_numpy(), "name": name.to_numpy(), "type": kind.to_numpy(),
                         "beds": beds.to_numpy(), "ambulances": "0",
                         "emergency": np.where(emergency, "true", "false"),
                         "lon": shapely.get_x(point).round(7).astype(str),
                         "lat": shapely.get_y(point).round(7).astype(str)})


def _tag(gdf: pd.DataFrame, key: str) -> pd.Series:
    """A tag's text per row, from its own column or from pyrosm's JSON ``tags`` column."""
    if key in gdf:
        return gdf[key].astype("string").fillna("").astype(str)
    if "tags" in gdf:
        def one(raw) -> str:
            try:
                return str(json.loads(raw).get(key, "")) if isinstance(raw, str) else ""
            except ValueError:
                return ""
        return gdf["tags"].map(one).astype(str)
    return pd.Series("", index=gdf.index, dtype=str)


def _pbf_pois(path: Path, tags, area: shapely.Geometry | None = None) -> gpd.GeoDataFrame | None:
    osm = _pyrosm(path, area)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return osm.get_pois(custom_filter=dict(tags))
    except _pbf_read_errors() as exc:
        msg = Message(
            "{path}: facilities cannot be read from this extract ({kind}: {exc})",
            path=path, kind=type(exc).__name__, exc=exc)
        raise InputError(msg) from None


def _xml_pois(path: Path, tags) -> gpd.GeoDataFrame | None:
    import osmnx as ox

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = ox.features_from_xml(path, tags=dict(tags))
    # not XML (ParseError), bad values or no matching features (ValueError), elements without an id
    # (LookupError), unreadable or truncated compressed files (OSError, EOFError)
    except (ParseError, ValueError, LookupError, OSError, EOFError) as exc:
        if type(exc).__name__ == "InsufficientResponseError":
            return None
        msg = Message(
            "{path}: facilities cannot be read from this OSM XML ({kind}: {exc})",
            path=path, kind=type(exc).__name__, exc=exc)
        raise InputError(msg) from None
    gdf = gdf.reset_index()
    return gdf.rename(columns={"element": "osm_type"}) if "element" in gdf else gdf


REACH_TIMEOUT_S = 5.0  # seconds to resolve and connect to an OpenStreetMap server before giving up
DOWNLOAD_TIMEOUT_S = 60.0  # seconds osmnx waits for each server answer


def check_reachable(urls: list[str], timeout_s: float = REACH_TIMEOUT_S) -> None:
    """Raise ``OSError`` unless each URL's server gives an HTTP answer (any status) within ``timeout_s`` seconds.

    The request (name lookup included, which no socket timeout bounds) runs
    in a daemon thread, so nothing can hold the caller longer than
    ``timeout_s``; proxies set in the environment are used as for the
    download itself.
    """
    import threading

    import requests

    for url in urls:
        outcome: list[BaseException | None] = []

        def attempt(url: str = url, outcome: list[BaseException | None] = outcome) -> None:
            try:
                requests.head(url, timeout=2 * timeout_s, allow_redirects=False)  # the join below decides
                outcome.append(None)
            except requests.RequestException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=attempt, daemon=True)
        worker.start()
        worker.join(timeout_s)
        if not outcome:
            msg = Message("{url} did not answer within {timeout_s:g} s", url=url, timeout_s=timeout_s)
            raise TimeoutError(msg)
        if outcome[0] is not None:
            msg = Message("{url} cannot be reached ({kind})", url=url, kind=type(outcome[0]).__name__)
            raise OSError(msg)


def download_roads(source: str, network_type: str, boundary: shapely.Geometry | None,
                   cache_folder: Path, where: str | Message = "roads.source",
                   offline: bool = False) -> Path:
    """Download roads from OpenStreetMap with osmnx, or reuse an earlier download.

    Parameters
    ----------
    source : str
        ``boundary`` for the roads inside ``boundary`` (a WGS84 polygon,
        already buffered by the caller), else a place name osmnx can geocode
        (e.g. ``"Wulong District, Chongqing, China"``).
    network_type : str
        osmnx network type.
    cache_folder : Path
        Downloads are kept here as ``osm/<hash>.graphml``.
    where : str
        The study key named in errors.
    offline : bool
        Never download: a download that is not cached is an error.

    Returns the GraphML file's path. Without a network the error comes within
    seconds (:func:`check_reachable`); each server answer is awaited at most
    ``DOWNLOAD_TIMEOUT_S``.
    """
    if source == "boundary" and boundary is None:
        msg = Message("{where}: 'boundary' needs study boundaries to download the roads inside them", where=where)
        raise InputError(msg)
    ident = {"source": source, "network_type": network_type,
             "boundary": shapely.to_wkt(boundary, rounding_precision=5) if source == "boundary" else None}
    key = cache_key(ident)
    path = cache_folder / "osm" / f"{key}.graphml"
    if path.is_file():
        return path
    what = Message("the study boundary") if source == "boundary" else f"'{source}'"
    hint = Message("download an extract (.osm.pbf, e.g. from download.geofabrik.de) and give it as roads.path")
    if offline:
        msg = Message(
            "{where}: the roads of {what} are not downloaded yet and --offline forbids downloads; run "
            "once without --offline, or {hint}",
            where=where, what=what, hint=hint)
        raise InputError(msg)
    import osmnx as ox

    servers = [ox.settings.overpass_url] + ([] if source == "boundary" else [ox.settings.nominatim_url])
    try:
        check_reachable(servers)
    except OSError as exc:
        msg = Message(
            "{where}: cannot reach OpenStreetMap to download the roads of {what} ({exc}); without "
            "internet, {hint}",
            where=where, what=what, exc=exc.args[0] if len(exc.args) == 1 else exc, hint=hint)
        raise InputError(msg) from None
    saved = (ox.settings.use_cache, ox.settings.cache_folder, ox.settings.requests_timeout)
    ox.settings.cache_folder = str(cache_folder / "osm" / "http")
    ox.settings.requests_timeout = DOWNLOAD_TIMEOUT_S
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if source == "boundary":
                graph = ox.graph_from_polygon(boundary,  # type: ignore[arg-type]  # given with source boundary
                                              network_type=network_type, retain_all=True,
                                              truncate_by_edge=True)
            else:
                graph = ox.graph_from_place(source, network_type=network_type, retain_all=True,
                                            truncate_by_edge=True)
    # all end the same way: no internet (OSError, which requests' errors are), server errors, empty
    # answers and unknown places (ValueError), a place that is not an area (TypeError)
    except (OSError, ValueError, TypeError) as exc:
        msg = Message(
            "{where}: could not download the roads of {what} from OpenStreetMap ({kind}: {exc}). "
            "Without internet, download an extract (.osm.pbf) and give it as roads.path",
            where=where, what=what, kind=type(exc).__name__, exc=exc)
        raise InputError(msg) from None
    finally:
        ox.settings.use_cache, ox.settings.cache_folder, ox.settings.requests_timeout = saved
    write_atomic(path, lambda tmp: ox.save_graphml(graph, tmp))
    return path
