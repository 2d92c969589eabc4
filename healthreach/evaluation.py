"""A study and its evaluations: the baseline, and the same study after planned changes.

:class:`Study` holds a study's validated inputs (read-only) and owns every
value derived from them once: where cells and villages attach to the roads,
the people weights, the standards built from the profile. :class:`Evaluation`
is the study evaluated with one facility table: travel surfaces, per-cell
costs, every standard's figure, the township and facility tables.

``Evaluation.apply(changes)`` evaluates planned changes (the scenario file's
``add``, ``relocate``, ``close``, ``upgrade``, ``expand``) incrementally: the
travel surfaces are repaired (:mod:`healthreach.incremental`), only the
cells whose costs changed are re-tested, and their people are moved between
the sums (:class:`~healthreach.standards.tally.Tally`). Per-cell values are
kept as the baseline's arrays plus the cells that differ
(:class:`CellState`), so a change costs in proportion to what it changes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from healthreach.band_store import BandStore
from healthreach.diff import Diff, diff
from healthreach.incremental import CellIndex, NodeScratch, moved_rows, sources_changed, update_cells
from healthreach.inputs import StudyInputs
from healthreach.isochrones import BandPolygons
from healthreach.lines import CellWindow, banded, nearest_site, update_sites
from healthreach.load.facilities import has_ambulance_counts
from healthreach.messages import Message
from healthreach.network import Attachment
from healthreach.reach import Surface, point_cost
from healthreach.scenario.apply import Move, changed_columns, moves_table
from healthreach.scenario.checks import check
from healthreach.scenario.schema import Scenario, as_scenario
from healthreach.scenario.sites import Projections
from healthreach.standards import CellView, Context, Figure, Standard, build_standards
from healthreach.standards.circle import Circle
from healthreach.standards.compiled import Catchment, Comparison, Program
from healthreach.standards.groups import check_group_names, group_context, group_figures, group_id
from healthreach.standards.reach_tables import ReachTables
from healthreach.standards.response import Response
from healthreach.standards.tally import CellWeights, Tally, settle
from healthreach.standards.villages import Villages, VillageTimes
from healthreach.standards.whole import Whole
from healthreach.state import CellState, Changed, Key, distinct
from healthreach.tables import facility_table, township_identity, township_table
from healthreach.travel import CellCost, Need, attach_cells, facility_attachment, in_group, surfaces

if TYPE_CHECKING:
    from healthreach.maps.road_store import RoadStore


class Study:
    """A study opened for evaluation (see :func:`healthreach.open_study`).

    ``inputs`` are read-only; every value derived from them is built here,
    once, for this ``inputs`` object: a study with other inputs is another
    :class:`Study`. ``cache`` is the disk cache root where cell attachments, band polygon layers and the maps'
    road layers are kept (None: not kept).
    """

    def __init__(self, inputs: StudyInputs, cache: Path | None = None):
        self.inputs = inputs
        self.cache = cache  # the disk cache root: cell attachments, band polygons and road layers are kept there
        self.standards: tuple[Standard, ...] = build_standards(inputs.profile)
        self.needs: list[Need] = list(dict.fromkeys(n for s in self.standards for n in s.needs()))
        lines: dict[str, set[float]] = {}
        for s in self.standards:
            for group, radii in s.line_radii().items():
                lines.setdefault(group, set()).update(radii)
        # group -> every straight-line distance (metres) a test compares with, ascending
        self.line_radii = {group: np.array(sorted(radii)) for group, radii in lines.items()}
        self.primary: Circle | None = next((s for s in self.standards if isinstance(s, Circle)), None)
        self.response: Response | None = next((s for s in self.standards if isinstance(s, Response)), None)
        # every per-cell key, in the order of the cell states' arrays
        self.keys: list[Key] = [*self.needs, *(("line", group) for group in self.line_radii)]
        self.catchments = self._catchments()
        nothing = CellView(np.zeros(0, bool), {key: (np.zeros(0), np.zeros(0, np.int64)) for key in self.keys})
        own_columns = {s.id: list(s.values(nothing)) for s in self.standards}  # each standard's tally columns
        self.columns = [name for names in own_columns.values() for name in names]  # the tally's columns, in order
        # per standard: the positions of its columns in the tally
        self.unit_columns = {sid: np.array([self.columns.index(name) for name in names], np.intp)
                             for sid, names in own_columns.items()}
        net, cells = inputs.network, inputs.cells
        # the people weights of the per-cell tests: everyone (""), then each population group
        self.people: dict[str, np.ndarray] = {"": cells.people, **cells.groups}
        self.program = Program(cells, self.people, self.standards, self.catchments, self.keys,
                               {name: j for j, name in enumerate(self.columns)})
        self.weights = CellWeights.build(cells, len(inputs.boundaries))
        self.township_identity = township_identity(inputs, self.weights)  # the township table's first columns
        self.township_names = inputs.boundaries["name"].to_numpy()
        # per population group: its people as the weights of the same per-cell tests
        self.group_weights = {group: CellWeights.build(dataclasses.replace(cells, people=people, groups={}),
                                                       len(inputs.boundaries))
                              for group, people in cells.groups.items()}
        check_group_names(self.standards, list(self.group_weights), inputs.profile.name)
        self.access: dict[str, Attachment] = attach_cells(net, cells, {n.mode for n in self.needs}, cache)
        self.cell_index = {mode: CellIndex.build(net, at) for mode, at in self.access.items()}
        self.reach = ReachTables(net, self.cell_index, inputs.profile.travel.access_kmh, cells.people > 0)
        listed = inputs.study.facilities  # the counts the facility list gives
        self.cell_township = inputs.cells.township.astype(np.intp)
        self.counted = frozenset(c for c in ("beds", "doctors", "nurses", "capacity")
                                 if getattr(listed, f"{c}_column") is not None)
        self.village_access = self._attach_villages()
        self.village_columns = None if inputs.villages is None else {
            c: inputs.villages[c].to_numpy() for c in ("id", "name", "township", "population", "urban")}
        # the study's own facility table, as evaluations hold it: sites as x, y (metres), no geometry
        self.facilities = _plain(inputs.facilities)
        self.own = self.sources(self.facilities)
        self.township_index = inputs.boundaries.sindex  # the townships' search tree (reading it is not free)
        self.facility_township = self.locate(self.own.columns["x"].astype(float), self.own.columns["y"].astype(float))
        self.projections = Projections(inputs.crs)  # of the sites changes give
        self._baseline: Evaluation | None = None

    @cached_property
    def node_scratch(self) -> dict[Need, NodeScratch]:
        """Per travel surface, the working arrays changes repair it in (see :class:`NodeScratch`)."""
        return {need: NodeScratch() for need in self.needs}

    @cached_property
    def window(self) -> CellWindow:
        """The cells by grid window, for straight-line updates."""
        return CellWindow(self.inputs.grid, self.inputs.cells)

    def _catchments(self) -> list[Catchment]:
        """People per facility row: nearest primary facility (all, and within the circle), nearest emergency site."""
        out = []
        if self.primary is not None:
            spec = self.primary.spec
            urban, rural = self.primary.mode_need(spec.urban_mode), self.primary.mode_need(spec.rural_mode)
            out += [Catchment("primary", urban, rural), Catchment("primary_within", urban, rural, self.primary.limit_s)]
        if self.response is not None:
            out.append(Catchment("emergency", self.response.need))
        return out

    @cached_property
    def road_store(self) -> RoadStore | None:
        """Where the maps of this study keep their road layers (None: the study keeps nothing on disk)."""
        from healthreach.maps.road_store import RoadStore  # the maps' module: loaded only when a map is drawn

        return None if self.cache is None else RoadStore(self.cache, self.inputs.network.lines)

    @cached_property
    def polygons(self) -> BandPolygons:
        """The band polygons the maps and GeoPackages of this study's evaluations draw, each layer once (and
        kept in the disk cache, when the study has one).
        """
        store = None if self.cache is None else BandStore(self.cache, self.inputs.grid, self.inputs.cells.flat)
        return BandPolygons(self.inputs.grid, self.inputs.cells.flat, store=store)

    def sources(self, facilities: pd.DataFrame) -> Sources:
        """A facility table's columns as arrays, its rows' group membership and road attachment."""
        columns = {c: facilities[c].to_numpy() for c in facilities.columns}  # each column read once
        member = {g: in_group(columns, spec) for g, spec in self.inputs.profile.groups.items()}
        return Sources(columns, member, self._attached(columns), facilities)

    def changed_sources(self, parent: Sources, columns: dict[str, np.ndarray]) -> Sources:
        """The sources of a changed facility table (columns as
        :func:`~healthreach.scenario.apply.changed_columns` gives them): the rows
        whose ``status`` is blank keep the group membership of ``parent``'s rows.
        """
        n_before, n = len(parent.columns["id"]), len(columns["id"])
        rows = np.flatnonzero(columns["status"] != "")
        touched = {c: v[rows] for c, v in columns.items() if c in ("type", "emergency")}
        member = {}
        for group, spec in self.inputs.profile.groups.items():
            kept = parent.member[group]
            out = np.concatenate([kept, np.zeros(n - n_before, bool)]) if n > n_before else kept.copy()
            out[rows] = in_group(touched, spec)
            member[group] = out
        return Sources(columns, member, self._attached(columns))

    def _attached(self, columns: Mapping[str, np.ndarray]) -> dict[str, Attachment]:
        """Per mode the standards use: where each row of a facility table attaches to the roads."""
        return {mode: facility_attachment(columns, mode) for mode in {n.mode for n in self.needs}}

    def _attach_villages(self) -> dict[tuple[str, str], Attachment]:
        """Where urban and rural villages attach to the roads of each mode a village standard uses."""
        villages = self.inputs.villages
        out: dict[tuple[str, str], Attachment] = {}
        if villages is None:
            return out
        urban = villages["urban"].to_numpy()
        x, y = villages["x"].to_numpy(), villages["y"].to_numpy()
        for unit in self.standards:
            if isinstance(unit, Villages):
                for mode, area, where in ((unit.spec.urban_mode, "urban", urban),
                                          (unit.spec.rural_mode, "rural", ~urban)):
                    if (mode, area) not in out:
                        out[(mode, area)] = self.inputs.network.attach(x[where], y[where], mode)
        return out

    def view(self, costs: Mapping[Key, tuple[np.ndarray, np.ndarray]], cells: np.ndarray | None = None) -> CellView:
        """The standards' view of per-key (cost, row) at ``cells`` (None: at every cell)."""
        urban = self.inputs.cells.urban if cells is None else self.inputs.cells.urban[cells]
        return CellView(urban, costs)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Row of the township each point (analysis CRS, metres) stands in (-1: outside the study area)."""
        idx = self.township_index.query(shapely.points(x, y), predicate="within")
        out = np.full(len(x), -1)
        out[idx[0]] = idx[1]
        return out

    def baseline(self) -> Evaluation:
        """The study evaluated with its own facility table (computed once, then kept)."""
        if self._baseline is None:
            self._baseline = Evaluation.full(self, self.facilities)
        return self._baseline

    def evaluate(self, facilities: pd.DataFrame) -> Evaluation:
        """The study evaluated from scratch with another facility table (every surface recomputed)."""
        return Evaluation.full(self, _plain(facilities))


@dataclass(frozen=True)
class Sources:
    """A facility table's columns as arrays (every column, in the table's order); per group, which rows
    belong to it; per mode, where each row attaches to the roads; the table as the pandas frame it was read
    from (None: the columns were made by changes; :meth:`table` builds it).
    """

    columns: dict[str, np.ndarray]
    member: dict[str, np.ndarray]
    attached: dict[str, Attachment]
    frame: pd.DataFrame | None = None

    def table(self) -> pd.DataFrame:
        """The facility table as a pandas frame (the frame read, or one built from the columns, rows numbered
        0, 1, ...).
        """
        return self.frame if self.frame is not None else pd.DataFrame(self.columns)


class Cellwise(NamedTuple):
    """An evaluation's per-cell values and their sums, as :meth:`Evaluation._finish` takes them."""

    line_m: dict[str, np.ndarray]
    state: CellState
    tally: Tally
    catchments: dict[str, np.ndarray]
    group_tallies: dict[str, Tally]


