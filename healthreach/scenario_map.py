"""The before/after map of a scenario, composed from the audit map's layers.

The baseline's and the scenario's layers are drawn by :mod:`healthreach.maps`
(named "Before" / "After", the baseline's hidden at first). Only the layers a
scenario alone has are drawn here: cells that enter or leave the 15-minute
circle, and the changed facilities (each relocation as an arrow from the old
site to the new one, closed sites crossed out, changed facilities ringed).
Overlays go through :func:`healthreach.maps.to_display`, so they stay aligned
under a GCJ-02 basemap; no plugin that loads from the network is used, so an
offline map stays offline. User text is escaped.
"""

from __future__ import annotations

import dataclasses

import folium
import geopandas as gpd
import numpy as np
import shapely

from healthreach import maps
from healthreach.i18n import t
from healthreach.isochrones import cell_squares
from healthreach.scenario.evaluate import ScenarioResult
from healthreach.scenario.schema import CLOSED_TYPE
from healthreach.standards import Audit

GAINED_COLOUR = "#1b9e77"   # ColorBrewer Dark2 green / orange: distinct for colour-blind readers too
LOST_COLOUR = "#d95f02"
MOVE_COLOUR = "#7570b3"
CLOSED_COLOUR = "#525252"
ARROW_M = 250.0             # arrowhead length, metres

_TEXT = {  # scenario-only strings (the shared ones come from healthreach.i18n)
    "relocated": {"zh": "第{n}项：{name}（{id}）迁建", "en": "change {n}: {name} ({id}) relocated"},
    "old_site": {"zh": "原址：{name}", "en": "old site of {name}"},
    "closed": {"zh": "第{n}项：{name}（{id}）撤并", "en": "change {n}: {name} ({id}) closed"},
    "changed": {"zh": "{name}（{id}）：{status}", "en": "{name} ({id}): {status}"},
    "people": {"zh": "{what}：{people} 人", "en": "{what}: {people} people"},
    "legend_moved": {"zh": "规划变化", "en": "Planned changes"},
    "moved_row": {"zh": "迁建（原址 → 新址）", "en": "relocated (old → new site)"},
    "closed_row": {"zh": "撤并", "en": "closed"},
    "changed_row": {"zh": "新建、升级或扩建", "en": "added, upgraded or expanded"},
}
_STATUS = {"added": ("新建", "added"), "relocated": ("迁建", "relocated"), "closed": ("撤并", "closed"),
           "upgraded": ("升级", "upgraded"), "expanded": ("扩建", "expanded"), "merged_in": ("并入", "merged in")}


def _text(key: str, lang: str, **values) -> str:
    return _TEXT[key][lang].format(**values)


