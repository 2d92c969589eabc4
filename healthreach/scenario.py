"""Scenarios: planned changes to the facility table, evaluated against the baseline.

A scenario file names its base study and lists changes, applied in order:

``add``        a new facility (id, name, type, site, beds, ambulances, emergency)
``relocate``   an existing facility to a new site (迁建), optionally with new beds/ambulances
``close``      an existing facility, optionally merged ``into`` another one (宜并则并)
``upgrade``    a new type and/or emergency capability (e.g. a regional sub-centre)
``expand``     new numbers of beds and/or ambulances (改扩建)

Everything is checked before any work: unknown ids (with the closest ids and
names), sites outside the study area or far from any road, lon/lat that look
swapped, changes that contradict each other. All problems are reported in one
:class:`~healthreach.errors.ScenarioError`.

A scenario is evaluated as an audit of the changed facility table, so every
figure comes from the same code as the baseline's; its travel surfaces are
repaired incrementally from the baseline's (:mod:`healthreach.incremental`).
The diff holds, per standard and per township, the baseline, the scenario and
the change; the people newly covered and those who lose coverage; and, per
facility, the catchment before and after.

Facility rows: the changed table keeps every baseline row in place. A closed
facility keeps its row with type ``closed`` (a member of no group), no beds and
no ambulances; added facilities are appended in the order they are added.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, ValidationError, model_validator

from healthreach import __version__
from healthreach.crs import datum_name, looks_swapped, parse_crs, to_wgs84
from healthreach.errors import CRSError, HealthreachError, ScenarioError
from healthreach.incremental import TravelUpdater
from healthreach.inputs import StudyInputs
from healthreach.isochrones import cell_squares
from healthreach.load.facilities import has_ambulance_counts
from healthreach.profile import Profile
from healthreach.report import json_safe, write_files
from healthreach.sources import describe_inputs
from healthreach.standards import Audit
from healthreach.standards import audit as run_audit
from healthreach.study import DEMO_STUDY, StudyFile, format_validation_error, load_study, read_yaml
from healthreach.travel import Need, cell_travel
from healthreach.vocab import facility_type

KINDS = ("add", "relocate", "close", "upgrade", "expand")
CLOSED_TYPE = "closed"


# --- the scenario file ------------------------------------------------------------------------------

class _Strict(BaseModel):
    # ids such as `close: 4201` are read as text, as the facility table's ids are
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class Location(_Strict):
    """A site: ``lon``/``lat`` in degrees, or projected ``x``/``y`` in metres with an EPSG ``crs``.

    ``crs`` defaults to the scenario's ``crs`` (itself WGS84 by default);
    ``gcj02`` (Amap/Gaode, Tencent) and ``bd09`` (Baidu), as copied from
    Chinese web maps, are converted.
    """

    lon: FiniteFloat | None = None  # NaN and inf refused here; out-of-range values by the study check
    lat: FiniteFloat | None = None
    x: FiniteFloat | None = None
    y: FiniteFloat | None = None
    crs: str | None = None

    @model_validator(mode="after")
    def _one_pair(self) -> Location:
        geo = self.lon is not None or self.lat is not None
        proj = self.x is not None or self.y is not None
        if geo and proj:
            raise ValueError("give either lon/lat or x/y, not both")
        if geo and (self.lon is None or self.lat is None):
            raise ValueError("give both lon and lat")
        if proj and (self.x is None or self.y is None):
            raise ValueError("give both x and y")
        if not (geo or proj):
            raise ValueError("give lon/lat (degrees) or x/y (metres, with crs: EPSG:....)")
        return self

    @property
    def geographic(self) -> bool:
        return self.lon is not None

    def text(self) -> str:
        return (f"lon {self.lon}, lat {self.lat}" if self.geographic else f"x {self.x}, y {self.y}")


class Add(_Strict):
    """A new facility."""

    add: str = Field(min_length=1, description="the new facility's id")
    name: str = Field(min_length=1)
    type: str
    at: Location
    beds: int = Field(0, ge=0)
    ambulances: int = Field(0, ge=0)
    emergency: bool = False
    allow_outside: bool = False
    note: str = ""

    @property
    def ref(self) -> str:
        return self.add


class Relocate(_Strict):
    """An existing facility moved to a new site (迁建), optionally resized and renamed."""

    relocate: str = Field(min_length=1)
    to: Location
    name: str | None = None
    beds: int | None = Field(None, ge=0)
    ambulances: int | None = Field(None, ge=0)
    allow_outside: bool = False
    note: str = ""

    @property
    def ref(self) -> str:
        return self.relocate


class Close(_Strict):
    """An existing facility closed; ``into``: the facility it merges into (takes its beds and ambulances)."""

    close: str = Field(min_length=1)
    into: str | None = None
    note: str = ""

    @property
    def ref(self) -> str:
        return self.close


class Upgrade(_Strict):
    """A new type and/or emergency capability (e.g. township health centre -> regional sub-centre)."""

    upgrade: str = Field(min_length=1)
    type: str | None = None
    emergency: bool | None = None
    name: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _something(self) -> Upgrade:
        if self.type is None and self.emergency is None and self.name is None:
            raise ValueError("an upgrade needs type:, emergency: or name:")
        return self

    @property
    def ref(self) -> str:
        return self.upgrade


class Expand(_Strict):
    """New numbers of beds and/or ambulances (改扩建)."""

    expand: str = Field(min_length=1)
    beds: int | None = Field(None, ge=0)
    ambulances: int | None = Field(None, ge=0)
    note: str = ""

    @model_validator(mode="after")
    def _something(self) -> Expand:
        if self.beds is None and self.ambulances is None:
            raise ValueError("an expansion needs beds: and/or ambulances:")
        return self

    @property
    def ref(self) -> str:
        return self.expand


Change = Add | Relocate | Close | Upgrade | Expand
_MODELS: dict[str, type[_Strict]] = {"add": Add, "relocate": Relocate, "close": Close,
                                     "upgrade": Upgrade, "expand": Expand}


def kind_of(change: Change) -> str:
    return next(k for k, model in _MODELS.items() if isinstance(change, model))


class _File(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    study: str
    crs: str = "wgs84"
    max_road_m: float = Field(1000.0, gt=0, le=100_000)
    changes: list[dict[str, Any]] = Field(min_length=1)


class Scenario(_Strict):
    """A validated scenario file.

    ``study`` is the base study file (absolute once loaded); ``crs`` the
    default coordinate system of sites; ``max_road_m`` how far (metres) a new
    site may lie from the nearest road.
    """

    name: str
    description: str = ""
    study: Path | None
    crs: str = "wgs84"
    max_road_m: float = 1000.0
    changes: list[Change]
    source: Path | None = None

    @property
    def where(self) -> str:
        return str(self.source) if self.source else "scenario"

    def label(self, i: int) -> str:
        """How messages name change ``i`` (0-based): 'change 3 (relocate THC07)'."""
        change = self.changes[i]
        return f"change {i + 1} ({kind_of(change)} {change.ref})"

    def load_study(self) -> StudyFile:
        """The base study (``study: demo`` is the bundled demo county)."""
        return load_study(self.study)


def parse_scenario(data: dict[str, Any], source: Path | None = None) -> Scenario:
    """Validate a scenario mapping (as read from YAML); paths are relative to ``source``'s folder."""
    where = str(source) if source else "scenario"
    try:
        top = _File.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, where, _File)) from None
    problems, changes = [], []
    for i, raw in enumerate(top.changes):
        kinds = [k for k in KINDS if k in raw]
        at = f"{where}: change {i + 1}"
        if len(kinds) != 1:
            got = ", ".join(kinds) if kinds else ", ".join(map(str, raw)) or "nothing"
            problems.append(f"{at}: a change starts with exactly one of {', '.join(KINDS)} "
                            f"(the facility id), got {got}")
            continue
        model = _MODELS[kinds[0]]
        try:
            changes.append(model.model_validate(raw))
        except ValidationError as exc:
            problems.append(format_validation_error(exc, f"{at} ({kinds[0]} {raw.get(kinds[0])})", model))
    if problems:
        raise ScenarioError("\n".join(problems))
    if top.study.strip().lower() == "demo":
        study = None
    else:
        study = Path(top.study)
        if not study.is_absolute():
            study = ((source.parent if source else Path.cwd()) / study).resolve()
        if study.is_dir():
            study = study / "study.yaml"
        if not study.is_file():
            raise ScenarioError(f"{where}: study: base study not found: {study} "
                                f"(a path relative to the scenario file, or 'demo')")
    try:
        _system_of(top.crs)
    except CRSError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    return Scenario(name=top.name, description=top.description, study=study, crs=top.crs,
                    max_road_m=top.max_road_m, changes=changes, source=source)


