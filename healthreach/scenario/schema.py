"""The scenario file format: its changes (add, relocate, close, upgrade, expand), parsed and validated.

Only the file itself is checked here; ids, types and sites are checked against
the study by :mod:`healthreach.scenario.checks` and :mod:`healthreach.scenario.sites`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyproj
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, ValidationError, model_validator

from healthreach.crs import datum_name, parse_crs
from healthreach.errors import CRSError, HealthreachError, ScenarioError
from healthreach.messages import Message, message_lines
from healthreach.study import StudyFile, format_validation_error, load_study, read_yaml

KINDS = ("add", "relocate", "close", "upgrade", "expand")
CLOSED_TYPE = "closed"


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
            msg = "give either lon/lat or x/y, not both"
            raise ValueError(msg)
        if geo and (self.lon is None or self.lat is None):
            msg = "give both lon and lat"
            raise ValueError(msg)
        if proj and (self.x is None or self.y is None):
            msg = "give both x and y"
            raise ValueError(msg)
        if not (geo or proj):
            msg = "give lon/lat (degrees) or x/y (metres, with crs: EPSG:....)"
            raise ValueError(msg)
        return self

    @property
    def geographic(self) -> bool:
        """Whether the site is given as lon/lat degrees (else as projected x/y metres)."""
        return self.lon is not None

    def text(self) -> str:
        """The site as messages show it: 'lon 107.7, lat 29.3' or 'x 500000, y 3300000'."""
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
        """The id of the facility the change is about."""
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
        """The id of the facility the change is about."""
        return self.relocate


class Close(_Strict):
    """An existing facility closed; ``into``: the facility it merges into (takes its beds and ambulances)."""

    close: str = Field(min_length=1)
    into: str | None = None
    note: str = ""

    @property
    def ref(self) -> str:
        """The id of the facility the change is about."""
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
            msg = "an upgrade needs type:, emergency: or name:"
            raise ValueError(msg)
        return self

    @property
    def ref(self) -> str:
        """The id of the facility the change is about."""
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
            msg = "an expansion needs beds: and/or ambulances:"
            raise ValueError(msg)
        return self

    @property
    def ref(self) -> str:
        """The id of the facility the change is about."""
        return self.expand


Change = Add | Relocate | Close | Upgrade | Expand
_MODELS: dict[str, type[Change]] = {"add": Add, "relocate": Relocate, "close": Close,
                                     "upgrade": Upgrade, "expand": Expand}


def kind_of(change: Change) -> str:
    """The change's kind: add, relocate, close, upgrade or expand."""
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
        """How messages name the scenario: its file, or 'scenario'."""
        return str(self.source) if self.source else "scenario"

    def label(self, i: int) -> str:
        """How messages name change ``i`` (0-based): 'change 3 (relocate THC07)'."""
        change = self.changes[i]
        return f"change {i + 1} ({kind_of(change)} {change.ref})"

    def load_study(self) -> StudyFile:
        """The base study (``study: demo`` is the bundled demo county)."""
        return load_study(self.study)


def coordinate_system(value: str) -> str | pyproj.CRS:
    """The coordinate system a site's ``crs`` names: 'gcj02' / 'bd09' / 'wgs84', or a pyproj CRS."""
    name = datum_name(value)
    if name in ("wgs84", "cgcs2000", "gcj02", "bd09"):
        return name
    return parse_crs(value, "crs")


def parse_changes(raw_changes: list[Any], where: str = "changes") -> list[Change]:
    """Validate a list of changes (mappings as in a scenario file, or change objects); one
    ScenarioError lists every problem.
    """
    problems: list[str | Message] = []
    changes = []
    for i, raw in enumerate(raw_changes):
        at = f"{where}: change {i + 1}"
        if isinstance(raw, Add | Relocate | Close | Upgrade | Expand):
            changes.append(raw)
            continue
        if not isinstance(raw, dict):
            problems.append(f"{at}: expected a mapping such as {{relocate: THC07, to: {{lon: ..., lat: ...}}}}, "
                            f"got {type(raw).__name__}")
            continue
        kinds = [k for k in KINDS if k in raw]
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
        raise ScenarioError(message_lines(problems))
    if not changes:
        msg = f"{where}: no changes given"
        raise ScenarioError(msg)
    return changes


def as_scenario(changes: Scenario | Iterable[Any], name: str = "changes") -> Scenario:
    """A scenario from changes given in code (mappings as in a scenario file, or change objects)."""
    if isinstance(changes, Scenario):
        return changes
    if isinstance(changes, str | bytes | dict):
        msg = (f"scenario: expected a list of changes, such as [{{'relocate': 'THC07', 'to': {{'lon': ..., "
               f"'lat': ...}}}}], got {type(changes).__name__}")
        raise ScenarioError(msg)
    return Scenario(name=name, study=None, changes=parse_changes(list(changes), "scenario"))


def parse_scenario(data: dict[str, Any], source: Path | None = None) -> Scenario:
    """Validate a scenario mapping (as read from YAML); paths are relative to ``source``'s folder."""
    where = str(source) if source else "scenario"
    try:
        top = _File.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, where, _File)) from None
    changes = parse_changes(top.changes, where)
    if top.study.strip().lower() == "demo":
        study = None
    else:
        study = Path(top.study)
        if not study.is_absolute():
            study = ((source.parent if source else Path.cwd()) / study).resolve()
        if study.is_dir():
            study = study / "study.yaml"
        if not study.is_file():
            msg = (
                f"{where}: study: base study not found: {study} "
                f"(a path relative to the scenario file, or 'demo')"
            )
            raise ScenarioError(msg)
    try:
        coordinate_system(top.crs)
    except CRSError as exc:
        msg = f"{where}: {exc}"
        raise ScenarioError(msg) from None
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
