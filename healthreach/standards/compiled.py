"""The standards' described per-cell tests, run in one compiled pass over the cells that changed.

For two cell states of one study (before and after a change) and, per key,
the cells where its values differ (:class:`~healthreach.state.Changed`),
the pass runs every described test
(:class:`~healthreach.standards.base.CellTest`) that reads a changed key, at
the cells where that key changed only, on the values before and after;
moves each cell's people between the township sums of a column where its
value changes, counts the people newly counted and no longer counted per
column, and moves the people of the catchments between facility rows. Work
is in proportion to the changed cells of the keys read, never to the grid.
Values a unit computes in NumPy (``Standard.cell_values``) are re-tallied
beside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numba import njit

from healthreach.inputs import Cells
from healthreach.standards.base import OPS, CellView, Standard
from healthreach.standards.tally import add_changes
from healthreach.state import CellsAt, CellState, Changed, union

WITHIN, UNREACHABLE, REACHABLE, SECONDS = (OPS.index(op) for op in ("within", "unreachable", "reachable", "seconds"))
AREAS = {None: 0, "urban": 1, "rural": 2}
CHANGED_DTYPES = (np.int64, float, np.int64, float, np.int64)  # of a Changed's arrays, as the compiled pass takes them


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
def _compare(  # noqa: C901, PLR0912, PLR0913, PLR0917  a compiled kernel takes plain arrays, not objects
        k, idx, cost1, row1, cost0, row0, urban, people, populated, township, tests, t_key, t_rural, t_op,
        t_limit, t_offset, t_area, t_column, sums, newly, lost, catch, c_key, c_rural, c_limit, catch0,
        catch1):  # pragma: no cover - compiled
    """The compiled pass (see the module docstring); ``tests`` and ``catch`` list the tests and catchments run.

    Key ``k`` (its row in the cell states) changed at the cells ``idx``:
    its values there after (``cost1``, ``row1``) and before (``cost0``,
    ``row0``), as :class:`~healthreach.state.Changed` orders them. A test or
    catchment reads its key in urban townships (everywhere without a rural
    key) and its rural key in rural ones, so it runs over the changed cells
    where it reads ``k``. ``urban``, ``people`` (one row per weight:
    everyone, then each population group), ``populated`` (whether any
    weight has people there: cells without are skipped, as they add
    nothing) and ``township`` are per study-area cell; ``sums``, ``newly``, ``lost``, ``catch0`` and
    ``catch1`` have one block per weight.
    """
    n_weights = people.shape[0]
    # the tests that read key k, and in which areas: urban townships, rural ones
    runs = np.empty(len(tests), np.int64)
    in_urban = np.zeros(len(tests), np.bool_)
    in_rural = np.zeros(len(tests), np.bool_)
    m = 0
    for a in range(len(tests)):
        j = tests[a]
        urban_k = t_key[j] == k and t_area[j] != 2
        rural_k = (t_key[j] if t_rural[j] < 0 else t_rural[j]) == k and t_area[j] != 1
        if urban_k or rural_k:
            runs[m], in_urban[m], in_rural[m] = j, urban_k, rural_k
            m += 1
    # cell after cell, each test in turn: every column has one test, so its sums add the cells in order
    for i in range(len(idx)):
        c = idx[i]
        if not populated[c]:
            continue
        t = township[c]
        for a in range(m):
            if not (in_urban[a] if urban[c] else in_rural[a]):
                continue
            j = runs[a]
            op, limit, offset, column = t_op[j], t_limit[j], t_offset[j], t_column[j]
            v0 = _value(cost0[i] + offset, op, limit)
            v1 = _value(cost1[i] + offset, op, limit)
            if v0 == v1:
                continue
            for w in range(n_weights):
                p = people[w, c]
                sums[w, t, column] += p * v1 - p * v0
                if op == SECONDS:
                    continue
                if v1 > v0:
                    newly[w, j] += p
                else:
                    lost[w, j] += p
    for b in range(len(catch)):
        q = catch[b]
        in_urban = c_key[q] == k
        in_rural = (c_key[q] if c_rural[q] < 0 else c_rural[q]) == k
        if not (in_urban or in_rural):
            continue
        limit = c_limit[q]
        for i in range(len(idx)):
            c = idx[i]
            if not populated[c] or not (in_urban if urban[c] else in_rural):
                continue
            r0, r1 = row0[i], row1[i]
            in0 = r0 >= 0 and cost0[i] <= limit
            in1 = r1 >= 0 and cost1[i] <= limit
            if in0 == in1 and r0 == r1:
                continue
            for w in range(n_weights):
                if in0:
                    catch0[w, b, r0] += people[w, c]
                if in1:
                    catch1[w, b, r1] += people[w, c]


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
    """Two cell states (``state_before``, ``state_after``) compared at :attr:`cells` (ascending): the cells
    where they may differ (``compared``, or where a key of ``changes`` changed when that is None).

    Per people weight (``""``: everyone, then each population group):
    ``sums`` the tally's sums after (townships x columns: the sums given,
    with the changed cells' people moved); ``moved`` per tally column of a
    value that may change, the people newly counted and no longer counted (0
    for float values such as seconds); ``catchments_before`` and
    ``catchments_after`` per catchment that may change, the people per
    facility row over the changed cells (their difference is the
    catchment's change). ``changes``: per key, its values before and after
    where they differ (None: not known, every cell compared). ``urban``:
    per study-area cell, whether its township is urban.
    """

    compared: np.ndarray | None
    state_before: CellState
    state_after: CellState
    urban: np.ndarray
    sums: dict[str, np.ndarray]
    moved: dict[str, dict[str, tuple[float, float]]]
    catchments_before: dict[str, dict[str, np.ndarray]]
    catchments_after: dict[str, dict[str, np.ndarray]]
    changes: Mapping[Any, Changed] | None = None

    @cached_property
    def cells(self) -> np.ndarray:
        """The cells compared (ascending): those given, or those where any key changed (gathered when first
        read: the figures of a change do not need them).
        """
        if self.compared is not None:
            return self.compared
        return union([change.cells for change in (self.changes or {}).values()], len(self.urban))

    @cached_property
    def before(self) -> CellView:
        """The standards' view before, at ``cells`` (each key read when first asked for)."""
        return CellView(self.urban[self.cells], CellsAt(self.state_before, self.cells))

    @cached_property
    def after(self) -> CellView:
        """The standards' view after, at ``cells`` (each key read when first asked for)."""
        return CellView(self.urban[self.cells], CellsAt(self.state_after, self.cells))

    def around(self, keys: Sequence[Any]) -> tuple[np.ndarray, CellView, CellView]:
        """The cells where any of ``keys`` changed (ascending), and the views before and after there (every
        compared cell when the changes are not known).
        """
        if self.changes is None:
            return self.cells, self.before, self.after
        cells = union([self.changes[key].cells for key in keys if key in self.changes], len(self.urban))
        urban = self.urban[cells]
        return (cells, CellView(urban, CellsAt(self.state_before, cells)),
                CellView(urban, CellsAt(self.state_after, cells)))


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
        self.populated = (self.people != 0).any(axis=0)  # cells with people of some weight
        self.standards = tuple(standards)
        self.tests = [t for s in standards for t in s.cell_tests()]
        self.catchments = tuple(catchments)
        index = {key: k for k, key in enumerate(keys)}
        self.index = index  # each key's row in the cell states
        self.township = cells.township.astype(np.int64)
        # the units that compute values in NumPy (Standard.cell_values), re-tallied beside the compiled pass
        self.numpy_units = [s for s in self.standards if type(s).cell_values is not Standard.cell_values]
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

    def compare(self, before: CellState, after: CellState, cells: np.ndarray | None, sums: Mapping[str, np.ndarray],
                n_rows: int, changes: Mapping[Any, Changed] | None = None) -> Comparison:
        """Compare two states at ``cells`` (ascending; None: where a key of ``changes`` changed, or every cell
        without ``changes``); ``sums`` (copied) are the tally's sums before, per weight; ``n_rows``: facility
        rows after.

        ``changes``: what makes ``after`` from ``before``, per key (its cells
        lie within ``cells``); only the tests and catchments that read a
        changed key run, each over the cells where that key changed. None:
        every key compared at every cell of ``cells``.
        """
        given = changes
        if changes is None:
            cells = np.arange(before.n_cells) if cells is None else cells
            cost0, row0 = before.at(cells)
            cost1, row1 = after.at(cells)
            changes = {key: Changed(cells, cost1[k], row1[k], cost0[k], row0[k]) for k, key in enumerate(before.keys)}
        changed = [key for key, change in changes.items() if len(change.cells)]
        slots = [changes[key] for key in changed]
        tests = np.array([j for j, t in enumerate(self.tests) if self.reads(t.keys(), changed)], np.int64)
        catch = np.array([q for q, c in enumerate(self.catchments) if self.reads(c.keys(), changed)], np.int64)
        n = len(self.weights)
        added = np.stack([sums[w] for w in self.weights]).astype(float)  # a copy: the pass adds to it
        newly, lost = np.zeros((n, len(self.tests))), np.zeros((n, len(self.tests)))
        catch0, catch1 = np.zeros((n, len(catch), n_rows)), np.zeros((n, len(catch), n_rows))
        for key, change in zip(changed, slots, strict=True):
            idx, cost1, row1, cost0, row0 = (np.asarray(a, dtype) for a, dtype in zip(change, CHANGED_DTYPES,
                                                                                       strict=True))
            _compare(self.index[key], idx, cost1, row1, cost0, row0, self.cells.urban, self.people, self.populated,
                     self.township, tests, self.t_key, self.t_rural, self.t_op, self.t_limit, self.t_offset,
                     self.t_area, self.t_column, added, newly, lost, catch, self.c_key, self.c_rural, self.c_limit,
                     catch0, catch1)
        moved = {w: {self.tests[j].column: (float(newly[i, j]), float(lost[i, j])) for j in tests}
                 for i, w in enumerate(self.weights)}
        comparison = Comparison(cells, before, after, self.cells.urban, {w: added[i] for i, w in
                                                                          enumerate(self.weights)}, moved,
                                {w: {self.catchments[q].name: catch0[i, b] for b, q in enumerate(catch)}
                                 for i, w in enumerate(self.weights)},
                                {w: {self.catchments[q].name: catch1[i, b] for b, q in enumerate(catch)}
                                 for i, w in enumerate(self.weights)}, given)
        units = [u for u in self.numpy_units if self.reads(_keys(u), changed)]
        if units:
            town, people = self.township[comparison.cells], self.people[:, comparison.cells]
        for unit in units:  # values a unit computes in NumPy, re-tallied beside the compiled pass
            old, new = unit.cell_values(comparison.before), unit.cell_values(comparison.after)
            for i, w in enumerate(self.weights):
                add_changes(added[i], self.columns, town, people[i], old, new)
                for name, v0 in old.items():
                    v1 = new[name]
                    moved[w][name] = (float(people[i][v1 > v0].sum()), float(people[i][v0 > v1].sum())) \
                        if v0.dtype == bool else (0.0, 0.0)
        return comparison

    @staticmethod
    def reads(keys_read: list[Any], changed: list[Any]) -> bool:
        """Whether a test reading ``keys_read`` may change when the keys ``changed`` change."""
        return any(k in changed for k in keys_read)


def _keys(unit: Standard) -> list[Any]:
    """The per-cell keys a standard reads: its travel surfaces and straight-line distances."""
    return [*unit.needs(), *(("line", g) for g in unit.line_radii())]
