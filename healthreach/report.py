"""Audit outputs: summary JSON, township and facility tables, isochrone GeoPackage, map, terminal table.

The whole set is published together through :mod:`healthreach.outputs`
(built in a temporary folder, then moved in), so a crash leaves either the
previous set or the new one; user text in tables is stored as inert text.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from healthreach import __version__
from healthreach.evaluation import Evaluation
from healthreach.gis import audit_layers, travel_time_rasters, write_rasters
from healthreach.labels import column_headers, say, standard_titles
from healthreach.messages import Message, render
from healthreach.outputs import check_output, publish, study_input_paths, write_csv, write_json, write_text
from healthreach.qgis_styles import write_styles
from healthreach.sources import describe_inputs
from healthreach.standards import Figure
from healthreach.terminal import markup
from healthreach.workbook import Sheet, write_workbook


def json_safe(value):
    """``value`` ready for JSON: NaN and inf become null, numpy scalars plain numbers, keys text (recursively)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Message):  # a note such as why a standard was not assessed: English in files
        return str(value)
    return value


def figure_dict(f: Figure) -> dict:
    """One standard as summary.json writes it."""
    return json_safe({"id": f.id, "title": f.title, "population": round(f.population),
                   "covered_population": None if f.covered is None else round(f.covered),
                   "unreachable_population": None if f.unreachable is None else round(f.unreachable),
                   "share": None if f.share is None else round(f.share, 4), "target": f.target,
                   "pass": f.passed, "unit": f.unit, **f.details})


def summary(audit: Evaluation, lang: str = "zh") -> dict:
    """The audit in one JSON-ready mapping; its warnings and the network's notes in ``lang``."""
    inp = audit.inputs
    return json_safe({
        "study": inp.study.name,
        "description": inp.study.description,
        "healthreach_version": __version__,
        "generated": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "input_hash": inp.input_hash,
        "inputs": {role: source.as_dict() for role, source in describe_inputs(inp.study).items()},
        "crs": inp.boundaries.crs.to_string(),
        "population": round(inp.total_people),
        **({"population_groups": {group: round(float(people.sum())) for group, people in inp.cells.groups.items()}}
           if inp.cells.groups else {}),
        "townships": len(inp.boundaries),
        "facilities": len(audit.facilities),
        "grid_m": inp.grid.cell_m,
        "standards": [figure_dict(f) for f in audit.figures.values()],
        "network": {**inp.network.report.__dict__, "notes": [render(n, lang) for n in inp.network.report.notes]},
        "warnings": [render(w, lang) for w in inp.warnings],
    })


@contextlib.contextmanager
def unsynchronised_sqlite() -> Iterator[None]:
    """GeoPackage layers written without waiting for the disk after each one (GDAL's
    ``OGR_SQLITE_SYNCHRONOUS=OFF``): several times faster. Safe here because outputs are written into a
    temporary folder that is published only once every file is complete; a crash leaves no partial set.
    """
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": None})


def write_files(out_dir: Path, documents: dict[str, dict], tables: dict[str, pd.DataFrame],
                geopackage: tuple[str, dict[str, gpd.GeoDataFrame]], map_html: str | None = None,
                files: dict[str, bytes] | None = None) -> dict[str, Path]:
    """Write JSON documents, CSV tables (UTF-8 with BOM, text made inert), one GeoPackage of layers, an
    optional ``map.html`` and finished ``files`` (name -> bytes, e.g. the poster) into the existing folder
    ``out_dir``; returns name -> path.

    Writes in place: call it on the folder that :func:`healthreach.outputs.publish` yields.
    """
    paths: dict[str, Path] = {}
    for name, document in documents.items():
        paths[name] = out_dir / name
        write_json(paths[name], document)
    for name, table in tables.items():
        paths[name] = out_dir / name
        write_csv(table, paths[name])
    gpkg_name, layers = geopackage
    paths[gpkg_name] = out_dir / gpkg_name
    with unsynchronised_sqlite():
        for layer, frame in layers.items():
            frame.to_file(paths[gpkg_name], layer=layer, driver="GPKG")
    write_styles(paths[gpkg_name], layers)
    if map_html is not None:
        paths["map.html"] = out_dir / "map.html"
        write_text(paths["map.html"], map_html)
    for name, data in (files or {}).items():
        paths[name] = out_dir / name
        paths[name].write_bytes(data)
    return paths


