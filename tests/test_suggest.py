"""healthreach suggest: coverage sets against the scenario engine, greedy and exact against brute force, the
outputs re-evaluated through ``healthreach scenario``, and the errors of bad options.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from click.testing import CliRunner
from scipy import sparse

from healthreach.cli import cli
from healthreach.crs import wgs84_to_gcj02
from healthreach.errors import HealthreachError, SuggestError
from healthreach.suggest import suggest
from healthreach.suggest.candidates import Candidates, auto_candidates, filtered, read_candidates
from healthreach.suggest.coverage import Coverage, coverage_sets, merged_rows, undominated
from healthreach.suggest.exact import lp_bound, solve
from healthreach.suggest.greedy import lazy_greedy
from healthreach.suggest.objective import objective_of


@pytest.fixture(scope="module")
def demo(demo_audit):
    return demo_audit.study


@pytest.fixture(scope="module")
def coarse(demo) -> Candidates:
    """Road sites on a 2 km grid of the demo county, away from today's township health centres."""
    return filtered(demo, auto_candidates(demo, 2000.0), "township_hc", [], 1000.0)


@pytest.fixture(scope="module")
def cov(demo, coarse) -> Coverage:
    base = demo.baseline()
    return coverage_sets(base, objective_of(base), coarse)


def newly_covered(base, after, sid: str) -> np.ndarray:
    """Populated cells inside the primary circle after and outside before (the engine's answer)."""
    people = base.inputs.cells.people
    limit = base.study.primary.limit_s
    assert sid == base.study.primary.id
    return np.flatnonzero((after.primary_seconds <= limit) & (base.primary_seconds > limit) & (people > 0))


def add(table: pd.DataFrame, j: int, fid: str = "T1") -> dict:
    row = table.iloc[j]
    return {"add": fid, "name": fid, "type": "township_hc", "at": {"lon": float(row["lon"]), "lat": float(row["lat"])}}


def test_each_candidates_cells_are_those_the_scenario_engine_gains(demo, coarse, cov):
    base = demo.baseline()
    by = cov.by_candidate
    alone = np.asarray(by.T @ cov.people).ravel()
    rng = np.random.default_rng(7)
    # the best sites, some that cover few people and some that cover none: every kind of set
    picks = {*np.argsort(-alone)[:6].tolist(), *rng.choice(np.flatnonzero(alone > 0), 6, replace=False).tolist(),
             *rng.choice(np.flatnonzero(alone == 0), 3, replace=False).tolist()}
    for j in sorted(picks):
        after = base.apply([add(coarse.table, j)])
        cells = newly_covered(base, after, cov.standard)
        rows = cov.rows_of(j)
        mine = np.flatnonzero(np.isin(cov.row_of, rows))
        np.testing.assert_array_equal(mine, cells)
        gained = after.figures[cov.standard].covered - base.figures[cov.standard].covered
        assert cov.value(np.array([j])) == pytest.approx(gained, abs=1e-6)


def test_merged_rows_group_exactly_the_cells_with_equal_candidate_sets():
    rng = np.random.default_rng(3)
    cell = rng.integers(0, 400, 3000)
    cand = rng.integers(0, 6, 3000)  # few candidates: many cells share a set
    people = rng.random(400) + 0.1
    matrix, row_people, row_of = merged_rows(cell, cand, people, 6)
    sets = {c: frozenset(cand[cell == c].tolist()) for c in np.unique(cell)}
    for c, s in sets.items():
        assert frozenset(matrix[row_of[c]].indices.tolist()) == s
    for a, b in itertools.combinations(list(sets)[:120], 2):
        assert (row_of[a] == row_of[b]) == (sets[a] == sets[b])
    assert row_people.sum() == pytest.approx(people[list(sets)].sum())
    assert (row_of[np.setdiff1d(np.arange(400), cell)] == -1).all()


def random_coverage(seed: int, rows: int = 60, cands: int = 14, density: float = 0.18) -> Coverage:
    rng = np.random.default_rng(seed)
    m = sparse.csr_matrix((rng.random((rows, cands)) < density).astype(float))
    keep = np.asarray(m.sum(axis=1)).ravel() > 0
    m = m[keep]
    people = rng.integers(1, 500, m.shape[0]).astype(float)
    return Coverage("s", 900.0, m, people, np.arange(m.shape[0]), 0.0, float(people.sum()) * 2, m.shape[0], people,
                    0.0, float(people.sum()) * 2)


def brute_force(cov: Coverage, k: int) -> float:
    return max(cov.value(np.array(c)) for c in itertools.combinations(range(cov.matrix.shape[1]), k))


