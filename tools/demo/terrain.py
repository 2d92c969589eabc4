"""Terrain stage: the heightfield with fold ridges, fractal noise and carved river valleys."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from tools.demo.grid import CELL, fractal, log, resample_line, smooth_line, tangents
from tools.demo.state import Terrain


class River:
    """A river centre line P sampled every 50 m (EPSG:4545 metres) with bed height z, floor half-width w
    and valley-side width W (metres) at each vertex; order 0 = main river, 1-2 = tributaries.
    """

    def __init__(self, P, z, w, W, order):
        self.P, self.z, self.w, self.W = P, z, w, W
        self.order = order
        self.s = np.arange(len(P)) * 50.0


def make_main_river(rng, cx, cy, grid):
    """Main river SE -> NW through the seat and the city, straightened through both towns (metres).

    Returns (River, vertex index nearest the seat, vertex index nearest the city).
    """
    ctrl = np.array([(47, -40), (31, -26), (16, -11), (-2, 1.5), (-12, 10.5), (-20, 19),
                     (-27, 26), (-34, 31.5), (-43, 35), (-56, 37)], float)
    jit = rng.uniform(-2.2, 2.2, ctrl.shape)
    jit[[0, 3, -1]] = 0
    ctrl = (ctrl + jit) * 1000.0 + [cx, cy]
    P = resample_line(ctrl, 50.0)
    P = smooth_line(P, 55)
    P = resample_line(P, 50.0)
    s = np.arange(len(P)) * 50.0
    seat_t = np.array([cx - 2000.0, cy + 1500.0])
    city_t = seat_t + 44000.0 * np.array([math.cos(math.radians(137)), math.sin(math.radians(137))])
    s_seat = s[np.argmin(np.hypot(*(P - seat_t).T))]
    s_city = s[np.argmin(np.hypot(*(P - city_t).T))]
    off = np.zeros(len(P))
    for lam, a in ((2300.0, 230.0), (4700.0, 470.0), (8500.0, 850.0)):
        off += a * np.sin(2 * np.pi * s / lam + rng.uniform(0, 2 * np.pi))
    taper = (1 - 0.9 * np.exp(-((s - s_seat) / 4500.0) ** 2)) * (1 - 0.85 * np.exp(-((s - s_city) / 3500.0) ** 2))
    T = tangents(P)
    Nn = np.c_[-T[:, 1], T[:, 0]]
    P = P + (off * taper)[:, None] * Nn
    P = resample_line(smooth_line(P, 3), 50.0)
    # clip to the domain (+ small margin outside so valleys run off the edge)
    ins = grid.inside(P[:, 0], P[:, 1], margin=-1500)
    idx = np.flatnonzero(ins)
    P = P[idx[0]: idx[-1] + 1]
    s = np.arange(len(P)) * 50.0
    i_seat = int(np.argmin(np.hypot(*(P - seat_t).T)))
    i_city = int(np.argmin(np.hypot(*(P - city_t).T)))
    s_seat, s_city = s[i_seat], s[i_city]
    # straighten the river through the two towns so that street grids can follow it
    wgt = np.exp(-((s - s_seat) / 3200.0) ** 4) + np.exp(-((s - s_city) / 2600.0) ** 4)
    P = P + np.clip(wgt, 0, 1)[:, None] * (smooth_line(P, 30) - P)
    P = resample_line(P, 50.0)
    s = np.arange(len(P)) * 50.0
    i_seat = int(np.argmin(np.hypot(*(P - seat_t).T)))
    i_city = int(np.argmin(np.hypot(*(P - city_t).T)))
    s_seat, s_city = s[i_seat], s[i_city]
    z = 360.0 + (150.0 - 360.0) * s / s[-1]
    w = 170 + 780 * np.exp(-((s - s_seat) / 2600.0) ** 2) + 520 * np.exp(-((s - s_city) / 2200.0) ** 2)
    W = 2300 + 1600 * np.exp(-((s - s_seat) / 4500.0) ** 2) + 800 * np.exp(-((s - s_city) / 3500.0) ** 2)
    return River(P, z, w, W, 0), i_seat, i_city


def grow_river(rng, start, heading, length, others, inside, step=100.0, min_sep=1100.0):
    """Random-walk a tributary upstream from `start`; stop near other rivers or the edge."""
    start = np.asarray(start, float)
    far = others[np.hypot(*(others - start).T) > 2600.0] if len(others) else others
    tree = cKDTree(far) if len(far) else None
    n = int(length / step)
    pts = np.empty((n + 1, 2))
    pts[0] = start
    m = 1
    hd, om = heading, 0.0
    k = int(2.5 * min_sep / step)
    for _ in range(n):
        om = 0.75 * om + rng.normal(0, 0.045)
        hd += om + 0.06 * (heading - hd)
        p = pts[m - 1] + step * np.array([math.cos(hd), math.sin(hd)])
        if not inside(p):
            break
        if tree is not None and tree.query(p)[0] < min_sep:
            break
        if m > k and np.min(np.hypot(pts[:m - k, 0] - p[0], pts[:m - k, 1] - p[1])) < min_sep:
            break
        pts[m] = p
        m += 1
    return pts[:m].copy()


def make_rivers(rng, grid, cx, cy):
    """Main river plus first- and second-order tributaries, then streams into the largest dry gaps.

    Returns (rivers, i_seat, i_city); see ``make_main_river``.
    """
    main, i_seat, i_city = make_main_river(rng, cx, cy, grid)
    rivers = [main]

    def inside(p):
        return grid.inside(p[0], p[1], margin=600)
    _add_first_order(rng, rivers, inside, main.P[i_seat], main.P[i_city])
    _add_second_order(rng, rivers, inside)
    _add_gap_streams(rng, grid, rivers, inside)
    return rivers, i_seat, i_city


def _all_points(rivers):
    """Every vertex of ``rivers``, (n, 2) metres."""
    return np.vstack([r.P for r in rivers])


def _tributary(rng, P, par, i_par, order):
    """A river of ``order`` (1 or 2) along the path ``P`` joining river ``par`` at its vertex ``i_par``:
    resampled every 50 m, rising from the junction, narrowing (channel ``w``, valley ``W``, metres) upstream.
    """
    P = resample_line(smooth_line(P, 1.5), 50.0)
    s = np.arange(len(P)) * 50.0
    Lr = s[-1]
    z0 = par.z[i_par] + (3 if order == 1 else 2)
    if order == 1:
        zh = z0 + rng.uniform(380, 650) * min(1.0, 0.45 + Lr / 30000)
        w, W = 120 - 70 * s / Lr, 1900 - 700 * s / Lr
    else:
        zh = z0 + rng.uniform(220, 380)
        w, W = 70 - 32 * s / Lr, 1200 - 320 * s / Lr
    z = z0 + (zh - z0) * (s / Lr) ** 1.7
    return River(P, z, w, W, order)


def _add_first_order(rng, rivers, inside, seat_p, city_p):
    """First-order tributaries at roughly regular spacing along the main river, away from the seat and city."""
    main = rivers[0]
    T = tangents(main.P)
    s_pos = 1500.0
    side = 1 if rng.random() < 0.5 else -1
    while s_pos < main.s[-1] - 1500:
        i = int(s_pos / 50.0)
        s_pos += rng.uniform(3000, 6000)
        p = main.P[i]
        if not inside(p) or min(np.hypot(*(p - seat_p)), np.hypot(*(p - city_p))) < 2800:
            continue
        side = -side if rng.random() < 0.75 else side
        nrm = np.array([-T[i, 1], T[i, 0]]) * side
        base = math.atan2(nrm[1], nrm[0])
        # lean upstream (tributaries join pointing downstream)
        up_bias = math.radians(rng.uniform(10, 40))
        ang = base + (up_bias if (nrm[1] * T[i, 0] - nrm[0] * T[i, 1]) > 0 else -up_bias)
        P = grow_river(rng, p, ang, rng.uniform(7000, 30000), _all_points(rivers), inside)
        if len(P) < 45:
            continue
        rivers.append(_tributary(rng, P, main, i, 1))


def _add_second_order(rng, rivers, inside):
    """Second-order tributaries branching off random first-order ones (90 tries)."""
    first = list(range(1, len(rivers)))
    n_try = 0
    while n_try < 90:
        n_try += 1
        pi = first[int(rng.integers(len(first)))]
        par = rivers[pi]
        if len(par.P) < 120:
            continue
        i = int(rng.integers(int(0.12 * len(par.P)), int(0.8 * len(par.P))))
        Tp = tangents(par.P)
        sd = 1 if rng.random() < 0.5 else -1
        ang = math.atan2(Tp[i, 1], Tp[i, 0]) + sd * math.radians(rng.uniform(45, 85))
        P = grow_river(rng, par.P[i], ang, rng.uniform(3500, 12000), _all_points(rivers), inside, min_sep=950)
        if len(P) < 30:
            continue
        rivers.append(_tributary(rng, P, par, i, 2))


def _add_gap_streams(rng, grid, rivers, inside):
    """Fill the big gaps: grow a stream from the nearest river towards the remotest ground (> 4.2 km)."""
    samp = np.c_[grid.X[::6, ::6].ravel(), grid.Y[::6, ::6].ravel()]
    samp = samp[grid.inside(samp[:, 0], samp[:, 1], margin=2500)]
    blocked = np.zeros(len(samp), bool)
    allp = _all_points(rivers)
    owner = np.concatenate([np.full(len(r.P), k) for k, r in enumerate(rivers)])
    idx_in = np.concatenate([np.arange(len(r.P)) for r in rivers])
    dnear, jn = cKDTree(allp).query(samp)
    own_n, idx_n = owner[jn], idx_in[jn]
    for _ in range(60):
        d = np.where(blocked, 0, dnear)
        far = int(np.argmax(d))
        if d[far] < 4200:
            break
        blocked |= np.hypot(*(samp - samp[far]).T) < 2500
        k, i = int(own_n[far]), int(idx_n[far])
        if rivers[k].order >= 2 and rng.random() < 0.5:
            continue
        src = rivers[k].P[i]
        vec = samp[far] - src
        ang = math.atan2(vec[1], vec[0]) + rng.normal(0, 0.15)
        P = grow_river(rng, src, ang, d[far] + 2500, _all_points(rivers), inside, min_sep=950)
        if len(P) < 30:
            continue
        rivers.append(_tributary(rng, P, rivers[k], i, min(rivers[k].order + 1, 2)))
        newP = rivers[-1].P
        dn, jj = cKDTree(newP).query(samp)
        closer = dn < dnear
        dnear = np.where(closer, dn, dnear)
        own_n = np.where(closer, len(rivers) - 1, own_n)
        idx_n = np.where(closer, jj, idx_n)


def make_terrain(rng, grid, rivers, cx, cy):
    """Heightfield (metres) of fold ridges and noise with the river valleys carved in.

    Returns (h, slope m/m, water mask of the main channel, distance to the nearest river in metres).
    """
    ny, nx = grid.ny, grid.nx
    X = (grid.X - cx) / 1000.0
    Y = (grid.Y - cy) / 1000.0
    strike = math.radians(rng.uniform(28, 40))  # ridges trend NNE-SSW / NE-SW
    u = -X * math.sin(strike) + Y * math.cos(strike)  # across-strike coordinate (km)
    warp = fractal(rng, ny, nx, 3.2)
    lam = rng.uniform(11, 15)
    ridges = 0.5 + 0.5 * np.cos(2 * np.pi * u / lam + 1.3 * warp)
    ridges = ridges ** 1.6
    f1 = fractal(rng, ny, nx, 2.3)
    f2 = fractal(rng, ny, nx, 1.7)
    h = 760 + 560 * ridges + 230 * f1 + 45 * f2
    # karst plateaus: compress the highest ground
    h = np.where(h > 1450, 1450 + (h - 1450) * 0.35, h)
    h = np.maximum(h, 420)
    # carve valleys
    floor_mask = np.zeros((ny, nx), bool)
    water = np.zeros((ny, nx), bool)
    dist_river = np.full((ny, nx), 1e9)
    pts = np.c_[grid.X.ravel(), grid.Y.ravel()]
    hf = h.ravel().copy()
    for rv in rivers:
        reach = float(np.max(rv.w + rv.W))
        x0, y0 = rv.P.min(0) - reach
        x1, y1 = rv.P.max(0) + reach
        sel = np.flatnonzero((pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1))
        if len(sel) == 0:
            continue
        d, j = cKDTree(rv.P).query(pts[sel], distance_upper_bound=reach)
        ok = np.isfinite(d)
        sel, d, j = sel[ok], d[ok], j[ok]
        z, w, W = rv.z[j], rv.w[j], rv.W[j]
        t = np.clip((d - w) / W, 0, 1)
        f = 0.35 * t + 0.65 * t * t * (3 - 2 * t)
        carved = z + np.maximum(hf[sel] - z, 0) * f
        hf[sel] = np.minimum(hf[sel], carved)
        dr = dist_river.ravel()
        dr[sel] = np.minimum(dr[sel], d)
        fm = floor_mask.ravel()
        fm[sel] |= d < w
        if rv.order == 0:
            water.ravel()[sel] |= d < 75
    h = hf.reshape(ny, nx)
    # roughness, damped on valley floors
    rough = fractal(rng, ny, nx, 1.8)
    h = h + rough * np.where(floor_mask, 2.0, 14.0)
    h = ndimage.gaussian_filter(h, 0.6)
    gy, gx = np.gradient(h, CELL)
    slope = np.hypot(gx, gy)
    return h, slope, water, dist_river


def terrain_and_rivers(rng, grid, cx, cy):
    """Rivers, the carved heightfield (metres) and the noise fields used later for routing and road shape."""
    rivers, i_seat, i_city = make_rivers(rng, grid, cx, cy)
    h, slope, water, dist_river = make_terrain(rng, grid, rivers, cx, cy)
    cost_noise = np.exp(0.3 * fractal(rng, grid.ny, grid.nx, 2.4)).ravel()
    wf = [ndimage.gaussian_filter(rng.standard_normal((grid.ny, grid.nx)), 2.0) for _ in range(2)]
    wf = [w_ / w_.std() for w_ in wf]
    log(f"terrain: {len(rivers)} rivers, h {h.min():.0f}..{h.max():.0f} m")
    return Terrain(grid, rivers, i_seat, i_city, h, slope, water, dist_river, cost_noise, wf)
