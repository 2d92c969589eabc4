"""Messages about inputs, end to end: the command line prints errors and notes in ``--lang`` (default zh), and the
written outputs carry the notes in the run's language; both languages name the same file, row, key or id.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import yaml
from click.testing import CliRunner
from conftest import X0, Y0, set_study_keys, write_study

from healthreach.cli import cli


def _run(study, *args: str):
    """The output of ``healthreach audit STUDY`` in Chinese (the default) and with ``--lang en``."""
    chinese = CliRunner().invoke(cli, ["audit", str(study), "--no-map", *args])
    english = CliRunner().invoke(cli, ["audit", str(study), "--no-map", "--lang", "en", *args])
    return chinese, english


def _error(study):
    chinese, english = _run(study)
    assert chinese.exit_code == english.exit_code == 1, (chinese.output, english.output)
    assert "Traceback" not in chinese.output + english.output
    assert chinese.output.startswith("错误：")
    assert english.output.startswith("error: ")
    return chinese.output, english.output


def test_a_misspelt_study_key_is_named_in_both_languages(tmp_path):
    study = set_study_keys(write_study(tmp_path / "s"), grid_mm=100)
    chinese, english = _error(study)
    assert f"{study} 中的键 'grid_mm' 无法识别（是否应为 'grid_m'？）" in chinese
    assert f"{study}: unknown key 'grid_mm' (did you mean 'grid_m'?)" in english


def test_a_value_out_of_range_is_named_in_both_languages(tmp_path):
    study = set_study_keys(write_study(tmp_path / "s"), grid_m=5)
    chinese, english = _error(study)
    assert f"{study}：grid_m：取值应大于或等于 10（实际为 5）" in chinese
    assert f"{study}: grid_m: Input should be greater than or equal to 10 (got 5)" in english


def test_a_bad_facility_row_is_named_in_both_languages(tmp_path):
    study = write_study(tmp_path / "s")
    table = pd.read_csv(study.parent / "facilities.csv", dtype=str)
    table.loc[1, "beds"] = "forty"
    table.to_csv(study.parent / "facilities.csv", index=False)
    chinese, english = _error(study)
    where = str(study.parent / "facilities.csv")
    assert f"{where}：第 3 行（编号 THC01）：列 'beds' 不是数字：'forty'（共 1 行如此）" in chinese
    assert f"{where}: row 3 (id THC01): column 'beds' is not a number: 'forty' (1 rows like this)" in english


def test_unknown_one_way_values_are_named_in_both_languages(tmp_path):
    study = write_study(tmp_path / "s")
    roads = gpd.read_file(study.parent / "roads.gpkg")
    roads["oneway"] = roads["oneway"].map({0: "both", 1: "sideways"})
    roads.to_file(study.parent / "roads.gpkg", layer="roads")
    chinese, english = _error(study)
    where = str(study.parent / "roads.gpkg")
    assert f"{where}：列 'oneway'：无法识别的单行取值：'sideways'（10 行）" in chinese
    assert "本工具不做猜测" in chinese
    assert f"{where}: column 'oneway': one-way values not understood: 'sideways' (10 rows)" in english


def test_a_crs_that_does_not_fit_the_coordinates_is_named_in_both_languages(tmp_path):
    study = write_study(tmp_path / "s")
    towns = gpd.read_file(study.parent / "townships.gpkg")
    towns.set_crs(4326, allow_override=True).to_file(study.parent / "townships.gpkg")  # metres labelled degrees
    chinese, english = _error(study)
    where = str(study.parent / "townships.gpkg")
    assert f"{where}：边界图层的坐标系与其坐标不符：" in chinese
    assert f"{where}: the boundary layer's coordinate system does not fit its coordinates: " in english


def test_an_unknown_road_class_in_the_study_is_a_note_in_both_languages(tmp_path):
    study = set_study_keys(write_study(tmp_path / "s"), speeds_kmh={"vilage": 20})
    chinese, english = _run(study, "--out", str(tmp_path / "out"), "--force")
    assert chinese.exit_code == english.exit_code == 0, (chinese.output, english.output)
    assert "speeds_kmh：路网中没有等级为 'vilage' 的道路，该设置不起作用；是否应为 'village'？" in chinese.output
    assert ("speeds_kmh: no road of the network has the class 'vilage', so the setting changes nothing; "
            "did you mean 'village'?") in english.output


FAR = [
    {"id": "CHC01", "name": "城东社区卫生服务中心", "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
     "beds": 20, "ambulances": 0, "emergency": "false"},
    {"id": "THC09", "name": "远山卫生院", "type": "central_township_hc", "x": X0 + 4800, "y": Y0 + 2000,
     "beds": 40, "ambulances": 1, "emergency": "true"},  # 800 m east of the last road and of the study area
]
FAR_ZH = "机构 THC09（远山卫生院，facilities.csv 第 3 行）距最近道路 800 米；请核对其坐标"
FAR_EN = "facility THC09 (远山卫生院, facilities.csv row 3) lies 800 m from the nearest road; check its coordinates"


def test_a_facility_far_from_the_roads_is_noted_in_the_terminal_and_the_outputs_in_the_run_language(tmp_path):
    study = write_study(tmp_path / "s", facilities=FAR)
    zh_out, en_out = tmp_path / "zh", tmp_path / "en"
    chinese = CliRunner().invoke(cli, ["audit", str(study), "--no-map", "--out", str(zh_out)])
    english = CliRunner().invoke(cli, ["audit", str(study), "--no-map", "--out", str(en_out), "--lang", "en"])
    assert chinese.exit_code == english.exit_code == 0, (chinese.output, english.output)
    said_zh, said_en = FAR_ZH, FAR_EN
    outside_zh = "机构 THC09（远山卫生院，facilities.csv 第 3 行）位于研究区外 0.8 公里；仍计入（居民会跨界就医）"
    terminal_zh = " ".join(chinese.output.split())  # the terminal wraps long notes
    assert said_zh in terminal_zh
    assert outside_zh in terminal_zh
    assert "from the nearest road" not in chinese.output
    assert said_en in " ".join(english.output.split())
    written_zh = json.loads((zh_out / "summary.json").read_text(encoding="utf-8"))["warnings"]
    written_en = json.loads((en_out / "summary.json").read_text(encoding="utf-8"))["warnings"]
    assert said_zh in written_zh
    assert outside_zh in written_zh
    assert said_en in written_en
    assert len(written_zh) == len(written_en)


def test_a_scenario_writes_the_notes_in_the_run_language(tmp_path):
    study = write_study(tmp_path / "s", facilities=FAR)
    plan = tmp_path / "plans" / "plan.yaml"
    plan.parent.mkdir()
    plan.write_text(yaml.safe_dump({"name": "close", "study": str(study), "changes": [{"close": "CHC01"}]},
                                   allow_unicode=True), encoding="utf-8")
    for lang, said in (("zh", FAR_ZH), ("en", FAR_EN)):
        out = tmp_path / lang
        result = CliRunner().invoke(cli, ["scenario", str(plan), "--out", str(out), "--no-map", "--lang", lang])
        assert result.exit_code == 0, result.output
        assert said in json.loads((out / "comparison.json").read_text(encoding="utf-8"))["warnings"]


def test_a_batch_row_holds_the_notes_in_the_run_language(tmp_path):
    from healthreach.batch.task import MapOptions, audit_study

    study = write_study(tmp_path / "s", facilities=FAR)
    for lang, said in (("zh", FAR_ZH), ("en", FAR_EN)):
        row = audit_study(study, tmp_path / lang, draw_map=False, map_options=MapOptions(lang=lang))
        assert row["status"] == "ok", row
        assert said in row["warnings"]
        written = json.loads((tmp_path / lang / "result.json").read_text(encoding="utf-8"))
        assert said in written["row"]["warnings"]
