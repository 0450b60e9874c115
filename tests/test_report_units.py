"""The report's pure helpers: fiscal quarters, number formatting, suppression, commentary.

Split from tests/test_report.py; no warehouse is built here."""

from __future__ import annotations

from datetime import date

import pytest

from report import (
    FiscalQuarter,
    latest_complete_quarter,
)
from report import formatting as fmt
from report.commentary import (
    Words,
    count_sentence,
    gap_sentence,
    movement,
    rate_sentence,
    target_sentence,
    ytd_sentence,
)
from report.suppression import (
    BELOW_BOROUGH,
    BOROUGH,
    SMALL,
    WITHHELD,
    derived,
    geography_level,
    suppress,
)

# --------------------------------------------------------------------------------------
# fiscal quarters

Q4 = FiscalQuarter(2016, 4)


def test_quarter_names() -> None:
    assert (Q4.fiscal_year, Q4.label, Q4.slug, Q4.partition_key) == (
        "2016/17",
        "2016/17 Q4",
        "2016-17-Q4",
        "2016-17-Q4",
    )
    assert (Q4.period_start, Q4.period_end) == (date(2017, 1, 1), date(2017, 3, 31))
    assert Q4.months == "January\N{EN DASH}March 2017"
    assert FiscalQuarter(2016, 1).period_end == date(2016, 6, 30)
    for text in ("2016-17-Q4", "2016/17 Q4", "2017-01-01"):
        assert FiscalQuarter.parse(text) == Q4
    assert FiscalQuarter.of("2016/17", 4) == Q4
    assert FiscalQuarter.containing(date(2016, 4, 1)) == FiscalQuarter(2016, 1)
    assert Q4.next() == FiscalQuarter(2017, 1) and Q4.next().previous() == Q4
    for bad in ("2017-02-01", "2016/18 Q1", "Q4"):
        with pytest.raises(ValueError):
            FiscalQuarter.parse(bad)


def test_the_python_fiscal_calendar_is_the_seeds() -> None:
    """catalogue.fiscal (Python's one home of the calendar) agrees with the
    fiscal_calendar seed (SQL's), and the sample generator's quarters are its quarters."""
    from catalogue import seed_rows
    from catalogue.fiscal import fiscal_year_of
    from ingest.sample.periods import QUARTERS, quarter_of

    rows = seed_rows("fiscal_calendar")
    assert len(rows) > 40
    for row in rows:
        quarter = FiscalQuarter.of(row["fiscal_year"], int(row["quarter"]))
        assert quarter.start_year == int(row["fiscal_year_start"])
        start, end = date.fromisoformat(row["period_start"]), date.fromisoformat(row["period_end"])
        assert (quarter.period_start, quarter.period_end) == (start, end), row
        assert FiscalQuarter.containing(start) == FiscalQuarter.containing(end) == quarter
        assert fiscal_year_of(end) == row["fiscal_year"]
        assert quarter.month_starts[0] == start and quarter.month_starts[-1].month == end.month
    for sample in QUARTERS:
        assert sample.fiscal == FiscalQuarter(sample.fy, sample.q)
        assert (sample.start, sample.end) == (sample.fiscal.period_start, sample.fiscal.period_end)
        assert quarter_of(sample.end) == sample
    assert QUARTERS[-1].label == "2016-17_Q4"


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2017, 5, 31), "2016/17 Q4"),
        (date(2017, 4, 21), "2016/17 Q4"),  # the day after Q4's returns were due
        (date(2017, 4, 20), "2016/17 Q3"),  # Q4's due date itself: not yet
        (date(2017, 1, 21), "2016/17 Q3"),
        (date(2016, 7, 21), "2016/17 Q1"),
    ],
)
def test_latest_complete_quarter(as_of: date, expected: str) -> None:
    assert latest_complete_quarter(as_of).label == expected


# --------------------------------------------------------------------------------------
# formatting


def test_numbers_are_printed_as_the_report_prints_them() -> None:
    assert fmt.count(3189.0) == "3,189" and fmt.count(12833) == "12,833"
    assert fmt.signed_count(80) == "+80" and fmt.signed_count(-17) == "-17"
    assert fmt.signed_count(0.0) == "0"
    assert fmt.signed_percent(2.5731746542296556) == "+2.6%"
    assert fmt.signed_percent(-4.126) == "-4.1%" and fmt.signed_percent(-0.04) == "0.0%"
    assert fmt.percent(81.395349) == "81.4%" and fmt.percent(2.65) == "2.7%"  # half up
    assert fmt.points(6.395) == "+6.4 pts" and fmt.points(-31.83) == "-31.8 pts"
    assert fmt.count(None) == fmt.count(float("nan")) == fmt.NONE
    assert fmt.count(SMALL) == "<5" and fmt.percent(WITHHELD) == "withheld"
    assert fmt.long_date(date(2017, 4, 20)) == "20 April 2017"


# --------------------------------------------------------------------------------------
# small-number suppression


