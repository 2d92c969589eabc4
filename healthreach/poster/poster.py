"""The hearing poster: the whole study area on one landscape A3 or A4 page, as PDF and PNG.

Drawn with matplotlib (no browser): a title block, the map fitted to its
panel (time bands, people beyond the circle, township outlines labelled with
their share, main roads, facilities; for a scenario also the cells gained and
lost and the changes), the key figures table, a complete legend (white
explained too), a scale bar, a north arrow and a footer with the date, the
data sources, the input hash and, for synthetic data, a notice. The map, the
table and the legend have panels of their own, so the legend never covers
the study area.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Rectangle
from matplotlib.patheffects import withStroke

from healthreach.diff import Diff
from healthreach.errors import InputError
from healthreach.evaluation import Evaluation
from healthreach.i18n import check_lang, group_name, t, type_name, words
from healthreach.isochrones import bands
from healthreach.maps.base import is_synthetic, title_lines
from healthreach.maps.layers import (
    FACILITY_ICONS,
    MAJOR_ROADS,
    TIME_BREAKS_MIN,
    TIME_COLOURS,
    UNCOVERED_BREAKS,
    UNCOVERED_COLOURS,
    WIDE_ROADS,
    township_label_points,
)
from healthreach.maps.scenario import CLOSED_COLOUR, GAINED_COLOUR, LOST_COLOUR, MOVE_COLOUR
from healthreach.messages import Message
from healthreach.poster.fonts import poster_fonts
from healthreach.poster.furniture import north_angle_deg, scale_bar_m, scale_label
from healthreach.poster.shapes import line_collection, polygon_patch
from healthreach.scenario.outputs import change_moves
from healthreach.scenario.schema import CLOSED_TYPE

PAGES_MM = {"A3": (420.0, 297.0), "A4": (297.0, 210.0)}  # landscape width, height
PNG_DPI = 150
MARGIN_MM = 10.0  # most printers cannot print the outer 5 mm
CLOSING = "）)，。、：；」』】〉》,.:;!?%"  # never starts a line
PT_MM = 25.4 / 72  # one typographic point in millimetres
SIMPLIFY_M = 40.0   # band outlines, metres (as the HTML map)

# matplotlib marker per icon shape of healthreach.maps.layers.FACILITY_ICONS
MARKERS = {"hospital": "s", "emergency": "D", "centre": "o", "community": "^", "dot": "o"}

TEXT = {
    "figures": {"zh": "主要指标", "en": "Key figures"},
    "standard": {"zh": "标准", "en": "Standard"},
    "result": {"zh": "结果", "en": "Result"},
    "target": {"zh": "目标", "en": "Target"},
    "pass": {"zh": "达标", "en": "Pass"},
    "before": {"zh": "现状", "en": "Before"},
    "after": {"zh": "方案后", "en": "After"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "NO"},
    "unknown": {"zh": "—", "en": "—"},
    "not_assessed": {"zh": "未评估", "en": "not assessed"},
    "minutes": {"zh": "{value} 分钟", "en": "{value} min"},
    "legend": {"zh": "图例", "en": "Legend"},
    "white": {"zh": "白色（无填色）：超过 {minutes} 分钟或无道路可达，且无人居住（每格不足 0.5 人）",
              "en": "White (no colour): over {minutes} min or no road access, and nobody living there "
                    "(under 0.5 people per cell)"},
    "uncovered_note": {"zh": "（画在时间色带之上）", "en": "(drawn over the time bands)"},
    "boundary": {"zh": "研究区边界", "en": "Study area boundary"},
    "townships": {"zh": "乡镇（街道）界", "en": "Township boundaries"},
    "share_label": {"zh": "乡镇名与{threshold}分钟圈覆盖率；红色：低于目标 {target}",
                    "en": "Township name and share within {threshold} min; red: below the {target} target"},
    "roads": {"zh": "主要道路", "en": "Main roads"},
    "changes": {"zh": "规划变化", "en": "Planned changes"},
    "moved": {"zh": "迁建（原址 → 新址）", "en": "relocated (old → new site)"},
    "closed": {"zh": "撤并", "en": "closed"},
    "changed": {"zh": "新建、升级或扩建", "en": "added, upgraded or expanded"},
    "north": {"zh": "北", "en": "N"},
}


def _text(key: str, lang: str, **values: Any) -> str:
    return words(TEXT, key, lang, **values)


def text_width(text: str) -> float:
    """Width of ``text`` in ems, roughly: wide (CJK) characters 1, others 0.55."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.55 for c in text)


