"""Towns stage: vector street grids for the county seat (with a one-way old town) and the neighbouring city."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from rasterio import features
from scipy import ndimage
from shapely.geometry import LineString, Point, Polygon

from tools.demo.grid import log, smooth_line, tangents
from tools.demo.state import Towns

SEAT_ARTERIALS = ["人民路", "滨江路", "建设路", "解放路", "中山路", "新华路", "芙蓉大道", "迎宾大道", "滨江南路",
                  "南环路"]
SEAT_SECONDARY = ["文化路", "和平路", "民主路", "育才路", "朝阳路", "健康路", "胜利路", "东风路", "光明路", "前进路",
                  "园林路", "兴隆街", "新建路", "工农路", "红星路", "团结路", "长青路", "白杨路", "凤凰路", "桃源路"]


SEAT_BRANCH = ["书院街", "老街", "正街", "上河街", "下河街", "米市街", "盐井巷", "打铁巷", "仓坝巷", "龙井巷", "槐树巷",
               "杏花巷", "玉带巷", "石板巷", "水井巷", "菜园巷", "钟楼巷", "花园巷", "学府巷", "桂花巷", "箭道巷",
               "衙门口街", "文庙街", "染坊巷", "油坊巷", "柴市街", "新街", "后街", "北门巷", "南门巷", "东门巷",
               "西门巷", "黄桷巷", "马道子", "草市街", "荷花巷", "青石巷", "猪市坝街", "竹林巷", "铁匠巷"]


CITY_ARTERIALS = ["江城大道", "长江路", "滨江大道", "中心路", "世纪大道", "北山路"]
CITY_SECONDARY = ["兴华路", "太白路", "白鹤路", "广场路", "江南路", "顺江路", "望州路", "聚贤路", "金科路", "涪江路",
                  "体育路", "三峡路"]


CITY_BRANCH = ["中和街", "易家坝街", "小东门巷", "荔枝巷", "龙王沱巷", "十字街", "灯笼巷", "石鱼巷", "鹤鸣巷", "乌杨巷",
               "晒网坝街", "麻柳巷", "较场坝巷", "顺城巷", "兴隆巷", "会馆巷"]


def river_frame(river_P, i_c):
    """Curvilinear (s, n) frame along a smoothed river line, s = 0 at river vertex i_c.

    Returns ``frame(s, n) -> (..., 2)`` EPSG:4545 coordinates (metres) of the point s metres
    along the river from i_c and n metres to its left.
    """
    F = smooth_line(river_P, 4, pin=False)
    s_all = (np.arange(len(F)) - i_c) * 50.0
    Tt = tangents(F)
    Nn = np.c_[-Tt[:, 1], Tt[:, 0]]

    def frame(s, n):
        x = np.interp(s, s_all, F[:, 0]) + n * np.interp(s, s_all, Nn[:, 0])
        y = np.interp(s, s_all, F[:, 1]) + n * np.interp(s, s_all, Nn[:, 1])
        return np.stack([x, y], axis=-1)
    return frame


@dataclass(frozen=True)
class TownPlan:
    """The shape of a town's street grid along its river (metres)."""

    half_len: float              # half length along the river
    wpos: float                  # extent on the left bank
    wneg: float                  # extent on the right bank
    sp_s: float                  # cross-street spacing
    sp_n: float                  # along-street spacing
    old_half: float              # half length of the old town
    pools: tuple                 # (arterial, secondary, branch) street names
    river_half: float = 80.0     # half width of the river, kept free of streets
    oneway_pairs: bool = True    # one-way pairs of streets in the old town
    max_slope: float = 0.33      # steepest ground (m/m) an intersection may stand on


@dataclass
class TownLattice:
    """Candidate street intersections of a town: cross-street index i (along the river) x line index j."""

    svals: np.ndarray     # cross-street positions along the river, metres
    nvals: np.ndarray     # along-street offsets from the river (left positive), metres
    n_neg: int            # number of along-lines on the right bank (j < n_neg)
    kpos: dict            # j -> rank away from the river on the left bank
    kneg: dict            # j -> rank away from the river on the right bank
    XY: np.ndarray        # (ns, nn, 2) jittered intersection coordinates, EPSG:4545 metres
    keep: np.ndarray      # (ns, nn) intersection exists (inside the footprint, not too steep)
    old: np.ndarray       # (ns, nn) intersection is in the old town
    ow_zone: np.ndarray   # (ns, nn) intersection may carry one-way along-streets
    s_old: float          # old-town centre, metres along the river


