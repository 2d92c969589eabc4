"""Output folders: inputs never written, owned folders published whole, debris cleaned, user text inert."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import write_study

from healthreach import outputs
from healthreach.cli import UserError, cli
from healthreach.errors import InputError, OutputError


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the study's inputs are loaded: checks must come before any computation."""
    def refuse(*args, **kwargs):
        msg = "inputs were loaded before the output folder was checked"
        raise AssertionError(msg)
    # the API first: importing it binds the name it loads with (patched second, it would keep the refusal)
    for where in ("healthreach.api.load_inputs", "healthreach.inputs.load_inputs"):
        monkeypatch.setattr(where, refuse)


def _audit(*args: str):
    """``healthreach audit`` with its messages in English (the words these tests look for)."""
    return CliRunner().invoke(cli, ["audit", "--lang", "en", *args])


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --- inputs are never written -----------------------------------------------------------

@pytest.mark.parametrize("where", ["same", "inside", "contains"])
def test_audit_refuses_an_output_folder_overlapping_the_inputs(small_study, tmp_path, no_work, where):
    folder = small_study.parent
    out = {"same": folder, "inside": folder / "results", "contains": tmp_path}[where]
    before = _digest(folder)
    result = _audit(str(folder), "--out", str(out))
    assert result.exit_code == 1, result.output
    relation = {"same": "is the input folder", "inside": "lies inside the input folder",
                "contains": "contains the input folder"}[where]
    assert relation in result.output
    assert "--out" in result.output
    assert "Traceback" not in result.output
    assert _digest(folder) == before  # not one input byte changed, nothing added
    assert not (folder / "results").exists()


def test_scenario_and_compare_refuse_the_scenario_folder(small_study, tmp_path, no_work):
    folder = tmp_path / "plans"
    folder.mkdir()
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump({"name": "plan", "study": str(small_study), "changes": [{"close": "CHC01"}]}),
                    encoding="utf-8")
    before = _digest(folder)
    result = CliRunner().invoke(cli, ["scenario", "--lang", "en", str(path), "--out", str(folder)])
    assert result.exit_code == 1, result.output
    assert "is the input folder" in result.output, result.output
    result = CliRunner().invoke(cli, ["compare", "--lang", "en", str(path), "--out", str(path)])
    assert result.exit_code == 1, result.output
    assert "is an input file" in result.output, result.output
    result = CliRunner().invoke(cli, ["compare", "--lang", "en", str(path), "--out", str(small_study.parent / "c.csv")])
    assert result.exit_code == 1, result.output
    assert "lies inside the input folder" in result.output, result.output
    assert _digest(folder) == before


def test_batch_refuses_a_study_folder_and_a_table_folder(small_study, tmp_path):
    table = tmp_path / "lists" / "districts.csv"
    table.parent.mkdir()
    table.write_text(f"study\n{small_study}\n", encoding="utf-8")
    before = _digest(small_study.parent)
    for out in (small_study.parent, table.parent):
        result = CliRunner().invoke(cli, ["batch", "--lang", "en", str(table), "--out", str(out), "--no-map"])
        assert result.exit_code == 1, result.output
        assert "is the input folder" in result.output
        assert "Traceback" not in result.output
    assert _digest(small_study.parent) == before
    assert [p.name for p in table.parent.iterdir()] == ["districts.csv"]


def test_the_suggested_folder_is_itself_allowed(small_study, tmp_path, monkeypatch):
    monkeypatch.chdir(small_study.parent)  # the default out/<name> would lie inside the study's folder
    with pytest.raises(OutputError, match="lies inside") as err:
        outputs.check_output("out/small", outputs.study_input_paths(_study(small_study)), name="small")
    suggested = str(err.value).rsplit("--out ", 1)[1].split()[0]
    assert outputs.check_output(suggested, outputs.study_input_paths(_study(small_study)))


def _study(path: Path):
    from healthreach.study import load_study
    return load_study(path)


# --- the output folder is checked first -------------------------------------------------

def test_an_output_path_that_is_a_file_or_under_one_is_refused_before_any_work(small_study, tmp_path, no_work):
    blocker = tmp_path / "taken"
    blocker.write_text("mine", encoding="utf-8")
    for out, message in ((blocker, "is a file"), (blocker / "sub" / "out", "which is a file")):
        result = _audit(str(small_study), "--out", str(out))
        assert result.exit_code == 1, result.output
        assert message in result.output, result.output
        assert "Traceback" not in result.output
        assert "NotADirectoryError" not in result.output
    assert blocker.read_text(encoding="utf-8") == "mine"