def wrap(text: str, width_em: float) -> list[str]:
    """``text`` broken into lines of at most ``width_em`` ems: at spaces when it can, anywhere in CJK text."""
    lines: list[str] = []
    line = ""
    for word in _tokens(text):
        if line and text_width(line + word) > width_em:
            lines.append(line.rstrip())
            line = word.lstrip()
        else:
            line += word
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _tokens(text: str) -> list[str]:
    """Words with their following space, and each wide character on its own."""
    out: list[str] = []
    word = ""
    for c in text:
        if c in CLOSING and (word or out):
            if word:
                word += c
            else:
                out[-1] += c
            continue
        if unicodedata.east_asian_width(c) in "WF":
            if word:
                out.append(word)
                word = ""
            out.append(c)
        else:
            word += c
            if c == " ":
                out.append(word)
                word = ""
    if word:
        out.append(word)
    return out


@dataclass
class LegendRow:
    """One legend row: a key (``"swatch"``, ``"line"``, ``"marker"``, ``"label"``, ``"title"``) and its text."""

    kind: str
    text: str
    style: dict[str, Any] = field(default_factory=dict)


@dataclass
class Poster:
    """A drawn poster: the matplotlib figure, its panels, and the page as PDF and PNG bytes.

    ``study_bounds_m`` is the study area's extent (west, south, east, north;
    metres in the analysis CRS) that the map panel shows whole.
    """

    figure: Figure
    map_axes: Axes
    legend_axes: Axes
    table_axes: Axes
    study_bounds_m: tuple[float, float, float, float]
    page: str
    pdf: bytes = b""
    png: bytes = b""

    def files(self) -> dict[str, bytes]:
        """The files to write: ``poster.pdf`` and ``poster.png``."""
        return {"poster.pdf": self.pdf, "poster.png": self.png}


def check_page(page: str) -> str:
    """``page`` as a key of :data:`PAGES_MM` ("A3" or "A4", any case)."""
    key = str(page).upper()
    if key not in PAGES_MM:
        msg = Message("poster page {page!r} is not one of {pages}; use --poster A3 or --poster A4", page=page,
                      pages=", ".join(PAGES_MM))
        raise InputError(msg)
    return key


# --------------------------------------------------------------------------- content

def _figure_cells(f: Any, lang: str) -> tuple[str, str]:
    """(result, target) of one standard as the table writes them."""
    details = f.details
    if details.get("not_assessed"):
        return _text("not_assessed", lang), ""
    if details.get("mean_response_min") is not None:
        return (_text("minutes", lang, value=f"{details['mean_response_min']:.1f}"),
                "≤ " + _text("minutes", lang, value=f"{details['target_mean_min']:g}"))
    if f.unit == "share of people":
        return ("—" if f.share is None else f"{f.share:.1%}"), ("" if f.target is None else f"≥ {f.target:.0%}")
    return f"{details.get('ambulances', float('nan')):g}", f"≥ {details.get('required', float('nan')):.1f}"


def _pass_text(passed: bool | None, lang: str) -> str:
    return _text({True: "yes", False: "no", None: "unknown"}[passed], lang)


def figure_rows(audit: Evaluation, lang: str, before: Evaluation | None = None) -> tuple[list[str], list[list[str]]]:
    """The key figures table: header and rows (standard, result, target, pass); with ``before``, before and after."""
    if before is None:
        header = [_text(k, lang) for k in ("standard", "result", "target", "pass")]
        rows = []
        for f in audit.figures.values():
            result, target = _figure_cells(f, lang)
            rows.append([f.title, result, target, _pass_text(f.passed, lang)])
        return header, rows
    header = [_text(k, lang) for k in ("standard", "before", "after", "target", "pass")]
    rows = []
    for f in audit.figures.values():
        b = before.figures.get(f.id)
        result, target = _figure_cells(f, lang)
        was = _figure_cells(b, lang)[0] if b is not None else ""
        mark = f"{_pass_text(b.passed if b else None, lang)} → {_pass_text(f.passed, lang)}"
        rows.append([f.title, was, result, target, mark])
    return header, rows