def town_lattice(rng, grid, frame, plan, slope):
    """Street spacing, irregular footprint and jittered intersections of a town (metres, EPSG:4545)."""
    half_len, wpos, wneg, sp_s, sp_n = plan.half_len, plan.wpos, plan.wneg, plan.sp_s, plan.sp_n
    old_half, river_half, max_slope = plan.old_half, plan.river_half, plan.max_slope
    s_old = rng.uniform(-0.15, 0.15) * half_len
    # cross-street positions (closer together in the old town)
    svals = [0.0]
    while svals[-1] < half_len:
        fine = abs(svals[-1] - s_old) < old_half
        svals.append(svals[-1] + (rng.uniform(85, 120) if fine else sp_s * rng.uniform(0.8, 1.25)))
    neg = [0.0]
    while neg[-1] > -half_len:
        fine = abs(neg[-1] - s_old) < old_half
        neg.append(neg[-1] - (rng.uniform(85, 120) if fine else sp_s * rng.uniform(0.8, 1.25)))
    svals = np.array(sorted(neg[1:] + svals))
    # along-street positions
    npos = [river_half + 45]
    while npos[-1] < wpos:
        npos.append(npos[-1] + sp_n * rng.uniform(0.8, 1.25))
    nneg = [-(river_half + 45)]
    while nneg[-1] > -wneg:
        nneg.append(nneg[-1] - sp_n * rng.uniform(0.8, 1.25))
    nvals = np.array(sorted(nneg) + npos)
    kpos = {j: k for k, j in enumerate(range(len(nneg), len(nvals)))}
    kneg = {j: k for k, j in enumerate(range(len(nneg) - 1, -1, -1))}
    ns = len(svals)
    # irregular footprint
    sn = np.linspace(-1, 1, ns)
    ell = np.sqrt(np.clip(1 - sn ** 2, 0, 1)) ** 0.7
    noise = ndimage.gaussian_filter1d(rng.normal(0, 1, ns), 2.5)
    noise = noise / (np.abs(noise).max() + 1e-9)
    Wp = wpos * ell * (0.82 + 0.25 * noise)
    Wn = wneg * ell * (0.75 + 0.3 * noise[::-1])
    S, Nv = np.meshgrid(svals, nvals, indexing="ij")
    XY = frame(S.ravel(), Nv.ravel()).reshape(ns, len(nvals), 2)
    XY += rng.normal(0, 7.0, XY.shape)
    keep = (Nv <= Wp[:, None] + 1) & (Nv >= -Wn[:, None] - 1)
    keep[:, len(nneg)] |= np.abs(svals) < half_len * 0.92
    keep[:, len(nneg) - 1] |= np.abs(svals) < half_len * 0.6
    r, c = grid.rc(XY[..., 0], XY[..., 1])
    okr = (r >= 0) & (r < grid.ny) & (c >= 0) & (c < grid.nx)
    sl = np.where(okr, slope[np.clip(r, 0, grid.ny - 1), np.clip(c, 0, grid.nx - 1)], 9)
    keep &= sl < max_slope
    old = (np.abs(S - s_old) < old_half) & (Nv > 0) & (Nv < 650)
    ow_zone = (np.abs(S - s_old) < 2.0 * old_half) & (Nv > 0)
    return TownLattice(svals, nvals, len(nneg), kpos, kneg, XY, keep, old, ow_zone, s_old)


def town_street_names(rng, lat, half_len, pools):
    """Class and name of every street line: keys ("n", j) along the river, ("s", i) across it.

    Returns (line_cls, line_name, bridge_s); bridge_s are the cross streets that bridge the river.
    """
    ap, sp_, bp = [list(p) for p in pools]
    rng.shuffle(sp_)
    rng.shuffle(bp)
    ns, nn = len(lat.svals), len(lat.nvals)
    line_cls, line_name = {}, {}
    for j in range(nn):
        if j in lat.kpos:
            k = lat.kpos[j]
            cls = ("urban_arterial" if k in (0, 3, 7)
                   else "urban_secondary" if k % 2 == 0 or k == 5 else "urban_branch")
        else:
            k = lat.kneg[j]
            cls = "urban_arterial" if k == 0 else ("urban_secondary" if k % 2 == 0 else "urban_branch")
        line_cls[("n", j)] = cls
    bridge_s = set()
    for target in (-0.55, 0.02, 0.5):
        bridge_s.add(int(np.argmin(np.abs(lat.svals - target * half_len))))
    for i in range(ns):
        if i in bridge_s:
            cls = "urban_arterial"
        elif i % 3 == 0:
            cls = "urban_secondary"
        else:
            cls = "urban_branch"
        line_cls[("s", i)] = cls
    # names: arterial pool in order for along-lines, then the rest
    a_iter = iter(ap)
    s_iter = iter(sp_ * 3)
    b_iter = iter(bp * 3)
    order = ([("n", j) for j in sorted(lat.kpos, key=lambda j: lat.kpos[j])]
             + [("n", j) for j in sorted(lat.kneg, key=lambda j: lat.kneg[j])])
    order += [("s", i) for i in range(ns)]
    for key in order:
        cls = line_cls[key]
        if cls == "urban_arterial":
            nm = next(a_iter, None) or next(s_iter)
        elif cls == "urban_secondary":
            nm = next(s_iter)
        else:
            nm = next(b_iter) if rng.random() < 0.8 else ""
        line_name[key] = nm
    return line_cls, line_name, bridge_s


