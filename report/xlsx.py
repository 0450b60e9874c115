"""The report as an Excel workbook: the same table, with RAG fills, and the lists.

Sheets: ``Report`` (grouped by theme, as the HTML, for printing), ``Figures`` (long and
tidy: one row per series x quarter x figure, an Excel table that pivots),
``Missing returns``, ``Reconciliation``, ``Trend data`` (the quarters the charts draw),
``Definitions`` (from ``dim_measure``) and ``Notes``.  Figures are numbers with number
formats (so they can be summed and charted); why one is missing or withheld is in a
text column beside it.

Every text goes through :func:`safe_text` (in :func:`report.xlsx_cells.write_cell`, the
one cell writer):
a text that a spreadsheet could read as a formula (first character ``=``, ``+``, ``-``,
``@``, tab or carriage return, OWASP's CSV-injection list) is written as a text cell
with a leading apostrophe, so a partner's note ``=HYPERLINK(...)`` stays words.  Numbers
are written as numbers, negative ones included.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from report.analysis import ANALYSIS_HEADERS, ANALYSIS_WIDTHS, analysis_rows
from report.charts import RAG_COLOURS, plotted_values
from report.data import ReportData
from report.presentation import SERIES_COLUMNS, Cell
from report.suppression import is_suppressed
from report.views import ReportViews, build_views
from report.xlsx_cells import (
    NAVY,
    RAG_FONT_COLOURS,
    THEME_FILL,
    excel_table,
    header,
    page_setup,
    set_value,
    table_sheet,
    write_cell,
)
from report.xlsx_figures import definitions_sheet, figures_sheet

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


def _report_sheet(sheet: Worksheet, data: ReportData, views: ReportViews) -> int:
    sheet.title = "Report"
    q = data.quarter
    set_value(
        sheet["A1"], f"Community Safety Plan: quarterly performance report {q.label} ({q.months})"
    )
    sheet["A1"].font = Font(bold=True, size=14, color=NAVY)
    as_of = (
        f" Figures and returns as at {data.as_of:%-d %B %Y} (the data date)." if data.as_of else ""
    )
    set_value(sheet["A2"], f"{data.area_name} Community Safety Partnership.{as_of}")
    header(sheet, 4, REPORT_HEADERS, REPORT_WIDTHS)
    row = 5
    written = 0
    for theme in views.themes:
        set_value(sheet.cell(row=row, column=1), theme.name)
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
                write_cell(sheet, row, column, value, numeric=4 < column <= 4 + NUMBERS)
            rag = sheet.cell(row=row, column=REPORT_HEADERS.index("RAG") + 1)
            rag.fill = PatternFill("solid", fgColor=RAG_COLOURS[view.rag].lstrip("#").upper())
            rag.font = Font(bold=True, color=RAG_FONT_COLOURS.get(view.rag, "FFFFFF"))
            rag.alignment = Alignment(horizontal="center", vertical="top")
            row += 1
            written += 1
    sheet.freeze_panes = "E5"
    page_setup(sheet, "4:4")
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
    table_sheet(sheet, "MissingReturns", headers, widths, rows)


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
    table_sheet(sheet, "Reconciliation", headers, (6, 18, 9, 8, 22, 26, 11, 11, 11, 90), rows)


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
    header(sheet, 1, headers, (6, 30, 9, 8, 9, 11, 22, 14, 8))
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
                write_cell(sheet, row, column, item)
            row += 1
    sheet.freeze_panes = "A2"
    excel_table(sheet, "TrendData", len(headers))


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
    header(sheet, 1, ("Item", "Note"), (16, 110))
    for row, (item, note) in enumerate(notes, start=2):
        write_cell(sheet, row, 1, item)
        write_cell(sheet, row, 2, note)


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
    figures_sheet(workbook.create_sheet("Figures", 1), data)
    _trend_sheet(workbook.create_sheet("Trend data"), data)
    definitions_sheet(workbook.create_sheet("Definitions"), data, views)
    _notes_sheet(workbook.create_sheet("Notes"), data, generated_at)
    if views.analysis is not None:  # peers, forecasts, revisions (report/analysis.py)
        rows = analysis_rows(views.analysis, data.quarter)
        table_sheet(
            workbook.create_sheet("Context"), "Context", ANALYSIS_HEADERS, ANALYSIS_WIDTHS, rows
        )
    workbook.properties.title = f"Community Safety Plan performance {data.quarter.label}"
    workbook.properties.creator = "csp-warehouse"
    workbook.properties.created = generated_at
    workbook.properties.modified = generated_at
    path = Path(path)
    workbook.save(path)
    return path
