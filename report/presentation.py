"""What the report prints, the same for the HTML page and the workbook.

:func:`series_views` turns the marts' rows into printed rows: figures through
small-number suppression, formatted cells (text and the exact number behind it), the
status, the RAG and the commentary.  :func:`report.views.build_views` calls these once
per report; the renderers only lay the views out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from catalogue import statuses, target_statuses
from catalogue.fiscal import FiscalQuarter
from report import formatting as fmt
from report.commentary import commentary, series_rank
from report.data import ReportData
from report.formatting import Figure
from report.suppression import (
    BOROUGH,
    WITHHELD,
    Level,
    derived,
    is_suppressed,
    suppress,
)

RAG_ORDER = ("Green", "Amber", "Red", "Grey")
NOT_ASSESSED = "NOT ASSESSED"


@dataclass(frozen=True)
class Cell:
    """A printed figure: its text, and the number behind it (None if blank or withheld)."""

    text: str
    number: float | None = None
    kind: str = "text"  # count | percent | points | pct_change | days | text


@dataclass(frozen=True)
class Column:
    key: str
    header: str


SERIES_COLUMNS = (
    Column("value", "This quarter"),
    Column("last_year_value", "Same quarter last year"),
    Column("change", "Change"),
    Column("pct_change", "% change"),
    Column("ytd_value", "Year to date"),
    Column("ytd_last_year_value", "Year to date last year"),
    Column("baseline", "Baseline / target"),
)


@dataclass(frozen=True)
class SeriesView:
    key: str  # "1.3 total"
    theme: str
    measure_id: str
    series: str
    title: str
    owner: str
    unit: str
    cells: dict[str, Cell]
    status: str
    rag: str
    data_status: str
    commentary: str
    provisional: bool = False  # a verdict from the quarters received (fct_target_status)
    verdict_basis: str = ""


@dataclass(frozen=True)
class ThemeView:
    name: str
    rows: list[SeriesView]


def plain(value: Any) -> Any:
    """A pandas/numpy value as plain Python: NaN/NaT -> None, Timestamp -> date."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    if hasattr(value, "item") and not isinstance(value, str | date):
        return plain(value.item())
    return value


def plain_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in row.items()}


# --------------------------------------------------------------------------------------
# suppression of one series' figures


def _denominators(
    trend: pd.DataFrame, row: Mapping[str, Any], fiscal_year: str, quarter: int
) -> tuple[Figure, Figure, Figure]:
    """Denominators of a rate: the same quarter last year, the year to date, and the year
    to date last year."""
    mine = trend[(trend["measure_id"] == row["measure_id"]) & (trend["series"] == row["series"])]
    last_fy = FiscalQuarter.of(fiscal_year, quarter).year_before().fiscal_year
    last = mine[(mine["fiscal_year"] == last_fy) & (mine["quarter"] == quarter)]["denominator"]
    year = mine[(mine["fiscal_year"] == fiscal_year) & (mine["quarter"] <= quarter)]
    last_year_den = plain(last.iloc[0]) if len(last) else None
    if row.get("ytd_method") == "latest":
        return last_year_den, row.get("denominator"), last_year_den
    ytd_den = plain(year["denominator"].sum(min_count=1))
    last_year_year = mine[(mine["fiscal_year"] == last_fy) & (mine["quarter"] <= quarter)]
    return last_year_den, ytd_den, plain(last_year_year["denominator"].sum(min_count=1))


