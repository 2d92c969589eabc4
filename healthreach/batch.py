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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import re
import shutil
import socket
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from healthreach import __version__
from healthreach.cache import cache_key
from healthreach.errors import HealthreachError, StudyError
from healthreach.outputs import (check_output, claim, clean_stale, publish, replace_files, study_input_paths,
                                  write_json, write_text, write_xlsx)
from healthreach.report import json_safe
from healthreach.sources import describe_inputs

if TYPE_CHECKING:
    import folium
    from distributed import Client, Future

    from healthreach.profile import Profile
    from healthreach.standards import Audit
    from healthreach.study import StudyFile

RESULT = "result.json"
ERROR = "error.txt"
DISTRICT = "district.geojson"
SUMMARY_FILES = ("summary.csv", "summary.xlsx", "coverage_map.html")
STUDY_SUFFIXES = (".yaml", ".yml")
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".xls")
_MARKER_FORMAT = 1
PRIMARY = "primary_care_15min"
_MAP_TEXT = {
    "title": {"zh": "各区县{threshold}分钟医疗服务圈覆盖率",
              "en": "Share within the {threshold}-minute medical circle, by district"},
    "summary": {"zh": "{n} 个区县，{failing} 个未达到至少一项标准",
                "en": "{n} districts, {failing} failing at least one standard"},
    "missing": {"zh": "未绘出（评估失败或无边界）：{names}", "en": "Not shown (audit failed or no boundary): {names}"},
    "layer": {"zh": "区县：{threshold}分钟圈覆盖率", "en": "Districts: share within {threshold} min"},
    "legend": {"zh": "区县覆盖率", "en": "District share covered"},
    "district": {"zh": "区县", "en": "District"},
    "failed": {"zh": "未达标项", "en": "Standards failed"},
    "worst": {"zh": "覆盖率最低的乡镇", "en": "Worst townships"},
    "none": {"zh": "无", "en": "none"},
}


class BatchError(HealthreachError, RuntimeError):
    """The batch itself cannot run (no studies, unreachable scheduler, Dask missing)."""


SCHEDULER_TIMEOUT_S = 15.0
DEFAULT_SCHEDULER_PORT = 8786


@dataclass(frozen=True)
class MapOptions:
    """How maps are drawn, as for ``healthreach audit``: language, basemap, offline page, Tianditu key."""

    lang: str = "zh"
    basemap: str | None = None
    offline: bool = False
    tianditu_key: str | None = None

    def settings(self) -> dict[str, Any]:
        """What changes the drawn page (the key is left out: it is a credential, not a setting)."""
        return {"lang": self.lang, "basemap": self.basemap, "offline": self.offline}


# --- which studies ------------------------------------------------------------

@dataclass(frozen=True)
class StudyRef:
    """One study of a batch: its study file and the name of its output folder."""

    path: Path
    name: str


def discover_studies(paths: Iterable[str | Path]) -> list[StudyRef]:
    """The studies named by ``paths``, in order, each with a unique output-folder name.

    Each path may be a study file (``.yaml``), a folder (its ``study.yaml``, or
    else every ``study.yaml`` and ``*.study.yaml`` below it), or a table (CSV
    or XLSX) with a ``study`` column of study files or folders, relative to the
    table, and an optional ``name`` column for the output folder. A path or
    table entry whose file is missing is kept: its audit reports the error,
    so one bad argument or line does not stop the batch. Output folders are named after the
    study's folder (``.../wulong/study.yaml`` -> ``wulong``) or its file stem;
    repeated names get ``-2``, ``-3``.
    """
    paths = list(paths)
    found: list[tuple[Path, str | None]] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():  # becomes an error row: "study file not found"
            found.append((path.resolve(), None))
        elif path.is_dir():
            found.extend((p, None) for p in _studies_in_folder(path))
        elif path.suffix.lower() in TABLE_SUFFIXES:
            found.extend(_studies_in_table(path))
        elif path.suffix.lower() in STUDY_SUFFIXES:
            found.append((path.resolve(), None))
        else:
            raise StudyError(f"{path}: not a study file (.yaml), a folder of studies or a table (.csv, .xlsx)")
    seen: set[Path] = set()
    refs: list[StudyRef] = []
    used: set[str] = set()
    for path, name in found:
        if path in seen:
            continue
        seen.add(path)
        base = _safe_name(name or (path.parent.name if path.name in ("study.yaml", "study.yml") else
                                   path.name.split(".")[0]))
        unique, n = base, 1
        while unique.lower() in used or unique.lower() in SUMMARY_FILES:
            n += 1
            unique = f"{base}-{n}"
        used.add(unique.lower())
        refs.append(StudyRef(path, unique))
    if not refs:
        raise StudyError(f"no study files found in {', '.join(map(str, paths))} "
                         f"(looked for study.yaml and *.study.yaml)")
    return refs


