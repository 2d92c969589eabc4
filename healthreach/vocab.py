"""The words real Chinese and international data use, mapped to the profile's ids.

Three vocabularies live here, each a plain table:

``ROAD_CLASSES``
    road-class names -> the canonical classes of the default profile's
    ``drive_kmh`` (administrative classes 国道..村道, technical grades
    高速公路..四级公路/等外公路, urban streets 快速路..支路, English names).
    OpenStreetMap ``highway`` tags and the canonical ids are their own names.
``EXPRESSWAYS``
    canonical classes nobody may walk on, whatever a profile or study says.
``FACILITY_TYPES``
    canonical facility types -> the names (Chinese and English) read as that
    type.

Names are compared after :func:`normalise` (spaces trimmed, ASCII lower-cased,
runs of spaces and hyphens as ``_``, "center" as "centre"), so ``General
Hospital``, ``general-hospital`` and ``general_hospital`` are one name. A
name that is in no table is returned unchanged: it is then the caller's job to
find it in the profile, a study's ``speeds_kmh`` or ``type_map``, or to
stop with an error. Nothing here guesses.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from healthreach.messages import Message

# --- road classes -----------------------------------------------------------------------------------

# canonical class -> the names read as it (beside the canonical id itself)
_ROAD_CLASS_NAMES: dict[str, tuple[str, ...]] = {
    # technical grades of highways (JTG B01 技术等级); 高速公路 is an expressway whatever else it is
    "expressway": ("高速公路", "高速", "高速路", "expressway", "freeway", "express_way"),
    "grade_1": ("一级公路", "一级", "grade_1_highway", "class_1_highway"),
    "grade_2": ("二级公路", "二级", "grade_2_highway", "class_2_highway"),
    "grade_3": ("三级公路", "三级", "grade_3_highway", "class_3_highway"),
    "grade_4": ("四级公路", "四级", "grade_4_highway", "class_4_highway"),
    "substandard": ("等外公路", "等外路", "等外", "substandard_road"),
    # administrative classes of highways (行政等级)
    "national": ("国道", "国道公路", "national_road", "national_highway"),
    "provincial": ("省道", "省道公路", "provincial_road", "provincial_highway"),
    "county": ("县道", "县道公路", "county_road"),
    "township": ("乡道", "乡道公路", "township_road"),
    "village": ("村道", "村级公路", "village_road"),
    "special_purpose": ("专用公路", "专用道路", "special_purpose_road"),
    # urban streets (CJJ 37 城市道路)
    "urban_expressway": ("快速路", "城市快速路", "快速干道", "urban_expressway"),
    "urban_arterial": ("主干路", "主干道", "城市主干路", "城市主干道", "arterial", "arterial_road"),
    "urban_secondary": ("次干路", "次干道", "城市次干路", "城市次干道", "secondary_arterial", "collector"),
    "urban_branch": ("支路", "城市支路", "街巷", "branch_road"),
}

# OpenStreetMap highway tags that are classes of the default profile under their own name
OSM_HIGHWAY_TAGS: tuple[str, ...] = (
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary",
    "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential", "living_street",
    "service", "road", "busway", "track", "pedestrian", "footway", "path", "cycleway", "steps")

# The class of every line of a layer with no class column and roads.default_speed_kmh
NO_CLASS = "no_class"

# Classes closed to walking in every profile and study: expressways by any name, and their ramps.
EXPRESSWAYS: tuple[str, ...] = ("expressway", "urban_expressway", "motorway", "motorway_link")


def normalise(name: object) -> str:
    """A name as compared against the tables: trimmed; ASCII lower-case, spaces/hyphens -> ``_``."""
    text = str(name).strip()
    if text.isascii():
        text = re.sub(r"[\s\-]+", "_", text.lower()).replace("center", "centre")
    else:
        text = re.sub(r"\s+", "", text)
    return text


def _table(names: dict[str, tuple[str, ...]], own: tuple[str, ...] = ()) -> dict[str, str]:
    table = {normalise(c): c for c in (*names, *own)}
    for canonical, aliases in names.items():
        for alias in aliases:
            key = normalise(alias)
            if table.get(key, canonical) != canonical:
                msg = Message(
                    "vocabulary: '{alias}' names both {table} and {canonical}",
                    alias=alias, table=table[key], canonical=canonical)
                raise RuntimeError(msg)
            table[key] = canonical
    return table


ROAD_CLASSES: dict[str, str] = _table(_ROAD_CLASS_NAMES, OSM_HIGHWAY_TAGS)


def road_class(name: object) -> str:
    """The canonical class for one road-class name, or the name itself (trimmed) when no table has it."""
    return ROAD_CLASSES.get(normalise(name), str(name).strip())


def road_classes(values) -> np.ndarray:
    """:func:`road_class` over an array of names (one look-up per distinct name)."""
    series = pd.Series(np.asarray(values, dtype=object)).astype(str)
    uniq = series.unique()
    return series.map(dict(zip(uniq, map(road_class, uniq), strict=False))).to_numpy(object)


# --- facility types ---------------------------------------------------------------------------------

# canonical type -> the names read as it (beside the canonical id itself)
_FACILITY_NAMES: dict[str, tuple[str, ...]] = {
    "tertiary_hospital": ("三级医院", "三甲医院", "三乙医院", "三丙医院", "三级甲等医院", "三级乙等医院",
                          "三级综合医院", "tertiary", "grade_3_hospital", "class_3_hospital"),
    "general_hospital": ("综合医院", "综合性医院", "hospital_general"),
    "tcm_hospital": ("中医院", "中医医院", "中西医结合医院", "民族医医院", "traditional_chinese_medicine_hospital",
                     "chinese_medicine_hospital"),
    "maternal_child_hospital": ("妇幼保健院", "妇幼保健计划生育服务中心", "妇幼保健所", "妇幼保健站",
                                "maternal_and_child_health_hospital",
                                "maternal_child_health_centre"),
    "regional_subcentre": ("区域医疗卫生次中心", "区域医疗次中心", "区域卫生次中心", "医疗卫生次中心",
                           "regional_medical_subcentre", "regional_sub_centre"),
    "central_township_hc": ("中心卫生院", "中心乡镇卫生院", "乡镇中心卫生院", "central_township_health_centre",
                            "central_health_centre"),
    "township_hc": ("乡镇卫生院", "卫生院", "乡卫生院", "镇卫生院", "township_health_centre",
                    "township_hospital"),
    "community_hc": ("社区卫生服务中心", "社区医院", "community_health_centre", "community_health_service_centre"),
    "community_station": ("社区卫生服务站", "社区卫生站", "community_health_station",
                          "community_health_service_station"),
    "village_clinic": ("村卫生室", "村卫生所", "村卫生站", "村医务室", "卫生室", "village_health_room"),
    "emergency_station": ("急救站", "120急救中心", "急救中心", "急救分站", "120急救站", "120急救分站",
                          "院前急救站", "急救站点", "emergency_centre", "ambulance_station", "ems_station"),
}

FACILITY_TYPES: dict[str, str] = _table(_FACILITY_NAMES)
CANONICAL_FACILITY_TYPES: tuple[str, ...] = tuple(_FACILITY_NAMES)


def facility_type(name: object, type_map: dict[str, str] | None = None) -> str:
    """The canonical type for one facility-type name, or the name itself (trimmed) when none is known.

    ``type_map`` (a study's ``facilities.type_map``: local name -> type) is
    looked up first; the type it names is itself read through the vocabulary.
    """
    text = str(name).strip()
    if type_map:
        local = {normalise(k): v for k, v in type_map.items()}
        if normalise(text) in local:
            text = str(local[normalise(text)]).strip()
    return FACILITY_TYPES.get(normalise(text), text)


def facility_types(values, type_map: dict[str, str] | None = None) -> np.ndarray:
    """:func:`facility_type` over an array of names (one look-up per distinct name)."""
    series = pd.Series(np.asarray(values, dtype=object)).astype(str)
    uniq = series.unique()
    return series.map({u: facility_type(u, type_map) for u in uniq}).to_numpy(object)


def known_names(per_type: int = 3) -> str:
    """The canonical facility types, each with its first Chinese names: for error messages."""
    def chinese(names: tuple[str, ...]) -> list[str]:
        return [n for n in names if not n.isascii()][:per_type]

    return ", ".join(f"{t} ({'/'.join(chinese(names))})" for t, names in _FACILITY_NAMES.items())


def fingerprint() -> str:
    """A short hash of the road vocabulary, for cache keys of networks built through it."""
    import hashlib
    import json

    text = json.dumps([sorted(ROAD_CLASSES.items()), EXPRESSWAYS], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
