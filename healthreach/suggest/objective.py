"""What a site search raises: people newly within a travel-time limit of a facility group, everyone or a group.

Two kinds of limit:

* a ``circle`` or ``drive_time`` standard of the profile (default: the first
  circle): the cells it counts as covered, by its modes (walk in urban, drive
  in rural townships for a circle); the figure the search raises is the
  standard's own;
* a tier of the profile's ``tiers`` standard (``tier="township"``): the cells
  within ``tier_min`` minutes of a facility of the tier, by the tier's modes
  (the surfaces its catchments are drawn on). The tiers standard has no time
  limit of its own, so the limit is given (default: the first circle's).
  A new site of the tier's type joins that tier's catchments.

Either is counted in everyone's people or in a population group's
(``group="65plus"``): the group's people per cell are the weights the search
maximises, and everyone's are reported beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from healthreach.errors import SuggestError
from healthreach.evaluation import Evaluation
from healthreach.messages import Message
from healthreach.standards.circle import Circle
from healthreach.standards.drive_time import DriveTime
from healthreach.standards.groups import group_id
from healthreach.standards.naming import minutes
from healthreach.standards.tiers import Tiers, tiers_of
from healthreach.travel import Need


@dataclass(frozen=True)
class Objective:
    """The people a search counts: within ``limit_s`` seconds of a ``facility_group`` facility.

    ``urban_need`` and ``rural_need`` are the travel surfaces cells in urban
    and rural townships are measured on (the same for a drive-time standard).
    ``standard`` is the standard's id (the tiers standard's for a tier);
    ``tier`` the tier's name (None: a circle or drive-time standard);
    ``population_group`` the group whose people count (None: everyone).
    """

    standard: str
    facility_group: str
    limit_s: float
    urban_need: Need
    rural_need: Need
    tier: str | None = None
    population_group: str | None = None

    @property
    def id(self) -> str:
        """The figure raised, everyone's: the standard's id, or ``<tiers>_<tier>_<minutes>`` for a tier."""
        if self.tier is None:
            return self.standard
        return f"{self.standard}_{self.tier}_{minutes(self.limit_s / 60)}"

    @property
    def group_figure(self) -> str | None:
        """The figure raised for the population group (``<figure>_<group>``; None: no group)."""
        return None if self.population_group is None else group_id(self.id, self.population_group)

    def modes(self) -> list[tuple[str, str | None]]:
        """(mode, area) pairs cells are measured by: area ``urban``/``rural``, or None for every cell."""
        if self.urban_need == self.rural_need:
            return [(self.urban_need.mode, None)]
        return [(self.urban_need.mode, "urban"), (self.rural_need.mode, "rural")]

    def seconds(self, evaluation: Evaluation) -> np.ndarray:
        """Seconds per study-area cell to the nearest facility of the group, by the cell's area's surface."""
        urban = evaluation.inputs.cells.urban
        return np.where(urban, evaluation.travel[self.urban_need].cost, evaluation.travel[self.rural_need].cost)

    def weights(self, evaluation: Evaluation) -> np.ndarray:
        """People per cell the search counts: the population group's, or everyone's."""
        cells = evaluation.inputs.cells
        return cells.people if self.population_group is None else cells.groups[self.population_group]

    def covered(self, evaluation: Evaluation, group: bool) -> tuple[float, float]:
        """(people covered, share covered 0..1) in an evaluation: the group's (``group``) or everyone's.

        A standard's figure is read from the evaluation; a tier's is counted
        on the evaluation's travel surfaces.
        """
        if self.tier is None:
            figure = evaluation.figures[self.group_figure if group and self.group_figure else self.id]
            return figure.covered or 0.0, figure.share if figure.share is not None else np.nan
        people = self.weights(evaluation) if group else evaluation.inputs.cells.people
        covered = float(people[self.seconds(evaluation) <= self.limit_s].sum())
        total = float(people.sum())
        return covered, covered / total if total > 0 else np.nan

    def target(self, evaluation: Evaluation) -> float | None:
        """The standard's target share (None for a tier, or a standard without one)."""
        return None if self.tier is not None else evaluation.figures[self.id].target


