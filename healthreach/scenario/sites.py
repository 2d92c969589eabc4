"""The sites of added and relocated facilities: converted to the analysis CRS, checked, attached to the roads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyproj
import shapely

from healthreach.crs import looks_swapped, to_wgs84
from healthreach.errors import CRSError, ScenarioError
from healthreach.inputs import StudyInputs
from healthreach.messages import Message, message_lines
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
    """The site's two numbers as given: (lon, lat) in degrees or (x, y) in metres."""
    a, b = (loc.lon, loc.lat) if loc.geographic else (loc.x, loc.y)
    if a is None or b is None:  # a validated Location has one full pair
        msg = Message("{site}: give both numbers of the site", site=loc.text())
        raise ScenarioError(msg)
    return a, b


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

    def _transformer(self, source: str, target: str, system: pyproj.CRS | None = None) -> pyproj.Transformer:
        """The transformer from ``source`` (the text naming ``system``, when given) to ``target``."""
        key = (source, target)
        if key not in self._transformers:
            given = source if system is None else system.to_wkt()
            self._transformers[key] = pyproj.Transformer.from_crs(given, target, always_xy=True)
        return self._transformers[key]

    def to_analysis(self, a: float, b: float, text: str) -> tuple[float, float, float, float]:
        """(x, y) in the analysis CRS (metres) and (lon, lat) in WGS84 of a point given in the coordinate system
        ``text`` names (see :meth:`system`).
        """
        system = self.system(text)
        if isinstance(system, str):
            lon, lat = (float(v) for v in to_wgs84(a, b, system))
        else:  # keyed by the text: writing the system out as WKT costs more than the conversion
            lon, lat = self._transformer(text, "EPSG:4326", system).transform(a, b)
        x, y = self._transformer("EPSG:4326", self.analysis_crs).transform(lon, lat)
        return float(x), float(y), float(lon), float(lat)


def locate(scenario: Scenario, inputs: StudyInputs, facilities: pd.DataFrame | Mapping[str, np.ndarray] | None = None,
           projections: Projections | None = None) -> dict[int, Site]:
    """The site of every add and relocate (by change index), checked against the study area and the roads.

    ``facilities`` is the table the changes apply to (default: the study's
    own; a table or its columns as arrays); ``projections`` may be kept between calls (default: built anew).

    Raises one :class:`ScenarioError` listing every site that is out of range,
    looks swapped, lies outside the study area (unless ``allow_outside``) or
    lies farther than ``max_road_m`` from a road.
    """
    facilities = inputs.facilities if facilities is None else facilities
    locator = _Locator(scenario, inputs, projections or Projections(inputs.crs), facilities)
    problems: list[Message] = []
    sites: dict[int, Site] = {}
    for i, change in enumerate(scenario.changes):
        if not isinstance(change, Add | Relocate):
            continue
        site = locator.site(change)
        if isinstance(site, Site):
            sites[i] = site
        else:
            problems.append(Message("{where}: {change}: {problem}", where=scenario.where, change=scenario.label(i),
                                    problem=site))
    if problems:
        raise ScenarioError(message_lines(problems))
    return sites


