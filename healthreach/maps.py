"""Folium maps of an audit for public hearings: one small function per layer.

Each ``add_*(m, audit, ...)`` function takes a map made by :func:`base_map`
(or :func:`new_map`), draws one layer from the audit's own cell values (see
:mod:`healthreach.isochrones`, so the map never disagrees with the figures)
and returns the map. The language, the basemap and the datum of the overlays
travel with the map (:class:`MapSettings`), so the layer functions need only
the map and the audit; ``name`` and ``show`` let two versions of one layer
(before/after a scenario) sit on one map.

The page carries its own Leaflet (inlined from the installed
``xstatic-leaflet`` package, see :mod:`healthreach.webassets`): a map renders
with no network, and ``offline=True`` also drops the tiles and checks that
nothing is fetched. Under the Amap basemap (GCJ-02 tiles) every overlay is
shifted into GCJ-02 (:func:`to_display`).

Text from the inputs (study, township, facility and scenario names) is
escaped before it reaches the page, and never passes through a template
engine.
"""

from __future__ import annotations

import datetime as _dt
import html
from dataclasses import dataclass, field
from typing import ClassVar

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from healthreach import webassets
from healthreach.basemaps import Basemap
from healthreach.basemaps import basemap as get_basemap
from healthreach.crs import wgs84_to_gcj02
from healthreach.i18n import area_name, check_lang, t, type_name
from healthreach.isochrones import bands
from healthreach.sources import sources_line
from healthreach.standards import Audit
from healthreach.study import DEMO_STUDY
from healthreach.travel import Need

# Sequential, colour-blind-safe schemes (ColorBrewer). Darker = nearer / more.
TIME_BREAKS_MIN = (5, 10, 15, 30)
TIME_COLOURS = ["#08519c", "#3182bd", "#6baed6", "#bdd7e7"]          # Blues
EMERGENCY_COLOURS = ["#54278f", "#9e9ac8"]                            # Purples
UNCOVERED_BREAKS = (2, 10, 50)                                        # people per cell
UNCOVERED_COLOURS = ["#fcbba1", "#fb6a4a", "#cb181d", "#67000d"]      # Reds
SHARE_BREAKS = (0.5, 0.8, 0.9, 0.95)                                  # township share covered
SHARE_COLOURS = ["#ffffcc", "#c2e699", "#78c679", "#31a354", "#006837"]  # YlGn
MAJOR_ROADS = {"expressway", "national", "provincial", "county", "urban_arterial", "motorway", "motorway_link",
               "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link"}
WIDE_ROADS = {"expressway", "national", "motorway", "trunk"}

# facility type -> (icon shape, colour, size in px); shapes tell the classes apart without colour
FACILITY_ICONS = {
    "tertiary_hospital": ("hospital", "#67000d", 24),
    "general_hospital": ("hospital", "#a50f15", 20),
    "tcm_hospital": ("hospital", "#8c510a", 19),
    "maternal_child_hospital": ("hospital", "#ae017e", 19),
    "emergency_station": ("emergency", "#e6550d", 22),
    "regional_subcentre": ("centre", "#7f2704", 19),
    "central_township_hc": ("centre", "#d94801", 17),
    "township_hc": ("centre", "#f16913", 15),
    "community_hc": ("community", "#006d2c", 15),
    "community_station": ("community", "#41ab5d", 13),
    "village_clinic": ("dot", "#525252", 8),
}
_OTHER_ICON = ("dot", "#000000", 10)

_SIMPLIFY_M = 40.0        # band and boundary outlines, metres
_ROAD_SIMPLIFY_M = 15.0   # road centre lines, metres
_DECIMALS = 5             # coordinates written to the page are rounded to 1e-5 degree (about 1 m)


@dataclass
class LegendSection:
    """One legend block: a title, rows of HTML and the JS names of the layers it explains."""

    title: str
    rows: list[str] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)


LEGEND_ORDER = ("facilities", "moved", "time", "uncovered", "gained", "lost", "emergency", "townships", "roads")


@dataclass
class MapSettings:
    """What the layer functions need to know about the map they draw on.

    ``datum`` is the system the overlays are converted to ("wgs84", or
    "gcj02" under Amap tiles); ``legend`` collects the legend sections the
    layers register, in drawing order.
    """

    lang: str = "zh"
    basemap: Basemap = field(default_factory=lambda: get_basemap("none"))
    offline: bool = False
    legend: dict[str, LegendSection] = field(default_factory=dict)

    @property
    def datum(self) -> str:
        return self.basemap.datum


def settings(m: folium.Map) -> MapSettings:
    """The :class:`MapSettings` of ``m`` (defaults if it was not made by :func:`new_map`)."""
    found = getattr(m, "healthreach", None)
    if found is None:
        found = MapSettings()
        m.healthreach = found
    return found


