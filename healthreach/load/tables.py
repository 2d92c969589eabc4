"""Reading tabular and vector files with errors that name the file."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

import geopandas as gpd
import numpy as np
import pandas as pd
from pyogrio.errors import DataLayerError, DataSourceError

from healthreach.errors import InputError
from healthreach.messages import Message, message_list

VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml", ".zip"}

# What the reading libraries raise on a file they cannot read: missing or unreadable (OSError); not CSV,
# empty, or an unknown encoding or sheet (ValueError, LookupError); not a workbook (BadZipFile, and
# openpyxl's InvalidFileException, caught where a workbook is read); no reader for old .xls (ImportError);
# not a GDAL format or no such layer (pyogrio's DataSourceError, DataLayerError).
_READ_ERRORS = (OSError, ValueError, LookupError, BadZipFile, ImportError, DataSourceError, DataLayerError)


def read_table(path: Path, layer: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read CSV, XLSX or any GDAL vector file into a (Geo)DataFrame.

    CSV files are read as UTF-8 (with or without BOM), falling back to GBK,
    the encoding Chinese spreadsheet software often saves in. So are
    Shapefiles that do not declare their encoding (no ``.cpg`` file beside
    them), which GDAL would otherwise read as Latin-1 and garble.
    """
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            return _without_trailing_blank_rows(_read_csv(path, encoding))
        if suffix in (".xlsx", ".xlsm", ".xls"):
            return _without_trailing_blank_rows(_read_workbook(path, layer))
        kwargs = {"layer": layer} if layer else {}
        if encoding:
            kwargs["encoding"] = encoding
        elif suffix == ".shp" and not _has_cpg(path):
            return _read_undeclared_shapefile(path, kwargs)
        return gpd.read_file(path, **kwargs)
    except InputError:
        raise
    except _READ_ERRORS as exc:
        msg = Message("{path}: cannot be read ({kind}: {exc})", path=path, kind=type(exc).__name__, exc=exc)
        raise InputError(msg) from None


def per_distinct(values: pd.Series, fn: Callable[[Any], Any], dtype: Any = object) -> np.ndarray:
    """``fn(value)`` for every row, called once per distinct value: values of one type that are equal
    (so ``-0.0`` is ``0.0``; a list, as OpenStreetMap tags with several values come, is compared by its items).

    For a rule that gives equal values one answer, the same as ``values.map(fn)`` at the cost of the
    distinct values, a few in a large road layer.
    """
    if values.dtype == object:
        keys = pd.Series([(type(v), tuple(v) if isinstance(v, list) else v) for v in values], dtype=object)
        codes, uniques = pd.factorize(keys, use_na_sentinel=False)
        results = [fn(list(v) if kind is list else v) for kind, v in uniques]
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        results = [fn(v) for v in np.asarray(uniques, dtype=object)]  # Python scalars, as Series.map gives
    return np.asarray(results, dtype)[codes] if len(codes) else np.zeros(0, dtype)