def legend_rows(audit: Evaluation, lang: str, result: Diff | None = None, scale: float = 1.0) -> list[LegendRow]:
    """Every colour, line and symbol of the map, with what it means (white included)."""
    threshold = _threshold(audit)
    rows = [LegendRow("title", t("legend_time", lang))]
    rows += [LegendRow("swatch", t("legend_minutes", lang, minutes=f"{b:g}"), {"facecolor": c})
             for b, c in zip(TIME_BREAKS_MIN, TIME_COLOURS, strict=True)]
    rows.append(LegendRow("swatch", _text("white", lang, minutes=f"{TIME_BREAKS_MIN[-1]:g}"),
                          {"facecolor": "#ffffff"}))
    lows = [0.5, *UNCOVERED_BREAKS]
    labels = [*(f"{lo:g}–{hi:g}" for lo, hi in zip(lows, UNCOVERED_BREAKS, strict=False)),
              f"≥ {UNCOVERED_BREAKS[-1]:g}"]
    rows.append(LegendRow("title", t("legend_uncovered", lang, threshold=f"{threshold:g}") + " "
                          + _text("uncovered_note", lang)))
    rows += [LegendRow("swatch", label, {"facecolor": c}) for label, c in zip(labels, UNCOVERED_COLOURS, strict=True)]
    if result is not None:
        rows.append(LegendRow("title", _text("changes", lang)))
        rows.append(LegendRow("swatch", t("layer_gained", lang), {"facecolor": GAINED_COLOUR}))
        rows.append(LegendRow("swatch", t("layer_lost", lang), {"facecolor": LOST_COLOUR}))
        rows.append(LegendRow("line", _text("moved", lang),
                              {"color": MOVE_COLOUR, "linestyle": "--", "linewidth": 1.5}))
        rows.append(LegendRow("marker", _text("closed", lang), {"marker": "x", "color": CLOSED_COLOUR,
                                                                   "markersize": 6, "markeredgewidth": 1.8}))
        rows.append(LegendRow("marker", _text("changed", lang), {"marker": "o", "markerfacecolor": "none",
                                                                    "markeredgecolor": MOVE_COLOUR,
                                                                    "markersize": 9, "markeredgewidth": 1.5}))
    rows.append(LegendRow("title", t("legend_roads", lang) + " · " + _text("townships", lang)))
    rows.append(LegendRow("line", _text("boundary", lang), {"color": "#222222", "linewidth": 1.6}))
    rows.append(LegendRow("line", _text("townships", lang), {"color": "#555555", "linewidth": 0.8,
                                                              "linestyle": (0, (4, 2))}))
    primary = audit.study.primary
    if primary is not None:
        rows.append(LegendRow("label", _text("share_label", lang, threshold=f"{threshold:g}",
                                             target=f"{primary.spec.target_share:.0%}")))
    rows.append(LegendRow("line", _text("roads", lang), {"color": "#737373", "linewidth": 1.2}))
    rows.append(LegendRow("title", t("legend_facilities", lang)))
    for ftype in _facility_types(audit):
        shape, colour, size = FACILITY_ICONS.get(ftype, ("dot", "#000000", 10))
        rows.append(LegendRow("marker", type_name(ftype, lang), _marker_style(shape, colour, size, scale)))
    return rows


def _threshold(audit: Evaluation) -> float:
    primary = audit.study.primary
    return primary.spec.threshold_min if primary else 15.0


def _facility_types(audit: Evaluation) -> list[str]:
    present = set(audit.facilities["type"].astype(str)) - {CLOSED_TYPE}
    return [k for k in FACILITY_ICONS if k in present] + sorted(present - set(FACILITY_ICONS))


def _marker_style(shape: str, colour: str, size_px: int, scale: float = 1.0) -> dict[str, Any]:
    """A facility's marker: the HTML map's icon size (pixels) as points, times ``scale`` (the page's)."""
    return {"marker": MARKERS[shape], "markerfacecolor": colour, "markeredgecolor": "#ffffff",
            "markersize": max(2.5, 0.42 * size_px * scale), "markeredgewidth": 0.6 * scale, "linestyle": "none"}


