"""Coverage sets: which uncovered cells each candidate site would bring inside a standard's time limit.

One bounded search per candidate and travel mode, in the patients' direction
(towards the site, on the reversed graph): a Dijkstra from the site's
segment ends that goes on only where it beats today's cost to the nearest
facility and stays within the limit (seconds). It is the scenario engine's
repair (:mod:`healthreach.incremental`) cut at the limit: a node it does not
reach can put no cell within the limit through the new site, so the cells
it finds newly inside are exactly those ``Evaluation.apply`` with the site
added finds. Cells are measured by their area's mode (walk in urban, drive in
rural townships for a circle standard) with the engine's own
:func:`~healthreach.reach.point_cost`.

Two exact reductions follow: cells already covered today, or covered by no
candidate, are left out, and cells covered by the same candidates are merged
into one row carrying their people.
"""

from __future__ import annotations

from dataclasses import dataclass
from heapq import heappop, heappush

import numpy as np
from numba import njit
from scipy import sparse

from healthreach.evaluation import Evaluation
from healthreach.network import MIN_WEIGHT, Attachment
from healthreach.reach import Surface, point_cost, source_seeds
from healthreach.suggest.candidates import Candidates
from healthreach.suggest.objective import Objective


@njit(cache=True)
def _bounded(indptr, indices, weights, cost, seed_node, seed_cost, limit):  # pragma: no cover - compiled
    """Lower ``cost`` (seconds per node, today's) in place from the seeds, only where it beats today's cost and
    stays within ``limit``; return the nodes lowered.
    """
    touched = []
    heap = [(0.0, np.int64(0))]
    heap.pop()
    for i in range(seed_node.shape[0]):
        v = seed_node[i]
        c = seed_cost[i]
        if c <= limit and c < cost[v]:
            cost[v] = c
            touched.append(np.int64(v))
            heappush(heap, (c, np.int64(v)))
    while len(heap) > 0:
        c, v = heappop(heap)
        if c > cost[v]:
            continue
        for k in range(indptr[v], indptr[v + 1]):
            u = indices[k]
            nc = c + weights[k]
            if nc <= limit and nc < cost[u]:
                cost[u] = nc
                touched.append(np.int64(u))
                heappush(heap, (nc, np.int64(u)))
    out = np.empty(len(touched), np.int64)
    for i in range(len(touched)):
        out[i] = touched[i]
    return np.unique(out)


@dataclass(frozen=True)
class Coverage:
    """The reduced maximal covering instance of one standard.

    ``matrix`` (rows x candidates, CSR of ones): which candidate covers which
    row; ``people`` per row; ``row_of`` per study cell its row (-1: covered
    today, or by no candidate). ``limit_s`` is the standard's limit (seconds),
    ``covered_today`` its people covered today, ``total`` the study's people.
    ``uncovered_cells`` counts the populated cells outside the limit today.
    ``people``, ``covered_today`` and ``total`` are the people the search
    counts (a population group's, or everyone's); ``everyone``,
    ``everyone_today`` and ``everyone_total`` are everyone's (the same
    figures when no group is counted).
    """

    standard: str
    limit_s: float
    matrix: sparse.csr_matrix
    people: np.ndarray
    row_of: np.ndarray
    covered_today: float
    total: float
    uncovered_cells: int
    everyone: np.ndarray
    everyone_today: float
    everyone_total: float

    @property
    def by_candidate(self) -> sparse.csc_matrix:
        """The matrix by column: each candidate's rows."""
        return self.matrix.tocsc()

    def rows_of(self, candidate: int) -> np.ndarray:
        """The rows a candidate covers."""
        m = self.by_candidate
        return m.indices[m.indptr[candidate]:m.indptr[candidate + 1]]

    def value(self, chosen: np.ndarray, everyone: bool = False) -> float:
        """People newly covered by a set of candidates together: those the search counts, or ``everyone``."""
        hit = np.zeros(len(self.people), bool)
        m = self.by_candidate
        for j in np.asarray(chosen, np.int64):
            hit[m.indices[m.indptr[j]:m.indptr[j + 1]]] = True
        return float((self.everyone if everyone else self.people)[hit].sum())


def coverage_sets(base: Evaluation, objective: Objective, candidates: Candidates) -> Coverage:
    """The reduced covering instance: per candidate, the populated cells it alone would bring within the limit."""
    study = base.study
    inputs = study.inputs
    net, kmh = inputs.network, inputs.profile.travel.access_kmh
    limit = objective.limit_s
    everyone = inputs.cells.people
    weights = objective.weights(base)
    seconds = objective.seconds(base)
    open_cells = (seconds > limit) & ((everyone > 0) | (weights > 0))
    pairs_cell, pairs_cand = [], []
    for mode, area in objective.modes():
        need = objective.urban_need if area != "rural" else objective.rural_need
        wanted = open_cells & (np.ones(len(everyone), bool) if area is None else
                               (inputs.cells.urban if area == "urban" else ~inputs.cells.urban))
        if not wanted.any():
            continue
        surface = base.surfaces[need]
        graph = net.graph(mode, "time", reverse=True)
        node_cost, node_facility = surface.cost, surface.facility  # every node's, read once
        scratch = node_cost.copy()
        index = study.cell_index[mode]
        at = attached_at(candidates, mode)
        u, v, cost_u, cost_v = source_seeds(net, mode, "time", "to", at)
        for j in range(len(at)):
            seed_node = np.array([u[j], v[j]], np.int64)
            seed_cost = np.maximum(np.array([cost_u[j], cost_v[j]]), MIN_WEIGHT)
            ok = np.isfinite(seed_cost)
            nodes = _bounded(graph.indptr, graph.indices, graph.data, scratch, seed_node[ok], seed_cost[ok], limit)
            cells = index.cells_near(nodes, at.seg[j:j + 1])
            cells = cells[wanted[cells]]
            if len(cells):
                site = Surface(mode, "time", "to", scratch, node_facility, at[j:j + 1], np.zeros(1, np.int64))
                cost, _ = point_cost(net, site, index.at[cells], kmh)
                inside = cells[cost <= limit]
                pairs_cell.append(inside)
                pairs_cand.append(np.full(len(inside), j, np.int64))
            scratch[nodes] = node_cost[nodes]
    cell = np.concatenate(pairs_cell) if pairs_cell else np.zeros(0, np.int64)
    cand = np.concatenate(pairs_cand) if pairs_cand else np.zeros(0, np.int64)
    matrix, row_people, row_of = merged_rows(cell, cand, weights, len(candidates))
    row_everyone = row_people
    if objective.population_group is not None:
        row_everyone = np.zeros(len(row_people))
        merged = row_of >= 0
        np.add.at(row_everyone, row_of[merged], everyone[merged])
    return Coverage(objective.id, limit, matrix, row_people, row_of, float(weights[~open_cells].sum()),
                    float(weights.sum()), int(open_cells.sum()), row_everyone,
                    float(everyone[~open_cells].sum()), float(everyone.sum()))


