"""Per-cell costs of an evaluation: the baseline's arrays plus, per key, the cells that differ.

A key is a travel surface (:class:`~healthreach.travel.Need`) or a group's
straight-line distance (``("line", group)``). Every key has a cost per cell
(seconds or metres) and the row of the nearest facility (-1: none). An
evaluation changed from the baseline keeps the baseline's full arrays and,
per key, only the cells whose values differ, so a change costs in
proportion to what it changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numba import njit

Key = Any  # a Need, or ("line", group) for straight-line metres


class Changed(NamedTuple):
    """One key's values at the cells where a change alters them: the cells (ascending, distinct), their cost
    (seconds or metres) and nearest facility row after the change, and the same before it.
    """

    cells: np.ndarray
    cost: np.ndarray
    row: np.ndarray
    cost_before: np.ndarray
    row_before: np.ndarray


def distinct(idx: np.ndarray, n: int) -> np.ndarray:
    """The distinct values of ``idx`` (indices below ``n``), ascending: sorted when they are few, read from a
    mask of all ``n`` when they are many (whichever costs less).
    """
    if len(idx) * 64 < n:
        ordered = np.sort(idx)
        if len(ordered) < 2:
            return ordered
        first = np.empty(len(ordered), bool)  # each value's first place
        first[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        return ordered[first]
    mask = np.zeros(n, bool)
    mask[idx] = True
    return np.flatnonzero(mask)


def union(parts: Iterable[np.ndarray], n: int) -> np.ndarray:
    """The distinct cells of several index arrays, ascending (``n``: cells in the study area); one array alone
    is returned as it is, so it must be ascending and distinct already.
    """
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    return distinct(np.concatenate(parts), n) if parts else np.zeros(0, np.int64)


@njit(cache=True)
def _at(idx, keys, cost, row, start, cells, over_cost, over_row):  # pragma: no cover - compiled
    """Per listed key ``keys[j]``: its cost and row at the cells ``idx``, the overlay before the baseline."""
    out_cost = np.empty((len(keys), len(idx)))
    out_row = np.empty((len(keys), len(idx)), np.int64)
    for j in range(len(keys)):
        k = keys[j]
        for i in range(len(idx)):
            out_cost[j, i] = cost[k, idx[i]]
            out_row[j, i] = row[k, idx[i]]
        a, b = start[k], start[k + 1]
        if b > a:
            own = cells[a:b]
            pos = np.searchsorted(own, idx)
            for i in range(len(idx)):
                p = pos[i]
                if p < b - a and own[p] == idx[i]:
                    out_cost[j, i] = over_cost[a + p]
                    out_row[j, i] = over_row[a + p]
    return out_cost, out_row


@dataclass(frozen=True)
class CellState:
    """Every key's cost and nearest-facility row per cell.

    ``cost`` and ``row`` hold the baseline's values, one row per key of
    ``keys`` (read-only, shared by every evaluation changed from it). The
    overlay lists per key the cells whose values differ: key ``k``'s cells
    are ``cells[start[k]:start[k + 1]]`` (ascending), its values there
    ``over_cost`` and ``over_row`` at the same positions.
    """

    keys: tuple[Key, ...]
    cost: np.ndarray
    row: np.ndarray
    start: np.ndarray
    cells: np.ndarray
    over_cost: np.ndarray
    over_row: np.ndarray

    @classmethod
    def blank(cls, keys: Sequence[Key], n_cells: int) -> CellState:
        """A baseline's state whose values are still to be written, key by key, into :meth:`rows` (then call
        :meth:`read_only`).
        """
        return cls(tuple(keys), np.empty((len(keys), n_cells)), np.empty((len(keys), n_cells), np.int64),
                   np.zeros(len(keys) + 1, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))

    def rows(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each key's (cost, row) at every cell: views of the baseline's arrays."""
        return [(self.cost[k], self.row[k]) for k in range(len(self.keys))]

    def read_only(self) -> CellState:
        """The state itself, its baseline arrays made read-only (every evaluation changed from it shares them)."""
        self.cost.flags.writeable = self.row.flags.writeable = False
        return self

    @property
    def n_cells(self) -> int:
        """Cells in the study area."""
        return self.cost.shape[1]

    def index(self, key: Key) -> int:
        """The row of ``key`` in the arrays."""
        return self.keys.index(key)

    def arrays(self, key: Key) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One key's arrays, as compiled code reads them: the baseline's cost and row at every cell, and the
        overlay's cells (ascending), cost and row.
        """
        k = self.index(key)
        own = slice(self.start[k], self.start[k + 1])
        return self.cost[k], self.row[k], self.cells[own], self.over_cost[own], self.over_row[own]

    def differing(self, keys: Sequence[Key] | None = None) -> np.ndarray:
        """Every cell where any key (of ``keys``; None: of all) differs from the baseline (ascending)."""
        mask = np.zeros(self.n_cells, bool)
        for k in range(len(self.keys)) if keys is None else (self.index(key) for key in keys):
            mask[self.cells[self.start[k]:self.start[k + 1]]] = True
        return np.flatnonzero(mask)

    def at(self, idx: np.ndarray, keys: Sequence[Key] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Costs and rows at the cells ``idx``: one row per key of ``keys`` (None: every key, in order)."""
        which = np.arange(len(self.keys)) if keys is None else np.array([self.index(k) for k in keys], np.int64)
        return _at(np.asarray(idx, np.int64), which, self.cost, self.row, self.start, self.cells, self.over_cost,
                   self.over_row)

    def view(self, idx: np.ndarray, keys: Sequence[Key] | None = None) -> dict[Key, tuple[np.ndarray, np.ndarray]]:
        """Every key's (or the given keys') (cost, row) at the cells ``idx``."""
        keys = self.keys if keys is None else keys
        cost, row = self.at(idx, keys)
        return {key: (cost[k], row[k]) for k, key in enumerate(keys)}

    def full(self, key: Key) -> tuple[np.ndarray, np.ndarray]:
        """One key's (cost, row) at every cell (new arrays)."""
        k = self.index(key)
        cost, row = self.cost[k].copy(), self.row[k].copy()
        own = slice(self.start[k], self.start[k + 1])
        cost[self.cells[own]], row[self.cells[own]] = self.over_cost[own], self.over_row[own]
        return cost, row

    def with_values(self, changes: Mapping[Key, Changed]) -> CellState:
        """The state with the values of ``changes`` put in (their values after)."""
        changes = {key: change for key, change in changes.items() if len(change.cells)}
        if not changes:
            return self
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for k, key in enumerate(self.keys):
            own = slice(self.start[k], self.start[k + 1])
            cells, cost, row = self.cells[own], self.over_cost[own], self.over_row[own]
            if key in changes:
                idx, new_cost, new_row = changes[key].cells, changes[key].cost, changes[key].row
                if len(cells):
                    merged = np.union1d(cells, idx)
                    c, r = self.at(merged, [key])
                    pos = np.searchsorted(merged, idx)
                    c[0, pos], r[0, pos] = new_cost, new_row
                    cells, cost, row = merged, c[0], r[0]
                else:
                    cells, cost, row = idx, new_cost, new_row
            parts.append((cells, cost, row))
        start = np.r_[0, np.cumsum([len(p[0]) for p in parts])].astype(np.int64)
        return CellState(self.keys, self.cost, self.row, start,
                         np.concatenate([p[0] for p in parts]).astype(np.int64, copy=False),
                         np.concatenate([p[1] for p in parts]).astype(float, copy=False),
                         np.concatenate([p[2] for p in parts]).astype(np.int64, copy=False))


class CellsAt(Mapping):
    """A state's (cost, row) per key at some cells, each key gathered when first read (a :class:`CellView`'s
    costs: most readers need a few keys of many).
    """

    def __init__(self, state: CellState, idx: np.ndarray):
        self.state = state
        self.idx = idx
        self.read: dict[Key, tuple[np.ndarray, np.ndarray]] = {}

    def __getitem__(self, key: Key) -> tuple[np.ndarray, np.ndarray]:
        """The key's (cost, row) at the cells (gathered once)."""
        if key not in self.read:
            cost, row = self.state.at(self.idx, [key])
            self.read[key] = (cost[0], row[0])
        return self.read[key]

    def __iter__(self) -> Iterator[Key]:
        """The state's keys."""
        return iter(self.state.keys)

    def __len__(self) -> int:
        """The number of keys."""
        return len(self.state.keys)