ID_KEYS = frozenset({"add", "relocate", "close", "into", "upgrade", "expand"})  # their values are facility ids


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file (not yet checked against its study)."""
    path = Path(path).resolve()
    try:
        data = read_yaml(path, "scenario file", ID_KEYS)
    except HealthreachError as exc:
        raise ScenarioError(str(exc)) from None
    return parse_scenario(data, path)


# --- checks against the study --------------------------------------------------------------------------

def _known_types(profile: Profile) -> list[str]:
    return sorted({t for group in profile.groups.values() for t in group.types})


def _suggest(ref: str, ids: list[str], names: list[str]) -> str:
    """' did you mean A (name), B (name)?' from ids and names close to ``ref``."""
    by_name = dict(zip(names, ids))
    if ref in by_name:
        return f" '{ref}' is the name of {by_name[ref]}: refer to facilities by id"
    def plain(text: str) -> str:  # 'thc1' and 'THC01' are the same id to a reader
        return re.sub(r"\d+", lambda m: str(int(m.group())), text.strip().upper())

    close = [i for i in ids if plain(i) == plain(ref)]
    close += [i for i in difflib.get_close_matches(ref, ids, n=4, cutoff=0.5) if i not in close]
    close += [by_name[n] for n in difflib.get_close_matches(ref, names, n=3, cutoff=0.5) if by_name[n] not in close]
    name_of = dict(zip(ids, names))
    if close:
        return " did you mean " + ", ".join(f"{c} ({name_of[c]})" for c in close[:4]) + "?"
    sample = ", ".join(ids[:5])
    return f" ids look like {sample}{', ...' if len(ids) > 5 else ''} ({len(ids)} facilities)"


def _type_problem(kind: str, value: str, profile: Profile, type_map: dict[str, str] | None = None) -> str | None:
    """None when ``value`` (a type id, a Chinese or English name, or a ``type_map`` name) is one of the
    profile's group types; else what is wrong."""
    known = _known_types(profile)
    if facility_type(value, type_map) in known:
        return None
    close = difflib.get_close_matches(value, known, n=2, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return (f"type '{value}' is not a facility type of profile '{profile.name}'; {hint}"
            f"known types: {', '.join(known)} (or their Chinese names, e.g. 乡镇卫生院, 社区卫生服务中心, 村卫生室; "
            f"see docs/study-file.md)")


def check_changes(scenario: Scenario, facilities: pd.DataFrame, profile: Profile,
                  table: str = "the facility table", type_map: dict[str, str] | None = None) -> None:
    """Check ids, types and contradictions (no geometry needed); raise one ScenarioError listing every problem.

    ``facilities`` needs the study's ``id``, ``name`` and ``type`` columns;
    ``table`` names the facility file in messages; ``type_map`` is the
    study's ``facilities.type_map`` (types may also be Chinese names).
    """
    ids = facilities["id"].astype(str).tolist()
    names = facilities["name"].astype(str).tolist()
    known: dict[str, int | None] = dict.fromkeys(ids)   # id -> change that added it (None: baseline)
    closed: dict[str, int] = {}
    relocated: dict[str, int] = {}
    merged_into: dict[str, int] = {}                      # facility id -> close change merging into it
    set_by: dict[tuple[str, str], tuple[int, Any]] = {}
    problems: list[str] = []

    def say(i: int, text: str) -> None:
        problems.append(f"{scenario.where}: {scenario.label(i)}: {text}")

    def exists(i: int, ref: str, role: str = "") -> bool:
        if ref in known:
            return True
        all_ids = ids + [k for k, v in known.items() if v is not None]
        all_names = names + [c.name for c in scenario.changes[:i] if isinstance(c, Add)]
        say(i, f"no facility with id '{ref}'{role} in {table};" + _suggest(ref, all_ids, all_names))
        return False

    def settle(i: int, ref: str, attr: str, value: Any) -> None:
        if value is None:
            return
        earlier = set_by.get((ref, attr))
        if earlier and earlier[1] != value:
            say(i, f"sets {attr} of {ref} to {value!r}, but {scenario.label(earlier[0])} set it to "
                   f"{earlier[1]!r}; keep one value")
        set_by[(ref, attr)] = (i, value)

    for i, change in enumerate(scenario.changes):
        ref = change.ref
        if isinstance(change, Add):
            if ref in known:
                origin = known[ref]
                what = (f"already exists in {table}" if origin is None
                        else f"is already added by {scenario.label(origin)}")
                say(i, f"id '{ref}' {what}; give the new facility its own id")
            else:
                known[ref] = i
            problem = _type_problem("add", change.type, profile, type_map)
            if problem:
                say(i, problem)
            continue
        if not exists(i, ref):
            continue
        if ref in closed:
            say(i, f"{ref} is closed by {scenario.label(closed[ref])} and cannot be changed afterwards; "
                   f"drop one of the two changes or reorder them")
            continue
        if isinstance(change, Relocate):
            if known[ref] is not None:
                say(i, f"{ref} is added by {scenario.label(known[ref])}; give the final site in that add "
                       f"instead of relocating it")
            elif ref in relocated:
                say(i, f"relocates {ref} a second time ({scenario.label(relocated[ref])} moves it already); "
                       f"keep one relocation with the final site")
            relocated[ref] = i
            settle(i, ref, "beds", change.beds)
            settle(i, ref, "ambulances", change.ambulances)
            settle(i, ref, "name", change.name)
        elif isinstance(change, Close):
            if known[ref] is not None:
                say(i, f"closes {ref}, which {scenario.label(known[ref])} adds; drop both changes")
            if ref in merged_into:
                say(i, f"closes {ref}, into which {scenario.label(merged_into[ref])} merges another facility; "
                       f"merge into a facility that stays open")
            if change.into is not None:
                if change.into == ref:
                    say(i, f"{ref} cannot merge into itself")
                elif exists(i, change.into, " (into)"):
                    if change.into in closed:
                        say(i, f"merges into {change.into}, which {scenario.label(closed[change.into])} closes")
                    merged_into[change.into] = i
            closed[ref] = i
        elif isinstance(change, Upgrade):
            if change.type is not None:
                problem = _type_problem("upgrade", change.type, profile, type_map)
                if problem:
                    say(i, problem)
            settle(i, ref, "type", None if change.type is None else facility_type(change.type, type_map))
            settle(i, ref, "emergency", change.emergency)
            settle(i, ref, "name", change.name)
        elif isinstance(change, Expand):
            settle(i, ref, "beds", change.beds)
            settle(i, ref, "ambulances", change.ambulances)
    if problems:
        raise ScenarioError("\n".join(problems))


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


def _system_of(value: str) -> str | pyproj.CRS:
    """'gcj02' / 'bd09' / 'wgs84', or a pyproj CRS."""
    name = datum_name(value)
    if name in ("wgs84", "cgcs2000", "gcj02", "bd09"):
        return name
    return parse_crs(value, "crs")


def _as_given(loc: Location) -> tuple[float, float]:
    return (loc.lon, loc.lat) if loc.geographic else (loc.x, loc.y)


@functools.lru_cache(maxsize=16)
def _transformer(source: str, target: str) -> pyproj.Transformer:
    """A (cached: building one from WKT takes ~0.1 s) lon/lat-ordered transformer between two CRSs."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def _to_analysis(a: float, b: float, system: str | pyproj.CRS, crs: str) -> tuple[float, float, float, float]:
    """(x, y) in the analysis CRS and (lon, lat) in WGS84 of a point given in ``system``."""
    if isinstance(system, str):
        lon, lat = (float(v) for v in to_wgs84(a, b, system))
    else:
        lon, lat = _transformer(system.to_wkt(), "EPSG:4326").transform(a, b)
    x, y = _transformer("EPSG:4326", crs).transform(lon, lat)
    return float(x), float(y), float(lon), float(lat)


def locate(scenario: Scenario, inputs: StudyInputs) -> dict[int, Site]:
    """The site of every add and relocate (by change index), checked against the study area and the roads.

    Raises one :class:`ScenarioError` listing every site that is out of range,
    looks swapped, lies outside the study area (unless ``allow_outside``) or
    lies farther than ``max_road_m`` from a road.
    """
    towns = inputs.boundaries

    def inside_area(x: float, y: float) -> bool:  # on a boundary (to 1 m) counts as inside
        return len(towns.sindex.query(shapely.Point(x, y), predicate="dwithin", distance=1.0)) > 0

    names = dict(zip(inputs.facilities["id"], inputs.facilities["name"]))
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
            system = _system_of(system_text)
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
            x, y, lon, lat = _to_analysis(a, b, system, inputs.crs)
        except (CRSError, pyproj.exceptions.ProjError) as exc:
            say(i, f"{loc.text()} cannot be converted from {system_text}: {exc}")
            continue
        inside = inside_area(x, y)
        if not inside:
            try:
                sx, sy, _, _ = _to_analysis(b, a, system, inputs.crs)
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


# --- applying changes ------------------------------------------------------------------------------------

_INTEGER_COLUMNS = ("beds", "ambulances", "row", "seg_walk", "seg_drive")
_SITE_COLUMNS = ("x", "y", "lon", "lat", "seg_walk", "along_walk_m", "snap_walk_m",
                 "seg_drive", "along_drive_m", "snap_drive_m")


def apply_changes(scenario: Scenario, inputs: StudyInputs, sites: dict[int, Site],
                  facilities: gpd.GeoDataFrame | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The changed facility table and one row per change (what moved where).

    Baseline rows stay in place, with every column of the study's table; new
    facilities are appended (``row`` 0: in no file; columns a change does not
    set are empty). The table gets a ``status`` column (``added``,
    ``relocated``, ``closed``, ``upgraded``, ``expanded``, ``merged_in``,
    joined by ``+``; empty when unchanged) and ``merged_into``. The change
    table has ``change`` (1-based), ``kind``, ``id``, ``name``, ``x0, y0``
    (old site, metres) and ``x1, y1`` (new site).
    """
    base = inputs.facilities if facilities is None else facilities
    cols = {c: base[c].tolist() for c in base.columns if c != base.geometry.name}
    cols["status"] = [""] * len(base)
    cols["merged_into"] = [""] * len(base)
    row_of = {fid: k for k, fid in enumerate(cols["id"])}
    log = []

    def type_of(name: str) -> str:  # Chinese names and the study's type_map read as the profile's ids
        return facility_type(name, inputs.study.facilities.type_map)

    def mark(k: int, status: str) -> None:
        cols["status"][k] = status if not cols["status"][k] else f"{cols['status'][k]}+{status}"

    def place(k: int, site: Site) -> None:
        for c in _SITE_COLUMNS:
            if c in cols:
                cols[c][k] = getattr(site, c)

    for i, change in enumerate(scenario.changes):
        kind = kind_of(change)
        if isinstance(change, Add):
            site = sites[i]
            k = len(cols["id"])
            values = {"id": change.add, "name": change.name, "type": type_of(change.type), "beds": change.beds,
                      "ambulances": change.ambulances, "emergency": change.emergency, "row": 0,
                      "status": "added", "merged_into": ""}
            for c, column in cols.items():
                column.append(values.get(c))
            place(k, site)
            row_of[change.add] = k
            log.append((i + 1, kind, change.add, change.name, np.nan, np.nan, site.x, site.y))
            continue
        k = row_of[change.ref]
        x0, y0 = cols["x"][k], cols["y"][k]
        if isinstance(change, Relocate):
            place(k, sites[i])
            for c in ("name", "beds", "ambulances"):
                if getattr(change, c) is not None:
                    cols[c][k] = getattr(change, c)
            mark(k, "relocated")
            log.append((i + 1, kind, change.ref, cols["name"][k], x0, y0, cols["x"][k], cols["y"][k]))
            continue
        if isinstance(change, Close):
            if change.into is not None:
                j = row_of[change.into]
                cols["beds"][j] += cols["beds"][k]
                cols["ambulances"][j] += cols["ambulances"][k]
                cols["merged_into"][k] = change.into
                mark(j, "merged_in")
            cols["type"][k], cols["emergency"][k], cols["beds"][k], cols["ambulances"][k] = CLOSED_TYPE, False, 0, 0
            mark(k, "closed")
        elif isinstance(change, Upgrade):
            for c in ("type", "emergency", "name"):
                if getattr(change, c) is not None:
                    cols[c][k] = type_of(change.type) if c == "type" else getattr(change, c)
            mark(k, "upgraded")
        elif isinstance(change, Expand):
            for c in ("beds", "ambulances"):
                if getattr(change, c) is not None:
                    cols[c][k] = getattr(change, c)
            mark(k, "expanded")
        log.append((i + 1, kind, change.ref, cols["name"][k], x0, y0, np.nan, np.nan))

    for c in _INTEGER_COLUMNS:
        if c in cols:
            cols[c] = np.asarray(cols[c]).astype(np.int64)
    cols["emergency"] = np.asarray(cols["emergency"]).astype(bool)
    frame = pd.DataFrame(cols)  # typed before it is built: converting column by column is slow in pandas
    changed = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=base.crs)
    moves = pd.DataFrame(log, columns=["change", "kind", "id", "name", "x0", "y0", "x1", "y1"])
    return changed, moves


