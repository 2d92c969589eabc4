"""The standards' described per-cell tests, run in one compiled pass over the cells that changed.

For two cell states of one study (before and after a change) and the cells
where they may differ, the pass reads every key's cost before and after,
runs every described test (:class:`~healthreach.standards.base.CellTest`)
on both, moves each cell's people between the township sums of a column
where its value changes, counts the people newly counted and no longer
counted per column, and sums the cells' people per nearest facility for the
catchments. Values a unit computes in NumPy (``Standard.cell_values``) are
re-tallied beside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from healthreach.inputs import Cells
from healthreach.standards.base import OPS, CellView, Standard
from healthreach.standards.tally import add_changes
from healthreach.state import CellState

WITHIN, UNREACHABLE, REACHABLE, SECONDS = (OPS.index(op) for op in ("within", "unreachable", "reachable", "seconds"))
AREAS = {None: 0, "urban": 1, "rural": 2}


@njit(cache=True, inline="always")
def _value(cost, op, limit):  # pragma: no cover - compiled
    """One test's value for one cost (see CellTest)."""
    if op == WITHIN:
        return 1.0 if cost <= limit else 0.0
    finite = np.isfinite(cost)
    if op == SECONDS:
        return cost if finite else 0.0
    if op == REACHABLE:
        return 1.0 if finite else 0.0
    return 0.0 if finite else 1.0


@njit(cache=True)
def _compare(  # noqa: PLR0913, PLR0917  a compiled kernel takes plain arrays, not objects
        cost0, row0, cost1, row1, urban, people, township, tests, t_key, t_rural, t_op, t_limit, t_offset,
        t_area, t_column, sums, newly, lost, catch, c_key, c_rural, c_limit, catch0, catch1):  # pragma: no cover
    """The compiled pass (see the module docstring); ``tests`` and ``catch`` list the tests and catchments run.

    ``people`` has one row per weight (everyone, then each population
    group); ``sums``, ``newly``, ``lost``, ``catch0`` and ``catch1`` one
    block per weight. Sums add each cell in the order given, as the NumPy
    tally does.
    """
    n_weights = people.shape[0]
    for i in range(people.shape[1]):
        t, u = township[i], urban[i]
        for a in range(len(tests)):
            j = tests[a]
            area = t_area[j]
            if (area == 1 and not u) or (area == 2 and u):
                continue
            k = t_key[j] if u or t_rural[j] < 0 else t_rural[j]
            v0 = _value(cost0[k, i] + t_offset[j], t_op[j], t_limit[j])
            v1 = _value(cost1[k, i] + t_offset[j], t_op[j], t_limit[j])
            if v0 == v1:
                continue
            for w in range(n_weights):
                p = people[w, i]
                sums[w, t, t_column[j]] += p * v1 - p * v0
                if t_op[j] == SECONDS:
                    continue
                if v1 > v0:
                    newly[w, j] += p
                else:
                    lost[w, j] += p
        for b in range(len(catch)):
            q = catch[b]
            k = c_key[q] if u or c_rural[q] < 0 else c_rural[q]
            r0, r1 = row0[k, i], row1[k, i]
            in0 = r0 >= 0 and cost0[k, i] <= c_limit[q]
            in1 = r1 >= 0 and cost1[k, i] <= c_limit[q]
            for w in range(n_weights):
                if in0:
                    catch0[w, b, r0] += people[w, i]
                if in1:
                    catch1[w, b, r1] += people[w, i]


@dataclass(frozen=True)
class Catchment:
    """People per facility row: the cells whose nearest facility by ``key`` (``rural_key`` instead in rural
    townships) it is, within ``limit`` (seconds; inf: at any cost).
    """

    name: str
    key: Any
    rural_key: Any = None
    limit: float = math.inf

    def keys(self) -> list[Any]:
        """The keys it reads."""
        return [self.key] if self.rural_key is None else [self.key, self.rural_key]

    def people(self, view: CellView, people: np.ndarray, n: int) -> np.ndarray:
        """People per facility row (``n`` rows) over the view's cells, in NumPy."""
        cost, row = view.read(self.key, self.rural_key)
        keep = (row >= 0) & (cost <= self.limit)
        return np.bincount(row[keep], weights=people[keep], minlength=n)[:n] if n else np.zeros(0)


@dataclass(frozen=True)
class Comparison:
    """Two cell states compared at ``cells`` (ascending): the cells where they may differ.

    ``before`` and ``after`` are the standards' views there. Per people
    weight (``""``: everyone, then each population group): ``sums`` the
    tally's sums after (townships x columns: the sums given, with those
    cells' people moved); ``moved`` per tally column of a value that may
    change, the people newly counted and no longer counted (0 for float
    values such as seconds); ``catchments_before`` and
    ``catchments_after`` per catchment that may change, the people per
    facility row over those cells. ``by_key``: per key, the cells whose
    values changed (None: not known, every cell compared).
    """

    cells: np.ndarray
    before: CellView
    after: CellView
    sums: dict[str, np.ndarray]
    moved: dict[str, dict[str, tuple[float, float]]]
    catchments_before: dict[str, dict[str, np.ndarray]]
    catchments_after: dict[str, dict[str, np.ndarray]]
    by_key: dict[Any, np.ndarray] | None = None


