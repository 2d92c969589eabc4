"""The medical service circle: care within a travel time, walking in urban and driving in rural townships."""

from __future__ import annotations

from typing import Any

import numpy as np
from typing_extensions import override

from healthreach.profile import CircleStandard
from healthreach.standards.base import (
    Area,
    CellTest,
    CellView,
    Context,
    Figure,
    Standard,
    TownshipColumn,
    passes,
    share,
)
from healthreach.standards.naming import label, minutes
from healthreach.standards.tally import Tally
from healthreach.travel import Need


class Circle(Standard):
    """People whose cell reaches a ``group`` facility within ``threshold_min`` by its area's mode.

    Both modes (walk and drive) are reported beside it; the first circle of
    the profile also defines the catchments of the facility table and the
    map's time bands.
    """

    kind = "circle"
    from_sums = True
    spec: CircleStandard

    @property
    def limit_s(self) -> float:
        """The circle's time limit, seconds."""
        return self.spec.threshold_min * 60

    def mode_need(self, mode: str) -> Need:
        """The travel surface to the group by one mode."""
        return Need(self.spec.group, mode, "time", "to")

    @override
    def needs(self) -> list[Need]:
        p = self.spec
        return [self.mode_need(m) for m in dict.fromkeys(("walk", "drive", p.urban_mode, p.rural_mode))]

    def area_needs(self) -> list[Need]:
        """The surfaces its test reads: by the urban mode (in urban townships) and by the rural mode."""
        return [self.mode_need(self.spec.urban_mode), self.mode_need(self.spec.rural_mode)]

    def cell_seconds(self, view: CellView) -> tuple[np.ndarray, np.ndarray]:
        """Seconds to the nearest facility by each cell's area mode, and that facility's row (-1: none)."""
        return view.read(self.mode_need(self.spec.urban_mode), self.mode_need(self.spec.rural_mode))

    def covered(self, view: CellView) -> np.ndarray:
        """Per cell of the view: whether it reaches the group within the limit by its area's mode."""
        return self.cell_seconds(view)[0] <= self.limit_s

    @override
    def cell_tests(self) -> list[CellTest]:
        p, limit = self.spec, self.limit_s
        u, r = self.mode_need(p.urban_mode), self.mode_need(p.rural_mode)
        return [CellTest(self.col("ok"), u, "within", limit, rural_key=r),
                CellTest(self.col("urban"), u, "within", limit, area="urban", rural_key=r),
                CellTest(self.col("rural"), u, "within", limit, area="rural", rural_key=r),
                *(CellTest(self.col(mode), self.mode_need(mode), "within", limit) for mode in ("walk", "drive")),
                CellTest(self.col("unreachable"), u, "unreachable", rural_key=r)]

    @override
    def tests(self) -> dict[str, tuple[str, Area | None]]:
        return {self.id: (self.col("ok"), None)}

    @override
    def figures(self, tally: Tally, context: Context) -> list[Figure]:
        p, total = self.spec, context.total
        covered = tally.people(self.col("ok"))
        details: dict[str, Any] = {f"{mode}_share": share(tally.people(self.col(mode)), total)
                                   for mode in ("walk", "drive")}
        details.update(urban_mode=p.urban_mode, rural_mode=p.rural_mode, threshold_min=p.threshold_min,
                       urban_share=share(tally.people(self.col("urban")), context.area_total["urban"]),
                       rural_share=share(tally.people(self.col("rural")), context.area_total["rural"]))
        title = f"{p.threshold_min:g}-minute medical circle ({p.urban_mode} in urban, {p.rural_mode} in rural areas)"
        return [Figure(self.id, title, total, covered, share(covered, total), p.target_share,
                       passes(share(covered, total), p.target_share), details=details,
                       unreachable=tally.people(self.col("unreachable")))]

    @property
    def share_column(self) -> str:
        """The township table's column of its share."""
        return f"{label(self.id)}_{minutes(self.spec.threshold_min)}_share"

    @override
    def township_columns(self) -> list[TownshipColumn]:
        name, m = label(self.id), minutes(self.spec.threshold_min)
        return [TownshipColumn(self.share_column, self.col("ok")),
                TownshipColumn(f"{name}_walk_{m}_share", self.col("walk")),
                TownshipColumn(f"{name}_drive_{m}_share", self.col("drive")),
                TownshipColumn(f"{name}_unreachable", self.col("unreachable"), people=True)]

