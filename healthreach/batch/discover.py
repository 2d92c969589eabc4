"""Which studies a batch runs: study files, folders of studies and tables listing them, each with its
output-folder name; and every file those studies read.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from healthreach.batch.folders import SUMMARY_FILES
from healthreach.errors import HealthreachError, StudyError
from healthreach.messages import Message
from healthreach.outputs import study_input_paths

STUDY_SUFFIXES = (".yaml", ".yml")
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".xls")


@dataclass(frozen=True)
class StudyRef:
    """One study of a batch: its study file and the name of its output folder."""

    path: Path
    name: str


def discover_studies(paths: Iterable[str | Path]) -> list[StudyRef]:
    """The studies named by ``paths``, in order, each with a unique output-folder name.

    Each path may be a study file (``.yaml``), a folder (its ``study.yaml``, or
    else every ``study.yaml`` and ``*.study.yaml`` below it), or a table (CSV
    or XLSX) with a ``study`` column of study files or folders, relative to the
    table, and an optional ``name`` column for the output folder. A path or
    table entry whose file is missing is kept: its audit reports the error,
    so one bad argument or line does not stop the batch. Output folders are named after the
    study's folder (``.../wulong/study.yaml`` -> ``wulong``) or its file stem;
    repeated names get ``-2``, ``-3``.
    """
    paths = list(paths)
    found: list[tuple[Path, str | None]] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():  # becomes an error row: "study file not found"
            found.append((path.resolve(), None))
        elif path.is_dir():
            found.extend((p, None) for p in _studies_in_folder(path))
        elif path.suffix.lower() in TABLE_SUFFIXES:
            found.extend(_studies_in_table(path))
        elif path.suffix.lower() in STUDY_SUFFIXES:
            found.append((path.resolve(), None))
        else:
            msg = Message("{path}: not a study file (.yaml), a folder of studies or a table (.csv, .xlsx)", path=path)
            raise StudyError(msg)
    seen: set[Path] = set()
    refs: list[StudyRef] = []
    used: set[str] = set()
    for path, name in found:
        if path in seen:
            continue
        seen.add(path)
        base = _safe_name(name or (path.parent.name if path.name in ("study.yaml", "study.yml") else
                                   path.name.split(".")[0]))
        unique, n = base, 1
        while unique.lower() in used or unique.lower() in SUMMARY_FILES:
            n += 1
            unique = f"{base}-{n}"
        used.add(unique.lower())
        refs.append(StudyRef(path, unique))
    if not refs:
        msg = Message("no study files found in {paths} (looked for study.yaml and *.study.yaml)",
                      paths=", ".join(map(str, paths)))
        raise StudyError(msg)
    return refs


def _studies_in_folder(folder: Path) -> list[Path]:
    for name in ("study.yaml", "study.yml"):
        if (folder / name).is_file():
            return [(folder / name).resolve()]
    hits = {p.resolve() for pattern in ("study.yaml", "study.yml", "*.study.yaml", "*.study.yml")
            for p in folder.rglob(pattern) if p.is_file()}
    return sorted(hits)


def _studies_in_table(path: Path) -> list[tuple[Path, str | None]]:
    from healthreach.load.tables import read_table

    table = read_table(path)
    columns = {str(c).strip().lower(): c for c in table.columns}
    if "study" not in columns:
        msg = Message("{path}: needs a 'study' column of study files or folders; the table has: {columns}",
                      path=path, columns=", ".join(map(str, table.columns)))
        raise StudyError(msg)
    studies = table[columns["study"]]
    names = table[columns["name"]] if "name" in columns else pd.Series([None] * len(table), index=table.index)
    out: list[tuple[Path, str | None]] = []
    for value, given_name in zip(studies, names, strict=True):
        if value is None or (isinstance(value, float) and math.isnan(value)) or not str(value).strip():
            continue
        entry = Path(str(value).strip()).expanduser()
        entry = (entry if entry.is_absolute() else path.parent / entry).resolve()
        if entry.is_dir():
            entry = entry / "study.yaml"
        name = None if given_name is None or (isinstance(given_name, float) and math.isnan(given_name)) \
            else str(given_name).strip()
        out.append((entry, name or None))
    return out


_FOLDER_NAME_MAX = 60  # characters: room for the temporary-folder suffix within any file system's 255 bytes


def _safe_name(name: str) -> str:
    """A folder name: letters (any script), digits, '-', '_' and '.' kept, every other run of characters
    '_', at most ``_FOLDER_NAME_MAX`` characters (a shortened name ends in a hash of the whole one).
    """
    safe = re.sub(r"[^\w.-]+", "_", name).strip("._-") or "study"
    if len(safe) > _FOLDER_NAME_MAX:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        safe = f"{safe[:_FOLDER_NAME_MAX - 9]}-{digest}"
    return safe


def batch_input_paths(refs: Sequence[StudyRef]) -> list[Path]:
    """Every file the studies of a batch read (study files, profiles, inputs), as far as they can be read."""
    from healthreach.study import load_study

    paths: list[Path] = []
    for ref in refs:
        paths.append(ref.path)
        try:
            paths.extend(study_input_paths(load_study(ref.path)))
        except HealthreachError:
            continue  # a broken study becomes an error row; its own file is protected all the same
    return paths
