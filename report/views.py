"""The one view-building step: everything the report prints, built once from the data.

:func:`build_views` turns :class:`~report.data.ReportData` (the marts' rows) into the
printed rows the HTML page and the workbook both lay out, so the two renderers never
work a figure, a status or a sentence out twice (and can never disagree).
"""

from __future__ import annotations

from dataclasses import dataclass

from report.analysis import AnalysisView, analysis_view, caveated_series, with_analysis
from report.context import (
    ChangeView,
    OwedView,
    SeriesContext,
    owed_by_agency,
    series_context,
    verdict_changes,
)
from report.data import ReportData
from report.lists import (
    AgencyView,
    MissingView,
    ReconciliationView,
    ReturnView,
    SlipView,
    agency_views,
    missing_views,
    reconciliation_views,
    return_views,
    slip_views,
)
from report.presentation import SeriesView, ThemeView, rag_counts, series_views


@dataclass(frozen=True)
class ReportViews:
    series: list[SeriesView]  # in report order
    themes: list[ThemeView]  # the same rows grouped by theme
    missing: list[MissingView]
    reconciliation: list[ReconciliationView]  # per figure and check (the workbook)
    slips: list[SlipView]  # per slip in the published report (the page)
    returns: list[ReturnView]  # per return (agency x quarter), partial quarters included
    agencies: list[AgencyView]  # what each agency owes
    context: dict[str, SeriesContext]  # per series key: description, quarters, plan years
    changes: list[ChangeView]  # verdicts that moved since the previous quarter
    owed: list[OwedView]  # per agency: the returns it owes, in one line
    analysis: AnalysisView | None = None  # significance, forecast, peers, revisions

    @property
    def rag_counts(self) -> dict[str, int]:
        return rag_counts(self.series)


def build_views(data: ReportData) -> ReportViews:
    series = series_views(data)
    analysis = analysis_view(
        data.analysis,
        {v.key: v.title for v in series},
        {v.key: v.unit for v in series},
        data.area_name,
        caveated_series(data.notes),
    )
    series = with_analysis(series, analysis)
    themes: dict[str, list[SeriesView]] = {}
    for view in series:
        themes.setdefault(view.theme, []).append(view)
    missing = missing_views(data)
    returns = return_views(data, missing)
    agencies = agency_views(returns, missing)
    return ReportViews(
        series=series,
        themes=[ThemeView(name, rows) for name, rows in themes.items()],
        missing=missing,
        reconciliation=reconciliation_views(data),
        slips=slip_views(data),
        returns=returns,
        agencies=agencies,
        context=series_context(data),
        changes=verdict_changes(data, series),
        owed=owed_by_agency(returns, agencies),
        analysis=analysis,
    )
