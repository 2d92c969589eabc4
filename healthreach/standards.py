"""Coverage figures against the profile's standards, for the district and per township.

Every figure is a population-weighted share over the study-area cells of the
analysis grid: people (from the population grid) whose cell meets the
standard, divided by the people it applies to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from healthreach.inputs import StudyInputs
from healthreach.reach import access, point_cost
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


def _share(mask: np.ndarray, people: np.ndarray) -> tuple[float, float | None]:
    covered = float(people[mask].sum())
    total = float(people.sum())
    return covered, (covered / total if total > 0 else None)


def audit(inputs: StudyInputs, facilities: gpd.GeoDataFrame | None = None,
          travel: dict[Need, CellCost] | None = None) -> Audit:
    """Evaluate every standard in the profile; ``facilities`` replaces the study's (scenarios)."""
    facilities = inputs.facilities if facilities is None else facilities
    travel = travel if travel is not None else cell_travel(inputs, facilities)
    s = inputs.profile.standards
    cells = inputs.cells
    people, urban = cells.people, cells.urban
    figures: list[Figure] = []
    township_cols: dict[str, np.ndarray] = {}

    primary_s = np.full(len(people), np.inf)
    primary_fac = np.full(len(people), -1)
    if s.primary_care_15min:
        p = s.primary_care_15min
        limit = p.threshold_min * 60
        by_mode = {mode: travel[Need(p.group, mode, "time", "to")] for mode in {"walk", "drive", p.urban_mode, p.rural_mode}}
        primary_s = np.where(urban, by_mode[p.urban_mode].cost, by_mode[p.rural_mode].cost)
        primary_fac = np.where(urban, by_mode[p.urban_mode].facility, by_mode[p.rural_mode].facility)
        ok = primary_s <= limit
        covered, share = _share(ok, people)
        details = {f"{mode}_share": _share(by_mode[mode].cost <= limit, people)[1] for mode in ("walk", "drive")}
        details.update(urban_mode=p.urban_mode, rural_mode=p.rural_mode, threshold_min=p.threshold_min,
                       urban_share=_share(ok[urban], people[urban])[1],
                       rural_share=_share(ok[~urban], people[~urban])[1])
        figures.append(Figure("primary_care_15min",
                              f"{p.threshold_min:g}-minute medical circle ({p.urban_mode} in urban, {p.rural_mode} in rural areas)",
                              float(people.sum()), covered, share, p.target_share, _passes(share, p.target_share), details=details))
        township_cols["primary_care_share"] = ok
        township_cols["walk_15min_share"] = by_mode["walk"].cost <= limit
        township_cols["drive_15min_share"] = by_mode["drive"].cost <= limit

    line_cache: dict[str, np.ndarray] = {}  # straight-line metres per group, shared by both areas
    for area, spec in (("urban", s.emergency_radius_urban), ("rural", s.emergency_radius_rural)):
        if not spec:
            continue
        in_area = urban if area == "urban" else ~urban
        network_m = travel[Need(spec.group, "ambulance", "length", "from")].cost
        if spec.group not in line_cache:
            line_cache[spec.group] = straight_line_m(inputs, facilities, spec.group)
        line_m = line_cache[spec.group]
        for radius in spec.radii_m:
            ok = network_m <= radius
            covered, share = _share(ok[in_area], people[in_area])
            sid = f"emergency_radius_{area}" + ("" if len(spec.radii_m) == 1 else f"_{radius / 1000:g}km")
            figures.append(Figure(sid, f"{area.capitalize()} emergency service radius {radius / 1000:g} km (road network)",
                                  float(people[in_area].sum()), covered, share, spec.target_share,
                                  _passes(share, spec.target_share),
                                  details={"radius_m": radius, "straight_line_share":
                                           _share(line_m[in_area] <= radius, people[in_area])[1]}))
            township_cols[f"{sid}_share"] = np.where(in_area, ok, np.nan)

    if s.emergency_response_18min:
        r = s.emergency_response_18min
        response_s = travel[Need(r.group, "ambulance", "time", "from")].cost + inputs.profile.travel.dispatch_delay_min * 60
        ok = response_s <= r.threshold_min * 60
        covered, share = _share(ok, people)
        reachable = np.isfinite(response_s)
        mean_min = float(np.average(response_s[reachable], weights=people[reachable]) / 60) if people[reachable].sum() else None
        figures.append(Figure("emergency_response_18min",
                              f"Emergency response within {r.threshold_min:g} min (incl. {inputs.profile.travel.dispatch_delay_min:g} min dispatch)",
                              float(people.sum()), covered, share, None,
                              None if mean_min is None else mean_min <= r.target_mean_min,
                              details={"mean_response_min": mean_min, "target_mean_min": r.target_mean_min,
                                       "share_over_threshold": None if share is None else 1 - share,
                                       "unreachable_people": float(people[~reachable].sum())}))
        township_cols["response_18min_share"] = ok

    facility_township = _facility_township(inputs, facilities)
    in_area_amb = float(facilities["ambulances"].to_numpy()[facility_township >= 0].sum())
    total = float(people.sum())
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
        t = s.tertiary_hospital_1h
        has_any = in_group(facilities, inputs.profile.groups[t.group]).any()
        cost = travel[Need(t.group, "drive", "time", "to")].cost
        ok = cost <= t.threshold_min * 60
        covered, share = _share(ok, people)
        figures.append(Figure("tertiary_hospital_1h", f"Tertiary hospital within {t.threshold_min:g} min drive",
                              total, covered if has_any else None, share if has_any else None, t.target_share,
                              _passes(share, t.target_share) if has_any else None,
                              details={} if has_any else {"note": "no tertiary hospital in the facility table"}))
        township_cols["tertiary_1h_share"] = ok

    village_table = None
    if s.village_clinic_800 and inputs.villages is not None:
        village_table = _village_table(inputs, facilities, travel)
        figures.append(_village_figure(s.village_clinic_800, village_table))

    return Audit(inputs, facilities, travel, primary_s, primary_fac, figures,
                 _township_table(inputs, township_cols),
                 _facility_table(inputs, facilities, facility_township, primary_s, primary_fac, travel),
                 village_table)


