"""The run side speaks ``--lang``: errors, progress lines and batch rows in Chinese by default, English with
``--lang en``, each naming the same file, key and id.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import CRS, X0, Y0, write_study

from healthreach.api import open_study
from healthreach.batch import MapOptions, audit_study
from healthreach.cli import cli
from healthreach.cli.audit import progress_step
from healthreach.errors import ScenarioError
from healthreach.messages import Message, message_lines
from healthreach.scenario.schema import parse_changes


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    return write_study(tmp_path_factory.mktemp("messages") / "county")


def both(args: list[str]) -> tuple[str, str]:
    """The output of ``args`` with the default language (zh) and with ``--lang en``; both exit 1."""
    chinese = CliRunner().invoke(cli, args)
    english = CliRunner().invoke(cli, [args[0], "--lang", "en", *args[1:]])
    assert chinese.exit_code == english.exit_code == 1, (chinese.output, english.output)
    for result in (chinese, english):
        assert "Traceback" not in result.output
    return chinese.output, english.output


def plan(tmp_path: Path, study: Path, changes: list[dict], name: str = "plan") -> Path:
    path = tmp_path / "scenarios" / f"{name}.yaml"  # outputs go beside, never into, the inputs' folder
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"name": name, "study": str(study), "changes": changes}, allow_unicode=True),
                    encoding="utf-8")
    return path


def test_an_unknown_facility_id_in_a_scenario_is_named_in_either_language(study, tmp_path):
    path = plan(tmp_path, study, [{"close": "THC9"}])
    zh, en = both(["scenario", str(path), "--out", str(tmp_path / "o")])
    assert "error: " in en
    assert f"{path}: change 1 (close THC9): no facility with id 'THC9' in facilities.csv; did you mean THC01" in en
    assert "错误：" in zh
    assert (f"{path}：第 1 项变更（close THC9）：facilities.csv 中没有编号为 'THC9' 的机构；"
            f"是否指 THC01 (白云镇中心卫生院)？") in zh
    assert "no facility" not in zh
    assert not (tmp_path / "o").exists()


def test_a_change_of_two_kinds_and_a_site_outside_the_district_are_refused_in_either_language(study, tmp_path):
    two_kinds = plan(tmp_path, study, [{"close": "CHC01", "expand": "THC01", "beds": 3}], "two")
    zh, en = both(["scenario", str(two_kinds), "--out", str(tmp_path / "o")])
    assert "change 1: a change starts with exactly one of add, relocate, close, upgrade, expand" in en
    assert "第 1 项变更：每项变更须以 add, relocate, close, upgrade, expand 之一开头" in zh
    far = plan(tmp_path, study, [{"add": "N1", "name": "新院", "type": "community_hc",
                                  "at": {"x": X0 + 2000, "y": Y0 + 60_000, "crs": CRS}}], "far")
    zh, en = both(["scenario", str(far), "--out", str(tmp_path / "o")])
    assert "change 1 (add N1): x 482000.0, y 3310000.0 (EPSG:4545) lies 56.0 km outside the study area" in en
    assert "第 1 项变更（add N1）：x 482000.0, y 3310000.0（EPSG:4545）在研究区外 56.0 公里" in zh
    assert "allow_outside: true" in zh


def test_compare_names_the_file_given_twice_and_the_unknown_standard_in_either_language(study, tmp_path):
    a = plan(tmp_path, study, [{"close": "CHC01"}], "a")
    zh, en = both(["compare", str(a), str(a), "--out", str(tmp_path / "c.csv")])
    assert f"the scenario file {a} is given twice (also as {a}); give each scenario once" in en
    assert f"方案文件 {a} 给了两次（另一次为 {a}）；每个方案只需给一次" in zh
    b = plan(tmp_path, study, [{"close": "THC01"}], "b")
    zh, en = both(["compare", str(a), str(b), "--by", "primary_care_15", "--out", str(tmp_path / "c.csv")])
    assert "--by: no standard 'primary_care_15'; did you mean 'primary_care_15min'?" in en
    assert "--by：没有标准 'primary_care_15'；是否指 'primary_care_15min'？" in zh
    assert "primary_care_15min (15分钟医疗服务圈)" in zh  # the standards listed by their titles in --lang
    assert "15分钟" not in en


def test_an_output_folder_holding_the_inputs_is_refused_in_either_language(study):
    folder = study.parent
    zh, en = both(["audit", str(study), "--out", str(folder)])
    assert f"the output folder {folder} is the input folder {folder}; healthreach never writes where" in en
    assert f"输出文件夹 {folder} 就是输入文件夹 {folder}；healthreach 从不在输入数据所在处写入" in zh
    assert "--out " in zh  # the option is named as it is typed


def test_an_unreachable_scheduler_is_named_in_either_language(study, tmp_path):
    zh, en = both(["batch", str(study), "--scheduler", "tcp://127.0.0.1:9", "--scheduler-timeout", "0.5",
                   "--out", str(tmp_path / "b")])
    assert "cannot connect to the Dask scheduler at tcp://127.0.0.1:9 (" in en
    assert "check the address (e.g. tcp://10.0.0.5:8786) and that the scheduler is running" in en
    assert "无法连接 tcp://127.0.0.1:9 上的 Dask 调度器（" in zh
    assert "请检查地址（如 tcp://10.0.0.5:8786），并确认调度器正在运行" in zh


def test_the_outputs_line_follows_lang(study, tmp_path):
    chinese = CliRunner().invoke(cli, ["audit", str(study), "--out", str(tmp_path / "zh"), "--no-map"])
    english = CliRunner().invoke(cli, ["audit", str(study), "--out", str(tmp_path / "en"), "--no-map",
                                       "--lang", "en"])
    assert chinese.exit_code == english.exit_code == 0, (chinese.output, english.output)
    assert f"结果已写入 {tmp_path / 'zh'}（" in chinese.output
    assert "outputs in" not in chinese.output
    assert f"outputs in {tmp_path / 'en'} (" in english.output


def test_scenario_says_how_it_was_evaluated_in_lang(study, tmp_path):
    path = plan(tmp_path, study, [{"close": "CHC01"}])
    chinese = CliRunner().invoke(cli, ["scenario", str(path), "--out", str(tmp_path / "zh"), "--no-map"])
    english = CliRunner().invoke(cli, ["scenario", str(path), "--out", str(tmp_path / "en"), "--no-map", "--full",
                                       "--lang", "en"])
    assert chinese.exit_code == english.exit_code == 0, (chinese.output, english.output)
    assert "结果已写入" in chinese.output
    assert "方案仅更新变化的网格：" in chinese.output
    assert "scenario from scratch: " in english.output


class Status:
    """Stands in for rich's status line: keeps every text it is given."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def update(self, text: str) -> None:
        self.texts.append(text)


