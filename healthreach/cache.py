"""The on-disk cache: where it lives, how its entries are keyed and written.

Built networks (``networks/``), cell attachments (``snaps/``) and OpenStreetMap
downloads (``osm/``) are kept under one root, :func:`cache_dir`. Entries are
named by :func:`cache_key`, a hash of everything that determines them (the
content of every input file included), and written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
import zlib
from functools import cache
from pathlib import Path

import numpy as np

from healthreach.outputs import clean_stale, write_atomic

log = logging.getLogger(__name__)
CACHE_ENV = "HEALTHREACH_CACHE"  # the one environment variable that moves the cache root


def cache_dir() -> Path:
    """The cache root: ``$HEALTHREACH_CACHE`` or ``~/.cache/healthreach`` (the only place it is read)."""
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "healthreach"))


# files a GIS reader takes from beside the named one (a Shapefile's attributes, CRS, encoding; raster worlds and
# masks; a GeoPackage's edits not yet written back from SQLite's write-ahead log)
SIDECARS = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".tfw", ".tifw", ".wld", ".aux.xml", ".ovr", ".msk", "-wal")
PACKAGE = Path(__file__).resolve().parent


def input_files(path: Path) -> list[Path]:
    """Every file a reader takes for the input ``path``: the file and its side files (a Shapefile's
    ``.dbf``, ``.prj``, ...), every file inside a folder input (a File Geodatabase), and the local files a
    GDAL virtual raster (``.vrt``) names, theirs included.
    """
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    files, todo, seen = [], [path], set()
    while todo:  # the file, then what each virtual raster names (a loop of them is read once)
        file = todo.pop(0)
        if file.resolve() in seen:
            continue
        seen.add(file.resolve())
        stem = file.with_suffix("")
        files += [file, *(p for suffix in SIDECARS for p in (stem.with_name(stem.name + suffix),
                                                             file.with_name(file.name + suffix))
                          if p.is_file() and p != file)]
        if file.suffix.lower() == ".vrt":
            todo += vrt_sources(file)
    return list(dict.fromkeys(files))


def vrt_sources(path: Path) -> list[Path]:
    """The local files a GDAL virtual raster names (``SourceFilename``, relative to it or not); none when it
    cannot be parsed (GDAL then stops on it with its own error).
    """
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()  # noqa: S314  a local study file the user gave
    except (OSError, ET.ParseError):
        return []
    found = []
    for element in root.iter("SourceFilename"):
        name = (element.text or "").strip()
        source = path.parent / name if element.get("relativeToVRT") == "1" else Path(name)
        if name and source.is_file():
            found.append(source)
    return found


@cache
def code_digest() -> str:
    """A hash of every Python source file of this package (names and content): a cache entry of derived
    Python objects is keyed by it, so a change to the code that made them is never read back. Read once per
    process (the code a process runs is the code it imported).
    """
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


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


def entry_path(folder: Path, context: str, key: tuple) -> Path:
    """The ``.npz`` file in ``folder`` of the entry ``key`` of a store whose inputs hash to ``context``."""
    name = hashlib.blake2b(f"{context}{key!r}".encode(), digest_size=16).hexdigest()
    return folder / f"{name}.npz"


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


def read_npz(path: Path, what: str) -> dict[str, np.ndarray] | None:
    """Every array of the cache file ``path``, or None when there is none or it cannot be read (damaged,
    truncated, not an npz): an unreadable entry counts as absent, with a warning naming ``what`` it holds.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {name: z[name] for name in z.files}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        log.warning("%s cache %s not read (%s)", what, path, exc)
        return None


def keep_npz(path: Path, what: str, **arrays: np.ndarray) -> None:
    """:func:`save_npz`, for an entry the program can do without: a failure to write (a read-only or full
    cache) is only logged, naming ``what`` the entry holds.
    """
    try:
        save_npz(path, **arrays)
    except OSError as exc:
        log.warning("%s cache not written (%s)", what, exc)
