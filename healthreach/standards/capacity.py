"""Capacity-constrained coverage: how many people facilities can serve within a time when each has a capacity.

Every facility of the group serves at most its capacity (its ``capacity``
column, beds x ``people_per_bed`` or doctors x ``people_per_doctor``), and
only people within ``threshold_min`` of it by ``mode``. The largest
population that can be served is a maximum flow on source -> cells ->
facilities -> sink (``scipy.sparse.csgraph.maximum_flow``): a cell's arc
carries at most its people, a facility's at most its capacity, and a cell
links to every facility within the time. The flow is exact and does not
depend on any order.

The flow runs on whole numbers: people and capacities are counted in tenths
of a person (each cell's people and each capacity rounded to the nearest
0.1), so the served total is exact to 0.05 person per cell. Which people go
unserved, and which facilities fill, is one of the maximum flows (the
solver's); the served total is the same in all of them.

``method: ordered`` is AccessMod's ordered filling instead: facilities in
``order`` (largest capacity first, or as listed), each taking the people
left around it band by band, nearest first, until full. It is a feasible
flow, so it never serves more than the maximum flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import maximum_flow
from typing_extensions import override

from healthreach.errors import StudyError
from healthreach.messages import Message
from healthreach.profile import CapacityStandard
from healthreach.standards.base import Context, Figure, Standard, passes, share
from healthreach.standards.tally import Tally
from healthreach.standards.whole import Whole
from healthreach.travel import Need

TENTHS = 10            # flow units per person
MAX_UNITS = 2**31 - 1  # the flow solver's integer capacities


@dataclass(frozen=True)
class Served:
    """One capacity evaluation, in people: per cell served, per facility served and its capacity."""

    cell_served: np.ndarray      # people served per cell
    facility_served: np.ndarray  # people served per facility row
    capacity: np.ndarray         # people each facility row can serve (0 outside the group)
    in_reach: np.ndarray         # per cell: whether any facility with capacity lies within the time


def tenths(people: np.ndarray) -> np.ndarray:
    """People as whole tenths of a person (nearest), for the flow."""
    return np.floor(np.asarray(people, float) * TENTHS + 0.5).astype(np.int64)


def max_flow(people: np.ndarray, capacity: np.ndarray, cell: np.ndarray, row: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """The largest flow from cells to facilities: (units served per cell, units served per facility row).

    ``people`` per cell and ``capacity`` per facility row are whole flow
    units; ``cell``, ``row`` the pairs within reach.
    """
    n_cells, n_rows = len(people), len(capacity)
    if len(cell) == 0:
        return np.zeros(n_cells, np.int64), np.zeros(n_rows, np.int64)
    used_cells, cell_node = _numbered(cell, n_cells)
    used_rows, row_node = _numbered(row, n_rows)
    a, b = len(used_cells), len(used_rows)
    source, sink = 0, 1 + a + b
    tail = np.r_[np.zeros(a, np.int64), 1 + cell_node, 1 + a + np.arange(b)]
    head = np.r_[1 + np.arange(a), 1 + a + row_node, np.full(b, sink)]
    cap = np.r_[people[used_cells], people[cell], capacity[used_rows]]
    if cap.max(initial=0) > MAX_UNITS or people.sum() > MAX_UNITS:
        msg = Message("capacity coverage: {people:,.0f} people or a capacity above {most:,.0f} is beyond the flow "
                      "solver's whole numbers", people=people.sum() / TENTHS, most=MAX_UNITS / TENTHS)
        raise StudyError(msg)
    graph = sparse.csr_array((cap.astype(np.int32), (tail, head)), shape=(sink + 1, sink + 1))
    flow = maximum_flow(graph, source, sink, method="dinic").flow.tocoo()
    into_cell = (flow.row == source) & (flow.col >= 1) & (flow.col <= a)
    from_row = (flow.col == sink) & (flow.row > a)
    cell_units = np.zeros(n_cells, np.int64)
    cell_units[used_cells[flow.col[into_cell] - 1]] = flow.data[into_cell]
    row_units = np.zeros(n_rows, np.int64)
    row_units[used_rows[flow.row[from_row] - 1 - a]] = flow.data[from_row]
    return cell_units, row_units


def _numbered(values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``values`` (ascending, all below ``n``) and each value's position among them, without sorting."""
    used = np.zeros(n, bool)
    used[values] = True
    position = np.cumsum(used) - 1
    return np.flatnonzero(used), position[values]