class RawHTML(Element):
    """Literal HTML placed on the page as it is (never read as a template)."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class HearingMap(folium.Map):
    """A folium map whose Leaflet JavaScript and CSS are inlined in the page.

    folium's CDN assets (Leaflet, jQuery, Bootstrap, Awesome Markers, Font
    Awesome) are not referenced; none of the layers here needs more than
    Leaflet.
    """

    default_js: ClassVar[list] = []
    default_css: ClassVar[list] = []

    def render(self, **kwargs) -> None:
        install_assets(self.get_root(), settings(self).lang)
        super().render(**kwargs)


def install_assets(figure: Figure, lang: str = "zh") -> None:
    """Put Leaflet, the page styles and the button controls into ``figure``'s header (once)."""
    header = figure.header
    if "hr_leaflet_js" in header._children:
        return
    header.add_child(RawHTML(f"<style>{webassets.leaflet_css()}</style>"), name="hr_leaflet_css")
    header.add_child(RawHTML(f"<script>{webassets.leaflet_js()}</script>"), name="hr_leaflet_js")
    header.add_child(RawHTML(f"<style>{webassets.PAGE_CSS}</style>"), name="hr_page_css")
    header.add_child(RawHTML(f"<script>{webassets.CONTROLS_JS}{webassets.DECODE_JS}</script>"), name="hr_controls_js")
    header.add_child(RawHTML(f'<script>document.documentElement.lang = "{"zh-CN" if lang == "zh" else "en"}";'
                             "</script>"), name="hr_lang")


def to_display(frame: gpd.GeoDataFrame | gpd.GeoSeries, m: folium.Map | str) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """``frame`` in the map's display coordinates: WGS84, or GCJ-02 under Amap; rounded to about 1 m.

    ``m`` is a map (its datum is read from :func:`settings`) or a datum name.
    """
    datum = m if isinstance(m, str) else settings(m).datum
    out = frame.to_crs(4326)

    def convert(xy: np.ndarray) -> np.ndarray:
        if datum == "gcj02":
            xy = np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
        return np.round(xy, _DECIMALS)
    geoms = shapely.transform(out.geometry.to_numpy(), convert)
    if isinstance(out, gpd.GeoSeries):
        return gpd.GeoSeries(geoms, index=out.index, crs=4326)
    out = out.copy()
    out["geometry"] = geoms
    return out


def _data(frame: gpd.GeoDataFrame) -> dict:
    """GeoJSON for a layer: geometries in the page's compact encoding (see :mod:`healthreach.webassets`)."""
    return webassets.feature_collection(frame)


def escape(value) -> str:
    """``value`` as text safe to place in the page: HTML-escaped, with braces and backticks as references.

    folium renders each layer's script and then reads that output again as
    a Jinja template, so a name containing ``{{ ... }}`` or ``{% ... %}``
    would be evaluated while the page is written; and ``folium.Tooltip``
    puts its text inside a JavaScript template literal, where a backtick or
    ``${`` would end it and a backslash start an escape. Every piece of
    user text that goes into a layer (names, tooltips, popups, layer names,
    marker HTML) must pass through here; the browser shows ``&#123;`` as
    ``{``, ``&#96;`` as a backtick.
    """
    return (html.escape(str(value), quote=True)
            .replace("{", "&#123;").replace("}", "&#125;").replace("`", "&#96;").replace("\\", "&#92;"))


_esc = escape


def _people(value: float, lang: str) -> str:
    return t("people_count", lang, people=f"{value:,.0f}")


def add_legend_section(m: folium.Map, key: str, title: str, rows: list[str], layers=()) -> None:
    """Register legend ``rows`` (HTML, already escaped) under ``title``, shown while any of ``layers`` is on.

    ``key`` orders the sections (see :data:`LEGEND_ORDER`) and merges rows
    registered twice under one key; ``layers`` are folium layers or their JS
    names (no layers: always shown).
    """
    section = settings(m).legend.setdefault(key, LegendSection(title))
    for row in rows:
        if row not in section.rows:
            section.rows.append(row)
    for layer in layers:
        name = layer if isinstance(layer, str) else layer.get_name()
        if name not in section.layers:
            section.layers.append(name)


def _swatch(colour: str, text: str, opacity: float = 0.8) -> str:
    return f'<span class="hr-key" style="background:{colour};opacity:{opacity}"></span>{_esc(text)}'


def _threshold_min(audit: Audit) -> float:
    spec = audit.inputs.profile.standards.primary_care_15min
    return spec.threshold_min if spec else 15.0


# --------------------------------------------------------------------------- the map itself