# --------------------------------------------------------------------------- the map panel

def draw_map(ax: Axes, audit: Evaluation, result: Diff | None = None, scale: float = 1.0) -> None:
    """The study area on ``ax`` (metres): bands, people beyond the circle, changes, roads, outlines, facilities.

    ``scale`` multiplies line widths and symbol sizes (1 on A3).
    """
    inp = audit.inputs
    grid, cells = inp.grid, inp.cells
    seconds = audit.primary_seconds
    frame = bands(grid, cells.flat, seconds, [b * 60 for b in TIME_BREAKS_MIN], simplify_m=SIMPLIFY_M)
    for band, geom in zip(frame["band"], frame.geometry, strict=True):
        ax.add_artist(polygon_patch([geom], facecolor=TIME_COLOURS[band], edgecolor="none", zorder=1))
    threshold = _threshold(audit)
    out = (seconds > threshold * 60) & (cells.people >= 0.5)
    if out.any():
        level = np.where(out, np.digitize(cells.people, UNCOVERED_BREAKS) + 0.5, np.inf)
        reds = bands(grid, cells.flat, level, [1.0, 2.0, 3.0, 4.0])
        for band, geom in zip(reds["band"], reds.geometry, strict=True):
            ax.add_artist(polygon_patch([geom], facecolor=UNCOVERED_COLOURS[band], edgecolor="none", zorder=2))
    if result is not None:
        for which, colour in ((result.gained, GAINED_COLOUR), (result.lost, LOST_COLOUR)):
            sel = which[cells.people[which] > 0]
            if len(sel):
                shape = bands(grid, cells.flat[sel], np.zeros(len(sel)), [1.0])
                ax.add_artist(polygon_patch(shape.geometry, facecolor=colour, edgecolor="none", zorder=3))
    lines = inp.network.lines
    major = lines[lines["road_class"].isin(MAJOR_ROADS)]
    wide = major["road_class"].isin(WIDE_ROADS).to_numpy()
    for sel, width in ((~wide, 0.6), (wide, 1.1)):
        if sel.any():
            ax.add_collection(line_collection(major.geometry.to_numpy()[sel], colors="#737373",
                                              linewidths=width * scale, zorder=4))
    towns = inp.boundaries
    ax.add_collection(line_collection(towns.geometry.to_numpy(), colors="#555555", linewidths=0.5 * scale,
                                      linestyles=(0, (4, 2)), zorder=5))
    outline = shapely.union_all(towns.geometry.to_numpy())
    ax.add_collection(line_collection([outline], colors="#222222", linewidths=1.2 * scale, zorder=6))
    _draw_facilities(ax, audit, scale)
    if result is not None:
        _draw_changes(ax, result, scale)


def _draw_facilities(ax: Axes, audit: Evaluation, scale: float) -> None:
    fac = audit.facilities
    types = fac["type"].astype(str).to_numpy()
    for rank, ftype in enumerate(reversed(_facility_types(audit))):  # small types first: hospitals on top
        sel = types == ftype
        shape, colour, size = FACILITY_ICONS.get(ftype, ("dot", "#000000", 10))
        ax.plot(fac["x"].to_numpy(float)[sel], fac["y"].to_numpy(float)[sel], zorder=8 + rank * 0.01,
                **_marker_style(shape, colour, size, scale))


def _draw_changes(ax: Axes, result: Diff, scale: float) -> None:
    moves = change_moves(result)
    for _, row in moves[moves["kind"] == "relocate"].iterrows():
        ax.annotate("", xy=(row["x1"], row["y1"]), xytext=(row["x0"], row["y0"]), zorder=9,
                    arrowprops={"arrowstyle": "-|>", "color": MOVE_COLOUR, "linewidth": 1.5 * scale, "linestyle": "--",
                                "shrinkA": 0, "shrinkB": 0})
    closed = moves[moves["kind"] == "close"]
    if len(closed):
        ax.plot(closed["x0"].to_numpy(float), closed["y0"].to_numpy(float), linestyle="none", marker="x",
                color=CLOSED_COLOUR, markersize=7 * scale, markeredgewidth=2 * scale, zorder=9)
    fac = result.after.facilities
    status = fac["status"].astype(str).to_numpy() if "status" in fac else np.full(len(fac), "")
    ringed = (status != "") & (fac["type"].astype(str).to_numpy() != CLOSED_TYPE)
    if ringed.any():
        ax.plot(fac["x"].to_numpy(float)[ringed], fac["y"].to_numpy(float)[ringed], linestyle="none", marker="o",
                markerfacecolor="none", markeredgecolor=MOVE_COLOUR, markersize=11 * scale, markeredgewidth=1.5 * scale,
                zorder=9)