def merged_rows(cell: np.ndarray, cand: np.ndarray, people: np.ndarray, n_candidates: int
                ) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Cells with the same set of covering candidates merged into one row: (rows x candidates matrix, people per
    row, row per study cell (-1: covered by none)).

    Cells are grouped by their number of candidates and two random 64-bit sums over them, then every cell's
    list is compared with its group's first: the merge is exact (a collision, were one ever met, is split by
    comparing the lists one by one).
    """
    order = np.lexsort((cand, cell))
    cell, cand = cell[order], cand[order]
    keep = np.r_[True, (cell[1:] != cell[:-1]) | (cand[1:] != cand[:-1])] if len(cell) else np.zeros(0, bool)
    cell, cand = cell[keep], cand[keep]
    row_of = np.full(len(people), -1, np.int64)
    if not len(cell):
        return sparse.csr_matrix((0, n_candidates)), np.zeros(0), row_of
    cells, start = np.unique(cell, return_index=True)
    size = np.diff(np.r_[start, len(cell)])
    rng = np.random.default_rng(15)
    keys = [np.add.reduceat(rng.integers(0, 2**63, n_candidates, dtype=np.uint64)[cand], start)
            for _ in range(2)]
    _, first, group = np.unique(np.column_stack([size.astype(np.uint64), *keys]), axis=0, return_index=True,
                                return_inverse=True)
    group = group.ravel()
    rep = first[group]                       # each cell's group representative (a cell position)
    same = size == size[rep]
    offset = np.arange(len(cand)) - np.repeat(start, size)
    same &= np.logical_and.reduceat(cand == cand[np.repeat(start[rep], size) + offset], start)
    if not same.all():
        return _merged_rows_by_list(cells, start, size, cand, people, n_candidates)
    order_groups = np.argsort(first, kind="stable")      # rows numbered by their first cell
    row_number = np.empty_like(order_groups)
    row_number[order_groups] = np.arange(len(order_groups))
    row_of[cells] = row_number[group]
    row_people = np.zeros(len(first))
    np.add.at(row_people, row_of[cells], people[cells])
    reps = first[order_groups]
    indptr = np.r_[0, np.cumsum(size[reps])]
    indices = cand[np.concatenate([np.arange(start[r], start[r] + size[r]) for r in reps])]
    matrix = sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(reps), n_candidates))
    return matrix, row_people, row_of


def _merged_rows_by_list(cells: np.ndarray, start: np.ndarray, size: np.ndarray, cand: np.ndarray,
                         people: np.ndarray, n_candidates: int) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """:func:`merged_rows` by comparing each cell's candidate list as bytes (slower, for a hash collision)."""
    key_of: dict[bytes, int] = {}
    row_of = np.full(len(people), -1, np.int64)
    members: list[np.ndarray] = []
    for c, s, n in zip(cells, start, size, strict=True):
        cands = cand[s:s + n]
        row = key_of.setdefault(cands.tobytes(), len(members))
        if row == len(members):
            members.append(cands)
        row_of[c] = row
    row_people = np.zeros(len(members))
    np.add.at(row_people, row_of[cells], people[cells])
    indptr = np.r_[0, np.cumsum([len(m) for m in members])]
    indices = np.concatenate(members)
    return (sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(members), n_candidates)),
            row_people, row_of)


def undominated(cov: Coverage) -> np.ndarray:
    """Candidates whose rows no other candidate covers as well (a superset; of equal sets the first is kept),
    and that cover anyone: an optimal set of sites can always be drawn from these.
    """
    a = cov.by_candidate
    size = np.diff(a.indptr)
    shared = (a.T @ a).tocoo()
    off = shared.row != shared.col
    i, j, n = shared.row[off], shared.col[off], shared.data[off]
    dominated = np.zeros(len(size), bool)
    beaten = (n == size[j]) & ((size[i] > size[j]) | (i < j))   # j's rows all lie in i's
    dominated[j[beaten]] = True
    return np.flatnonzero(~dominated & (size > 0))


def attached_at(candidates: Candidates, mode: str) -> Attachment:
    """Where the candidates attach in a mode (walk, or drive for the other modes)."""
    return candidates.attached["walk" if mode == "walk" else "drive"]
