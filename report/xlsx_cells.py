"""Writing workbook cells: the one cell writer and the shape of an analyst's sheet.

Every cell of the workbook is written by :func:`write_cell` (texts through
:func:`set_value`): a text that a spreadsheet could read as a formula (first character
``=``, ``+``, ``-``, ``@``, tab or carriage return, OWASP's CSV-injection list) is
written as a text cell with a leading apostrophe; numbers are numbers, a rate a
fraction with a percentage format; a number column holds a number or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from report.cells import safe_text
from report.presentation import Cell

NUMBER_FORMATS = {
    "count": "#,##0",
    "signed_count": '+#,##0;-#,##0;"0"',
    "percent": "0.0%",  # rates are written as fractions (81.4% is 0.814)
    "points": '+0.0" pts";-0.0" pts";"0.0 pts"',
    "pct_change": "+0.0%;-0.0%;0.0%",
    "number": "General",
    "date": "d mmmm yyyy",
}
NAVY = "1F3864"
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
THEME_FILL = PatternFill("solid", fgColor=NAVY)
THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
RAG_FONT_COLOURS = {"Amber": "000000"}


def set_value(target, value: object) -> None:
    if isinstance(value, str):
        target.value = safe_text(value)
        target.data_type = "s"  # openpyxl makes any text starting with "=" a formula
    else:
        target.value = value


def write_cell(
    sheet: Worksheet,
    row: int,
    column: int,
    cell: Cell | object,
    numeric: bool = False,
    framed: bool = True,
) -> None:
    """Write one cell (``framed``: with a border and wrapped text; a long table sheet
    leaves that to its Excel table style, as styling every cell is slow in openpyxl)."""
    target = sheet.cell(row=row, column=column)
    if isinstance(cell, Cell):
        if cell.number is not None:
            # a rate is a fraction with a percentage format, so it sums and charts
            fraction = cell.kind in ("percent", "pct_change")
            target.value = cell.number / 100 if fraction else cell.number
            target.number_format = NUMBER_FORMATS.get(cell.kind, "General")
        elif cell.kind == "text" and not numeric:
            set_value(target, cell.text)
        # a number column holds a number or nothing; why there is none is in a text column
    elif isinstance(cell, date):
        target.value = cell
        target.number_format = NUMBER_FORMATS["date"]
    else:
        set_value(target, cell)
    if not framed:
        return
    target.border = BORDER
    if target.alignment.horizontal is None:
        target.alignment = WRAP


def excel_table(sheet: Worksheet, name: str, columns: int) -> None:
    """The sheet's rows as an Excel table (filters, sorting, pivots); header in row 1."""
    last = max(2, sheet.max_row)
    made = Table(displayName=name, ref=f"A1:{get_column_letter(columns)}{last}")
    made.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    sheet.add_table(made)


def header(sheet: Worksheet, row: int, headers: Sequence[str], widths: Sequence[int]) -> None:
    for column, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = sheet.cell(row=row, column=column, value=text)
        cell.font = Font(bold=True, color=NAVY)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        sheet.column_dimensions[get_column_letter(column)].width = width


def page_setup(sheet: Worksheet, title_rows: str | None = None) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        sheet.print_title_rows = title_rows


def table_sheet(
    sheet: Worksheet,
    table_name: str,
    headers: Sequence[str],
    widths: Sequence[int],
    rows: Iterable[Sequence[object]],
    framed: bool = True,
) -> None:
    """A header row, one row of cells per item, the header frozen, an Excel table over it
    and the print set-up: the shape of every analyst's sheet."""
    header(sheet, 1, headers, widths)
    for row, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            write_cell(sheet, row, column, value, framed=framed)
    sheet.freeze_panes = "A2"
    excel_table(sheet, table_name, len(headers))
    page_setup(sheet, "1:1")
