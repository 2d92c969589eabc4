"""Batch audits on a local Dask cluster of two worker processes.

Six generated districts share one 4 x 4 km street grid and differ only in
where their facilities stand; a seventh is broken on purpose (its facility
table has the wrong coordinate columns). One cluster serves the whole module.
"""

from __future__ import annotations

import json
import operator
import shutil
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import CRS, X0, Y0, audit, write_study
from pyproj import Transformer

from healthreach.batch import MapOptions, StudyRef, audit_study, dask_client, discover_studies, run_batch
from healthreach.batch.run import collect_row
from healthreach.batch.task import read_marker
from healthreach.cli import cli
from healthreach.errors import BatchError, StudyError
from healthreach.inputs import load_inputs
from healthreach.outputs import read_manifest
from healthreach.study import load_study

distributed = pytest.importorskip("distributed")

THC = {"id": "THC01", "name": "白云镇中心卫生院", "type": "central_township_hc", "x": X0 + 3200, "y": Y0 + 2000,
       "beds": 40, "ambulances": 1, "emergency": "true"}
CHC = {"id": "CHC01", "name": "城东社区卫生服务中心", "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
       "beds": 20, "ambulances": 0, "emergency": "false"}


def _site(fid: str, kind: str, x: float, y: float) -> dict:
    return {"id": fid, "name": f"站点{fid}", "type": kind, "x": X0 + x, "y": Y0 + y, "beds": 0, "ambulances": 0,
            "emergency": "false"}


LAYOUTS = {  # district folder -> (name, facilities)
    "baseline": ("城东区", [CHC, THC]),
    "east_only": ("east only", [THC]),
    "west_only": ("west only (no emergency site)", [CHC]),
    "corner": ("corner clinic", [THC, _site("VC01", "village_clinic", 100, 100)]),
    "west_two": ("two western centres", [CHC, THC, _site("CHC02", "community_station", 800, 3200)]),
    "dense": ("dense stations", [THC] + [_site(f"S{i}{j}", "community_station", 400 + 800 * i, 400 + 800 * j)
                                         for i in range(5) for j in range(5)]),
}