def _village_table(inputs: StudyInputs, facilities: gpd.GeoDataFrame, travel: dict[Need, CellCost]) -> pd.DataFrame:
    """Each village's travel time (minutes) to the nearest facility of the standard's group, by its area's mode."""
    v = inputs.profile.standards.village_clinic_800
    villages = inputs.villages
    time_s, nearest = np.full(len(villages), np.inf), np.full(len(villages), -1)
    for mode, where in ((v.urban_mode, villages["urban"].to_numpy()), (v.rural_mode, ~villages["urban"].to_numpy())):
        surface = travel[Need(v.group, mode, "time", "to")].surface
        acc = access(inputs.network, villages["x"].to_numpy()[where], villages["y"].to_numpy()[where], mode)
        time_s[where] = point_cost(surface, acc, inputs.profile.travel.access_kmh)
        nearest[where] = surface.facility[acc.node]
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


def _village_figure(v, table: pd.DataFrame) -> Figure:
    """Large villages (>= min_population) must have care within the circle; small ones may rely on visits."""
    large = table["population"].to_numpy() >= v.min_population
    flagged = table[table["needs_clinic"]]
    population = float(table["population"].to_numpy()[large].sum())
    covered = population - float(flagged["population"].sum())
    return Figure("village_clinic_800", f"Villages of {v.min_population:,.0f}+ people with care within {v.threshold_min:g} min",
                  population, covered, covered / population if population else None, 1.0, flagged.empty,
                  details={"villages_checked": int(large.sum()), "villages_without_care": len(flagged),
                           "without_care": [f"{r.id} {r.name}" for r in flagged.head(20).itertuples()]})


def _passes(share: float | None, target: float) -> bool | None:
    return None if share is None else bool(share >= target - 1e-12)


def _ambulance_figure(sid: str, title: str, people: float, available: float, required: float) -> Figure:
    return Figure(sid, title, people, None, available / required if required else None, 1.0,
                  available >= required, unit="ambulances available / required",
                  details={"ambulances": available, "required": round(required, 2)})


