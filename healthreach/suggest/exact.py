"""Exact maximal covering on the reduced rows: a mixed-integer program solved by HiGHS (``scipy.optimize.milp``).

Variables: ``x_j`` (1: candidate j is built) and ``y_r`` in [0, 1] (row r is
covered). Maximise the people covered, sum ``p_r y_r``, subject to
``y_r <= sum of x_j over the candidates covering r`` and ``sum x_j <= k``.
Only undominated candidates enter (a candidate whose cells another covers
as well can always be swapped for it: an exact reduction). The LP relaxation
(x in [0, 1]) bounds the optimum from above; HiGHS's own dual bound, when it
stops at the time limit, is reported beside it. ``scipy.optimize.milp`` takes
no starting solution, so greedy's answer is not passed to the solver: it is
kept as the incumbent when the solver stops with nothing better.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from healthreach.suggest.coverage import Coverage, undominated


@dataclass(frozen=True)
class Exact:
    """One exact solve for ``k`` sites: the chosen candidates, the people they newly cover, the bound.

    ``optimal`` only when HiGHS reports the optimum proven (relative gap 0);
    ``bound`` (people) is the least upper bound known: HiGHS's dual bound, or
    the LP relaxation's, whichever is lower; ``lp_bound`` the LP relaxation's.
    """

    k: int
    chosen: np.ndarray
    people: float
    optimal: bool
    status: str
    bound: float
    lp_bound: float
    seconds: float

    @property
    def gap(self) -> float:
        """(bound - people) / bound, 0..1: how far the answer may be from the best (0 when proven)."""
        return 0.0 if self.optimal or self.bound <= 0 else max(0.0, (self.bound - self.people) / self.bound)


def _model(cov: Coverage, k: int, columns: np.ndarray) -> tuple[np.ndarray, LinearConstraint, LinearConstraint, int]:
    """The program for ``k`` sites over the candidates ``columns``: objective, covering rows, budget row."""
    matrix = cov.matrix[:, columns]
    n_rows, n_cand = matrix.shape
    objective = np.r_[np.zeros(n_cand), -cov.people]          # minimise minus the people covered
    link = sparse.hstack([-matrix, sparse.identity(n_rows, format="csr")], format="csr")  # y_r - sum x_j <= 0
    budget = sparse.csr_matrix(np.r_[np.ones(n_cand), np.zeros(n_rows)][None, :])
    return objective, LinearConstraint(link, -np.inf, 0.0), LinearConstraint(budget, 0, k), n_cand


def lp_bound(cov: Coverage, k: int) -> float:
    """The LP relaxation's optimum (people): no k sites cover more."""
    if cov.matrix.shape[0] == 0:
        return 0.0
    objective, link, budget, _ = _model(cov, k, undominated(cov))
    res = milp(objective, integrality=np.zeros(len(objective), np.int64), bounds=Bounds(0, 1),
               constraints=[link, budget])
    return float(-res.fun) if res.fun is not None else float("inf")


def solve(cov: Coverage, k: int, time_limit_s: float, incumbent: np.ndarray) -> Exact:
    """The best ``k`` sites, or the best known when HiGHS stops at ``time_limit_s`` (seconds), with its bound.

    ``incumbent``: sites already found (greedy's first k), kept when the solver finds nothing better in time.
    """
    start = time.perf_counter()
    if cov.matrix.shape[0] == 0:
        return Exact(k, np.zeros(0, np.int64), 0.0, True, "proven optimal (nothing to cover)", 0.0, 0.0,
                     time.perf_counter() - start)
    if k == 1:  # every candidate's people are known: the best one is proven by looking at all
        alone = np.asarray(cov.by_candidate.T @ cov.people).ravel()
        best = int(np.argmax(alone))
        lp = lp_bound(cov, 1)
        return Exact(1, np.array([best]), float(alone[best]), True, "proven optimal (every candidate counted)",
                     float(alone[best]), lp, time.perf_counter() - start)
    columns = undominated(cov)
    lp = lp_bound(cov, k)
    objective, link, budget, n_cand = _model(cov, k, columns)
    integrality = np.r_[np.ones(n_cand, np.int64), np.zeros(len(cov.people), np.int64)]
    left = max(time_limit_s - (time.perf_counter() - start), 0.1)
    res = milp(objective, integrality=integrality, bounds=Bounds(0, 1), constraints=[link, budget],
               options={"time_limit": left, "mip_rel_gap": 0.0})
    seconds = time.perf_counter() - start
    chosen = columns[np.flatnonzero(res.x[:n_cand] > 0.5)] if res.x is not None else np.zeros(0, np.int64)
    people = cov.value(chosen)   # counted from the coverage sets, not read off the solver's y
    optimal = res.status == 0
    kept = cov.value(incumbent)
    status = "proven optimal" if optimal else f"stopped ({res.message.split('(')[0].strip()})"
    if not optimal and (res.x is None or kept > people):
        chosen, people, status = np.asarray(incumbent, np.int64), kept, status + "; greedy's sites kept, the best known"
    dual = getattr(res, "mip_dual_bound", None)
    bound = min(lp, -float(dual)) if dual is not None and np.isfinite(dual) else lp
    bound = people if optimal else max(bound, people)
    return Exact(k, chosen, people, optimal, status, bound, lp, seconds)