@pytest.mark.parametrize("seed", range(8))
def test_exact_equals_brute_force_greedy_never_above_and_bounds_never_below(seed):
    cov = random_coverage(seed)
    greedy = lazy_greedy(cov, 4)
    for k in (1, 2, 3, 4):
        best = brute_force(cov, k)
        exact = solve(cov, k, 30.0, greedy.chosen[:k])
        assert exact.optimal
        assert str(exact.status).startswith("proven optimal")
        assert exact.people == pytest.approx(best)
        assert cov.value(exact.chosen) == pytest.approx(best)
        assert len(exact.chosen) <= k
        assert greedy.gains[:k].sum() <= best + 1e-9
        assert lp_bound(cov, k) >= best - 1e-6
        assert greedy.upper[k - 1] >= best - 1e-6
        assert exact.gap == 0


def test_undominated_candidates_keep_the_optimum():
    for seed in range(5):
        cov = random_coverage(seed, cands=10, density=0.3)
        keep = undominated(cov)
        sub = Coverage("s", 900.0, cov.matrix[:, keep], cov.people, cov.row_of, 0.0, cov.total, 0, cov.people, 0.0,
                       cov.total)
        for k in (1, 2, 3):
            assert brute_force(sub, min(k, len(keep))) == pytest.approx(brute_force(cov, k))


def test_exact_on_the_demo_equals_brute_force_over_the_best_sites(cov):
    alone = np.asarray(cov.by_candidate.T @ cov.people).ravel()
    top = np.sort(np.argsort(-alone)[:16])
    small = Coverage(cov.standard, cov.limit_s, cov.matrix[:, top], cov.people, cov.row_of, cov.covered_today,
                     cov.total, cov.uncovered_cells, cov.everyone, cov.everyone_today, cov.everyone_total)
    greedy = lazy_greedy(small, 3)
    for k in (2, 3):
        exact = solve(small, k, 30.0, greedy.chosen[:k])
        assert exact.optimal
        assert exact.people == pytest.approx(brute_force(small, k))
        assert exact.people >= greedy.gains[:k].sum() - 1e-9
        assert exact.lp_bound >= exact.people - 1e-6


def test_greedy_gains_equal_reevaluation_through_apply(demo, coarse):
    result = suggest(demo, "township_hc", 4, candidates=coarse)
    base = demo.baseline()
    sid = result.standard
    assert len(result.sites) == 4
    for k in range(1, 5):
        after = base.apply(result.changes[:k])
        gained = after.figures[sid].covered - base.figures[sid].covered
        assert result.sites["cumulative_people"].iloc[k - 1] == pytest.approx(gained, abs=1e-6)
        assert len(result.cells[k - 1]) == len(np.setdiff1d(
            newly_covered(base, after, sid), np.concatenate(result.cells[:k - 1]) if k > 1 else []))
    diff = base.diff(result.after)
    row = diff.standards.set_index("standard").loc[sid]
    assert row["newly_covered_people"] == pytest.approx(result.newly_covered, abs=0.05)  # the diff rounds to 0.1
    assert row["lose_coverage_people"] == 0
    gains = result.sites["people_newly_covered"].to_numpy()
    assert (np.diff(gains) <= 1e-9).all()  # each round takes the largest gain left
    assert result.sites["share_after"].iloc[-1] == pytest.approx(result.after.figures[sid].share)
    assert (result.curve["upper_bound_people"] >= result.curve["greedy_people"] - 1e-9).all()


def test_exact_method_on_the_demo_is_proven_and_never_below_greedy(demo, coarse):
    result = suggest(demo, "乡镇卫生院", 3, candidates=coarse, method="exact", time_limit_s=120)
    assert set(result.exact) == {1, 2, 3}
    for k, e in result.exact.items():
        assert e.optimal
        assert e.people >= result.curve["greedy_people"].iloc[k - 1] - 1e-9
        assert e.lp_bound >= e.people - 1e-6
    assert result.newly_covered == pytest.approx(result.exact[3].people)
    base = demo.baseline()
    gained = result.after.figures[result.standard].covered - base.figures[result.standard].covered
    assert gained == pytest.approx(result.exact[3].people, abs=1e-6)


