"""Population groups end to end: ``healthreach audit`` and ``healthreach scenario`` on a study declaring
two groups, with their maps opened in a real browser (headless Chromium; skipped without it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from test_population_groups import everyone, group_study

from healthreach.cli import cli
from healthreach.i18n import group_name, t

CHROMIUM = Path(os.environ.get("HEALTHREACH_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """The small study; people aged 65+ are a fifth of everyone in the west and half in the east."""
    old = everyone() * 0.2
    old[:, 20:] = everyone()[:, 20:] * 0.5
    kids = everyone() * 0.05
    return group_study(tmp_path_factory.mktemp("cli") / "county", {"65plus": old, "under5": kids})


def title_text(html: Path) -> str:
    """The map's title block as a browser shows it (no script error, nothing fetched)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (bash .ci/browser.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(html.as_uri())
        page.wait_for_selector(".hr-title")
        text = page.locator(".hr-title").inner_text()
        browser.close()
    assert errors == []
    return text


def test_audit_reports_each_group(study, tmp_path):
    out = tmp_path / "audit"
    result = CliRunner().invoke(cli, ["audit", str(study), "--out", str(out), "--offline"])
    assert result.exit_code == 0, result.output
    flat = "".join(result.output.split())  # the table wraps long titles (their ends go on the next lines)
    assert "15分钟医疗服务圈：65岁" in flat
    assert "15分钟医疗服务圈：5岁以" in flat
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["population_groups"] == {"65plus": 800, "under5": 140}
    assert summary["inputs"]["population_groups.65plus"]["name"] == "pop_65plus.tif"
    figures = {s["id"]: s for s in summary["standards"]}
    old = figures["primary_care_15min_65plus"]
    assert old["population_group"] == "65plus"
    assert old["population"] == round(0.2 * 2000 + 0.5 * 800)
    assert "ambulances_per_population_65plus" not in figures
    towns = pd.read_csv(out / "townships.csv", encoding="utf-8-sig").set_index("township_id")
    np.testing.assert_allclose(towns["people_65plus"], [400, 400])
    np.testing.assert_allclose(towns["people_under5"], [100, 40])
    # in each township the group's cells are everyone's cells scaled evenly: the same share
    np.testing.assert_allclose(towns["primary_care_15min_share_65plus"], towns["primary_care_15min_share"], atol=1e-4)
    east_share = towns["primary_care_15min_share"].iloc[1]
    west_share = towns["primary_care_15min_share"].iloc[0]
    assert old["share"] == pytest.approx((400 * west_share + 400 * east_share) / 800, abs=1e-3)
    text = title_text(out / "map.html")
    assert "其中65岁及以上老年人：" in text
    assert "其中5岁以下儿童：" in text


def test_scenario_reports_each_group(study, tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    path = folder / "close.yaml"
    path.write_text(yaml.safe_dump({"name": "close the urban centre", "study": str(study),
                                    "changes": [{"close": "CHC01"}]}, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "scenario"
    result = CliRunner().invoke(cli, ["scenario", str(path), "--out", str(out), "--offline", "--lang", "en"])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    everyone_lost = doc["primary_care"]["lose_coverage_people"]
    groups = doc["primary_care"]["population_groups"]
    # the terminal says it in the words of the map's title, the poster and the what-if page (i18n.STRINGS)
    lines = " ".join(result.output.split())
    assert t("circle_moves", "en", minutes="15", gained="0", lost=f"{everyone_lost:,.0f}") in lines
    assert t("group_moves", "en", group=group_name("65plus", "en"), gained="0",
             lost=f"{groups['65plus']['lose_coverage_people']:,.0f}") in lines
    assert everyone_lost > 0
    assert 0 < groups["65plus"]["lose_coverage_people"] < everyone_lost
    assert groups["under5"]["lose_coverage_people"] == pytest.approx(0.05 * everyone_lost, abs=1)
    rows = pd.read_csv(out / "standards.csv", encoding="utf-8-sig").set_index("standard")
    assert rows.loc["primary_care_15min_65plus", "lose_coverage_people"] == pytest.approx(
        groups["65plus"]["lose_coverage_people"], abs=0.5)
    towns = pd.read_csv(out / "townships.csv", encoding="utf-8-sig")
    for column in ("primary_care_15min_share_65plus_baseline", "primary_care_15min_share_65plus_change",
                   "lose_coverage_people_65plus", "newly_covered_people_under5"):
        assert column in towns.columns
    assert towns["lose_coverage_people_65plus"].sum() == pytest.approx(groups["65plus"]["lose_coverage_people"],
                                                                        abs=1)
    assert "people aged 65 and over:" in title_text(out / "map.html")
