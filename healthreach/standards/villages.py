"""Villages near care: every village of at least so many people has care within the circle."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from typing_extensions import override

from healthreach.network import Attachment, Network
from healthreach.profile import VillageStandard
from healthreach.reach import Surface, point_cost
from healthreach.standards.base import Context, Figure, Standard
from healthreach.standards.tally import Tally
from healthreach.travel import Need


class Villages(Standard):
    """Large villages (>= ``min_population``) need a ``group`` facility within ``threshold_min`` by their
    area's mode; small ones may rely on visiting doctors. Villages, not cells: it reads the village table.
    """

    kind = "villages"
    spec: VillageStandard

    @override
    def needs(self) -> list[Need]:
        v = self.spec
        return list(dict.fromkeys(Need(v.group, mode, "time", "to") for mode in (v.urban_mode, v.rural_mode)))

    def times(self, net: Network, villages: dict[str, np.ndarray], access: dict[tuple[str, str], Attachment],
              surfaces: dict[Need, Surface], facility_names: np.ndarray, township_names: np.ndarray,
              access_kmh: float) -> VillageTimes:
        """Each village's seconds to the nearest facility of the group by its area's mode.

        ``villages`` holds the village layer's ``id``, ``name``, ``township``
        (row), ``population`` and ``urban`` columns as arrays;
        ``access[(mode, area)]`` is where the villages of an area ("urban",
        "rural") attach to the roads of a mode.
        """
        v = self.spec
        urban = villages["urban"]
        time_s, nearest = np.full(len(urban), np.inf), np.full(len(urban), -1)
        for mode, area, where in ((v.urban_mode, "urban", urban), (v.rural_mode, "rural", ~urban)):
            time_s[where], nearest[where] = point_cost(net, surfaces[Need(v.group, mode, "time", "to")],
                                                       access[(mode, area)], access_kmh)
        people = villages["population"].round(0)
        return VillageTimes(villages, people, time_s, nearest, facility_names, township_names,
                            (people >= v.min_population) & ~(time_s <= v.threshold_min * 60))

    def covered(self, times: VillageTimes) -> tuple[np.ndarray, np.ndarray]:
        """Per village: whether it is large (the standard applies) and large and near care (met)."""
        large = times.people >= self.spec.min_population
        return large, large & ~times.needs_clinic

    @override
    def figures(self, tally: Tally, context: Context) -> list[Figure]:
        times = context.villages.get(self.id)
        if times is None:
            return []
        v = self.spec
        pop = times.people
        large = pop >= v.min_population
        flagged = times.needs_clinic
        population = float(pop[large].sum())
        covered = population - float(pop[flagged].sum())
        no_care = large & ~np.isfinite(times.time_s)  # no facility of the group reachable at all
        listed = np.flatnonzero(flagged)[:20]
        ids, names = times.columns["id"][listed], times.columns["name"][listed]
        return [Figure(self.id, f"Villages of {v.min_population:,.0f}+ people with care within {v.threshold_min:g} min",
                       population, covered, covered / population if population else None, 1.0, not flagged.any(),
                       details={"villages_checked": int(large.sum()), "villages_without_care": int(flagged.sum()),
                                "without_care": [f"{i} {name}" for i, name in zip(ids, names, strict=True)]},
                       unreachable=float(pop[no_care].sum()))]


@dataclass(frozen=True)
class VillageTimes:
    """One village standard's result: per village its people (rounded), seconds to the nearest facility of the
    group (inf: none reachable), that facility's row (-1: none) and whether it needs a clinic (large and
    not within the threshold); ``columns`` are the village layer's, ``facility_names`` per facility row,
    ``township_names`` per township row.
    """

    columns: dict[str, np.ndarray]
    people: np.ndarray
    time_s: np.ndarray
    nearest: np.ndarray
    facility_names: np.ndarray
    township_names: np.ndarray
    needs_clinic: np.ndarray

    def table(self) -> pd.DataFrame:
        """The village table: id, name, township, population, minutes to care, nearest facility, needs clinic."""
        township = self.columns["township"]
        minutes = self.time_s / 60
        return pd.DataFrame({
            "id": self.columns["id"], "name": self.columns["name"],
            "township": np.where(township >= 0, self.township_names[np.maximum(township, 0)], ""),
            "population": self.people,
            "minutes_to_care": np.where(np.isfinite(minutes), minutes.round(1), np.nan),
            "nearest_facility": np.where(self.nearest >= 0, self.facility_names[np.maximum(self.nearest, 0)], ""),
            "needs_clinic": self.needs_clinic,
        })
