"""Words for tables: standard titles and column headers in Chinese (default) and English.

A standard is shown by its title (``15分钟医疗服务圈`` / the figure's English
title); a column of an output table keeps its id (machine-readable, the
same in every language) and has a header (:func:`column_header`) that
spreadsheets show above it. A column the tables here do not know is headed
by its id: nothing is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from healthreach.i18n import LANGS, POPULATION_GROUPS, check_lang, group_name, type_name
from healthreach.standards import Standard
from healthreach.standards.naming import label
from healthreach.vocab import facility_type

# fixed columns of the audit, scenario, compare and batch tables: id -> (zh, en)
COLUMNS: dict[str, tuple[str, str]] = {
    "township_id": ("乡镇代码", "township id"), "name": ("名称", "name"), "area_class": ("城乡类别", "urban/rural"),
    "people": ("人口（人）", "people"), "census_people": ("普查人口（人）", "census people"),
    "area_km2": ("面积（平方公里）", "area (km²)"), "id": ("编号", "id"), "type": ("类型", "type"),
    "township": ("所在乡镇", "township"), "beds": ("床位（张）", "beds"), "ambulances": ("救护车（辆）", "ambulances"),
    "emergency": ("急救点", "emergency site"), "snap_walk_m": ("接入步行路网距离（米）", "to walking network (m)"),
    "snap_drive_m": ("接入车行路网距离（米）", "to driving network (m)"),
    "catchment_people": ("服务人口（人）", "catchment (people)"),
    "beds_per_1000": ("每千服务人口床位", "beds per 1,000 catchment people"),
    "emergency_catchment_people": ("急救服务人口（人）", "emergency catchment (people)"),
    "ambulances_required": ("所需救护车（辆）", "ambulances required"),
    "standard": ("标准", "standard"), "title": ("标准名称", "title"), "unit": ("单位", "unit"),
    "baseline": ("现状", "baseline"), "scenario": ("方案", "scenario"), "change": ("变化", "change"),
    "baseline_people": ("现状达标人口（人）", "people meeting it, baseline"),
    "scenario_people": ("方案达标人口（人）", "people meeting it, scenario"),
    "change_people": ("达标人口变化（人）", "change in people meeting it"),
    "newly_covered_people": ("新增达标人口（人）", "people gained"),
    "lose_coverage_people": ("失去达标人口（人）", "people lost"),
    "target": ("目标", "target"), "baseline_pass": ("现状是否达标", "baseline passes"),
    "scenario_pass": ("方案是否达标", "scenario passes"), "status": ("状态", "status"),
    "type_before": ("现状类型", "type before"), "type_after": ("方案类型", "type after"),
    "merged_into": ("并入机构", "merged into"), "merged_in_people": ("并入服务人口（人）", "people merged in"),
    "rank": ("排名", "rank"), "file": ("文件", "file"), "population": ("人口（人）", "people"),
    "covered_population": ("达标人口（人）", "people meeting it"),
    "unreachable_population": ("不可达人口（人）", "people reaching no facility"),
    "share": ("达标比例", "share"), "pass": ("是否达标", "passes"),
    "mean_response_min": ("平均急救反应时间（分钟）", "mean response (min)"),
    "target_mean_min": ("平均反应时间目标（分钟）", "target mean (min)"),
    "district": ("区县", "district"), "folder": ("文件夹", "folder"), "message": ("错误信息", "message"),
    "townships": ("乡镇数", "townships"), "facilities": ("机构数", "facilities"),
    "largest_gap": ("最大差距", "largest gap"),
    "largest_gap_standard": ("差距最大的标准", "standard of the largest gap"),
    "failed_standards": ("未达标的标准", "failed standards"),
    "primary_uncovered_people": ("医疗服务圈外人口（人）", "people outside the medical circle"),
    "worst_townships": ("覆盖率最低的乡镇", "worst townships"), "warnings": ("提示数", "warnings"),
    "finished": ("完成时间", "finished"), "seconds": ("用时（秒）", "seconds"),
    "input_hash": ("输入数据校验码", "inputs hash"), "inputs": ("输入数据", "inputs"),
    "study_file": ("研究文件", "study file"),
}
_FIGURE_SUFFIXES: dict[str, tuple[str, str]] = {  # <figure id>_<suffix> columns of the batch summary
    "share": ("达标比例", "share"), "pass": ("是否达标", "passes"), "mean_min": ("平均反应时间（分钟）", "mean (min)"),
    "change": ("变化", "change"),
}
_SUFFIXES: tuple[tuple[str, str, str], ...] = (  # scenario columns: <column>_<suffix>
    ("_baseline", "（现状）", " (baseline)"), ("_scenario", "（方案）", " (scenario)"),
    ("_before", "（现状）", " (before)"), ("_after", "（方案）", " (after)"), ("_change", "（变化）", " (change)"),
)
_MODE = {"walk": ("步行", "walking"), "drive": ("驾车", "driving")}
_GROUPS = {"primary_care": "基层医疗机构", "emergency": "急救机构", "tertiary": "三级医院"}


def _radius_title(standard: Standard, figure_id: str) -> str:
    spec = standard.spec
    area = "城区" if spec.area == "urban" else "农村"
    km = (figure_id.rsplit("_", 1)[-1].removesuffix("km") if figure_id != standard.id
          else f"{spec.radii_m[0] / 1000:g}")
    return f"{area}急救服务半径{km}公里"


def _ambulance_title(spec: Any) -> str:
    per = getattr(spec, "people_per_ambulance", None)
    return f"救护车：每{per:,.0f}人一辆" if per is not None else f"救护车：每万人{spec.per_10k:g}辆"


_RESOURCES = {"beds": "床位", "doctors": "执业（助理）医师", "nurses": "注册护士", "capacity": "服务容量"}


# standard kind -> its figures' Chinese title
_CHINESE_TITLES: dict[str, Callable[[Standard, str], str]] = {
    "circle": lambda s, _: f"{s.spec.threshold_min:g}分钟医疗服务圈",
    "radius": _radius_title,
    "response": lambda s, _: f"{s.spec.threshold_min:g}分钟急救反应",
    "ambulances": lambda s, _: _ambulance_title(s.spec),
    "drive_time": lambda s, _: f"{s.spec.threshold_min:g}分钟到达{type_name(facility_type(s.spec.what), 'zh')}",
    "villages": lambda s, _: f"{s.spec.min_population:,.0f}人以上行政村{s.spec.threshold_min:g}分钟内有医疗机构",
    "per_1000": lambda s, _: f"每千人口{_RESOURCES.get(s.spec.resource, s.spec.resource)}数",
    "e2sfca": lambda s, _: f"可达{_RESOURCES.get(s.spec.resource, s.spec.resource)}（每千人，E2SFCA）",
    "capacity": lambda s, _: f"容量约束下{s.spec.threshold_min:g}分钟内可服务人口",
}


def standard_title(standard: Standard, figure_id: str, english: str, lang: str = "zh") -> str:
    """The title of one figure of ``standard``: in English its figure title ``english``, else Chinese.

    A standard kind the tables here do not know keeps its English title.
    """
    chinese = _CHINESE_TITLES.get(standard.kind)
    return english if check_lang(lang) == "en" or chinese is None else chinese(standard, figure_id)


def standard_titles(standards: Iterable[Standard], english: dict[str, str], lang: str = "zh") -> dict[str, str]:
    """Figure id -> title in ``lang`` for every figure of ``standards`` (``english``: figure id -> English title),
    and for each population group's figure (``<figure id>_<group>``) present in ``english``.
    """
    units = list(standards)
    titles = {fid: standard_title(s, fid, english[fid], lang) for s in units for fid in s.figure_ids()
              if fid in english}
    if check_lang(lang) == "zh":
        for fid in list(titles):
            for group in POPULATION_GROUPS:
                if f"{fid}_{group}" in english:
                    titles[f"{fid}_{group}"] = f"{titles[fid]}：{group_name(group, lang)}"
    return titles


def standards_named(given: str, standards: Iterable[Standard], english: dict[str, str]) -> list[str]:
    """The figure ids that ``given`` names: its id, or its Chinese or English title (spaces and case ignored)."""
    if given in english:
        return [given]
    units = list(standards)
    key = re.sub(r"\s+", "", given).lower()
    titles = [standard_titles(units, english, lang) for lang in LANGS]
    return [fid for fid in english if any(re.sub(r"\s+", "", t.get(fid, "")).lower() == key for t in titles)]


def column_header(column: str, standards: Iterable[Standard] = (), lang: str = "zh",
                  figures: dict[str, str] | None = None) -> str:
    """The header shown above output column ``column`` in ``lang`` (its id when no table here knows it).

    ``figures`` (figure id -> title in ``lang``) heads the columns named after a figure.
    """
    check_lang(lang)
    standards, figures = tuple(standards), figures or {}
    words = _fixed_header(column, lang, figures)
    for suffix, zh, en in _SUFFIXES if words is None else ():
        base = column.removesuffix(suffix)
        if base != column and base:
            head = column_header(base, standards, lang, figures)
            words = head + (zh if lang == "zh" else en) if head != base else column
            break
    for unit in standards if words is None else ():
        name = label(unit.id)
        if column.startswith(name + "_"):
            words = _standard_column(unit, column[len(name) + 1:], lang)
            if words is not None:
                break
    return column if words is None else words


def _fixed_header(column: str, lang: str, figures: dict[str, str]) -> str | None:
    """The header of a fixed column, a figure's column or a catchment column; None for the others."""
    pick = 0 if lang == "zh" else 1
    if column in COLUMNS:
        return COLUMNS[column][pick]
    if column in figures:
        return figures[column]
    for fid, title in figures.items():
        rest = column.removeprefix(fid + "_")
        if rest != column and rest in _FIGURE_SUFFIXES:
            return f"{title}：{_FIGURE_SUFFIXES[rest][0]}" if lang == "zh" else f"{title}: {_FIGURE_SUFFIXES[rest][1]}"
    if match := re.fullmatch(r"catchment_(people|share)_(\d+(?:\.\d+)?)min", column):
        what = {"people": ("服务人口中{m}分钟内（人）", "catchment within {m} min (people)"),
                "share": ("服务人口中{m}分钟内比例", "catchment share within {m} min")}[match[1]][pick]
        return what.format(m=match[2])
    return None


