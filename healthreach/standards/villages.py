"""Villages near care: every village of at least so many people has care within the circle."""

from __future__ import annotations

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

    def table(self, net: Network, villages: dict[str, np.ndarray], access: dict[tuple[str, str], Attachment],
              surfaces: dict[Need, Surface], facility_names: np.ndarray, township_names: np.ndarray,
              access_kmh: float) -> pd.DataFrame:
        """Each village's minutes to the nearest facility of the group by its area's mode.

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
        township, people = villages["township"], villages["population"]
        minutes = time_s / 60
        return pd.DataFrame({
            "id": villages["id"], "name": villages["name"],
            "township": np.where(township >= 0, township_names[np.maximum(township, 0)], ""),
            "population": people.round(0),
            "minutes_to_care": np.where(np.isfinite(minutes), minutes.round(1), np.nan),
            "nearest_facility": np.where(nearest >= 0, facility_names[np.maximum(nearest, 0)], ""),
            "needs_clinic": (people >= v.min_population) & ~(time_s <= v.threshold_min * 60),
        })

    def covered(self, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per village: whether it is large (the standard applies) and large and near care (met)."""
        large = table["population"].to_numpy(float) >= self.spec.min_population
        return large, large & ~table["needs_clinic"].to_numpy(bool)

    @override
    def figures(self, tally: Tally, context: Context) -> list[Figure]:
        table = context.villages.get(self.id)
        if table is None:
            return []
        v = self.spec
        pop = table["population"].to_numpy()
        large = pop >= v.min_population
        flagged = table["needs_clinic"].to_numpy(bool)
        population = float(pop[large].sum())
        covered = population - float(pop[flagged].sum())
        no_care = large & table["minutes_to_care"].isna().to_numpy()  # no facility of the group reachable at all
        listed = np.flatnonzero(flagged)[:20]
        ids, names = table["id"].to_numpy()[listed], table["name"].to_numpy()[listed]
        return [Figure(self.id, f"Villages of {v.min_population:,.0f}+ people with care within {v.threshold_min:g} min",
                       population, covered, covered / population if population else None, 1.0, not flagged.any(),
                       details={"villages_checked": int(large.sum()), "villages_without_care": int(flagged.sum()),
                                "without_care": [f"{i} {name}" for i, name in zip(ids, names, strict=True)]},
                       unreachable=float(pop[no_care].sum()))]