@pytest.mark.parametrize(
    ("value", "unit", "denominator", "level", "expected"),
    [
        # borough totals are published as they are, however small
        (3, "count", None, BOROUGH, 3),
        (50.0, "percent", 2, BOROUGH, 50.0),
        # below the borough: counts 1-4 -> "<5"; 0 and 5+ are shown
        (0, "count", None, BELOW_BOROUGH, 0),
        (1, "count", None, BELOW_BOROUGH, SMALL),
        (4.0, "count", None, BELOW_BOROUGH, SMALL),
        (5, "count", None, BELOW_BOROUGH, 5),
        (3189, "count", None, BELOW_BOROUGH, 3189),
        # rates over fewer than 5 cases (or an unknown number) are withheld
        (50.0, "percent", 4, BELOW_BOROUGH, WITHHELD),
        (0.0, "percent", 1, BELOW_BOROUGH, WITHHELD),
        (40.0, "percent", 5, BELOW_BOROUGH, 40.0),
        (40.0, "percent", None, BELOW_BOROUGH, WITHHELD),
        # nothing stays nothing; a marker stays the marker
        (None, "count", None, BELOW_BOROUGH, None),
        (SMALL, "count", None, BELOW_BOROUGH, SMALL),
    ],
)
def test_suppress(value, unit, denominator, level, expected) -> None:
    assert suppress(value, level=level, unit=unit, denominator=denominator) == expected


def test_suppress_nan_stays_nan_and_derived_figures_are_withheld() -> None:
    nan = suppress(float("nan"), level=BELOW_BOROUGH)
    assert isinstance(nan, float) and nan != nan
    assert derived(-1, SMALL, 7) == WITHHELD  # a change from "<5" would give it away
    assert derived(-1, 6, 7) == -1


def test_geography_level() -> None:
    assert geography_level("E06000004") == BOROUGH  # Stockton-on-Tees (unitary)
    assert geography_level("E09000001") == BOROUGH
    assert geography_level("E05001234") == BELOW_BOROUGH  # a ward
    assert geography_level("E01012345") == BELOW_BOROUGH  # an LSOA


# --------------------------------------------------------------------------------------
# commentary in the seed's style

INCIDENTS = Words("incident", "incidents")


def _fig(**values: object) -> dict[str, object]:
    keys = [
        "value",
        "last_year_value",
        "change",
        "pct_change",
        "ytd_value",
        "ytd_last_year_value",
        "ytd_change",
        "ytd_pct_change",
        "numerator",
        "denominator",
        "baseline",
        "comparator_value",
        "assessed_value",
    ]
    return {k: values.get(k) for k in keys}


def test_count_sentence_is_the_seeds() -> None:
    fig = _fig(value=3189, last_year_value=3109, change=80, pct_change=2.5731746542296556)
    assert (
        count_sentence(fig, INCIDENTS)
        == "3,189 incidents compared to 3,109 last year; an increase of 80 (+2.6%)."
    )
    fig = _fig(value=395, last_year_value=412, change=-17, pct_change=-4.126)
    assert count_sentence(fig, Words("offence", "offences")).endswith("a reduction of 17 (-4.1%).")
    assert movement(0, 0.0) == "no change"
    fig = _fig(value=0, last_year_value=2, change=-2, pct_change=-100.0)
    assert count_sentence(fig, Words("DRR completion", "DRR completions")).startswith(
        "No DRR completions this quarter compared to 2 last year"
    )
    assert "no usable figure" in count_sentence(_fig(value=5), INCIDENTS)


def test_year_to_date_and_target_sentences() -> None:
    fig = _fig(ytd_value=12833, ytd_last_year_value=12043, ytd_change=790, ytd_pct_change=6.56)
    assert ytd_sentence(fig, INCIDENTS, "count", Q4) == (
        "This gives a total of 12,833 incidents this financial year compared to 12,043 last"
        " year; an increase of 790 (+6.6%)."
    )
    q2 = FiscalQuarter(2016, 2)
    fig = _fig(ytd_value=6749, ytd_last_year_value=6496, ytd_change=253, ytd_pct_change=3.89)
    assert ytd_sentence(fig, INCIDENTS, "count", q2).startswith(
        "This gives a year to date total of 6,749 incidents compared to 6,496 last year"
    )
    assert ytd_sentence(_fig(), INCIDENTS, "count", q2, gaps=[(1, "missing")]) == (
        "No year to date figure: Q1 missing."
    )
    gaps = [(1, "declared_not_available"), (2, "missing"), (3, "declared_not_available")]
    assert ytd_sentence(_fig(), INCIDENTS, "count", FiscalQuarter(2016, 3), gaps=gaps) == (
        "No year to date figure: Q1 and Q3 not available (declared); Q2 missing."
    )
    assert ytd_sentence(fig, INCIDENTS, "count", FiscalQuarter(2016, 1)) == ""
    fig = _fig(assessed_value=12833, baseline=13425)
    assert target_sentence("ACHIEVED", fig, INCIDENTS, "count", "sum", Q4) == (
        "Target achieved: 12,833 incidents against a baseline of 13,425."
    )
    fig = _fig(assessed_value=6749, baseline=13425, comparator_value=6712.5)
    assert target_sentence("OFF TRACK", fig, INCIDENTS, "count", "sum", q2) == (
        "Off track: 6,749 incidents so far against 6,713 (2 quarters' share of the baseline"
        " of 13,425)."
    )
    assert target_sentence("MONITOR ONLY", fig, INCIDENTS, "count", "sum", Q4) == ""


def test_rate_and_gap_sentences() -> None:
    fig = _fig(value=81.395, numerator=70, denominator=86, last_year_value=75.0, change=6.395)
    words = Words("of IDVA referrals engaged with the service")
    assert rate_sentence(fig, words) == (
        "81.4% of IDVA referrals engaged with the service (70 of 86) compared to 75.0% last"
        " year; up 6.4 points."
    )
    text = gap_sentence("missing", "Probation (CRC and NPS)", None, date(2017, 4, 20), 41, "13")
    assert text == (
        "No return received from Probation (CRC and NPS): due 20 April 2017, 41 days"
        " overdue. Same quarter last year: 13."
    )
    text = gap_sentence("declared_not_available", "Police", "not collated", None, None, "–")
    assert text == "Declared not available by Police: not collated."
