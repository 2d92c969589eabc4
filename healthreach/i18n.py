"""Map text in Chinese (default) and English: titles, layer names, legend, popups, facility types.

Every string a map shows comes from :func:`t` (or :func:`type_name` /
:func:`area_name`), so a new language is one more column here. Strings are
``str.format`` templates; the values put into them are escaped by the map
code, not here.
"""

from __future__ import annotations

from collections.abc import Mapping

from healthreach.errors import InputError
from healthreach.messages import Message, Words

LANGS = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    # title block
    "title": {"zh": "{study}：医疗卫生服务可及性评估", "en": "{study}: health service access audit"},
    "scenario_title": {"zh": "{study}：规划方案评估", "en": "{study}: planned scenario"},
    "scenario": {"zh": "方案：{name}", "en": "Scenario: {name}"},
    "baseline": {"zh": "现状", "en": "Today"},
    "circle_change": {"zh": "{threshold}分钟医疗服务圈：{before} → {after}（现状 → 方案实施后，目标 {target}）",
                      "en": "{threshold}-minute medical circle: {before} → {after} (before → after; target {target})"},
    "circle_result": {"zh": "{threshold}分钟医疗服务圈：{share} 的 {people} 人可达（目标 {target}）",
                      "en": "{threshold}-minute medical circle: {share} of {people} people reached (target {target})"},
    "group_circle_result": {"zh": "其中{group}：{share} 的 {people} 人可达",
                            "en": "{group}: {share} of {people} people reached"},
    "group_circle_change": {"zh": "其中{group}：{before} → {after}", "en": "{group}: {before} → {after}"},
    "standard": {"zh": "标准：{profile}（城区{urban_mode}、农村{rural_mode}{threshold}分钟内到达基层医疗机构）",
                 "en": "Standard: {profile} (primary care within {threshold} min, {urban_mode} in urban, "
                       "{rural_mode} in rural areas)"},
    "drawn": {"zh": "制图日期 {date}", "en": "Drawn {date}"},
    "sources": {"zh": "数据：{sources}", "en": "Data: {sources}"},
    "input_hash": {"zh": "输入数据校验码 {hash}", "en": "inputs hash {hash}"},
    "synthetic": {"zh": "合成示范数据，并非真实地区", "en": "Synthetic demo data, not a real place"},
    "src_roads": {"zh": "道路", "en": "roads"},
    "src_facilities": {"zh": "医疗机构", "en": "facilities"},
    "src_population": {"zh": "人口", "en": "population"},
    "src_boundaries": {"zh": "乡镇界", "en": "townships"},
    "src_villages": {"zh": "行政村", "en": "villages"},
    "src_download": {"zh": "OpenStreetMap 下载（{place}）", "en": "OpenStreetMap download ({place})"},
    "src_download_boundary": {
        "zh": "OpenStreetMap 下载（研究区范围）",
        "en": "OpenStreetMap download (study boundary)",
    },
    "src_admin_code": {"zh": "行政区划代码 {codes}", "en": "admin code {codes}"},
    "src_census": {"zh": "乡镇普查人口", "en": "census totals"},
    "src_note": {"zh": "（{note}）", "en": " ({note})"},
    "src_note_spread_uniform": {"zh": "均匀分布", "en": "spread evenly"},
    "src_note_spread_road_density": {"zh": "按道路密度分布", "en": "spread by road density"},
    "src_note_rescaled": {"zh": "按普查人口缩放", "en": "rescaled to census totals"},
    "src_note_osm_tags": {"zh": "OpenStreetMap 医疗标签", "en": "OpenStreetMap health tags"},
    "src_note_table": {"zh": "类别与人口见 {table}", "en": "classes and totals from {table}"},
    "mode_walk": {"zh": "步行", "en": "walking"},
    "mode_drive": {"zh": "驾车", "en": "driving"},
    "mode_ambulance": {"zh": "救护车", "en": "ambulance"},
    # layers
    "layer_roads_major": {"zh": "主要道路", "en": "Main roads"},
    "layer_roads_minor": {"zh": "乡村道路与街巷", "en": "Minor roads"},
    "layer_boundaries": {"zh": "乡镇（街道）界", "en": "Township boundaries"},
    "layer_townships": {"zh": "乡镇：{threshold}分钟圈覆盖率", "en": "Townships: share within {threshold} min"},
    "layer_time_bands": {"zh": "到基层医疗机构的时间", "en": "Travel time to primary care"},
    "layer_emergency": {"zh": "急救服务半径（道路距离）", "en": "Emergency service areas (road distance)"},
    "layer_uncovered": {"zh": "{threshold}分钟圈外人口", "en": "People beyond {threshold} min"},
    "layer_group_uncovered": {"zh": "{threshold}分钟圈外{group}", "en": "{group} beyond {threshold} min"},
    "layer_access": {"zh": "可达{what}（每千人，E2SFCA）", "en": "{what} within reach per 1,000 people (E2SFCA)"},
    "resource_beds": {"zh": "床位", "en": "Beds"},
    "resource_doctors": {"zh": "执业（助理）医师", "en": "Doctors"},
    "resource_nurses": {"zh": "注册护士", "en": "Nurses"},
    "layer_facilities": {"zh": "机构：{type}", "en": "Facilities: {type}"},
    "layer_gained": {"zh": "新增覆盖", "en": "Newly covered"},
    # one scenario's people crossing the 15-minute line: on the map's and poster's title, the what-if page's
    # panel and the terminal
    "circle_moves": {"zh": "{minutes}分钟医疗服务圈：新增覆盖 {gained} 人，失去覆盖 {lost} 人",
                     "en": "{minutes}-minute circle: {gained} people newly covered, {lost} lose coverage"},
    "group_moves": {"zh": "其中{group}：新增覆盖 {gained} 人，失去覆盖 {lost} 人",
                    "en": "of them {group}: {gained} newly covered, {lost} lose coverage"},
    "layer_lost": {"zh": "失去覆盖", "en": "Coverage lost"},
    "layer_moved": {"zh": "迁建机构", "en": "Moved facilities"},
    # layer control groups
    "group_base": {"zh": "底图：道路与乡镇界", "en": "Base: roads and boundaries"},
    "group_standards": {"zh": "标准与覆盖", "en": "Standards and coverage"},
    "group_facilities": {"zh": "医疗机构（按类型）", "en": "Facilities (by type)"},
    "group_changes": {"zh": "规划变化", "en": "Planned changes"},
    # legend
    "legend_time": {"zh": "到基层医疗机构时间", "en": "Time to primary care"},
    "legend_minutes": {"zh": "≤ {minutes} 分钟", "en": "≤ {minutes} min"},
    "legend_beyond": {"zh": "无色：超过 {minutes} 分钟或无道路可达",
                      "en": "No colour: over {minutes} min or no road access"},
    "legend_emergency": {"zh": "急救服务半径（道路）", "en": "Emergency radius (by road)"},
    "legend_uncovered": {"zh": "{threshold}分钟圈外人口（每格人数）", "en": "People beyond {threshold} min (per cell)"},
    "legend_group_uncovered": {"zh": "{threshold}分钟圈外{group}：共 {people} 人（每格人数）",
                               "en": "{group} beyond {threshold} min: {people} in all (per cell)"},
    "legend_access": {"zh": "可达{what}（每千人，计竞争，E2SFCA）",
                      "en": "{what} within reach per 1,000 people, with competition (E2SFCA)"},
    "legend_townships": {"zh": "乡镇覆盖率", "en": "Township share covered"},
    "target_row": {"zh": "达到目标 {target}", "en": "meets the {target} target"},
    "below_target": {"zh": "红色数字：低于目标 {target}", "en": "red figures: below the {target} target"},
    "legend_facilities": {"zh": "医疗机构", "en": "Facilities"},
    "legend_roads": {"zh": "道路", "en": "Roads"},
    "legend_cell": {"zh": "{cell} 米网格", "en": "{cell} m grid cells"},
    "urban_km": {"zh": "城区 ≤ {km} 公里", "en": "Urban ≤ {km} km"},
    "rural_km": {"zh": "农村 ≤ {km} 公里", "en": "Rural ≤ {km} km"},
    "rural_km_range": {"zh": "农村 {low}–{km} 公里", "en": "Rural {low}–{km} km"},
    # popups and tooltips
    "name": {"zh": "名称", "en": "Name"},
    "type": {"zh": "类型", "en": "Type"},
    "id": {"zh": "编号", "en": "ID"},
    "beds": {"zh": "床位", "en": "Beds"},
    "ambulances": {"zh": "救护车", "en": "Ambulances"},
    "catchment": {"zh": "服务人口", "en": "Catchment population"},
    "share_15": {"zh": "{threshold}分钟内占比", "en": "Share within {threshold} min"},
    "group_catchment": {"zh": "服务人口中{group}", "en": "Catchment: {group}"},
    "tier_catchment": {"zh": "本级服务人口", "en": "Tier catchment"},
    "people_per_bed": {"zh": "每床服务人口", "en": "People per bed"},
    "group_share_15": {"zh": "{group}{threshold}分钟内占比", "en": "{group}: share within {threshold} min"},
    "group_people": {"zh": "{group}", "en": "{group}"},
    "group_share_covered": {"zh": "{group}{threshold}分钟圈覆盖率", "en": "{group}: share within {threshold} min"},
    "township": {"zh": "乡镇（街道）", "en": "Township"},
    "area_class": {"zh": "类别", "en": "Class"},
    "people": {"zh": "人口", "en": "People"},
    "share_covered": {"zh": "{threshold}分钟圈覆盖率", "en": "Share within {threshold} min"},
    "people_count": {"zh": "{people} 人", "en": "{people} people"},
    "not_applicable": {"zh": "—", "en": "—"},
    "urban": {"zh": "城区", "en": "urban"},
    "rural": {"zh": "农村", "en": "rural"},
    # controls
    "fullscreen": {"zh": "全屏", "en": "Full screen"},
    "print": {"zh": "打印", "en": "Print"},
    "before": {"zh": "现状", "en": "Before"},
    "after": {"zh": "方案实施后", "en": "After"},
}

