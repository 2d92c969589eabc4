"""Every cell and facility of one evaluation, for standards whose figures are not sums of per-cell tests.

Tier catchments, ratios per 1,000 people, floating catchments and capacity
flows read whole arrays: the people of every cell, its nearest facility of a
travel surface, the facility table's counts. :class:`Whole` gives them to
those standards through :class:`~healthreach.standards.base.Context`, and
keeps what one standard computes for another (the tier catchments that the
ratios by catchment share out) for the evaluation's life.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from healthreach.network import Attachment
from healthreach.standards.reach_tables import ReachTables
from healthreach.state import Changed
from healthreach.travel import Need


class CellCosts(Protocol):
    """Per-cell (cost, nearest facility row) of an evaluation's travel surfaces."""

    def full(self, key: Any) -> tuple[np.ndarray, np.ndarray]:
        """One surface's values at every cell."""
        ...


@dataclass
class Whole:
    """One evaluation's per-cell and per-facility arrays.

    ``people``, ``township`` and ``urban`` are per study-area cell (people,
    township row, whether its township is urban), ``township_people`` per
    township; ``columns`` the facility table's columns (``beds``,
    ``doctors``, ``nurses``, ``capacity`` are counts), ``member`` per group
    which rows belong to it, ``attached`` per mode where each row attaches
    to the roads, ``facility_township`` the township row each facility
    stands in (-1: outside the study area). ``costs`` gives each surface's
    (seconds, nearest facility row) per cell; ``reach`` the study's
    per-facility bounded searches; ``counted`` which counts the facility
    list gives (a count it does not give reads as zeros). ``parent`` is the
    evaluation this one was changed from and ``changed`` per surface its
    values before and after at the cells where they differ from it (none
    listed: unchanged; None: evaluated from scratch), so a standard can
    update what the parent kept instead of summing every cell again.
    """

    people: np.ndarray
    township: np.ndarray
    urban: np.ndarray
    township_people: np.ndarray
    columns: Mapping[str, np.ndarray]
    member: Mapping[str, np.ndarray]
    attached: Mapping[str, Attachment]
    facility_township: np.ndarray
    costs: CellCosts
    reach: ReachTables
    counted: frozenset[str]
    parent: Whole | None = None
    changed: Mapping[Any, Changed] | None = None
    kept: dict[Any, Any] = field(default_factory=dict)  # results one standard keeps for another, by key

    @property
    def n_facilities(self) -> int:
        """Rows of the facility table."""
        return len(self.columns["id"])

    @property
    def n_townships(self) -> int:
        """Townships of the study area."""
        return len(self.township_people)

    def cells(self, need: Need) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, nearest facility row) of a surface at every cell (kept once read)."""
        return self.keep(("cells", need), lambda: self.costs.full(need))

    def counts(self, column: str) -> np.ndarray:
        """A count column of the facility table as floats (beds, doctors, nurses, capacity)."""
        return np.asarray(self.columns[column], float)

    def by_township(self, per_cell: np.ndarray) -> np.ndarray:
        """Sum of a per-cell value over each township's cells."""
        return np.bincount(self.township, weights=per_cell, minlength=self.n_townships)

    def by_township_of(self, cells: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (one per listed cell) over each township."""
        return np.bincount(self.township[cells], weights=values, minlength=self.n_townships)

    def keep(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()`` once per evaluation under ``key``, then the kept value."""
        if key not in self.kept:
            self.kept[key] = make()
        return self.kept[key]
