"""Load a study's inputs into one validated bundle in a metric CRS.

This is the only place that touches input files. It chooses the analysis CRS,
builds (or reuses from the cache) the road network, places the population on
the analysis grid, and attaches facilities to the roads.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from rasterio import features

from healthreach import __version__, input_cache, vocab
from healthreach.cache import cache_dir, cache_key
from healthreach.crs import local_metric_crs, parse_crs
from healthreach.errors import InputError
from healthreach.grid import Grid, check_grid
from healthreach.load.boundaries import read_boundaries
from healthreach.load.census import rescale_to_census, road_length_per_cell, spread_over_cells, spread_polygons
from healthreach.load.facilities import check_locations, check_types, read_facilities
from healthreach.load.groups import read_groups
from healthreach.load.population import is_polygon_source, read_population, read_population_polygons
from healthreach.load.roads import buffer_wgs84, read_roads, road_format, roads_file
from healthreach.load.villages import read_villages
from healthreach.messages import Message
from healthreach.network import (
    NODE_ORDER,
    Network,
    attach_facilities,
    build_network,
    load_network,
    save_network,
)
from healthreach.offsets import datum_offset_warnings
from healthreach.profile import Profile, load_profile
from healthreach.study import INPUT_KEYS, StudyFile

log = logging.getLogger(__name__)
Step = Callable[[str | Message], None]


@dataclass(frozen=True)
class Cells:
    """The analysis-grid cells inside the study area (one entry per cell).

    ``flat`` indexes the grid row-major; ``x``, ``y`` are cell centres
    (metres); ``people`` is people per cell; ``township`` the row in the
    boundaries table; ``urban`` whether that township is urban; ``groups``
    the people per cell of each population group (study key ``population_groups``).
    """

    flat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    people: np.ndarray
    township: np.ndarray
    urban: np.ndarray
    groups: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Make every array read-only: cells are shared by evaluations and never change."""
        for values in (self.flat, self.x, self.y, self.people, self.township, self.urban, *self.groups.values()):
            values.flags.writeable = False

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Cells read back from the disk cache (:mod:`healthreach.input_cache`) are read-only too."""
        self.__dict__.update(state)
        self.__post_init__()


@dataclass(frozen=True)
class StudyInputs:
    """Everything an audit needs, validated and in the analysis CRS (read-only: derived values belong to
    :class:`healthreach.evaluation.Study`).
    """

    study: StudyFile
    profile: Profile
    crs: str
    boundaries: gpd.GeoDataFrame
    grid: Grid
    cells: Cells
    network: Network
    facilities: gpd.GeoDataFrame
    input_hash: str
    warnings: list[str | Message] = field(default_factory=list)
    villages: gpd.GeoDataFrame | None = None

    @property
    def total_people(self) -> float:
        """People in the study area (sum over its cells)."""
        return float(self.cells.people.sum())


def load_inputs(study: StudyFile, step: Step | None = None, use_cache: bool = True, offline: bool = False,
                cache: Path | None = None) -> StudyInputs:
    """Read and validate every input of ``study``; ``step`` is told what is being done.

    ``cache`` is the disk cache root (default: :func:`healthreach.cache.cache_dir`):
    downloads, built networks and the read inputs of studies made of local
    files (:mod:`healthreach.input_cache`) are kept there, so an unchanged
    study is read back from one file; ``use_cache=False`` reads every input
    and builds the network again even if cached ones match. With ``offline`` nothing
    is downloaded: roads given by ``roads.source`` must already be in the
    cache, else an error names the key.
    """
    cache = cache_dir() if cache is None else cache
    step = step or log.info
    profile = load_profile(study.profile, study)
    input_hash = study_hash(study, profile)
    kept = input_cache.entry(study, input_hash, cache) if use_cache else None
    if kept is not None:
        inputs = input_cache.read(kept)
        if inputs is not None:
            step(Message("reusing the cached inputs"))
            return inputs
    inputs = _read_inputs(study, profile, input_hash, step, cache, use_cache, offline)
    if kept is not None:
        input_cache.write(kept, inputs)
    return inputs


def _read_inputs(study: StudyFile, profile: Profile, input_hash: str, step: Step, cache: Path, use_cache: bool,
                 offline: bool) -> StudyInputs:
    """Read and validate every input of ``study`` from its files (see :func:`load_inputs`)."""
    warnings: list[str | Message] = []
    step(Message("reading township boundaries"))
    boundaries = read_boundaries(study.boundaries, warnings)
    crs = _analysis_crs(study, boundaries)
    boundaries = boundaries.to_crs(crs)
    check_grid(tuple(boundaries.total_bounds), float(boundaries.area.sum()), study.grid_m, str(study.source))

    area_wgs84 = boundaries.to_crs(4326).union_all()

    step(Message("building the road network"))
    network = _network(study, profile, crs, step, cache, use_cache, area_wgs84, offline)
    warnings.extend(network.report.lines()[1:])
    _check_roads_in_area(network, boundaries, study)
    warnings.extend(_unused_class_settings(study, network))

    step(Message("reading population"))
    grid, cells = _population(study, profile, crs, boundaries, network, warnings)
    _check_people(cells, study)

    step(Message("reading facilities"))
    facilities = read_facilities(study.facilities, crs, osm_area=buffer_wgs84(area_wgs84, study.roads.buffer_km))
    check_types(facilities, {t for group in profile.groups.values() for t in group.types}, study.facilities)
    warnings.extend(check_locations(facilities, boundaries.union_all(), study.facilities.path))
    warnings.extend(datum_offset_warnings(study, facilities, network.lines))
    attach_facilities(network, facilities)
    far = facilities[facilities["snap_drive_m"] > profile.travel.far_snap_m]
    for _, fac in far.iterrows():
        warnings.append(Message(
            "facility {id} ({name}, {file} row {row}) lies {snap_m:,.0f} m from the nearest road; check its "
            "coordinates",
            id=fac["id"], name=fac["name"], file=study.facilities.path.name, row=fac["row"],
            snap_m=fac["snap_drive_m"]))
    _check_types(facilities, profile, warnings)

    villages = None
    if study.villages is not None:
        step(Message("reading villages"))
        villages = read_villages(study.villages, crs, boundaries)

    return StudyInputs(study, profile, crs, boundaries, grid, cells, network, facilities, input_hash, warnings,
                       villages)


def _check_roads_in_area(network: Network, boundaries: gpd.GeoDataFrame, study: StudyFile) -> None:
    """Raise when no junction of the road network lies in the study area (roads of another place or CRS)."""
    area = boundaries.union_all()
    if len(network.x) and shapely.contains_xy(area, network.x, network.y).any():
        return
    where = study.roads.path or f"roads.source {study.roads.source!r}"
    if len(network.x):
        gap_km = float(shapely.distance(area, shapely.multipoints(np.column_stack([network.x, network.y])))) / 1000
        how_far: str | Message = Message("the nearest road lies {km:,.1f} km outside the study area", km=gap_km)
    else:
        how_far = Message("the network is empty")
    msg = Message(
        "{where}: no road of the network lies in the study area ({how_far}); check that the road file "
        "covers the boundaries ({boundaries}) and that its coordinate system is right",
        where=where, how_far=how_far, boundaries=study.boundaries.path or study.boundaries.admin_code)
    raise InputError(msg)


def _unused_class_settings(study: StudyFile, network: Network) -> list[Message]:
    """Notes for road classes the study sets (``speeds_kmh``, ``no_walking``, ``no_access``) that no road
    of the network has: a misspelt class would otherwise change nothing without a word.
    """
    present = sorted(str(name) for name in network.lines["road_class"].unique())  # a few classes of many roads
    notes = []
    for key, names in (("speeds_kmh", list(study.speeds_kmh)), ("no_walking", study.no_walking),
                       ("no_access", study.no_access or [])):
        for name in names:
            if vocab.road_class(name) in present:
                continue
            close = difflib.get_close_matches(vocab.road_class(name), present, n=1)
            hint = (Message("; did you mean '{name}'?", name=close[0]) if close else
                    Message(" (the network's classes: {classes})", classes=", ".join(present)))
            notes.append(Message(
                "{source}: {key}: no road of the network has the class '{name}', so the setting changes "
                "nothing{hint}",
                source=study.source, key=key, name=name, hint=hint))
    return notes


def _check_people(cells: Cells, study: StudyFile) -> None:
    """Raise when the study area holds no people: every figure would be a share of nobody."""
    total = float(cells.people.sum())
    if total > 0:
        return
    spec = study.population
    if spec.path is None:
        where, why = f"{study.boundaries.path or study.boundaries.admin_code}", Message("the census totals add up to 0")
    else:
        where = str(spec.path)
        why = Message("the file's cells inside the study area are all 0, nodata or missing, or the file covers "
                      "another place")
    msg = Message(
        "{where}: no people in the study area ({n_people:,} cells of {grid_m:g} m checked); {why}. Check "
        "that the population file covers the boundaries and holds people per cell (its nodata value and "
        "CRS)",
        where=where, n_people=len(cells.people), grid_m=study.grid_m, why=why)
    raise InputError(msg)


def study_hash(study: StudyFile, profile: Profile) -> str:
    """A hash of the study's settings, profile and input file contents (not their paths)."""
    present = [key for key in INPUT_KEYS if getattr(study, key) is not None]
    exclude: dict[str, Any] = {"source": True, **{key: {"path"} for key in present}}
    exclude["boundaries"] = {"path", "admin_table"}
    # with no groups the key is left out, so the hash of a study without groups stays as it was
    exclude["population_groups"] = {key: {"path"} for key in study.population_groups} or True
    settings = study.model_dump(mode="json", exclude=exclude)
    return cache_key(__version__, settings, profile.model_dump(mode="json"),
                     *(getattr(study, key).path for key in present),
                     *(spec.path for spec in study.population_groups.values()),
                     *([study.boundaries.admin_table] if study.boundaries.admin_table else []))