def new_map(bounds_wgs84: tuple[float, float, float, float], lang: str = "zh", basemap: str | Basemap | None = None,
            tianditu_key: str | None = None, offline: bool = False, width="100%", height="100%",
            page_title: str = "", figure: Figure | None = None,
            padding: tuple[tuple[int, int], tuple[int, int]] = ((200, 90), (200, 10)), **kwargs) -> HearingMap:
    """An empty hearing map framed on ``bounds_wgs84`` (west, south, east, north in degrees).

    ``basemap`` is one of :data:`healthreach.basemaps.BASEMAPS`; by default
    ``osm``, or ``none`` when ``offline`` (a basemap named explicitly is kept
    offline too: its tiles show when a network happens to be there). ``figure`` places the map in an existing page (side-by-side
    maps); otherwise it gets a page of its own titled ``page_title``.
    """
    check_lang(lang)
    if isinstance(basemap, str):
        basemap = get_basemap(basemap, lang, tianditu_key)
    elif basemap is None:
        basemap = get_basemap("none" if offline else "osm", lang, tianditu_key)
    kwargs = {"zoom_snap": 0.25, "zoom_delta": 0.5, **kwargs}  # fractional zoom: the study area fills the view
    m = HearingMap(tiles=None, width=width, height=height, control_scale=False, prefer_canvas=False,
                   zoom_control=True, **kwargs)
    m.healthreach = MapSettings(lang=lang, basemap=basemap, offline=offline)
    root = figure if figure is not None else Figure(title=_esc(page_title) if page_title else None)
    root.add_child(m)
    for i, tiles in enumerate(basemap.tiles):
        folium.TileLayer(tiles=tiles.url, attr=tiles.attribution, name=basemap.name if i == 0 else None,
                         subdomains=tiles.subdomains, max_zoom=tiles.max_zoom, overlay=tiles.overlay,
                         control=False).add_to(m)
    west, south, east, north = bounds_wgs84
    if basemap.datum == "gcj02":
        (west, east), (south, north) = wgs84_to_gcj02([west, east], [south, north])
    m.fit_bounds([[float(south), float(west)], [float(north), float(east)]], padding_top_left=padding[0],
                 padding_bottom_right=padding[1])
    return m


_SYNC_MAPS = Template("""
{% macro script(this, kwargs) %}
hrSyncMaps({{ this.left }}, {{ this._parent.get_name() }});
{% endmacro %}
""")


def map_pair(bounds_wgs84: tuple[float, float, float, float], labels: tuple[str, str] | None = None,
             title: list[tuple[str, str]] | None = None, lang: str = "zh", basemap: str | Basemap | None = None,
             tianditu_key: str | None = None, offline: bool = False) -> tuple[Figure, HearingMap, HearingMap]:
    """Two maps side by side on one page, panning and zooming together (before | after).

    ``title`` (from :func:`title_lines`) becomes a bar across the top of the
    page; ``labels`` (default 现状 / 方案实施后) name the two halves. Draw
    layers on each map, then call :func:`add_legend` on both (``side="right"``
    on the right one) and :func:`add_controls` (``collapsed=True`` fits a
    half-width map better).
    """
    title = title or []
    figure = Figure(title=_esc(title[0][1]) if title else None)
    halves = []
    for left in ("0%", "50%"):
        halves.append(new_map(bounds_wgs84, lang=lang, basemap=basemap, tianditu_key=tianditu_key, offline=offline,
                              width="50%", height="100%", position="absolute", left=left, top="0%", figure=figure,
                              padding=((250, 40), (10, 10))))
    left, right = halves
    sync = MacroElement()
    sync._template = _SYNC_MAPS
    sync.left = left.get_name()
    right.add_child(sync)
    top = 4 + 22 + 17 * (len(title) - 1) + 4 + 1 if title else 0  # the bar: padding, h1, lines, border (px)
    if title:
        add_title(left, title, bar=True)
    labels = labels or (t("before", lang), t("after", lang))
    ids = ", ".join(f"#{m.get_name()}" for m in halves)
    figure.header.add_child(RawHTML(f"<style>{ids} {{ top: {top}px !important; height: calc(100% - {top}px) "
                                    f"!important; }} .hr-pair-label {{ top: {top + 8}px; }}</style>"),
                            name="hr_pair_css")
    figure.html.add_child(RawHTML(
        f'<div class="hr-pair-label" style="left:25%">{_esc(labels[0])}</div>'
        f'<div class="hr-pair-label" style="left:75%">{_esc(labels[1])}</div>'
        f'<div class="hr-pair-divider" style="top:{top}px"></div>'))
    return figure, left, right


_CONTROLS = Template("""
{% macro script(this, kwargs) %}
L.control.scale({imperial: false, maxWidth: 160, position: 'bottomright'}).addTo({{ this._parent.get_name() }});
hrAddButtons({{ this._parent.get_name() }}, {{ this.labels|tojson }});
{% endmacro %}
""")


def add_controls(m: folium.Map, collapsed: bool = False) -> folium.Map:
    """Layer control, metric scale bar, full-screen and print buttons (call after the layers)."""
    lang = settings(m).lang
    controls = MacroElement()
    controls._template = _CONTROLS
    controls.labels = {"fullscreen": t("fullscreen", lang), "print": t("print", lang)}
    m.add_child(controls)
    folium.LayerControl(collapsed=collapsed).add_to(m)
    return m


