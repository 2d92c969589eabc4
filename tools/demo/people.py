"""Population, villages and facilities stage."""

from __future__ import annotations

import math

import numpy as np
import shapely
from rasterio import features
from scipy import ndimage
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point

from tools.demo.grid import CITY, COUNTY, fractal, log
from tools.demo.state import Population, TownshipLookup, Villages
from tools.demo.townships import COMMUNITY_NAMES, village_names


def make_population(rng, terrain, towns, tw, settle):
    """People per 100 m cell: ~35 % in the seat, ~30 % in township seats, the rest rural (EPSG:4545).

    Total 335,000-372,000; rural people are 50 % villages, 37 % hamlets, 13 % scattered; cells on the
    county boundary line are zero.
    """
    grid, slope, water, h = terrain.grid, terrain.slope, terrain.water, terrain.h
    county, n_rural = tw.county, tw.n_rural
    total_pop = int(rng.integers(335000, 372000))
    sh_urban = rng.uniform(0.34, 0.36)
    sh_towns = rng.uniform(0.29, 0.31)
    habit = np.exp(-(slope / 0.32) ** 2) * ~water
    cm = county & ~water
    urban_m = features.rasterize([(towns.seat["footprint"], 1)], out_shape=(grid.ny, grid.nx),
                                 transform=grid.transform).astype(bool) & cm
    d_old = np.hypot(grid.X - towns.seat["old_xy"][0], grid.Y - towns.seat["old_xy"][1])
    nz = np.exp(0.25 * fractal(rng, grid.ny, grid.nx, 2.0))
    U = np.where(urban_m, (0.22 + np.exp(-d_old / 800.0)) * nz, 0.0)
    U *= total_pop * sh_urban / U.sum()
    # township seats: Gaussian kernels on habitable ground
    tw_w = rng.lognormal(0, 0.45, n_rural)
    tw_pop = tw_w / tw_w.sum() * total_pop * sh_towns
    Tn = np.zeros((grid.ny, grid.nx))
    for k_ in range(n_rural):
        acc = np.zeros((grid.ny, grid.nx))
        r0, c0 = divmod(int(tw.seat_cells[k_]), grid.nx)
        acc[r0, c0] = 1.0
        sig = 1.6 + 1.6 * math.sqrt(tw_pop[k_] / tw_pop.max())
        sl_ = (slice(max(r0 - 15, 0), r0 + 16), slice(max(c0 - 15, 0), c0 + 16))
        ker = ndimage.gaussian_filter(acc[sl_], sig) * (habit[sl_] + 0.02) * cm[sl_]
        Tn[sl_] += ker / ker.sum() * tw_pop[k_]
    # villages, hamlets, scattered dwellings
    rural_total = total_pop - total_pop * sh_urban - total_pop * sh_towns
    vil_xy, ham_xy = settle.villages, settle.hamlets
    rr_, cc_ = grid.rc(vil_xy[:, 0], vil_xy[:, 1])
    accv = np.zeros((grid.ny, grid.nx))
    np.add.at(accv, (rr_, cc_), rng.lognormal(5.2, 0.8, len(vil_xy)))
    V = ndimage.gaussian_filter(accv, 1.5)
    rr_, cc_ = grid.rc(ham_xy[:, 0], ham_xy[:, 1])
    acch = np.zeros((grid.ny, grid.nx))
    np.add.at(acch, (rr_, cc_), rng.uniform(12, 55, len(ham_xy)))
    H = ndimage.gaussian_filter(acch, 0.9)
    Sc = habit * np.exp(-terrain.dist_river / 1200.0) / (1 + np.exp((h - 1450) / 80.0)) * nz
    rural_m = cm & ~urban_m
    parts = []
    for density, share in ((V, 0.5), (H, 0.37), (Sc, 0.13)):
        weight = density * (0.15 + 0.85 * habit) * rural_m
        parts.append(weight / weight.sum() * rural_total * share)
    R = parts[0] + parts[1] + parts[2]
    rim = county & ~ndimage.binary_erosion(county)
    ri, ci = np.nonzero(rim)
    on_line = shapely.distance(shapely.points(np.c_[grid.xc[ci], grid.yc[ri]]), tw.county_poly.boundary) < 1.0
    for arr in (U, Tn, R):
        arr[ri[on_line], ci[on_line]] = 0.0
    pop = np.round(U + Tn + R, 2).astype(np.float32)   # 0.01 people: plenty, and compresses well
    log(f"population {float(pop[county].astype(np.float64).sum()):.0f}")
    return Population(pop, R, tw_pop)


