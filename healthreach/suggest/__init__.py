"""Site suggestion: where new facilities of a type bring the most people within a standard (issue 15).

``suggest(study, type, count, ...)`` returns a :class:`Suggestion`; see docs/suggest.md.
"""

from healthreach.suggest.suggestion import Suggestion, suggest

__all__ = ["Suggestion", "suggest"]
