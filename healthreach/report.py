"""Audit outputs: summary JSON, township and facility tables, isochrone GeoPackage, map, terminal table.

The whole set is published together through :mod:`healthreach.outputs`
(built in a temporary folder, then moved in), so a crash leaves either the
previous set or the new one; user text in tables is stored as inert text.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from healthreach import __version__
from healthreach.evaluation import Evaluation
from healthreach.isochrones import bands, cell_squares
from healthreach.outputs import check_output, markup, publish, study_input_paths, write_csv, write_json, write_text
from healthreach.sources import describe_inputs
from healthreach.standards import Figure
from healthreach.standards.radius import Radius


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
    return value


def figure_dict(f: Figure) -> dict:
    """One standard as summary.json writes it."""
    return json_safe({"id": f.id, "title": f.title, "population": round(f.population),
                   "covered_population": None if f.covered is None else round(f.covered),
                   "unreachable_population": None if f.unreachable is None else round(f.unreachable),
                   "share": None if f.share is None else round(f.share, 4), "target": f.target,
                   "pass": f.passed, "unit": f.unit, **f.details})


def summary(audit: Evaluation) -> dict:
    """The audit in one JSON-ready mapping."""
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
        "townships": len(inp.boundaries),
        "facilities": len(audit.facilities),
        "grid_m": inp.grid.cell_m,
        "standards": [figure_dict(f) for f in audit.figures.values()],
        "network": inp.network.report.__dict__,
        "warnings": inp.warnings,
    })


def isochrone_layers(audit: Evaluation) -> dict[str, object]:
    """GeoDataFrames for the GeoPackage: time bands per mode, emergency areas, uncovered cells."""
    inp = audit.inputs
    grid, flat = inp.grid, inp.cells.flat
    breaks: list[float] = [300, 600, 900, 1800]  # seconds
    labels = ["≤ 5 min", "5–10 min", "10–15 min", "15–30 min"]
    seconds = audit.primary_seconds
    layers = {"primary_care_bands": bands(grid, flat, seconds, breaks, labels)}
    primary = audit.study.primary
    if primary:
        for mode in ("walk", "drive"):
            layers[f"{mode}_bands"] = bands(grid, flat, audit.travel[primary.mode_need(mode)].cost, breaks, labels)
    radius = [s for s in audit.study.standards if isinstance(s, Radius)]
    if radius:
        radii = sorted({r for unit in radius if unit.group == radius[0].group for r in unit.spec.radii_m})
        dist = audit.travel[radius[0].need].cost
        layers["emergency_areas"] = bands(grid, flat, dist, radii, [f"≤ {r / 1000:g} km by road" for r in radii])
    limit = primary.limit_s if primary else 900
    out = (seconds > limit) & (inp.cells.people > 0)
    minutes = np.where(np.isfinite(seconds[out]), seconds[out] / 60, np.nan)
    townships = inp.boundaries["id"].to_numpy()[inp.cells.township[out]]
    layers["uncovered_cells"] = cell_squares(grid, flat[out], people=inp.cells.people[out],
                                             minutes=minutes, township=townships)
    return layers


def write_files(out_dir: Path, documents: dict[str, dict], tables: dict[str, pd.DataFrame],
                geopackage: tuple[str, dict[str, gpd.GeoDataFrame]], map_html: str | None = None) -> dict[str, Path]:
    """Write JSON documents, CSV tables (UTF-8 with BOM, text made inert), one GeoPackage of layers and an
    optional ``map.html`` into the existing folder ``out_dir``; returns name -> path.

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
    for layer, frame in layers.items():
        frame.to_file(paths[gpkg_name], layer=layer, driver="GPKG")
    if map_html is not None:
        paths["map.html"] = out_dir / "map.html"
        write_text(paths["map.html"], map_html)
    return paths


def write_audit_files(audit: Evaluation, out_dir: Path, map_html: str | None = None) -> dict[str, Path]:
    """Write every output of an audit into the existing folder ``out_dir`` (in place); returns name -> path."""
    tables = {"townships.csv": audit.townships, "facilities.csv": audit.facility_table}
    for table in audit.village_tables.values():  # the first village standard's (one villages.csv)
        tables["villages.csv"] = table
        break
    return write_files(out_dir, {"summary.json": summary(audit)}, tables,
                       ("isochrones.gpkg", isochrone_layers(audit)), map_html)


