"""The hearing map itself: its settings, page assets, display coordinates, title block, controls and rendering.

The language, the basemap and the datum of the overlays travel with the map
(:class:`MapSettings`), so the layer functions need only the map and the
audit. Text from the inputs is escaped (:func:`escape`) before it reaches the
page, and never passes through a template engine.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, cast

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from healthreach.crs import wgs84_to_gcj02
from healthreach.evaluation import Evaluation
from healthreach.i18n import check_lang, group_name, t
from healthreach.maps import assets
from healthreach.maps.basemaps import Basemap
from healthreach.maps.basemaps import basemap as get_basemap
from healthreach.sources import sources_line
from healthreach.standards.groups import group_id
from healthreach.study import DEMO_STUDY

SETTINGS_ATTRIBUTE = "healthreach"  # the attribute of a folium map that holds its MapSettings
_DECIMALS = 5             # coordinates written to the page are rounded to 1e-5 degree (about 1 m)


@dataclass
class LegendSection:
    """One legend block: a title, rows of HTML and the JS names of the layers it explains."""

    title: str
    rows: list[str] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)


@dataclass
class MapSettings:
    """What the layer functions need to know about the map they draw on.

    ``datum`` is the system the overlays are converted to ("wgs84", or
    "gcj02" under Amap tiles); ``legend`` collects the legend sections the
    layers register, in drawing order; ``groups`` the layer control's groups
    (see :func:`layer_group`); ``bounds`` the study area printing fits to.
    """

    lang: str = "zh"
    basemap: Basemap = field(default_factory=lambda: get_basemap("none"))
    offline: bool = False
    legend: dict[str, LegendSection] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)  # layer control: group title -> layer JS names
    bounds: list[list[float]] | None = None  # the study area, [[south, west], [north, east]] in display degrees

    @property
    def datum(self) -> str:
        """The datum the overlays are drawn in: "wgs84", or "gcj02" under Amap tiles."""
        return self.basemap.datum


AnyMap = TypeVar("AnyMap", bound=folium.Map)


def page_of(m: folium.Map) -> Figure:
    """The page (branca Figure) a folium map is drawn in: folium always places a map in one."""
    return cast("Figure", m.get_root())


def settings(m: folium.Map) -> MapSettings:
    """The :class:`MapSettings` of ``m`` (defaults if it was not made by :func:`new_map`)."""
    found = getattr(m, SETTINGS_ATTRIBUTE, None)
    if found is None:
        found = MapSettings()
        setattr(m, SETTINGS_ATTRIBUTE, found)
    return found


class RawHTML(Element):
    """Literal HTML placed on the page as it is (never read as a template)."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **_kwargs: Any) -> str:
        """The HTML as given."""
        return self._text


