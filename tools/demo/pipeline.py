"""The whole pipeline: every stage in order, drawing from one random stream."""

from __future__ import annotations

import numpy as np

from tools.demo.grid import county_grid, log
from tools.demo.network import Router
from tools.demo.people import assign_villages, make_population, place_facilities
from tools.demo.roads import (
    add_fragments,
    add_interchanges,
    add_seat_streets,
    add_village_loops,
    clear_expressway_corridor,
    expressway_features,
    road_features,
    route_expressway,
    route_local_roads,
    route_national_road,
    route_trunk_roads,
    start_network,
)
from tools.demo.state import DemoCounty, RoadWarp
from tools.demo.terrain import terrain_and_rivers
from tools.demo.towns import build_towns
from tools.demo.townships import county_and_townships, place_settlements


def generate(seed, extent_km=None):
    """Build the demo county for a seed; every stage draws from one random stream, in this order.

    ``extent_km``: None for the demo's full 90 x 88 km grid, or the side of a smaller square
    grid in kilometres (see :func:`tools.demo.grid.county_grid`).
    """
    rng = np.random.default_rng(seed)
    grid, cx, cy = county_grid(extent_km)
    terrain = terrain_and_rivers(rng, grid, cx, cy)
    towns = build_towns(rng, terrain)
    router = Router(grid, terrain.h)
    log("router built")
    warp = RoadWarp(grid, terrain.warp_noise, towns.blocked)
    tw = county_and_townships(rng, terrain, towns, router)
    settle = place_settlements(rng, terrain, towns, tw)
    roads = start_network(terrain, towns, router)
    route_national_road(roads)
    route_expressway(rng, roads)
    settle = clear_expressway_corridor(settle, roads)
    route_trunk_roads(roads, tw)
    add_seat_streets(rng, roads, tw)
    add_interchanges(roads, tw)
    route_local_roads(roads, settle)
    add_village_loops(rng, roads, settle)
    add_fragments(rng, roads, tw)
    road_coords, road_attrs = road_features(roads, warp)
    exp_coords = expressway_features(roads, warp)
    pop = make_population(rng, terrain, towns, tw, settle)
    villages = assign_villages(rng, settle, tw, pop, warp, grid)
    fac = place_facilities(rng, terrain, towns, tw, pop, villages, road_coords)
    return DemoCounty(grid, road_coords + exp_coords, road_attrs + [("expressway", "G69", 0)] * len(exp_coords),
                      tw, pop.people, villages, fac, len(roads.ic_cells) + 1)
