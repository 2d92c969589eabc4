"""Population groups (people aged 65 and over, children under 5, ...) on the analysis grid, beside everyone.

Each group of the study's ``population_groups:`` is a raster or polygon
layer of the group's people. It is placed on the very grid the main
population defines (a raster aggregated onto it whatever its CRS and
resolution, polygons spread evenly over their area), so every figure tallies
the same cells. With ``population.rescale_to_census`` each township's group
people are scaled by the factor that township's everyone was scaled by.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from healthreach.errors import InputError
from healthreach.grid import Grid
from healthreach.load.census import spread_polygons
from healthreach.load.population import is_polygon_source, read_population_on_grid, read_population_polygons
from healthreach.messages import Message, message_list
from healthreach.study import StudyFile

MAX_LISTED = 5  # townships named in a note


def read_groups(study: StudyFile, grid: Grid, flat: np.ndarray, township: np.ndarray,
                names: Sequence[str | Message], rescale: np.ndarray | None, everyone: np.ndarray,
                warnings: list[str | Message]) -> dict[str, np.ndarray]:
    """People of each group per study-area cell (``flat``: the cells' grid indices, ``township`` their rows).

    ``rescale``: per township, the factor the census rescaling applied to
    everyone (None: not rescaled). ``everyone``: people per cell, to check
    each group against: cells where a group holds more people than everyone
    are counted in ``warnings`` with the townships where they lie; a group
    holding more people than everyone in the whole study area, or nobody, is
    refused (a swapped or misplaced layer).
    """
    out = {}
    for key, spec in study.population_groups.items():
        where = Message("{file}: {key} ({path})", file=study.source, key=f"population_groups.{key}", path=spec.path)
        notes: list[str | Message] = []
        if is_polygon_source(spec.path):
            polys = read_population_polygons(spec.as_population(), notes).to_crs(grid.crs)
            people, report = spread_polygons(grid, polys.geometry.to_numpy(), polys["people"].to_numpy())
            notes.extend(report.notes)
        else:
            people = read_population_on_grid(spec.as_population(), grid, notes, f"population_groups.{key}")
        warnings.extend(Message("population_groups.{key}: {note}", key=key, note=note) for note in notes)
        cells = people.ravel()[flat]
        if rescale is not None:
            cells = cells * rescale[township]
        out[key] = _checked(cells, everyone, township, names, where, warnings)
    return out


def _checked(group: np.ndarray, everyone: np.ndarray, township: np.ndarray, names: Sequence[str | Message],
             where: str | Message, warnings: list[str | Message]) -> np.ndarray:
    """``group`` (people per cell) once checked against ``everyone``; see :func:`read_groups`."""
    total, all_people = float(group.sum()), float(everyone.sum())
    if total <= 0:
        msg = Message(
            "{where}: no people of the group in the study area; check that the layer covers the "
            "boundaries and holds people per cell (its nodata value and CRS)",
            where=where)
        raise InputError(msg)
    if total > all_people * (1 + 1e-9):
        msg = Message(
            "{where}: {total:,.0f} people of the group but {all_people:,.0f} people in all in the study "
            "area; a group is part of everyone: check that the layer is the group's and population: is "
            "everyone's",
            where=where, total=total, all_people=all_people)
        raise InputError(msg)
    over = group > everyone + 0.5  # half a person: resampling both layers leaves fractions of people
    if over.any():
        n = len(names)
        cells = np.bincount(township[over], minlength=n)
        excess = np.bincount(township[over], weights=group[over] - everyone[over], minlength=n)
        worst = np.argsort(-excess, kind="stable")[:MAX_LISTED]
        listed = message_list([Message("{name}: {cells:,} cells, {people:,.0f} people", name=names[t], cells=cells[t],
                                       people=excess[t]) for t in worst if cells[t]], ", ")
        warnings.append(Message(
            "{where}: {over:,} cells hold more people of the group than people in all ({excess:,.0f} "
            "people more); most in {listed}. The group's figures count them as the layer gives them; "
            "check that both layers are of one year and source",
            where=where, over=int(over.sum()), excess=float(excess.sum()), listed=listed))
    group.flags.writeable = False
    return group