@dataclass(frozen=True)
class _Locator:
    """Locates the sites of one scenario's changes in a study; ``facilities``: the table the changes apply to."""

    scenario: Scenario
    inputs: StudyInputs
    projections: Projections
    facilities: pd.DataFrame | Mapping[str, np.ndarray]

    def site(self, change: Add | Relocate) -> Site | str | Message:
        """The change's site, or what is wrong with it."""
        loc = change.at if isinstance(change, Add) else change.to
        converted = self.convert(loc)
        if not isinstance(converted, tuple):
            return converted
        x, y, lon, lat = converted
        outside = self.outside_problem(change, loc, x, y)
        if outside:
            return outside
        net = self.inputs.network
        walk = net.attach(np.array([x]), np.array([y]), "walk")
        # modes that attach to the same segments share one search
        drive = walk if net.segment_index("drive") is net.segment_index("walk") else net.attach(
            np.array([x]), np.array([y]), "drive")
        max_road_m = self.scenario.max_road_m
        far = [(m, d) for m, d in ((Message("drivable"), float(drive.leg_m[0])),
                                   (Message("walkable"), float(walk.leg_m[0]))) if d > max_road_m]
        if far:
            mode, dist = far[0]
            names = dict(zip(self.facilities["id"], self.facilities["name"], strict=True))
            name = change.name or names.get(change.ref, change.ref)
            return Message("the site of {id} ({name}) at {site} lies {dist_m:,.0f} m from the nearest {mode} road, "
                           "farther than max_road_m ({max_road_m:g} m); check the coordinates (and their crs), or "
                           "raise max_road_m if the site is meant to be that remote", id=change.ref, name=name,
                           site=loc.text(), dist_m=dist, mode=mode, max_road_m=max_road_m)
        return Site(x, y, lon, lat, int(walk.seg[0]), float(walk.along_m[0]), float(walk.leg_m[0]),
                    int(drive.seg[0]), float(drive.along_m[0]), float(drive.leg_m[0]))

    def convert(self, loc: Location) -> tuple[float, float, float, float] | str | Message:
        """(x, y) in the analysis CRS (metres) and (lon, lat) in WGS84 of the site, or what is wrong."""
        system_text = loc.crs or self.scenario.crs
        try:
            system = self.projections.system(system_text)
        except CRSError as exc:
            return exc.args[0]
        geographic = isinstance(system, str) or system.is_geographic
        if loc.geographic and not geographic:
            return Message("lon/lat given but crs {crs} is projected; give x/y in metres, or a geographic crs",
                           crs=system_text)
        if not loc.geographic and geographic:
            return Message("x/y given but crs {crs} is geographic; give lon/lat, or the projected crs of the x/y "
                           "(e.g. crs: EPSG:4545)", crs=system_text)
        a, b = _as_given(loc)
        if loc.geographic and looks_swapped(a, b):
            return Message("longitude {lon} / latitude {lat} look swapped (or out of range): lon is east-west "
                           "(73..135 in China), lat north-south (18..54); swap them", lon=a, lat=b)
        try:
            return self.projections.to_analysis(a, b, system_text)
        except (CRSError, pyproj.exceptions.ProjError) as exc:
            return Message("{site} cannot be converted from {crs}: {reason}", site=loc.text(), crs=system_text,
                           reason=exc.args[0] if isinstance(exc, CRSError) else str(exc))

    def inside_area(self, x: float, y: float) -> bool:
        """Whether the point (analysis CRS, metres) lies in the study area; on a boundary (to 1 m) counts."""
        towns = self.inputs.boundaries
        return len(towns.sindex.query(shapely.Point(x, y), predicate="dwithin", distance=1.0)) > 0

    def outside_problem(self, change: Add | Relocate, loc: Location, x: float, y: float) -> Message | None:
        """What is wrong with a site at (x, y) outside the study area (swapped numbers, or not allowed there);
        None inside, or outside where allowed.
        """
        if self.inside_area(x, y):
            return None
        system_text = loc.crs or self.scenario.crs
        a, b = _as_given(loc)
        try:
            sx, sy, _, _ = self.projections.to_analysis(b, a, system_text)
            swapped_inside = self.inside_area(sx, sy)
        except (CRSError, pyproj.exceptions.ProjError, ValueError):  # a swapped pair may not even convert
            swapped_inside = False
        if swapped_inside:
            first, second = ("lon", "lat") if loc.geographic else ("x", "y")
            return Message("{site} looks swapped: the point lies outside the study area but {first} {b}, {second} {a} "
                           "lies inside; swap the two values", site=loc.text(), first=first, b=b, second=second, a=a)
        if change.allow_outside:
            return None
        km = float(self.inputs.boundaries.distance(shapely.Point(x, y)).min()) / 1000
        return Message("{site} ({crs}) lies {km:,.1f} km outside the study area; check the coordinates and their "
                       "crs, or set allow_outside: true on this change for a facility beyond the district (e.g. a "
                       "tertiary hospital)", site=loc.text(), crs=system_text, km=km)