class VerbatimParts(MacroElement):
    """Mixed into a folium class, its rendered header, html and script go onto the page as they are.

    branca makes each rendered part a new template (``Element(text)``), so
    jinja2 compiles every layer's GeoJSON again, at about 80 ns a character
    (0.6 s for the layers of a 1M-cell study), and would read a ``{{`` in
    the data as template code. The class keeps its own render; only where
    its parts go changes. The text is what the template would give: less
    one trailing newline, as jinja2 drops it.
    """

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # branca says str; its MacroElement returns None
        """Render the parts into the page verbatim, then the children (as branca's MacroElement does)."""
        figure = cast("Figure", self.get_root())  # an element renders inside a folium map's page
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                text = str(macro(self, kwargs))
                getattr(figure, part).add_child(RawHTML(text.removesuffix("\n")), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class Features(folium.GeoJson, VerbatimParts):
    """folium's GeoJson layer, its data placed on the page verbatim (see :class:`VerbatimParts`)."""


class HearingMap(folium.Map):
    """A folium map whose Leaflet JavaScript and CSS are inlined in the page.

    folium's CDN assets (Leaflet, jQuery, Bootstrap, Awesome Markers, Font
    Awesome) are not referenced; none of the layers here needs more than
    Leaflet.
    """

    default_js: ClassVar[list] = []  # type: ignore[misc]  # folium declares them as instance variables
    default_css: ClassVar[list] = []  # type: ignore[misc]
    healthreach: MapSettings

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # branca says str; a map renders into its page
        """Install the inlined assets into the page, then render the map as folium does."""
        install_assets(cast("Figure", self.get_root()), settings(self).lang)  # a folium map's root is a Figure
        super().render(**kwargs)


def install_assets(figure: Figure, lang: str = "zh") -> None:
    """Put Leaflet, the page styles and the button controls into ``figure``'s header (once)."""
    header = figure.header
    if "hr_leaflet_js" in header._children:  # noqa: SLF001  branca keeps an element's children only there
        return
    header.add_child(RawHTML(f"<style>{assets.leaflet_css()}</style>"), name="hr_leaflet_css")
    header.add_child(RawHTML(f"<script>{assets.leaflet_js()}</script>"), name="hr_leaflet_js")
    header.add_child(RawHTML(f"<style>{assets.PAGE_CSS}</style>"), name="hr_page_css")
    header.add_child(RawHTML(f"<script>{assets.CONTROLS_JS}{assets.DECODE_JS}</script>"), name="hr_controls_js")
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


def escape(value: object) -> str:
    """``value`` as text safe to place in the page: HTML-escaped, with braces and backticks as references.

    folium renders each element's script and then reads that output again
    as a Jinja template (not :class:`Features` layers, but their markers,
    tooltips and popups), so a name containing ``{{ ... }}`` or ``{% ... %}``
    would be evaluated while the page is written; and ``folium.Tooltip``
    puts its text inside a JavaScript template literal, where a backtick or
    ``${`` would end it and a backslash start an escape. Every piece of
    user text that goes into a layer (names, tooltips, popups, layer names,
    marker HTML) must pass through here; the browser shows ``&#123;`` as
    ``{``, ``&#96;`` as a backtick.
    """
    return (html.escape(str(value), quote=True)
            .replace("{", "&#123;").replace("}", "&#125;").replace("`", "&#96;").replace("\\", "&#92;"))


def new_map(  # noqa: PLR0913  keyword-only options of the public API, each documented below
            bounds_wgs84: tuple[float, float, float, float], *, lang: str = "zh",
            basemap: str | Basemap | None = None, tianditu_key: str | None = None, offline: bool = False,
            width: str = "100%", height: str = "100%", page_title: str = "", figure: Figure | None = None,
            padding: tuple[tuple[int, int], tuple[int, int]] = ((200, 90), (200, 10)), **kwargs: Any) -> HearingMap:
    """An empty hearing map framed on ``bounds_wgs84`` (west, south, east, north in degrees).

    ``basemap`` is one of :data:`healthreach.maps.basemaps.BASEMAPS`; by default
    ``osm``, or ``none`` when ``offline`` (a basemap named explicitly is kept
    offline too: its tiles show when a network happens to be there). ``figure``
    places the map in an existing page (side-by-side maps); otherwise it gets a
    page of its own titled ``page_title``. ``width``, ``height``: CSS sizes;
    ``padding``: pixels kept free around the study area (top-left, bottom-right).
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
    root = figure if figure is not None else Figure(title=escape(page_title) if page_title else None)
    root.add_child(m)
    for i, tiles in enumerate(basemap.tiles):
        folium.TileLayer(tiles=tiles.url, attr=tiles.attribution, name=basemap.name if i == 0 else None,
                         subdomains=tiles.subdomains, max_zoom=tiles.max_zoom, overlay=tiles.overlay,
                         control=False).add_to(m)
    west, south, east, north = bounds_wgs84
    if basemap.datum == "gcj02":
        (west, east), (south, north) = wgs84_to_gcj02([west, east], [south, north])
    m.healthreach.bounds = [[float(south), float(west)], [float(north), float(east)]]
    m.fit_bounds(m.healthreach.bounds, padding_top_left=padding[0], padding_bottom_right=padding[1])
    return m


class _SyncMaps(MacroElement):
    """Pans and zooms the map it is added to together with the map whose JS name is ``left``."""

    _template = Template("""
{% macro script(this, kwargs) %}
hrSyncMaps({{ this.left }}, {{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, left: str):
        super().__init__()
        self.left = left


def map_pair(bounds_wgs84: tuple[float, float, float, float], labels: tuple[str, str] | None = None,
             title: list[tuple[str, str]] | None = None, lang: str = "zh", basemap: str | Basemap | None = None,
             tianditu_key: str | None = None, offline: bool = False) -> tuple[Figure, HearingMap, HearingMap]:
    """Two maps side by side on one page, panning and zooming together (before | after).

    ``title`` (from :func:`title_lines`) becomes a bar across the top of the
    page; ``labels`` (default 现状 / 方案实施后) name the two halves. Draw
    layers on each map, then call :func:`~healthreach.maps.legend.add_legend`
    on both (``side="right"`` on the right one) and :func:`add_controls`
    (``collapsed=True`` fits a half-width map better).
    """
    title = title or []
    figure = Figure(title=escape(title[0][1]) if title else None)
    halves = [new_map(bounds_wgs84, lang=lang, basemap=basemap, tianditu_key=tianditu_key, offline=offline,
                      width="50%", height="100%", position="absolute", left=offset, top="0%", figure=figure,
                      padding=((250, 40), (10, 10)))
              for offset in ("0%", "50%")]
    left, right = halves
    right.add_child(_SyncMaps(left.get_name()))
    top = 4 + 22 + 17 * (len(title) - 1) + 4 + 1 if title else 0  # the bar: padding, h1, lines, border (px)
    if title:
        add_title(left, title, bar=True)
    labels = labels or (t("before", lang), t("after", lang))
    ids = ", ".join(f"#{m.get_name()}" for m in halves)
    figure.header.add_child(RawHTML(f"<style>{ids} {{ top: {top}px !important; height: calc(100% - {top}px) "
                                    f"!important; }} .hr-pair-label {{ top: {top + 8}px; }}</style>"),
                            name="hr_pair_css")
    figure.html.add_child(RawHTML(
        f'<div class="hr-pair-label" style="left:25%">{escape(labels[0])}</div>'
        f'<div class="hr-pair-label" style="left:75%">{escape(labels[1])}</div>'
        f'<div class="hr-pair-divider" style="top:{top}px"></div>'))
    return figure, left, right


class _Controls(MacroElement):
    """The metric scale bar, the full-screen and print buttons (``labels`` in the map's language), printing
    fitted to the study area, and the grouped layer control (``groups``: see :func:`layer_control_groups`).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
L.control.scale({imperial: false, maxWidth: 160, position: 'bottomright'}).addTo({{ this._parent.get_name() }});
hrAddButtons({{ this._parent.get_name() }}, {{ this.labels|tojson }});
hrPrintFit({{ this._parent.get_name() }}, {{ this.bounds|tojson }});
hrLayerControl({{ this._parent.get_name() }}, {{ this.groups|tojson }}, {{ this.collapsed|tojson }});
{% endmacro %}
""")

    def __init__(self, labels: dict[str, str], bounds: list[list[float]] | None, groups: list[dict[str, Any]],
                 collapsed: bool):
        super().__init__()
        self.labels = labels
        self.bounds = bounds
        self.groups = groups
        self.collapsed = collapsed


def listed_layers(m: folium.Map) -> list[folium.map.Layer]:
    """The layers of ``m`` the layer control lists (overlays with ``control``), in drawing order."""
    children = m._children.values()  # noqa: SLF001  branca keeps an element's children only there
    return [c for c in children if isinstance(c, folium.map.Layer) and c.control and c.overlay]


@contextmanager
def layer_group(m: folium.Map, title: str) -> Iterator[None]:
    """List the layers added to ``m`` inside the ``with`` block under one entry ``title`` of the layer control."""
    before = {layer.get_name() for layer in listed_layers(m)}
    yield
    names = settings(m).groups.setdefault(title, [])
    names += [layer.get_name() for layer in listed_layers(m) if layer.get_name() not in before]


def layer_control_groups(m: folium.Map) -> list[dict[str, Any]]:
    """The layer control's entries: each group (title, layers) at its first layer's place, other layers alone."""
    groups = settings(m).groups
    group_of = {name: title for title, names in groups.items() for name in names}
    out: list[dict[str, Any]] = []
    seen: dict[str, dict[str, Any]] = {}
    for layer in listed_layers(m):
        item = {"name": layer.layer_name, "js": layer.get_name()}
        title = group_of.get(item["js"])
        if title is None:
            out.append({"title": None, "layers": [item]})
        elif title in seen:
            seen[title]["layers"].append(item)
        else:
            seen[title] = {"title": escape(title), "layers": [item]}
            out.append(seen[title])
    return out


def add_controls(m: folium.Map, collapsed: bool = False) -> folium.Map:
    """Grouped layer control, metric scale bar, full-screen and print buttons (call after the layers).

    Printing fits the study area to the sheet; the layer control lists the
    groups made with :func:`layer_group` as one entry each.
    """
    lang = settings(m).lang
    m.add_child(_Controls({"fullscreen": t("fullscreen", lang), "print": t("print", lang)}, settings(m).bounds,
                          layer_control_groups(m), collapsed))
    return m


def title_lines(audit: Evaluation, lang: str = "zh", scenario: str | None = None, when: dt.date | None = None,
                input_hash: str | None = None, before: Evaluation | None = None) -> list[tuple[str, str]]:
    """The title block as (kind, plain text) pairs: kind is "title", "line", "meta" or "synthetic".

    Names the study, the scenario (if any), the standard and its result
    (with ``before``, the baseline: "90.6% → 91.3%"), the date, the input
    files and a short hash of the inputs, so a printed map can be traced to
    its data.
    """
    inp = audit.inputs
    study = inp.study
    out = [("title", t("scenario_title" if scenario else "title", lang, study=study.name))]
    if scenario:
        out.append(("line", t("scenario", lang, name=scenario)))
    circle = audit.study.primary
    if circle:
        spec = circle.spec
        fig = audit.figure(circle.id)
        was = before.figure(circle.id).share if before is not None else None
        if fig.share is not None and was is not None:
            out.append(("line", t("circle_change", lang, threshold=f"{spec.threshold_min:g}", before=f"{was:.1%}",
                                  after=f"{fig.share:.1%}", target=f"{spec.target_share:.0%}")))
        elif fig.share is not None:
            out.append(("line", t("circle_result", lang, threshold=f"{spec.threshold_min:g}",
                                  share=f"{fig.share:.1%}", people=f"{fig.population:,.0f}",
                                  target=f"{spec.target_share:.0%}")))
        for group in inp.cells.groups:  # the same circle for each population group
            of_group = audit.figure(group_id(circle.id, group))
            group_was = before.figure(group_id(circle.id, group)).share if before is not None else None
            if of_group.share is not None and group_was is not None:
                out.append(("line", t("group_circle_change", lang, group=group_name(group, lang),
                                      before=f"{group_was:.1%}", after=f"{of_group.share:.1%}")))
            elif of_group.share is not None:
                out.append(("line", t("group_circle_result", lang, group=group_name(group, lang),
                                      share=f"{of_group.share:.1%}", people=f"{of_group.population:,.0f}")))
        out.append(("line", t("standard", lang, profile=inp.profile.name, threshold=f"{spec.threshold_min:g}",
                              urban_mode=t(f"mode_{spec.urban_mode}", lang),
                              rural_mode=t(f"mode_{spec.rural_mode}", lang))))
    sources = sources_line(study, lang)
    date = (when or dt.datetime.now().astimezone().date()).isoformat()  # local date
    short_hash = (input_hash or inp.input_hash)[:8]
    meta = " · ".join((t("drawn", lang, date=date), t("sources", lang, sources=sources),
                       t("input_hash", lang, hash=short_hash)))
    out.append(("meta", meta))
    if is_synthetic(audit):
        out.append(("synthetic", t("synthetic", lang)))
    return out


def is_synthetic(audit: Evaluation) -> bool:
    """Whether the study is the bundled synthetic demo (or says it is synthetic)."""
    study = audit.inputs.study
    text = f"{study.name} {study.description}".lower()
    return study.source == DEMO_STUDY or "synthetic" in text or "合成" in text


def add_title(m: AnyMap, lines: list[tuple[str, str]], bar: bool = False) -> AnyMap:
    """A fixed title block from :func:`title_lines` (text is escaped here); ``bar``: across the page top."""
    parts = []
    for kind, text in lines:
        if kind == "title":
            parts.append(f"<h1>{escape(text)}</h1>")
        else:
            cls = {"meta": "hr-meta", "synthetic": "hr-synthetic"}.get(kind, "")
            parts.append(f'<p class="{cls}">{escape(text)}</p>')
    cls = "hr-title hr-title-bar" if bar else "hr-title"
    page_of(m).html.add_child(RawHTML(f'<div class="{cls}">{"".join(parts)}</div>'))
    return m


def base_map(audit: Evaluation, title: str | None = None, subtitle: str = "", *,  # noqa: PLR0913
             lang: str = "zh", basemap: str | None = None, tianditu_key: str | None = None, offline: bool = False,
             scenario: str | None = None, before: Evaluation | None = None) -> HearingMap:
    """An empty map framed on the study area, with its title block.

    Without ``title`` the title block is :func:`title_lines` (study, scenario,
    standard, result, before -> after with ``before``, date, sources, input
    hash); with it, ``title`` and ``subtitle``. ``basemap`` defaults to
    ``osm``, or ``none`` when ``offline``.
    """
    bounds = tuple(audit.inputs.boundaries.to_crs(4326).total_bounds)
    lines = title_lines(audit, lang, scenario, before=before) if title is None else [("title", title)] + (
        [("line", subtitle)] if subtitle else [])
    m = new_map(bounds, lang=lang, basemap=basemap, tianditu_key=tianditu_key, offline=offline,
                page_title=lines[0][1])
    return add_title(m, lines)


def render_html(m: folium.Map | Figure) -> str:
    """The page as one HTML string; for an offline map, checked to fetch nothing from the network."""
    root = m.get_root()
    page = root.render()
    children = root._children.values()  # noqa: SLF001  branca keeps an element's children only there
    maps = [m] if isinstance(m, folium.Map) else [c for c in children if isinstance(c, folium.Map)]
    if any(settings(x).offline for x in maps):
        assets.check_offline(page)
    return page
