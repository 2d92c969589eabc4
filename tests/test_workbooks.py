"""audit.xlsx and scenario.xlsx: a header row in words, the ids below it (as the CSVs), the same figures."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import X0, Y0

from healthreach.cli import cli


def sheet_frame(sheet) -> tuple[list, pd.DataFrame]:
    """(the header in words, the table under the id row) of one worksheet."""
    rows = list(sheet.values)
    return list(rows[0]), pd.DataFrame(rows[2:], columns=rows[1])


@pytest.fixture
def audited(small_study, tmp_path):
    def run(*options):
        out = tmp_path / f"out{'-'.join(options)}"
        result = CliRunner().invoke(cli, ["audit", str(small_study), "--out", str(out), "--no-map", *options])
        assert result.exit_code == 0, result.output
        return out
    return run


def test_audit_workbook_holds_the_csv_tables_under_chinese_headers(audited):
    out = audited()
    book = openpyxl.load_workbook(out / "audit.xlsx")
    assert book.sheetnames == ["standards", "townships", "facilities", "unreachable"]
    for name in ("townships", "facilities"):
        words, table = sheet_frame(book[name])
        csv = pd.read_csv(out / f"{name}.csv", encoding="utf-8-sig", dtype={"township_id": str})
        assert list(table.columns) == list(csv.columns)  # the id row is the CSV's header
        for column in csv.columns:  # the same figures, numbers as numbers
            if pd.api.types.is_numeric_dtype(csv[column]):
                pd.testing.assert_series_equal(pd.to_numeric(table[column]).astype(float), csv[column].astype(float),
                                               check_names=False)
            else:
                assert list(table[column].fillna("").astype(str)) == list(csv[column].fillna("").astype(str)), column
        assert book[name].freeze_panes == "C3"
        assert book[name].auto_filter.ref.startswith("A2:")
    words, towns = sheet_frame(book["townships"])
    header = dict(zip(towns.columns, words, strict=True))
    assert header["people"] == "人口（人）"
    assert header["primary_care_15min_share"] == "15分钟医疗服务圈：达标比例"
    assert header["primary_care_walk_15min_share"] == "医疗服务圈：步行15分钟内比例"
    share = list(towns.columns).index("primary_care_15min_share") + 1
    assert book["townships"].cell(row=3, column=share).number_format == "0.0%"
    words, standards = sheet_frame(book["standards"])
    summary = pd.read_json(out / "summary.json", typ="series")["standards"]
    assert list(standards["id"]) == [s["id"] for s in summary]
    assert standards.set_index("id").loc["primary_care_15min", "title"] == "15分钟医疗服务圈"
    assert standards.set_index("id").loc["primary_care_15min", "share"] == pytest.approx(summary[0]["share"])
    row = list(standards["id"]).index("emergency_response_18min") + 3
    mean = list(standards.columns).index("mean_response_min") + 1
    assert book["standards"].cell(row=row, column=mean).number_format == "0.0"


def test_audit_workbook_in_english(audited):
    out = audited("--lang", "en")
    words, towns = sheet_frame(openpyxl.load_workbook(out / "audit.xlsx")["townships"])
    assert dict(zip(towns.columns, words, strict=True))["people"] == "people"
    _, standards = sheet_frame(openpyxl.load_workbook(out / "audit.xlsx")["standards"])
    assert standards.set_index("id").loc["primary_care_15min", "title"].startswith("15-minute medical circle")


def test_unreachable_sheet_lists_townships_where_someone_reaches_nothing(audited, small_study):
    out = audited()
    _, sheet = sheet_frame(openpyxl.load_workbook(out / "audit.xlsx")["unreachable"])
    towns = pd.read_csv(out / "townships.csv", encoding="utf-8-sig", dtype={"township_id": str})
    columns = [c for c in towns.columns if c.endswith("_unreachable")]
    expected = towns[towns[columns].fillna(0).gt(0).any(axis=1)]
    assert list(sheet["township_id"]) == list(expected["township_id"])
    assert list(sheet.columns) == ["township_id", "name", "area_class", "people", *columns]


def test_scenario_workbook_has_before_after_and_change(small_study, tmp_path):
    plan = small_study.parent / "plan.yaml"
    plan.write_text(yaml.safe_dump({"name": "新建社区卫生服务中心", "study": str(small_study), "changes": [
        {"add": "N1", "name": "新中心", "type": "community_hc",
         "at": {"x": X0 + 400, "y": Y0 + 3600, "crs": "EPSG:4545"}}]}, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "scenario"
    result = CliRunner().invoke(cli, ["scenario", str(plan), "--out", str(out), "--no-map"])
    assert result.exit_code == 0, result.output
    assert "15分钟医疗服务圈" in result.output  # the terminal table in Chinese, standards by their titles
    assert "新增达标人口" in result.output
    book = openpyxl.load_workbook(out / "scenario.xlsx")
    assert book.sheetnames == ["before", "after", "change", "townships", "facilities"]
    _, change = sheet_frame(book["change"])
    csv = pd.read_csv(out / "standards.csv", encoding="utf-8-sig")
    assert list(change["standard"]) == list(csv["standard"])
    pd.testing.assert_series_equal(change["newly_covered_people"].astype(float), csv["newly_covered_people"],
                                   check_names=False)
    _, before = sheet_frame(book["before"])
    _, after = sheet_frame(book["after"])
    circle = csv.set_index("standard").loc["primary_care_15min"]
    assert before.set_index("id").loc["primary_care_15min", "share"] == pytest.approx(circle["baseline"], abs=5e-5)
    assert after.set_index("id").loc["primary_care_15min", "share"] == pytest.approx(circle["scenario"], abs=5e-5)
    # a share row is a percentage, the mean response row minutes as a decimal
    sheet = book["change"]
    baseline = list(change.columns).index("baseline") + 1
    for i, (sid, unit) in enumerate(zip(change["standard"], change["unit"], strict=True)):
        fmt = sheet.cell(row=i + 3, column=baseline).number_format
        if sheet.cell(row=i + 3, column=baseline).value is not None:
            assert fmt == ("0.0%" if unit == "share of people" else "0.00"), sid
