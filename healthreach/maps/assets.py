"""The map page's own JavaScript and CSS, inlined so a map renders with no network.

Leaflet comes from the installed ``xstatic-leaflet`` package (the same Leaflet
1.9.3 that folium targets); its CSS images become ``data:`` URIs. The few
controls a hearing map needs beyond Leaflet (full screen, print) are small
scripts defined here, so no plugin is fetched from a CDN. :func:`check_offline`
is the guard: it finds every script, stylesheet, font or image a page would
fetch from the network.

Lines and polygons are written in a compact form (:func:`encode_geometries`):
coordinates as integers of 1e-5 degree, each ring or line delta-encoded
with the polyline algorithm (five bits per URL-safe base64 character), which the page
decodes before Leaflet reads the GeoJSON. That makes the geometry about
four times smaller than GeoJSON text, without changing a coordinate.
"""

from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from numba import njit

from healthreach.errors import HealthreachError
from healthreach.messages import Message


class OfflineError(HealthreachError, RuntimeError):
    """An offline map page still refers to something on the network."""


def leaflet_dir() -> Path:
    """The folder holding ``leaflet.js``, ``leaflet.css`` and ``images/``."""
    try:
        from xstatic.pkg import leaflet
    except ImportError:  # pragma: no cover - a dependency of the package
        msg = Message("the offline map needs the 'xstatic-leaflet' package: pip install xstatic-leaflet (it is a "
                      "dependency of healthreach)")
        raise OfflineError(msg) from None
    return Path(leaflet.BASE_DIR)


@lru_cache(maxsize=1)
def leaflet_js() -> str:
    """Leaflet's minified JavaScript, safe to place inside a ``<script>`` element."""
    text = (leaflet_dir() / "leaflet.js").read_text(encoding="utf-8")
    text = re.sub(r"//# sourceMappingURL=\S+", "", text)
    return text.replace("</script", "<\\/script")


@lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Leaflet's CSS with its images inlined as ``data:`` URIs."""
    folder = leaflet_dir()
    text = (folder / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match) -> str:
        path = folder / match.group(1)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"
    return re.sub(r"url\((images/[\w.-]+\.png)\)", inline, text)