def test_a_step_is_shown_in_lang_with_its_elapsed_seconds(study, tmp_path):
    chinese, english = Status(), Status()
    for status, lang in ((chinese, "zh"), (english, "en")):
        step = progress_step(status, lang)
        step(Message("computing the baseline"))
        step("[bold]a plain step[/]")  # plain text (a value from the data) is shown as it is, markup inert
    assert chinese.texts[0].startswith("计算现状 … (")
    assert english.texts[0].startswith("computing the baseline … (")
    assert chinese.texts[1].startswith(r"\[bold]a plain step\[/] … (")
    steps = []
    open_study(study, progress=steps.append, cache=tmp_path)  # the steps of reading a study, told to any callable
    assert len(steps) >= 4
    again = []
    open_study(study, progress=again.append, cache=tmp_path)  # read back from the cache: one step, said too
    assert [str(m) for m in again] == ["reusing the cached inputs"]
    assert again[0].render("zh") == "使用缓存的输入数据"


def test_a_failing_study_is_a_row_in_the_batchs_language(tmp_path):
    coarse = write_study(tmp_path / "inputs" / "coarse", grid_m=2000)
    out = tmp_path / "batch"
    result = CliRunner().invoke(cli, ["batch", str(coarse), "--workers", "1", "--no-map", "--out", str(out)],
                                env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    message = pd.read_csv(out / "summary.csv")["message"].iloc[0]
    assert message.startswith(f"{coarse}：grid_m：2000 米时研究区（16.0 平方公里）只有 4.0 个网格；至少需要 100 个")
    assert f"失败 coarse：{coarse}：grid_m：" in result.output  # the terminal's line as the study fails
    assert "失败: coarse: " in result.output  # and the list after the ranking
    error_txt = (out / "coarse" / "error.txt").read_text(encoding="utf-8")
    assert message in error_txt
    assert "leaves only 4.0 cells in the study area" in error_txt  # the log keeps the English too
    english = audit_study(coarse, tmp_path / "en", draw_map=False, map_options=MapOptions("en"))
    assert english["message"].startswith(f"{coarse}: grid_m: 2000 m leaves only 4.0 cells in the study area (16.0 km²)")


def test_problems_are_listed_one_per_line_in_the_language_asked():
    with pytest.raises(ScenarioError) as caught:
        parse_changes([{"close": "A", "expand": "B"}, "close B"], "plan.yaml")
    assert str(caught.value).splitlines() == [
        ("plan.yaml: change 1: a change starts with exactly one of add, relocate, close, upgrade, expand (the "
         "facility id), got close, expand"),
        "plan.yaml: change 2: expected a mapping such as {relocate: THC07, to: {lon: ..., lat: ...}}, got str"]
    assert caught.value.text("zh").splitlines()[1] == (
        "plan.yaml：第 2 项变更：应为键值映射，例如 {relocate: THC07, to: {lon: ..., lat: ...}}，实际为 str")
    lines = message_lines([Message("give both x and y"), "plain text"])
    assert lines.render("zh") == "x 和 y 须同时给出\nplain text"
    assert pickle.loads(pickle.dumps(lines)) == lines  # noqa: S301  our own bytes; as a batch row's error travels from a Dask worker


def test_compare_says_where_the_table_is_in_lang(study, tmp_path):
    a = plan(tmp_path, study, [{"close": "CHC01"}], "a")
    b = plan(tmp_path, study, [{"close": "THC01"}], "b")
    chinese = CliRunner().invoke(cli, ["compare", str(a), str(b), "--out", str(tmp_path / "zh.csv")],
                                 env={"COLUMNS": "400"})
    english = CliRunner().invoke(cli, ["compare", str(a), str(b), "--out", str(tmp_path / "en.csv"), "--lang", "en"],
                                 env={"COLUMNS": "400"})
    assert chinese.exit_code == english.exit_code == 0, (chinese.output, english.output)
    assert f"比较表（全部标准）已写入 {tmp_path / 'zh.csv'}" in chinese.output
    assert f"table (every standard) in {tmp_path / 'en.csv'}" in english.output


@pytest.fixture(scope="module")
def baseline(study):
    return open_study(study).baseline()


@pytest.mark.parametrize(("lang", "unknown", "not_json"), [
    ("zh", "facilities.csv 中没有编号为 'NOPE' 的机构", "请求内容不是有效的 JSON："),
    ("en", "no facility with id 'NOPE' in facilities.csv", "the body is not valid JSON: "),
])
def test_the_what_if_page_gets_its_answers_in_its_language(baseline, lang, unknown, not_json):
    testclient = pytest.importorskip("starlette.testclient")
    from healthreach.serve.app import Server, create_app

    client = testclient.TestClient(create_app(Server(baseline, lang=lang)), raise_server_exceptions=False,
                                   base_url="http://127.0.0.1")
    session = {"X-Session": client.post("/api/sessions").json()["session"]}
    refused = client.post("/api/changes", headers=session, json={"close": "NOPE"})
    assert refused.status_code == 422
    assert unknown in refused.json()["error"]
    malformed = client.post("/api/changes", headers=session, content=b"{not json")
    assert malformed.status_code == 400
    assert malformed.json()["error"].startswith(not_json)
    assert client.get("/api/figures", headers={"X-Session": "gone"}).status_code == 404


def test_serve_names_a_port_in_use_in_either_language():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        zh, en = both(["serve", "--port", str(port)])
    assert f"port {port} on 127.0.0.1 is in use: choose another --port" in en
    assert f"127.0.0.1 上的端口 {port} 已被占用：请换一个 --port" in zh
