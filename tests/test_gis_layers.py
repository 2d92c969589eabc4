"""The audit's GIS outputs: bands with people, per-facility isochrones, results, uncovered people, rasters, styles.

Each is checked against the cells the figures come from (brute force), the
rasters read back with rasterio and the QGIS styles read back from the
GeoPackage with sqlite3.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
from conftest import X0, Y0, write_study

from healthreach.evaluation import Study
from healthreach.gis import NODATA, TIME_BREAKS_S, UNCOVERED_MIN_PEOPLE, facility_seconds
from healthreach.inputs import load_inputs
from healthreach.report import write_outputs
from healthreach.study import load_study

FACILITIES = [
    {"id": "CHC01", "name": "城东社区卫生服务中心", "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
     "beds": 20, "ambulances": 0, "emergency": "false"},
    {"id": "THC01", "name": "白云镇中心卫生院", "type": "central_township_hc", "x": X0 + 3200, "y": Y0 + 2000,
     "beds": 40, "ambulances": 1, "emergency": "true"},
    {"id": "VC01", "name": "石桥村卫生室", "type": "village_clinic", "x": X0 + 2800, "y": Y0 + 400,
     "beds": 0, "ambulances": 0, "emergency": "false"},
]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gis")
    # walking everywhere: the 4 km county then has people beyond 15 minutes
    study = write_study(folder / "county", FACILITIES)
    profile = folder / "county" / "walk.yaml"
    from healthreach.profile import profile_file
    text = profile_file("default").read_text(encoding="utf-8").replace("rural_mode: drive", "rural_mode: walk")
    profile.write_text(text, encoding="utf-8")
    import yaml
    data = yaml.safe_load(study.read_text(encoding="utf-8"))
    data["profile"] = str(profile)
    study.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    evaluation = Study(load_inputs(load_study(study), use_cache=False)).baseline()
    out = folder / "out"
    return evaluation, out, write_outputs(evaluation, out, facility_isochrones=True)


def layers(path):
    return [name for name, _ in pyogrio.list_layers(path)]


def test_band_fields_carry_units_and_people_add_up_from_the_cells(written):
    evaluation, out, _ = written
    cells = evaluation.inputs.cells
    bands = gpd.read_file(out / "isochrones.gpkg", layer="primary_care_bands")
    assert {"band", "from_time_min", "to_time_min", "label", "people"} <= set(bands.columns)
    assert not {"lower", "upper", "minutes"} & set(bands.columns)
    seconds = evaluation.primary_seconds
    for _, band in bands.iterrows():
        inside = (seconds > band["from_time_min"] * 60) & (seconds <= band["to_time_min"] * 60)
        assert band["people"] == pytest.approx(cells.people[inside].sum(), abs=0.05)
        assert band.geometry.area == pytest.approx(inside.sum() * evaluation.inputs.grid.cell_m ** 2)
    areas = gpd.read_file(out / "isochrones.gpkg", layer="emergency_areas")
    assert {"from_dist_m", "to_dist_m", "people"} <= set(areas.columns)


def test_each_facility_has_its_own_isochrones_and_the_nearest_is_their_minimum(written):
    evaluation, out, _ = written
    cells = evaluation.inputs.cells
    iso = gpd.read_file(out / "isochrones.gpkg", layer="facility_isochrones")
    assert set(iso["facility_id"]) == {"CHC01", "THC01", "VC01"}
    each = {}
    for row, fid in enumerate(evaluation.facility_table["id"]):
        each[fid] = facility_seconds(evaluation, row)
        mine = iso[iso["facility_id"] == fid].set_index("band")
        for band, upper in enumerate(TIME_BREAKS_S):
            lower = TIME_BREAKS_S[band - 1] if band else 0.0
            inside = (each[fid] > lower) & (each[fid] <= upper)
            if not inside.any():
                assert band not in mine.index
                continue
            assert mine.loc[band, "people"] == pytest.approx(cells.people[inside].sum(), abs=0.05)
            assert mine.loc[band, "people_within"] == pytest.approx(cells.people[each[fid] <= upper].sum(), abs=0.05)
            assert mine.loc[band, "geometry"].area == pytest.approx(inside.sum() * evaluation.inputs.grid.cell_m ** 2)
    # each facility as if it were the only one: the nearest of them is the audit's own travel time
    np.testing.assert_allclose(np.minimum.reduce(list(each.values())), evaluation.primary_seconds, rtol=1e-9)
    # costing only the cells that can lie within 30 minutes changes nothing within them
    for row, fid in enumerate(evaluation.facility_table["id"]):
        limited = facility_seconds(evaluation, row, TIME_BREAKS_S[-1])
        within = each[fid] <= TIME_BREAKS_S[-1]
        assert within.any()
        assert (~within).any()
        np.testing.assert_array_equal(limited[within], each[fid][within])
        assert np.isinf(limited[~within]).all()
    # areas overlap: a cell near two facilities is in both facilities' 15-minute areas
    assert iso[iso["to_time_min"] <= 15]["people"].sum() > evaluation.figure("primary_care_15min").covered


def test_results_layers_hold_the_tables(written):
    evaluation, out, _ = written
    towns = gpd.read_file(out / "isochrones.gpkg", layer="township_results")
    assert list(towns["township_id"]) == list(evaluation.townships["township_id"])
    np.testing.assert_allclose(towns["primary_care_15min_share"], evaluation.townships["primary_care_15min_share"])
    facilities = gpd.read_file(out / "isochrones.gpkg", layer="facility_results")
    assert list(facilities["id"]) == ["CHC01", "THC01", "VC01"]
    assert facilities.geometry.iloc[0].x == pytest.approx(X0 + 800)
    assert {"snap_walk_m", "catchment_people", "beds_per_1000"} <= set(facilities.columns)


def test_uncovered_people_are_cells_above_a_threshold_and_every_person_in_the_squares(written):
    evaluation, out, _ = written
    circle = evaluation.figure("primary_care_15min")
    beyond = circle.population - circle.covered
    assert beyond > 100  # the walking county leaves people outside the circle
    cells = gpd.read_file(out / "isochrones.gpkg", layer="uncovered_cells")
    assert (cells["people"] >= UNCOVERED_MIN_PEOPLE).all()
    assert {"people", "time_min", "township"} <= set(cells.columns)
    squares = gpd.read_file(out / "isochrones.gpkg", layer="uncovered_1km")
    assert squares["people"].sum() == pytest.approx(beyond, abs=1)
    assert squares.geometry.area.max() == pytest.approx(1_000_000)
    assert len(squares) < len(cells)


def test_travel_time_rasters_are_minutes_on_the_grid_with_nodata_outside(written):
    evaluation, out, paths = written
    grid, cells = evaluation.inputs.grid, evaluation.inputs.cells
    names = sorted(p for p in paths if p.endswith(".tif"))
    assert "time_primary_care_min.tif" in names
    assert "time_emergency_ambulance_from_min.tif" in names
    with rasterio.open(out / "time_primary_care_min.tif") as src:
        assert src.nodata == NODATA
        assert src.transform == grid.transform
        assert (src.height, src.width) == grid.shape
        values = src.read(1).ravel()
    seconds = evaluation.primary_seconds
    reachable = np.isfinite(seconds)
    np.testing.assert_allclose(values[cells.flat[reachable]], seconds[reachable] / 60, rtol=1e-6)
    outside = np.ones(values.size, bool)
    outside[cells.flat] = False
    assert (values[outside] == NODATA).all()


def test_every_layer_opens_styled_in_qgis(written):
    _, out, _ = written
    path = out / "isochrones.gpkg"
    with closing(sqlite3.connect(path)) as db:
        styles = {name: (geometry, qml, default) for name, geometry, qml, default in db.execute(
            "SELECT f_table_name, f_geometry_column, styleQML, useAsDefault FROM layer_styles")}
        registered = db.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone()
    assert registered == ("attributes",)
    names = [n for n in layers(path) if n != "layer_styles"]
    assert set(names) <= set(styles)
    for name in names:
        geometry, qml, default = styles[name]
        assert default == 1
        assert geometry == pyogrio.read_info(path, layer=name)["geometry_name"] or geometry == "geom"
        renderer = ET.fromstring(  # noqa: S314  our own output
            qml.split(">", 1)[1]).find("renderer-v2")
        assert renderer is not None, name
        field = renderer.get("attr")
        if field:
            assert field in pyogrio.read_info(path, layer=name)["fields"], (name, field)
    bands = ET.fromstring(  # noqa: S314  our own output
            styles["primary_care_bands"][1].split(">", 1)[1]).find("renderer-v2")
    assert bands.get("type") == "categorizedSymbol"
    assert [c.get("label") for c in bands.iter("category")] == ["≤ 5 min", "5–10 min", "10–15 min", "15–30 min"]


def test_the_audit_command_draws_each_facilitys_areas_only_when_asked(tmp_path):
    from click.testing import CliRunner

    from healthreach.cli import cli

    study = write_study(tmp_path / "county", FACILITIES)
    for flag, expected in (([], False), (["--facility-isochrones"], True)):
        out = tmp_path / f"out{len(flag)}"
        result = CliRunner().invoke(cli, ["audit", str(study), "--out", str(out), "--offline", *flag])
        assert result.exit_code == 0, result.output
        present = "facility_isochrones" in layers(out / "isochrones.gpkg")
        assert present is expected
        if expected:
            iso = gpd.read_file(out / "isochrones.gpkg", layer="facility_isochrones")
            assert set(iso["facility_id"]) == {"CHC01", "THC01", "VC01"}
            html = (out / "map.html").read_text(encoding="utf-8")
            assert "L.map(" in html  # the map is written beside it
