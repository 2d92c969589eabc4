"""People summed over cells: per township for every per-cell test, per facility for catchments.

A tally is kept as sums, so a change re-tallies only the cells whose values
changed: their old contributions are subtracted and their new ones added
(:mod:`healthreach.standards.compiled`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from pandas.arrays import IntegerArray

from healthreach.inputs import Cells


@njit(cache=True)
def _add_by_township(cells, township, people, value, out, column):  # pragma: no cover - compiled
    """Add ``people[i] * value[cells[i]]`` to ``out[township[i], column]`` for each listed cell, in the order
    listed (as ``np.bincount`` adds them). ``value`` has one entry per study-area cell (bool or number).
    """
    for i in range(len(cells)):
        out[township[i], column] += people[i] * value[cells[i]]


def people_by_township(cells: np.ndarray, township: np.ndarray, people: np.ndarray, values: list[np.ndarray],
                       n: int) -> np.ndarray:
    """``out[t, j]``: the sum of ``people[i] * values[j][cells[i]]`` over the listed cells ``i`` of township
    ``t`` (``n`` townships), one pass per value and no copy of the values.
    """
    out = np.zeros((n, len(values)))
    for j, value in enumerate(values):
        _add_by_township(cells, township, people, np.asarray(value), out, j)
    return out


@njit(cache=True)
def _change_by_township(township, people, before, after, out, column):  # pragma: no cover - compiled
    """Add ``people[c] * (after[c] - before[c])`` to ``out[township[c], column]`` for every listed cell ``c``."""
    for c in range(len(people)):
        out[township[c], column] += people[c] * after[c] - people[c] * before[c]


@dataclass(frozen=True)
class CellWeights:
    """Constants for summing people over the study-area cells (derived once per study).

    Sums run over the populated cells only (empty ones would add exact zeros).
    """

    populated: np.ndarray           # cells with people (index into the cells, ascending)
    populated_township: np.ndarray  # their township rows
    populated_people: np.ndarray    # their people
    township_people: np.ndarray     # people per township
    township_cells: np.ndarray      # cells per township
    area_people: dict[str, np.ndarray]  # "urban" / "rural": people per township in that area
    total: float                    # people in the study area
    area_total: dict[str, float]    # "urban" / "rural": people in that area

    @classmethod
    def build(cls, cells: Cells, n_townships: int) -> CellWeights:
        """The weights of a study's cells."""
        town = cells.township.astype(np.intp, copy=False)
        people, urban = cells.people, cells.urban
        populated = np.flatnonzero(people != 0)
        pop_town, pop_people = town[populated], people[populated].astype(float)  # sums in float64, whatever the input
        by_area = people_by_township(populated, pop_town, pop_people, [urban, ~urban], n_townships)
        return cls(populated, pop_town, pop_people, np.bincount(town, weights=people, minlength=n_townships),
                   np.bincount(town, minlength=n_townships), {"urban": by_area[:, 0], "rural": by_area[:, 1]},
                   float(people.sum()), {"urban": float(people[urban].sum()), "rural": float(people[~urban].sum())})


class Tally:
    """People per township for named per-cell values (people-weighted sums; a bool value counts people).

    Read-only once built: :meth:`changed` gives a new tally.
    """

    def __init__(self, weights: CellWeights, columns: list[str], sums: np.ndarray):
        self.weights = weights
        self.columns = {name: j for j, name in enumerate(columns)}
        self.sums = sums  # (townships, columns)
        self.sums.flags.writeable = False

    @classmethod
    def build(cls, weights: CellWeights, values: dict[str, np.ndarray]) -> Tally:
        """Sum every value (one entry per study-area cell) over all cells."""
        w = weights
        return cls(w, list(values), people_by_township(w.populated, w.populated_township, w.populated_people,
                                                       list(values.values()), len(w.township_people)))

    def with_sums(self, sums: np.ndarray) -> Tally:
        """A tally of the same columns with other sums (rounding residues settled, see :func:`settle`)."""
        return Tally(self.weights, list(self.columns), settle(sums))

    def per_township(self, column: str) -> np.ndarray:
        """People per township in one column."""
        return self.sums[:, self.columns[column]]

    def people(self, column: str) -> float:
        """People in the study area in one column."""
        return float(self.per_township(column).sum())


def add_changes(sums: np.ndarray, columns: dict[str, int], township: np.ndarray, people: np.ndarray,
                before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> None:
    """Add to ``sums`` (townships x columns, in place) the change of each named value at some cells (their
    ``township`` rows and ``people`` given): ``people * (after - before)``, one compiled pass per column.
    """
    for name, old in before.items():
        _change_by_township(township, people, np.asarray(old), np.asarray(after[name]), sums, columns[name])


def settle(sums: np.ndarray) -> np.ndarray:
    """Sums after adding and subtracting contributions, with rounding residues (|x| < 1e-6) set to exactly 0.

    A township or facility that loses all its people would otherwise keep a
    residue such as 1e-12 people, which reads as "someone is unreachable".
    """
    return np.where(np.abs(sums) < 1e-6, 0.0, sums)


def people_per_row(people: np.ndarray, row: np.ndarray, n: int, counted: np.ndarray | None = None) -> np.ndarray:
    """People per facility row (``row`` per cell, -1: none), over the cells ``counted`` (None: all)."""
    keep = row >= 0
    if counted is not None:
        keep &= counted
    return np.bincount(row[keep], weights=people[keep], minlength=n)[:n] if n else np.zeros(0)


def nullable_integers(values: np.ndarray) -> IntegerArray:
    """Whole-number floats as a pandas ``Int64`` array, NaN as missing (as ``pd.array(values, dtype="Int64")``)."""
    missing = np.isnan(values)
    return IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)
