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
    """The distinct values of ``idx`` (indices below ``n``: cells or nodes), ascending: sorted when they are
    few, read from a mask of all ``n`` when they are many (whichever costs less).
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
    """The distinct indices (cells or nodes) of several index arrays, ascending (``n``: how many there are); one
    array alone is returned as it is, so it must be ascending and distinct already.
    """
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    return distinct(np.concatenate(parts), n) if parts else np.zeros(0, np.int64)


def overlaid(base: np.ndarray, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``base`` with ``values`` at the indices ``idx`` (cells or nodes): ``base`` itself when ``idx`` is empty,
    else a new array.
    """
    if not len(idx):
        return base
    out = base.copy()
    out[idx] = values
    return out


@njit(cache=True)
def overlay_at(idx, cost, row, cells, over_cost, over_row, out_cost, out_row):  # pragma: no cover - compiled
    """Cost and row at the indices ``idx`` (cells, or nodes) into ``out_cost``, ``out_row``: the base arrays'
    ``cost`` and ``row`` (every index), but the overlay's where it lists the index (``cells`` ascending).
    """
    for i in range(len(idx)):
        out_cost[i] = cost[idx[i]]
        out_row[i] = row[idx[i]]
    if len(cells):
        pos = np.searchsorted(cells, idx)
        for i in range(len(idx)):
            p = pos[i]
            if p < len(cells) and cells[p] == idx[i]:
                out_cost[i] = over_cost[p]
                out_row[i] = over_row[p]


Overlay = tuple[np.ndarray, np.ndarray, np.ndarray]  # one key's differing cells (ascending), their cost and row
NO_OVERLAY: Overlay = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))


@dataclass(frozen=True)
class CellState:
    """Every key's cost and nearest-facility row per cell.

    ``cost`` and ``row`` hold the baseline's values, one row per key of
    ``keys`` (read-only, shared by every evaluation changed from it).
    ``overlay`` lists per key the cells whose values differ (ascending) and
    their cost and row there; a change's own arrays become its keys'
    overlays as they are, without a copy.
    """

    keys: tuple[Key, ...]
    cost: np.ndarray
    row: np.ndarray
    overlay: tuple[Overlay, ...]

    @classmethod
    def blank(cls, keys: Sequence[Key], n_cells: int) -> CellState:
        """A baseline's state whose values are still to be written, key by key, into :meth:`rows` (then call
        :meth:`read_only`).
        """
        return cls(tuple(keys), np.empty((len(keys), n_cells)), np.empty((len(keys), n_cells), np.int64),
                   tuple(NO_OVERLAY for _ in keys))

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
        return self.cost[k], self.row[k], *self.overlay[k]

    def differing(self, keys: Sequence[Key] | None = None) -> np.ndarray:
        """Every cell where any key (of ``keys``; None: of all) differs from the baseline (ascending)."""
        mask = np.zeros(self.n_cells, bool)
        for k in range(len(self.keys)) if keys is None else (self.index(key) for key in keys):
            mask[self.overlay[k][0]] = True
        return np.flatnonzero(mask)

    def at(self, idx: np.ndarray, keys: Sequence[Key] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Costs and rows at the cells ``idx``: one row per key of ``keys`` (None: every key, in order)."""
        which = range(len(self.keys)) if keys is None else [self.index(k) for k in keys]
        idx = np.asarray(idx, np.int64)
        out_cost, out_row = np.empty((len(which), len(idx))), np.empty((len(which), len(idx)), np.int64)
        for j, k in enumerate(which):
            overlay_at(idx, self.cost[k], self.row[k], *self.overlay[k], out_cost[j], out_row[j])
        return out_cost, out_row

    def view(self, idx: np.ndarray, keys: Sequence[Key] | None = None) -> dict[Key, tuple[np.ndarray, np.ndarray]]:
        """Every key's (or the given keys') (cost, row) at the cells ``idx``."""
        keys = self.keys if keys is None else keys
        cost, row = self.at(idx, keys)
        return {key: (cost[k], row[k]) for k, key in enumerate(keys)}

    def full(self, key: Key) -> tuple[np.ndarray, np.ndarray]:
        """One key's (cost, row) at every cell, read-only: the baseline's own arrays where no cell differs,
        else new ones.
        """
        k = self.index(key)
        cells, over_cost, over_row = self.overlay[k]
        cost, row = overlaid(self.cost[k], cells, over_cost).view(), overlaid(self.row[k], cells, over_row).view()
        cost.flags.writeable = row.flags.writeable = False
        return cost, row

    def with_values(self, changes: Mapping[Key, Changed]) -> CellState:
        """The state with the values of ``changes`` put in (their values after)."""
        changes = {key: change for key, change in changes.items() if len(change.cells)}
        if not changes:
            return self
        overlay = list(self.overlay)
        for k, key in enumerate(self.keys):
            if key not in changes:
                continue
            idx = np.asarray(changes[key].cells, np.int64)
            new_cost, new_row = np.asarray(changes[key].cost, float), np.asarray(changes[key].row, np.int64)
            if len(overlay[k][0]):
                merged = np.union1d(overlay[k][0], idx)
                c, r = self.at(merged, [key])
                pos = np.searchsorted(merged, idx)
                c[0, pos], r[0, pos] = new_cost, new_row
                overlay[k] = (merged, c[0], r[0])
            else:
                overlay[k] = (idx, new_cost, new_row)
            for values in overlay[k]:  # shared with the change, and with every state changed from this one
                values.flags.writeable = False
        return CellState(self.keys, self.cost, self.row, tuple(overlay))


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
