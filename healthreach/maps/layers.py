"""The layers of a hearing map: roads, township outlines and shares, travel-time bands, emergency areas,
people beyond the circle (everyone, and each population group), and facilities with their icons.

Each ``add_*(m, audit, ...)`` function draws one layer from the audit's own
cell values (see :mod:`healthreach.isochrones`, so the map never disagrees
with the figures), registers its legend rows and returns the map; ``name``
and ``show`` let two versions of one layer (before/after a scenario) sit on
one map.
"""

from __future__ import annotations

import itertools

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element

from healthreach.evaluation import Evaluation
from healthreach.i18n import area_name, group_name, t, type_name
from healthreach.maps.assets import feature_collection
from healthreach.maps.base import Features, escape, settings, to_display
from healthreach.maps.legend import add_legend_section, swatch
from healthreach.maps.placement import label_points
from healthreach.maps.roads import road_layer
from healthreach.messages import Message
from healthreach.standards.e2sfca import E2sfca
from healthreach.standards.groups import group_id
from healthreach.standards.radius import Radius

# Sequential, colour-blind-safe schemes (ColorBrewer). Darker = nearer / more.
TIME_BREAKS_MIN = (5, 10, 15, 30)
TIME_COLOURS = ["#08519c", "#3182bd", "#6baed6", "#bdd7e7"]          # Blues
EMERGENCY_COLOURS = ["#54278f", "#9e9ac8"]                            # Purples
UNCOVERED_BREAKS = (2, 10, 50)                                        # people per cell
UNCOVERED_COLOURS = ["#fcbba1", "#fb6a4a", "#cb181d", "#67000d"]      # Reds
GROUP_UNCOVERED_COLOURS = ["#fcc5c0", "#f768a1", "#ae017e", "#49006a"]  # RdPu: a population group's people
ACCESS_BREAKS = (1.0, 2.0, 4.0, 8.0, 16.0)                          # E2SFCA, beds or doctors per 1,000 people
ACCESS_COLOURS = ["#edf8fb", "#b3cde3", "#8c96c6", "#8856a7", "#810f7c", "#4d004b"]  # BuPu
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


def _people(value: float, lang: str) -> str:
    return t("people_count", lang, people=f"{value:,.0f}")


def _threshold_min(audit: Evaluation) -> float:
    """Minutes of the profile's first circle standard (15 without one)."""
    circle = audit.study.primary
    return circle.spec.threshold_min if circle else 15.0


def _share_column(audit: Evaluation) -> str:
    """The township column the maps shade by: the first circle standard's share."""
    circle = audit.study.primary
    if circle is None:
        msg = Message("the profile has no circle standard to shade townships by; give a column")
        raise ValueError(msg)
    return circle.share_column


def add_roads(m: folium.Map, audit: Evaluation, minor: bool | None = None, *,
              show_minor: bool | None = None) -> folium.Map:
    """The road network used for routing, merged per class and simplified (about 15 m), drawn once per
    network and then read back from the study's disk cache (:func:`healthreach.maps.roads.road_layer`).

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
    for is_major in (False, True):
        if not is_major and not draw_minor:
            continue
        features = road_layer(lines, MAJOR_ROADS, is_major, settings(m).datum, audit.study.road_store)
        if not features["features"]:
            continue

        def style(feature, is_major=is_major):
            cls = feature["properties"]["road_class"]
            if not is_major:
                return {"color": "#9a9a9a", "weight": 0.8, "opacity": 0.8}
            return {"color": "#5a5a5a" if cls in WIDE_ROADS else "#737373",
                    "weight": 3.0 if cls in WIDE_ROADS else 1.8, "opacity": 0.9}
        key = "layer_roads_major" if is_major else "layer_roads_minor"
        layer = Features(features, name=escape(t(key, lang)), style_function=style,
                         interactive=False, show=True if is_major else show_minor).add_to(m)
        line = "border-top:3px solid #5a5a5a" if is_major else "border-top:1px solid #9a9a9a"
        add_legend_section(m, "roads", t("legend_roads", lang),
                           [f'<span class="hr-line" style="{line}"></span>{escape(t(key, lang))}'], [layer])
    return m


def add_boundaries(m: folium.Map, audit: Evaluation, labels: bool = True, *, name: str | None = None,
                   show: bool = True) -> folium.Map:
    """Township outlines with their names, and a tooltip (name, class, people, share covered)."""
    lang = settings(m).lang
    towns = _township_frame(m, audit, _share_column(audit))
    group = folium.FeatureGroup(name=escape(name or t("layer_boundaries", lang)), show=show)
    Features(feature_collection(towns), style_function=lambda _: {"color": "#444", "weight": 1.4, "fill": True,
                                                     "fillOpacity": 0, "dashArray": "5 3"},
             tooltip=_township_tooltip(lang, _threshold_min(audit), _groups_of(audit, _share_column(audit)))
             ).add_to(group)
    if labels:
        pts = to_display(township_label_points(audit), m)
        for point, label in zip(pts, audit.inputs.boundaries["name"].astype(str), strict=True):
            width = 14 * len(label) + 8
            folium.Marker([point.y, point.x], interactive=False, keyboard=False,
                          icon=folium.DivIcon(html=escape(label), class_name="hr-label", icon_size=(width, 16),
                                              icon_anchor=(width // 2, 8))).add_to(group)
    group.add_to(m)
    return m


def township_label_points(audit: Evaluation) -> gpd.GeoSeries:
    """Where each township's name goes (analysis CRS): inside it, near its middle, clear of facility icons."""
    fac = audit.facilities
    return label_points(audit.inputs.boundaries.geometry, fac[["x", "y"]].to_numpy(float))