@dataclass(frozen=True)
class Evaluation:
    """A study evaluated with one facility table.

    ``figures`` maps each standard's figure id to its :class:`Figure`;
    ``township_columns`` and ``facility_columns`` the columns of the audit's
    township and facility tables (as arrays; :attr:`townships` and
    :attr:`facility_table` are them as pandas frames, built on first read),
    ``village_times`` one result per village standard (:attr:`village_tables` its tables); ``group_tallies``
    the sums of each population group. ``surfaces`` are
    the travel surfaces (per network node); :attr:`travel` their values at
    every cell. ``parent`` and ``moves`` say which evaluation this one was
    changed from and what moved where; ``step`` compares it with the parent
    at the cells whose costs differ.
    ``seconds`` times the steps of its making.
    """

    study: Study
    sources: Sources
    surfaces: dict[Need, Surface]
    line_m: dict[str, np.ndarray]       # per group: straight-line metres to its nearest site (inf beyond the radii)
    state: CellState
    tally: Tally
    catchments: dict[str, np.ndarray]   # people per facility row (see :func:`catchments`)
    facility_township: np.ndarray       # row of the township each facility stands in (-1: outside)
    figures: dict[str, Figure]
    village_times: dict[str, VillageTimes]
    township_columns: dict[str, Any]    # the township table's columns as arrays
    facility_columns: dict[str, Any]    # the facility table's columns as arrays
    parent: Evaluation | None = None
    step: Comparison | None = None      # what changed from the parent, cell by cell
    move_rows: list[Move] | None = None  # what each change moved (:attr:`moves` as a table)
    scenario: Scenario | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    group_tallies: dict[str, Tally] = field(default_factory=dict)  # per population group: its people's sums
    whole: Whole | None = None          # every cell and facility, as the standards read them (kept values too)

    # --- building ---------------------------------------------------------------------------------------

    @classmethod
    def full(cls, study: Study, facilities: pd.DataFrame, **extra: Any) -> Evaluation:
        """Every surface, cell and figure computed from scratch (``extra``: parent, move_rows, scenario)."""
        start = time.perf_counter()
        inputs = study.inputs
        sources = study.own if facilities is study.facilities else study.sources(facilities)
        n_facilities = len(sources.columns["id"])
        surf = surfaces(inputs.network, study.needs, sources.member, sources.attached)
        kmh = inputs.profile.travel.access_kmh
        cells = inputs.cells
        state = CellState.blank(study.keys, len(cells.people))  # each key's values computed into its row
        into = dict(zip(study.keys, state.rows(), strict=True))
        for need in study.needs:
            point_cost(inputs.network, surf[need], study.access[need.mode], kmh, out=into[need])
        line_m = {}
        for group, radii in study.line_radii.items():
            dist, _ = nearest_site(cells.x, cells.y, *_sites(sources, group))
            line_m[group] = np.where(dist <= radii[-1], dist, np.inf)
            cost, row = into[("line", group)]
            cost[:], row[:] = banded(line_m[group], radii), -1
        state = state.read_only()
        root = dict(zip(study.keys, state.rows(), strict=True))
        view = study.view(root)
        values = {k: v for s in study.standards for k, v in s.values(view).items()}
        tally = Tally.build(study.weights, values)
        groups = {group: Tally.build(weights, values) for group, weights in study.group_weights.items()}
        township = cls._township_of(study, sources)
        catch = {group_id(c.name, group) if group else c.name: c.people(view, people, n_facilities)
                 for group, people in study.people.items() for c in study.catchments}
        t = {"travel": time.perf_counter() - start}
        return cls._finish(study, sources, surf, Cellwise(line_m, state, tally, catch, groups), township, seconds=t,
                           **extra)

    @classmethod
    def _township_of(cls, study: Study, sources: Sources, parent: Evaluation | None = None) -> np.ndarray:
        """Township row per facility: the parent's (or the study's) where a row stands where it stood."""
        base = parent.sources if parent is not None else study.own
        located = parent.facility_township if parent is not None else study.facility_township
        if sources is base:
            return located
        x, y = sources.columns["x"].astype(float), sources.columns["y"].astype(float)
        x0, y0 = base.columns["x"].astype(float), base.columns["y"].astype(float)
        n = min(len(x), len(x0))
        out = np.full(len(x), -1)
        out[:n] = located[:n]
        todo = np.concatenate((np.flatnonzero((x[:n] != x0[:n]) | (y[:n] != y0[:n])), np.arange(n, len(x))))
        if len(todo):
            out[todo] = study.locate(x[todo], y[todo])
        return out

    @classmethod
    def _finish(cls, study: Study, sources: Sources, surf: dict[Need, Surface], cellwise: Cellwise,
                township: np.ndarray, **extra: Any) -> Evaluation:
        """Figures and tables from the sums."""
        inputs = study.inputs
        tally = cellwise.tally
        villages = {}
        parent = extra.get("parent")
        if study.village_columns is not None:
            for unit in study.standards:
                if not isinstance(unit, Villages):
                    continue
                if parent is not None and all(surf[n] is parent.surfaces[n] for n in unit.needs()) \
                        and _same_names(parent.sources, sources):
                    villages[unit.id] = parent.village_times[unit.id]  # nothing it reads has changed
                else:
                    villages[unit.id] = unit.times(inputs.network, study.village_columns, study.village_access, surf,
                                                   sources.columns["name"], study.township_names,
                                                   inputs.profile.travel.access_kmh)
        counts = has_ambulance_counts(inputs.study.facilities)
        cells, step = inputs.cells, extra.get("step")
        whole = Whole(cells.people, study.cell_township, cells.urban, study.weights.township_people,
                      sources.columns, sources.member, sources.attached, township, cellwise.state, study.reach,
                      study.counted, None if parent is None else parent.whole, None if step is None else step.changes)
        context = Context(study.weights.total, study.weights.area_total,
                          float(sources.columns["ambulances"][township >= 0].sum()), counts,
                          inputs.profile.travel.dispatch_delay_min, whole, villages)
        member = sources.member
        own = study.own.member
        figures: dict[str, Figure] = {}
        contexts = {group: group_context(context, weights) for group, weights in study.group_weights.items()}
        same = [] if parent is None else _same_sums(parent, cellwise)
        for unit in study.standards:  # each standard's figures, then the same for each population group
            if parent is not None and _keeps_figures(unit, study, same, parent.sources.member, member):
                figures.update(_kept_figures(unit, parent.figures, list(cellwise.group_tallies)))
                continue
            unit_figures = unit.figures(tally, context)
            for group, group_tally in cellwise.group_tallies.items():
                unit_figures += group_figures(unit, group_tally, contexts[group], group)
            for figure in unit_figures:
                if unit.group is not None and not member[unit.group].any() and not own[unit.group].any():
                    _not_assessed(figure, unit.group, inputs.profile.groups[unit.group])
                figures[figure.id] = figure
        towns = township_table(study.township_identity, study.standards, tally,
                               {k: v for u in study.standards for k, v in u.township_values(context).items()},
                               cellwise.group_tallies)
        table = facility_table(study, sources, township, cellwise.catchments,
                               {k: v for u in study.standards for k, v in u.facility_values(context).items()})
        return cls(study, sources, surf, cellwise.line_m, cellwise.state, tally, cellwise.catchments,
                   township, figures, villages, towns, table, **extra, group_tallies=cellwise.group_tallies,
                   whole=whole)

    # --- changes ----------------------------------------------------------------------------------------

    def apply(self, changes: Scenario | Iterable[Any], name: str = "changes", incremental: bool = True) -> Evaluation:
        """The evaluation after planned changes.

        ``changes``: a :class:`~healthreach.scenario.schema.Scenario`, or the
        changes of a scenario file as mappings (``{"relocate": "THC07",
        "to": {"lon": ..., "lat": ...}}``) or change objects. Every change is
        checked first (ids, types, sites); one
        :class:`~healthreach.errors.ScenarioError` lists every problem. The
        result is updated from the cells whose costs change; with
        ``incremental=False`` it is computed from scratch (the same figures).
        """
        start = time.perf_counter()
        study = self.study
        scenario = as_scenario(changes, name)
        sites = check(scenario, study.inputs, self.sources.columns, study.projections)
        changed, moves = changed_columns(scenario, study.inputs, sites, self.sources.columns)
        sources = study.changed_sources(self.sources, changed)
        checked = time.perf_counter() - start
        if incremental:
            after = self._updated(sources, move_rows=moves, scenario=scenario)
        else:
            after = Evaluation.full(study, sources.table(), parent=self, move_rows=moves, scenario=scenario)
        after.seconds.update({"check_apply": checked, **after.seconds})
        return after

    def updated(self, facilities: pd.DataFrame, **extra: Any) -> Evaluation:
        """The evaluation with a changed facility table (its rows in order, new ones appended), updated
        from the cells whose costs change.
        """
        return self._updated(self.study.sources(_plain(facilities)), **extra)

    def _updated(self, sources: Sources, **extra: Any) -> Evaluation:
        """The evaluation with the changed facility table of ``sources``, updated from the cells whose costs
        change.
        """
        start = time.perf_counter()
        study, inputs = self.study, self.study.inputs
        n_before, n_after = len(self.sources.columns["id"]), len(sources.columns["id"])
        if n_after < n_before or not np.array_equal(sources.columns["id"][:n_before], self.sources.columns["id"]):
            msg = Message("the changed facility table must keep this evaluation's rows in order and append new "
                          "facilities")
            raise ValueError(msg)
        net, kmh = inputs.network, inputs.profile.travel.access_kmh
        surf = dict(self.surfaces)
        changes: dict[Key, Changed] = {}
        moved = {mode: moved_rows(self.sources.attached[mode], at) for mode, at in sources.attached.items()}
        rows: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}  # per (group, mode): rows removed, added
        for need in study.needs:
            at_after = sources.attached[need.mode]
            if (need.group, need.mode) not in rows:
                rows[(need.group, need.mode)] = sources_changed(self.sources.member[need.group],
                                                                sources.member[need.group], moved[need.mode])
            removed, added = rows[(need.group, need.mode)]
            if len(removed) or len(added):
                surf[need], changes[need] = update_cells(net, self.surfaces[need], study.cell_index[need.mode],
                                                         removed, at_after[added], added, kmh,
                                                         self.state.arrays(need), scratch=study.node_scratch[need])
        cells = inputs.cells
        line_m = dict(self.line_m)
        for group, radii in study.line_radii.items():
            after = _sites(sources, group)
            gone, come = _site_changes(_sites(self.sources, group), after)
            if len(gone[0]) or len(come[0]):
                idx, line_m[group] = update_sites(cells, study.window, self.line_m[group], gone, after[:2], come,
                                                  radii[-1])
                changes[("line", group)] = _line_change(self.state, ("line", group), idx, line_m[group], radii)
        t_travel = time.perf_counter()
        state = self.state.with_values(changes)
        # only the tests and catchments that read a changed key can change; the others stay as they are
        sums = {"": self.tally.sums, **{group: t.sums for group, t in self.group_tallies.items()}}
        step = study.program.compare(self.state, state, None, sums, n_after, changes)
        tally = self.tally.with_sums(step.sums[""])
        groups = {group: t.with_sums(step.sums[group]) for group, t in self.group_tallies.items()}
        catch = _catchments_changed(self.catchments, _flat(step.catchments_before), _flat(step.catchments_after),
                                    n_after)
        township = self._township_of(study, sources, self)
        t_figures = time.perf_counter()
        out = self._finish(study, sources, surf, Cellwise(line_m, state, tally, catch, groups), township,
                           parent=self, step=step, seconds={}, **extra)
        out.seconds.update({"travel": t_travel - start, "tally": t_figures - t_travel,
                            "figures": time.perf_counter() - t_figures})
        return out

    def diff(self, other: Evaluation) -> Diff:
        """What changes from this evaluation to ``other`` (of the same study): per standard, township and
        facility, the people who gain or lose coverage, and the catchment flows.
        """
        return diff(self, other)

    # --- per-cell values, on demand ------------------------------------------------------------------------

    @cached_property
    def facilities(self) -> pd.DataFrame:
        """The facility table evaluated: sites as x, y (metres), no geometry; a changed table also has ``status``
        and ``merged_into`` (built on first read when changes made it).
        """
        return self.sources.table()

    @cached_property
    def moves(self) -> pd.DataFrame | None:
        """One row per change that made this evaluation (see :func:`~healthreach.scenario.apply.moves_table`;
        None: not made by changes; built on first read).
        """
        return None if self.move_rows is None else moves_table(self.move_rows)

    @cached_property
    def townships(self) -> pd.DataFrame:
        """The township table: per township its people and every standard's share (built on first read)."""
        # built at once from finished columns: column by column is slow in pandas
        return pd.DataFrame(self.township_columns, index=self.study.inputs.boundaries.index)

    @cached_property
    def village_tables(self) -> dict[str, pd.DataFrame]:
        """One table per village standard: each village's minutes to care (built on first read)."""
        return {name: times.table() for name, times in self.village_times.items()}

    @cached_property
    def facility_table(self) -> pd.DataFrame:
        """The facility table: per facility its type, beds, ambulances and catchments (built on first read)."""
        return pd.DataFrame(self.facility_columns)

    @cached_property
    def travel(self) -> dict[Need, CellCost]:
        """Every surface's cost and nearest facility row at every cell."""
        return {need: CellCost(*self.state.full(need), self.surfaces[need]) for need in self.study.needs}

    @cached_property
    def primary_seconds(self) -> np.ndarray:
        """Per cell: seconds to the first circle standard's group by the cell's area mode (inf: none)."""
        return self._primary[0]

    @cached_property
    def primary_facility(self) -> np.ndarray:
        """Per cell: the nearest facility row of the first circle standard's group by area mode (-1: none)."""
        return self._primary[1]

    @cached_property
    def _primary(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.study.inputs.cells.x)
        if self.study.primary is None:
            return np.full(n, np.inf), np.full(n, -1)
        view = self.study.view({need: (c.cost, c.facility) for need, c in self.travel.items()})
        return self.study.primary.cell_seconds(view)

    def figure(self, figure_id: str) -> Figure:
        """One figure by id (KeyError names the ids there are)."""
        try:
            return self.figures[figure_id]
        except KeyError:
            msg = Message("no figure '{id}' (figures: {figures})", id=figure_id, figures=", ".join(self.figures))
            raise KeyError(str(msg)) from None

    @property
    def inputs(self) -> StudyInputs:
        """The study's inputs (read-only)."""
        return self.study.inputs


