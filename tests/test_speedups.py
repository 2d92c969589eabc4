"""The fast paths give exactly what the plain computations give."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

from healthreach.cache import cache_dir
from healthreach.evaluation import Study
from healthreach.inputs import load_inputs
from healthreach.lines import CellWindow, nearest_site, update_sites
from healthreach.network import build_network
from healthreach.profile import load_profile
from healthreach.study import load_study

PROFILE = load_profile("default")


def test_parallel_roads_keep_the_faster_one_in_the_graph():
    # two roads join the same junctions: a 1 km village road and a 1.2 km national road
    a, b = (480_000.0, 3_250_000.0), (481_000.0, 3_250_000.0)
    lines = [shapely.LineString([a, b]), shapely.LineString([a, (480_500.0, 3_250_331.7), b])]
    net = build_network(gpd.GeoDataFrame({"road_class": ["village", "national"], "oneway": [False, False]},
                                         geometry=lines, crs="EPSG:4545"), PROFILE)
    drive = net.graph("drive", "time").toarray()
    village_s, national_s = 1000 / (20 / 3.6), shapely.length(lines[1]) / (50 / 3.6)
    assert national_s < village_s
    assert drive[0, 1] == drive[1, 0] == national_s
    length = net.graph("walk", "length").toarray()
    assert length[0, 1] == 1000.0  # the shorter road, though the slower one
    # the reversed graph is the transpose of the forward one, for every mode and weight
    for mode in ("walk", "drive", "ambulance"):
        for weight in ("time", "length"):
            forward, backward = net.graph(mode, weight), net.graph(mode, weight, reverse=True)
            assert (backward != forward.T).nnz == 0, (mode, weight)

def cell_access(inputs):
    """Where the study's cells attach to the roads, per mode, through the disk cache."""
    return Study(inputs, cache=cache_dir()).access


def test_cells_attach_the_same_from_memory_and_from_the_disk_cache(small_study):
    inputs = load_inputs(load_study(small_study))
    first = cell_access(inputs)
    assert set(first) == {"walk", "drive", "ambulance"}
    for mode, acc in first.items():
        fresh = inputs.network.attach(inputs.cells.x, inputs.cells.y, mode)
        assert np.array_equal(acc.seg, fresh.seg), mode
        assert np.array_equal(acc.leg_m, fresh.leg_m), mode
    assert first["drive"] is first["ambulance"]  # ambulances use the driving roads: one attachment serves both
    stored = sorted((cache_dir() / "snaps").glob("*.npz"))
    assert stored
    again = cell_access(load_inputs(load_study(small_study)))
    assert sorted((cache_dir() / "snaps").glob("*.npz")) == stored  # read back, not written anew
    for mode in ("walk", "drive"):
        for field in ("seg", "along_m", "leg_m"):
            assert np.array_equal(getattr(again[mode], field), getattr(first[mode], field))


def test_old_node_snapping_cache_entries_are_never_read(small_study):
    inputs = load_inputs(load_study(small_study))
    first = cell_access(inputs)["walk"]
    for path in (cache_dir() / "snaps").glob("*.npz"):  # overwrite every entry with the old node-based layout
        np.savez(path, node=np.zeros(len(first), np.int64), leg_m=np.zeros(len(first)))
    again = cell_access(load_inputs(load_study(small_study)))["walk"]
    assert np.array_equal(again.leg_m, first.leg_m)  # the old layout is not taken for an attachment


def test_moved_cells_are_snapped_again(small_study):
    inputs = load_inputs(load_study(small_study))
    before = cell_access(inputs)["drive"]
    shifted = dataclasses.replace(inputs.cells, x=inputs.cells.x + 150.0)
    moved = dataclasses.replace(inputs, cells=shifted)  # the attachments kept for the old cells are not reused
    after = cell_access(moved)["drive"]
    assert not np.array_equal(before.leg_m, after.leg_m)
    fresh = moved.network.attach(moved.cells.x, moved.cells.y, "drive")
    assert np.array_equal(after.seg, fresh.seg)
    assert np.array_equal(after.leg_m, fresh.leg_m)


