"""The change-steps benchmark runs both checkouts in processes of their own and reports every step."""

from __future__ import annotations

import pytest

from benchmarks import bench_change_steps


@pytest.mark.slow
def test_the_change_steps_benchmark_times_both_checkouts_in_turn():
    """The checkout as its own peer: one process each, the same changes, every step timed on both sides."""
    res = bench_change_steps.measure(bench_change_steps.ROOT, "demo", 1, 1)
    assert res["changes_per_side"] == 3  # one add, one relocation, one closure
    assert len(res["load_1min"]) == 2    # two processes: this checkout, then the peer
    for key in bench_change_steps.STEPS:
        row = res["median"][key]
        assert row["this_ms"] > 0
        assert row["peer_ms"] > 0
    assert res["median"]["whole_answer"]["this_ms"] >= res["median"]["check_apply"]["this_ms"]
    assert res["p90"]["whole_answer"]["this_ms"] >= res["median"]["whole_answer"]["this_ms"]
