"""A planned change's facility table, group membership, sites and kept figures, checked against references.

``Evaluation.apply`` writes the changed facility table as column arrays
(:func:`healthreach.scenario.apply.changed_columns`), takes the parent's
group membership for the rows no change touched
(:meth:`Study.changed_sources`) and keeps a standard's figures when its sums
did not change. Each is compared here with an independent reference: the
table written cell by cell in pandas, membership read from the whole table,
sites converted by a fresh pyproj transformer, figures computed from the
sums, and the whole evaluation computed from scratch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
import pytest
from test_evaluation import assert_same, assert_same_diff

from healthreach.evaluation import Study
from healthreach.scenario.apply import apply_changes, changed_columns, moves_table
from healthreach.scenario.checks import check
from healthreach.scenario.schema import CLOSED_TYPE, as_scenario
from healthreach.scenario.sites import Projections
from healthreach.standards.base import Context
from healthreach.standards.e2sfca import E2sfca
from healthreach.standards.groups import group_context, group_figures
from healthreach.standards.tally import settle
from healthreach.standards.tiers import Tiers
from healthreach.travel import facility_attachment, in_group
from healthreach.vocab import facility_type

COUNTS = ("beds", "ambulances", "doctors", "nurses", "capacity")
SITE = ("x", "y", "lon", "lat", "seg_walk", "along_walk_m", "snap_walk_m", "seg_drive", "along_drive_m", "snap_drive_m")


@pytest.fixture(scope="module")
def study(demo_inputs) -> Study:
    return Study(demo_inputs)


def random_scenario(study: Study, ids: list[str], rng: np.random.Generator, n: int, tag: str) -> list[dict]:
    """``n`` changes of every kind on distinct facilities: add, relocate, close (some merging), upgrade, expand."""
    cells = study.inputs.cells
    populated = np.flatnonzero(cells.people >= 1)
    picked = [str(i) for i in rng.choice(ids, size=2 * n, replace=False)]

    def site() -> dict:
        c = int(rng.choice(populated))
        return {"x": float(cells.x[c]), "y": float(cells.y[c]), "crs": study.inputs.crs}

    out: list[dict] = []
    for k in range(n):
        ref, other = picked[2 * k], picked[2 * k + 1]
        kind = ("add", "relocate", "close", "merge", "upgrade", "expand")[int(rng.integers(6))]
        if kind == "add":
            types = ["township_hc", "乡镇卫生院", "village_clinic", "general_hospital", "emergency_station"]
            out.append({"add": f"{tag}{k}", "name": "新站", "type": str(rng.choice(types)), "at": site(),
                "beds": int(rng.integers(0, 40)), "ambulances": int(rng.integers(0, 3)),
                "emergency": bool(rng.random() < 0.4), "allow_outside": True})
        elif kind == "relocate":
            out.append({"relocate": ref, "to": site(), "allow_outside": True, "beds": int(rng.integers(0, 40))})
        elif kind == "close":
            out.append({"close": ref})
        elif kind == "merge":
            out.append({"close": ref, "into": other})
        elif kind == "upgrade":
            out.append({"upgrade": ref, "type": "regional_subcentre", "emergency": True, "name": "升级"})
        else:
            out.append({"expand": ref, "beds": int(rng.integers(0, 80)), "ambulances": int(rng.integers(0, 4))})
    return out


def reference_table(table: pd.DataFrame, changes: list[dict], sites: dict, type_map: dict[str, str]) -> pd.DataFrame:
    """The changed table written cell by cell with pandas (``.loc``), as the scenario format describes it."""
    out = table.copy()
    out["status"] = ""
    out["merged_into"] = ""

    def mark(k: int, status: str) -> None:
        before = out.loc[k, "status"]
        out.loc[k, "status"] = f"{before}+{status}" if before else status

    for i, change in enumerate(changes):
        if "add" in change:
            row = {c: (False if out[c].dtype == bool else 0 if out[c].dtype.kind in "iu" else
                       np.nan if out[c].dtype.kind == "f" else None) for c in out.columns}
            row.update({"id": change["add"], "name": change["name"], "type": facility_type(change["type"], type_map),
                        "beds": change["beds"], "ambulances": change["ambulances"],
                        "emergency": change["emergency"], "row": 0, "status": "added", "merged_into": ""})
            row.update({c: getattr(sites[i], c) for c in SITE})
            out = pd.concat([out, pd.DataFrame([row]).astype(out.dtypes.to_dict())], ignore_index=True)
            continue
        ref = change.get("relocate") or change.get("close") or change.get("upgrade") or change.get("expand")
        k = int(np.flatnonzero(out["id"].to_numpy() == ref)[0])
        if "relocate" in change:
            for c in SITE:
                out.loc[k, c] = getattr(sites[i], c)
            out.loc[k, "beds"] = change["beds"]
            mark(k, "relocated")
        elif "close" in change:
            if change.get("into"):
                into = int(np.flatnonzero(out["id"].to_numpy() == change["into"])[0])
                for c in COUNTS:
                    out.loc[into, c] = out.loc[into, c] + out.loc[k, c]
                out.loc[k, "merged_into"] = change["into"]
                mark(into, "merged_in")
            out.loc[k, "type"], out.loc[k, "emergency"] = CLOSED_TYPE, False
            for c in COUNTS:
                out.loc[k, c] = 0
            mark(k, "closed")
        elif "upgrade" in change:
            out.loc[k, "type"] = facility_type(change["type"], type_map)
            out.loc[k, "emergency"], out.loc[k, "name"] = change["emergency"], change["name"]
            mark(k, "upgraded")
        else:
            out.loc[k, "beds"], out.loc[k, "ambulances"] = change["beds"], change["ambulances"]
            mark(k, "expanded")
    return out


def test_changed_table_equals_the_table_written_cell_by_cell(study):
    """Column arrays, dtypes, statuses, merges and new rows as pandas writes them; the parent's arrays untouched."""
    rng = np.random.default_rng(11)
    inputs = study.inputs
    base = study.baseline()
    ids = base.facilities["id"].tolist()
    for trial in range(40):
        changes = random_scenario(study, ids, rng, int(rng.integers(1, 5)), f"T{trial}_")
        scenario = as_scenario(changes)
        before = {c: v.copy() for c, v in base.sources.columns.items()}
        sites = check(scenario, inputs, base.sources.columns, study.projections)
        columns, moves = changed_columns(scenario, inputs, sites, base.sources.columns)
        expected = reference_table(base.facilities, changes, sites, inputs.study.facilities.type_map)
        pd.testing.assert_frame_equal(pd.DataFrame(columns), expected, check_exact=True, obj=f"trial {trial}")
        frame, moves_frame = apply_changes(scenario, inputs, sites, base.facilities)
        pd.testing.assert_frame_equal(frame, expected, check_exact=True)
        pd.testing.assert_frame_equal(moves_frame, moves_table(moves))
        assert list(moves_frame["change"]) == list(range(1, len(changes) + 1))
        for c, v in before.items():  # nothing written into the parent's columns
            np.testing.assert_array_equal(base.sources.columns[c], v)
        after = base.apply(changes)
        pd.testing.assert_frame_equal(after.facilities, expected, check_exact=True)
        pd.testing.assert_frame_equal(after.moves, moves_frame)