def standards_table(evaluation: Evaluation, lang: str = "zh") -> pd.DataFrame:
    """One row per figure, as summary.json holds them, with the title in ``lang``."""
    english = {fid: f.title for fid, f in evaluation.figures.items()}
    titles = standard_titles(evaluation.study.standards, english, lang)
    rows = []
    for f in evaluation.figures.values():
        row = figure_dict(f)
        rows.append({"id": f.id, "title": titles.get(f.id, f.title), "population": row["population"],
                     "covered_population": row["covered_population"],
                     "unreachable_population": row["unreachable_population"], "share": row["share"],
                     "target": row["target"], "pass": row["pass"], "unit": f.unit,
                     "mean_response_min": None if f.details.get("mean_response_min") is None
                     else round(f.details["mean_response_min"], 2),
                     "target_mean_min": f.details.get("target_mean_min")})
    return pd.DataFrame(rows)


def unreachable_table(evaluation: Evaluation) -> pd.DataFrame:
    """Townships where someone reaches no facility of a standard's group: people per standard."""
    towns = evaluation.townships
    columns = [c for c in towns.columns if c.endswith("_unreachable")]
    someone = towns[columns].fillna(0).gt(0).any(axis=1) if columns else pd.Series(False, index=towns.index)
    return towns.loc[someone, ["township_id", "name", "area_class", "people", *columns]].reset_index(drop=True)


def audit_workbook(evaluation: Evaluation, lang: str = "zh") -> dict[str, Sheet]:
    """The sheets of audit.xlsx: standards, townships, facilities, villages (when assessed) and unreachable."""
    english = {fid: f.title for fid, f in evaluation.figures.items()}
    figures = standard_titles(evaluation.study.standards, english, lang)
    tables = {"standards": standards_table(evaluation, lang), "townships": evaluation.townships,
              "facilities": evaluation.facility_table}
    for table in evaluation.village_tables.values():  # the first village standard's, as villages.csv
        tables["villages"] = table
        break
    tables["unreachable"] = unreachable_table(evaluation)
    frozen = {"standards": 2, "townships": 2, "facilities": 2, "villages": 2, "unreachable": 2}
    return {name: Sheet(table, column_headers(table.columns, evaluation.study.standards, lang, figures),
                        frozen_columns=frozen[name], unit_column="unit" if name == "standards" else None,
                        by_unit=("share", "target")) for name, table in tables.items()}


def write_audit_files(audit: Evaluation, out_dir: Path, map_html: str | None = None,
                      files: dict[str, bytes] | None = None, lang: str = "zh",
                      facility_isochrones: bool = False) -> dict[str, Path]:
    """Write every output of an audit (and ``files``, name -> bytes, e.g. the poster) into the existing
    folder ``out_dir`` (in place); returns name -> path.

    ``lang`` is the language of audit.xlsx's header row and standard titles; with
    ``facility_isochrones`` the GeoPackage also holds each facility's own areas.
    """
    tables = {"townships.csv": audit.townships, "facilities.csv": audit.facility_table}
    for table in audit.village_tables.values():  # the first village standard's (one villages.csv)
        tables["villages.csv"] = table
        break
    paths = write_files(out_dir, {"summary.json": summary(audit, lang)}, tables,
                        ("isochrones.gpkg", audit_layers(audit, facility_isochrones)), map_html, files)
    paths.update(write_rasters(travel_time_rasters(audit), audit.inputs.grid, out_dir))
    paths["audit.xlsx"] = out_dir / "audit.xlsx"
    write_workbook(audit_workbook(audit, lang), paths["audit.xlsx"])
    return paths


def write_outputs(audit: Evaluation, out_dir: Path, map_html: str | None = None,
                  force: bool = False, files: dict[str, bytes] | None = None, lang: str = "zh",
                  facility_isochrones: bool = False) -> dict[str, Path]:
    """Publish every output of an audit (and ``files``, name -> bytes, e.g. the poster) as the owned folder
    ``out_dir``; returns name -> final path (``facility_isochrones``: see :func:`write_audit_files`).

    The folder is checked first (see :func:`healthreach.outputs.check_output`:
    never an input's folder, not foreign unless ``force``), then the set is
    built beside it and moved in whole.
    """
    out_dir = check_output(out_dir, study_input_paths(audit.inputs.study), force=force,
                           name=audit.inputs.study.folder.name)
    with publish(out_dir, "audit", audit.inputs.input_hash) as stage:
        written = write_audit_files(audit, stage, map_html, files, lang, facility_isochrones)
    return {name: out_dir / path.name for name, path in written.items()}