def _standard_column(unit: Standard, rest: str, lang: str) -> str | None:
    zh = lang == "zh"
    short = (_short_zh(unit) if zh else label(unit.id).replace("_", " "))
    if rest == "unreachable":
        return f"{short}：不可达人口（人）" if zh else f"{short}: people reaching no facility"
    if match := re.fullmatch(r"(?:(walk|drive)_)?(\d+(?:\.\d+)?)(min|km)_share", rest):
        mode = _MODE[match[1]][0 if zh else 1] if match[1] else ""
        amount = match[2] + (("分钟" if match[3] == "min" else "公里") if zh else f" {match[3]}")
        return f"{short}：{mode}{amount}内比例" if zh else f"{short}: share within {amount}{' ' + mode if mode else ''}"
    return None


def _short_zh(unit: Standard) -> str:
    kind = unit.kind
    if kind == "circle":
        return "医疗服务圈"
    if kind == "radius":
        return "城区急救半径" if unit.spec.area == "urban" else "农村急救半径"
    if kind == "response":
        return "急救反应"
    if kind == "drive_time":
        return f"到达{type_name(facility_type(unit.spec.what), 'zh')}"
    return _GROUPS.get(getattr(unit.spec, "group", ""), label(unit.id))



def column_headers(columns: Iterable[str], standards: Iterable[Standard] = (), lang: str = "zh",
                   figures: dict[str, str] | None = None) -> dict[str, str]:
    """:func:`column_header` for every column: column id -> header."""
    standards = tuple(standards)
    return {c: column_header(c, standards, lang, figures) for c in map(str, columns)}


