"""The map of suggested sites: each site numbered, the cells it newly covers, its runner-ups (in its tooltip) and the
coverage curve.

Composed from :mod:`healthreach.maps` building blocks (title, townships, time
bands and people beyond the limit after the new sites, roads, today's
facilities, legend, controls); overlays go through
:func:`~healthreach.maps.base.to_display` so they stay aligned under a GCJ-02
basemap, and the curve is an inline PNG, so an offline map stays offline.
"""

from __future__ import annotations

import base64

import folium
import geopandas as gpd
import shapely

from healthreach.i18n import group_name, tier_name, words
from healthreach.isochrones import cell_squares
from healthreach.maps.base import Features, add_controls, base_map, escape, render_html, settings, to_display
from healthreach.maps.layers import (
    add_boundaries,
    add_facilities,
    add_roads,
    add_time_bands,
    add_townships,
    add_uncovered,
)
from healthreach.maps.legend import add_legend, add_legend_section, swatch
from healthreach.suggest.outputs import curve_png
from healthreach.suggest.suggestion import Suggestion

SITE_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]

_TEXT = {
    "sites": {"zh": "建议新址（按新增覆盖人口排序）", "en": "Suggested sites (ranked by people newly covered)"},
    "site": {"zh": "第{rank}名 {id}（候选点 {candidate}，{township}）：新增覆盖 {people} 人",
             "en": "#{rank} {id} (candidate {candidate}, {township}): {people} people newly covered"},
    "cells": {"zh": "第{rank}名新增覆盖的网格", "en": "cells newly covered by #{rank}"},
    "runner_ups": {"zh": "备选点：{text}", "en": "runner-ups: {text}"},
    "of_group": {"zh": "，其中{group} {people} 人", "en": ", {people} of them {group}"},
    "tier": {"zh": "；纳入{tier}服务网络后服务 {people} 人", "en": "; its {tier} tier catchment: {people} people"},
    "curve": {"zh": "覆盖率随新增站点数的变化", "en": "Coverage against new sites"},
    "title": {"zh": "建议新址：{n} 处{type}，{standard}新增覆盖 {people} 人",
              "en": "Suggested sites: {n} new {type}, {people} people newly covered by {standard}"},
}


def _text(key: str, lang: str, **values) -> str:
    return words(_TEXT, key, lang, **values)


def suggestion_map(result: Suggestion, *, lang: str = "zh", basemap: str | None = None, offline: bool = False,
                   tianditu_key: str | None = None) -> folium.Map:
    """The suggested sites on the study after they are built (options as for the audit map)."""
    after = result.after
    title = _text("title", lang, n=len(result.sites), type=result.type,
                  standard=result.objective.group_figure or result.standard,
                  people=f"{result.newly_covered_counted:,.0f}")
    m = base_map(after, title=title, lang=lang, basemap=basemap, tianditu_key=tianditu_key, offline=offline)
    add_townships(m, after)
    add_time_bands(m, after, show=False)
    add_uncovered(m, after)
    add_roads(m, after)
    add_boundaries(m, after)
    add_facilities(m, result.base)
    add_sites(m, result)
    add_curve(m, result)
    add_legend(m)
    add_controls(m)
    return m


def add_sites(m: folium.Map, result: Suggestion) -> folium.Map:
    """Per suggested site: the cells it newly covers (one colour per site) and a numbered marker."""
    lang = settings(m).lang
    inp = result.base.inputs
    objective = result.objective
    group = folium.FeatureGroup(name=escape(_text("sites", lang)))
    rows = []
    for k, (_, site) in enumerate(result.sites.iterrows()):
        colour = SITE_COLOURS[k % len(SITE_COLOURS)]
        tip = _text("site", lang, rank=site["rank"], id=site["id"], candidate=site["candidate"],
                    township=site["township"] or "-", people=f"{site['people_newly_covered']:,.0f}")
        if objective.population_group is not None:
            tip += _text("of_group", lang, group=group_name(objective.population_group, lang),
                         people=f"{site[result.column('people_newly_covered')]:,.0f}")
        if objective.tier is not None:
            tip += _text("tier", lang, tier=tier_name(objective.tier, lang),
                         people=f"{site['tier_catchment_people']:,.0f}")
        cells = result.cells[k]
        if len(cells):
            shape = shapely.union_all(cell_squares(inp.grid, inp.cells.flat[cells]).geometry.to_numpy())
            frame = to_display(gpd.GeoDataFrame(geometry=[shape], crs=inp.crs), m)
            Features(frame, tooltip=escape(tip), style_function=lambda _, c=colour: {
                "fillColor": c, "color": c, "weight": 1, "fillOpacity": 0.55}).add_to(group)
        point = to_display(gpd.GeoSeries(gpd.points_from_xy([site["x"]], [site["y"]]), crs=inp.crs), m).iloc[0]
        more = _text("runner_ups", lang, text=site["runner_ups"]) if site["runner_ups"] else ""
        folium.Marker([point.y, point.x], tooltip=escape(f"{tip}; {more}" if more else tip),
                      icon=folium.DivIcon(html=(f'<div class="hr-site" style="background:{colour};color:white;'
                                                f'border:2px solid white;border-radius:50%;width:22px;height:22px;'
                                                f'font:bold 12px/22px sans-serif;text-align:center">'
                                                f'{int(site["rank"])}</div>'),
                                          icon_size=(22, 22), icon_anchor=(11, 11), class_name="hr-icon")
                      ).add_to(group)
        rows.append(swatch(colour, tip, 0.7))
    if rows:
        group.add_to(m)
        add_legend_section(m, "suggested", _text("sites", lang), rows, [group])
    return m


def add_curve(m: folium.Map, result: Suggestion) -> folium.Map:
    """The coverage curve (greedy line, exact points, upper-bound band) as an inline image in the legend."""
    lang = settings(m).lang
    data = base64.b64encode(curve_png(result)).decode("ascii")
    image = (f'<img class="hr-curve" alt="{escape(_text("curve", lang))}" src="data:image/png;base64,{data}" '
             f'style="width:320px;display:block">')
    add_legend_section(m, "curve", _text("curve", lang), [image])
    return m


def suggestion_html(result: Suggestion, **options) -> str:
    """The map as one HTML page (see :func:`suggestion_map` for the options)."""
    return render_html(suggestion_map(result, **options))
