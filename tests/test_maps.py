"""Hearing maps without a browser: escaping, offline pages, GCJ-02 overlays, language, size.

The browser checks (the page renders, layers toggle) are in test_browser.py.
"""

from __future__ import annotations

import html
import re
import time

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from conftest import X0, Y0, audit, write_study

from healthreach.cli import cli
from healthreach.crs import wgs84_to_gcj02
from healthreach.errors import InputError
from healthreach.inputs import load_inputs
from healthreach.maps import assets
from healthreach.maps.audit import audit_map
from healthreach.maps.base import (
    Features,
    add_controls,
    base_map,
    escape,
    render_html,
    settings,
    title_lines,
    to_display,
)
from healthreach.maps.basemaps import basemap
from healthreach.maps.layers import add_facilities, add_time_bands
from healthreach.study import DEMO_STUDY, load_study

GEOD = pyproj.Geod(ellps="WGS84")
EVIL = "<script>alert(1)</script>"
TEMPLATE_NAME = "白云镇{{ 7*7 }}卫生院 {% if x %}`${x}` & co{# c"
# Published WGS84 -> GCJ-02 pairs (eviltransform test vectors), lon/lat degrees.
KNOWN_GCJ = [((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),   # Shanghai
             ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069))]   # Beijing


def metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.fixture(scope="module")
def small_audit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("maps")
    facilities = [
        {"id": "CHC01", "name": EVIL, "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
         "beds": 20, "ambulances": 0, "emergency": "false"},
        {"id": "THC01", "name": TEMPLATE_NAME, "type": "central_township_hc", "x": X0 + 3200,
         "y": Y0 + 2000, "beds": 40, "ambulances": 1, "emergency": "true"},
    ]
    path = write_study(folder, facilities, name="{{ 7*7 }} <b>县</b>", description="synthetic test county")
    return audit(load_inputs(load_study(path)))


@pytest.fixture(scope="module")
def offline_page(small_audit):
    return render_html(audit_map(small_audit, offline=True))


def geojson_layers(m: folium.Map) -> dict[str, folium.GeoJson]:
    """The map's GeoJSON layers by their (escaped) layer-control name."""
    return {child.layer_name: child for child in m._children.values() if isinstance(child, folium.GeoJson)}


def shapes(layer: folium.GeoJson) -> list:
    """The layer's geometries, decoded from the page's compact form."""
    return [shapely.geometry.shape(assets.decode_geometry(f["geometry"])) for f in layer.data["features"]]


def coords(layer: folium.GeoJson) -> np.ndarray:
    return shapely.get_coordinates(shapes(layer))


# --------------------------------------------------------------------------- escaping

