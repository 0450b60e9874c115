"""The report as an Excel workbook: the same table, with RAG fills, and the lists.

Sheets: ``Report`` (grouped by theme, as the HTML), ``Missing returns``,
``Reconciliation``, ``Trend data`` (the quarters the charts draw) and ``Notes``.
Figures are numbers with number formats (so they can be summed and charted); a
suppressed figure is the text ``<5`` or ``withheld``.

Every text goes through :func:`safe_text` (in :func:`_write_cell`, the one cell writer):
a text that a spreadsheet could read as a formula (first character ``=``, ``+``, ``-``,
``@``, tab or carriage return, OWASP's CSV-injection list) is written as a text cell
with a leading apostrophe, so a partner's note ``=HYPERLINK(...)`` stays words.  Numbers
are written as numbers, negative ones included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from report.cells import safe_text
from report.charts import RAG_COLOURS, plotted_values
from report.context import ANALYSIS_HEADERS, ANALYSIS_WIDTHS, analysis_rows
from report.data import ReportData
from report.presentation import SERIES_COLUMNS, Cell
from report.suppression import is_suppressed
from report.views import ReportViews, build_views

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

NUMBERS = len(SERIES_COLUMNS)  # the Report sheet's number columns, after the four labels
REPORT_HEADERS = (
    "No",
    "Series",
    "Measure",
    "Owner",
    *(c.header for c in SERIES_COLUMNS),
    "Status",
    "RAG",
    "Data status",
    "Figures withheld",
    "Commentary",
)
REPORT_WIDTHS = (6, 16, 42, 24, 11, 11, 10, 10, 11, 11, 11, 15, 9, 14, 16, 90)


def _set_value(target, value: object) -> None:
    if isinstance(value, str):
        target.value = safe_text(value)
        target.data_type = "s"  # openpyxl makes any text starting with "=" a formula
    else:
        target.value = value


def _write_cell(
    sheet: Worksheet, row: int, column: int, cell: Cell | object, numeric: bool = False
) -> None:
    target = sheet.cell(row=row, column=column)
    if isinstance(cell, Cell):
        if cell.number is not None:
            # a rate is a fraction with a percentage format, so it sums and charts
            fraction = cell.kind in ("percent", "pct_change")
            target.value = cell.number / 100 if fraction else cell.number
            target.number_format = NUMBER_FORMATS.get(cell.kind, "General")
        elif cell.kind == "text" and not numeric:
            _set_value(target, cell.text)
        # a number column holds a number or nothing; why there is none is in a text column
    elif isinstance(cell, date):
        target.value = cell
        target.number_format = NUMBER_FORMATS["date"]
    else:
        _set_value(target, cell)
    target.border = BORDER
    if target.alignment.horizontal is None:
        target.alignment = WRAP


def _table(sheet: Worksheet, name: str, columns: int) -> None:
    """The sheet's rows as an Excel table (filters, sorting, pivots); header in row 1."""
    last = max(2, sheet.max_row)
    table = Table(displayName=name, ref=f"A1:{get_column_letter(columns)}{last}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    sheet.add_table(table)


def _definitions_sheet(sheet: Worksheet, data: ReportData) -> None:
    """One row per catalogue series, from dim_measure."""
    columns = (
        ("No", "measure_id", 6),
        ("Series", "series", 18),
        ("Theme", "theme", 22),
        ("Measure", "title", 48),
        ("Unit", "unit", 9),
        ("Direction", "direction", 10),
        ("Target rule", "target_rule", 20),
        ("Year to date", "ytd_method", 12),
        ("Owner", "owner", 28),
        ("Source", "catalogue_source", 26),
    )
    _header(sheet, 1, [c[0] for c in columns], [c[2] for c in columns])
    rows = data.series.sort_values(["measure_id", "sort_order", "series"]).to_dict("records")
    for row, record in enumerate(rows, start=2):
        for column, (_, key, _) in enumerate(columns, start=1):
            value = record.get(key)
            _write_cell(sheet, row, column, "" if value is None or value != value else str(value))
    _table(sheet, "Definitions", len(columns))


def _header(sheet: Worksheet, row: int, headers: Sequence[str], widths: Sequence[int]) -> None:
    for column, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = sheet.cell(row=row, column=column, value=text)
        cell.font = Font(bold=True, color=NAVY)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        sheet.column_dimensions[get_column_letter(column)].width = width


def _page_setup(sheet: Worksheet, title_rows: str | None = None) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        sheet.print_title_rows = title_rows


def _table_sheet(
    sheet: Worksheet,
    table: str,
    headers: Sequence[str],
    widths: Sequence[int],
    rows: Iterable[Sequence[object]],
) -> None:
    """A header row, one row of cells per item, the header frozen, an Excel table over it
    and the print set-up: the shape of every analyst's sheet."""
    _header(sheet, 1, headers, widths)
    for row, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            _write_cell(sheet, row, column, value)
    sheet.freeze_panes = "A2"
    _table(sheet, table, len(headers))
    _page_setup(sheet, "1:1")


def _report_sheet(sheet: Worksheet, data: ReportData, views: ReportViews) -> int:
    sheet.title = "Report"
    q = data.quarter
    _set_value(
        sheet["A1"], f"Community Safety Plan: quarterly performance report {q.label} ({q.months})"
    )
    sheet["A1"].font = Font(bold=True, size=14, color=NAVY)
    as_of = f"; as at {data.as_of:%d %B %Y}" if data.as_of else ""
    _set_value(
        sheet["A2"],
        f"{data.area_name} ({data.area_code}). Figures from the warehouse marts{as_of}.",
    )
    _header(sheet, 4, REPORT_HEADERS, REPORT_WIDTHS)
    row = 5
    written = 0
    for theme in views.themes:
        _set_value(sheet.cell(row=row, column=1), theme.name)
        sheet.cell(row=row, column=1).font = Font(bold=True, color="FFFFFF")
        for column in range(1, len(REPORT_HEADERS) + 1):
            sheet.cell(row=row, column=column).fill = THEME_FILL
        row += 1
        for view in theme.rows:
            values: list[Cell | object] = [view.measure_id, view.series, view.title, view.owner]
            values += [view.cells[c.key] for c in SERIES_COLUMNS]
            withheld = [
                f"{c.header}: {view.cells[c.key].text}"
                for c in SERIES_COLUMNS
                if is_suppressed(view.cells[c.key].text)
            ]
            status = f"{view.status} (provisional)" if view.provisional else view.status
            values += [status, view.rag, view.data_status, "; ".join(withheld), view.commentary]
            for column, value in enumerate(values, start=1):
                _write_cell(sheet, row, column, value, numeric=4 < column <= 4 + NUMBERS)
            rag = sheet.cell(row=row, column=REPORT_HEADERS.index("RAG") + 1)
            rag.fill = PatternFill("solid", fgColor=RAG_COLOURS[view.rag].lstrip("#").upper())
            rag.font = Font(bold=True, color=RAG_FONT_COLOURS.get(view.rag, "FFFFFF"))
            rag.alignment = Alignment(horizontal="center", vertical="top")
            row += 1
            written += 1
    sheet.freeze_panes = "E5"
    _page_setup(sheet, "4:4")
    return written


def _missing_sheet(sheet: Worksheet, data: ReportData, views: ReportViews) -> None:
    headers = (
        "No",
        "Series",
        "Measure",
        "Year",
        "Quarter",
        "Owning agency",
        "Source",
        "Status",
        "Due",
        "Received",
        "Days overdue",
        "Note",
    )
    rows = (
        (
            view.measure_id,
            view.series,
            view.title,
            data.quarter.fiscal_year,
            view.quarter,
            view.owner,
            view.source,
            view.status,
            view.due_date,
            view.received_date,
            view.days_overdue,
            view.note,
        )
        for view in views.missing
    )
    widths = (6, 16, 42, 9, 8, 28, 26, 20, 16, 16, 10, 50)
    _table_sheet(sheet, "MissingReturns", headers, widths, rows)


def _reconciliation_sheet(sheet: Worksheet, views: ReportViews) -> None:
    headers = (
        "No",
        "Series",
        "Year",
        "Period",
        "Figure",
        "Checked against",
        "Published",
        "Expected",
        "Difference",
        "Explanation",
    )
    rows = (
        (
            view.measure_id,
            view.series,
            view.fiscal_year,
            view.period,
            view.figure,
            view.check,
            view.published,
            view.expected,
            view.difference,
            view.explanation,
        )
        for view in views.reconciliation
    )
    _table_sheet(sheet, "Reconciliation", headers, (6, 18, 9, 8, 22, 26, 11, 11, 11, 90), rows)


def _trend_sheet(sheet: Worksheet, data: ReportData) -> None:
    headers = (
        "No",
        "Series",
        "Year",
        "Quarter",
        "Unit",
        "Value",
        "Data status",
        "Baseline / target",
        "RAG of the year to date at the quarter",
    )
    _header(sheet, 1, headers, (6, 30, 9, 8, 9, 11, 22, 14, 8))
    trend = data.trend.sort_values(["measure_id", "series", "fiscal_year", "quarter"])
    row = 2
    for (_, _), points in trend.groupby(["measure_id", "series"], sort=False):
        shown = plotted_values(points, str(points["unit"].iloc[0]), data.level)
        for record, value in zip(points.to_dict("records"), shown, strict=True):
            unit = str(record["unit"])
            kind = "percent" if unit == "percent" else "count"
            number = None if value != value else value
            target = record.get("target_value")
            values = (
                record["measure_id"],
                record["series"],
                record["fiscal_year"],
                f"Q{record['quarter']}",
                unit,
                Cell("" if number is None else str(number), number, kind),
                record["data_status"],
                Cell("", None if target != target else target, kind),
                record.get("rag") if isinstance(record.get("rag"), str) else "",
            )
            for column, item in enumerate(values, start=1):
                _write_cell(sheet, row, column, item)
            row += 1
    sheet.freeze_panes = "A2"
    _table(sheet, "TrendData", len(headers))


def _notes_sheet(sheet: Worksheet, data: ReportData, generated_at: datetime) -> None:
    notes = (
        ("Report", f"{data.quarter.label} ({data.quarter.months}), {data.area_name}"),
        (
            "Source",
            "The warehouse marts: fct_measure_quarter, fct_target_status, "
            "fct_missing_returns, fct_published_reconciliation, dim_measure.",
        ),
        ("As of", f"{data.as_of:%d %B %Y}" if data.as_of else ""),
        *((("Not counted", data.not_counted),) if data.not_counted else ()),
        ("Generated", f"{generated_at:%d %B %Y %H:%M}"),
        (
            "Small numbers",
            "Below the borough total, counts of 1-4 are shown as <5 and rates "
            "over fewer than 5 cases are withheld, with the changes worked from them. Borough "
            "totals are published as they are.",
        ),
        (
            "Percentages",
            "Rates are fractions formatted as percentages (81.4% is 0.814); their change is"
            " in percentage points. Number columns hold numbers or nothing: why a figure is"
            " missing is in 'Data status', a withheld one in 'Figures withheld'.",
        ),
        (
            "Charts",
            "The HTML report draws the trend of every series; 'Trend data' holds the "
            "same quarters for charting here.",
        ),
    )
    _header(sheet, 1, ("Item", "Note"), (16, 110))
    for row, (item, note) in enumerate(notes, start=2):
        _write_cell(sheet, row, 1, item)
        _write_cell(sheet, row, 2, note)


def render_xlsx(
    data: ReportData,
    path: Path | str,
    generated_at: datetime | None = None,
    views: ReportViews | None = None,
) -> Path:
    """Write the workbook to ``path``; returns the path.  ``views`` as
    :func:`report.views.build_views` built them (built here when not given)."""
    generated_at = generated_at or datetime.now().replace(microsecond=0)
    views = views or build_views(data)
    workbook = Workbook()
    _report_sheet(workbook.active, data, views)
    _missing_sheet(workbook.create_sheet("Missing returns"), data, views)
    _reconciliation_sheet(workbook.create_sheet("Reconciliation"), views)
    _trend_sheet(workbook.create_sheet("Trend data"), data)
    _definitions_sheet(workbook.create_sheet("Definitions"), data)
    _notes_sheet(workbook.create_sheet("Notes"), data, generated_at)
    if views.analysis is not None:  # peers, forecasts, revisions (report/context.py)
        rows = analysis_rows(views.analysis, data.quarter)
        _table_sheet(
            workbook.create_sheet("Context"), "Context", ANALYSIS_HEADERS, ANALYSIS_WIDTHS, rows
        )
    workbook.properties.title = f"Community Safety Plan performance {data.quarter.label}"
    workbook.properties.creator = "csp-warehouse"
    workbook.properties.created = generated_at
    workbook.properties.modified = generated_at
    path = Path(path)
    workbook.save(path)
    return path