# --- evaluation ----------------------------------------------------------------------------------------------

@dataclass
class Baseline:
    """A study's baseline audit and the travel updater scenarios are evaluated with."""

    inputs: StudyInputs
    audit: Audit
    updater: TravelUpdater
    seconds: float = 0.0

    @classmethod
    def build(cls, inputs: StudyInputs) -> Baseline:
        """Compute the baseline surfaces (one full pass) and audit them."""
        start = time.perf_counter()
        updater = TravelUpdater(inputs)
        result = run_audit(inputs, inputs.facilities, updater.travel)
        return cls(inputs, result, updater, time.perf_counter() - start)


@dataclass
class ScenarioResult:
    """A scenario evaluated against its baseline.

    ``standards``, ``townships`` and ``facilities`` are the comparison tables
    (see :func:`compare_audits`); ``gained`` / ``lost`` mark the cells that
    enter / leave the primary-care circle; ``flows`` the people whose nearest
    primary-care facility changes (from, to, people).
    """

    scenario: Scenario
    baseline: Audit
    audit: Audit
    moves: pd.DataFrame
    standards: pd.DataFrame
    townships: pd.DataFrame
    facilities: pd.DataFrame
    flows: pd.DataFrame
    gained: np.ndarray
    lost: np.ndarray
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def newly_covered(self) -> float:
        """People who enter the primary-care circle."""
        return float(self.audit.inputs.cells.people[self.gained].sum())

    @property
    def lose_coverage(self) -> float:
        """People who leave the primary-care circle."""
        return float(self.audit.inputs.cells.people[self.lost].sum())


