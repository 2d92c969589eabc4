"""healthreach suggest with a population group's people (``--group 65plus``) and a tier's catchments (``--tier``):
gains against the scenario engine, exact against brute force with the group's weights, the command line and its
scenario file, and the errors of bad objectives.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from scipy import sparse

from healthreach.cli import cli
from healthreach.errors import SuggestError
from healthreach.suggest import suggest
from healthreach.suggest.candidates import Candidates, auto_candidates, filtered
from healthreach.suggest.coverage import Coverage, coverage_sets
from healthreach.suggest.exact import lp_bound, solve
from healthreach.suggest.greedy import lazy_greedy
from healthreach.suggest.objective import objective_of
from healthreach.travel import Need

GROUP = "65plus"
GROUP_FIGURE = "primary_care_15min_65plus"


@pytest.fixture(scope="module")
def demo(demo_audit):
    return demo_audit.study


@pytest.fixture(scope="module")
def coarse(demo) -> Candidates:
    return filtered(demo, auto_candidates(demo, 2000.0), "township_hc", [], 1000.0)


def add(table: pd.DataFrame, j: int, fid: str = "T1") -> dict:
    row = table.iloc[j]
    return {"add": fid, "name": fid, "type": "township_hc", "at": {"lon": float(row["lon"]), "lat": float(row["lat"])}}


def tier_seconds(evaluation, minutes_limit: float = 15.0) -> np.ndarray:
    """Whether each cell lies within the limit of a township-tier facility (walk in urban, drive in rural), read
    straight off the evaluation's travel surfaces.
    """
    walk = evaluation.travel[Need("township_tier", "walk", "time", "to")].cost
    drive = evaluation.travel[Need("township_tier", "drive", "time", "to")].cost
    return np.where(evaluation.inputs.cells.urban, walk, drive) <= minutes_limit * 60


def brute_force(cov: Coverage, k: int) -> float:
    return max(cov.value(np.array(c)) for c in itertools.combinations(range(cov.matrix.shape[1]), k))


def test_group_gains_are_the_engines_for_the_group_and_for_everyone(demo, coarse):
    result = suggest(demo, "township_hc", 3, candidates=coarse, group=GROUP)
    base = demo.baseline()
    assert result.standard == "primary_care_15min"
    assert result.objective.group_figure == GROUP_FIGURE
    for k in range(1, 4):
        after = base.apply(result.changes[:k])
        group_gain = after.figures[GROUP_FIGURE].covered - base.figures[GROUP_FIGURE].covered
        everyone_gain = after.figures["primary_care_15min"].covered - base.figures["primary_care_15min"].covered
        assert result.sites["cumulative_people_65plus"].iloc[k - 1] == pytest.approx(group_gain, abs=1e-6)
        assert result.sites["cumulative_people"].iloc[k - 1] == pytest.approx(everyone_gain, abs=1e-6)
    gains = result.sites["people_newly_covered_65plus"].to_numpy()
    assert (np.diff(gains) <= 1e-9).all()  # ranked by the group's people
    assert result.sites["share_after_65plus"].iloc[-1] == pytest.approx(result.after.figures[GROUP_FIGURE].share)
    diff = base.diff(result.after)
    assert diff.newly_covered_of(GROUP) == pytest.approx(result.newly_covered_counted, abs=1e-6)
    curve = result.curve
    assert curve["greedy_people_65plus"].iloc[-1] == pytest.approx(result.newly_covered_counted)
    assert curve["greedy_people"].iloc[-1] == pytest.approx(result.newly_covered)
    assert (curve["upper_bound_people_65plus"] >= curve["greedy_people_65plus"] - 1e-9).all()


def test_group_weights_change_the_choice_where_the_group_lives_elsewhere(demo, coarse):
    """The group's best site is the one with the most people of the group, not the most people."""
    base = demo.baseline()
    cov = coverage_sets(base, objective_of(base, group=GROUP), coarse)
    alone_group = np.asarray(cov.by_candidate.T @ cov.people).ravel()
    alone_all = np.asarray(cov.by_candidate.T @ cov.everyone).ravel()
    result = suggest(demo, "township_hc", 1, candidates=coarse, group=GROUP)
    j = int(np.flatnonzero(coarse.table["id"] == result.sites["candidate"].iloc[0])[0])
    assert alone_group[j] == pytest.approx(alone_group.max())
    assert result.sites["people_newly_covered"].iloc[0] == pytest.approx(alone_all[j])
    groups = base.inputs.cells.groups[GROUP]
    np.testing.assert_allclose(cov.total, groups.sum())
    assert cov.everyone_total == pytest.approx(base.inputs.cells.people.sum())


