"""Generate the bundled SYNTHETIC demo county ("示范县", Demo County) for healthreach.

Not a real place.  Everything is made up from a seeded random generator:

* terrain  - a 100 m heightfield: parallel NE-SW fold ridges + fractal noise,
  with a main river valley (SE -> NW) and tributary valleys carved into it;
* towns - vector street grids for the county seat (with a one-way old town)
  and the neighbouring city, following the main river;
* boundaries - the county is a terrain-cost (geodesic) Voronoi cell of its seat
  against neighbouring seats, so its outline and the township boundaries follow
  ridges; polygons are coverage-simplified so that townships tile the county;
* settlements - villages and hamlets sampled on gentle, low valley ground;
* roads - least-cost paths (scipy dijkstra on an 8-connected grid, grade
  penalised) for the national road, provincial/county/township/village roads,
  and a separately routed expressway on bridges/tunnels (3-4 interchanges);
* population - WorldPop-like people-per-cell raster: county seat, township
  seats, villages, hamlets and scattered dwellings on gentle valley ground;
* villages and facilities - village points with their people, and hospitals,
  health centres, stations and village clinics beside the roads.

``pipeline.generate(seed)`` runs these as a pipeline of stage functions, one
module per stage (terrain, towns, townships, roads, people; grid, network and
state are shared), all drawing from one random stream: reordering stages or
their draws changes the output.  All work is in EPSG:4545 metres;
``write.write_outputs`` writes the vector files in EPSG:4490 and the raster in
EPSG:4545.

Usage, from the repository root::

    .venv/bin/python -m tools.demo [--seed 20250101] [--out healthreach/demo] [--extent-km N]
    .venv/bin/python tools/demo/generate.py ...     # the same

Only numpy, scipy, shapely, geopandas, pyogrio, rasterio and pyproj are used.
The output is deterministic for a given seed.
"""
