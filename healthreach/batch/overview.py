"""The batch's coverage map: every district shaded by its primary-care share, labelled with its name and share.

Districts whose outlines overlap (the same area audited twice, or studies
drawn in one place) would hide each other, so each group of overlapping
districts is laid out side by side, left to right, and the title block says
which districts were moved and that their positions are schematic.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import shapely
import shapely.affinity

from healthreach.batch.folders import DISTRICT
from healthreach.batch.task import MapOptions

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

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
    "side_by_side": {"zh": "区县范围重叠，已并排显示（位置为示意）：{names}",
                     "en": "Overlapping districts shown side by side (positions schematic): {names}"},
    "moved": {"zh": "位置示意：与{others}重叠", "en": "schematic position: overlaps {others}"},
}

OVERLAP_SHARE = 0.01  # two districts overlap when they share more than this share of the smaller one's area
GAP_SHARE = 0.1       # gap between districts placed side by side, as a share of the wider one's width


def coverage_map(rows: Sequence[dict[str, Any]], map_options: MapOptions | None = None) -> folium.Map | None:
    """Every district with an outline, shaded by its primary-care share; None when no outline exists.

    Drawn with the layers and styles of :mod:`healthreach.maps.layers` (the same
    share colours as the townships of a single audit's map).
    """
    import folium
    import geopandas as gpd

    from healthreach.i18n import check_lang, t, words
    from healthreach.maps.base import Features, add_controls, add_title, escape, new_map, to_display
    from healthreach.maps.layers import SHARE_BREAKS, SHARE_COLOURS, share_colour
    from healthreach.maps.legend import add_legend, add_legend_section, swatch

    options = map_options or MapOptions()
    lang = check_lang(options.lang)

    def text(key: str, **values: Any) -> str:
        return words(_MAP_TEXT, key, lang, **values)

    frames, missing, threshold = _district_frames(rows, text)
    if not frames:
        return None
    districts = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    failing = int(districts["failing"].sum())
    moved = side_by_side(districts)
    sep = "、" if lang == "zh" else ", "
    for i, others in moved.items():
        districts.loc[i, "district"] += " (" + escape(text("moved", others=sep.join(
            str(districts.loc[j, "name"]) for j in others))) + ")"
    title = text("title", threshold=f"{threshold:g}")
    m = new_map(tuple(districts.total_bounds), lang=lang, basemap=options.basemap,
                     tianditu_key=options.tianditu_key, offline=options.offline, page_title=title)
    lines = [("title", title), ("line", text("summary", n=len(districts), failing=failing))]
    if missing:
        lines.append(("line", text("missing", names=", ".join(missing))))
    if moved:
        lines.append(("line", text("side_by_side", names=sep.join(str(districts.loc[i, "name"])
                                                                   for i in sorted(moved)))))
    add_title(m, lines)
    shown = to_display(districts.drop(columns=["failing", "name"]), m)
    layer = Features(
        shown, name=escape(text("layer", threshold=f"{threshold:g}")),
        style_function=lambda f: {"fillColor": share_colour(_nan(f["properties"]["share"])),
                                  "color": "#333", "weight": 1.5, "fillOpacity": 0.7},
        tooltip=folium.GeoJsonTooltip(
            ["district", "people", "share_pct", "failed", "worst"],
            aliases=[escape(a) for a in (text("district"), t("people", lang),
                                              t("share_covered", lang, threshold=f"{threshold:g}"),
                                              text("failed"), text("worst"))])).add_to(m)
    for point, name, pct in zip(shown.geometry.representative_point(), districts["name"], districts["share_pct"],
                                strict=True):  # district labels: name and share
        label = f"{escape(name)}<br>{pct}"
        width = 14 * max(len(name), 5) + 8
        folium.Marker([point.y, point.x], interactive=False, keyboard=False, icon=folium.DivIcon(
            html=label, class_name="hr-label", icon_size=(width, 32), icon_anchor=(width // 2, 16))).add_to(layer)
    lows, highs = (0.0, *SHARE_BREAKS), (*SHARE_BREAKS, 1.0)
    add_legend_section(m, "townships", text("legend"), [
        swatch(c, f"{100 * lo:.0f}–{100 * hi:.0f}%", 0.7)
        for c, lo, hi in zip(SHARE_COLOURS, lows, highs, strict=True)], [layer])
    add_legend(m)
    add_controls(m)
    return m


def _district_frames(rows: Sequence[dict[str, Any]], text) -> tuple[list[Any], list[str], float]:
    """One WGS84 frame per district that has an outline (name, figures, failed standards one per line); the
    districts without one; the primary standard's minutes.
    """
    import geopandas as gpd

    from healthreach.maps.base import escape

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
        failed = [str(s.get("title") or sid) for sid, s in standards.items() if s["passed"] is False]
        frame = gpd.read_file(path)[["geometry"]]
        frame = gpd.GeoDataFrame(geometry=[frame.to_crs(4326).union_all()], crs=4326)
        frame["name"] = str(row.get("study"))
        frame["district"] = escape(str(row.get("study")))
        frame["people"] = f"{row.get('population') or 0:,.0f}"
        frame["share"] = float("nan") if share is None else share
        frame["share_pct"] = "—" if share is None else f"{share:.1%}"
        frame["failed"] = "<br>".join(escape(f) for f in failed) or escape(text("none"))  # one title per line
        frame["failing"] = bool(failed)
        worst = row.get("worst_townships") or []
        frame["worst"] = escape("; ".join(f"{t['name']} {t['share']:.0%}" for t in worst))
        frames.append(frame)
    return frames, missing, threshold


def side_by_side(districts: gpd.GeoDataFrame) -> dict[int, list[int]]:
    """Move districts that overlap (WGS84, in place) so that each group of them stands in a row, left to right.

    Returns, for each district moved, the districts it overlapped. The first
    of each group stays where it is.
    """
    geoms = districts.geometry.to_numpy()
    area = shapely.area(geoms)
    pairs = [(i, j) for i in range(len(geoms)) for j in range(i + 1, len(geoms))
             if shapely.area(shapely.intersection(geoms[i], geoms[j])) > OVERLAP_SHARE * min(area[i], area[j])]
    group = list(range(len(geoms)))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i
    for i, j in pairs:
        group[root(j)] = root(i)
    moved: dict[int, list[int]] = {}
    for r in sorted({root(i) for i in range(len(geoms))}):
        members = [i for i in range(len(geoms)) if root(i) == r]
        if len(members) < 2:
            continue
        right = float(shapely.bounds(geoms[members[0]])[2])
        for i in members[1:]:
            west, _, east, _ = shapely.bounds(geoms[i])
            gap = GAP_SHARE * (east - west)
            geoms[i] = shapely.affinity.translate(geoms[i], xoff=right + gap - west)
            right += gap + (east - west)
            moved[i] = [j for j in members if j != i and ((i, j) in pairs or (j, i) in pairs)]
    districts["geometry"] = geoms
    return moved


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
