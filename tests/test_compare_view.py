"""``compare`` on the terminal: any width, names wrapped, rank and figures whole, gained/lost of the --by standard."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import X0, Y0, write_study
from rich.cells import cell_len

from healthreach.cli import cli
from healthreach.evaluation import Study
from healthreach.inputs import load_inputs
from healthreach.scenario.schema import load_scenario
from healthreach.study import load_study

LONG = "在白云镇东北角新建一所社区卫生服务中心并将城东社区卫生服务中心迁往西北角的近期建设方案"
SITE = {"crs": "EPSG:4545"}


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    study = write_study(root / "county")
    specs = {
        "long.yaml": {"name": LONG, "changes": [
            {"add": "N1", "name": "新中心", "type": "community_hc", "at": {"x": X0 + 3600, "y": Y0 + 3600, **SITE}},
            {"relocate": "CHC01", "to": {"x": X0 + 400, "y": Y0 + 3600, **SITE}}]},
        "station.yaml": {"name": "east station", "changes": [
            {"add": "E1", "name": "急救站", "type": "emergency_station",
             "at": {"x": X0 + 400, "y": Y0 + 400, **SITE}}]},
        "close.yaml": {"name": "close the community centre", "changes": [{"close": "CHC01"}]},
    }
    paths = []
    for file, spec in specs.items():
        path = root / "plans" / file
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump({"study": str(study), **spec}, allow_unicode=True), encoding="utf-8")
        paths.append(path)
    return study, paths, root


def run_compare(plans, *options, columns=80):
    _, paths, root = plans
    out = root / f"compare-{columns}-{'-'.join(options) or 'default'}.csv"
    result = CliRunner().invoke(cli, ["compare", *map(str, paths), "--out", str(out), *options],
                                env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output, pd.read_csv(out, encoding="utf-8-sig")


def rows_of(output: str) -> list[list[str]]:
    """The table's rows as cells, each cell's wrapped lines joined."""
    rows: list[list[str]] = []
    for line in output.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells[0] and cells[0] != "#":
            rows.append(cells)
        elif rows and not cells[0]:
            rows[-1] = [a + b for a, b in zip(rows[-1], cells, strict=True)]
    return [[cells[0], cells[1].replace(" ", ""), *cells[2:]] for cells in rows]


def share(value: float) -> str:
    return f"{value:.1%}"


@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize("by", [None, "emergency_radius_urban"])
def test_every_row_keeps_its_rank_name_and_figures(plans, columns, by):
    output, table = run_compare(plans, *(["--by", by] if by else []), columns=columns)
    by = by or "primary_care_15min"
    assert "…" not in output
    assert all(cell_len(line) <= columns for line in output.splitlines())
    framed = [line.rstrip() for line in output.splitlines() if line[:1] in "┏┃┡│└"]
    assert all(line[-1] in "┓┃┩│┘" for line in framed)  # the table's right edge is drawn: nothing cropped
    rows = rows_of(output)
    assert len(rows) == len(table) == 4
    names = {"(baseline)": "（现状）"}
    for cells, (_, row) in zip(rows, table.iterrows(), strict=True):
        assert cells[0] == str(row["rank"])
        name = names.get(row["scenario"], row["scenario"])
        assert cells[1] == name.replace(" ", "")  # by its name:, wrapped (at its spaces), whole
        assert cells[2] == share(row[by])
        assert cells[3] == f"{100 * row[f'{by}_change']:+.1f} pp"
        assert cells[4:6] == [f"{row['newly_covered_people']:,.0f}", f"{row['lose_coverage_people']:,.0f}"]
    others = len(rows[0]) - 6
    assert others >= (4 if columns == 200 else 0)
    assert list(table["rank"]) == [1, 2, 3, 4]
    assert table[by].is_monotonic_decreasing


def test_gained_and_lost_are_those_of_the_ranking_standard(plans):
    study, paths, _ = plans
    _, table = run_compare(plans, "--by", "emergency_radius_urban")
    base = Study(load_inputs(load_study(study))).baseline()
    for path in paths:
        spec = load_scenario(path)
        moved = base.diff(base.apply(spec)).standards.set_index("standard").loc["emergency_radius_urban"]
        row = table.set_index("scenario").loc[spec.name]
        assert row["newly_covered_people"] == pytest.approx(moved["newly_covered_people"], abs=0.05)
        assert row["lose_coverage_people"] == pytest.approx(moved["lose_coverage_people"], abs=0.05)
    station = table.set_index("scenario").loc["east station"]
    assert station["newly_covered_people"] > 0  # the new station serves the south-west corner


def test_by_accepts_chinese_and_english_titles_and_english_tables(plans):
    output, table = run_compare(plans, "--by", "城区急救服务半径5公里")
    assert "城区急救服务半径5公里" in output
    assert table["emergency_radius_urban"].is_monotonic_decreasing
    output, _ = run_compare(plans, "--by", "Urban emergency service radius 5 km (road network)", "--lang", "en",
                            columns=120)
    assert "scenario" in output
    assert "gained / lost: people who newly meet / no longer meet Urban emergency service radius 5 km" in output


def test_an_unknown_standard_lists_the_standards(plans):
    _, paths, root = plans
    result = CliRunner().invoke(cli, ["compare", *map(str, paths), "--by", "急救", "--out", str(root / "x.csv")])
    assert result.exit_code == 1
    assert "--by：没有标准 '急救'" in result.output  # in Chinese, the default --lang zh
    assert "emergency_radius_urban (城区急救服务半径5公里)" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_the_same_scenario_file_twice_is_refused(plans):
    _, paths, root = plans
    twice = root / "plans" / ".." / "plans" / paths[0].name
    result = CliRunner().invoke(cli, ["compare", "--lang", "en", str(paths[0]), str(paths[1]), str(twice),
                                      "--out", str(root / "y.csv")])
    assert result.exit_code == 1
    assert "is given twice" in " ".join(result.output.split())
    assert not (root / "y.csv").exists()