def _same_sums(parent: Evaluation, cellwise: Cellwise) -> list[np.ndarray]:
    """Per people weight (everyone, then each population group): whether each tally column's sums equal the
    parent's in every township.
    """
    pairs = [(cellwise.tally, parent.tally),
             *((tally, parent.group_tallies[group]) for group, tally in cellwise.group_tallies.items())]
    return [(now.sums == before.sums).all(axis=0) for now, before in pairs]


def _keeps_figures(unit: Standard, study: Study, same: list[np.ndarray], member_before: Mapping[str, np.ndarray],
                   member: Mapping[str, np.ndarray]) -> bool:
    """Whether a standard's figures are its parent's: they read only its sums (``from_sums``), those equal the
    parent's for every people weight (``same``: see :func:`_same_sums`), and its group has a facility in both
    tables or in neither (see :func:`_not_assessed`).
    """
    if not unit.from_sums:
        return False
    columns = study.unit_columns[unit.id]
    if not all(equal[columns].all() for equal in same):
        return False
    return unit.group is None or bool(member_before[unit.group].any()) == bool(member[unit.group].any())


def _kept_figures(unit: Standard, before: Mapping[str, Figure], groups: list[str]) -> dict[str, Figure]:
    """Copies of a standard's figures in ``before`` (its own, then each population group's), in the order the
    standard gives them.
    """
    ids = unit.figure_ids()
    tested = [fid for fid in ids if fid in unit.tests()]
    return {fid: dataclasses.replace(before[fid], details=dict(before[fid].details))
            for fid in [*ids, *(group_id(fid, group) for group in groups for fid in tested)]}