def check(scenario: Scenario, inputs: StudyInputs) -> dict[int, Site]:
    """Every check of the scenario against the study; returns the located sites."""
    check_changes(scenario, inputs.facilities, inputs.profile, inputs.study.facilities.path.name,
                  inputs.study.facilities.type_map)
    if not has_ambulance_counts(inputs.study.facilities):
        for i, change in enumerate(scenario.changes):
            if getattr(change, "ambulances", None):
                raise ScenarioError(f"{scenario.where}: {scenario.label(i)}: sets ambulances, but the study's "
                                    f"facility list gives no ambulance counts (facilities.ambulances_column), so "
                                    f"the change would count for nothing; give the study its ambulance counts")
    return locate(scenario, inputs)


def evaluate(scenario: Scenario, base: Baseline, incremental: bool = True) -> ScenarioResult:
    """Check, apply and evaluate a scenario against a baseline.

    ``incremental=False`` recomputes every travel surface from scratch
    instead of repairing the baseline's (the same result, slower).
    """
    inputs = base.inputs
    t = {"start": time.perf_counter()}
    sites = check(scenario, inputs)
    changed, moves = apply_changes(scenario, inputs, sites)
    t["apply"] = time.perf_counter()
    travel = base.updater.update(changed) if incremental else cell_travel(inputs, changed, base.updater.access)
    t["travel"] = time.perf_counter()
    after = run_audit(inputs, changed, travel)
    t["audit"] = time.perf_counter()
    tables = compare_audits(base.audit, after)
    t["diff"] = time.perf_counter()
    keys = list(t)
    seconds = {k: t[k] - t[prev] for prev, k in itertools.pairwise(keys)}
    return ScenarioResult(scenario, base.audit, after, moves, *tables, seconds=seconds)