# terminal words: key -> (zh, en); str.format templates
TERMINAL: dict[str, tuple[str, str]] = {
    "standard": ("标准", "standard"), "people": ("人口", "people"), "covered": ("达标人口", "covered"),
    "unreachable": ("不可达人口", "unreachable"), "result": ("结果", "result"), "target": ("目标", "target"),
    "pass": ("达标", "pass"), "fail": ("未达标", "FAIL"), "not_assessed": ("未评估", "not assessed"),
    "min": ("分钟", "min"), "n/a": ("无", "n/a"),
    # the suggested-sites table
    "site_rank": ("序号", "#"), "site_id": ("编号", "id"), "candidate": ("候选站点", "candidate"),
    "lon": ("经度", "lon"), "lat": ("纬度", "lat"), "township": ("所在乡镇", "township"),
    "newly_covered": ("新增覆盖（人）", "newly covered"), "share_after": ("实施后比例", "share after"),
    "runner_ups": ("附近备选站点（少覆盖人数）", "runner-ups"), "newly_covered_of": ("其中{group}（人）", "{group}"),
    "method_greedy": ("贪心法", "greedy"), "method_exact": ("精确解", "exact"),
    "audit_title": ("{study}：{people} 人，{facilities} 个医疗机构",
                    "{study}: {people} people, {facilities} facilities"),
    "nobody_unreachable": ("不可达人口：0 人（每个标准的机构组人人可达）",
                           "unreachable: 0 people (everyone can reach a facility of every standard's group)"),
    "mean_over": ("* 平均急救反应时间按 {reachable} 名可达人口计算；{unreachable} 人无法到达任何急救机构{fails}",
                  ("* mean response time over the {reachable} reachable people; {unreachable} people reach no "
                   "emergency facility{fails}")),
    "mean_fails": ("（只要有人不可达，无论平均值如何均不达标）",
                   " (the target fails while anyone is out of reach, whatever the mean)"),
    "not_assessed_note": ("未评估：", "not assessed: "), "note": ("提示：", "note: "),
    "scenario": ("方案", "scenario"), "change": ("变化", "change"), "gained": ("新增达标人口", "gained"),
    "lost": ("失去达标人口", "lost"), "baseline": ("（现状）", "(baseline)"),
    "baseline_short": ("现状", "baseline"),
    "scenario_title": ("{name}：对照{study}的 {n} 项调整", "{name}: {n} change(s) against {study}"),
    "scenario_note": ("新增 / 失去：新达到 / 不再达到该标准的人数；达标：现状 → 方案",
                      "gained / lost: people who newly meet / no longer meet a standard; pass: baseline → scenario"),
    # after i18n's "circle_moves" and "group_moves" sentences
    "population_unchanged": ("（总人口 {people}，不变）", " (population {people}, unchanged)"),
    "group_population": ("（{people} 人）", " (population {people})"),
    "catchments_title": ("服务人口变化的机构（人，按最近的基层医疗机构）",
                         "Catchments that change (people, nearest primary-care facility)"),
    "catchments_tier_title": ("服务人口变化的机构（人，按同级最近的医疗机构）",
                              "Catchments that change (people, nearest facility of its tier)"),
    "catchment_id": ("编号", "id"), "catchment_name": ("名称", "name"), "catchment_status": ("状态", "status"),
    "catchment_before": ("现状", "before"), "catchment_after": ("方案", "after"),
    "catchment_change": ("变化", "change"),
    "ranking_title": ("各区县按与目标的最大差距排序", "Districts by largest gap against a target"),
    "district": ("区县", "district"), "circle_share": ("15分钟圈覆盖率", "15-min share"),
    "largest_gap": ("最大差距", "largest gap"), "fails": ("未达标项", "fails"),
    "worst_township": ("覆盖率最低的乡镇", "worst township"), "study_failed": ("研究失败", "study failed"),
    "ranking_more": ("…… 另有 {n} 个见 summary.csv", "… and {n} more in summary.csv"), "failed": ("失败", "failed"),
    "compare_title": ("{study}：{n} 个方案，按“{by}”排序", "{n} scenario(s) of {study}, ranked by {by}"),
    "compare_note": ("新增 / 失去：新达到 / 不再达到“{by}”的人数",
                     "gained / lost: people who newly meet / no longer meet {by}"),
}


def say(key: str, lang: str = "zh", **values: object) -> str:
    """One terminal word or sentence in ``lang``, with ``values`` formatted in."""
    text = TERMINAL[key][0 if check_lang(lang) == "zh" else 1]
    return text.format(**values) if values else text