def town_edges(lat, line_cls, line_name, bridge_s, plan):
    """Street edges (i, j, cls, name, ow) between kept lattice intersections; returns (nodes, edges).

    Only the bridge cross streets cross the river; with ``plan.oneway_pairs`` two along-streets and two
    to four cross streets in the old town become one-way pairs.
    """
    keep, ns, nn = lat.keep, len(lat.svals), len(lat.nvals)
    nid = -np.ones((ns, nn), int)
    nid[keep] = np.arange(keep.sum())
    nodes = lat.XY[keep]
    ow_along = {}
    if plan.oneway_pairs:
        js = sorted(lat.kpos, key=lambda j: lat.kpos[j])
        if len(js) > 2:
            ow_along = {js[1]: 1, js[2]: -1}
    edges = _lattice_edges(lat, nid, line_cls, line_name, bridge_s, ow_along)
    if plan.oneway_pairs:
        _oneway_cross_pairs(lat, nid, line_cls, line_name, edges, plan.old_half)
    return nodes, edges


def _lattice_edges(lat, nid, line_cls, line_name, bridge_s, ow_along):
    """Edges between neighbouring kept intersections (node ids ``nid``); along-streets in ``ow_along``
    (j -> direction) are one-way in the one-way zone.
    """
    keep, ns, nn = lat.keep, len(lat.svals), len(lat.nvals)
    edges = []
    for i in range(ns):
        for j in range(nn):
            if not keep[i, j]:
                continue
            if i + 1 < ns and keep[i + 1, j]:
                ow = 0
                if j in ow_along and lat.ow_zone[i, j] and lat.ow_zone[i + 1, j]:
                    ow = ow_along[j]
                edges.append((nid[i, j], nid[i + 1, j], line_cls[("n", j)], line_name[("n", j)], ow))
            if j + 1 < nn and keep[i, j + 1]:
                cross = (j + 1 == lat.n_neg)
                if cross and i not in bridge_s:
                    continue
                edges.append((nid[i, j], nid[i, j + 1], line_cls[("s", i)], line_name[("s", i)], 0))
    return edges


def _oneway_cross_pairs(lat, nid, line_cls, line_name, edges, old_half):
    """Make one or two pairs of old-town branch cross streets one-way in opposite directions (in ``edges``)."""
    cand = [i for i in range(len(lat.svals))
            if abs(lat.svals[i] - lat.s_old) < old_half * 0.8 and line_cls[("s", i)] == "urban_branch"]
    if len(cand) < 3:
        return
    m_ = len(cand) // 2
    pairs_ = [(cand[m_ - 1], 1), (cand[m_ + 1], -1)]
    if len(cand) >= 6:
        pairs_ += [(cand[0], -1), (cand[-1], 1)]
    for e_i, e in enumerate(edges):
        a, b, cls, nm, _ow = e
        for ii, sign in pairs_:
            if line_cls[("s", ii)] == cls and nm == line_name[("s", ii)]:
                ia, ja = np.argwhere(nid == a)[0]
                ib, jb = np.argwhere(nid == b)[0]
                if ia == ib == ii and lat.old[ia, ja] and lat.old[ib, jb] and ja >= lat.n_neg:
                    edges[e_i] = (a, b, cls, nm, sign)