# Full-screen and print buttons: Leaflet bar controls using only browser APIs.
# Full screen covers the whole page so the title and legend stay in view.
CONTROLS_JS = r"""
L.Control.HrButton = L.Control.extend({
  options: {position: 'topleft', text: '', title: '', className: '', onClick: null},
  onAdd: function (map) {
    var bar = L.DomUtil.create('div', 'leaflet-bar leaflet-control ' + this.options.className);
    var a = L.DomUtil.create('a', '', bar);
    a.href = '#'; a.setAttribute('role', 'button');
    a.title = this.options.title; a.setAttribute('aria-label', this.options.title);
    a.innerHTML = this.options.text;
    var onClick = this.options.onClick;
    L.DomEvent.disableClickPropagation(bar);
    L.DomEvent.on(a, 'click', function (e) { L.DomEvent.preventDefault(e); onClick(map, a); });
    return bar;
  }
});
function hrToggleFullscreen(map) {
  var el = document.documentElement;
  var current = document.fullscreenElement || document.webkitFullscreenElement;
  if (!current) {
    var request = el.requestFullscreen || el.webkitRequestFullscreen;
    if (request) { request.call(el); }
  } else {
    var exit = document.exitFullscreen || document.webkitExitFullscreen;
    if (exit) { exit.call(document); }
  }
  setTimeout(function () { map.invalidateSize(); }, 200);
}
var HR_FULLSCREEN_SVG = '<svg width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="#333" ' +
  'stroke-width="2"><path d="M1 5V1h4M11 1h4v4M15 11v4h-4M5 15H1v-4"/></svg>';
var HR_PRINT_SVG = '<svg width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="#333" ' +
  'stroke-width="1.6"><path d="M4 6V1h8v5M4 12H1V6h14v6h-3"/><path d="M4 9h8v6H4z"/></svg>';
function hrAddButtons(map, labels) {
  new L.Control.HrButton({text: HR_FULLSCREEN_SVG, title: labels.fullscreen, className: 'hr-fullscreen',
                          onClick: hrToggleFullscreen}).addTo(map);
  new L.Control.HrButton({text: HR_PRINT_SVG, title: labels.print, className: 'hr-print',
                          onClick: function () { window.print(); }}).addTo(map);
}
// Printing (the print button, Ctrl+P, or print media) first sizes the page to the printable part of an
// A4 landscape sheet and fits the study area to each map, clear of the title block and the legend; the
// screen view comes back afterwards.
function hrPrintFit(map, bounds) {
  if (!bounds) { return; }  // a map not framed on a study area prints as it is shown
  var saved = null;
  function before() {
    if (saved) { return; }
    saved = {center: map.getCenter(), zoom: map.getZoom()};
    document.documentElement.classList.add('hr-printing');
    map.invalidateSize({pan: false});
    var box = map.getContainer().getBoundingClientRect();
    var left = 12, top = 12;
    var legend = document.getElementById('hr_legend_' + hrMapName(map));
    if (legend && legend.offsetWidth) {
      left = Math.max(left, legend.getBoundingClientRect().right - box.left + 12);
    }
    document.querySelectorAll('.hr-title').forEach(function (title) {
      top = Math.max(top, title.getBoundingClientRect().bottom - box.top + 12);
    });
    map.fitBounds(bounds, {paddingTopLeft: [left, top], paddingBottomRight: [12, 12], animate: false});
  }
  function after() {
    if (!saved) { return; }
    document.documentElement.classList.remove('hr-printing');
    map.invalidateSize({pan: false});
    map.setView(saved.center, saved.zoom, {animate: false});
    saved = null;
  }
  window.addEventListener('beforeprint', before);
  window.addEventListener('afterprint', after);
  if (window.matchMedia) {
    var query = window.matchMedia('print');
    var change = function (e) { if (e.matches) { before(); } else { after(); } };
    if (query.addEventListener) { query.addEventListener('change', change); } else { query.addListener(change); }
  }
}
function hrMapName(map) {
  for (var name in window) {
    if (Object.prototype.hasOwnProperty.call(window, name) && window[name] === map) { return name; }
  }
  return '';
}
// The layer control, grouped: each group is one entry with a box that turns all its layers on or off and
// opens to list them; layers outside any group are entries of their own.
L.Control.HrLayers = L.Control.extend({
  options: {position: 'topright', collapsed: false},
  initialize: function (groups, options) { L.setOptions(this, options); this._groups = groups; },
  onAdd: function (map) {
    var box = L.DomUtil.create('div', 'leaflet-control-layers hr-layers');
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    var toggle = L.DomUtil.create('a', 'leaflet-control-layers-toggle', box);
    toggle.href = '#';
    toggle.setAttribute('role', 'button');
    var list = L.DomUtil.create('section', 'leaflet-control-layers-list', box);
    var overlays = L.DomUtil.create('div', 'leaflet-control-layers-overlays', list);
    if (this.options.collapsed) {
      L.DomEvent.on(toggle, 'click', function (e) {
        L.DomEvent.preventDefault(e);
        box.classList.toggle('leaflet-control-layers-expanded');
      });
      map.on('click', function () { box.classList.remove('leaflet-control-layers-expanded'); });
    } else {
      box.classList.add('leaflet-control-layers-expanded');
    }
    var syncs = [];
    this._groups.forEach(function (group) {
      var parent = overlays, head = null, all = null;
      if (group.title) {
        var wrap = L.DomUtil.create('div', 'hr-layer-group', overlays);
        head = L.DomUtil.create('div', 'hr-group-head', wrap);
        all = L.DomUtil.create('input', 'hr-group-box', head);
        all.type = 'checkbox';
        var name = L.DomUtil.create('span', 'hr-group-name', head);
        name.innerHTML = group.title + ' <span class="hr-group-count">(' + group.layers.length + ')</span>';
        name.setAttribute('role', 'button');
        name.setAttribute('aria-expanded', 'false');
        L.DomEvent.on(name, 'click', function () {
          var open = wrap.classList.toggle('hr-open');
          name.setAttribute('aria-expanded', open ? 'true' : 'false');
        });
        parent = L.DomUtil.create('div', 'hr-group-items', wrap);
      }
      var boxes = [];
      group.layers.forEach(function (item) {
        var layer = window[item.js];
        if (!layer) { return; }
        var label = L.DomUtil.create('label', '', parent);
        var input = L.DomUtil.create('input', 'leaflet-control-layers-selector', label);
        input.type = 'checkbox';
        var span = L.DomUtil.create('span', '', label);
        span.innerHTML = ' ' + item.name;
        L.DomEvent.on(input, 'change', function () {
          if (input.checked) { map.addLayer(layer); } else { map.removeLayer(layer); }
        });
        boxes.push([input, layer]);
      });
      if (all) {
        L.DomEvent.on(all, 'change', function () {
          var on = all.checked;
          boxes.forEach(function (b) { if (on) { map.addLayer(b[1]); } else { map.removeLayer(b[1]); } });
        });
      }
      syncs.push(function () {
        var n = 0;
        boxes.forEach(function (b) { b[0].checked = map.hasLayer(b[1]); if (b[0].checked) { n++; } });
        if (all) {
          all.checked = n > 0 && n === boxes.length;
          all.indeterminate = n > 0 && n < boxes.length;
        }
      });
    });
    function sync() { syncs.forEach(function (f) { f(); }); }
    map.on('layeradd layerremove', sync);
    sync();
    return box;
  }
});
function hrLayerControl(map, groups, collapsed) {
  new L.Control.HrLayers(groups, {collapsed: collapsed}).addTo(map);
}
// Two maps side by side move together (before/after pairs).
function hrSyncMaps(a, b) {
  var busy = false;
  function follow(src, dst) {
    src.on('move zoom', function () {
      if (busy) { return; }
      busy = true;
      dst.setView(src.getCenter(), src.getZoom(), {animate: false});
      busy = false;
    });
  }
  follow(a, b);
  follow(b, a);
}
// Legend sections follow their layers: a section is shown while any of its layers is on the map.
function hrSyncLegend(map, legendId) {
  var legend = document.getElementById(legendId);
  if (!legend) { return; }
  function update() {
    legend.querySelectorAll('[data-layers]').forEach(function (section) {
      var names = section.getAttribute('data-layers').split(' ');
      var on = names.some(function (n) { return window[n] && map.hasLayer(window[n]); });
      section.style.display = on ? '' : 'none';
    });
  }
  map.on('overlayadd overlayremove layeradd layerremove', update);
  update();
}
"""