def _flat(per_weight: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Catchments per people weight as one mapping: a population group's keyed with the group (``primary_65plus``)."""
    return {group_id(name, group) if group else name: people
            for group, catchments in per_weight.items() for name, people in catchments.items()}


def _catchments_changed(current: dict[str, np.ndarray], old: dict[str, np.ndarray], new: dict[str, np.ndarray],
                        n: int) -> dict[str, np.ndarray]:
    """Catchments (``n`` rows now) with the changed cells' old people taken away and their new people added.

    Catchments not in ``old`` and ``new`` are unchanged.
    """
    out = {}
    for key, sums in current.items():
        grown = np.concatenate([sums, np.zeros(n - len(sums))]) if n > len(sums) else sums
        out[key] = settle(grown - old[key] + new[key]) if key in old else grown
    return out


def _sites(sources: Sources, group: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, row) of a group's facilities."""
    rows = np.flatnonzero(sources.member[group])
    return sources.columns["x"].astype(float)[rows], sources.columns["y"].astype(float)[rows], rows


def _site_changes(before: tuple[np.ndarray, ...], after: tuple[np.ndarray, ...]
                  ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Sites (x, y) that go (closed, left the group, moved away) and sites that come (new, joined, moved to)."""
    old = {int(r): (x, y) for x, y, r in zip(*before, strict=True)}
    new = {int(r): (x, y) for x, y, r in zip(*after, strict=True)}
    gone = [xy for r, xy in old.items() if new.get(r) != xy]
    come = [xy for r, xy in new.items() if old.get(r) != xy]
    return ((np.array([p[0] for p in gone]), np.array([p[1] for p in gone])),
            (np.array([p[0] for p in come]), np.array([p[1] for p in come])))


def _line_change(state: CellState, key: Key, idx: np.ndarray, metres: np.ndarray, radii: np.ndarray) -> Changed:
    """A straight-line key's values where they change: the cells ``idx`` (any order, possibly repeated) with
    their distances ``metres`` (per study-area cell) banded by the tested ``radii``, where they differ from
    ``state``.
    """
    cells = distinct(idx, len(metres))
    cost = banded(metres[cells], radii)
    before_cost, before_row = (values[0] for values in state.at(cells, [key]))
    differ = (before_cost != cost) | (before_row != -1)
    return Changed(cells[differ], cost[differ], np.full(int(differ.sum()), -1, np.int64), before_cost[differ],
                   before_row[differ])


def _plain(facilities: pd.DataFrame) -> pd.DataFrame:
    """A facility table as evaluations hold it: a plain frame, sites as x, y (metres), no geometry column."""
    geometry = [c for c in facilities.columns if isinstance(facilities[c].dtype, gpd.array.GeometryDtype)]
    return pd.DataFrame(facilities.drop(columns=geometry))


def _same_names(before: Sources, after: Sources) -> bool:
    """Whether the rows of ``before`` keep their names in ``after``."""
    names = before.columns["name"]
    return bool(np.array_equal(names, after.columns["name"][:len(names)]))


def _not_assessed(figure: Figure, group: str, spec: Any) -> None:
    """Mark a figure whose group has no facility, in the study's table as in the evaluated one.

    A 0 % share would blame the roads for what is missing from the facility
    table. (A change that closes a group's last facility is assessed: it
    leaves nobody covered.)
    """
    types = ", ".join(spec.types) or Message("none listed")
    flag = Message(" or flagged emergency") if spec.emergency_flag else ""
    figure.covered, figure.share, figure.passed, figure.unreachable = None, None, None, None
    figure.details = {**figure.details,
                      "not_assessed": Message("no facility of group '{group}' (types: {types}{flag}) in the facility "
                                              "table", group=group, types=types, flag=flag)}
