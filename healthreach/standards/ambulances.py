"""Ambulance counts against the population: one per so many people, or so many per 10,000."""

from __future__ import annotations

from typing_extensions import override

from healthreach.profile import AmbulanceDensity, AmbulanceRatio
from healthreach.standards.base import Context, Figure, Standard
from healthreach.standards.tally import Tally


class Ambulances(Standard):
    """Ambulances of the facilities inside the study area, as a share of the number required."""

    kind = "ambulances"
    spec: AmbulanceRatio | AmbulanceDensity

    def required(self, people: float) -> float:
        """Ambulances required for ``people``."""
        s = self.spec
        if isinstance(s, AmbulanceRatio):
            return s.county_base_factor * people / s.people_per_ambulance
        return s.per_10k * people / 10_000

    def title(self) -> str:
        """The figure's title."""
        s = self.spec
        if isinstance(s, AmbulanceRatio):
            return f"One ambulance per {s.people_per_ambulance:,.0f} people ({s.county_base_factor:.0%} county base)"
        return f"{s.per_10k:g} ambulances per 10,000 people"

    @override
    def figures(self, tally: Tally, context: Context) -> list[Figure]:
        people, available = context.total, context.ambulances
        required = self.required(people)
        if not context.ambulance_counts:
            return [Figure(self.id, self.title(), people, None, None, 1.0, None,
                           unit="ambulances available / required",
                           details={"ambulances": None, "required": round(required, 2),
                                    "not_assessed": "the facility list gives no ambulance counts "
                                                    "(facilities.ambulances_column)"})]
        return [Figure(self.id, self.title(), people, None, available / required if required else None, 1.0,
                       available >= required if required > 0 else None, unit="ambulances available / required",
                       details={"ambulances": available, "required": round(required, 2)})]
