"""The sites of added and relocated facilities: converted to the analysis CRS, checked, attached to the roads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyproj
import shapely

from healthreach.crs import looks_swapped, to_wgs84
from healthreach.errors import CRSError, ScenarioError
from healthreach.inputs import StudyInputs
from healthreach.scenario.schema import Add, Location, Relocate, Scenario, coordinate_system


@dataclass(frozen=True)
class Site:
    """A change's site in the analysis CRS (metres), its WGS84 lon/lat and where it attaches to the roads.

    Per mode (walk, drive): the segment, the metres along it from its first
    node, and the distance (metres) from the site to that road.
    """

    x: float
    y: float
    lon: float
    lat: float
    seg_walk: int
    along_walk_m: float
    snap_walk_m: float
    seg_drive: int
    along_drive_m: float
    snap_drive_m: float


def _as_given(loc: Location) -> tuple[float, float]:
    return (loc.lon, loc.lat) if loc.geographic else (loc.x, loc.y)


class Projections:
    """The coordinate systems sites are given in and their transformers to the analysis CRS.

    Each is built once (building a transformer from WKT takes ~0.1 s) and
    kept by this object; a :class:`~healthreach.evaluation.Study` owns one.
    """

    def __init__(self, analysis_crs: str):
        self.analysis_crs = analysis_crs
        self._systems: dict[str, str | pyproj.CRS] = {}
        self._transformers: dict[tuple[str, str], pyproj.Transformer] = {}

    def system(self, text: str) -> str | pyproj.CRS:
        """What a site's ``crs`` names (see :func:`~healthreach.scenario.schema.coordinate_system`)."""
        if text not in self._systems:
            self._systems[text] = coordinate_system(text)
        return self._systems[text]

    def _transformer(self, source: str, target: str) -> pyproj.Transformer:
        key = (source, target)
        if key not in self._transformers:
            self._transformers[key] = pyproj.Transformer.from_crs(source, target, always_xy=True)
        return self._transformers[key]

    def to_analysis(self, a: float, b: float, system: str | pyproj.CRS) -> tuple[float, float, float, float]:
        """(x, y) in the analysis CRS (metres) and (lon, lat) in WGS84 of a point given in ``system``."""
        if isinstance(system, str):
            lon, lat = (float(v) for v in to_wgs84(a, b, system))
        else:
            lon, lat = self._transformer(system.to_wkt(), "EPSG:4326").transform(a, b)
        x, y = self._transformer("EPSG:4326", self.analysis_crs).transform(lon, lat)
        return float(x), float(y), float(lon), float(lat)


def locate(scenario: Scenario, inputs: StudyInputs, facilities: pd.DataFrame | None = None,
           projections: Projections | None = None) -> dict[int, Site]:
    """The site of every add and relocate (by change index), checked against the study area and the roads.

    ``facilities`` is the table the changes apply to (default: the study's
    own); ``projections`` may be kept between calls (default: built anew).

    Raises one :class:`ScenarioError` listing every site that is out of range,
    looks swapped, lies outside the study area (unless ``allow_outside``) or
    lies farther than ``max_road_m`` from a road.
    """
    towns = inputs.boundaries
    projections = projections or Projections(inputs.crs)

    def inside_area(x: float, y: float) -> bool:  # on a boundary (to 1 m) counts as inside
        return len(towns.sindex.query(shapely.Point(x, y), predicate="dwithin", distance=1.0)) > 0

    facilities = inputs.facilities if facilities is None else facilities
    names = dict(zip(facilities["id"], facilities["name"], strict=True))
    problems: list[str] = []
    sites: dict[int, Site] = {}

    def say(i: int, text: str) -> None:
        problems.append(f"{scenario.where}: {scenario.label(i)}: {text}")

    for i, change in enumerate(scenario.changes):
        if not isinstance(change, Add | Relocate):
            continue
        loc = change.at if isinstance(change, Add) else change.to
        system_text = loc.crs or scenario.crs
        try:
            system = projections.system(system_text)
        except CRSError as exc:
            say(i, str(exc))
            continue
        geographic = isinstance(system, str) or system.is_geographic
        if loc.geographic and not geographic:
            say(i, f"lon/lat given but crs {system_text} is projected; give x/y in metres, or a geographic crs")
            continue
        if not loc.geographic and geographic:
            say(i, f"x/y given but crs {system_text} is geographic; give lon/lat, or the projected "
                   f"crs of the x/y (e.g. crs: EPSG:4545)")
            continue
        a, b = _as_given(loc)
        if loc.geographic:
            if looks_swapped(a, b):
                say(i, f"longitude {a} / latitude {b} look swapped (or out of range): lon is east-west "
                       f"(73..135 in China), lat north-south (18..54); swap them")
                continue
        try:
            x, y, lon, lat = projections.to_analysis(a, b, system)
        except (CRSError, pyproj.exceptions.ProjError) as exc:
            say(i, f"{loc.text()} cannot be converted from {system_text}: {exc}")
            continue
        inside = inside_area(x, y)
        if not inside:
            try:
                sx, sy, _, _ = projections.to_analysis(b, a, system)
                swapped_inside = inside_area(sx, sy)
            except (CRSError, pyproj.exceptions.ProjError, ValueError):  # a swapped pair may not even convert
                swapped_inside = False
            if swapped_inside:
                first, second = ("lon", "lat") if loc.geographic else ("x", "y")
                say(i, f"{loc.text()} looks swapped: the point lies outside the study area but "
                       f"{first} {b}, {second} {a} lies inside; swap the two values")
                continue
            if not change.allow_outside:
                km = float(towns.distance(shapely.Point(x, y)).min()) / 1000
                say(i, f"{loc.text()} ({system_text}) lies {km:,.1f} km outside the study area; check the "
                       f"coordinates and their crs, or set allow_outside: true on this change for a facility "
                       f"beyond the district (e.g. a tertiary hospital)")
                continue
        walk = inputs.network.attach(np.array([x]), np.array([y]), "walk")
        drive = inputs.network.attach(np.array([x]), np.array([y]), "drive")
        far = [(m, d) for m, d in (("drivable", float(drive.leg_m[0])), ("walkable", float(walk.leg_m[0])))
               if d > scenario.max_road_m]
        if far:
            mode, dist = far[0]
            name = change.name or names.get(change.ref, change.ref)
            say(i, f"the site of {change.ref} ({name}) at {loc.text()} lies {dist:,.0f} m from the nearest "
                   f"{mode} road, farther than max_road_m ({scenario.max_road_m:g} m); check the coordinates "
                   f"(and their crs), or raise max_road_m if the site is meant to be that remote")
            continue
        sites[i] = Site(x, y, lon, lat, int(walk.seg[0]), float(walk.along_m[0]), float(walk.leg_m[0]),
                        int(drive.seg[0]), float(drive.along_m[0]), float(drive.leg_m[0]))
    if problems:
        raise ScenarioError("\n".join(problems))
    return sites
