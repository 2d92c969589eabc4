"""The Python API: open a study, evaluate its baseline, apply planned changes, compare.

    >>> import healthreach
    >>> study = healthreach.open_study("demo")
    >>> base = study.baseline()
    >>> base.figures["primary_care_15min"].share
    >>> plan = base.apply([{"relocate": "THC07", "to": {"lon": 106.93, "lat": 29.61}}])
    >>> plan.diff(base)...

The command line, the batch runner and the benchmarks go through these
functions; see docs/api.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from healthreach.cache import cache_dir
from healthreach.evaluation import Evaluation, Study
from healthreach.inputs import load_inputs
from healthreach.messages import Message
from healthreach.profile import load_profile
from healthreach.standards import build_standards
from healthreach.study import StudyFile, load_study, parse_study

__all__ = ["Evaluation", "Study", "open_study"]


def open_study(study: str | Path | Mapping[str, Any] | StudyFile | None = "demo", *, cache: Path | None = None,
               rebuild_network: bool = False, offline: bool = False,
               progress: Callable[[str | Message], None] | None = None) -> Study:
    """Read and validate a study; nothing is evaluated yet (see :meth:`Study.baseline`).

    ``study``: a study file or its folder, ``"demo"`` (or None) for the
    bundled demo county, a mapping of the study file's keys (relative paths
    from the current folder), or a :class:`~healthreach.study.StudyFile`.
    ``cache``: the disk cache root (default ``~/.cache/healthreach``, or
    ``$HEALTHREACH_CACHE``); ``rebuild_network`` builds the road network
    even if a cached one matches; ``offline`` downloads nothing;
    ``progress`` is told each step (a :class:`~healthreach.messages.Message`: ``str()`` is English, ``.render("zh")``
    Chinese).
    """
    if isinstance(study, StudyFile):
        spec = study
    elif isinstance(study, Mapping):
        spec = parse_study(dict(study))
    elif study is None or (isinstance(study, str) and study.strip().lower() == "demo"):
        spec = load_study(None)
    else:
        spec = load_study(study)
    build_standards(load_profile(spec.profile, spec))  # the profile's standards checked before any file is read
    root = cache_dir() if cache is None else Path(cache)
    inputs = load_inputs(spec, progress, use_cache=not rebuild_network, offline=offline, cache=root)
    return Study(inputs, cache=root)
