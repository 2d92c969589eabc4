"""A study's read and checked inputs kept in the disk cache, so that a second run of an unchanged study reads
one file instead of every input (boundaries, population, facilities, the network and its attachments).

An entry is named by :func:`entry`, a hash of everything the inputs are made from: the study file's every
setting (paths included, since messages name the files), the content of every input file and the profile
(:func:`healthreach.inputs.study_hash`), the source of this package (any change to the code that reads them)
and the versions of the libraries that read, project and attach them (numpy, pandas, shapely, pyproj and its
PROJ, GDAL through pyogrio and rasterio, scipy). Studies whose inputs are not all local files (roads
downloaded from OpenStreetMap, boundaries by administrative code from a data package) are never kept.

The entry is a pickle of :class:`healthreach.inputs.StudyInputs` written atomically under ``inputs/`` in the
cache root; like every cache of Python objects it must live in a folder only its user can write. An entry
that cannot be read is ignored (a warning in the log) and written again.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from healthreach.cache import cache_key
from healthreach.outputs import clean_stale, write_atomic

if TYPE_CHECKING:
    from healthreach.inputs import StudyInputs
    from healthreach.study import StudyFile

log = logging.getLogger(__name__)
PACKAGE = Path(__file__).resolve().parent
FOLDER = "inputs"
STALE_TMP_S = 3600.0  # a temporary this old was left by a killed run


def kept(study: StudyFile) -> bool:
    """True when every input of ``study`` is a local file (only such inputs are kept)."""
    return study.roads.source is None and study.boundaries.path is not None


def code_digest() -> str:
    """A hash of every Python source file of this package (names and content)."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """The versions of the libraries whose behaviour the inputs depend on."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyogrio
    import pyproj
    import rasterio
    import scipy
    import shapely
    from pyproj.network import is_network_enabled  # type: ignore[attr-defined]  # pyproj's stub lacks it

    return {"numpy": np.__version__, "pandas": pd.__version__, "geopandas": gpd.__version__,
            "shapely": shapely.__version__, "pyproj": pyproj.__version__, "proj": pyproj.proj_version_str,
            "proj_network": str(is_network_enabled()), "pyogrio": pyogrio.__version__,
            "gdal": pyogrio.__gdal_version_string__, "rasterio": rasterio.__version__,
            "rasterio_gdal": rasterio.__gdal_version__, "scipy": scipy.__version__}


def entry(study: StudyFile, input_hash: str, cache: Path) -> Path | None:
    """The cache file of ``study``'s inputs (``input_hash``: :func:`healthreach.inputs.study_hash`), or None
    when its inputs are not kept (see :func:`kept`).
    """
    if not kept(study):
        return None
    key = cache_key("study-inputs-v1", input_hash, study.model_dump(mode="json"), code_digest(), library_versions())
    return cache / FOLDER / f"{key}.pickle"


def read(path: Path) -> StudyInputs | None:
    """The inputs kept at ``path``, or None when there are none (or they cannot be read)."""
    from healthreach.inputs import StudyInputs

    if not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            inputs = pickle.load(fh)  # noqa: S301  our own cache entry, named by the hash of what made it
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError) as exc:
        log.warning("cached inputs %s not read (%s)", path, exc)
        return None
    if not isinstance(inputs, StudyInputs):
        log.warning("cached inputs %s not read (it holds a %s)", path, type(inputs).__name__)
        return None
    return inputs


def write(path: Path, inputs: StudyInputs) -> None:
    """Keep ``inputs`` at ``path`` (atomically; temporaries of killed runs beside it removed first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path.parent, STALE_TMP_S)
    try:
        write_atomic(path, partial(_dump, inputs))
    except OSError as exc:
        log.warning("inputs cache not written (%s)", exc)


def _dump(inputs: StudyInputs, tmp: Path) -> None:
    with tmp.open("wb") as fh:
        pickle.dump(inputs, fh, protocol=pickle.HIGHEST_PROTOCOL)
