"""The one way healthreach writes spreadsheets: audit.xlsx, scenario.xlsx and the batch summary.xlsx.

Every sheet has two header rows: the column's header in the chosen
language (row 1, bold, wrapped) and its machine-readable id (row 2, the
CSV's header, where the filter buttons sit); figures start on row 3. The
header rows stay in view (frozen panes, with the first ``frozen_columns``
columns), and numbers are formatted by what they are: shares as
percentages, minutes with one decimal, people and metres as whole numbers.
Text is made inert by :func:`healthreach.outputs.write_xlsx`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from healthreach.outputs import inert_text, is_formula_like, write_xlsx

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

PERCENT, MINUTES, WHOLE, DECIMAL = "0.0%", "0.0", "#,##0", "0.00"
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
    write_xlsx({name: sheet.table for name, sheet in sheets.items()}, path, _styler(sheets))


def _styler(sheets: dict[str, Sheet]) -> Callable[[Worksheet, pd.DataFrame, str], None]:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    fail_fill = PatternFill("solid", fgColor="F4CCCC")
    id_font = Font(color="666666", size=9)

    def style(ws: Worksheet, table: pd.DataFrame, name: str) -> None:
        sheet = sheets[name]
        ws.insert_rows(1)  # row 1: words; row 2: the ids pandas wrote
        units = list(table[sheet.unit_column]) if sheet.unit_column in table else None
        for j, column in enumerate(map(str, table.columns), start=1):
            letter = get_column_letter(j)
            words = sheet.headers.get(column, column)
            text = inert_text(words, quote=False)
            head = ws.cell(row=1, column=j, value=text)
            if is_formula_like(text):  # a title from a profile: shown as typed, never evaluated
                head.data_type, head.quotePrefix = "s", True
            head.font = Font(bold=True)
            head.alignment = Alignment(wrap_text=True, vertical="top")
            ws.cell(row=2, column=j).font = id_font
            ws.column_dimensions[letter].width = min(40, max(8, len(column) + 2, 2 * len(words) + 2))
            fmt = number_format(column)
            for i, cell in enumerate(ws[letter][HEADER_ROWS:]):
                if cell.value is None:
                    continue
                if units is not None and column in sheet.by_unit:
                    cell.number_format = PERCENT if units[i] == "share of people" else DECIMAL
                elif fmt is not None and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    cell.number_format = fmt
                if failing(cell.value):
                    cell.fill = fail_fill
        ws.freeze_panes = f"{get_column_letter(sheet.frozen_columns + 1)}{HEADER_ROWS + 1}"
        ws.auto_filter.ref = f"A2:{get_column_letter(max(1, len(table.columns)))}{ws.max_row}"

    return style