def title_lines(audit: Audit, lang: str = "zh", scenario: str | None = None, when: _dt.date | None = None,
                input_hash: str | None = None) -> list[tuple[str, str]]:
    """The title block as (kind, plain text) pairs: kind is "title", "line", "meta" or "synthetic".

    Names the study, the scenario (if any), the standard and its result, the
    date, the input files and a short hash of the inputs, so a printed map
    can be traced to its data.
    """
    inp = audit.inputs
    study = inp.study
    out = [("title", t("scenario_title" if scenario else "title", lang, study=study.name))]
    if scenario:
        out.append(("line", t("scenario", lang, name=scenario)))
    spec = inp.profile.standards.primary_care_15min
    if spec:
        fig = audit.figure("primary_care_15min")
        if fig.share is not None:
            out.append(("line", t("circle_result", lang, threshold=f"{spec.threshold_min:g}", share=f"{fig.share:.1%}",
                                  people=f"{fig.population:,.0f}", target=f"{spec.target_share:.0%}")))
        out.append(("line", t("standard", lang, profile=inp.profile.name, threshold=f"{spec.threshold_min:g}",
                              urban_mode=t(f"mode_{spec.urban_mode}", lang),
                              rural_mode=t(f"mode_{spec.rural_mode}", lang))))
    sources = sources_line(study, lang)
    date = (when or _dt.date.today()).isoformat()
    short_hash = (input_hash or inp.input_hash)[:8]
    meta = " · ".join((t("drawn", lang, date=date), t("sources", lang, sources=sources),
                       t("input_hash", lang, hash=short_hash)))
    out.append(("meta", meta))
    if is_synthetic(audit):
        out.append(("synthetic", t("synthetic", lang)))
    return out


def is_synthetic(audit: Audit) -> bool:
    """Whether the study is the bundled synthetic demo (or says it is synthetic)."""
    study = audit.inputs.study
    text = f"{study.name} {study.description}".lower()
    return study.source == DEMO_STUDY or "synthetic" in text or "合成" in text


def add_title(m: folium.Map, lines: list[tuple[str, str]], bar: bool = False) -> folium.Map:
    """A fixed title block from :func:`title_lines` (text is escaped here); ``bar``: across the page top."""
    parts = []
    for kind, text in lines:
        if kind == "title":
            parts.append(f"<h1>{_esc(text)}</h1>")
        else:
            cls = {"meta": "hr-meta", "synthetic": "hr-synthetic"}.get(kind, "")
            parts.append(f'<p class="{cls}">{_esc(text)}</p>')
    cls = "hr-title hr-title-bar" if bar else "hr-title"
    m.get_root().html.add_child(RawHTML(f'<div class="{cls}">{"".join(parts)}</div>'))
    return m


def base_map(audit: Audit, title: str | None = None, subtitle: str = "", *,
             lang: str = "zh", basemap: str | None = None, tianditu_key: str | None = None, offline: bool = False,
             scenario: str | None = None) -> HearingMap:
    """An empty map framed on the study area, with its title block.

    Without ``title`` the title block is :func:`title_lines` (study, scenario,
    standard, date, sources, input hash); with it, ``title`` and ``subtitle``.
    ``basemap`` defaults to ``osm``, or ``none`` when ``offline``.
    """
    bounds = tuple(audit.inputs.boundaries.to_crs(4326).total_bounds)
    lines = title_lines(audit, lang, scenario) if title is None else [("title", title)] + (
        [("line", subtitle)] if subtitle else [])
    m = new_map(bounds, lang=lang, basemap=basemap, tianditu_key=tianditu_key, offline=offline,
                page_title=lines[0][1])
    return add_title(m, lines)


# --------------------------------------------------------------------------- layers

