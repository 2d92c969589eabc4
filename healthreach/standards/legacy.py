"""Coverage figures against the profile's standards, for the district and per township.

Every figure is a population-weighted share over the study-area cells of the
analysis grid: people (from the population grid) whose cell meets the
standard, divided by the people it applies to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numba import njit

from healthreach.inputs import StudyInputs
from healthreach.load.facilities import has_ambulance_counts
from healthreach.network import Attachment
from healthreach.reach import point_cost
from healthreach.travel import CellCost, Need, cell_travel, in_group, straight_line_m


@dataclass
class Figure:
    """One standard's result for the study area."""

    id: str
    title: str
    population: float            # people the standard applies to
    covered: float | None        # people meeting it
    share: float | None          # covered / population, 0..1
    target: float | None         # target share (or ratio, see unit)
    passed: bool | None          # None: could not be evaluated
    unit: str = "share of people"
    details: dict = field(default_factory=dict)
    unreachable: float | None = None  # people who cannot reach any facility of the group by the mode (None: n/a)


@dataclass
class Audit:
    """The result of auditing one study (baseline or scenario)."""

    inputs: StudyInputs
    facilities: gpd.GeoDataFrame
    travel: dict[Need, CellCost]
    primary_s: np.ndarray          # per cell: seconds to primary care in the area's mode
    primary_facility: np.ndarray   # per cell: nearest primary-care facility row (-1: none)
    figures: list[Figure]
    townships: pd.DataFrame
    facility_table: pd.DataFrame
    village_table: pd.DataFrame | None = None  # one row per village, when the study lists villages

    def figure(self, standard_id: str) -> Figure:
        return next(f for f in self.figures if f.id == standard_id)


@njit(cache=True)
def _people_by_township(cells, township, people, masks, n):  # pragma: no cover - compiled
    """People per (township, mask) over the given cells: ``out[t, j]`` sums ``people[c]`` where ``masks[j, cells[c]]``.

    Each sum adds its cells in the order given (ascending), as
    ``np.bincount(township, weights=people * mask)`` does, and a cell left out
    adds an exact zero (``people * False``), so the sums are the same to the
    last bit. The masks are the inner loop: their sums are independent, so
    they run side by side instead of waiting on one another.
    """
    k = masks.shape[0]
    out = np.zeros((n, k))
    for c in range(len(cells)):
        cell, t, p = cells[c], township[c], people[c]
        for j in range(k):
            out[t, j] += p * masks[j, cell]
    return out


@njit(cache=True)
def _people_by_row(cells, people, row, counted, n):  # pragma: no cover - compiled
    """People per row over the given cells where ``row[cell] >= 0`` and ``counted[cell]`` (as ``np.bincount``)."""
    out = np.zeros(n)
    for c in range(len(cells)):
        r = row[cells[c]]
        if r >= 0 and counted[cells[c]]:
            out[r] += people[c]
    return out


@dataclass(frozen=True)
class _CellWeights:
    """Constants for summing people over cells, derived once per :class:`StudyInputs`.

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


def _cell_weights(inputs: StudyInputs) -> _CellWeights:
    """The study's :class:`_CellWeights`, kept on ``inputs``."""
    return inputs.memo("cell_weights", (inputs.cells, inputs.boundaries), lambda: _build_cell_weights(inputs))


def _build_cell_weights(inputs: StudyInputs) -> _CellWeights:
    cells, n = inputs.cells, len(inputs.boundaries)
    town, people, urban = cells.township.astype(np.intp, copy=False), cells.people, cells.urban
    populated = np.flatnonzero(people != 0)
    pop_town, pop_people = town[populated], people[populated]
    return _CellWeights(
        populated, pop_town, pop_people, np.bincount(town, weights=people, minlength=n), np.bincount(town, minlength=n),
        dict(zip(("urban", "rural"), _people_by_township(populated, pop_town, pop_people, np.stack([urban, ~urban]), n).T)),
        float(people.sum()), {"urban": float(people[urban].sum()), "rural": float(people[~urban].sum())})