def township_labels(audit: Evaluation) -> pd.DataFrame:
    """Per township: name, label point (metres; clear of facilities), share within the circle and whether it
    is below the target.
    """
    towns = audit.inputs.boundaries
    pts = township_label_points(audit)
    primary = audit.study.primary
    table = audit.townships.set_index("township_id")
    share = (table[primary.share_column].reindex(towns["id"]).to_numpy(float) if primary is not None
             else np.full(len(towns), np.nan))
    target = primary.spec.target_share if primary is not None else np.nan
    return pd.DataFrame({"name": towns["name"].astype(str).to_numpy(), "x": pts.x.to_numpy(), "y": pts.y.to_numpy(),
                         "share": share, "below": np.isfinite(share) & (share < target)})


def _label_texts(labels: pd.DataFrame) -> list[str]:
    return [f"{n}\n{s:.1%}" if np.isfinite(s) else n for n, s in zip(labels["name"], labels["share"], strict=True)]


# --------------------------------------------------------------------------- the page

def audit_poster(audit: Evaluation, page: str = "A3", *, lang: str = "zh", when: dt.date | None = None) -> Poster:
    """The poster of an audit on a landscape ``page`` ("A3" or "A4"), drawn and rendered to PDF and PNG."""
    return _poster(audit, None, page, lang, when)


def scenario_poster(result: Diff, page: str = "A3", *, lang: str = "zh", when: dt.date | None = None) -> Poster:
    """The poster of a scenario: the map after the changes, cells gained and lost, figures before and after."""
    return _poster(result.after, result, page, lang, when)


def _title(audit: Evaluation, result: Diff | None, lang: str, when: dt.date | None) -> list[tuple[str, str]]:
    if result is None:
        return title_lines(audit, lang, when=when)
    lines = title_lines(audit, lang, scenario=result.scenario.name, when=when, before=result.before)
    primary = audit.study.primary
    if primary is not None:
        lines.insert(3, ("line", t("circle_moves", lang, minutes=f"{primary.spec.threshold_min:g}",
                                       gained=f"{result.newly_covered:,.0f}", lost=f"{result.lose_coverage:,.0f}")))
        for k, group in enumerate(audit.inputs.cells.groups, start=4):  # each population group's, after everyone's
            lines.insert(k, ("line", t("group_moves", lang, group=group_name(group, lang),
                                           gained=f"{result.newly_covered_of(group):,.0f}",
                                           lost=f"{result.lose_coverage_of(group):,.0f}")))
    return lines


def _poster(audit: Evaluation, result: Diff | None, page: str, lang: str, when: dt.date | None) -> Poster:
    check_lang(lang)
    page = check_page(page)
    title = _title(audit, result, lang, when)
    header, rows = figure_rows(audit, lang, result.before if result is not None else None)
    legend = legend_rows(audit, lang, result, PAGES_MM[page][0] / 420.0)
    labels = township_labels(audit)
    everything = "".join([*(text for _, text in title), *header, *(c for r in rows for c in r),
                          *(r.text for r in legend), *_label_texts(labels), _text("figures", lang),
                          _text("legend", lang), _text("north", lang), "0123456789 km m"])
    fonts = poster_fonts(everything)
    with mpl.rc_context({"font.family": list(fonts.families), "pdf.fonttype": 42, "axes.unicode_minus": False}):
        poster = _layout(audit, result, page, lang, Content(title, header, rows, legend, labels))
        pdf, png = io.BytesIO(), io.BytesIO()
        name = next(text for kind, text in title if kind == "title")
        poster.figure.savefig(pdf, format="pdf", metadata={"Title": name, "Creator": "healthreach"})
        poster.figure.savefig(png, format="png", dpi=PNG_DPI)
    poster.pdf, poster.png = pdf.getvalue(), png.getvalue()
    return poster


