"""What the command line imports before a command needs it (modules loaded, not a timing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from healthreach.memory import HUGEPAGE_ENV
from healthreach.study import DEMO_STUDY

# libraries that take tenths of a second each to import; none is needed to parse a command line
HEAVY = ("pandas", "numpy", "scipy", "geopandas", "shapely", "pyproj", "rasterio", "pyogrio", "folium", "branca",
         "openpyxl", "numba", "dask", "distributed", "networkx", "osmnx", "pydantic", "yaml")


def loaded_after(code: str, cwd=None) -> set[str]:
    """Top-level names of the modules loaded by running ``code`` in a new interpreter."""
    probe = (f"import sys, json\n{code}\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False,  # noqa: S603
                          cwd=cwd)  # this interpreter, our own probe
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def run_cli(*args: str) -> str:
    """The ``healthreach`` command run in-process from ``code``, exit status 0 checked."""
    return (f"from healthreach.cli import cli\n"
            f"try:\n    cli({list(args)!r})\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code")


def test_the_probe_sees_a_heavy_import():
    assert {"pandas", "numpy"} <= loaded_after("import pandas")


def test_importing_the_command_line_loads_no_heavy_library():
    assert loaded_after("import healthreach.cli") & set(HEAVY) == set()


@pytest.mark.parametrize("args", [("--help",), ("audit", "--help"), ("scenario", "--help"), ("batch", "--help"),
                                  ("--version",)])
def test_help_and_version_load_no_heavy_library(args):
    loaded = loaded_after(run_cli(*args))
    assert loaded & set(HEAVY) == set()
    assert "rich" not in loaded  # the consoles are made when a command first prints, not to show help


def test_a_command_that_prints_loads_rich():  # the probe above can see rich
    assert "rich" in loaded_after("from healthreach.cli.app import error_console\nerror_console()")


@pytest.mark.slow
@pytest.mark.skipif(not (DEMO_STUDY.parent / "roads.gpkg").is_file(), reason="demo county data not generated")
def test_an_audit_without_a_map_loads_no_map_library_nor_unused_readers(tmp_path):
    loaded = loaded_after(run_cli("audit", "--no-map", "--out", str(tmp_path / "out")), cwd=tmp_path)
    assert "pandas" in loaded  # the audit ran, its tables were written
    assert (tmp_path / "out" / "summary.json").is_file()
    # no map; roads from a GeoPackage (not OpenStreetMap XML or GraphML); xlsxwriter, not openpyxl, writes audit.xlsx
    assert {"folium", "branca", "networkx", "osmnx", "dask", "openpyxl"} & loaded == set()
    assert "xlsxwriter" in loaded


def numpy_hugepages_in_command(env_value: str | None) -> str:
    """Whether numpy uses 2 MiB pages ("True"/"False") in a ``healthreach --version`` process whose
    ``NUMPY_MADVISE_HUGEPAGE`` is ``env_value`` (None: unset), read as the command exits.
    """
    probe = ("import atexit, sys\n"
             "def report():\n"
             "    from numpy._core.multiarray import _set_madvise_hugepage\n"
             "    print(_set_madvise_hugepage(False))\n"
             "atexit.register(report)\n"
             "sys.argv = ['healthreach', '--version']\n"
             "from healthreach.cli import main\n"
             "main()\n")
    env = {k: v for k, v in os.environ.items() if k != HUGEPAGE_ENV}
    if env_value is not None:
        env[HUGEPAGE_ENV] = env_value
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False,  # noqa: S603
                          env=env)  # this interpreter, our own probe
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_the_command_line_asks_numpy_for_small_pages_unless_told_otherwise():
    assert numpy_hugepages_in_command(None) == "False"
    assert numpy_hugepages_in_command("1") == "True"
    assert numpy_hugepages_in_command("0") == "False"
