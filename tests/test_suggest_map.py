"""The map of suggested sites in a real browser (headless Chromium through Playwright), offline."""

from __future__ import annotations

import pytest
from test_browser import ARGS, CHROMIUM, Page, screenshot

from healthreach.maps.base import render_html
from healthreach.suggest import suggest
from healthreach.suggest.map import suggestion_map

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (bash .ci/browser.sh installs it)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[browser])")


def test_suggestion_map_offline_shows_sites_cells_and_curve(demo_audit, tmp_path):
    result = suggest(demo_audit.study, "township_hc", 3, spacing_m=2000)
    path = tmp_path / "suggest.html"
    path.write_text(render_html(suggestion_map(result, lang="en", offline=True)), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = Page(browser, path)
            assert page.errors == []
            assert page.requests == []
            assert "Suggested sites (ranked by people newly covered)" in page.layer_names()
            markers = page.page.locator(".hr-site")
            assert markers.count() == 3
            assert [markers.nth(i).inner_text() for i in range(3)] == ["1", "2", "3"]
            curve = page.page.locator("img.hr-curve")
            assert curve.is_visible()
            assert curve.evaluate("img => img.naturalWidth") > 300  # the PNG decoded
            before = page.paths()
            page.toggle("Suggested sites (ranked by people newly covered)")
            assert page.page.locator(".hr-site").count() == 0
            assert page.paths() < before  # the sites' cells went with them
            page.toggle("Suggested sites (ranked by people newly covered)")
            page.page.locator(".hr-site").first.hover()
            page.page.wait_for_timeout(200)
            assert "runner-ups:" in page.page.locator(".leaflet-tooltip").last.inner_text()
            screenshot(page, tmp_path, "suggest.png")
        finally:
            browser.close()