def objective_of(base: Evaluation, standard: str | None = None, *, tier: str | None = None,
                 tier_min: float | None = None, group: str | None = None) -> Objective:
    """The objective of a search: a travel-time ``standard`` (default: the profile's first circle) or a ``tier``
    of the tiers standard within ``tier_min`` minutes, counted in a population ``group``'s people or everyone's.
    """
    if group is not None and group not in base.inputs.cells.groups:
        known = ", ".join(base.inputs.cells.groups) or "none"
        msg = Message("--group {group}: no population group '{group}' in study '{study}' (its groups: {known}); "
                      "groups are declared under population_groups: in study.yaml",
                      group=group, study=base.inputs.study.name, known=known)
        raise SuggestError(msg)
    if tier is not None:
        return _tier_objective(base, standard, tier, tier_min, group)
    if tier_min is not None:
        msg = Message("--tier-min {minutes} is the time limit of a --tier search; name the tier with --tier",
                      minutes=tier_min)
        raise SuggestError(msg)
    unit = check_standard(base, standard)
    if isinstance(unit, Circle):
        spec = unit.spec
        return Objective(unit.id, spec.group, unit.limit_s, unit.mode_need(spec.urban_mode),
                         unit.mode_need(spec.rural_mode), None, group)
    return Objective(unit.id, unit.spec.group, unit.spec.threshold_min * 60.0, unit.need, unit.need, None, group)


def _tier_objective(base: Evaluation, standard: str | None, tier: str, tier_min: float | None,
                    group: str | None) -> Objective:
    """The objective of a tier: people within ``tier_min`` minutes (default: the first circle's) of the tier."""
    study = base.study
    if standard is not None:
        msg = Message("--standard {standard} and --tier {tier}: name one objective, a standard or a tier",
                      standard=standard, tier=tier)
        raise SuggestError(msg)
    unit = tiers_of(study.standards)
    if not isinstance(unit, Tiers):
        msg = Message("--tier {tier}: profile '{profile}' has no tiers standard (kind: tiers)", tier=tier,
                      profile=base.inputs.profile.name)
        raise SuggestError(msg)
    spec = unit.spec.tiers.get(tier)
    if spec is None:
        msg = Message("--tier {tier}: no tier '{tier}' in standard '{standard}' (its tiers: {known})", tier=tier,
                      standard=unit.id, known=", ".join(unit.spec.tiers))
        raise SuggestError(msg)
    if tier_min is None:
        if study.primary is None:
            msg = Message("--tier {tier}: the profile has no circle standard to take the time limit from; "
                          "give it with --tier-min", tier=tier)
            raise SuggestError(msg)
        tier_min = study.primary.spec.threshold_min
    if not (np.isfinite(tier_min) and tier_min > 0):
        msg = Message("--tier-min must be a positive number of minutes; got {minutes}", minutes=tier_min)
        raise SuggestError(msg)
    urban, rural = Tiers.tier_needs(spec)
    return Objective(unit.id, spec.group, float(tier_min) * 60.0, urban, rural, tier, group)


def check_standard(base: Evaluation, standard: str | None) -> Circle | DriveTime:
    """The standard to search for (default: the profile's first circle); only travel-time standards qualify."""
    units = {s.id: s for s in base.study.standards}
    if standard is None:
        if base.study.primary is None:
            msg = Message("the profile has no circle standard; name a travel-time standard with --standard")
            raise SuggestError(msg)
        return base.study.primary
    usable = [s for s, u in units.items() if isinstance(u, Circle | DriveTime)]
    unit = units.get(standard)
    if not isinstance(unit, Circle | DriveTime):
        if unit is None:
            msg = Message("--standard {standard}: no standard in profile '{profile}'; sites can be searched for "
                          "these: {usable}", standard=standard, profile=base.inputs.profile.name,
                          usable=", ".join(usable))
        else:
            msg = Message("--standard {standard}: a '{kind}' standard, not a travel-time one, in profile "
                          "'{profile}'; sites can be searched for these: {usable}{tiers}", standard=standard,
                          kind=unit.kind, profile=base.inputs.profile.name, usable=", ".join(usable),
                          tiers=(Message("; for a tier's catchments use --tier")
                                 if isinstance(unit, Tiers) else ""))
        raise SuggestError(msg)
    return unit