def test_cli_suggest_then_scenario_reports_the_same_figures(tmp_path):
    out = tmp_path / "suggest"
    run = CliRunner().invoke(cli, ["suggest", "--type", "township_hc", "--count", "3", "--method", "exact",
                                   "--spacing-m", "2000", "--out", str(out), "--offline", "--lang", "en"])
    assert run.exit_code == 0, run.output
    for name in ("sites.csv", "sites.xlsx", "curve.csv", "curve.png", "candidates.csv", "scenario.yaml",
                 "summary.json", "map.html"):
        assert (out / name).is_file(), name
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert list(sites["rank"]) == [1, 2, 3]
    assert pd.read_excel(out / "sites.xlsx", sheet_name="sites")["people_newly_covered"].sum() == \
        pytest.approx(sites["people_newly_covered"].sum())
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["exact"]["3"]["optimal"] is True
    html = (out / "map.html").read_text(encoding="utf-8")
    assert html.count("hr-site") == 3
    assert "data:image/png;base64," in html
    plan = yaml.safe_load((out / "scenario.yaml").read_text(encoding="utf-8"))
    assert plan["study"] == "demo"
    assert [c["add"] for c in plan["changes"]] == ["NEW01", "NEW02", "NEW03"]
    checked = tmp_path / "checked"
    run = CliRunner().invoke(cli, ["scenario", str(out / "scenario.yaml"), "--out", str(checked), "--no-map"])
    assert run.exit_code == 0, run.output
    standards = pd.read_csv(checked / "standards.csv", encoding="utf-8-sig").set_index("standard")
    row = standards.loc[summary["standard"]]
    assert row["newly_covered_people"] == pytest.approx(summary["newly_covered_people"], abs=0.05)  # rounded to 0.1
    assert row["scenario"] == pytest.approx(summary["after"]["share"], abs=5e-7)  # standards.csv: 6 decimals
    assert row["baseline"] == pytest.approx(summary["before"]["share"], abs=5e-7)
    assert sites["cumulative_people"].iloc[-1] == pytest.approx(row["newly_covered_people"], abs=0.05)
    covered = summary["after"]["covered_people"] - summary["before"]["covered_people"]
    assert covered == pytest.approx(summary["newly_covered_people"], abs=1e-6)


def test_candidate_file_in_gcj02_lands_on_the_same_sites(demo, coarse, tmp_path):
    rows = coarse.table.iloc[:5]
    lon, lat = wgs84_to_gcj02(rows["lon"].to_numpy(), rows["lat"].to_numpy())
    path = tmp_path / "sites.csv"
    pd.DataFrame({"id": ["A", "B", "C", "D", "E"], "name": list("甲乙丙丁戊"), "lon": lon, "lat": lat}).to_csv(path,
                                                                                                          index=False)
    read = read_candidates(demo, path, "gcj02")
    np.testing.assert_allclose(read.table["x"], rows["x"], atol=0.05)
    np.testing.assert_allclose(read.table["y"], rows["y"], atol=0.05)
    assert list(read.table["name"]) == list("甲乙丙丁戊")
    result = suggest(demo, "township_hc", 2, candidates=path, candidates_crs="gcj02", min_spacing_m=0)
    assert set(result.sites["candidate"]) <= set("ABCDE")


def test_exclusion_layers_and_min_spacing_remove_candidates(demo, coarse, tmp_path):
    first = coarse.table.iloc[0]
    layer = tmp_path / "water.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.Point(first["x"], first["y"]).buffer(3000)], crs=demo.inputs.crs).to_file(layer)
    from healthreach.suggest.candidates import read_exclusions
    kept = filtered(demo, coarse, "township_hc", read_exclusions(demo, [layer]), 0)
    d = np.hypot(kept.table["x"] - first["x"], kept.table["y"] - first["y"])
    assert (d > 3000 - 1e-6).all()
    assert len(kept) < len(coarse)
    spaced = filtered(demo, coarse, "township_hc", [], 5000)
    fac = demo.facilities[demo.facilities["type"] == "township_hc"]
    for _, row in spaced.table.iterrows():
        assert np.hypot(fac["x"] - row["x"], fac["y"] - row["y"]).min() >= 5000
    # the note names the type in the reader's language
    assert any("距现有乡镇卫生院" in note.render("zh") for note in spaced.notes)
    assert any("of an existing Township health centre" in str(note) for note in spaced.notes)


def error_of(*args, lang: str = "en") -> str:
    run = CliRunner().invoke(cli, ["suggest", *args, "--no-map", "--lang", lang])
    assert run.exit_code == 1, run.output
    assert "Traceback" not in run.output
    return " ".join(run.output.split())


