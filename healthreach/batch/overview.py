"""The batch's coverage map: every district shaded by its primary-care share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from healthreach.batch.folders import DISTRICT
from healthreach.batch.task import MapOptions

if TYPE_CHECKING:
    import folium

_MAP_TEXT = {
    "title": {"zh": "各区县{threshold}分钟医疗服务圈覆盖率",
              "en": "Share within the {threshold}-minute medical circle, by district"},
    "summary": {"zh": "{n} 个区县，{failing} 个未达到至少一项标准",
                "en": "{n} districts, {failing} failing at least one standard"},
    "missing": {"zh": "未绘出（评估失败或无边界）：{names}", "en": "Not shown (audit failed or no boundary): {names}"},
    "layer": {"zh": "区县：{threshold}分钟圈覆盖率", "en": "Districts: share within {threshold} min"},
    "legend": {"zh": "区县覆盖率", "en": "District share covered"},
    "district": {"zh": "区县", "en": "District"},
    "failed": {"zh": "未达标项", "en": "Standards failed"},
    "worst": {"zh": "覆盖率最低的乡镇", "en": "Worst townships"},
    "none": {"zh": "无", "en": "none"},
}


def coverage_map(rows: Sequence[dict[str, Any]], map_options: MapOptions | None = None) -> folium.Map | None:
    """Every district with an outline, shaded by its primary-care share; None when no outline exists.

    Drawn with the layers and styles of :mod:`healthreach.maps.layers` (the same
    share colours as the townships of a single audit's map).
    """
    import folium
    import geopandas as gpd

    from healthreach.i18n import check_lang, t
    from healthreach.maps.base import add_controls, add_title, escape, new_map, to_display
    from healthreach.maps.layers import SHARE_BREAKS, SHARE_COLOURS, share_colour
    from healthreach.maps.legend import add_legend, add_legend_section, swatch

    options = map_options or MapOptions()
    lang = check_lang(options.lang)

    def text(key: str, **values: Any) -> str:
        return _MAP_TEXT[key][lang].format(**values)

    frames, missing, threshold = [], [], 15.0
    for row in rows:
        path = Path(row.get("out_dir") or "") / DISTRICT
        if row.get("status") == "error" or not path.is_file():
            missing.append(str(row.get("study") or row.get("folder")))
            continue
        standards = {s["id"]: s for s in row.get("standards") or []}
        primary = standards.get(row.get("primary_standard") or "", {})
        threshold = primary.get("threshold_min") or threshold
        share = primary.get("share")
        failed = [sid for sid, s in standards.items() if s["passed"] is False]
        frame = gpd.read_file(path)[["geometry"]]
        frame["district"] = escape(str(row.get("study")))
        frame["people"] = f"{row.get('population') or 0:,.0f}"
        frame["share"] = float("nan") if share is None else share
        frame["share_pct"] = "—" if share is None else f"{share:.1%}"
        frame["failed"] = escape(", ".join(failed) or text("none"))
        worst = row.get("worst_townships") or []
        frame["worst"] = escape("; ".join(f"{t['name']} {t['share']:.0%}" for t in worst))
        frames.append(frame)
    if not frames:
        return None
    districts = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    failing = sum(f != escape(text("none")) for f in districts["failed"])
    title = text("title", threshold=f"{threshold:g}")
    m = new_map(tuple(districts.total_bounds), lang=lang, basemap=options.basemap,
                     tianditu_key=options.tianditu_key, offline=options.offline, page_title=title)
    lines = [("title", title), ("line", text("summary", n=len(districts), failing=failing))]
    if missing:
        lines.append(("line", text("missing", names=", ".join(missing))))
    add_title(m, lines)
    layer = folium.GeoJson(
        to_display(districts, m), name=escape(text("layer", threshold=f"{threshold:g}")),
        style_function=lambda f: {"fillColor": share_colour(_nan(f["properties"]["share"])),
                                  "color": "#333", "weight": 1.5, "fillOpacity": 0.7},
        tooltip=folium.GeoJsonTooltip(
            ["district", "people", "share_pct", "failed", "worst"],
            aliases=[escape(a) for a in (text("district"), t("people", lang),
                                              t("share_covered", lang, threshold=f"{threshold:g}"),
                                              text("failed"), text("worst"))])).add_to(m)
    lows, highs = (0.0, *SHARE_BREAKS), (*SHARE_BREAKS, 1.0)
    add_legend_section(m, "townships", text("legend"), [
        swatch(c, f"{100 * lo:.0f}–{100 * hi:.0f}%", 0.7)
        for c, lo, hi in zip(SHARE_COLOURS, lows, highs, strict=True)], [layer])
    add_legend(m)
    add_controls(m)
    return m


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