class _Tally:
    """Per-cell tests (bool masks), summed as people per township in one compiled pass."""

    def __init__(self, weights: _CellWeights):
        self.weights = weights
        self._masks: list[np.ndarray] = []
        self._sums: np.ndarray | None = None

    def add(self, mask: np.ndarray) -> int:
        """Register a mask; returns its column in :meth:`per_township`."""
        self._masks.append(mask)
        return len(self._masks) - 1

    def per_township(self, column: int) -> np.ndarray:
        """People per township in the cells of one mask (all masks are summed on the first call)."""
        if self._sums is None:
            w = self.weights
            self._sums = _people_by_township(w.populated, w.populated_township, w.populated_people,
                                             np.stack(self._masks), len(w.township_people))
        return self._sums[:, column]

    def people(self, column: int) -> float:
        """People in the cells of one mask."""
        return float(self.per_township(column).sum())


def _share(covered: float, total: float) -> float | None:
    return covered / total if total > 0 else None


def audit(inputs: StudyInputs, facilities: gpd.GeoDataFrame | None = None,
          travel: dict[Need, CellCost] | None = None) -> Audit:
    """Evaluate every standard in the profile; ``facilities`` replaces the study's (scenarios).

    Each standard's per-cell test is computed first; one compiled pass then
    sums the people meeting every test per township (:class:`_Tally`), and
    the study-area figures are those sums added over the townships.
    """
    facilities = inputs.facilities if facilities is None else facilities
    travel = travel if travel is not None else cell_travel(inputs, facilities)
    s = inputs.profile.standards
    cells = inputs.cells
    people, urban = cells.people, cells.urban
    weights = _cell_weights(inputs)
    total = weights.total
    tally = _Tally(weights)
    # per township column: (tally column, area it applies to: None = every cell, "urban" / "rural")
    township_cols: dict[str, tuple[int, str | None]] = {}
    unreachable_cols: dict[str, int] = {}  # per township column of unreachable people: its tally column
    areas = {"urban": urban, "rural": ~urban}
    members: dict[str, np.ndarray] = {}  # per group: which facilities belong to it

    def member(group: str) -> np.ndarray:
        if group not in members:
            members[group] = in_group(facilities, inputs.profile.groups[group])
        return members[group]

    line_cache: dict[str, np.ndarray] = {}  # straight-line metres per group, shared by both areas

    # 1. every per-cell test
    primary_s = np.full(len(people), np.inf)
    primary_fac = np.full(len(people), -1)
    if s.primary_care_15min:
        p = s.primary_care_15min
        limit = p.threshold_min * 60
        by_mode = {mode: travel[Need(p.group, mode, "time", "to")] for mode in {"walk", "drive", p.urban_mode, p.rural_mode}}
        primary_s = np.where(urban, by_mode[p.urban_mode].cost, by_mode[p.rural_mode].cost)
        primary_fac = np.where(urban, by_mode[p.urban_mode].facility, by_mode[p.rural_mode].facility)
        ok = primary_s <= limit
        col_primary = {"all": tally.add(ok), "urban": tally.add(ok & urban), "rural": tally.add(ok & ~urban)}
        col_mode = {mode: tally.add(by_mode[mode].cost <= limit) for mode in ("walk", "drive")}
        township_cols["primary_care_share"] = (col_primary["all"], None)
        township_cols["walk_15min_share"] = (col_mode["walk"], None)
        township_cols["drive_15min_share"] = (col_mode["drive"], None)
        unreachable_cols["primary_care_unreachable"] = tally.add(~np.isfinite(primary_s))

    radius_cols: dict[tuple[str, float], tuple[int, int]] = {}  # (area, radius): (network, straight line)
    for area, spec in (("urban", s.emergency_radius_urban), ("rural", s.emergency_radius_rural)):
        if not spec:
            continue
        network_m = travel[Need(spec.group, "ambulance", "length", "from")].cost
        if spec.group not in line_cache:
            line_m = straight_line_m(inputs, facilities, spec.group, member(spec.group))  # kept per set of sites
            line_cache[spec.group] = line_m
        line_m = line_cache[spec.group]
        for radius in spec.radii_m:
            radius_cols[area, radius] = (tally.add((network_m <= radius) & areas[area]),
                                         tally.add((line_m <= radius) & areas[area]))
            sid = f"emergency_radius_{area}" + ("" if len(spec.radii_m) == 1 else f"_{radius / 1000:g}km")
            township_cols[f"{sid}_share"] = (radius_cols[area, radius][0], area)
        unreachable_cols[f"emergency_radius_{area}_unreachable"] = tally.add(~np.isfinite(network_m) & areas[area])

    if s.emergency_response_18min:
        r = s.emergency_response_18min
        response_s = travel[Need(r.group, "ambulance", "time", "from")].cost + inputs.profile.travel.dispatch_delay_min * 60
        reachable = np.isfinite(response_s)
        col_response, col_reachable = tally.add(response_s <= r.threshold_min * 60), tally.add(reachable)
        township_cols["response_18min_share"] = (col_response, None)
        unreachable_cols["response_18min_unreachable"] = tally.add(~reachable)

    if s.tertiary_hospital_1h:
        t = s.tertiary_hospital_1h
        tertiary_s = travel[Need(t.group, "drive", "time", "to")].cost
        col_tertiary = tally.add(tertiary_s <= t.threshold_min * 60)
        township_cols["tertiary_1h_share"] = (col_tertiary, None)
        unreachable_cols["tertiary_1h_unreachable"] = tally.add(~np.isfinite(tertiary_s))

    # 2. the figures, in the profile's order
    figures: list[Figure] = []
    if s.primary_care_15min:
        covered = tally.people(col_primary["all"])
        share = _share(covered, total)
        details = {f"{mode}_share": _share(tally.people(col_mode[mode]), total) for mode in ("walk", "drive")}
        details.update(urban_mode=p.urban_mode, rural_mode=p.rural_mode, threshold_min=p.threshold_min,
                       urban_share=_share(tally.people(col_primary["urban"]), weights.area_total["urban"]),
                       rural_share=_share(tally.people(col_primary["rural"]), weights.area_total["rural"]))
        figures.append(Figure("primary_care_15min",
                              f"{p.threshold_min:g}-minute medical circle ({p.urban_mode} in urban, {p.rural_mode} in rural areas)",
                              total, covered, share, p.target_share, _passes(share, p.target_share), details=details,
                              unreachable=tally.people(unreachable_cols["primary_care_unreachable"])))

    for area, spec in (("urban", s.emergency_radius_urban), ("rural", s.emergency_radius_rural)):
        if not spec:
            continue
        area_total = weights.area_total[area]
        for radius in spec.radii_m:
            col_network, col_line = radius_cols[area, radius]
            covered = tally.people(col_network)
            share = _share(covered, area_total)
            sid = f"emergency_radius_{area}" + ("" if len(spec.radii_m) == 1 else f"_{radius / 1000:g}km")
            figures.append(Figure(sid, f"{area.capitalize()} emergency service radius {radius / 1000:g} km (road network)",
                                  area_total, covered, share, spec.target_share,
                                  _passes(share, spec.target_share),
                                  details={"radius_m": radius,
                                           "straight_line_share": _share(tally.people(col_line), area_total)},
                                  unreachable=tally.people(unreachable_cols[f"emergency_radius_{area}_unreachable"])))

    if s.emergency_response_18min:
        covered = tally.people(col_response)
        share = _share(covered, total)
        reachable_people = tally.people(col_reachable)
        unreachable = tally.people(unreachable_cols["response_18min_unreachable"])
        # people-weighted mean over the reachable people only; the unreachable are counted beside it
        mean_min = (float(np.dot(np.where(reachable, response_s, 0.0), people)) / reachable_people / 60
                    if reachable_people else None)
        figures.append(Figure("emergency_response_18min",
                              f"Emergency response within {r.threshold_min:g} min (incl. {inputs.profile.travel.dispatch_delay_min:g} min dispatch)",
                              total, covered, share, None,
                              # people an ambulance cannot reach at all fail the target whatever the others' mean
                              (mean_min <= r.target_mean_min and not unreachable) if mean_min is not None
                              else (False if total else None),
                              details={"mean_response_min": mean_min, "mean_over": "reachable people",
                                       "target_mean_min": r.target_mean_min,
                                       "share_over_threshold": None if share is None else 1 - share,
                                       "unreachable_people": unreachable},
                              unreachable=unreachable))

    facility_township = _facility_township(inputs, facilities)
    in_area_amb = float(facilities["ambulances"].to_numpy()[facility_township >= 0].sum())
    if s.ambulances_per_population:
        a = s.ambulances_per_population
        required = a.county_base_factor * total / a.people_per_ambulance
        figures.append(_ambulance_figure("ambulances_per_population",
                                         f"One ambulance per {a.people_per_ambulance:,.0f} people ({a.county_base_factor:.0%} county base)",
                                         total, in_area_amb, required))
    if s.ambulances_per_10k:
        required = s.ambulances_per_10k.per_10k * total / 10_000
        figures.append(_ambulance_figure("ambulances_per_10k", f"{s.ambulances_per_10k.per_10k:g} ambulances per 10,000 people",
                                         total, in_area_amb, required))

    if s.tertiary_hospital_1h:
        covered = tally.people(col_tertiary)
        share = _share(covered, total)
        figures.append(Figure("tertiary_hospital_1h", f"Tertiary hospital within {t.threshold_min:g} min drive",
                              total, covered, share, t.target_share, _passes(share, t.target_share),
                              unreachable=tally.people(unreachable_cols["tertiary_1h_unreachable"])))

    village_table = None
    if s.village_clinic_800 and inputs.villages is not None:
        village_table = _village_table(inputs, facilities, travel)
        figures.append(_village_figure(s.village_clinic_800, village_table))
    _mark_not_assessed(figures, inputs, member)

    return Audit(inputs, facilities, travel, primary_s, primary_fac, figures,
                 _township_table(inputs, tally, township_cols, unreachable_cols),
                 _facility_table(inputs, facilities, facility_township, primary_s, primary_fac, travel, member),
                 village_table)


