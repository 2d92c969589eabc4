"""The combined summary of a batch: one ranked row per district, written as CSV, XLSX and the coverage map."""

from __future__ import annotations

import contextlib
import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from healthreach.batch.folders import SUMMARY_FILES
from healthreach.batch.overview import coverage_map
from healthreach.labels import column_headers
from healthreach.outputs import replace_files, write_text
from healthreach.workbook import Sheet, write_workbook

if TYPE_CHECKING:
    from healthreach.batch.task import MapOptions


def summary_table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per district, largest shortfall first, errors last.

    ``largest_gap`` is the largest (target - share) over the standards stated
    as a share of people with a target: positive means short of the target
    by that many share points, negative means every such standard is met with
    that margin. Per standard there is ``<id>_share`` (0..1; ambulance
    standards: available / required), for a response standard (judged on
    its mean) ``<id>_mean_min`` (the people-weighted mean response time in
    minutes over the reachable people), and ``<id>_pass`` (pass, fail, or
    empty when it could not be evaluated). Each population group of any
    district adds ``population_<group>`` and ``primary_uncovered_people_<group>``
    (people of the group beyond the first circle) after everyone's; a group's
    figures are standards of their own (``<id>_<group>_share``).
    """
    ids: list[str] = []
    response_ids: set[str] = set()
    groups = list(dict.fromkeys(g for row in rows for g in row.get("population_groups") or {}))
    for row in rows:
        for s in row.get("standards") or []:
            if s["id"] not in ids:
                ids.append(s["id"])
            if "target_mean_min" in s:
                response_ids.add(s["id"])
    records = []
    for row in rows:
        standards = {s["id"]: s for s in row.get("standards") or []}
        gaps = {sid: s["target"] - s["share"] for sid, s in standards.items()
                if s["unit"] == "share of people" and s["target"] is not None and s["share"] is not None}
        worst_id = max(gaps, key=lambda sid: gaps[sid]) if gaps else None
        record = {
            "district": row.get("study"), "folder": row.get("folder"), "status": row.get("status"),
            "message": row.get("message") or "", "population": _round(row.get("population"), 0),
            "townships": row.get("townships"), "facilities": row.get("facilities"),
            "largest_gap": _round(gaps.get(worst_id), 4), "largest_gap_standard": worst_id or "",
            "failed_standards": ", ".join(sid for sid, s in standards.items() if s["passed"] is False),
            "primary_uncovered_people": _round(row.get("primary_uncovered_people"), 0),
        }
        for group in groups:  # each population group's people and people beyond the circle, after everyone's
            of_group = (row.get("population_groups") or {}).get(group, {})
            record[f"population_{group}"] = _round(of_group.get("population"), 0)
            record[f"primary_uncovered_people_{group}"] = _round(of_group.get("primary_uncovered_people"), 0)
        for sid in ids:
            s = standards.get(sid)
            record[f"{sid}_share"] = _round(s["share"], 4) if s else None
            if sid in response_ids:  # judged on the mean: the mean beside the share within the threshold
                record[f"{sid}_mean_min"] = _round(s.get("mean_response_min"), 2) if s else None
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
        write_workbook(summary_workbook(table, rows, map_options.lang if map_options else "zh"),
                       stage / "summary.xlsx")
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


def summary_workbook(table: pd.DataFrame, rows: Sequence[dict[str, Any]], lang: str = "zh") -> dict[str, Sheet]:
    """The sheets of summary.xlsx: the ranked summary, and the standards (id, title, unit, target)."""
    titles: dict[str, dict[str, Any]] = {}
    for row in rows:
        for s in row.get("standards") or []:
            title = s.get("title_zh", s["title"]) if lang == "zh" else s["title"]
            titles.setdefault(s["id"], {"standard": s["id"], "title": title, "unit": s["unit"], "target": s["target"]})
    standards = pd.DataFrame(list(titles.values()), columns=["standard", "title", "unit", "target"])
    figures = {sid: t["title"] for sid, t in titles.items()}
    return {"summary": Sheet(table, column_headers(table.columns, lang=lang, figures=figures), frozen_columns=2),
            "standards": Sheet(standards, column_headers(standards.columns, lang=lang), unit_column="unit",
                               by_unit=("target",))}
