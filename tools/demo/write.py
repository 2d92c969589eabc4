"""Writing the generated county: GeoPackages, the facility CSV, the population GeoTIFF and the README."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
import shapely
from rasterio.transform import from_origin
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString

from tools.demo.ageing import write_ageing
from tools.demo.grid import CELL, CRS_G, CRS_M, NODATA, RANK, SYNTH, T_M2LL


def to_lonlat(xy):
    """Points (n, 2) in EPSG:4545 metres as (lon, lat) degrees in EPSG:4490, rounded to 1e-6."""
    lon, lat = T_M2LL.transform(xy[:, 0], xy[:, 1])
    return np.round(np.c_[lon, lat], 6)


def write_outputs(dc, out, seed):
    """Write roads/townships/villages GeoPackages (EPSG:4490), facilities.csv, population.tif and
    population_65plus.tif (EPSG:4545).

    Returns the figures the README quotes.
    """
    out = Path(out)
    roads = _road_frame(dc)
    for f in ("roads.gpkg", "townships.gpkg", "villages.gpkg", "population.tif", "population_65plus.tif",
              "facilities.csv"):
        (out / f).unlink(missing_ok=True)
    lo = {"DESCRIPTION": "Synthetic demo road network of 示范县 (Demo County) - not a real place. " + SYNTH}
    pyogrio.write_dataframe(roads, out / "roads.gpkg", layer="roads", driver="GPKG", layer_options=lo)
    town = _write_townships(dc, out, seed)
    vil = _write_villages(dc, out)
    _write_facilities(dc.facilities, out)
    arr = _write_population(dc, out)
    write_ageing(out, seed)
    return {"seg_comp": _component_sizes(roads), "fac_dist": _facility_road_distance(roads, dc.facilities),
            "area_km2": dc.townships.area_km2,
            "pop_total": float(arr[arr != np.float32(NODATA)].astype(np.float64).sum()),
            "roads": roads, "towns": town, "villages": vil, "fac": dc.facilities, "n_ic": dc.n_interchanges}


def _road_frame(dc):
    """The road segments in EPSG:4490, best class first; segments that rounding collapses are left out."""
    coords, attrs = dc.road_coords, dc.road_attrs
    lens = np.array([len(c) for c in coords])
    ll = to_lonlat(np.vstack(coords))
    parts = np.split(ll, np.cumsum(lens)[:-1])
    rows, geoms = [], []
    for (cls, name, ow), C in zip(attrs, parts, strict=False):
        kept = C[np.r_[True, np.any(np.diff(C, axis=0) != 0, axis=1)]]
        if len(kept) < 2:   # collapsed by rounding to 1e-6 degrees
            continue
        rows.append((cls, name, ow))
        geoms.append(LineString(kept))
    order = sorted(range(len(rows)), key=lambda i: (-RANK[rows[i][0]], i))
    return gpd.GeoDataFrame({
        "road_id": np.arange(1, len(order) + 1, dtype=np.int64),
        "road_class": [rows[i][0] for i in order],
        "name": [rows[i][1] for i in order],
        "oneway": np.array([rows[i][2] for i in order], dtype=np.int32),
    }, geometry=[geoms[i] for i in order], crs=CRS_G)


def _write_townships(dc, out, seed):
    """Write townships.gpkg: the polygons by code, with a census-like population within ±5% of the raster's."""
    tw = dc.townships
    tps = tw.polys
    lab_f, pop = tw.label, dc.people
    tw_sum = np.array([pop[lab_f == k].astype(np.float64).sum() for k in range(len(tps))])
    rng2 = np.random.default_rng(seed + 7)
    census = np.round(tw_sum * (1 + rng2.uniform(-0.045, 0.045, len(tps)))).astype(np.int64)
    tgeo = [shapely.transform(g, to_lonlat) for g in tps]
    order_t = sorted(range(len(tps)), key=lambda k: tw.codes[k])
    town = gpd.GeoDataFrame({
        "code": [tw.codes[k] for k in order_t],
        "name": [tw.names[k] for k in order_t],
        "class": [tw.classes[k] for k in order_t],
        "population": census[order_t],
    }, geometry=[tgeo[k] for k in order_t], crs=CRS_G)
    lo = {"DESCRIPTION": "Synthetic demo townships (乡镇/街道) of 示范县 (Demo County) - not a real place. " + SYNTH}
    pyogrio.write_dataframe(town, out / "townships.gpkg", layer="townships", driver="GPKG", layer_options=lo)
    return town