def published_figures(
    row: Mapping[str, Any], level: Level, trend: pd.DataFrame | None = None
) -> dict[str, Figure]:
    """The series' figures as they may be published at ``level``."""
    fig: dict[str, Figure] = {k: row.get(k) for k in _FIGURE_KEYS}
    if level == BOROUGH:
        return fig
    unit = str(row["unit"])
    ly_den = ytd_den = ytd_ly_den = None
    if unit == "percent" and trend is not None:
        fy, q = str(row["fiscal_year"]), int(row["quarter"])
        ly_den, ytd_den, ytd_ly_den = _denominators(trend, row, fy, q)
    out = dict(fig)
    out["numerator"] = suppress(fig["numerator"], level=level)
    out["denominator"] = suppress(fig["denominator"], level=level)
    out["value"] = suppress(fig["value"], level=level, unit=unit, denominator=fig["denominator"])
    out["last_year_value"] = suppress(
        fig["last_year_value"], level=level, unit=unit, denominator=ly_den
    )
    out["ytd_value"] = suppress(fig["ytd_value"], level=level, unit=unit, denominator=ytd_den)
    out["ytd_last_year_value"] = suppress(
        fig["ytd_last_year_value"], level=level, unit=unit, denominator=ytd_ly_den
    )
    out["assessed_value"] = suppress(
        fig["assessed_value"], level=level, unit=unit, denominator=ytd_den
    )
    out["previous_year_outturn"] = suppress(
        fig["previous_year_outturn"], level=level, unit=unit, denominator=ytd_ly_den
    )
    for name, a, b in (
        ("change", "value", "last_year_value"),
        ("pct_change", "value", "last_year_value"),
        ("ytd_change", "ytd_value", "ytd_last_year_value"),
        ("ytd_pct_change", "ytd_value", "ytd_last_year_value"),
    ):
        out[name] = derived(fig[name], out[a], out[b])
    if is_suppressed(out["numerator"]) or is_suppressed(out["denominator"]):
        out["numerator"] = out["denominator"] = WITHHELD
    return out


def printed_changes(fig: dict[str, Figure], unit: str) -> dict[str, Figure]:
    """The changes as the difference of the figures as printed (rates to one decimal,
    counts whole), so '5.8%' against '4.6%' reads '+1.2 pts', never '+1.3 pts'.  The
    marts keep the exact change; only what is printed is made to agree with itself."""
    places = 1 if unit == "percent" else 0
    out = dict(fig)
    for name, a, b in (
        ("change", "value", "last_year_value"),
        ("ytd_change", "ytd_value", "ytd_last_year_value"),
    ):
        now, then = fmt.as_number(fig[a]), fmt.as_number(fig[b])
        if now is not None and then is not None and not is_suppressed(fig[name]):
            out[name] = float(fmt.rounded(now, places) - fmt.rounded(then, places))
    return out


_FIGURE_KEYS = (
    "value",
    "numerator",
    "denominator",
    "last_year_value",
    "change",
    "pct_change",
    "ytd_value",
    "ytd_last_year_value",
    "ytd_change",
    "ytd_pct_change",
    "baseline",
    "previous_year_outturn",
    "comparator_value",
    "assessed_value",
    "days_overdue",
)


# --------------------------------------------------------------------------------------
# cells


def _cell(value: Figure, kind: str) -> Cell:
    printer = {
        "count": fmt.count,
        "percent": fmt.percent,
        "points": fmt.points,
        "signed_count": fmt.signed_count,
        "pct_change": fmt.signed_percent,
    }[kind]
    return Cell(printer(value), fmt.as_number(value) if not is_suppressed(value) else None, kind)


def _value_cell(value: Figure, data_status: str, unit: str) -> Cell:
    if fmt.as_number(value) is None and not is_suppressed(value):
        return Cell(statuses.short_label(data_status, fmt.NONE), None, "text")
    return _cell(value, "percent" if unit == "percent" else "count")


def series_cells(fig: Mapping[str, Figure], unit: str, data_status: str) -> dict[str, Cell]:
    rate = unit == "percent"
    value_kind = "percent" if rate else "count"
    return {
        "value": _value_cell(fig["value"], data_status, unit),
        "last_year_value": _cell(fig["last_year_value"], value_kind),
        "change": _cell(fig["change"], "points" if rate else "signed_count"),
        "pct_change": _cell(None if rate else fig["pct_change"], "pct_change"),
        "ytd_value": _cell(fig["ytd_value"], value_kind),
        "ytd_last_year_value": _cell(fig["ytd_last_year_value"], value_kind),
        "baseline": _cell(fig["baseline"], value_kind),
    }


# --------------------------------------------------------------------------------------
# rows


def _unusable_quarters(
    trend: pd.DataFrame, row: Mapping[str, Any], fiscal_year: str, q: int
) -> list[tuple[int, str]]:
    """The quarters of the year so far without a usable figure, with their status."""
    mine = trend[
        (trend["measure_id"] == row["measure_id"])
        & (trend["series"] == row["series"])
        & (trend["fiscal_year"] == fiscal_year)
        & (trend["quarter"] <= q)
        & ~trend["data_status"].isin(statuses.usable())
    ]
    return [(int(r["quarter"]), str(r["data_status"])) for r in mine.to_dict("records")]