def _status_text(status: str, lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(_STATUS.get(s, (s, s))[lang == "en"] for s in status.split("+") if s)


def _open_only(audit: Audit) -> Audit:
    """The audit with closed facilities left out of its facility tables (for drawing markers)."""
    open_ = (audit.facilities["type"] != CLOSED_TYPE).to_numpy()
    return dataclasses.replace(audit, facilities=audit.facilities[open_].reset_index(drop=True),
                               facility_table=audit.facility_table[open_].reset_index(drop=True))


def _key(colour: str, text: str, opacity: float = 0.8) -> str:
    return f'<span class="hr-key" style="background:{colour};opacity:{opacity}"></span>{maps.escape(text)}'


def add_gained_lost(m: folium.Map, result: ScenarioResult) -> folium.Map:
    """Cells that enter (green) or leave (orange) the primary-care circle, with the people in them."""
    lang = maps.settings(m).lang
    inp = result.audit.inputs
    cells = inp.cells
    for key, mask, colour in (("gained", result.gained, GAINED_COLOUR), ("lost", result.lost, LOST_COLOUR)):
        sel = mask & (cells.people > 0)
        if not sel.any():
            continue
        name = t(f"layer_{key}", lang)
        squares = cell_squares(inp.grid, cells.flat[sel])
        shape = shapely.union_all(squares.geometry.to_numpy())
        frame = maps.to_display(gpd.GeoDataFrame(geometry=[shape], crs=inp.crs), m)
        tip = _text("people", lang, what=name, people=f"{cells.people[sel].sum():,.0f}")
        layer = folium.GeoJson(frame, name=maps.escape(name), tooltip=maps.escape(tip),
                               style_function=lambda _, c=colour: {"fillColor": c, "color": c, "weight": 1,
                                                                   "fillOpacity": 0.65}).add_to(m)
        maps.add_legend_section(m, key, name, [_key(colour, tip, 0.65)], [layer])
    return m


def _arrowhead(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A triangle (metres) pointing along old -> new, its tip on the new site."""
    dx, dy = x1 - x0, y1 - y0
    length = float(np.hypot(dx, dy)) or 1.0
    ux, uy = dx / length, dy / length
    size = min(ARROW_M, 0.4 * length)
    bx, by = x1 - ux * size, y1 - uy * size
    return shapely.Polygon([(x1, y1), (bx - uy * size * 0.45, by + ux * size * 0.45),
                            (bx + uy * size * 0.45, by - ux * size * 0.45)])


def add_changes(m: folium.Map, result: ScenarioResult) -> folium.Map:
    """Relocations as arrows old site -> new site, closed sites crossed out, changed facilities ringed."""
    lang = maps.settings(m).lang
    crs = result.audit.inputs.crs
    moves = result.moves
    group = folium.FeatureGroup(name=maps.escape(_text("legend_moved", lang)))
    rows = []
    rel = moves[moves["kind"] == "relocate"].reset_index(drop=True)
    if len(rel):
        xy = rel[["x0", "y0", "x1", "y1"]].to_numpy(float)
        lines = maps.to_display(gpd.GeoSeries(shapely.linestrings(xy.reshape(-1, 2, 2)), crs=crs), m)
        heads = maps.to_display(gpd.GeoSeries([_arrowhead(*r) for r in xy], crs=crs), m)
        for k, row in rel.iterrows():
            tip = maps.escape(_text("relocated", lang, n=row["change"], name=row["name"], id=row["id"]))
            (ax, ay), (bx, by) = lines.iloc[k].coords
            folium.PolyLine([(ay, ax), (by, bx)], color=MOVE_COLOUR, weight=3, dash_array="6 4",
                            tooltip=tip).add_to(group)
            folium.GeoJson(heads.iloc[[k]], tooltip=tip, style_function=lambda _: {
                "fillColor": MOVE_COLOUR, "color": MOVE_COLOUR, "weight": 1, "fillOpacity": 1}).add_to(group)
            folium.CircleMarker((ay, ax), radius=6, color=MOVE_COLOUR, weight=2, fill=True, fill_color="white",
                                fill_opacity=0.9,
                                tooltip=maps.escape(_text("old_site", lang, name=row["name"]))).add_to(group)
        rows.append(f'<span class="hr-line" style="border-top:3px dashed {MOVE_COLOUR}"></span>'
                    f'<span style="color:{MOVE_COLOUR}">►</span> {maps.escape(_text("moved_row", lang))}')
    closed = moves[moves["kind"] == "close"].reset_index(drop=True)
    if len(closed):
        pts = maps.to_display(gpd.GeoSeries(gpd.points_from_xy(closed["x0"], closed["y0"]), crs=crs), m)
        for k, row in closed.iterrows():
            folium.Marker([pts.iloc[k].y, pts.iloc[k].x], icon=folium.DivIcon(
                html=f'<div style="color:{CLOSED_COLOUR};font:bold 20px sans-serif;line-height:20px">✕</div>',
                icon_size=(20, 20), icon_anchor=(7, 10), class_name="hr-icon"),
                tooltip=maps.escape(_text("closed", lang, n=row["change"], name=row["name"], id=row["id"]))
            ).add_to(group)
        rows.append(f'<span style="color:{CLOSED_COLOUR};font-weight:bold">✕</span> '
                    f'{maps.escape(_text("closed_row", lang))}')
    fac = result.audit.facilities
    status = fac["status"].astype(str).to_numpy() if "status" in fac else np.full(len(fac), "")
    ringed = np.flatnonzero((status != "") & (fac["type"].to_numpy() != CLOSED_TYPE))
    if len(ringed):
        pts = maps.to_display(gpd.GeoSeries(gpd.points_from_xy(fac["x"].to_numpy()[ringed],
                                                               fac["y"].to_numpy()[ringed]), crs=crs), m)
        for k, row in enumerate(ringed):
            tip = _text("changed", lang, name=fac["name"].iloc[row], id=fac["id"].iloc[row],
                        status=_status_text(status[row], lang))
            folium.CircleMarker([pts.iloc[k].y, pts.iloc[k].x], radius=14, color=MOVE_COLOUR, weight=3,
                                fill=False, tooltip=maps.escape(tip)).add_to(group)
        rows.append(f'<span class="hr-key" style="border:3px solid {MOVE_COLOUR};border-radius:50%;'
                    f'background:none"></span>{maps.escape(_text("changed_row", lang))}')
    if rows:
        group.add_to(m)
        maps.add_legend_section(m, "moved", _text("legend_moved", lang), rows, [group])
    return m


def scenario_map(result: ScenarioResult, *, lang: str = "zh",
                 basemap: str | None = None, offline: bool = False, tianditu_key: str | None = None) -> folium.Map:
    """Before and after layers, gained and lost cells, moved/added/closed facilities, on one map.

    Options as for :func:`healthreach.maps.audit_map`. Render with
    :func:`healthreach.maps.render_html`.
    """
    before, after = result.baseline, result.audit
    m = maps.base_map(after, lang=lang, basemap=basemap, tianditu_key=tianditu_key, offline=offline,
                      scenario=result.scenario.name)
    spec = after.inputs.profile.standards.primary_care_15min
    threshold = f"{spec.threshold_min:g}" if spec else "15"
    sep = "：" if lang == "zh" else ": "
    b, a = t("before", lang) + sep, t("after", lang) + sep
    maps.add_townships(m, after, name=a + t("layer_townships", lang, threshold=threshold))
    maps.add_time_bands(m, before, name=b + t("layer_time_bands", lang), show=False)
    maps.add_time_bands(m, after, name=a + t("layer_time_bands", lang))
    maps.add_emergency_areas(m, after, name=a + t("layer_emergency", lang), show=False)
    maps.add_uncovered(m, before, name=b + t("layer_uncovered", lang, threshold=threshold), show=False)
    maps.add_uncovered(m, after, name=a + t("layer_uncovered", lang, threshold=threshold))
    maps.add_roads(m, after)
    maps.add_boundaries(m, after)
    add_gained_lost(m, result)
    maps.add_facilities(m, _open_only(before), name=b, show=False)
    maps.add_facilities(m, _open_only(after), name=a)
    add_changes(m, result)
    maps.add_legend(m)
    maps.add_controls(m)
    return m


_PAIR_TEXT = {
    "change": {"zh": "{threshold}分钟医疗服务圈：现状 {before} → 方案实施后 {after}；新增覆盖 {gained} 人，失去覆盖 {lost} 人",
               "en": "{threshold}-minute circle: today {before} → after {after}; {gained} people newly covered, "
                     "{lost} lose coverage"},
}


def scenario_pair_map(result: ScenarioResult, *, lang: str = "zh",
                      basemap: str | None = None, offline: bool = False, tianditu_key: str | None = None):
    """Before | after side by side on one page, the two maps panning and zooming together.

    The left map is today (time bands, people beyond the circle, facilities);
    the right one the scenario, with the cells gained and lost and the
    changed facilities. Options as for :func:`scenario_map`; returns the page
    (a :class:`branca.element.Figure`): render it with
    :func:`healthreach.maps.render_html`.
    """
    before, after = result.baseline, result.audit
    lines = maps.title_lines(after, lang, scenario=result.scenario.name)
    spec = after.inputs.profile.standards.primary_care_15min
    p0 = before.figure("primary_care_15min") if spec else None
    p1 = after.figure("primary_care_15min") if spec else None
    if p0 and p1 and p0.share is not None and p1.share is not None:
        change = _PAIR_TEXT["change"][lang].format(
            threshold=f"{spec.threshold_min:g}", before=f"{p0.share:.1%}", after=f"{p1.share:.1%}",
            gained=f"{result.newly_covered:,.0f}", lost=f"{result.lose_coverage:,.0f}")
        lines.insert(2, ("line", change))  # after the title and the scenario name
    bounds = tuple(after.inputs.boundaries.to_crs(4326).total_bounds)
    page, left, right = maps.map_pair(bounds, title=lines, lang=lang, basemap=basemap, tianditu_key=tianditu_key,
                                      offline=offline)
    for m, audit in ((left, before), (right, after)):
        maps.add_time_bands(m, audit)
        maps.add_uncovered(m, audit)
        maps.add_townships(m, audit)
        maps.add_roads(m, audit)
        maps.add_boundaries(m, audit)
        if m is right:
            add_gained_lost(m, result)
        maps.add_facilities(m, _open_only(audit))
        if m is right:
            add_changes(m, result)
    maps.add_legend(left)
    maps.add_legend(right, side="right")
    maps.add_controls(left, collapsed=True)
    maps.add_controls(right, collapsed=True)
    return page
