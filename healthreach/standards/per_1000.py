"""Beds, licensed doctors and registered nurses per 1,000 people, administratively and by catchment.

Administratively: the resource of the facilities standing in an area divided
by the area's people. By catchment: each facility's resource shared equally
among the people of its tier catchment (the people who use it,
:mod:`healthreach.standards.tiers`), summed over the people of the area and
the tiers; a township served by a hospital across its border gets its share
of that hospital's beds.
"""

from __future__ import annotations

import numpy as np
from typing_extensions import override

from healthreach.profile import Per1000Standard
from healthreach.standards.base import Context, Figure, Standard
from healthreach.standards.tally import Tally
from healthreach.standards.tiers import Tiers

WHAT = {"beds": "beds", "doctors": "licensed (assistant) doctors", "nurses": "registered nurses"}


class Per1000(Standard):
    """``resource`` per 1,000 people against ``target_per_1000``: the district figure, and per township both ways."""

    kind = "per_1000"
    spec: Per1000Standard
    tiers: Tiers | None = None  # the profile's tiers standard, for the ratio by catchment (set by the registry)

    @property
    def unit(self) -> str:
        """The figure's unit."""
        return f"{self.spec.resource} per 1,000 people"

    @override
    def figures(self, tally: Tally, context: Context) -> list[Figure]:
        s, whole, total = self.spec, context.whole, context.total
        title = f"{WHAT[s.resource].capitalize()} per 1,000 people (facilities in the study area)"
        resource = whole.counts(s.resource)
        inside = float(resource[whole.facility_township >= 0].sum())
        if s.resource not in whole.counted:
            return [Figure(self.id, title, total, None, None, s.target_per_1000, None, unit=self.unit,
                           details={s.resource: None, "not_assessed": f"the facility list gives no {s.resource} "
                                                                       f"counts (facilities.{s.resource}_column)"})]
        value = inside / total * 1000 if total > 0 else None
        details: dict[str, float | None] = {s.resource: inside}
        if self.tiers is not None:
            used = float(self.tiers.shared(whole, s.resource).sum())
            details["by_catchment_per_1000"] = round(used / total * 1000, 4) if total > 0 else None
        return [Figure(self.id, title, total, None, value, s.target_per_1000,
                       None if value is None else bool(value >= s.target_per_1000 - 1e-12), unit=self.unit,
                       details=details)]

    def column(self, how: str) -> str:
        """A township column: ``admin`` or ``catchment``."""
        return f"{self.spec.resource}_per_1000_{how}"

    @override
    def township_value_names(self) -> list[str]:
        return [self.column("admin"), *([self.column("catchment")] if self.tiers is not None else [])]

    @override
    def township_values(self, context: Context) -> dict[str, np.ndarray]:
        s, whole = self.spec, context.whole
        if s.resource not in whole.counted:
            return {}
        people = whole.township_people
        located = whole.facility_township >= 0
        admin = np.bincount(whole.facility_township[located], weights=whole.counts(s.resource)[located],
                            minlength=whole.n_townships)
        ways = {"admin": admin}
        if self.tiers is not None:
            ways["catchment"] = self.tiers.shared(whole, s.resource)
        out = {}
        for how, amount in ways.items():
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(people > 0, amount / people * 1000, np.nan)
            out[self.column(how)] = ratio.round(3)
            passed = np.full(len(ratio), None, dtype=object)  # None where the township has nobody
            known = ~np.isnan(ratio)
            passed[known] = (ratio[known] >= s.target_per_1000 - 1e-12).tolist()
            out[f"{self.column(how)}_pass"] = passed
        return out
