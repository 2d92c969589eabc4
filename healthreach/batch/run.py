"""Running a batch: every study as a Dask task, the rows collected as they finish, then the summary."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from healthreach.batch.cluster import SCHEDULER_TIMEOUT_S, dask_client
from healthreach.batch.discover import StudyRef, batch_input_paths, discover_studies
from healthreach.batch.summary import summary_table, write_summary
from healthreach.batch.task import audit_study, local_timestamp
from healthreach.cache import cache_dir
from healthreach.messages import Message
from healthreach.outputs import check_output, claim, clean_stale

if TYPE_CHECKING:
    from distributed import Client, Future

    from healthreach.batch.task import MapOptions


@dataclass
class BatchResult:
    """Rows in the order the studies were given, the ranked summary table, and the files written."""

    rows: list[dict[str, Any]]
    table: pd.DataFrame
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Rows of studies whose audit failed."""
        return [r for r in self.rows if r["status"] == "error"]

    @property
    def failing(self) -> list[dict[str, Any]]:
        """Rows of districts that fail at least one standard."""
        return [r for r in self.rows if any(s.get("passed") is False for s in r.get("standards") or [])]


Progress = Callable[[dict[str, Any], int, int], None]


def run_batch(  # noqa: PLR0913  keyword-only options of the public API, each documented below
              studies: Sequence[StudyRef | str | Path], out_dir: str | Path, *, client: Client | None = None,
              workers: int | None = None, scheduler: str | None = None, draw_map: bool = True,
              map_options: MapOptions | None = None, force: bool = False, use_cache: bool = True,
              cache: Path | None = None, memory_limit: str | float | None = "auto",
              on_start: Callable[[Client], None] | None = None, on_result: Progress | None = None,
              sources: Sequence[str | Path] = (), scheduler_timeout_s: float = SCHEDULER_TIMEOUT_S) -> BatchResult:
    """Audit every study as a Dask task and write the combined summary into ``out_dir``.

    Parameters
    ----------
    studies
        :class:`StudyRef` from :func:`discover_studies`, or paths (passed through it).
    out_dir
        Batch folder: one sub-folder per study plus ``summary.csv``, ``summary.xlsx``
        and ``coverage_map.html``. Workers must be able to write to it.
    client
        An existing Dask client to use (left open). Otherwise ``scheduler`` (an
        address such as ``tcp://host:8786``) is connected to, or a local cluster
        of ``workers`` processes (default: one per CPU, at most one per study) is started.
    draw_map, map_options
        Also draw each study's HTML map, and how (language, basemap, offline);
        the options also apply to the combined ``coverage_map.html``.
    force
        Redo studies even when their inputs are unchanged since their last result, and write into a
        non-empty ``out_dir`` that healthreach did not create.
    sources
        Further files the batch reads (the tables that list studies): ``out_dir`` may not overlap
        their folders, nor those of any study's inputs (checked before anything runs).
    scheduler_timeout_s
        Seconds to wait for ``scheduler`` to accept the connection and answer.
    on_start, on_result
        Called with the client once connected, and with ``(row, done, total)`` as each study finishes.
    """
    refs = as_refs(studies)
    out = check_output(out_dir, [*map(Path, sources), *batch_input_paths(refs)], force=force, name="batch")
    claim(out, "batch", force=True)  # the folder was checked: empty, owned, or --force
    clean_stale(out)
    opened: AbstractContextManager[Client]
    if client is not None:
        opened = contextlib.nullcontext(client)
    else:
        opened = dask_client(min(workers or os.cpu_count() or 1, len(refs)), scheduler, memory_limit,
                             timeout_s=scheduler_timeout_s)
    with opened as active:
        if on_start:
            on_start(active)
        settings = TaskSettings(draw_map, map_options, force, use_cache, cache_dir() if cache is None else cache)
        rows = _run_tasks(active, refs, out, settings, on_result)
    table = summary_table(rows)
    return BatchResult(rows, table, write_summary(rows, out, table, map_options))


def as_refs(studies: Sequence[StudyRef | str | Path]) -> list[StudyRef]:
    """The studies as :class:`StudyRef`: given as such, or found from their paths by :func:`discover_studies`."""
    refs = [s for s in studies if isinstance(s, StudyRef)]
    if len(refs) == len(studies):
        return refs
    return discover_studies([s.path if isinstance(s, StudyRef) else s for s in studies])


@dataclass(frozen=True)
class TaskSettings:
    """What every study's task is told: draw its map (and how), redo it regardless, reuse the cache under
    ``cache`` (one disk cache root for every worker, decided by the caller).
    """

    draw_map: bool
    map_options: MapOptions | None
    force: bool
    use_cache: bool
    cache: Path


def _run_tasks(client: Client, refs: list[StudyRef], out: Path, settings: TaskSettings,
               on_result: Progress | None) -> list[dict[str, Any]]:
    from distributed import as_completed

    run = uuid.uuid4().hex[:8]
    futures = {client.submit(audit_study, str(ref.path), str(out / ref.name), settings.draw_map, settings.force,
                             settings.use_cache, settings.map_options, str(settings.cache),
                             key=f"healthreach-audit-{ref.name}-{run}", pure=False): i
               for i, ref in enumerate(refs)}
    rows: list[dict[str, Any] | None] = [None] * len(refs)
    try:
        for done, fut in enumerate(as_completed(futures), start=1):
            i = futures[fut]
            row = collect_row(fut, refs[i], out, settings.map_options.lang if settings.map_options else "zh")
            rows[i] = row
            fut.release()
            if on_result:
                on_result(row, done, len(refs))
    finally:
        client.cancel([f for f in futures if not f.done()])
    return [r for r in rows if r is not None]


def collect_row(fut: Future, ref: StudyRef, out: Path, lang: str = "zh") -> dict[str, Any]:
    """The task's row, or an error row (its message in ``lang``) when the task itself was lost (worker died,
    cancelled).
    """
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - KilledWorker, CancelledError, lost connection
        message = f"{type(exc).__name__}: {exc}"
        if type(exc).__name__ == "KilledWorker":
            message += Message(" (the worker process died while auditing this study, often for lack of memory: "
                               "use fewer workers or a larger memory limit)").render(lang)
        return {"study": ref.path.stem, "folder": ref.name, "path": str(ref.path), "status": "error",
                "message": message, "out_dir": str(out / ref.name), "finished": local_timestamp()}

