"""GIS layers of an audit: bands with their people, per-facility isochrones, results, uncovered people, rasters.

Every layer is made from the very cell values the figures come from, and
says its units in its field names: ``_time_min`` (minutes), ``_dist_m``
(metres), ``people``. A band is the cells whose value ``v`` lies in
``from < v <= to`` (the first band starts at 0), as a cell counts as
covered. The GeoTIFFs are the travel-time surfaces on the analysis grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine

from healthreach.grid import Grid
from healthreach.isochrones import bands, cell_squares
from healthreach.messages import Message
from healthreach.reach import nearest_facility, point_cost
from healthreach.standards.groups import group_id
from healthreach.standards.radius import Radius
from healthreach.travel import facility_attachment

if TYPE_CHECKING:
    from healthreach.evaluation import Evaluation
    from healthreach.standards.circle import Circle

TIME_BREAKS_S: list[float] = [300, 600, 900, 1800]  # 5, 10, 15, 30 minutes
TIME_LABELS = ["≤ 5 min", "5–10 min", "10–15 min", "15–30 min"]
UNCOVERED_MIN_PEOPLE = 0.5  # people: cells beyond the circle with fewer are counted only in the 1 km squares
AGGREGATE_CELLS = 10  # cells per side of the aggregated uncovered squares (1 km on the 100 m grid)
NODATA = -1.0  # GeoTIFF value outside the study area and where no facility is reachable


def band_people(values: np.ndarray, people: np.ndarray, breaks: list[float]) -> np.ndarray:
    """People per band ``(from, to]`` of ``breaks`` (values beyond the last break in none)."""
    code = np.searchsorted(np.asarray(breaks, float), values, side="left")
    inside = code < len(breaks)
    return np.bincount(code[inside], weights=people[inside], minlength=len(breaks))


def band_layer(frame: gpd.GeoDataFrame, values: np.ndarray, people: np.ndarray, breaks: list[float],
               unit: str, groups: Mapping[str, np.ndarray] | None = None) -> gpd.GeoDataFrame:
    """Dissolved bands (``frame``, as :func:`~healthreach.isochrones.bands` draws the cells' ``values`` in
    ``breaks``) with their people; ``unit`` 'time' (values in seconds, fields in minutes) or 'dist'
    (metres): fields ``band``, ``from_time_min``/``to_time_min`` (or ``from_dist_m``/``to_dist_m``),
    ``label``, ``people``, then ``people_<group>`` per population group (``groups``: its people per cell).
    """
    scale, suffix = (60.0, "time_min") if unit == "time" else (1.0, "dist_m")
    band = frame["band"].astype(int).to_numpy()
    columns = {"band": frame["band"].astype(int),
               f"from_{suffix}": frame["lower"].astype(float) / scale,
               f"to_{suffix}": frame["upper"].astype(float) / scale,
               "label": frame["label"],
               "people": band_people(values, people, breaks)[band].round(1)}
    for group, weights in (groups or {}).items():
        columns[group_id("people", group)] = band_people(values, weights, breaks)[band].round(1)
    out = gpd.GeoDataFrame(columns, geometry=frame.geometry, crs=frame.crs)
    return out.reset_index(drop=True)


def window(grid: Grid, flat: np.ndarray) -> tuple[Grid, np.ndarray]:
    """The smallest part of ``grid`` holding the cells ``flat`` (non-empty), and their flat indices in it."""
    row, col = np.divmod(np.asarray(flat), grid.width)
    r0, c0 = int(row.min()), int(col.min())
    width = int(col.max()) - c0 + 1
    part = Grid(grid.crs, grid.transform * Affine.translation(c0, r0), width, int(row.max()) - r0 + 1)
    return part, (row - r0) * width + (col - c0)


def area_mode_seconds(evaluation: Evaluation, primary: Circle, seconds: Mapping[str, np.ndarray]) -> np.ndarray:
    """Per cell: the seconds (``seconds``: mode -> per cell) by the mode the circle ``primary`` counts in the
    cell's area (urban or rural).
    """
    urban = evaluation.inputs.cells.urban
    return np.where(urban, seconds[primary.spec.urban_mode], seconds[primary.spec.rural_mode])


def cell_segment_ends(evaluation: Evaluation) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per mode the circle counts: the first and last node of the road segment each cell attaches to."""
    study, net = evaluation.study, evaluation.inputs.network
    primary = study.primary
    modes = {primary.spec.urban_mode, primary.spec.rural_mode} if primary else set()
    return {mode: net.segment_ends(study.access[mode].seg) for mode in modes}