def _analysis_crs(study: StudyFile, boundaries: gpd.GeoDataFrame) -> str:
    """The study's CRS, or a local metric one chosen from the boundaries' centre."""
    if study.crs != "auto":
        chosen = parse_crs(study.crs, f"{study.source}: crs")
        if not chosen.is_projected:
            msg = Message(
                "{source}: crs: {crs} is not a projected (metre) CRS; use 'auto' or e.g. EPSG:4545",
                source=study.source, crs=study.crs)
            raise InputError(msg)
        return chosen.to_wkt()
    centre = boundaries.to_crs(4326).union_all().centroid
    return local_metric_crs(centre.x, centre.y).to_wkt()


def _network(study: StudyFile, profile: Profile, crs: str, step: Step, cache: Path, use_cache: bool,
             area_wgs84=None, offline: bool = False) -> Network:
    """Build the network, or load it from the cache when its inputs are unchanged.

    Roads given by ``roads.source`` are downloaded once (see
    :func:`healthreach.load.roads.roads_file`); a PBF extract is read for the
    study area (``area_wgs84``) grown by ``roads.buffer_km``.
    """
    if study.roads.source is not None:
        step(Message("downloading roads from OpenStreetMap (once; kept in the cache)"))
    roads_path = roads_file(study.roads, area_wgs84, cache, offline,
                            where=Message("{file}: {key}", file=study.source, key="roads.source"))
    fmt = road_format(study.roads.model_copy(update={"path": roads_path}))
    clip = shapely.to_wkt(area_wgs84, rounding_precision=5) if fmt == "pbf" and area_wgs84 is not None else None
    key = cache_key(__version__, NODE_ORDER, vocab.fingerprint(), study.roads.model_dump(mode="json"), roads_path, crs,
                    clip, profile.drive_kmh, profile.no_walking, profile.travel.model_dump())
    path = cache / "networks" / f"{key}.npz"
    if use_cache and path.is_file():
        step(Message("reusing the cached road network"))
        net = load_network(path)
        net.no_access = tuple(profile.no_access)  # not part of the cached network: points attach by it
        return net
    notes: list[str | Message] = []
    roads = read_roads(study.roads, crs, area=area_wgs84, path=roads_path, notes=notes)
    unknown = "error" if fmt == "gis" else "drop"
    net = build_network(roads, profile, study.roads.tolerance_m, unknown, where=str(roads_path))
    net.report.notes.extend(notes)
    if use_cache:
        try:
            save_network(net, path)
        except OSError as exc:
            log.warning("network cache not written (%s)", exc)
    return net