def test_changed_sources_equal_sources_read_from_the_whole_table(study):
    """Group membership and road attachment of a changed table equal those read from every row of it."""
    rng = np.random.default_rng(12)
    current = study.baseline()
    for step in range(25):
        ids = current.facilities["id"].tolist()
        current = current.apply(random_scenario(study, ids, rng, int(rng.integers(1, 4)), f"S{step}_"))
        table = current.facilities
        for group, spec in study.inputs.profile.groups.items():
            np.testing.assert_array_equal(current.sources.member[group], in_group(table, spec), err_msg=group)
        for mode, at in current.sources.attached.items():
            fresh = facility_attachment(table, mode)
            for part in ("seg", "along_m", "leg_m"):
                np.testing.assert_array_equal(getattr(at, part), getattr(fresh, part))


def test_chained_changes_equal_a_full_evaluation(study):
    """Changes applied one after another (each kind, merges, chained on changed tables) equal evaluations from
    scratch, figures in the same order, and their diffs with the baseline too.
    """
    rng = np.random.default_rng(13)
    base = study.baseline()
    for sequence in range(4):
        current = base
        for step in range(3):
            ids = [i for i, t in zip(current.facilities["id"], current.facilities["type"], strict=True)
                   if t != CLOSED_TYPE]
            changes = random_scenario(study, ids, rng, int(rng.integers(1, 4)), f"C{sequence}_{step}_")
            after = current.apply(changes)
            full = current.apply(changes, incremental=False)
            what = f"sequence {sequence}, step {step}"
            assert_same(after, full, what)
            assert_same_diff(base, after, full, what)
            current = after


def test_kept_figures_equal_figures_from_the_sums(study):
    """A standard whose sums did not change keeps its parent's figures: they equal its figures computed from the
    evaluation's own sums, exactly, for everyone and each population group.
    """
    rng = np.random.default_rng(14)
    base = study.baseline()
    ids = base.facilities["id"].tolist()
    weights = study.weights
    context = Context(weights.total, weights.area_total, 0.0, False,
                      study.inputs.profile.travel.dispatch_delay_min, None, {})  # type: ignore[arg-type]
    kept = 0
    for trial in range(30):
        after = base.apply(random_scenario(study, ids, rng, 1, f"K{trial}_"))
        for unit in (u for u in study.standards if u.from_sums):
            figures = unit.figures(after.tally, context)
            for group, tally in after.group_tallies.items():
                figures += group_figures(unit, tally, group_context(context, study.group_weights[group]), group)
            columns = study.unit_columns[unit.id]
            if np.array_equal(after.tally.sums[:, columns], base.tally.sums[:, columns]):
                kept += 1
            for figure in figures:
                assert after.figures[figure.id] == figure, f"trial {trial}: {figure.id}"
                assert after.figures[figure.id] is not base.figures[figure.id]  # a copy: figures are not shared
    assert kept > 10  # the random changes leave many standards' sums as they were


