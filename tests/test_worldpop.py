"""A real WorldPop raster: Wuhan, ages 20+, 100 m, with WorldPop's own nodata value."""

from __future__ import annotations

import time

import numpy as np
import pytest
import rasterio
from conftest import SHARED_DATA
from rasterio.warp import transform_bounds

from healthreach.load.population import read_population
from healthreach.study import PopulationSpec

WUHAN = SHARED_DATA / "wuhan_pop20plus_100m.tif"
pytestmark = pytest.mark.skipif(not WUHAN.is_file(), reason=f"real data not present: {WUHAN}")


@pytest.mark.slow
def test_wuhan_worldpop_masks_nodata_and_keeps_the_total():
    with rasterio.open(WUHAN) as src:
        raw = src.read(1)
        nodata = src.nodata
        bounds = transform_bounds(src.crs, "EPSG:4547", *src.bounds, densify_pts=51)
    assert nodata < -1e38
    assert (raw == np.float32(nodata)).sum() > 1_000_000
    valid = raw[raw != np.float32(nodata)].astype(np.float64)
    masked_total = valid[valid > 0].sum()
    assert masked_total == pytest.approx(9.49e6, rel=0.001)  # the figure WorldPop publishes for this extract

    start = time.perf_counter()
    grid, people = read_population(PopulationSpec(path=WUHAN), "EPSG:4547", bounds, 100.0)
    seconds = time.perf_counter() - start
    print(f"\nWuhan 20+: {raw.size:,} source cells onto a {grid.width} x {grid.height} grid of 100 m "
          f"(EPSG:4547) in {seconds:.2f} s; {people.sum():,.0f} people (raster: {masked_total:,.0f})")
    assert np.isfinite(people).all()
    assert people.min() >= 0
    assert people.sum() == pytest.approx(masked_total, rel=1e-4)  # 0.01%
    assert people.max() < 5_000  # no nodata sentinel leaked into a cell (a 100 m cell of flats holds < 5,000)
    assert seconds < 60  # measured ~1 s on two cores; generous so a loaded machine does not fail it
