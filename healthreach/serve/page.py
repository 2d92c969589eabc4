"""The what-if page: the baseline hearing map, with the page's script, figures panel and draggable facilities.

The map is the audit map of :mod:`healthreach.maps` (title, township shares,
travel-time bands, emergency areas, people beyond the circle, roads,
boundaries, legend), drawn with no tile basemap so the page needs no network.
Facilities are drawn by the page's script (``static/serve.js``) instead of as
map layers, so they can be dragged, closed and edited; their icons are the
map's. The script and its styles are served by the package from ``/static/``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from healthreach.evaluation import Evaluation
from healthreach.i18n import t, type_name
from healthreach.maps.base import RawHTML, add_controls, base_map, page_of, render_html
from healthreach.maps.layers import (
    FACILITY_ICONS,
    TIME_BREAKS_MIN,
    TIME_COLOURS,
    add_boundaries,
    add_emergency_areas,
    add_roads,
    add_time_bands,
    add_townships,
    add_uncovered,
    facility_icon_svg,
)
from healthreach.maps.legend import add_legend, add_legend_section
from healthreach.maps.scenario import GAINED_COLOUR, LOST_COLOUR
from healthreach.scenario.schema import CLOSED_TYPE
from healthreach.serve.payloads import Grid, facility_rows
from healthreach.serve.text import page_strings

BEYOND_COLOUR = "#f7f7f7"  # a changed cell now beyond every travel-time band


def icons(types: list[str]) -> dict[str, dict[str, Any]]:
    """Per facility type: its map icon (SVG) and size (px)."""
    return {ftype: {"svg": facility_icon_svg(ftype), "size": FACILITY_ICONS.get(ftype, ("", "", 10))[2]}
            for ftype in types}


def boot(base: Evaluation, grid: Grid, lang: str, suggestions: bool) -> dict[str, Any]:
    """What the page's script starts from: text, facility types and icons, the baseline's facilities."""
    west, south, east, north = base.inputs.boundaries.to_crs(4326).total_bounds
    known = _profile_types(base)
    types = [k for k in FACILITY_ICONS if k in known] + sorted(known - set(FACILITY_ICONS))
    return {
        "lang": lang,
        "text": page_strings(lang),
        "types": [{"id": k, "name": type_name(k, lang)} for k in types],
        "icons": icons(types),
        "facilities": facility_rows(base, np.arange(len(base.facilities)), grid),
        "bands": {"colours": [*TIME_COLOURS, BEYOND_COLOUR], "breaks_min": list(TIME_BREAKS_MIN)},
        "gained_colour": GAINED_COLOUR,
        "lost_colour": LOST_COLOUR,
        "circle_min": base.study.primary.spec.threshold_min if base.study.primary else None,
        "suggestions": suggestions,
        "bounds": [[float(south), float(west)], [float(north), float(east)]],
    }


def _profile_types(base: Evaluation) -> set[str]:
    """The facility types the profile's groups name (the types a new facility may have), closed left out."""
    return {x for group in base.inputs.profile.groups.values() for x in group.types} - {CLOSED_TYPE}


def page(base: Evaluation, grid: Grid, lang: str = "zh", suggestions: bool = False) -> str:
    """The page as one HTML string (built once per server: the baseline does not change)."""
    m = base_map(base, lang=lang, basemap="none", offline=True)
    add_townships(m, base)
    add_time_bands(m, base)
    add_emergency_areas(m, base)
    add_uncovered(m, base)
    add_roads(m, base)
    add_boundaries(m, base)
    present = [k for k in FACILITY_ICONS if k in set(base.facilities["type"].astype(str))]
    add_legend_section(m, "facilities", t("legend_facilities", lang),
                       [f"{facility_icon_svg(k, 14)}{type_name(k, lang)}" for k in present])
    add_legend(m)
    add_controls(m)
    root = page_of(m)
    # in the body: the hearing map puts Leaflet into the header when the page is rendered
    root.html.add_child(RawHTML('<link rel="stylesheet" href="static/serve.css">'
                                '<script src="static/serve.js"></script>'), name="hr_serve")
    data = json.dumps(boot(base, grid, lang, suggestions), ensure_ascii=False).replace("</", "<\\/")
    # once the whole page has run: the map's own script comes after this one in the page
    root.script.add_child(RawHTML(f"window.addEventListener('load', function () {{ hrServe.start({m.get_name()}, "
                                  f"{data}); }});"), name="hr_serve_start")
    return render_html(m)

