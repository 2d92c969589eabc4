"""Catchments per tier: the people who use each facility, among the facilities of its own tier.

Each tier (village clinics; township and community health centres; county
hospitals; tertiary hospitals) has its own travel surfaces: every person
belongs to the nearest facility of every tier, by the tier's mode in their
township's area (urban or rural). A tertiary hospital's catchment is then
everyone it is the nearest tertiary hospital for, not the few who live
closer to it than to any village clinic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from typing_extensions import override

from healthreach.profile import Tier, TiersStandard
from healthreach.standards.base import Context, Figure, Standard
from healthreach.standards.tally import Tally, nullable_integers, settle
from healthreach.standards.whole import Whole
from healthreach.travel import Need

RESOURCES = ("beds", "doctors", "nurses")


class Tiers(Standard):
    """Per facility: its tier, its tier catchment's people and the people per bed, doctor and nurse."""

    kind = "tiers"
    spec: TiersStandard

    @staticmethod
    def tier_needs(tier: Tier) -> tuple[Need, Need]:
        """The travel surfaces of a tier in urban and in rural townships."""
        return Need(tier.group, tier.urban_mode, "time", "to"), Need(tier.group, tier.rural_mode, "time", "to")

    @override
    def needs(self) -> list[Need]:
        return list(dict.fromkeys(n for t in self.spec.tiers.values() for n in self.tier_needs(t)))

    def nearest(self, whole: Whole, tier: Tier) -> np.ndarray:
        """Each cell's nearest facility row of a tier by its area's mode (-1: none reachable)."""
        urban_need, rural_need = self.tier_needs(tier)
        return np.where(whole.urban, whole.cells(urban_need)[1], whole.cells(rural_need)[1])

    def people_matrix(self, whole: Whole) -> dict[str, np.ndarray]:
        """Per tier: people of township t whose nearest facility of the tier is row j, ``[t, j]``.

        After a change it is the parent's, with the people of the cells whose
        costs changed moved from their old facility to their new one, and
        rounding residues settled (:func:`settle`); a tier where nobody moves
        keeps the parent's matrix when that is settled already.
        """
        def make() -> dict[str, np.ndarray]:
            n, t = whole.n_facilities, whole.n_townships
            parent, changed = whole.parent, whole.changed
            before = None if parent is None or changed is None else parent.kept.get((self.id, "matrix"))
            if parent is None or changed is None or before is None:
                return {name: _people_by(whole.township, self.nearest(whole, tier), whole.people, t, n)
                        for name, tier in self.spec.tiers.items()}
            settled = parent.kept.get((self.id, "settled"), False)  # the parent's matrices were settled
            whole.kept[(self.id, "settled")] = True
            out = {}
            for name, tier in self.spec.tiers.items():
                moves = []
                for need, urban in zip(self.tier_needs(tier), (True, False), strict=True):
                    if need not in changed:
                        continue
                    change = changed[need]
                    # a surface counts where its area uses its mode; only a new nearest row moves people
                    moved = (whole.urban[change.cells] == urban) & (change.row != change.row_before)
                    if moved.any():
                        moves.append((change.cells[moved], change.row_before[moved], change.row[moved]))
                kept = before[name]
                if not moves and settled and kept.shape[1] == n:
                    out[name] = kept  # read only: a matrix is never written once made
                    continue
                # a copy in float64 (a baseline matrix of nobody is integer zeros), new rows empty
                matrix = kept.astype(float) if kept.shape[1] == n else np.zeros((t, n))
                if kept.shape[1] != n:
                    matrix[:, :kept.shape[1]] = kept
                for cells, old, new in moves:
                    _move_people(matrix, whole.township, whole.people, cells, old, new)
                out[name] = settle(matrix)
            return out
        return whole.keep((self.id, "matrix"), make)

    def catchments(self, whole: Whole) -> tuple[np.ndarray, np.ndarray]:
        """Per facility row: its tier's index in the profile (-1: in no tier) and its catchment's people."""
        def make() -> tuple[np.ndarray, np.ndarray]:
            n = whole.n_facilities
            tier = np.full(n, -1)
            people = np.zeros(n)
            for k, (name, matrix) in enumerate(self.people_matrix(whole).items()):
                members = whole.member[self.spec.tiers[name].group]
                tier[members] = k
                people += np.where(members, matrix.sum(axis=0), 0.0)
            return tier, people
        return whole.keep((self.id, "catchments"), make)

    def shared(self, whole: Whole, resource: str) -> np.ndarray:
        """Per township: the ``resource`` (beds, doctors, nurses) its people use, each facility's count shared
        equally among its tier catchment's people, summed over the tiers.
        """
        def make() -> np.ndarray:
            _, people = self.catchments(whole)
            per_person = np.where(people > 0, whole.counts(resource) / np.where(people > 0, people, 1.0), 0.0)
            return sum((matrix @ per_person for matrix in self.people_matrix(whole).values()),
                       np.zeros(whole.n_townships))
        return whole.keep((self.id, "shared", resource), make)

    @override
    def figure_ids(self) -> list[str]:
        return []  # its values are the facility table's columns and the ratios' catchments

    @override
    def figures(self, tally: Tally, context: Context) -> list[Figure]:
        return []

    @override
    def facility_values(self, context: Context) -> dict[str, Any]:
        whole = context.whole
        tier, people = self.catchments(whole)
        names = np.array(["", *self.spec.tiers], dtype=object)
        out: dict[str, Any] = {"tier": names[tier + 1],
                                      "tier_catchment_people": np.where(tier >= 0, people.round(0), np.nan)}
        for resource in ("doctors", "nurses"):  # the counts the ratios divide (beds are in the table already)
            out[resource] = nullable_integers(np.where(resource in whole.counted, whole.counts(resource), np.nan))
        for resource in RESOURCES:
            count = whole.counts(resource)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"people_per_{resource[:-1]}"] = np.where((tier >= 0) & (count > 0), people / count,
                                                              np.nan).round(1)
        return out

    @override
    def facility_value_names(self) -> list[str]:
        return ["tier", "tier_catchment_people", "doctors", "nurses", *(f"people_per_{r[:-1]}" for r in RESOURCES)]


def tiers_of(standards: tuple[Standard, ...]) -> Tiers | None:
    """The profile's first tiers standard (None: the profile has none)."""
    return next((s for s in standards if isinstance(s, Tiers)), None)


@njit(cache=True)
def _move_people(matrix, township, people, cells, old, new):  # pragma: no cover - compiled
    """Move each listed cell's people from ``matrix[t, old]`` to ``matrix[t, new]`` (t its township; -1: none)."""
    for i in range(len(cells)):
        c = cells[i]
        t, p = township[c], people[c]
        if old[i] >= 0:
            matrix[t, old[i]] -= p
        if new[i] >= 0:
            matrix[t, new[i]] += p


def _people_by(township: np.ndarray, row: np.ndarray, people: np.ndarray, n_townships: int, n_rows: int
               ) -> np.ndarray:
    """People per (township, facility row) over cells with a row (``row`` -1: none)."""
    keep = row >= 0
    flat = np.bincount(township[keep] * n_rows + row[keep], weights=people[keep], minlength=n_townships * n_rows)
    return flat.reshape(n_townships, n_rows)
