"""One-line commentary per series, drafted from the numbers in the seed report's style.

    3,189 incidents compared to 3,109 last year; an increase of 80 (+2.6%).
    This gives a year to date total of 6,749 incidents compared to 6,496 last year; ...
    Target achieved: 12,833 incidents against a baseline of 13,425.

One function per kind of sentence: a count (:func:`count_sentence`), a rolling
12-month count (:func:`rolling_sentence`), a rate (:func:`rate_sentence`), the year to
date (:func:`ytd_sentence`), the target (:func:`target_sentence`), a gap
(:func:`gap_sentence`) and a late or partial return (:func:`data_note`).  They take
figures already through small-number suppression, so a suppressed figure is
printed as its marker and never worked back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from catalogue import statuses, target_statuses
from catalogue.fiscal import FiscalQuarter
from report import formatting as fmt
from report.formatting import Figure, as_number
from report.suppression import is_suppressed


@dataclass(frozen=True)
class Words:
    """How a series is spoken of: '3,189 incidents', '81.4% of IDVA referrals engaged'."""

    one: str  # a count of 1: "incident"; for a rate, the phrase after "81.4%"
    many: str = ""  # a count of several: "incidents"

    def noun(self, value: Figure) -> str:
        number = as_number(value)
        return self.one if number is not None and abs(number) == 1 else (self.many or self.one)


def words_for(row: Mapping[str, object]) -> Words:
    """The series' nouns from dim_measure (seed measure_wording); none when it has none."""
    return Words(_text(row.get("noun_one")) or "", _text(row.get("noun_many")) or "")


def series_rank(row: Mapping[str, object]) -> tuple:
    """Sort key: measure number, then catalogue order of the series (dim_measure's
    sort_order, seed measure_wording), then name."""
    measure_id, series = str(row["measure_id"]), str(row["series"])
    number = tuple(int(p) if p.isdigit() else 0 for p in measure_id.split("."))
    order = as_number(row.get("sort_order"))  # type: ignore[arg-type]
    return (number, order if order is not None else math.inf, series)


# --------------------------------------------------------------------------------------
# building blocks


def _with_noun(text: str, noun: str) -> str:
    return f"{text} {noun}".rstrip()


def movement(change: Figure, pct_change: Figure = None) -> str:
    """'an increase of 80 (+2.6%)', 'a reduction of 17 (-4.1%)', 'no change'."""
    if is_suppressed(change) or is_suppressed(pct_change):
        return "change withheld (small numbers)"
    number = as_number(change)
    if number is None:
        return ""
    if fmt.rounded(number, 0) == 0:
        return "no change"
    word = "an increase" if number > 0 else "a reduction"
    text = f"{word} of {fmt.count(abs(number))}"
    if as_number(pct_change) is not None:
        text += f" ({fmt.signed_percent(pct_change)})"
    return text


def point_movement(change: Figure) -> str:
    """'up 6.4 points', 'down 1.3 points', 'unchanged'."""
    if is_suppressed(change):
        return "change withheld (small numbers)"
    number = as_number(change)
    if number is None:
        return ""
    size = fmt.rounded(abs(number), 1)
    if size == 0:
        return "unchanged"
    return f"{'up' if number > 0 else 'down'} {size} points"


def _compared(now: str, last_year: Figure, last_year_text: str, move: str) -> str:
    if as_number(last_year) is None and not is_suppressed(last_year):
        return f"{now}; no usable figure for the same quarter last year."
    text = f"{now} compared to {last_year_text} last year"
    return f"{text}; {move}." if move else f"{text}."


# --------------------------------------------------------------------------------------
# sentences


def count_sentence(fig: Mapping[str, Figure], words: Words) -> str:
    """'3,189 incidents compared to 3,109 last year; an increase of 80 (+2.6%).'"""
    value = fig["value"]
    now = _with_noun(fmt.count(value), words.noun(value))
    if as_number(value) == 0:
        now = f"No {words.many or words.one}".rstrip() + " this quarter"
    move = movement(fig["change"], fig["pct_change"])
    return _compared(now, fig["last_year_value"], fmt.count(fig["last_year_value"]), move)


def rolling_sentence(fig: Mapping[str, Figure], words: Words, quarter: FiscalQuarter) -> str:
    """'32 repeat victims in the 12 months to 31 March 2017 compared to 18 last year; ...'"""
    value = fig["value"]
    now = _with_noun(fmt.count(value), words.noun(value))
    now += f" in the 12 months to {fmt.long_date(quarter.period_end)}"
    move = movement(fig["change"], fig["pct_change"])
    return _compared(now, fig["last_year_value"], fmt.count(fig["last_year_value"]), move)


