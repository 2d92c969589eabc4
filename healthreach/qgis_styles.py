"""QGIS styles stored in a GeoPackage, so its layers open styled.

QGIS keeps a layer's default style in the GeoPackage's ``layer_styles``
table (the schema QGIS itself creates: ``f_table_name``,
``f_geometry_column``, ``styleName``, ``styleQML``, ``useAsDefault``, ...),
registered in ``gpkg_contents`` as an attributes table. Each layer gets one
default QML style: bands coloured by band, shares and people graduated,
points and lines as plain symbols. The colours are the ColorBrewer schemes
of the HTML map.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd

TIME_COLOURS = ["#08519c", "#3182bd", "#6baed6", "#bdd7e7"]          # Blues: 5, 10, 15, 30 minutes
DISTANCE_COLOURS = ["#54278f", "#756bb1", "#9e9ac8", "#cbc9e2"]      # Purples: service radii
PEOPLE_COLOURS = ["#fcbba1", "#fb6a4a", "#cb181d", "#67000d"]        # Reds: people beyond the circle
SHARE_COLOURS = ["#ffffcc", "#c2e699", "#78c679", "#31a354", "#006837"]  # YlGn: 0-50-70-85-95-100 %
SHARE_BREAKS = [0.0, 0.5, 0.7, 0.85, 0.95, 1.0]
PEOPLE_BREAKS = {"uncovered_cells": [0, 5, 20, 50, 1e9], "uncovered_1km": [0, 50, 200, 1000, 1e9]}
SINGLE = {"gained_cells": "#1a9850", "lost_cells": "#d73027", "moves": "#000000", "added": "#1a9850",
          "closed": "#d73027", "facility_results": "#e31a1c"}

CREATE = """CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, f_table_catalog TEXT(256), f_table_schema TEXT(256),
    f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
    useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


def _rgba(colour: str, alpha: int = 255) -> str:
    return f"{int(colour[1:3], 16)},{int(colour[3:5], 16)},{int(colour[5:7], 16)},{alpha}"


def symbol(kind: str, colour: str, name: str, opacity: float = 0.7) -> str:
    """One QML symbol: ``kind`` 'fill' (no outline), 'marker' (circle) or 'line'."""
    if kind == "fill":
        layer, options = "SimpleFill", {"color": _rgba(colour), "outline_style": "no", "style": "solid"}
    elif kind == "marker":
        layer, options = "SimpleMarker", {"color": _rgba(colour), "name": "circle", "size": "2.4",
                                          "outline_color": "255,255,255,255"}
    else:
        layer, options = "SimpleLine", {"line_color": _rgba(colour), "line_width": "0.6"}
    props = "".join(f'<Option name="{k}" type="QString" value="{v}"/>' for k, v in options.items())
    return (f'<symbol type="{kind}" name="{name}" alpha="{opacity:g}" clip_to_extent="1" force_rhr="0">'
            f'<layer class="{layer}" enabled="1" pass="0" locked="0"><Option type="Map">{props}</Option>'
            f"</layer></symbol>")


def categorized(field: str, kind: str, categories: list[tuple[object, str, str]]) -> str:
    """A categorized renderer: ``categories`` of (value, colour, label)."""
    cats = "".join(f'<category value={quoteattr(str(v))} symbol="{i}" label={quoteattr(lab)} render="true"/>'
                   for i, (v, _, lab) in enumerate(categories))
    symbols = "".join(symbol(kind, colour, str(i)) for i, (_, colour, _) in enumerate(categories))
    return (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} symbollevels="0" forceraster="0" '
            f'enableorderby="0"><categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>')


def graduated(field: str, kind: str, breaks: list[float], colours: list[str], labels: list[str]) -> str:
    """A graduated renderer: class ``i`` holds ``breaks[i] < value <= breaks[i + 1]``."""
    ranges = "".join(f'<range lower="{breaks[i]:g}" upper="{breaks[i + 1]:g}" symbol="{i}" '
                     f'label={quoteattr(labels[i])} render="true"/>' for i in range(len(colours)))
    symbols = "".join(symbol(kind, c, str(i)) for i, c in enumerate(colours))
    return (f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(field)} graduatedMethod="GraduatedColor" '
            f'symbollevels="0" forceraster="0" enableorderby="0"><ranges>{ranges}</ranges>'
            f"<symbols>{symbols}</symbols></renderer-v2>")


def single(kind: str, colour: str) -> str:
    """A single-symbol renderer."""
    return (f'<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" enableorderby="0">'
            f"<symbols>{symbol(kind, colour, '0', 1.0)}</symbols></renderer-v2>")


def _kind(frame: gpd.GeoDataFrame) -> str:
    types = set(frame.geom_type.dropna()) if len(frame) else set()
    if types and types <= {"Point", "MultiPoint"}:
        return "marker"
    if types and types <= {"LineString", "MultiLineString"}:
        return "line"
    return "fill"


def renderer(layer: str, frame: gpd.GeoDataFrame) -> tuple[str, str]:
    """The renderer QML for one layer and the field it classifies by ('' for a single symbol)."""
    kind = _kind(frame)
    if "band" in frame.columns and "label" in frame.columns:
        colours = TIME_COLOURS if "to_time_min" in frame.columns else DISTANCE_COLOURS
        bands = frame[["band", "label"]].drop_duplicates().sort_values("band")
        return categorized("band", kind, [(int(b), colours[min(int(b), len(colours) - 1)], str(lab))
                                          for b, lab in zip(bands["band"], bands["label"], strict=True)]), "band"
    if layer in PEOPLE_BREAKS and "people" in frame.columns:
        b = PEOPLE_BREAKS[layer]
        labels = [f"{b[i]:g}–{b[i + 1]:g} people" for i in range(len(b) - 2)] + [f"> {b[-2]:g} people"]
        return graduated("people", kind, b, PEOPLE_COLOURS, labels), "people"
    shares = [c for c in frame.columns if str(c).endswith("_share")]
    if layer == "township_results" and shares:
        labels = [f"{100 * SHARE_BREAKS[i]:g}–{100 * SHARE_BREAKS[i + 1]:g} %" for i in range(len(SHARE_COLOURS))]
        return graduated(shares[0], kind, SHARE_BREAKS, SHARE_COLOURS, labels), shares[0]
    return single(kind, SINGLE.get(layer, "#636363")), ""


def qml(layer: str, frame: gpd.GeoDataFrame) -> str:
    """The whole QML document of one layer's style (symbology only)."""
    body, _ = renderer(layer, frame)
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
            f'<qgis version="3.28.0" styleCategories="Symbology">{body}</qgis>')


def write_styles(path: Path, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Store a default QGIS style for every layer of the GeoPackage ``path`` in its ``layer_styles`` table."""
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%fZ")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(CREATE)
        db.execute("INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, "
                   "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', '', ?)", (now,))
        geometry = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        for layer, frame in layers.items():
            db.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (layer,))
            db.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                       "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui) "
                       "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '')",
                       (layer, geometry.get(layer, "geom"), layer, qml(layer, frame), f"healthreach: {layer}"))
