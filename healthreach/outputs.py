"""Where outputs go and how they are written: owned folders published whole, inert user text.

Every command that writes results (``audit``, ``scenario``, ``compare``,
``batch``) goes through this module:

* :func:`check_output` runs before any computation. It refuses an output
  folder that is, contains or lies inside the folder of an input (so an
  input file is never overwritten), a path that is a file or lies under a
  file, a folder that cannot be created or written, and a non-empty folder
  that healthreach does not own (no manifest) unless ``force``.
* :func:`publish` builds the whole output set in a temporary folder beside
  the target and moves it in with renames, writing a manifest
  (``.healthreach.json``: tool, version, kind, input hash, time, files). A
  folder never mixes two runs; a run killed at any point leaves the old set
  or the new one once :func:`clean_stale` has run (every command runs it
  first). Files the manifest does not list (the user's own) are kept.
* :func:`inert_text`, :func:`inert_frame` and :func:`write_csv` (and
  :mod:`healthreach.workbook` for XLSX) store user text as text: control
  characters that spreadsheet files forbid are removed, and text that a
  spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``,
  ``@``, tab or carriage return: the OWASP CSV-injection rule) is quoted in
  CSV and written as a quote-prefixed string cell in XLSX. Numbers stay
  numbers.
  (:func:`healthreach.terminal.markup` escapes text for the rich terminal.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from healthreach import __version__
from healthreach.errors import OutputError
from healthreach.messages import Message
from healthreach.terminal import TERMINAL_CONTROL

if TYPE_CHECKING:
    import pandas as pd

    from healthreach.study import StudyFile

MANIFEST = ".healthreach.json"
TOOL = "healthreach"
STALE_AFTER_S = 24 * 3600.0
# Characters XML 1.0 (so XLSX) forbids; CSV readers mangle them too. Tab, LF and CR are allowed.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NAME_MAX_BYTES = 200  # an output name, leaving room for '.<name>.hr-tmp-<host>-<pid>-<random>' within 255 bytes
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
# .<name>.hr-tmp-<host>-<pid>-<random>: a folder being built; .hr-old-: the set being replaced.
_TEMP = re.compile(r"^\.(?P<name>.+)\.hr-(?P<kind>tmp|old)-(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-[0-9a-f]+$")


# --- inert text -------------------------------------------------------------------

def inert_text(text: str, quote: bool = True) -> str:
    """``text`` for a CSV or spreadsheet cell: forbidden control characters removed, line breaks
    made spaces and, with ``quote``, a leading ``'`` when a spreadsheet would read it as a formula.
    """
    text = _FORBIDDEN.sub("", text)
    formula = quote and text.startswith(_FORMULA_START)
    text = _LINE_BREAK.sub(" ", text)  # a line break inside a cell starts a new row in many CSV readers
    return "'" + text if formula else text


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet would evaluate ``text`` typed into a cell."""
    return text.startswith(_FORMULA_START)


