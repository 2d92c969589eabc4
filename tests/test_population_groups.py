"""Population groups (study key ``population_groups``): every figure, township column and diff per group.

Checked against hand-made cases: a group equal to everyone gives everyone's
figures; a group living only in one township gives that township's shares;
a group raster on another CRS and resolution is resampled with its total kept.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
import yaml
from conftest import CRS, X0, Y0, write_study
from rasterio.transform import from_origin

from healthreach.errors import InputError, StudyError
from healthreach.evaluation import Study
from healthreach.inputs import load_inputs
from healthreach.study import load_study

SIZE = 4000.0  # metres: the small study is 4 x 4 km, 40 x 40 cells of 100 m
NODATA = -3.4028234663852886e38


def write_raster(path: Path, values: np.ndarray, crs: str = CRS, transform=None) -> Path:
    """A one-band float32 raster (default: the small study's grid)."""
    transform = transform or from_origin(X0, Y0 + SIZE, 100, 100)
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=NODATA) as dst:
        dst.write(values.astype(np.float32), 1)
    return path


def everyone() -> np.ndarray:
    """The small study's people per cell (see :func:`conftest.write_study`)."""
    people = np.full((40, 40), 1.0)
    people[:, :20] = 2.5
    return people


def group_study(folder: Path, groups: dict[str, np.ndarray], **overrides) -> Path:
    """The small study with one raster per group (on its own grid)."""
    folder.mkdir(parents=True, exist_ok=True)
    specs = {key: {"path": write_raster(folder / f"pop_{key}.tif", values).name} for key, values in groups.items()}
    return write_study(folder, population_groups=specs, **overrides)


def evaluate(path: Path) -> Study:
    return Study(load_inputs(load_study(path), use_cache=False))


@pytest.fixture(scope="module")
def same_as_everyone(tmp_path_factory) -> Study:
    """65+ equal to everyone; under-5 living only in the east (rural) township."""
    east = everyone()
    east[:, :20] = 0
    return evaluate(group_study(tmp_path_factory.mktemp("groups"), {"65plus": everyone(), "under5": east}))


def test_a_group_equal_to_everyone_has_everyones_figures(same_as_everyone):
    base = same_as_everyone.baseline()
    plain = [f for f in base.figures.values() if "population_group" not in f.details]
    assert plain
    tested = {fid for unit in same_as_everyone.standards for fid in unit.tests()}
    for f in plain:
        if f.id not in tested:  # ambulance counts: no group figure
            assert f"{f.id}_65plus" not in base.figures
            continue
        g = base.figure(f"{f.id}_65plus")
        assert g.details["population_group"] == "65plus"
        assert g.title.endswith("people aged 65 and over")
        for attr in ("population", "covered", "share", "unreachable", "target", "passed"):
            mine, theirs = getattr(g, attr), getattr(f, attr)
            assert mine == theirs if theirs is None else mine == pytest.approx(theirs, rel=1e-12), (f.id, attr)
    towns = base.townships
    np.testing.assert_allclose(towns["people_65plus"], towns["people"])
    for column in (c for c in towns.columns if c.endswith("_share")):
        np.testing.assert_allclose(towns[f"{column}_65plus"], towns[column], equal_nan=True)
    table = base.facility_table
    for column in ("catchment_people", "catchment_people_15min", "emergency_catchment_people"):
        np.testing.assert_allclose(table[f"{column}_65plus"], table[column], equal_nan=True)
    # children live only in the east: the urban centre's catchment has none of them
    in_east = table["township"] == "白云镇"
    assert table.loc[~in_east, "catchment_people_under5"].fillna(0).sum() == 0
    assert table["catchment_people_under5"].sum() == pytest.approx(800, abs=1)


def test_a_group_in_one_township_has_that_townships_shares(same_as_everyone):
    base = same_as_everyone.baseline()
    towns = base.townships.set_index("name")
    circle = base.figure("primary_care_15min_under5")
    # everyone of the group lives in 白云镇 (rural): the group's share is that township's share of everyone
    assert circle.population == pytest.approx(20 * 40 * 1.0)
    assert circle.share == pytest.approx(towns.loc["白云镇", "primary_care_15min_share"], abs=5e-5)
    assert towns.loc["城东街道", "people_under5"] == 0
    assert np.isnan(towns.loc["城东街道", "primary_care_15min_share_under5"])
    urban = [f for f in base.figures.values() if f.id.endswith("_under5") and f.details.get("radius_m")
             and "Urban" in f.title]
    assert urban
    assert all(f.population == 0 for f in urban)  # no child lives in an urban township
    assert all(f.share is None for f in urban)


