"""A study's read and checked inputs kept in the disk cache, so that a second run of an unchanged study reads
one file instead of every input (boundaries, population, facilities, the network and its attachments).

An entry is named by :func:`entry`, a hash of everything the inputs are made from: the study file's every
setting (paths included, since messages name the files), the content of every input file and the profile
(:func:`healthreach.inputs.study_hash`; side files, a GeoPackage's write-ahead log and the files a virtual
raster names included), the source of this package (any change to the code that reads them), the versions of
the libraries that read, project and attach them (numpy, pandas, shapely, pyproj and its PROJ, GDAL through
pyogrio and rasterio, scipy, openpyxl) and the GDAL and PROJ settings in the environment (``GDAL_*``,
``SHAPE_ENCODING``, ``PROJ_*``, ...). Studies whose inputs are not all local files (roads downloaded from
OpenStreetMap, boundaries by administrative code from a data package, a virtual raster, which may name
files anywhere) are never kept.

The entry is a pickle of :class:`healthreach.inputs.StudyInputs` behind a checksum of its bytes, written
atomically under ``inputs/`` in the cache root; like every cache of Python objects it must live in a folder
only its user can write. An entry that cannot be read or fails its checksum is ignored (a warning in the log)
and written again; a cache folder that cannot be written is only logged.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from healthreach.cache import cache_key, code_digest
from healthreach.outputs import clean_stale, write_atomic

if TYPE_CHECKING:
    from healthreach.inputs import StudyInputs
    from healthreach.study import StudyFile

log = logging.getLogger(__name__)
FOLDER = "inputs"
STALE_TMP_S = 3600.0  # a temporary this old was left by a killed run
CHECKSUM_BYTES = 32  # an entry starts with the BLAKE2b digest of the pickle after it
# environment variables that change how GDAL and PROJ read and project the inputs (a Shapefile's encoding, ...)
ENVIRONMENT = ("GDAL_", "OGR_", "SHAPE_", "GTIFF_", "CPL_", "PROJ_", "OSR_", "VSI_")


def kept(study: StudyFile) -> bool:
    """True when every input of ``study`` is a local file (only such inputs are kept)."""
    return (study.roads.source is None and study.boundaries.path is not None
            and not any(path.suffix.lower() == ".vrt" for path in study.input_files))


def environment() -> dict[str, str]:
    """The GDAL and PROJ settings of this process's environment."""
    return {name: value for name, value in sorted(os.environ.items()) if name.startswith(ENVIRONMENT)}


def library_versions() -> dict[str, str]:
    """The versions of the libraries whose behaviour the inputs depend on."""
    from importlib.metadata import version

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
            "rasterio_gdal": rasterio.__gdal_version__, "scipy": scipy.__version__,
            "openpyxl": version("openpyxl")}  # read without importing it: a run with no .xlsx input never loads it


def entry(study: StudyFile, input_hash: str, cache: Path) -> Path | None:
    """The cache file of ``study``'s inputs (``input_hash``: :func:`healthreach.inputs.study_hash`), or None
    when its inputs are not kept (see :func:`kept`).
    """
    if not kept(study):
        return None
    key = cache_key("study-inputs-v2", input_hash, study.model_dump(mode="json"), code_digest(), library_versions(),
                    environment())
    return cache / FOLDER / f"{key}.pickle"


def read(path: Path) -> StudyInputs | None:
    """The inputs kept at ``path``, or None when there are none (or they cannot be read)."""
    from healthreach.inputs import StudyInputs

    if not path.is_file():
        return None
    try:
        data = path.read_bytes()
        body = data[CHECKSUM_BYTES:]
        if hashlib.blake2b(body, digest_size=CHECKSUM_BYTES).digest() != data[:CHECKSUM_BYTES]:
            log.warning("cached inputs %s not read (its checksum does not match: a damaged file)", path)
            return None
        inputs = pickle.loads(body)  # noqa: S301  our own cache entry, named by the hash of what made it
    except Exception as exc:  # noqa: BLE001  any failure to read an entry back means reading the inputs again
        log.warning("cached inputs %s not read (%s)", path, exc)
        return None
    if not isinstance(inputs, StudyInputs):
        log.warning("cached inputs %s not read (it holds a %s)", path, type(inputs).__name__)
        return None
    return inputs


def write(path: Path, inputs: StudyInputs) -> None:
    """Keep ``inputs`` at ``path`` (atomically; temporaries of killed runs beside it removed first)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(path.parent, STALE_TMP_S)
        write_atomic(path, partial(_dump, inputs))
    except OSError as exc:
        log.warning("inputs cache not written (%s)", exc)


def _dump(inputs: StudyInputs, tmp: Path) -> None:
    body = pickle.dumps(inputs, protocol=pickle.HIGHEST_PROTOCOL)
    with tmp.open("wb") as fh:
        fh.write(hashlib.blake2b(body, digest_size=CHECKSUM_BYTES).digest())
        fh.write(body)
