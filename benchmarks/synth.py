"""A generated study of any size, written once as ordinary study files and opened through the API.

The road network is a jittered square street grid, 200 m between junctions,
with a hierarchy of road classes along every n-th line (an expressway that may
not be walked every 100th line, national / provincial / county roads more
often, urban branch streets in the central core and village roads elsewhere),
random diagonal "township" roads, 8% of minor links removed and a share of
the core's branch streets one-way. Population lives on a 100 m grid over the
same square, every cell populated; townships are 10 x 10 km squares, the
central ones urban. Facilities of every type of the default profile stand at
random points. Coordinates are metres in EPSG:4545 (CGCS2000 / 3-degree
Gauss-Kruger CM 108E). Everything is drawn from one seed, so a size and a
seed always yield the same study.

:func:`study_path` writes the study (``roads.gpkg``, ``population.tif``,
``townships.gpkg``, ``facilities.csv`` and ``study.yaml``) into
``<cache>/synth/<size>-s<seed>-v1/`` the first time it is asked for, and
:func:`open_generated` opens it with :func:`healthreach.open_study`, as a
user's study would be opened.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
import yaml
from affine import Affine

from healthreach import open_study
from healthreach.cache import cache_dir
from healthreach.evaluation import Study
from healthreach.outputs import clean_stale, make_temp_folder

CRS = "EPSG:4545"
X0, Y0 = 400_000.0, 3_200_000.0
SPACING_M = 200.0   # between street-grid junctions
CELL_M = 100.0      # analysis grid cell
TOWNSHIP_M = 10_000.0
SEED = 7            # the default study seed (roads draw from it, facilities from seed + 4, people from seed + 6)
FORMAT = "v1"       # the written files' layout; part of the folder name, so a new layout never reads an old one


@dataclass(frozen=True)
class Size:
    """One generated case: junctions per side, facilities."""

    name: str
    side: int          # junctions per side of the street grid (nodes ~ side**2)
    facilities: int

    @property
    def extent_m(self) -> float:
        """Side of the square study area, metres."""
        return (self.side - 1) * SPACING_M

    @property
    def cells_per_side(self) -> int:
        """Analysis-grid cells along one side."""
        return round(self.extent_m / CELL_M)

    @property
    def cells(self) -> int:
        """Analysis-grid cells in all (every one populated)."""
        return self.cells_per_side**2


SIZES = {
    "small": Size("small", 51, 20),          # 2.6k nodes, 10k cells (10 x 10 km)
    "medium": Size("medium", 201, 100),      # 40k nodes, 160k cells (40 x 40 km)
    "large": Size("large", 501, 300),        # 251k nodes, 1M cells (100 x 100 km)
    "xlarge": Size("xlarge", 1001, 600),     # 1M nodes, 4M cells (200 x 200 km)
}

# facility mix per 300 (scaled to the size): type, share, beds, ambulances, emergency
_MIX = [
    ("tertiary_hospital", 2, 800, 8, True),
    ("general_hospital", 8, 300, 5, True),
    ("tcm_hospital", 5, 150, 1, False),
    ("central_township_hc", 30, 60, 2, True),
    ("township_hc", 60, 30, 1, False),
    ("community_hc", 35, 20, 0, False),
    ("village_clinic", 140, 0, 0, False),
    ("emergency_station", 20, 0, 3, False),
]


def roads(size: Size, seed: int = SEED) -> gpd.GeoDataFrame:
    """The road lines (one 3-point LineString per link, metres in EPSG:4545) with road_class, oneway (bool)
    and speed_kmh (km/h, NaN where untagged).
    """
    rng = np.random.default_rng(seed)
    n = size.side
    jx = rng.uniform(-40, 40, (n, n))
    jy = rng.uniform(-40, 40, (n, n))
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")  # ii: row (y), jj: column (x)
    nx_ = X0 + jj * SPACING_M + jx
    ny_ = Y0 + ii * SPACING_M + jy

    def line_class(k: np.ndarray, core: np.ndarray) -> np.ndarray:
        out = np.where(core, "urban_branch", "village").astype(object)
        out[k % 5 == 0] = np.where(core[k % 5 == 0], "urban_secondary", "county")
        out[k % 10 == 0] = np.where(core[k % 10 == 0], "urban_arterial", "provincial")
        out[k % 20 == 0] = "national"
        out[k % 100 == 50] = "expressway"
        return out

    centre = (n - 1) / 2
    core_r = max(n / 8, 3)
    links = []
    # horizontal links (row i, col j -> j+1) and vertical links (col j, row i -> i+1)
    for horizontal in (True, False):
        a_i, a_j = np.meshgrid(np.arange(n), np.arange(n - 1), indexing="ij")
        if not horizontal:
            a_i, a_j = a_j.T, a_i.T
        b_i, b_j = (a_i, a_j + 1) if horizontal else (a_i + 1, a_j)
        line_index = a_i if horizontal else a_j
        core = (np.abs(a_i - centre) < core_r) & (np.abs(a_j - centre) < core_r)
        links.append((a_i.ravel(), a_j.ravel(), b_i.ravel(), b_j.ravel(),
                      line_class(line_index.ravel(), core.ravel())))
    # diagonals in 12% of the blocks
    d_i, d_j = np.meshgrid(np.arange(n - 1), np.arange(n - 1), indexing="ij")
    pick = rng.random(d_i.shape) < 0.12
    flip = rng.random(d_i.shape) < 0.5
    d_i, d_j, flip = d_i[pick], d_j[pick], flip[pick]
    links.append((d_i, np.where(flip, d_j + 1, d_j), d_i + 1, np.where(flip, d_j, d_j + 1),
                  np.full(len(d_i), "township", object)))

    ai, aj, bi, bj, cls = (np.concatenate(parts) for parts in zip(*links, strict=False))
    minor = np.isin(cls, ["village", "urban_branch", "township"])
    keep = ~(minor & (rng.random(len(cls)) < 0.08))
    ai, aj, bi, bj, cls = ai[keep], aj[keep], bi[keep], bj[keep], cls[keep]

    # one bent midpoint per link so road length exceeds the straight line
    ax, ay, bx, by = nx_[ai, aj], ny_[ai, aj], nx_[bi, bj], ny_[bi, bj]
    mx = (ax + bx) / 2 + rng.uniform(-15, 15, len(ax))
    my = (ay + by) / 2 + rng.uniform(-15, 15, len(ay))
    oneway = (cls == "urban_branch") & (rng.random(len(cls)) < 0.3)
    reverse = rng.random(len(cls)) < 0.5
    sx, sy = np.where(reverse, bx, ax), np.where(reverse, by, ay)
    ex, ey = np.where(reverse, ax, bx), np.where(reverse, ay, by)
    coords = np.stack([np.column_stack([sx, sy]), np.column_stack([mx, my]), np.column_stack([ex, ey])], axis=1)
    geoms = shapely.linestrings(coords.reshape(-1, 2), indices=np.repeat(np.arange(len(cls)), 3))
    speed = np.full(len(cls), np.nan)
    tagged = rng.random(len(cls)) < 0.02
    speed[tagged] = rng.choice([15.0, 25.0, 40.0], tagged.sum())
    return gpd.GeoDataFrame({"road_class": cls.astype(str), "oneway": oneway, "speed_kmh": speed},
                            geometry=geoms, crs=CRS)


def facilities(size: Size, seed: int = SEED) -> pd.DataFrame:
    """``size.facilities`` facilities at random points, types in the default profile's mix; ``x``, ``y`` are
    metres in EPSG:4545.
    """
    rng = np.random.default_rng(seed + 4)
    weights = np.array([m[1] for m in _MIX], float)
    counts = np.maximum(np.floor(weights / weights.sum() * size.facilities), 1).astype(int)
    counts[np.argmax(counts)] += size.facilities - counts.sum()
    kind = np.repeat(np.arange(len(_MIX)), counts)
    n = len(kind)
    x = X0 + rng.uniform(0.02, 0.98, n) * size.extent_m
    y = Y0 + rng.uniform(0.02, 0.98, n) * size.extent_m
    return pd.DataFrame({
        "id": [f"F{i:04d}" for i in range(n)],
        "name": [f"{_MIX[k][0]} {i}" for i, k in enumerate(kind)],
        "type": [_MIX[k][0] for k in kind],
        "beds": [_MIX[k][2] for k in kind],
        "ambulances": [_MIX[k][3] for k in kind],
        "emergency": [_MIX[k][4] for k in kind],
        "x": x, "y": y,
    })



def population(size: Size, seed: int = SEED) -> tuple[Affine, np.ndarray]:
    """People per 100 m cell (float64, rows north to south) and the raster's transform (EPSG:4545)."""
    rng = np.random.default_rng(seed + 6)
    k = size.cells_per_side
    row, col = np.divmod(np.arange(k * k), k)
    urban = township_classes(size)[township_of(size, row, col)] == "urban"
    people = rng.gamma(0.6, 4.0, k * k) * np.where(urban, 25.0, 1.0)
    return Affine(CELL_M, 0, X0, 0, -CELL_M, Y0 + k * CELL_M), people.reshape(k, k)


