"""The printed poster: page size, the study area whole on the page and clear of the legend, real glyphs, and
the ``--poster`` option of audit and scenario end to end.

The PDF is checked as a printer gets it (its page box, and, where poppler's
``pdftoppm`` is installed, its rendering); the PNG is read back with Pillow.
Where the study area lies is computed from the study's bounds through the map
panel's transform, and checked against the pixels: every pixel of the
darkest time band lies inside the study area's box or in the legend's
swatch, and the two boxes do not meet.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely
import yaml
from click.testing import CliRunner
from conftest import CRS, X0, Y0, audit, write_study

from healthreach.cli import cli
from healthreach.inputs import load_inputs
from healthreach.maps.layers import TIME_COLOURS
from healthreach.poster import fonts
from healthreach.poster.furniture import north_angle_deg, scale_bar_m, scale_label
from healthreach.poster.poster import PAGES_MM, PNG_DPI, Poster, audit_poster, check_page, scenario_poster, wrap
from healthreach.poster.shapes import polygon_patch
from healthreach.study import load_study

PIL = pytest.importorskip("PIL.Image", reason="pillow reads the poster PNG (pip install -e .[browser])")
PDFTOPPM = shutil.which("pdftoppm")
MM_PT = 72 / 25.4


@pytest.fixture(scope="module")
def small_audit(tmp_path_factory):
    return audit(load_inputs(load_study(write_study(tmp_path_factory.mktemp("poster")))))


def draw(make, *args, **kwargs) -> Poster:
    """A poster drawn with matplotlib's missing-glyph warning turned into an error (no tofu boxes)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"Glyph \d+ .*missing from font")
        return make(*args, **kwargs)


def image(data: bytes) -> np.ndarray:
    with PIL.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def box_px(poster: Poster, axes, shape: tuple[int, ...]) -> tuple[float, float, float, float]:
    """The pixel box (left, top, right, bottom) of an axes on an image of ``shape``."""
    x0, y0, x1, y1 = axes.get_position().extents
    h, w = shape[:2]
    return x0 * w, (1 - y1) * h, x1 * w, (1 - y0) * h


def study_px(poster: Poster, shape: tuple[int, ...]) -> tuple[float, float, float, float]:
    """The study area's bounds as a pixel box (left, top, right, bottom) on an image of ``shape``."""
    west, south, east, north = poster.study_bounds_m
    fig = poster.figure
    (ax0, ay0), (ax1, ay1) = fig.transFigure.inverted().transform(
        poster.map_axes.transData.transform([(west, south), (east, north)]))
    h, w = shape[:2]
    return ax0 * w, (1 - ay1) * h, ax1 * w, (1 - ay0) * h


def inside(inner, outer, slack: float = 0.0) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack and inner[2] <= outer[2] + slack
            and inner[3] <= outer[3] + slack)


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def check_layout(poster: Poster, pixels: np.ndarray) -> None:
    """The study area lies whole on the page, clear of the legend and the table; its colours are drawn there."""
    h, w = pixels.shape[:2]
    study = study_px(poster, pixels.shape)
    legend = box_px(poster, poster.legend_axes, pixels.shape)
    table = box_px(poster, poster.table_axes, pixels.shape)
    assert inside(study, (0, 0, w, h)), (study, w, h)
    assert inside(study, box_px(poster, poster.map_axes, pixels.shape), slack=1.0)
    assert not overlap(study, legend)
    assert not overlap(study, table)
    darkest = np.array([int(TIME_COLOURS[0][i:i + 2], 16) for i in (1, 3, 5)])
    rows, cols = np.nonzero(np.abs(pixels.astype(int) - darkest).sum(axis=2) <= 6)
    assert len(rows) > 50  # the nearest band is drawn
    in_study = ((cols >= study[0] - 1) & (cols <= study[2] + 1) & (rows >= study[1] - 1) & (rows <= study[3] + 1))
    in_legend = ((cols >= legend[0]) & (cols <= legend[2]) & (rows >= legend[1]) & (rows <= legend[3]))
    assert (in_study | in_legend).all()
    assert in_study.sum() > 0.8 * len(rows)
    assert in_legend.any()  # the legend explains the colour


