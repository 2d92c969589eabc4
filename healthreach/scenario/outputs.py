"""A scenario's outputs: comparison.json, the comparison tables, changes.gpkg and the map, published together."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from healthreach import __version__
from healthreach.diff import Diff
from healthreach.errors import ScenarioError
from healthreach.isochrones import cell_squares
from healthreach.labels import column_headers, standard_titles
from healthreach.messages import Message, render
from healthreach.report import json_safe, standards_table, write_files
from healthreach.scenario.schema import Scenario, kind_of
from healthreach.sources import describe_inputs
from healthreach.standards.groups import group_id
from healthreach.study import StudyFile
from healthreach.workbook import Sheet, write_workbook


def _records(frame: pd.DataFrame) -> list[dict]:
    return json_safe(frame.astype(object).where(frame.notna(), None).to_dict("records"))


def change_dicts(scenario: Scenario) -> list[dict]:
    """Each change as a plain mapping, with its 1-based number and kind."""
    return [{"change": i + 1, "kind": kind_of(c), **c.model_dump(mode="json", exclude_none=True)}
            for i, c in enumerate(scenario.changes)]


def comparison(result: Diff, lang: str = "zh") -> dict:
    """The whole comparison (a scenario's evaluation against its baseline) as one JSON-ready mapping; its
    warnings in ``lang``.
    """
    inp = result.after.inputs
    scenario = result.scenario
    return json_safe({
        "scenario": scenario.name,
        "description": scenario.description,
        "file": str(scenario.source) if scenario.source else None,
        "study": inp.study.name,
        "input_hash": inp.input_hash,
        "inputs": {role: source.as_dict() for role, source in describe_inputs(inp.study).items()},
        "healthreach_version": __version__,
        "population": {"baseline": round(result.before.inputs.total_people), "scenario": round(inp.total_people)},
        "primary_care": {"newly_covered_people": round(result.newly_covered),
                         "lose_coverage_people": round(result.lose_coverage),
                         "net_people": round(result.newly_covered - result.lose_coverage),
                         **_group_moves(result)},
        "changes": change_dicts(scenario),
        "standards": _records(result.standards),
        "townships": _records(result.townships),
        "facilities": _records(result.facilities[result.facilities["status"] != ""]),
        "flows": _records(result.flows.head(100)),
        "seconds": {k: round(v, 4) for k, v in result.after.seconds.items()},
        "warnings": [render(w, lang) for w in inp.warnings],
    })


def _group_moves(result: Diff) -> dict:
    """Per population group (none declared: nothing), its people newly covered and losing first-circle coverage."""
    groups = {}
    for group in result.after.inputs.cells.groups:
        gained, lost = result.newly_covered_of(group), result.lose_coverage_of(group)
        groups[group] = {"newly_covered_people": round(gained), "lose_coverage_people": round(lost),
                         "net_people": round(gained - lost)}
    return {"population_groups": groups} if groups else {}


def change_moves(result: Diff) -> pd.DataFrame:
    """One row per change of the scenario compared (see :func:`healthreach.scenario.apply.apply_changes`)."""
    if result.after.moves is None:
        msg = Message("the evaluation compared was not made by applying changes; compare an evaluation with the "
                      "result of its apply()")
        raise ScenarioError(msg)
    return result.after.moves


def change_layers(result: Diff) -> dict[str, gpd.GeoDataFrame]:
    """GeoDataFrames (analysis CRS) for changes.gpkg: gained and lost cells, moves, new and closed sites.

    The cells' ``people`` are also given per population group (``people_65plus``); a cell is written when
    anyone, of any group, lives there.
    """
    inp = result.after.inputs
    grid, cells = inp.grid, inp.cells
    town_ids = inp.boundaries["id"].to_numpy()
    anyone = cells.people > 0
    for people in cells.groups.values():
        anyone = anyone | (people > 0)
    layers = {}
    for name, which in (("gained_cells", result.gained), ("lost_cells", result.lost)):
        sel = which[anyone[which]]
        groups = {group_id("people", g): people[sel].round(2) for g, people in cells.groups.items()}
        layers[name] = cell_squares(grid, cells.flat[sel], people=cells.people[sel].round(2), **groups,
                                    township=town_ids[cells.township[sel]],
                                    time_min_before=(result.before.primary_seconds[sel] / 60).round(2),
                                    time_min_after=(result.after.primary_seconds[sel] / 60).round(2))
    m = change_moves(result)
    moved = m[m["kind"] == "relocate"]
    layers["moves"] = gpd.GeoDataFrame(
        moved[["change", "id", "name"]].reset_index(drop=True),
        geometry=shapely.linestrings(np.stack([moved[["x0", "y0"]].to_numpy(float),
                                               moved[["x1", "y1"]].to_numpy(float)], axis=1))
        if len(moved) else [], crs=inp.crs)
    for name, kind, xs, ys in (("added", "add", "x1", "y1"), ("closed", "close", "x0", "y0")):
        sel = m[m["kind"] == kind].reset_index(drop=True)
        layers[name] = gpd.GeoDataFrame(sel[["change", "id", "name"]],
                                        geometry=gpd.points_from_xy(sel[xs], sel[ys]), crs=inp.crs)
    return layers


def scenario_workbook(result: Diff, lang: str = "zh") -> dict[str, Sheet]:
    """The sheets of scenario.xlsx: before, after (one row per standard), change (per standard, gained and
    lost people), and the townships and facilities compared.
    """
    standards = result.after.study.standards
    english = {fid: f.title for fid, f in result.after.figures.items()}
    figures = standard_titles(standards, english, lang)
    change = result.standards.copy()
    change["title"] = [figures.get(str(sid), title) for sid, title in zip(change["standard"], change["title"],
                                                                           strict=True)]
    tables = {"before": standards_table(result.before, lang), "after": standards_table(result.after, lang),
              "change": change, "townships": result.townships, "facilities": result.facilities}
    return {name: Sheet(table, column_headers(table.columns, standards, lang, figures), frozen_columns=2,
                        unit_column="unit" if name in ("before", "after", "change") else None,
                        by_unit=("share", "target", "baseline", "scenario", "change"))
            for name, table in tables.items()}


def input_paths(scenario: Scenario, study: StudyFile) -> list[Path]:
    """Every file a scenario evaluation reads: the scenario file and its base study's inputs."""
    from healthreach.outputs import study_input_paths

    return [*([scenario.source] if scenario.source else []), *study_input_paths(study)]


def write_outputs(result: Diff, out_dir: Path, map_html: str | None = None,
                  force: bool = False, files: dict[str, bytes] | None = None, lang: str = "zh") -> dict[str, Path]:
    """Publish comparison.json, standards/townships/facilities/flows CSVs, scenario.xlsx (header row in
    ``lang``), changes.gpkg (and map.html, and ``files``: name -> bytes, e.g. the poster) as the owned folder
    ``out_dir``, all together (see
    :mod:`healthreach.outputs`); returns name -> path.
    """
    from healthreach.cache import cache_key
    from healthreach.outputs import check_output, publish

    study, scenario = result.after.inputs.study, result.scenario
    sources = input_paths(scenario, study)
    out_dir = check_output(out_dir, sources, force=force,
                           name=f"scenarios/{scenario.source.stem if scenario.source else 'scenario'}")
    tables = {"standards.csv": result.standards, "townships.csv": result.townships,
              "facilities.csv": result.facilities, "flows.csv": result.flows}
    key = cache_key("scenario", result.after.inputs.input_hash, *sources[:1])
    with publish(out_dir, "scenario", key) as stage:
        written = write_files(stage, {"comparison.json": comparison(result, lang)}, tables,
                              ("changes.gpkg", change_layers(result)), map_html, files)
        written["scenario.xlsx"] = stage / "scenario.xlsx"
        write_workbook(scenario_workbook(result, lang), written["scenario.xlsx"])
    return {name: out_dir / path.name for name, path in written.items()}