def _groups_of(audit: Evaluation, column: str) -> list[str]:
    """The population groups whose share of the township ``column`` the township table has."""
    return [g for g in audit.inputs.cells.groups if group_id(column, g) in audit.township_columns]


def capitalised(text: str) -> str:
    """Text with its first letter upper-case (an English group name opening a label; Chinese unchanged)."""
    return text[:1].upper() + text[1:]


def _share_text(share: np.ndarray, lang: str) -> list[str]:
    return [f"{100 * s:.1f}%" if np.isfinite(s) else t("not_applicable", lang) for s in share]


def _township_frame(m: folium.Map, audit: Evaluation, column: str) -> gpd.GeoDataFrame:
    """Townships with their tooltip's texts: name, class, people and the share of ``column``, then the
    same people and share for each population group (``people_text_<group>``, ``share_text_<group>``).
    """
    lang = settings(m).lang
    groups = _groups_of(audit, column)
    per_group = [group_id(c, g) for g in groups for c in ("people", column)]
    towns = audit.inputs.boundaries[["id", "name", "area_class", "geometry"]].merge(
        audit.townships[["township_id", column, "people", *per_group]], left_on="id", right_on="township_id")
    share = towns[column].to_numpy(float)
    towns["share"] = share
    towns["name"] = towns["name"].map(escape)
    towns["class_name"] = towns["area_class"].map(lambda c: escape(area_name(c, lang)))
    towns["people_text"] = towns["people"].map(lambda p: _people(p, lang))
    towns["share_text"] = _share_text(share, lang)
    texts = []
    for g in groups:
        towns[group_id("people_text", g)] = towns[group_id("people", g)].map(lambda p: _people(p, lang))
        towns[group_id("share_text", g)] = _share_text(towns[group_id(column, g)].to_numpy(float), lang)
        texts += [group_id("people_text", g), group_id("share_text", g)]
    towns = towns[["name", "class_name", "people_text", "share_text", *texts, "share", "geometry"]]
    towns = towns.set_geometry(towns.geometry.simplify(_SIMPLIFY_M / 2, preserve_topology=True))
    return to_display(towns, m)


def _township_tooltip(lang: str, threshold: float, groups: list[str]) -> folium.GeoJsonTooltip:
    """Name, class, people and share covered; then each population group's people and share."""
    fields = ["name", "class_name", "people_text", "share_text"]
    aliases = [t("township", lang), t("area_class", lang), t("people", lang),
               t("share_covered", lang, threshold=f"{threshold:g}")]
    for g in groups:
        fields += [group_id("people_text", g), group_id("share_text", g)]
        aliases += [t("group_people", lang, group=group_name(g, lang)),
                    t("group_share_covered", lang, group=group_name(g, lang), threshold=f"{threshold:g}")]
    return folium.GeoJsonTooltip(fields, localize=False, aliases=[escape(capitalised(a)) for a in aliases])


