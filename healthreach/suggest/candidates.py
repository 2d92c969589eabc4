"""Candidate sites for new facilities: a spacing grid snapped to the roads, or a file in any coordinate system.

Every candidate is placed the way a scenario's ``add`` places a site: its
WGS84 lon/lat (rounded to 1e-7 degrees, about 1 cm, as the scenario file
written for it holds them) is converted to the analysis CRS and attached to
the walk and drive roads, so a chosen candidate re-evaluated through
``healthreach scenario`` stands exactly where it stood here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from healthreach.crs import looks_swapped, to_wgs84
from healthreach.errors import SuggestError
from healthreach.evaluation import Study
from healthreach.i18n import type_words
from healthreach.load.tables import check_crs_fits, read_table, require_unique_ids
from healthreach.messages import Message
from healthreach.network import Attachment, SegmentIndex

DECIMALS = 7          # lon/lat decimals of a candidate (about 1 cm), as the scenario file holds them
MAX_ROAD_M = 1000.0   # a site may lie at most this far from a road (the scenario files' default max_road_m)
MODES = ("walk", "drive")


@dataclass(frozen=True)
class Candidates:
    """Candidate sites: ``table`` (id, name, lon, lat in WGS84 degrees, x, y in metres, township) and where each
    attaches to the roads per mode (walk, drive). ``notes`` say how many each filter removed.
    """

    table: pd.DataFrame
    attached: dict[str, Attachment]
    notes: list[Message]

    def __len__(self) -> int:
        """Number of candidate sites."""
        return len(self.table)


@lru_cache(maxsize=16)
def transformer(source: str, target: str) -> pyproj.Transformer:
    """A transformer between two coordinate systems (x/y order), built once (building one takes ~0.1-1 s)."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def placed(study: Study, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                                     dict[str, Attachment]]:
    """WGS84 points rounded as a scenario file holds them, in the analysis CRS (metres) and attached per mode."""
    lon, lat = np.round(np.asarray(lon, float), DECIMALS), np.round(np.asarray(lat, float), DECIMALS)
    # the transformer a scenario's sites go through (Projections: EPSG:4326 to the analysis CRS), point by point
    x, y = transformer("EPSG:4326", study.inputs.crs).transform(lon, lat)
    x, y = np.asarray(x, float), np.asarray(y, float)
    net = study.inputs.network
    return lon, lat, x, y, {mode: net.attach(x, y, mode) for mode in MODES}


def site_problems(study: Study, x: np.ndarray, y: np.ndarray, attached: dict[str, Attachment],
                  max_road_m: float) -> list[Message | None]:
    """Per site: why a scenario would refuse it (outside the study area, too far from a road), or None."""
    towns = study.inputs.boundaries
    near = np.zeros(len(x), bool)
    hit = towns.sindex.query(shapely.points(x, y), predicate="dwithin", distance=1.0)[0]
    near[hit] = True
    out: list[Message | None] = []
    for i in range(len(x)):
        if not near[i]:
            km = float(towns.distance(shapely.Point(x[i], y[i])).min()) / 1000
            out.append(Message("lies {km:,.1f} km outside the study area", km=km))
            continue
        far = [(road, float(attached[mode].leg_m[i])) for mode, road in (("drive", Message("drivable road")),
                                                                         ("walk", Message("walkable road")))
               if attached[mode].leg_m[i] > max_road_m]
        out.append(Message("lies {metres:,.0f} m from the nearest {road}, farther than {max_road_m:g} m",
                           metres=far[0][1], road=far[0][0], max_road_m=max_road_m) if far else None)
    return out


def joined(items: list[Message]) -> Message:
    """Messages listed one after another, separated by semicolons (in any language)."""
    out = items[-1]
    for item in reversed(items[:-1]):
        out = Message("{one}; {others}", one=item, others=out)
    return out


def _table(study: Study, ids, names, lon, lat, x, y) -> pd.DataFrame:
    towns = study.locate(x, y)
    town_names = study.inputs.boundaries["name"].to_numpy()
    return pd.DataFrame({"id": np.asarray(ids, object), "name": np.asarray(names, object), "lon": lon, "lat": lat,
                         "x": x, "y": y, "township": np.where(towns >= 0, town_names[np.maximum(towns, 0)], "")})


