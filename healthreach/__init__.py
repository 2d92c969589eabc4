"""healthreach: test health-plan access targets on the real road network.

``healthreach.open_study(path)`` opens a study; see :mod:`healthreach.api`
and docs/api.md.
"""

from __future__ import annotations

from typing import Any

from healthreach.messages import Message

__version__ = "0.1.0"
__all__ = ["Evaluation", "Study", "__version__", "open_study"]


def __getattr__(name: str) -> Any:
    """The API's names, imported on first use (``import healthreach`` stays light for the command line)."""
    if name in ("open_study", "Study", "Evaluation"):
        from healthreach import api

        return getattr(api, name)
    msg = Message("module 'healthreach' has no attribute {name!r}", name=name)
    raise AttributeError(msg)
