"""The published report's context for each series, and the summary's comparisons.

Everything here is read from the marts through :class:`~report.data.ReportData` and
built once (by :func:`report.views.build_views`) for the HTML page and the workbook:

- :func:`series_context`: per series, the measure's full description (seed
  ``measure_descriptions`` via ``dim_measure``), what its baseline is (seed
  ``measure_targets.note`` via ``fct_measure_target_year``), the year's quarters as
  numbers (Q1-Q4) and the plan years' outturns with their verdicts (2014/15, 2015/16,
  2016/17 for the sample: the three years of the plan);
- :func:`verdict_changes`: the verdicts that moved since the previous quarter (their RAG
  changed), with the figures behind both;
- :func:`owed_by_agency`: which agency owes which returns, one short line each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from catalogue import statuses
from report import formatting as fmt
from report.data import ReportData
from report.lists import AgencyView, ReturnView
from report.presentation import NOT_ASSESSED, Cell, SeriesView, plain_row
from report.suppression import is_suppressed, suppress


def status_text(status: object) -> str:
    """A verdict as the series rows print it (the mart's status, NOT ASSESSED if none)."""
    return str(status or NOT_ASSESSED)


@dataclass(frozen=True)
class QuarterFigure:
    label: str  # "Q1"
    cell: Cell  # the value, or the data status's short words when there is none


@dataclass(frozen=True)
class PlanYear:
    year: str  # "2014/15"
    outturn: Cell  # the figure assessed (year's total, rate or latest rolling count)
    status: str
    rag: str
    provisional: bool

    @property
    def text(self) -> str:
        extra = " (provisional)" if self.provisional else ""
        return f"{self.year}: {self.outturn.text} {self.status.lower()}{extra}"


@dataclass(frozen=True)
class SeriesContext:
    description: str  # the measure's full description, as published
    baseline_description: str  # what the baseline is ("3 year average 2012-2014")
    quarters: list[QuarterFigure]
    plan: list[PlanYear]

    @property
    def quarters_text(self) -> str:
        return " \N{MIDDLE DOT} ".join(f"{q.label} {q.cell.text}" for q in self.quarters)

    @property
    def plan_text(self) -> str:
        return "; ".join(p.text for p in self.plan)


def _text(value: object) -> str:
    return "" if value is None or value != value else str(value)


def _figure_cell(value: Any, unit: str, data: ReportData, denominator: Any = None) -> Cell:
    shown = suppress(value, level=data.level, unit=unit, denominator=denominator)
    kind = "percent" if unit == "percent" else "count"
    text = fmt.figure(shown, unit)
    return Cell(text, None if is_suppressed(shown) else fmt.as_number(shown), kind)


def _quarters(data: ReportData, row: Mapping[str, Any]) -> list[QuarterFigure]:
    trend, q = data.trend, data.quarter
    mine = trend[
        (trend["measure_id"] == row["measure_id"])
        & (trend["series"] == row["series"])
        & (trend["fiscal_year"] == q.fiscal_year)
        & (trend["quarter"] <= q.quarter)
    ].sort_values("quarter")
    out = []
    for raw in mine.to_dict("records"):
        point = plain_row(raw)
        unit = str(point["unit"])
        if fmt.as_number(point.get("value")) is None:
            words = statuses.short_label(str(point.get("data_status") or ""), fmt.NONE)
            cell = Cell(words, None, "text")
        else:
            cell = _figure_cell(point["value"], unit, data, point.get("denominator"))
        out.append(QuarterFigure(f"Q{point['quarter']}", cell))
    return out


def _plan(data: ReportData, row: Mapping[str, Any]) -> list[PlanYear]:
    plan = data.plan
    if plan.empty:
        return []
    mine = plan[(plan["measure_id"] == row["measure_id"]) & (plan["series"] == row["series"])]
    years = []
    for raw in mine.sort_values("fiscal_year").to_dict("records"):
        point = plain_row(raw)
        unit = str(point["unit"])
        denominator = point.get("denominator") if unit == "percent" else None
        years.append(
            PlanYear(
                year=str(point["fiscal_year"]),
                outturn=_figure_cell(point.get("outturn"), unit, data, denominator),
                status=status_text(point.get("status")),
                rag=str(point.get("rag") or "Grey"),
                provisional=bool(point.get("is_provisional")),
            )
        )
    return years


def series_context(data: ReportData) -> dict[str, SeriesContext]:
    """Per series key ("1.3 total"): its description, baseline words, quarters, plan."""
    out = {}
    for raw in data.series.to_dict("records"):
        row = plain_row(raw)
        out[f"{row['measure_id']} {row['series']}"] = SeriesContext(
            description=_text(row.get("description")),
            baseline_description=_text(row.get("baseline_description")),
            quarters=_quarters(data, row),
            plan=_plan(data, row),
        )
    return out


# --------------------------------------------------------------------------------------
# the summary: what changed since last quarter, who owes what


@dataclass(frozen=True)
class ChangeView:
    key: str  # "2.3 total"
    measure_id: str
    title: str
    before: str  # the previous quarter's verdict ("ON TRACK")
    before_rag: str
    after: str
    rag: str
    figures: str  # "103 against 101 (at Q3: 68 against 75.75)"


def _against(value: Any, comparator: Any, unit: str, data: ReportData) -> str:
    now = _figure_cell(value, unit, data).text
    then = _figure_cell(comparator, unit, data).text
    return now if then == fmt.NONE else f"{now} against {then}"


def verdict_changes(data: ReportData, views: list[SeriesView]) -> list[ChangeView]:
    """The series whose RAG moved since the previous quarter (Green to Amber, a verdict
    given where there was none, ...), in report order.  ON TRACK becoming ACHIEVED at
    Q4 with the same RAG is no change of verdict."""
    rows = {
        f"{r['measure_id']} {r['series']}": plain_row(r) for r in data.series.to_dict("records")
    }
    before = data.quarter.previous()
    out = []
    for view in views:
        row = rows[view.key]
        before_rag = str(row.get("previous_rag") or "Grey")
        if before_rag == view.rag:
            continue
        unit = str(row["unit"])
        now = _against(row.get("assessed_value"), row.get("comparator_value"), unit, data)
        then = _against(
            row.get("previous_assessed_value"), row.get("previous_comparator_value"), unit, data
        )
        out.append(
            ChangeView(
                key=view.key,
                measure_id=view.measure_id,
                title=view.title,
                before=status_text(row.get("previous_status")),
                before_rag=before_rag,
                after=view.status,
                rag=view.rag,
                figures=f"{now} (at {before.label}: {then})",
            )
        )
    return out


@dataclass(frozen=True)
class OwedView:
    owner: str
    text: str  # "3 returns (Q2, Q3, Q4) for 3.1, 5.1; series figures: 2 missing; 1 late"


def owed_by_agency(returns: list[ReturnView], agencies: list[AgencyView]) -> list[OwedView]:
    """One short line per agency: how many returns it owes, for which quarters and
    measures, and their statuses (the returns section lists each in full)."""
    counts = {a.owner: a for a in agencies}
    owners: dict[str, list[ReturnView]] = {}
    for view in returns:
        owners.setdefault(view.owner, []).append(view)
    out = []
    for owner, mine in sorted(owners.items()):
        quarters = ", ".join(dict.fromkeys(r.quarter for r in mine))
        measures = ", ".join(
            sorted({s.split()[0] for r in mine for s in r.series.split("; ") if s})
        )
        returns_word = "return" if len(mine) == 1 else "returns"
        agency = counts.get(owner)
        statuses_text = (
            f"; series figures: {agency.by_status}" if agency and agency.by_status else ""
        )
        out.append(
            OwedView(
                owner,
                f"{len(mine)} {returns_word} ({quarters}) for {measures}{statuses_text}",
            )
        )
    return out
