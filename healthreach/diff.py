"""What changes between two evaluations of one study: per standard, township and facility, and who moves.

Only cells whose costs differ between the two can change a test, so every
count is taken over those cells (the union of the cells where either
evaluation differs from the study's baseline).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from healthreach.messages import Message
from healthreach.standards.groups import group_id
from healthreach.standards.naming import minutes
from healthreach.standards.villages import Villages

if TYPE_CHECKING:
    from healthreach.evaluation import Evaluation
    from healthreach.scenario.schema import Scenario
    from healthreach.standards.compiled import Comparison

NO_FLOWS = pd.DataFrame({"from_id": [], "to_id": [], "people": []})
# figure details the standards table compares, each a row ``<figure>.<key>``: its unit ("{unit}": the
# figure's), and whether it is written once per population group (a count the figures share)
DETAIL_ROWS = {
    "mean_response_min": ("minutes (mean emergency response)", True),
    "ambulances": ("ambulances in the study area", True),
    "by_catchment_per_1000": ("{unit}, by tier catchment", False),
    "capacity_people": ("people the facilities' capacities can serve", False),
    "beyond_reach_people": ("people beyond the reach of every facility", False),
}
DECIMALS = {"baseline": 6, "scenario": 6, "change": 6, "baseline_people": 1, "scenario_people": 1,
            "change_people": 1, "newly_covered_people": 1, "lose_coverage_people": 1}


@dataclass(frozen=True)
class Diff:
    """Two evaluations compared (``before``, ``after``) at the cells where they may differ (``step``).

    ``moved`` gives per figure id the people newly covered and losing
    coverage; ``gained`` and ``lost`` the cells (ascending) entering and
    leaving the first circle. The tables, pandas frames built on first read:

    standards : one row per figure: value (share of people, or ambulances
        available / required) before, after and the change; people covered
        before, after and the change; people newly covered and losing
        coverage; pass before and after.
    townships : per township, every share and every computed column (ratios
        per 1,000, E2SFCA, unserved people) before, after and the change, a
        ratio's pass before and after, and the people newly covered / losing
        coverage of the first circle; the same for each population group
        (columns named with its key).
    facilities : per facility, status, type, beds, ambulances, catchment
        people and the standards' own figures before and after (flags such
        as ``saturated`` before and after, numbers also the change); for a
        facility others merge into, ``merged_in_people``: the catchment
        before of the facilities it takes over.
    flows : people whose nearest facility of the first circle changes (from_id, to_id, people).
    """

    before: Evaluation
    after: Evaluation
    step: Comparison
    moved: dict[str, tuple[float, float]]
    gained: np.ndarray
    lost: np.ndarray

    @cached_property
    def standards(self) -> pd.DataFrame:
        """One row per figure (see the class docstring)."""
        return _standards(self.before, self.after, self.moved)

    @cached_property
    def townships(self) -> pd.DataFrame:
        """One row per township (see the class docstring)."""
        return _townships(self.before, self.after, self.gained, self.lost)

    @cached_property
    def facilities(self) -> pd.DataFrame:
        """One row per facility after (see the class docstring)."""
        return _facilities(self.before, self.after)

    @cached_property
    def flows(self) -> pd.DataFrame:
        """People whose nearest facility of the first circle changes, largest first."""
        primary = self.after.study.primary
        if primary is None or primary.col("ok") not in self.step.moved[""]:  # the change did not touch the circle
            return NO_FLOWS.copy()
        cells, before, after = self.step.around(primary.area_needs())
        return _flows(self.after, before, after, self.after.inputs.cells.people[cells])

    @property
    def newly_covered(self) -> float:
        """People who enter the first circle."""
        return float(self.after.inputs.cells.people[self.gained].sum())

    @property
    def lose_coverage(self) -> float:
        """People who leave the first circle."""
        return float(self.after.inputs.cells.people[self.lost].sum())

    def newly_covered_of(self, group: str) -> float:
        """People of a population group who enter the first circle."""
        return float(self.after.inputs.cells.groups[group][self.gained].sum())

    def lose_coverage_of(self, group: str) -> float:
        """People of a population group who leave the first circle."""
        return float(self.after.inputs.cells.groups[group][self.lost].sum())

    @property
    def scenario(self) -> Scenario:
        """The changes that made ``after`` (its scenario file, or changes given in code)."""
        if self.after.scenario is None:
            msg = Message("the evaluation compared was not made by applying changes")
            raise ValueError(msg)
        return self.after.scenario

    def mask(self, cells: np.ndarray) -> np.ndarray:
        """A bool per study-area cell, True at ``cells`` (e.g. ``diff.mask(diff.gained)``)."""
        out = np.zeros(len(self.after.inputs.cells.x), bool)
        out[cells] = True
        return out


def diff(before: Evaluation, after: Evaluation) -> Diff:
    """Compare two evaluations of one study (see :class:`Diff`)."""
    if before.study is not after.study:
        msg = Message("evaluations of different studies cannot be compared")
        raise ValueError(msg)
    study = after.study
    if after.parent is before and after.step is not None:  # one step: its comparison is known
        step = after.step
    else:
        if before.state.cost is after.state.cost:  # both kept as the same baseline plus the cells that differ
            cells = np.union1d(before.state.differing(), after.state.differing())
        else:  # e.g. one evaluated from scratch: compare every cell
            cells = np.arange(len(study.inputs.cells.x))
        sums = {"": before.tally.sums, **{group: t.sums for group, t in before.group_tallies.items()}}
        step = study.program.compare(before.state, after.state, cells, sums, len(after.sources.columns["id"]))
    moved: dict[str, tuple[float, float]] = {}  # figure id -> (people newly covered, losing coverage)
    for unit in study.standards:
        for fid, (column, _) in unit.tests().items():
            for group, per_column in step.moved.items():  # everyone, then each population group
                # a column the step did not touch: nobody moves
                moved[group_id(fid, group) if group else fid] = per_column.get(column, (0.0, 0.0))
        if isinstance(unit, Villages) and unit.id in before.village_times and unit.id in after.village_times:
            # villages, not cells: a large village is covered while it does not need a clinic
            pop = before.village_times[unit.id].people
            _, ok0 = unit.covered(before.village_times[unit.id])
            _, ok1 = unit.covered(after.village_times[unit.id])
            moved[unit.id] = (float(pop[ok1 & ~ok0].sum()), float(pop[ok0 & ~ok1].sum()))

    gained = lost = np.zeros(0, np.int64)
    primary = study.primary
    if primary is not None and primary.col("ok") in step.moved[""]:  # a step that did not touch it moves nobody
        cells, view0, view1 = step.around(primary.area_needs())  # where its test may change
        ok0, ok1 = primary.covered(view0), primary.covered(view1)
        gained, lost = cells[ok1 & ~ok0], cells[ok0 & ~ok1]
    return Diff(before, after, step, moved, gained, lost)


def _standards(before: Evaluation, after: Evaluation, moved: dict[str, tuple[float, float]]) -> pd.DataFrame:
    columns: dict[str, list[Any]] = {c: [] for c in (
        "standard", "title", "unit", "baseline", "scenario", "change", "baseline_people", "scenario_people",
        "change_people", "newly_covered_people", "lose_coverage_people", "target", "baseline_pass", "scenario_pass")}

    def add(**row: Any) -> None:
        for c, values in columns.items():
            values.append(row.get(c))

    shown: set[tuple[str, Any]] = set()  # detail rows, each once per group (both ambulance ratios share one count)
    for fb in before.figures.values():
        fa = after.figures[fb.id]
        newly, lose = moved.get(fb.id, (None, None))
        add(standard=fb.id, title=fb.title, unit=fb.unit, baseline=fb.share, scenario=fa.share,
            change=_minus(fa.share, fb.share), baseline_people=fb.covered, scenario_people=fa.covered,
            change_people=_minus(fa.covered, fb.covered), newly_covered_people=newly, lose_coverage_people=lose,
            target=fb.target, baseline_pass=fb.passed, scenario_pass=fa.passed)
        for key, (unit, once) in DETAIL_ROWS.items():
            if key in fb.details and (key, fb.details.get("population_group")) not in shown:
                if once:
                    shown.add((key, fb.details.get("population_group")))
                b, a = fb.details.get(key), fa.details.get(key)
                add(standard=f"{fb.id}.{key}", title=fb.title, unit=unit.format(unit=fb.unit), baseline=b,
                    scenario=a, change=_minus(a, b))
    # built at once, numbers rounded as written: column by column is slow in pandas
    return pd.DataFrame({c: np.array(v, dtype=float).round(DECIMALS[c]) if c in DECIMALS else v
                         for c, v in columns.items()})


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _townships(before: Evaluation, after: Evaluation, gained: np.ndarray, lost: np.ndarray) -> pd.DataFrame:
    tb, ta = before.township_columns, after.township_columns
    groups = list(after.inputs.cells.groups)
    columns: dict[str, Any] = {k: tb[k] for k in ("township_id", "name", "area_class", "people")}
    shares = ("_share", *(group_id("_share", group) for group in groups))
    computed = [c for unit in after.study.standards for c in unit.township_value_names() if c in tb and c in ta]
    for c in [*(c for c in tb if c.endswith(shares)), *computed]:
        columns[f"{c}_baseline"] = tb[c]
        columns[f"{c}_scenario"] = ta[c]
        columns[f"{c}_change"] = (ta[c] - tb[c]).round(4)
        if f"{c}_pass" in tb and f"{c}_pass" in ta:  # a ratio against its target: pass before and after
            columns[f"{c}_pass_baseline"], columns[f"{c}_pass_scenario"] = tb[f"{c}_pass"], ta[f"{c}_pass"]
    if after.study.primary is not None:
        cells, n = after.inputs.cells, len(tb["people"])
        for group, people in {"": cells.people, **cells.groups}.items():
            for name, which in (("newly_covered_people", gained), ("lose_coverage_people", lost)):
                columns[group_id(name, group) if group else name] = np.bincount(
                    cells.township[which], weights=people[which], minlength=n).round(1)
    # built at once: column by column is slow in pandas
    return pd.DataFrame(columns, index=before.study.inputs.boundaries.index)


def _facilities(before: Evaluation, after: Evaluation) -> pd.DataFrame:
    fb_tab, fa_tab = before.facility_columns, after.facility_columns
    nb, na = len(fb_tab["id"]), len(fa_tab["id"])

    def before_col(c: str, dtype: type = float) -> np.ndarray:
        """A column before, extended to the rows after (NaN for added facilities)."""
        col = _array(fb_tab[c], dtype) if c in fb_tab else np.full(nb, np.nan)
        return np.r_[col, np.full(na - nb, np.nan, dtype=dtype)]

    changed = after.sources.columns
    ids = np.asarray(fa_tab["id"])
    columns: dict[str, Any] = {"id": ids, "name": fa_tab["name"],
                               "status": changed.get("status", ""),
                               "type_before": before_col("type", object), "type_after": fa_tab["type"]}
    if "merged_into" in changed:
        # a merged facility answers for the closed one's people: its catchment before is counted here
        into = changed["merged_into"].astype(str)
        columns["merged_into"] = into
        merged_in = np.zeros(na)
        catch0 = np.r_[before.catchments.get("primary", np.zeros(nb)), np.zeros(na - nb)]
        row_of = {fid: k for k, fid in enumerate(ids)}
        for k in np.flatnonzero(into != ""):
            merged_in[row_of[into[k]]] += catch0[k]
        columns["merged_in_people"] = merged_in.round(0)
    m = minutes(after.study.primary.spec.threshold_min if after.study.primary else 15)
    catchment = ("catchment_people", f"catchment_people_{m}", "emergency_catchment_people")
    grouped = [group_id(c, group) for group in after.inputs.cells.groups for c in catchment]
    own = [c for unit in after.study.standards for c in unit.facility_value_names()]
    for c in ("beds", "ambulances", *catchment, *grouped, *own):
        if c in own and c in fa_tab and _flag(fa_tab[c]):  # e.g. saturated: before and after
            columns[f"{c}_before"] = np.r_[np.asarray(fb_tab[c], object) if c in fb_tab else np.full(nb, None),
                                           np.full(na - nb, None)]
            columns[f"{c}_after"] = np.asarray(fa_tab[c], object)
        if c not in fa_tab or (c in own and not _numeric(fa_tab[c])):
            continue
        b, a = before_col(c), _array(fa_tab[c], float)
        columns[f"{c}_before"], columns[f"{c}_after"] = b, a
        columns[f"{c}_change"] = np.where(np.isnan(a) & ~np.isnan(b), -b,
                                          np.where(np.isnan(b) & ~np.isnan(a), a, a - b))
    return pd.DataFrame(columns)


def _numeric(values: Any) -> bool:
    """Whether a table column holds numbers (counts or measures), not names or flags."""
    dtype = pd.Series(values).dtype
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def _flag(values: Any) -> bool:
    """Whether a table column holds yes/no flags."""
    return bool(pd.api.types.is_bool_dtype(pd.Series(values).dtype))


def _array(values: Any, dtype: type) -> np.ndarray:
    """A table column as a numpy array (blank counts, pandas' NA, as NaN)."""
    if isinstance(values, pd.api.extensions.ExtensionArray):
        return values.to_numpy(dtype=dtype, na_value=np.nan) if dtype is float else values.to_numpy(dtype=dtype)
    return np.asarray(values, dtype)


def _flows(after: Evaluation, view0: Any, view1: Any, people: np.ndarray) -> pd.DataFrame:
    """People whose nearest facility of the first circle changes: (from_id, to_id, people), largest first."""
    primary = after.study.primary
    if primary is None:
        return NO_FLOWS.copy()
    f0, f1 = primary.cell_seconds(view0)[1], primary.cell_seconds(view1)[1]
    moved = (f0 != f1) & (people > 0)
    na = len(after.sources.columns["id"])
    ids = np.r_[after.sources.columns["id"].astype(object), np.array(["(none)"], dtype=object)]
    if not moved.any():
        return NO_FLOWS.copy()
    key = (f0[moved] + 1) * (na + 1) + (f1[moved] + 1)
    uniq, inverse = np.unique(key, return_inverse=True)
    sums = np.bincount(inverse, weights=people[moved])
    src, dst = np.divmod(uniq, na + 1)
    flows = pd.DataFrame({"from_id": ids[src - 1], "to_id": ids[dst - 1], "people": sums.round(1)})
    return flows.sort_values("people", ascending=False, ignore_index=True)