# --- the diff ----------------------------------------------------------------------------------------------

def cell_masks(result: Audit) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per standard with a per-cell test: (cell meets it, standard applies to the cell).

    Mirrors :func:`healthreach.standards.audit`, so ``people[ok & applies]``
    sums to each figure's covered population (checked by the tests).
    """
    inp = result.inputs
    s = inp.profile.standards
    urban = inp.cells.urban
    every = np.ones(len(urban), bool)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if s.primary_care_15min:
        out["primary_care_15min"] = (result.primary_s <= s.primary_care_15min.threshold_min * 60, every)
    for area, spec in (("urban", s.emergency_radius_urban), ("rural", s.emergency_radius_rural)):
        if not spec:
            continue
        dist = result.travel[Need(spec.group, "ambulance", "length", "from")].cost
        for radius in spec.radii_m:
            sid = f"emergency_radius_{area}" + ("" if len(spec.radii_m) == 1 else f"_{radius / 1000:g}km")
            out[sid] = (dist <= radius, urban if area == "urban" else ~urban)
    if s.emergency_response_18min:
        r = s.emergency_response_18min
        response = (result.travel[Need(r.group, "ambulance", "time", "from")].cost
                    + inp.profile.travel.dispatch_delay_min * 60)
        out["emergency_response_18min"] = (response <= r.threshold_min * 60, every)
    if s.tertiary_hospital_1h:
        t = s.tertiary_hospital_1h
        out["tertiary_hospital_1h"] = (result.travel[Need(t.group, "drive", "time", "to")].cost
                                       <= t.threshold_min * 60, every)
    return out


def _baseline_masks(before: Audit) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`cell_masks` of a baseline audit, computed once while scenarios are compared with it.

    Kept on the audit's inputs for the last baseline asked for.
    """
    return before.inputs.memo("baseline_cell_masks", (before,), lambda: cell_masks(before))