def _write_all(root: Path) -> Path:
    for folder, (name, facilities) in LAYOUTS.items():
        write_study(root / folder, facilities, name=name)
    write_study(root / "broken", name="broken district")
    (root / "broken" / "facilities.csv").write_text("id,name,type,longitude,latitude\nA,a,village_clinic,108.8,29.3\n",
                                                    encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """Two worker processes that cache networks where this test session does."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEALTHREACH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))  # inherited by the workers
        with dask_client(workers=2, dashboard_address=None) as c:
            yield c


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> Path:
    return _write_all(tmp_path_factory.mktemp("districts"))


@pytest.fixture(scope="module")
def first_run(client, studies, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    seen = []
    result = run_batch(discover_studies([studies]), out, client=client,
                       on_result=lambda row, done, total: seen.append((row["status"], done, total)))
    return result, out, seen


def _by_folder(rows):
    return {r["folder"]: r for r in rows}


def test_every_study_runs_on_the_cluster_and_the_broken_one_becomes_an_error_row(client, first_run):
    result, out, seen = first_run
    rows = _by_folder(result.rows)
    assert len(client.nthreads()) == 2
    assert sorted(rows) == sorted([*LAYOUTS, "broken"])
    assert [s for s, _, _ in seen].count("error") == 1
    assert [d for _, d, _ in seen] == list(range(1, 8))
    broken = rows["broken"]
    assert broken["status"] == "error"
    assert "facilities.csv" in broken["message"]
    assert "'lon'" in broken["message"]
    assert (out / "broken" / "error.txt").read_text(encoding="utf-8").startswith(broken["message"])
    assert not (out / "broken" / "result.json").exists()
    workers = set(client.nthreads())
    for folder in LAYOUTS:
        assert rows[folder]["status"] == "ok", rows[folder]["message"]
        assert rows[folder]["worker"] in workers  # ran in a worker process, not in the test process
        files = {p.name for p in (out / folder).iterdir()}
        assert {"summary.json", "townships.csv", "facilities.csv", "isochrones.gpkg", "map.html",
                "district.geojson", "result.json"} <= files
    leftovers = [p for p in out.rglob(".*") if p.name != ".healthreach.json"]
    assert leftovers == []  # published folders leave no temporary files or folders behind
    assert read_manifest(out)["kind"] == "batch"
    assert read_manifest(out / "broken")["files"] == ["error.txt"]


def test_summary_figures_equal_those_of_single_audits(first_run, studies):
    result, out, _ = first_run
    rows = _by_folder(result.rows)
    csv = pd.read_csv(out / "summary.csv", encoding="utf-8-sig").set_index("folder")
    for folder, (name, facilities) in LAYOUTS.items():
        single = audit(load_inputs(load_study(studies / folder / "study.yaml")))
        row = rows[folder]
        assert row["study"] == name
        assert row["population"] == pytest.approx(single.inputs.total_people, rel=1e-12)
        assert row["facilities"] == len(facilities)
        assert row["townships"] == 2
        assert row["input_hash"] == single.inputs.input_hash
        written = json.loads((out / folder / "summary.json").read_text(encoding="utf-8"))
        assert written["input_hash"] == row["input_hash"]
        assert [s["id"] for s in row["standards"]] == list(single.figures)
        for s, f in zip(row["standards"], single.figures.values(), strict=True):
            assert s["passed"] == f.passed
            if f.share is None:
                assert s["share"] is None
                assert pd.isna(csv.loc[folder, f"{f.id}_share"])
            else:
                assert s["share"] == pytest.approx(f.share, rel=1e-12)
                assert csv.loc[folder, f"{f.id}_share"] == pytest.approx(f.share, abs=5e-5)
            if "target_mean_min" in f.details:  # judged on the mean: the mean (minutes) beside the share
                columns = list(csv.columns)
                assert columns[columns.index(f"{f.id}_share") + 1] == f"{f.id}_mean_min"
                mean = f.details["mean_response_min"]
                if mean is None:
                    assert pd.isna(csv.loc[folder, f"{f.id}_mean_min"])
                else:
                    assert csv.loc[folder, f"{f.id}_mean_min"] == pytest.approx(mean, abs=5e-3)
            if "not_assessed" in f.details:
                assert f.passed is None
                assert csv.loc[folder, f"{f.id}_pass"] == "not assessed"
                continue
            assert csv.loc[folder, f"{f.id}_pass"] == {True: "pass", False: "fail", None: float("nan")}[f.passed] \
                or (f.passed is None and pd.isna(csv.loc[folder, f"{f.id}_pass"]))
        towns = single.townships.sort_values("primary_care_15min_share")
        assert [t["name"] for t in row["worst_townships"]] == list(towns["name"])
        assert row["worst_townships"][0]["share"] == pytest.approx(towns["primary_care_15min_share"].iloc[0])


def test_summary_ranks_districts_by_largest_gap_with_errors_last(first_run):
    result, out, _ = first_run
    table = result.table
    assert list(table["folder"]) == ["east_only", "corner", "west_only", "baseline", "west_two", "dense", "broken"]
    assert list(table["rank"].iloc[:6]) == [1, 2, 3, 4, 5, 6]
    assert pd.isna(table["rank"].iloc[6])
    # west_only has no emergency-capable site: its emergency standards are not assessed (no gap, no fail),
    # so its largest gap is that of the medical circle
    west = table.set_index("folder").loc["west_only"]
    assert west["largest_gap_standard"] == "primary_care_15min"
    assert "emergency" not in west["failed_standards"]
    assert west["emergency_radius_urban_pass"] == "not assessed"  # noqa: S105  a standard's verdict column, not a password
    dense = table.set_index("folder").loc["dense"]
    # every standard met, with a margin
    assert dense["failed_standards"] == ""
    assert dense["largest_gap"] < 0
    assert dense["primary_care_15min_share"] == 1.0
    assert {r["folder"] for r in result.failing} == set(LAYOUTS) - {"dense"}
    sheet = openpyxl.load_workbook(out / "summary.xlsx")["summary"]
    values = list(sheet.values)
    assert values[0][:3] == ("排名", "区县", "文件夹")  # the header in words (the default --lang zh)
    assert list(values[1]) == list(table.columns)  # the ids, as summary.csv's header
    assert [v[list(table.columns).index("folder")] for v in values[2:]] == list(table["folder"])
    assert sheet.freeze_panes == "C3"
    assert sheet.auto_filter.ref.startswith("A2:")


def test_combined_map_shades_every_audited_district(first_run):
    _, out, _ = first_run
    page = (out / "coverage_map.html").read_text(encoding="utf-8")
    for name, _ in LAYOUTS.values():
        assert json.dumps(name)[1:-1] in page  # the GeoJSON in the page escapes non-ASCII text as \\uXXXX
    assert page.count('"district": ') == len(LAYOUTS)  # one polygon per audited district
    # the failed study is named, not drawn
    assert "未绘出" in page
    assert "broken district" in page
    outline = json.loads((out / "baseline" / "district.geojson").read_text(encoding="utf-8"))
    got = _bounds(outline["features"][0]["geometry"]["coordinates"])
    to_lonlat = Transformer.from_crs(CRS, 4326, always_xy=True)
    (west, east), (south, north) = to_lonlat.transform([X0, X0 + 4000], [Y0, Y0 + 4000])
    # the outline is the 4 x 4 km square of the two townships, in WGS84 (1e-4 degrees is about 10 m)
    assert got == pytest.approx((west, south, east, north), abs=1e-4)


def _bounds(coords):
    flat = [pt for ring in coords for pt in ring]
    xs, ys = [p[0] for p in flat], [p[1] for p in flat]
    return min(xs), min(ys), max(xs), max(ys)


RESUMED = ("baseline", "east_only", "corner", "west_only", "broken")


def status(result):
    return {r["folder"]: r["status"] for r in result.rows}


def test_rerun_redoes_only_changed_studies(client, studies, tmp_path):
    root = tmp_path / "districts"
    shutil.copytree(studies, root)
    out = tmp_path / "out"
    refs = [r for r in discover_studies([root]) if r.name in RESUMED]
    first = run_batch(refs, out, client=client, draw_map=False)
    mtimes = {f: (out / f / "summary.json").stat().st_mtime_ns for f in RESUMED if f != "broken"}

    again = run_batch(refs, out, client=client, draw_map=False)
    assert status(again) == {**dict.fromkeys(mtimes, "reused"), "broken": "error"}
    assert {f: (out / f / "summary.json").stat().st_mtime_ns for f in mtimes} == mtimes  # not rewritten
    # the summary is the same but for the status; reused rows keep the time their result was made
    ok = first.table["status"] == "ok"
    assert again.table["finished"][ok].equals(first.table["finished"][ok])
    same = lambda table: table.drop(columns=["seconds", "finished", "status"])  # noqa: E731
    assert same(again.table).equals(same(first.table))

    # east_only gets a clinic in the west; corner loses its result marker (an interrupted write);
    # baseline loses one output; the broken study is repaired.
    write_study(root / "east_only", [THC, CHC], name=LAYOUTS["east_only"][0])
    (out / "corner" / "result.json").unlink()
    (out / "baseline" / "townships.csv").unlink()
    write_study(root / "broken", name="broken district")
    third = run_batch(refs, out, client=client, draw_map=False)
    assert status(third) == {"east_only": "ok", "corner": "ok", "baseline": "ok", "broken": "ok", "west_only": "reused"}
    east = _by_folder(third.rows)["east_only"]["standards"][0]
    before = _by_folder(first.rows)["east_only"]["standards"][0]
    single = audit(load_inputs(load_study(root / "east_only" / "study.yaml"))).figure("primary_care_15min")
    assert east["share"] == pytest.approx(single.share)
    assert east["share"] > before["share"]
    assert (out / "baseline" / "townships.csv").is_file()
    assert not (out / "broken" / "error.txt").exists()

    # different settings (maps on, in English, for offline use) are a different result: the study is redone
    west = [r for r in refs if r.name == "west_only"]
    assert status(run_batch(west, out, client=client, map_options=MapOptions(lang="en", offline=True))) == {
        "west_only": "ok"}
    assert "Share within the 15-minute medical circle" in (out / "coverage_map.html").read_text(encoding="utf-8")
    assert (out / "west_only" / "map.html").is_file()


def test_interrupted_batch_resumes_without_losing_finished_work(client, studies, tmp_path):
    out = tmp_path / "out"
    refs = [r for r in discover_studies([studies]) if r.name in RESUMED and r.name != "broken"]

    class StopBatchError(Exception):
        pass

    def stop_after_two(row, done, total):
        if done == 2:
            raise StopBatchError

    with pytest.raises(StopBatchError):
        run_batch(refs, out, client=client, draw_map=False, on_result=stop_after_two)
    _wait_until_idle(client)  # audits already running when the batch stopped still finish on their workers
    finished = {r.name for r in refs if read_marker(out / r.name)}
    assert len(finished) >= 2

    resumed = run_batch(refs, out, client=client, draw_map=False)
    assert {r["folder"]: r["status"] for r in resumed.rows} == {
        r.name: "reused" if r.name in finished else "ok" for r in refs}
    assert len(pd.read_csv(out / "summary.csv")) == len(refs)


def _wait_until_idle(client, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while any(client.run(lambda dask_worker: dask_worker.state.executing_count).values()):
        assert time.monotonic() < deadline, "workers still busy"
        time.sleep(0.1)


def test_an_unexpected_exception_is_a_row_with_its_type_and_invalidates_the_old_result(studies, tmp_path, monkeypatch):
    out = tmp_path / "baseline"
    study = studies / "baseline" / "study.yaml"
    assert audit_study(study, out, draw_map=False)["status"] == "ok"

    def boom(*args, **kwargs):
        missing = "population"
        raise KeyError(missing)

    monkeypatch.setattr("healthreach.batch.task.audit_to_folder", boom)
    row = audit_study(study, out, draw_map=False, force=True)
    assert row["status"] == "error"
    assert row["message"] == "KeyError: 'population'"
    assert "Traceback" in (out / "error.txt").read_text(encoding="utf-8")
    assert read_marker(out) is None  # the next run redoes this study rather than trusting old outputs


def test_a_task_lost_on_the_cluster_becomes_an_error_row(client, tmp_path):
    fut = client.submit(operator.truediv, 1, 0, pure=False)
    distributed.wait(fut)
    row = collect_row(fut, StudyRef(tmp_path / "x" / "study.yaml", "x"), tmp_path)
    assert row["status"] == "error"
    assert row["message"].startswith("ZeroDivisionError")


def test_cli_strict_exit_code_on_an_existing_scheduler(client, studies, tmp_path):
    address = client.scheduler.address
    table = tmp_path / "tables" / "districts.csv"  # the batch folder may not lie inside an input's folder
    table.parent.mkdir()
    pd.DataFrame({"study": [str(studies / f) for f in ("dense", "baseline")], "name": ["稠密", "base"]}).to_csv(
        table, index=False)
    runner = CliRunner()
    failing = runner.invoke(cli, ["batch", str(table), "--scheduler", address, "--out", str(tmp_path / "a"),
                                  "--no-map", "--strict"])
    assert failing.exit_code == 3, failing.output
    assert (tmp_path / "a" / "稠密" / "result.json").is_file()
    assert (tmp_path / "a" / "summary.xlsx").is_file()
    lenient = runner.invoke(cli, ["batch", str(table), "--scheduler", address, "--out", str(tmp_path / "a"),
                                  "--no-map", "--lang", "en"])
    assert lenient.exit_code == 0, lenient.output
    assert "Districts by largest gap against a target" in lenient.output
    # the language reaches each study's workbook even without maps (the study is redone for it)
    towns = openpyxl.load_workbook(tmp_path / "a" / "稠密" / "audit.xlsx")["townships"]
    assert [c.value for c in towns[1]][:4] == ["township id", "name", "urban/rural", "people"]
    passing = runner.invoke(cli, ["batch", str(studies / "dense"), "--scheduler", address,
                                  "--out", str(tmp_path / "b"), "--no-map", "--strict"])
    assert passing.exit_code == 0, passing.output
    broken = runner.invoke(cli, ["batch", str(studies / "broken"), "--scheduler", address,
                                 "--out", str(tmp_path / "c"), "--no-map", "--strict"])
    assert broken.exit_code == 3, broken.output
    assert "1/1" in broken.output  # the progress line: done/total, failures
    assert "失败 1 个" in broken.output  # the closing line, in Chinese as the default --lang zh
    assert "失败: broken: " in broken.output  # the ranking's words in Chinese, the default --lang zh
    assert "'lon'" in broken.output


def test_unreachable_scheduler_is_a_clear_error():
    with (pytest.raises(BatchError, match=r"cannot connect to the Dask scheduler at tcp://127\.0\.0\.1:9"),
          dask_client(scheduler="tcp://127.0.0.1:9", timeout_s=0.5)):
        pass


def test_studies_are_found_in_folders_and_tables(tmp_path):
    a = write_study(tmp_path / "city" / "north")
    b = write_study(tmp_path / "city" / "south")
    c = tmp_path / "city" / "east.study.yaml"
    shutil.copy(a, c)
    (tmp_path / "city" / "scenario.yaml").write_text("changes: []\n", encoding="utf-8")  # not a study
    other = write_study(tmp_path / "province" / "north")  # same folder name as city/north
    refs = discover_studies([tmp_path / "city", other, a])
    assert [(r.path, r.name) for r in refs] == [(c.resolve(), "east"), (a.resolve(), "north"),
                                                 (b.resolve(), "south"), (other.resolve(), "north-2")]

    table = tmp_path / "list.csv"
    table.write_text("study,name\ncity/north,北区\ncity/south/study.yaml,\nmissing/study.yaml,gone\n", encoding="utf-8")
    refs = discover_studies([table])
    assert [(r.path, r.name) for r in refs] == [(a.resolve(), "北区"), (b.resolve(), "south"),
                                                 ((tmp_path / "missing" / "study.yaml").resolve(), "gone")]
    xlsx = tmp_path / "list.xlsx"
    pd.DataFrame({"Study": [str(b)]}).to_excel(xlsx, index=False)
    assert [r.path for r in discover_studies([xlsx])] == [b.resolve()]

    row = audit_study(tmp_path / "missing" / "study.yaml", tmp_path / "out" / "gone")
    assert row["status"] == "error"
    assert "找不到研究文件" in row["message"]  # the batch's language: zh unless MapOptions says en

    bad = tmp_path / "bad.csv"
    bad.write_text("file\ncity/north\n", encoding="utf-8")
    with pytest.raises(StudyError, match="needs a 'study' column"):
        discover_studies([bad])
    with pytest.raises(StudyError, match="no study files found"):
        discover_studies([tmp_path / "out"])


def test_cache_dir_and_a_profile_standard_run_through_audit_scenario_and_batch_with_maps(client, tmp_path):
    """``--cache-dir`` on every command, and a standard added in the profile only, end to end with the maps on."""
    from healthreach.profile import PROFILES

    profile = yaml.safe_load((PROFILES / "default.yaml").read_text(encoding="utf-8"))
    profile["standards"]["community_8min"] = {"kind": "drive_time", "group": "primary_care", "threshold_min": 8,
                                              "mode": "walk", "target_share": 0.5, "what": "A primary-care facility"}
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "more.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True, sort_keys=False),
                                                     encoding="utf-8")
    study = write_study(tmp_path / "study", profile=str(tmp_path / "profiles" / "more.yaml"))
    cache = tmp_path / "my-cache"
    runner = CliRunner()

    audit_out = tmp_path / "out" / "audit"
    ran = runner.invoke(cli, ["audit", str(study), "--out", str(audit_out), "--cache-dir", str(cache), "--offline"])
    assert ran.exit_code == 0, ran.output
    assert any((cache / "networks").glob("*.npz"))  # the network was kept under the given root
    towns = pd.read_csv(audit_out / "townships.csv")
    assert {"community_8min_share", "community_unreachable"} <= set(towns.columns)
    summary = json.loads((audit_out / "summary.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in summary["standards"]][-1] == "community_8min"
    assert "leaflet" in (audit_out / "map.html").read_text(encoding="utf-8").lower()

    plan = tmp_path / "plans" / "close.yaml"
    plan.parent.mkdir()
    plan.write_text(yaml.safe_dump({"name": "close", "study": str(study), "changes": [{"close": "CHC01"}]}),
                    encoding="utf-8")
    scenario_out = tmp_path / "out" / "scenario"
    ran = runner.invoke(cli, ["scenario", str(plan), "--out", str(scenario_out), "--cache-dir", str(cache),
                              "--offline"])
    assert ran.exit_code == 0, ran.output
    rows = pd.read_csv(scenario_out / "standards.csv").set_index("standard")
    assert rows.loc["community_8min", "scenario"] <= rows.loc["community_8min", "baseline"]
    assert (scenario_out / "map.html").is_file()

    batch_out = tmp_path / "out" / "batch"
    ran = runner.invoke(cli, ["batch", str(study), "--scheduler", client.scheduler.address, "--out", str(batch_out),
                              "--cache-dir", str(cache), "--offline"])
    assert ran.exit_code == 0, ran.output
    row = json.loads((batch_out / "study" / "result.json").read_text(encoding="utf-8"))["row"]
    assert "community_8min" in [s["id"] for s in row["standards"]]
    assert (batch_out / "study" / "map.html").is_file()


def test_combined_map_labels_districts_lists_failed_titles_and_sets_overlaps_side_by_side(first_run):
    import folium
    import shapely

    from healthreach.batch.overview import coverage_map
    from healthreach.maps import assets
    from healthreach.maps.base import render_html

    result, _, _ = first_run
    m = coverage_map(result.rows)
    layer = next(c for c in m._children.values() if isinstance(c, folium.GeoJson))
    features = layer.data["features"]
    shapes = [shapely.geometry.shape(assets.decode_geometry(f["geometry"])) for f in features]
    drawn = [r for r in result.rows if r["status"] != "error"]
    assert len(shapes) == len(drawn)
    # every test district covers the same 4 x 4 km square: they are laid out in a row, none over another
    for i, a in enumerate(shapes):
        for b in shapes[i + 1:]:
            assert a.intersection(b).area < 1e-9
    assert sorted(round(s.area, 10) for s in shapes) == pytest.approx([round(shapes[0].area, 10)] * len(shapes),
                                                                      rel=1e-6)  # moved, not reshaped
    page = render_html(m)
    assert "区县范围重叠，已并排显示（位置为示意）" in page
    # failed standards by title, one per line
    failing = next(r for r in drawn if any(s["passed"] is False for s in r["standards"]))
    titles = [s["title"] for s in failing["standards"] if s["passed"] is False]
    feature = next(f for f in features if f["properties"]["district"].startswith(failing["study"].split(" ")[0]))
    assert feature["properties"]["failed"].split("<br>") == titles
    # a label per district: its name and share
    labels = [c for c in layer._children.values() if isinstance(c, folium.Marker)]
    assert len(labels) == len(drawn)
    assert any(lab.icon.options["html"].startswith("城东区<br>") for lab in labels)
