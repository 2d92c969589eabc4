"""Band polygon layers kept in the disk cache, so that a later run drawing the same layer reads it back.

A layer (:class:`healthreach.isochrones.BandPolygons`) is named by a hash of everything it is drawn from:
the analysis grid (its transform, shape and CRS), the study's cells, the cell values, the breaks and the
simplification tolerance (metres), with the source of this package and the versions of GEOS and GDAL
that draw it. It is kept as an ``.npz`` of the bands present and each band's geometry as WKB (exact
coordinates, no pickle) under ``bands/`` in the cache root.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import shapely

from healthreach.cache import code_digest, entry_path, keep_npz, read_npz
from healthreach.grid import Grid

log = logging.getLogger(__name__)
FOLDER = "bands"


class BandStore:
    """The band layers of one study's grid and cells in the cache folder ``root / "bands"``."""

    def __init__(self, root: Path, grid: Grid, flat: np.ndarray):
        from rasterio import __gdal_version__

        self.folder = Path(root) / FOLDER
        digest = hashlib.blake2b(b"band-polygons-v1", digest_size=16)
        for part in (repr(tuple(grid.transform)), repr(grid.shape), str(grid.crs), shapely.geos_version_string,
                     __gdal_version__, code_digest()):
            digest.update(part.encode())
        digest.update(np.ascontiguousarray(flat, np.int64).tobytes())
        self.context = digest.hexdigest()

    def path(self, key: tuple) -> Path:
        """The file of the layer ``key`` (cell values' digest, breaks, simplification in metres)."""
        return entry_path(self.folder, self.context, key)

    def read(self, key: tuple) -> tuple[np.ndarray, np.ndarray] | None:
        """(bands present, their geometries) of the layer ``key``, or None when it is not kept (or unreadable)."""
        path = self.path(key)
        z = read_npz(path, "band layer")
        if z is None:
            return None
        try:
            present, wkb, ends = z["present"], z["wkb"].tobytes(), z["ends"]
            starts = np.concatenate([[0], ends])[:-1]
            geoms = shapely.from_wkb([wkb[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)])
        except (KeyError, ValueError, shapely.errors.GEOSException) as exc:
            log.warning("band layer cache %s not read (%s)", path, exc)
            return None
        if len(geoms) != len(present):
            log.warning("band layer cache %s not read (%d geometries for %d bands)", path, len(geoms), len(present))
            return None
        return present, np.asarray(geoms, dtype=object)

    def write(self, key: tuple, present: np.ndarray, geoms: np.ndarray) -> None:
        """Keep the layer ``key`` (written atomically; a failure to write is only logged)."""
        blobs = [bytes(b) for b in shapely.to_wkb(geoms)] if len(geoms) else []
        ends = np.cumsum([len(b) for b in blobs], dtype=np.int64)
        keep_npz(self.path(key), "band layer", present=np.asarray(present, np.int64),
                 wkb=np.frombuffer(b"".join(blobs), np.uint8), ends=ends)
