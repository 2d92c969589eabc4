"""The before/after map of a scenario, composed from the audit map's layers.

The baseline's and the scenario's layers are drawn by
:mod:`healthreach.maps.layers` (named "Before" / "After", the baseline's
hidden at first). Only the layers a scenario alone has are drawn here: cells
that enter or leave the 15-minute circle, and the changed facilities (each
relocation as an arrow from the old site to the new one, closed sites crossed
out, changed facilities ringed). Overlays go through
:func:`healthreach.maps.base.to_display`, so they stay aligned under a GCJ-02
basemap; no plugin that loads from the network is used, so an offline map
stays offline. User text is escaped.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely

from healthreach.diff import Diff
from healthreach.evaluation import Evaluation
from healthreach.i18n import group_name, t, words
from healthreach.isochrones import cell_squares
from healthreach.maps.base import (
    Features,
    add_controls,
    base_map,
    escape,
    layer_group,
    map_pair,
    settings,
    title_lines,
    to_display,
)
from healthreach.maps.layers import (
    add_access,
    add_boundaries,
    add_emergency_areas,
    add_facilities,
    add_roads,
    add_time_bands,
    add_townships,
    add_uncovered,
    capitalised,
)
from healthreach.maps.legend import add_legend, add_legend_section, swatch
from healthreach.scenario.outputs import change_moves
from healthreach.scenario.schema import CLOSED_TYPE
from healthreach.standards.e2sfca import E2sfca
from healthreach.standards.groups import group_id

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
    "group_people": {"zh": "其中{group} {people} 人", "en": "of them {group}: {people}"},
    "legend_moved": {"zh": "规划变化", "en": "Planned changes"},
    "moved_row": {"zh": "迁建（原址 → 新址）", "en": "relocated (old → new site)"},
    "closed_row": {"zh": "撤并", "en": "closed"},
    "changed_row": {"zh": "新建、升级或扩建", "en": "added, upgraded or expanded"},
}
_STATUS = {"added": ("新建", "added"), "relocated": ("迁建", "relocated"), "closed": ("撤并", "closed"),
           "upgraded": ("升级", "upgraded"), "expanded": ("扩建", "expanded"), "merged_in": ("并入", "merged in")}


def _text(key: str, lang: str, **values) -> str:
    return words(_TEXT, key, lang, **values)


def _status_text(status: str, lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(_STATUS.get(s, (s, s))[lang == "en"] for s in status.split("+") if s)


def _open_types(audit: Evaluation) -> list[str]:
    """The facility types of an evaluation, closed facilities left out (for drawing markers)."""
    return sorted(set(audit.facilities["type"].astype(str)) - {CLOSED_TYPE})


def add_gained_lost(m: folium.Map, result: Diff) -> folium.Map:
    """Cells that enter (green) or leave (orange) the primary-care circle, with the people in them (and
    of them each population group's).
    """
    lang = settings(m).lang
    inp = result.after.inputs
    cells = inp.cells
    anyone = cells.people > 0
    for people in cells.groups.values():
        anyone = anyone | (people > 0)
    sep = "，" if lang == "zh" else "; "
    for key, which, colour in (("gained", result.gained, GAINED_COLOUR), ("lost", result.lost, LOST_COLOUR)):
        sel = result.mask(which) & anyone
        if not sel.any():
            continue
        name = t(f"layer_{key}", lang)
        squares = cell_squares(inp.grid, cells.flat[sel])
        shape = shapely.union_all(squares.geometry.to_numpy())
        frame = to_display(gpd.GeoDataFrame(geometry=[shape], crs=inp.crs), m)
        tip = _text("people", lang, what=name, people=f"{cells.people[sel].sum():,.0f}")
        for group, people in cells.groups.items():
            tip += sep + _text("group_people", lang, group=group_name(group, lang), people=f"{people[sel].sum():,.0f}")
        layer = Features(frame, name=escape(name), tooltip=escape(tip),
                         style_function=lambda _, c=colour: {"fillColor": c, "color": c, "weight": 1,
                                                             "fillOpacity": 0.65}).add_to(m)
        add_legend_section(m, key, name, [swatch(colour, tip, 0.65)], [layer])
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


def add_changes(m: folium.Map, result: Diff) -> folium.Map:
    """Relocations as arrows old site -> new site, closed sites crossed out, changed facilities ringed."""
    lang = settings(m).lang
    crs = result.after.inputs.crs
    moves = change_moves(result)
    group = folium.FeatureGroup(name=escape(_text("legend_moved", lang)))
    rows = []
    rel = moves[moves["kind"] == "relocate"].reset_index(drop=True)
    if len(rel):
        xy = rel[["x0", "y0", "x1", "y1"]].to_numpy(float)
        lines = to_display(gpd.GeoSeries(shapely.linestrings(xy.reshape(-1, 2, 2)), crs=crs), m)
        heads = to_display(gpd.GeoSeries([_arrowhead(*r) for r in xy], crs=crs), m)
        for k, row in rel.iterrows():
            tip = escape(_text("relocated", lang, n=row["change"], name=row["name"], id=row["id"]))
            (ax, ay), (bx, by) = lines.iloc[k].coords
            folium.PolyLine([(ay, ax), (by, bx)], color=MOVE_COLOUR, weight=3, dash_array="6 4",
                            tooltip=tip).add_to(group)
            Features(heads.iloc[[k]], tooltip=tip, style_function=lambda _: {
                "fillColor": MOVE_COLOUR, "color": MOVE_COLOUR, "weight": 1, "fillOpacity": 1}).add_to(group)
            folium.CircleMarker((ay, ax), radius=6, color=MOVE_COLOUR, weight=2, fill=True, fill_color="white",
                                fill_opacity=0.9,
                                tooltip=escape(_text("old_site", lang, name=row["name"]))).add_to(group)
        rows.append(f'<span class="hr-line" style="border-top:3px dashed {MOVE_COLOUR}"></span>'
                    f'<span style="color:{MOVE_COLOUR}">►</span> {escape(_text("moved_row", lang))}')
    closed = moves[moves["kind"] == "close"].reset_index(drop=True)
    if len(closed):
        pts = to_display(gpd.GeoSeries(gpd.points_from_xy(closed["x0"], closed["y0"]), crs=crs), m)
        for k, row in closed.iterrows():
            folium.Marker([pts.iloc[k].y, pts.iloc[k].x], icon=folium.DivIcon(
                html=f'<div style="color:{CLOSED_COLOUR};font:bold 20px sans-serif;line-height:20px">✕</div>',
                icon_size=(20, 20), icon_anchor=(7, 10), class_name="hr-icon"),
                tooltip=escape(_text("closed", lang, n=row["change"], name=row["name"], id=row["id"]))
            ).add_to(group)
        rows.append(f'<span style="color:{CLOSED_COLOUR};font-weight:bold">✕</span> '
                    f'{escape(_text("closed_row", lang))}')
    fac = result.after.facilities
    status = fac["status"].astype(str).to_numpy() if "status" in fac else np.full(len(fac), "")
    ringed = np.flatnonzero((status != "") & (fac["type"].to_numpy() != CLOSED_TYPE))
    if len(ringed):
        pts = to_display(gpd.GeoSeries(gpd.points_from_xy(fac["x"].to_numpy()[ringed],
                                                               fac["y"].to_numpy()[ringed]), crs=crs), m)
        for k, row in enumerate(ringed):
            tip = _text("changed", lang, name=fac["name"].iloc[row], id=fac["id"].iloc[row],
                        status=_status_text(status[row], lang))
            folium.CircleMarker([pts.iloc[k].y, pts.iloc[k].x], radius=14, color=MOVE_COLOUR, weight=3,
                                fill=False, tooltip=escape(tip)).add_to(group)
        rows.append(f'<span class="hr-key" style="border:3px solid {MOVE_COLOUR};border-radius:50%;'
                    f'background:none"></span>{escape(_text("changed_row", lang))}')
    if rows:
        group.add_to(m)
        add_legend_section(m, "moved", _text("legend_moved", lang), rows, [group])
    return m


def scenario_map(result: Diff, *, lang: str = "zh",
                 basemap: str | None = None, offline: bool = False, tianditu_key: str | None = None) -> folium.Map:
    """Before and after layers, gained and lost cells, moved/added/closed facilities, on one map.

    Options as for :func:`healthreach.maps.audit.audit_map`. Render with
    :func:`healthreach.maps.base.render_html`.
    """
    before, after = result.before, result.after
    m = base_map(after, lang=lang, basemap=basemap, tianditu_key=tianditu_key, offline=offline,
                 scenario=result.scenario.name, before=before)
    circle = after.study.primary
    threshold = f"{circle.spec.threshold_min:g}" if circle else "15"
    sep = "：" if lang == "zh" else ": "
    b, a = t("before", lang) + sep, t("after", lang) + sep
    with layer_group(m, a + t("group_standards", lang)):
        add_townships(m, after, name=a + t("layer_townships", lang, threshold=threshold))
        add_time_bands(m, after, name=a + t("layer_time_bands", lang))
        add_emergency_areas(m, after, name=a + t("layer_emergency", lang), show=False)
        add_uncovered(m, after, name=a + t("layer_uncovered", lang, threshold=threshold))
        for group in after.inputs.cells.groups:
            add_uncovered(m, after, name=a + _group_uncovered(group, lang, threshold), show=False, group=group)
        add_access(m, after, name=a + _access_name(after, lang))
    with layer_group(m, b + t("group_standards", lang)):
        add_time_bands(m, before, name=b + t("layer_time_bands", lang), show=False)
        add_uncovered(m, before, name=b + t("layer_uncovered", lang, threshold=threshold), show=False)
        for group in before.inputs.cells.groups:
            add_uncovered(m, before, name=b + _group_uncovered(group, lang, threshold), show=False, group=group)
        add_access(m, before, name=b + _access_name(before, lang))
    with layer_group(m, t("group_base", lang)):
        add_roads(m, after)
        add_boundaries(m, after)
    with layer_group(m, t("group_changes", lang)):
        add_gained_lost(m, result)
    with layer_group(m, b + t("group_facilities", lang)):
        add_facilities(m, before, name=b, show=False, types=_open_types(before))
    with layer_group(m, a + t("group_facilities", lang)):
        add_facilities(m, after, name=a, types=_open_types(after))
    with layer_group(m, t("group_changes", lang)):
        add_changes(m, result)
    add_legend(m)
    add_controls(m)
    return m


def _access_name(audit: Evaluation, lang: str) -> str:
    """The name of the E2SFCA access layer (its resource from the first e2sfca standard; beds without one)."""
    unit = next((s for s in audit.study.standards if isinstance(s, E2sfca)), None)
    return t("layer_access", lang, what=t(f"resource_{unit.spec.resource if unit else 'beds'}", lang))


def _group_uncovered(group: str, lang: str, threshold: str) -> str:
    """The name of a population group's people-beyond-the-circle layer."""
    return capitalised(t("layer_group_uncovered", lang, group=group_name(group, lang), threshold=threshold))


_PAIR_TEXT = {
    "change": {"zh": "{threshold}分钟医疗服务圈：现状 {before} → 方案实施后 {after}；"
                     "新增覆盖 {gained} 人，失去覆盖 {lost} 人",
               "en": "{threshold}-minute circle: today {before} → after {after}; {gained} people newly covered, "
                     "{lost} lose coverage"},
    "group_change": {"zh": "其中{group}：现状 {before} → 方案实施后 {after}；新增覆盖 {gained} 人，失去覆盖 {lost} 人",
                     "en": "{group}: today {before} → after {after}; {gained} newly covered, {lost} lose coverage"},
}


def scenario_pair_map(result: Diff, *, lang: str = "zh",
                      basemap: str | None = None, offline: bool = False, tianditu_key: str | None = None):
    """Before | after side by side on one page, the two maps panning and zooming together.

    The left map is today (time bands, people beyond the circle, facilities);
    the right one the scenario, with the cells gained and lost and the
    changed facilities. Options as for :func:`scenario_map`; returns the page
    (a :class:`branca.element.Figure`): render it with
    :func:`healthreach.maps.base.render_html`.
    """
    before, after = result.before, result.after
    lines = title_lines(after, lang, scenario=result.scenario.name)
    circle = after.study.primary
    p0 = before.figure(circle.id) if circle else None
    p1 = after.figure(circle.id) if circle else None
    if circle and p0 and p1 and p0.share is not None and p1.share is not None:
        change = _PAIR_TEXT["change"][lang].format(
            threshold=f"{circle.spec.threshold_min:g}", before=f"{p0.share:.1%}", after=f"{p1.share:.1%}",
            gained=f"{result.newly_covered:,.0f}", lost=f"{result.lose_coverage:,.0f}")
        lines.insert(2, ("line", change))  # after the title and the scenario name
        for k, group in enumerate(after.inputs.cells.groups, start=3):
            g0, g1 = before.figure(group_id(circle.id, group)), after.figure(group_id(circle.id, group))
            if g0.share is None or g1.share is None:
                continue
            lines.insert(k, ("line", capitalised(_PAIR_TEXT["group_change"][lang].format(
                group=group_name(group, lang), before=f"{g0.share:.1%}", after=f"{g1.share:.1%}",
                gained=f"{result.newly_covered_of(group):,.0f}", lost=f"{result.lose_coverage_of(group):,.0f}"))))
    bounds = tuple(after.inputs.boundaries.to_crs(4326).total_bounds)
    page, left, right = map_pair(bounds, title=lines, lang=lang, basemap=basemap, tianditu_key=tianditu_key,
                                      offline=offline)
    for m, audit in ((left, before), (right, after)):
        with layer_group(m, t("group_standards", lang)):
            add_time_bands(m, audit)
            add_uncovered(m, audit)
            add_townships(m, audit)
        with layer_group(m, t("group_base", lang)):
            add_roads(m, audit)
            add_boundaries(m, audit)
        if m is right:
            with layer_group(m, t("group_changes", lang)):
                add_gained_lost(m, result)
        with layer_group(m, t("group_facilities", lang)):
            add_facilities(m, audit, types=_open_types(audit))
        if m is right:
            with layer_group(m, t("group_changes", lang)):
                add_changes(m, result)
    add_legend(left)
    add_legend(right, side="right")
    add_controls(left, collapsed=True)
    add_controls(right, collapsed=True)
    return page