# Page styles: title block, legend, labels, a plain background when there are
# no tiles, and a print layout (A4 landscape, controls hidden, colours kept).
PAGE_CSS = """
body, .leaflet-container, .hr-title, .hr-legend { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC",
  "WenQuanYi Micro Hei", "Source Han Sans SC", "Helvetica Neue", Arial, sans-serif; }
.leaflet-container { background: #f2efe9; }
.hr-title { position: fixed; top: 10px; left: 60px; z-index: 1000; background: rgba(255,255,255,.94);
  padding: 6px 10px; border: 1px solid #888; border-radius: 3px; max-width: 58%; line-height: 1.35;
  font-family: inherit; }
.hr-title h1 { font-size: 17px; margin: 0 0 2px 0; }
.hr-title p { font-size: 12px; margin: 0; color: #222; }
.hr-title .hr-meta { color: #555; font-size: 11px; }
.hr-title .hr-synthetic { color: #a50f15; font-weight: bold; }
.hr-legend { position: fixed; bottom: 24px; left: 10px; z-index: 1000; background: rgba(255,255,255,.94);
  padding: 6px 8px; border: 1px solid #888; border-radius: 3px; font-size: 12px; line-height: 17px;
  max-height: 70vh; overflow-y: auto; }
.hr-legend h4 { font-size: 12px; margin: 4px 0 2px 0; }
.hr-legend .hr-key { display: inline-block; width: 14px; height: 12px; margin-right: 6px; vertical-align: -1px;
  border: 1px solid rgba(0,0,0,.25); }
.hr-legend .hr-line { display: inline-block; width: 16px; height: 0; margin-right: 6px; vertical-align: 3px; }
.hr-legend svg { vertical-align: -3px; margin-right: 6px; }
.hr-icon { background: none; border: none; }
.hr-label { background: none; border: none; color: #333; font-size: 12px; font-weight: bold; white-space: nowrap;
  text-align: center; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; pointer-events: none; }
.hr-fullscreen a, .hr-print a { display: flex !important; align-items: center; justify-content: center; }
.leaflet-control-layers-expanded { max-height: 75vh; overflow-y: auto; font-size: 12px; }
.hr-layers .leaflet-control-layers-toggle { display: none; }
.hr-layers:not(.leaflet-control-layers-expanded) .leaflet-control-layers-toggle { display: block; }
.hr-layers:not(.leaflet-control-layers-expanded) .leaflet-control-layers-list { display: none; }
.hr-layer-group { margin: 1px 0; }
.hr-group-head { white-space: nowrap; }
.hr-group-name { cursor: pointer; font-weight: bold; }
.hr-group-name::before { content: ""; display: inline-block; width: 0; height: 0; margin: 0 5px 1px 3px;
  border-style: solid; border-width: 4px 0 4px 6px; border-color: transparent transparent transparent #555; }
.hr-open .hr-group-name::before { border-width: 6px 4px 0 4px; border-color: #555 transparent transparent; }
.hr-group-count { font-weight: normal; color: #666; }
.hr-group-items { display: none; margin-left: 18px; }
.hr-open .hr-group-items { display: block; }
.leaflet-container:focus:not(:focus-visible), .leaflet-interactive:focus:not(:focus-visible),
  .leaflet-marker-icon:focus:not(:focus-visible) { outline: none; }
.leaflet-container path.leaflet-interactive:focus { outline: none; }
.hr-share { background: none; border: none; color: #14401f; font-size: 11px; font-weight: bold; white-space: nowrap;
  text-align: center; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; pointer-events: none; }
.hr-share.hr-below { color: #a50f15; }
.hr-popup .leaflet-popup-content { font-size: 13px; min-width: 220px; }
.hr-popup th { text-align: left; padding: 1px 10px 1px 0; font-weight: normal; color: #555; white-space: nowrap;
  vertical-align: top; }
.hr-popup td { padding: 1px 0; }
.hr-popup tr:first-child td { font-weight: bold; }
.hr-title-bar { top: 0; left: 0; right: 0; max-width: none; border: none; border-bottom: 1px solid #888;
  border-radius: 0; padding: 4px 12px; }
.hr-title-bar h1, .hr-title-bar p { height: 17px; line-height: 17px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.hr-title-bar h1 { height: 22px; line-height: 22px; }
.hr-pair-label { position: fixed; transform: translateX(-50%); z-index: 1001; background: #333;
  color: #fff; padding: 3px 12px; border-radius: 3px; font-size: 15px; font-weight: bold; pointer-events: none; }
.hr-pair-divider { position: fixed; top: 0; bottom: 0; left: 50%; width: 3px; margin-left: -1px; background: #333;
  z-index: 1001; pointer-events: none; }
html.hr-printing body { width: 281mm !important; height: 190mm !important; }
@media print {
  @page { size: A4 landscape; margin: 8mm; }
  html, body { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .leaflet-control-zoom, .leaflet-control-layers, .hr-fullscreen, .hr-print { display: none !important; }
  .hr-title, .hr-legend { position: absolute; box-shadow: none; }
  .hr-legend { max-height: none; overflow: visible; }
}
"""

