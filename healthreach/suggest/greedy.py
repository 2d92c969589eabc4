"""Lazy greedy maximal covering: one site per round, the one that newly covers the most people.

A site's gain can only shrink as others are chosen (coverage is submodular),
so a gain computed in an earlier round is an upper bound: the search
recomputes the gain of the site on top of the queue and takes it when it
still beats every other (stale) bound. Gains are exact people counts from the
coverage sets. The same bounds give, at every round ``i``, an upper bound on
the best ``k`` sites: the people covered by the first ``i`` plus the ``k``
largest bounds (Minoux's bound), which the curve draws as a band.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from healthreach.suggest.coverage import Coverage


@dataclass(frozen=True)
class Greedy:
    """Chosen candidates in order, the people each newly covers, and per k an upper bound on the best k sites."""

    chosen: np.ndarray
    gains: np.ndarray
    upper: np.ndarray     # upper[k - 1]: no k sites cover more people than this (people)
    evaluations: int      # gains recomputed


def lazy_greedy(cov: Coverage, count: int) -> Greedy:
    """Up to ``count`` sites by lazy greedy; it stops early when no site would cover anyone new."""
    by = cov.by_candidate
    people = cov.people
    open_row = np.ones(len(people), bool)
    initial = np.asarray(by.T @ people).ravel() if len(people) else np.zeros(by.shape[1])
    heap = [(-float(g), j) for j, g in enumerate(initial) if g > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    upper = np.full(count, np.inf)
    covered, evaluations = 0.0, 0
    while heap and len(chosen) < count:
        upper = np.minimum(upper, covered + _top_sums(heap, count))  # once per round: the queue's bounds now
        while heap:
            _, j = heapq.heappop(heap)
            rows = by.indices[by.indptr[j]:by.indptr[j + 1]]
            gain = float(people[rows[open_row[rows]]].sum())
            evaluations += 1
            if gain <= 0:
                continue
            if heap and gain < -heap[0][0]:
                heapq.heappush(heap, (-gain, j))
                continue
            chosen.append(j)
            gains.append(gain)
            open_row[rows] = False
            covered += gain
            break
    upper = np.minimum(upper, covered + _top_sums(heap, count))
    return Greedy(np.array(chosen, np.int64), np.array(gains), upper, evaluations)


def _top_sums(heap: list[tuple[float, int]], count: int) -> np.ndarray:
    """Per k = 1..count: the sum of the k largest gain bounds in the queue (people; 0 when it is empty)."""
    sums = np.cumsum([0.0] + [-g for g, _ in heapq.nsmallest(count, heap)])[1:]
    return np.r_[sums, np.full(count - len(sums), sums[-1] if len(sums) else 0.0)]
