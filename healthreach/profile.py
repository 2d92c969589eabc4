"""Standards profiles: targets, facility groups and travel speeds.

The bundled ``default`` profile holds the values the district plans state
(docs/standards.md). A study names a profile by bundled name or by path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from healthreach.errors import StudyError
from healthreach.messages import Message
from healthreach.study import StudyFile, check_speeds, format_validation_error, read_yaml
from healthreach.vocab import EXPRESSWAYS, NO_CLASS, facility_type, road_class

PROFILES = Path(__file__).resolve().parent / "profiles"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Mode = Literal["walk", "drive", "ambulance"]  # travel modes of the network (healthreach.network.MODES)


class Travel(_Strict):
    """Walking speeds (km/h), the ambulance speed factor, dispatch delay (minutes) and snap warning (metres)."""

    walk_kmh: float = Field(default=4.5, gt=0, le=20)
    access_kmh: float = Field(default=4.5, gt=0, le=20)
    ambulance_factor: float = Field(default=1.2, gt=0, le=3)
    dispatch_delay_min: float = Field(default=3.0, ge=0, le=120)
    far_snap_m: float = Field(default=500.0, gt=0, le=100_000)


class Group(_Strict):
    """Facilities of these types, plus (optionally) any flagged emergency-capable.

    Types are read through the vocabulary (``三甲医院`` is ``tertiary_hospital``,
    as in facility tables); other names, such as OpenStreetMap tag values,
    are kept as written.
    """

    types: list[str] = Field(default_factory=list)
    emergency_flag: bool = False

    @field_validator("types")
    @classmethod
    def _canonical(cls, types: list[str]) -> list[str]:
        return list(dict.fromkeys(facility_type(t) for t in types))


class CircleStandard(_Strict):
    """Care of ``group`` within ``threshold_min`` minutes, by ``urban_mode`` in urban and ``rural_mode`` in rural
    townships (the 15-minute medical circle).
    """

    kind: Literal["circle"] = "circle"
    group: str
    threshold_min: float = Field(gt=0, le=24 * 60)
    urban_mode: Mode = "walk"
    rural_mode: Mode = "drive"
    target_share: float = Field(ge=0, le=1)


class RadiusStandard(_Strict):
    """People of one ``area`` within ``radius_km`` (one or several) of road network from a ``group`` facility."""

    kind: Literal["radius"] = "radius"
    group: str
    area: Literal["urban", "rural"]
    radius_km: float | list[float]
    target_share: float = Field(ge=0, le=1)

    @field_validator("radius_km")
    @classmethod
    def _positive(cls, value: float | list[float]) -> float | list[float]:
        radii = value if isinstance(value, list) else [value]
        if not radii or not all(0 < r <= 500 for r in radii):
            msg = Message("radii are kilometres between 0 and 500 (at least one), got {value}", value=value)
            raise ValueError(msg)
        return value

    @property
    def radii_m(self) -> list[float]:
        """The service radii in metres, in the order given."""
        radii = self.radius_km if isinstance(self.radius_km, list) else [self.radius_km]
        return [1000.0 * r for r in radii]


class ResponseStandard(_Strict):
    """Ambulance response (dispatch delay plus driving from a ``group`` station) within ``threshold_min``,
    and a people-weighted mean response of at most ``target_mean_min``.
    """

    kind: Literal["response"] = "response"
    group: str
    threshold_min: float = Field(gt=0, le=24 * 60)
    target_mean_min: float = Field(gt=0, le=24 * 60)


class AmbulanceRatio(_Strict):
    """One ambulance per ``people_per_ambulance`` people, times ``county_base_factor``."""

    kind: Literal["ambulance_ratio"] = "ambulance_ratio"
    people_per_ambulance: float = Field(gt=0)
    county_base_factor: float = Field(1.0, gt=0)


class AmbulanceDensity(_Strict):
    """``per_10k`` ambulances per 10,000 people."""

    kind: Literal["ambulance_density"] = "ambulance_density"
    per_10k: float = Field(gt=0)


class DriveTimeStandard(_Strict):
    """A ``group`` facility within ``threshold_min`` minutes by one ``mode`` for everyone (drive by default)."""

    kind: Literal["drive_time"] = "drive_time"
    group: str
    threshold_min: float = Field(gt=0, le=24 * 60)
    mode: Mode = "drive"
    target_share: float = Field(ge=0, le=1)
    what: str = "A facility of the group"  # what is reached, as figure titles name it ("Tertiary hospital")


class VillageStandard(_Strict):
    """Villages of at least ``min_population`` people need care within the circle."""

    kind: Literal["villages"] = "villages"
    group: str
    min_population: float = Field(800, ge=0)
    threshold_min: float = Field(15, gt=0)
    urban_mode: Mode = "walk"
    rural_mode: Mode = "drive"


class Tier(_Strict):
    """One tier of the facility hierarchy: its facility group and the modes its catchments are drawn by
    (``urban_mode`` in urban townships, ``rural_mode`` in rural ones).
    """

    group: str
    urban_mode: Mode = "drive"
    rural_mode: Mode = "drive"


class TiersStandard(_Strict):
    """Catchments per tier: each person belongs to the nearest facility of every tier, by that tier's modes.

    ``tiers`` maps a tier name to its group and mode, from the bottom of the
    hierarchy (village clinics) to the top (tertiary hospitals); a facility
    type may belong to one tier only.
    """

    kind: Literal["tiers"] = "tiers"
    tiers: dict[str, Tier] = Field(min_length=1)


Resource = Literal["beds", "doctors", "nurses"]


class Per1000Standard(_Strict):
    """``resource`` (beds, licensed doctors, registered nurses) per 1,000 people, at least ``target_per_1000``."""

    kind: Literal["per_1000"] = "per_1000"
    resource: Resource
    target_per_1000: float = Field(gt=0)


class E2sfcaStandard(_Strict):
    """Enhanced two-step floating catchment access to ``resource`` of ``group`` by ``mode`` (PySAL ``access``).

    ``weight: step`` weighs a trip of at most ``steps_min`` minutes by its
    weight (first step the trip fits, 0 beyond the last); ``weight:
    gaussian`` by exp(-t^2 / (2 sigma^2)) with ``sigma_min``, up to ``max_min``.
    """

    kind: Literal["e2sfca"] = "e2sfca"
    group: str
    resource: Resource
    mode: Mode = "drive"
    weight: Literal["step", "gaussian"] = "step"
    steps_min: dict[float, float] = Field(default_factory=lambda: {10.0: 1.0, 20.0: 0.68, 30.0: 0.22})
    sigma_min: float = Field(default=15.0, gt=0)
    max_min: float = Field(default=30.0, gt=0, le=24 * 60)

    @field_validator("steps_min")
    @classmethod
    def _steps(cls, steps: dict[float, float]) -> dict[float, float]:
        if not steps or not all(0 < t <= 24 * 60 and w >= 0 for t, w in steps.items()):
            msg = Message(
                "steps_min: minutes between 0 and 1440 mapped to weights of at least 0, got {steps}",
                steps=steps)
            raise ValueError(msg)
        return dict(sorted(steps.items()))

    @property
    def reach_min(self) -> float:
        """Minutes beyond which a trip weighs nothing."""
        return max(self.steps_min) if self.weight == "step" else self.max_min


class CapacityStandard(_Strict):
    """People that ``group`` facilities can serve within ``threshold_min`` by ``mode`` when each serves at most
    its capacity: the ``capacity`` column, ``beds`` x ``people_per_bed`` or ``doctors`` x ``people_per_doctor``.

    ``method: max_flow`` gives the largest servable population; ``ordered``
    fills facilities one by one in ``order`` (AccessMod's ordered filling).
    """

    kind: Literal["capacity"] = "capacity"
    group: str
    threshold_min: float = Field(gt=0, le=24 * 60)
    mode: Mode = "drive"
    capacity: Literal["column", "beds", "doctors"] = "beds"
    people_per_bed: float = Field(default=125.0, gt=0)
    people_per_doctor: float = Field(default=333.0, gt=0)
    method: Literal["max_flow", "ordered"] = "max_flow"
    order: Literal["largest_first", "listed"] = "largest_first"
    target_share: float = Field(ge=0, le=1)


StandardSpec = Annotated[CircleStandard | RadiusStandard | ResponseStandard | AmbulanceRatio | AmbulanceDensity
                         | DriveTimeStandard | VillageStandard | TiersStandard | Per1000Standard | E2sfcaStandard
                         | CapacityStandard, Field(discriminator="kind")]
KINDS = ("circle", "radius", "response", "ambulance_ratio", "ambulance_density", "drive_time", "villages", "tiers",
         "per_1000", "e2sfca", "capacity")
# the kind (and the radius area) that the standard ids of the bundled profile imply, so they need no `kind:`
IMPLIED: dict[str, dict[str, str]] = {
    "primary_care_15min": {"kind": "circle"},
    "emergency_radius_urban": {"kind": "radius", "area": "urban"},
    "emergency_radius_rural": {"kind": "radius", "area": "rural"},
    "emergency_response_18min": {"kind": "response"},
    "ambulances_per_population": {"kind": "ambulance_ratio"},
    "ambulances_per_10k": {"kind": "ambulance_density"},
    "tertiary_hospital_1h": {"kind": "drive_time"},
    "village_clinic_800": {"kind": "villages"},
}


class Profile(_Strict):
    """A named set of travel settings, road speeds (km/h), facility groups and the standards to test."""

    name: str
    description: str = ""
    travel: Travel = Travel()
    drive_kmh: dict[str, float]
    no_walking: list[str] = Field(default_factory=list)
    no_access: list[str] = Field(default_factory=list)  # classes entered only at junctions: no point attaches to them
    groups: dict[str, Group]
    standards: dict[str, StandardSpec]  # by standard id, in the order figures are reported

    @field_validator("drive_kmh")
    @classmethod
    def _speed_range(cls, speeds: dict[str, float]) -> dict[str, float]:
        return check_speeds(speeds)

    @model_validator(mode="before")
    @classmethod
    def _expressways_closed(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("drive_kmh"), dict):
            data = {**data, "no_walking": closed_to_walking(data["drive_kmh"], data.get("no_walking") or [])}
        return data

    @field_validator("standards", mode="before")
    @classmethod
    def _implied_kinds(cls, standards: Any) -> Any:
        """Fill in ``kind`` (and a radius's ``area``) that a bundled standard id implies."""
        if not isinstance(standards, dict):
            return standards
        out = {}
        for sid, given in standards.items():
            spec = {**IMPLIED.get(str(sid), {}), **given} if isinstance(given, dict) else given
            if isinstance(spec, dict) and "kind" not in spec:
                msg = Message(
                    "standard '{sid}' needs kind: one of {kinds} (only the bundled ids {implied} imply "
                    "theirs; see docs/standards.md)",
                    sid=sid, kinds=", ".join(KINDS), implied=", ".join(IMPLIED))
                raise ValueError(msg)
            out[sid] = spec
        return out

    @field_validator("standards")
    @classmethod
    def _ids(cls, standards: dict[str, Any]) -> dict[str, Any]:
        for sid in standards:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", sid):
                msg = Message("standard id '{sid}': use lower-case letters, digits and _ (it names columns)", sid=sid)
                raise ValueError(msg)
        return standards

    def with_speeds(self, overrides: dict[str, float], no_walking: Sequence[str] = (), where: str = "study") -> Profile:
        """A copy with a study's ``speeds_kmh`` and ``no_walking`` applied.

        Class names are read through the road vocabulary (``国道: 50`` sets
        ``national``); ``no_walking`` extends the profile's list. Expressways
        stay closed to walking whatever speed they are given.
        """
        speeds: dict[str, float] = {}
        named: dict[str, str] = {}
        for name, kmh in overrides.items():
            cls = road_class(name)
            if cls in speeds and speeds[cls] != kmh:
                msg = Message(
                    "{where}: speeds_kmh: '{named}' ({speeds} km/h) and '{name}' ({kmh} km/h) are both "
                    "the road class '{cls}'; give it one speed",
                    where=where, named=named[cls], speeds=speeds[cls], name=name, kmh=kmh, cls=cls)
                raise StudyError(msg)
            speeds[cls], named[cls] = kmh, name
        drive = {**self.drive_kmh, **speeds}
        extra = [road_class(c) for c in no_walking]
        return self.model_copy(update={"drive_kmh": drive,
                                       "no_walking": closed_to_walking(drive, [*self.no_walking, *extra])})


def closed_to_walking(drive_kmh: dict[str, float], no_walking: list[str]) -> list[str]:
    """``no_walking`` (in order, no repeats) plus every expressway class that ``drive_kmh`` names."""
    out = list(dict.fromkeys(no_walking))
    return out + [c for c in EXPRESSWAYS if c in drive_kmh and c not in out]


def profile_file(name_or_path: str, study: StudyFile | None = None) -> Path | None:
    """The profile file a study uses: beside the study file, bundled by name, or by path; None if none exists."""
    candidates = [PROFILES / f"{name_or_path}.yaml"]
    if study is not None:
        candidates.insert(0, study.folder / name_or_path)
    candidates.append(Path(name_or_path))
    return next((p for p in candidates if p.is_file()), None)


def load_profile(name_or_path: str, study: StudyFile | None = None) -> Profile:
    """Load a bundled profile by name, or a profile file by path.

    A relative path is looked up beside the study file first. The study's
    ``speeds_kmh`` overrides are applied, and its ``no_access`` list, when
    given, replaces the profile's.
    """
    path = profile_file(name_or_path, study)
    if path is None:
        bundled = ", ".join(sorted(p.stem for p in PROFILES.glob("*.yaml")))
        where = Message("{file}: {key}", file=study.source, key="profile") if study and study.source else "profile"
        msg = Message(
            "{where}: no profile '{name_or_path}' (bundled: {bundled}; or give a path to a profile YAML)",
            where=where, name_or_path=name_or_path, bundled=bundled)
        raise StudyError(msg)
    data = read_yaml(path, Message("profile file"))
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise StudyError(format_validation_error(exc, str(path), Profile)) from None
    if not profile.standards:
        msg = Message(
            "{path}: standards: the profile names no standard; give at least one (see the bundled "
            "default profile)",
            path=path)
        raise StudyError(msg)
    for sid, spec in profile.standards.items():
        group = getattr(spec, "group", None)
        if group is not None and group not in profile.groups:
            msg = Message(
                "{path}: standards.{sid}.group: no group '{group}' (defined: {listed})",
                path=path, sid=sid, group=group, listed=", ".join(profile.groups))
            raise StudyError(msg)
        if isinstance(spec, TiersStandard):
            check_tiers(sid, spec, profile, path)
    if study is None:
        return profile
    speeds = dict(study.speeds_kmh)
    if study.roads.default_speed_kmh is not None:
        speeds[NO_CLASS] = study.roads.default_speed_kmh
    if study.no_access is not None:
        profile = profile.model_copy(update={"no_access": [road_class(c) for c in study.no_access]})
    return profile.with_speeds(speeds, study.no_walking, f"{study.source}")


def check_tiers(sid: str, spec: TiersStandard, profile: Profile, path: Path) -> None:
    """Stop unless every tier names a defined group chosen by type only, and no type is in two tiers.

    A facility in two tiers would have two catchments and no single ratio.
    """
    owner: dict[str, str] = {}
    for tier, t in spec.tiers.items():
        where = Message("{file}: {key}", file=path, key=f"standards.{sid}.tiers.{tier}.group")
        group = profile.groups.get(t.group)
        if group is None:
            msg = Message(
                "{where}: no group '{group}' (defined: {listed})",
                where=where, group=t.group, listed=", ".join(profile.groups))
            raise StudyError(msg)
        if group.emergency_flag or not group.types:
            msg = Message(
                "{where}: group '{group}' is chosen by the emergency flag or names no type; a tier's "
                "group lists facility types only, so each facility falls in one tier",
                where=where, group=t.group)
            raise StudyError(msg)
        for ftype in group.types:
            if ftype in owner:
                msg = Message(
                    "{where}: facility type '{ftype}' is in tier '{owner}' and tier '{tier}'; give each "
                    "type one tier",
                    where=where, ftype=ftype, owner=owner[ftype], tier=tier)
                raise StudyError(msg)
            owner[ftype] = tier