def test_scenario_diff_reports_each_group(same_as_everyone):
    base = same_as_everyone.baseline()
    after = base.apply([{"close": "CHC01"}])
    d = base.diff(after)
    rows = d.standards.set_index("standard")
    assert rows.loc["primary_care_15min", "lose_coverage_people"] > 0
    # 65+ is everyone: the same people move; under-5 live in the east, away from the closed urban centre
    for column in ("baseline_people", "scenario_people", "newly_covered_people", "lose_coverage_people"):
        assert rows.loc["primary_care_15min_65plus", column] == pytest.approx(rows.loc["primary_care_15min", column])
    assert d.lose_coverage_of("65plus") == pytest.approx(d.lose_coverage)
    mean = "emergency_response_18min_65plus.mean_response_min"  # the group's mean response time, minutes
    assert rows.loc[mean, "baseline"] == pytest.approx(rows.loc["emergency_response_18min.mean_response_min",
                                                                "baseline"])
    lost_east = float(same_as_everyone.inputs.cells.groups["under5"][d.lost].sum())
    assert d.lose_coverage_of("under5") == pytest.approx(lost_east)
    assert rows.loc["primary_care_15min_under5", "lose_coverage_people"] == pytest.approx(lost_east)
    towns = d.townships
    for column in ("primary_care_15min_share_65plus_change", "lose_coverage_people_65plus",
                   "lose_coverage_people_under5"):
        assert column in towns.columns
    np.testing.assert_allclose(towns["lose_coverage_people_65plus"], towns["lose_coverage_people"])
    facilities = d.facilities.set_index("id")
    closed = facilities.loc["CHC01"]
    assert np.isnan(closed["catchment_people_65plus_after"])  # no longer a primary-care facility
    assert closed["catchment_people_65plus_before"] == closed["catchment_people_before"] > 0
    assert closed["catchment_people_65plus_change"] == -closed["catchment_people_before"]


def test_a_raster_on_another_crs_and_resolution_is_resampled_onto_the_grid(tmp_path):
    """A group raster in lon/lat at about 50 m keeps its total and lands on the study's cells."""
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(CRS, 4326, always_xy=True)
    west, south = to_lonlat.transform(X0 - 300, Y0 - 300)
    east, north = to_lonlat.transform(X0 + SIZE + 300, Y0 + SIZE + 300)
    step = 0.0005  # degrees, about 50 m
    width, height = int(np.ceil((east - west) / step)), int(np.ceil((north - south) / step))
    values = np.zeros((height, width))
    lon = west + (np.arange(width) + 0.5) * step
    lat = north - (np.arange(height) + 0.5) * step
    x, y = Transformer.from_crs(4326, CRS, always_xy=True).transform(*np.meshgrid(lon, lat))
    inside = (x > X0 + 50) & (x < X0 + SIZE - 50) & (y > Y0 + 50) & (y < Y0 + SIZE - 50)
    values[inside] = 0.1  # 0.1 people per source cell, only well inside the study area
    values = values.astype(np.float32).astype(np.float64)  # as the raster stores them
    folder = tmp_path / "lonlat"
    folder.mkdir()
    write_raster(folder / "old.tif", values, "EPSG:4326", from_origin(west, north, step, step))
    path = write_study(folder, population_groups={"65plus": {"path": "old.tif"}})
    inputs = load_inputs(load_study(path), use_cache=False)
    group = inputs.cells.groups["65plus"]
    assert group.sum() == pytest.approx(values.sum(), rel=1e-9)
    base = Study(inputs).baseline()
    fig = base.figure("primary_care_15min_65plus")
    assert fig.population == pytest.approx(values.sum(), rel=1e-9)
    assert fig.covered == pytest.approx(float(group[base.primary_seconds <= 900].sum()), rel=1e-9)


def test_group_layer_as_polygons(tmp_path):
    folder = tmp_path / "poly"
    folder.mkdir()
    square = shapely.box(X0 + 2000, Y0, X0 + 4000, Y0 + 2000)  # the south half of the east township
    gpd.GeoDataFrame({"population": [400.0]}, geometry=[square], crs=CRS).to_file(folder / "old.gpkg")
    inputs = load_inputs(load_study(write_study(folder, population_groups={"65plus": {"path": "old.gpkg"}})),
                         use_cache=False)
    group = inputs.cells.groups["65plus"]
    assert group.sum() == pytest.approx(400.0)
    assert group.max() == pytest.approx(1.0)  # 400 people over 400 cells, each 1 person: no more than everyone


def test_census_rescaling_scales_groups_by_the_townships_factors(tmp_path):
    """The townships' census totals are 4,000 and 2,000; the raster gives 2,000 and 800 (x2 and x2.5)."""
    folder = tmp_path / "census"
    path = group_study(folder, {"65plus": everyone() * 0.2},
                       population={"path": "population.tif", "rescale_to_census": True})
    cells = load_inputs(load_study(path), use_cache=False).cells
    west = cells.township == 0
    np.testing.assert_allclose(cells.groups["65plus"][west], 0.2 * 2.5 * 2.0)
    np.testing.assert_allclose(cells.groups["65plus"][~west], 0.2 * 1.0 * 2.5)
    np.testing.assert_allclose(cells.groups["65plus"], 0.2 * cells.people)