def inert_frame(table: pd.DataFrame, quote: bool = True) -> pd.DataFrame:
    """A copy of ``table`` whose text cells and column names pass through :func:`inert_text`.

    Numeric columns are left as they are; text in object columns is cleaned
    value by value (output tables are small: one row per township, facility
    or district).
    """
    from pandas.api.types import is_string_dtype  # pandas is imported only by commands that write tables

    out = table.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or is_string_dtype(values.dtype):
            out[column] = values.map(lambda v: inert_text(v, quote) if isinstance(v, str) else v)
    out.columns = [inert_text(c, quote) if isinstance(c, str) else c for c in out.columns]
    return out


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` as UTF-8 CSV with a BOM (for spreadsheet software), text made inert."""
    inert_frame(table).to_csv(path, index=False, encoding="utf-8-sig")


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text to ``path``."""
    path.write_text(text, encoding="utf-8")


def write_json(path: Path, document: Any) -> None:
    """Write a JSON document (UTF-8, indented, non-ASCII kept)."""
    write_text(path, json.dumps(document, ensure_ascii=False, indent=2))


# --- which paths are inputs -------------------------------------------------------

def study_input_paths(study: StudyFile) -> list[Path]:
    """Every file ``study`` reads: the study file, its profile and each input file."""
    from healthreach.profile import profile_file

    paths = [study.source] if study.source else []
    profile = profile_file(study.profile, study)
    if profile is not None:
        paths.append(profile)
    return paths + study.input_files


def _input_folders(inputs: Iterable[Path]) -> list[Path]:
    folders = []
    for given in inputs:
        path = Path(given).resolve()
        folder = path if path.is_dir() else path.parent
        if folder not in folders:
            folders.append(folder)
    return folders


def _overlap(out: Path, folder: Path) -> str | None:
    if out == folder:
        return "is"
    if folder.is_relative_to(out):
        return "contains"
    if out.is_relative_to(folder):
        return "lies inside"
    return None


def _conflict(out: Path, folders: list[Path]) -> tuple[str, Path] | None:
    for folder in folders:
        how = _overlap(out, folder)
        if how:
            return how, folder
    return None


def _suggest(name: str, folders: list[Path], file_name: str | None) -> str:
    """A ``--out`` that overlaps no input folder: out/NAME under the working folder, or beside the inputs."""
    tail = Path(name) / file_name if file_name else Path(name)
    package = Path(__file__).resolve().parent  # a bundled profile's folder: never suggest writing into the package
    candidates = [Path("out") / tail, *(f.parent / "out" / tail for f in folders if not f.is_relative_to(package))]
    for candidate in candidates:
        resolved = candidate.resolve()
        if _conflict(resolved if not file_name else resolved.parent, folders) is None:
            return str(candidate)
    return str(Path.home() / "healthreach-out" / tail)


# --- checks before any work ---------------------------------------------------------

def check_output(out: str | Path, inputs: Iterable[Path], *, force: bool = False, name: str = "NAME",
                 file: bool = False) -> Path:
    """Check an output folder (or, with ``file``, an output file) before any computation; returns it resolved.

    Raises :class:`~healthreach.errors.OutputError` when it is, contains or
    lies inside the folder of one of ``inputs`` (for a file: when its folder
    is or lies inside one), is a file (a folder, for ``file``) or lies under
    a file, cannot be created or written, or (folders only) is not empty and
    has no healthreach manifest while ``force`` is False. ``name`` is used
    in the suggested ``--out``. Stale temporaries of killed runs beside it
    are cleaned.
    """
    out = Path(out).expanduser().absolute()
    if TERMINAL_CONTROL.search(str(out)) or "\t" in str(out) or "\n" in str(out):
        msg = Message("the output path {path!r} holds control characters (a tab, a line break, ...); choose a plain "
                      "name", path=str(out))
        raise OutputError(msg)
    if len(out.name.encode()) > _NAME_MAX_BYTES:
        msg = Message("the output {kind} name {name!r} is {n} bytes long; at most {most} bytes leave room for the "
                      "temporary folder it is built in (255 bytes is the file system's limit)",
                      kind=_kind(file), name=out.name, n=len(out.name.encode()), most=_NAME_MAX_BYTES)
        raise OutputError(msg)
    folders = _input_folders(inputs)
    resolved = out.resolve()
    where = resolved.parent if file else resolved
    conflict = _conflict(where, folders)
    if file and conflict:  # a file cannot contain a folder; in (or under) an input's folder it lies inside it
        conflict = None if conflict[0] == "contains" else ("lies inside", conflict[1])
    if file and any(resolved == Path(p).resolve() for p in inputs):
        conflict = ("is", resolved)
    if conflict:
        how, folder = conflict
        relation = {"is": Message("is the input folder") if not file else Message("is an input file"),
                    "contains": Message("contains the input folder"),
                    "lies inside": Message("lies inside the input folder")}[how]
        msg = Message("the output {kind} {out} {relation} {folder}; healthreach never writes where its inputs are. "
                      "Choose another folder, e.g. --out {suggested}", kind=_kind(file), out=out, relation=relation,
                      folder=folder, suggested=_suggest(name, folders, out.name if file else None))
        raise OutputError(msg)
    _check_writable(out, file)
    if not file:
        clean_stale(out.parent)
        if out.is_dir() and not force and not owned(out) and any(out.iterdir()):
            msg = Message("the output folder {out} is not empty and was not written by healthreach (no {manifest}); "
                          "choose an empty or new folder, e.g. --out {suggested}, or add --force to write into it "
                          "(files of the same names are replaced, others kept)", out=out, manifest=MANIFEST,
                          suggested=_suggest(name, folders, None))
            raise OutputError(msg)
    return out


def _check_writable(out: Path, file: bool) -> None:
    """Raise unless ``out`` can be created (or replaced) and written."""
    if out.exists():
        if file and out.is_dir():
            msg = Message("the output file {out} is a folder; give a file name, e.g. {example}", out=out,
                          example=out / "compare.csv")
            raise OutputError(msg)
        if not file and not out.is_dir():
            msg = Message("the output folder {out} is a file; give a folder", out=out)
            raise OutputError(msg)
    existing = out.parent
    while not existing.exists():
        existing = existing.parent
    for parent in (out.parent, *out.parent.parents):
        if parent.exists() and not parent.is_dir():
            msg = Message("the output {kind} {out} lies under {parent}, which is a file, not a folder",
                          kind=_kind(file), out=out, parent=parent)
            raise OutputError(msg)
        if parent == existing:
            break
    # the run builds its set beside ``out``, so the nearest existing folder above it must be writable
    try:
        probe = make_temp_folder(existing, "probe")
        probe.rmdir()
    except OSError as exc:
        msg = Message("cannot write the output {kind} {out}: {existing} is not writable ({reason}); choose a folder "
                      "you can write to", kind=_kind(file), out=out, existing=existing, reason=exc.strerror or str(exc))
        raise OutputError(msg) from None


def _kind(file: bool) -> Message:
    """'file' or 'folder', as messages name an output."""
    return Message("file") if file else Message("folder")


def _temp_path(parent: Path, name: str, kind: str = "tmp") -> Path:
    """A fresh name beside ``parent / name`` that :func:`clean_stale` recognises."""
    return parent / f".{name}.hr-{kind}-{_HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def make_temp_folder(parent: Path, name: str) -> Path:
    """A new empty folder in ``parent`` named for ``name``; :func:`clean_stale` removes it if its run dies."""
    path = _temp_path(parent, name)
    path.mkdir()
    return path


# --- ownership and publishing ---------------------------------------------------------

def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of an output folder, or None when it has none (or an unreadable one)."""
    try:
        data = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("tool") == TOOL else None


def owned(folder: Path) -> bool:
    """True when ``folder`` carries a healthreach manifest."""
    return read_manifest(folder) is not None


def manifest(kind: str, files: Iterable[str], input_hash: str | None = None, **extra: Any) -> dict[str, Any]:
    """The manifest of one output set: tool, version, kind, input hash, time, file list."""
    return {"tool": TOOL, "version": __version__, "kind": kind, "input_hash": input_hash,
            "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "files": sorted(files), **extra}


@contextlib.contextmanager
def publish(out: str | Path, kind: str, input_hash: str | None = None, keep_foreign: bool = True) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``out``; when the block succeeds, make it ``out``.

    Whatever the block writes into the folder becomes the new output set:
    the manifest is added and the folder is moved into place with renames.
    Files of ``out`` that its old manifest does not list (the user's own)
    are moved into the new set unless it has files of the same names, or
    ``keep_foreign`` is False (a folder wholly owned by its parent's run). When
    the block raises, the temporary folder is removed and ``out`` is
    untouched.
    """
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = make_temp_folder(out.parent, out.name)
    try:
        yield stage
        files = [p.name for p in stage.iterdir() if p.name != MANIFEST]
        write_json(stage / MANIFEST, manifest(kind, files, input_hash))
        _swap(stage, out, keep_foreign)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _swap(stage: Path, out: Path, keep_foreign: bool = True) -> None:
    """Move ``stage`` to ``out``; the previous ``out`` is set aside, its foreign files carried over, then removed."""
    if not out.exists():
        stage.rename(out)
        return
    old = _temp_path(out.parent, out.name, "old")
    out.rename(old)
    try:
        stage.rename(out)
    except OSError:
        old.rename(out)
        raise
    _retire(old, out, keep_foreign)


def _retire(old: Path, out: Path, keep_foreign: bool = True) -> None:
    """Carry the files ``old``'s manifest does not list into ``out`` (unless replaced), then remove ``old``."""
    previous = read_manifest(old)
    ours = set(previous.get("files") or []) | {MANIFEST} if previous else set()
    for entry in old.iterdir() if keep_foreign else ():
        if entry.name not in ours and not (out / entry.name).exists():
            entry.rename(out / entry.name)
    shutil.rmtree(old, ignore_errors=True)


def replace_files(out: Path, stage: Path, kind: str, keep: Iterable[str] = ()) -> list[str]:
    """Move every file of ``stage`` into the owned folder ``out`` (one rename each) and rewrite its manifest.

    For a folder whose other entries (``keep``: e.g. a batch's study
    folders) are published on their own. The manifest, written last, lists
    the moved files and ``keep``. Returns the moved file names.
    """
    names = sorted(p.name for p in stage.iterdir())
    for name in names:
        (stage / name).replace(out / name)
    write_atomic(out / MANIFEST, lambda tmp: write_json(tmp, manifest(kind, [*names, *keep])))
    return names


def claim(out: Path, kind: str, force: bool = False) -> None:
    """Make ``out`` an owned folder (create it, write a manifest) unless it is a foreign non-empty one."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if owned(out):
        return
    if any(out.iterdir()) and not force:
        msg = Message("the output folder {out} is not empty and was not written by healthreach (no {manifest}); add "
                      "--force to write into it", out=out, manifest=MANIFEST)
        raise OutputError(msg)
    write_atomic(out / MANIFEST, lambda tmp: write_json(tmp, manifest(kind, [])))


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` for a temporary path beside ``path``, then rename it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path.parent, path.name)
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


# --- debris of killed runs ------------------------------------------------------------

def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(folder: Path, max_age_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove the temporaries that killed runs left in ``folder``; returns what was cleaned.

    A temporary is stale when its process (on this machine) is gone, or when
    it is older than ``max_age_s`` (default one day). An output set that was
    being replaced when its run died is put back when the new one never
    arrived, else its foreign files are carried into the new one.
    """
    folder = Path(folder)
    cleaned: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return cleaned
    now = time.time()
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match:
            continue
        mine = match["host"] == _HOST and int(match["pid"]) == os.getpid()
        dead = match["host"] == _HOST and not _alive(int(match["pid"]))
        try:
            old_enough = now - entry.lstat().st_mtime > max_age_s
        except FileNotFoundError:
            continue
        if mine or not (dead or old_enough):
            continue
        target = folder / match["name"]
        try:
            if match["kind"] == "old" and entry.is_dir():
                if not target.exists():
                    entry.rename(target)
                else:
                    _retire(entry, target)
            elif entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue
        cleaned.append(entry)
    return cleaned
