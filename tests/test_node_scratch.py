"""Repaired travel surfaces keep only the nodes that changed, and the working arrays they are repaired in are
put back after every repair: a later repair, chained or from the same base, equals a fresh search.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_reach import random_network

from healthreach.incremental import NodeScratch, repair_surface
from healthreach.network import Attachment
from healthreach.reach import nearest_facility

MIDWAY = "midway"
MODES = (("walk", "time", "to"), ("drive", "time", "to"), ("ambulance", "length", "from"))


def sites(net, rng, mode: str, count: int) -> Attachment:
    """``count`` facility sites: half mid-segment, half on a node."""
    xy = rng.uniform(0, 8000, (count, 2))
    on_node = net.at_nodes(rng.choice(net.n_nodes, count))
    return Attachment.concat([net.attach(xy[:, 0], xy[:, 1], mode)[: count // 2], on_node[count // 2:]])


def assert_equal_surfaces(got, expected) -> None:
    """The same cost at every node (to 1e-6 s or m), and ``at`` reads what ``cost`` and ``facility`` hold."""
    np.testing.assert_allclose(got.cost, expected.cost, rtol=0, atol=1e-6)
    nodes = np.arange(len(got.cost))
    cost, facility = got.at(nodes)
    np.testing.assert_array_equal(cost, got.cost)
    np.testing.assert_array_equal(facility, got.facility)


@pytest.mark.parametrize(("seed", "mode", "weight", "direction"), [(s, *m) for s in range(3) for m in MODES])
def test_chained_repairs_in_one_scratch_equal_fresh_searches(seed, mode, weight, direction):
    net, rng = random_network(seed, 300)
    k = 8
    at = sites(net, rng, mode, k)
    base = nearest_facility(net, at, mode, weight, direction, np.arange(k))
    scratch = NodeScratch()
    # close row 0, then add two sites, then close row 3: each step repairs the previous step's surface
    first, _ = repair_surface(net, base, np.array([0]), at[:0], np.zeros(0, np.int64), scratch=scratch)
    new = sites(net, rng, mode, 2)
    second, _ = repair_surface(net, first, np.zeros(0, np.int64), new, np.array([k, k + 1]), scratch=scratch)
    third, changed = repair_surface(net, second, np.array([3]), at[:0], np.zeros(0, np.int64), scratch=scratch)
    keep = np.r_[1, 2, np.arange(4, k)]
    everyone = Attachment.concat([at[keep], new])
    fresh = nearest_facility(net, everyone, mode, weight, direction, np.r_[keep, k, k + 1])
    assert_equal_surfaces(third, fresh)
    # a repaired surface shares its parent's base arrays and holds the nodes where it differs from them, or,
    # when they are more than half of all nodes, whole arrays of its own
    for parent, surface in ((base, first), (first, second), (second, third)):
        if len(surface.nodes):
            assert surface.base_cost is parent.base_cost
            assert np.all(np.diff(surface.nodes) > 0)
            assert 2 * len(surface.nodes) <= net.n_nodes
        else:
            assert surface.base_cost is not parent.base_cost
        assert not surface.base_cost.flags.writeable
        assert not surface.base_facility.flags.writeable
    if len(third.nodes):
        assert set(third.nodes) >= set(changed)
    # the scratch is back at the base values: a repair of the base now equals one in new working arrays
    again, _ = repair_surface(net, base, np.array([5]), at[:0], np.zeros(0, np.int64), scratch=scratch)
    alone, _ = repair_surface(net, base, np.array([5]), at[:0], np.zeros(0, np.int64))
    np.testing.assert_array_equal(again.cost, alone.cost)
    np.testing.assert_array_equal(again.facility, alone.facility)
    np.testing.assert_array_equal(scratch.cost, base.cost)
    np.testing.assert_array_equal(scratch.facility, base.facility)


def test_a_failed_or_concurrent_repair_leaves_the_scratch_usable():
    net, rng = random_network(11, 300)
    at = sites(net, rng, "drive", 6)
    base = nearest_facility(net, at, "drive", "time", "to", np.arange(6))
    expected, _ = repair_surface(net, base, np.array([2]), at[:0], np.zeros(0, np.int64))
    scratch = NodeScratch()
    repair_surface(net, base, np.array([1]), at[:0], np.zeros(0, np.int64), scratch=scratch)

    def fail_midway() -> None:  # a repair that fails half-way through its writes
        with scratch.holding(base) as work:
            work.cost[:] = 0.0
            raise RuntimeError(MIDWAY)

    with pytest.raises(RuntimeError, match=MIDWAY):
        fail_midway()
    after_failure, _ = repair_surface(net, base, np.array([2]), at[:0], np.zeros(0, np.int64), scratch=scratch)
    np.testing.assert_array_equal(after_failure.cost, expected.cost)
    with scratch.holding(base) as held:  # a second repair meanwhile works on copies of its own
        concurrent, _ = repair_surface(net, base, np.array([2]), at[:0], np.zeros(0, np.int64), scratch=scratch)
        assert held is scratch
    np.testing.assert_array_equal(concurrent.cost, expected.cost)
    np.testing.assert_array_equal(scratch.cost, base.cost)


def test_an_evaluation_after_a_change_holds_the_changed_nodes_only(demo_audit):
    base = demo_audit
    primary = base.study.primary
    row = int(np.flatnonzero(base.sources.member[primary.spec.group])[0])
    after = base.apply([{"close": str(base.sources.columns["id"][row])}])
    n = base.inputs.network.n_nodes
    repaired = [need for need in base.study.needs if after.surfaces[need] is not base.surfaces[need]]
    assert repaired
    for need in repaired:
        surface, before = after.surfaces[need], base.surfaces[need]
        if need.group == primary.spec.group:  # one of many facilities: its catchment, not every node
            assert 0 < len(surface.nodes) < n // 2
        if len(surface.nodes):  # else the closed facility served most nodes: whole arrays
            assert surface.base_cost is before.base_cost
            differ = (surface.cost != before.cost) | (surface.facility != before.facility)
            assert set(np.flatnonzero(differ)) <= set(surface.nodes)


def test_a_surface_that_differs_almost_everywhere_gets_whole_arrays():
    net, rng = random_network(5, 300)
    at = sites(net, rng, "drive", 4)
    base = nearest_facility(net, at, "drive", "time", "to", np.arange(4))
    scratch = NodeScratch()
    surface = base
    for row in range(4):  # every facility closes: no node reaches one
        surface, _ = repair_surface(net, surface, np.array([row]), at[:0], np.zeros(0, np.int64), scratch=scratch)
    assert len(surface.nodes) == 0
    assert surface.base_cost is not base.base_cost
    assert np.isinf(surface.cost).all()
    assert (surface.facility == -1).all()
    new = sites(net, rng, "drive", 1)
    reopened, _ = repair_surface(net, surface, np.zeros(0, np.int64), new, np.array([4]), scratch=scratch)
    assert_equal_surfaces(reopened, nearest_facility(net, new, "drive", "time", "to", np.array([4])))
    again, _ = repair_surface(net, base, np.array([0]), at[:0], np.zeros(0, np.int64), scratch=scratch)
    alone, _ = repair_surface(net, base, np.array([0]), at[:0], np.zeros(0, np.int64))
    np.testing.assert_array_equal(again.cost, alone.cost)
