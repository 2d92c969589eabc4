"""Load a study's inputs into one validated bundle in a metric CRS.

This is the only place that touches input files. It chooses the analysis CRS,
builds (or reuses from the cache) the road network, places the population on
the analysis grid, and snaps facilities and cells to the roads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
from rasterio import features

from healthreach import __version__
from healthreach.crs import local_metric_crs, parse_crs
from healthreach.errors import InputError
from healthreach.grid import Grid
from healthreach.load.boundaries import read_boundaries
from healthreach.load.facilities import read_facilities
from healthreach.load.population import read_population
from healthreach.load.roads import read_roads, road_format
from healthreach.network import Network, build_network, cache_dir, cache_key, load_network, save_network
from healthreach.profile import Profile, load_profile
from healthreach.study import Study

log = logging.getLogger(__name__)
Step = Callable[[str], None]


@dataclass
class Cells:
    """The analysis-grid cells inside the study area (one entry per cell).

    ``flat`` indexes the grid row-major; ``x``, ``y`` are cell centres
    (metres); ``people`` is people per cell; ``township`` the row in the
    boundaries table; ``urban`` whether that township is urban.
    """

    flat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    people: np.ndarray
    township: np.ndarray
    urban: np.ndarray


@dataclass
class StudyInputs:
    """Everything an audit needs, validated and in the analysis CRS."""

    study: Study
    profile: Profile
    crs: str
    boundaries: gpd.GeoDataFrame
    grid: Grid
    cells: Cells
    network: Network
    facilities: gpd.GeoDataFrame
    input_hash: str
    warnings: list[str] = field(default_factory=list)

    @property
    def total_people(self) -> float:
        return float(self.cells.people.sum())


def load_inputs(study: Study, step: Step | None = None, use_cache: bool = True) -> StudyInputs:
    """Read and validate every input of ``study``; ``step`` is told what is being done."""
    step = step or (lambda msg: log.info(msg))
    warnings: list[str] = []
    profile = load_profile(study.profile, study)

    step("reading township boundaries")
    boundaries = read_boundaries(study.boundaries)
    crs = _analysis_crs(study, boundaries)
    boundaries = boundaries.to_crs(crs)

    step("reading population")
    grid, people = read_population(study.population, crs, tuple(boundaries.total_bounds), study.grid_m)
    township = features.rasterize(
        ((geom, i) for i, geom in enumerate(boundaries.geometry)), out_shape=grid.shape,
        transform=grid.transform, fill=-1, dtype="int32")
    outside = float(people[township < 0].sum())
    if outside > 0.5:
        warnings.append(f"{outside:,.0f} people in the population raster lie outside every township and are not counted")
    flat = np.flatnonzero(township.ravel() >= 0)
    x, y = grid.centres(flat)
    town = township.ravel()[flat]
    cells = Cells(flat, x, y, people.ravel()[flat], town,
                  (boundaries["area_class"].to_numpy() == "urban")[town])

    step("building the road network")
    network = _network(study, profile, crs, step, use_cache)
    warnings.extend(network.report.lines()[1:])

    step("reading facilities")
    facilities = read_facilities(study.facilities, crs)
    for mode in ("walk", "drive"):
        node, dist = network.snap(facilities["x"].to_numpy(), facilities["y"].to_numpy(), mode)
        facilities[f"node_{mode}"] = node
        facilities[f"snap_{mode}_m"] = dist
    far = facilities[facilities["snap_drive_m"] > profile.travel.far_snap_m]
    for _, fac in far.iterrows():
        warnings.append(f"facility {fac['id']} ({fac['name']}, {study.facilities.path.name} row {fac['row']}) "
                        f"lies {fac['snap_drive_m']:,.0f} m from the nearest road; check its coordinates")
    _check_types(facilities, profile, warnings)

    input_hash = cache_key(__version__, study.model_dump(mode="json", exclude={"source"}),
                           profile.model_dump(mode="json"), study.roads.path, study.facilities.path,
                           study.population.path, study.boundaries.path)
    return StudyInputs(study, profile, crs, boundaries, grid, cells, network, facilities, input_hash, warnings)


def _analysis_crs(study: Study, boundaries: gpd.GeoDataFrame) -> str:
    """The study's CRS, or a local metric one chosen from the boundaries' centre."""
    if study.crs != "auto":
        chosen = parse_crs(study.crs, f"{study.source}: crs")
        if not chosen.is_projected:
            raise InputError(f"{study.source}: crs: {study.crs} is not a projected (metre) CRS; "
                             f"use 'auto' or e.g. EPSG:4545")
        return chosen.to_wkt()
    centre = boundaries.to_crs(4326).union_all().centroid
    return local_metric_crs(centre.x, centre.y).to_wkt()


def _network(study: Study, profile: Profile, crs: str, step: Step, use_cache: bool) -> Network:
    """Build the network, or load it from the cache when its inputs are unchanged."""
    key = cache_key(__version__, study.roads.model_dump(mode="json"), study.roads.path, crs,
                    profile.drive_kmh, profile.no_walking, profile.travel.model_dump())
    path = cache_dir() / "networks" / f"{key}.npz"
    if use_cache and path.is_file():
        step("reusing the cached road network")
        return load_network(path)
    roads = read_roads(study.roads, crs)
    unknown = "error" if road_format(study.roads) == "gis" else "drop"
    net = build_network(roads, profile, study.roads.merge_tolerance_m, unknown, where=str(study.roads.path))
    if use_cache:
        try:
            save_network(net, path)
        except OSError as exc:
            log.warning("network cache not written (%s)", exc)
    return net


def _check_types(facilities: gpd.GeoDataFrame, profile: Profile, warnings: list[str]) -> None:
    known = {t for group in profile.groups.values() for t in group.types}
    unknown = sorted(set(facilities["type"]) - known)
    if unknown:
        warnings.append(f"facility types in no standard's group (not counted): {', '.join(unknown)}")
