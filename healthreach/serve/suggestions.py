"""Suggested sites for the what-if page: ``healthreach suggest`` on the study as it is today."""

from __future__ import annotations

from typing import Any

from healthreach.evaluation import Evaluation, Study
from healthreach.suggest import Suggestion, suggest


class BaselineSuggestions:
    """The best ``count`` new sites of facility ``type`` for the study's own facilities (greedy, computed once
    when the server starts): the same sites ``healthreach suggest --type TYPE --count COUNT`` ranks.

    The page shows them whatever changes a session has made: each is
    labelled with the people it newly covers in today's district.
    """

    def __init__(self, study: Study, type: str, count: int) -> None:  # noqa: A002  the CLI's word
        self.result: Suggestion = suggest(study, type, count)  # a wrong type or count fails here, at start
        table = self.result.sites
        self.sites = [{"lon": float(lon), "lat": float(lat), "label": f"#{rank} {township}: +{people:,.0f}"}
                      for rank, township, lon, lat, people in zip(
                          table["rank"], table["township"], table["lon"], table["lat"], table["people_newly_covered"],
                          strict=True)]

    def __call__(self, _now: Evaluation) -> list[dict[str, Any]]:
        """Ranked sites: lon, lat (WGS84 degrees) and a label."""
        return self.sites
