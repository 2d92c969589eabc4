"""Enhanced two-step floating catchment (E2SFCA) access to beds or doctors, as PySAL ``access`` defines it.

Step 1, per facility j: its supply ``S_j`` (beds or doctors) over the
people weighted by travel time, ``R_j = S_j / sum_k P_k W(t_kj)``. Step 2,
per cell i: ``A_i = sum_j R_j W(t_ij)``, the supply per person within reach,
reported per 1,000 people. ``W`` is a step weight (default 1 / 0.68 / 0.22
within 10 / 20 / 30 minutes, 0 beyond) or a Gaussian ``exp(-t^2 / 2 sigma^2)``
up to ``max_min``. Cells are the demand points, with their people.

The pairs within reach come from one bounded search per facility
(:class:`~healthreach.standards.reach_tables.ReachTables`), kept per site,
and so are the facility's weighted people ``sum_k P_k W(t_kj)`` and their
part in each township: ``R_j`` depends only on facility j's own catchment.
After a change only the added or moved facilities are searched; every
``R_j`` is its supply over its kept weighted people, and a township's
``sum_i P_i A_i`` is ``sum_j R_j`` times its part of j's weighted people,
so the figures cost one pass over the facilities. A facility with no supply
adds nothing to any ``A_i`` and is not searched. ``A_i`` per cell (the map)
is summed from the kept pairs when asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from typing_extensions import override

from healthreach.profile import E2sfcaStandard
from healthreach.standards.base import Context, Figure, Standard
from healthreach.standards.tally import Tally
from healthreach.standards.whole import Whole
from healthreach.travel import Need


@dataclass(frozen=True)
class Access:
    """One E2SFCA evaluation: per facility row the supply ratio, per cell the access (both per person)."""

    ratio: np.ndarray       # R_j: supply per weighted person (beds or doctors per person), 0 for no demand
    access: np.ndarray      # A_i: supply per person within reach of each cell
    demand: np.ndarray      # sum_k P_k W(t_kj): weighted people per facility row


def weights(spec: E2sfcaStandard, minutes: np.ndarray) -> np.ndarray:
    """The distance-decay weight of trips of ``minutes`` (0 beyond the reach)."""
    t = np.asarray(minutes, float)
    if spec.weight == "gaussian":
        return np.where(t <= spec.max_min, np.exp(-t * t / (2 * spec.sigma_min ** 2)), 0.0)
    limits = np.array(list(spec.steps_min), float)  # ascending: the first step a trip fits gives its weight
    table = np.r_[np.array(list(spec.steps_min.values()), float), 0.0]
    return table[np.searchsorted(limits, t, side="left")]


def floating_catchment(supply: np.ndarray, people: np.ndarray, sites: Iterable[tuple[int, np.ndarray, np.ndarray]],
                       n_cells: int) -> Access:
    """E2SFCA from each facility's reach: ``sites`` gives per facility row its cells within reach (each cell once)
    and their weights; ``supply`` per facility row, ``people`` per cell.

    One facility at a time, so no table of every (cell, facility) pair is
    built: sums run in the order of ``sites``, then of each site's cells.
    """
    demand = np.zeros(len(supply))
    access = np.zeros(n_cells)
    for row, cell, weight in sites:
        if len(cell) == 0:
            continue
        demand[row] = np.cumsum(people[cell] * weight)[-1]  # added one cell after another
        if demand[row] > 0:
            access[cell] += supply[row] / demand[row] * weight
    ratio = np.where(demand > 0, supply / np.where(demand > 0, demand, 1.0), 0.0)
    return Access(ratio, access, demand)


class E2sfca(Standard):
    """Beds or doctors per 1,000 people within reach, with competition: per cell, township and district."""

    kind = "e2sfca"
    spec: E2sfcaStandard

    @property
    def need(self) -> Need:
        """The nearest-facility surface of its group and mode (who reaches none at all)."""
        return Need(self.spec.group, self.spec.mode, "time", "to")

    @override
    def needs(self) -> list[Need]:
        return [self.need]

    @property
    def unit(self) -> str:
        """The figure's unit."""
        return f"{self.spec.resource} per 1,000 people (E2SFCA)"

    def supplied(self, whole: Whole) -> np.ndarray:
        """Rows of the group's facilities with some supply (the others add nothing to any A_i)."""
        return np.flatnonzero(whole.member[self.spec.group] & (whole.counts(self.spec.resource) > 0))

    def site(self, whole: Whole, row: int) -> tuple[float, np.ndarray]:
        """One facility's weighted people, sum_k P_k W(t_kj), and their part in each township (kept per site)."""
        s = self.spec
        at = whole.attached[s.mode]
        key = (self.id, s.mode, int(at.seg[row]), float(at.along_m[row]))  # the site; the unit gives the weights

        def make() -> tuple[float, np.ndarray]:
            cells, seconds = whole.reach.of_row(s.mode, at, row, s.reach_min * 60)
            weighted = whole.people[cells] * weights(s, seconds / 60)
            return float(weighted.sum()), whole.by_township_of(cells, weighted)
        return whole.reach.derived(key, make)

    def sites(self, whole: Whole) -> tuple[np.ndarray, np.ndarray]:
        """Per facility row with supply: its weighted people, sum_k P_k W(t_kj), and their part in each township
        (rows x townships; zeros for the other rows). The parent evaluation's values are reused for the rows
        that stand where they stood (its arrays themselves when no row with values moved and every row with
        supply has them).
        """
        def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            n, at = whole.n_facilities, whole.attached[self.spec.mode]
            parent = whole.parent
            kept = None if parent is None else parent.kept.get((self.id, "sites"))
            before = None if parent is None else parent.attached[self.spec.mode]
            if kept is not None and before is not None and len(kept[0]) == n:
                moved = (at.seg != before.seg) | (at.along_m != before.along_m)
                if kept[2][self.supplied(whole)].all() and not (kept[2] & moved).any():
                    return kept  # every row with supply known, none moved: the parent's arrays, read only
            demand, parts, known = np.zeros(n), np.zeros((n, whole.n_townships)), np.zeros(n, bool)
            if kept is not None and before is not None:
                demand0, parts0, known0 = kept
                m = len(demand0)
                same = known0 & (at.seg[:m] == before.seg) & (at.along_m[:m] == before.along_m)
                demand[:m][same], parts[:m][same], known[:m] = demand0[same], parts0[same], same
            todo = [int(row) for row in self.supplied(whole) if not known[row]]
            whole.reach.search_rows(self.spec.mode, at, np.array(todo, np.int64), self.spec.reach_min * 60)
            for row in todo:
                demand[row], parts[row] = self.site(whole, row)
                known[row] = True
            return demand, parts, known
        demand, parts, _ = whole.keep((self.id, "sites"), make)
        return demand, parts

    def ratios(self, whole: Whole) -> tuple[np.ndarray, np.ndarray]:
        """R_j per facility row (supply per weighted person, 0 without supply or demand) and, per township,
        sum over its cells of P_i A_i (the supply its people reach), in one evaluation (the parent's, when
        its sites' arrays, the supply and the group's members are the parent's).
        """
        def make() -> tuple[np.ndarray, np.ndarray]:
            supply = whole.counts(self.spec.resource)
            demand, parts = self.sites(whole)
            parent, group = whole.parent, self.spec.group
            if (parent is not None and (self.id, "ratios") in parent.kept
                    and parent.kept.get((self.id, "sites"), (None,))[0] is demand
                    and np.array_equal(supply, parent.counts(self.spec.resource))
                    and np.array_equal(whole.member[group], parent.member[group])):
                return parent.kept[(self.id, "ratios")]  # the same sites, supply and members: the same ratios
            ratio = np.zeros(whole.n_facilities)
            rows = self.supplied(whole)
            rows = rows[demand[rows] > 0]
            ratio[rows] = supply[rows] / demand[rows]
            # summed row after row, in the order of the rows
            used = np.add.reduce(ratio[rows, None] * parts[rows], axis=0) if len(rows) else np.zeros(whole.n_townships)
            return ratio, used
        return whole.keep((self.id, "ratios"), make)

    def evaluate(self, whole: Whole) -> Access:
        """R_j and A_i at every cell from all the pairs within reach (for maps and checks; kept per evaluation)."""
        def make() -> Access:
            s = self.spec
            supply = np.where(whole.member[s.group], whole.counts(s.resource), 0.0)
            at = whole.attached[s.mode]

            def sites() -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
                for row in self.supplied(whole):
                    cells, seconds = whole.reach.of_row(s.mode, at, int(row), s.reach_min * 60)
                    yield int(row), cells, weights(s, seconds / 60)
            return floating_catchment(supply, whole.people, sites(), len(whole.people))
        return whole.keep((self.id, "access"), make)

    def per_cell_per_1000(self, whole: Whole) -> np.ndarray:
        """A_i per 1,000 people at every cell."""
        return self.evaluate(whole).access * 1000

    @override
    def figures(self, tally: Tally, context: Context) -> list[Figure]:
        s, whole, total = self.spec, context.whole, context.total
        title = f"{s.resource.capitalize()} per 1,000 people within reach, with competition (E2SFCA, {s.mode})"
        if s.resource not in whole.counted:
            return [Figure(self.id, title, total, None, None, None, None, unit=self.unit,
                           details={"not_assessed": f"the facility list gives no {s.resource} counts "
                                                    f"(facilities.{s.resource}_column)"})]
        _, used = self.ratios(whole)
        value = float(used.sum()) / total * 1000 if total > 0 else None
        return [Figure(self.id, title, total, None, value, None, None, unit=self.unit,
                       details={"weight": s.weight, "reach_min": s.reach_min})]

    def column(self) -> str:
        """Its township column."""
        return f"{self.id}_per_1000"

    @override
    def township_value_names(self) -> list[str]:
        return [self.column()]

    @override
    def township_values(self, context: Context) -> dict[str, np.ndarray]:
        whole = context.whole
        if self.spec.resource not in whole.counted:
            return {}
        people = whole.township_people
        _, used = self.ratios(whole)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {self.column(): np.where(people > 0, used / people * 1000, np.nan).round(4)}

    @override
    def facility_value_names(self) -> list[str]:
        return [f"{self.id}_ratio_per_1000"]

    @override
    def facility_values(self, context: Context) -> dict[str, Any]:
        whole = context.whole
        if self.spec.resource not in whole.counted:
            return {}
        ratio, _ = self.ratios(whole)
        supplied = np.zeros(whole.n_facilities, bool)
        supplied[self.supplied(whole)] = True
        return {f"{self.id}_ratio_per_1000": np.where(supplied, ratio * 1000, np.nan).round(4)}