def _studies_in_folder(folder: Path) -> list[Path]:
    for name in ("study.yaml", "study.yml"):
        if (folder / name).is_file():
            return [(folder / name).resolve()]
    hits = {p.resolve() for pattern in ("study.yaml", "study.yml", "*.study.yaml", "*.study.yml")
            for p in folder.rglob(pattern) if p.is_file()}
    return sorted(hits)


def _studies_in_table(path: Path) -> list[tuple[Path, str | None]]:
    from healthreach.load.tables import read_table

    table = read_table(path)
    columns = {str(c).strip().lower(): c for c in table.columns}
    if "study" not in columns:
        raise StudyError(f"{path}: needs a 'study' column of study files or folders; "
                         f"the table has: {', '.join(map(str, table.columns))}")
    studies = table[columns["study"]]
    names = table[columns["name"]] if "name" in columns else pd.Series([None] * len(table), index=table.index)
    out: list[tuple[Path, str | None]] = []
    for value, name in zip(studies, names, strict=True):
        if value is None or (isinstance(value, float) and math.isnan(value)) or not str(value).strip():
            continue
        entry = Path(str(value).strip()).expanduser()
        entry = (entry if entry.is_absolute() else path.parent / entry).resolve()
        if entry.is_dir():
            entry = entry / "study.yaml"
        name = None if name is None or (isinstance(name, float) and math.isnan(name)) else str(name).strip()
        out.append((entry, name or None))
    return out


_FOLDER_NAME_MAX = 60  # characters: room for the temporary-folder suffix within any file system's 255 bytes


def _safe_name(name: str) -> str:
    """A folder name: letters (any script), digits, '-', '_' and '.' kept, every other run of characters
    '_', at most ``_FOLDER_NAME_MAX`` characters (a shortened name ends in a hash of the whole one)."""
    safe = re.sub(r"[^\w.-]+", "_", name).strip("._-") or "study"
    if len(safe) > _FOLDER_NAME_MAX:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        safe = f"{safe[:_FOLDER_NAME_MAX - 9]}-{digest}"
    return safe


# --- one study ----------------------------------------------------------------

def task_hash(study: StudyFile, profile: Profile, settings: dict[str, Any]) -> str:
    """A hash of everything that determines a study's batch outputs, computed without loading the inputs.

    Combines :func:`healthreach.inputs.study_hash` (package version, study
    values, profile, content of every input file and its side files: the
    ``input_hash`` of the study's ``summary.json``) with the batch ``settings``.
    Reading the files costs about a second per gigabyte.
    """
    from healthreach.inputs import study_hash

    return cache_key("batch", study_hash(study, profile), settings)


