"""Population: rasters in any CRS, polygons with totals, census rescaling and spreading."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
import yaml
from conftest import CRS, X0, Y0, write_study
from rasterio.transform import from_origin

from healthreach.errors import InputError, StudyError
from healthreach.grid import Grid
from healthreach.inputs import load_inputs
from healthreach.load.census import rescale_to_census, road_length_per_cell, spread_over_cells, spread_polygons
from healthreach.load.population import read_population
from healthreach.study import PopulationSpec, load_study

NODATA = -3.4028234663852886e38  # WorldPop's


def township_sums(inputs) -> np.ndarray:
    return np.bincount(inputs.cells.township, weights=inputs.cells.people, minlength=len(inputs.boundaries))


def edit(path, **changes):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if value is None:
            data[section].pop(name, None)
        else:
            data[section][name] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# --- rasters ---------------------------------------------------------------------

def geographic_raster(path, values, lon0=107.0, lat0=29.2, step=1 / 1200):
    """A WorldPop-like GeoTIFF: EPSG:4326, ~90 m cells, float32 with WorldPop's nodata."""
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype="float32", crs="EPSG:4326", transform=from_origin(lon0, lat0, step, step),
                       nodata=NODATA) as dst:
        dst.write(values.astype(np.float32), 1)
    return path


def test_geographic_raster_nodata_masked_and_total_kept(tmp_path):
    rng = np.random.default_rng(1)
    values = rng.gamma(0.6, 8.0, (120, 150))
    values[rng.random(values.shape) < 0.3] = NODATA  # rivers, no data
    path = geographic_raster(tmp_path / "pop.tif", values)
    expected = values[values > NODATA / 2].astype(np.float32).astype(float).sum()
    with rasterio.open(path) as src:
        bounds = rasterio.warp.transform_bounds(src.crs, CRS, *src.bounds)
    pad = 500
    grid, people = read_population(PopulationSpec(path=path), CRS,
                                   (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad), 100)
    assert grid.cell_m == 100
    assert people.min() >= 0
    assert people.sum() == pytest.approx(expected, rel=1e-9)


def test_only_the_window_over_the_study_is_read(tmp_path):
    values = np.full((400, 400), 2.0)
    path = geographic_raster(tmp_path / "pop.tif", values)
    # a 1 km square well inside the raster: ~ (1000 / 80.9) * (1000 / 92.6) source cells of 2 people
    from pyproj import Transformer
    cx, cy = Transformer.from_crs(4326, CRS, always_xy=True).transform(107.15, 29.05)
    bounds = (cx - 500, cy - 500, cx + 500, cy + 500)
    grid, people = read_population(PopulationSpec(path=path), CRS, bounds, 100)
    inside = people[1:-1, 1:-1]  # the grid's outer ring only partly overlaps the read window
    assert grid.shape in ((10, 10), (11, 11))
    cell_people = 2.0 * (100 * 100) / (1 / 1200 * 111_320 * np.cos(np.radians(29.05)) * 1 / 1200 * 110_850)
    assert inside.mean() == pytest.approx(cell_people, rel=0.05)


def test_raster_that_misses_the_study_area(tmp_path):
    path = geographic_raster(tmp_path / "pop.tif", np.ones((10, 10)), lon0=90.0, lat0=40.0)
    with pytest.raises(InputError, match="does not overlap the study area"):
        read_population(PopulationSpec(path=path), CRS, (X0, Y0, X0 + 1000, Y0 + 1000), 100)


def test_coarse_raster_is_spread_over_fine_cells():
    # one 1 km cell of 1000 people onto a 100 m grid: about 10 people in each of ~100 cells, total kept
    from healthreach.load.population import aggregate_to_grid

    grid = Grid.covering((X0 - 1000, Y0 - 1000, X0 + 2000, Y0 + 2000), 100, CRS)
    out = aggregate_to_grid(np.array([[1000.0]]), from_origin(X0, Y0 + 1000, 1000, 1000), CRS, grid)
    assert out.sum() == pytest.approx(1000)
    assert (out > 0).sum() == 100
    assert out.max() == pytest.approx(10)


# --- polygons with totals ---------------------------------------------------------

def test_spread_polygons_keeps_each_total_and_follows_area():
    grid = Grid.covering((0, 0, 1000, 1000), 100, CRS)
    left = shapely.box(0, 0, 250, 1000)         # 2.5 columns of cells
    square = shapely.box(600, 600, 800, 800)    # exactly 4 cells
    tiny = shapely.box(910, 110, 911, 111)      # smaller than any sub-cell
    out, report = spread_polygons(grid, [left, square, tiny], np.array([1000.0, 400.0, 7.0]))
    assert out.sum() == pytest.approx(1407)
    assert report.people_placed == pytest.approx(1407)
    assert out[:, 0].sum() == pytest.approx(400)
    assert out[:, 2].sum() == pytest.approx(200)
    assert out[2:4, 6:8] == pytest.approx(np.full((2, 2), 100.0))
    assert out[8, 9] == pytest.approx(7)


def test_polygon_partly_off_the_grid_places_only_its_share():
    grid = Grid.covering((0, 0, 1000, 1000), 100, CRS)
    half_out = shapely.box(500, 0, 1500, 1000)
    out, report = spread_polygons(grid, [half_out], np.array([800.0]))
    assert out.sum() == pytest.approx(400)
    assert report.people_in - report.people_placed == pytest.approx(400)