def _read_workbook(path: Path, sheet: str | None) -> pd.DataFrame:
    """One sheet of a workbook as text (openpyxl is imported only here)."""
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return pd.read_excel(path, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
    except InvalidFileException as exc:
        msg = Message("{path}: cannot be read ({kind}: {exc})", path=path, kind=type(exc).__name__, exc=exc)
        raise InputError(msg) from None


def _without_trailing_blank_rows(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without the empty rows spreadsheets leave at the end (rows above keep their numbers)."""
    filled = df.astype(str).apply(lambda col: col.str.strip() != "").any(axis=1).to_numpy()
    last = int(filled.nonzero()[0].max()) + 1 if filled.any() else 0
    return df.iloc[:last]


def _has_cpg(path: Path) -> bool:
    return any(p.suffix.lower() == ".cpg" and p.stem == path.stem for p in path.parent.glob(f"{path.stem}.*"))


def _read_undeclared_shapefile(path: Path, kwargs: dict) -> pd.DataFrame:
    """A Shapefile without a .cpg, read in the encoding :func:`dbf_encoding` finds."""
    return gpd.read_file(path, encoding=dbf_encoding(path), **kwargs)


_GBK_LANGUAGE_DRIVERS = (0x4D, 0x7A)  # the DBF header's code page byte for Chinese GBK (code page 936)
# Unicode ranges that real attribute text uses beyond ASCII: Latin-1, punctuation, CJK and full-width forms
_IMPLAUSIBLE = re.compile("[^\x00-\x7f\u00a0-\u00ff\u2000-\u206f\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff"
                         "\uf900-\ufaff\uff00-\uffef]")
_SAMPLE_BYTES = 4 << 20  # the attribute text looked at: the first 4 MiB of records


def dbf_encoding(shp: Path) -> str:
    """The encoding of an undeclared Shapefile's attributes: 'gbk' or 'utf-8'.

    GBK when the DBF header says code page 936; otherwise UTF-8 if the text
    decodes as UTF-8 into plausible characters (GBK bytes often decode as
    UTF-8 too, into letters such as '˫԰' for 双园), else GBK if it decodes
    as GBK; anything else is an error asking for the encoding.
    """
    dbf = next((p for p in shp.parent.glob(f"{shp.stem}.*") if p.suffix.lower() == ".dbf"), None)
    if dbf is None:
        return "utf-8"
    with dbf.open("rb") as fh:
        head = fh.read(32)
        if len(head) > 29 and head[29] in _GBK_LANGUAGE_DRIVERS:
            return "gbk"
        size = int.from_bytes(head[8:10], "little") if len(head) >= 10 else 32
        fields = fh.read(max(size - 32, 0))
        records = fh.read(_SAMPLE_BYTES)
    names = b" ".join(fields[i:i + 11].split(b"\0")[0] for i in range(0, len(fields) - 1, 32))
    text = names + b" " + records

    def decodes(encoding: str) -> str | None:  # the sample may end inside a character: decode incrementally
        try:
            return codecs.getincrementaldecoder(encoding)().decode(text, final=False)
        except UnicodeDecodeError:
            return None

    utf8 = decodes("utf-8")
    if utf8 is not None and not _IMPLAUSIBLE.search(utf8):
        return "utf-8"
    if decodes("gbk") is not None:
        return "gbk"
    if utf8 is not None:
        return "utf-8"
    msg = Message(
        "{shp}: attribute text is neither UTF-8 nor GBK; name the encoding in the study file (encoding:) "
        "or add a .cpg file beside the .shp",
        shp=shp)
    raise InputError(msg)


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    """A CSV file as text columns, in ``encoding`` or else the first of UTF-8 and GBK that decodes it."""
    for enc in [encoding] if encoding else ["utf-8-sig", "gbk"]:
        table = _read_csv_in(path, enc)
        if table is not None:
            return table
    msg = Message("{path}: not UTF-8 or GBK text; save it as UTF-8 CSV", path=path)
    raise InputError(msg)


def _read_csv_in(path: Path, encoding: str) -> pd.DataFrame | None:
    """A CSV file as text columns, or None if it does not decode in ``encoding``."""
    try:
        return pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False)
    except UnicodeDecodeError:
        return None


def require_columns(df: pd.DataFrame, columns: dict[str, str | None], path: Path | str) -> None:
    """Raise if any named column is missing; ``columns`` maps study key to column name."""
    missing = {key: col for key, col in columns.items() if col and col not in df.columns}
    if missing:
        listed = message_list([Message("'{column}' (study key {key})", column=col, key=key)
                               for key, col in missing.items()], ", ")
        msg = Message("{path}: missing column {listed}; the file has: {columns}",
                      path=path, listed=listed, columns=", ".join(map(str, df.columns)))
        raise InputError(msg)


def require_unique_ids(ids: pd.Series, path: Path | str, row_offset: int) -> None:
    """Raise naming the rows of any repeated id; ``row_offset`` turns index into file row."""
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        shown = message_list([
            Message("'{id}' at rows {rows}", id=v, rows=", ".join(str(i + row_offset) for i in grp.index))
            for v, grp in list(dup.groupby(dup, sort=False))[:5]])
        msg = Message("{path}: duplicate ids: {shown}. Every row needs its own id.", path=path, shown=shown)
        raise InputError(msg)
    blank = ids[ids.astype(str).str.strip() == ""]
    if len(blank):
        rows = ", ".join(str(i + row_offset) for i in blank.index[:10])
        msg = Message("{path}: empty id at rows {rows}", path=path, rows=rows)
        raise InputError(msg)


def check_crs_fits(bounds, crs, where, what: str | Message) -> None:
    """Raise :class:`InputError` naming ``where`` when coordinates spanning ``bounds`` cannot be in ``crs``.

    ``what`` names the input ("road layer", "population raster"); see
    :func:`healthreach.crs.crs_mismatch` for the signs read from the coordinates.
    """
    from healthreach.crs import crs_mismatch

    problem = crs_mismatch(crs, bounds)
    if problem:
        msg = Message(
            "{where}: the {what}'s coordinate system does not fit its coordinates: {problem}",
            where=where, what=what, problem=problem)
        raise InputError(msg)


def drop_missing_geometries(gdf: gpd.GeoDataFrame, where, what: str | Message,
                            notes: list[str | Message] | None) -> gpd.GeoDataFrame:
    """``gdf`` without rows whose geometry is null or empty; the count goes to ``notes`` (a note per input).

    Raises :class:`InputError` when no row has a geometry.
    """
    missing = gdf.geometry.isna().to_numpy() | gdf.geometry.is_empty.to_numpy()
    if missing.all():
        msg = Message(
            "{where}: no {what} has a geometry ({n_gdf} rows, all empty or null)",
            where=where, what=what, n_gdf=len(gdf))
        raise InputError(msg)
    if missing.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(missing)[:5])
        if notes is not None:
            notes.append(Message(
                "{where}: {missing} {what} rows without geometry (null or empty) were dropped (rows "
                "{rows}{more})",
                where=where, missing=int(missing.sum()), what=what, rows=rows,
                more=", ..." if missing.sum() > 5 else ""))
        return gdf[~missing]
    return gdf


def repair_invalid(gdf: gpd.GeoDataFrame, where, what: str | Message,
                   notes: list[str | Message] | None) -> gpd.GeoDataFrame:
    """``gdf`` with invalid polygons (self-intersecting) repaired by ``make_valid``, counted in ``notes``."""
    invalid = ~gdf.geometry.is_valid.to_numpy()
    if not invalid.any():
        return gdf
    if notes is not None:
        rows = ", ".join(str(i + 1) for i in gdf.index[invalid][:5])
        notes.append(Message(
            "{where}: {invalid} invalid {what} polygons (self-intersecting or badly ringed; rows "
            "{rows}{more}) were repaired with make_valid",
            where=where, invalid=int(invalid.sum()), what=what, rows=rows, more=", ..." if invalid.sum() > 5 else ""))
    return gdf.set_geometry(gdf.geometry.make_valid())


def apply_declared_crs(gdf: gpd.GeoDataFrame, system: str, where, key: str) -> gpd.GeoDataFrame:
    """Apply a layer's declared coordinate system (``key``, e.g. ``roads.crs``).

    GCJ-02 / BD-09 longitude and latitude (from Chinese web maps) are moved
    to WGS84 vertex by vertex; any other CRS replaces the file's own. A
    GCJ-02 / BD-09 declaration on a projected layer is an error.
    """
    from healthreach.crs import datum_name, parse_crs
    from healthreach.load.cnmaps import datum_to_wgs84

    name = datum_name(system)
    if name in ("gcj02", "bd09"):
        if gdf.crs is None:
            gdf = gdf.set_crs(4326)
        if not gdf.crs.is_geographic:
            msg = Message(
                "{where}: {key} says {system} (longitude/latitude from a Chinese web map), but the layer "
                "is in a projected CRS ({name}); remove {key} or fix the file",
                where=where, key=key, system=system, name=gdf.crs.name)
            raise InputError(msg)
        geo = gdf.to_crs(4326) if not gdf.crs.equals("EPSG:4326") else gdf
        return geo.set_geometry(datum_to_wgs84(geo.geometry.to_numpy(), name), crs="EPSG:4326")
    return gdf.set_crs(parse_crs(system, f"{where}: {key}"), allow_override=True)


OVERLAP_TOLERANCE = 0.001  # share of the smaller polygon two polygons may share (digitising slivers)


def check_overlaps(geoms: np.ndarray, labels: Sequence[str | Message], where, what: str | Message,
                   fix: str | Message) -> None:
    """Raise naming the pairs of polygons that overlap by more than :data:`OVERLAP_TOLERANCE` of the smaller.

    Townships that overlap would give the people between them to one of them
    by row order; population polygons that overlap would count their people
    twice. ``labels`` names each polygon in the message; ``what`` names the
    layer ("townships"); ``fix`` says what to do.
    """
    import shapely

    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    if len(left) == 0:
        return
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    bad = np.flatnonzero(shared > OVERLAP_TOLERANCE * smaller)
    if len(bad):
        listed = message_list([Message("{first} and {second}: {share:.1%} of the smaller", first=labels[left[k]],
                                       second=labels[right[k]], share=shared[k] / smaller[k]) for k in bad[:5]])
        more = Message(" and {n} more pairs", n=len(bad) - 5) if len(bad) > 5 else ""
        msg = Message(
            "{where}: {what} overlap: {listed}{more}; {fix}",
            where=where, what=what, listed=listed, more=more, fix=fix)
        raise InputError(msg)
