"""The benchmarks' generated study: written once as study files, the same study for the same seed."""

from __future__ import annotations

import numpy as np

from benchmarks import synth
from healthreach import open_study

TINY = synth.Size("tiny", 11, 8)  # a 2 x 2 km study: 400 cells of 100 m, one township, 8 facilities


def test_a_generated_study_is_written_once_and_opened_as_a_study(tmp_path):
    path = synth.study_path(TINY, tmp_path, seed=3)
    assert path == synth.study_folder(TINY, tmp_path, seed=3) / "study.yaml"
    written = {p.name: p.stat().st_mtime_ns for p in path.parent.iterdir()}
    assert set(written) == {"study.yaml", "roads.gpkg", "population.tif", "townships.gpkg", "facilities.csv"}
    assert synth.study_path(TINY, tmp_path, seed=3) == path  # reused, not written again
    assert {p.name: p.stat().st_mtime_ns for p in path.parent.iterdir()} == written
    assert [p.name for p in (tmp_path / "synth").iterdir()] == [path.parent.name]  # no temporary left behind

    study = synth.open_generated(TINY, tmp_path, seed=3)
    _, people = synth.population(TINY, seed=3)
    assert len(study.inputs.cells.people) == TINY.cells == 400
    assert study.inputs.cells.people.sum() == np.float64(people.sum())  # every person of the raster counted
    assert len(study.inputs.facilities) == TINY.facilities
    assert study.inputs.boundaries["area_class"].tolist() == ["urban"]


def test_the_same_seed_gives_the_same_study_and_another_seed_another(tmp_path):
    first = open_study(synth.study_path(TINY, tmp_path / "a", seed=3), cache=tmp_path / "a")
    second = open_study(synth.study_path(TINY, tmp_path / "b", seed=3), cache=tmp_path / "b")
    other = open_study(synth.study_path(TINY, tmp_path / "c", seed=4), cache=tmp_path / "c")
    a, b = first.inputs, second.inputs
    np.testing.assert_array_equal(a.network.x, b.network.x)
    np.testing.assert_array_equal(a.network.length_m, b.network.length_m)
    np.testing.assert_array_equal(a.cells.people, b.cells.people)
    np.testing.assert_array_equal(a.facilities[["x", "y"]].to_numpy(), b.facilities[["x", "y"]].to_numpy())
    shares = {k: f.share for k, f in first.baseline().figures.items()}
    assert shares == {k: f.share for k, f in second.baseline().figures.items()}
    assert not np.array_equal(first.inputs.cells.people, other.inputs.cells.people)
