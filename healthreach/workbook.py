"""The one way healthreach writes spreadsheets: audit.xlsx, scenario.xlsx and the batch summary.xlsx.

Every sheet has two header rows: the column's header in the chosen
language (row 1, bold, wrapped) and its machine-readable id (row 2, the
CSV's header, where the filter buttons sit); figures start on row 3. The
header rows stay in view (frozen panes, with the first ``frozen_columns``
columns), and numbers are formatted by what they are: shares as
percentages, minutes with one decimal, people and metres as whole numbers.
Text is made inert (:func:`healthreach.outputs.inert_text`); text that a spreadsheet would
read as a formula is a string cell with Excel's quote prefix, shown as typed and never evaluated.
Written with xlsxwriter (openpyxl, which keeps every cell as an object, took several times
longer and imports slowly).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from healthreach.outputs import inert_text, is_formula_like

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

PERCENT, MINUTES, WHOLE, DECIMAL = "0.0%", "0.0", "#,##0", "0.00"
FAIL_FILL, ID_COLOUR = "#F4CCCC", "#666666"  # a failing verdict's fill; the colour of the id row
CHARACTER_PX = 7  # pixels of one character of the default font, as a column's width is stored
HEADER_ROWS = 2  # the header in words, then the column id
_SHARE = re.compile(r"(^|_)(share|largest_gap|target)(_|$)")
_WHOLE = re.compile(r"(^|_)(people|population|m|beds|ambulances)(_|$)|^(people|census_people)$")
_MINUTES = re.compile(r"(^|_)min(_|$)|_minutes")


@dataclass
class Sheet:
    """One sheet: its table, the header above each column (column id -> words) and its formatting.

    ``unit_column`` names a column giving each row's unit ('share of people' rows of
    ``by_unit`` columns are percentages, other rows plain decimals). Failing
    verdicts ('fail', 'error', False) are filled red.
    """

    table: pd.DataFrame
    headers: dict[str, str] = field(default_factory=dict)
    frozen_columns: int = 1
    unit_column: str | None = None
    by_unit: tuple[str, ...] = ()


def number_format(column: str) -> str | None:
    """The Excel number format a column of this id gets: shares %, minutes 0.0, people and metres whole."""
    if column.endswith("_pass") or column == "pass":
        return None
    if _MINUTES.search(column):
        return MINUTES
    if "per_1000" in column or column.startswith("ambulances_required") or (
            column.startswith("ambulances") and column.endswith("_share")):
        return DECIMAL  # ratios: beds per 1,000 people, ambulances required, available / required
    if _SHARE.search(column):
        return PERCENT
    if _WHOLE.search(column):
        return WHOLE
    return None


def failing(value: object) -> bool:
    """True for a verdict a sheet fills red: 'fail', 'error' or False."""
    return value is False or (isinstance(value, str) and value in ("fail", "error"))


def write_workbook(sheets: dict[str, Sheet], path: Path) -> None:
    """Write ``sheets`` (sheet name -> :class:`Sheet`) as one XLSX workbook at ``path``."""
    import xlsxwriter  # imported only by commands that write a workbook

    with xlsxwriter.Workbook(str(path)) as book:
        formats = CellFormats(book)
        for name, sheet in sheets.items():
            write_sheet(book.add_worksheet(name), sheet, formats)


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """Write one plain XLSX workbook, one sheet per table: the column ids on row 1, the values below, text
    made inert (formula-like text is a quote-prefixed string cell), no other formatting.
    """
    import xlsxwriter

    with xlsxwriter.Workbook(str(path)) as book:
        formats = CellFormats(book)
        for name, table in tables.items():
            write_rows(book.add_worksheet(name), table, 0, formats)


class CellFormats:
    """The workbook's cell formats, one per distinct combination (xlsxwriter wants each made once)."""

    def __init__(self, book: Workbook) -> None:
        self.book = book
        self.made: dict[tuple, Format | None] = {}

    def get(self, number: str | None = None, fail: bool = False, quote: bool = False,
            role: str = "cell") -> Format | None:
        """The format of a cell: its number format, the red fill of a failing verdict, Excel's quote prefix and
        its ``role`` ("cell"; "words": the bold wrapped header; "id": the grey small id row).
        """
        key = (number, fail, quote, role)
        if key not in self.made:
            spec: dict[str, object] = {}
            if number is not None:
                spec["num_format"] = number
            if fail:
                spec.update(pattern=1, bg_color=FAIL_FILL)
            if quote:
                spec["quote_prefix"] = True
            if role == "words":
                spec.update(bold=True, text_wrap=True, valign="top")
            elif role == "id":
                spec.update(font_color=ID_COLOUR, font_size=9)
            self.made[key] = self.book.add_format(spec) if spec else None
        return self.made[key]


