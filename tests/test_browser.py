"""The hearing maps in a real browser: Debian's headless Chromium driven by Playwright.

The offline map is opened with every network request blocked: it must load
with no JavaScript error, list its layers in the layer control, hide a
layer's shapes when it is unticked, show user text as text, and paint the
map (checked on the screenshot). Skips when Chromium or Playwright is absent
(``.ci/browser.sh`` installs Chromium).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import folium
import pytest
import shapely
from conftest import X0, Y0, audit, write_study

from healthreach.inputs import load_inputs
from healthreach.maps import assets
from healthreach.maps.audit import audit_map
from healthreach.maps.base import add_controls, map_pair, render_html, title_lines
from healthreach.maps.layers import add_facilities, add_time_bands
from healthreach.maps.legend import add_legend
from healthreach.study import DEMO_STUDY, load_study

CHROMIUM = Path(os.environ.get("HEALTHREACH_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EVIL = "<script>alert(1)</script>"
TEMPLATE_NAME = "白云镇{{ 7*7 }}卫生院{% if x %}"
SHOTS = os.environ.get("HEALTHREACH_SCREENSHOTS")  # keep the screenshots in this folder when set

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (bash .ci/browser.sh installs it)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[browser])")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def small_audit(tmp_path_factory):
    facilities = [
        {"id": "CHC01", "name": EVIL, "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
         "beds": 20, "ambulances": 0, "emergency": "false"},
        {"id": "THC01", "name": TEMPLATE_NAME, "type": "central_township_hc", "x": X0 + 3200, "y": Y0 + 2000,
         "beds": 40, "ambulances": 1, "emergency": "true"},
    ]
    path = write_study(tmp_path_factory.mktemp("browser"), facilities, name="测试县 <i>x</i>")
    return audit(load_inputs(load_study(path)))


class Page:
    """One map opened in a fresh page, with what it tried to fetch and every script error."""

    def __init__(self, browser, html_path: Path, block_network: bool = True):
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        if block_network:
            self.page.route("**/*", self._route)
        self.page.goto(html_path.as_uri())
        self.page.wait_for_selector(".leaflet-control-layers")
        self.page.wait_for_timeout(300)

    def _route(self, route):
        if route.request.url.startswith(("file:", "data:")):
            return route.continue_()
        self.requests.append(route.request.url)
        return route.abort()

    def layer_names(self) -> list[str]:
        return self.page.eval_on_selector_all(".leaflet-control-layers-overlays label",
                                              "els => els.map(e => e.textContent.trim())")

    def paths(self) -> int:
        return self.page.locator(".leaflet-overlay-pane path").count()

    def toggle(self, name: str) -> None:
        """Tick or untick the layer ``name``, opening its group in the layer control first."""
        label = self.page.locator(".leaflet-control-layers-overlays label", has_text=name).first
        if not label.is_visible():
            label.locator("xpath=ancestor::div[contains(@class, 'hr-layer-group')]").locator(
                ".hr-group-name").click()
        label.locator("input").click()
        self.page.wait_for_timeout(100)

    def top_level_entries(self) -> list[str]:
        """The layer control's entries as shown: group titles and layers outside any group."""
        return self.page.eval_on_selector_all(
            ".leaflet-control-layers-overlays > .hr-layer-group .hr-group-name,"
            " .leaflet-control-layers-overlays > label",
            "els => els.filter(e => e.offsetParent !== null).map(e => e.textContent.trim())")

    def legend_visible(self, title: str) -> bool:
        heading = self.page.locator("h4", has_text=re.compile(f"^{re.escape(title)}"))
        return self.page.locator(".hr-legend-section", has=heading).is_visible()