FACILITY_TYPES: dict[str, dict[str, str]] = {
    "tertiary_hospital": {"zh": "三级医院", "en": "Tertiary hospital"},
    "general_hospital": {"zh": "综合医院", "en": "General hospital"},
    "tcm_hospital": {"zh": "中医医院", "en": "TCM hospital"},
    "maternal_child_hospital": {"zh": "妇幼保健院", "en": "Maternal & child hospital"},
    "emergency_station": {"zh": "急救站", "en": "Emergency station"},
    "regional_subcentre": {"zh": "区域医疗次中心", "en": "Regional medical sub-centre"},
    "central_township_hc": {"zh": "中心卫生院", "en": "Central township health centre"},
    "township_hc": {"zh": "乡镇卫生院", "en": "Township health centre"},
    "community_hc": {"zh": "社区卫生服务中心", "en": "Community health centre"},
    "community_station": {"zh": "社区卫生服务站", "en": "Community health station"},
    "village_clinic": {"zh": "村卫生室", "en": "Village clinic"},
}

TIERS: dict[str, dict[str, str]] = {
    "village": {"zh": "村级", "en": "village"},
    "township": {"zh": "乡镇级", "en": "township"},
    "county": {"zh": "县级", "en": "county"},
    "tertiary": {"zh": "三级医院", "en": "tertiary"},
}
"""The tiers of the bundled profiles (``tiers:`` keys of a tiers standard), by key: their display names."""