def assign_villages(rng, settle, tw, pop, warp, grid):
    """Villages in the county: warped to their road ends, with township, people and names.

    A village's population is the rural raster people of its township assigned to the nearest village.
    """
    v_in = warp(settle.v_in)
    township_of = TownshipLookup(tw.polys)
    v_tw = np.array([township_of(p) for p in v_in])
    vil_pop = np.zeros(len(v_in))
    Rr = pop.rural.astype(np.float32).astype(np.float64)
    for k_ in range(len(tw.polys)):
        sel_v = np.flatnonzero(v_tw == k_)
        cells_k = np.flatnonzero((tw.label.ravel() == k_) & (Rr.ravel() > 0))
        if len(sel_v) == 0 or len(cells_k) == 0:
            continue
        _, jj = cKDTree(v_in[sel_v]).query(grid.xy(cells_k))
        vil_pop[sel_v] += np.bincount(jj, weights=Rr.ravel()[cells_k], minlength=len(sel_v))
    return Villages(v_in, v_tw, np.round(vil_pop).astype(int), village_names(rng, len(v_in)))


class FacilitySites:
    """Facility sites a few metres off the ordinary (non-expressway) road lines, EPSG:4545 metres."""

    def __init__(self, rng, grid, water, road_coords):
        self.rng, self.grid, self.water = rng, grid, water
        self.geoms = np.array([LineString(c) for c in road_coords])
        self.tree = shapely.STRtree(self.geoms)
        self.junctions = np.unique(np.vstack([np.vstack([c[0], c[-1]]) for c in road_coords]), axis=0)
        self.jtree = cKDTree(self.junctions)

    def road_dist(self, pt):
        """Distance from pt to the nearest road line, metres."""
        _, d = self.tree.query_nearest(Point(pt), return_distance=True)
        return float(d[0])

    def near_road(self, xy, dmin=12, dmax=90, node_r=350.0):
        """A dry point dmin..dmax m off the road network, next to a junction within node_r of xy if any."""
        rng = self.rng
        pt = Point(xy)
        dj, jj = self.jtree.query(xy)
        if dj <= node_r:
            p0 = self.junctions[jj]
        else:
            g = self.geoms[int(self.tree.query_nearest(pt)[0])]
            p0 = np.array(shapely.get_coordinates(g.interpolate(g.project(pt)))[0])
        away = np.hypot(*(np.asarray(xy) - p0)) > 1
        base = math.atan2(xy[1] - p0[1], xy[0] - p0[0]) if away else rng.uniform(0, 6.28)
        for att in range(40):
            ang = base + (rng.normal(0, 0.4) if att < 10 else rng.uniform(0, 2 * np.pi))
            q = p0 + rng.uniform(dmin, dmax) * np.array([math.cos(ang), math.sin(ang)])
            r0, c0 = self.grid.rc(q[0], q[1])
            if self.water[r0, c0]:
                continue
            d = self.road_dist(q)
            if dmin * 0.6 <= d <= dmax + 10 and d >= 6:
                return q
        return p0 + 20 * np.array([math.cos(base), math.sin(base)])

    def in_seat(self, seat_nodes, target, dmin=15, dmax=60):
        """A site beside the county-seat street node nearest target (jittered by ~30 m)."""
        j = int(np.argmin(np.hypot(*(seat_nodes - target).T)))
        return self.near_road(seat_nodes[j] + self.rng.normal(0, 30, 2), dmin, dmax)