def _population(study: StudyFile, profile: Profile, crs: str, boundaries: gpd.GeoDataFrame, network: Network,
                warnings: list[str | Message]) -> tuple[Grid, Cells]:
    """People on the analysis grid and the study-area cells, from whichever source the study names.

    A raster is aggregated (totals kept); a polygon layer, or with no path the
    boundaries' census totals, is spread uniformly or by road density; with
    ``rescale_to_census`` every township is then scaled to its census total.
    """
    spec = study.population
    bounds = tuple(boundaries.total_bounds)
    census = boundaries["census_pop"].to_numpy(float)
    names = [Message("township {id} ({name})", id=i, name=n)
             for i, n in zip(boundaries["id"], boundaries["name"], strict=True)]
    if (spec.path is None or spec.rescale_to_census) and not np.isfinite(census).any():
        key = "population.rescale_to_census" if spec.path is not None else "population.path"
        msg = Message(
            "{source}: {key}: people come from the boundaries' census totals, but the boundaries have "
            "none; name the column with boundaries.population_column (or give a population file)",
            source=study.source, key=key)
        raise InputError(msg)
    if spec.path is not None and not is_polygon_source(spec.path):
        grid, people = read_population(spec, crs, bounds, study.grid_m, warnings)
        source = Message("population raster")
    else:
        grid = Grid.covering(bounds, study.grid_m, crs)
        people = np.zeros(grid.shape)
        source = Message("population polygons")
    roads_m = None
    if spec.spread == "road_density" and (spec.path is None or is_polygon_source(spec.path)):
        lived_along = ~np.isin(network.lines["road_class"].to_numpy(), profile.no_walking)  # not expressways
        roads_m = road_length_per_cell(grid, network.lines.geometry.to_numpy()[lived_along])
    if spec.path is not None and is_polygon_source(spec.path):
        polys = read_population_polygons(spec, warnings).to_crs(crs)
        people, report = spread_polygons(grid, polys.geometry.to_numpy(), polys["people"].to_numpy(), roads_m)
        warnings.extend(Message("population: {note}", note=note) for note in report.notes)
        lost = report.people_in - report.people_placed
        if lost > 0.5:
            warnings.append(Message(
                "{lost:,.0f} people in the population polygons lie beyond the study area's extent and "
                "are not counted",
                lost=lost))

    township = features.rasterize(
        ((geom, i) for i, geom in enumerate(boundaries.geometry)), out_shape=grid.shape,
        transform=grid.transform, fill=-1, dtype="int32")
    outside = float(people[township < 0].sum())
    if outside > 0.5:
        warnings.append(Message(
            "{outside:,.0f} people in the {source} lie outside every township and are not counted",
            outside=outside, source=source))
    flat = np.flatnonzero(township.ravel() >= 0)
    x, y = grid.centres(flat)
    town = township.ravel()[flat]
    cell_people = people.ravel()[flat]
    if spec.path is None:
        weights = roads_m.ravel()[flat] if roads_m is not None else None
        cell_people, report = spread_over_cells(town, census, weights, names)
        warnings.extend(Message("population: {note}", note=note) for note in report.notes)
    rescale = None
    if spec.path is not None and spec.rescale_to_census:
        raw = np.bincount(town, weights=cell_people, minlength=len(names))
        cell_people, report = rescale_to_census(cell_people, town, census, names)
        warnings.extend(Message("population rescaled to census: {note}", note=note) for note in report.notes)
        scaled = np.bincount(town, weights=cell_people, minlength=len(names))
        rescale = np.where(raw > 0, scaled / np.where(raw > 0, raw, 1), 1.0)
    groups = read_groups(study, grid, flat, town, names, rescale, cell_people, warnings)
    cells = Cells(flat, x, y, cell_people, town, (boundaries["area_class"].to_numpy() == "urban")[town], groups)
    return grid, cells


def _check_types(facilities: gpd.GeoDataFrame, profile: Profile, warnings: list[str | Message]) -> None:
    known = {t for group in profile.groups.values() for t in group.types}
    unknown = sorted(set(facilities["type"]) - known)
    if unknown:
        warnings.append(Message(
            "facility types in no standard's group (not counted): {unknown}",
            unknown=", ".join(unknown)))