def _facility_township(inputs: StudyInputs, facilities: gpd.GeoDataFrame) -> np.ndarray:
    """Row of the township each facility stands in (-1: outside the study area)."""
    pts = gpd.GeoSeries(gpd.points_from_xy(facilities["x"], facilities["y"]), crs=inputs.crs)
    idx = inputs.boundaries.sindex.query(pts, predicate="within")
    out = np.full(len(facilities), -1)
    out[idx[0]] = idx[1]
    return out


def _township_table(inputs: StudyInputs, masks: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per township: people and the share meeting each standard."""
    b = inputs.boundaries
    town, people = inputs.cells.township.astype(np.intp, copy=False), inputs.cells.people
    n = len(b)
    pop = np.bincount(town, weights=people, minlength=n)
    table = pd.DataFrame({"township_id": b["id"], "name": b["name"], "area_class": b["area_class"],
                          "people": pop.round(0), "census_people": b["census_pop"],
                          "area_km2": (np.bincount(town, minlength=n) * inputs.grid.cell_km2).round(2)})
    for name, mask in masks.items():
        # cells where the standard does not apply (NaN) add exact zeros: the same sums as selecting the others
        if np.asarray(mask).dtype == bool:
            covered = np.bincount(town, weights=people * mask, minlength=n)
            denom = pop
        else:
            mask = np.asarray(mask, float)
            applies = np.isfinite(mask)
            covered = np.bincount(town, weights=people * np.where(applies, mask, 0.0), minlength=n)
            denom = np.bincount(town, weights=people * applies, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            table[name] = np.where(denom > 0, covered / denom, np.nan).round(4)
    return table


def _facility_table(inputs: StudyInputs, facilities: gpd.GeoDataFrame, township: np.ndarray,
                    primary_s: np.ndarray, primary_fac: np.ndarray, travel: dict[Need, CellCost]) -> pd.DataFrame:
    """One row per facility: snap distances and catchment population (nearest-facility allocation)."""
    people = inputs.cells.people
    n = len(facilities)
    p = inputs.profile.standards.primary_care_15min
    limit = (p.threshold_min if p else 15) * 60
    reach = primary_fac >= 0
    catchment = np.bincount(primary_fac[reach], weights=people[reach], minlength=n)
    inside = reach & (primary_s <= limit)
    catchment_in = np.bincount(primary_fac[inside], weights=people[inside], minlength=n)
    primary_member = (in_group(facilities, inputs.profile.groups[p.group]) if p else np.zeros(n, bool))
    names = inputs.boundaries["name"].to_numpy()
    table = pd.DataFrame({
        "id": facilities["id"].to_numpy(), "name": facilities["name"].to_numpy(), "type": facilities["type"].to_numpy(),
        "township": np.where(township >= 0, names[np.maximum(township, 0)], ""),
        "beds": facilities["beds"].to_numpy(), "ambulances": facilities["ambulances"].to_numpy(),
        "emergency": facilities["emergency"].to_numpy(),
        "snap_walk_m": facilities["snap_walk_m"].round(1).to_numpy(),
        "snap_drive_m": facilities["snap_drive_m"].round(1).to_numpy(),
        "catchment_people": np.where(primary_member, catchment.round(0), np.nan),
        "catchment_people_15min": np.where(primary_member, catchment_in.round(0), np.nan),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        table["catchment_share_15min"] = (table["catchment_people_15min"] / table["catchment_people"]).round(4)
        table["beds_per_1000"] = np.where(catchment > 0, facilities["beds"].to_numpy() / catchment * 1000, np.nan).round(2)
    r = inputs.profile.standards.emergency_response_18min
    a = inputs.profile.standards.ambulances_per_population
    if r:
        emerg = travel[Need(r.group, "ambulance", "time", "from")].facility
        ok = emerg >= 0
        emerg_people = np.bincount(emerg[ok], weights=people[ok], minlength=n)
        member = in_group(facilities, inputs.profile.groups[r.group])
        table["emergency_catchment_people"] = np.where(member, emerg_people.round(0), np.nan)
        if a:
            table["ambulances_required"] = np.where(
                member, (a.county_base_factor * emerg_people / a.people_per_ambulance).round(2), np.nan)
    return table
