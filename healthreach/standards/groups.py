"""Every standard's figures for a population group (people aged 65 and over, children under 5, ...).

A group is another people weight on the same per-cell tests: its sums are a
:class:`~healthreach.standards.tally.Tally` built on the group's people, and
each standard's own :meth:`~healthreach.standards.base.Standard.figures`
turns them into the group's figures, with the group's totals as the context.
Only figures with a per-cell test have a group figure (an ambulance count or
a village rule is not about people in cells). Names add the group key:
figure ``primary_care_15min_65plus``, township column
``primary_care_15min_share_65plus``.
"""

from __future__ import annotations

import dataclasses

from healthreach.errors import StudyError
from healthreach.i18n import group_name
from healthreach.messages import Message
from healthreach.standards.base import Context, Figure, Standard
from healthreach.standards.tally import CellWeights, Tally


def group_id(name: str, group: str) -> str:
    """A figure id or table column of a group: ``primary_care_15min`` -> ``primary_care_15min_65plus``."""
    return f"{name}_{group}"


def group_context(context: Context, weights: CellWeights) -> Context:
    """The context with the group's people (in all, per area) as the totals."""
    return dataclasses.replace(context, total=weights.total, area_total=weights.area_total)


def group_figure_ids(unit: Standard, group: str) -> list[str]:
    """The ids of a standard's figures for a group (none for a standard without per-cell tests)."""
    return [group_id(fid, group) for fid in unit.tests()]


def group_figures(unit: Standard, tally: Tally, context: Context, group: str) -> list[Figure]:
    """A standard's figures for a group, from the group's sums and context (see :func:`group_context`).

    Each figure is the standard's own, renamed (:func:`group_id`), its title
    naming the group, and ``details["population_group"]`` the group key.
    """
    tested = unit.tests()
    if not tested:
        return []
    return [dataclasses.replace(figure, id=group_id(figure.id, group),
                                title=f"{figure.title}: {group_name(group, 'en')}",
                                details={**figure.details, "population_group": group})
            for figure in unit.figures(tally, context) if figure.id in tested]


def group_columns(unit: Standard, group: str) -> list[str]:
    """The township table columns a standard writes for a group."""
    return [group_id(c.name, group) for c in unit.township_columns()]


def check_group_names(units: tuple[Standard, ...], groups: list[str], profile: str) -> None:
    """Raise a StudyError when a group's figure or township column would take the name of another one."""
    for what, own, of_group in ((Message("figure"), lambda u: u.figure_ids(), group_figure_ids),
                                (Message("township column"), lambda u: [c.name for c in u.township_columns()],
                                 group_columns)):
        owner = {name: unit.id for unit in units for name in own(unit)}
        for group in groups:
            for unit in units:
                for name in of_group(unit, group):
                    if name in owner:
                        msg = Message("profile '{profile}': the {what} '{name}' of standard '{id}' for the population "
                                      "group '{group}' is also written by standard '{owner}'; rename that standard",
                                      profile=profile, what=what, name=name, id=unit.id, group=group,
                                      owner=owner[name])
                        raise StudyError(msg)
                    owner[name] = unit.id