def test_road_density_weights_put_people_along_roads():
    grid = Grid.covering((0, 0, 1000, 1000), 100, CRS)
    roads = [shapely.LineString([(0, 150), (1000, 150)]), shapely.LineString([(550, 0), (550, 1000)])]
    metres = road_length_per_cell(grid, roads)
    assert metres.sum() == pytest.approx(2000)
    assert metres[8, 5] == pytest.approx(200)
    town = [shapely.box(0, 0, 1000, 1000), shapely.box(2000, 0, 3000, 1000)]  # the second has no roads (and no cells)
    out, report = spread_polygons(grid, town[:1], np.array([2000.0]), weights=metres)
    assert out.sum() == pytest.approx(2000)
    assert out[metres == 0].sum() == 0
    assert out[8, 5] == pytest.approx(200)
    roadless, report = spread_polygons(grid, town[:1], np.array([500.0]), weights=np.zeros(grid.shape))
    assert roadless == pytest.approx(np.full(grid.shape, 5.0))
    assert "no roads inside" in str(report.notes[0])


def test_spread_over_cells_and_rescale():
    township = np.array([0, 0, 0, 1, 1])
    people, report = spread_over_cells(township, np.array([300.0, np.nan]), names=["甲镇", "乙镇"])
    assert people.tolist() == [100, 100, 100, 0, 0]
    assert [str(n) for n in report.notes] == ["乙镇: no census total; counted as 0 people"]
    weighted, _ = spread_over_cells(township, np.array([300.0, 50.0]), weights=np.array([1, 2, 0, 0, 0.0]))
    assert weighted.tolist() == [100, 200, 0, 25, 25]  # 乙镇 has no roads: even
    raster = np.array([1.0, 3.0, 0.0, 0.0, 0.0])
    scaled, report = rescale_to_census(raster, township, np.array([400.0, 60.0]), names=["甲镇", "乙镇"])
    assert scaled.tolist() == [100, 300, 0, 30, 30]
    assert any("乙镇: census 60 people but none in the population raster" in n for n in map(str, report.notes))
    assert any("甲镇: raster 4 vs census 400" in n for n in map(str, report.notes))


# --- through the study file ------------------------------------------------------

def test_census_only_study_spreads_township_totals(small_study):
    edit(small_study, population__path=None)
    inputs = load_inputs(load_study(small_study))
    assert township_sums(inputs) == pytest.approx([4000, 2000])
    urban = inputs.cells.people[inputs.cells.township == 0]
    assert urban == pytest.approx(np.full(len(urban), urban[0]))  # uniform


def test_census_spread_by_road_density(small_study):
    edit(small_study, population__path=None, population__spread="road_density")
    inputs = load_inputs(load_study(small_study))
    assert township_sums(inputs) == pytest.approx([4000, 2000])
    grid = inputs.grid
    metres = road_length_per_cell(grid, inputs.network.lines.geometry.to_numpy()).ravel()[inputs.cells.flat]
    assert inputs.cells.people[metres == 0].sum() == 0
    assert (metres == 0).any()


def test_raster_rescaled_to_census(small_study):
    before = township_sums(load_inputs(load_study(small_study)))
    assert before == pytest.approx([2000, 800])  # the raster's own people
    edit(small_study, population__rescale_to_census=True)
    after = load_inputs(load_study(small_study))
    assert township_sums(after) == pytest.approx([4000, 2000])


def test_population_polygons_in_the_study(tmp_path):
    path = write_study(tmp_path / "s")
    squares = [shapely.box(X0 + i * 1000, Y0 + j * 1000, X0 + (i + 1) * 1000, Y0 + (j + 1) * 1000)
               for i in range(4) for j in range(4)]
    gpd.GeoDataFrame({"常住人口": [100.0 * (k + 1) for k in range(16)]}, geometry=squares,
                     crs=CRS).to_crs(4326).to_file(tmp_path / "s" / "grid.geojson")
    edit(path, population__path="grid.geojson", population__column="常住人口")
    inputs = load_inputs(load_study(path))
    assert inputs.total_people == pytest.approx(sum(100.0 * (k + 1) for k in range(16)), rel=1e-6)
    # the west (urban) township holds the first eight squares
    assert township_sums(inputs)[0] == pytest.approx(sum(100.0 * (k + 1) for k in range(8)), rel=1e-3)


def test_census_needed_but_missing(small_study):
    edit(small_study, population__path=None)
    data = yaml.safe_load(small_study.read_text(encoding="utf-8"))
    data["boundaries"]["population_column"] = None  # no census column
    small_study.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=r"population.path: .*boundaries have none"):
        load_inputs(load_study(small_study))


def test_unknown_spread(small_study):
    edit(small_study, population__spread="by_guess")
    with pytest.raises(StudyError, match=r"population.spread: .*'uniform' or 'road_density'"):
        load_study(small_study)


def _polygons(tmp_path, people, geoms=None):
    from healthreach.load.population import read_population_polygons

    geoms = geoms or [shapely.box(X0, Y0, X0 + 2000, Y0 + 4000), shapely.box(X0 + 2000, Y0, X0 + 4000, Y0 + 4000)]
    gpd.GeoDataFrame({"people": people}, geometry=geoms, crs=CRS).to_file(tmp_path / "pop.gpkg")
    return read_population_polygons(PopulationSpec(path=tmp_path / "pop.gpkg", column="people"))


def test_a_population_polygon_without_people_is_an_error_not_zero(tmp_path):
    with pytest.raises(InputError, match=r"pop.gpkg: row 2: 'people' must be a number of people >= 0 \(0 where"):
        _polygons(tmp_path, [2000.0, None])
    assert _polygons(tmp_path, [2000.0, 0.0])["people"].tolist() == [2000.0, 0.0]


def test_overlapping_population_polygons_are_an_error_not_counted_twice(tmp_path):
    west = shapely.box(X0, Y0, X0 + 2000, Y0 + 4000)
    with pytest.raises(InputError, match=r"population polygons overlap: row 1 and row 2: 100.0% of the smaller"):
        _polygons(tmp_path, [2000.0, 2000.0], [west, west])