def audit_study(study_path: str | Path, out_dir: str | Path, draw_map: bool = True, force: bool = False,
                use_cache: bool = True, map_options: MapOptions | None = None) -> dict[str, Any]:
    """Audit one study into ``out_dir`` and return its summary row; never raises for a bad study.

    This is the Dask task. It reuses the previous result when ``result.json``
    in ``out_dir`` records the same :func:`task_hash` and every output it
    lists still exists (``status = "reused"``); otherwise it audits and
    writes the outputs (and the map, drawn with ``map_options``, unless
    ``draw_map`` is False) with the marker into a temporary folder that then
    replaces ``out_dir`` whole (``status = "ok"``). Any failure returns a row
    with ``status = "error"`` and a message, and replaces the folder by one
    holding the message (with a traceback for unexpected errors) in
    ``error.txt``.
    Population figures are people, shares 0..1, times seconds.
    """
    start = time.perf_counter()
    study_path, out = Path(study_path), Path(out_dir)
    row: dict[str, Any] = {"study": study_path.stem, "folder": out.name, "path": str(study_path), "status": "error",
                           "message": "", "out_dir": str(out), "worker": _worker_name(), "version": __version__}
    try:
        from healthreach.profile import load_profile
        from healthreach.study import load_study

        study = load_study(study_path)
        row["study"] = study.name
        profile = load_profile(study.profile, study)
        map_options = map_options or MapOptions()
        key = task_hash(study, profile, {"map": map_options.settings() if draw_map else None})
        previous = None if force else read_marker(out)
        if previous and previous.get("task_hash") == key and all((out / f).is_file() for f in previous["files"]):
            return {**previous["row"], "status": "reused", "out_dir": str(out), "worker": row["worker"],
                    "seconds": round(time.perf_counter() - start, 3)}
        # the study's folder is replaced whole, and only once every output (result.json included) is written
        with publish(out, "batch-study", key, keep_foreign=False) as stage:
            figures, files = _run_audit(study, stage, map_options if draw_map else None, use_cache,
                                        map_options.offline)
            row.update(figures, status="ok", task_hash=key, finished=_now(),
                       seconds=round(time.perf_counter() - start, 3))
            marker = {"format": _MARKER_FORMAT, "task_hash": key, "input_hash": row["input_hash"],
                      "healthreach_version": __version__, "finished": row["finished"], "files": files, "row": row}
            write_json(stage / RESULT, json_safe(marker))
        return json_safe(row)
    except Exception as exc:  # noqa: BLE001 - one study's failure must not end the batch; the row says why
        expected = isinstance(exc, HealthreachError)
        row["message"] = str(exc) if expected else f"{type(exc).__name__}: {exc}"
        row["seconds"] = round(time.perf_counter() - start, 3)
        row["finished"] = _now()
        detail = row["message"] + ("" if expected else "\n\n" + traceback.format_exc())
        with contextlib.suppress(OSError), publish(out, "batch-study", None, keep_foreign=False) as stage:
            write_text(stage / ERROR, detail)  # the folder now says why, and holds no result of another run
        return json_safe(row)


