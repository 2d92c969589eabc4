"""Township boundaries with an urban/rural class and census totals."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from healthreach.errors import InputError
from healthreach.load.tables import (
    apply_declared_crs,
    check_crs_fits,
    check_overlaps,
    drop_missing_geometries,
    read_table,
    repair_invalid,
    require_columns,
    require_unique_ids,
)
from healthreach.messages import Message, message_list
from healthreach.study import BoundariesSpec

_CLASS_WORDS = {"urban": "urban", "城市": "urban", "城镇": "urban", "街道": "urban",
                "rural": "rural", "农村": "rural", "乡村": "rural", "乡镇": "rural"}


def read_boundaries(spec: BoundariesSpec, notes: list[str | Message] | None = None) -> gpd.GeoDataFrame:
    """Townships as a GeoDataFrame with columns ``id, name, area_class, census_pop``.

    The CRS is the file's own (WGS84 for ``admin_code`` and for files declared
    GCJ-02/BD-09 by ``spec.crs``, which are converted); ``area_class`` is
    ``urban`` or ``rural`` (``spec.area_class`` where the file has no class
    column); ``census_pop`` is people (NaN where no column is given;
    ``spec.census_total`` for a single polygon).

    Rows without geometry are dropped and invalid (self-intersecting)
    polygons repaired with ``make_valid``, both counted in ``notes``;
    townships that overlap one another are an error naming both.
    """
    where = spec.path if spec.path is not None else f"boundaries.admin_code {', '.join(spec.admin_codes)}"
    gdf, spec = _read_layer(spec, where, notes)
    gdf, spec = _per_unit_settings(gdf, spec, where)
    gdf, pop_col = _settle_columns(gdf, spec, where)
    ids = gdf[spec.id_column].astype(str)
    require_unique_ids(ids, where, row_offset=1)
    area_class = _area_classes(gdf, spec, where)
    polys = gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polys.all():
        bad = ids[~polys].tolist()[:5]
        msg = Message("{where}: not polygons: {bad}", where=where, bad=", ".join(bad))
        raise InputError(msg)
    census = _census_totals(gdf, spec, ids, pop_col, where)
    gdf = repair_invalid(gdf, where, Message("township"), notes)
    out = gpd.GeoDataFrame({"id": ids.to_numpy(), "name": gdf[spec.name_column].astype(str).to_numpy(),
                            "area_class": area_class.to_numpy(), "census_pop": census.to_numpy(float)},
                           geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    labels = [f"{i} ({n})" for i, n in zip(out["id"], out["name"], strict=False)]
    check_overlaps(out.geometry.to_numpy(), labels, where, Message("townships"),
                   Message("each place must belong to one township; fix the boundaries so they do not overlap"))
    return out


def _read_layer(spec: BoundariesSpec, where: Path | str,
                notes: list[str | Message] | None) -> tuple[gpd.GeoDataFrame, BoundariesSpec]:
    """The boundary polygons in their declared CRS, rows without geometry dropped (counted in ``notes``).

    Read from the file, or for ``admin_code`` from the bundled county
    boundaries; the returned spec names the columns of the returned frame.
    """
    if spec.admin_code is not None:
        gdf, spec = _admin_units(spec)
    else:
        gdf = read_table(spec.path, spec.layer)  # type: ignore[arg-type]  # the study file's check guarantees it
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.isna().all():
        msg = Message("{where}: boundaries must be a polygon layer (GeoPackage, GeoJSON, Shapefile)", where=where)
        raise InputError(msg)
    if spec.crs is not None:
        gdf = apply_declared_crs(gdf, spec.crs, where, "boundaries.crs")
    if gdf.crs is None:
        msg = Message(
            "{where}: the layer has no coordinate system; set one (e.g. EPSG:4490) in the file, or "
            "declare it with boundaries.crs",
            where=where)
        raise InputError(msg)
    gdf = drop_missing_geometries(gdf, where, Message("township"), notes)
    check_crs_fits(gdf.total_bounds, gdf.crs, where, Message("boundary layer"))
    return gdf, spec


def _settle_columns(gdf: gpd.GeoDataFrame, spec: BoundariesSpec,
                    where: Path | str) -> tuple[gpd.GeoDataFrame, str | None]:
    """``gdf`` with its class column (filled from ``spec.area_class`` where the file has none) and the
    census column to read, or None where the default column is absent; missing columns are an error.
    """
    if isinstance(spec.area_class, str) and spec.class_column in gdf.columns:
        msg = Message(
            "{where}: boundaries.area_class is '{area_class}' for every unit, but the boundaries also "
            "have a class column '{class_column}'; give the class once (drop boundaries.area_class, or "
            "name another column with boundaries.class_column)",
            where=where, area_class=spec.area_class, class_column=spec.class_column)
        raise InputError(msg)
    if spec.class_column not in gdf.columns and spec.area_class is not None:
        gdf = gdf.assign(**{spec.class_column: spec.area_class})
    pop_col = spec.population_column
    if pop_col and pop_col not in gdf.columns and "population_column" not in spec.model_fields_set:
        pop_col = None  # the default column name, absent: no census totals
    if spec.class_column not in gdf.columns:
        msg = Message(
            "{where}: no column '{class_column}' (study key boundaries.class_column) for the urban/rural "
            "class; name the column, or set boundaries.area_class: urban|rural for every polygon; the "
            "file has: {columns}",
            where=where, class_column=spec.class_column, columns=", ".join(map(str, gdf.columns)))
        raise InputError(msg)
    require_columns(gdf, {"id_column": spec.id_column, "name_column": spec.name_column,
                          "population_column": pop_col}, where)
    return gdf, pop_col


def _area_classes(gdf: gpd.GeoDataFrame, spec: BoundariesSpec, where: Path | str) -> pd.Series:
    """Each unit's class, ``urban`` or ``rural``, from the class column's words (English or Chinese)."""
    raw_class = gdf[spec.class_column].astype(str).str.strip()
    area_class = raw_class.str.lower().map(_CLASS_WORDS)
    if area_class.isna().any():
        bad = gdf.loc[area_class.isna(), spec.id_column].astype(str).tolist()[:5]
        values = sorted(set(raw_class[area_class.isna()]))[:5]
        msg = Message(
            "{where}: column '{class_column}' must be 'urban' or 'rural'; got {values} for {bad}",
            where=where, class_column=spec.class_column, values=values, bad=", ".join(bad))
        raise InputError(msg)
    return area_class


def _census_totals(gdf: gpd.GeoDataFrame, spec: BoundariesSpec, ids: pd.Series, pop_col: str | None,
                   where: Path | str) -> pd.Series:
    """Each unit's census total (people): from ``pop_col``, or ``spec.census_total`` for a single
    polygon, NaN where neither is given.
    """
    census = (census_numbers(gdf[pop_col], ids, where, pop_col) if pop_col else pd.Series(np.nan, index=gdf.index))
    if spec.census_total is not None:
        if len(gdf) != 1:
            msg = Message(
                "{where}: boundaries.census_total is one number for a single polygon, but there are "
                "{n_gdf}; give one total per unit (census_total: {{{example_id}: 12345, ...}}) or put the "
                "totals in a column (boundaries.population_column)",
                where=where, n_gdf=len(gdf), example_id=ids.iloc[0])
            raise InputError(msg)
        census = pd.Series([spec.census_total], index=gdf.index)
    return census


def _admin_units(spec: BoundariesSpec) -> tuple[gpd.GeoDataFrame, BoundariesSpec]:
    """One row per administrative code (columns ``code``, ``name``, geometry in WGS84).

    With ``spec.admin_table`` the table's class and census columns are joined
    on by code; every code needs exactly one row and every row a listed code.
    The returned spec names the columns of the returned frame.
    """
    from healthreach.load.cnmaps import read_admin

    codes = spec.admin_codes
    gdf = pd.concat([read_admin(code) for code in codes], ignore_index=True)
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs="EPSG:4326")
    spec = spec.model_copy(update={"name_column": "name"})
    if spec.admin_table is None:
        return gdf, spec.model_copy(update={"id_column": "code"})
    table_where = f"{spec.admin_table} (boundaries.admin_table)"
    table = pd.DataFrame(read_table(spec.admin_table))
    pop_col = spec.population_column
    if pop_col and pop_col not in table.columns and "population_column" not in spec.model_fields_set:
        pop_col = None
    class_col = spec.class_column if spec.class_column in table.columns or spec.area_class is None else None
    require_columns(table, {"id_column": spec.id_column, "class_column": class_col, "population_column": pop_col},
                    table_where)
    table_codes = table[spec.id_column].astype(str).str.strip().str.removesuffix(".0")
    require_unique_ids(table_codes, table_where, row_offset=2)
    missing = [c for c in codes if c not in set(table_codes)]
    extra = [c for c in table_codes if c not in codes]
    if missing or extra:
        problems = ([Message("no row for {codes}", codes=", ".join(missing))] if missing else []) + (
            [Message("rows for codes not in boundaries.admin_code: {codes}", codes=", ".join(extra))] if extra else [])
        msg = Message("{table_where}: {problems}; the table needs one row per admin_code ({codes})",
                      table_where=table_where, problems=message_list(problems), codes=", ".join(codes))
        raise InputError(msg)
    row = pd.Series(np.arange(len(table)), index=table_codes.to_numpy())[codes].to_numpy()
    joined = {"class": table[class_col].to_numpy()[row]} if class_col else {}
    if pop_col:
        joined["population"] = table[pop_col].to_numpy()[row]
    gdf = gdf.assign(**joined)
    return gdf, spec.model_copy(update={"id_column": "code", "class_column": "class" if class_col else
                                        spec.class_column, "population_column": "population" if pop_col else None})


def _per_unit_settings(gdf: gpd.GeoDataFrame, spec: BoundariesSpec,
                       where) -> tuple[gpd.GeoDataFrame, BoundariesSpec]:
    """Apply ``area_class`` and ``census_total`` given as mappings of unit id to class / people.

    Every unit must be listed; a mapping beside a column of the same values
    in the file is an error (which one would count?).
    """
    updates: dict[str, object] = {}
    for key, column, value_key in (("area_class", spec.class_column, None),
                                   ("census_total", spec.population_column or "population", "population_column")):
        mapping = getattr(spec, key)
        if not isinstance(mapping, dict):
            continue
        require_columns(gdf, {"id_column": spec.id_column}, where)
        if column in gdf.columns:
            msg = Message(
                "{where}: boundaries.{key} lists values per unit, but the boundaries already have a "
                "column '{column}'; give them once (drop boundaries.{key}, or name another column)",
                where=where, key=key, column=column)
            raise InputError(msg)
        ids = gdf[spec.id_column].astype(str).str.strip()
        missing = [i for i in ids if i not in mapping]
        unknown = [k for k in mapping if k not in set(ids)]
        if missing or unknown:
            problems = ([Message("no value for {ids}", ids=", ".join(missing[:10]))] if missing else []) + (
                [Message("{ids} not among the boundaries' ids", ids=", ".join(unknown[:10]))] if unknown else [])
            msg = Message(
                "{where}: boundaries.{key}: {problems}; list every unit by its id ({listed}{more})",
                where=where, key=key, problems=message_list(problems), listed=", ".join(ids[:10]),
                more=", ..." if len(ids) > 10 else "")
            raise InputError(msg)
        gdf = gdf.assign(**{column: ids.map(mapping).to_numpy()})
        updates[key] = None
        if value_key:
            updates[value_key] = column
    if updates:
        spec = spec.model_copy(update=updates)
    return gdf, spec


def census_numbers(values: pd.Series, ids: pd.Series, where, column: str) -> pd.Series:
    """Census totals (people) from a column: numbers, or text as tables write them ("12,345",
    full-width "１２３４５", "1.2万" for 12,000).

    Blank cells are NaN (no total). Text that is not a number, negative
    totals and infinite ones are an error naming the units, never read as 0.
    """
    text = values.astype("string").str.normalize("NFKC").str.replace(r"\s", "", regex=True)
    blank = text.isna() | (text == "")
    # commas only as thousands separators: "1,2" or "12,34" are not numbers anyone means
    written = text.str.fullmatch(r"(\d+|\d{1,3}(,\d{3})+)(\.\d+)?万?").fillna(False)
    wan = text.str.endswith("万").fillna(False)  # 万: ten thousand
    numbers = pd.to_numeric(text.str.replace(",", "").str.removesuffix("万").where(written & ~blank),
                            errors="coerce").astype(float)
    numbers = numbers.where(~wan, numbers * 10_000)
    bad = ~blank & ~written
    if bad.any():
        listed = ", ".join(f"{i} ({v!r})" for i, v in zip(ids[bad].astype(str)[:5], values[bad][:5], strict=False))
        msg = Message(
            "{where}: column '{column}' holds census totals (people: finite numbers >= 0); {bad} units "
            "have something else: {listed}. Correct the values, or leave a cell blank for a unit without "
            "a total",
            where=where, column=column, bad=int(bad.sum()), listed=listed)
        raise InputError(msg)
    return numbers