def write_map(m, folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text(render_html(m), encoding="utf-8")
    return path


def screenshot(page: Page, folder: Path, name: str) -> Path:
    """A PNG of the page in ``folder`` (or in $HEALTHREACH_SCREENSHOTS, as a 256-colour PNG for the docs)."""
    out = Path(SHOTS) if SHOTS else folder
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    page.page.screenshot(path=str(path))
    if SHOTS:
        from PIL import Image
        with Image.open(path) as img:
            small = img.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        small.save(path, optimize=True)
    return path


def distinct_colours(png: Path) -> set[tuple[int, int, int]]:
    from PIL import Image
    with Image.open(io.BytesIO(png.read_bytes())) as img:
        return set(img.convert("RGB").resize((350, 225)).getdata())


def test_offline_map_renders_with_network_blocked(browser, small_audit, tmp_path):
    m = audit_map(small_audit, offline=True)
    page = Page(browser, write_map(m, tmp_path, "offline.html"))
    assert page.errors == []
    assert page.requests == []
    names = page.layer_names()
    for expected in ("到基层医疗机构的时间", "15分钟圈外人口", "主要道路", "乡村道路与街巷", "乡镇（街道）界",
                     "急救服务半径（道路距离）", "乡镇：15分钟圈覆盖率", "机构：中心卫生院", "机构：社区卫生服务中心"):
        assert expected in names
    assert page.page.locator(".leaflet-tile").count() == 0           # no basemap tiles at all
    assert page.page.locator(".leaflet-control-scale").count() == 1
    assert page.page.locator(".hr-fullscreen a").count() == 1
    assert page.page.locator(".hr-icon svg").count() == 2           # both facilities drawn as icons
    assert "测试县 <i>x</i>" in page.page.locator(".hr-title h1").inner_text()
    # the page decodes the compact geometry to the coordinates Python wrote
    for layer in (c for c in m._children.values() if isinstance(c, folium.GeoJson) and c.show):
        shapes = [shapely.geometry.shape(assets.decode_geometry(f["geometry"])) for f in layer.data["features"]]
        west, south, east, north = shapely.total_bounds(shapes)
        got = page.page.evaluate(f"(b => [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()])"
                                 f"({layer.get_name()}.getBounds())")
        assert got == pytest.approx([west, south, east, north], abs=1e-9), layer.layer_name
    png = screenshot(page, tmp_path, "small-offline.png")
    colours = distinct_colours(png)
    # the travel-time band and the uncovered-people colours are painted (alpha-blended, so compare loosely)
    assert any(abs(r - 0x6b) < 40 and abs(g - 0xae) < 40 and b > 180 for r, g, b in colours)
    assert any(r > 200 and g < 150 and b < 130 for r, g, b in colours)


def test_unticking_a_layer_hides_its_shapes_and_legend(browser, small_audit, tmp_path):
    page = Page(browser, write_map(audit_map(small_audit, offline=True), tmp_path, "toggle.html"))
    before = page.paths()
    assert before > 0
    assert page.legend_visible("15分钟圈外人口")
    page.toggle("15分钟圈外人口")
    hidden = page.paths()
    assert hidden < before
    assert not page.legend_visible("15分钟圈外人口")
    page.toggle("15分钟圈外人口")
    assert page.paths() == before
    assert page.legend_visible("15分钟圈外人口")
    # a layer hidden at start comes in with its legend
    assert not page.legend_visible("急救服务半径")
    page.toggle("急救服务半径（道路距离）")
    assert page.paths() > before
    assert page.legend_visible("急救服务半径")
    assert page.errors == []


def test_full_screen_button_and_print_layout(browser, small_audit, tmp_path):
    page = Page(browser, write_map(audit_map(small_audit, offline=True), tmp_path, "print.html"))
    page.page.locator(".hr-fullscreen a").click()
    page.page.wait_for_timeout(200)
    assert page.page.evaluate("!!document.fullscreenElement")
    page.page.locator(".hr-fullscreen a").click()
    page.page.wait_for_timeout(200)
    assert not page.page.evaluate("!!document.fullscreenElement")
    page.page.emulate_media(media="print")
    assert not page.page.locator(".leaflet-control-layers").is_visible()   # controls are not printed
    assert page.page.locator(".hr-legend").is_visible()
    assert page.page.locator(".hr-title").is_visible()
    pdf = page.page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1                # one A4 landscape sheet
    assert page.errors == []


def test_facility_popup_shows_user_text_as_text(browser, small_audit, tmp_path):
    page = Page(browser, write_map(audit_map(small_audit, offline=True, lang="en"), tmp_path, "popup.html"))
    page.page.locator(".hr-icon").first.click()   # the community health centre named like a script
    popup = page.page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert EVIL in text
    assert "Beds" in text
    assert "Catchment population" in text
    assert page.dialogs == []
    assert page.errors == []
    page.page.locator(".leaflet-popup-close-button").click()
    page.page.locator(".hr-icon").nth(1).click()  # the health centre named like a template
    second = page.page.locator(".leaflet-popup-content", has_text="白云镇")
    second.wait_for()
    assert TEMPLATE_NAME in second.inner_text()
    page.page.wait_for_timeout(400)  # let the popup fade in before the picture
    screenshot(page, tmp_path, "small-popup-en.png")


def test_side_by_side_pair_moves_together(browser, small_audit, tmp_path):
    bounds = tuple(small_audit.inputs.boundaries.to_crs(4326).total_bounds)
    figure, left, right = map_pair(bounds, offline=True, title=title_lines(small_audit, "zh", "新建卫生院"))
    for m in (left, right):
        add_time_bands(m, small_audit)
        add_facilities(m, small_audit)
    add_legend(left)
    add_legend(right, side="right")
    add_controls(left, collapsed=True)
    add_controls(right, collapsed=True)
    page = Page(browser, write_map(figure, tmp_path, "pair.html"))
    assert page.errors == []
    assert page.requests == []
    a, b = left.get_name(), right.get_name()
    zoom = page.page.evaluate(f"{a}.getZoom()")
    assert page.page.evaluate(f"{b}.getZoom()") == zoom
    page.page.evaluate(f"{a}.setView([{(bounds[1] + bounds[3]) / 2}, {bounds[0]}], {zoom + 1}, {{animate: false}})")
    page.page.wait_for_timeout(200)
    assert page.page.evaluate(f"{b}.getZoom()") == zoom + 1
    centre = page.page.evaluate(f"[{b}.getCenter().lat, {b}.getCenter().lng]")
    assert centre[1] == pytest.approx(bounds[0], abs=1e-6)
    labels = page.page.locator(".hr-pair-label").all_inner_texts()
    assert labels == ["现状", "方案实施后"]
    screenshot(page, tmp_path, "small-pair.png")


def test_scenario_side_by_side_offline(browser, tmp_path):
    import healthreach
    from healthreach.maps.scenario import scenario_pair_map

    base = healthreach.open_study(write_study(tmp_path / "study")).baseline()
    moved = {"x": X0 + 400, "y": Y0 + 3600, "crs": "EPSG:4545"}
    result = base.diff(base.apply([{"relocate": "CHC01", "to": moved}], name="迁建 <社区> 中心"))
    page = Page(browser, write_map(scenario_pair_map(result, offline=True), tmp_path, "scenario-pair.html"))
    assert page.errors == []
    assert page.requests == []
    assert page.page.locator(".leaflet-container").count() == 2
    assert "迁建 <社区> 中心" in page.page.locator(".hr-title").inner_text()
    names = page.layer_names()
    assert names.count("到基层医疗机构的时间") == 2          # one per half
    assert "失去覆盖" in names or "新增覆盖" in names           # only the right half has the changes
    screenshot(page, tmp_path, "scenario-pair.png")


def test_demo_map_offline(browser, tmp_path):
    if not (DEMO_STUDY.parent / "roads.gpkg").exists():
        pytest.skip("the demo county data (healthreach/demo) has not been generated")
    result = audit(load_inputs(load_study(None)))
    path = write_map(audit_map(result, offline=True), tmp_path, "demo.html")
    page = Page(browser, path)
    assert page.errors == []
    assert page.requests == []
    names = page.layer_names()
    assert "主要道路" in names
    assert "到基层医疗机构的时间" in names
    assert any(n.startswith("机构：") for n in names)
    assert page.paths() > 10
    png = screenshot(page, tmp_path, "demo-map.png")  # the README's picture: HEALTHREACH_SCREENSHOTS=docs/img
    assert len(distinct_colours(png)) > 50


def test_layer_control_is_grouped_and_a_group_toggles_its_layers(browser, small_audit, tmp_path):
    page = Page(browser, write_map(audit_map(small_audit, offline=True), tmp_path, "groups.html"))
    entries = page.top_level_entries()
    assert len(entries) <= 10
    assert [e.split(" (")[0] for e in entries] == ["标准与覆盖", "底图：道路与乡镇界", "医疗机构（按类型）"]
    assert len(page.layer_names()) >= 8                   # every layer is still listed, inside its group
    assert page.page.locator(".hr-icon svg").count() == 2
    group = page.page.locator(".hr-layer-group", has_text="医疗机构（按类型）")
    assert not group.locator("label").first.is_visible()   # closed at start: a calm control
    group.locator(".hr-group-box").click()                 # one click: every facility layer off
    page.page.wait_for_timeout(100)
    assert page.page.locator(".hr-icon svg").count() == 0
    assert not page.legend_visible("医疗机构")
    group.locator(".hr-group-name").click()                # open the group, tick one type
    page.toggle("机构：中心卫生院")
    assert page.page.locator(".hr-icon svg").count() == 1
    assert page.page.evaluate("document.querySelector('.hr-layer-group:nth-child(3) .hr-group-box').indeterminate")
    group.locator(".hr-group-box").click()                 # all on again
    page.page.wait_for_timeout(100)
    assert page.page.locator(".hr-icon svg").count() == 2
    assert page.errors == []


def test_scenario_map_control_groups_before_and_after(browser, tmp_path):
    import healthreach
    from healthreach.maps.scenario import scenario_map

    base = healthreach.open_study(write_study(tmp_path / "study")).baseline()
    moved = {"x": X0 + 400, "y": Y0 + 3600, "crs": "EPSG:4545"}
    result = base.diff(base.apply([{"relocate": "CHC01", "to": moved}], name="迁建"))
    page = Page(browser, write_map(scenario_map(result, offline=True), tmp_path, "scenario-groups.html"))
    entries = [e.split(" (")[0] for e in page.top_level_entries()]
    assert len(entries) <= 10
    assert "现状：标准与覆盖" in entries
    assert "方案实施后：标准与覆盖" in entries
    assert "方案实施后：医疗机构（按类型）" in entries
    assert len(page.layer_names()) > len(entries)
    title = page.page.locator(".hr-title").inner_text()
    primary = base.study.primary
    assert (f"{base.figure(primary.id).share:.1%} → {result.after.figure(primary.id).share:.1%}"
            in title)
    assert page.errors == []


def test_print_fits_the_study_area_clear_of_title_and_legend(browser, small_audit, tmp_path):
    m = audit_map(small_audit, offline=True)
    page = Page(browser, write_map(m, tmp_path, "print-fit.html"))
    page.page.set_viewport_size({"width": 1920, "height": 1080})
    name = m.get_name()
    (south, west), (north, east) = m.healthreach.bounds
    page.page.evaluate(f"{name}.setView([{north}, {west}], {name}.getZoom() + 3, {{animate: false}})")
    zoomed = page.page.evaluate(f"{name}.getZoom()")

    def study_box() -> dict:
        return page.page.evaluate(f"""(() => {{
            const c = {name}.getContainer().getBoundingClientRect();
            const a = {name}.latLngToContainerPoint([{north}, {west}]);
            const b = {name}.latLngToContainerPoint([{south}, {east}]);
            return {{left: c.left + a.x, top: c.top + a.y, right: c.left + b.x, bottom: c.top + b.y,
                     box: [c.left, c.top, c.right, c.bottom]}}; }})()""")

    zoomed_box = study_box()
    assert zoomed_box["right"] > zoomed_box["box"][2]        # the zoomed screen view cuts the study area
    page.page.evaluate("window.print = () => { window.hrPrinted = true; }")
    page.page.locator(".hr-print a").click()
    assert page.page.evaluate("window.hrPrinted === true")   # the button prints
    page.page.emulate_media(media="print")
    page.page.wait_for_timeout(300)
    fitted = study_box()
    left, top, right, bottom = fitted["box"]
    assert right - left == pytest.approx(281 / 25.4 * 96, abs=2)   # the printable width of A4 landscape
    assert left - 1 <= fitted["left"] < fitted["right"] <= right + 1
    assert top - 1 <= fitted["top"] < fitted["bottom"] <= bottom + 1
    for selector in (".hr-legend", ".hr-title"):
        r = page.page.locator(selector).bounding_box()
        clear = (fitted["left"] >= r["x"] + r["width"] or fitted["right"] <= r["x"]
                 or fitted["top"] >= r["y"] + r["height"] or fitted["bottom"] <= r["y"])
        assert clear, selector
    pdf = page.page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    page.page.emulate_media(media="screen")
    page.page.wait_for_timeout(200)
    assert page.page.evaluate(f"{name}.getZoom()") == zoomed     # the screen view comes back
    assert page.errors == []


def test_no_focus_rectangle_and_labels_clear_of_icons(browser, small_audit, tmp_path):
    page = Page(browser, write_map(audit_map(small_audit, offline=True), tmp_path, "focus.html"))
    icons = [page.page.locator(".hr-icon").nth(i).bounding_box() for i in range(page.page.locator(".hr-icon").count())]
    labels = [page.page.locator(".hr-label").nth(i).bounding_box()
              for i in range(page.page.locator(".hr-label").count())]
    assert len(labels) == 2
    for label in labels:
        for icon in icons:
            assert (label["x"] >= icon["x"] + icon["width"] or label["x"] + label["width"] <= icon["x"]
                    or label["y"] >= icon["y"] + icon["height"] or label["y"] + label["height"] <= icon["y"])
    box = page.page.locator(".leaflet-container").bounding_box()
    page.page.mouse.click(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.6)
    page.page.wait_for_timeout(100)
    outline = page.page.evaluate("""(() => { const e = document.activeElement;
        const s = getComputedStyle(e); return [e.tagName, s.outlineStyle, s.outlineWidth]; })()""")
    assert outline[1] == "none" or outline[2] == "0px", outline
    assert page.errors == []