POPULATION_GROUPS: dict[str, dict[str, str]] = {
    "65plus": {"zh": "65岁及以上老年人", "en": "people aged 65 and over"},
    "under5": {"zh": "5岁以下儿童", "en": "children under 5"},
    "women15_49": {"zh": "15–49岁育龄妇女", "en": "women aged 15–49"},
}
"""The population groups a study may declare (``population_groups:`` keys), by key: their display names."""


def check_lang(lang: str) -> str:
    """``lang`` if it is a supported language, else an :class:`InputError` listing them."""
    if lang not in LANGS:
        msg = Message("unknown map language {lang!r}: choose one of {langs}", lang=lang, langs=", ".join(LANGS))
        raise InputError(msg)
    return lang


def words(table: Mapping[str, Mapping[str, str]], key: str, lang: str = "zh", /, **values: object) -> str:
    """Entry ``key`` of a vocabulary ``table`` (key -> {"zh": ..., "en": ...}) in ``lang``, ``values`` formatted in.

    The one lookup of every module's own words (maps, poster, page, batch overview). ``table``, ``key``
    and ``lang`` are positional only, so a value may carry any name (a source note's ``table``).
    """
    text = table[key][check_lang(lang)]
    return text.format(**values) if values else text


def t(key: str, lang: str = "zh", **values) -> str:
    """The string ``key`` in ``lang``, with ``values`` formatted in."""
    return words(STRINGS, key, lang, **values)


def type_name(facility_type: str, lang: str = "zh") -> str:
    """A facility type's display name; an unknown type is shown as it is written in the data."""
    names = FACILITY_TYPES.get(str(facility_type))
    return names[check_lang(lang)] if names else str(facility_type)


def type_words(facility_type: str) -> Words:
    """A facility type's display name in every language, as a message value."""
    return Words({lang: type_name(facility_type, lang) for lang in LANGS})


def tier_name(tier: str, lang: str = "zh") -> str:
    """A tier's display name ('乡镇级' / 'township'); a tier the profile names otherwise is shown as it is written."""
    names = TIERS.get(str(tier))
    return names[check_lang(lang)] if names else str(tier)


def tier_words(tier: str) -> Words:
    """A tier's display name in every language, as a message value."""
    return Words({lang: tier_name(tier, lang) for lang in LANGS})


def group_name(group: str, lang: str = "zh") -> str:
    """A population group's display name ('65岁及以上老年人' / 'people aged 65 and over')."""
    return POPULATION_GROUPS[group][check_lang(lang)]


def area_name(area_class: str, lang: str = "zh") -> str:
    """'城区'/'农村' (or 'urban'/'rural') for a township class."""
    return t(area_class, lang) if area_class in ("urban", "rural") else str(area_class)
