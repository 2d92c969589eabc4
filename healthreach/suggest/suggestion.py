"""``suggest``: where the next sites of a facility type should go to bring the most people within a standard.

Today's facilities stay; the candidates are the sites a new facility may
take. The coverage sets (:mod:`healthreach.suggest.coverage`) feed a lazy
greedy search (:mod:`healthreach.suggest.greedy`) and, with
``method="exact"``, a mixed-integer program (:mod:`healthreach.suggest.exact`).
The chosen sites are then applied to the baseline as ``add`` changes
(:meth:`Evaluation.apply`): the figures reported are the engine's, and they
must equal the people the coverage sets counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from healthreach.errors import SuggestError
from healthreach.evaluation import Evaluation, Study
from healthreach.messages import Message
from healthreach.scenario.checks import check_changes
from healthreach.standards.groups import group_id
from healthreach.suggest.candidates import (
    MAX_ROAD_M,
    Candidates,
    auto_candidates,
    filtered,
    read_candidates,
    read_exclusions,
)
from healthreach.suggest.coverage import Coverage, coverage_sets
from healthreach.suggest.exact import Exact, lp_bound, solve
from healthreach.suggest.greedy import Greedy, lazy_greedy
from healthreach.suggest.objective import Objective, objective_of
from healthreach.vocab import facility_type

METHODS = ("greedy", "exact")
RUNNER_UPS = 3          # runner-up sites listed per chosen site
NEARBY = 12             # ... among this many nearest candidates


@dataclass(frozen=True)
class Suggestion:
    """The sites suggested for one facility type and objective, best first.

    ``sites``: one row per suggested site (rank, candidate id, lon/lat WGS84,
    x/y metres, township, people newly covered at its rank, cumulative people,
    share after, runner-up sites nearby; with a population group also the
    group's people, columns ending in ``_<group>``; with a tier the new
    site's tier catchment). ``curve``: per number of new sites k, the people
    greedy covers, the exact optimum where solved, and the least upper bound
    known (the objective's people: :meth:`column` names them).
    ``changes``: the scenario's ``add`` changes; ``after``: the baseline with
    them applied; ``cells``: per site, the study cells it newly covers (at
    its rank).
    """

    objective: Objective
    standard: str
    type: str
    method: str
    count: int
    base: Evaluation
    after: Evaluation
    candidates: Candidates
    coverage: Coverage
    greedy: Greedy
    exact: dict[int, Exact]
    sites: pd.DataFrame
    curve: pd.DataFrame
    changes: list[dict]
    cells: list[np.ndarray]
    max_road_m: float
    notes: list[Message] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def newly_covered(self) -> float:
        """People (everyone) the suggested sites bring within the limit, together."""
        return float(self.sites["people_newly_covered"].sum()) if len(self.sites) else 0.0

    @property
    def newly_covered_counted(self) -> float:
        """People the search counts (the population group's, or everyone's) the sites bring within the limit."""
        return float(self.sites[self.column("people_newly_covered")].sum()) if len(self.sites) else 0.0

    def column(self, name: str) -> str:
        """The column of the people the search counts: ``name``, or ``name_<group>`` for a population group."""
        group = self.objective.population_group
        return name if group is None else group_id(name, group)


def facility_type_id(study: Study, name: str, group: str) -> str:
    """The profile's type id of ``name`` (an id, a Chinese or English name); it must count for ``group``."""
    profile = study.inputs.profile
    type_id = facility_type(name, study.inputs.study.facilities.type_map)
    members = profile.groups[group].types
    if type_id not in members:
        known = sorted({t for g in profile.groups.values() for t in g.types})
        if type_id not in known:
            msg = Message("--type {name}: type '{name}' is not a facility type of profile '{profile}' (known: "
                          "{known}); the search measures access to: {members}", name=name, profile=profile.name,
                          known=", ".join(known), members=", ".join(members))
        else:
            msg = Message("--type {name}: type '{type}' does not count for group '{group}'; the search measures "
                          "access to: {members}", name=name, type=type_id, group=group, members=", ".join(members))
        raise SuggestError(msg)
    return type_id


def suggest(study: Study, type: str, count: int, *, standard: str | None = None,  # noqa: A002, PLR0913  the CLI's words
            tier: str | None = None, tier_min: float | None = None, group: str | None = None,
            candidates: str | Path | Candidates = "auto", candidates_crs: str = "wgs84", spacing_m: float = 1000.0,
            exclude: list[Path] | None = None, min_spacing_m: float = 1000.0, method: str = "greedy",
            time_limit_s: float = 60.0, max_road_m: float = MAX_ROAD_M,
            progress: Callable[[Message], None] | None = None) -> Suggestion:
    """Suggest ``count`` new sites of facility ``type`` that bring the most people within ``standard``.

    Parameters
    ----------
    standard : str, optional
        A circle or drive_time standard (default: the profile's first circle).
    tier, tier_min : str, float, optional
        Instead of a standard: a tier of the profile's tiers standard
        (``township``), the people within ``tier_min`` minutes of a facility
        of the tier (default: the first circle's minutes); the new sites join
        the tier's catchments.
    group : str, optional
        A population group of the study (``65plus``): its people are the
        ones counted; everyone's are reported beside them.
    candidates : "auto", path or Candidates
        ``auto``: road sites on a grid ``spacing_m`` metres apart; a path: a
        table or layer of candidate sites in ``candidates_crs``.
    exclude : list of paths
        Polygon layers (water, protected land, slopes) no new site may stand in.
    min_spacing_m : float
        No candidate closer than this (metres) to an existing facility of the type.
    method : {"greedy", "exact"}
        ``exact`` also solves the maximal covering problem for k = count
        (HiGHS, started from greedy's sites), then for fewer sites while
        ``time_limit_s`` (seconds, all solves) lasts; ``greedy`` solves the LP
        relaxation for k = count, the bound it is measured against (greedy is
        proven optimal when it reaches it).
    progress : callable, optional
        Called with each step's :class:`~healthreach.messages.Message`.
    """
    step = progress or (lambda _message: None)
    clock = {"start": time.perf_counter()}
    if isinstance(count, bool) or count <= 0:
        msg = Message("--count must be a whole number of sites, 1 or more; got {count!r}", count=count)
        raise SuggestError(msg)
    if method not in METHODS:
        msg = Message("--method must be one of {methods}; got {method!r}", methods=", ".join(METHODS), method=method)
        raise SuggestError(msg)
    if not time_limit_s > 0:
        msg = Message("--time-limit-s must be a positive number of seconds; got {seconds!r}", seconds=time_limit_s)
        raise SuggestError(msg)
    step(Message("computing the baseline before the new sites"))
    base = study.baseline()
    objective = objective_of(base, standard, tier=tier, tier_min=tier_min, group=group)
    type_id = facility_type_id(study, type, objective.facility_group)
    clock["baseline"] = time.perf_counter()
    step(Message("placing candidate sites"))
    found = _candidates(study, candidates, candidates_crs, spacing_m, max_road_m)
    found = filtered(study, found, type_id, read_exclusions(study, list(exclude or [])), min_spacing_m)
    clock["candidates"] = time.perf_counter()
    step(Message("coverage of {count:,} candidate sites", count=len(found)))
    cov = coverage_sets(base, objective, found)
    clock["coverage"] = time.perf_counter()
    if cov.matrix.nnz == 0 or not (cov.people > 0).any():
        msg = Message("none of the {count:,} candidate sites would bring anyone new within {objective} "
                      "({cells:,} populated cells are outside it today); try other candidates, a smaller "
                      "--spacing-m, or another --standard", count=len(found), objective=objective.id,
                      cells=cov.uncovered_cells)
        raise SuggestError(msg)
    step(Message("greedy search"))
    greedy = lazy_greedy(cov, count)
    clock["greedy"] = time.perf_counter()
    exact = _exact(cov, greedy, count, time_limit_s, step) if method == "exact" else {}
    lp = {k: e.lp_bound for k, e in exact.items()} if exact else {count: lp_bound(cov, count)}
    clock["exact"] = time.perf_counter()
    chosen = greedy.chosen if method == "greedy" else _in_greedy_order(cov, exact[count].chosen)
    notes = list(found.notes)
    if len(chosen) < count:
        notes.append(Message("only {found} site(s) bring anyone new within the standard; the other candidates "
                             "would cover no one new", found=len(chosen)))
    step(Message("checking the sites through the scenario engine"))
    changes = _changes(study, found, chosen, type_id)
    after = base.apply(changes, name=f"suggest {type_id}") if changes else base
    clock["apply"] = time.perf_counter()
    sites, cells = _sites(objective, cov, found, chosen, after, changes)
    _confirm(objective, base, after, sites)
    curve = _curve(objective, cov, greedy, exact, lp, count)
    seconds = {k: clock[k] - clock[p] for p, k in zip(list(clock)[:-1], list(clock)[1:], strict=True)}
    return Suggestion(objective, objective.id, type_id, method, count, base, after, found, cov, greedy, exact, sites,
                      curve, changes, cells, max_road_m, notes, seconds)


def _candidates(study: Study, candidates: str | Path | Candidates, crs: str, spacing_m: float,
                max_road_m: float) -> Candidates:
    """The candidate sites as given: placed automatically (``auto``), read from a file, or given as they are."""
    if isinstance(candidates, Candidates):
        return candidates
    if isinstance(candidates, str) and candidates == "auto":
        return auto_candidates(study, spacing_m, max_road_m)
    return read_candidates(study, Path(candidates), crs, max_road_m)


def _exact(cov: Coverage, greedy: Greedy, count: int, time_limit_s: float,
           step: Callable[[Message], None]) -> dict[int, Exact]:
    """Exact solves for ``count`` sites, then fewer while ``time_limit_s`` (seconds, all of them) lasts."""
    out = {}
    deadline = time.perf_counter() + time_limit_s
    for k in range(count, 0, -1):
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        step(Message("exact search for {k} site(s)", k=k))
        out[k] = solve(cov, k, left, greedy.chosen[:k])
    return out


def _in_greedy_order(cov: Coverage, chosen: np.ndarray) -> np.ndarray:
    """A set of sites ranked greedily among themselves (each adds the most of those left)."""
    order: list[int] = []
    left = [int(j) for j in chosen]
    while left:
        base = cov.value(np.array(order, np.int64))
        best = max(left, key=lambda j: (cov.value(np.array([*order, j], np.int64)) - base, -j))
        order.append(best)
        left.remove(best)
    return np.array(order, np.int64)


def _changes(study: Study, found: Candidates, chosen: np.ndarray, type_id: str) -> list[dict]:
    """The ``add`` change of each chosen site (ids that no facility of the study has)."""
    taken = set(study.facilities["id"].astype(str))
    out = []
    for rank, j in enumerate(chosen, 1):
        row = found.table.iloc[int(j)]
        fid = f"NEW{rank:02d}"
        while fid in taken:
            fid = f"{fid}_"
        taken.add(fid)
        out.append({"add": fid, "name": f"{row['name']}", "type": type_id,
                    "at": {"lon": float(row["lon"]), "lat": float(row["lat"])}})
    if out:
        check_changes(_as_scenario(out), study.facilities, study.inputs.profile, "facilities",
                      study.inputs.study.facilities.type_map)
    return out


def _as_scenario(changes: list[dict]):
    from healthreach.scenario.schema import as_scenario

    return as_scenario(changes, "suggest")


def _sites(objective: Objective, cov: Coverage, found: Candidates, chosen: np.ndarray, after: Evaluation,
           changes: list[dict]) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """The ranked table and, per site, the study cells it newly covers at its rank.

    Everyone's people newly covered, cumulative and share after; with a
    population group the same for the group (``_<group>`` columns); with a
    tier each new site's tier catchment after the sites are built (people).
    """
    by = cov.by_candidate
    group = objective.population_group
    covered = np.zeros(len(cov.people), bool)
    rows_out, cells = [], []
    tree = cKDTree(found.table[["x", "y"]].to_numpy(float))
    cumulative = counted = 0.0
    for rank, j in enumerate(chosen, 1):
        rows = by.indices[by.indptr[j]:by.indptr[j + 1]]
        new = rows[~covered[rows]]
        covered[new] = True
        gain = float(cov.everyone[new].sum())
        cumulative += gain
        mark = np.zeros(len(cov.people), bool)
        mark[new] = True
        cells.append(np.flatnonzero((cov.row_of >= 0) & mark[np.maximum(cov.row_of, 0)]))
        row = found.table.iloc[int(j)]
        out = {"rank": rank, "id": changes[rank - 1]["add"], "candidate": row["id"], "name": row["name"],
               "lon": row["lon"], "lat": row["lat"], "x": row["x"], "y": row["y"], "township": row["township"],
               "people_newly_covered": gain, "cumulative_people": cumulative,
               "share_after": _share(cov.everyone_today + cumulative, cov.everyone_total)}
        if group is not None:
            counted += float(cov.people[new].sum())
            out |= {group_id("people_newly_covered", group): float(cov.people[new].sum()),
                    group_id("cumulative_people", group): counted,
                    group_id("share_after", group): _share(cov.covered_today + counted, cov.total)}
        out["runner_ups"] = _runner_ups(cov, tree, found, chosen, int(j))
        rows_out.append(out)
    columns = ["rank", "id", "candidate", "name", "lon", "lat", "x", "y", "township", "people_newly_covered",
               "cumulative_people", "share_after",
               *(group_id(c, group) for c in ("people_newly_covered", "cumulative_people", "share_after")
                 if group is not None), "runner_ups"]
    table = pd.DataFrame(rows_out, columns=columns)
    if len(table):
        table.loc[table.index[-1], "share_after"] = objective.covered(after, group=False)[1]
        if group is not None:
            table.loc[table.index[-1], group_id("share_after", group)] = objective.covered(after, group=True)[1]
    if objective.tier is not None:
        catchment = after.facility_table.set_index("id")["tier_catchment_people"]
        table["tier_catchment_people"] = catchment.reindex(table["id"].astype(str)).to_numpy(float)
    return table, cells


def _share(people: float, total: float) -> float:
    """The share ``people / total``, 0..1 (NaN when nobody is counted)."""
    return people / total if total > 0 else np.nan


def _runner_ups(cov: Coverage, tree: cKDTree, found: Candidates, chosen: np.ndarray, j: int) -> str:
    """The best candidates near site ``j`` to take its place, with the people the set would lose (-) or gain."""
    others = np.array([c for c in chosen if c != j], np.int64)
    with_it = cov.value(np.r_[others, j])
    k = min(NEARBY + 1, len(found))
    _, near = tree.query(found.table[["x", "y"]].to_numpy(float)[j], k=k)
    taken = set(chosen.tolist())
    nearby = [int(c) for c in np.atleast_1d(near) if int(c) not in taken]
    scored = sorted(((cov.value(np.r_[others, c]) - with_it, c) for c in nearby), key=lambda p: (-p[0], p[1]))
    ids = found.table["id"].to_numpy()
    return "; ".join(f"{ids[c]} ({d:+,.0f})" for d, c in scored[:RUNNER_UPS])


def _confirm(objective: Objective, base: Evaluation, after: Evaluation, sites: pd.DataFrame) -> None:
    """Stop when the engine's figures after the changes differ from the people the coverage sets counted."""
    if not len(sites):
        return
    population = objective.population_group
    for group in (False, True) if population is not None else (False,):
        column = group_id("people_newly_covered", population) if group and population else "people_newly_covered"
        counted = float(sites[column].sum())
        before, now = objective.covered(base, group)[0], objective.covered(after, group)[0]
        if abs((now - before) - counted) > 1e-6 * max(1.0, abs(now)):
            msg = Message("internal check failed: the coverage sets count {counted:,.3f} people newly covered by "
                          "{figure}, the scenario engine {engine:,.3f}; please report this with the study",
                          counted=counted, figure=objective.group_figure if group else objective.id,
                          engine=now - before)
            raise RuntimeError(msg)


def _curve(objective: Objective, cov: Coverage, greedy: Greedy, exact: dict[int, Exact], lp: dict[int, float],
           count: int) -> pd.DataFrame:
    """Per k = 1..count: people covered by greedy's first k, the exact optimum (where solved), the LP bound (where
    solved) and the least upper bound known, in the people the search counts; with a population group these
    columns end in ``_<group>`` and everyone's people by greedy's and the exact sites are added.
    """
    ks = list(range(1, count + 1))
    greedy_people = np.r_[np.cumsum(greedy.gains), np.full(count - len(greedy.gains),
                                                            greedy.gains.sum() if len(greedy.gains) else 0.0)]
    exact_people = np.array([exact[k].people if k in exact else np.nan for k in ks])
    optimal = [exact[k].optimal if k in exact else None for k in ks]
    lp_people = np.array([lp.get(k, np.nan) for k in ks])
    upper = np.fmin(greedy.upper, lp_people)
    for k, e in exact.items():
        upper[k - 1] = min(upper[k - 1], e.bound)
    best = np.fmax(greedy_people, np.nan_to_num(exact_people, nan=-np.inf))
    upper = np.maximum(upper, best)  # bounds are rounded sums: never drawn below an answer found
    share = (lambda p: (cov.covered_today + p) / cov.total) if cov.total > 0 else (lambda p: p * np.nan)
    curve = pd.DataFrame({"sites": ks, "greedy_people": greedy_people, "exact_people": exact_people,
                          "exact_optimal": optimal, "lp_bound_people": lp_people, "upper_bound_people": upper,
                          "greedy_gap": np.where(upper > 0, (upper - greedy_people) / np.where(upper > 0, upper, 1),
                                                 0),
                          "greedy_share": share(greedy_people), "upper_bound_share": share(upper)})
    group = objective.population_group
    if group is None:
        return curve
    counted = ("greedy_people", "exact_people", "lp_bound_people", "upper_bound_people", "greedy_share",
               "upper_bound_share")
    curve = curve.rename(columns={c: group_id(c, group) for c in counted})
    curve.insert(1, "greedy_people", [cov.value(greedy.chosen[:k], everyone=True) for k in ks])
    curve.insert(2, "exact_people", [cov.value(exact[k].chosen, everyone=True) if k in exact else np.nan
                                     for k in ks])
    return curve
