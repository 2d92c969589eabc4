"""The command line through click's runner."""

from __future__ import annotations

import json

from click.testing import CliRunner

from healthreach.cli import cli


def test_audit_writes_every_output(small_study, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["audit", str(small_study), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("summary.json", "townships.csv", "facilities.csv", "isochrones.gpkg", "map.html"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    ids = {s["id"] for s in summary["standards"]}
    assert {"primary_care_15min", "emergency_radius_urban", "ambulances_per_population"} <= ids
    assert "15分钟医疗服务圈" in result.output  # the terminal table in Chinese (the default --lang zh)
    assert "达标人口" in result.output
    assert [p.name for p in out.glob(".*")] == [".healthreach.json"], "no temporary files left behind"
    assert [p.name for p in tmp_path.glob(".*")] == [], "no temporary folders left beside the outputs"


def test_bad_study_gives_one_message_and_exit_1(tmp_path):
    bad = tmp_path / "study.yaml"
    bad.write_text("name: x\nroad: {}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["audit", str(bad), "--lang", "en"])
    assert result.exit_code == 1
    assert "unknown key 'road' (did you mean 'roads'?)" in result.output
    assert "Traceback" not in result.output


def test_bad_facility_row_is_named(small_study, tmp_path):
    csv = small_study.parent / "facilities.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].rsplit(",", 2)[0] + ",not-a-number,29.4"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["audit", str(small_study), "--out", str(tmp_path / "o"), "--no-map",
                                      "--lang", "en"])
    assert result.exit_code == 1
    assert "facilities.csv: row 3 (id THC01): column 'lon' is not a number: 'not-a-number'" in result.output
    assert not (tmp_path / "o" / "summary.json").exists()