def test_bad_options_give_clear_errors(demo, tmp_path):
    with pytest.raises(SuggestError, match="is not a facility type of profile 'default'"):
        suggest(demo, "township_hospitl", 2)
    with pytest.raises(SuggestError, match="does not count for group 'primary_care'"):
        suggest(demo, "emergency_station", 2)
    with pytest.raises(SuggestError, match="--count must be"):
        suggest(demo, "township_hc", 0)
    with pytest.raises(SuggestError, match="no standard in profile"):
        suggest(demo, "township_hc", 2, standard="primary_care_10min")
    radius = next(s.id for s in demo.standards if s.kind == "radius")
    with pytest.raises(SuggestError, match="not a travel-time one"):
        suggest(demo, "township_hc", 2, standard=radius)
    with pytest.raises(SuggestError, match="--method must be"):
        suggest(demo, "township_hc", 2, method="best")
    assert "--count must be 1 or more" in error_of("--type", "township_hc", "--count", "-2")
    assert "is not a facility type" in error_of("--type", "clinic_x", "--count", "2", "--out", str(tmp_path / "a"))
    assert "--count 须为 1 个或更多站点" in error_of("--type", "township_hc", "--count", "-2", lang="zh")


def test_no_candidates_left_after_exclusions(demo, tmp_path):
    (tmp_path / "in").mkdir()
    layer = tmp_path / "in" / "everything.geojson"
    area = shapely.union_all(demo.inputs.boundaries.geometry.to_numpy()).buffer(2000)
    gpd.GeoDataFrame(geometry=[area], crs=demo.inputs.crs).to_crs(4326).to_file(layer)
    message = error_of("--type", "township_hc", "--count", "2", "--spacing-m", "3000", "--exclude", str(layer),
                       "--out", str(tmp_path / "o"))
    assert "no candidate sites left" in message
    assert "everything.geojson" in message
    points = tmp_path / "in" / "points.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Point(107.7, 29.4)], crs=4326).to_file(points)
    with pytest.raises(SuggestError, match="has no polygons"):
        suggest(demo, "township_hc", 1, exclude=[points])


def test_candidate_file_with_bad_rows(demo, tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"id": ["A", "B"], "lon": [107.77, "东经107"], "lat": [29.42, 29.41]}).to_csv(bad, index=False)
    with pytest.raises(SuggestError, match=r"row 3 \(id B\): column 'lon' is not a number"):
        read_candidates(demo, bad)
    far = tmp_path / "far.csv"
    pd.DataFrame({"id": ["A", "B"], "lon": [107.774036, 100.0], "lat": [29.4200897, 29.0]}).to_csv(far, index=False)
    with pytest.raises(SuggestError, match=r"row 3 \(id B.*outside the study area"):
        read_candidates(demo, far)
    swapped = tmp_path / "swapped.csv"
    pd.DataFrame({"lon": [29.42], "lat": [107.77]}).to_csv(swapped, index=False)
    with pytest.raises(SuggestError, match="look swapped"):
        read_candidates(demo, swapped)
    (tmp_path / "in").mkdir()
    nocols = tmp_path / "in" / "nocols.csv"
    pd.DataFrame({"id": ["A"], "east": [1.0]}).to_csv(nocols, index=False)
    message = error_of("--type", "township_hc", "--count", "1", "--candidates", str(nocols),
                       "--out", str(tmp_path / "o"))
    assert "no coordinate columns" in message
    assert issubclass(SuggestError, HealthreachError)


def test_count_above_the_sites_that_help_stops_early(demo, coarse, cov):
    alone = np.asarray(cov.by_candidate.T @ cov.people).ravel()
    helpful = np.flatnonzero(alone > 0)[:2]
    useless = np.flatnonzero(alone == 0)[:3]
    keep = np.r_[helpful, useless]
    few = Candidates(coarse.table.iloc[keep].reset_index(drop=True),
                     {m: a[keep] for m, a in coarse.attached.items()}, [])
    result = suggest(demo, "township_hc", 4, candidates=few)
    assert len(result.sites) <= 2
    assert any("bring anyone new" in str(n) for n in result.notes)


def test_missing_candidate_file_is_named_before_any_work(tmp_path):
    message = error_of("--type", "township_hc", "--count", "1", "--candidates", str(tmp_path / "none.csv"),
                       "--out", str(tmp_path / "o"))
    assert "none.csv: no such file (given to --candidates)" in message
    assert not (tmp_path / "o").exists()