def auto_candidates(study: Study, spacing_m: float, max_road_m: float = MAX_ROAD_M) -> Candidates:
    """Grid points ``spacing_m`` apart inside the study area, each moved to the nearest road both walk and drive
    may attach to (points farther than ``spacing_m`` from such a road dropped, repeats merged).
    """
    if not spacing_m > 0:
        msg = Message("--spacing-m must be a positive number of metres, got {spacing_m:g}", spacing_m=spacing_m)
        raise SuggestError(msg)
    inputs = study.inputs
    net = inputs.network
    area = shapely.union_all(inputs.boundaries.geometry.to_numpy())
    x0, y0, x1, y1 = area.bounds
    gx, gy = np.meshgrid(np.arange(x0 + spacing_m / 2, x1, spacing_m), np.arange(y0 + spacing_m / 2, y1, spacing_m))
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(area, gx, gy)
    gx, gy = gx[inside], gy[inside]
    mask = np.logical_and.reduce([net.attachable(mode) for mode in MODES])
    index = SegmentIndex.build(net.lines.geometry.to_numpy(), mask)
    at = index.nearest(gx, gy, net.length_m)
    near = at.leg_m <= spacing_m
    points = shapely.line_interpolate_point(net.lines.geometry.to_numpy()[at.seg[near]], at.along_m[near])
    px, py = shapely.get_x(points), shapely.get_y(points)
    _, first = np.unique(np.column_stack([np.round(px), np.round(py)]), axis=0, return_index=True)
    first = np.sort(first)
    px, py = px[first], py[first]
    lon, lat = transformer(inputs.crs, "EPSG:4326").transform(px, py)
    lon, lat, x, y, attached = placed(study, lon, lat)
    ok = np.array([p is None for p in site_problems(study, x, y, attached, max_road_m)], bool)
    n = int(ok.sum())
    ids = [f"S{i + 1:04d}" for i in range(n)]
    table = _table(study, ids, ids, lon[ok], lat[ok], x[ok], y[ok])
    notes = [Message("{points:,} grid points {spacing_m:g} m apart in the study area, {sites:,} distinct road sites",
                     points=len(gx), spacing_m=spacing_m, sites=n)]
    return Candidates(table, {m: a[ok] for m, a in attached.items()}, notes)


def read_candidates(study: Study, path: Path, crs: str = "wgs84", max_road_m: float = MAX_ROAD_M) -> Candidates:
    """Candidate sites from a CSV/XLSX (columns ``lon``, ``lat`` or ``x``, ``y`` in ``crs``: wgs84, gcj02, bd09,
    cgcs2000 or an EPSG code; optional ``id``, ``name``) or a GIS point layer (its own CRS; ``crs`` gcj02 or bd09
    says its lon/lat are offset). Rows that cannot be sites stop with one error listing them.
    """
    df = read_table(path)
    if len(df) == 0:
        msg = Message("{path}: no candidate sites (the file has no rows)", path=path)
        raise SuggestError(msg)
    layer = isinstance(df, gpd.GeoDataFrame) and df.geometry.notna().any()
    offset = 1 if layer else 2
    ids = (df["id"].astype(str).str.strip() if "id" in df.columns else
           pd.Series([f"C{i + 1:04d}" for i in range(len(df))], index=df.index))
    require_unique_ids(ids.reset_index(drop=True), path, offset)
    names = df["name"].astype(str).to_numpy() if "name" in df.columns else ids.to_numpy()
    if layer:
        if df.crs is None:
            msg = Message("{path}: the layer has no coordinate system; save it with one (e.g. EPSG:4326)",  # type: ignore[unreachable]  # .crs of a layer
                          path=path)
            raise SuggestError(msg)
        pts = df.geometry.to_crs(4326)
        if not pts.geom_type.eq("Point").all():
            pts = pts.representative_point()
        a, b = pts.x.to_numpy(float), pts.y.to_numpy(float)
        system = crs if crs.lower() in ("gcj02", "gcj-02", "bd09", "bd-09", "amap", "baidu") else "wgs84"
    else:
        cols = next((c for c in (("lon", "lat"), ("x", "y"), ("longitude", "latitude")) if set(c) <= set(df.columns)),
                    None)
        if cols is None:
            msg = Message("{path}: no coordinate columns: give lon and lat (or x and y, with --candidates-crs); "
                          "the file has: {columns}", path=path, columns=", ".join(map(str, df.columns)))
            raise SuggestError(msg)
        a, b = (_numbers(df[c], path, c, ids, offset) for c in cols)
        system = crs
        if system.lower().startswith("epsg:") and system.split(":")[1] not in ("4326", "4490"):
            check_crs_fits((a.min(), b.min(), a.max(), b.max()), system, f"{path} (--candidates-crs)",
                           "candidate table")
        else:
            swapped = looks_swapped(a, b)
            if swapped.any():
                i = int(np.flatnonzero(swapped)[0])
                msg = Message("{path}: row {row} (id {id}): longitude {lon} / latitude {lat} look swapped or out of "
                              "range; '{lon_column}' must hold longitude and '{lat_column}' latitude ({rows} rows "
                              "like this)", path=path, row=i + offset, id=ids.iloc[i], lon=a[i], lat=b[i],
                              lon_column=cols[0], lat_column=cols[1], rows=int(swapped.sum()))
                raise SuggestError(msg)
    lon, lat = (np.asarray(v, float) for v in to_wgs84(a, b, system))
    lon, lat, x, y, attached = placed(study, lon, lat)
    problems = site_problems(study, x, y, attached, max_road_m)
    bad = [Message("row {row} (id {id}, lon {lon:.6f}, lat {lat:.6f}): {problem}", row=i + offset, id=ids.iloc[i],
                   lon=lon[i], lat=lat[i], problem=p)
           for i, p in enumerate(problems) if p is not None]
    if bad:
        msg = Message("{path}: {count} candidate site(s) cannot be used: {listed}{more}. Check the coordinates and "
                      "--candidates-crs (now {crs}), or drop these rows", path=path, count=len(bad),
                      listed=joined(bad[:10]), more="; ..." if len(bad) > 10 else "", crs=crs)
        raise SuggestError(msg)
    table = _table(study, ids.to_numpy(), names, lon, lat, x, y)
    return Candidates(table, attached, [Message("{count:,} candidate sites read from {file}", count=len(table),
                                                file=path.name)])


