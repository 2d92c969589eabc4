"""Evaluations updated from the cells that changed equal evaluations computed from scratch.

Random sequences of changes (close, move, add, change of type or emergency
flag) are applied one after another with :meth:`Evaluation.updated`; after
every step the figures, township, facility and village tables, and the diff
against the baseline, must equal a full evaluation of the same facility
table (:meth:`Study.evaluate`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import rasterio
from conftest import CRS, X0, Y0, write_study
from rasterio.transform import from_origin

from healthreach.evaluation import Study
from healthreach.inputs import Cells, load_inputs
from healthreach.study import load_study

SITE = ("x", "y", "seg_walk", "along_walk_m", "snap_walk_m", "seg_drive", "along_drive_m", "snap_drive_m")


def random_change(study: Study, facilities: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The facility table after one random change."""
    fac = facilities.copy()
    net, cells = study.inputs.network, study.inputs.cells
    kind = rng.choice(["close", "move", "add", "retype"])
    k = fac.index[rng.integers(len(fac))]

    def site() -> dict[str, float]:
        c = rng.integers(len(cells.x))
        x, y = cells.x[c] + rng.normal(0, 150), cells.y[c] + rng.normal(0, 150)
        walk = net.attach(np.array([x]), np.array([y]), "walk")
        drive = net.attach(np.array([x]), np.array([y]), "drive")
        return {"x": x, "y": y, "seg_walk": int(walk.seg[0]), "along_walk_m": float(walk.along_m[0]),
                "snap_walk_m": float(walk.leg_m[0]), "seg_drive": int(drive.seg[0]),
                "along_drive_m": float(drive.along_m[0]), "snap_drive_m": float(drive.leg_m[0])}

    types = sorted({t for g in study.inputs.profile.groups.values() for t in g.types})
    if kind == "close":
        fac.loc[k, ["type", "emergency"]] = ["closed", False]
    elif kind == "move":
        for column, value in site().items():
            fac.loc[k, column] = value
    elif kind == "retype":
        fac.loc[k, ["type", "emergency"]] = [rng.choice(types), bool(rng.random() < 0.3)]
    else:
        row = fac.loc[[k]].copy()
        row["id"], row["type"], row["emergency"] = f"N{len(fac)}", rng.choice(types), bool(rng.random() < 0.3)
        for column, value in site().items():
            row[column] = value
        fac = pd.concat([fac, row], ignore_index=True)
    return fac


def assert_same(a, b, what: str) -> None:
    """Two evaluations agree on every figure (to 1e-9 relative, 1e-6 people) and every table."""
    assert list(a.figures) == list(b.figures)
    for fid, x in a.figures.items():
        y = b.figures[fid]
        for attr in ("share", "covered", "unreachable", "population"):
            u, v = getattr(x, attr), getattr(y, attr)
            assert (u is None) == (v is None), f"{what}: {fid}.{attr}: {u} vs {v}"
            if u is not None:
                assert u == pytest.approx(v, rel=1e-9, abs=1e-6), f"{what}: {fid}.{attr}"
        assert x.passed == y.passed, f"{what}: {fid}.passed"
        for key, u in x.details.items():
            v = y.details[key]
            if isinstance(u, float):
                assert u == pytest.approx(v, rel=1e-9, abs=1e-9), f"{what}: {fid}.{key}"
            else:
                assert u == v, f"{what}: {fid}.{key}"
    for x, y in ((a.townships, b.townships), (a.facility_table, b.facility_table)):
        pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=1e-9, atol=1e-6, obj=what)
    assert a.village_tables.keys() == b.village_tables.keys()
    for key, table in a.village_tables.items():
        pd.testing.assert_frame_equal(table, b.village_tables[key], obj=what)


def assert_same_diff(base, updated, full, what: str) -> None:
    d1, d2 = base.diff(updated), base.diff(full)
    for x, y in ((d1.standards, d2.standards), (d1.townships, d2.townships), (d1.facilities, d2.facilities),
                 (d1.flows, d2.flows)):
        pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=1e-9, atol=1e-6, obj=what)
    np.testing.assert_array_equal(d1.gained, d2.gained)
    np.testing.assert_array_equal(d1.lost, d2.lost)


def check_sequences(study: Study, sequences: int, steps: int, seed: int) -> None:
    base = study.baseline()
    rng = np.random.default_rng(seed)
    for s in range(sequences):
        current = base
        for step in range(steps):
            facilities = random_change(study, current.facilities, rng)
            updated, full = current.updated(facilities), study.evaluate(facilities)
            what = f"sequence {s}, step {step}"
            assert_same(updated, full, what)
            assert_same_diff(base, updated, full, what)
            current = updated


