"""A facility within a travel time by one mode for everyone (a tertiary hospital within an hour's drive)."""

from __future__ import annotations

from typing_extensions import override

from healthreach.profile import DriveTimeStandard
from healthreach.standards.base import Area, CellTest, Context, Figure, Standard, TownshipColumn, passes, share
from healthreach.standards.naming import label, minutes
from healthreach.standards.tally import Tally
from healthreach.travel import Need


class DriveTime(Standard):
    """People whose cell reaches a ``group`` facility within ``threshold_min`` by ``mode``."""

    kind = "drive_time"
    from_sums = True
    spec: DriveTimeStandard

    @property
    def need(self) -> Need:
        """The travel surface it reads."""
        return Need(self.spec.group, self.spec.mode, "time", "to")

    @override
    def needs(self) -> list[Need]:
        return [self.need]

    @override
    def cell_tests(self) -> list[CellTest]:
        return [CellTest(self.col("ok"), self.need, "within", self.spec.threshold_min * 60),
                CellTest(self.col("unreachable"), self.need, "unreachable")]

    @override
    def tests(self) -> dict[str, tuple[str, Area | None]]:
        return {self.id: (self.col("ok"), None)}

    @override
    def figures(self, tally: Tally, context: Context) -> list[Figure]:
        t, total = self.spec, context.total
        covered = tally.people(self.col("ok"))
        value = share(covered, total)
        return [Figure(self.id, f"{t.what} within {t.threshold_min:g} min {t.mode}", total, covered, value,
                       t.target_share, passes(value, t.target_share),
                       unreachable=tally.people(self.col("unreachable")))]

    @override
    def township_columns(self) -> list[TownshipColumn]:
        name = label(self.id)
        return [TownshipColumn(f"{name}_{minutes(self.spec.threshold_min)}_share", self.col("ok")),
                TownshipColumn(f"{name}_unreachable", self.col("unreachable"), people=True)]