STANDARD_MIN_WIDTH = 10  # terminal cells kept for the standard's name, which wraps inside them
_SUMMARY_HEADERS = ("standard", "people", "covered", "unreachable", "result", "target", "")


def _summary_row(f: Figure, title: str, lang: str) -> tuple[str, ...]:
    """One standard's cells: standard, people, covered, unreachable, result, target, verdict."""
    if f.details.get("not_assessed"):
        result, target = say("not_assessed", lang), ""
    elif f.details.get("mean_response_min") is not None:
        result = f"{f.details['mean_response_min']:.1f} {say('min', lang)}*"
        target = f"≤ {f.details['target_mean_min']:g} {say('min', lang)}"
    elif f.unit == "share of people":
        result = say("n/a", lang) if f.share is None else f"{f.share:.1%}"
        target = "" if f.target is None else f"{f.target:.0%}"
    elif "ambulances" in f.details:
        result = f"{f.details['ambulances']:g}"
        target = f"≥ {f.details['required']:.1f}"
    else:  # a ratio per 1,000 people, with or without a target
        result = say("n/a", lang) if f.share is None else f"{f.share:.2f}"
        target = "" if f.target is None else f"≥ {f.target:g}"
    mark = {True: f"[green]{say('pass', lang)}[/]", False: f"[red]{say('fail', lang)}[/]",
            None: "[yellow]–[/]"}[f.passed]
    name = markup(f.id if lang == "en" else title)
    return (name, f"{f.population:,.0f}", "" if f.covered is None else f"{f.covered:,.0f}",
            "" if f.unreachable is None else f"{f.unreachable:,.0f}", result, target, mark)


def print_summary(audit: Evaluation, console: Console | None = None, lang: str = "zh") -> None:
    """A short table of every standard: people, covered, unreachable, result, target, pass/fail, in ``lang``
    (Chinese: each standard by its Chinese title; English: by its id).

    ``unreachable`` is the people who cannot reach any facility of the
    standard's group by its mode; the mean response time is over the
    reachable people ("of reachable").
    """
    console = console or Console()
    inp = audit.inputs
    titles = standard_titles(audit.study.standards, {fid: f.title for fid, f in audit.figures.items()}, lang)
    rows = [_summary_row(f, titles.get(f.id, f.title), lang) for f in audit.figures.values()]
    table = Table(title=markup(say("audit_title", lang, study=inp.study.name, people=f"{inp.total_people:,.0f}",
                                   facilities=len(audit.facilities))),
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # the unreachable column only when someone is unreachable (a line below says so otherwise)
    anyone_unreachable = any(f.unreachable for f in audit.figures.values())
    columns = [0, 1, 2, *([3] if anyone_unreachable else []), 4, 5, 6]
    # figures are never cut or wrapped: a narrow terminal folds the standard's name; when even the figures do not
    # fit, the table is printed wider than the terminal (its lines wrap there) rather than cut
    table.add_column(say("standard", lang), overflow="fold", min_width=STANDARD_MIN_WIDTH)
    needed = STANDARD_MIN_WIDTH
    for i in columns[1:]:
        width = max((cell_len(Text.from_markup(row[i]).plain) for row in rows), default=0)
        header = say(_SUMMARY_HEADERS[i], lang) if _SUMMARY_HEADERS[i] else ""
        table.add_column(header, justify="right", no_wrap=True, min_width=width)
        needed += max(width, cell_len(header)) + 2  # the column and the padding before it
    for row in rows:
        table.add_row(*(row[i] for i in columns))
    width = console.width
    console.width = max(width, needed)
    try:
        console.print(table)
    finally:
        console.width = width
    if not anyone_unreachable:
        console.print(say("nobody_unreachable", lang))
    for response in (f for f in audit.figures.values() if f.details.get("mean_response_min") is not None):
        unreachable = response.unreachable or 0.0  # people; always counted by a response standard
        console.print(say("mean_over", lang, reachable=f"{response.population - unreachable:,.0f}",
                          unreachable=f"{unreachable:,.0f}", fails=say("mean_fails", lang) if unreachable else ""),
                      soft_wrap=True)
    for f in audit.figures.values():
        if f.details.get("not_assessed"):
            reason = markup(render(f.details["not_assessed"], lang))
            console.print(f"[yellow]{say('not_assessed_note', lang)}[/]{markup(f.id)}: {reason}", soft_wrap=True)
    for warning in inp.warnings:
        console.print(f"[yellow]{say('note', lang)}[/]{markup(render(warning, lang))}", soft_wrap=True)
