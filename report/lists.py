"""The report's lists: missing returns (per return, and by agency) and the
reconciliation with the published report (one entry per slip), as printed rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from catalogue import statuses
from report import formatting as fmt
from report.data import ReportData
from report.formatting import Figure
from report.presentation import Cell, plain_row
from report.suppression import Level, derived, is_suppressed, suppress


@dataclass(frozen=True)
class MissingView:
    key: str  # "3.1 commencements 2016/17 Q4"
    measure_id: str
    series: str
    title: str
    quarter: str
    owner: str
    source: str
    status: str
    status_key: str
    due: str
    received: str
    days_overdue: Cell
    note: str
    due_date: date | None = None
    received_date: date | None = None


def missing_views(data: ReportData) -> list[MissingView]:
    views = []
    for raw in data.missing.to_dict("records"):
        row = plain_row(raw)
        overdue = row.get("days_overdue")
        views.append(
            MissingView(
                key=f"{row['measure_id']} {row['series']} {row['fiscal_year']} Q{row['quarter']}",
                measure_id=str(row["measure_id"]),
                series=str(row["series"]),
                title=str(row["title"]),
                quarter=f"Q{row['quarter']}",
                owner=str(row.get("owner") or ""),
                source=str(row.get("source") or ""),
                status=statuses.label(str(row["status"])),
                status_key=str(row["status"]),
                due=fmt.long_date(row.get("due_date")),
                received=fmt.long_date(row.get("received_date")),
                days_overdue=Cell(fmt.count(overdue), fmt.as_number(overdue), "count"),
                note=str(row.get("note") or ""),
                due_date=row.get("due_date"),
                received_date=row.get("received_date"),
            )
        )
    return views


@dataclass(frozen=True)
class ReconciliationView:
    key: str
    measure_id: str
    series: str
    fiscal_year: str
    period: str
    figure: str
    check: str
    published: Cell
    expected: Cell
    difference: Cell
    explanation: str
    suppressed: bool


FIGURE_WORDS = {
    "value": "value",
    "last_year_value": "same quarter last year",
    "change": "change",
    "pct_change": "% change",
    "ytd_value": "year to date",
    "ytd_last_year": "year to date last year",
    "ytd_change": "year to date change",
    "ytd_pct_change": "year to date % change",
    "baseline": "baseline",
    "target_status": "target status",
    "numerator": "numerator",
    "denominator": "denominator",
    "context_count": "count quoted (breakdown)",
    "return_status": "return status",
}
CHECK_WORDS = {
    "internal_arithmetic": "the report's own arithmetic",
    "recomputed": "the records",
}
BREAKDOWN_FIGURES = ("context_count",)  # breakdowns below the borough total


def reconciliation_view(raw: Mapping[str, Any], level: Level) -> ReconciliationView:
    row = plain_row(raw)
    figure = str(row["figure"])
    breakdown_level: Level = "below_borough" if figure in BREAKDOWN_FIGURES else level
    published = suppress(row.get("published_value"), level=breakdown_level)
    expected = suppress(row.get("expected_value"), level=breakdown_level)
    difference = derived(row.get("difference"), published, expected)
    hidden = any(is_suppressed(v) for v in (published, expected))
    published_text = _published_text(row.get("published_text"), row.get("published_value"))
    expected_text = str(row.get("expected_text") or fmt.NONE)
    if is_suppressed(published):
        published_text = str(published)
    if is_suppressed(expected):
        expected_text = str(expected)
    explanation = str(row.get("explanation") or "")
    if hidden:
        explanation = "A breakdown below the borough total: figures under 5 are not shown."
    return ReconciliationView(
        key=f"{row['measure_id']} {row['series']} {row['fiscal_year']} {row['period']} "
        f"{figure} {row['check_kind']}",
        measure_id=str(row["measure_id"]),
        series=str(row["series"]),
        fiscal_year=str(row["fiscal_year"]),
        period=str(row["period"]),
        figure=FIGURE_WORDS.get(figure, figure),
        check=CHECK_WORDS.get(str(row["check_kind"]), str(row["check_kind"])),
        published=Cell(published_text, fmt.as_number(published), "number"),
        expected=Cell(expected_text, fmt.as_number(expected), "number"),
        difference=Cell(_difference_text(difference), fmt.as_number(difference), "number"),
        explanation=explanation,
        suppressed=hidden,
    )


def _published_text(text: object, value: object) -> str:
    """A published whole number with thousands separators, as the warehouse prints its
    own; anything else as it was published."""
    number = fmt.as_number(value)
    if number is not None and float(number).is_integer() and str(text or "").lstrip("-").isdigit():
        return fmt.count(number)
    return str(text) if text not in (None, "") else fmt.NONE


def _difference_text(value: Figure) -> str:
    if isinstance(value, str):
        return value
    number = fmt.as_number(value)
    if number is None:
        return fmt.NONE
    if float(number).is_integer():
        return fmt.signed_count(number)
    return f"{fmt.rounded(number, 1):+}"


def reconciliation_views(data: ReportData) -> list[ReconciliationView]:
    return [reconciliation_view(r, data.level) for r in data.reconciliation.to_dict("records")]


# --------------------------------------------------------------------------------------
# the reconciliation as slips: one entry per published figure that is wrong


@dataclass(frozen=True)
class SlipView:
    """One slip in the published report: the figure it got wrong, both numbers, and the
    figures derived from it that it also put out (its other reconciliation rows)."""

    key: str  # "1.3 total 2016/17 Q3"
    measure_id: str
    series: str  # '' for a measure's total
    period: str  # "2016/17 Q3", "2016/17 year"
    figure: str
    published: Cell
    expected: Cell
    difference: Cell
    affects: str  # the other figures of the same entry that differ with it
    affected: str  # their numbers, published -> correct, in the same order: "777 -> 790"
    checked: str  # "its own arithmetic and the records"
    cause: str
    suppressed: bool


# which figure of an entry is the slip (the others follow from it)
HEADLINE = ("value", "ytd_value", "context_count", "change", "ytd_change", "pct_change")


def _headline_rank(view: ReconciliationView, raw_figure: str) -> tuple[int, int]:
    order = HEADLINE.index(raw_figure) if raw_figure in HEADLINE else len(HEADLINE)
    return (order, 0 if view.check == CHECK_WORDS["recomputed"] else 1)


def _transposed(published: float | None, expected: float | None) -> bool:
    if published is None or expected is None or published == expected:
        return False
    a, b = (str(int(abs(v))) for v in (published, expected))
    if len(a) != len(b) or not (float(published).is_integer() and float(expected).is_integer()):
        return False
    diffs = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and sorted(a) == sorted(b)


def slip_views(data: ReportData) -> list[SlipView]:
    raws = data.reconciliation.to_dict("records")
    views = [reconciliation_view(r, data.level) for r in raws]
    groups: dict[tuple, list[tuple[ReconciliationView, str]]] = {}
    for view, raw in zip(views, raws, strict=True):
        key = (view.measure_id, view.series, view.fiscal_year, view.period)
        groups.setdefault(key, []).append((view, str(raw["figure"])))
    slips = []
    for (measure, series, year, period), members in groups.items():
        head, _ = min(members, key=lambda m: _headline_rank(*m))
        others = list(dict.fromkeys(v.figure for v, _ in members if v.figure != head.figure))
        worked: dict[str, str] = {}
        for view, _raw in sorted(members, key=lambda m: _headline_rank(*m)):
            if view.figure != head.figure and view.figure not in worked:
                worked[view.figure] = (
                    f"{view.published.text} \N{RIGHTWARDS ARROW} {view.expected.text}"
                )
        checks = {v.check for v, _ in members}
        if _transposed(head.published.number, head.expected.number):
            cause = (
                f"Likely a transposed digit: {head.published.text} printed for"
                f" {head.expected.text}."
            )
        elif checks == {CHECK_WORDS["internal_arithmetic"]}:
            cause = "Does not follow from the published figures it is worked from."
        else:
            cause = "Differs from what the records give; no pattern in the digits."
        slips.append(
            SlipView(
                key=f"{measure} {series} {year} {period}",
                measure_id=measure,
                series="" if series == "total" else series.replace("_", " "),
                period=f"{year} year" if period == "FY" else f"{year} {period}",
                figure=head.figure,
                published=head.published,
                expected=head.expected,
                difference=head.difference,
                affects=", ".join(others),
                affected="; ".join(worked[figure] for figure in others),
                checked=" and ".join(sorted(checks)),
                cause=cause,
                suppressed=any(v.suppressed for v, _ in members),
            )
        )
    return slips


# --------------------------------------------------------------------------------------
# missing returns per return (agency x quarter), and by agency


@dataclass(frozen=True)
class ReturnView:
    """One return an agency owes or sent incomplete: the series it should have carried."""

    key: str  # "Probation (CRC and NPS) Q4"
    owner: str
    quarter: str
    status: str  # in the data_status seed's words; several when its series differ
    series: str  # "3.1 commencements; 5.1 breaches"
    due: str
    received: str
    days: Cell  # days overdue (the longest of its series)
    note: str


@dataclass(frozen=True)
class AgencyView:
    owner: str
    returns: int
    series_quarters: int
    by_status: str  # "2 missing; 1 not available (declared)"


def _series_name(view: MissingView) -> str:
    return view.measure_id + ("" if view.series == "total" else f" {view.series}")


def _partial_views(data: ReportData, listed: set[str]) -> list[MissingView]:
    """Partial quarters of the year the missing-returns mart does not list (a figure
    made from some of its months is a gap in the return too)."""
    trend, q = data.trend, data.quarter
    gaps = trend[
        (trend["fiscal_year"] == q.fiscal_year)
        & (trend["quarter"] <= q.quarter)
        & trend["data_status"].isin(statuses.return_gaps())
    ]
    series = {(r["measure_id"], r["series"]): r for r in data.series.to_dict("records")}
    views = []
    for raw in gaps.to_dict("records"):
        key = f"{raw['measure_id']} {raw['series']} {raw['fiscal_year']} Q{raw['quarter']}"
        meta = series.get((raw["measure_id"], raw["series"]))
        if key in listed or meta is None:
            continue
        status = str(raw["data_status"])
        views.append(
            MissingView(
                key=key,
                measure_id=str(raw["measure_id"]),
                series=str(raw["series"]),
                title=str(meta["title"]),
                quarter=f"Q{raw['quarter']}",
                owner=str(meta.get("owner") or ""),
                source=str(meta.get("catalogue_source") or ""),
                status=statuses.label(status),
                status_key=status,
                due=fmt.NONE,
                received=fmt.NONE,
                days_overdue=Cell(fmt.NONE, None, "count"),
                note="",
            )
        )
    return views


def return_views(data: ReportData, missing: list[MissingView]) -> list[ReturnView]:
    every = missing + _partial_views(data, {m.key for m in missing})
    groups: dict[tuple[str, str], list[MissingView]] = {}
    for view in sorted(every, key=lambda v: (v.quarter, v.owner)):
        groups.setdefault((view.owner, view.quarter), []).append(view)
    out = []
    for (owner, quarter), views in groups.items():
        counts: dict[str, int] = {}
        for view in views:
            counts[view.status] = counts.get(view.status, 0) + 1
        status = (
            next(iter(counts))
            if len(counts) == 1
            else "; ".join(f"{words} ({n})" for words, n in counts.items())
        )
        days = [v.days_overdue.number for v in views if v.days_overdue.number is not None]
        most = max(days) if days else None
        out.append(
            ReturnView(
                key=f"{owner} {quarter}",
                owner=owner,
                quarter=quarter,
                status=status,
                series="; ".join(_series_name(v) for v in views),
                due=next((v.due for v in views if v.due != fmt.NONE), fmt.NONE),
                received=next((v.received for v in views if v.received != fmt.NONE), fmt.NONE),
                days=Cell(fmt.count(most), most, "count"),
                note="; ".join(dict.fromkeys(v.note for v in views if v.note)),
            )
        )
    return out


def agency_views(returns: list[ReturnView], missing: list[MissingView]) -> list[AgencyView]:
    owners = list(dict.fromkeys(r.owner for r in sorted(returns, key=lambda r: r.owner)))
    out = []
    for owner in owners:
        mine = [r for r in returns if r.owner == owner]
        counts: dict[str, int] = {}
        for view in missing:
            if view.owner == owner:
                counts[view.status.lower()] = counts.get(view.status.lower(), 0) + 1
        series_quarters = sum(len(r.series.split("; ")) for r in mine)
        out.append(
            AgencyView(
                owner=owner,
                returns=len(mine),
                series_quarters=series_quarters,
                by_status="; ".join(f"{n} {words}" for words, n in counts.items()),
            )
        )
    return out
