"""The whole-command benchmark runs real processes and keeps the disk cache it is given."""

from __future__ import annotations

import pytest

from benchmarks import bench_process


@pytest.mark.slow
def test_the_process_benchmark_times_real_commands_and_keeps_the_cache_it_is_given(tmp_path):
    res = bench_process.measure(1, [], cache=tmp_path)
    assert set(res["cases"]) == {"demo audit", "demo scenario"}
    for case in res["cases"].values():
        assert case["median_s"] >= case["cpu_median_s"] / 2 > 0  # a process that ran (two cores at most)
        assert case["peak_rss_mib"] > 100                        # read by GNU time from the process itself
    assert res["bare_scipy_pass_s"] > 0
    assert list((tmp_path / "networks").glob("*.npz"))  # the demo's network, kept for the next run
    assert list((tmp_path / "snaps").glob("*.npz"))     # and its cells' attachment
