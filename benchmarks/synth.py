"""A generated study of any size, built in memory (no files read).

The road network is a jittered square street grid, 200 m between junctions,
with a hierarchy of road classes along every n-th line (an expressway that may
not be walked every 100th line, national / provincial / county roads more
often, urban branch streets in the central core and village roads elsewhere),
random diagonal "township" roads, 8% of minor links removed and a share of
the core's branch streets one-way. Population lives on a 100 m grid over the
same square, every cell populated; townships are 10 x 10 km squares, the
central ones urban. Facilities of every type of the default profile stand at
random points. Coordinates are metres in EPSG:4545 (CGCS2000 / 3-degree
Gauss-Kruger CM 108E). Everything is drawn from one seed, so a size always
yields the same study.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine

from healthreach.grid import Grid
from healthreach.inputs import Cells, StudyInputs
from healthreach.network import Network, build_network
from healthreach.profile import load_profile
from healthreach.study import StudyFile

CRS = "EPSG:4545"
X0, Y0 = 400_000.0, 3_200_000.0
SPACING_M = 200.0   # between street-grid junctions
CELL_M = 100.0      # analysis grid cell
TOWNSHIP_M = 10_000.0


@dataclass(frozen=True)
class Size:
    """One generated case: junctions per side, facilities."""

    name: str
    side: int          # junctions per side of the street grid (nodes ~ side**2)
    facilities: int

    @property
    def extent_m(self) -> float:
        return (self.side - 1) * SPACING_M

    @property
    def cells_per_side(self) -> int:
        return int(round(self.extent_m / CELL_M))

    @property
    def cells(self) -> int:
        return self.cells_per_side**2


SIZES = {
    "small": Size("small", 51, 20),          # 2.6k nodes, 10k cells (10 x 10 km)
    "medium": Size("medium", 201, 100),      # 40k nodes, 160k cells (40 x 40 km)
    "large": Size("large", 501, 300),        # 251k nodes, 1M cells (100 x 100 km)
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


def roads(size: Size, seed: int = 7) -> gpd.GeoDataFrame:
    """The road lines (one 3-point LineString per link) with road_class, oneway, speed_kmh."""
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

    ai, aj, bi, bj, cls = (np.concatenate(parts) for parts in zip(*links))
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


def facilities(size: Size, seed: int = 11) -> gpd.GeoDataFrame:
    """``size.facilities`` facilities at random points, types in the default profile's mix."""
    rng = np.random.default_rng(seed)
    weights = np.array([m[1] for m in _MIX], float)
    counts = np.maximum(np.floor(weights / weights.sum() * size.facilities), 1).astype(int)
    counts[np.argmax(counts)] += size.facilities - counts.sum()
    kind = np.repeat(np.arange(len(_MIX)), counts)
    n = len(kind)
    x = X0 + rng.uniform(0.02, 0.98, n) * size.extent_m
    y = Y0 + rng.uniform(0.02, 0.98, n) * size.extent_m
    table = pd.DataFrame({
        "id": [f"F{i:04d}" for i in range(n)],
        "name": [f"{_MIX[k][0]} {i}" for i, k in enumerate(kind)],
        "type": [_MIX[k][0] for k in kind],
        "beds": [_MIX[k][2] for k in kind],
        "ambulances": [_MIX[k][3] for k in kind],
        "emergency": [_MIX[k][4] for k in kind],
        "x": x, "y": y, "row": np.arange(n) + 2,
    })
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(x, y), crs=CRS)


def grid_and_cells(size: Size, seed: int = 13) -> tuple[Grid, gpd.GeoDataFrame, Cells]:
    """The 100 m analysis grid, the townships and every (populated) cell."""
    rng = np.random.default_rng(seed)
    k = size.cells_per_side
    grid = Grid(CRS, Affine(CELL_M, 0, X0, 0, -CELL_M, Y0 + k * CELL_M), k, k)
    per_town = int(TOWNSHIP_M / CELL_M)
    towns_side = int(np.ceil(k / per_town))
    boxes, ids, names, classes = [], [], [], []
    mid = (towns_side - 1) / 2
    for r in range(towns_side):
        for c in range(towns_side):
            x0, y1 = X0 + c * TOWNSHIP_M, Y0 + k * CELL_M - r * TOWNSHIP_M
            boxes.append(shapely.box(x0, max(y1 - TOWNSHIP_M, Y0), min(x0 + TOWNSHIP_M, X0 + k * CELL_M), y1))
            ids.append(f"T{r:02d}{c:02d}")
            names.append(f"township {r}-{c}")
            classes.append("urban" if abs(r - mid) <= 0.5 and abs(c - mid) <= 0.5 else "rural")
    flat = np.arange(k * k)
    row, col = np.divmod(flat, k)
    town = (row // per_town) * towns_side + col // per_town
    urban = np.array(classes)[town] == "urban"
    people = rng.gamma(0.6, 4.0, k * k) * np.where(urban, 25.0, 1.0)
    x, y = grid.centres(flat)
    census = np.bincount(town, weights=people, minlength=len(ids))
    boundaries = gpd.GeoDataFrame({"id": ids, "name": names, "area_class": classes, "census_pop": census},
                                  geometry=boxes, crs=CRS)
    return grid, boundaries, Cells(flat, x, y, people, town.astype(np.int64), urban)


def study(size: Size) -> StudyFile:
    """A study record naming the generated case (its paths are never read)."""
    where = Path(f"generated-{size.name}")
    return StudyFile.model_validate({
        "name": f"generated {size.name} ({size.side}x{size.side} street grid)", "crs": CRS, "grid_m": CELL_M,
        "roads": {"path": where / "roads"}, "facilities": {"path": where / "facilities"},
        "population": {"path": where / "population"}, "boundaries": {"path": where / "townships"}})


def snap_facilities(net: Network, fac: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the road attachment columns, as :func:`healthreach.inputs.load_inputs` does."""
    from healthreach.network import attach_facilities

    fac = fac.copy()
    attach_facilities(net, fac)
    return fac


def inputs(size: Size, net: Network | None = None) -> StudyInputs:
    """The whole generated study as :class:`StudyInputs`; builds the network unless given."""
    st = study(size)
    profile = load_profile(st.profile, st)
    if net is None:
        net = build_network(roads(size), profile)
    grid, boundaries, cells = grid_and_cells(size)
    fac = snap_facilities(net, facilities(size))
    return StudyInputs(st, profile, CRS, boundaries, grid, cells, net, fac, f"generated-{size.name}")
