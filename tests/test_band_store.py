"""Band polygon layers kept on disk: read back exactly as drawn, never for other values, grids or cells."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine
from test_isochrones import BREAKS_S, random_cells

from healthreach.band_store import FOLDER, BandStore
from healthreach.grid import Grid
from healthreach.isochrones import BandPolygons, bands


def polygons(grid, flat, root) -> BandPolygons:
    """A fresh process's band polygons of ``grid``'s cells ``flat``, kept under the cache ``root``."""
    return BandPolygons(grid, flat, store=BandStore(root, grid, flat))


def exactly_equal(a, b) -> bool:
    return list(a["band"]) == list(b["band"]) and bool(shapely.equals_exact(a.geometry, b.geometry, 0).all())


@pytest.mark.parametrize("simplify_m", [0.0, 150.0])
def test_a_kept_layer_is_read_back_exactly_and_not_drawn_again(tmp_path, simplify_m):
    grid, flat, seconds = random_cells()
    first = polygons(grid, flat, tmp_path)
    drawn = first.bands(seconds, BREAKS_S, simplify_m=simplify_m)
    assert first.drawn == 1
    assert len(list((tmp_path / FOLDER).glob("*.npz"))) == (2 if simplify_m else 1)  # simplified: both kept
    later = polygons(grid, flat, tmp_path)
    read = later.bands(seconds.copy(), BREAKS_S, labels=["a", "b", "c", "d"], simplify_m=simplify_m)
    assert later.drawn == 0
    assert exactly_equal(read, drawn)
    assert exactly_equal(read, bands(grid, flat, seconds, BREAKS_S, simplify_m=simplify_m))
    assert read["label"].tolist() == ["a", "b", "c", "d"]


def test_other_values_breaks_or_tolerance_are_drawn_not_read(tmp_path):
    grid, flat, seconds = random_cells()
    polygons(grid, flat, tmp_path).bands(seconds, BREAKS_S, simplify_m=150.0)
    changed = seconds.copy()
    changed[0] += 1000.0  # one cell in another band
    for values, breaks, tolerance in ((changed, BREAKS_S, 150.0), (seconds, [300.0, 900.0], 150.0),
                                      (seconds, BREAKS_S, 40.0)):
        later = polygons(grid, flat, tmp_path)
        got = later.bands(values, breaks, simplify_m=tolerance)
        assert exactly_equal(got, bands(grid, flat, values, breaks, simplify_m=tolerance))
    assert later.drawn == 0  # the last one: a new tolerance of the unsimplified layer kept before


def test_another_grid_or_other_cells_never_read_a_kept_layer(tmp_path):
    grid, flat, seconds = random_cells()
    polygons(grid, flat, tmp_path).bands(seconds, BREAKS_S)
    moved = Grid(grid.crs, Affine(100.0, 0, 500_100.0, 0, -100.0, 3_000_000.0), grid.width, grid.height)
    assert BandStore(tmp_path, moved, flat).context != BandStore(tmp_path, grid, flat).context
    shifted = polygons(moved, flat, tmp_path)
    assert exactly_equal(shifted.bands(seconds, BREAKS_S), bands(moved, flat, seconds, BREAKS_S))
    assert shifted.drawn == 1
    fewer = polygons(grid, flat[1:], tmp_path)
    assert exactly_equal(fewer.bands(seconds[1:], BREAKS_S), bands(grid, flat[1:], seconds[1:], BREAKS_S))
    assert fewer.drawn == 1


@pytest.mark.parametrize("damage", [lambda _: b"not an npz file", lambda data: data[:1000],
                                    lambda data: data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 1])
                                    + data[len(data) // 2 + 1:]],
                         ids=["garbage", "truncated", "one byte flipped"])
def test_an_unreadable_layer_is_drawn_again(tmp_path, caplog, damage):
    grid, flat, seconds = random_cells()
    first = polygons(grid, flat, tmp_path)
    drawn = first.bands(seconds, BREAKS_S)
    (kept,) = (tmp_path / FOLDER).glob("*.npz")
    kept.write_bytes(damage(kept.read_bytes()))
    later = polygons(grid, flat, tmp_path)
    assert exactly_equal(later.bands(seconds, BREAKS_S), drawn)
    assert later.drawn == 1
    assert "not read" in caplog.text


def test_no_band_at_all_is_kept_too(tmp_path):
    grid, flat, _ = random_cells()
    nothing = np.full(len(flat), np.inf)
    polygons(grid, flat, tmp_path).bands(nothing, BREAKS_S)
    later = polygons(grid, flat, tmp_path)
    assert later.bands(nothing, BREAKS_S).empty
    assert later.drawn == 0
