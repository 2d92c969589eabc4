"""Standards profiles: targets, facility groups and travel speeds.

The bundled ``default`` profile holds the values the district plans state
(docs/standards.md). A study names a profile by bundled name or by path.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from healthreach.errors import StudyError
from healthreach.study import Study, check_speeds, format_validation_error, read_yaml

PROFILES = Path(__file__).resolve().parent / "profiles"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Travel(_Strict):
    """Walking speeds (km/h), the ambulance speed factor, dispatch delay (minutes) and snap warning (metres)."""

    walk_kmh: float = Field(4.5, gt=0, le=20)
    access_kmh: float = Field(4.5, gt=0, le=20)
    ambulance_factor: float = Field(1.2, gt=0, le=3)
    dispatch_delay_min: float = Field(3.0, ge=0, le=120)
    far_snap_m: float = Field(500.0, gt=0, le=100_000)


class Group(_Strict):
    """Facilities of these types, plus (optionally) any flagged emergency-capable."""

    types: list[str] = Field(default_factory=list)
    emergency_flag: bool = False


class CircleStandard(_Strict):
    group: str
    threshold_min: float = Field(gt=0, le=24 * 60)
    urban_mode: str = "walk"
    rural_mode: str = "drive"
    target_share: float = Field(ge=0, le=1)


class RadiusStandard(_Strict):
    group: str
    radius_km: float | list[float]
    target_share: float = Field(ge=0, le=1)

    @property
    def radii_m(self) -> list[float]:
        radii = self.radius_km if isinstance(self.radius_km, list) else [self.radius_km]
        return [1000.0 * r for r in radii]


class ResponseStandard(_Strict):
    group: str
    threshold_min: float = Field(gt=0, le=24 * 60)
    target_mean_min: float = Field(gt=0, le=24 * 60)


class AmbulanceRatio(_Strict):
    people_per_ambulance: float = Field(gt=0)
    county_base_factor: float = Field(1.0, gt=0)


class AmbulanceDensity(_Strict):
    per_10k: float = Field(gt=0)


class DriveTimeStandard(_Strict):
    group: str
    threshold_min: float = Field(gt=0, le=24 * 60)
    target_share: float = Field(ge=0, le=1)


class VillageStandard(_Strict):
    """Villages of at least ``min_population`` people need care within the circle."""

    group: str
    min_population: float = Field(800, ge=0)
    threshold_min: float = Field(15, gt=0)
    urban_mode: str = "walk"
    rural_mode: str = "drive"


class Standards(_Strict):
    primary_care_15min: CircleStandard | None = None
    emergency_radius_urban: RadiusStandard | None = None
    emergency_radius_rural: RadiusStandard | None = None
    emergency_response_18min: ResponseStandard | None = None
    ambulances_per_population: AmbulanceRatio | None = None
    ambulances_per_10k: AmbulanceDensity | None = None
    tertiary_hospital_1h: DriveTimeStandard | None = None
    village_clinic_800: VillageStandard | None = None


class Profile(_Strict):
    name: str
    description: str = ""
    travel: Travel = Travel()
    drive_kmh: dict[str, float]
    no_walking: list[str] = Field(default_factory=list)
    groups: dict[str, Group]
    standards: Standards

    @field_validator("drive_kmh")
    @classmethod
    def _speed_range(cls, speeds: dict[str, float]) -> dict[str, float]:
        return check_speeds(speeds)

    def with_speeds(self, overrides: dict[str, float]) -> Profile:
        """A copy whose driving speeds are overridden by a study's ``speeds_kmh``."""
        return self.model_copy(update={"drive_kmh": {**self.drive_kmh, **overrides}})


def load_profile(name_or_path: str, study: Study | None = None) -> Profile:
    """Load a bundled profile by name, or a profile file by path.

    A relative path is looked up beside the study file first. The study's
    ``speeds_kmh`` overrides are applied.
    """
    candidates = [PROFILES / f"{name_or_path}.yaml"]
    if study is not None:
        candidates.insert(0, study.folder / name_or_path)
    candidates.append(Path(name_or_path))
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        bundled = ", ".join(sorted(p.stem for p in PROFILES.glob("*.yaml")))
        where = f"{study.source}: profile" if study and study.source else "profile"
        raise StudyError(f"{where}: no profile '{name_or_path}' (bundled: {bundled}; or give a path to a profile YAML)")
    data = read_yaml(path, "profile file")
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise StudyError(format_validation_error(exc, str(path), Profile)) from None
    for spec_name in ("primary_care_15min", "emergency_radius_urban", "emergency_radius_rural",
                      "emergency_response_18min", "tertiary_hospital_1h", "village_clinic_800"):
        spec = getattr(profile.standards, spec_name)
        if spec is not None and spec.group not in profile.groups:
            raise StudyError(f"{path}: standards.{spec_name}.group: no group '{spec.group}' "
                             f"(defined: {', '.join(profile.groups)})")
    return profile.with_speeds(study.speeds_kmh) if study is not None else profile
