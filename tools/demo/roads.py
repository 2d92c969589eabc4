"""Roads stage: national road, expressway, trunk, local and village roads, and their line geometry."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage
from scipy.sparse.csgraph import breadth_first_order, dijkstra, minimum_spanning_tree
from scipy.spatial import Delaunay
from shapely.geometry import LineString

from tools.demo.grid import CELL, RANK, cell_of_xy, chaikin, fix_crossings, log, nearest_ok_cell, relax, smooth_line
from tools.demo.network import Net, Router
from tools.demo.state import Roads, Settlements


def start_network(terrain, towns, router):
    """An empty grid network with both towns' street graphs added as vector nodes and edges."""
    grid = terrain.grid
    net = Net(grid, router)

    def add_town(t):
        vid = [net.vnode(p) for p in t["nodes"]]
        for a, b, cls, nm, ow in t["edges"]:
            owf = -1 if ow == 0 else (vid[a] if ow > 0 else vid[b])
            net.add_edge(vid[a], vid[b], cls, nm, owf)
        gws = []
        for v, g, cls in sorted(t["gateways"], key=lambda x: -RANK[x[2]]):
            c = cell_of_xy(grid, g)
            r0, c0 = divmod(c, grid.nx)
            if towns.blocked[r0, c0] or terrain.water[r0, c0] or c in net.gw:
                continue
            net.gw[c] = vid[v]
            net.is_src[c] = True
            gws.append((c, vid[v], t["nodes"][v], cls))
        return gws
    seat_gw = add_town(towns.seat)
    city_gw = add_town(towns.city)
    return Roads(net, router, terrain, towns, np.zeros(grid.N, bool), ~terrain.water & ~towns.blocked,
                 seat_gw, city_gw)


def town_axis(towns):
    """Unit vector from the county seat towards the city."""
    return (towns.city_xy - towns.seat_xy) / np.hypot(*(towns.city_xy - towns.seat_xy))


def route_national_road(roads):
    """National road G319: seat -> city along the main valley, and seat -> the valley's SE exit."""
    grid, net, router, seat_xy = roads.terrain.grid, roads.net, roads.router, roads.towns.seat_xy
    axis = town_axis(roads.towns)

    def pick_gw(gws, direction):
        best, bs = None, -1e18
        for c, v, xy, cls in gws:
            sc = float(np.dot(xy - seat_xy, direction)) + (400 if cls == "urban_arterial" else 0)
            if sc > bs:
                best, bs = (c, v, xy, cls), sc
        return best
    router.set_phase(0.085, roads.cost_factor())
    g_nw = pick_gw(roads.seat_gw, axis)
    g_se = pick_gw(roads.seat_gw, -axis)
    roads.gc_in = pick_gw(roads.city_gw, -axis)
    net.add_path(router.pair(g_nw[0], roads.gc_in[0], grid), "national", "G319")
    main = roads.terrain.rivers[0]
    i_end = int(np.flatnonzero(grid.inside(main.P[:, 0], main.P[:, 1], margin=1500))[0])
    se_end = nearest_ok_cell(grid, main.P[i_end], roads.ok_end)
    net.add_path(router.pair(g_se[0], se_end, grid), "national", "G319")
    log("national road routed")


