"""Many studies at once: one audit per district as a Dask task, and a combined, ranked summary.

A batch is a list of study files. Each study is audited as one task on a Dask
cluster (a local cluster of worker processes by default, or an existing
scheduler by address) and writes its usual outputs into its own folder under
the batch output folder, plus two files of its own:

``result.json``
    written with the other outputs into a temporary folder that replaces the
    study's folder only when complete (:func:`healthreach.outputs.publish`),
    so a study folder holds one whole run or the previous one. It records a
    hash of the study's inputs and settings (study file values, profile,
    package version and the content of every input file) and the study's
    summary row. A re-run reuses a study whose hash is unchanged and
    whose outputs are all present, and redoes every other study, so an
    interrupted batch resumes without losing finished work.
``district.geojson``
    the district outline (union of its townships), WGS84, for the combined map.

A study that fails (an unreadable file, a bad column, a worker that died)
becomes one row with ``status = error`` and its message; the other studies
finish. The combined summary (``summary.csv``, ``summary.xlsx``) has one row
per district, sorted by its largest shortfall against a target, and
``coverage_map.html`` shades every district by its primary-care share.

Modules: :mod:`~healthreach.batch.discover` (which studies),
:mod:`~healthreach.batch.task` (one study's audit in a worker),
:mod:`~healthreach.batch.cluster` (the Dask client),
:mod:`~healthreach.batch.run` (running and collecting the tasks),
:mod:`~healthreach.batch.summary` (the ranked table, CSV and XLSX),
:mod:`~healthreach.batch.overview` (the coverage map) and
:mod:`~healthreach.batch.folders` (the files of a batch folder).
"""

from __future__ import annotations

from healthreach.batch.cluster import dask_client
from healthreach.batch.discover import StudyRef, discover_studies
from healthreach.batch.run import BatchResult, run_batch
from healthreach.batch.task import MapOptions, audit_study

__all__ = ["BatchResult", "MapOptions", "StudyRef", "audit_study", "dask_client", "discover_studies", "run_batch"]