def test_an_unwritable_output_folder_is_refused_before_any_work(small_study, tmp_path, no_work, monkeypatch):
    def denied(parent, name):
        raise PermissionError(13, "Permission denied", str(parent))
    monkeypatch.setattr(outputs, "make_temp_folder", denied)
    result = _audit(str(small_study), "--out", str(tmp_path / "ro" / "out"))
    assert result.exit_code == 1, result.output
    assert "is not writable (Permission denied)" in result.output
    assert "Traceback" not in result.output


def test_an_os_error_while_writing_is_one_clear_message(small_study, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "out" / "townships.csv"))
    monkeypatch.setattr("healthreach.report.write_audit_files", full)
    result = _audit(str(small_study), "--out", str(tmp_path / "out"), "--no-map")
    assert result.exit_code == 1, result.output
    assert "townships.csv: No space left on device; free some disk space" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["small"]  # the half-built set was removed


# --- folders healthreach owns -------------------------------------------------------------

def test_a_foreign_folder_needs_force_and_keeps_its_own_files(small_study, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    result = _audit(str(small_study), "--out", str(out), "--no-map")
    assert result.exit_code == 1
    assert "not written by healthreach" in result.output
    assert "--force" in result.output
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    result = _audit(str(small_study), "--out", str(out), "--no-map", "--force")
    assert result.exit_code == 0, result.output
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"
    manifest = outputs.read_manifest(out)
    assert manifest["tool"] == "healthreach"
    assert manifest["kind"] == "audit"
    assert "notes.txt" not in manifest["files"]
    assert "summary.json" in manifest["files"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert manifest["input_hash"] == summary["input_hash"]


def test_a_rerun_replaces_only_its_own_files(small_study, tmp_path):
    out = tmp_path / "out"
    assert _audit(str(small_study), "--out", str(out)).exit_code == 0
    assert (out / "map.html").is_file()
    (out / "my-notes.txt").write_text("mine", encoding="utf-8")
    result = _audit(str(small_study), "--out", str(out), "--no-map")  # owned: no --force needed
    assert result.exit_code == 0, result.output
    assert not (out / "map.html").exists()  # of the earlier run: never mixed with this one
    assert (out / "my-notes.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "small"]


def test_a_failure_while_writing_leaves_the_previous_set_whole(small_study, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert _audit(str(small_study), "--out", str(out), "--no-map").exit_code == 0
    before = _digest(out)
    written = []

    def dies_halfway(table, path):
        written.append(path.name)
        if len(written) == 2:
            raise KeyboardInterrupt  # as a kill would: mid-way through the set
        table.to_csv(path)
    monkeypatch.setattr("healthreach.report.write_csv", dies_halfway)
    from conftest import audit

    from healthreach.inputs import load_inputs
    from healthreach.report import write_outputs

    result = audit(load_inputs(_study(small_study)))
    with pytest.raises(KeyboardInterrupt):
        write_outputs(result, out)
    assert written == ["townships.csv", "facilities.csv"]
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "small"]


def test_a_kill_between_the_two_renames_is_recovered(tmp_path):
    out = tmp_path / "out"
    with outputs.publish(out, "audit") as stage:
        (stage / "a.csv").write_text("old", encoding="utf-8")
    # a run killed after moving the old set aside, before moving the new one in
    aside = tmp_path / f".out.hr-old-{outputs._HOST}-{_dead_pid()}-0badc0de"
    out.rename(aside)
    half = tmp_path / f".out.hr-tmp-{outputs._HOST}-{_dead_pid()}-0ddba11"
    half.mkdir()
    (half / "a.csv").write_text("new, unfinished", encoding="utf-8")
    cleaned = outputs.clean_stale(tmp_path)
    assert sorted(cleaned) == sorted([aside, half])
    assert (out / "a.csv").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_stale_temporaries_are_cleaned_and_live_ones_kept(small_study, tmp_path):
    dead = tmp_path / f".out.hr-tmp-{outputs._HOST}-{_dead_pid()}-12345678"
    live = tmp_path / f".other.hr-tmp-{outputs._HOST}-{os.getppid()}-12345678"
    elsewhere = tmp_path / ".out.hr-tmp-abcdef-1-12345678"  # another machine: judged by age only
    aged = tmp_path / ".old.hr-tmp-abcdef-1-87654321"
    for folder in (dead, live, elsewhere, aged):
        folder.mkdir()
        (folder / "summary.json").write_text("{}", encoding="utf-8")
    two_days = time.time() - 2 * 86400
    os.utime(aged, (two_days, two_days))
    result = _audit(str(small_study), "--out", str(tmp_path / "out"), "--no-map")
    assert result.exit_code == 0, result.output
    assert not dead.exists()
    assert not aged.exists()
    assert live.exists()
    assert elsewhere.exists()


# --- user text is inert ------------------------------------------------------------------

def test_markup_in_names_and_errors_prints_as_text(tmp_path):
    study = write_study(tmp_path / "s", name="x [/] y [bold]")
    result = _audit(str(study), "--out", str(tmp_path / "out"), "--no-map")
    assert result.exit_code == 0, result.output
    assert "x [/] y [bold]" in result.output
    missing = tmp_path / "a [/] b" / "study.yaml"
    result = _audit(str(missing))
    assert result.exit_code == 1
    assert "a [/] b" in result.output
    assert "Traceback" not in result.output
    UserError("closing tag [/] with nothing open [/red]").show()  # the printer itself never crashes


def test_inert_text_follows_the_owasp_rule():
    assert outputs.inert_text('=HYPERLINK("http://x","y")') == "'=HYPERLINK(\"http://x\",\"y\")"
    for start in ("=", "+", "-", "@", "\t"):
        assert outputs.inert_text(start + "1") == "'" + start + "1"
    assert outputs.inert_text("\r1") == "' 1"  # quoted, and the line break made a space
    assert outputs.inert_text("a\x00b\x07c\x1fd\te\nf\r\ng\rh") == "abcd\te f g h"
    assert outputs.inert_text("白云镇") == "白云镇"
    frame = outputs.inert_frame(pd.DataFrame({"name": ["=1+1", "ok", None], "people": [-5.0, 2.0, 3.0]}))
    assert frame["name"].tolist()[:2] == ["'=1+1", "ok"]
    assert frame["people"].tolist() == [-5.0, 2.0, 3.0]


def test_hostile_township_and_facility_names_are_text_in_the_csv(tmp_path):
    import geopandas as gpd

    study = write_study(tmp_path / "s", facilities=None)
    towns = gpd.read_file(study.parent / "townships.gpkg")
    towns["name"] = ['=HYPERLINK("http://evil","x")', "bell\x07town"]
    towns.to_file(study.parent / "townships.gpkg")
    result = _audit(str(study), "--out", str(tmp_path / "out"), "--no-map")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "townships.csv", encoding="utf-8-sig")
    assert set(table["name"]) == {"'=HYPERLINK(\"http://evil\",\"x\")", "belltown"}
    assert pd.api.types.is_numeric_dtype(table["people"])


def test_hostile_names_in_the_batch_workbook_are_string_cells(tmp_path):
    from healthreach.batch.summary import write_summary

    rows = [{"study": '=HYPERLINK("http://evil","x")', "folder": "a", "status": "ok", "population": 10.0,
             "standards": [{"id": "primary_care_15min", "title": "@SUM(1)", "unit": "share of people",
                            "population": 10.0, "covered": 5.0, "share": 0.5, "target": 0.9, "passed": False}],
             "worst_townships": [{"name": "-2+3", "share": 0.1}]},
            {"study": "broken\x01study", "folder": "b", "status": "error", "message": "bad\x0bvalue [/]"}]
    out = tmp_path / "batch"
    out.mkdir()
    paths = write_summary(rows, out)
    assert set(paths) == {"summary.csv", "summary.xlsx"}
    sheet = openpyxl.load_workbook(paths["summary.xlsx"])["summary"]
    header = [c.value for c in sheet[2]]  # the ids; row 1 holds the header in words
    words = sheet.cell(row=1, column=header.index("primary_care_15min_share") + 1)
    assert words.value == "@SUM(1)：达标比例"
    assert words.data_type == "s"
    assert words.quotePrefix
    cells = {row[header.index("folder")].value: row for row in sheet.iter_rows(min_row=3)}
    district = cells["a"][header.index("district")]
    assert district.value == '=HYPERLINK("http://evil","x")'
    assert district.data_type == "s"
    assert district.quotePrefix
    assert cells["b"][header.index("district")].value == "brokenstudy"
    assert cells["b"][header.index("message")].value == "badvalue [/]"
    assert cells["a"][header.index("population")].data_type == "n"
    titles = openpyxl.load_workbook(paths["summary.xlsx"])["standards"]
    assert titles["B3"].value == "@SUM(1)"
    assert titles["B3"].data_type == "s"
    csv = pd.read_csv(paths["summary.csv"], encoding="utf-8-sig")
    assert csv.loc[csv["folder"] == "a", "district"].item() == "'=HYPERLINK(\"http://evil\",\"x\")"


# --- scheduler and downloads are bounded ---------------------------------------------------

@pytest.fixture
def silent_port():
    """A local port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):  # a timeout: look at the stop flag again
                held.append(server.accept()[0])
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_a_scheduler_that_never_answers_times_out(silent_port, small_study, tmp_path):
    pytest.importorskip("distributed")
    from healthreach.batch.cluster import probe_scheduler
    from healthreach.errors import BatchError

    start = time.monotonic()
    with pytest.raises(BatchError, match=r"did not answer within 0\.5 s"):
        probe_scheduler(f"tcp://127.0.0.1:{silent_port}", 0.5)
    assert time.monotonic() - start < 3
    start = time.monotonic()
    result = CliRunner().invoke(cli, ["batch", "--lang", "en", str(small_study), "--out", str(tmp_path / "b"),
                                      "--no-map", "--scheduler", f"127.0.0.1:{silent_port}",
                                      "--scheduler-timeout", "0.5"])
    assert result.exit_code == 1, result.output
    assert "did not answer within 0.5 s" in result.output, result.output
    assert time.monotonic() - start < 10
    assert "Traceback" not in result.output


def _download_study(folder: Path) -> Path:
    path = write_study(folder)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["roads"] = {"source": "Nowhere County, Atlantis"}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_offline_never_downloads(tmp_path, monkeypatch):
    import osmnx as ox

    def forbidden(*args, **kwargs):
        msg = "a download was attempted"
        raise AssertionError(msg)
    monkeypatch.setattr(ox, "graph_from_place", forbidden)
    monkeypatch.setattr("healthreach.load.osm.check_reachable", forbidden)
    study = _download_study(tmp_path / "s")
    result = _audit(str(study), "--out", str(tmp_path / "out"), "--offline", "--no-map", "--lang", "en")
    assert result.exit_code == 1, result.output
    assert "roads.source" in result.output
    assert "--offline forbids downloads" in result.output


def test_a_download_without_network_fails_within_seconds(tmp_path, monkeypatch):
    import osmnx as ox

    from healthreach.load import osm

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens here: as with no network, the connection is refused
    monkeypatch.setattr(ox.settings, "overpass_url", f"http://127.0.0.1:{port}/api")
    monkeypatch.setattr(ox.settings, "nominatim_url", f"http://127.0.0.1:{port}/")
    monkeypatch.setattr(ox, "graph_from_place", lambda *a, **k: pytest.fail("osmnx was called"))
    start = time.monotonic()
    with pytest.raises(InputError, match=r"roads.source: cannot reach OpenStreetMap"):
        osm.download_roads("Nowhere County", "all", None, tmp_path / "cache")
    assert time.monotonic() - start < osm.REACH_TIMEOUT_S + 1


def test_a_server_that_never_answers_is_given_up_in_seconds(silent_port, monkeypatch):
    import requests

    from healthreach.load.osm import check_reachable

    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"did not answer within 0.5 s"):
        check_reachable([f"http://127.0.0.1:{silent_port}/"], 0.5)  # accepts, never answers
    monkeypatch.setattr(requests, "head", lambda *a, **k: time.sleep(30))  # e.g. a name lookup that hangs
    with pytest.raises(TimeoutError):
        check_reachable(["https://overpass.example/api"], 0.5)
    assert time.monotonic() - start < 3


# --- batch: a missing path is one more failed study ------------------------------------------

def test_a_missing_batch_path_becomes_an_error_row(small_study, tmp_path):
    from healthreach.batch import audit_study, discover_studies

    missing = tmp_path / "typo" / "study.yaml"
    refs = discover_studies([missing, small_study])
    assert [r.path for r in refs] == [missing.resolve(), small_study.resolve()]
    row = audit_study(refs[0].path, tmp_path / "out" / refs[0].name, draw_map=False)
    assert row["status"] == "error"
    assert "找不到研究文件" in row["message"]  # the batch's language: zh unless MapOptions says en
    assert str(missing) in row["message"]


def test_no_suggested_folder_lies_in_the_installed_package(tmp_path, monkeypatch):
    from healthreach.profile import PROFILES

    study = tmp_path / "a" / "study.yaml"
    study.parent.mkdir()
    study.write_text("name: a\n", encoding="utf-8")
    table = tmp_path / "table.csv"            # an input one level up: tmp_path/out would lie in its folder too
    table.write_text("study\n", encoding="utf-8")
    monkeypatch.chdir(study.parent)           # out/a here lies inside the study's folder
    with pytest.raises(OutputError) as err:
        outputs.check_output("out/a", [study, PROFILES / "default.yaml", table], name="a")
    suggested = Path(str(err.value).rsplit("--out ", 1)[1].split()[0]).resolve()
    assert not suggested.is_relative_to(PROFILES.parent), suggested


@pytest.mark.parametrize("name", ["a\tb", "a\nb", "医" * 83])
def test_an_output_name_with_control_characters_or_too_long_is_refused_first(tmp_path, name):
    with pytest.raises(OutputError, match=r"control characters|bytes long"):
        outputs.check_output(tmp_path / name, [])
    assert list(tmp_path.iterdir()) == []