def _village_table(inputs: StudyInputs, facilities: gpd.GeoDataFrame, travel: dict[Need, CellCost]) -> pd.DataFrame:
    """Each village's travel time (minutes) to the nearest facility of the standard's group, by its area's mode."""
    v = inputs.profile.standards.village_clinic_800
    villages = inputs.villages
    time_s, nearest = np.full(len(villages), np.inf), np.full(len(villages), -1)
    for mode, where in ((v.urban_mode, villages["urban"].to_numpy()), (v.rural_mode, ~villages["urban"].to_numpy())):
        surface = travel[Need(v.group, mode, "time", "to")].surface
        acc = _village_access(inputs, mode, where)
        time_s[where], nearest[where] = point_cost(inputs.network, surface, acc, inputs.profile.travel.access_kmh)
    names = facilities["name"].to_numpy()
    towns = inputs.boundaries["name"].to_numpy()
    township = villages["township"].to_numpy()
    minutes = time_s / 60
    return pd.DataFrame({
        "id": villages["id"].to_numpy(), "name": villages["name"].to_numpy(),
        "township": np.where(township >= 0, towns[np.maximum(township, 0)], ""),
        "population": villages["population"].round(0).to_numpy(),
        "minutes_to_care": np.where(np.isfinite(minutes), minutes.round(1), np.nan),
        "nearest_facility": np.where(nearest >= 0, names[np.maximum(nearest, 0)], ""),
        "needs_clinic": (villages["population"].to_numpy() >= v.min_population) & ~(time_s <= v.threshold_min * 60),
    })