def _return_arrived(series: pd.DataFrame, row: Mapping[str, Any]) -> bool:
    """Whether the owner's return for the quarter arrived (another series from the same
    agency and feed has a usable figure), so only this series' figure is missing."""
    same = series[
        (series["owner"] == row.get("owner"))
        & (series["source"] == row.get("source"))
        & ~((series["measure_id"] == row["measure_id"]) & (series["series"] == row["series"]))
    ]
    return bool(same["data_status"].isin(statuses.usable()).any())


NOTE_LEADS = {"caveat": "Caveat", "context": "Note"}


def _with_notes(text: str, notes: pd.DataFrame, row: Mapping[str, Any]) -> str:
    """The commentary, then the published report's caveats and notes for the series
    (seed report_notes, through dim_report_note)."""
    if notes.empty:
        return text
    mine = notes[(notes["measure_id"] == row["measure_id"]) & (notes["series"] == row["series"])]
    extra = [f"{NOTE_LEADS.get(n['kind'], 'Note')}: {n['note']}" for n in mine.to_dict("records")]
    return " ".join([text, *extra]) if extra else text


def _correction(data: ReportData, row: Mapping[str, Any]) -> str:
    """A marker when the board was given a different figure for this quarter or year
    (a slip in the published report, fct_published_reconciliation)."""
    rec, q = data.reconciliation, data.quarter
    if rec.empty:
        return ""
    period = "FY" if q.quarter == 4 else f"Q{q.quarter}"
    mine = rec[
        (rec["measure_id"] == row["measure_id"])
        & (rec["series"] == row["series"])
        & (rec["fiscal_year"] == q.fiscal_year)
        & (rec["period"] == period)
        & rec["figure"].isin(("value", "ytd_value"))
    ]
    if mine.empty:
        return ""
    first = plain_row(mine.iloc[0].to_dict())
    published = first.get("published_text") or fmt.NONE
    number = fmt.as_number(first.get("published_value"))
    if number is not None and float(number).is_integer():
        published = fmt.count(number)
    what = "year's total" if q.quarter == 4 else "year to date"
    return f"Corrected: the published report gave the {what} as {published} (see corrections)."


def series_view(data: ReportData, raw: Mapping[str, Any]) -> SeriesView:
    row = plain_row(raw)
    q = data.quarter
    row["fiscal_year"], row["quarter"] = q.fiscal_year, q.quarter
    fig = printed_changes(published_figures(row, data.level, data.trend), str(row["unit"]))
    data_status = str(row.get("data_status") or "missing")
    gaps = _unusable_quarters(data.trend, row, q.fiscal_year, q.quarter)
    return SeriesView(
        key=f"{row['measure_id']} {row['series']}",
        theme=str(row["theme"]),
        measure_id=str(row["measure_id"]),
        series=str(row["series"]),
        title=str(row["title"]),
        owner=str(row.get("owner") or ""),
        unit=str(row["unit"]),
        cells=series_cells(fig, str(row["unit"]), data_status),
        status=str(row.get("status") or NOT_ASSESSED),
        rag=str(row.get("rag") or "Grey"),
        data_status=data_status,
        commentary=_with_notes(
            " ".join(
                p
                for p in (
                    commentary(row, fig, q, gaps, _return_arrived(data.series, row)),
                    _correction(data, row) if data.level == BOROUGH else "",
                )
                if p
            ),
            data.notes,
            row,
        ),
        provisional=bool(row.get("is_provisional")) and bool(row.get("verdict_basis")),
        verdict_basis=str(row.get("verdict_basis") or ""),
    )


def series_views(data: ReportData) -> list[SeriesView]:
    rows = sorted(data.series.to_dict("records"), key=series_rank)
    return [series_view(data, r) for r in rows]


OFF_TARGET = target_statuses.off_target_labels()  # NOT ACHIEVED, OFF TRACK


def off_target(views: list[SeriesView]) -> list[SeriesView]:
    """Every series whose verdict is not met (Red or Amber alike)."""
    return [v for v in views if v.status in OFF_TARGET]


def rag_counts(views: list[SeriesView]) -> dict[str, int]:
    return {rag: sum(1 for v in views if v.rag == rag) for rag in RAG_ORDER}
