"""Command line: generate the synthetic demo county (示范县) into a folder.

Run as ``python -m tools.demo`` or ``python tools/demo/generate.py`` from the repository root.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.demo.grid import log
from tools.demo.pipeline import generate
from tools.demo.write import write_outputs, write_readme

DEMO_FOLDER = Path(__file__).resolve().parents[2] / "healthreach" / "demo"


def main(argv=None):
    """Generate the demo county into --out (default: the package's demo folder), with its README."""
    ap = argparse.ArgumentParser(description="Generate the synthetic demo county (示范县) for healthreach.")
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--out", default=str(DEMO_FOLDER), help="output folder (default: the package's demo folder)")
    ap.add_argument("--extent-km", type=float, default=None,
                    help="side of a smaller square grid around the county seat, km (40 or more; default: the "
                         "demo's 90 x 88 km)")
    a = ap.parse_args(argv)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    dc = generate(a.seed, a.extent_km)
    st = write_outputs(dc, a.out, a.seed)
    write_readme(a.out, a.seed, st)
    log(f"done: {len(st['roads'])} road segments, population {st['pop_total']:.0f}, area {st['area_km2']:.0f} km2")


if __name__ == "__main__":
    main()