def _village_access(inputs: StudyInputs, mode: str, where: np.ndarray) -> Attachment:
    """Where the villages selected by ``where`` attach to the mode's roads (kept on ``inputs``)."""
    villages = inputs.villages
    return inputs.memo(("village_access", mode, where.tobytes()), (villages, inputs.network),
                       lambda: inputs.network.attach(villages["x"].to_numpy()[where], villages["y"].to_numpy()[where], mode))


def _village_figure(v, table: pd.DataFrame) -> Figure:
    """Large villages (>= min_population) must have care within the circle; small ones may rely on visits."""
    pop = table["population"].to_numpy()
    large = pop >= v.min_population
    flagged = table["needs_clinic"].to_numpy(bool)
    population = float(pop[large].sum())
    covered = population - float(pop[flagged].sum())
    no_care = large & table["minutes_to_care"].isna().to_numpy()  # no facility of the group reachable at all
    listed = np.flatnonzero(flagged)[:20]
    ids, names = table["id"].to_numpy()[listed], table["name"].to_numpy()[listed]
    return Figure("village_clinic_800", f"Villages of {v.min_population:,.0f}+ people with care within {v.threshold_min:g} min",
                  population, covered, covered / population if population else None, 1.0, not flagged.any(),
                  details={"villages_checked": int(large.sum()), "villages_without_care": int(flagged.sum()),
                           "without_care": [f"{i} {name}" for i, name in zip(ids, names)]},
                  unreachable=float(pop[no_care].sum()))