def route_expressway(rng, roads):
    """Expressway G69 cells from its own city gateway, past the seat on the far bank, to the grid edge.

    Its own cost (slope cap 12, water only 2.5x: bridges and tunnels; other roads 3x so it does not run
    along them).  Sets roads.exp_path / exp_cells / gc_exp; no network edges are added.
    """
    grid, net, router = roads.terrain.grid, roads.net, roads.router
    towns, seat_xy, city_xy = roads.towns, roads.towns.seat_xy, roads.towns.city_xy
    axis = town_axis(towns)
    cf = np.ones(grid.N)
    cf[roads.terrain.water.ravel()] = 2.5
    cf[towns.blocked.ravel()] = 1e5
    cf[net.on_road] = 3.0
    router.set_phase(0.5, cf, cap=12.0)
    gc_in = roads.gc_in
    gc_exp = min([g for g in roads.city_gw if g[0] != gc_in[0] and np.hypot(*(g[2] - gc_in[2])) > 500],
                 key=lambda g: float(np.dot(g[2] - city_xy, axis)))
    del net.gw[gc_exp[0]]
    net.special.add(gc_exp[1])
    net.is_src[gc_exp[0]] = False
    side = np.array([-axis[1], axis[0]])
    fr = towns.seat["frame"]
    if np.dot(fr(np.array([0.0]), np.array([1.0]))[0] - fr(np.array([0.0]), np.array([0.0]))[0], side) > 0:
        side = -side  # pass on the side opposite the main bank
    wp = nearest_ok_cell(grid, seat_xy + side * 2600 - axis * 400, roads.ok_end, maxr=10)
    th = math.atan2(-axis[1], -axis[0]) + math.radians(rng.choice([-28, 28]))
    v = np.array([math.cos(th), math.sin(th)])
    exp_end = nearest_ok_cell(grid, seat_xy + v * (grid.distance_to_edge(seat_xy, v) - 500), roads.ok_end,
                              maxr=10)
    p1 = router.pair(gc_exp[0], wp, grid)
    p2 = router.pair(wp, exp_end, grid)
    seen, clean = {}, []
    for c in p1 + p2[1:]:  # drop loops
        if c in seen:
            clean = clean[:seen[c] + 1]
            seen = {cc: k for k, cc in enumerate(clean)}
            continue
        seen[c] = len(clean)
        clean.append(c)
    roads.exp_path, roads.gc_exp = clean, gc_exp
    roads.exp_cells[np.array(clean)] = True
    log(f"expressway routed: {len(clean)} cells")


def clear_expressway_corridor(settle, roads):
    """Drop villages and hamlets within 2 cells of the expressway (their roads would dead-end beneath it)."""
    grid = roads.terrain.grid
    near = ndimage.binary_dilation(roads.exp_cells.reshape(grid.ny, grid.nx), iterations=2).ravel()

    def keep(xy):
        return xy[~near[grid.idx(xy[:, 0], xy[:, 1])]]
    return Settlements(keep(settle.v_in), keep(settle.v_out), keep(settle.hamlets))


@dataclass
class SeatTree:
    """Minimum spanning tree over the county seat (node 0) and the rural township seats (1..n)."""

    D: np.ndarray             # symmetric routing-cost matrix between seats
    mst: np.ndarray           # bool adjacency of the tree
    order: np.ndarray         # breadth-first order from node 0
    preds: np.ndarray         # parent of each node
    children: dict
    depth: dict               # routing cost from node 0 along the tree

    @classmethod
    def build(cls, D):
        """The minimum spanning tree of the cost matrix ``D``, walked breadth first from node 0."""
        mst = minimum_spanning_tree(D).toarray()
        mst = ((mst + mst.T) > 0)
        order_bfs, preds = breadth_first_order(mst, 0, directed=False, return_predecessors=True)
        children = defaultdict(list)
        for v_ in order_bfs[1:]:
            children[preds[v_]].append(v_)
        depth = {0: 0.0}
        for v_ in order_bfs[1:]:
            depth[v_] = depth[preds[v_]] + D[preds[v_], v_]
        return cls(D, mst, order_bfs, preds, children, depth)

    def subtree(self, v_):
        """Node ``v_`` and every node below it in the tree."""
        st = [v_]
        for c_ in self.children[v_]:
            st += self.subtree(c_)
        return st

    def tree_dist(self, a_, b_):
        """Routing cost between two nodes along the tree."""
        D, preds = self.D, self.preds
        pa, x = {}, a_
        acc = 0.0
        while True:
            pa[x] = acc
            if x == 0:
                break
            acc += D[preds[x], x]
            x = preds[x]
        acc = 0.0
        x = b_
        while x not in pa:
            acc += D[preds[x], x]
            x = preds[x]
        return acc + pa[x]


