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
from healthreach.outputs import replace_files, write_text, write_xlsx

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from healthreach.batch.task import MapOptions


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
        worst_id = max(gaps, key=lambda sid: gaps[sid]) if gaps else None
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

    def style(sheet: Worksheet, _frame: pd.DataFrame, sheet_name: str) -> None:
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

