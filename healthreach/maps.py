"""Folium maps of an audit: one small function per layer, each taking and returning the map.

Everything is drawn from the audit's own cell values (see isochrones), in
WGS84 for the web map. User-supplied text (facility and township names) is
HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import numpy as np
from branca.element import Element

from healthreach.isochrones import bands, cell_squares
from healthreach.standards import Audit
from healthreach.travel import Need

# Colour-blind-safe sequential blues for time bands (ColorBrewer Blues, 4 classes).
TIME_COLOURS = ["#08519c", "#3182bd", "#6baed6", "#bdd7e7"]
EMERGENCY_COLOURS = ["#54278f", "#807dba", "#bcbddc"]
TYPE_STYLE = {  # facility type -> (colour, radius px, label)
    "tertiary_hospital": ("#67000d", 10, "Tertiary hospital"),
    "general_hospital": ("#a50f15", 9, "General hospital"),
    "tcm_hospital": ("#cb181d", 8, "TCM hospital"),
    "maternal_child_hospital": ("#ef3b2c", 8, "Maternal & child hospital"),
    "emergency_station": ("#e6550d", 8, "Emergency station"),
    "regional_subcentre": ("#7f2704", 8, "Regional sub-centre"),
    "central_township_hc": ("#d94801", 7, "Central township health centre"),
    "township_hc": ("#fd8d3c", 6, "Township health centre"),
    "community_hc": ("#238b45", 6, "Community health centre"),
    "community_station": ("#74c476", 5, "Community health station"),
    "village_clinic": ("#737373", 3, "Village clinic"),
}
_SIMPLIFY_M = 40.0


def _wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.to_crs(4326)
    out["geometry"] = out.geometry.set_precision(1e-5)
    return out


def base_map(audit: Audit, title: str, subtitle: str = "", tiles: str | None = "OpenStreetMap") -> folium.Map:
    """An empty map framed on the study area, with a title block."""
    bounds = audit.inputs.boundaries.to_crs(4326).total_bounds
    m = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=True)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    block = (f'<div style="position:fixed;top:10px;left:60px;z-index:1000;background:white;padding:6px 10px;'
             f'border:1px solid #888;font-family:sans-serif;max-width:60%">'
             f'<b style="font-size:16px">{html.escape(title)}</b><br><span style="font-size:12px">{html.escape(subtitle)}</span></div>')
    m.get_root().html.add_child(Element(block))
    return m


def add_townships(m: folium.Map, audit: Audit, column: str = "primary_care_share") -> folium.Map:
    """Townships shaded by a coverage share (0..1), with name and share as tooltip."""
    towns = audit.inputs.boundaries[["id", "name", "area_class", "geometry"]].merge(
        audit.townships[["township_id", column, "people"]], left_on="id", right_on="township_id")
    towns["name"] = towns["name"].map(html.escape)
    towns["share_pct"] = (100 * towns[column]).round(1)
    towns = _wgs84(towns.drop(columns="township_id"))
    towns["geometry"] = towns.geometry.simplify(0.0003)

    def style(feature):
        share = feature["properties"][column]
        grey = 255 - int(200 * (share if share is not None and share == share else 0))
        return {"fillColor": f"rgb(255,{grey},{grey})", "color": "#444", "weight": 1.2, "fillOpacity": 0.25}

    folium.GeoJson(towns, name="Townships: share in the 15-minute circle", style_function=style,
                   tooltip=folium.GeoJsonTooltip(["name", "area_class", "people", "share_pct"],
                                                 aliases=["Township", "Class", "People", "Share covered (%)"])).add_to(m)
    return m


def add_time_bands(m: folium.Map, audit: Audit, breaks_min=(5, 10, 15)) -> folium.Map:
    """Travel-time bands to primary care (walk in urban, drive in rural areas)."""
    inp = audit.inputs
    frame = bands(inp.grid, inp.cells.flat, audit.primary_s, [b * 60 for b in breaks_min],
                  [f"≤ {b} min" for b in breaks_min], simplify_m=_SIMPLIFY_M)
    group = folium.FeatureGroup(name="Travel time to primary care (min)")
    for _, row in _wgs84(frame).iterrows():
        folium.GeoJson(row.geometry, style_function=lambda _, c=TIME_COLOURS[row.band]: {
            "fillColor": c, "color": c, "weight": 0, "fillOpacity": 0.45}, tooltip=row.label).add_to(group)
    group.add_to(m)
    return m


def add_emergency_areas(m: folium.Map, audit: Audit) -> folium.Map:
    """Road-network emergency service areas: 5, 10 and 20 km from emergency-capable sites."""
    s = audit.inputs.profile.standards
    spec = s.emergency_radius_urban or s.emergency_radius_rural
    if spec is None:
        return m
    radii = sorted({r for sp in (s.emergency_radius_urban, s.emergency_radius_rural) if sp for r in sp.radii_m})
    dist = audit.travel[Need(spec.group, "ambulance", "length", "from")].cost
    frame = bands(audit.inputs.grid, audit.inputs.cells.flat, dist, radii,
                  [f"≤ {r / 1000:g} km by road" for r in radii], simplify_m=_SIMPLIFY_M)
    group = folium.FeatureGroup(name="Emergency service areas (road km)", show=False)
    for _, row in _wgs84(frame).iterrows():
        c = EMERGENCY_COLOURS[min(row.band, 2)]
        folium.GeoJson(row.geometry, style_function=lambda _, c=c: {
            "fillColor": c, "color": c, "weight": 1, "fillOpacity": 0.3}, tooltip=row.label).add_to(group)
    group.add_to(m)
    return m


def add_uncovered(m: folium.Map, audit: Audit) -> folium.Map:
    """Cells with people outside the 15-minute circle, darker where more people live."""
    limit = (audit.inputs.profile.standards.primary_care_15min.threshold_min * 60
             if audit.inputs.profile.standards.primary_care_15min else 900)
    cells = audit.inputs.cells
    out = (audit.primary_s > limit) & (cells.people >= 0.5)
    frame = cell_squares(audit.inputs.grid, cells.flat[out], people=cells.people[out].round(1))
    if frame.empty:
        return m
    level = np.digitize(frame["people"], [2, 10, 50])
    frame["level"] = level
    frame = frame.dissolve("level", as_index=False, aggfunc="sum")
    colours = ["#fee0d2", "#fc9272", "#de2d26", "#a50f15"]
    group = folium.FeatureGroup(name="People outside the 15-minute circle")
    for _, row in _wgs84(frame).iterrows():
        c = colours[int(row.level)]
        folium.GeoJson(row.geometry, style_function=lambda _, c=c: {"fillColor": c, "color": c, "weight": 0,
                                                                    "fillOpacity": 0.75}).add_to(group)
    group.add_to(m)
    return m


def add_facilities(m: folium.Map, audit: Audit) -> folium.Map:
    """Facilities as markers coloured by type, with a popup of their key figures."""
    table = audit.facility_table
    pts = gpd.GeoSeries(gpd.points_from_xy(audit.facilities["x"], audit.facilities["y"]),
                        crs=audit.inputs.crs).to_crs(4326)
    groups: dict[str, folium.FeatureGroup] = {}
    for i, row in table.iterrows():
        colour, radius, label = TYPE_STYLE.get(row["type"], ("#000000", 5, row["type"]))
        group = groups.setdefault(row["type"], folium.FeatureGroup(name=f"Facilities: {html.escape(label)}"))
        catch = row.get("catchment_people")
        popup = (f"<b>{html.escape(str(row['name']))}</b><br>{html.escape(label)} ({html.escape(str(row['id']))})<br>"
                 f"Beds: {row['beds']} &middot; Ambulances: {row['ambulances']}<br>"
                 + (f"Catchment: {catch:,.0f} people, {100 * row['catchment_share_15min']:.0f}% within 15 min"
                    if catch == catch and catch is not None and catch > 0 else ""))
        folium.CircleMarker([pts.iloc[i].y, pts.iloc[i].x], radius=radius, color="white", weight=1,
                            fill=True, fill_color=colour, fill_opacity=0.95,
                            popup=folium.Popup(popup, max_width=300),
                            tooltip=html.escape(str(row["name"]))).add_to(group)
    for group in groups.values():
        group.add_to(m)
    return m


def add_legend(m: folium.Map, breaks_min=(5, 10, 15)) -> folium.Map:
    """A fixed legend for bands, uncovered people and facility types."""
    rows = [f'<i style="background:{c}"></i>≤ {b} min to primary care' for c, b in zip(TIME_COLOURS, breaks_min)]
    rows.append('<i style="background:#de2d26"></i>people beyond 15 min')
    rows += [f'<i style="background:{c};border-radius:50%"></i>{html.escape(label)}' for c, _, label in TYPE_STYLE.values()]
    legend = ('<div style="position:fixed;bottom:30px;left:10px;z-index:1000;background:white;padding:6px 8px;'
              'border:1px solid #888;font:12px sans-serif;line-height:18px">'
              '<style>.hr-legend i{width:12px;height:12px;float:left;margin:3px 6px 0 0;opacity:.85}</style>'
              '<div class="hr-legend">' + "<br>".join(rows) + "</div></div>")
    m.get_root().html.add_child(Element(legend))
    return m


def audit_map(audit: Audit, tiles: str | None = "OpenStreetMap") -> folium.Map:
    """The full audit map: townships, time bands, emergency areas, uncovered people, facilities."""
    inp = audit.inputs
    fig = audit.figure("primary_care_15min") if inp.profile.standards.primary_care_15min else None
    subtitle = (f"{fig.share:.1%} of {fig.population:,.0f} people within the 15-minute medical circle · "
                if fig and fig.share is not None else "")
    subtitle += f"inputs {audit.inputs.input_hash[:8]}"
    m = base_map(audit, f"{inp.study.name}: health service access audit", subtitle, tiles)
    for layer in (add_townships, add_time_bands, add_emergency_areas, add_uncovered, add_facilities):
        m = layer(m, audit)
    m = add_legend(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
