"""The 800-resident village rule: large villages need care within the 15-minute circle."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
import yaml
from conftest import CRS, X0, Y0, audit

from healthreach.errors import InputError
from healthreach.inputs import load_inputs
from healthreach.study import load_study


def with_villages(study_path, rows):
    folder = study_path.parent
    gpd.GeoDataFrame([{k: v for k, v in r.items() if k != "xy"} for r in rows],
                     geometry=[shapely.Point(r["xy"]) for r in rows], crs=CRS).to_file(folder / "villages.gpkg")
    data = yaml.safe_load(study_path.read_text(encoding="utf-8"))
    data["villages"] = {"path": "villages.gpkg"}
    study_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return study_path


def test_large_villages_far_from_care_are_flagged(small_study):
    # clinics stand at (800, 2000) in the urban west and (3200, 2000) in the rural east;
    # rural villages are judged by car: 35-60 km/h roads reach any corner of the 4 km square in minutes,
    # so the far village is far only on foot: it stands in the urban township (walking)
    with_villages(small_study, [
        {"id": "V1", "name": "近村", "population": 900, "xy": (X0 + 800, Y0 + 2100)},    # 100 m from the clinic
        {"id": "V2", "name": "远村", "population": 900, "xy": (X0 + 1950, Y0 + 150)},    # urban, ~2.7 km walk
        {"id": "V3", "name": "小村", "population": 500, "xy": (X0 + 1900, Y0 + 100)},    # far, but small
    ])
    result = audit(load_inputs(load_study(small_study)))
    table = result.village_tables["village_clinic_800"].set_index("id")
    # 100 m walked off-road to the clinic's junction at 4.5 km/h: 80 s
    assert table.loc["V1", "minutes_to_care"] == pytest.approx(80 / 60, abs=0.05)
    assert table.loc["V2", "minutes_to_care"] > 15
    assert list(table.index[table["needs_clinic"]]) == ["V2"]
    figure = result.figure("village_clinic_800")
    assert figure.population == 1800
    assert figure.covered == 900
    assert figure.passed is False
    assert figure.details["without_care"] == ["V2 远村"]


def test_village_population_must_be_numbers(small_study):
    with_villages(small_study, [{"id": "V1", "name": "村", "population": -5, "xy": (X0 + 100, Y0 + 100)}])
    with pytest.raises(InputError, match=r"villages.gpkg: row 1 \(id V1\): 'population' must be a number"):
        load_inputs(load_study(small_study))


def test_a_village_outside_every_township_is_an_error_not_a_failure(small_study):
    with_villages(small_study, [
        {"id": "V1", "name": "本村", "population": 900, "xy": (X0 + 800, Y0 + 2100)},
        {"id": "V9", "name": "外县村", "population": 900, "xy": (X0 + 50_000, Y0 + 2100)},   # 46 km east
    ])
    with pytest.raises(InputError, match=r"villages.gpkg: 1 villages lie outside every township: V9 \(row 2\)"):
        load_inputs(load_study(small_study))