def facility_seconds(evaluation: Evaluation, row: int, limit_s: float = np.inf,
                     ends: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """Per cell: seconds to the facility of table row ``row`` alone, by the mode the first circle counts in
    the cell's area; ``inf`` where it cannot be reached or lies beyond ``limit_s`` seconds.

    Only cells that can lie within ``limit_s`` are costed: a cell's way runs through an end of its road
    segment (whose cost to the facility bounds it from below) or along the facility's own segment.
    ``ends`` (see :func:`cell_segment_ends`) saves finding those ends again for each facility.
    """
    study, inputs = evaluation.study, evaluation.inputs
    primary = study.primary
    if primary is None:
        msg = Message("per-facility travel times follow the first circle standard; this profile has none")
        raise ValueError(msg)
    net, kmh, one = inputs.network, inputs.profile.travel.access_kmh, np.array([row])
    ends = ends or cell_segment_ends(evaluation)
    seconds: dict[str, np.ndarray] = {}
    for mode in {primary.spec.urban_mode, primary.spec.rural_mode}:
        site = facility_attachment(evaluation.sources.columns, mode)[one]
        surface = nearest_facility(net, site, mode, "time", "to", one)
        cells = study.access[mode]
        u, v = ends[mode]
        near = np.flatnonzero((np.minimum(surface.cost[u], surface.cost[v]) <= limit_s) | (cells.seg == site.seg[0]))
        cost = np.full(len(cells), np.inf)
        cost[near] = point_cost(net, surface, cells[near], kmh)[0]
        seconds[mode] = np.where(cost <= limit_s, cost, np.inf)
    return area_mode_seconds(evaluation, primary, seconds)


def facility_isochrones(evaluation: Evaluation) -> gpd.GeoDataFrame:
    """Each primary-care facility's own 5/10/15/30-minute areas (each as if it were the only one).

    One row per facility and band that has cells: ``facility_id``, ``name``,
    ``type``, ``band``, ``from_time_min``, ``to_time_min``, ``label``,
    ``people`` (in that band) and ``people_within`` (within its upper bound),
    then ``people_<group>`` and ``people_within_<group>`` per population group.
    Times are by each cell's area mode, as the medical circle counts them.
    """
    study, inputs = evaluation.study, evaluation.inputs
    cells = inputs.cells
    weights = {"": cells.people, **cells.groups}
    counted = [name for g in weights for name in (group_id("people", g) if g else "people",
                                                  group_id("people_within", g) if g else "people_within")]
    columns: dict[str, list[Any]] = {key: [] for key in ("facility_id", "name", "type", "band", "from_time_min",
                                                         "to_time_min", "label", *counted)}
    geometry: list[object] = []
    primary = study.primary
    if primary is None:
        return gpd.GeoDataFrame(columns, geometry=geometry, crs=inputs.grid.crs)
    cols = evaluation.sources.columns
    ends = cell_segment_ends(evaluation)
    for row in np.flatnonzero(evaluation.sources.member[primary.spec.group]):
        cost = facility_seconds(evaluation, int(row), TIME_BREAKS_S[-1], ends)
        near = np.flatnonzero(cost <= TIME_BREAKS_S[-1])
        if not len(near):
            continue
        part, flat = window(inputs.grid, cells.flat[near])  # polygons traced on the facility's window only
        layer = band_layer(bands(part, flat, cost[near], TIME_BREAKS_S, TIME_LABELS), cost[near],
                           cells.people[near], TIME_BREAKS_S, "time")
        for _, band in layer.iterrows():
            for key, value in (("facility_id", cols["id"][row]), ("name", cols["name"][row]),
                               ("type", cols["type"][row])):
                columns[key].append(str(value))
            for key in ("band", "from_time_min", "to_time_min", "label"):
                columns[key].append(band[key])
            geometry.append(band.geometry)
        for group, people in weights.items():
            per_band = band_people(cost[near], people[near], TIME_BREAKS_S)
            within = np.cumsum(per_band)
            at = layer["band"].astype(int).to_numpy()
            people_name, within_name = (group_id(c, group) if group else c for c in ("people", "people_within"))
            columns[people_name] += list(per_band[at].round(1))
            columns[within_name] += [round(float(v), 1) for v in within[at]]
    return gpd.GeoDataFrame(columns, geometry=geometry, crs=inputs.grid.crs)


def township_results(evaluation: Evaluation) -> gpd.GeoDataFrame:
    """The township table (people, shares per standard, unreachable people) on the township outlines."""
    boundaries = evaluation.inputs.boundaries
    table = evaluation.townships.reset_index(drop=True)
    return gpd.GeoDataFrame(table, geometry=boundaries.geometry.reset_index(drop=True), crs=boundaries.crs)


def facility_results(evaluation: Evaluation) -> gpd.GeoDataFrame:
    """The facility table (snap distances, catchments, beds per 1,000) at the facilities' points."""
    cols = evaluation.sources.columns
    table = evaluation.facility_table.reset_index(drop=True).copy()
    for column in table.columns:  # nullable integers (blank counts) as floats: GIS fields have no pandas NA
        if isinstance(table[column].dtype, pd.Int64Dtype):
            table[column] = table[column].astype("float64")
    points = shapely.points(np.asarray(cols["x"], float), np.asarray(cols["y"], float))
    return gpd.GeoDataFrame(table, geometry=points, crs=evaluation.inputs.grid.crs)


def uncovered_layers(evaluation: Evaluation, min_people: float = UNCOVERED_MIN_PEOPLE,
                     block: int = AGGREGATE_CELLS) -> dict[str, gpd.GeoDataFrame]:
    """People beyond the first circle: ``uncovered_cells`` (cells of at least ``min_people``) and
    ``uncovered_1km`` (every such person, summed in squares of ``block`` x ``block`` cells).

    Fields: ``people``, ``time_min`` (minutes to the nearest facility by
    area mode, empty when none is reachable), ``township``; the squares
    ``cells`` (cells with people) and ``unreachable_people`` instead of the
    time and township. Per population group, ``people_<group>`` (of the
    group, in the same cells) and in the squares ``unreachable_people_<group>``:
    the squares hold every person of every group beyond the circle.
    """
    inputs = evaluation.inputs
    grid, cells = inputs.grid, inputs.cells
    primary = evaluation.study.primary
    seconds = evaluation.primary_seconds
    limit = primary.limit_s if primary else 900
    beyond = seconds > limit
    shown = beyond & (cells.people >= min_people)
    minutes = np.where(np.isfinite(seconds[shown]), seconds[shown] / 60, np.nan).round(2)
    townships = inputs.boundaries["id"].to_numpy()[cells.township[shown]]
    group_cells = {group_id("people", g): people[shown].round(2) for g, people in cells.groups.items()}
    layers = {"uncovered_cells": cell_squares(grid, cells.flat[shown], people=cells.people[shown].round(2),
                                              **group_cells, time_min=minutes, township=townships)}
    anyone = cells.people > 0
    for people in cells.groups.values():
        anyone = anyone | (people > 0)
    out = beyond & anyone
    row, col = np.divmod(cells.flat[out], grid.width)
    key = (row // block) * ((grid.width + block - 1) // block) + col // block
    squares, which = np.unique(key, return_inverse=True)
    unreachable = np.isinf(seconds[out])
    columns: dict[str, np.ndarray] = {}
    for group, people in {"": cells.people, **cells.groups}.items():
        name = group_id("people", group) if group else "people"
        columns[name] = np.bincount(which, weights=people[out], minlength=len(squares)).round(1)
        if not group:
            columns["cells"] = np.bincount(which, weights=people[out] > 0, minlength=len(squares)).astype(np.int64)
        columns[group_id("unreachable_people", group) if group else "unreachable_people"] = np.bincount(
            which, weights=np.where(unreachable, people[out], 0.0), minlength=len(squares)).round(1)
    brow, bcol = np.divmod(squares, (grid.width + block - 1) // block)
    t = grid.transform
    x0, y0 = t.c + bcol * block * t.a, t.f + brow * block * t.e
    geometry = shapely.box(x0, y0 + block * t.e, x0 + block * t.a, y0)
    layers["uncovered_1km"] = gpd.GeoDataFrame(columns, geometry=geometry, crs=grid.crs)
    return layers


def audit_layers(evaluation: Evaluation, per_facility: bool = False) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of isochrones.gpkg: time bands (by area mode, walking, driving), emergency areas, with
    ``per_facility`` each facility's isochrones, township and facility results, uncovered cells and their
    1 km squares.
    """
    cells, polygons = evaluation.inputs.cells, evaluation.study.polygons

    def layer(values: np.ndarray, breaks: list[float], labels: list[str], unit: str) -> gpd.GeoDataFrame:
        return band_layer(polygons.bands(values, breaks, labels), values, cells.people, breaks, unit, cells.groups)

    layers = {"primary_care_bands": layer(evaluation.primary_seconds, TIME_BREAKS_S, TIME_LABELS, "time")}
    primary = evaluation.study.primary
    if primary:
        for mode in ("walk", "drive"):
            layers[f"{mode}_bands"] = layer(evaluation.travel[primary.mode_need(mode)].cost, TIME_BREAKS_S,
                                            TIME_LABELS, "time")
    radius = [s for s in evaluation.study.standards if isinstance(s, Radius)]
    if radius:
        radii = sorted({r for unit in radius if unit.group == radius[0].group for r in unit.spec.radii_m})
        dist = evaluation.travel[radius[0].need].cost
        layers["emergency_areas"] = layer(dist, radii,
                                          [f"≤ {r / 1000:g} km by road" for r in radii], "dist")
    if per_facility:  # one search and one polygon set per facility: seconds on a county, so asked for
        layers["facility_isochrones"] = facility_isochrones(evaluation)
    layers["township_results"] = township_results(evaluation)
    layers["facility_results"] = facility_results(evaluation)
    layers.update(uncovered_layers(evaluation))
    return layers


def travel_time_rasters(evaluation: Evaluation) -> dict[str, np.ndarray]:
    """Minutes per grid cell (float32, :data:`NODATA` outside the study area or unreachable), per time surface.

    Names: ``time_primary_care_min`` (the first circle's group by each cell's
    area mode, as the circle counts), then ``time_<group>_<mode>_min`` for
    every time surface (``_from`` for ambulances driving out from stations).
    """
    inputs = evaluation.inputs
    grid, flat = inputs.grid, inputs.cells.flat

    def raster(seconds: np.ndarray) -> np.ndarray:
        out = np.full(grid.shape, NODATA, np.float32)
        out.ravel()[flat] = np.where(np.isfinite(seconds), seconds / 60, NODATA).astype(np.float32)
        return out

    rasters = {}
    if evaluation.study.primary is not None:
        rasters["time_primary_care_min"] = raster(evaluation.primary_seconds)
    for need, cost in evaluation.travel.items():
        if need.weight != "time":
            continue
        name = f"time_{need.group}_{need.mode}{'_from' if need.direction == 'from' else ''}_min"
        rasters[name] = raster(cost.cost)
    return rasters


def write_rasters(rasters: dict[str, np.ndarray], grid: Grid, folder: Path) -> dict[str, Path]:
    """Write each raster as ``<name>.tif`` (deflate-compressed GeoTIFF on the grid, level 1); returns name -> path."""
    import rasterio

    paths = {}
    for name, values in rasters.items():
        path = folder / f"{name}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=grid.width, height=grid.height, count=1,
                           dtype="float32", crs=grid.crs, transform=grid.transform, nodata=NODATA,
                           compress="deflate", zlevel=1) as dst:  # level 1: as small as the default here, faster
            dst.write(values, 1)
            dst.update_tags(1, units="minutes")
        paths[path.name] = path
    return paths