def _standard_group(figure_id: str, standards) -> str | None:
    """The facility group a figure measures access to (None: not a group's standard, e.g. ambulance counts)."""
    for name in ("primary_care_15min", "emergency_response_18min", "tertiary_hospital_1h", "village_clinic_800",
                 "emergency_radius_urban", "emergency_radius_rural"):
        spec = getattr(standards, name)
        if spec is not None and (figure_id == name or figure_id.startswith(f"{name}_")):
            return spec.group
    return None


def _mark_not_assessed(figures: list[Figure], inputs: StudyInputs, member: Callable[[str], np.ndarray]) -> None:
    """Mark every figure that cannot be assessed (``passed`` None, a reason in details).

    With no facility of its group, in the study's own table as in the
    evaluated one, a standard cannot be met or missed: a 0 % share would
    blame the roads for what is missing from the facility table. (A scenario
    that closes a group's last facility is assessed: it leaves nobody
    covered.) The ambulance ratios need ambulance counts in the facility list.
    """
    standards, groups = inputs.profile.standards, inputs.profile.groups
    if not has_ambulance_counts(inputs.study.facilities):
        for figure in figures:
            if figure.id in ("ambulances_per_population", "ambulances_per_10k"):
                figure.share, figure.passed = None, None
                figure.details = {**figure.details, "ambulances": None,
                                  "not_assessed": "the facility list gives no ambulance counts "
                                                  "(facilities.ambulances_column)"}
    for figure in figures:
        group = _standard_group(figure.id, standards)
        if group is None or member(group).any() or in_group(inputs.facilities, groups[group]).any():
            continue  # a scenario that closes a group's last facility is assessed: nobody is covered
        spec = groups[group]
        types = ", ".join(spec.types) or "none listed"
        flag = " or flagged emergency" if spec.emergency_flag else ""
        figure.covered, figure.share, figure.passed, figure.unreachable = None, None, None, None
        figure.details = {**figure.details, "not_assessed": f"no facility of group '{group}' (types: {types}{flag}) "
                                                            f"in the facility table"}


def _passes(share: float | None, target: float) -> bool | None:
    return None if share is None else bool(share >= target - 1e-12)


def _ambulance_figure(sid: str, title: str, people: float, available: float, required: float) -> Figure:
    return Figure(sid, title, people, None, available / required if required else None, 1.0,
                  available >= required if required > 0 else None, unit="ambulances available / required",
                  details={"ambulances": available, "required": round(required, 2)})


def _facility_township(inputs: StudyInputs, facilities: gpd.GeoDataFrame) -> np.ndarray:
    """Row of the township each facility stands in (-1: outside the study area).

    The study's own facilities are located once (kept on ``inputs``); a
    scenario's table only locates its rows that are new or stand elsewhere
    than the study's row of the same position.
    """
    base = inputs.facilities
    located = inputs.memo("facility_township", (base, inputs.boundaries), lambda: _locate_in_townships(
        inputs, base["x"].to_numpy(float), base["y"].to_numpy(float)))
    if facilities is base:
        return located.copy()
    x, y = facilities["x"].to_numpy(float), facilities["y"].to_numpy(float)
    n = min(len(x), len(base))
    out = np.full(len(x), -1)
    out[:n] = located[:n]
    # rows to locate: beyond the study's table, or not where the study's row of that position stands
    todo = np.r_[np.flatnonzero((x[:n] != base["x"].to_numpy(float)[:n]) | (y[:n] != base["y"].to_numpy(float)[:n])),
                 np.arange(n, len(x))]
    if len(todo):
        out[todo] = _locate_in_townships(inputs, x[todo], y[todo])
    return out


