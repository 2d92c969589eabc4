"""Exact maximal covering on the reduced rows: a mixed-integer program solved by HiGHS (``highspy``), warm-started.

Variables: ``x_j`` (1: candidate j is built) and ``y_r`` in [0, 1] (row r is
covered). Maximise the people covered, sum ``p_r y_r``, subject to
``y_r <= sum of x_j over the candidates covering r`` and ``sum x_j <= k``.
Only undominated candidates enter (a candidate whose cells another covers
as well can always be swapped for it: an exact reduction). Greedy's sites are
handed to HiGHS as its starting solution (``Highs.setSolution``), so the
search starts from greedy's people and its time limit can only improve on
them. The LP relaxation (x in [0, 1]) bounds the optimum from above; HiGHS's
dual bound, when it stops at the time limit, is reported beside it.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np
from scipy import sparse

from healthreach.messages import Message
from healthreach.suggest.coverage import Coverage, undominated


@dataclass(frozen=True)
class Exact:
    """One exact solve for ``k`` sites: the chosen candidates, the people they newly cover, the bound.

    ``optimal`` only when HiGHS reports the optimum proven (relative gap 0);
    ``bound`` (people) is the least upper bound known: HiGHS's dual bound, or
    the LP relaxation's, whichever is lower; ``lp_bound`` the LP relaxation's;
    ``warm_start`` the people of the starting solution HiGHS was given
    (greedy's sites; None: no solver run, or HiGHS refused it).
    """

    k: int
    chosen: np.ndarray
    people: float
    optimal: bool
    status: Message
    bound: float
    lp_bound: float
    seconds: float
    warm_start: float | None = None

    @property
    def gap(self) -> float:
        """(bound - people) / bound, 0..1: how far the answer may be from the best (0 when proven)."""
        return 0.0 if self.optimal or self.bound <= 0 else max(0.0, (self.bound - self.people) / self.bound)


def _highs(cov: Coverage, k: int, columns: np.ndarray, integer: bool, time_limit_s: float | None = None
           ) -> highspy.Highs:
    """A silent HiGHS holding the program for ``k`` sites over the candidates ``columns`` (x binary when
    ``integer``, else in [0, 1]).
    """
    matrix = cov.matrix[:, columns]
    n_rows, n_cand = matrix.shape
    link = sparse.hstack([-matrix, sparse.identity(n_rows, format="csr")], format="csr")  # y_r - sum x_j <= 0
    rows = sparse.vstack([link, sparse.csr_matrix(np.r_[np.ones(n_cand), np.zeros(n_rows)][None, :])], format="csr")
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cand + n_rows, n_rows + 1
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.r_[np.zeros(n_cand), cov.people]
    lp.col_lower_, lp.col_upper_ = np.zeros(n_cand + n_rows), np.ones(n_cand + n_rows)
    lp.row_lower_ = np.full(n_rows + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.r_[np.zeros(n_rows), float(k)]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = rows.indptr, rows.indices, rows.data
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_cand + [highspy.HighsVarType.kContinuous] * n_rows
    solver = _silent_highs()
    if time_limit_s is not None:
        solver.setOptionValue("time_limit", float(time_limit_s))
    solver.setOptionValue("mip_rel_gap", 0.0)
    solver.setOptionValue("presolve", "off")  # the rows are reduced already; HiGHS's presolve found little, slowly
    solver.passModel(lp)
    return solver


def _silent_highs() -> highspy.Highs:
    """A HiGHS that writes nothing: its once-per-process banner, printed by the C++ library on the standard output
    (file descriptor 1) when the first one is built, is sent to the null device.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with Path(os.devnull).open("wb") as null:
            os.dup2(null.fileno(), 1)
            solver = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    solver.silent()
    return solver


def lp_bound(cov: Coverage, k: int) -> float:
    """The LP relaxation's optimum (people): no k sites cover more."""
    if cov.matrix.shape[0] == 0:
        return 0.0
    solver = _highs(cov, k, undominated(cov), integer=False)
    solver.run()
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return float("inf")
    return float(solver.getInfo().objective_function_value)


def solve(cov: Coverage, k: int, time_limit_s: float, incumbent: np.ndarray) -> Exact:
    """The best ``k`` sites, or the best known when HiGHS stops at ``time_limit_s`` (seconds), with its bound.

    ``incumbent``: sites already found (greedy's first k), HiGHS's starting solution; kept should the solver
    return nothing better (it stopped before reading it).
    """
    start = time.perf_counter()
    if cov.matrix.shape[0] == 0:
        return Exact(k, np.zeros(0, np.int64), 0.0, True, Message("proven optimal (nothing to cover)"), 0.0, 0.0,
                     time.perf_counter() - start)
    if k == 1:  # every candidate's people are known: the best one is proven by looking at all
        alone = np.asarray(cov.by_candidate.T @ cov.people).ravel()
        best = int(np.argmax(alone))
        lp = lp_bound(cov, 1)
        return Exact(1, np.array([best]), float(alone[best]), True,
                     Message("proven optimal (every candidate counted)"), float(alone[best]), lp,
                     time.perf_counter() - start)
    columns = undominated(cov)
    lp = lp_bound(cov, k)
    left = max(time_limit_s - (time.perf_counter() - start), 0.1)
    solver = _highs(cov, k, columns, integer=True, time_limit_s=left)
    kept = cov.value(incumbent)
    warm = _start_from(solver, cov, columns, np.asarray(incumbent, np.int64))
    solver.run()
    seconds = time.perf_counter() - start
    status = solver.getModelStatus()
    optimal = status == highspy.HighsModelStatus.kOptimal
    found = solver.getInfo().primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    x = np.asarray(solver.getSolution().col_value[:len(columns)]) if found else np.zeros(0)
    chosen = columns[np.flatnonzero(x > 0.5)] if found else np.zeros(0, np.int64)
    people = cov.value(chosen)   # counted from the coverage sets, not read off the solver's y
    what = (Message("proven optimal") if optimal else
            Message("stopped ({reason})", reason=solver.modelStatusToString(status)))
    if not optimal and (not found or kept > people):
        chosen, people = np.asarray(incumbent, np.int64), kept
        what = Message("{status}; greedy's sites kept, the best known", status=what)
    dual = solver.getInfo().mip_dual_bound
    bound = min(lp, float(dual)) if np.isfinite(dual) else lp
    bound = people if optimal else max(bound, people)
    return Exact(k, chosen, people, optimal, what, bound, lp, seconds, kept if warm else None)


def _start_from(solver: highspy.Highs, cov: Coverage, columns: np.ndarray, incumbent: np.ndarray) -> bool:
    """Hand the sites ``incumbent`` (and the rows they cover) to HiGHS as its starting solution; whether it took
    them (a site outside ``columns``, a dominated one, is replaced by the candidate that dominates it).
    """
    where = {int(c): i for i, c in enumerate(columns)}
    sub = cov.by_candidate[:, columns]
    x = np.zeros(len(columns))
    for j in incumbent:
        if int(j) in where:
            x[where[int(j)]] = 1.0
        else:  # every row of j lies in some kept column's rows
            rows = cov.rows_of(int(j))
            x[int(np.flatnonzero(np.asarray(sub[rows].sum(axis=0)).ravel() == len(rows))[0])] = 1.0
    covered = np.asarray(sub @ x).ravel() > 0
    solution = highspy.HighsSolution()
    solution.col_value = np.r_[x, covered.astype(float)]
    solution.value_valid = True
    return solver.setSolution(solution) == highspy.HighsStatus.kOk
