"""The standards of a profile, as units: one class per kind of standard."""

from __future__ import annotations

from healthreach.errors import StudyError
from healthreach.messages import Message
from healthreach.profile import Profile
from healthreach.standards.ambulances import Ambulances
from healthreach.standards.base import Standard
from healthreach.standards.capacity import Capacity
from healthreach.standards.circle import Circle
from healthreach.standards.drive_time import DriveTime
from healthreach.standards.e2sfca import E2sfca
from healthreach.standards.per_1000 import Per1000
from healthreach.standards.radius import Radius
from healthreach.standards.response import Response
from healthreach.standards.tiers import Tiers, tiers_of
from healthreach.standards.villages import Villages

UNITS: dict[str, type[Standard]] = {
    "circle": Circle, "radius": Radius, "response": Response, "ambulance_ratio": Ambulances,
    "ambulance_density": Ambulances, "drive_time": DriveTime, "villages": Villages, "tiers": Tiers,
    "per_1000": Per1000, "e2sfca": E2sfca, "capacity": Capacity,
}


def build_standards(profile: Profile) -> tuple[Standard, ...]:
    """One unit per entry of the profile's ``standards:``, in its order.

    Raises a StudyError when two standards would report a figure, or write a
    township column, of the same name: one would silently replace the other.
    """
    units = tuple(UNITS[spec.kind](sid, spec, profile.travel) for sid, spec in profile.standards.items())
    for unit in units:
        if isinstance(unit, Per1000):
            unit.tiers = tiers_of(units)  # the ratio by catchment shares out the tier catchments
    for what, names in ((Message("figure"), lambda u: u.figure_ids()),
                        (Message("township column"), lambda u: [*(c.name for c in u.township_columns()),
                                                                *u.township_value_names()]),
                        (Message("facility column"), lambda u: u.facility_value_names())):
        owner: dict[str, str] = {}
        for unit in units:
            for name in names(unit):
                if name in owner:
                    msg = Message("profile '{profile}': standards '{owner}' and '{id}' would both write the {what} "
                                  "'{name}'; rename one of them (columns are named from the id without its threshold, "
                                  "plus the threshold)", profile=profile.name, owner=owner[name], id=unit.id,
                                  what=what, name=name)
                    raise StudyError(msg)
                owner[name] = unit.id
    return units