_NETWORK_REF = re.compile(
    r"""<script\b[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]+"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]+"""
    r"""|@import\s+(?:url\()?\s*["']?(?:https?:)?//[^"')\s]+"""
    r"""|url\(\s*["']?(?:https?:)?//[^"')\s]+""",
    re.IGNORECASE)


def network_references(page: str) -> list[str]:
    """Every script, stylesheet, CSS import or CSS ``url()`` that ``page`` would fetch over the network."""
    return [m.group(0) for m in _NETWORK_REF.finditer(page)]


def check_offline(page: str) -> str:
    """Return ``page`` unchanged, or raise :class:`OfflineError` listing what it would fetch."""
    refs = network_references(page)
    if refs:
        shown = "; ".join(r[:120] for r in refs[:5])
        msg = Message("the offline map still loads {n} resource(s) from the network: {shown}. Remove the layer or "
                      "plugin that adds them, or draw the map without --offline", n=len(refs), shown=shown)
        raise OfflineError(msg)
    return page


# --------------------------------------------------------------------------- compact geometry

SCALE = 100_000  # coordinates are written as integers of 1e-5 degree (about 1 m)


# The polyline algorithm's 64 digits, written with the URL-safe base64 alphabet rather than
# characters 63..126: no brace, quote, backslash or angle bracket can appear in the page.
_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", np.uint8)
_DIGIT = {int(c): i for i, c in enumerate(_ALPHABET)}