def _numbers(col: pd.Series, path: Path, name: str, ids: pd.Series, offset: int) -> np.ndarray:
    values = pd.to_numeric(col.astype(str).str.strip(), errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = Message("{path}: row {row} (id {id}): column '{column}' is not a number: {value!r} ({rows} rows like "
                      "this)", path=path, row=i + offset, id=ids.iloc[i], column=name, value=col.iloc[i],
                      rows=int(bad.sum()))
        raise SuggestError(msg)
    return values


def read_exclusions(study: Study, paths: list[Path]) -> list[tuple[Path, shapely.Geometry]]:
    """Each exclusion layer (polygons, any CRS) as one geometry in the analysis CRS."""
    out: list[tuple[Path, shapely.Geometry]] = []
    for path in paths:
        try:
            layer = gpd.read_file(path)
        except Exception as exc:  # noqa: BLE001  pyogrio raises several types for an unreadable file
            msg = Message("{path}: exclusion layer cannot be read ({error}: {detail})", path=path,
                          error=type(exc).__name__, detail=str(exc))
            raise SuggestError(msg) from None
        if layer.crs is None:
            msg = Message("{path}: the exclusion layer has no coordinate system; save it with one (e.g. EPSG:4326)",
                          path=path)
            raise SuggestError(msg)
        polygons = layer[layer.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(polygons) == 0:
            msg = Message("{path}: the exclusion layer has no polygons (geometry types: {types}); give areas to keep "
                          "new sites out of", path=path, types=", ".join(sorted(set(layer.geom_type.dropna()))))
            raise SuggestError(msg)
        shape: shapely.Geometry = shapely.union_all(polygons.to_crs(study.inputs.crs).geometry.make_valid().to_numpy())
        out.append((path, shape))
    return out


def filtered(study: Study, candidates: Candidates, type_id: str, exclusions: list[tuple[Path, shapely.Geometry]],
             min_spacing_m: float) -> Candidates:
    """The candidates outside every exclusion polygon and at least ``min_spacing_m`` metres from each existing
    facility of ``type_id``; stops when none is left.
    """
    if min_spacing_m < 0:
        msg = Message("--min-spacing-m must be 0 or more metres, got {min_spacing_m:g}", min_spacing_m=min_spacing_m)
        raise SuggestError(msg)
    t = candidates.table
    keep = np.ones(len(t), bool)
    notes = list(candidates.notes)
    x, y = t["x"].to_numpy(float), t["y"].to_numpy(float)
    for path, shape in exclusions:
        out = keep & shapely.intersects_xy(shape, x, y)
        notes.append(Message("{count:,} inside the exclusion layer {file}", count=int(out.sum()), file=path.name))
        keep &= ~out
    fac = study.facilities
    same = fac[fac["type"].astype(str) == type_id]
    if min_spacing_m > 0 and len(same):
        d, _ = cKDTree(same[["x", "y"]].to_numpy(float)).query(np.column_stack([x, y]))
        near = keep & (d < min_spacing_m)
        notes.append(Message("{count:,} within {min_spacing_m:g} m of an existing {type} ({existing} of them)",
                             count=int(near.sum()), min_spacing_m=min_spacing_m, type=type_words(type_id),
                             existing=len(same)))
        keep &= ~near
    if not keep.any():
        msg = Message("no candidate sites left: {notes}. Use a smaller --spacing-m or --min-spacing-m, fewer exclusion "
                      "layers, or another candidate file", notes=joined(notes))
        raise SuggestError(msg)
    notes.append(Message("{count:,} candidate sites", count=int(keep.sum())))
    table = t[keep].reset_index(drop=True)
    return Candidates(table, {m: a[keep] for m, a in candidates.attached.items()}, notes)