def townships_per_side(size: Size) -> int:
    """Townships along one side of the study area (the last row and column may be narrower)."""
    return int(np.ceil(size.cells_per_side / (TOWNSHIP_M / CELL_M)))


def township_of(size: Size, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Township number (row-major from the north-west) of the cells at grid ``row``, ``col``."""
    per_town = int(TOWNSHIP_M / CELL_M)
    return (row // per_town) * townships_per_side(size) + col // per_town


def township_classes(size: Size) -> np.ndarray:
    """``urban`` for the central townships, ``rural`` for the rest, in township number order."""
    n = townships_per_side(size)
    r, c = np.divmod(np.arange(n * n), n)
    mid = (n - 1) / 2
    return np.where((np.abs(r - mid) <= 0.5) & (np.abs(c - mid) <= 0.5), "urban", "rural")


def townships(size: Size, people: np.ndarray) -> gpd.GeoDataFrame:
    """Township squares (EPSG:4545) with code, name, class and population (the people of their cells)."""
    k = size.cells_per_side
    n = townships_per_side(size)
    top, right = Y0 + k * CELL_M, X0 + k * CELL_M
    r, c = np.divmod(np.arange(n * n), n)
    x0, y1 = X0 + c * TOWNSHIP_M, top - r * TOWNSHIP_M
    boxes = shapely.box(x0, np.maximum(y1 - TOWNSHIP_M, Y0), np.minimum(x0 + TOWNSHIP_M, right), y1)
    row, col = np.divmod(np.arange(k * k), k)
    census = np.bincount(township_of(size, row, col), weights=people.ravel(), minlength=n * n)
    return gpd.GeoDataFrame({"code": [f"T{i:02d}{j:02d}" for i, j in zip(r, c, strict=False)],
                             "name": [f"township {i}-{j}" for i, j in zip(r, c, strict=False)],
                             "class": township_classes(size), "population": census}, geometry=boxes, crs=CRS)


STUDY_FILE = {
    "crs": CRS, "grid_m": CELL_M, "profile": "default",
    "roads": {"path": "roads.gpkg", "layer": "roads", "class_column": "road_class", "oneway_column": "oneway",
              "speed_column": "speed_kmh"},
    "facilities": {"path": "facilities.csv", "crs": CRS, "x_column": "x", "y_column": "y"},
    "population": {"path": "population.tif"},
    "boundaries": {"path": "townships.gpkg", "layer": "townships", "id_column": "code", "name_column": "name",
                   "class_column": "class", "population_column": "population"},
}


def write_study(size: Size, folder: Path, seed: int = SEED) -> Path:
    """Write the generated study's files and its ``study.yaml`` into ``folder``; returns the study file."""
    roads(size, seed).to_file(folder / "roads.gpkg", layer="roads", driver="GPKG")
    facilities(size, seed).to_csv(folder / "facilities.csv", index=False)
    transform, people = population(size, seed)
    with rasterio.open(folder / "population.tif", "w", driver="GTiff", width=people.shape[1],
                       height=people.shape[0], count=1, dtype="float64", crs=CRS, transform=transform) as dst:
        dst.write(people, 1)
    townships(size, people).to_file(folder / "townships.gpkg", layer="townships", driver="GPKG")
    study = {"name": f"generated {size.name} ({size.side}x{size.side} street grid, seed {seed})",
             "description": "generated by benchmarks/synth.py", **STUDY_FILE}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def study_folder(size: Size | str, cache: Path | None = None, seed: int = SEED) -> Path:
    """Where the generated study's files are (or will be) written: ``<cache>/synth/<size>-s<seed>-v1``."""
    name = size if isinstance(size, str) else size.name
    return (cache_dir() if cache is None else Path(cache)) / "synth" / f"{name}-s{seed}-{FORMAT}"


def study_path(size: Size | str, cache: Path | None = None, seed: int = SEED) -> Path:
    """The generated study's ``study.yaml`` under ``<cache>/synth/`` (default cache: the disk cache root),
    written the first time (into a temporary folder, then renamed into place) and reused after.
    """
    size = SIZES[size] if isinstance(size, str) else size
    folder = study_folder(size, cache, seed)
    parent = folder.parent
    if not (folder / "study.yaml").is_file():
        parent.mkdir(parents=True, exist_ok=True)
        clean_stale(parent)
        tmp = make_temp_folder(parent, folder.name)
        try:
            write_study(size, tmp, seed)
            Path(tmp).rename(folder)
        except OSError:
            if not (folder / "study.yaml").is_file():  # not written by another process meanwhile
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder / "study.yaml"


def open_generated(size: Size | str, cache: Path | None = None, seed: int = SEED, *, rebuild_network: bool = False,
                   progress: Callable[[str], None] | None = None) -> Study:
    """The generated study opened with :func:`healthreach.open_study`; ``cache`` is the disk cache root
    (default :func:`healthreach.cache.cache_dir`) for both the written files and the study's own cache.
    """
    root = cache_dir() if cache is None else Path(cache)
    return open_study(study_path(size, root, seed), cache=root, rebuild_network=rebuild_network, progress=progress)
