"""The standards of a profile, as units: one class per kind of standard."""

from __future__ import annotations

from healthreach.profile import Profile
from healthreach.standards.ambulances import Ambulances
from healthreach.standards.base import Standard
from healthreach.standards.circle import Circle
from healthreach.standards.drive_time import DriveTime
from healthreach.standards.radius import Radius
from healthreach.standards.response import Response
from healthreach.standards.villages import Villages

UNITS: dict[str, type[Standard]] = {
    "circle": Circle, "radius": Radius, "response": Response, "ambulance_ratio": Ambulances,
    "ambulance_density": Ambulances, "drive_time": DriveTime, "villages": Villages,
}


def build_standards(profile: Profile) -> tuple[Standard, ...]:
    """One unit per entry of the profile's ``standards:``, in its order."""
    return tuple(UNITS[spec.kind](sid, spec) for sid, spec in profile.standards.items())