def encode_values(values: np.ndarray, ends: np.ndarray | None = None) -> str | list[str]:
    """Encode integers as the polyline algorithm does (zigzag, then 5-bit groups, low first; a digit
    of 32 or more means another group follows), each digit written as one URL-safe base64 character.

    With ``ends`` (exclusive end index of each run of values), returns one
    string per run, all encoded in one vectorised pass.
    """
    text_bytes, length = _polyline(np.ascontiguousarray(values, dtype=np.int64), _ALPHABET)
    text = text_bytes.tobytes().decode("ascii")
    if ends is None:
        return text
    stops = np.concatenate([[0], np.cumsum(length)])[np.asarray(ends, np.int64)]
    starts = np.concatenate([[0], stops[:-1]])
    return [text[a:b] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)]


@njit(cache=True)
def _polyline(values, alphabet):  # pragma: no cover - compiled
    """The characters of :func:`encode_values` (bytes of ``alphabet``) and how many each value takes."""
    length = np.empty(len(values), np.int64)
    total = 0
    for i in range(len(values)):
        z = np.uint64((values[i] << 1) ^ (values[i] >> 63))
        n = 1
        while z >= 32:
            z >>= np.uint64(5)
            n += 1
        length[i] = n
        total += n
    out = np.empty(total, np.uint8)
    at = 0
    for i in range(len(values)):
        z = np.uint64((values[i] << 1) ^ (values[i] >> 63))
        while z >= 32:
            out[at] = alphabet[np.int64(z & np.uint64(31)) + 32]
            z >>= np.uint64(5)
            at += 1
        out[at] = alphabet[np.int64(z)]
        at += 1
    return out, length


def decode_values(text: str) -> list[int]:
    """Inverse of :func:`encode_values` (plain Python; for tests and tools)."""
    out, value, shift = [], 0, 0
    for code in text.encode("ascii"):
        c = _DIGIT[code]
        value |= (c & 31) << shift
        shift += 5
        if c < 0x20:
            out.append(-((value + 1) >> 1) if value & 1 else value >> 1)
            value, shift = 0, 0
    return out


def _decode_ring(text: str) -> list[list[float]]:
    xy = np.cumsum(np.asarray(decode_values(text), np.int64).reshape(-1, 2), axis=0)
    return (xy / SCALE).tolist()


def encode_geometries(geoms) -> list[dict | None]:
    """GeoJSON-like geometry dicts; lines and polygons carry ``hr`` (encoded rings) instead of ``coordinates``.

    Each ring or line is its coordinates in 1e-5 degree integers, the first
    absolute and the rest as differences, encoded by :func:`encode_values`;
    ``hr`` nests these strings as GeoJSON nests coordinate lists. Points and
    other types stay plain GeoJSON.
    """
    geoms = np.asarray(geoms, dtype=object)
    kinds = shapely.get_type_id(geoms)  # 1 line, 3 polygon, 5 multi-line, 6 multi-polygon
    encodable = np.isin(kinds, (1, 3, 5, 6))
    parts, part_geom = shapely.get_parts(geoms[encodable], return_index=True)
    polygonal = shapely.get_type_id(parts) == 3
    ring_lists, ring_part = [], []
    for is_poly in (True, False):  # polygon parts: exterior then holes; line parts: the line itself
        sel = np.flatnonzero(polygonal == is_poly)
        if not len(sel):
            continue
        if is_poly:
            r, idx = shapely.get_rings(parts[sel], return_index=True)
            ring_lists.append(r)
            ring_part.append(sel[idx])
        else:
            ring_lists.append(parts[sel])
            ring_part.append(sel)
    if ring_lists:
        all_rings = np.concatenate(ring_lists)
        owner = np.concatenate(ring_part)
        order = np.argsort(owner, kind="stable")
        all_rings, owner = all_rings[order], owner[order]
        coords, ring_of = shapely.get_coordinates(all_rings, return_index=True)
        ints = np.rint(coords * SCALE).astype(np.int64)
        deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), np.int64))
        first = np.r_[True, ring_of[1:] != ring_of[:-1]]
        deltas[first] = ints[first]
        ends = 2 * np.r_[np.flatnonzero(first)[1:], len(ring_of)] if len(ring_of) else np.array([], int)
        texts = encode_values(deltas.ravel(), ends)
    else:
        owner, texts = np.array([], int), []
    by_part: list[list[str]] = [[] for _ in range(len(parts))]
    for o, text in zip(owner.tolist(), texts, strict=True):
        by_part[o].append(text)
    by_geom: list[list] = [[] for _ in range(int(encodable.sum()))]
    for i, g in enumerate(part_geom.tolist()):
        by_geom[g].append(by_part[i] if polygonal[i] else by_part[i][0])
    out: list[dict | None] = []
    encoded = iter(by_geom)
    for geom, kind, enc in zip(geoms, kinds, encodable, strict=True):
        if geom is None or geom.is_empty:
            out.append(None)
            if enc:
                next(encoded)
            continue
        if not enc:
            out.append(shapely.geometry.mapping(geom))
            continue
        items = next(encoded)
        name = {1: "LineString", 3: "Polygon", 5: "MultiLineString", 6: "MultiPolygon"}[int(kind)]
        out.append({"type": name, "hr": items[0] if kind in (1, 3) else items})
    return out


