"""The maps' road layers kept on disk: read back exactly as drawn, never for another network, tolerance or
datum; a damaged entry is drawn again, an unwritable cache only logs; an audit's map is the same either way.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from conftest import grid_roads, write_study

from healthreach.cache import save_npz
from healthreach.cli import cli
from healthreach.maps import roads
from healthreach.maps.layers import MAJOR_ROADS
from healthreach.maps.road_store import FOLDER, RoadStore, lines_digest
from healthreach.maps.roads import draw_road_layer, road_layer


def forbid_drawing(monkeypatch) -> None:
    """Make drawing a road layer fail: what follows must read every layer back."""
    def fail(*_args, **_kwargs):
        msg = "a kept road layer was drawn again"
        raise AssertionError(msg)
    monkeypatch.setattr(roads, "draw_road_layer", fail)


def kept(root) -> list:
    return sorted((root / FOLDER).glob("*.npz"))


@pytest.mark.parametrize("inside", [True, False], ids=["major", "minor"])
def test_a_kept_layer_is_read_back_as_drawn(tmp_path, monkeypatch, inside):
    lines = grid_roads()
    drawn = road_layer(lines, MAJOR_ROADS, inside, "wgs84", RoadStore(tmp_path, lines))
    assert drawn == draw_road_layer(lines, MAJOR_ROADS, inside, "wgs84", roads.ROAD_SIMPLIFY_M)
    assert {f["properties"]["road_class"] for f in drawn["features"]} == (
        {"urban_arterial", "county"} if inside else {"urban_branch", "village"})
    assert len(kept(tmp_path)) == 1
    forbid_drawing(monkeypatch)
    same_lines = grid_roads()  # another table, the same lines
    assert road_layer(same_lines, MAJOR_ROADS, inside, "wgs84", RoadStore(tmp_path, same_lines)) == drawn


def test_each_column_of_village_roads_is_merged_into_one_line(tmp_path):
    """The grid's village roads are ten columns of ten segments each: merged, each column is one line."""
    lines = grid_roads()
    layer = road_layer(lines, MAJOR_ROADS, False, "wgs84", RoadStore(tmp_path, lines))
    village = next(f for f in layer["features"] if f["properties"]["road_class"] == "village")
    assert village["geometry"]["type"] == "MultiLineString"
    assert len(village["geometry"]["hr"]) == 10
    assert all(len(line) < 20 for line in village["geometry"]["hr"])  # two points each, simplified


def test_another_network_tolerance_datum_or_classes_is_drawn_not_read(tmp_path):
    lines = grid_roads()
    road_layer(lines, MAJOR_ROADS, True, "wgs84", RoadStore(tmp_path, lines))
    moved = grid_roads()
    first = moved.geometry.iloc[0]
    moved.loc[moved.index[0], "geometry"] = shapely.LineString([first.coords[0], (first.coords[1][0] + 50.0,
                                                                                  first.coords[1][1])])
    reclassed = grid_roads()
    reclassed.loc[reclassed.index[0], "road_class"] = "national"
    assert len({lines_digest(lines), lines_digest(moved), lines_digest(reclassed)}) == 3
    assert RoadStore(tmp_path, moved).context != RoadStore(tmp_path, lines).context
    others = [(moved, MAJOR_ROADS, "wgs84", 15.0), (reclassed, MAJOR_ROADS, "wgs84", 15.0),
              (lines, MAJOR_ROADS, "wgs84", 40.0), (lines, MAJOR_ROADS, "gcj02", 15.0),
              (lines, MAJOR_ROADS - {"county"}, "wgs84", 15.0)]
    for n, (table, classes, datum, tolerance) in enumerate(others, start=2):
        got = road_layer(table, classes, True, datum, RoadStore(tmp_path, table), simplify_m=tolerance)
        assert got == draw_road_layer(table, classes, True, datum, tolerance)
        assert len(kept(tmp_path)) == n  # a new entry each time
    # the moved line is a minor road: that layer, read back for each network, shows the move
    moved_minor = road_layer(moved, MAJOR_ROADS, False, "wgs84", RoadStore(tmp_path, moved))
    assert moved_minor != road_layer(lines, MAJOR_ROADS, False, "wgs84", RoadStore(tmp_path, lines))


