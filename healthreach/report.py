"""Audit outputs: summary JSON, township and facility tables, isochrone GeoPackage, map, terminal table.

Every file is written atomically (a temporary file in the same folder, then
renamed), so a crash leaves either the previous file or the new one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from healthreach import __version__
from healthreach.isochrones import bands, cell_squares
from healthreach.standards import Audit, Figure
from healthreach.travel import Need


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as GDAL want to create the file themselves
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def json_safe(value):
    """``value`` ready for JSON: NaN and inf become null, numpy scalars plain numbers (recursively)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def figure_dict(f: Figure) -> dict:
    """One standard as summary.json writes it."""
    return json_safe({"id": f.id, "title": f.title, "population": round(f.population),
                   "covered_population": None if f.covered is None else round(f.covered),
                   "share": None if f.share is None else round(f.share, 4), "target": f.target,
                   "pass": f.passed, "unit": f.unit, **f.details})


def summary(audit: Audit) -> dict:
    """The audit in one JSON-ready mapping."""
    inp = audit.inputs
    return json_safe({
        "study": inp.study.name,
        "description": inp.study.description,
        "healthreach_version": __version__,
        "generated": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "input_hash": inp.input_hash,
        "crs": inp.boundaries.crs.to_string(),
        "population": round(inp.total_people),
        "townships": len(inp.boundaries),
        "facilities": len(audit.facilities),
        "grid_m": inp.grid.cell_m,
        "standards": [figure_dict(f) for f in audit.figures],
        "network": inp.network.report.__dict__,
        "warnings": inp.warnings,
    })


def isochrone_layers(audit: Audit) -> dict[str, object]:
    """GeoDataFrames for the GeoPackage: time bands per mode, emergency areas, uncovered cells."""
    inp = audit.inputs
    grid, flat = inp.grid, inp.cells.flat
    breaks = [300, 600, 900, 1800]
    labels = ["≤ 5 min", "5–10 min", "10–15 min", "15–30 min"]
    layers = {"primary_care_bands": bands(grid, flat, audit.primary_s, breaks, labels)}
    p = inp.profile.standards.primary_care_15min
    if p:
        for mode in ("walk", "drive"):
            layers[f"{mode}_bands"] = bands(grid, flat, audit.travel[Need(p.group, mode, "time", "to")].cost, breaks, labels)
    s = inp.profile.standards
    spec = s.emergency_radius_urban or s.emergency_radius_rural
    if spec:
        radii = sorted({r for sp in (s.emergency_radius_urban, s.emergency_radius_rural) if sp for r in sp.radii_m})
        dist = audit.travel[Need(spec.group, "ambulance", "length", "from")].cost
        layers["emergency_areas"] = bands(grid, flat, dist, radii, [f"≤ {r / 1000:g} km by road" for r in radii])
    limit = (p.threshold_min * 60) if p else 900
    out = (audit.primary_s > limit) & (inp.cells.people > 0)
    minutes = np.where(np.isfinite(audit.primary_s[out]), audit.primary_s[out] / 60, np.nan)
    layers["uncovered_cells"] = cell_squares(grid, flat[out], people=inp.cells.people[out],
                                             minutes=minutes, township=inp.boundaries["id"].to_numpy()[inp.cells.township[out]])
    return layers


def write_files(out_dir: Path, documents: dict[str, dict], tables: dict[str, pd.DataFrame],
                geopackage: tuple[str, dict[str, gpd.GeoDataFrame]], map_html: str | None = None) -> dict[str, Path]:
    """Write JSON documents, CSV tables (UTF-8 with BOM, for spreadsheet software), one GeoPackage
    of layers and an optional ``map.html`` into ``out_dir``, each atomically; returns name -> path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, document in documents.items():
        paths[name] = out_dir / name
        write_text(paths[name], json.dumps(document, ensure_ascii=False, indent=2))
    for name, table in tables.items():
        paths[name] = out_dir / name
        with atomic_path(paths[name]) as tmp:
            table.to_csv(tmp, index=False, encoding="utf-8-sig")
    gpkg_name, layers = geopackage
    paths[gpkg_name] = out_dir / gpkg_name
    with atomic_path(paths[gpkg_name]) as tmp:
        for layer, frame in layers.items():
            frame.to_file(tmp, layer=layer, driver="GPKG")
    if map_html is not None:
        paths["map.html"] = out_dir / "map.html"
        write_text(paths["map.html"], map_html)
    return paths


def write_outputs(audit: Audit, out_dir: Path, map_html: str | None = None) -> dict[str, Path]:
    """Write every output of an audit into ``out_dir``; returns name -> path."""
    tables = {"townships.csv": audit.townships, "facilities.csv": audit.facility_table}
    if audit.village_table is not None:
        tables["villages.csv"] = audit.village_table
    return write_files(out_dir, {"summary.json": summary(audit)}, tables,
                       ("isochrones.gpkg", isochrone_layers(audit)), map_html)


def print_summary(audit: Audit, console: Console | None = None) -> None:
    """A short table of every standard: share, target, pass/fail."""
    console = console or Console()
    inp = audit.inputs
    table = Table(title=f"{inp.study.name}: {inp.total_people:,.0f} people, {len(audit.facilities)} facilities")
    for col in ("standard", "people", "covered", "result", "target", ""):
        table.add_column(col, justify="left" if col == "standard" else "right", no_wrap=col == "standard")
    for f in audit.figures:
        if f.details.get("not_assessed"):
            result, target = "not assessed", ""
        elif f.id == "emergency_response_18min" and f.details.get("mean_response_min") is not None:
            result = f"{f.details['mean_response_min']:.1f} min"
            target = f"≤ {f.details['target_mean_min']:g} min"
        elif f.unit == "share of people":
            result = "n/a" if f.share is None else f"{f.share:.1%}"
            target = "" if f.target is None else f"{f.target:.0%}"
        else:
            result = f"{f.details['ambulances']:g}"
            target = f"≥ {f.details['required']:.1f}"
        mark = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: "[yellow]–[/]"}[f.passed]
        table.add_row(f.id, f"{f.population:,.0f}", "" if f.covered is None else f"{f.covered:,.0f}",
                      result, target, mark)
    console.print(table)
    for f in audit.figures:
        if f.details.get("not_assessed"):
            reason = escape(f.details["not_assessed"])
            console.print(f"[yellow]not assessed:[/] {escape(f.id)}: {reason}", soft_wrap=True)
    for warning in inp.warnings:
        console.print(f"[yellow]note:[/] {warning}", soft_wrap=True)
