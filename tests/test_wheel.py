"""The built wheel carries the demo: a fresh environment with only the wheel runs `healthreach audit`.

Builds the wheel from a copy of the package's sources, installs it without
dependencies into a new virtual environment (the dependencies come from the
environment running the tests), and audits the bundled demo from a folder
outside the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from healthreach.study import DEMO_STUDY

pytestmark = pytest.mark.slow  # builds a wheel and a virtual environment: about 30 s

REPO = Path(__file__).resolve().parents[1]
DEMO_FILES = ("study.yaml", "roads.gpkg", "facilities.csv", "population.tif", "population_65plus.tif", "townships.gpkg",
              "villages.gpkg", "README.md")
DEMO_PEOPLE = 354_608  # the demo county's population raster, summed inside the county


def _run(args: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    # check=False: a failure is asserted by the caller, with the command's output in the message
    return subprocess.run([str(a) for a in args],  # noqa: S603  the test's own commands (pip, python, healthreach)
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the sources (the checkout is left untouched by the build)."""
    if not (DEMO_STUDY.parent / "roads.gpkg").exists():
        pytest.skip("the demo county data (healthreach/demo) has not been generated")
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "healthreach", src / "healthreach",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = _run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", "-w", root / "dist"], cwd=root)
    if built.returncode != 0 and "No matching distribution found for setuptools" in built.stdout + built.stderr:
        pytest.skip(f"cannot build a wheel here: the build backend (setuptools>=77) is not installable:\n"
                    f"{built.stderr[-2000:]}")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (found,) = (root / "dist").glob("healthreach-*.whl")
    return found


def test_wheel_ships_the_demo_and_type_marker(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f"healthreach/demo/{n}" for n in DEMO_FILES if f"healthreach/demo/{n}" not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert "healthreach/py.typed" in names
    assert {"healthreach/serve/static/serve.js", "healthreach/serve/static/serve.css"} <= names  # the page's files
    assert not any(n.startswith(("tools/", "tests/", "data/")) for n in names)


def test_fresh_environment_with_only_the_wheel_audits_the_demo(wheel, tmp_path):
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    # The dependencies come from the environment running the tests (no downloads): its site folders are
    # appended to the new environment's path, after the new environment's own site-packages.
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp_path).stdout.strip())
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "_test_environment.pth").write_text("\n".join(ours) + "\n")
    installed = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
                      wheel], cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.setdefault("HEALTHREACH_CACHE", str(tmp_path / "cache"))
    where = _run([python, "-c", "import healthreach; print(healthreach.__file__)"], cwd=elsewhere, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr

    out = tmp_path / "out"
    ran = _run([venv / "bin" / "healthreach", "audit", "--out", out, "--no-map"], cwd=elsewhere, env=env)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert round(float(summary["population"])) == DEMO_PEOPLE, summary["population"]