def test_straight_line_distance_equals_a_kd_tree_for_few_and_many_sites(small_study):
    inputs = load_inputs(load_study(small_study))
    rng = np.random.default_rng(3)
    cells = np.column_stack([inputs.cells.x, inputs.cells.y])
    for n in (1, 5, 40):
        x = rng.uniform(cells[:, 0].min(), cells[:, 0].max(), n)
        y = rng.uniform(cells[:, 1].min(), cells[:, 1].max(), n)
        rows = np.arange(100, 100 + n)
        expected, k = cKDTree(np.column_stack([x, y])).query(cells)
        dist, row = nearest_site(inputs.cells.x, inputs.cells.y, x, y, rows)
        assert np.array_equal(dist, expected), n
        assert np.array_equal(row, rows[k]), n


def test_cache_writes_clean_temporaries_left_by_killed_runs(tmp_path):
    import os
    import time

    from healthreach.cache import STALE_CACHE_TMP_S, save_npz

    # temporaries of another machine's writers (host 000000): only their age tells a killed run
    stale, fresh = tmp_path / ".a.npz.hr-tmp-000000-123-0badc0de", tmp_path / ".b.npz.hr-tmp-000000-456-0ddba11"
    for f in (stale, fresh):
        f.write_bytes(b"half a file")
    old = time.time() - STALE_CACHE_TMP_S - 60
    os.utime(stale, (old, old))
    save_npz(tmp_path / "c.npz", x=np.arange(3))
    assert not stale.exists()             # left by a killed run: removed
    assert fresh.exists()                 # another process may still be writing it
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, "c.npz"]
    with np.load(tmp_path / "c.npz") as z:
        assert z["x"].tolist() == [0, 1, 2]


def test_an_edited_shapefile_dbf_is_a_new_network_and_a_new_input_hash(tmp_path):
    import yaml
    from conftest import audit, grid_roads, write_study

    path = write_study(tmp_path / "s")
    roads = grid_roads()
    roads.to_file(tmp_path / "s" / "roads.shp")
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    study["roads"] = {"path": "roads.shp"}
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    first = load_inputs(load_study(path))
    before = audit(first).figure("emergency_response_18min").details["mean_response_min"]
    shp = (tmp_path / "s" / "roads.shp").read_bytes()
    roads.assign(road_class=roads["road_class"].replace("village", "county")).to_file(tmp_path / "s" / "roads.shp")
    assert (tmp_path / "s" / "roads.shp").read_bytes() == shp      # only the .dbf (the classes) changed
    second = load_inputs(load_study(path))
    assert second.input_hash != first.input_hash
    after = audit(second).figure("emergency_response_18min").details["mean_response_min"]
    fresh = audit(load_inputs(load_study(path), use_cache=False)).figure("emergency_response_18min")
    assert after == fresh.details["mean_response_min"] != before   # the cached network was not reused


def test_straight_line_update_equals_a_full_recomputation(small_study):
    """Removing and adding sites changes exactly the distances a full computation gives (few and many sites,
    sites at cell centres, where distances land exactly on a radius).
    """
    inputs = load_inputs(load_study(small_study))
    cells = inputs.cells
    window = CellWindow(inputs.grid, cells)
    rng = np.random.default_rng(5)
    within_m = 3000.0
    for n in (3, 40):
        on_cells = rng.choice(len(cells.x), n, replace=False)
        x, y, rows = cells.x[on_cells].astype(float), cells.y[on_cells].astype(float), np.arange(n)
        full, _ = nearest_site(cells.x, cells.y, x, y, rows)
        metres = np.where(full <= within_m, full, np.inf)
        for _ in range(10):
            gone = rng.choice(n, 2, replace=False)
            keep = np.setdiff1d(rows, gone)
            come = rng.choice(len(cells.x), 1)
            ax, ay = cells.x[come].astype(float), cells.y[come].astype(float)
            after = (np.r_[x[keep], ax], np.r_[y[keep], ay], np.r_[keep, n])
            idx, updated = update_sites(cells, window, metres, (x[gone], y[gone]), after[:2], (ax, ay), within_m)
            expected, _ = nearest_site(cells.x, cells.y, *after)
            expected = np.where(expected <= within_m, expected, np.inf)
            assert np.array_equal(updated, expected), n
            assert set(np.flatnonzero(updated != metres)) <= set(idx.tolist())