def facility(fid, name, typ, xy, capacity, staff, code=None):
    """One facility record at ``xy`` (metres); ``capacity`` is (beds, ambulances, emergency: bool), ``staff``
    (doctors, nurses); township_code None = filled in from the township polygons.
    """
    beds, amb, emer = capacity
    doc, nur = staff
    return {"id": fid, "name": name, "type": typ, "xy": np.asarray(xy, float), "beds": int(beds),
            "ambulances": int(amb), "emergency": "true" if emer else "false", "doctors": int(doc),
            "nurses": int(nur), "township_code": code}


def hospitals(rng, sites, towns):
    """The city's tertiary hospital (outside the county) and the county general, TCM and MCH hospitals."""
    cn, seat = towns.city["nodes"], towns.seat
    snodes, fr, hl = seat["nodes"], seat["frame"], seat["half_len"]
    j = int(np.argmin(np.hypot(*(cn - towns.city_xy).T)))
    fac = [facility("T001", f"{CITY}第一人民医院", "tertiary_hospital", sites.near_road(cn[j] + [40, 30], 20, 70),
                    (1520, 12, True), (610, 905), "")]
    p_h1 = sites.in_seat(snodes, seat["old_xy"] + rng.normal(0, 120, 2))
    fac.append(facility("H001", f"{COUNTY}人民医院", "general_hospital", p_h1, (500, 7, True), (178, 262)))
    fac.append(facility("H002", f"{COUNTY}中医院", "tcm_hospital",
                        sites.in_seat(snodes, fr(np.array([0.35 * hl]), np.array([520.0]))[0]), (300, 2, True),
                        (96, 134)))
    fac.append(facility("H003", f"{COUNTY}妇幼保健院", "maternal_child_hospital",
                        sites.in_seat(snodes, fr(np.array([-0.3 * hl]), np.array([380.0]))[0]), (100, 0, False),
                        (41, 63)))
    return fac


def community_facilities(rng, sites, towns, tw, township_of, fac):
    """One community health centre per subdistrict and 4-6 community stations >= 450 m from others."""
    snodes = towns.seat["nodes"]
    out = []
    for k_ in range(3):
        in_sub = [q for q in snodes if township_of(q) == k_]
        tgt = np.mean(in_sub, axis=0) if in_sub else tw.sub_pts[k_]
        q = sites.in_seat(snodes, tgt)
        out.append(facility(f"CHC{k_ + 1:02d}", f"{tw.names[k_]}社区卫生服务中心", "community_hc", q,
                            (int(rng.integers(0, 21)), 0, False),
                            (int(rng.integers(12, 22)), int(rng.integers(10, 20)))))
    others = fac[1:] + out
    n_chs = int(rng.integers(4, 7))
    picks = rng.choice(len(snodes), n_chs * 6, replace=False)
    chs_pts = []
    for j in picks:
        q = snodes[j]
        if all(np.hypot(*(q - f["xy"])) > 450 for f in others) and all(np.hypot(*(q - c_)) > 450 for c_ in chs_pts):
            chs_pts.append(q)
        if len(chs_pts) >= n_chs:
            break
    for k_, q in enumerate(chs_pts):
        out.append(facility(f"CHS{k_ + 1:02d}", f"{COMMUNITY_NAMES[k_]}社区卫生服务站", "community_station",
                            sites.near_road(q, 10, 50), (0, 0, False),
                            (int(rng.integers(2, 5)), int(rng.integers(1, 4)))))
    return out


