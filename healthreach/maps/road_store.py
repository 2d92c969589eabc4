"""Road layers kept in the disk cache, so that every later map of the same road network reads its road layer
back instead of merging, simplifying and encoding the lines again.

A kept layer is named by a hash of everything it is drawn from: the network's lines (every coordinate, how
many each line has, each line's class) and their CRS, which classes the layer holds, the simplification
tolerance (metres) and the display datum, with the source of this package and the versions of GEOS and PROJ
that draw it. It is kept as an ``.npz`` holding the layer's GeoJSON text (geometries already encoded for the
page, :func:`healthreach.maps.assets.encode_geometries`) under ``roads/`` in the cache root.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from healthreach.cache import code_digest, entry_path, keep_npz, read_npz

log = logging.getLogger(__name__)
FOLDER = "roads"
HASH_CHUNK_LINES = 200_000  # lines whose coordinates are hashed at a time (a few MB, reused: no large temporary)


def lines_digest(lines: gpd.GeoDataFrame) -> str:
    """A hash of a network's lines: CRS, every coordinate, coordinates per line and each line's class."""
    digest = hashlib.blake2b(b"road-lines-v1", digest_size=16)
    digest.update(str(lines.crs).encode())
    geoms = lines.geometry.to_numpy()
    for start in range(0, len(geoms), HASH_CHUNK_LINES):
        part = geoms[start:start + HASH_CHUNK_LINES]
        digest.update(np.ascontiguousarray(shapely.get_num_coordinates(part), np.int64).tobytes())
        digest.update(shapely.get_coordinates(part).tobytes())
    codes, names = pd.factorize(lines["road_class"])
    digest.update(np.ascontiguousarray(codes, np.int64).tobytes())
    digest.update(json.dumps([[type(n).__name__, str(n)] for n in names]).encode())  # 1 is not "1"
    return digest.hexdigest()


class RoadStore:
    """The road layers of one network's lines in the cache folder ``root / "roads"`` (the lines hashed once, when
    the store is made: a study makes one, :attr:`healthreach.evaluation.Study.road_store`).
    """

    def __init__(self, root: Path, lines: gpd.GeoDataFrame):
        self.lines = lines  # the lines whose layers this store keeps
        self.folder = Path(root) / FOLDER
        digest = hashlib.blake2b(b"road-layer-v1", digest_size=16)
        for part in (lines_digest(lines), shapely.geos_version_string, pyproj.proj_version_str, code_digest()):
            digest.update(part.encode())
        self.context = digest.hexdigest()

    def path(self, key: tuple) -> Path:
        """The file of the layer ``key`` (its classes, simplification in metres, display datum)."""
        return entry_path(self.folder, self.context, key)

    def read(self, key: tuple) -> dict | None:
        """The layer ``key`` as a GeoJSON FeatureCollection, or None when it is not kept (or unreadable)."""
        path = self.path(key)
        z = read_npz(path, "road layer")
        if z is None:
            return None
        try:
            layer = json.loads(z["geojson"].tobytes())
        except (KeyError, ValueError) as exc:  # a JSON or UTF-8 decoding error is a ValueError
            log.warning("road layer cache %s not read (%s)", path, exc)
            return None
        if not isinstance(layer, dict) or not isinstance(layer.get("features"), list):
            log.warning("road layer cache %s not read (not a FeatureCollection)", path)
            return None
        return layer

    def write(self, key: tuple, layer: dict) -> None:
        """Keep the layer ``key`` (written atomically; a failure to write is only logged)."""
        text = json.dumps(layer, ensure_ascii=False, separators=(",", ":")).encode()
        keep_npz(self.path(key), "road layer", geojson=np.frombuffer(text, np.uint8))