def cell_value(value: object) -> object:
    """A table value as the cell holds it: None for a missing value or empty text, 'inf'/'-inf' text for an
    infinite number, plain numbers and booleans, inert text (line breaks made spaces, forbidden characters
    removed).
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return None if math.isnan(value) else float(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return inert_text(str(value), quote=False) or None


def put(ws: Worksheet, row: int, column: int, value: object, fmt: Format | None) -> None:
    """Write one cell (0-based ``row``, ``column``): text always as a string cell, never as a formula."""
    if value is None:
        if fmt is not None:
            ws.write_blank(row, column, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, column, value, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, column, value, fmt)
    else:
        ws.write_number(row, column, value, fmt)


def write_rows(ws: Worksheet, table: pd.DataFrame, first_row: int, formats: CellFormats,
               number_formats: Callable[[str, object, int], str | None] | None = None,
               id_role: str = "cell") -> None:
    """Write ``table``'s column ids on row ``first_row`` (0-based) and its values below them.

    ``number_formats(column, value, i)`` gives the number format of data row ``i``'s cell (None: General);
    formula-like text gets Excel's quote prefix; failing verdicts are filled red only where ``number_formats``
    is given (the formatted workbooks).
    """
    columns = [str(c) for c in table.columns]
    for j, column in enumerate(table.columns):
        value = cell_value(column)
        put(ws, first_row, j, value, formats.get(quote=isinstance(value, str) and is_formula_like(value),
                                                 role=id_role))
    for j, column in enumerate(columns):
        for i, raw in enumerate(table.iloc[:, j].tolist()):
            value = cell_value(raw)
            quote = isinstance(value, str) and is_formula_like(value)
            number = number_formats(column, value, i) if number_formats is not None else None
            fail = number_formats is not None and failing(value)
            put(ws, first_row + 1 + i, j, value, formats.get(number, fail, quote))


def write_sheet(ws: Worksheet, sheet: Sheet, formats: CellFormats) -> None:
    """One formatted sheet: the words on row 1, the ids on row 2, the figures below, panes frozen, a filter."""
    table = sheet.table
    units = list(table[sheet.unit_column]) if sheet.unit_column in table else None
    number_by_column = {str(c): number_format(str(c)) for c in table.columns}

    def number(column: str, value: object, i: int) -> str | None:
        if units is not None and column in sheet.by_unit:  # blank cells too: a figure typed in later is formatted
            return PERCENT if units[i] == "share of people" else DECIMAL
        fmt = number_by_column[column]
        return fmt if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    for j, column in enumerate(map(str, table.columns)):
        words = sheet.headers.get(column, column)
        text = inert_text(words, quote=False)
        put(ws, 0, j, text, formats.get(quote=is_formula_like(text), role="words"))
        width = min(40, max(8, len(column) + 2, 2 * len(words) + 2))  # characters
        ws.set_column_pixels(j, j, width * CHARACTER_PX)  # stored as exactly ``width`` characters
    write_rows(ws, table, 1, formats, number, id_role="id")
    ws.freeze_panes(HEADER_ROWS, sheet.frozen_columns)
    ws.autofilter(1, 0, HEADER_ROWS + len(table) - 1, max(1, len(table.columns)) - 1)