def test_group_coverage_sets_are_the_engines_cells_and_group_people(demo, coarse):
    base = demo.baseline()
    cov = coverage_sets(base, objective_of(base, group=GROUP), coarse)
    alone = np.asarray(cov.by_candidate.T @ cov.people).ravel()
    for j in np.argsort(-alone)[:4]:
        after = base.apply([add(coarse.table, int(j))])
        gained = after.figures[GROUP_FIGURE].covered - base.figures[GROUP_FIGURE].covered
        assert cov.value(np.array([j])) == pytest.approx(gained, abs=1e-6)
        everyone = after.figures["primary_care_15min"].covered - base.figures["primary_care_15min"].covered
        assert cov.value(np.array([j]), everyone=True) == pytest.approx(everyone, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_exact_with_weights_equals_brute_force_even_with_rows_of_no_one_in_the_group(seed):
    rng = np.random.default_rng(100 + seed)
    m = sparse.csr_matrix((rng.random((70, 13)) < 0.2).astype(float))
    m = m[np.asarray(m.sum(axis=1)).ravel() > 0]
    everyone = rng.integers(1, 500, m.shape[0]).astype(float)
    group = np.where(rng.random(m.shape[0]) < 0.3, 0.0, everyone * rng.random(m.shape[0]))  # some rows: none
    cov = Coverage("s", 900.0, m, group, np.arange(m.shape[0]), 0.0, float(group.sum()) * 2, m.shape[0], everyone,
                   0.0, float(everyone.sum()) * 2)
    greedy = lazy_greedy(cov, 4)
    for k in (2, 3, 4):
        exact = solve(cov, k, 30.0, greedy.chosen[:k])
        best = brute_force(cov, k)
        assert exact.optimal
        assert exact.people == pytest.approx(best)
        assert exact.warm_start == pytest.approx(cov.value(greedy.chosen[:k]))
        assert lp_bound(cov, k) >= best - 1e-6
        assert greedy.upper[k - 1] >= best - 1e-6


def test_exact_with_the_group_on_the_demo_equals_brute_force_over_the_best_sites(demo, coarse):
    base = demo.baseline()
    cov = coverage_sets(base, objective_of(base, group=GROUP), coarse)
    top = np.sort(np.argsort(-np.asarray(cov.by_candidate.T @ cov.people).ravel())[:14])
    small = Coverage(cov.standard, cov.limit_s, cov.matrix[:, top], cov.people, cov.row_of, cov.covered_today,
                     cov.total, cov.uncovered_cells, cov.everyone, cov.everyone_today, cov.everyone_total)
    greedy = lazy_greedy(small, 3)
    for k in (2, 3):
        exact = solve(small, k, 30.0, greedy.chosen[:k])
        assert exact.optimal
        assert exact.people == pytest.approx(brute_force(small, k))


def test_tier_objective_counts_people_newly_within_the_tier_and_sites_join_its_catchments(demo, coarse):
    base = demo.baseline()
    result = suggest(demo, "township_hc", 3, candidates=coarse, tier="township", method="exact", time_limit_s=60)
    assert result.objective.tier == "township"
    assert result.standard == "tier_catchments_township_15min"
    people = base.inputs.cells.people
    before = tier_seconds(base)
    for k in range(1, 4):
        after = base.apply(result.changes[:k])
        gained = float(people[tier_seconds(after) & ~before].sum())
        lost = float(people[before & ~tier_seconds(after)].sum())
        assert lost == 0
        assert result.sites["cumulative_people"].iloc[k - 1] == pytest.approx(gained, abs=1e-6)
    facilities = result.after.facility_table.set_index("id")
    for _, site in result.sites.iterrows():
        assert facilities.loc[site["id"], "tier"] == "township"
        assert site["tier_catchment_people"] == pytest.approx(facilities.loc[site["id"], "tier_catchment_people"])
        assert site["tier_catchment_people"] >= site["people_newly_covered"] - 0.5  # the catchment holds them
    assert all(e.optimal for e in result.exact.values())
    # the circle objective counts primary care of every level: a new township centre adds less there
    circle = suggest(demo, "township_hc", 3, candidates=coarse)
    assert result.newly_covered >= circle.newly_covered


def test_tier_coverage_sets_are_the_cells_the_engine_brings_within_the_tier(demo, coarse):
    base = demo.baseline()
    cov = coverage_sets(base, objective_of(base, tier="township", tier_min=20), coarse)
    before = tier_seconds(base, 20)
    alone = np.asarray(cov.by_candidate.T @ cov.people).ravel()
    for j in [*np.argsort(-alone)[:3], int(np.flatnonzero(alone == 0)[0])]:
        after = base.apply([add(coarse.table, int(j))])
        cells = np.flatnonzero(tier_seconds(after, 20) & ~before & (base.inputs.cells.people > 0))
        np.testing.assert_array_equal(np.flatnonzero(np.isin(cov.row_of, cov.rows_of(int(j)))), cells)


def test_bad_objectives_give_clear_errors(demo):
    with pytest.raises(SuggestError, match=r"no population group '80plus' .*its groups: 65plus"):
        suggest(demo, "township_hc", 2, group="80plus")
    with pytest.raises(SuggestError, match=r"no tier 'hamlet' .*its tiers: village, township, county, tertiary"):
        suggest(demo, "township_hc", 2, tier="hamlet")
    with pytest.raises(SuggestError, match="name one objective"):
        suggest(demo, "township_hc", 2, tier="township", standard="primary_care_15min")
    with pytest.raises(SuggestError, match="--tier-min 20 is the time limit of a --tier search"):
        suggest(demo, "township_hc", 2, tier_min=20)
    with pytest.raises(SuggestError, match="--tier-min must be a positive number"):
        suggest(demo, "township_hc", 2, tier="township", tier_min=0)
    with pytest.raises(SuggestError, match="does not count for group 'township_tier'"):
        suggest(demo, "village_clinic", 2, tier="township")
    with pytest.raises(SuggestError, match="for a tier's catchments use --tier"):
        suggest(demo, "township_hc", 2, standard="tier_catchments")


def test_cli_group_and_tier_then_scenario_reports_the_same_group_figures(tmp_path):
    out = tmp_path / "suggest"
    run = CliRunner().invoke(cli, ["suggest", "--type", "township_hc", "--count", "2", "--group", GROUP,
                                   "--method", "exact", "--spacing-m", "2000", "--out", str(out), "--offline",
                                   "--lang", "en"])
    assert run.exit_code == 0, run.output
    assert "warm-started from greedy's sites" in run.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["counted"]["population_group"] == GROUP
    assert summary["exact"]["2"]["warm_start_people"] is not None
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert {"people_newly_covered_65plus", "cumulative_people_65plus", "share_after_65plus"} <= set(sites.columns)
    curve = pd.read_csv(out / "curve.csv", encoding="utf-8-sig")
    assert {"greedy_people", "greedy_people_65plus", "upper_bound_people_65plus"} <= set(curve.columns)
    candidates = pd.read_csv(out / "candidates.csv", encoding="utf-8-sig")
    assert candidates["people_alone_65plus"].iloc[0] == candidates["people_alone_65plus"].max()
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "people aged 65 and over" in html
    checked = tmp_path / "checked"
    run = CliRunner().invoke(cli, ["scenario", str(out / "scenario.yaml"), "--out", str(checked), "--no-map"])
    assert run.exit_code == 0, run.output
    standards = pd.read_csv(checked / "standards.csv", encoding="utf-8-sig").set_index("standard")
    assert standards.loc[GROUP_FIGURE, "change_people"] == pytest.approx(
        summary["counted"]["newly_covered_people"], abs=0.05)
    assert standards.loc[GROUP_FIGURE, "scenario"] == pytest.approx(summary["counted"]["after"]["share"], abs=5e-7)
    assert standards.loc["primary_care_15min", "change_people"] == pytest.approx(
        summary["newly_covered_people"], abs=0.05)
    comparison = json.loads((checked / "comparison.json").read_text(encoding="utf-8"))
    moves = comparison["primary_care"]["population_groups"][GROUP]
    assert moves["newly_covered_people"] == round(summary["counted"]["newly_covered_people"])

    tier_out = tmp_path / "tier"
    run = CliRunner().invoke(cli, ["suggest", "--type", "乡镇卫生院", "--count", "2", "--tier", "township",
                                   "--tier-min", "20", "--group", GROUP, "--spacing-m", "2000", "--offline",
                                   "--out", str(tier_out), "--lang", "zh"])
    assert run.exit_code == 0, run.output
    assert "新站点纳入乡镇级服务网络后的服务人口" in run.output
    summary = json.loads((tier_out / "summary.json").read_text(encoding="utf-8"))
    assert summary["tier"] == {"standard": "tier_catchments", "tier": "township", "limit_min": 20.0}
    assert summary["standard"] == "tier_catchments_township_20min"
    sites = pd.read_csv(tier_out / "sites.csv", encoding="utf-8-sig")
    tier_html = (tier_out / "map.html").read_text(encoding="utf-8")
    for _, site in sites.iterrows():  # each site's tooltip gives its tier catchment
        assert f"纳入乡镇级服务网络后服务 {site['tier_catchment_people']:,.0f} 人" in tier_html
    plan = yaml.safe_load((tier_out / "scenario.yaml").read_text(encoding="utf-8"))
    tier_checked = tmp_path / "tier_checked"
    run = CliRunner().invoke(cli, ["scenario", str(tier_out / "scenario.yaml"), "--out", str(tier_checked),
                                   "--no-map"])
    assert run.exit_code == 0, run.output
    facilities = pd.read_csv(tier_checked / "facilities.csv", encoding="utf-8-sig").set_index("id")
    for _, site in sites.iterrows():
        assert facilities.loc[site["id"], "tier_catchment_people_after"] == pytest.approx(
            site["tier_catchment_people"], abs=0.5)
    assert [c["add"] for c in plan["changes"]] == list(sites["id"])


def test_cli_unknown_group_lists_the_studys_groups(tmp_path):
    run = CliRunner().invoke(cli, ["suggest", "--type", "township_hc", "--count", "1", "--group", "elderly",
                                   "--no-map", "--out", str(tmp_path / "o"), "--lang", "zh"])
    assert run.exit_code == 1, run.output
    assert "Traceback" not in run.output
    assert "没有人群“elderly”" in run.output
    assert "65plus" in run.output
