"""The what-if page's own words in Chinese (default) and English; map words come from :mod:`healthreach.i18n`."""

from __future__ import annotations

from healthreach.i18n import STRINGS, check_lang, words

PAGE: dict[str, dict[str, str]] = {
    "panel_title": {"zh": "规划推演：指标变化", "en": "What-if: figures"},
    "standard": {"zh": "指标", "en": "Standard"},
    "baseline": {"zh": "现状", "en": "Today"},
    "now": {"zh": "调整后", "en": "Now"},
    "change": {"zh": "变化", "en": "Change"},
    "gained": {"zh": "新增覆盖", "en": "Gained"},
    "lost": {"zh": "失去覆盖", "en": "Lost"},
    "pass": {"zh": "达标", "en": "Pass"},
    "undo": {"zh": "撤销", "en": "Undo"},
    "redo": {"zh": "重做", "en": "Redo"},
    "save": {"zh": "保存方案 (YAML)", "en": "Save scenario (YAML)"},
    "load": {"zh": "载入方案", "en": "Load scenario"},
    "export": {"zh": "导出听证地图", "en": "Export hearing map"},
    "add_mode": {"zh": "点击地图新增机构", "en": "Click the map to add a facility"},
    "add_title": {"zh": "新增机构", "en": "New facility"},
    "add": {"zh": "新增", "en": "Add"},
    "cancel": {"zh": "取消", "en": "Cancel"},
    "id": {"zh": "编号", "en": "ID"},
    "name": {"zh": "名称", "en": "Name"},
    "type": {"zh": "类型", "en": "Type"},
    "beds": {"zh": "床位", "en": "Beds"},
    "ambulances": {"zh": "救护车", "en": "Ambulances"},
    "emergency": {"zh": "急救能力", "en": "Emergency care"},
    "close": {"zh": "关闭", "en": "Close"},
    "upgrade": {"zh": "升级", "en": "Upgrade"},
    "expand": {"zh": "扩建", "en": "Expand"},
    "closed": {"zh": "已关闭", "en": "closed"},
    "drag_hint": {"zh": "拖动标记即可迁建", "en": "Drag the marker to relocate"},
    "changes": {"zh": "调整 {n} 项", "en": "{n} change(s)"},
    "new_name": {"zh": "新建机构", "en": "New facility"},
    "session_name": {"zh": "网页推演方案", "en": "What-if session"},
    "working": {"zh": "计算中…", "en": "Computing…"},
    "ms": {"zh": "用时 {ms} 毫秒", "en": "{ms} ms"},
}


def text(key: str, lang: str = "zh", **values) -> str:
    """The page string ``key`` in ``lang``, with ``values`` formatted in."""
    return words(PAGE, key, lang, **values)


#: sentences the page shares with the map, the poster and the terminal (from :data:`healthreach.i18n.STRINGS`)
SHARED = ("circle_moves", "group_moves")


def page_strings(lang: str) -> dict[str, str]:
    """Every page string in ``lang``, templates left unformatted (the page's script fills them)."""
    lang = check_lang(lang)
    return {key: entry[lang] for key, entry in [*PAGE.items(), *((key, STRINGS[key]) for key in SHARED)]}
