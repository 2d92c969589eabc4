"""Facts every audit must satisfy, on the small study and on the demo county."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from conftest import audit

from healthreach.inputs import load_inputs
from healthreach.network import attach_facilities
from healthreach.study import load_study
from healthreach.travel import in_group


@pytest.fixture(params=["small", "demo"])
def result(request, small_study):
    if request.param == "demo":
        return request.getfixturevalue("demo_audit")
    return audit(load_inputs(load_study(small_study)))


def test_shares_lie_between_zero_and_one(result):
    for f in result.figures.values():
        if f.unit == "share of people" and f.share is not None:
            assert 0.0 <= f.share <= 1.0, f.id
            assert f.covered <= f.population + 1e-6, f.id
    shares = result.townships.filter(like="share").to_numpy(float)
    assert np.nanmin(shares) >= 0
    assert np.nanmax(shares) <= 1


def test_population_is_conserved(result):
    people = result.inputs.cells.people
    total = people.sum()
    assert result.townships["people"].sum() == pytest.approx(total, abs=len(result.townships))
    primary = result.figure("primary_care_15min")
    table = result.facility_table
    # the 15-minute catchments add up to the covered population ...
    assert table["catchment_people_15min"].sum() == pytest.approx(primary.covered, rel=1e-6, abs=len(table))
    # ... and all catchments to everyone who can reach primary care at all
    reachable = people[np.isfinite(result.primary_seconds)].sum()
    assert table["catchment_people"].sum() == pytest.approx(reachable, rel=1e-6, abs=len(table))
    assert (result.figure("emergency_radius_urban").population
            + result.figure("emergency_radius_rural_10km").population) == pytest.approx(total)


def test_catchments_follow_the_nearest_facility(result):
    # every cell's facility is a primary-care facility, and no other one is nearer for that cell
    facilities = result.facilities
    member = in_group(facilities, result.inputs.profile.groups["primary_care"])
    reached = result.primary_facility >= 0
    assert member[result.primary_facility[reached]].all()


def test_adding_a_facility_never_lowers_coverage(result):
    inputs = result.inputs
    cells = inputs.cells
    worst = int(np.argmax(np.where(cells.people > 0, np.nan_to_num(result.primary_seconds, posinf=1e9), -1)))
    new = result.facilities.iloc[[0]].copy()
    new["id"], new["type"], new["emergency"] = "NEW", "township_hc", True
    new["x"], new["y"] = cells.x[worst], cells.y[worst]
    attach_facilities(inputs.network, new)
    after = audit(inputs, pd.concat([result.facilities, new], ignore_index=True))
    for before_fig, after_fig in zip(result.figures.values(), after.figures.values(), strict=True):
        if before_fig.share is not None:
            assert after_fig.share >= before_fig.share - 1e-12, before_fig.id
    assert after.figure("primary_care_15min").covered > result.figure("primary_care_15min").covered


def test_demo_network_agrees_with_networkx(demo_inputs):
    net = demo_inputs.network
    facilities = demo_inputs.facilities
    rows = np.flatnonzero(in_group(facilities, demo_inputs.profile.groups["primary_care"]))
    sources = net.segment_ends(facilities["seg_drive"].to_numpy()[rows])[0]
    from healthreach.reach import nearest_facility

    surface = nearest_facility(net, net.at_nodes(sources), "drive", "time", "to", rows)
    graph = nx.DiGraph()
    for t, h, w in zip(net.tail, net.head, net.time_s["drive"], strict=True):
        if np.isfinite(w) and (not graph.has_edge(h, t) or graph[h][t]["w"] > w):
            graph.add_edge(int(h), int(t), w=float(w))  # reversed: patients travel to the facility
    lengths = nx.multi_source_dijkstra_path_length(graph, set(sources.tolist()), weight="w")
    sample = np.random.default_rng(0).choice(net.n_nodes, 500, replace=False)
    expected = np.array([lengths.get(int(n), np.inf) for n in sample])
    np.testing.assert_allclose(surface.cost[sample], expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("width", [60, 80, 160])
def test_terminal_table_never_cuts_a_figure(result, width):
    from rich.console import Console

    from healthreach.report import print_summary

    console = Console(width=width, record=True, color_system=None)
    print_summary(result, console)
    text = console.export_text()
    for f in result.figures.values():
        assert f"{f.population:,.0f}" in text, f.id
        if f.covered is not None:
            assert f"{f.covered:,.0f}" in text, f.id
        if f.share is not None and f.unit == "share of people" and "mean_response_min" not in f.details:
            assert f"{f.share:.1%}" in text, f.id