class Program:
    """A study's described tests and catchments as arrays for the compiled pass (built once per study)."""

    def __init__(self, cells: Cells, people: Mapping[str, np.ndarray], standards: Sequence[Standard],
                 catchments: Sequence[Catchment], keys: Sequence[Any], columns: dict[str, int]):
        """``people``: per weight (``""``: everyone, then each population group) the people per cell;
        ``keys``: the cell states' keys in order; ``columns``: the tally's column index per name.
        """
        self.cells = cells
        self.weights = list(people)
        self.people = np.stack(list(people.values())).astype(float)
        self.standards = tuple(standards)
        self.tests = [t for s in standards for t in s.cell_tests()]
        self.catchments = tuple(catchments)
        index = {key: k for k, key in enumerate(keys)}
        self.t_key = np.array([index[t.key] for t in self.tests], np.int64)
        self.t_rural = np.array([-1 if t.rural_key is None else index[t.rural_key] for t in self.tests], np.int64)
        self.t_op = np.array([OPS.index(t.op) for t in self.tests], np.int64)
        self.t_limit = np.array([t.limit for t in self.tests], float)
        self.t_offset = np.array([t.offset for t in self.tests], float)
        self.t_area = np.array([AREAS[t.area] for t in self.tests], np.int64)
        self.t_column = np.array([columns[t.column] for t in self.tests], np.int64)
        self.c_key = np.array([index[c.key] for c in self.catchments], np.int64)
        self.c_rural = np.array([-1 if c.rural_key is None else index[c.rural_key] for c in self.catchments], np.int64)
        self.c_limit = np.array([c.limit for c in self.catchments], float)
        self.columns = columns

    def compare(self, before: CellState, after: CellState, cells: np.ndarray, sums: Mapping[str, np.ndarray],
                n_rows: int, changes: Mapping[Any, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
                ) -> Comparison:
        """Compare two states at ``cells`` (ascending); ``sums`` (copied) are the tally's sums before, per
        weight; ``n_rows``: facility rows after.

        ``changes``: what makes ``after`` from ``before``, per key (cells
        (ascending, within ``cells``), cost, row); only the tests and
        catchments that read those keys are run. None: every test and
        catchment, at every key's values in both states.
        """
        urban, people = self.cells.urban[cells], self.people[:, cells]
        changed = None if changes is None else {key for key, change in changes.items() if len(change[0])}

        def reads(keys_read: list[Any]) -> bool:
            return changed is None or any(k in changed for k in keys_read)

        tests = np.array([j for j, t in enumerate(self.tests) if reads(t.keys())], np.int64)
        catch = np.array([q for q, c in enumerate(self.catchments) if reads(c.keys())], np.int64)
        cost0, row0 = before.at(cells)
        if changes is None:
            cost1, row1 = after.at(cells)
        else:  # the values before, with the changed ones put in
            cost1, row1 = cost0.copy(), row0.copy()
            for key, (idx, cost, row) in changes.items():
                k, pos = after.index(key), np.searchsorted(cells, idx)
                cost1[k, pos], row1[k, pos] = cost, row
        n = len(self.weights)
        added = np.stack([sums[w] for w in self.weights]).astype(float)  # a copy: the pass adds to it
        newly, lost = np.zeros((n, len(self.tests))), np.zeros((n, len(self.tests)))
        catch0, catch1 = np.zeros((n, len(catch), n_rows)), np.zeros((n, len(catch), n_rows))
        town = self.cells.township[cells].astype(np.int64)
        _compare(cost0, row0, cost1, row1, urban, people, town, tests, self.t_key, self.t_rural, self.t_op,
                 self.t_limit, self.t_offset, self.t_area, self.t_column, added, newly, lost, catch, self.c_key,
                 self.c_rural, self.c_limit, catch0, catch1)
        view0 = CellView(urban, {key: (cost0[k], row0[k]) for k, key in enumerate(before.keys)})
        view1 = CellView(urban, {key: (cost1[k], row1[k]) for k, key in enumerate(after.keys)})
        moved = {w: {self.tests[j].column: (float(newly[i, j]), float(lost[i, j])) for j in tests}
                 for i, w in enumerate(self.weights)}
        for unit in self.standards:  # values a unit computes in NumPy, re-tallied beside the compiled pass
            if not reads(_keys(unit)):
                continue
            old, new = unit.cell_values(view0), unit.cell_values(view1)
            for i, w in enumerate(self.weights):
                add_changes(added[i], self.columns, town, people[i], old, new)
                for name, v0 in old.items():
                    v1 = new[name]
                    moved[w][name] = (float(people[i][v1 > v0].sum()), float(people[i][v0 > v1].sum())) \
                        if v0.dtype == bool else (0.0, 0.0)
        return Comparison(cells, view0, view1, {w: added[i] for i, w in enumerate(self.weights)}, moved,
                          {w: {self.catchments[q].name: catch0[i, b] for b, q in enumerate(catch)}
                           for i, w in enumerate(self.weights)},
                          {w: {self.catchments[q].name: catch1[i, b] for b, q in enumerate(catch)}
                           for i, w in enumerate(self.weights)},
                          None if changes is None else {key: change[0] for key, change in changes.items()})


def _keys(unit: Standard) -> list[Any]:
    """The per-cell keys a standard reads: its travel surfaces and straight-line distances."""
    return [*unit.needs(), *(("line", g) for g in unit.line_radii())]