def rate_sentence(fig: Mapping[str, Figure], words: Words, rolling: bool = False) -> str:
    """'81.4% of IDVA referrals engaged with the service (70 of 86) compared to 75.0% last
    year; up 6.4 points.'"""
    now = _with_noun(fmt.percent(fig["value"]), words.one)
    numerator, denominator = fig.get("numerator"), fig.get("denominator")
    if as_number(denominator) is not None or is_suppressed(denominator):
        now += f" ({fmt.count(numerator)} of {fmt.count(denominator)})"
    if rolling:
        now += " over the last 12 months"
    move = point_movement(fig["change"])
    return _compared(now, fig["last_year_value"], fmt.percent(fig["last_year_value"]), move)


def ytd_sentence(
    fig: Mapping[str, Figure],
    words: Words,
    unit: str,
    quarter: FiscalQuarter,
    gaps: Sequence[tuple[int, str]] = (),
) -> str:
    """The year to date (counts summed, rates over the year's cases); '' at Q1."""
    if quarter.quarter == 1:
        return ""
    ytd = fig["ytd_value"]
    if as_number(ytd) is None and not is_suppressed(ytd):
        if not gaps:
            return ""
        return f"No year to date figure: {gap_list(gaps)}."
    if unit == "percent":
        lead = "For the year" if quarter.quarter == 4 else "Year to date"
        now = f"{lead}, {fmt.percent(ytd)}"
        move = point_movement(fig["ytd_change"])
        return _compared(
            now, fig["ytd_last_year_value"], fmt.percent(fig["ytd_last_year_value"]), move
        )
    if quarter.quarter == 4:
        now = f"This gives a total of {_with_noun(fmt.count(ytd), words.noun(ytd))}"
        now += " this financial year"
    else:
        now = f"This gives a year to date total of {_with_noun(fmt.count(ytd), words.noun(ytd))}"
    move = movement(fig["ytd_change"], fig["ytd_pct_change"])
    return _compared(now, fig["ytd_last_year_value"], fmt.count(fig["ytd_last_year_value"]), move)


def gap_list(gaps: Sequence[tuple[int, str]]) -> str:
    """'Q3 not available (declared)', 'Q1 and Q2 missing': which quarters have no usable
    figure and why, in the data_status seed's words."""
    by_status: dict[str, list[str]] = {}
    for number, status in gaps:
        by_status.setdefault(status, []).append(f"Q{number}")
    parts = []
    for status, names in by_status.items():
        joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        parts.append(f"{joined} {statuses.label(status).lower()}")
    return "; ".join(parts)


def target_sentence(
    status: str | None,
    fig: Mapping[str, Figure],
    words: Words,
    unit: str,
    ytd_method: str,
    quarter: FiscalQuarter,
    basis: str | None = None,
    quarters_received: int | None = None,
    baseline_from: tuple[str | None, str | None] = (None, None),
) -> str:
    """The target status (its label, fct_target_status.status_label) in words, the
    verdict from seed target_status; a provisional verdict (the year to date
    incomplete) says so with its basis (``verdict_basis``)."""
    known = target_statuses.by_label().get(status or "")
    if known is None or not known.is_assessed:
        return known.verdict if known else ""
    show = fmt.percent if unit == "percent" else fmt.count
    assessed = fig["assessed_value"]
    noun = "" if unit == "percent" else words.noun(assessed)
    baseline = show(fig["baseline"])
    verdict = known.verdict
    if basis:
        verdict = f"{verdict} ({basis})"
    shared = quarters_received if basis and quarters_received else quarter.quarter
    if ytd_method == "sum" and (not known.is_year_end or shared != quarter.quarter):
        share = f"{shared} quarters' share" if shared > 1 else "a quarter's share"
        return (
            f"{verdict}: {_with_noun(show(assessed), noun)} so far against "
            f"{show(fig['comparator_value'])} ({share} of the baseline of {baseline})."
        )
    what = "target" if unit == "percent" else "baseline"
    text = f"{verdict}: {_with_noun(show(assessed), noun)} against a {what} of {baseline}."
    return text + baseline_note(fig, show, *baseline_from)