def test_sites_convert_as_a_fresh_transformer_does(study):
    """Sites given in a projected and a geographic crs land where transformers built anew put them, the first
    time and again with the kept transformers.
    """
    analysis = study.inputs.crs
    projections = Projections(analysis)
    cells = study.inputs.cells
    x, y = float(cells.x[500]), float(cells.y[500])
    to_wgs84 = pyproj.Transformer.from_crs(pyproj.CRS(analysis).to_wkt(), "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(x, y)
    back = pyproj.Transformer.from_crs("EPSG:4326", analysis, always_xy=True)
    for _ in range(2):
        got = projections.to_analysis(x, y, analysis)
        assert got[2:] == (float(lon), float(lat))
        assert got[:2] == tuple(float(v) for v in back.transform(lon, lat))
        assert projections.to_analysis(lon, lat, "wgs84")[2:] == (lon, lat)


def test_tier_matrices_where_nobody_moves_are_the_parents_settled(study):
    """A tier no change touches keeps its people matrix: the baseline's (summed from every cell) with rounding
    residues set to 0, then that same matrix along a chain of changes.
    """
    tiers = next(u for u in study.standards if isinstance(u, Tiers))
    base = study.baseline()
    village = next(i for i, t in zip(base.facilities["id"], base.facilities["type"], strict=True)
                   if t == "village_clinic")
    first = base.apply([{"expand": village, "beds": 3}])  # moves nobody: no tier's surface changes
    second = first.apply([{"expand": village, "beds": 4}])
    for name, raw in tiers.people_matrix(base.whole).items():
        settled = tiers.people_matrix(first.whole)[name]
        np.testing.assert_array_equal(settled, settle(raw))
        assert settled is not raw
        assert tiers.people_matrix(second.whole)[name] is settled
    np.testing.assert_array_equal(first.facility_table["tier_catchment_people"],
                                  base.facility_table["tier_catchment_people"])


def test_e2sfca_keeps_its_parents_sites_and_ratios_when_nothing_it_reads_changes(study):
    """A change that moves no facility and changes no supply (a new name) keeps the parent's E2SFCA arrays, and
    its columns equal those of the same table evaluated from scratch; a closure keeps the sites, not the ratios.
    """
    units = [u for u in study.standards if isinstance(u, E2sfca)]
    assert units
    base = study.baseline()
    renamed = base.apply([{"upgrade": "THC01", "name": "新名"}])
    closed = renamed.apply([{"close": "THC02"}])
    fresh = study.evaluate(renamed.facilities)
    for unit in units:
        sites, ratios = (unit.id, "sites"), (unit.id, "ratios")
        assert renamed.whole.kept[sites] is base.whole.kept[sites]
        assert renamed.whole.kept[ratios] is base.whole.kept[ratios]
        assert closed.whole.kept[sites] is base.whole.kept[sites]
        assert closed.whole.kept[ratios] is not base.whole.kept[ratios]
        for name in unit.township_value_names():
            np.testing.assert_array_equal(renamed.township_columns[name], fresh.township_columns[name])
        for name in unit.facility_value_names():
            np.testing.assert_array_equal(renamed.facility_columns[name], fresh.facility_columns[name])


def test_a_site_written_into_whole_metre_columns_keeps_its_fraction(study):
    """A table whose x, y are whole metres (integers) gets a relocated site's coordinates exactly, as floats."""
    table = study.facilities.copy()
    table["x"], table["y"] = table["x"].round().astype(np.int64), table["y"].round().astype(np.int64)
    cells = study.inputs.cells
    site = {"x": float(cells.x[700]) + 0.25, "y": float(cells.y[700]) + 0.75, "crs": study.inputs.crs}
    after = study.evaluate(table).apply([{"relocate": "THC01", "to": site, "allow_outside": True}])
    row = after.facilities.set_index("id").loc["THC01"]
    moved = after.moves.iloc[0]
    assert after.facilities["x"].dtype == float
    assert (row["x"], row["y"]) == (moved["x1"], moved["y1"])  # the located site, to the last bit
    assert abs(row["x"] - site["x"]) < 1e-6
    assert abs(row["y"] - site["y"]) < 1e-6
