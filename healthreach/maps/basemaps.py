"""Tile basemaps for the hearing maps, and the datum their overlays must be drawn in.

``osm`` (OpenStreetMap, the default online), ``none`` (no tiles: the map
draws township boundaries and roads itself on a plain background; the
offline choice), ``tianditu`` (天地图, needs the user's key) and ``amap``
(高德). Tianditu's web-Mercator tiles are in CGCS2000, which equals WGS84 to
centimetres, so overlays are drawn as they are. Amap's tiles are in GCJ-02
(see :mod:`healthreach.crs`), so under Amap every overlay is shifted into
GCJ-02 to line up with the streets on the tiles.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from healthreach.errors import InputError
from healthreach.messages import Message

BASEMAPS = ("osm", "none", "tianditu", "amap")
TIANDITU_KEY_ENV = "TIANDITU_KEY"


@dataclass(frozen=True)
class Tiles:
    """One XYZ tile layer: URL template, attribution HTML, subdomains, zoom range."""

    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 18
    overlay: bool = False  # an annotation layer drawn over the base tiles


@dataclass(frozen=True)
class Basemap:
    """A named basemap: its tile layers (none for ``none``) and the datum of its tiles."""

    name: str
    tiles: tuple[Tiles, ...] = field(default_factory=tuple)
    datum: str = "wgs84"  # "wgs84" or "gcj02": the system overlays are converted to


def basemap(name: str, lang: str = "zh", tianditu_key: str | None = None) -> Basemap:
    """The basemap called ``name`` (one of :data:`BASEMAPS`).

    ``tianditu`` needs a key (free from the Tianditu developer site); it is
    taken from ``tianditu_key`` or else the ``TIANDITU_KEY`` environment
    variable. Place names on Tianditu and Amap follow ``lang`` where the
    service offers English.
    """
    name = (name or "").lower()
    if name == "osm":
        return Basemap("osm", (Tiles("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                                     '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                                     "contributors", subdomains="abc", max_zoom=19),))
    if name == "none":
        return Basemap("none")
    if name == "tianditu":
        key = tianditu_key or os.environ.get(TIANDITU_KEY_ENV, "")
        if not key:
            msg = Message("the Tianditu basemap needs a key: pass --tianditu-key KEY or set the {env} environment "
                          "variable (a free key comes from the Tianditu developer site), or choose --basemap "
                          "osm|none|amap", env=TIANDITU_KEY_ENV)
            raise InputError(msg)
        if not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", key):
            msg = Message("--tianditu-key: {key!r}… is not a Tianditu key (8-64 letters and digits)", key=key[:12])
            raise InputError(msg)
        key = quote(key)
        label = "eva" if lang == "en" else "cva"

        def wmts(layer: str) -> str:
            return (f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                    f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
                    f"&TILECOL={{x}}&tk={key}")
        attribution = '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>'
        return Basemap("tianditu", (Tiles(wmts("vec"), attribution, "01234567", 18),
                                    Tiles(wmts(label), attribution, "01234567", 18, overlay=True)))
    if name == "amap":
        amap_lang = "en" if lang == "en" else "zh_cn"
        return Basemap("amap", (Tiles(f"https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={amap_lang}&size=1"
                                      "&scale=1&style=8&x={x}&y={y}&z={z}",
                                      '&copy; <a href="https://www.amap.com/">高德地图 Amap</a>', "1234", 18),),
                       datum="gcj02")
    msg = Message("unknown basemap {name!r}: choose one of {names}", name=name, names=", ".join(BASEMAPS))
    raise InputError(msg)
