"""The workbook's sheets for analysts: ``Figures`` (long and tidy) and ``Definitions``.

``Figures`` has one row per series x quarter x figure of the trend window (value, same
quarter last year, change, year to date, baseline, target, ...): the figure's name is a
column, its number another (a number or blank, never a marker), with the quarter's
data status, what a withheld figure was shown as, and the verdict at that quarter in
text columns beside it.  Rates and % changes are fractions with percentage formats,
dates are dates; the sheet is one Excel table (``Figures``), so it filters and pivots.
``Definitions`` is one row per catalogue series from ``dim_measure`` (with the full
description and what the baseline is).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

from catalogue import statuses
from report.data import ReportData
from report.presentation import Cell, plain_row, published_figures
from report.suppression import is_suppressed
from report.views import ReportViews
from report.xlsx_cells import table_sheet

# (column of the marts, its name in the sheet, its kind for a count, for a rate)
FIGURES = (
    ("value", "Value", "count", "percent"),
    ("numerator", "Numerator", "count", "count"),
    ("denominator", "Denominator", "count", "count"),
    ("last_year_value", "Same quarter last year", "count", "percent"),
    ("change", "Change", "signed_count", "points"),
    ("pct_change", "% change", "pct_change", "pct_change"),
    ("ytd_value", "Year to date", "count", "percent"),
    ("ytd_last_year_value", "Year to date last year", "count", "percent"),
    ("ytd_change", "Year to date change", "signed_count", "points"),
    ("ytd_pct_change", "Year to date % change", "pct_change", "pct_change"),
    ("baseline", "Baseline", "count", "percent"),
    ("target_value", "Target for the year", "count", "percent"),
    ("assessed_value", "Assessed (year to date compared)", "count", "percent"),
    ("comparator_value", "Compared with (baseline share or target)", "count", "percent"),
)
FIGURE_HEADERS = (
    "No",
    "Series",
    "Measure",
    "Theme",
    "Unit",
    "Year",
    "Quarter",
    "Period end",
    "Figure",
    "Number",
    "Data status",
    "Shown as",
    "Verdict at the quarter",
    "RAG",
    "Provisional",
    "Due",
    "Received",
)
FIGURE_WIDTHS = (6, 16, 40, 20, 9, 9, 8, 14, 30, 12, 22, 10, 16, 8, 11, 14, 14)


def _text(value: object) -> str:
    return "" if value is None or value != value else str(value)


def _figure_rows(data: ReportData) -> Iterator[tuple[object, ...]]:
    catalogue = {(r["measure_id"], r["series"]): r for r in data.series.to_dict("records")}
    trend = data.trend.sort_values(["measure_id", "series", "fiscal_year", "quarter"])
    for raw in trend.to_dict("records"):
        row = plain_row(raw)
        meta = catalogue.get((row["measure_id"], row["series"]), {})
        row["ytd_method"] = meta.get("ytd_method")
        unit = str(row["unit"])
        shown = published_figures(row, data.level, data.trend)
        status_code = str(row.get("data_status") or "")
        for key, name, count_kind, rate_kind in FIGURES:
            value = shown.get(key, row.get(key))
            kind = rate_kind if unit == "percent" else count_kind
            number = None if is_suppressed(value) else value
            yield (
                row["measure_id"],
                row["series"],
                _text(meta.get("title")),
                _text(meta.get("theme")),
                unit,
                row["fiscal_year"],
                f"Q{row['quarter']}",
                row.get("period_end"),
                name,
                Cell("", number if isinstance(number, int | float) else None, kind),
                statuses.label(status_code) if status_code else "",
                str(value) if is_suppressed(value) else "",
                _text(row.get("status")),
                _text(row.get("rag")),
                "provisional" if row.get("is_provisional") else "",
                row.get("due_date"),
                row.get("received_date"),
            )


def figures_sheet(sheet: Worksheet, data: ReportData) -> None:
    """The long, tidy sheet: one row per series x quarter x figure."""
    table_sheet(sheet, "Figures", FIGURE_HEADERS, FIGURE_WIDTHS, _figure_rows(data), framed=False)


DEFINITION_COLUMNS = (
    ("No", "measure_id", 6),
    ("Series", "series", 18),
    ("Theme", "theme", 22),
    ("Measure", "title", 44),
    ("Description (as published)", "description", 60),
    ("How it is computed", "method_description", 40),
    ("Unit", "unit", 9),
    ("Direction", "direction", 10),
    ("Target rule", "target_rule", 20),
    ("Year to date", "ytd_method", 12),
    ("What the baseline is", "baseline_description", 30),
    ("Plan years' outturns", "plan", 50),
    ("Owner", "owner", 28),
    ("Source", "catalogue_source", 26),
)


def _definition(record: Mapping[str, Any], views: ReportViews) -> tuple[object, ...]:
    context = views.context.get(f"{record['measure_id']} {record['series']}")
    values = []
    for _, key, _ in DEFINITION_COLUMNS:
        if key == "plan":
            values.append(context.plan_text if context else "")
        else:
            values.append(_text(record.get(key)))
    return tuple(values)


def definitions_sheet(sheet: Worksheet, data: ReportData, views: ReportViews) -> None:
    """One row per catalogue series, from dim_measure (and the plan years' verdicts)."""
    rows = data.series.sort_values(["measure_id", "sort_order", "series"]).to_dict("records")
    table_sheet(
        sheet,
        "Definitions",
        [c[0] for c in DEFINITION_COLUMNS],
        [c[2] for c in DEFINITION_COLUMNS],
        (_definition(r, views) for r in rows),
    )