def baseline_note(
    fig: Mapping[str, Figure], show, target_rule: str | None, baseline_source: str | None
) -> str:
    """When the plan's baseline is not last year's outturn as the records give it, say so
    (4.2: a baseline of 22, the published 2015/16 figure; the records give 18)."""
    baseline, outturn = as_number(fig.get("baseline")), as_number(fig.get("previous_year_outturn"))
    if baseline is None or outturn is None or baseline_source != "measure_targets":
        return ""
    if target_rule != "below_previous_year" or show(baseline) == show(outturn):
        return ""
    return (
        f" The baseline is the plan's (last year's outturn as published); last year's"
        f" outturn recomputed from the records is {show(outturn)}."
    )


def gap_sentence(
    data_status: str,
    owner: str,
    note: str | None,
    due: date | None,
    days_overdue: Figure,
    last_year: str,
    return_arrived: bool = False,
) -> str:
    """Why there is no figure, who owns it, and how overdue it is.  ``return_arrived``:
    the agency's return for the quarter came in (other series from it have a figure),
    only this figure was not in it."""
    note_text = f": {note}" if note else ""
    if data_status == "declared_not_available":
        text = f"Declared not available by {owner}{note_text}."
    elif data_status == "not_yet_due":
        text = f"Not yet due ({owner}; due {fmt.long_date(due)})."
    elif data_status == "partial":
        text = f"Partial return from {owner}{note_text}."
    elif return_arrived:
        text = f"{owner}'s return for the quarter arrived without this figure: due "
        text += f"{fmt.long_date(due)}"
        text += f", {fmt.days(days_overdue)} overdue." if as_number(days_overdue) else "."
    else:
        text = f"No return received from {owner}: due {fmt.long_date(due)}"
        text += f", {fmt.days(days_overdue)} overdue." if as_number(days_overdue) else "."
    if last_year != fmt.NONE:
        text += f" Same quarter last year: {last_year}."
    return text


def data_note(
    data_status: str,
    due: date | None,
    received: date | None,
    note: str | None,
    is_approximation: bool,
) -> str:
    """A late or approximate figure, said plainly."""
    parts = []
    if data_status == "late" and due and received:
        late_by = (received - due).days
        parts.append(
            f"Received late on {fmt.long_date(received)} ({fmt.days(late_by)} after the due date)."
        )
    elif data_status == "partial" and note:
        parts.append(f"Partial: {note}.")
    if is_approximation:
        parts.append("Includes police.uk months where its wider crime type stands in.")
    return " ".join(parts)


def commentary(
    row: Mapping[str, object],
    fig: Mapping[str, Figure],
    quarter: FiscalQuarter,
    gaps: Sequence[tuple[int, str]] = (),
    return_arrived: bool = False,
) -> str:
    """The series' commentary: what happened, the year to date, the target, caveats."""
    unit = str(row["unit"])
    words = words_for(row)
    status = str(row.get("data_status") or "missing")
    method = str(row.get("ytd_method") or "sum")
    has_value = as_number(fig["value"]) is not None or is_suppressed(fig["value"])
    if not has_value or status in statuses.without_figure():
        last_year = fmt.figure(fig["last_year_value"], unit)
        gap = gap_sentence(
            status,
            str(row.get("owner") or "the owning agency"),
            _text(row.get("status_note")),
            _day(row.get("due_date")),
            fig.get("days_overdue"),
            last_year,
            return_arrived,
        )
        return " ".join(p for p in (gap, _target(row, fig, words, unit, method, quarter)) if p)
    if unit == "percent":
        first = rate_sentence(fig, words, rolling=method == "latest")
    elif method == "latest":
        first = rolling_sentence(fig, words, quarter)
    else:
        first = count_sentence(fig, words)
    parts = [
        first,
        "" if method == "latest" else ytd_sentence(fig, words, unit, quarter, gaps),
        _target(row, fig, words, unit, method, quarter),
        data_note(
            status,
            _day(row.get("due_date")),
            _day(row.get("received_date")),
            _text(row.get("status_note")),
            bool(row.get("is_approximation") is True),
        ),
    ]
    return " ".join(p for p in parts if p)


def _target(row, fig, words: Words, unit: str, method: str, quarter: FiscalQuarter) -> str:
    return target_sentence(
        _text(row.get("status")),
        fig,
        words,
        unit,
        method,
        quarter,
        _text(row.get("verdict_basis")),
        _whole(row.get("quarters_received")),
        (_text(row.get("target_rule")), _text(row.get("baseline_source"))),
    )


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


def _whole(value: object) -> int | None:
    number = as_number(value)  # type: ignore[arg-type]
    return None if number is None else int(number)


def _day(value: object) -> date | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "date") and callable(value.date):
        try:
            return value.date()  # pandas Timestamp / datetime
        except ValueError:
            return None
    return value if isinstance(value, date) else None
