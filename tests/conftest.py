"""Shared fixtures: a small generated study written to a temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

from healthreach.memory import HUGEPAGE_ENV

os.environ.setdefault(HUGEPAGE_ENV, "0")  # as the command line does, for this process and every command run here

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
import yaml
from rasterio.transform import from_origin

from healthreach.study import DEMO_STUDY

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CRS = "EPSG:4545"  # CGCS2000 / 3-degree Gauss-Kruger CM 108E
X0, Y0 = 480_000.0, 3_250_000.0  # south-west corner, metres


def grid_roads(n: int = 11, spacing: float = 400.0) -> gpd.GeoDataFrame:
    """An n x n street grid, split at every junction; row 5 is a one-way street running east."""
    lines, classes, oneway = [], [], []
    for i in range(n):
        for j in range(n - 1):
            lines.append(shapely.LineString([(X0 + j * spacing, Y0 + i * spacing),
                                             (X0 + (j + 1) * spacing, Y0 + i * spacing)]))
            classes.append("urban_arterial" if i == n // 2 else "urban_branch")
            oneway.append(1 if i == n // 2 else 0)
            lines.append(shapely.LineString([(X0 + i * spacing, Y0 + j * spacing),
                                             (X0 + i * spacing, Y0 + (j + 1) * spacing)]))
            classes.append("county" if i == 0 else "village")
            oneway.append(0)
    return gpd.GeoDataFrame({"road_class": classes, "oneway": oneway, "name": ""}, geometry=lines, crs=CRS)


def set_study_keys(path: Path, **changes) -> Path:
    """The study file ``path`` with its top-level keys set to ``changes``; returns ``path``."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def write_study(folder: Path, facilities: list[dict] | None = None, **overrides) -> Path:
    """Write a 4 x 4 km two-township study into ``folder`` and return its study.yaml path."""
    folder.mkdir(parents=True, exist_ok=True)
    grid_roads().to_file(folder / "roads.gpkg", layer="roads")
    size = 4000.0
    west = shapely.box(X0, Y0, X0 + size / 2, Y0 + size)
    east = shapely.box(X0 + size / 2, Y0, X0 + size, Y0 + size)
    gpd.GeoDataFrame({"code": ["001", "002"], "name": ["城东街道", "白云镇"], "class": ["urban", "rural"],
                      "population": [4000, 2000]}, geometry=[west, east], crs=CRS).to_file(folder / "townships.gpkg")
    people = np.full((40, 40), 1.0, np.float32)
    people[:, :20] = 2.5  # west (urban) denser: 20*40*2.5 = 2000 people; east 800
    with rasterio.open(folder / "population.tif", "w", driver="GTiff", width=40, height=40, count=1, dtype="float32",
                       crs=CRS, transform=from_origin(X0, Y0 + size, 100, 100), nodata=-3.4028234663852886e38) as dst:
        dst.write(people, 1)
    from pyproj import Transformer
    to_lonlat = Transformer.from_crs(CRS, 4326, always_xy=True)
    facilities = facilities if facilities is not None else [
        {"id": "CHC01", "name": "城东社区卫生服务中心", "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
         "beds": 20, "ambulances": 0, "emergency": "false"},
        {"id": "THC01", "name": "白云镇中心卫生院", "type": "central_township_hc", "x": X0 + 3200, "y": Y0 + 2000,
         "beds": 40, "ambulances": 1, "emergency": "true"},
    ]
    rows = []
    for f in facilities:
        lon, lat = to_lonlat.transform(f["x"], f["y"])
        rows.append({k: v for k, v in f.items() if k not in ("x", "y")} | {"lon": round(lon, 8), "lat": round(lat, 8)})
    import pandas as pd
    pd.DataFrame(rows).to_csv(folder / "facilities.csv", index=False)
    study = {"name": "test study", "roads": {"path": "roads.gpkg"}, "facilities": {"path": "facilities.csv"},
             "population": {"path": "population.tif"}, "boundaries": {"path": "townships.gpkg"}}
    study.update(overrides)
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test session caches networks in its own temporary folder."""
    monkeypatch.setenv("HEALTHREACH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def small_study(tmp_path) -> Path:
    return write_study(tmp_path / "small")


DEMO_DIR = DEMO_STUDY.parent  # the bundled demo, package data in healthreach/demo


@pytest.fixture(scope="session")
def demo_inputs(tmp_path_factory):
    """The bundled synthetic demo county, loaded once per test session."""
    if not (DEMO_DIR / "roads.gpkg").exists():
        pytest.skip("demo county data not generated (run python -m tools.demo)")
    import os

    from healthreach.inputs import load_inputs
    from healthreach.study import load_study

    os.environ.setdefault("HEALTHREACH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    return load_inputs(load_study(None))


def audit(inputs, facilities=None):
    """The study evaluated with its own facility table (or ``facilities``), from scratch."""
    from healthreach.evaluation import Study

    study = Study(inputs)
    return study.baseline() if facilities is None else study.evaluate(facilities)


@pytest.fixture(scope="session")
def demo_audit(demo_inputs):
    return audit(demo_inputs)
