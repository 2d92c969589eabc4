"""What every standard is: the travel it needs, its per-cell test, its figures and township columns.

A standard is one unit of code built from one entry of the profile's
``standards:``. Each unit describes its per-cell tests (:class:`CellTest`:
which cost it reads, what it compares it with, in which area); the
evaluation runs them over some cells (all of them for a baseline, in NumPy;
only the changed ones after a change, in one compiled pass), keeps their
people-weighted sums per township (a :class:`Tally`) and asks the unit for
its figures from those sums. Audit, scenario and diff loop over the same
units, so they cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from healthreach.profile import Travel
from healthreach.standards.tally import Tally
from healthreach.standards.whole import Whole
from healthreach.travel import Need

Area = Literal["urban", "rural"]
Op = Literal["within", "unreachable", "reachable", "seconds"]
OPS: tuple[Op, ...] = ("within", "unreachable", "reachable", "seconds")


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

    A key is a travel surface (seconds or metres to the nearest facility,
    and its row) or ``("line", group)``: the straight-line metres to the
    group's nearest site, rounded up to the next distance a standard
    compares it with (:func:`healthreach.lines.banded`), so only comparisons
    with those distances are exact. ``urban`` is whether each cell's
    township is urban. Built by the evaluation, for all cells or a subset.
    """

    def __init__(self, urban: np.ndarray, costs: Mapping[Any, tuple[np.ndarray, np.ndarray]]):
        self.urban = urban
        self._costs = costs

    def cost(self, key: Any) -> np.ndarray:
        """Seconds or metres to the nearest facility of a key (inf: none reachable)."""
        return self._costs[key][0]

    def read(self, key: Any, rural_key: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Cost and nearest facility row (-1: none) of ``key``, or of ``rural_key`` instead in rural townships."""
        cost, row = self._costs[key]
        if rural_key is None:
            return cost, row
        rural_cost, rural_row = self._costs[rural_key]
        return np.where(self.urban, cost, rural_cost), np.where(self.urban, row, rural_row)

    def area(self, area: Area | None) -> np.ndarray:
        """Which cells lie in an area (None: every cell)."""
        if area is None:
            return np.ones(len(self.urban), bool)
        return self.urban if area == "urban" else ~self.urban


@dataclass(frozen=True)
class CellTest:
    """One per-cell value of a standard, summed over people: a test of one cost against a limit.

    The cost read is ``key`` (a travel surface, or ``("line", group)``), or
    ``rural_key`` instead in rural townships, plus ``offset`` (seconds,
    e.g. the dispatch delay). ``op``: ``within`` (cost <= ``limit``, same
    unit as the cost), ``unreachable`` / ``reachable`` (no facility / a
    facility reachable), ``seconds`` (the cost itself, 0 where unreachable:
    summed, people x seconds). Counted only in ``area``'s townships (None:
    everywhere). The value's tally column is ``column``.
    """

    column: str
    key: Any
    op: Op
    limit: float = math.inf
    offset: float = 0.0
    area: Area | None = None
    rural_key: Any = None

    def keys(self) -> list[Any]:
        """The keys it reads."""
        return [self.key] if self.rural_key is None else [self.key, self.rural_key]

    def evaluate(self, view: CellView) -> np.ndarray:
        """The value at the view's cells (bool, or float for ``seconds``)."""
        cost, _ = view.read(self.key, self.rural_key)
        if self.offset:
            cost = cost + self.offset
        if self.op == "within":
            value = cost <= self.limit
        elif self.op == "seconds":
            value = np.where(np.isfinite(cost), cost, 0.0)
        else:
            value = np.isfinite(cost) if self.op == "reachable" else ~np.isfinite(cost)
        if self.area is None:
            return value
        return value & view.area(self.area) if value.dtype == bool else np.where(view.area(self.area), value, 0.0)


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
    # whether its figures read nothing but the sums of its own tally columns, the study's totals and its spec
    # (then an evaluation whose sums of those columns equal its parent's keeps the parent's figures)
    from_sums = False

    def __init__(self, sid: str, spec: Any, travel: Travel):
        self.id = sid
        self.spec = spec
        self.travel = travel  # the profile's travel settings (speeds, dispatch delay)
        self.group = getattr(spec, "group", None)

    def needs(self) -> list[Need]:
        """The travel surfaces it reads."""
        return []

    def line_radii(self) -> dict[str, list[float]]:
        """Groups whose straight-line distance it reads, with the distances (metres) it compares it with."""
        return {}

    def cell_tests(self) -> list[CellTest]:
        """Its per-cell values, described (each summed over people per township in its column ``<id>.<name>``)."""
        return []

    def cell_values(self, view: CellView) -> dict[str, np.ndarray]:  # noqa: ARG002 - the default: none
        """Per-cell values that a :class:`CellTest` cannot describe, computed in NumPy (keyed ``<id>.<name>``)."""
        return {}

    def values(self, view: CellView) -> dict[str, np.ndarray]:
        """Every per-cell value at the view's cells: the described tests' and :meth:`cell_values`."""
        return {**{t.column: t.evaluate(view) for t in self.cell_tests()}, **self.cell_values(view)}

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