def ordered_filling(people: np.ndarray, capacity: np.ndarray, cell: np.ndarray, row: np.ndarray,
                    seconds: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AccessMod's ordered filling: facility rows in ``order``, each taking the people left in its cells,
    nearest first (ties: lower cell first), until its capacity is used. Units as :func:`max_flow`.
    """
    left = np.asarray(people, np.int64).copy()
    row_units = np.zeros(len(capacity), np.int64)
    by_row = np.lexsort((cell, seconds, row))
    cell, row = cell[by_row], row[by_row]
    start = np.searchsorted(row, np.arange(len(capacity) + 1))
    for r in order:
        mine = cell[start[r]:start[r + 1]]
        want = left[mine]
        before = np.cumsum(want) - want
        take = np.clip(capacity[r] - before, 0, want)
        left[mine] -= take
        row_units[r] = take.sum()
    return np.asarray(people, np.int64) - left, row_units


class Capacity(Standard):
    """People that can be served within ``threshold_min`` when each facility serves at most its capacity."""

    kind = "capacity"
    spec: CapacityStandard

    @property
    def need(self) -> Need:
        """The nearest-facility surface of its group and mode."""
        return Need(self.spec.group, self.spec.mode, "time", "to")

    @override
    def needs(self) -> list[Need]:
        return [self.need]

    def capacities(self, whole: Whole) -> np.ndarray:
        """People each facility row can serve (0 outside the group)."""
        s = self.spec
        if s.capacity == "column":
            people = whole.counts("capacity")
        elif s.capacity == "beds":
            people = whole.counts("beds") * s.people_per_bed
        else:
            people = whole.counts("doctors") * s.people_per_doctor
        return np.where(whole.member[s.group], people, 0.0)

    def source_column(self) -> str:
        """The facility count its capacities come from."""
        return "capacity" if self.spec.capacity == "column" else self.spec.capacity

    def evaluate(self, whole: Whole) -> Served:
        """The served people (computed once per evaluation)."""
        def make() -> Served:
            s = self.spec
            capacity = self.capacities(whole)
            units = tenths(capacity)
            rows = np.flatnonzero(units > 0)
            pairs = whole.reach.within(s.mode, whole.attached[s.mode], rows, s.threshold_min * 60)
            people = tenths(whole.people)
            populated = people[pairs.cell] > 0
            cell, row, seconds = pairs.cell[populated], pairs.row[populated], pairs.seconds[populated]
            if s.method == "max_flow":
                cell_units, row_units = max_flow(people, units, cell, row)
            else:
                order = rows[np.argsort(-units[rows], kind="stable")] if s.order == "largest_first" else rows
                cell_units, row_units = ordered_filling(people, units, cell, row, seconds, order)
            in_reach = np.zeros(len(people), bool)
            in_reach[cell] = True
            return Served(cell_units / TENTHS, row_units / TENTHS, units / TENTHS, in_reach)
        return whole.keep((self.id, "served"), make)

    @override
    def figures(self, tally: Tally, context: Context) -> list[Figure]:
        s, whole, total = self.spec, context.whole, context.total
        how = {"column": "capacity column", "beds": f"{s.people_per_bed:g} people per bed",
               "doctors": f"{s.people_per_doctor:g} people per doctor"}[s.capacity]
        title = (f"People served within {s.threshold_min:g} min {s.mode} with each facility's capacity "
                 f"({how}; {'maximum flow' if s.method == 'max_flow' else 'ordered filling'})")
        if self.source_column() not in whole.counted:
            return [Figure(self.id, title, total, None, None, s.target_share, None,
                           details={"not_assessed": Message("the facility list gives no {counts} counts "
                                                            "(facilities.{counts}_column)",
                                                            counts=self.source_column())})]
        served = self.evaluate(whole)
        covered = float(served.cell_served.sum())
        saturated = self.saturated(served)
        ids = np.asarray(whole.columns["id"])
        return [Figure(self.id, title, total, covered, share(covered, total), s.target_share,
                       passes(share(covered, total), s.target_share),
                       details={"method": s.method, "capacity_people": float(served.capacity.sum()),
                                "beyond_reach_people": float(whole.people[~served.in_reach].sum()),
                                "saturated_facilities": [str(i) for i in ids[saturated]]})]

    @staticmethod
    def saturated(served: Served) -> np.ndarray:
        """Facility rows whose capacity is used up (to the tenth of a person)."""
        return (served.capacity > 0) & (served.facility_served >= served.capacity - 0.05)

    @override
    def township_value_names(self) -> list[str]:
        return [f"{self.id}_unserved_people"]

    @override
    def township_values(self, context: Context) -> dict[str, np.ndarray]:
        whole = context.whole
        if self.source_column() not in whole.counted:
            return {}
        served = self.evaluate(whole)
        return {f"{self.id}_unserved_people": whole.by_township(whole.people - served.cell_served).round(1)}

    @override
    def facility_value_names(self) -> list[str]:
        return [f"{self.id}_capacity_people", f"{self.id}_served_people", f"{self.id}_saturated"]

    @override
    def facility_values(self, context: Context) -> dict[str, Any]:
        whole = context.whole
        if self.source_column() not in whole.counted:
            return {}
        served = self.evaluate(whole)
        member = whole.member[self.spec.group]
        return {f"{self.id}_capacity_people": np.where(member, served.capacity, np.nan),
                f"{self.id}_served_people": np.where(member, served.facility_served.round(1), np.nan),
                f"{self.id}_saturated": np.where(member, self.saturated(served), False)}
