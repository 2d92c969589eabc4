"""The full audit map: every layer of :mod:`healthreach.maps.layers`, with its legend and controls."""

from __future__ import annotations

from healthreach.evaluation import Evaluation
from healthreach.i18n import t
from healthreach.maps.base import HearingMap, add_controls, base_map, layer_group
from healthreach.maps.layers import (
    add_access,
    add_boundaries,
    add_emergency_areas,
    add_facilities,
    add_roads,
    add_time_bands,
    add_townships,
    add_uncovered,
)
from healthreach.maps.legend import add_legend


def audit_map(audit: Evaluation, *, lang: str = "zh", basemap: str | None = None,
              offline: bool = False, tianditu_key: str | None = None, scenario: str | None = None,
              minor_roads: bool = True) -> HearingMap:
    """The full audit map: roads, townships, time bands, emergency areas, uncovered people (everyone, then
    each population group's, hidden at start), E2SFCA access, facilities.

    The layer control has three entries: standards, base (roads and
    boundaries) and facilities (one layer per type), each opening to its layers.

    ``lang`` is "zh" (default) or "en"; ``basemap`` one of osm, none,
    tianditu, amap (default osm, or none when ``offline``); ``offline``
    also makes :func:`~healthreach.maps.base.render_html` refuse a page that would fetch anything.
    """
    m = base_map(audit, lang=lang, basemap=basemap, tianditu_key=tianditu_key, offline=offline,
                 scenario=scenario)
    with layer_group(m, t("group_standards", lang)):
        add_townships(m, audit)
        add_time_bands(m, audit)
        add_emergency_areas(m, audit)
        add_uncovered(m, audit)
        for group in audit.inputs.cells.groups:  # each population group's people beyond the circle, beside
            add_uncovered(m, audit, group=group, show=False)
        add_access(m, audit)
    with layer_group(m, t("group_base", lang)):
        add_roads(m, audit, minor=minor_roads)
        add_boundaries(m, audit)
    with layer_group(m, t("group_facilities", lang)):
        add_facilities(m, audit)
    add_legend(m)
    add_controls(m)
    return m