def decode_geometry(geom: dict | None) -> dict | None:
    """Plain GeoJSON from one geometry of :func:`encode_geometries`' output (as the page's ``hrDecodeGeometry``)."""
    if geom is None or "hr" not in geom:
        return geom
    hr, kind = geom["hr"], geom["type"]
    coords: list
    if kind == "LineString":
        coords = _decode_ring(hr)
    elif kind in ("MultiLineString", "Polygon"):
        coords = [_decode_ring(r) for r in hr]
    else:
        coords = [[_decode_ring(r) for r in p] for p in hr]
    return {"type": kind, "coordinates": coords}


def feature_collection(frame) -> dict:
    """A GeoDataFrame (in display coordinates) as a FeatureCollection with encoded geometries and ids."""
    props = json.loads(frame.drop(columns=frame.geometry.name).to_json(orient="records", force_ascii=False))
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": str(i), "properties": p, "geometry": g}
        for i, (p, g) in enumerate(zip(props, encode_geometries(frame.geometry.to_numpy()), strict=True))]}


# The page side: GeoJSON layers decode encoded geometries as they add them.
DECODE_JS = r"""
var HR_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
var HR_DIGIT = {};
for (var hrI = 0; hrI < 64; hrI++) { HR_DIGIT[HR_DIGITS.charAt(hrI)] = hrI; }
function hrDecodeRing(s) {
  var out = [], i = 0, n = s.length, x = 0, y = 0;
  while (i < n) {
    var v = [0, 0];
    for (var j = 0; j < 2; j++) {
      var res = 0, mul = 1, c;
      do { c = HR_DIGIT[s.charAt(i++)]; res += (c & 31) * mul; mul *= 32; } while (c >= 32);
      v[j] = (res % 2) ? -(res + 1) / 2 : res / 2;
    }
    x += v[0]; y += v[1];
    out.push([x / 1e5, y / 1e5]);
  }
  return out;
}
function hrDecodeGeometry(g) {
  if (!g || g.hr === undefined) { return g; }
  var h = g.hr, c;
  if (g.type === 'LineString') { c = hrDecodeRing(h); }
  else if (g.type === 'MultiLineString' || g.type === 'Polygon') { c = h.map(hrDecodeRing); }
  else { c = h.map(function (p) { return p.map(hrDecodeRing); }); }
  return {type: g.type, coordinates: c};
}
(function () {
  var addData = L.GeoJSON.prototype.addData;
  L.GeoJSON.prototype.addData = function (data) {
    if (data && data.type === 'Feature' && data.geometry && data.geometry.hr !== undefined) {
      data = L.extend({}, data, {geometry: hrDecodeGeometry(data.geometry)});
    }
    return addData.call(this, data);
  };
})();
"""
