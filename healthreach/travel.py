"""Travel surfaces for the standards: one pass per (group, mode, weight, direction), read off at the cells."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from healthreach.cache import save_npz
from healthreach.inputs import Cells
from healthreach.network import Attachment, Network, SegmentIndex
from healthreach.profile import Group
from healthreach.reach import Direction, Surface, nearest_facility

log = logging.getLogger(__name__)


class Need(NamedTuple):
    """One travel surface a standard needs."""

    group: str
    mode: str
    weight: str
    direction: Direction


@dataclass(frozen=True)
class CellCost:
    """Cost per study-area cell (seconds or metres) and the nearest facility's row (-1: none)."""

    cost: np.ndarray
    facility: np.ndarray
    surface: Surface


def in_group(facilities: Mapping[str, Any], group: Group) -> np.ndarray:
    """Which facilities belong to a group (by type, or by the emergency flag).

    ``facilities``: a facility table, or its columns as arrays.
    """
    types = frozenset(group.types)  # a set lookup per row: np.isin costs more on the few rows of a change
    column = np.asarray(facilities["type"])
    member = np.fromiter((t in types for t in column.tolist()), bool, count=len(column))
    if group.emergency_flag:
        member = member | np.asarray(facilities["emergency"], bool)
    return member


_CELL_CACHE_VERSION = b"cell-attach-v3"  # v1 held nearest nodes; v2, v3 segment attachments (v3: lowest row wins a tie)


def attach_cells(net: Network, cells: Cells, modes: set[str], cache: Path | None) -> dict[str, Attachment]:
    """Where each cell centre attaches to the roads, per mode (ambulance uses drive roads).

    Modes that may use the same segments share one search. With ``cache``
    (the disk cache root) the result is kept there under a hash of the
    segments' geometry and the cell coordinates, so a later run of an
    unchanged study reads it instead of searching.
    """
    out: dict[str, Attachment] = {}
    for mode in sorted(modes):
        index = net.segment_index(mode)
        shared = next((out[done] for done in out if net.segment_index(done) is index), None)
        out[mode] = shared or _attach_cells(net, index, cells, mode, cache)
    return out


def _attach_cells(net: Network, index: SegmentIndex, cells: Cells, mode: str, cache: Path | None) -> Attachment:
    """Attach the cells to the segments of ``index``, through the on-disk cache."""
    if cache is None:
        return net.attach(cells.x, cells.y, mode)
    digest = hashlib.blake2b(_CELL_CACHE_VERSION, digest_size=16)
    for part in (index.seg, index.start, index.end, index.offset_m, net.length_m[: net.n_segments], cells.x, cells.y):
        digest.update(np.ascontiguousarray(part).tobytes())
    path = cache / "snaps" / f"{digest.hexdigest()}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                at = Attachment(z["seg"], z["along_m"], z["leg_m"])
            if len(at) == len(cells.x):
                return at
        except (OSError, ValueError, KeyError) as exc:
            log.warning("cell attachment cache %s not read (%s)", path, exc)
    at = net.attach(cells.x, cells.y, mode)
    try:
        save_npz(path, seg=at.seg, along_m=at.along_m, leg_m=at.leg_m)
    except OSError as exc:
        log.warning("cell attachment cache not written (%s)", exc)
    return at


def facility_attachment(facilities: Mapping[str, Any], mode: str) -> Attachment:
    """Where each facility attaches to the roads in a mode (ambulances use the driving attachment).

    ``facilities``: a facility table, or its columns as arrays.
    """
    key = "walk" if mode == "walk" else "drive"
    return Attachment(np.asarray(facilities[f"seg_{key}"], np.int64), np.asarray(facilities[f"along_{key}_m"], float),
                      np.asarray(facilities[f"snap_{key}_m"], float))


def surfaces(net: Network, wanted: list[Need], member: Mapping[str, np.ndarray],
             attached: Mapping[str, Attachment]) -> dict[Need, Surface]:
    """One multi-source pass per needed surface, from the facilities of its group.

    ``member`` says per group which facility rows belong to it, ``attached``
    per mode where each row attaches to the roads.
    """
    out = {}
    for need in wanted:
        rows = np.flatnonzero(member[need.group])
        out[need] = nearest_facility(net, attached[need.mode][rows], need.mode, need.weight, need.direction, rows)
    return out
