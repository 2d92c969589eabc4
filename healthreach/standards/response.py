"""Emergency response: dispatch delay plus the ambulance's drive, within a time and on average."""

from __future__ import annotations

from typing_extensions import override

from healthreach.profile import ResponseStandard
from healthreach.standards.base import Area, CellTest, Context, Figure, Standard, TownshipColumn, share
from healthreach.standards.naming import label, minutes
from healthreach.standards.tally import Tally
from healthreach.travel import Need


class Response(Standard):
    """People reached within ``threshold_min`` (dispatch included); passes when the people-weighted mean
    response of the reachable people is at most ``target_mean_min`` and nobody is unreachable.
    """

    kind = "response"
    from_sums = True
    spec: ResponseStandard

    @property
    def need(self) -> Need:
        """The travel surface it reads."""
        return Need(self.spec.group, "ambulance", "time", "from")

    @override
    def needs(self) -> list[Need]:
        return [self.need]

    @override
    def cell_tests(self) -> list[CellTest]:
        need, dispatch_s = self.need, self.travel.dispatch_delay_min * 60
        return [CellTest(self.col("ok"), need, "within", self.spec.threshold_min * 60, dispatch_s),
                CellTest(self.col("reachable"), need, "reachable"),
                CellTest(self.col("unreachable"), need, "unreachable"),
                CellTest(self.col("seconds"), need, "seconds", offset=dispatch_s)]  # summed: people x seconds

    @override
    def tests(self) -> dict[str, tuple[str, Area | None]]:
        return {self.id: (self.col("ok"), None)}

    @override
    def figures(self, tally: Tally, context: Context) -> list[Figure]:
        r, total = self.spec, context.total
        covered = tally.people(self.col("ok"))
        value = share(covered, total)
        reachable = tally.people(self.col("reachable"))
        unreachable = tally.people(self.col("unreachable"))
        # people-weighted mean over the reachable people only; the unreachable are counted beside it
        mean_min = tally.people(self.col("seconds")) / reachable / 60 if reachable else None
        dispatch = context.dispatch_min
        return [Figure(self.id, f"Emergency response within {r.threshold_min:g} min (incl. {dispatch:g} min dispatch)",
                       total, covered, value, None,
                       # people an ambulance cannot reach at all fail the target whatever the others' mean
                       (mean_min <= r.target_mean_min and not unreachable) if mean_min is not None
                       else (False if total else None),
                       details={"mean_response_min": mean_min, "mean_over": "reachable people",
                                "target_mean_min": r.target_mean_min,
                                "share_over_threshold": None if value is None else 1 - value,
                                "unreachable_people": unreachable},
                       unreachable=unreachable)]

    @override
    def township_columns(self) -> list[TownshipColumn]:
        name = label(self.id)
        return [TownshipColumn(f"{name}_{minutes(self.spec.threshold_min)}_share", self.col("ok")),
                TownshipColumn(f"{name}_unreachable", self.col("unreachable"), people=True)]
