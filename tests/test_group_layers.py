"""The 65+ group wherever everyone is reported, and scenarios showing every ratio, E2SFCA and capacity figure.

On the demo county (its 65+ layer) with two capacity standards added to the
profile, the outputs are written with the map on and read back: the
GeoPackage layers' group fields, the audit workbook, the map's township
tooltips, facility popups and group layer, the scenario's tables, workbook,
terminal table, changes.gpkg and map. Every group figure is compared with
the evaluation's own figures or with a brute-force sum over the cells; every
scenario figure with :meth:`Evaluation.diff`. The group layer is toggled in
a real browser (headless Chromium; skipped without it).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from test_capacity import CAPACITY

from healthreach.cli import cli
from healthreach.evaluation import Study
from healthreach.gis import UNCOVERED_MIN_PEOPLE
from healthreach.inputs import load_inputs
from healthreach.maps.audit import audit_map
from healthreach.maps.base import render_html
from healthreach.profile import PROFILES
from healthreach.report import write_outputs
from healthreach.study import load_study
from tests.conftest import DEMO_DIR

CHROMIUM = Path(os.environ.get("HEALTHREACH_CHROMIUM", "/usr/bin/chromium"))
GROUP = "65plus"
CHANGES = [{"expand": "THC07", "beds": 200}, {"close": "THC04"}]


@pytest.fixture(scope="module")
def study_file(tmp_path_factory) -> Path:
    """The demo county (with its 65+ layer) and the default profile plus two capacity standards."""
    if not (DEMO_DIR / "roads.gpkg").exists():
        pytest.skip("demo county data not generated (run python -m tools.demo)")
    folder = tmp_path_factory.mktemp("groups") / "county"
    folder.mkdir()
    data = yaml.safe_load((PROFILES / "default.yaml").read_text(encoding="utf-8"))
    data["standards"].update(CAPACITY)
    (folder / "profile.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    study = yaml.safe_load((DEMO_DIR / "study.yaml").read_text(encoding="utf-8"))
    for key in ("roads", "facilities", "population", "boundaries", "villages"):
        study[key]["path"] = str(DEMO_DIR / study[key]["path"])
    for group in study["population_groups"].values():
        group["path"] = str(DEMO_DIR / group["path"])
    study["profile"] = "profile.yaml"
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    return folder / "study.yaml"


@pytest.fixture(scope="module")
def base(study_file):
    return Study(load_inputs(load_study(study_file))).baseline()


@pytest.fixture(scope="module")
def written(base, tmp_path_factory):
    """The audit's files with the map on (English, so the page's text is plain in the HTML)."""
    out = tmp_path_factory.mktemp("audit") / "out"
    html = render_html(audit_map(base, lang="en", offline=True))
    write_outputs(base, out, map_html=html, lang="en", facility_isochrones=True)
    return out


def group_people(evaluation) -> np.ndarray:
    return evaluation.inputs.cells.groups[GROUP]


def test_the_group_has_people_beyond_the_circle(base):
    circle = base.figure(f"primary_care_15min_{GROUP}")
    assert 1000 < circle.population - circle.covered < circle.population


def test_band_layers_give_the_groups_people_per_band(base, written):
    old, seconds = group_people(base), base.primary_seconds
    bands = gpd.read_file(written / "isochrones.gpkg", layer="primary_care_bands")
    assert list(bands.columns[:6]) == ["band", "from_time_min", "to_time_min", "label", "people",
                                       f"people_{GROUP}"]
    for _, band in bands.iterrows():
        inside = (seconds > band["from_time_min"] * 60) & (seconds <= band["to_time_min"] * 60)
        assert band[f"people_{GROUP}"] == pytest.approx(old[inside].sum(), abs=0.05)
    circle = base.figure(f"primary_care_15min_{GROUP}")
    within = bands[bands["to_time_min"] <= 15][f"people_{GROUP}"].sum()
    assert within == pytest.approx(circle.covered, abs=0.05 * len(bands))
    areas = gpd.read_file(written / "isochrones.gpkg", layer="emergency_areas")
    dist = base.travel[next(s for s in base.study.standards if s.kind == "radius").need].cost
    for _, band in areas.iterrows():
        inside = (dist > band["from_dist_m"]) & (dist <= band["to_dist_m"])
        assert band[f"people_{GROUP}"] == pytest.approx(old[inside].sum(), abs=0.05)
    for mode in ("walk", "drive"):
        assert f"people_{GROUP}" in gpd.read_file(written / "isochrones.gpkg", layer=f"{mode}_bands").columns


def test_facility_isochrones_give_the_groups_people(base, written):
    iso = gpd.read_file(written / "isochrones.gpkg", layer="facility_isochrones")
    assert {f"people_{GROUP}", f"people_within_{GROUP}"} <= set(iso.columns)
    for _, one in iso.groupby("facility_id"):
        np.testing.assert_allclose(np.cumsum(one.sort_values("band")[f"people_{GROUP}"]),
                                   one.sort_values("band")[f"people_within_{GROUP}"], atol=0.05 * len(one))
    assert (iso[f"people_{GROUP}"] <= iso["people"] + 0.05).mean() > 0.9  # the group is a part of everyone


def test_uncovered_layers_hold_every_person_of_the_group_beyond_the_circle(base, written):
    circle = base.figure(f"primary_care_15min_{GROUP}")
    squares = gpd.read_file(written / "isochrones.gpkg", layer="uncovered_1km")
    assert list(squares.columns[:5]) == ["people", "cells", "unreachable_people", f"people_{GROUP}",
                                         f"unreachable_people_{GROUP}"]
    rounding = 0.05 * len(squares)  # each square's people are rounded to 0.1
    assert squares[f"people_{GROUP}"].sum() == pytest.approx(circle.population - circle.covered, abs=rounding)
    assert squares[f"unreachable_people_{GROUP}"].sum() == pytest.approx(circle.unreachable, abs=rounding)
    everyone = base.figure("primary_care_15min")
    assert squares["people"].sum() == pytest.approx(everyone.population - everyone.covered, abs=rounding)
    cells = gpd.read_file(written / "isochrones.gpkg", layer="uncovered_cells")
    shown = (base.primary_seconds > 900) & (base.inputs.cells.people >= UNCOVERED_MIN_PEOPLE)
    assert len(cells) == shown.sum()
    assert cells[f"people_{GROUP}"].sum() == pytest.approx(group_people(base)[shown].sum(), abs=0.01 * len(cells))


def test_results_layers_and_the_workbook_carry_the_groups_columns(base, written):
    towns = gpd.read_file(written / "isochrones.gpkg", layer="township_results")
    for column in (f"people_{GROUP}", f"primary_care_15min_share_{GROUP}"):
        np.testing.assert_allclose(towns[column], base.townships[column])
    facilities = gpd.read_file(written / "isochrones.gpkg", layer="facility_results")
    table = base.facility_table
    share = table[f"catchment_people_15min_{GROUP}"] / table[f"catchment_people_{GROUP}"]
    np.testing.assert_allclose(facilities[f"catchment_share_15min_{GROUP}"], share.round(4), equal_nan=True)
    csv = pd.read_csv(written / "facilities.csv", encoding="utf-8-sig")
    np.testing.assert_allclose(csv[f"catchment_share_15min_{GROUP}"], share.round(4), equal_nan=True)
    sheet = openpyxl.load_workbook(written / "audit.xlsx", read_only=True)["townships"]
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[1].index(f"primary_care_15min_share_{GROUP}")
    np.testing.assert_allclose([r[column] for r in rows[2:]], base.townships[f"primary_care_15min_share_{GROUP}"])


def properties(html: str, field: str) -> list[dict]:
    """The GeoJSON properties of every feature of the page that has ``field``."""
    return [json.loads(p) for p in re.findall(r'"properties":\s*(\{[^{}]*"' + field + r'"[^{}]*\})', html)]


def test_map_tooltips_and_popups_give_the_groups_figures(base, written):
    html = (written / "map.html").read_text(encoding="utf-8")
    towns = properties(html, f"share_text_{GROUP}")
    assert len(towns) == 2 * len(base.townships)  # the shaded townships and the outlines
    expected = {row["name"]: (f"{row[f'people_{GROUP}']:,.0f} people",
                              f"{100 * row[f'primary_care_15min_share_{GROUP}']:.1f}%")
                for _, row in base.townships.iterrows()}
    for town in towns:
        assert (town[f"people_text_{GROUP}"], town[f"share_text_{GROUP}"]) == expected[town["name"]]
    assert "People aged 65 and over: share within 15 min" in html
    facilities = properties(html, f"catchment_{GROUP}")
    assert len(facilities) == len(base.facility_table)
    table = base.facility_table.set_index("id")
    for facility in facilities:
        people = table.loc[facility["id"], f"catchment_people_{GROUP}"]
        share = table.loc[facility["id"], f"catchment_share_15min_{GROUP}"]
        assert facility[f"catchment_{GROUP}"] == (f"{people:,.0f} people" if people > 0 else "—")
        assert facility[f"share_{GROUP}"] == (f"{100 * share:.0f}%" if pd.notna(share) else "—")
    circle = base.figure(f"primary_care_15min_{GROUP}")
    assert f"People aged 65 and over beyond 15 min: {circle.population - circle.covered:,.0f} in all" in html


def test_the_group_layer_toggles_in_a_browser(base, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (bash .ci/browser.sh installs it)")
    from test_browser import ARGS, Page, write_map
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    path = write_map(audit_map(base, offline=True), tmp_path, "groups.html")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = Page(browser, path)
        name = "15分钟圈外65岁及以上老年人"
        assert name in page.layer_names()
        assert [e.split(" (")[0] for e in page.top_level_entries()] == [
            "标准与覆盖", "底图：道路与乡镇界", "医疗机构（按类型）"]  # the group's layer adds no entry
        before = page.paths()
        assert not page.legend_visible(name)  # hidden at start
        page.toggle(name)
        assert page.paths() > before
        assert page.legend_visible(name)
        # its legend comes right after everyone's
        headings = page.page.eval_on_selector_all(".hr-legend-section h4", "els => els.map(e => e.textContent)")
        at = next(k for k, h in enumerate(headings) if h.startswith(name))
        assert headings[at - 1].startswith("15分钟圈外人口")
        page.toggle(name)
        assert page.paths() == before
        assert page.errors == []
        browser.close()


@pytest.fixture(scope="module")
def scenario_run(study_file, tmp_path_factory):
    """``healthreach scenario`` on the demo with capacity standards, map on, English."""
    folder = tmp_path_factory.mktemp("scenario")
    (folder / "scenarios").mkdir()
    path = folder / "scenarios" / "expand.yaml"
    path.write_text(yaml.safe_dump({"name": "expand and close", "study": str(study_file), "changes": CHANGES},
                                   allow_unicode=True), encoding="utf-8")
    out = folder / "out"
    result = CliRunner().invoke(cli, ["scenario", str(path), "--out", str(out), "--offline", "--lang", "en"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="module")
def diff(base):
    return base.diff(base.apply(CHANGES))


def test_scenario_standards_show_every_ratio_e2sfca_and_capacity_figure(scenario_run, diff):
    out, terminal = scenario_run
    rows = pd.read_csv(out / "standards.csv", encoding="utf-8-sig").set_index("standard")
    after = diff.after
    for resource in ("beds", "doctors", "nurses"):
        fb, fa = diff.before.figure(f"{resource}_per_1000"), after.figure(f"{resource}_per_1000")
        row = rows.loc[f"{resource}_per_1000.by_catchment_per_1000"]
        assert row["baseline"] == pytest.approx(fb.details["by_catchment_per_1000"])
        assert row["scenario"] == pytest.approx(fa.details["by_catchment_per_1000"])
        assert rows.loc[f"{resource}_per_1000", "scenario"] == pytest.approx(fa.share)
    assert rows.loc["beds_per_1000.by_catchment_per_1000", "change"] != 0  # 200 beds more, a centre closed
    for fid in ("e2sfca_beds", "e2sfca_doctors", "beds_capacity_30min", "beds_capacity_ordered_30min"):
        assert rows.loc[fid, "scenario"] == pytest.approx(after.figure(fid).share)
    for fid in ("beds_capacity_30min", "beds_capacity_ordered_30min"):
        for key in ("capacity_people", "beyond_reach_people"):
            row = rows.loc[f"{fid}.{key}"]
            assert row["baseline"] == pytest.approx(diff.before.figure(fid).details[key])
            assert row["scenario"] == pytest.approx(after.figure(fid).details[key])
    beds = diff.before.facility_table.set_index("id")["beds"]  # THC07 expanded to 200 beds, THC04 closed
    assert rows.loc["beds_capacity_30min.capacity_people", "change"] == pytest.approx(
        125 * (200 - beds["THC07"] - beds["THC04"]))
    assert list(rows.index) == list(diff.standards["standard"])  # standards.csv is Evaluation.diff's table
    for column in ("baseline", "scenario", "change", "baseline_people", "scenario_people", "change_people"):
        np.testing.assert_allclose(rows[column], diff.standards[column].astype(float), equal_nan=True, atol=1e-6)
    sheet = openpyxl.load_workbook(out / "scenario.xlsx", read_only=True)["change"]
    ids = [r[0] for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert ids == list(diff.standards["standard"])
    for name in ("beds_per_1000.by_catchment_per_1000", "beds_capacity_30min.capacity_people", "e2sfca_beds"):
        assert name in terminal


def test_scenario_townships_and_facilities_show_every_ratio_and_capacity_figure(scenario_run, diff):
    out, _ = scenario_run
    towns = pd.read_csv(out / "townships.csv", encoding="utf-8-sig")
    b, a = diff.before.townships, diff.after.townships
    for resource in ("beds", "doctors", "nurses"):
        for how in ("admin", "catchment"):
            c = f"{resource}_per_1000_{how}"
            np.testing.assert_allclose(towns[f"{c}_scenario"], a[c], equal_nan=True)
            np.testing.assert_allclose(towns[f"{c}_change"], (a[c] - b[c]).round(4), equal_nan=True)
            assert list(towns[f"{c}_pass_baseline"]) == list(b[f"{c}_pass"])
            assert list(towns[f"{c}_pass_scenario"]) == list(a[f"{c}_pass"])
    for c in ("e2sfca_beds_per_1000", "e2sfca_doctors_per_1000", "beds_capacity_30min_unserved_people"):
        np.testing.assert_allclose(towns[f"{c}_change"], (a[c] - b[c]).round(4))
    facilities = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig").set_index("id")
    fa = diff.after.facility_table.set_index("id")
    fb = diff.before.facility_table.set_index("id")
    for c in ("tier_catchment_people", "people_per_bed", "people_per_doctor", "people_per_nurse",
              "e2sfca_beds_ratio_per_1000", "beds_capacity_30min_capacity_people",
              "beds_capacity_30min_served_people"):
        np.testing.assert_allclose(facilities[f"{c}_after"], fa.loc[facilities.index, c], equal_nan=True)
    saturated = "beds_capacity_30min_saturated"
    assert list(facilities[f"{saturated}_after"]) == list(fa.loc[facilities.index, saturated])
    assert list(facilities[f"{saturated}_before"]) == list(fb.loc[facilities.index, saturated])
    assert facilities.loc["THC07", "people_per_bed_change"] < 0  # 200 beds for its catchment


def test_scenario_map_and_changes_give_the_groups_people(scenario_run, diff):
    out, _ = scenario_run
    html = (out / "map.html").read_text(encoding="utf-8")
    circle = f"primary_care_15min_{GROUP}"
    b, a = diff.before.figure(circle).share, diff.after.figure(circle).share
    assert f"people aged 65 and over: {b:.1%} → {a:.1%}" in html
    assert f"of them people aged 65 and over: {diff.lose_coverage_of(GROUP):,.0f}" in html
    assert "After: People aged 65 and over beyond 15 min" in html
    assert "Before: People aged 65 and over beyond 15 min" in html
    # the E2SFCA layer before and after, and the facilities' tier catchments and people per bed before and after
    assert "After: Beds within reach per 1,000 people (E2SFCA)" in html
    assert "Before: Beds within reach per 1,000 people (E2SFCA)" in html
    popups: dict[str, set] = {}
    for facility in properties(html, "tier_catchment"):
        popups.setdefault(facility["id"], set()).add((facility["tier_catchment"], facility["people_per_bed"]))
    for evaluation in (diff.before, diff.after):
        row = evaluation.facility_table.set_index("id").loc["THC07"]
        assert (f"{row['tier_catchment_people']:,.0f} people", f"{row['people_per_bed']:,.0f}") in popups["THC07"]
    assert len(popups["THC07"]) == 2  # 200 beds: fewer people per bed
    lost = gpd.read_file(out / "changes.gpkg", layer="lost_cells")
    assert lost[f"people_{GROUP}"].sum() == pytest.approx(diff.lose_coverage_of(GROUP), abs=0.01 * len(lost))
    assert lost["people"].sum() == pytest.approx(diff.lose_coverage, abs=0.01 * len(lost))



def test_the_batch_summary_gives_each_groups_people_beyond_the_circle(tmp_path):
    """``healthreach batch`` on a study with a 65+ and an under-5 layer: the group columns are the audit's."""
    from test_population_groups import everyone, group_study

    from healthreach.batch.cluster import dask_client
    from healthreach.batch.discover import discover_studies
    from healthreach.batch.run import run_batch

    old = everyone() * 0.2
    old[:, 20:] = everyone()[:, 20:] * 0.5
    path = group_study(tmp_path / "studies" / "county", {GROUP: old, "under5": everyone() * 0.05},
                       name="group county")
    with dask_client(workers=1, dashboard_address=None) as client:
        run_batch(discover_studies([tmp_path / "studies"]), tmp_path / "batch", client=client, draw_map=False)
    audit = Study(load_inputs(load_study(path))).baseline()
    table = pd.read_csv(tmp_path / "batch" / "summary.csv", encoding="utf-8-sig")
    sheet = list(openpyxl.load_workbook(tmp_path / "batch" / "summary.xlsx", read_only=True).worksheets[0]
                 .iter_rows(values_only=True))
    for group in (GROUP, "under5"):
        circle = audit.figure(f"primary_care_15min_{group}")
        assert table.loc[0, f"population_{group}"] == round(audit.inputs.cells.groups[group].sum())
        assert table.loc[0, f"primary_uncovered_people_{group}"] == round(circle.population - circle.covered)
        assert table.loc[0, f"primary_care_15min_{group}_share"] == pytest.approx(circle.share, abs=1e-4)
        column = sheet[1].index(f"population_{group}")
        assert sheet[2][column] == table.loc[0, f"population_{group}"]
    assert list(table.columns).index(f"population_{GROUP}") > list(table.columns).index("primary_uncovered_people")


def test_compare_gives_each_groups_people_gained_and_lost(study_file, base, diff, tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    paths = []
    for name, changes in (("expand", CHANGES), ("close", [{"close": "THC12"}])):
        paths.append(folder / f"{name}.yaml")
        paths[-1].write_text(yaml.safe_dump({"name": name, "study": str(study_file), "changes": changes}),
                             encoding="utf-8")
    out = tmp_path / "compare.csv"
    result = CliRunner().invoke(cli, ["compare", *map(str, paths), "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, encoding="utf-8-sig").set_index("scenario")
    closed = base.diff(base.apply([{"close": "THC12"}]))
    for name, result_diff in (("expand", diff), ("close", closed)):
        row = result_diff.standards.set_index("standard").loc[f"primary_care_15min_{GROUP}"]
        for column in ("newly_covered_people", "lose_coverage_people"):
            assert table.loc[name, f"{column}_{GROUP}"] == pytest.approx(row[column], abs=0.05)
        assert table.loc[name, f"primary_care_15min_{GROUP}"] == pytest.approx(row["scenario"], abs=1e-6)
    assert table.loc["close", f"lose_coverage_people_{GROUP}"] > 0
    assert table.loc["(baseline)", f"newly_covered_people_{GROUP}"] == 0
