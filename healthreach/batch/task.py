"""One study's audit as a Dask task: its hash, its ``result.json`` marker, the audit into a folder and its
summary row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from healthreach import __version__
from healthreach.batch.cluster import worker_name
from healthreach.batch.folders import DISTRICT, ERROR, RESULT
from healthreach.cache import cache_key
from healthreach.errors import HealthreachError
from healthreach.labels import standard_titles
from healthreach.messages import render
from healthreach.outputs import publish, write_json, write_text
from healthreach.report import json_safe
from healthreach.sources import describe_inputs
from healthreach.standards.groups import group_id

if TYPE_CHECKING:
    from healthreach.evaluation import Evaluation
    from healthreach.profile import Profile
    from healthreach.study import StudyFile

# of result.json: a marker of another format is not trusted, and its study is redone
# (2: rows carry Chinese titles and mean response times; folders audit.xlsx and the rasters)
MARKER_FORMAT = 2


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
                use_cache: bool = True, map_options: MapOptions | None = None,
                cache: str | Path | None = None) -> dict[str, Any]:
    """Audit one study into ``out_dir`` and return its summary row; never raises for a bad study.

    This is the Dask task. It reuses the previous result when ``result.json``
    in ``out_dir`` records the same :func:`task_hash` and every output it
    lists still exists (``status = "reused"``); otherwise it audits and
    writes the outputs (and the map, drawn with ``map_options``, unless
    ``draw_map`` is False) with the marker into a temporary folder that then
    replaces ``out_dir`` whole (``status = "ok"``). Any failure returns a row
    with ``status = "error"`` and a message in ``map_options.lang``, and
    replaces the folder by one holding the message (in English too, with a
    traceback for unexpected errors) in ``error.txt``.
    Population figures are people, shares 0..1, times seconds.
    """
    start = time.perf_counter()
    study_path, out = Path(study_path), Path(out_dir)
    map_options = map_options or MapOptions()
    row: dict[str, Any] = {"study": study_path.stem, "folder": out.name, "path": str(study_path), "status": "error",
                           "message": "", "out_dir": str(out), "worker": worker_name(), "version": __version__}
    try:
        from healthreach.profile import load_profile
        from healthreach.study import load_study

        study = load_study(study_path)
        row["study"] = study.name
        profile = load_profile(study.profile, study)
        key = task_hash(study, profile, {"map": map_options.settings() if draw_map else None,
                                         "lang": map_options.lang})  # the workbook's header row
        previous = None if force else read_marker(out)
        if previous and previous.get("task_hash") == key and all((out / f).is_file() for f in previous["files"]):
            return {**previous["row"], "status": "reused", "out_dir": str(out), "worker": row["worker"],
                    "seconds": round(time.perf_counter() - start, 3)}
        # the study's folder is replaced whole, and only once every output (result.json included) is written
        with publish(out, "batch-study", key, keep_foreign=False) as stage:
            figures, files = audit_to_folder(study, stage, map_options if draw_map else None, use_cache,
                                             map_options.offline, None if cache is None else Path(cache),
                                             lang=map_options.lang)
            row.update(figures, status="ok", task_hash=key, finished=local_timestamp(),
                       seconds=round(time.perf_counter() - start, 3))
            marker = {"format": MARKER_FORMAT, "task_hash": key, "input_hash": row["input_hash"],
                      "healthreach_version": __version__, "finished": row["finished"], "files": files, "row": row}
            write_json(stage / RESULT, json_safe(marker))
        return json_safe(row)
    except Exception as exc:  # noqa: BLE001 - one study's failure must not end the batch; the row says why
        expected = isinstance(exc, HealthreachError)
        if isinstance(exc, HealthreachError):
            english, row["message"] = str(exc), exc.text(map_options.lang)
        else:
            english = row["message"] = f"{type(exc).__name__}: {exc}"
        row["seconds"] = round(time.perf_counter() - start, 3)
        row["finished"] = local_timestamp()
        detail = "\n\n".join(dict.fromkeys([row["message"], english]))  # the row's language, then English
        detail += "" if expected else "\n\n" + traceback.format_exc()
        with contextlib.suppress(OSError), publish(out, "batch-study", None, keep_foreign=False) as stage:
            write_text(stage / ERROR, detail)  # the folder now says why, and holds no result of another run
        return json_safe(row)


def audit_to_folder(study: StudyFile, out: Path, map_options: MapOptions | None, use_cache: bool,
                    offline: bool = False, cache: Path | None = None,
                    lang: str = "zh") -> tuple[dict[str, Any], list[str]]:
    """Load and audit ``study``, then write its outputs and its district outline into the folder ``out``.

    The one place where a batch task goes from a study to its files (load,
    audit, map, write). ``out`` is an existing folder, written in place (the
    temporary folder of :func:`healthreach.outputs.publish`); the HTML map is
    drawn with ``map_options``, or skipped when it is None. ``use_cache``
    reuses road networks cached on disk under ``cache`` (the cache root); with
    ``offline`` nothing is downloaded (see :func:`healthreach.open_study`); ``lang`` is the language of
    audit.xlsx's header row. Returns the figures of the summary row
    (:func:`audit_row`) and the sorted names of the files written.
    """
    from healthreach.api import open_study
    from healthreach.report import write_audit_files

    result = open_study(study, cache=cache, rebuild_network=not use_cache, offline=offline).baseline()
    page = None
    if map_options is not None:
        from healthreach.maps.audit import audit_map
        from healthreach.maps.base import render_html
        page = render_html(audit_map(result, lang=map_options.lang, basemap=map_options.basemap,
                                     offline=map_options.offline, tianditu_key=map_options.tianditu_key))
    paths = write_audit_files(result, out, page, lang=lang)
    _write_district(result.inputs.boundaries, out / DISTRICT, study.name)
    return audit_row(result, lang=lang), sorted([*(p.name for p in paths.values()), DISTRICT])


def audit_row(result: Evaluation, worst: int = 3, lang: str = "zh") -> dict[str, Any]:
    """The figures of one audit as a batch row: people, counts, every standard and the worst townships.

    ``standards`` holds, per standard, the people it applies to, the people
    covered, the share (0..1; for ambulance standards: ambulances available /
    required), the target and pass (None when it could not be evaluated); a
    response standard also its ``mean_response_min`` (minutes, over the
    reachable people) and ``target_mean_min``.
    ``worst_townships`` are the ``worst`` townships with people, lowest
    share of the first circle standard first; ``warnings`` are in ``lang``.
    ``population_groups`` gives per population group its ``population`` and
    ``primary_uncovered_people`` (people of the group beyond the first circle).
    """
    inp = result.inputs
    chinese = standard_titles(result.study.standards, {fid: f.title for fid, f in result.figures.items()}, "zh")
    standards = [{"id": f.id, "title": f.title, "title_zh": chinese.get(f.id, f.title), "unit": f.unit,
                  "population": f.population, "covered": f.covered,
                  "share": f.share, "target": f.target, "passed": f.passed, "unreachable": f.unreachable,
                  **{key: f.details[key] for key in ("threshold_min", "mean_response_min", "target_mean_min")
                     if key in f.details},
                  **({"not_assessed": f.details["not_assessed"]} if "not_assessed" in f.details else {})}
                 for f in result.figures.values()]
    towns = result.townships
    worst_rows: list[dict[str, Any]] = []
    circle = result.study.primary
    if circle is not None:
        column = circle.share_column
        ranked = towns[(towns["people"] > 0) & towns[column].notna()]
        ranked = ranked.sort_values([column, "people"], ascending=[True, False], kind="stable")
        worst_rows = [{"id": str(r["township_id"]), "name": str(r["name"]), "people": float(r["people"]),
                       "share": float(r[column])} for _, r in ranked.head(worst).iterrows()]
    groups = {}  # per population group: its people and those beyond the first circle
    for group, people in inp.cells.groups.items():
        of_group = result.figures.get(group_id(circle.id, group)) if circle is not None else None
        groups[group] = {"population": float(people.sum()), "primary_uncovered_people": None
                         if of_group is None or of_group.covered is None else of_group.population - of_group.covered}
    primary = result.figures.get(circle.id) if circle is not None else None
    uncovered = None if primary is None or primary.covered is None else primary.population - primary.covered
    return {"study": inp.study.name, "population": inp.total_people, "townships": len(inp.boundaries),
            "facilities": len(result.facilities), "standards": standards, "worst_townships": worst_rows,
            "primary_standard": None if circle is None else circle.id,
            "primary_uncovered_people": uncovered, "population_groups": groups,
            "warnings": [render(w, lang) for w in inp.warnings], "input_hash": inp.input_hash,
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
    ok = isinstance(marker, dict) and marker.get("format") == MARKER_FORMAT and isinstance(marker.get("row"), dict)
    return marker if ok and isinstance(marker.get("files"), list) else None


def local_timestamp() -> str:
    """Now, in local time with its UTC offset, ISO 8601 to the second: when a study's row was finished."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")