def test_cli_every_option_end_to_end(demo, coarse, tmp_path):
    """--standard (a drive-time standard), a GCJ-02 candidate file, --exclude, --min-spacing-m, --time-limit-s,
    --max-road-m, --no-map, --lang zh; the scenario file it writes evaluates to the same figure.
    """
    inputs = tmp_path / "in"
    inputs.mkdir()
    rows = coarse.table.iloc[::20].reset_index(drop=True)
    lon, lat = wgs84_to_gcj02(rows["lon"].to_numpy(), rows["lat"].to_numpy())
    sites = inputs / "sites.csv"
    pd.DataFrame({"id": [f"K{i}" for i in range(len(rows))], "lon": lon, "lat": lat}).to_csv(sites, index=False)
    water = inputs / "water.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.Point(rows["x"].iloc[0], rows["y"].iloc[0]).buffer(500)],
                     crs=demo.inputs.crs).to_file(water)
    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["suggest", "--type", "tertiary_hospital", "--count", "2", "--standard",
                                   "tertiary_hospital_1h", "--candidates", str(sites), "--candidates-crs", "gcj02",
                                   "--exclude", str(water), "--min-spacing-m", "0", "--method", "exact",
                                   "--time-limit-s", "20", "--max-road-m", "800", "--no-map", "--lang", "zh",
                                   "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "精确解，2 个站点" in run.output  # --lang zh
    assert "已证明最优" in run.output
    assert not (out / "map.html").exists()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["standard"] == "tertiary_hospital_1h"
    assert summary["candidates"] == len(rows) - 1  # the excluded one
    chosen = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert "K0" not in set(chosen["candidate"])
    plan = yaml.safe_load((out / "scenario.yaml").read_text(encoding="utf-8"))
    assert plan["max_road_m"] == 800
    after = demo.baseline().apply(plan["changes"])
    gained = after.figures["tertiary_hospital_1h"].covered - demo.baseline().figures["tertiary_hospital_1h"].covered
    assert gained == pytest.approx(summary["newly_covered_people"], abs=1e-6)


def test_time_limit_keeps_the_best_known_and_reports_the_gap():
    cov = random_coverage(11, rows=3000, cands=400, density=0.02)
    greedy = lazy_greedy(cov, 25)
    stopped = solve(cov, 25, 0.05, greedy.chosen)
    if stopped.optimal:
        pytest.skip("HiGHS proved this instance within 0.05 s; nothing to stop")
    assert str(stopped.status).startswith("stopped")
    assert stopped.people >= greedy.gains.sum() - 1e-9
    assert stopped.bound >= stopped.people
    assert 0 <= stopped.gap < 1


def test_candidates_that_cover_no_one_new_stop_with_a_clear_error(demo, coarse, cov):
    alone = np.asarray(cov.by_candidate.T @ cov.people).ravel()
    useless = np.flatnonzero(alone == 0)[:4]
    few = Candidates(coarse.table.iloc[useless].reset_index(drop=True),
                     {m: a[useless] for m, a in coarse.attached.items()}, [])
    with pytest.raises(SuggestError, match="none of the 4 candidate sites would bring anyone new"):
        suggest(demo, "township_hc", 2, candidates=few)


def test_help_keeps_the_example_lines():
    run = CliRunner().invoke(cli, ["suggest", "--help"], terminal_width=200)
    assert run.exit_code == 0
    assert "\n    healthreach suggest --type township_hc --count 5\n" in run.output


def test_the_documented_python_example_runs(demo_inputs, capsys):
    import re

    doc = Path(__file__).resolve().parents[1] / "docs" / "suggest.md"
    (code,) = re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.DOTALL)
    namespace: dict = {}
    exec(compile(code, str(doc), "exec"), namespace)  # noqa: S102 - the documentation's own example
    result = namespace["result"]
    assert len(result.sites) == 5
    assert result.exact[5].optimal
    assert "upper_bound_people" in capsys.readouterr().out


@pytest.mark.parametrize("width", [60, 80, 200])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_sites_table_never_cuts_a_figure_at_any_width(demo, coarse, width, lang):
    from rich.console import Console

    from healthreach.cli.suggest import print_result

    result = suggest(demo, "township_hc", 3, candidates=coarse, group="65plus")
    out = Console(width=width, record=True, color_system=None)
    print_result(result, out, lang)
    text = out.export_text()
    assert "…" not in text
    lines = text.splitlines()
    for _, row in result.sites.iterrows():  # each site's rank, gains and share on one line, whole
        figures = [f"{row['people_newly_covered']:,.0f}", f"{row['people_newly_covered_65plus']:,.0f}",
                   f"{row['share_after']:.2%}"]
        assert any(all(f in line for f in figures) and str(row["id"]) in line for line in lines), text
    assert ("新增覆盖" in text) == (lang == "zh")
    if width >= 120:  # room for the coordinates, whole
        assert f"{result.sites['lon'].iloc[0]:.6f}" in text