def add_roads(m: folium.Map, audit: Audit, minor: bool | None = None, *, show_minor: bool | None = None) -> folium.Map:
    """The road network used for routing, merged per class and simplified (about 15 m).

    Main roads (national, provincial, county, urban arterials and their OSM
    equivalents) are always drawn; ``minor`` roads too unless ``minor=False``.
    The minor layer is shown at start when there are no tiles (it then gives
    the map its streets) and hidden under a tile basemap (``show_minor``
    overrides).
    """
    lines = audit.inputs.network.lines
    lang = settings(m).lang
    no_tiles = not settings(m).basemap.tiles
    show_minor = no_tiles if show_minor is None else show_minor
    draw_minor = True if minor is None else minor
    major = lines["road_class"].isin(MAJOR_ROADS).to_numpy()
    for is_major in (False, True):
        if not is_major and not draw_minor:
            continue
        part = lines[major == is_major]
        if part.empty:
            continue
        geoms, classes = [], []
        for cls, group in part.groupby("road_class"):
            merged = shapely.line_merge(shapely.multilinestrings(group.geometry.to_numpy()))
            geoms.append(shapely.simplify(merged, _ROAD_SIMPLIFY_M, preserve_topology=False))
            classes.append(str(cls))
        frame = to_display(gpd.GeoDataFrame({"road_class": classes}, geometry=geoms, crs=lines.crs), m)

        def style(feature, is_major=is_major):
            cls = feature["properties"]["road_class"]
            if not is_major:
                return {"color": "#9a9a9a", "weight": 0.8, "opacity": 0.8}
            return {"color": "#5a5a5a" if cls in WIDE_ROADS else "#737373",
                    "weight": 3.0 if cls in WIDE_ROADS else 1.8, "opacity": 0.9}
        key = "layer_roads_major" if is_major else "layer_roads_minor"
        layer = folium.GeoJson(_data(frame), name=_esc(t(key, lang)), style_function=style, interactive=False,
                               show=True if is_major else show_minor).add_to(m)
        line = "border-top:3px solid #5a5a5a" if is_major else "border-top:1px solid #9a9a9a"
        add_legend_section(m, "roads", t("legend_roads", lang),
                           [f'<span class="hr-line" style="{line}"></span>{_esc(t(key, lang))}'], [layer])
    return m