def _locate_in_townships(inputs: StudyInputs, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row of the township each point (analysis CRS, metres) stands in (-1: outside the study area)."""
    idx = inputs.boundaries.sindex.query(shapely.points(x, y), predicate="within")
    out = np.full(len(x), -1)
    out[idx[0]] = idx[1]
    return out


def _township_table(inputs: StudyInputs, tally: _Tally, columns: dict[str, tuple[int, str | None]],
                    unreachable: dict[str, int] | None = None) -> pd.DataFrame:
    """One row per township: people, the share meeting each standard and the people who reach no facility.

    ``columns`` maps each share column to its tally column and the area the
    standard applies to (None: every cell; else "urban" / "rural", the
    share's denominator being that area's people in the township).
    ``unreachable`` maps each ``*_unreachable`` column (people, rounded) to
    its tally column.
    """
    b, w = inputs.boundaries, tally.weights
    table = {"township_id": b["id"], "name": b["name"], "area_class": b["area_class"],
             "people": w.township_people.round(0), "census_people": b["census_pop"],
             "area_km2": (w.township_cells * inputs.grid.cell_km2).round(2)}
    for name, (column, area) in columns.items():
        covered = tally.per_township(column)
        denom = w.township_people if area is None else w.area_people[area]
        with np.errstate(invalid="ignore", divide="ignore"):
            table[name] = np.where(denom > 0, covered / denom, np.nan).round(4)
    for name, column in (unreachable or {}).items():
        table[name] = tally.per_township(column).round(0)
    return pd.DataFrame(table, index=b.index)  # built at once: column by column is slow in pandas


def _people_per_facility(weights: _CellWeights, facility: np.ndarray, counted: np.ndarray | None,
                         n: int) -> np.ndarray:
    """People per facility row (``facility`` per cell, -1: none), over the cells ``counted`` (None: all)."""
    counted = np.ones(len(facility), bool) if counted is None else counted
    return _people_by_row(weights.populated, weights.populated_people, facility, counted, n)


def _facility_table(inputs: StudyInputs, facilities: gpd.GeoDataFrame, township: np.ndarray,
                    primary_s: np.ndarray, primary_fac: np.ndarray, travel: dict[Need, CellCost],
                    member: Callable[[str], np.ndarray] | None = None) -> pd.DataFrame:
    """One row per facility: snap distances and catchment population (nearest-facility allocation).

    ``member(group)``, when given, says which facilities belong to a group (as :func:`in_group`).
    """
    if member is None:
        def member(group: str) -> np.ndarray:
            return in_group(facilities, inputs.profile.groups[group])
    weights = _cell_weights(inputs)
    n = len(facilities)
    p = inputs.profile.standards.primary_care_15min
    limit = (p.threshold_min if p else 15) * 60
    catchment = _people_per_facility(weights, primary_fac, None, n)
    catchment_in = _people_per_facility(weights, primary_fac, primary_s <= limit, n)
    primary_member = member(p.group) if p else np.zeros(n, bool)
    names = inputs.boundaries["name"].to_numpy()
    # counts the facility list does not give are blank, not zeros
    known = inputs.study.facilities
    beds = facilities["beds"].to_numpy(float) if known.beds_column is not None else np.full(n, np.nan)
    ambulances = facilities["ambulances"].to_numpy(float) if has_ambulance_counts(known) else np.full(n, np.nan)
    columns = {
        "id": facilities["id"].to_numpy(), "name": facilities["name"].to_numpy(), "type": facilities["type"].to_numpy(),
        "township": np.where(township >= 0, names[np.maximum(township, 0)], ""),
        "beds": pd.array(beds, dtype="Int64"), "ambulances": pd.array(ambulances, dtype="Int64"),
        "emergency": facilities["emergency"].to_numpy(),
        "snap_walk_m": facilities["snap_walk_m"].to_numpy().round(1),
        "snap_drive_m": facilities["snap_drive_m"].to_numpy().round(1),
        "catchment_people": np.where(primary_member, catchment.round(0), np.nan),
        "catchment_people_15min": np.where(primary_member, catchment_in.round(0), np.nan),
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        columns["catchment_share_15min"] = (columns["catchment_people_15min"] / columns["catchment_people"]).round(4)
        columns["beds_per_1000"] = np.where(catchment > 0, beds / catchment * 1000, np.nan).round(2)
    r = inputs.profile.standards.emergency_response_18min
    a = inputs.profile.standards.ambulances_per_population
    if r:
        emerg_people = _people_per_facility(weights, travel[Need(r.group, "ambulance", "time", "from")].facility,
                                            None, n)
        emergency_member = member(r.group)
        columns["emergency_catchment_people"] = np.where(emergency_member, emerg_people.round(0), np.nan)
        if a:
            columns["ambulances_required"] = np.where(
                emergency_member, (a.county_base_factor * emerg_people / a.people_per_ambulance).round(2), np.nan)
    return pd.DataFrame(columns)
