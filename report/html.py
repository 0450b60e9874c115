"""The report as one self-contained HTML page (inline CSS and SVG; no scripts, no links).

It opens offline, and prints on A4 landscape (``@page``), colours included.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import jinja2
import pandas as pd

from report.charts import rag_summary_svg, trend_svg
from report.data import ReportData
from report.presentation import RAG_ORDER, SERIES_COLUMNS, SeriesView, off_target, rag_counts
from report.views import ReportViews, build_views

TEMPLATES = Path(__file__).with_name("templates")
RAG_TOLERANCE_PCT = 5  # dbt var rag_amber_tolerance_pct (for the legend only)

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def series_chart(data: ReportData, view: SeriesView) -> str:
    trend = data.trend
    points = trend[(trend["measure_id"] == view.measure_id) & (trend["series"] == view.series)]
    method = data.series.loc[
        (data.series["measure_id"] == view.measure_id) & (data.series["series"] == view.series),
        "ytd_method",
    ]
    return trend_svg(
        points,
        unit=view.unit,
        ytd_method=str(method.iloc[0]) if len(method) else "sum",
        chart_id=f"trend-{view.measure_id}-{view.series}".replace(".", "_"),
        title=f"{view.measure_id} {view.title}",
        level=data.level,
    )


def _trend_years(data: ReportData) -> str:
    years = sorted(data.trend["fiscal_year"].unique()) if len(data.trend) else []
    if not years:
        return data.quarter.fiscal_year
    return f"{years[0]} to {data.quarter.label}" if len(years) > 1 else data.quarter.label


def _stamp(value: datetime | None) -> str:
    if value is None:
        return ""
    stamp = pd.Timestamp(value)
    return (
        stamp.strftime("%-d %B %Y %H:%M")
        if stamp.tzinfo is None
        else stamp.strftime("%-d %B %Y %H:%M %Z")
    )


def render_html(
    data: ReportData, generated_at: datetime | None = None, views: ReportViews | None = None
) -> str:
    """The report page for ``data`` (charts drawn here, from ``data.trend``); ``views``
    as :func:`report.views.build_views` built them (built here when not given)."""
    built = views or build_views(data)
    themes = built.themes
    by_theme = {t.name: rag_counts(t.rows) for t in themes}
    template = _ENV.get_template("report.html.j2")
    return template.render(
        q=data.quarter,
        area_code=data.area_code,
        area_name=data.area_name,
        level=data.level,
        as_of=data.as_of.strftime("%-d %B %Y") if data.as_of else "",
        published_at=f"{_stamp(data.published_at)} UTC" if data.published_at else "",
        not_counted=data.not_counted,
        generated_at=_stamp(generated_at or datetime.now().replace(microsecond=0)),
        views=built.series,
        themes=themes,
        columns=SERIES_COLUMNS,
        charts={v.key: series_chart(data, v) for v in built.series},
        rag_counts=built.rag_counts,
        rag_chart=rag_summary_svg(by_theme),
        reds=off_target(built.series),
        returns=built.returns,
        agencies=built.agencies,
        slips=built.slips,
        context=built.context,
        changes=built.changes,
        owed=built.owed,
        tolerance=RAG_TOLERANCE_PCT,
        trend_years=_trend_years(data),
        rag_order=RAG_ORDER,
        analysis=built.analysis,
    )
