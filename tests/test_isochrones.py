"""Band polygons: the same areas and people as the cells they are drawn from, each layer drawn once."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine
from conftest import audit, write_study
from rasterio import features

from healthreach.gis import audit_layers
from healthreach.grid import Grid
from healthreach.inputs import load_inputs
from healthreach.isochrones import BandPolygons, bands, cell_squares
from healthreach.maps.audit import audit_map
from healthreach.study import load_study

BREAKS_S = [300.0, 600.0, 900.0, 1800.0]


def random_cells(seed: int = 3, rows: int = 60, cols: int = 80, cell_m: float = 100.0):
    """A grid with holes, islands and unreachable cells: flat indices and values (seconds) of its cells."""
    rng = np.random.default_rng(seed)
    grid = Grid("EPSG:4545", Affine(cell_m, 0, 500_000.0, 0, -cell_m, 3_000_000.0), cols, rows)
    flat = np.sort(rng.choice(rows * cols, size=rows * cols * 3 // 4, replace=False))
    r, c = np.divmod(flat, cols)
    seconds = 40.0 * np.hypot(r - rows / 2, c - cols / 3) + rng.normal(0, 120, len(flat))  # rings, ragged edges
    seconds[rng.random(len(flat)) < 0.03] = np.inf
    return grid, flat, np.abs(seconds)


def shape_by_shape(grid: Grid, flat: np.ndarray, values: np.ndarray, breaks: list[float]) -> dict[int, object]:
    """The reference: every region of the polygonised grid one ``shape()`` at a time, united per band."""
    code = np.searchsorted(np.asarray(breaks), values, side="left")
    raster = np.full(grid.shape, -1, np.int32)
    raster.ravel()[flat] = np.where(code < len(breaks), code, -1)
    parts: dict[int, list] = {}
    for geom, value in features.shapes(raster, mask=raster >= 0, transform=grid.transform, connectivity=4):
        parts.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    return {band: shapely.union_all(p) for band, p in parts.items()}


def test_each_band_covers_exactly_the_area_of_its_cells():
    grid, flat, seconds = random_cells()
    frame = bands(grid, flat, seconds, BREAKS_S)
    code = np.searchsorted(BREAKS_S, seconds, side="left")
    reference = shape_by_shape(grid, flat, seconds, BREAKS_S)
    assert frame["band"].tolist() == sorted(reference) == [0, 1, 2, 3]
    for band, geom in zip(frame["band"], frame.geometry, strict=True):
        squares = cell_squares(grid, flat[code == band]).geometry
        cells_union = shapely.coverage_union_all(squares.to_numpy())
        assert geom.is_valid
        assert geom.area == pytest.approx((code == band).sum() * grid.cell_m**2, abs=1e-6)
        assert shapely.symmetric_difference(geom, cells_union).area < 1e-6  # m²
        assert shapely.symmetric_difference(geom, reference[band]).area < 1e-6


def test_a_cell_centre_lies_in_the_band_of_its_value_and_the_people_per_band_add_up():
    grid, flat, seconds = random_cells(seed=11)
    people = np.random.default_rng(5).integers(0, 40, len(flat)).astype(float)
    frame = bands(grid, flat, seconds, BREAKS_S, labels=["a", "b", "c", "d"])
    code = np.searchsorted(BREAKS_S, seconds, side="left")
    x, y = grid.centres(flat)
    for band, geom, label in zip(frame["band"], frame.geometry, frame["label"], strict=True):
        inside = shapely.contains_xy(geom, x, y)
        assert np.array_equal(inside, code == band)
        assert people[inside].sum() == people[code == band].sum()
        assert label == "abcd"[band]
    assert frame["lower"].tolist() == [0.0, 300.0, 600.0, 900.0]
    assert frame["upper"].tolist() == BREAKS_S


def test_no_cell_in_any_band_gives_an_empty_table():
    grid, flat, _ = random_cells()
    frame = bands(grid, flat, np.full(len(flat), np.inf), BREAKS_S)
    assert frame.empty
    assert list(frame.columns) == ["band", "lower", "upper", "label", "geometry"]


def test_a_layer_asked_for_again_is_reused_and_simplifying_reuses_the_drawing():
    grid, flat, seconds = random_cells()
    polygons = BandPolygons(grid, flat)
    first = polygons.bands(seconds, BREAKS_S)
    again = polygons.bands(seconds.copy(), BREAKS_S, labels=["a", "b", "c", "d"])  # equal values, another array
    simplified = polygons.bands(seconds, BREAKS_S, simplify_m=150.0)
    assert polygons.drawn == 1
    assert all(shapely.equals(first.geometry, again.geometry))
    assert again["label"].tolist() == ["a", "b", "c", "d"]
    assert all(shapely.equals(simplified.geometry, bands(grid, flat, seconds, BREAKS_S, simplify_m=150.0).geometry))
    changed = seconds.copy()
    changed[0] += 1000.0
    polygons.bands(changed, BREAKS_S)
    assert polygons.drawn == 2


def test_only_the_most_recent_layers_are_kept():
    grid, flat, seconds = random_cells()
    polygons = BandPolygons(grid, flat, capacity=2)
    for shift in (0.0, 1.0, 2.0, 0.0):
        polygons.bands(seconds + shift, BREAKS_S)
    assert len(polygons.layers) == 2
    assert polygons.drawn == 4  # the first layer had been let go when asked for again


@pytest.fixture(scope="module")
def small_audit(tmp_path_factory):
    inputs = load_inputs(load_study(write_study(tmp_path_factory.mktemp("bands"))))
    return audit(inputs)


def test_the_map_and_the_geopackage_draw_each_distinct_layer_once(small_audit):
    polygons = small_audit.study.polygons
    layers = audit_layers(small_audit)
    drawn = polygons.drawn
    audit_map(small_audit)
    # the map's time bands are the GeoPackage's primary-care bands (the same breaks), simplified: not drawn again;
    # its emergency areas, people beyond the circle and beds within reach (E2SFCA) are layers of their own
    assert polygons.drawn <= drawn + 3
    after_map = polygons.drawn
    audit_map(small_audit)
    audit_layers(small_audit)
    assert polygons.drawn == after_map
    assert layers["primary_care_bands"]["band"].tolist() == sorted(set(layers["primary_care_bands"]["band"]))
