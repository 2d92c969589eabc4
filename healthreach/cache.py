"""The on-disk cache: where it lives, how its entries are keyed and written.

Built networks (``networks/``), cell attachments (``snaps/``) and OpenStreetMap
downloads (``osm/``) are kept under one root, :func:`cache_dir`. Entries are
named by :func:`cache_key`, a hash of everything that determines them (the
content of every input file included), and written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from healthreach.outputs import clean_stale, write_atomic

CACHE_ENV = "HEALTHREACH_CACHE"  # the one environment variable that moves the cache root


def cache_dir() -> Path:
    """The cache root: ``$HEALTHREACH_CACHE`` or ``~/.cache/healthreach`` (the only place it is read)."""
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "healthreach"))


# files a GIS reader takes from beside the named one (a Shapefile's attributes, CRS, encoding; raster worlds)
SIDECARS = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".tfw", ".tifw", ".wld", ".aux.xml", ".ovr")


def input_files(path: Path) -> list[Path]:
    """Every file a reader takes for the input ``path``: the file and its side files (a Shapefile's
    ``.dbf``, ``.prj``, ...), or every file inside a folder input (a File Geodatabase).
    """
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    stem = path.with_suffix("")
    sides = [p for suffix in SIDECARS for p in (stem.with_name(stem.name + suffix), path.with_name(path.name + suffix))
             if p.is_file() and p != path]
    return [path, *dict.fromkeys(sides)]


def cache_key(*parts: object) -> str:
    """A stable hash of what determines a result: paths are hashed by the content of every file the
    input is read from (:func:`input_files`), anything else by its JSON text.
    """
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path) and part.exists():
            for file in input_files(part):
                digest.update(file.name.encode())
                with file.open("rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        digest.update(block)
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:20]


STALE_CACHE_TMP_S = 3600.0  # a cache temporary this old was left by a killed run (writing one takes seconds)


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write a cache file atomically (:func:`healthreach.outputs.write_atomic`: a temporary of this
    process beside ``path``, then renamed).

    Temporaries that killed runs left in the folder (their process gone, or
    older than ``STALE_CACHE_TMP_S`` seconds) are removed first.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path.parent, STALE_CACHE_TMP_S)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:  # a file object: np.savez would add ".npz" to a path
            np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy's stub reads **kwds as allow_pickle

    write_atomic(path, write)