def _run_audit(study: StudyFile, out: Path, map_options: MapOptions | None, use_cache: bool,
               offline: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Load, audit and write one study into the folder ``out`` (in place); returns the figures of its
    summary row and the files written."""
    from healthreach.inputs import load_inputs
    from healthreach.report import write_audit_files
    from healthreach.standards import audit

    inputs = load_inputs(study, use_cache=use_cache, offline=offline)
    result = audit(inputs)
    page = None
    if map_options is not None:
        from healthreach.maps.audit import audit_map
        from healthreach.maps.base import render_html
        page = render_html(audit_map(result, lang=map_options.lang, basemap=map_options.basemap,
                                     offline=map_options.offline, tianditu_key=map_options.tianditu_key))
    paths = write_audit_files(result, out, page)
    _write_district(inputs.boundaries, out / DISTRICT, study.name)
    return audit_row(result), sorted([*(p.name for p in paths.values()), DISTRICT])


def audit_row(result: Audit, worst: int = 3) -> dict[str, Any]:
    """The figures of one audit as a batch row: people, counts, every standard and the worst townships.

    ``standards`` holds, per standard, the people it applies to, the people
    covered, the share (0..1; for ambulance standards: ambulances available /
    required), the target and pass (None when it could not be evaluated).
    ``worst_townships`` are the ``worst`` townships with people, lowest
    primary-care share first.
    """
    inp = result.inputs
    standards = [{"id": f.id, "title": f.title, "unit": f.unit, "population": f.population, "covered": f.covered,
                  "share": f.share, "target": f.target, "passed": f.passed, "unreachable": f.unreachable,
                  **({"threshold_min": f.details["threshold_min"]} if "threshold_min" in f.details else {}),
                  **({"not_assessed": f.details["not_assessed"]} if "not_assessed" in f.details else {})}
                 for f in result.figures]
    towns = result.townships
    worst_rows: list[dict[str, Any]] = []
    if "primary_care_share" in towns:
        ranked = towns[(towns["people"] > 0) & towns["primary_care_share"].notna()]
        ranked = ranked.sort_values(["primary_care_share", "people"], ascending=[True, False], kind="stable")
        worst_rows = [{"id": str(r.township_id), "name": str(r.name), "people": float(r.people),
                       "share": float(r.primary_care_share)} for r in ranked.head(worst).itertuples()]
    primary = next((f for f in result.figures if f.id == PRIMARY), None)
    uncovered = None if primary is None or primary.covered is None else primary.population - primary.covered
    return {"study": inp.study.name, "population": inp.total_people, "townships": len(inp.boundaries),
            "facilities": len(result.facilities), "standards": standards, "worst_townships": worst_rows,
            "primary_uncovered_people": uncovered, "warnings": list(inp.warnings), "input_hash": inp.input_hash,
            "inputs": {role: source.text("en") for role, source in describe_inputs(inp.study).items()}}


def _write_district(boundaries, path: Path, name: str) -> None:
    """The district outline (union of townships, simplified to 20 m) as WGS84 GeoJSON."""
    import geopandas as gpd

    outline = boundaries.geometry.union_all().simplify(20.0)
    frame = gpd.GeoDataFrame({"name": [name]}, geometry=[outline], crs=boundaries.crs).to_crs(4326)
    frame.to_file(path, driver="GeoJSON")


def read_marker(out: Path) -> dict[str, Any] | None:
    """The ``result.json`` of a study folder, or None when it is absent, unreadable or of another format."""
    try:
        marker = json.loads((out / RESULT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(marker, dict) and marker.get("format") == _MARKER_FORMAT and isinstance(marker.get("row"), dict)
    return marker if ok and isinstance(marker.get("files"), list) else None


def _worker_name() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


# --- many studies on Dask -------------------------------------------------------

def probe_scheduler(address: str, timeout_s: float = SCHEDULER_TIMEOUT_S) -> None:
    """Raise :class:`BatchError` unless the Dask scheduler at ``address`` accepts a connection and
    sends its greeting within ``timeout_s`` seconds.

    A Dask scheduler greets every new TCP connection first; a port that
    accepts and never answers (a wrong service, a stuck scheduler) would
    otherwise hold the client for ever. Addresses of other schemes (``tls://``,
    ``inproc://``) are left to Dask's own connection timeout.
    """
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    advice = "check the address (e.g. tcp://10.0.0.5:8786) and that the scheduler is running"
    try:
        scheme, location = parse_address(address)
        host, port = parse_host_port(location, default_port=DEFAULT_SCHEDULER_PORT)
    except (ValueError, TypeError) as exc:
        raise BatchError(f"--scheduler {address}: not a scheduler address ({exc}); {advice}") from None
    if scheme != "tcp":
        return
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            if not sock.recv(1):
                raise BatchError(f"the Dask scheduler at {address} closed the connection without answering; "
                                 f"{advice}")
    except TimeoutError:
        raise BatchError(f"the Dask scheduler at {address} did not answer within {timeout_s:g} s "
                         f"(--scheduler-timeout); {advice}") from None
    except OSError as exc:
        raise BatchError(f"cannot connect to the Dask scheduler at {address} ({exc.strerror or exc}); "
                         f"{advice}") from None


@dataclass
class BatchResult:
    """Rows in the order the studies were given, the ranked summary table, and the files written."""

    rows: list[dict[str, Any]]
    table: pd.DataFrame
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["status"] == "error"]

    @property
    def failing(self) -> list[dict[str, Any]]:
        """Rows of districts that fail at least one standard."""
        return [r for r in self.rows if any(s.get("passed") is False for s in r.get("standards") or [])]


Progress = Callable[[dict[str, Any], int, int], None]


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None,
                memory_limit: str | float | None = "auto", dashboard_address: str | None = ":0",
                timeout_s: float = SCHEDULER_TIMEOUT_S) -> Iterator[Client]:
    """A Dask client: connected to ``scheduler`` if given, else to a new local cluster of ``workers`` processes.

    Local workers each run one audit at a time (one thread per process);
    ``memory_limit`` is per worker (``"auto"``: system memory / workers).
    ``timeout_s`` (seconds) bounds the connection to a remote scheduler and
    its first answer (see :func:`probe_scheduler`). Whatever is opened here
    is closed on exit.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise BatchError("batch audits need Dask: pip install 'healthreach[batch]'") from None
    if scheduler:
        probe_scheduler(scheduler, timeout_s)
        try:
            client = Client(scheduler, timeout=timeout_s)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BatchError(f"cannot connect to the Dask scheduler at {scheduler} ({type(exc).__name__}: {exc}); "
                             f"check the address (e.g. tcp://10.0.0.5:8786) and that the scheduler is running"
                             ) from None
        with client:
            yield client
        return
    n = max(1, int(workers or os.cpu_count() or 1))
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                      dashboard_address=dashboard_address) as cluster, Client(cluster) as client:
        yield client


def run_batch(studies: Sequence[StudyRef | str | Path], out_dir: str | Path, *, client: Client | None = None,
              workers: int | None = None, scheduler: str | None = None, draw_map: bool = True,
              map_options: MapOptions | None = None,
              force: bool = False, use_cache: bool = True, memory_limit: str | float | None = "auto",
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
    refs = list(studies) if all(isinstance(s, StudyRef) for s in studies) else discover_studies(
        [s.path if isinstance(s, StudyRef) else s for s in studies])
    out = check_output(out_dir, [*map(Path, sources), *batch_input_paths(refs)], force=force, name="batch")
    claim(out, "batch", force=True)  # the folder was checked: empty, owned, or --force
    clean_stale(out)
    if client is not None:
        opened = contextlib.nullcontext(client)
    else:
        opened = dask_client(min(workers or os.cpu_count() or 1, len(refs)), scheduler, memory_limit,
                             timeout_s=scheduler_timeout_s)
    with opened as active:
        if on_start:
            on_start(active)
        rows = _run_tasks(active, refs, out, draw_map, map_options, force, use_cache, on_result)
    table = summary_table(rows)
    return BatchResult(rows, table, write_summary(rows, out, table, map_options))


def batch_input_paths(refs: Sequence[StudyRef]) -> list[Path]:
    """Every file the studies of a batch read (study files, profiles, inputs), as far as they can be read."""
    from healthreach.study import load_study

    paths: list[Path] = []
    for ref in refs:
        paths.append(ref.path)
        try:
            paths.extend(study_input_paths(load_study(ref.path)))
        except HealthreachError:
            continue  # a broken study becomes an error row; its own file is protected all the same
    return paths


def _run_tasks(client: Client, refs: list[StudyRef], out: Path, draw_map: bool, map_options: MapOptions | None,
               force: bool, use_cache: bool, on_result: Progress | None) -> list[dict[str, Any]]:
    from distributed import as_completed

    run = uuid.uuid4().hex[:8]
    futures = {client.submit(audit_study, str(ref.path), str(out / ref.name), draw_map, force, use_cache,
                             map_options, key=f"healthreach-audit-{ref.name}-{run}", pure=False): i
               for i, ref in enumerate(refs)}
    rows: list[dict[str, Any] | None] = [None] * len(refs)
    try:
        for done, fut in enumerate(as_completed(futures), start=1):
            i = futures[fut]
            rows[i] = collect_row(fut, refs[i], out)
            fut.release()
            if on_result:
                on_result(rows[i], done, len(refs))
    finally:
        client.cancel([f for f in futures if not f.done()])
    return [r for r in rows if r is not None]


def collect_row(fut: Future, ref: StudyRef, out: Path) -> dict[str, Any]:
    """The task's row, or an error row when the task itself was lost (worker died, cancelled)."""
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - KilledWorker, CancelledError, lost connection
        message = f"{type(exc).__name__}: {exc}"
        if type(exc).__name__ == "KilledWorker":
            message += " (the worker process died while auditing this study, often for lack of memory: " \
                       "use fewer workers or a larger memory limit)"
        return {"study": ref.path.stem, "folder": ref.name, "path": str(ref.path), "status": "error",
                "message": message, "out_dir": str(out / ref.name), "finished": _now()}


# --- the combined summary -------------------------------------------------------

def summary_table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per district, largest shortfall first, errors last.

    ``largest_gap`` is the largest (target - share) over the standards stated
    as a share of people with a target: positive means short of the target
    by that many share points, negative means every such standard is met with
    that margin. Per standard there is ``<id>_share`` (0..1; ambulance
    standards: available / required) and ``<id>_pass`` (pass, fail, or empty
    when it could not be evaluated).
    """
    ids: list[str] = []
    for row in rows:
        ids.extend(s["id"] for s in row.get("standards") or [] if s["id"] not in ids)
    records = []
    for row in rows:
        standards = {s["id"]: s for s in row.get("standards") or []}
        gaps = {sid: s["target"] - s["share"] for sid, s in standards.items()
                if s["unit"] == "share of people" and s["target"] is not None and s["share"] is not None}
        worst_id = max(gaps, key=gaps.get) if gaps else None
        record = {
            "district": row.get("study"), "folder": row.get("folder"), "status": row.get("status"),
            "message": row.get("message") or "", "population": _round(row.get("population"), 0),
            "townships": row.get("townships"), "facilities": row.get("facilities"),
            "largest_gap": _round(gaps.get(worst_id), 4), "largest_gap_standard": worst_id or "",
            "failed_standards": ", ".join(sid for sid, s in standards.items() if s["passed"] is False),
            "primary_uncovered_people": _round(row.get("primary_uncovered_people"), 0),
        }
        for sid in ids:
            s = standards.get(sid)
            record[f"{sid}_share"] = _round(s["share"], 4) if s else None
            record[f"{sid}_pass"] = ("not assessed" if s and s.get("not_assessed") else
                                     "" if not s or s["passed"] is None else ("pass" if s["passed"] else "fail"))
        record["worst_townships"] = "; ".join(f"{t['name']} {t['share']:.1%}" for t in row.get("worst_townships") or [])
        record["warnings"] = len(row.get("warnings") or [])
        record["finished"] = row.get("finished") or ""
        record["seconds"] = row.get("seconds")
        record["input_hash"] = row.get("input_hash") or ""
        record["inputs"] = "; ".join(f"{role}: {text}" for role, text in (row.get("inputs") or {}).items())
        record["study_file"] = row.get("path")
        records.append(record)
    table = pd.DataFrame.from_records(records)
    if table.empty:
        return table
    table["_error"] = table["status"] == "error"
    table = table.sort_values(["_error", "largest_gap"], ascending=[True, False], na_position="last", kind="stable")
    table = table.drop(columns="_error").reset_index(drop=True)
    for column in ("townships", "facilities", "warnings"):
        table[column] = table[column].astype("Int64")
    ranked = table["status"] != "error"
    table.insert(0, "rank", pd.array([i + 1 if r else None for i, r in enumerate(ranked)], dtype="Int64"))
    return table


def _round(value: Any, digits: int) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), digits)


def write_summary(rows: Sequence[dict[str, Any]], out: Path, table: pd.DataFrame | None = None,
                  map_options: MapOptions | None = None) -> dict[str, Path]:
    """Write ``summary.csv``, ``summary.xlsx`` and (when any district outline exists) ``coverage_map.html``.

    The three are built in a temporary folder, then renamed into ``out`` one
    after the other, and the batch manifest (listing them and the study
    folders) is rewritten last; a summary file of an earlier run that this
    one does not write (no outline: no map) is removed.
    """
    from healthreach.outputs import make_temp_folder, write_csv

    out = Path(out)
    table = summary_table(rows) if table is None else table
    stage = make_temp_folder(out, "summary")
    try:
        write_csv(table, stage / "summary.csv")
        _write_xlsx(table, rows, stage / "summary.xlsx")
        page = coverage_map(rows, map_options)
        if page is not None:
            from healthreach.maps.base import render_html

            write_text(stage / "coverage_map.html", render_html(page))
        names = replace_files(out, stage, "batch", keep=[str(r.get("folder")) for r in rows if r.get("folder")])
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    for name in set(SUMMARY_FILES) - set(names):
        with contextlib.suppress(FileNotFoundError):
            (out / name).unlink()
    return {name: out / name for name in names}


def _write_xlsx(table: pd.DataFrame, rows: Sequence[dict[str, Any]], path: Path) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    titles: dict[str, dict[str, Any]] = {}
    for row in rows:
        for s in row.get("standards") or []:
            titles.setdefault(s["id"], {"standard": s["id"], "title": s["title"], "unit": s["unit"],
                                        "target": s["target"]})
    standards = pd.DataFrame(list(titles.values()), columns=["standard", "title", "unit", "target"])

    def style(sheet, frame: pd.DataFrame, sheet_name: str) -> None:
        if sheet_name != "summary":
            return
        sheet.freeze_panes = "C2"
        sheet.auto_filter.ref = sheet.dimensions
        fail_fill = PatternFill("solid", fgColor="F4CCCC")
        for j, name in enumerate(table.columns, start=1):
            letter = get_column_letter(j)
            sheet[f"{letter}1"].font = Font(bold=True)
            sheet.column_dimensions[letter].width = min(40, max(8, len(str(name)) + 2))
            percent = name == "largest_gap" or (name.endswith("_share") and not name.startswith("ambulances"))
            for cell in sheet[letter][1:]:
                if percent and cell.value is not None:
                    cell.number_format = "0.0%"
                elif name.startswith("ambulances") and name.endswith("_share") and cell.value is not None:
                    cell.number_format = "0.00"
                if cell.value in ("fail", "error"):
                    cell.fill = fail_fill

    write_xlsx({"summary": table, "standards": standards}, path, style)


def coverage_map(rows: Sequence[dict[str, Any]], map_options: MapOptions | None = None) -> folium.Map | None:
    """Every district with an outline, shaded by its primary-care share; None when no outline exists.

    Drawn with the layers and styles of :mod:`healthreach.maps.layers` (the same
    share colours as the townships of a single audit's map).
    """
    import folium
    import geopandas as gpd

    from healthreach.i18n import check_lang, t
    from healthreach.maps.base import add_controls, add_title, escape, new_map, to_display
    from healthreach.maps.layers import SHARE_BREAKS, SHARE_COLOURS, share_colour
    from healthreach.maps.legend import add_legend, add_legend_section, swatch

    options = map_options or MapOptions()
    lang = check_lang(options.lang)

    def text(key: str, **values: Any) -> str:
        return _MAP_TEXT[key][lang].format(**values)

    frames, missing, threshold = [], [], 15.0
    for row in rows:
        path = Path(row.get("out_dir") or "") / DISTRICT
        if row.get("status") == "error" or not path.is_file():
            missing.append(str(row.get("study") or row.get("folder")))
            continue
        standards = {s["id"]: s for s in row.get("standards") or []}
        primary = standards.get(PRIMARY, {})
        threshold = primary.get("threshold_min") or threshold
        share = primary.get("share")
        failed = [sid for sid, s in standards.items() if s["passed"] is False]
        frame = gpd.read_file(path)[["geometry"]]
        frame["district"] = escape(str(row.get("study")))
        frame["people"] = f"{row.get('population') or 0:,.0f}"
        frame["share"] = float("nan") if share is None else share
        frame["share_pct"] = "—" if share is None else f"{share:.1%}"
        frame["failed"] = escape(", ".join(failed) or text("none"))
        worst = row.get("worst_townships") or []
        frame["worst"] = escape("; ".join(f"{t['name']} {t['share']:.0%}" for t in worst))
        frames.append(frame)
    if not frames:
        return None
    districts = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    failing = sum(f != escape(text("none")) for f in districts["failed"])
    title = text("title", threshold=f"{threshold:g}")
    m = new_map(tuple(districts.total_bounds), lang=lang, basemap=options.basemap,
                tianditu_key=options.tianditu_key, offline=options.offline, page_title=title)
    lines = [("title", title), ("line", text("summary", n=len(districts), failing=failing))]
    if missing:
        lines.append(("line", text("missing", names=", ".join(missing))))
    add_title(m, lines)
    layer = folium.GeoJson(
        to_display(districts, m), name=escape(text("layer", threshold=f"{threshold:g}")),
        style_function=lambda f: {"fillColor": share_colour(_nan(f["properties"]["share"])),
                                  "color": "#333", "weight": 1.5, "fillOpacity": 0.7},
        tooltip=folium.GeoJsonTooltip(
            ["district", "people", "share_pct", "failed", "worst"],
            aliases=[escape(a) for a in (text("district"), t("people", lang),
                                         t("share_covered", lang, threshold=f"{threshold:g}"),
                                         text("failed"), text("worst"))])).add_to(m)
    lows, highs = (0.0, *SHARE_BREAKS), (*SHARE_BREAKS, 1.0)
    add_legend_section(m, "townships", text("legend"), [
        swatch(c, f"{100 * lo:.0f}–{100 * hi:.0f}%", 0.7)
        for c, lo, hi in zip(SHARE_COLOURS, lows, highs, strict=True)], [layer])
    add_legend(m)
    add_controls(m)
    return m


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