def compare_audits(before: Audit, after: Audit) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame,
                                                          pd.DataFrame, np.ndarray, np.ndarray]:
    """Tables comparing two audits of one study (baseline, scenario).

    Returns
    -------
    standards : one row per standard: value (share of people, or ambulances
        available / required) before, after and the change; people covered
        before, after and the change; people newly covered and losing
        coverage; pass before and after.
    townships : per township, every share before, after and the change, and
        the people newly covered / losing primary-care coverage.
    facilities : per facility, status, type, beds, ambulances and catchment
        population (nearest-facility allocation) before and after; for a
        facility others merge into, ``merged_in_people``: the baseline
        catchment of the closed facilities it takes over.
    flows : people whose nearest primary-care facility changes (from_id, to_id, people).
    gained, lost : bool per cell, entering / leaving the primary-care circle.
    """
    inp = after.inputs
    people = inp.cells.people
    masks_before, masks_after = _baseline_masks(before), cell_masks(after)
    rows: list[dict] = []
    shown: set[str] = set()  # detail rows, each once (both ambulance ratios share one count)
    for fb, fa in zip(before.figures, after.figures):
        row = {"standard": fb.id, "title": fb.title, "unit": fb.unit,
               "baseline": fb.share, "scenario": fa.share,
               "change": None if fb.share is None or fa.share is None else fa.share - fb.share,
               "baseline_people": fb.covered, "scenario_people": fa.covered,
               "change_people": None if fb.covered is None or fa.covered is None else fa.covered - fb.covered,
               "newly_covered_people": None, "lose_coverage_people": None,
               "target": fb.target, "baseline_pass": fb.passed, "scenario_pass": fa.passed}
        if fb.id in masks_before:
            (ok0, applies), (ok1, _) = masks_before[fb.id], masks_after[fb.id]
            row["newly_covered_people"] = float(people[ok1 & ~ok0 & applies].sum())
            row["lose_coverage_people"] = float(people[ok0 & ~ok1 & applies].sum())
        elif fb.id == "village_clinic_800" and before.village_table is not None and after.village_table is not None:
            # villages, not cells: a large village is covered while it does not need a clinic
            pop = before.village_table["population"].to_numpy(float)
            large = pop >= inp.profile.standards.village_clinic_800.min_population
            ok0 = large & ~before.village_table["needs_clinic"].to_numpy(bool)
            ok1 = large & ~after.village_table["needs_clinic"].to_numpy(bool)
            row["newly_covered_people"] = float(pop[ok1 & ~ok0].sum())
            row["lose_coverage_people"] = float(pop[ok0 & ~ok1].sum())
        rows.append(row)
        for key, unit in (("mean_response_min", "minutes (mean emergency response)"),
                          ("ambulances", "ambulances in the study area")):
            b, a = fb.details.get(key), fa.details.get(key)
            if key in fb.details and key not in shown:
                shown.add(key)
                rows.append({"standard": f"{fb.id}.{key}", "title": fb.title, "unit": unit, "baseline": b,
                             "scenario": a, "change": None if a is None or b is None else a - b})
    standards = pd.DataFrame(rows)
    decimals = {"baseline": 6, "scenario": 6, "change": 6, "baseline_people": 1, "scenario_people": 1,
                "change_people": 1, "newly_covered_people": 1, "lose_coverage_people": 1}
    standards = pd.DataFrame({c: standards[c].to_numpy(float).round(decimals[c]) if c in decimals else standards[c]
                              for c in standards.columns})  # rebuilt at once: column by column is slow in pandas

    # townships
    tb, ta = before.townships, after.townships
    town_cols: dict[str, Any] = {k: tb[k] for k in ("township_id", "name", "area_class", "people")}
    for c in (c for c in tb.columns if c.endswith("_share")):
        town_cols[f"{c}_baseline"] = tb[c].to_numpy()
        town_cols[f"{c}_scenario"] = ta[c].to_numpy()
        town_cols[f"{c}_change"] = (ta[c].to_numpy() - tb[c].to_numpy()).round(4)
    gained = lost = np.zeros(len(people), bool)
    if "primary_care_15min" in masks_before:
        ok0, ok1 = masks_before["primary_care_15min"][0], masks_after["primary_care_15min"][0]
        gained, lost = ok1 & ~ok0, ok0 & ~ok1
        n = len(tb)
        town = inp.cells.township
        town_cols["newly_covered_people"] = np.bincount(town[gained], weights=people[gained], minlength=n).round(1)
        town_cols["lose_coverage_people"] = np.bincount(town[lost], weights=people[lost], minlength=n).round(1)
    towns = pd.DataFrame(town_cols, index=tb.index)  # built at once: column by column is slow in pandas

    # facilities
    fb_tab, fa_tab = before.facility_table, after.facility_table
    nb, na = len(fb_tab), len(fa_tab)

    def before_col(c: str, dtype: type = float) -> np.ndarray:
        """A baseline column extended to the scenario's rows (NaN for added facilities)."""
        col = fb_tab[c].to_numpy(dtype) if c in fb_tab else np.full(nb, np.nan)
        return np.r_[col, np.full(na - nb, np.nan, dtype=dtype)]

    changed = after.facilities
    fac_ids = fa_tab["id"].to_numpy()
    fac_cols: dict[str, Any] = {"id": fac_ids, "name": fa_tab["name"].to_numpy(),
                                "status": changed["status"].to_numpy() if "status" in changed else "",
                                "type_before": before_col("type", object), "type_after": fa_tab["type"].to_numpy()}
    if "merged_into" in changed:
        # a merged facility answers for the closed one's people: its baseline catchment is counted here
        into = changed["merged_into"].to_numpy(str)
        fac_cols["merged_into"] = into
        merged_in = np.zeros(na)
        if (into != "").any():
            reach0 = before.primary_facility >= 0
            catch0 = np.bincount(before.primary_facility[reach0], weights=people[reach0], minlength=na)
            row_of = {fid: k for k, fid in enumerate(fac_ids)}
            for k in np.flatnonzero(into != ""):
                merged_in[row_of[into[k]]] += catch0[k]
        fac_cols["merged_in_people"] = merged_in.round(0)
    for c in ("beds", "ambulances", "catchment_people", "catchment_people_15min", "emergency_catchment_people"):
        if c not in fa_tab:
            continue
        b, a = before_col(c), fa_tab[c].to_numpy(float)
        fac_cols[f"{c}_before"], fac_cols[f"{c}_after"] = b, a
        fac_cols[f"{c}_change"] = np.where(np.isnan(a) & ~np.isnan(b), -b,
                                           np.where(np.isnan(b) & ~np.isnan(a), a, a - b))
    fac = pd.DataFrame(fac_cols)

    # flows between catchments
    f0, f1 = before.primary_facility, after.primary_facility
    moved = f0 != f1
    moved[moved] = people[moved] > 0  # only the few cells that move need the test
    ids = np.r_[fa_tab["id"].to_numpy(dtype=object), np.array(["(none)"], dtype=object)]
    if moved.any():
        key = (f0[moved] + 1) * (na + 1) + (f1[moved] + 1)
        uniq, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse, weights=people[moved])
        src, dst = np.divmod(uniq, na + 1)
        flows = pd.DataFrame({"from_id": ids[src - 1], "to_id": ids[dst - 1], "people": sums.round(1)})
        flows = flows.sort_values("people", ascending=False, ignore_index=True)
    else:
        flows = pd.DataFrame({"from_id": [], "to_id": [], "people": []})
    return standards, towns, fac, flows, gained, lost


