"""County and townships stage: terrain-cost Voronoi boundaries, names and settlements."""

from __future__ import annotations

import math

import numpy as np
import shapely
from rasterio import features
from scipy import ndimage
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import shape

from tools.demo.grid import CELL, cell_of_xy, log, nearest_ok_cell, sample_points, tangents
from tools.demo.state import Settlements, Townships

RURAL_TOWN_NAMES = [("白云", "镇"), ("桐梓", "乡"), ("龙潭", "镇"), ("青岗", "镇"), ("石桥", "镇"), ("双河", "镇"),
                    ("新田", "镇"), ("大坪", "镇"), ("清溪", "镇"), ("金竹", "乡"), ("高峰", "镇"), ("马鞍", "乡"),
                    ("松林", "乡"), ("杨柳", "镇"), ("红岩", "乡"), ("黄泥", "乡"), ("柏树", "镇"), ("梅子", "乡"),
                    ("太平", "镇"), ("永安", "镇"), ("三合", "镇"), ("桂花", "乡"), ("凤鸣", "镇"), ("长岭", "乡")]


VILLAGE_A = list("龙白红石新大杨茶中上下黄青双金银花桃李竹松柏枫马牛鹿凤鹤云水河溪山岩坪坝沟湾"
                 "长高平安兴福永太和民桂兰梅荷莲柳槐桑麻棕杉樟")
VILLAGE_B = list("潭果岩门田坪柳园坝桥林湾溪沟山塘池庄院岭坡堡寨口台坎垭弯井池包梁岗湖洞")
COMMUNITY_NAMES = ["桂园", "西山", "河滨", "南门", "新华", "文昌", "东岳", "北苑", "锦绣", "和平", "状元", "滨江"]


def village_names(rng, n):
    """Return n distinct two-character village names + 村."""
    combos = [a + b for a in sorted(set(VILLAGE_A)) for b in sorted(set(VILLAGE_B)) if a != b]
    rng.shuffle(combos)
    return [c + "村" for c in combos[:n]]


