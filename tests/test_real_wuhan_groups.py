"""Real WorldPop rasters of Wuhan: adults (20+) as everyone, people aged 65+ as a population group.

A 6 x 6 km square of central Wuhan (two townships) with a street grid; the
rasters are in lon/lat at 3 arc-seconds and are aggregated onto the 100 m
analysis grid in CGCS2000 / GK 114E. The 65+ people are part of the 20+
people in every source cell, so after the same resampling no analysis cell
may hold more of them, and the group's figures must equal a brute-force
count over the cells.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import yaml
from conftest import SHARED_DATA
from pyproj import Transformer
from rasterio.mask import mask

from healthreach.evaluation import Study
from healthreach.inputs import load_inputs
from healthreach.study import load_study

ADULTS = SHARED_DATA / "wuhan_pop20plus_100m.tif"
OLD = SHARED_DATA / "wuhan_pop65plus_100m.tif"
pytestmark = pytest.mark.skipif(not (ADULTS.is_file() and OLD.is_file()),
                                reason=f"real data not present: {ADULTS}, {OLD}")
CRS = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
SIDE = 6000.0


@pytest.fixture(scope="module")
def wuhan(tmp_path_factory) -> Study:
    folder = tmp_path_factory.mktemp("wuhan")
    x0, y0 = Transformer.from_crs(4326, CRS, always_xy=True).transform(114.27, 30.55)  # Wuchang, central Wuhan
    west = shapely.box(x0, y0, x0 + SIDE / 2, y0 + SIDE)
    east = shapely.box(x0 + SIDE / 2, y0, x0 + SIDE, y0 + SIDE)
    gpd.GeoDataFrame({"code": ["420106001", "420106002"], "name": ["西片", "东片"], "class": ["urban", "urban"]},
                     geometry=[west, east], crs=CRS).to_file(folder / "townships.gpkg")
    ticks = np.arange(-500, SIDE + 501, 250)  # streets every 250 m, reaching 500 m beyond the square
    lines = [shapely.LineString([(x0 + a, y0 + d), (x0 + b, y0 + d)]) for d in ticks
             for a, b in itertools.pairwise(ticks)]  # one segment between junctions
    lines += [shapely.LineString([(x0 + d, y0 + a), (x0 + d, y0 + b)]) for d in ticks
              for a, b in itertools.pairwise(ticks)]
    gpd.GeoDataFrame({"road_class": ["urban_branch"] * len(lines)}, geometry=lines, crs=CRS).to_file(
        folder / "roads.gpkg")
    to_lonlat = Transformer.from_crs(CRS, 4326, always_xy=True)
    sites = [(x0 + 1000, y0 + 1000), (x0 + 4500, y0 + 5000)]
    pd.DataFrame([{"id": f"C{i}", "name": f"社区卫生服务中心{i}", "type": "community_hc",
                   "lon": to_lonlat.transform(*xy)[0], "lat": to_lonlat.transform(*xy)[1], "beds": 10,
                   "ambulances": 0, "emergency": "false"} for i, xy in enumerate(sites)]).to_csv(
        folder / "facilities.csv", index=False)
    study = {"name": "Wuhan centre (real WorldPop)", "crs": CRS, "roads": {"path": "roads.gpkg", "oneway_column": None},
             "facilities": {"path": "facilities.csv"}, "population": {"path": str(ADULTS)},
             "population_groups": {"65plus": {"path": str(OLD)}},
             "boundaries": {"path": "townships.gpkg", "population_column": None}}
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    return Study(load_inputs(load_study(folder / "study.yaml"), use_cache=False))


@pytest.mark.slow
def test_wuhan_65plus_on_the_analysis_grid(wuhan):
    cells = wuhan.inputs.cells
    old, adults = cells.groups["65plus"], cells.people
    assert not [w for w in map(str, wuhan.inputs.warnings) if "population_groups" in w]  # 65+ never exceeds 20+
    assert (old <= adults + 1e-6).all()
    # the share of people aged 65+ among adults as the rasters give it over the square (to resampling at its edge)
    square = gpd.GeoSeries([shapely.box(*wuhan.inputs.boundaries.total_bounds)], crs=CRS).to_crs(4326)
    raw = []
    for path in (OLD, ADULTS):
        with rasterio.open(path) as src:
            values, _ = mask(src, square, crop=True, filled=False)
        raw.append(float(values.compressed().astype(np.float64).clip(0).sum()))
    assert old.sum() / adults.sum() == pytest.approx(raw[0] / raw[1], rel=0.02)
    assert 0.05 < old.sum() / adults.sum() < 0.35


@pytest.mark.slow
def test_wuhan_65plus_figures_equal_a_brute_force_count(wuhan):
    base = wuhan.baseline()
    old = wuhan.inputs.cells.groups["65plus"]
    fig = base.figure("primary_care_15min_65plus")
    within = base.primary_seconds <= 15 * 60
    assert fig.population == pytest.approx(old.sum(), rel=1e-12)
    assert fig.covered == pytest.approx(old[within].sum(), rel=1e-9)
    assert 0 < fig.share < 1
    towns = base.townships
    for t, name in enumerate(towns["name"]):
        mine = wuhan.inputs.cells.township == t
        assert towns["primary_care_15min_share_65plus"].iloc[t] == pytest.approx(
            old[mine & within].sum() / old[mine].sum(), abs=5e-5), name
    # a closure: the group's people losing coverage are the 65+ people of the cells that leave the circle
    after = base.apply([{"close": "C1"}])
    d = base.diff(after)
    lost = (base.primary_seconds <= 900) & (after.primary_seconds > 900)
    assert d.lose_coverage_of("65plus") == pytest.approx(old[lost].sum(), rel=1e-9)
    assert after.figure("primary_care_15min_65plus").covered == pytest.approx(old[after.primary_seconds <= 900].sum(),
                                                                              rel=1e-9)
