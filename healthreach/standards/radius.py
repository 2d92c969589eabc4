"""Emergency service radius: people of an area within so many kilometres of road from an emergency facility."""

from __future__ import annotations

from typing_extensions import override

from healthreach.profile import RadiusStandard
from healthreach.standards.base import Area, CellTest, Context, Figure, Standard, TownshipColumn, passes, share
from healthreach.standards.naming import label
from healthreach.standards.tally import Tally
from healthreach.travel import Need


class Radius(Standard):
    """People of the ``area`` whose cell lies within each radius (metres of road network, ambulance roads)
    of a ``group`` facility; the straight-line share is reported beside it.
    """

    kind = "radius"
    from_sums = True
    spec: RadiusStandard

    @property
    def need(self) -> Need:
        """The travel surface it reads."""
        return Need(self.spec.group, "ambulance", "length", "from")

    @override
    def needs(self) -> list[Need]:
        return [self.need]

    @override
    def line_radii(self) -> dict[str, list[float]]:
        return {self.spec.group: self.spec.radii_m}

    def figure_id(self, radius_m: float) -> str:
        """'emergency_radius_urban' for one radius, 'emergency_radius_rural_10km' for each of several."""
        return self.id if len(self.spec.radii_m) == 1 else f"{self.id}_{radius_m / 1000:g}km"

    @override
    def cell_tests(self) -> list[CellTest]:
        area, line = self.spec.area, ("line", self.spec.group)
        out = [CellTest(self.col("unreachable"), self.need, "unreachable", area=area)]
        for r in self.spec.radii_m:
            out.append(CellTest(self.col(f"{r:g}"), self.need, "within", r, area=area))
            out.append(CellTest(self.col(f"{r:g}.line"), line, "within", r, area=area))
        return out

    @override
    def figure_ids(self) -> list[str]:
        return [self.figure_id(r) for r in self.spec.radii_m]

    @override
    def tests(self) -> dict[str, tuple[str, Area | None]]:
        return {self.figure_id(r): (self.col(f"{r:g}"), self.spec.area) for r in self.spec.radii_m}

    @override
    def figures(self, tally: Tally, context: Context) -> list[Figure]:
        spec, area = self.spec, self.spec.area
        population = context.area_total[area]
        out = []
        for r in spec.radii_m:
            covered = tally.people(self.col(f"{r:g}"))
            value = share(covered, population)
            out.append(Figure(self.figure_id(r), f"{area.capitalize()} emergency service radius {r / 1000:g} km "
                              f"(road network)", population, covered, value, spec.target_share,
                              passes(value, spec.target_share),
                              details={"radius_m": r,
                                       "straight_line_share": share(tally.people(self.col(f"{r:g}.line")), population)},
                              unreachable=tally.people(self.col("unreachable"))))
        return out

    @override
    def township_columns(self) -> list[TownshipColumn]:
        name = label(self.id)
        return [*(TownshipColumn(f"{name}_{r / 1000:g}km_share", self.col(f"{r:g}"), self.spec.area)
                  for r in self.spec.radii_m),
                TownshipColumn(f"{name}_unreachable", self.col("unreachable"), people=True)]