def direction_name(vec):
    """东/北/西/南 for a direction vector."""
    ang = math.degrees(math.atan2(vec[1], vec[0])) % 360
    return ["东", "北", "西", "南"][int(((ang + 45) % 360) // 90)]


def largest_filled_region(mask):
    """The largest 4-connected region of a boolean mask, holes filled."""
    lab, n = ndimage.label(mask)
    if n == 0:
        return mask
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    return ndimage.binary_fill_holes(lab == np.argmax(sizes))


def county_outline(rng, grid, towns, G):
    """Boolean (ny, nx) county mask: the terrain-cost Voronoi cell of the seat against neighbouring seats.

    G is the terrain-cost grid graph (metres, grade-penalised); the cell is grown by a cost bias until
    its area reaches a random target of 2750-3150 km^2.
    """
    seat_xy, city_xy = towns.seat_xy, towns.city_xy
    d_seat = dijkstra(G, indices=cell_of_xy(grid, seat_xy))
    d_nb = dijkstra(G, indices=cell_of_xy(grid, city_xy))
    city_dir = math.atan2(city_xy[1] - seat_xy[1], city_xy[0] - seat_xy[0])
    th0 = rng.uniform(0, 2 * np.pi)
    for k in range(8):   # neighbouring seats all round (none on the city's side)
        th = th0 + k * 2 * np.pi / 8 + rng.uniform(-0.2, 0.2)
        if abs((th - city_dir + np.pi) % (2 * np.pi) - np.pi) < math.radians(35):
            continue
        R = rng.uniform(54000, 64000)
        v = np.array([math.cos(th), math.sin(th)])
        t = min(R, grid.distance_to_edge(seat_xy, v))
        p = seat_xy + t * v
        d_nb = np.minimum(d_nb, dijkstra(G, indices=cell_of_xy(grid, p)) + (R - t) * 1.15)
    d_seat = d_seat.reshape(grid.ny, grid.nx)
    d_nb = d_nb.reshape(grid.ny, grid.nx)
    target_area = rng.uniform(2750e6, 3150e6)
    edge_ok = grid.inset(25)
    lo, hi = -80000.0, 80000.0
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if largest_filled_region((d_seat - mid < d_nb) & edge_ok).sum() * CELL * CELL < target_area:
            lo = mid
        else:
            hi = mid
    county0 = largest_filled_region((d_seat - 0.5 * (lo + hi) < d_nb) & edge_ok)
    log(f"county mask {county0.sum() * 0.01:.0f} km2")
    return county0


def township_seats(rng, terrain, towns, county0, interior, n_rural=15):
    """n_rural township seats (EPSG:4545 metres) beside rivers, spread out by farthest-point sampling."""
    grid, rivers, seat_xy = terrain.grid, terrain.rivers, towns.seat_xy
    cand, cand_riv = [], []
    for k, rv in enumerate(rivers):
        lim = {0: 1.0, 1: 0.75, 2: 0.5}[rv.order]
        sel = np.arange(0, int(len(rv.P) * lim), 4)
        cand.append(rv.P[sel])
        cand_riv += [(k, i) for i in sel]
    cand = np.vstack(cand)
    r_, c_ = grid.rc(cand[:, 0], cand[:, 1])
    okc = (r_ >= 0) & (r_ < grid.ny) & (c_ >= 0) & (c_ < grid.nx)
    r_, c_ = np.clip(r_, 0, grid.ny - 1), np.clip(c_, 0, grid.nx - 1)
    okc &= county0[r_, c_] & (interior[r_, c_] > 2600) & ~towns.blocked[r_, c_]
    okc &= np.hypot(*(cand - seat_xy).T) > 7500
    cidx = np.flatnonzero(okc)
    okm = ~terrain.water & ~towns.blocked & (terrain.slope < 0.3) & county0
    chosen = [seat_xy]
    town_pts = []
    while len(town_pts) < n_rural:
        dmin = np.min(np.hypot(cand[cidx, None, 0] - np.array(chosen)[None, :, 0],
                               cand[cidx, None, 1] - np.array(chosen)[None, :, 1]), axis=1)
        score = dmin * rng.uniform(0.8, 1.0, len(cidx))
        j = cidx[int(np.argmax(score))]
        k, i = cand_riv[j]
        rv = rivers[k]
        Tt = tangents(rv.P)
        nrm = np.array([-Tt[i, 1], Tt[i, 0]])
        placed = None
        for sd in ((1, -1) if rng.random() < 0.5 else (-1, 1)):   # on the bank, just off the floor
            q = rv.P[i] + nrm * sd * (rv.w[i] * 0.6 + (110 if rv.order == 0 else 30))
            cc = nearest_ok_cell(grid, q, okm, maxr=3)
            if cc is not None:
                placed = grid.xy(cc)
                break
        if placed is None:
            cidx = cidx[cidx != j]
            continue
        chosen.append(placed)
        town_pts.append(placed)
    return np.array(town_pts)


def absorb_exclaves(lab, seed_cells, grid):
    """Give every detached piece of a township's label to the neighbour it borders most (in place)."""
    for _ in range(6):
        changed = False
        for k in range(len(seed_cells)):
            comp, n = ndimage.label(lab == k)
            if n <= 1:
                continue
            r0, c0 = divmod(int(seed_cells[k]), grid.nx)
            keep_id = comp[r0, c0]
            if keep_id == 0:
                sizes = np.bincount(comp.ravel())
                sizes[0] = 0
                keep_id = int(np.argmax(sizes))
            objs = ndimage.find_objects(comp)
            for cid in range(1, n + 1):
                if cid == keep_id or objs[cid - 1] is None:
                    continue
                sl = objs[cid - 1]
                sl2 = tuple(slice(max(s_.start - 1, 0), s_.stop + 1) for s_ in sl)
                sub = comp[sl2] == cid
                ring = ndimage.binary_dilation(sub) & ~sub
                vals = lab[sl2][ring]
                vals = vals[(vals >= 0) & (vals != k)]
                if vals.size:
                    lab[sl2][sub] = np.bincount(vals).argmax()
                    changed = True
        if not changed:
            break


def label_coverage(lab, n, grid):
    """Vectorise a label raster into n polygons that form an edge-matched coverage, simplified to 170 m."""
    polys = [shape(geom) for geom, _ in features.shapes(lab, mask=lab >= 0, connectivity=4,
                                                          transform=grid.transform)]
    # node all boundaries so that shared edges carry identical vertices
    noded = shapely.union_all(shapely.boundary(np.array(polys, dtype=object)))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    fl = [int(lab[grid.rc(*shapely.get_coordinates(shapely.point_on_surface(f))[0])]) for f in faces]
    tps = []
    for k in range(n):
        fk = [f for f, v in zip(faces, fl, strict=False) if v == k]
        tps.append(fk[0] if len(fk) == 1 else shapely.union_all(fk))
    tps = np.array(tps, dtype=object)
    if not shapely.coverage_is_valid(tps):
        msg = "township polygons are not an edge-matched coverage"
        raise RuntimeError(msg)
    tps = shapely.coverage_simplify(tps, tolerance=170.0)
    return [shapely.make_valid(g) if not g.is_valid else g for g in tps]


def township_polygons(grid, G, towns, town_pts, county0):
    """Township polygons: terrain-cost Voronoi cells of 3 subdistrict seeds in the seat + the rural seats.

    Returns (sub_pts, polygons, label raster, county mask, county polygon), EPSG:4545.
    """
    fr, hl = towns.seat["frame"], towns.seat["half_len"]
    sub_pts = np.array([fr(np.array([-0.55 * hl]), np.array([420.0]))[0],
                        fr(np.array([0.55 * hl]), np.array([420.0]))[0],
                        fr(np.array([0.0]), np.array([-480.0]))[0]])
    seeds = np.vstack([sub_pts, town_pts])
    seed_cells = np.array([cell_of_xy(grid, p) for p in seeds])
    _, _, src = dijkstra(G, indices=seed_cells, return_predecessors=True, min_only=True)
    src = src.reshape(grid.ny, grid.nx)
    lab = np.full((grid.ny, grid.nx), -1, np.int32)
    for k, c in enumerate(seed_cells):
        lab[src == c] = k
    lab[~county0] = -1
    absorb_exclaves(lab, seed_cells, grid)
    tps = label_coverage(lab, len(seeds), grid)
    county_poly = shapely.union_all(tps)
    lab_f = features.rasterize([(g, k + 1) for k, g in enumerate(tps)], out_shape=(grid.ny, grid.nx),
                               transform=grid.transform, fill=0).astype(np.int32) - 1
    log(f"townships: {len(seeds)}, county area {county_poly.area / 1e6:.0f} km2")
    return sub_pts, tps, lab_f, lab_f >= 0, county_poly


def name_townships(rng, seat_xy, sub_pts, town_pts):
    """Names, classes and codes: subdistricts 城X街道 first, then rural 镇/乡 coded west->east, north->south."""
    n_rural = len(town_pts)
    sub_names, used_dir = [], set()
    for p in sub_pts:
        dname = direction_name(p - seat_xy)
        if dname in used_dir:
            dname = next(d for d in "东南西北" if d not in used_dir)
        used_dir.add(dname)
        sub_names.append(f"城{dname}街道")
    pool = list(range(len(RURAL_TOWN_NAMES)))
    rng.shuffle(pool)
    zhen = [i for i in pool if RURAL_TOWN_NAMES[i][1] == "镇"][:10]
    xiang = [i for i in pool if RURAL_TOWN_NAMES[i][1] == "乡"][:n_rural - 10]
    picked = zhen + xiang
    rng.shuffle(picked)
    rural_names = ["".join(RURAL_TOWN_NAMES[i]) for i in picked]
    order_r = np.lexsort((-town_pts[:, 1], np.round(town_pts[:, 0] / 4000)))
    names = sub_names + [None] * n_rural
    for rank_, k in enumerate(order_r):
        names[3 + k] = rural_names[rank_]
    classes = ["urban"] * 3 + ["rural"] * n_rural
    codes = [f"999901{k + 1:03d}" for k in range(len(names))]
    return names, classes, codes


def county_and_townships(rng, terrain, towns, router):
    """County outline, 15 rural township seats and 18 township polygons (3 urban subdistricts), EPSG:4545."""
    grid = terrain.grid
    router.set_phase(0.25, np.ones(grid.N))
    G = router.graph()
    county0 = county_outline(rng, grid, towns, G)
    interior = ndimage.distance_transform_edt(county0) * CELL
    town_pts = township_seats(rng, terrain, towns, county0, interior)
    town_cells = np.array([cell_of_xy(grid, p) for p in town_pts])
    sub_pts, tps, lab_f, county, county_poly = township_polygons(grid, G, towns, town_pts, county0)
    names, classes, codes = name_townships(rng, towns.seat_xy, sub_pts, town_pts)
    return Townships(interior, town_pts, town_cells, sub_pts, tps, lab_f, county, county_poly,
                     county_poly.area / 1e6, names, classes, codes)


def place_settlements(rng, terrain, towns, tw):
    """Villages (>= 1.0-1.15 km apart) and hamlets (>= 270 m apart) on gentle, low valley ground, EPSG:4545.

    About 280-310 villages and 7300 hamlets inside the county, proportionally fewer outside it.
    """
    grid, slope, h = terrain.grid, terrain.slope, terrain.h
    county, blocked, town_pts = tw.county, towns.blocked, tw.seat_pts
    suit = (np.exp(-(slope / 0.24) ** 2) / (1 + np.exp((h - 1500) / 90.0))
            * (0.3 + np.exp(-terrain.dist_river / 700.0)))
    suit[terrain.water | blocked | ~grid.inset(12)] = 0
    dist_town = ndimage.distance_transform_edt(~blocked) * CELL
    suit_v = suit * (dist_town > 600)
    nv_in = int(rng.integers(280, 311))
    v_in = sample_points(rng, grid, suit_v * county, nv_in, 1150, town_pts, 1100)
    out_mass = (suit_v * ~county).sum() / max((suit_v * county).sum(), 1)
    v_out = sample_points(rng, grid, suit_v * ~county, int(nv_in * 0.45 * out_mass), 1000,
                          np.vstack([town_pts, v_in]), 1000)
    vil_xy = np.vstack([v_in, v_out])
    nh_in = 7300
    suit_h = suit * (dist_town > 250)
    h_in = sample_points(rng, grid, suit_h * county, nh_in, 270, np.vstack([town_pts, vil_xy]), 400)
    h_out = sample_points(rng, grid, suit_h * ~county, int(nh_in * 0.42 * out_mass), 270,
                          np.vstack([town_pts, vil_xy]), 400)
    log(f"settlements: villages {len(v_in)} in + {len(v_out)} out, hamlets {len(h_in)} + {len(h_out)}")
    return Settlements(v_in, v_out, np.vstack([h_in, h_out]))