def add_boundaries(m: folium.Map, audit: Audit, labels: bool = True, *, name: str | None = None,
                   show: bool = True) -> folium.Map:
    """Township outlines with their names, and a tooltip (name, class, people, share covered)."""
    lang = settings(m).lang
    towns = _township_frame(m, audit, "primary_care_share")
    group = folium.FeatureGroup(name=_esc(name or t("layer_boundaries", lang)), show=show)
    folium.GeoJson(_data(towns), style_function=lambda _: {"color": "#444", "weight": 1.4, "fill": True,
                                                           "fillOpacity": 0, "dashArray": "5 3"},
                   tooltip=_township_tooltip(towns, lang, _threshold_min(audit))).add_to(group)
    if labels:
        pts = to_display(audit.inputs.boundaries.geometry.representative_point(), m)
        for point, label in zip(pts, audit.inputs.boundaries["name"].astype(str)):
            width = 14 * len(label) + 8
            folium.Marker([point.y, point.x], interactive=False, keyboard=False,
                          icon=folium.DivIcon(html=_esc(label), class_name="hr-label", icon_size=(width, 16),
                                              icon_anchor=(width // 2, 8))).add_to(group)
    group.add_to(m)
    return m


def _township_frame(m: folium.Map, audit: Audit, column: str) -> gpd.GeoDataFrame:
    lang = settings(m).lang
    towns = audit.inputs.boundaries[["id", "name", "area_class", "geometry"]].merge(
        audit.townships[["township_id", column, "people"]], left_on="id", right_on="township_id")
    share = towns[column].to_numpy(float)
    towns["share"] = share
    towns["name"] = towns["name"].map(_esc)
    towns["class_name"] = towns["area_class"].map(lambda c: _esc(area_name(c, lang)))
    towns["people_text"] = towns["people"].map(lambda p: _people(p, lang))
    towns["share_text"] = [f"{100 * s:.1f}%" if np.isfinite(s) else t("not_applicable", lang) for s in share]
    towns = towns[["name", "class_name", "people_text", "share_text", "share", "geometry"]]
    towns = towns.set_geometry(towns.geometry.simplify(_SIMPLIFY_M / 2, preserve_topology=True))
    return to_display(towns, m)


def _township_tooltip(towns: gpd.GeoDataFrame, lang: str, threshold: float) -> folium.GeoJsonTooltip:
    return folium.GeoJsonTooltip(["name", "class_name", "people_text", "share_text"], localize=False,
                                 aliases=[_esc(t("township", lang)), _esc(t("area_class", lang)),
                                          _esc(t("people", lang)),
                                          _esc(t("share_covered", lang, threshold=f"{threshold:g}"))])


def share_colour(share: float) -> str:
    """Fill colour of a township whose share covered is ``share`` (0..1; NaN: grey)."""
    if share is None or not np.isfinite(share):
        return "#cccccc"
    return SHARE_COLOURS[int(np.searchsorted(SHARE_BREAKS, share, side="right"))]


def add_townships(m: folium.Map, audit: Audit, column: str = "primary_care_share", *, name: str | None = None,
                  show: bool = False) -> folium.Map:
    """Townships shaded by a coverage share (0..1, ``column`` of ``audit.townships``), with tooltips."""
    lang = settings(m).lang
    threshold = _threshold_min(audit)
    towns = _township_frame(m, audit, column)
    layer = folium.GeoJson(_data(towns), name=_esc(name or t("layer_townships", lang, threshold=f"{threshold:g}")),
                           show=show, tooltip=_township_tooltip(towns, lang, threshold),
                           style_function=lambda f: {"fillColor": share_colour(f["properties"]["share"]),
                                                     "color": "#444", "weight": 1.2, "fillOpacity": 0.7}).add_to(m)
    lows = [0.0, *SHARE_BREAKS]
    highs = [*SHARE_BREAKS, 1.0]
    add_legend_section(m, "townships", t("legend_townships", lang), [
        _swatch(c, f"{100 * lo:.0f}–{100 * hi:.0f}%", 0.7) for c, lo, hi in zip(SHARE_COLOURS, lows, highs)],
        [layer])
    return m


def add_time_bands(m: folium.Map, audit: Audit, breaks_min=TIME_BREAKS_MIN, *, name: str | None = None,
                   show: bool = True) -> folium.Map:
    """Travel-time bands to primary care (walking in urban, driving in rural townships), minutes."""
    lang = settings(m).lang
    inp = audit.inputs
    labels = [t("legend_minutes", lang, minutes=f"{b:g}") for b in breaks_min]
    frame = bands(inp.grid, inp.cells.flat, audit.primary_s, [b * 60 for b in breaks_min], labels,
                  simplify_m=_SIMPLIFY_M)
    colours = _ramp(TIME_COLOURS, len(breaks_min))
    if frame.empty:
        return m
    frame = to_display(frame[["band", "geometry"]], m)
    layer = folium.GeoJson(_data(frame), name=_esc(name or t("layer_time_bands", lang)), show=show, interactive=False,
                           style_function=lambda f: {"fillColor": colours[f["properties"]["band"]], "color": "#fff",
                                                     "weight": 0, "fillOpacity": 0.5}).add_to(m)
    add_legend_section(m, "time", t("legend_time", lang), [_swatch(c, label, 0.6) for c, label in zip(colours, labels)],
                       [layer])
    return m


def _ramp(colours: list[str], n: int) -> list[str]:
    """``n`` colours from a ramp (repeating its lightest when it is too short)."""
    return [colours[min(i, len(colours) - 1)] for i in range(n)]


def add_emergency_areas(m: folium.Map, audit: Audit, *, name: str | None = None, show: bool = False) -> folium.Map:
    """Emergency service areas by road distance from emergency-capable sites.

    Urban cells within the urban radius (5 km), rural cells within the first
    rural radius (10 km) share the dark colour; rural cells between the
    first and the last rural radius (10-20 km) the light one.
    """
    s = audit.inputs.profile.standards
    spec = s.emergency_radius_urban or s.emergency_radius_rural
    if spec is None:
        return m
    lang = settings(m).lang
    dist = audit.travel[Need(spec.group, "ambulance", "length", "from")].cost
    urban = audit.inputs.cells.urban
    code = np.full(len(dist), np.inf)
    rows = []
    if s.emergency_radius_urban:
        r = min(s.emergency_radius_urban.radii_m)
        code[urban & (dist <= r)] = 0.5
        rows.append(_swatch(EMERGENCY_COLOURS[0], t("urban_km", lang, km=f"{r / 1000:g}"), 0.5))
    if s.emergency_radius_rural:
        radii = sorted(s.emergency_radius_rural.radii_m)
        code[~urban & (dist <= radii[-1])] = 1.5
        code[~urban & (dist <= radii[0])] = 0.5
        rows.append(_swatch(EMERGENCY_COLOURS[0], t("rural_km", lang, km=f"{radii[0] / 1000:g}"), 0.5))
        if len(radii) > 1:
            rows.append(_swatch(EMERGENCY_COLOURS[1], t("rural_km_range", lang, low=f"{radii[0] / 1000:g}",
                                                        km=f"{radii[-1] / 1000:g}"), 0.5))
    frame = bands(audit.inputs.grid, audit.inputs.cells.flat, code, [1.0, 2.0], simplify_m=_SIMPLIFY_M)
    if frame.empty:
        return m
    frame = to_display(frame[["band", "geometry"]], m)
    layer = folium.GeoJson(_data(frame), name=_esc(name or t("layer_emergency", lang)), show=show, interactive=False,
                           style_function=lambda f: {"fillColor": EMERGENCY_COLOURS[f["properties"]["band"]],
                                                     "color": EMERGENCY_COLOURS[f["properties"]["band"]],
                                                     "weight": 1.5, "fillOpacity": 0.3}).add_to(m)
    add_legend_section(m, "emergency", t("legend_emergency", lang), rows, [layer])
    return m


def add_uncovered(m: folium.Map, audit: Audit, *, name: str | None = None, show: bool = True) -> folium.Map:
    """Cells with people beyond the 15-minute circle, darker where more people live (people per cell)."""
    lang = settings(m).lang
    threshold = _threshold_min(audit)
    cells = audit.inputs.cells
    out = (audit.primary_s > threshold * 60) & (cells.people >= 0.5)
    if not out.any():
        return m
    # shading class per cell (0..3), drawn as merged cell squares (exact cell edges, no simplification)
    level = np.where(out, np.digitize(cells.people, UNCOVERED_BREAKS) + 0.5, np.inf)
    frame = bands(audit.inputs.grid, cells.flat, level, [1.0, 2.0, 3.0, 4.0])
    frame = to_display(frame.rename(columns={"band": "level"})[["level", "geometry"]], m)
    layer = folium.GeoJson(_data(frame), name=_esc(name or t("layer_uncovered", lang, threshold=f"{threshold:g}")),
                           show=show, interactive=False,
                           style_function=lambda f: {"fillColor": UNCOVERED_COLOURS[f["properties"]["level"]],
                                                     "color": UNCOVERED_COLOURS[f["properties"]["level"]],
                                                     "weight": 0, "fillOpacity": 0.8}).add_to(m)
    lows = [0.5, *UNCOVERED_BREAKS]
    labels = [f"{lo:g}–{hi:g}" for lo, hi in zip(lows, UNCOVERED_BREAKS)] + [f"≥ {UNCOVERED_BREAKS[-1]:g}"]
    section = (t("legend_uncovered", lang, threshold=f"{threshold:g}")
               + f" · {t('legend_cell', lang, cell=f'{audit.inputs.grid.cell_m:g}')}")
    add_legend_section(m, "uncovered", section,
                       [_swatch(c, label, 0.85) for c, label in zip(UNCOVERED_COLOURS, labels)], [layer])
    return m


def facility_icon_svg(facility_type: str, size: int | None = None) -> str:
    """An inline SVG icon for a facility type: shape by class, colour by type."""
    shape, colour, default = FACILITY_ICONS.get(facility_type, _OTHER_ICON)
    size = size or default
    cross = '<path d="M10 5h4v5h5v4h-5v5h-4v-5H5v-4h5z" fill="#fff"/>'
    body = {
        "hospital": f'<rect x="1" y="1" width="22" height="22" rx="3" fill="{colour}" stroke="#fff" '
                    'stroke-width="1.5"/>' + cross,
        "emergency": f'<path d="M12 .8 23.2 12 12 23.2 .8 12z" fill="{colour}" stroke="#fff" stroke-width="1.5"/>'
                     '<path d="M10.6 7h2.8v3.6H17v2.8h-3.6V17h-2.8v-3.6H7v-2.8h3.6z" fill="#fff"/>',
        "centre": f'<circle cx="12" cy="12" r="11" fill="{colour}" stroke="#fff" stroke-width="1.5"/>' + cross,
        "community": f'<path d="M12 1.5 23 22H1z" fill="{colour}" stroke="#fff" stroke-width="1.5"/>',
        "dot": f'<circle cx="12" cy="12" r="10" fill="{colour}" stroke="#fff" stroke-width="3"/>',
    }[shape]
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 24 24">{body}</svg>'


def add_facilities(m: folium.Map, audit: Audit, *, name: str | None = None, show: bool = True,
                   types: list[str] | None = None) -> folium.Map:
    """Facilities, one layer per type, with icons by type and a popup of their key figures.

    The popup gives name, type, id, beds, ambulances, catchment population
    (people whose nearest primary-care facility this is) and the share of
    that catchment within the 15-minute circle. ``name`` is a prefix for the
    layer names (e.g. "After: ").
    """
    lang = settings(m).lang
    threshold = _threshold_min(audit)
    table = audit.facility_table.reset_index(drop=True)
    pts = to_display(gpd.GeoSeries(gpd.points_from_xy(audit.facilities["x"], audit.facilities["y"]),
                                   crs=audit.inputs.crs), m)
    frame = gpd.GeoDataFrame({
        "type": table["type"].astype(str).to_numpy(),
        "name": table["name"].map(_esc).to_numpy(),
        "type_name": table["type"].map(lambda v: _esc(type_name(v, lang))).to_numpy(),
        "id": table["id"].map(_esc).to_numpy(),
        "beds": [_count(v) for v in table["beds"]],
        "ambulances": [_count(v) for v in table["ambulances"]],
        "catchment": [_people(v, lang) if pd.notna(v) and v > 0 else t("not_applicable", lang)
                      for v in table.get("catchment_people", np.full(len(table), np.nan))],
        "share": [f"{100 * v:.0f}%" if pd.notna(v) else t("not_applicable", lang)
                  for v in table.get("catchment_share_15min", np.full(len(table), np.nan))],
    }, geometry=pts.to_numpy(), crs=4326)
    present = list(dict.fromkeys(frame["type"]))
    order = [k for k in FACILITY_ICONS if k in present] + sorted(k for k in present if k not in FACILITY_ICONS)
    if types is not None:
        order = [k for k in order if k in types]
    fields = ["name", "type_name", "id", "beds", "ambulances", "catchment", "share"]
    aliases = [_esc(t(k, lang)) for k in ("name", "type", "id", "beds", "ambulances", "catchment")] + [
        _esc(t("share_15", lang, threshold=f"{threshold:g}"))]
    prefix = _esc(name) if name else ""
    legend_rows, layers = [], []
    for rank, ftype in enumerate(reversed(order)):  # small types first, so hospitals draw on top
        part = frame[frame["type"] == ftype]
        shape, colour, size = FACILITY_ICONS.get(ftype, _OTHER_ICON)
        if shape == "dot":
            marker = folium.CircleMarker(radius=size / 2, color="#ffffff", weight=1, fill=True, fill_color=colour,
                                         fill_opacity=0.95, pane="markerPane")  # above the township fills
        else:
            marker = folium.Marker(z_index_offset=100 * rank, icon=folium.DivIcon(
                html=facility_icon_svg(ftype), icon_size=(size, size), icon_anchor=(size // 2, size // 2),
                class_name="hr-icon"))
        label = _esc(type_name(ftype, lang))
        layer = folium.GeoJson(
            _data(part.drop(columns="type")),
            name=prefix + _esc(t("layer_facilities", lang, type=type_name(ftype, lang))),
            show=show, marker=marker,
            popup=folium.GeoJsonPopup(fields, aliases=aliases, localize=False, class_name="hr-popup",
                                      max_width=380),
            tooltip=folium.GeoJsonTooltip(["name"], labels=False)).add_to(m)
        legend_rows.insert(0, f"{facility_icon_svg(ftype, 14)}{label}")
        layers.append(layer)
    add_legend_section(m, "facilities", t("legend_facilities", lang), legend_rows, layers)
    return m


def _count(value) -> str:
    """A whole count as text ("—" when missing; other text escaped as it is)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _esc(value)
    return f"{number:,.0f}" if np.isfinite(number) else "—"


class _Legend(Element):
    """The legend, rendered from the sections the layers registered on the map."""

    def __init__(self, m: folium.Map, style: str = ""):
        super().__init__()
        self._map = m
        self._style = style

    def render(self, **kwargs) -> str:
        sections = settings(self._map).legend
        order = {key: i for i, key in enumerate(LEGEND_ORDER)}
        parts = []
        for key in sorted(sections, key=lambda k: order.get(k, len(order))):
            sec = sections[key]
            layers = f' data-layers="{_esc(" ".join(sec.layers))}"' if sec.layers else ""
            parts.append(f'<div class="hr-legend-section"{layers}><h4>{_esc(sec.title)}</h4>'
                         + "<br>".join(sec.rows) + "</div>")
        style = f' style="{_esc(self._style)}"' if self._style else ""
        return f'<div class="hr-legend" id="{legend_id(self._map)}"{style}>{"".join(parts)}</div>'


_SYNC_LEGEND = Template("""
{% macro script(this, kwargs) %}
hrSyncLegend({{ this._parent.get_name() }}, {{ this.legend_id|tojson }});
{% endmacro %}
""")


def legend_id(m: folium.Map) -> str:
    """The HTML id of ``m``'s legend block."""
    return f"hr_legend_{m.get_name()}"


def add_legend(m: folium.Map, *, side: str = "left", style: str = "") -> folium.Map:
    """A fixed legend of every layer drawn on ``m``; each section shows only while its layer is on.

    Call after the layers. ``side="right"`` places it for the right map of a :func:`map_pair`;
    ``style`` is extra CSS for the block.
    """
    if side == "right":
        style = f"left: calc(50% + 10px); {style}"
    m.get_root().html.add_child(_Legend(m, style), name=legend_id(m))
    sync = MacroElement()
    sync._template = _SYNC_LEGEND
    sync.legend_id = legend_id(m)
    m.add_child(sync)
    return m


def audit_map(audit: Audit, *, lang: str = "zh", basemap: str | None = None,
              offline: bool = False, tianditu_key: str | None = None, scenario: str | None = None,
              minor_roads: bool = True) -> HearingMap:
    """The full audit map: roads, townships, time bands, emergency areas, uncovered people, facilities.

    ``lang`` is "zh" (default) or "en"; ``basemap`` one of osm, none,
    tianditu, amap (default osm, or none when ``offline``); ``offline``
    also makes :func:`render_html` refuse a page that would fetch anything.
    """
    m = base_map(audit, lang=lang, basemap=basemap, tianditu_key=tianditu_key, offline=offline,
                 scenario=scenario)
    add_townships(m, audit)
    add_time_bands(m, audit)
    add_emergency_areas(m, audit)
    add_uncovered(m, audit)
    add_roads(m, audit, minor=minor_roads)
    add_boundaries(m, audit)
    add_facilities(m, audit)
    add_legend(m)
    add_controls(m)
    return m


def render_html(m: folium.Map | Figure) -> str:
    """The page as one HTML string; for an offline map, checked to fetch nothing from the network."""
    root = m.get_root()
    page = root.render()
    maps = [m] if isinstance(m, folium.Map) else [c for c in root._children.values() if isinstance(c, folium.Map)]
    if any(settings(x).offline for x in maps):
        webassets.check_offline(page)
    return page