# --- outputs -----------------------------------------------------------------------------------------------

def _records(frame: pd.DataFrame) -> list[dict]:
    return json_safe(frame.astype(object).where(frame.notna(), None).to_dict("records"))


def change_dicts(scenario: Scenario) -> list[dict]:
    """Each change as a plain mapping, with its 1-based number and kind."""
    return [{"change": i + 1, "kind": kind_of(c), **c.model_dump(mode="json", exclude_none=True)}
            for i, c in enumerate(scenario.changes)]


def comparison(result: ScenarioResult) -> dict:
    """The whole comparison as one JSON-ready mapping."""
    inp = result.audit.inputs
    return json_safe({
        "scenario": result.scenario.name,
        "description": result.scenario.description,
        "file": str(result.scenario.source) if result.scenario.source else None,
        "study": inp.study.name,
        "input_hash": inp.input_hash,
        "inputs": {role: source.as_dict() for role, source in describe_inputs(inp.study).items()},
        "healthreach_version": __version__,
        "population": {"baseline": round(result.baseline.inputs.total_people), "scenario": round(inp.total_people)},
        "primary_care": {"newly_covered_people": round(result.newly_covered),
                         "lose_coverage_people": round(result.lose_coverage),
                         "net_people": round(result.newly_covered - result.lose_coverage)},
        "changes": change_dicts(result.scenario),
        "standards": _records(result.standards),
        "townships": _records(result.townships),
        "facilities": _records(result.facilities[result.facilities["status"] != ""]),
        "flows": _records(result.flows.head(100)),
        "seconds": {k: round(v, 4) for k, v in result.seconds.items()},
        "warnings": inp.warnings,
    })


