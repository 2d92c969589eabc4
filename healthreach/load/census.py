"""Census totals on the analysis grid: rescaling a raster, spreading totals over areas.

Three operations, all whole-array and total-preserving:

* :func:`spread_polygons` spreads the people of arbitrary polygons (a
  published population grid, census areas) onto the grid by the share of
  each polygon's area that falls in each cell, optionally weighted.
* :func:`spread_over_cells` spreads township totals over the cells already
  assigned to each township (the no-raster case), uniformly or weighted.
* :func:`rescale_to_census` scales a raster's cells so each township sums to
  its census total.

Weights for ``road_density`` come from :func:`road_length_per_cell`: people
are placed where the roads are, as settlements line roads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from affine import Affine
from rasterio import features

from healthreach.grid import Grid
from healthreach.load.population import apply_affine
from healthreach.messages import Message

_MAX_FINE_CELLS = 12_000_000  # cap on the sub-cells rasterised by spread_polygons (memory)


@dataclass
class CensusReport:
    """What a census operation did: people placed and notes naming townships."""

    people_in: float = 0.0
    people_placed: float = 0.0
    notes: list[str | Message] = field(default_factory=list)


def road_length_per_cell(grid: Grid, lines) -> np.ndarray:
    """Metres of road in each grid cell (array of the grid's shape).

    ``lines`` are LineStrings in the grid's CRS. Lines are cut into pieces
    at most a quarter cell long and each piece is counted in the cell of its
    midpoint.
    """
    geoms = shapely.segmentize(np.asarray(lines), grid.cell_m / 4)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    same = index[1:] == index[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    length = np.hypot(*(b - a).T)
    mid = (a + b) / 2
    col, row = apply_affine(~grid.transform, mid[:, 0], mid[:, 1])
    col, row = np.floor(col).astype(np.int64), np.floor(row).astype(np.int64)
    inside = (col >= 0) & (col < grid.width) & (row >= 0) & (row < grid.height)
    out = np.bincount(
        row[inside] * grid.width + col[inside], weights=length[inside], minlength=grid.width * grid.height
    )
    return out.reshape(grid.shape)


def spread_polygons(grid: Grid, polygons, people: np.ndarray, weights: np.ndarray | None = None,
                    subcells: int | None = None, names=None) -> tuple[np.ndarray, CensusReport]:
    """People per grid cell from people per polygon, preserving every polygon's total.

    Parameters
    ----------
    grid : Grid
        The analysis grid; ``polygons`` are in its CRS.
    polygons : array of shapely geometries
        Polygons or MultiPolygons (overlaps: the later polygon wins).
    people : ndarray
        People in each polygon.
    weights : ndarray, optional
        A weight per grid cell (grid shape), e.g. road metres. Each polygon's
        people go to its cells in proportion to area x weight; a polygon whose
        cells all weigh 0 is spread by area alone (and noted).
    subcells : int, optional
        Each cell is cut into ``subcells x subcells`` parts to measure the
        area shares (default: up to 10, fewer on very large grids).
    names : sequence of str, optional
        Polygon names for the notes.

    A polygon smaller than a sub-cell is placed whole in the cell holding a
    point inside it. A polygon partly off the grid places the share of its
    people that matches the share of its area on the grid; the rest, and
    polygons wholly off the grid, are not placed (``people_in -
    people_placed`` in the report).
    """
    polygons = np.asarray(polygons)
    people = np.asarray(people, float)
    names = list(names) if names is not None else [Message("polygon {n}", n=i + 1) for i in range(len(polygons))]
    report = CensusReport(people_in=float(people.sum()))
    h, w = grid.shape
    # a polygon reaching beyond the grid keeps only the people of its part on the grid
    box = shapely.box(grid.transform.c, grid.transform.f + h * grid.transform.e,
                      grid.transform.c + w * grid.transform.a, grid.transform.f)
    area = shapely.area(polygons)
    on_grid = np.where(area > 0, shapely.area(shapely.intersection(polygons, box)) / np.where(area > 0, area, 1), 1.0)
    people = people * np.clip(on_grid, 0.0, 1.0)
    k = subcells or int(np.clip(np.sqrt(_MAX_FINE_CELLS / (h * w)), 1, 10))
    fine = Affine(grid.transform.a / k, 0, grid.transform.c, 0, grid.transform.e / k, grid.transform.f)
    label = features.rasterize(((g, i) for i, g in enumerate(polygons) if g is not None and not g.is_empty),
                               out_shape=(h * k, w * k), transform=fine, fill=-1, dtype="int32")
    inside = label >= 0
    lab = label[inside]
    fine_weight = np.ones(label.shape)
    if weights is not None:
        fine_weight = np.repeat(np.repeat(np.asarray(weights, float), k, axis=0), k, axis=1)
    area_count = np.bincount(lab, minlength=len(polygons)).astype(float)
    weight_sum = np.bincount(lab, weights=fine_weight[inside], minlength=len(polygons))
    if weights is not None:
        no_weight = (area_count > 0) & (weight_sum <= 0) & (people > 0)
        for i in np.flatnonzero(no_weight)[:10]:
            report.notes.append(Message(
                "{name}: no roads inside, {people:,.0f} people spread evenly over its area",
                name=names[i], people=people[i]))
        if no_weight.sum() > 10:
            report.notes.append(Message(
                "... and {n} more areas without roads spread evenly",
                n=int(no_weight.sum()) - 10))
        use_area = no_weight[lab]
        per = np.where(use_area, people[lab] / np.maximum(area_count[lab], 1),
                       people[lab] * fine_weight[inside] / np.where(weight_sum[lab] > 0, weight_sum[lab], 1))
    else:
        per = people[lab] / area_count[lab]
    values = np.zeros(label.shape)
    values[inside] = per
    out = values.reshape(h, k, w, k).sum(axis=(1, 3))

    tiny = np.flatnonzero((area_count == 0) & (people > 0))
    if len(tiny):
        pts = shapely.point_on_surface(polygons[tiny])
        col, row = apply_affine(~grid.transform, shapely.get_x(pts), shapely.get_y(pts))
        col, row = np.floor(col).astype(np.int64), np.floor(row).astype(np.int64)
        ok = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        np.add.at(out, (row[ok], col[ok]), people[tiny][ok])
    report.people_placed = float(out.sum())
    return out, report


def spread_over_cells(township: np.ndarray, totals: np.ndarray, weights: np.ndarray | None = None,
                      names=None) -> tuple[np.ndarray, CensusReport]:
    """People per cell from township totals, spread over each township's cells.

    Parameters
    ----------
    township : ndarray of int
        The township row of each cell (study-area cells only, no -1).
    totals : ndarray
        People per township (NaN: unknown, noted and left at 0).
    weights : ndarray, optional
        Weight per cell (e.g. road metres); uniform when omitted or when a
        township's cells all weigh 0 (noted).
    """
    totals = np.asarray(totals, float)
    names = list(names) if names is not None else [Message("township {n}", n=i + 1) for i in range(len(totals))]
    report = CensusReport(people_in=float(np.nansum(totals)))
    n = len(totals)
    cells_per = np.bincount(township, minlength=n).astype(float)
    w = np.ones(len(township)) if weights is None else np.asarray(weights, float)
    weight_sum = np.bincount(township, weights=w, minlength=n)
    if weights is not None:
        flat = (weight_sum <= 0) & (cells_per > 0)
        for i in np.flatnonzero(flat & (totals > 0)):
            report.notes.append(Message(
                "{name}: no roads inside, {totals:,.0f} people spread evenly over it",
                name=names[i], totals=totals[i]))
        w = np.where(flat[township], 1.0, w)
        weight_sum = np.bincount(township, weights=w, minlength=n)
    for i in np.flatnonzero(np.isnan(totals)):
        report.notes.append(Message("{name}: no census total; counted as 0 people", name=names[i]))
    for i in np.flatnonzero((cells_per == 0) & (np.nan_to_num(totals) > 0)):
        report.notes.append(Message(
            "{name}: smaller than one grid cell; its {totals:,.0f} people are not placed (use a finer "
            "grid_m)",
            name=names[i], totals=totals[i]))
    safe_total = np.nan_to_num(totals)
    people = safe_total[township] * w / np.where(weight_sum > 0, weight_sum, 1)[township]
    report.people_placed = float(people.sum())
    return people, report


def rescale_to_census(people: np.ndarray, township: np.ndarray, totals: np.ndarray,
                      names=None, disagree_factor: float = 2.0) -> tuple[np.ndarray, CensusReport]:
    """Scale cells so every township's people sum to its census total.

    Parameters
    ----------
    people : ndarray
        People per cell (study-area cells).
    township : ndarray of int
        Township row per cell.
    totals : ndarray
        Census people per township; NaN leaves that township as it is (noted).
    disagree_factor : float
        A township whose raster sum and census differ by more than this factor
        is noted: one of the two may be wrong (or the boundary).

    A township with a census total but no people in the raster gets its total
    spread evenly over its cells (noted).
    """
    totals = np.asarray(totals, float)
    names = list(names) if names is not None else [Message("township {n}", n=i + 1) for i in range(len(totals))]
    n = len(totals)
    report = CensusReport(people_in=float(people.sum()))
    current = np.bincount(township, weights=people, minlength=n)
    cells_per = np.bincount(township, minlength=n)
    known = np.isfinite(totals)
    factor = np.where(known & (current > 0), totals / np.where(current > 0, current, 1), 1.0)
    out = people * factor[township]
    empty = known & (current <= 0) & (totals > 0) & (cells_per > 0)
    if empty.any():
        even = np.where(empty, totals / np.maximum(cells_per, 1), 0.0)
        out = np.where(empty[township], even[township], out)
    for i in np.flatnonzero(empty):
        report.notes.append(Message(
            "{name}: census {totals:,.0f} people but none in the population raster; spread evenly over "
            "the township",
            name=names[i], totals=totals[i]))
    for i in np.flatnonzero(~known):
        report.notes.append(Message(
            "{name}: no census total; raster population kept ({current:,.0f})",
            name=names[i], current=current[i]))
    odd = known & (current > 0) & ((factor > disagree_factor) | (factor < 1 / disagree_factor))
    for i in np.flatnonzero(odd):
        report.notes.append(Message(
            "{name}: raster {current:,.0f} vs census {totals:,.0f} people (x{factor:.2f}); check the "
            "boundary and both sources",
            name=names[i], current=current[i], totals=totals[i], factor=factor[i]))
    report.people_placed = float(out.sum())
    return out, report