@pytest.mark.parametrize("damage", [lambda _: b"not an npz file", lambda data: data[:500],
                                    lambda data: data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 1])
                                    + data[len(data) // 2 + 1:]],
                         ids=["garbage", "truncated", "one byte flipped"])
def test_a_damaged_layer_is_drawn_again_with_a_warning(tmp_path, caplog, damage):
    lines = grid_roads()
    drawn = road_layer(lines, MAJOR_ROADS, False, "wgs84", RoadStore(tmp_path, lines))
    (path,) = kept(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    assert road_layer(lines, MAJOR_ROADS, False, "wgs84", RoadStore(tmp_path, lines)) == drawn
    assert "road layer cache" in caplog.text
    assert "not read" in caplog.text
    caplog.clear()
    again = road_layer(lines, MAJOR_ROADS, False, "wgs84", RoadStore(tmp_path, lines))  # written again, read cleanly
    assert again == drawn
    assert "not read" not in caplog.text


@pytest.mark.parametrize("text", [b'{"features": 3}', b"[1, 2]", b"{not json", b"\xff\xfe"],
                         ids=["no feature list", "not an object", "not JSON", "not UTF-8"])
def test_a_kept_text_that_is_no_layer_is_drawn_again(tmp_path, caplog, text):
    lines = grid_roads()
    drawn = road_layer(lines, MAJOR_ROADS, True, "wgs84", RoadStore(tmp_path, lines))
    (path,) = kept(tmp_path)
    save_npz(path, geojson=np.frombuffer(text, np.uint8))
    assert road_layer(lines, MAJOR_ROADS, True, "wgs84", RoadStore(tmp_path, lines)) == drawn
    assert "not read" in caplog.text


def test_an_unwritable_cache_only_logs(tmp_path, caplog):
    root = tmp_path / "a file, not a folder"
    root.write_text("")
    lines = grid_roads()
    got = road_layer(lines, MAJOR_ROADS, True, "wgs84", RoadStore(root, lines))
    assert got == draw_road_layer(lines, MAJOR_ROADS, True, "wgs84", roads.ROAD_SIMPLIFY_M)
    assert "road layer cache not written" in caplog.text


def page_without_ids(path) -> str:
    """A map page with folium's random element ids replaced by one name."""
    return re.sub(r"_[0-9a-f]{32}", "_ID", path.read_text(encoding="utf-8"))


def test_an_audits_map_is_the_same_read_back_or_drawn(tmp_path, monkeypatch):
    study = write_study(tmp_path / "study")
    cache = tmp_path / "cache"
    runner = CliRunner()

    def run(out: str):
        result = runner.invoke(cli, ["audit", str(study), "--out", str(tmp_path / out), "--cache-dir", str(cache),
                                     "--offline", "--lang", "en"])
        assert result.exit_code == 0, result.output
        return page_without_ids(tmp_path / out / "map.html")

    drawn = run("first")
    assert len(kept(cache)) == 2  # main and minor roads
    assert "Minor roads" in drawn
    assert "Main roads" in drawn
    forbid_drawing(monkeypatch)
    assert run("second") == drawn


def test_a_store_of_other_lines_is_refused(tmp_path):
    lines = grid_roads()
    with pytest.raises(ValueError, match="other lines"):
        road_layer(lines, MAJOR_ROADS, True, "wgs84", RoadStore(tmp_path, grid_roads()))


def test_a_class_written_as_a_number_is_not_the_same_as_its_text():
    lines, numbered = grid_roads(), grid_roads()
    lines["road_class"] = "1"
    numbered["road_class"] = 1
    assert lines_digest(lines) != lines_digest(numbered)