def seat_cost_matrix(roads, town_cells):
    """Routing costs between township seats (<= 50 km) and from each seat to the network so far."""
    router, n_rural = roads.router, len(town_cells)
    G = router.graph()
    d_root, _ = router.tree(roads.net.is_src)
    D = np.zeros((n_rural + 1, n_rural + 1))
    for i in range(n_rural):
        dd = dijkstra(G, indices=int(town_cells[i]), limit=50000.0)
        D[i + 1, 1:] = np.where(np.isfinite(dd[town_cells]), dd[town_cells], 0.0)
        D[i + 1, 0] = d_root[town_cells[i]]
    D[0, 1:] = D[1:, 0]
    return np.where((D > 0) & (D.T > 0), 0.5 * (D + D.T), np.maximum(D, D.T))


def provincial_routes(tree):
    """Up to three tree paths from the root to the deepest seat of its largest branches: S203, S304, ..."""
    branches = sorted(tree.children[0], key=lambda c_: -len(tree.subtree(c_)))
    prov_name_of = {}
    prov_names = ["S203", "S304", "S415", "S526"]
    n_prov = 0
    prov_leaves = []
    for bch in branches:
        st = tree.subtree(bch)
        if n_prov >= 3 or (len(st) < 4 and n_prov >= 2):
            continue
        leaf = max(st, key=lambda v_: tree.depth[v_])
        nm = prov_names[n_prov]
        n_prov += 1
        v_ = leaf
        while v_ != 0:
            prov_name_of[(tree.preds[v_], v_)] = nm
            v_ = tree.preds[v_]
        prov_leaves.append((leaf, nm))
    return prov_name_of, prov_leaves


def route_trunk_roads(roads, tw):
    """Provincial (S...) and county (X...) roads between township seats, and out to neighbouring counties.

    Routed along a terrain-cost spanning tree of the seats (costs in grade-penalised metres), plus up
    to 8 loop roads where the tree detour exceeds 1.45x, and 4 county roads from seats near the edge.
    """
    grid, net, router, seat_xy = roads.terrain.grid, roads.net, roads.router, roads.towns.seat_xy
    town_pts, town_cells, n_rural = tw.seat_pts, tw.seat_cells, tw.n_rural
    router.set_phase(0.085, roads.cost_factor())
    tree = SeatTree.build(seat_cost_matrix(roads, town_cells))
    D, preds = tree.D, tree.preds
    prov_name_of, prov_leaves = provincial_routes(tree)
    x_numbers = itertools.count(101)

    def xname():
        return f"X{next(x_numbers)}"
    route_order = sorted(tree.order[1:], key=lambda v_: (0 if (preds[v_], v_) in prov_name_of else 1, tree.depth[v_]))
    for v_ in route_order:
        p_ = preds[v_]
        e = (p_, v_)
        cls = "provincial" if e in prov_name_of else "county"
        nm = prov_name_of.get(e) or xname()
        if p_ == 0:
            path = router.to_net(town_cells[v_ - 1], net.is_src)
        else:
            path = router.pair(town_cells[p_ - 1], town_cells[v_ - 1], grid, lim=D[p_, v_] * 1.02 + 500)
        net.add_path(path, cls, nm)
    # provincial roads continue to neighbouring counties
    for leaf, nm in prov_leaves:
        lp = town_pts[leaf - 1]
        v = (lp - seat_xy) / np.hypot(*(lp - seat_xy))
        tmax = grid.distance_to_edge(lp, v)
        end = nearest_ok_cell(grid, lp + v * (tmax - 300), roads.ok_end, maxr=10)
        if end is not None and tmax > 3000:
            net.add_path(router.pair(town_cells[leaf - 1], end, grid), "provincial", nm)
    # a few extra county roads closing loops between neighbouring townships
    pairs = []
    for i in range(1, n_rural + 1):
        for j in range(i + 1, n_rural + 1):
            if tree.mst[i, j] or D[i, j] <= 0 or np.hypot(*(town_pts[i - 1] - town_pts[j - 1])) > 17000:
                continue
            ratio = tree.tree_dist(i, j) / D[i, j]
            if ratio > 1.45:
                pairs.append((-ratio, i, j))
    for _, i, j in sorted(pairs)[:8]:
        net.add_path(router.pair(town_cells[i - 1], town_cells[j - 1], grid, lim=D[i, j] * 1.02 + 500),
                     "county", xname())
    # county roads out to the neighbouring counties' townships
    leaves = {lf for lf, _ in prov_leaves}
    interior = tw.interior.ravel()
    by_edge = sorted([k_ for k_ in range(1, n_rural + 1) if k_ not in leaves],
                     key=lambda k_: interior[town_cells[k_ - 1]])
    for k_ in by_edge[:4]:
        lp = town_pts[k_ - 1]
        v = (lp - seat_xy) / np.hypot(*(lp - seat_xy))
        end = nearest_ok_cell(grid, lp + v * (interior[town_cells[k_ - 1]] + 4000), roads.ok_end & grid.inset(25),
                              maxr=10)
        if end is not None:
            net.add_path(router.pair(town_cells[k_ - 1], end, grid), "county", xname())
    log(f"provincial/county roads routed ({len(prov_leaves)} provincial routes)")


