"""The demo's people aged 65 and over (``population_65plus.tif``): synthetic, like the rest of the demo.

People aged 65+ per cell = the demo population per cell x an age share. The
share is a seeded, smooth field: a base share by the class of the cell's
township (urban 13 %, rural 20 %: rural counties are older, their young
having moved to the cities) times ``exp(0.25 z)``, where ``z`` is Gaussian
white noise (seed: the demo's seed + 65) smoothed by a Gaussian filter of
3 km (30 cells) and scaled to unit standard deviation; clipped to 4-45 %.
Values are rounded to 0.01 people, as the population is, and never exceed it.

``python -m tools.demo.ageing --out healthreach/demo`` adds the layer to a
generated demo without generating the rest again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from rasterio import features
from scipy.ndimage import gaussian_filter

from healthreach.study import DEMO_STUDY

BASE_SHARE = {"urban": 0.13, "rural": 0.20}  # share of people aged 65 and over, by township class
SPREAD = 0.25        # log-normal spread of the share around the base
SMOOTH_CELLS = 30    # Gaussian filter sigma, cells (3 km at 100 m)
SHARE_RANGE = (0.04, 0.45)
SEED_OFFSET = 65     # the field's seed: the demo's seed + this


def age_share(classes: np.ndarray, seed: int) -> np.ndarray:
    """The 65+ share per cell (0..1) for an array of township classes ('urban', 'rural', '' outside)."""
    rng = np.random.default_rng(seed + SEED_OFFSET)
    z = gaussian_filter(rng.standard_normal(classes.shape), SMOOTH_CELLS, mode="reflect")
    z /= z.std()
    base = np.where(classes == "urban", BASE_SHARE["urban"], BASE_SHARE["rural"])
    return np.clip(base * np.exp(SPREAD * z), *SHARE_RANGE)


def write_ageing(out: Path | str, seed: int) -> Path:
    """Write ``population_65plus.tif`` beside the demo's ``population.tif`` (same grid, nodata, tags)."""
    out = Path(out)
    with rasterio.open(out / "population.tif") as src:
        people = src.read(1, masked=True)
        profile, transform, crs = src.profile, src.transform, src.crs
    towns = gpd.read_file(out / "townships.gpkg", layer="townships").to_crs(crs)
    codes = features.rasterize(((geom, i + 1) for i, geom in enumerate(towns.geometry)), out_shape=people.shape,
                               transform=transform, fill=0, dtype="int32")
    classes = np.r_[np.array([""], object), towns["class"].to_numpy(object)][codes]
    share = age_share(classes, seed)
    values = np.ma.getdata(people).astype(np.float64)
    old = np.minimum(np.round(values * share, 2), values)
    arr = np.where(np.ma.getmaskarray(people), profile["nodata"], old).astype(np.float32)
    path = out / "population_65plus.tif"
    path.unlink(missing_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr, 1)
        dst.update_tags(DESCRIPTION="Synthetic demo population aged 65 and over (people per 100 m cell) of 示范县 "
                                    "(Demo County) - not a real place: the demo population times a seeded age-share "
                                    "field (tools/demo/ageing.py).", UNITS="people per cell")
        dst.set_band_description(1, "population aged 65+ (synthetic demo)")
    return path


def main(argv: list[str] | None = None) -> None:
    """Add population_65plus.tif to a generated demo folder."""
    ap = argparse.ArgumentParser(description="Add the synthetic 65+ population layer to the demo county.")
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--out", default=str(DEMO_STUDY.parent), help="the demo folder (default: the package's)")
    a = ap.parse_args(argv)
    path = write_ageing(a.out, a.seed)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
