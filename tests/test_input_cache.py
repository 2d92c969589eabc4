"""The read inputs kept in the disk cache: read back whole when nothing changed, never when anything did."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from healthreach import input_cache
from healthreach.api import open_study
from healthreach.cli import cli
from healthreach.inputs import load_inputs
from healthreach.study import load_study

REUSED = "reusing the cached inputs"


def opened(study_path, cache, **options):
    """(the inputs, the progress steps said in English) of one opening of ``study_path``."""
    said: list[str] = []
    inputs = load_inputs(load_study(study_path), lambda m: said.append(str(m)), cache=cache, **options)
    return inputs, said


def test_an_unchanged_study_is_read_back_whole_with_the_same_figures(small_study, tmp_path):
    cache = tmp_path / "cache"
    first, said = opened(small_study, cache)
    assert REUSED not in said
    assert "reading facilities" in said
    assert len(list((cache / input_cache.FOLDER).glob("*.pickle"))) == 1
    again, said = opened(small_study, cache)
    assert said == [REUSED]  # no file read but the cache entry
    assert again.input_hash == first.input_hash
    assert again.crs == first.crs
    assert again.warnings == first.warnings
    for name in ("flat", "x", "y", "people", "township", "urban"):
        assert np.array_equal(getattr(again.cells, name), getattr(first.cells, name))
        assert not getattr(again.cells, name).flags.writeable  # cells read back are read-only too
    pd.testing.assert_frame_equal(again.facilities, first.facilities)
    assert np.array_equal(again.network.time_s["drive"], first.network.time_s["drive"])
    fresh = open_study(str(small_study), cache=tmp_path / "empty").baseline()
    cached = open_study(str(small_study), cache=cache).baseline()
    assert {k: f.share for k, f in cached.figures.items()} == {k: f.share for k, f in fresh.figures.items()}
    pd.testing.assert_frame_equal(cached.townships, fresh.townships)


def test_a_changed_input_file_is_read_again(small_study, tmp_path):
    cache = tmp_path / "cache"
    first, _ = opened(small_study, cache)
    table = pd.read_csv(small_study.parent / "facilities.csv")
    table.loc[0, "beds"] = 99  # same file name and size class, other content
    table.to_csv(small_study.parent / "facilities.csv", index=False)
    again, said = opened(small_study, cache)
    assert REUSED not in said
    assert again.facilities.loc[0, "beds"] == 99
    assert first.facilities.loc[0, "beds"] == 20
    assert again.input_hash != first.input_hash


def test_a_changed_setting_or_path_is_read_again(small_study, tmp_path):
    cache = tmp_path / "cache"
    opened(small_study, cache)
    study = yaml.safe_load(small_study.read_text(encoding="utf-8"))
    study["name"] = "another name"
    small_study.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    renamed, said = opened(small_study, cache)
    assert REUSED not in said
    assert renamed.study.name == "another name"
    moved = small_study.parent.rename(tmp_path / "moved") / "study.yaml"  # same content, other paths
    again, said = opened(moved, cache)
    assert REUSED not in said
    assert again.study.facilities.path.parent == moved.parent  # messages name the files where they are now


def test_a_change_to_the_code_is_a_new_entry(small_study, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    opened(small_study, cache)
    monkeypatch.setattr(input_cache, "code_digest", lambda: "another version of the code")  # the name it calls
    _, said = opened(small_study, cache)
    assert REUSED not in said
    assert len(list((cache / input_cache.FOLDER).glob("*.pickle"))) == 2


def test_no_cache_reads_every_file(small_study, tmp_path):
    cache = tmp_path / "cache"
    opened(small_study, cache)
    _, said = opened(small_study, cache, use_cache=False)
    assert REUSED not in said
    assert "reading facilities" in said


def flip_one_byte(data: bytes) -> bytes:
    """``data`` with one byte in its middle changed: a damaged file that still unpickles, often."""
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]


@pytest.mark.parametrize("damage", [lambda _: b"", lambda _: b"not a pickle", lambda _: b"\x80\x05N.",
                                    lambda data: data[:1000], flip_one_byte],
                         ids=["empty", "garbage", "a pickled None", "truncated", "one byte flipped"])
def test_an_unreadable_entry_is_ignored_and_written_again(small_study, tmp_path, damage, caplog):
    cache = tmp_path / "cache"
    first, _ = opened(small_study, cache)
    (entry,) = (cache / input_cache.FOLDER).glob("*.pickle")
    entry.write_bytes(damage(entry.read_bytes()))
    again, said = opened(small_study, cache)
    assert REUSED not in said
    assert "not read" in caplog.text
    assert again.input_hash == first.input_hash
    _, said = opened(small_study, cache)
    assert said == [REUSED]


def test_inputs_that_are_not_local_files_are_not_kept(small_study, tmp_path):
    study = load_study(small_study)
    assert input_cache.kept(study)
    downloaded = study.model_copy(update={"roads": study.roads.model_copy(update={"path": None, "source": "boundary"})})
    assert not input_cache.kept(downloaded)
    assert input_cache.entry(downloaded, "hash", tmp_path) is None
    # a virtual raster may name files anywhere, even on a server
    virtual = study.model_copy(update={"population": study.population.model_copy(
        update={"path": small_study.parent / "population.vrt"})})
    assert not input_cache.kept(virtual)


def test_gdal_and_proj_settings_of_the_environment_are_part_of_the_key(small_study, tmp_path, monkeypatch):
    """A Shapefile read with SHAPE_ENCODING=CP1252 has other names: its entry is not the one read without it."""
    study = load_study(small_study)
    plain = input_cache.entry(study, "hash", tmp_path)
    monkeypatch.setenv("SHAPE_ENCODING", "CP1252")
    assert input_cache.entry(study, "hash", tmp_path) != plain
    monkeypatch.delenv("SHAPE_ENCODING")
    monkeypatch.setenv("HEALTHREACH_UNRELATED", "1")
    assert input_cache.entry(study, "hash", tmp_path) == plain


def test_a_cache_folder_that_cannot_be_written_only_loses_the_cache(small_study, tmp_path, caplog):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / input_cache.FOLDER).write_text("a file where the folder should be")
    first, said = opened(small_study, cache)
    assert "reading facilities" in said
    assert "inputs cache not written" in caplog.text
    again, said = opened(small_study, cache)
    assert REUSED not in said
    assert again.input_hash == first.input_hash


def test_the_audit_reads_the_kept_inputs_and_no_cache_reads_every_file(small_study, tmp_path):
    cache = tmp_path / "cache"

    def audit(*options: str) -> tuple[list[str], str]:
        """The facility names of facilities.csv and the map's HTML of one audit, map drawn."""
        out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
        result = CliRunner().invoke(cli, ["audit", str(small_study), "--out", str(out), "--offline",
                                          "--cache-dir", str(cache), "--lang", "en", *options])
        assert result.exit_code == 0, result.output
        names = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig")["name"].tolist()
        return names, (out / "map.html").read_text(encoding="utf-8")

    names, _ = audit()
    assert names == ["城东社区卫生服务中心", "白云镇中心卫生院"]
    (entry,) = (cache / input_cache.FOLDER).glob("*.pickle")
    kept = input_cache.read(entry)
    assert kept is not None
    kept.facilities.loc[0, "name"] = "read from the cache"  # marks the kept entry: a real run never alters it
    input_cache.write(entry, kept)
    names, page = audit()
    assert names[0] == "read from the cache"  # a second run reads the entry, not the files
    assert "read from the cache" in page  # and its map shows what it read
    names, page = audit("--no-cache")
    assert names[0] == "城东社区卫生服务中心"  # --no-cache reads every file
    assert "read from the cache" not in page