def write_outputs(audit: Evaluation, out_dir: Path, map_html: str | None = None,
                  force: bool = False) -> dict[str, Path]:
    """Publish every output of an audit as the owned folder ``out_dir``; returns name -> final path.

    The folder is checked first (see :func:`healthreach.outputs.check_output`:
    never an input's folder, not foreign unless ``force``), then the set is
    built beside it and moved in whole.
    """
    out_dir = check_output(out_dir, study_input_paths(audit.inputs.study), force=force,
                           name=audit.inputs.study.folder.name)
    with publish(out_dir, "audit", audit.inputs.input_hash) as stage:
        written = write_audit_files(audit, stage, map_html)
    return {name: out_dir / path.name for name, path in written.items()}


_SUMMARY_HEADERS = ("standard", "people", "covered", "unreachable", "result", "target", "")


def _result(f: Figure) -> tuple[str, str]:
    """A figure's result and target as the summary table shows them."""
    if f.details.get("not_assessed"):
        return "not assessed", ""
    if f.details.get("mean_response_min") is not None:
        return f"{f.details['mean_response_min']:.1f} min*", f"≤ {f.details['target_mean_min']:g} min"
    if f.unit == "share of people":
        return "n/a" if f.share is None else f"{f.share:.1%}", "" if f.target is None else f"{f.target:.0%}"
    if "ambulances" in f.details:
        return f"{f.details['ambulances']:g}", f"≥ {f.details['required']:.1f}"
    # a ratio per 1,000 people, with or without a target
    return "n/a" if f.share is None else f"{f.share:.2f}", "" if f.target is None else f"≥ {f.target:g}"


def print_summary(audit: Evaluation, console: Console | None = None) -> None:
    """A short table of every standard: people, covered, unreachable, result, target, pass/fail.

    ``unreachable`` is the people who cannot reach any facility of the
    standard's group by its mode; the mean response time is over the
    reachable people ("of reachable").
    """
    console = console or Console()
    inp = audit.inputs
    rows = []
    for f in audit.figures.values():
        result, target = _result(f)
        mark = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: "[yellow]–[/]"}[f.passed]
        rows.append((markup(f.id), f"{f.population:,.0f}", "" if f.covered is None else f"{f.covered:,.0f}",
                     "" if f.unreachable is None else f"{f.unreachable:,.0f}", result, target, mark))
    table = Table(title=markup(f"{inp.study.name}: {inp.total_people:,.0f} people, {len(audit.facilities)} facilities"),
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # the unreachable column only when someone is unreachable (a line below says so otherwise)
    anyone_unreachable = any(f.unreachable for f in audit.figures.values())
    columns = [0, 1, 2, *([3] if anyone_unreachable else []), 4, 5, 6]
    # figures are never cut or wrapped: a narrow terminal folds the standard's name and shortens headers
    table.add_column("standard", overflow="fold")
    for i in columns[1:]:
        width = max((len(Text.from_markup(row[i]).plain) for row in rows), default=0)
        table.add_column(_SUMMARY_HEADERS[i], justify="right", no_wrap=True, min_width=width)
    for row in rows:
        table.add_row(*(row[i] for i in columns))
    console.print(table)
    if not anyone_unreachable:
        console.print("unreachable: 0 people (everyone can reach a facility of every standard's group)")
    for response in (f for f in audit.figures.values() if f.details.get("mean_response_min") is not None):
        unreachable = response.unreachable or 0.0  # people; always counted by a response standard
        fails = (" (the target fails while anyone is out of reach, whatever the mean)"
                 if unreachable else "")
        console.print(f"* mean response time over the {response.population - unreachable:,.0f} reachable "
                      f"people; {unreachable:,.0f} people reach no emergency facility{fails}", soft_wrap=True)
    for f in audit.figures.values():
        if f.details.get("not_assessed"):
            reason = markup(f.details["not_assessed"])
            console.print(f"[yellow]not assessed:[/] {markup(f.id)}: {reason}", soft_wrap=True)
    for warning in inp.warnings:
        console.print(f"[yellow]note:[/] {markup(warning)}", soft_wrap=True)