def test_poster_page_pdf_png_and_layout(small_audit):
    poster = draw(audit_poster, small_audit, "A4", lang="zh")
    assert poster.pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", poster.pdf)) == 1
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", poster.pdf)
    assert box is not None
    assert float(box.group(1)) == pytest.approx(297 * MM_PT, abs=0.1)   # landscape A4, points
    assert float(box.group(2)) == pytest.approx(210 * MM_PT, abs=0.1)
    pixels = image(poster.png)
    assert pixels.shape[:2] == pytest.approx((210 / 25.4 * PNG_DPI, 297 / 25.4 * PNG_DPI), abs=1)
    check_layout(poster, pixels)
    assert set(poster.files()) == {"poster.pdf", "poster.png"}


@pytest.mark.skipif(PDFTOPPM is None, reason="pdftoppm (poppler-utils) is not installed")
def test_poster_pdf_rendered_has_the_study_area_inside_the_page(small_audit, tmp_path):
    poster = draw(audit_poster, small_audit, "A3", lang="en")
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(poster.pdf)
    command = [PDFTOPPM, "-r", "60", "-png", "-singlefile", str(pdf), str(tmp_path / "page")]
    subprocess.run(command, check=True)  # noqa: S603  poppler's own program, found on PATH
    pixels = image((tmp_path / "page.png").read_bytes())
    assert pixels.shape[1] / pixels.shape[0] == pytest.approx(420 / 297, rel=0.01)
    check_layout(poster, pixels)


@pytest.mark.slow
def test_demo_scenario_poster_whole_county_title_before_after_and_notice(demo_audit):
    base = demo_audit
    from healthreach.scenario.schema import load_scenario
    spec = load_scenario(Path(__file__).parents[1] / "scenarios" / "relocate-four-township-health-centres.yaml")
    result = base.diff(base.apply(spec))
    poster = draw(scenario_poster, result, "A3", lang="zh")
    check_layout(poster, image(poster.png))
    texts = [t.get_text() for t in poster.figure.texts]
    primary = base.study.primary
    before, after = base.figure(primary.id).share, result.after.figure(primary.id).share
    assert any(f"{before:.1%} → {after:.1%}" in t for t in texts)
    old0, old1 = base.figure(f"{primary.id}_65plus").share, result.after.figure(f"{primary.id}_65plus").share
    assert any(f"其中65岁及以上老年人：{old0:.1%} → {old1:.1%}" in t for t in texts)  # the 65+ group's share
    assert any(f"其中65岁及以上老年人：新增覆盖 {result.newly_covered_of('65plus'):,.0f} 人，"
               f"失去覆盖 {result.lose_coverage_of('65plus'):,.0f} 人" in t for t in texts)
    assert any("合成示范数据" in t for t in texts)                       # the synthetic-data notice
    assert any(base.inputs.input_hash[:8] in t for t in texts)           # the input hash
    legend = "".join(t.get_text() for t in poster.legend_axes.texts).replace("\n", "").replace(" ", "")
    assert "白色（无填色）：超过30分钟或无道路可达，且无人居住" in legend        # what white means
    assert "新增覆盖" in legend
    assert "失去覆盖" in legend
    # every township is labelled with its share
    labels = [t.get_text() for t in poster.map_axes.texts]
    assert len([t for t in labels if t.endswith("%")]) == len(base.inputs.boundaries)


def test_cjk_font_has_every_glyph_and_draws_distinct_shapes():
    text = "示范县医疗卫生服务可及性评估乡镇覆盖率图例"
    try:
        chosen = fonts.poster_fonts(text)
    except fonts.PosterFontError as exc:
        pytest.skip(f"no CJK font installed: {exc}")
    codes = {ord(c) for c in text}
    assert codes <= fonts.charmap(str(chosen.paths[0]))
    # two different characters rendered in the chosen font are different pictures (tofu boxes would be equal)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    pictures = []
    for char in "医疗":
        fig = Figure(figsize=(0.6, 0.6), dpi=50)
        FigureCanvasAgg(fig)
        fig.text(0.1, 0.1, char, family=list(chosen.families), fontsize=24)
        fig.canvas.draw()
        pictures.append(np.asarray(fig.canvas.buffer_rgba())[..., 0].copy())
    assert (pictures[0] < 128).sum() > 20
    assert not np.array_equal(pictures[0], pictures[1])


def test_missing_glyph_stops_with_what_and_how():
    with pytest.raises(fonts.PosterFontError, match=r"no installed font has the characters .*HEALTHREACH_FONT") as err:
        fonts.poster_fonts("医\U0010fffd")
    assert "\\U0010fffd" in str(err.value)  # named as an escape, since it has no picture