def largest_street_component(rng, nodes, edges):
    """Drop ~13 % of two-way branch streets (superblocks) and keep the largest connected part."""
    keep_e = [e for e in edges if not (e[2] == "urban_branch" and e[4] == 0 and rng.random() < 0.13)]
    par = list(range(len(nodes)))

    def find(x):
        while par[x] != x:
            par[x] = par[par[x]]
            x = par[x]
        return x
    for a, b, *_ in keep_e:
        par[find(a)] = find(b)
    roots = np.array([find(i) for i in range(len(nodes))])
    used = np.zeros(len(nodes), bool)
    for a, b, *_ in keep_e:
        used[a] = used[b] = True
    vals, cnt = np.unique(roots[used], return_counts=True)
    big = vals[np.argmax(cnt)]
    sel = (roots == big) & used
    remap = -np.ones(len(nodes), int)
    remap[sel] = np.arange(sel.sum())
    edges = [(remap[a], remap[b], c_, n_, o_) for a, b, c_, n_, o_ in keep_e if sel[a] and sel[b]]
    return nodes[sel], edges


def town_gateways(nodes, edges, mls, block):
    """Street ends whose straight 240 m continuation leaves the town: [(node, (x, y), road class)]."""
    deg = np.bincount(np.array([e[0] for e in edges] + [e[1] for e in edges]), minlength=len(nodes))
    nbrs = defaultdict(list)
    for a, b, cls, *_ in edges:
        nbrs[a].append((b, cls))
        nbrs[b].append((a, cls))
    gw = []
    blk = block.buffer(20)
    for v in range(len(nodes)):
        if deg[v] > 2:
            continue
        for u, cl in nbrs[v]:
            d = nodes[v] - nodes[u]
            L = np.hypot(*d)
            if L < 1:
                continue
            g = nodes[v] + d / L * 240.0
            if blk.contains(Point(g)):
                continue
            if LineString([nodes[v] + d / L * 40.0, g]).distance(mls) < 35:
                continue
            gw.append((v, g, cl))
    return gw


def build_town(rng, grid, river_P, i_c, plan, slope):
    """Curvilinear street grid following the river around river point i_c (metres, EPSG:4545), shaped
    by ``plan`` (a :class:`TownPlan`) on ground of ``slope`` (m/m).

    Returns dict(nodes=(n,2), edges=[(i, j, cls, name, ow)], gateways=[(node, xy, cls)], block
    (street buffer, 115 m), footprint (outer ring of the 95 m buffer), old_xy (old-town centre),
    frame (see ``river_frame``), half_len).  ow = +1: one-way i->j, -1: one-way j->i, 0: two-way.
    """
    frame = river_frame(river_P, i_c)
    lat = town_lattice(rng, grid, frame, plan, slope)
    line_cls, line_name, bridge_s = town_street_names(rng, lat, plan.half_len, plan.pools)
    nodes, edges = town_edges(lat, line_cls, line_name, bridge_s, plan)
    nodes, edges = largest_street_component(rng, nodes, edges)
    mls = shapely.union_all([LineString([nodes[a], nodes[b]]) for a, b, *_ in edges])
    block = mls.buffer(115, quad_segs=4)
    fp = mls.buffer(95, quad_segs=4)
    foot = Polygon(fp.exterior) if fp.geom_type == "Polygon" else fp
    return {"nodes": nodes, "edges": edges, "gateways": town_gateways(nodes, edges, mls, block), "block": block,
            "footprint": foot, "old_xy": frame(np.array([lat.s_old]), np.array([300.0]))[0], "frame": frame,
            "half_len": plan.half_len}


def build_towns(rng, terrain):
    """Street grids of the county seat (with an old town) and the neighbouring city 44 km down the valley."""
    grid, main = terrain.grid, terrain.rivers[0]
    seat_plan = TownPlan(2300, 1150, 650, 170, 150, 550, (SEAT_ARTERIALS, SEAT_SECONDARY, SEAT_BRANCH))
    city_plan = TownPlan(2100, 1150, 950, 210, 180, 400, (CITY_ARTERIALS, CITY_SECONDARY, CITY_BRANCH),
                         oneway_pairs=False, max_slope=0.5)
    seat = build_town(rng, grid, main.P, terrain.i_seat, seat_plan, terrain.slope)
    city = build_town(rng, grid, main.P, terrain.i_city, city_plan, terrain.slope)
    blocked = features.rasterize([(seat["block"], 1), (city["block"], 1)], out_shape=(grid.ny, grid.nx),
                                 transform=grid.transform, all_touched=True).astype(bool)
    log(f"towns: seat {len(seat['edges'])} street edges, city {len(city['edges'])}")
    return Towns(seat, city, seat["nodes"].mean(0), city["nodes"].mean(0), blocked)