def share_colour(share: float | None) -> str:
    """Fill colour of a township whose share covered is ``share`` (0..1; NaN: grey)."""
    if share is None or not np.isfinite(share):
        return "#cccccc"
    return SHARE_COLOURS[int(np.searchsorted(SHARE_BREAKS, share, side="right"))]


def add_townships(m: folium.Map, audit: Evaluation, column: str | None = None, *, name: str | None = None,
                  show: bool = False) -> folium.Map:
    """Townships shaded by a coverage share (0..1, ``column`` of ``audit.townships``; default the first
    circle standard's), with tooltips.
    """
    lang = settings(m).lang
    column = column or _share_column(audit)
    threshold = _threshold_min(audit)
    towns = _township_frame(m, audit, column)
    layer = Features(feature_collection(towns),
                     name=escape(name or t("layer_townships", lang, threshold=f"{threshold:g}")),
                     show=show, tooltip=_township_tooltip(lang, threshold, _groups_of(audit, column)),
                     style_function=lambda f: {"fillColor": share_colour(f["properties"]["share"]),
                                               "color": "#444", "weight": 1.2, "fillOpacity": 0.7}).add_to(m)
    circle = audit.study.primary
    target = circle.spec.target_share if circle is not None and column == circle.share_column else None
    share = towns["share"].to_numpy(float)
    pts = to_display(township_label_points(audit), m)
    for point, value in zip(pts, share, strict=True):  # the share under the name, shown with the shading
        if not np.isfinite(value):
            continue
        below = target is not None and value < target
        text = f"{100 * value:.1f}%"
        width = 8 * len(text) + 8
        folium.Marker([point.y, point.x], interactive=False, keyboard=False, icon=folium.DivIcon(
            html=escape(text), class_name="hr-share hr-below" if below else "hr-share", icon_size=(width, 14),
            icon_anchor=(width // 2, -9))).add_to(layer)
    lows = [0.0, *SHARE_BREAKS]
    highs = [*SHARE_BREAKS, 1.0]
    rows = [swatch(c, f"{100 * lo:.0f}–{100 * hi:.0f}%", 0.7)
            for c, lo, hi in zip(SHARE_COLOURS, lows, highs, strict=True)]
    if target is not None:
        rows = [row + (f' · <b class="hr-target">{escape(t("target_row", lang, target=f"{target:.0%}"))}</b>'
                       if lo <= target < hi or (hi == 1.0 and target >= hi) else "")
                for row, lo, hi in zip(rows, lows, highs, strict=True)]
        rows.append(f'<span class="hr-share hr-below" style="position:static">…%</span> '
                    f'{escape(t("below_target", lang, target=f"{target:.0%}"))}')
    add_legend_section(m, "townships", t("legend_townships", lang), rows, [layer])
    return m


def add_time_bands(m: folium.Map, audit: Evaluation, breaks_min=TIME_BREAKS_MIN, *, name: str | None = None,
                   show: bool = True) -> folium.Map:
    """Travel-time bands to primary care (walking in urban, driving in rural townships), minutes."""
    lang = settings(m).lang
    labels = [t("legend_minutes", lang, minutes=f"{b:g}") for b in breaks_min]
    frame = audit.study.polygons.bands(audit.primary_seconds, [b * 60 for b in breaks_min], labels,
                                       simplify_m=_SIMPLIFY_M)
    colours = _ramp(TIME_COLOURS, len(breaks_min))
    if frame.empty:
        return m
    frame = to_display(frame[["band", "geometry"]], m)
    layer = Features(feature_collection(frame), name=escape(name or t("layer_time_bands", lang)), show=show,
                     interactive=False,
                     style_function=lambda f: {"fillColor": colours[f["properties"]["band"]], "color": "#fff",
                                               "weight": 0, "fillOpacity": 0.5}).add_to(m)
    rows = [swatch(c, label, 0.6) for c, label in zip(colours, labels, strict=True)]
    rows.append(swatch("#ffffff", t("legend_beyond", lang, minutes=f"{breaks_min[-1]:g}"), 1.0))
    add_legend_section(m, "time", t("legend_time", lang), rows, [layer])
    return m


def _ramp(colours: list[str], n: int) -> list[str]:
    """``n`` colours from a ramp (repeating its lightest when it is too short)."""
    return [colours[min(i, len(colours) - 1)] for i in range(n)]


def add_emergency_areas(m: folium.Map, audit: Evaluation, *, name: str | None = None, show: bool = False) -> folium.Map:
    """Emergency service areas by road distance from emergency-capable sites.

    Urban cells within the urban radius (5 km), rural cells within the first
    rural radius (10 km) share the dark colour; rural cells between the
    first and the last rural radius (10-20 km) the light one.
    """
    units = [s for s in audit.study.standards if isinstance(s, Radius)]
    if not units:
        return m
    urban_unit = next((u for u in units if u.spec.area == "urban"), None)
    rural_unit = next((u for u in units if u.spec.area == "rural"), None)
    lang = settings(m).lang
    dist = audit.travel[units[0].need].cost
    urban = audit.inputs.cells.urban
    code = np.full(len(dist), np.inf)
    rows = []
    if urban_unit:
        r = min(urban_unit.spec.radii_m)
        code[urban & (dist <= r)] = 0.5
        rows.append(swatch(EMERGENCY_COLOURS[0], t("urban_km", lang, km=f"{r / 1000:g}"), 0.5))
    if rural_unit:
        radii = sorted(rural_unit.spec.radii_m)
        code[~urban & (dist <= radii[-1])] = 1.5
        code[~urban & (dist <= radii[0])] = 0.5
        rows.append(swatch(EMERGENCY_COLOURS[0], t("rural_km", lang, km=f"{radii[0] / 1000:g}"), 0.5))
        if len(radii) > 1:
            rows.append(swatch(EMERGENCY_COLOURS[1], t("rural_km_range", lang, low=f"{radii[0] / 1000:g}",
                                                        km=f"{radii[-1] / 1000:g}"), 0.5))
    frame = audit.study.polygons.bands(code, [1.0, 2.0], simplify_m=_SIMPLIFY_M)
    if frame.empty:
        return m
    frame = to_display(frame[["band", "geometry"]], m)
    layer = Features(feature_collection(frame), name=escape(name or t("layer_emergency", lang)), show=show,
                     interactive=False,
                     style_function=lambda f: {"fillColor": EMERGENCY_COLOURS[f["properties"]["band"]],
                                               "color": EMERGENCY_COLOURS[f["properties"]["band"]],
                                               "weight": 1.5, "fillOpacity": 0.3}).add_to(m)
    add_legend_section(m, "emergency", t("legend_emergency", lang), rows, [layer])
    return m


def add_uncovered(m: folium.Map, audit: Evaluation, *, name: str | None = None, show: bool = True,
                  group: str | None = None) -> folium.Map:
    """Cells with people beyond the 15-minute circle, darker where more people live (people per cell).

    With ``group`` (a population group key): the group's people beyond the
    circle instead, in a scheme of their own (*RdPu*); their legend section,
    right after everyone's, says how many they are (the maps draw it with
    ``show=False``: hidden at start).
    """
    lang = settings(m).lang
    threshold = _threshold_min(audit)
    cells = audit.inputs.cells
    people = cells.people if group is None else cells.groups[group]
    out = (audit.primary_seconds > threshold * 60) & (people >= 0.5)
    if not out.any():
        return m
    # shading class per cell (0..3), drawn as merged cell squares (exact cell edges, no simplification)
    level = np.where(out, np.digitize(people, UNCOVERED_BREAKS) + 0.5, np.inf)
    frame = audit.study.polygons.bands(level, [1.0, 2.0, 3.0, 4.0])
    frame = to_display(frame.rename(columns={"band": "level"})[["level", "geometry"]], m)
    colours = UNCOVERED_COLOURS if group is None else GROUP_UNCOVERED_COLOURS
    if group is None:
        title = t("layer_uncovered", lang, threshold=f"{threshold:g}")
        section = t("legend_uncovered", lang, threshold=f"{threshold:g}")
    else:
        title = capitalised(t("layer_group_uncovered", lang, group=group_name(group, lang),
                                threshold=f"{threshold:g}"))
        figure = audit.figure(group_id(audit.study.primary.id, group)) if audit.study.primary else None
        beyond = None if figure is None or figure.covered is None else figure.population - figure.covered
        section = capitalised(t("legend_group_uncovered", lang, group=group_name(group, lang),
                                threshold=f"{threshold:g}", people="—" if beyond is None else f"{beyond:,.0f}"))
    layer = Features(feature_collection(frame), name=escape(name or title), show=show, interactive=False,
                     style_function=lambda f: {"fillColor": colours[f["properties"]["level"]],
                                               "color": colours[f["properties"]["level"]],
                                               "weight": 0, "fillOpacity": 0.8}).add_to(m)
    lows = [0.5, *UNCOVERED_BREAKS]
    labels = [*(f"{lo:g}–{hi:g}" for lo, hi in zip(lows, UNCOVERED_BREAKS, strict=False)),
              f"≥ {UNCOVERED_BREAKS[-1]:g}"]
    section += f" · {t('legend_cell', lang, cell=f'{audit.inputs.grid.cell_m:g}')}"
    add_legend_section(m, "uncovered" if group is None else f"uncovered.{group}", section,
                       [swatch(c, label, 0.85) for c, label in zip(colours, labels, strict=True)], [layer])
    return m


def add_access(m: folium.Map, audit: Evaluation, *, name: str | None = None, show: bool = False) -> folium.Map:
    """The first E2SFCA standard's access per populated cell: beds or doctors per 1,000 people within reach,
    with competition (cells with none in reach are not drawn).
    """
    unit = next((s for s in audit.study.standards if isinstance(s, E2sfca)), None)
    if unit is None or audit.whole is None or unit.spec.resource not in audit.whole.counted:
        return m
    lang = settings(m).lang
    cells = audit.inputs.cells
    per_1000 = unit.per_cell_per_1000(audit.whole)
    value = np.where((per_1000 > 0) & (cells.people > 0), per_1000, np.inf)
    breaks = [*ACCESS_BREAKS, np.finfo(float).max]
    labels = [f"≤ {ACCESS_BREAKS[0]:g}", *(f"{lo:g}–{hi:g}" for lo, hi in itertools.pairwise(ACCESS_BREAKS)),
              f"> {ACCESS_BREAKS[-1]:g}"]
    frame = audit.study.polygons.bands(value, breaks, labels, simplify_m=_SIMPLIFY_M)
    if frame.empty:
        return m
    frame = to_display(frame[["band", "geometry"]], m)
    what = t(f"resource_{unit.spec.resource}", lang)
    layer = Features(feature_collection(frame), name=escape(name or t("layer_access", lang, what=what)),
                     show=show, interactive=False,
                     style_function=lambda f: {"fillColor": ACCESS_COLOURS[f["properties"]["band"]],
                                               "color": "#fff", "weight": 0, "fillOpacity": 0.6}).add_to(m)
    add_legend_section(m, "access", t("legend_access", lang, what=what),
                       [swatch(c, label, 0.6) for c, label in zip(ACCESS_COLOURS, labels, strict=True)], [layer])
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


def add_facilities(m: folium.Map, audit: Evaluation, *, name: str | None = None, show: bool = True,
                   types: list[str] | None = None) -> folium.Map:
    """Facilities, one layer per type, with icons by type and a popup of their key figures.

    The popup gives name, type, id, beds, ambulances, catchment population
    (people whose nearest primary-care facility this is) and the share of
    that catchment within the 15-minute circle, the same for each population
    group, and with tiers the tier catchment's people and people per bed.
    ``name`` is a prefix for the layer names (e.g. "After: ").
    """
    lang = settings(m).lang
    threshold = _threshold_min(audit)
    table = audit.facility_table.reset_index(drop=True)
    pts = to_display(gpd.GeoSeries(gpd.points_from_xy(audit.facilities["x"], audit.facilities["y"]),
                                   crs=audit.inputs.crs), m)
    frame = gpd.GeoDataFrame({
        "type": table["type"].astype(str).to_numpy(),
        "name": table["name"].map(escape).to_numpy(),
        "type_name": table["type"].map(lambda v: escape(type_name(v, lang))).to_numpy(),
        "id": table["id"].map(escape).to_numpy(),
        "beds": [_count(v) for v in table["beds"]],
        "ambulances": [_count(v) for v in table["ambulances"]],
        "catchment": [_people(v, lang) if pd.notna(v) and v > 0 else t("not_applicable", lang)
                      for v in table.get("catchment_people", np.full(len(table), np.nan))],
        "share": _catchment_share(table, f"catchment_share_{threshold:g}min", lang),
    }, geometry=pts.to_numpy(), crs=4326)
    tiered = "tier_catchment_people" in table  # the profile has tiers: the people its own tier's catchment holds
    if tiered:
        frame["tier_catchment"] = [_people(v, lang) if pd.notna(v) and v > 0 else t("not_applicable", lang)
                                   for v in table["tier_catchment_people"]]
        frame["people_per_bed"] = [_count(v) for v in table["people_per_bed"]]
    groups = [g for g in audit.inputs.cells.groups if group_id("catchment_people", g) in table]
    for g in groups:  # each population group's people in the catchment, and their share within the circle
        frame[group_id("catchment", g)] = [_people(v, lang) if pd.notna(v) and v > 0 else t("not_applicable", lang)
                                           for v in table[group_id("catchment_people", g)]]
        frame[group_id("share", g)] = _catchment_share(table, group_id(f"catchment_share_{threshold:g}min", g), lang)
    present = list(dict.fromkeys(frame["type"]))
    order = [k for k in FACILITY_ICONS if k in present] + sorted(k for k in present if k not in FACILITY_ICONS)
    if types is not None:
        order = [k for k in order if k in types]
    fields = ["name", "type_name", "id", "beds", "ambulances", "catchment", "share",
              *(group_id(c, g) for g in groups for c in ("catchment", "share")),
              *(("tier_catchment", "people_per_bed") if tiered else ())]
    aliases = [escape(t(k, lang)) for k in ("name", "type", "id", "beds", "ambulances", "catchment")] + [
        escape(t("share_15", lang, threshold=f"{threshold:g}"))]
    for g in groups:
        aliases += [escape(t("group_catchment", lang, group=group_name(g, lang))),
                    escape(capitalised(t("group_share_15", lang, group=group_name(g, lang),
                                         threshold=f"{threshold:g}")))]
    if tiered:
        aliases += [escape(t("tier_catchment", lang)), escape(t("people_per_bed", lang))]
    prefix = escape(name) if name else ""
    legend_rows: list[str] = []
    layers: list[Element] = []
    for rank, ftype in enumerate(reversed(order)):  # small types first, so hospitals draw on top
        part = frame[frame["type"] == ftype]
        shape, colour, size = FACILITY_ICONS.get(ftype, _OTHER_ICON)
        marker: folium.Marker
        if shape == "dot":
            marker = folium.CircleMarker(radius=size / 2, color="#ffffff", weight=1, fill=True, fill_color=colour,
                                         fill_opacity=0.95, pane="markerPane")  # above the township fills
        else:
            marker = folium.Marker(z_index_offset=100 * rank, icon=folium.DivIcon(
                html=facility_icon_svg(ftype), icon_size=(size, size), icon_anchor=(size // 2, size // 2),
                class_name="hr-icon"))
        label = escape(type_name(ftype, lang))
        layer = Features(
            feature_collection(part.drop(columns="type")),
            name=prefix + escape(t("layer_facilities", lang, type=type_name(ftype, lang))),
            show=show, marker=marker,
            popup=folium.GeoJsonPopup(fields, aliases=aliases, localize=False, class_name="hr-popup",
                                      max_width=380),
            tooltip=folium.GeoJsonTooltip(["name"], labels=False)).add_to(m)
        legend_rows.insert(0, f"{facility_icon_svg(ftype, 14)}{label}")
        layers.append(layer)
    add_legend_section(m, "facilities", t("legend_facilities", lang), legend_rows, layers)
    return m


def _catchment_share(table: pd.DataFrame, column: str, lang: str) -> list[str]:
    """A facility table's share column as whole percentages ("—" where missing or absent)."""
    return [f"{100 * v:.0f}%" if pd.notna(v) else t("not_applicable", lang)
            for v in table.get(column, np.full(len(table), np.nan))]


def _count(value) -> str:
    """A whole count as text ("—" when missing; other text escaped as it is)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return escape(value)
    return f"{number:,.0f}" if np.isfinite(number) else "—"