def test_font_file_from_the_environment_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv(fonts.FONT_ENV, str(tmp_path / "none.ttf"))
    with pytest.raises(fonts.PosterFontError, match=r"HEALTHREACH_FONT=.*none\.ttf: no such font file"):
        fonts.poster_fonts("医")


def test_english_text_needs_no_cjk_font():
    assert fonts.poster_fonts("Travel time ≤ 15 min → 91.3%").families == (fonts.SYMBOL_FAMILY,)


def test_page_names():
    assert check_page("a3") == "A3"
    assert set(PAGES_MM) == {"A3", "A4"}
    from healthreach.errors import InputError
    with pytest.raises(InputError, match="--poster A3 or --poster A4"):
        check_page("A0")


def test_scale_bar_is_a_round_length_within_a_quarter():
    assert scale_bar_m(23_400) == 5000
    assert scale_bar_m(1000) == 200
    assert scale_bar_m(3_000) == 500
    assert scale_label(5000) == "5 km"
    assert scale_label(500) == "500 m"
    with pytest.raises(ValueError, match="positive width"):
        scale_bar_m(0)


def test_north_arrow_follows_the_meridian_convergence():
    from pyproj import Transformer
    to_utm = Transformer.from_crs(4326, "EPSG:32650", always_xy=True)  # UTM 50N: central meridian 117° E
    assert north_angle_deg("EPSG:32650", *to_utm.transform(117.0, 30.0)) == pytest.approx(0.0, abs=1e-3)
    # east of the central meridian grid north lies east of true north by about (lon - 117°) * sin(lat)
    expected = -math.degrees(math.atan(math.tan(math.radians(3.0)) * math.sin(math.radians(30.0))))
    assert north_angle_deg("EPSG:32650", *to_utm.transform(120.0, 30.0)) == pytest.approx(expected, abs=0.02)


def test_polygon_holes_stay_empty_when_filled():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    ring = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(3, 3), (3, 7), (7, 7), (7, 3)]])  # hole CCW
    fig = Figure(figsize=(1, 1), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.set_axis_off()
    ax.add_artist(polygon_patch([ring], facecolor="black", edgecolor="none"))
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., 0]
    assert pixels[50, 50] > 200   # the hole's centre: white
    assert pixels[90, 10] < 50    # inside the ring: black


def test_wrap_keeps_figures_whole_and_closing_brackets_on_the_line():
    assert wrap("Emergency response within 18 min (incl. 3 min dispatch)", 12) == [
        "Emergency response", "within 18 min (incl.", "3 min dispatch)"]
    lines = wrap("15分钟圈外人口（每格人数）", 5)
    assert all(not line.startswith("）") for line in lines)
    assert "".join(lines) == "15分钟圈外人口（每格人数）"


def test_cli_audit_and_scenario_write_the_poster(tmp_path):
    study = write_study(tmp_path / "s")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["audit", str(study), "--out", str(out), "--no-map", "--poster", "A4"])
    assert result.exit_code == 0, result.output
    assert (out / "poster.pdf").read_bytes().startswith(b"%PDF")
    assert image((out / "poster.png").read_bytes()).shape[1] == pytest.approx(297 / 25.4 * PNG_DPI, abs=1)
    (tmp_path / "plans").mkdir()
    plan = tmp_path / "plans" / "plan.yaml"
    from pyproj import Transformer
    lon, lat = Transformer.from_crs(CRS, 4326, always_xy=True).transform(X0 + 3200, Y0 + 600)
    plan.write_text(yaml.safe_dump({"name": "新建卫生院", "study": str(study), "changes": [
        {"add": "NEW1", "name": "新卫生院", "type": "township_hc", "at": {"lon": lon, "lat": lat}}]},
        allow_unicode=True), encoding="utf-8")
    scen = tmp_path / "scen"
    result = CliRunner().invoke(cli, ["scenario", str(plan), "--out", str(scen), "--no-map", "--poster", "a3",
                                      "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert (scen / "poster.pdf").read_bytes().startswith(b"%PDF")
    assert image((scen / "poster.png").read_bytes()).shape[1] == pytest.approx(420 / 25.4 * PNG_DPI, abs=1)
    result = CliRunner().invoke(cli, ["audit", str(study), "--out", str(out), "--poster", "A0"])
    assert result.exit_code != 0
    assert "A0" in result.output