def change_layers(result: ScenarioResult) -> dict[str, gpd.GeoDataFrame]:
    """GeoDataFrames (analysis CRS) for changes.gpkg: gained and lost cells, moves, new and closed sites."""
    inp = result.audit.inputs
    grid, cells = inp.grid, inp.cells
    town_ids = inp.boundaries["id"].to_numpy()
    layers = {}
    for name, mask in (("gained_cells", result.gained), ("lost_cells", result.lost)):
        sel = mask & (cells.people > 0)
        layers[name] = cell_squares(grid, cells.flat[sel], people=cells.people[sel].round(2),
                                    township=town_ids[cells.township[sel]],
                                    minutes_before=(result.baseline.primary_s[sel] / 60).round(2),
                                    minutes_after=(result.audit.primary_s[sel] / 60).round(2))
    m = result.moves
    moved = m[m["kind"] == "relocate"]
    layers["moves"] = gpd.GeoDataFrame(
        moved[["change", "id", "name"]].reset_index(drop=True),
        geometry=shapely.linestrings(np.stack([moved[["x0", "y0"]].to_numpy(float),
                                               moved[["x1", "y1"]].to_numpy(float)], axis=1))
        if len(moved) else [], crs=inp.crs)
    for name, kind, xs, ys in (("added", "add", "x1", "y1"), ("closed", "close", "x0", "y0")):
        sel = m[m["kind"] == kind].reset_index(drop=True)
        layers[name] = gpd.GeoDataFrame(sel[["change", "id", "name"]],
                                        geometry=gpd.points_from_xy(sel[xs], sel[ys]), crs=inp.crs)
    return layers


def input_paths(scenario: Scenario, study: StudyFile) -> list[Path]:
    """Every file a scenario evaluation reads: the scenario file and its base study's inputs."""
    from healthreach.outputs import study_input_paths

    return [*([scenario.source] if scenario.source else []), *study_input_paths(study)]


def write_outputs(result: ScenarioResult, out_dir: Path, map_html: str | None = None,
                  force: bool = False) -> dict[str, Path]:
    """Publish comparison.json, standards/townships/facilities/flows CSVs, changes.gpkg (and map.html)
    as the owned folder ``out_dir``, all together (see :mod:`healthreach.outputs`); returns name -> path."""
    from healthreach.cache import cache_key
    from healthreach.outputs import check_output, publish

    study = result.audit.inputs.study
    sources = input_paths(result.scenario, study)
    out_dir = check_output(out_dir, sources, force=force,
                           name=f"scenarios/{result.scenario.source.stem if result.scenario.source else 'scenario'}")
    tables = {"standards.csv": result.standards, "townships.csv": result.townships,
              "facilities.csv": result.facilities, "flows.csv": result.flows}
    key = cache_key("scenario", result.audit.inputs.input_hash, *sources[:1])
    with publish(out_dir, "scenario", key) as stage:
        written = write_files(stage, {"comparison.json": comparison(result)}, tables,
                              ("changes.gpkg", change_layers(result)), map_html)
    return {name: out_dir / path.name for name, path in written.items()}


# --- several scenarios side by side ----------------------------------------------------------------------

def check_standard(by: str, audit: Audit) -> None:
    """Raise a ScenarioError unless ``by`` names one of the audit's standards."""
    ids = [f.id for f in audit.figures]
    if by not in ids:
        close = difflib.get_close_matches(by, ids, n=1)
        raise ScenarioError(f"--by: no standard '{by}'" + (f"; did you mean '{close[0]}'?" if close else "")
                            + f" (standards: {', '.join(ids)})")


def compare_table(results: list[ScenarioResult], by: str = "primary_care_15min") -> pd.DataFrame:
    """One row per scenario (and the baseline), ranked by standard ``by`` (highest value first).

    Columns: rank, scenario, file, the ``by`` value and its change, people
    newly covered / losing primary-care coverage, then every standard's value.
    """
    if not results:
        raise ScenarioError("no scenarios to compare")
    base = results[0].baseline
    check_standard(by, base)
    ids = [f.id for f in base.figures]
    rows = [{"scenario": "(baseline)", "file": "", by: base.figure(by).share, f"{by}_change": 0.0,
             "newly_covered_people": 0.0, "lose_coverage_people": 0.0,
             **{i: base.figure(i).share for i in ids if i != by}}]
    for r in results:
        value = r.audit.figure(by).share
        b = r.baseline.figure(by).share
        rows.append({"scenario": r.scenario.name, "file": r.scenario.source.name if r.scenario.source else "",
                     by: value, f"{by}_change": None if value is None or b is None else value - b,
                     "newly_covered_people": round(r.newly_covered, 1),
                     "lose_coverage_people": round(r.lose_coverage, 1),
                     **{i: r.audit.figure(i).share for i in ids if i != by}})
    table = pd.DataFrame(rows)
    for c in [by, f"{by}_change", *(i for i in ids if i != by)]:
        table[c] = table[c].astype(float).round(6)
    order = table.assign(_v=table[by].astype(float).fillna(-np.inf)).sort_values(
        ["_v", "newly_covered_people"], ascending=[False, False], kind="stable").index
    table = table.loc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def baseline_for(scenarios: list[Scenario]) -> StudyFile:
    """The one study several scenarios share, or a ScenarioError naming the ones that differ."""
    studies = {s.study or DEMO_STUDY for s in scenarios}
    if len(studies) > 1:
        listed = "; ".join(f"{s.where}: {s.study or DEMO_STUDY}" for s in scenarios)
        raise ScenarioError(f"scenarios compared together must share one base study; got {listed}")
    return scenarios[0].load_study()