def add_seat_streets(rng, roads, tw):
    """Two short (200 m) township-class streets at each rural seat (集镇), so that the seat is a junction."""
    grid, net = roads.terrain.grid, roads.net
    water, blocked = roads.terrain.water.ravel(), roads.towns.blocked.ravel()
    dirs = [(0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1)]
    for k_ in range(tw.n_rural):
        c0 = int(tw.seat_cells[k_])
        r0, cc0 = divmod(c0, grid.nx)
        made = 0
        for t_ in rng.permutation(len(dirs)):
            dr, dc = dirs[t_]
            cells_ = [(r0 + m * dr) * grid.nx + cc0 + m * dc for m in (1, 2)]
            if any(net.on_road[q] or water[q] or blocked[q] for q in cells_):
                continue
            net.add_path([c0, *cells_], "township", f"{tw.names[3 + k_][:2]}{['正街', '新街', '后街'][made]}")
            made += 1
            if made >= 2:
                break


def add_interchanges(roads, tw):
    """2-3 expressway interchanges (near the seat and near township seats), each joined to the network.

    The city gateway is the other one.  Sets roads.ic_cells (indices into roads.exp_path).
    """
    grid, net, exp_path = roads.terrain.grid, roads.net, roads.exp_path
    water = roads.terrain.water.ravel()
    exp_xy = grid.xy(np.array(exp_path))
    ic_idx = [int(np.argmin(np.hypot(*(exp_xy - roads.towns.seat_xy).T)))]
    dt = [(float(np.min(np.hypot(*(exp_xy - p).T))), int(np.argmin(np.hypot(*(exp_xy - p).T)))) for p in tw.seat_pts]
    for d_, k_ in sorted(dt):
        if d_ > 5000 or len(ic_idx) >= 3:
            break
        if all(abs(k_ - q) > 90 for q in ic_idx) and 40 < k_ < len(exp_path) - 40:
            ic_idx.append(k_)
    roads.ic_cells = []
    for first in sorted(ic_idx):
        k_ = first
        while water[exp_path[k_]]:
            k_ += 1
        e = exp_path[k_]
        roads.ic_cells.append(k_)
        net.special.add(e)
        if not net.on_road[e]:
            net.add_path(roads.router.to_net(e, net.is_src), "county", "G69连接线")
    log(f"interchanges: {len(roads.ic_cells) + 1}")


def route_local_roads(roads, settle):
    """Township roads (Y001..) to every village and unnamed village roads to hamlets off the network.

    Shortest-path trees from the network in batches, farthest first, so that later roads join
    earlier ones instead of running parallel.
    """
    grid, net, router = roads.terrain.grid, roads.net, roads.router
    router.set_phase(0.12, roads.cost_factor())
    vil_xy, ham_xy = settle.villages, settle.hamlets
    vil_cells = grid.idx(vil_xy[:, 0], vil_xy[:, 1])
    ham_cells = grid.idx(ham_xy[:, 0], ham_xy[:, 1])
    y_numbers = itertools.count(1)
    n_y = 0
    dist0, pred = router.tree(net.is_src)
    order_v = np.argsort(-dist0[vil_cells], kind="stable")
    for b_, part in enumerate(np.array_split(order_v, 4)):
        if b_:
            _, pred = router.tree(net.is_src)
        n_y += net.add_tree_paths(vil_cells[part], pred, "township", lambda _: f"Y{next(y_numbers):03d}")
    log(f"township roads: {n_y} routes")
    n_h = 0
    dist0, pred = router.tree(net.is_src)
    order_h = np.argsort(-dist0[ham_cells], kind="stable")
    for b_, part in enumerate(np.array_split(order_h, 3)):
        if b_:
            _, pred = router.tree(net.is_src)
        # hamlets right next to a road need no road of their own
        near = ndimage.binary_dilation(net.on_road.reshape(grid.ny, grid.nx)).ravel()
        hc = ham_cells[part]
        n_h += net.add_tree_paths(hc[~near[hc]], pred, "village", lambda _: "")
    log(f"village roads to {n_h} hamlets")