def _write_villages(dc, out):
    """Write villages.gpkg: the village points by township code and name."""
    tw, vs = dc.townships, dc.villages
    v_in, v_tw, vil_pop, vnames = vs.xy, vs.township, vs.population, vs.names
    vll = to_lonlat(v_in)
    vord = sorted(range(len(v_in)), key=lambda i: (tw.codes[v_tw[i]], vnames[i]))
    vil = gpd.GeoDataFrame({
        "id": [f"V{n + 1:03d}" for n in range(len(vord))],
        "name": [vnames[i] for i in vord],
        "township_code": [tw.codes[v_tw[i]] for i in vord],
        "population": vil_pop[vord].astype(np.int64),
    }, geometry=shapely.points(vll[vord]), crs=CRS_G)
    lo = {"DESCRIPTION": "Synthetic demo villages (村) of 示范县 (Demo County) - not a real place. " + SYNTH}
    pyogrio.write_dataframe(vil, out / "villages.gpkg", layer="villages", driver="GPKG", layer_options=lo)
    return vil


def _write_facilities(fac, out):
    """Write facilities.csv (UTF-8, lon/lat to 1e-6 degrees)."""
    fll = to_lonlat(np.array([f["xy"] for f in fac]))
    cols = ["id", "name", "type", "lon", "lat", "beds", "ambulances", "emergency", "doctors", "nurses", "township_code"]
    with (out / "facilities.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for f, (lon, lat) in zip(fac, fll, strict=False):
            w.writerow([f["id"], f["name"], f["type"], f"{lon:.6f}", f"{lat:.6f}", f["beds"], f["ambulances"],
                        f["emergency"], f["doctors"], f["nurses"], f["township_code"]])


def _write_population(dc, out):
    """Write population.tif, cropped to the county (nodata outside it); returns the written array."""
    grid, county, pop = dc.grid, dc.townships.county, dc.people
    rr = np.flatnonzero(county.any(1))
    cc = np.flatnonzero(county.any(0))
    r0, r1, c0, c1 = rr[0] - 1, rr[-1] + 2, cc[0] - 1, cc[-1] + 2
    arr = np.where(county, pop, np.float32(NODATA)).astype(np.float32)[r0:r1, c0:c1]
    tr = from_origin(grid.x0 + c0 * CELL, grid.y1 - r0 * CELL, CELL, CELL)
    with rasterio.open(out / "population.tif", "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0],
                       count=1, dtype="float32", crs=CRS_M, transform=tr, nodata=NODATA, compress="lzw",
                       tiled=True, blockxsize=256, blockysize=256) as dst:
        dst.write(arr, 1)
        dst.update_tags(DESCRIPTION="Synthetic demo population (people per 100 m cell) of 示范县 (Demo County) - "
                                    "not a real place. " + SYNTH, UNITS="people per cell")
        dst.set_band_description(1, "population (synthetic demo)")
    return arr


def _component_sizes(roads):
    """Segments per connected part of the road network (by shared endpoints), largest first."""
    gv = roads.geometry.values
    nco = shapely.get_num_coordinates(gv)
    co = shapely.get_coordinates(gv)
    ends = np.vstack([co[np.r_[0, np.cumsum(nco)[:-1]]], co[np.cumsum(nco) - 1]])
    _, inv = np.unique(ends, axis=0, return_inverse=True)
    inv = inv.ravel()
    n_nodes = int(inv.max()) + 1
    _, comp = connected_components(csr_matrix((np.ones(len(roads)), (inv[:len(roads)], inv[len(roads):])),
                                              shape=(n_nodes, n_nodes)), directed=False)
    seg_comp = np.bincount(comp[inv[:len(roads)]])
    return sorted(seg_comp[seg_comp > 0], reverse=True)


def _facility_road_distance(roads, fac):
    """Distance (metres) from each facility to the nearest road that is not an expressway."""
    rm = roads[roads["road_class"] != "expressway"].to_crs(CRS_M).geometry.values
    fpts = shapely.points(np.array([f["xy"] for f in fac]))
    _, fd = shapely.STRtree(rm).query_nearest(fpts, return_distance=True)
    return fd


def write_readme(out, seed, st):
    """README.md for the generated data: how it is made, figures, files and CRSs."""
    roads, town, vil, fac = st["roads"], st["towns"], st["villages"], st["fac"]
    order = ["expressway", "national", "provincial", "county", "township", "village",
             "urban_arterial", "urban_secondary", "urban_branch"]
    rlen = roads.to_crs(CRS_M).length
    ftypes = defaultdict(int)
    for f in fac:
        ftypes[f["type"]] += 1
    ftype_order = ["tertiary_hospital", "general_hospital", "tcm_hospital", "maternal_child_hospital",
                   "emergency_station", "central_township_hc", "township_hc", "community_hc", "community_station",
                   "village_clinic"]
    clinic_names = {f["name"] for f in fac if f["type"] == "village_clinic"}
    n_big_no = int(sum(1 for n, p in zip(vil["name"], vil["population"], strict=False)
                       if p >= 800 and f"{n}卫生室" not in clinic_names))
    n_oneway = int(roads["oneway"].sum())
    n_urban = int(roads["road_class"].str.startswith("urban").sum())
    lines = [
        "# Synthetic demo county — not a real place",
        "",
        ("**示范县 (Demo County, synthetic)** is a made-up mountainous county placed near 107.80°E, 29.40°N "
        "(the Chongqing mountains), used as bundled demo and test data for healthreach. Every road, boundary, "
        "village, facility and person in these files was invented by the generator in `tools/demo/`; nothing is "
        "taken from a "
        "real source, and no real place is depicted."),
        "",
        "## Regenerate",
        "",
        "```sh",
        f".venv/bin/python -m tools.demo --seed {seed} --out healthreach/demo   # from the repository root",
        "```",
        "",
        ("`.venv/bin/python tools/demo/generate.py` takes the same options. The demo ships inside the package "
        "(`healthreach/demo/`, also reachable as `data/geo/demo/`). `--extent-km N` generates a smaller square "
        "of N km (40 or more) around the county seat, as the generator's test does."),
        "",
        (f"The output is deterministic for a seed (default {seed}). Dependencies: numpy, scipy, shapely, geopandas, "
        "pyogrio, rasterio, pyproj."),
        "",
        "## How it is made",
        "",
        ("- **Terrain**: 100 m heightfield in EPSG:4545 — parallel NE–SW fold ridges and fractal noise, karst "
        "plateaus, a main river valley crossing the county SE→NW and a dendritic set of tributary valleys carved in."),
        ("- **Boundaries**: the county is a terrain-cost Voronoi cell of the county seat against neighbouring seats; "
        "townships are terrain-cost Voronoi cells of the township seats (boundaries follow ridges), "
        "coverage-simplified so they tile the county exactly."),
        ("- **Roads**: least-cost paths on an 8-connected grid (scipy `dijkstra`, grade-penalised, river crossings "
        "expensive, existing roads cheap): national road G319 along the main valley through the seat to the "
        "neighbouring city 示范市; provincial and county roads along a terrain-cost spanning tree of township seats "
        "plus a few loops; township roads to villages; village roads to hamlets and between villages. Paths are "
        "relaxed/Chaikin-smoothed and simplified to 5 m; junction coordinates are shared exactly. The expressway "
        f"G69 is routed separately (bridges and tunnels), crosses other roads without junctions and connects only at "
        f"{st['n_ic']} interchanges. The county seat and the city have vector street grids; the seat's old town has "
        "one-way pairs."),
        ("- **Population**: people per cell for the county seat, township seats (Gaussian kernels), villages, hamlets "
        "and scattered dwellings on gentle, low valley ground; near zero on steep high ground."),
        "",
        "## Figures",
        "",
        (f"- County area: {st['area_km2']:.0f} km²; townships: {len(town)} "
        f"({int((town['class'] == 'urban').sum())} urban subdistricts 街道, "
        f"{int((town['class'] == 'rural').sum())} rural 镇/乡)"),
        (f"- Population (raster sum inside the county): {st['pop_total']:,.0f}; township `population` is a "
        "census-like figure within ±5% of the raster sum in each polygon"),
        (f"- Villages: {len(vil)} (population {int(vil['population'].sum()):,}; "
        f"{int((vil['population'] >= 800).sum())} with ≥ 800 people, {n_big_no} of them without a village clinic)"),
        (f"- Road segments: {len(roads):,}, {rlen.sum() / 1000:,.0f} km; one-way: {n_oneway} "
        f"({100 * n_oneway / max(n_urban, 1):.1f}% of {n_urban} urban segments)"),
        "",
        "| road_class | segments | km |",
        "| --- | ---: | ---: |",
    ]
    for c in order:
        m = roads["road_class"] == c
        lines.append(f"| {c} | {int(m.sum())} | {rlen[m].sum() / 1000:.1f} |")
    lines += ["", "| facility type | count |", "| --- | ---: |"]
    for t in ftype_order:
        lines.append(f"| {t} | {ftypes.get(t, 0)} |")
    lines += ["", "| code | township | class | population |", "| --- | --- | --- | ---: |"]
    for _, r in town.iterrows():
        lines.append(f"| {r['code']} | {r['name']} | {r['class']} | {r['population']:,} |")
    lines += [
        "",
        "## Files and CRSs",
        "",
        ("- `roads.gpkg` (layer `roads`, EPSG:4490): `road_id, road_class, name, oneway, geometry` — one feature per "
        "stretch between junctions (or a junction and a dead end); `oneway=1` means traffic only in the digitised "
        "direction. The network extends beyond the county (G319 and G69 reach the city; provincial roads reach "
        f"neighbouring counties). It is one connected network ({st['seg_comp'][0]:,} segments) except "
        f"{len(st['seg_comp']) - 1} deliberately disconnected tiny village-road fragments "
        f"({', '.join(str(c) for c in st['seg_comp'][1:])} segment(s)), as real data has."),
        ("- `population.tif`: EPSG:4545 (CGCS2000 / 3-degree Gauss-Kruger CM 108E), 100 m cells, float32, "
        "people per cell (rounded to 0.01), LZW, tiled, nodata −3.4028234663852886e+38 (WorldPop's value) outside "
        "the county."),
        ("- `population_65plus.tif`: the people aged 65 and over, on the same grid: the population times a "
        "seeded, smooth age-share field (13 % urban, 20 % rural at its base; see `tools/demo/ageing.py`)."),
        ("- `townships.gpkg` (layer `townships`, EPSG:4490): `code` (fake prefix 999901), `name`, `class` "
        "(urban/rural), `population`."),
        ("- `villages.gpkg` (layer `villages`, EPSG:4490): `id, name, township_code, population` (people assigned "
        "to the village from the raster)."),
        ("- `facilities.csv` (UTF-8, lon/lat WGS84 ≈ CGCS2000): `id,name,type,lon,lat,beds,ambulances,emergency,"
        "doctors,nurses,township_code`; the tertiary hospital lies in the neighbouring city outside the county "
        "(empty `township_code`). Some large remote villages deliberately have no clinic. Facilities stand "
        f"{st['fac_dist'].min():.0f}–{np.sort(st['fac_dist'])[-1 - int((st['fac_dist'] > 150).sum())]:.0f} m from "
        f"the nearest road, except {int((st['fac_dist'] > 150).sum())} village clinic(s) at "
        f"{', '.join(f'{d:.0f}' for d in np.sort(st['fac_dist'][st['fac_dist'] > 150]))} m."),
        "",
        "## Licence",
        "",
        ("The data is generated by the project and has no external source; it is released with the project under "
        "CC0 1.0 (public domain dedication)."),
        "",
    ]
    (Path(out) / "README.md").write_text("\n".join(lines), encoding="utf-8")