def decoded(page: str) -> str:
    """The page with the JSON escapes of embedded data undone: what the browser's scripts see."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def test_user_text_is_escaped_and_never_run_as_template(small_audit, offline_page):
    assert EVIL not in decoded(offline_page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in decoded(offline_page)
    # a facility name written like a template is not evaluated when the page is written
    assert "白云镇49卫生院" not in decoded(offline_page)
    assert "白云镇&#123;&#123; 7*7 &#125;&#125;卫生院" in decoded(offline_page)
    # the study name is shown literally: not evaluated as a template, its tags escaped
    assert "&#123;&#123; 7*7 &#125;&#125; &lt;b&gt;县&lt;/b&gt;" in offline_page
    assert "<b>县</b>" not in offline_page
    # text placed in JS strings cannot close the script element
    for script in re.findall(r"<script>(.*?)</script>", offline_page, flags=re.DOTALL):
        assert "<script" not in script.replace("\\u003c", "")


def test_escape_leaves_nothing_a_template_script_or_tag_could_read():
    raw = "`${x}` {{ y }} {% z %} {# c #} <b>&'\"</b> C:\\users"
    text = escape(raw)
    for bad in ("`", "${", "{{", "{%", "{#", "<", ">", "'", '"', "\\"):
        assert bad not in text
    assert html.unescape(text) == raw  # the browser shows the very same characters


def test_folium_tooltip_with_escaped_text_cannot_run_code(small_audit):
    m = base_map(small_audit, basemap="none")
    folium.CircleMarker([29.4, 107.8], tooltip=escape("`+alert(1)+` {{ 7*7 }} ${document.cookie}")).add_to(m)
    page = render_html(m)
    assert "alert(1)+`" not in page
    assert "{{ 7*7 }}" not in page
    assert "${document" not in page
    assert "&#96;+alert(1)+&#96; &#123;&#123; 7*7 &#125;&#125;" in page


def test_scenario_title_and_layer_names_are_escaped(small_audit):
    m = base_map(small_audit, basemap="none", scenario="<img src=x onerror=alert(2)>")
    add_facilities(m, small_audit, name="<i>after</i> ")
    add_controls(m)
    page = decoded(render_html(m))
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<i>after</i>" not in page
    assert "&lt;i&gt;after&lt;/i&gt;" in page


# --------------------------------------------------------------------------- offline page

def test_offline_page_fetches_nothing_and_inlines_leaflet(offline_page):
    assert assets.network_references(offline_page) == []
    assert "<script src" not in offline_page
    assert '<link rel="stylesheet"' not in offline_page
    assert "Leaflet 1.9" in offline_page                         # the library itself is in the page
    assert "L.control.scale" in offline_page
    assert "hrToggleFullscreen" in offline_page
    assert "tile.openstreetmap.org" not in offline_page           # no tiles offline


def test_online_page_has_tiles_but_still_no_cdn_assets(small_audit):
    page = render_html(audit_map(small_audit))
    assert "tile.openstreetmap.org" in page
    assert assets.network_references(page) == []


def test_offline_means_no_tiles_unless_a_basemap_is_named(small_audit):
    assert settings(audit_map(small_audit, offline=True)).basemap.name == "none"
    assert settings(audit_map(small_audit)).basemap.name == "osm"
    named = audit_map(small_audit, offline=True, basemap="amap")
    page = render_html(named)                        # tiles are not scripts: the page passes the guard
    assert settings(named).basemap.name == "amap"
    assert "autonavi.com" in page


def test_offline_guard_refuses_a_page_that_loads_a_cdn_script(small_audit):
    m = base_map(small_audit, offline=True)
    folium.plugins.MiniMap().add_to(m)  # a plugin that pulls its JS and CSS from a CDN
    with pytest.raises(assets.OfflineError, match="from the network"):
        render_html(m)
    found = assets.network_references('<script src="https://x.org/a.js"></script>'
                                         '<link rel="stylesheet" href="//x.org/b.css"><style>'
                                         '@import url("http://x.org/c.css")</style>')
    assert len(found) == 3


def test_offline_map_draws_roads_and_boundaries_without_tiles(small_audit):
    m = audit_map(small_audit, offline=True)
    layers = geojson_layers(m)
    assert settings_tiles(m) == ()
    major = layers["主要道路"]
    minor = layers["乡村道路与街巷"]
    # with no tiles, the minor streets are the map's background
    assert major.show
    assert minor.show
    # the test grid: one 4 km arterial and one 4 km county road (major), 20 lines of 4 km minor road
    length = {name: sum(GEOD.geometry_length(g) for g in shapes(layer))
              for name, layer in (("major", major), ("minor", minor))}
    assert length["major"] == pytest.approx(8000, rel=0.02)
    assert length["minor"] == pytest.approx(80000, rel=0.02)
    online = geojson_layers(audit_map(small_audit))
    assert not online["乡村道路与街巷"].show  # under tiles the minor streets start hidden


def settings_tiles(m):
    return settings(m).basemap.tiles


# --------------------------------------------------------------------------- compact geometry

def test_value_encoding_matches_the_published_polyline_example():
    # Google's polyline example: (38.5, -120.2), (40.7, -120.95), (43.252, -126.453) -> "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    # (the same digits; the page writes digit d as the d-th URL-safe base64 character instead of chr(63 + d))
    published = [ord(c) - 63 for c in "_p~iF~ps|U_ulLnnqC_mqNvxq`@"]
    deltas = [3850000, -12020000, 220000, -75000, 255200, -550300]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"  # URL-safe base64
    mine = [alphabet.index(c) for c in assets.encode_values(np.array(deltas))]
    assert mine == published
    assert assets.decode_values(assets.encode_values(np.array(deltas))) == deltas


def test_value_encoding_matches_a_plain_polyline_encoder_on_every_size_of_value():
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

    def plain(value: int) -> str:
        z = (value << 1) ^ (value >> 63) if value >= 0 else ((value << 1) ^ -1) & (2**64 - 1)
        out = ""
        while z >= 32:
            out += alphabet[(z & 31) + 32]
            z >>= 5
        return out + alphabet[z]
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.integers(-2**40, 2**40, 2000), rng.integers(-40, 40, 2000),
                             [0, -1, 1, 15, 16, -16, -17, 2**62, -2**62, 2**63 - 1, -2**63]])
    ends = np.r_[np.sort(rng.choice(np.arange(1, len(values)), 50, replace=False)), len(values)]
    expected = [plain(int(v)) for v in values]
    assert assets.encode_values(values) == "".join(expected)
    starts = np.r_[0, ends[:-1]]
    assert assets.encode_values(values, ends) == ["".join(expected[a:b]) for a, b in zip(starts, ends, strict=True)]
    assert assets.decode_values(assets.encode_values(values[:4000])) == values[:4000].tolist()


def test_encoded_geometries_decode_to_the_same_shapes():
    rng = np.random.default_rng(7)
    square = shapely.Polygon([(107.1, 29.1), (107.2, 29.1), (107.2, 29.2), (107.1, 29.1)],
                             [[(107.15, 29.12), (107.16, 29.12), (107.16, 29.13), (107.15, 29.12)]])
    geoms = [shapely.LineString(np.round(rng.uniform(100, 120, (50, 2)), 5)), square, None, shapely.Point(107.3, 29.3),
             shapely.MultiLineString([[(1, 2), (3, 4)], [(-5.5, 6.25), (7, 8), (9, 10)]]),
             shapely.MultiPolygon([square, shapely.Polygon([(108.1, 29.1), (108.2, 29.1), (108.2, 29.2)])])]
    encoded = assets.encode_geometries(geoms)
    assert encoded[2] is None
    assert encoded[3] == {"type": "Point", "coordinates": (107.3, 29.3)}
    for geom, enc in zip(geoms, encoded, strict=True):
        if geom is not None:
            back = shapely.geometry.shape(assets.decode_geometry(enc))
            assert back.geom_type == geom.geom_type
            assert shapely.equals_exact(back, geom, 1e-9)
    # only URL-safe base64 characters: nothing a template engine, a JS string or HTML could read as syntax
    text = repr([e["hr"] for e in encoded if e and "hr" in e])
    assert re.fullmatch(r"[\[\]A-Za-z0-9_\-', ]*", text)


# --------------------------------------------------------------------------- GCJ-02 under Amap tiles

@pytest.mark.parametrize(("wgs", "gcj"), KNOWN_GCJ)
def test_known_point_lands_on_its_published_gcj02_position(wgs, gcj):
    point = gpd.GeoSeries([shapely.Point(wgs)], crs=4326)
    shown = to_display(point, "gcj02").iloc[0]
    assert metres(shown.x, shown.y, *gcj) < 1.5          # coordinates are rounded to ~1 m
    assert metres(shown.x, shown.y, *wgs) > 300          # and it really moved (about 500 m here)
    unshifted = to_display(point, "wgs84").iloc[0]
    assert metres(unshifted.x, unshifted.y, *wgs) < 1.5


def test_amap_shifts_every_overlay_into_gcj02(small_audit):
    osm = geojson_layers(audit_map(small_audit, basemap="osm"))
    amap_map = audit_map(small_audit, basemap="amap")
    amap = geojson_layers(amap_map)
    assert settings(amap_map).datum == "gcj02"
    assert set(osm) == set(amap)
    for name in osm:
        a, b = coords(osm[name]), coords(amap[name])
        assert len(a) > 0, name
        assert len(a) == len(b), name
        glon, glat = wgs84_to_gcj02(a[:, 0], a[:, 1])
        err = metres(b[:, 0], b[:, 1], glon, glat)
        assert err.max() < 2.0, name                     # each vertex sits on its GCJ-02 position
        shift = metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
        assert shift.min() > 100, name
        assert shift.max() < 1000, name
    # the facility with the escaped name sits where its WGS84 position lands in GCJ-02
    fac = small_audit.facilities.iloc[0]
    lon, lat = pyproj.Transformer.from_crs(small_audit.inputs.crs, 4326, always_xy=True).transform(fac.x, fac.y)
    layer = next(v for k, v in amap.items() if "社区卫生服务中心" in k)
    x, y = coords(layer)[0]
    assert metres(x, y, *wgs84_to_gcj02(lon, lat)) < 1.5


def test_tianditu_needs_a_key_and_uses_it(monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(InputError, match="--tianditu-key"):
        basemap("tianditu")
    tiles = basemap("tianditu", tianditu_key="0123456789abcdef0123456789abcdef").tiles
    assert all("tk=0123456789abcdef0123456789abcdef" in t.url for t in tiles)
    assert any("cva" in t.url and t.overlay for t in tiles)   # Chinese place-name annotation on top
    assert basemap("tianditu", "en", tianditu_key="0123456789abcdef").tiles[1].url.count("eva") >= 1
    with pytest.raises(InputError, match="not a Tianditu key"):
        basemap("tianditu", tianditu_key="abc&x=<1>")
    with pytest.raises(InputError, match="osm, none, tianditu, amap"):
        basemap("google")


# --------------------------------------------------------------------------- text on the map

def test_chinese_by_default_english_by_setting(small_audit):
    zh = decoded(render_html(audit_map(small_audit, basemap="none")))
    en = decoded(render_html(audit_map(small_audit, basemap="none", lang="en")))
    for text in ("到基层医疗机构的时间", "15分钟圈外人口", "机构：中心卫生院", "床位", "服务人口", "合成示范数据"):
        assert text in zh
        assert text not in en
    for text in ("Travel time to primary care", "People beyond 15 min", "Facilities: Central township health centre",
                 "Beds", "Catchment population", "Synthetic demo data"):
        assert text in en
        assert text not in zh
    with pytest.raises(InputError, match="zh, en"):
        audit_map(small_audit, lang="fr")


def test_title_traces_the_map_to_its_inputs(small_audit):
    lines = dict(title_lines(small_audit, "en", scenario="New clinic"))
    text = " ".join(t for _, t in title_lines(small_audit, "en", scenario="New clinic"))
    assert small_audit.inputs.input_hash[:8] in text
    assert "Scenario: New clinic" in text
    assert "roads.gpkg" in text
    assert "facilities.csv" in text
    assert "population.tif" in text
    fig = small_audit.figure("primary_care_15min")
    assert f"{fig.share:.1%}" in text
    assert "target 95%" in text
    assert "synthetic" in lines


def test_popup_reports_catchment_and_share(small_audit):
    m = audit_map(small_audit, basemap="none", lang="en")
    layer = next(v for k, v in geojson_layers(m).items() if k.startswith("Facilities: Central"))
    props = layer.data["features"][0]["properties"]
    row = small_audit.facility_table.set_index("id").loc["THC01"]
    assert props["beds"] == "40"
    assert props["ambulances"] == "1"
    assert props["catchment"] == f"{row.catchment_people:,.0f} people"
    assert props["share"] == f"{100 * row.catchment_share_15min:.0f}%"
    assert props["name"] == ("白云镇&#123;&#123; 7*7 &#125;&#125;卫生院 &#123;% if x %&#125;"
                             "&#96;$&#123;x&#125;&#96; &amp; co&#123;# c")


def test_layers_can_be_drawn_twice_under_other_names(small_audit):
    m = base_map(small_audit, basemap="none")
    add_time_bands(m, small_audit, name="Before", show=False)
    add_time_bands(m, small_audit, name="After")
    layers = geojson_layers(m)
    assert not layers["Before"].show
    assert layers["After"].show


def test_legend_sections_follow_their_layers(small_audit):
    page = render_html(audit_map(small_audit, basemap="none"))
    legend = re.search(r'<div class="hr-legend" id="(hr_legend_\w+)">(.*?)</div></div>', page, flags=re.DOTALL)
    assert legend
    assert "hrSyncLegend" in page
    names = set(re.findall(r'data-layers="([^"]+)"', legend.group(2)))
    for layer_names in names:
        for name in layer_names.split():
            assert f"var {name} = " in page     # each section names real layer variables


# --------------------------------------------------------------------------- command line and demo size

def test_cli_writes_an_offline_english_map(small_audit, tmp_path):
    study = write_study(tmp_path / "s")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["audit", str(study), "--out", str(out), "--offline", "--lang", "en"])
    assert result.exit_code == 0, result.output
    page = (out / "map.html").read_text(encoding="utf-8")
    assert assets.network_references(page) == []
    assert "Travel time to primary care" in page
    result = CliRunner().invoke(cli, ["audit", str(study), "--out", str(out), "--basemap", "tianditu"],
                                env={"TIANDITU_KEY": ""})
    assert result.exit_code == 1
    assert "tianditu-key" in result.output


@pytest.mark.slow
def test_demo_map_stays_under_5_mb():
    if not (DEMO_STUDY.parent / "roads.gpkg").exists():
        pytest.skip("the demo county data (healthreach/demo) has not been generated")
    result = audit(load_inputs(load_study(None)))
    start = time.perf_counter()
    page = render_html(audit_map(result, offline=True))
    seconds = time.perf_counter() - start
    size = len(page.encode("utf-8"))
    assert size < 5 * 1024 * 1024, f"{size / 1e6:.1f} MB"
    assert assets.network_references(page) == []
    assert seconds < 30


def test_township_shading_labels_each_share_and_marks_the_target(small_audit):
    m = audit_map(small_audit, offline=True)
    circle = small_audit.study.primary
    layer = next(v for k, v in geojson_layers(m).items() if k.startswith("乡镇："))
    labels = [c for c in layer._children.values() if isinstance(c, folium.Marker)]
    shares = small_audit.townships[circle.share_column].to_numpy(float)
    assert len(labels) == np.isfinite(shares).sum()
    texts = sorted(c.icon.options["html"] for c in labels)
    assert texts == sorted(f"{100 * s:.1f}%" for s in shares if np.isfinite(s))
    below = [c for c in labels if "hr-below" in c.icon.options["class_name"]]
    assert len(below) == (shares < circle.spec.target_share).sum()
    page = render_html(m)
    assert f"达到目标 {circle.spec.target_share:.0%}" in page
    assert f"红色数字：低于目标 {circle.spec.target_share:.0%}" in page


def test_label_points_stay_inside_and_clear_of_facilities():
    import geopandas as gpd

    from healthreach.maps.placement import ASPECT, label_points
    square = shapely.box(0, 0, 4000, 4000)
    obstacle = np.array([[2000.0, 2000.0]])  # a facility on the square's middle
    point = label_points(gpd.GeoSeries([square], crs=3857), obstacle, clearance_m=300).iloc[0]
    assert square.contains(point)
    assert np.hypot((point.x - 2000) / ASPECT, point.y - 2000) >= 300
    assert np.hypot(point.x - 2000, point.y - 2000) < 1000          # still near the middle
    free = label_points(gpd.GeoSeries([square], crs=3857), np.array([[100.0, 100.0]]), clearance_m=300).iloc[0]
    assert free.equals(square.representative_point())               # nothing in the way: the usual point


def test_legend_says_what_no_colour_means(offline_page):
    assert "无色：超过 30 分钟或无道路可达" in offline_page


def _geojson_page(layer_class: type[folium.GeoJson], names: list[str]) -> str:
    """A page with one GeoJSON layer of points and a square (tooltip, popup, style, hidden), element ids masked."""
    features = [{"type": "Feature", "properties": {"name": name, "band": k},
                 "geometry": {"type": "Point", "coordinates": [114.3 + k / 100, 30.6]}} for k, name in enumerate(names)]
    features.append({"type": "Feature", "properties": {"name": "square", "band": 9}, "geometry": {
        "type": "Polygon", "coordinates": [[[114.3, 30.6], [114.4, 30.6], [114.4, 30.7], [114.3, 30.6]]]}})
    m = folium.Map(location=[30.6, 114.3], tiles=None)
    layer_class({"type": "FeatureCollection", "features": features}, name="layer", show=False,
                style_function=lambda f: {"color": "#f00" if f["properties"]["band"] else "#00f"},
                tooltip=folium.GeoJsonTooltip(["name"]), popup=folium.GeoJsonPopup(["band"])).add_to(m)
    return re.sub(r"_[0-9a-f]{32}", "_ID", m.get_root().render())


def test_features_layers_render_as_folium_geojson_does_and_keep_braces_as_data():
    names = ["health centre", "村卫生室 <b>", "a\\nb"]
    assert _geojson_page(Features, names) == _geojson_page(folium.GeoJson, names)
    # folium's own layer reads its rendered script again as a template: braces in the data would run
    page = _geojson_page(Features, ["{{ 7*7 }}", "{% raw %}"])
    assert '"name": "{{ 7*7 }}"' in page
    assert '"name": "{% raw %}"' in page
    assert '"name": "49"' not in page