def add_village_loops(rng, roads, settle):
    """Village roads between a third of the Delaunay-neighbour villages 0.9-3.2 km apart (<= 2.2x detour)."""
    grid, net, router = roads.terrain.grid, roads.net, roads.router
    vil_xy = settle.villages
    vil_cells = grid.idx(vil_xy[:, 0], vil_xy[:, 1])
    tri = Delaunay(vil_xy)
    ed = set()
    for s_ in tri.simplices:
        for a_, b_ in ((s_[0], s_[1]), (s_[1], s_[2]), (s_[0], s_[2])):
            ed.add((min(a_, b_), max(a_, b_)))
    n_loop = 0
    for a_, b_ in sorted(ed):
        L = np.hypot(*(vil_xy[a_] - vil_xy[b_]))
        if L < 900 or L > 3200 or rng.random() > 0.33:
            continue
        ca, cb = int(vil_cells[a_]), int(vil_cells[b_])
        dist, pr = dijkstra(router.graph(), indices=ca, return_predecessors=True, limit=2.2 * L)
        if not np.isfinite(dist[cb]):
            continue
        pth = [cb]
        while pth[-1] != ca:
            pth.append(int(pr[pth[-1]]))
        net.add_path(pth[::-1], "village", "")
        n_loop += 1
    log(f"village loops: {n_loop}")


def add_fragments(rng, roads, tw):
    """Three tiny disconnected village-road fragments (2-6 cells, one with a spur) far from other roads."""
    grid, net = roads.terrain.grid, roads.net
    water, slope = roads.terrain.water, roads.terrain.slope
    far_mask = ndimage.distance_transform_edt(~(net.on_road.reshape(grid.ny, grid.nx) | roads.towns.blocked
                                                | roads.exp_cells.reshape(grid.ny, grid.nx))) * CELL
    n_frag = 0
    candf = np.flatnonzero((far_mask.ravel() > 900) & tw.county.ravel() & (slope.ravel() < 0.3) & ~water.ravel())
    rng.shuffle(candf)
    frag_cells = []
    for c0 in candf[:200]:
        if n_frag >= 3:
            break
        if any(np.hypot(*(grid.xy(c0) - grid.xy(f))) < 8000 for f in frag_cells):
            continue
        pth = _fragment_walk(rng, roads.terrain, far_mask, int(c0))
        if len(pth) >= 3:
            net.add_path(pth, "village", "")
            if n_frag == 1 and len(pth) >= 4:   # one fragment gets a short spur (3 segments)
                _add_spur(net, grid, far_mask, pth)
            frag_cells.append(int(c0))
            n_frag += 1
    log(f"fragments: {n_frag}")


def _fragment_walk(rng, terrain, far_mask, start):
    """Cells of a 3-6 step walk from ``start`` over dry ground far (>= 500 m) from roads, each step to
    the neighbour of least climb (plus up to 8 m of noise); no step cuts the corner of the walk.
    """
    grid, h, water = terrain.grid, terrain.h, terrain.water
    pth = [start]
    for _ in range(int(rng.integers(3, 7))):
        r0, cc0 = divmod(pth[-1], grid.nx)
        opts = []
        for dr, dc in Router.OFFS:
            rr, cc = r0 + dr, cc0 + dc
            q = rr * grid.nx + cc
            if q in pth or far_mask[rr, cc] < 500 or water[rr, cc]:
                continue
            if dr and dc and ((r0 + dr) * grid.nx + cc0 in pth or r0 * grid.nx + cc0 + dc in pth):
                continue
            opts.append((abs(h[rr, cc] - h[r0, cc0]) + rng.uniform(0, 8), q))
        if not opts:
            break
        pth.append(min(opts)[1])
    return pth