def township_facilities(rng, sites, tw, town_people, seat_xy):
    """A health centre at every rural seat (the 4-5 most populous ones central, with beds and ambulances)
    and one emergency station in the remotest non-central township.
    """
    rural_ids = list(range(3, len(tw.polys)))
    big = sorted(rural_ids, key=lambda k_: -town_people[k_ - 3])
    n_central = int(rng.integers(4, 6))
    central = set(big[:n_central])
    dist_seat = {k_: float(np.hypot(*(tw.seat_pts[k_ - 3] - seat_xy))) for k_ in rural_ids}
    es_town = max([k_ for k_ in rural_ids if k_ not in central], key=lambda k_: dist_seat[k_])
    out = []
    for n_, k_ in enumerate(sorted(rural_ids, key=lambda k_: tw.codes[k_])):
        xy = sites.near_road(tw.seat_pts[k_ - 3] + rng.normal(0, 60, 2), 12, 80)
        if k_ in central:
            out.append(facility(f"THC{n_ + 1:02d}", f"{tw.names[k_]}中心卫生院", "central_township_hc", xy,
                                (int(rng.integers(40, 81)), int(rng.integers(1, 3)), True),
                                (int(rng.integers(22, 36)), int(rng.integers(24, 42)))))
        else:
            out.append(facility(f"THC{n_ + 1:02d}", f"{tw.names[k_]}卫生院", "township_hc", xy,
                                (int(rng.integers(10, 41)), int(rng.integers(0, 2)), False),
                                (int(rng.integers(7, 16)), int(rng.integers(5, 15)))))
    out.append(facility("ES01", f"{tw.names[es_town]}急救站", "emergency_station",
                        sites.near_road(tw.seat_pts[es_town - 3] + rng.normal(0, 250, 2), 10, 60),
                        (0, 2, True), (4, 4)))
    return out


def village_clinics(rng, sites, tw, villages):
    """112-125 village clinics in the larger villages; the 5 remotest villages of >= 800 people get none,
    and 4 clinics stand 160-260 m from the nearest road.
    """
    v_in, v_tw, vil_pop, vnames = villages.xy, villages.township, villages.population, villages.names
    d_own = np.array([np.hypot(*(v_in[i] - tw.seat_pts[v_tw[i] - 3])) if v_tw[i] >= 3 else 0.0
                      for i in range(len(v_in))])
    big_remote = [i for i in np.argsort(-d_own) if vil_pop[i] >= 800][:5]
    score = vil_pop * rng.uniform(0.75, 1.25, len(v_in))
    score[big_remote] = -1
    n_vc = int(rng.integers(112, 126))
    vc_ids = [int(i) for i in np.argsort(-score)[:n_vc]]
    far_ones = {int(i) for i in rng.choice(vc_ids, 4, replace=False)}
    out = []
    for n_, i in enumerate(sorted(vc_ids, key=lambda i: (v_tw[i], vnames[i]))):
        dmin, dmax = (160, 260) if i in far_ones else (8, 100)
        out.append(facility(f"VC{n_ + 1:03d}", f"{vnames[i]}卫生室", "village_clinic",
                            sites.near_road(v_in[i], dmin, dmax),
                            (0, 0, False), (int(rng.integers(1, 3)), int(rng.integers(0, 2)))))
    return out


def place_facilities(rng, terrain, towns, tw, pop, villages, road_coords):
    """All health facilities (EPSG:4545 metres) with beds, ambulances, staff and township code."""
    sites = FacilitySites(rng, terrain.grid, terrain.water, road_coords)
    township_of = TownshipLookup(tw.polys)
    fac = hospitals(rng, sites, towns)
    fac += community_facilities(rng, sites, towns, tw, township_of, fac)
    fac += township_facilities(rng, sites, tw, pop.town_people, towns.seat_xy)
    fac += village_clinics(rng, sites, tw, villages)
    for f in fac:
        if f["township_code"] is None:
            k_ = township_of(f["xy"])
            f["township_code"] = tw.codes[k_] if k_ >= 0 else ""
    log(f"facilities: {len(fac)}")
    return fac
