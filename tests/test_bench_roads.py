"""The road layer benchmark runs end to end: on a generated study, with its cache folder, and prints its JSON."""

from __future__ import annotations

import json

from benchmarks import bench_roads


def test_the_road_benchmark_runs_on_a_generated_study_in_a_given_cache(tmp_path, capsys):
    assert bench_roads.main(["--size", "small", "--cache", str(tmp_path), "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["size"] == "small"
    assert result["lines"] > 1000
    assert result["repeats"] == 1
    for name in ("geos line_merge", "merge_lines", "layers cold", "layers warm"):
        assert result[name]["median_s"] > 0
    assert "the same lines, checked first" in out
    assert (tmp_path / "synth").is_dir()  # the study was written where --cache said