def test_cells_with_more_people_of_a_group_than_everyone_are_reported(tmp_path):
    values = 0.1 * everyone()
    values[5:8, 30:32] = 3.0  # six cells of the east township (1 person each) with 3 old people
    inputs = load_inputs(load_study(group_study(tmp_path / "over", {"65plus": values})), use_cache=False)
    notes = [w for w in map(str, inputs.warnings) if "population_groups.65plus" in w]
    assert len(notes) == 1
    assert "6 cells hold more people of the group than people in all (12 people more)" in notes[0]
    assert "township 002 (白云镇): 6 cells, 12 people" in notes[0]


def test_a_group_larger_than_everyone_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"population_groups.65plus .*9,600 people of the group but 2,800"):
        load_inputs(load_study(group_study(tmp_path / "swap", {"65plus": everyone() * 0 + 6.0})), use_cache=False)


def test_a_group_with_nobody_is_refused(tmp_path):
    with pytest.raises(InputError, match="no people of the group in the study area"):
        load_inputs(load_study(group_study(tmp_path / "none", {"65plus": everyone() * 0})), use_cache=False)


def test_a_raster_that_cannot_be_placed_is_refused(tmp_path):
    folder = tmp_path / "far"
    folder.mkdir()
    write_raster(folder / "far.tif", everyone(), transform=from_origin(X0 + 500_000, Y0, 100, 100))
    with pytest.raises(InputError, match="does not overlap the study area"):
        load_inputs(load_study(write_study(folder, population_groups={"65plus": {"path": "far.tif"}})),
                    use_cache=False)
    write_raster(folder / "near.tif", everyone())
    with pytest.raises(InputError, match=r"near.tif: population_groups.65plus.band is 2 but the raster has 1 band"):
        load_inputs(load_study(write_study(folder, population_groups={"65plus": {"path": "near.tif", "band": 2}})),
                    use_cache=False)
    with rasterio.open(folder / "nocrs.tif", "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       transform=from_origin(X0, Y0 + SIZE, 1000, 1000)) as dst:
        dst.write(np.ones((4, 4), np.float32), 1)
    with pytest.raises(InputError, match="has no coordinate system"):
        load_inputs(load_study(write_study(folder, population_groups={"65plus": {"path": "nocrs.tif"}})),
                    use_cache=False)


def test_unknown_group_keys_and_missing_files_are_refused(tmp_path):
    folder = tmp_path / "keys"
    folder.mkdir()
    write_raster(folder / "old.tif", everyone())
    with pytest.raises(StudyError, match=r"population_groups: .*unknown population group '65\+'; "
                                         r"did you mean '65plus'\?"):
        load_study(write_study(folder, population_groups={"65+": {"path": "old.tif"}}))
    with pytest.raises(StudyError, match=r"population_groups.65plus.path: file not found"):
        load_study(write_study(folder, population_groups={"65plus": {"path": "missing.tif"}}))
    with pytest.raises(StudyError, match=r"unknown key 'population_groups.65plus.bnad'"):
        load_study(write_study(folder, population_groups={"65plus": {"path": "old.tif", "bnad": 2}}))


def test_a_group_figure_named_like_a_standard_is_refused(tmp_path):
    folder = tmp_path / "names"
    path = group_study(folder, {"65plus": everyone() * 0.2})
    profile = yaml.safe_load((Path(__file__).parents[1] / "healthreach" / "profiles" / "default.yaml")
                             .read_text(encoding="utf-8"))
    first = next(iter(profile["standards"]))
    profile["standards"][f"{first}_65plus"] = {**profile["standards"][first], "kind": "circle"}
    (folder / "profile.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    study["profile"] = "profile.yaml"
    path.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    with pytest.raises(StudyError, match=f"'{first}_65plus'"):
        evaluate(path)


def test_without_groups_nothing_changes(small_study):
    base = evaluate(small_study).baseline()
    assert not base.group_tallies
    assert not any("population_group" in f.details for f in base.figures.values())
    assert not any(c.endswith("_65plus") for c in base.townships.columns)


def test_the_demo_65plus_layer_is_what_its_generator_writes(tmp_path):
    """healthreach/demo/population_65plus.tif is reproduced by tools/demo/ageing.py from the demo population."""
    import shutil

    from healthreach.study import DEMO_STUDY
    from tools.demo.ageing import SHARE_RANGE, write_ageing

    demo = DEMO_STUDY.parent
    for name in ("population.tif", "townships.gpkg"):
        shutil.copy(demo / name, tmp_path / name)
    written = write_ageing(tmp_path, 20250101)
    with rasterio.open(written) as new, rasterio.open(demo / "population_65plus.tif") as shipped, \
            rasterio.open(demo / "population.tif") as everyone_src:
        assert new.transform == shipped.transform == everyone_src.transform
        old, people = new.read(1, masked=True), everyone_src.read(1, masked=True)
        np.testing.assert_array_equal(old.filled(0), shipped.read(1, masked=True).filled(0))
    assert (old <= people).all()
    populated = people > 1
    share = old[populated] / people[populated]
    assert SHARE_RANGE[0] - 0.01 <= share.min() < share.max() <= SHARE_RANGE[1] + 0.01
    assert 0.12 < old.sum() / people.sum() < 0.2