@dataclass
class Content:
    """What a poster says: title lines, the key figures table, legend rows and township labels."""

    title: list[tuple[str, str]]
    header: list[str]
    rows: list[list[str]]
    legend: list[LegendRow]
    labels: pd.DataFrame


def _layout(audit: Evaluation, result: Diff | None, page: str, lang: str,
            content: Content) -> Poster:
    title, header, rows, legend, labels = (content.title, content.header, content.rows, content.legend,
                                           content.labels)
    W, H = PAGES_MM[page]
    k = W / 420.0                      # type sizes scale with the page
    body_pt, title_pt, small_pt = 9.0 * k, 20.0 * k, 7.5 * k
    fig = Figure(figsize=(W / 25.4, H / 25.4))
    fig.patch.set_facecolor("white")

    def box(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:  # mm from bottom left
        return (x / W, y / H, w / W, h / H)

    # header: title, then its lines (wrapped to the page width)
    y = H - MARGIN_MM
    width_em = (W - 2 * MARGIN_MM) / (body_pt * PT_MM)
    head = [(text, kind) for kind, text in title if kind in ("title", "line")]
    for text, kind in head:
        size = title_pt if kind == "title" else body_pt
        for line in wrap(text, width_em * body_pt / size):
            fig.text(MARGIN_MM / W, y / H, line, fontsize=size, va="top", ha="left",
                     color="#111111" if kind == "title" else "#222222")
            y -= size * PT_MM * 1.35
    top = y - 2.0
    # footer: date, sources, input hash; the synthetic-data notice
    foot = [text for kind, text in title if kind == "meta"]
    if is_synthetic(audit):
        foot.append(t("synthetic", lang))
    foot_lines = [(line, text == t("synthetic", lang)) for text in foot for line in wrap(text, width_em * 1.15)]
    y = MARGIN_MM
    for line, red in reversed(foot_lines):
        fig.text(MARGIN_MM / W, y / H, line, fontsize=small_pt, va="bottom", ha="left",
                 color="#a50f15" if red else "#444444")
        y += small_pt * PT_MM * 1.4
    bottom = y + 2.0
    # panels: the map on the left (with a strip for scale bar and north arrow), table and legend on the right
    side_w = 0.33 * (W - 2 * MARGIN_MM)
    map_w = W - 2 * MARGIN_MM - side_w - 6.0
    strip = 12.0 * k + 2
    map_ax = fig.add_axes(box(MARGIN_MM, bottom + strip, map_w, top - bottom - strip))
    west, south, east, north = (float(v) for v in audit.inputs.boundaries.total_bounds)
    pad = 0.015 * max(east - west, north - south)
    map_ax.set_xlim(west - pad, east + pad)
    map_ax.set_ylim(south - pad, north + pad)
    map_ax.set_aspect("equal", adjustable="box", anchor="C")
    map_ax.set_xticks([])
    map_ax.set_yticks([])
    for spine in map_ax.spines.values():
        spine.set_edgecolor("#999999")
        spine.set_linewidth(0.6)
    draw_map(map_ax, audit, result, k)
    halo = [withStroke(linewidth=2.2 * k + 0.6, foreground="white")]
    for text, (_, row) in zip(_label_texts(labels), labels.iterrows(), strict=True):
        map_ax.text(row["x"], row["y"], text, fontsize=small_pt, ha="center", va="center", zorder=10,
                    color="#a50f15" if row["below"] else "#222222", path_effects=halo,
                    clip_on=True, linespacing=1.1)
    map_ax.apply_aspect()
    pos = map_ax.get_position()
    _draw_furniture(fig, audit, pos, (east - west + 2 * pad, strip), body_pt, lang)
    side_x = MARGIN_MM + map_w + 6.0
    table_h = _table_height(rows, header, side_w, body_pt, small_pt)
    table_ax = fig.add_axes(box(side_x, top - table_h, side_w, table_h))
    _draw_table(table_ax, header, rows, side_w, table_h, body_pt, small_pt, lang)
    legend_ax = fig.add_axes(box(side_x, bottom, side_w, top - table_h - 4.0 - bottom))
    _draw_legend(legend_ax, legend, side_w, top - table_h - 4.0 - bottom, body_pt, small_pt, lang)
    return Poster(fig, map_ax, legend_ax, table_ax, (west, south, east, north), page)


def _draw_furniture(fig: Figure, audit: Evaluation, pos: Any, extent: tuple[float, float],
                    body_pt: float, lang: str) -> None:
    """Scale bar (left) and north arrow (right) in the strip below the map panel.

    ``pos``: the map panel's box (figure fraction); ``extent``: the metres it
    spans across and the height of the strip (mm).
    """
    width_m, strip_mm = extent
    W, H = (float(v) * 25.4 for v in fig.get_size_inches())
    mm_per_m = pos.width * W / width_m
    length = scale_bar_m(width_m)
    x0, y0 = pos.x0 * W, pos.y0 * H - 0.45 * strip_mm
    bar_mm = length * mm_per_m
    for i in range(4):  # alternating black and white quarters
        fig.add_artist(Rectangle(((x0 + i * bar_mm / 4) / W, y0 / H), bar_mm / 4 / W, 1.6 / H,
                                 facecolor="#222222" if i % 2 == 0 else "white", edgecolor="#222222",
                                 linewidth=0.6, transform=fig.transFigure))
    for frac, text in ((0.0, "0"), (0.5, scale_label(length / 2)), (1.0, scale_label(length))):
        fig.text((x0 + frac * bar_mm) / W, (y0 + 2.4) / H, text, fontsize=body_pt * 0.85, ha="center", va="bottom")
    inp = audit.inputs
    west, south, east, north = inp.boundaries.total_bounds
    angle = np.radians(north_angle_deg(inp.crs, (west + east) / 2, (south + north) / 2))
    ax_, ay = (pos.x1 * W - 6.0), y0 - 1.0
    length_mm = 0.7 * strip_mm
    dx, dy = length_mm * np.sin(angle), length_mm * np.cos(angle)
    fig.add_artist(FancyArrow(ax_ / W, ay / H, dx / W, dy / H, width=0.9 / H, head_width=3.2 / W,
                              head_length=2.6 / H, length_includes_head=True, color="#222222",
                              transform=fig.transFigure))
    fig.text((ax_ + dx * 1.15 + 2.2) / W, (ay + dy * 0.9) / H, _text("north", lang), fontsize=body_pt,
             ha="left", va="center")


def _columns(n: int, width_mm: float, body_pt: float) -> list[float]:
    """Column widths (mm) of the figures table: the standard's name takes what the figures leave."""
    figure_mm = 5.2 * body_pt * PT_MM
    rest = [figure_mm] * (n - 2) + [figure_mm * (1.3 if n == 5 else 0.7)]
    return [width_mm - sum(rest), *rest]


def _table_height(rows: list[list[str]], header: list[str], width_mm: float, body_pt: float, small_pt: float) -> float:
    cols = _columns(len(header), width_mm, body_pt)
    name_em = cols[0] / (small_pt * PT_MM) - 0.5
    lines = sum(max(len(wrap(r[0], name_em)), 1) for r in rows)
    return body_pt * PT_MM * 2.2 + body_pt * PT_MM * 1.6 + lines * small_pt * PT_MM * 1.3 + len(rows) * 0.8


def _draw_table(ax: Axes, header: list[str], rows: list[list[str]],
                width_mm: float, height_mm: float, body_pt: float, small_pt: float, lang: str) -> None:
    """The key figures table in ``ax`` (the whole axes; coordinates in mm from its top left)."""
    ax.set_xlim(0, width_mm)
    ax.set_ylim(height_mm, 0)
    ax.set_axis_off()
    ax.text(0, 0, _text("figures", lang), fontsize=body_pt * 1.2, va="top")
    cols = _columns(len(header), width_mm, body_pt)
    xs = np.r_[0, np.cumsum(cols)]
    y = body_pt * PT_MM * 2.2
    for i, text in enumerate(header):
        ax.text(xs[i] if i == 0 else xs[i + 1] - 0.5, y, text, fontsize=small_pt, color="#555555", va="top",
                ha="left" if i == 0 else "right")
    y += body_pt * PT_MM * 1.6
    ax.add_line(Line2D([0, width_mm], [y - 0.6, y - 0.6], color="#444444", linewidth=0.6))
    name_em = cols[0] / (small_pt * PT_MM) - 0.5
    for row in rows:
        name_lines = wrap(row[0], name_em)
        failed = row[-1].endswith(_text("no", lang))
        ax.text(0, y, "\n".join(name_lines), fontsize=small_pt, va="top", ha="left", linespacing=1.15)
        for i, value in enumerate(row[1:], start=1):
            ax.text(xs[i + 1] - 0.5, y, value, fontsize=small_pt, va="top", ha="right",
                    color="#a50f15" if failed and i == len(row) - 1 else "#222222")
        y += len(name_lines) * small_pt * PT_MM * 1.3 + 0.8
        ax.add_line(Line2D([0, width_mm], [y - 0.5, y - 0.5], color="#cccccc", linewidth=0.4))


def _draw_legend(ax: Axes, rows: list[LegendRow], width_mm: float, height_mm: float,
                 body_pt: float, small_pt: float, lang: str) -> None:
    """The legend in ``ax``: one column, or two when one does not fit (coordinates in mm from the top left)."""
    ax.set_xlim(0, width_mm)
    ax.set_ylim(height_mm, 0)
    ax.set_axis_off()
    ax.add_patch(Rectangle((0.2, 0.2), width_mm - 0.4, height_mm - 0.4, facecolor="white", edgecolor="#999999",
                           linewidth=0.6))  # inset, so the frame's outer half is not clipped
    line_mm = small_pt * PT_MM * 1.45
    for columns in (1, 2):
        col_w = (width_mm - 3.0) / columns
        text_em = (col_w - 9.0) / (small_pt * PT_MM)
        placed = [(r, wrap(r.text, text_em if r.kind != "title" else text_em + 9.0 / (small_pt * PT_MM)))
                  for r in rows]
        heights = [len(lines) * line_mm + (1.2 if r.kind == "title" else 0.3) for r, lines in placed]
        head = body_pt * PT_MM * 2.0
        if columns == 1 and head + sum(heights) + 2 <= height_mm:
            break
    scale = min(1.0, (height_mm - 2 - body_pt * PT_MM * 2.0) / max(1e-9, _column_height(rows, heights, columns)))
    ax.text(1.5, 1.2, _text("legend", lang), fontsize=body_pt * 1.2, va="top")
    x, y = 1.5, body_pt * PT_MM * 2.0 + 1.0
    split = _split_at(rows, heights, columns)
    for i, ((row, lines), h) in enumerate(zip(placed, heights, strict=True)):
        if columns == 2 and i == split:
            x, y = 1.5 + col_w, body_pt * PT_MM * 2.0 + 1.0
        size = small_pt * scale
        if row.kind == "title":
            ax.text(x, y + 0.9, "\n".join(lines), fontsize=size, color="#08306b", va="top", linespacing=1.25)
        else:
            cy = y + 0.5 * line_mm * scale
            if row.kind == "swatch":
                ax.add_patch(Rectangle((x, cy - 1.3 * scale), 5.0, 2.6 * scale, edgecolor="#777777", linewidth=0.4,
                                       **row.style))
            elif row.kind == "line":
                ax.add_line(Line2D([x, x + 5.0], [cy, cy], **row.style))
            elif row.kind == "marker":
                ax.add_line(Line2D([x + 2.5], [cy], **{"linestyle": "none", **row.style}))
            indent = 0.0 if row.kind == "label" else 7.0
            ax.text(x + indent, y, "\n".join(lines), fontsize=size, va="top", linespacing=1.25,
                    color="#a50f15" if row.kind == "label" else "#222222")
        y += h * scale


def _column_height(rows: list[LegendRow], heights: list[float], columns: int) -> float:
    if columns == 1:
        return sum(heights)
    split = _split_at(rows, heights, columns)
    return max(sum(heights[:split]), sum(heights[split:]))


def _split_at(rows: list[LegendRow], heights: list[float], columns: int) -> int:
    """The row a second legend column starts at: the section title nearest half the height."""
    if columns == 1:
        return len(rows)
    total, run, best, best_gap = sum(heights), 0.0, len(rows), float("inf")
    for i, (row, h) in enumerate(zip(rows, heights, strict=True)):
        if row.kind == "title" and i > 0 and abs(run - total / 2) < best_gap:
            best, best_gap = i, abs(run - total / 2)
        run += h
    return best
