"""The pipeline's state between stages: what each stage hands to the next."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage
from shapely.geometry import Point

from tools.demo.grid import CELL, Grid
from tools.demo.network import Net, Router


@dataclass
class Terrain:
    """The 100 m model grid (EPSG:4545) with its rivers and heightfield."""

    grid: Grid
    rivers: list              # River; rivers[0] is the main river
    i_seat: int               # main-river vertex nearest the county seat
    i_city: int               # main-river vertex nearest the neighbouring city
    h: np.ndarray             # elevation, metres, (ny, nx)
    slope: np.ndarray         # gradient magnitude, m/m
    water: np.ndarray         # bool, main-river channel
    dist_river: np.ndarray    # distance to the nearest river centre line, metres
    cost_noise: np.ndarray    # flat multiplicative routing-cost noise (paths meander on flat ground)
    warp_noise: list          # two smooth unit-variance fields for the road-geometry warp


@dataclass
class Towns:
    """Street grids of the county seat and of the neighbouring city (see ``build_town``)."""

    seat: dict
    city: dict
    seat_xy: np.ndarray       # mean of the seat's street nodes, EPSG:4545 metres
    city_xy: np.ndarray
    blocked: np.ndarray       # bool (ny, nx): cells under either street grid (no rural roads or houses)


@dataclass
class Townships:
    """County outline, township seats and the township polygons (EPSG:4545 metres)."""

    interior: np.ndarray      # distance inside the county's terrain-cost Voronoi cell, metres
    seat_pts: np.ndarray      # (n_rural, 2) rural township seats
    seat_cells: np.ndarray    # their flat grid cells
    sub_pts: np.ndarray       # (3, 2) seeds of the three urban subdistricts
    polys: list               # township polygons: 3 subdistricts first, then one per rural seat
    label: np.ndarray         # int32 (ny, nx): township index of each cell, -1 outside the county
    county: np.ndarray        # bool (ny, nx): label >= 0
    county_poly: object       # union of the township polygons
    area_km2: float
    names: list
    classes: list             # "urban" / "rural"
    codes: list               # fake 9-digit codes 999901001..

    @property
    def n_rural(self):
        """Number of rural townships (one per seat)."""
        return len(self.seat_pts)


@dataclass
class Settlements:
    """Village and hamlet points (EPSG:4545 metres), inside (v_in) and outside (v_out) the county."""

    v_in: np.ndarray
    v_out: np.ndarray
    hamlets: np.ndarray

    @property
    def villages(self):
        """Every village point, inside the county first, (n, 2) metres."""
        return np.vstack([self.v_in, self.v_out])


@dataclass
class Roads:
    """The grid road network under construction and what routing reads."""

    net: Net
    router: Router
    terrain: Terrain
    towns: Towns
    exp_cells: np.ndarray     # bool, flat: cells of the expressway
    ok_end: np.ndarray        # bool (ny, nx): cells where a road may end (dry, outside the towns)
    seat_gw: list             # usable street-grid gateways: (cell, vnode, xy, class)
    city_gw: list
    gc_in: tuple = None       # city gateway of the national road
    gc_exp: tuple = None      # city gateway of the expressway
    exp_path: list = None     # expressway cells, city -> far end
    ic_cells: list = None     # expressway indices of the interchanges away from the city

    def cost_factor(self):
        """Per-cell routing cost factor for ordinary roads (water 15x, towns barred, roads cheap)."""
        cf = self.terrain.cost_noise.copy()
        cf[self.terrain.water.ravel()] = 15.0
        cf[self.towns.blocked.ravel()] = 1e5
        cf[self.exp_cells] *= 2.5
        cf[self.net.on_road] *= self.net.road_factor
        return cf


@dataclass
class Population:
    """People per 100 m cell (EPSG:4545)."""

    people: np.ndarray        # float32 (ny, nx), rounded to 0.01
    rural: np.ndarray         # float64 (ny, nx): the village/hamlet/scattered share of it
    town_people: np.ndarray   # people assigned to each rural township seat


@dataclass
class Villages:
    """Villages inside the county: warped points (EPSG:4545 metres), township index, people, names."""

    xy: np.ndarray
    township: np.ndarray
    population: np.ndarray
    names: list


@dataclass
class DemoCounty:
    """Everything the writers need."""

    grid: Grid
    road_coords: list         # EPSG:4545 coordinate arrays, ordinary roads then expressway pieces
    road_attrs: list          # (road_class, name, oneway)
    townships: Townships
    people: np.ndarray
    villages: Villages
    facilities: list
    n_interchanges: int


class RoadWarp:
    """Gentle smooth displacement (up to ~±60 m, damped in towns) applied to road geometry."""

    def __init__(self, grid, noise, blocked):
        w_amp = 32.0 * (1 - 0.8 * np.clip(ndimage.gaussian_filter(blocked.astype(float), 4.0) * 2.5, 0, 1))
        self.grid = grid
        self.fx, self.fy = noise[0] * w_amp, noise[1] * w_amp

    def __call__(self, C):
        """The points ``C`` (n, 2, metres) displaced by the warp."""
        grid = self.grid
        C = np.asarray(C, float)
        rc = np.vstack([(grid.y1 - C[:, 1]) / CELL - 0.5, (C[:, 0] - grid.x0) / CELL - 0.5])
        return C + np.c_[ndimage.map_coordinates(self.fx, rc, order=1, mode="nearest"),
                         ndimage.map_coordinates(self.fy, rc, order=1, mode="nearest")]


class TownshipLookup:
    """Index of the township polygon containing a point (EPSG:4545), -1 outside the county."""

    def __init__(self, polys):
        self.tree = shapely.STRtree(np.array(polys, dtype=object))

    def __call__(self, pt):
        """Index of the township polygon containing ``pt`` (metres), -1 outside the county."""
        hit = self.tree.query(Point(pt), predicate="intersects")
        return int(hit[0]) if len(hit) else -1
