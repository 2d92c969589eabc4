"""What every standard is: the travel it needs, its per-cell test, its figures and township columns.

A standard is one unit of code built from one entry of the profile's
``standards:``. The evaluation asks each unit for its per-cell values over
some cells (all of them for a baseline, only the changed ones after a
change), keeps their people-weighted sums per township (a :class:`Tally`)
and asks the unit for its figures from those sums. Audit, scenario and
diff loop over the same units, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from healthreach.standards.tally import Tally
from healthreach.standards.whole import Whole
from healthreach.travel import Need

Area = Literal["urban", "rural"]


@dataclass
class Figure:
    """One standard's result for the study area."""

    id: str
    title: str
    population: float            # people the standard applies to
    covered: float | None        # people meeting it
    share: float | None          # covered / population, 0..1
    target: float | None         # target share (or ratio, see unit)
    passed: bool | None          # None: could not be evaluated
    unit: str = "share of people"
    details: dict[str, Any] = field(default_factory=dict)
    unreachable: float | None = None  # people who cannot reach any facility of the group by the mode (None: n/a)


class CellView:
    """Per-cell inputs of the standards' tests, over some of the study-area cells.

    ``cost(need)`` and ``facility(need)`` are seconds or metres and the
    nearest facility's row (-1: none); ``line_m(group)`` the straight-line
    metres to the group's nearest site, rounded up to the next distance a
    standard compares it with (:func:`healthreach.lines.banded`), so only
    comparisons with those distances are exact; ``urban`` whether each
    cell's township is urban. Built by the evaluation, for all cells or a subset.
    """

    def __init__(self, urban: np.ndarray, costs: Mapping[Any, tuple[np.ndarray, np.ndarray]], dispatch_s: float):
        self.urban = urban
        self._costs = costs
        self.dispatch_s = dispatch_s  # seconds from call to wheels rolling (profile travel.dispatch_delay_min)

    def cost(self, need: Need) -> np.ndarray:
        """Seconds or metres to the nearest facility of a travel surface (inf: none reachable)."""
        return self._costs[need][0]

    def facility(self, need: Need) -> np.ndarray:
        """Row of the nearest facility of a travel surface (-1: none)."""
        return self._costs[need][1]

    def line_m(self, group: str) -> np.ndarray:
        """Straight-line metres to the group's nearest site, rounded up to the next tested distance."""
        return self._costs[("line", group)][0]

    def area(self, area: Area | None) -> np.ndarray:
        """Which cells lie in an area (None: every cell)."""
        if area is None:
            return np.ones(len(self.urban), bool)
        return self.urban if area == "urban" else ~self.urban


@dataclass(frozen=True)
class Context:
    """What figures need beside the tally: totals, every cell and facility, and the villages."""

    total: float                     # people in the study area
    area_total: dict[str, float]     # people in the urban / rural townships
    ambulances: float                # ambulances of facilities inside the study area
    ambulance_counts: bool           # whether the facility list gives ambulance counts at all
    dispatch_min: float              # minutes from call to wheels rolling
    whole: Whole                     # every cell and facility, for figures that are not sums over cells
    villages: dict[str, Any] = field(default_factory=dict)  # per village standard id: its village table


@dataclass(frozen=True)
class TownshipColumn:
    """A column of the township table: a tally column as a share of an area's people, or as people."""

    name: str
    column: str
    area: Area | None = None         # share of the township's people in this area (None: all its people)
    people: bool = False             # people (rounded), not a share


class Standard:
    """One standard of the profile. Subclasses set ``kind`` and implement the methods they need."""

    kind = ""
    group: str | None = None         # the facility group it measures access to (None: counts, not access)

    def __init__(self, sid: str, spec: Any):
        self.id = sid
        self.spec = spec
        self.group = getattr(spec, "group", None)

    def needs(self) -> list[Need]:
        """The travel surfaces it reads."""
        return []

    def line_radii(self) -> dict[str, list[float]]:
        """Groups whose straight-line distance it reads, with the distances (metres) it compares it with."""
        return {}

    def cell_values(self, view: CellView) -> dict[str, np.ndarray]:  # noqa: ARG002 - the default: none
        """Its per-cell values (bool or float, keyed ``<id>.<name>``), summed over people per township."""
        return {}

    def figure_ids(self) -> list[str]:
        """The ids of the figures it reports (its own id; a radius standard one per radius)."""
        return [self.id]

    def tests(self) -> dict[str, tuple[str, Area | None]]:
        """Per figure id with a per-cell test: the bool value column (met and applies) and the area it applies to."""
        return {}

    def figures(self, tally: Tally, context: Context) -> list[Figure]:
        """Its figures (one, or one per radius) from the sums and the context."""
        raise NotImplementedError

    def township_columns(self) -> list[TownshipColumn]:
        """Its share columns of the township table, then (``people=True``) its unreachable-people columns."""
        return []

    def township_value_names(self) -> list[str]:
        """Township columns it computes from every cell (:meth:`township_values`), compared by the diff."""
        return []

    def township_values(self, context: Context) -> dict[str, np.ndarray]:  # noqa: ARG002 - the default: none
        """Its township columns that are not shares of a tally column, from ``context.whole``."""
        return {}

    def facility_value_names(self) -> list[str]:
        """Facility columns it adds (:meth:`facility_values`); the numeric ones are compared by the diff."""
        return []

    def facility_values(self, context: Context) -> dict[str, Any]:  # noqa: ARG002 - the default: none
        """Its columns of the facility table (arrays, one entry per facility row)."""
        return {}

    def col(self, name: str) -> str:
        """The tally column ``name`` of this standard."""
        return f"{self.id}.{name}"


def share(covered: float, total: float) -> float | None:
    """Covered / total, None for no people."""
    return covered / total if total > 0 else None


def passes(value: float | None, target: float) -> bool | None:
    """Whether a share meets its target (None: not assessed)."""
    return None if value is None else bool(value >= target - 1e-12)

