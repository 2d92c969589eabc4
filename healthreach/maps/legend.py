"""The map legend: the sections the layers register, the one colour swatch, and the legend block drawn from them.

A layer registers its rows under a key (:func:`add_legend_section`);
:func:`add_legend` draws the sections in :data:`LEGEND_ORDER`, each shown
only while one of its layers is on.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from healthreach.maps.base import LegendSection, escape, page_of, settings

LEGEND_ORDER = ("facilities", "moved", "time", "uncovered", "gained", "lost", "emergency", "access", "townships",
                "roads")


def add_legend_section(m: folium.Map, key: str, title: str, rows: list[str], layers=()) -> None:
    """Register legend ``rows`` (HTML, already escaped) under ``title``, shown while any of ``layers`` is on.

    ``key`` orders the sections (see :data:`LEGEND_ORDER`; ``kind.part`` right after ``kind``) and merges rows
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


def swatch(colour: str, text: str, opacity: float = 0.8) -> str:
    """A legend row: a square key of ``colour`` at ``opacity`` (0..1), then ``text`` (escaped here)."""
    return f'<span class="hr-key" style="background:{colour};opacity:{opacity}"></span>{escape(text)}'


class _Legend(Element):
    """The legend, rendered from the sections the layers registered on the map."""

    def __init__(self, m: folium.Map, style: str = ""):
        super().__init__()
        self._map = m
        self._style = style

    def render(self, **_kwargs: Any) -> str:
        """The legend's HTML: one section per layer kind, in :data:`LEGEND_ORDER`."""
        sections = settings(self._map).legend
        order = {key: i for i, key in enumerate(LEGEND_ORDER)}
        parts = []
        # a key "kind.part" (a population group's layer) goes right after its kind's section
        for key in sorted(sections, key=lambda k: order.get(k, order.get(k.partition(".")[0], len(order)) + 0.5)):
            sec = sections[key]
            layers = f' data-layers="{escape(" ".join(sec.layers))}"' if sec.layers else ""
            parts.append(f'<div class="hr-legend-section"{layers}><h4>{escape(sec.title)}</h4>'
                         + "<br>".join(sec.rows) + "</div>")
        style = f' style="{escape(self._style)}"' if self._style else ""
        return f'<div class="hr-legend" id="{legend_id(self._map)}"{style}>{"".join(parts)}</div>'


class _SyncLegend(MacroElement):
    """Shows each section of the legend ``legend_id`` only while its layer is on."""

    _template = Template("""
{% macro script(this, kwargs) %}
hrSyncLegend({{ this._parent.get_name() }}, {{ this.legend_id|tojson }});
{% endmacro %}
""")

    def __init__(self, legend_id: str):
        super().__init__()
        self.legend_id = legend_id


def legend_id(m: folium.Map) -> str:
    """The HTML id of ``m``'s legend block."""
    return f"hr_legend_{m.get_name()}"


def add_legend(m: folium.Map, *, side: str = "left", style: str = "") -> folium.Map:
    """A fixed legend of every layer drawn on ``m``; each section shows only while its layer is on.

    Call after the layers. ``side="right"`` places it for the right map of a
    :func:`~healthreach.maps.base.map_pair`; ``style`` is extra CSS for the block.
    """
    if side == "right":
        style = f"left: calc(50% + 10px); {style}"
    page_of(m).html.add_child(_Legend(m, style), name=legend_id(m))
    m.add_child(_SyncLegend(legend_id(m)))
    return m