def _add_spur(net, grid, far_mask, pth):
    """Add a two-cell straight spur from the middle of the fragment ``pth``, clear of its other cells."""
    m_ = pth[len(pth) // 2]
    r0, cc0 = divmod(m_, grid.nx)
    for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
        q1 = (r0 + dr) * grid.nx + cc0 + dc
        q2 = (r0 + 2 * dr) * grid.nx + cc0 + 2 * dc
        if q1 in pth or q2 in pth or far_mask[r0 + 2 * dr, cc0 + 2 * dc] < 500:
            continue
        if any(abs(q2 // grid.nx - p_ // grid.nx) <= 1 and abs(q2 % grid.nx - p_ % grid.nx) <= 1
               for p_ in pth):
            continue
        net.add_path([m_, q1, q2], "village", "")
        break


def resolve_diagonal_crossings(net, grid):
    """Where two diagonal grid edges cross inside one cell square, re-route the lower-ranked one around it."""
    E, nxg = net.edges, grid.nx
    for key in list(E.keys()):
        a, b = key
        if b >= grid.N or b - a != nxg + 1 or key not in E:
            continue
        anti = (a + 1, a + nxg)
        if anti not in E:
            continue
        if E[anti][0] <= E[key][0]:
            at = E.pop(anti)
            net.add_edge(a, a + 1, at[1], at[2])
            net.add_edge(a, a + nxg, at[1], at[2])
        else:
            at = E.pop(key)
            net.add_edge(a, a + 1, at[1], at[2])
            net.add_edge(a + 1, b, at[1], at[2])


def extract_chains(E, special):
    """Maximal chains of same-class, same-name, same-direction edges between junctions and dead ends.

    E: {(a, b): [rank, class, name, oneway_from]}; special: nodes where a chain must break.
    Returns [(nodes, edge keys)].
    """
    adj = defaultdict(list)
    for key in E:
        adj[key[0]].append((key[1], key))
        adj[key[1]].append((key[0], key))
    brk = set()
    for n, lst in adj.items():
        if len(lst) != 2 or n in special or not _chain_continues(E, n, lst[0][1], lst[1][1]):
            brk.add(n)
    visited = set()
    chains = []
    for n in sorted(brk):
        for nb, key in adj[n]:
            if key not in visited:
                chains.append(_walk_chain(adj, brk, visited, n, nb, key))
    for key in list(E.keys()):   # closed rings without any junction
        if key not in visited:
            brk.add(key[0])
            chains.append(_walk_chain(adj, brk, visited, key[0], key[1], key))
    return chains


def _chain_continues(E, n, k1, k2):
    """Whether a chain runs on through node ``n`` from edge ``k1`` to edge ``k2``: same class and name,
    both two-way or both one-way in one travel direction through ``n``.
    """
    e1, e2 = E[k1], E[k2]
    if e1[1] != e2[1] or e1[2] != e2[2]:
        return False
    o1, o2 = e1[3] >= 0, e2[3] >= 0
    if o1 != o2:
        return False
    return (e1[3] == n) != (e2[3] == n) if o1 else True


def _walk_chain(adj, brk, visited, start, nb, key):
    """The chain (nodes, edge keys) from ``start`` over edge ``key`` to ``nb`` and on to a break node
    (``brk``) or an edge already ``visited``; marks its edges visited.
    """
    nodes, keys = [start, nb], [key]
    visited.add(key)
    cur = nb
    while cur not in brk:
        (n1, k1), (n2, k2) = adj[cur]
        nxt, k = (n2, k2) if k1 == keys[-1] else (n1, k1)
        if k in visited:
            break
        visited.add(k)
        keys.append(k)
        nodes.append(nxt)
        cur = nxt
    return nodes, keys


def road_chains(net, N):
    """Chains of the final network with self-loops opened and tiny duplicate squares removed."""
    E = net.edges
    chains = extract_chains(E, net.special)
    # a road looping back to its own junction: open the loop (drop its last grid step)
    n_dup = 0
    for nodes, keys in chains:
        if nodes[0] == nodes[-1] and all(n < N for n in nodes):
            E.pop(keys[-1], None)
            n_dup += 1
    # two short chains joining the same pair of junctions (a tiny square of grid paths): keep one
    seen_pair = set()
    for nodes, keys in sorted(chains, key=lambda ch: -E.get(ch[1][0], [0])[0]):
        pair_ = (min(nodes[0], nodes[-1]), max(nodes[0], nodes[-1]))
        if nodes[0] == nodes[-1]:
            continue
        if pair_ in seen_pair and len(nodes) <= 6 and all(n < N for n in nodes):
            for k_ in keys:
                E.pop(k_, None)
            n_dup += 1
        else:
            seen_pair.add(pair_)
    if n_dup:
        chains = extract_chains(E, net.special)
    split_chains = []
    for nodes, keys in chains:
        if nodes[0] == nodes[-1] and len(nodes) >= 4:   # a loop back to the same junction: split it
            m_ = len(nodes) // 2
            split_chains += [(nodes[:m_ + 1], keys[:m_]), (nodes[m_:], keys[m_:])]
        elif nodes[0] != nodes[-1]:
            split_chains.append((nodes, keys))
    return split_chains


def road_features(roads, warp):
    """Ordinary road lines (EPSG:4545 metres) between junctions: smoothed, warped, simplified to 5 m, noded.

    Returns (coords, attrs) with attrs (road_class, name, oneway); one-way lines run in the travel direction.
    """
    grid, net, N = roads.terrain.grid, roads.net, roads.terrain.grid.N
    resolve_diagonal_crossings(net, grid)
    chains = road_chains(net, N)
    vx = np.array([net.vxy[k] for k in sorted(net.vxy)]) if net.vxy else np.zeros((0, 2))

    def coords_of(nodes):
        nd = np.array(nodes, np.int64)
        out_ = np.empty((len(nd), 2))
        m = nd < N
        out_[m] = grid.xy(nd[m])
        out_[~m] = vx[nd[~m] - N]
        return out_
    r_coords, r_attrs = [], []
    for chain_nodes, keys in chains:
        _rank, cls, name, owf = net.edges[keys[0]]
        oneway = 1 if owf >= 0 else 0
        nodes = chain_nodes[::-1] if oneway and owf != chain_nodes[0] else chain_nodes
        C = coords_of(nodes)
        if len(nodes) >= 3 and all(n < N for n in nodes[1:-1]):
            C = relax(C, 2 if cls in ("national", "provincial") else 1)
            C = chaikin(C, 2)
        r_coords.append(warp(C))
        r_attrs.append((cls, name, oneway))
    geoms = shapely.simplify(np.array([LineString(c) for c in r_coords]), 5.0, preserve_topology=True)
    r_coords = [shapely.get_coordinates(g) for g in geoms]
    r_coords, r_attrs, n_fix = fix_crossings(r_coords, r_attrs)
    log(f"road chains: {len(r_coords)} ordinary segments, {n_fix} lines split at crossings")
    return r_coords, r_attrs


def expressway_features(roads, warp):
    """Expressway G69 lines (EPSG:4545 metres), split at the interchanges, smoothed, warped, simplified."""
    grid, net = roads.terrain.grid, roads.net
    exp_full = np.vstack([np.array(net.vxy[roads.gc_exp[1]])[None, :], grid.xy(np.array(roads.exp_path))])
    cuts = [0] + [k_ + 1 for k_ in roads.ic_cells] + [len(exp_full) - 1]
    e_coords = []
    for a_, b_ in itertools.pairwise(cuts):
        C = smooth_line(exp_full[a_:b_ + 1], 4.0)
        C = warp(chaikin(C, 2))
        e_coords.append(shapely.get_coordinates(shapely.simplify(LineString(C), 5.0)))
    return e_coords