@pytest.fixture(scope="module")
def ten_facilities(tmp_path_factory) -> Study:
    """The small two-township study with ten facilities of every group, three of them emergency stations."""
    rng = np.random.default_rng(7)
    types = ["community_hc", "township_hc", "tertiary_hospital", "emergency_station", "village_clinic"]
    facilities = [{"id": f"F{i:02d}", "name": f"facility {i}", "type": types[i % len(types)],
                   "x": X0 + rng.uniform(100, 3900), "y": Y0 + rng.uniform(100, 3900), "beds": 10,
                   "ambulances": i % 2, "emergency": "true" if i in (1, 4, 8) else "false"} for i in range(10)]
    path = write_study(tmp_path_factory.mktemp("ten"), facilities)
    return Study(load_inputs(load_study(path), use_cache=False))


def test_updated_equals_full_on_many_random_sequences(ten_facilities):
    check_sequences(ten_facilities, sequences=100, steps=3, seed=1)


@pytest.fixture(scope="module")
def ten_facilities_two_groups(tmp_path_factory, ten_facilities) -> Study:
    """The same study with two population groups: a random share of everyone aged 65+, children under 5."""
    folder = tmp_path_factory.mktemp("ten_groups")
    rng = np.random.default_rng(8)
    people = np.full((40, 40), 1.0)
    people[:, :20] = 2.5
    specs = {}
    for key, share in (("65plus", rng.uniform(0.05, 0.4, (40, 40))), ("under5", rng.uniform(0, 0.1, (40, 40)))):
        with rasterio.open(folder / f"{key}.tif", "w", driver="GTiff", width=40, height=40, count=1,
                           dtype="float32", crs=CRS, transform=from_origin(X0, Y0 + 4000, 100, 100)) as dst:
            dst.write((people * share).astype(np.float32), 1)
        specs[key] = {"path": f"{key}.tif"}
    facilities = ten_facilities.facilities
    path = write_study(folder, [{"id": r["id"], "name": r["name"], "type": r["type"], "x": r["x"], "y": r["y"],
                                 "beds": 10, "ambulances": r["ambulances"],
                                 "emergency": "true" if r["emergency"] else "false"}
                                for _, r in facilities.iterrows()], population_groups=specs)
    return Study(load_inputs(load_study(path), use_cache=False))


def test_updated_equals_full_with_population_groups(ten_facilities_two_groups):
    study = ten_facilities_two_groups
    assert set(study.inputs.cells.groups) == {"65plus", "under5"}
    assert "primary_care_15min_under5" in study.baseline().figures
    check_sequences(study, sequences=40, steps=3, seed=3)


@pytest.mark.slow
def test_updated_equals_full_on_the_demo_county(demo_inputs):
    check_sequences(Study(demo_inputs), sequences=8, steps=3, seed=2)


def test_changed_inputs_never_reuse_derived_values(demo_inputs):
    """Moving every cell 1.5 km makes another study: nothing derived from the first one is reused."""
    first = Study(demo_inputs).baseline()
    cells = demo_inputs.cells
    moved = Cells(cells.flat, cells.x + 1500.0, cells.y, cells.people, cells.township, cells.urban)
    shifted = dataclasses.replace(demo_inputs, cells=moved)
    again = Study(shifted).baseline()
    fresh = Study(dataclasses.replace(demo_inputs, cells=Cells(*(np.array(a) for a in (
        cells.flat, cells.x + 1500.0, cells.y, cells.people, cells.township, cells.urban))))).baseline()
    assert_same(again, fresh, "moved cells")
    share, moved_share = first.figure("primary_care_15min").share, again.figure("primary_care_15min").share
    assert abs(share - moved_share) > 0.05  # the moved cells are really re-attached and re-tested


def test_inputs_are_read_only(demo_inputs):
    with pytest.raises(dataclasses.FrozenInstanceError):
        demo_inputs.cells = None  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        demo_inputs.cells.people[0] = 1.0


@pytest.mark.parametrize(("changes", "message"), [
    ("THC01", r"scenario: expected a list of changes.*got str"),
    ({"close": "THC01"}, r"scenario: expected a list of changes.*got dict"),
    ([], r"scenario: no changes given"),
    ([{"close": "THC1"}], r"no facility with id 'THC1'.*did you mean THC01"),
])
def test_changes_given_in_code_are_checked_with_clear_errors(demo_inputs, changes, message):
    from healthreach.errors import ScenarioError

    with pytest.raises(ScenarioError, match=message):
        Study(demo_inputs).baseline().apply(changes)
