"""The quarterly report: pure helpers, then the 2016/17 Q4 report of the sample data.

The sample warehouse is built once per session (``tests.test_dbt_marts.sample_build``:
generate, ingest, ``dbt build``); the report is rendered from it once per session.
Expectations come from the design's catalogue (``../shared/design/measures.csv``) and
from the marts queried directly, never from the report code.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import openpyxl
import pytest

from report import (
    FiscalQuarter,
    ReportData,
    ReportDataError,
    build_report,
    latest_complete_quarter,
    render_html,
    write_report,
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
from report.presentation import OFF_TARGET
from report.suppression import (
    BELOW_BOROUGH,
    BOROUGH,
    SMALL,
    WITHHELD,
    derived,
    geography_level,
    suppress,
)
from tests.conftest import DESIGN
from tests.test_dbt_marts import SampleBuild, sample_build

Q4 = FiscalQuarter(2016, 4)
GENERATED = datetime(2017, 6, 1, 9, 0)
STATUS_WORDS = {
    "missing": "Missing",
    "declared_not_available": "Not available (declared)",
    "late": "Late",
    "partial": "Partial",
}
RAG_FILLS = {"Green": "2E7D32", "Amber": "F0A30A", "Red": "C62828", "Grey": "8C8C8C"}


def catalogue() -> list[tuple[str, str]]:
    with (DESIGN / "measures.csv").open(encoding="utf-8") as fh:
        return [(r["measure_id"], r["series"]) for r in csv.DictReader(fh)]


# --------------------------------------------------------------------------------------
# fiscal quarters


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


# --------------------------------------------------------------------------------------
# the 2016/17 Q4 report of the sample data


@dataclass(frozen=True)
class SampleReport:
    build: SampleBuild
    data: ReportData
    html: Path
    xlsx: Path

    @property
    def text(self) -> str:
        return self.html.read_text(encoding="utf-8")


_REPORTS: dict[int, SampleReport] = {}


def sample_report(factory: pytest.TempPathFactory) -> SampleReport:
    """The 2016/17 Q4 report of the sample warehouse, rendered once per session."""
    if id(factory) not in _REPORTS:
        build = sample_build(factory)
        data = build_report(build.warehouse, "2016/17", 4)
        files = write_report(data, factory.mktemp("report"), generated_at=GENERATED)
        _REPORTS[id(factory)] = SampleReport(build, data, files.html, files.xlsx)
    return _REPORTS[id(factory)]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> SampleReport:
    return sample_report(tmp_path_factory)


class ReportParser(HTMLParser):
    """Collects the report's keyed rows: {kind: {key: {column: (text, classes)}}}."""

    KEYS = ("data-series", "data-return", "data-slip", "data-agency")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: dict[str, dict[str, dict[str, tuple[str, str]]]] = {k: {} for k in self.KEYS}
        self._record: dict[str, tuple[str, str]] | None = None
        self._record_depth = 0
        self._column: tuple[str, str] | None = None
        self._column_depth = 0
        self._text: list[str] = []
        self.svg_paths: list[str] = []
        self.in_svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "svg":
            self.in_svg += 1
        if self.in_svg and tag == "path" and found.get("d"):
            self.svg_paths.append(str(found["d"]))
        if self._record is not None:
            self._record_depth += 1
        if self._column is not None:
            self._column_depth += 1
        for key in self.KEYS:
            if found.get(key):
                self._record = self.rows[key].setdefault(str(found[key]), {})
                self._record_depth = 1
        if self._record is not None and found.get("data-col") and self._column is None:
            self._column = (str(found["data-col"]), str(found.get("class") or ""))
            self._column_depth = 1
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.in_svg -= 1
        if self._column is not None:
            self._column_depth -= 1
            if self._column_depth == 0 and self._record is not None:
                name, classes = self._column
                self._record[name] = (" ".join("".join(self._text).split()), classes)
                self._column = None
        if self._record is not None:
            self._record_depth -= 1
            if self._record_depth == 0:
                self._record = None

    def handle_data(self, data: str) -> None:
        if self._column is not None:
            self._text.append(data)


@pytest.fixture(scope="module")
def parsed(report: SampleReport) -> ReportParser:
    parser = ReportParser()
    parser.feed(report.text)
    return parser


def _half_up(value: float, places: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def expected_cells(row: dict, unit: str) -> dict[str, str]:
    """The report's cells for one fct_measure_quarter row, formatted independently."""

    def value(v: float | None) -> str:
        if v is None:
            return "\N{EN DASH}"
        return f"{_half_up(v, 1)}%" if unit == "percent" else f"{int(_half_up(v, 0)):,}"

    def change(v: float | None) -> str:
        if v is None:
            return "\N{EN DASH}"
        if unit == "percent":
            return f"{_half_up(v, 1):+} pts"
        return f"{int(_half_up(v, 0)):+,}" if int(_half_up(v, 0)) else "0"

    pct = row["pct_change"]
    places = 1 if unit == "percent" else 0
    printed_change = row["change"]  # the difference of the figures as printed
    if row["value"] is not None and row["last_year_value"] is not None:
        printed_change = float(
            _half_up(row["value"], places) - _half_up(row["last_year_value"], places)
        )
    return {
        "last_year_value": value(row["last_year_value"]),
        "change": change(printed_change),
        "pct_change": "\N{EN DASH}" if pct is None else f"{_half_up(pct, 1):+}%",
        "ytd_value": value(row["ytd_value"]),
        "ytd_last_year_value": value(row["ytd_last_year_value"]),
    } | ({} if row["value"] is None else {"value": value(row["value"])})


def _rows(build: SampleBuild, sql: str, params: Iterable[object] = ()) -> list[dict]:
    con = duckdb.connect(str(build.warehouse), read_only=True)
    try:
        cursor = con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()


MISSING_SQL = "select count(*) from marts.fct_missing_returns where fiscal_year = '2016/17'"
# published figures up to 2016/17 Q4: every earlier year, and this year's quarters and year
RECONCILIATION_SQL = "select count(*) from marts.fct_published_reconciliation"


def _count(build: SampleBuild, sql: str) -> int:
    return int(build.query(sql)[0][0])


def _quarter_facts(build: SampleBuild) -> dict[tuple[str, str], dict]:
    rows = _rows(
        build,
        "select f.*, t.status, t.rag, t.baseline, t.verdict_basis from marts.fct_measure_quarter f"
        " left join marts.fct_target_status t using (area_code, measure_id, series,"
        " fiscal_year, quarter) where f.fiscal_year = '2016/17' and f.quarter = 4",
    )
    return {(r["measure_id"], r["series"]): r for r in rows}


def test_every_series_appears_with_its_figures_status_and_rag(
    report: SampleReport, parsed: ReportParser
) -> None:
    facts = _quarter_facts(report.build)
    series_rows = parsed.rows["data-series"]
    assert len(series_rows) == len(catalogue()) == 29
    for measure, series in catalogue():
        key = f"{measure} {series}"
        assert key in series_rows, f"{key} is not in the report"
        cells = {name: text for name, (text, _) in series_rows[key].items()}
        fact = facts[(measure, series)]
        for column, text in expected_cells(fact, fact["unit"]).items():
            assert cells[column] == text, f"{key} {column}: {cells[column]!r} != {text!r}"
        if fact["value"] is None:  # no figure: the report says why instead
            assert cells["value"] in ("Missing", "Not available", "Partial"), key
        provisional = " provisional" if fact["verdict_basis"] else ""
        assert cells["status"] == fact["status"] + provisional, key
        assert cells["rag"] == fact["rag"], key
        assert f"rag-{fact['rag']}" in series_rows[key]["rag"][1], key  # coloured cell
        assert cells["commentary"], f"{key} has no commentary"


def test_commentary_is_drafted_from_the_numbers(parsed: ReportParser) -> None:
    commentary = {k: v["commentary"][0] for k, v in parsed.rows["data-series"].items()}
    assert commentary["1.3 total"].startswith(
        "2,801 incidents compared to 2,593 last year; an increase of 208 (+8.0%). This gives"
        " a total of 12,833 incidents this financial year compared to 12,043 last year; an"
        " increase of 790 (+6.6%). Target achieved"
    )
    assert commentary["2.1 total"].startswith(
        "395 offences compared to 412 last year; a reduction of 17 (-4.1%)."
    )
    assert (
        "Target not achieved: 32 repeat victims against a baseline of 22"
        in (commentary["4.2 total"])
    )
    assert commentary["3.1 commencements"].startswith(
        "Probation (CRC and NPS)'s return for the quarter arrived without this figure: due"
        " 20 April 2017, 41 days overdue."
    )
    assert commentary["3.3 opiate_all"].startswith(
        "5.8% of opiate clients successfully completed treatment (49 of 843)"
    )


def test_a_verdict_from_the_quarters_received_is_given_and_marked_provisional(
    report: SampleReport, parsed: ReportParser
) -> None:
    """Issue 13 finding 1: a series with a figure for the year never shows NO DATA; a
    verdict from the quarters received says it is provisional and names the gaps, and
    the mart carries the same basis for BI."""
    rows = {
        (r["measure_id"], r["series"]): r
        for r in _rows(
            report.build,
            "select t.*, (select count(*) from marts.fct_measure_quarter f"
            " where f.area_code = t.area_code and f.measure_id = t.measure_id"
            " and f.series = t.series and f.fiscal_year = t.fiscal_year"
            " and f.value is not null) as figures"
            " from marts.fct_target_status t where fiscal_year = '2016/17' and quarter = 4",
        )
    }
    series_rows = parsed.rows["data-series"]
    for (measure, series), row in rows.items():
        status = series_rows[f"{measure} {series}"]["status"][0]
        if row["figures"]:
            assert not status.startswith("NO DATA"), (measure, series)
    for key, missing in (
        (("6.2", "repeat_victims_engaging"), "Q2"),
        (("6.4", "engaged_pct"), "Q1, Q2"),
        (("6.4", "worked_with_after_assessment_pct"), "Q1, Q2"),
        (("1.2", "total"), "Q2, Q3, Q4"),
    ):
        row = rows[key]
        assert row["is_provisional"] and row["quarters_missing"] == missing, key
        assert row["status"] in ("ACHIEVED", "NOT ACHIEVED"), key
        cells = series_rows[" ".join(key)]
        assert cells["status"][0] == f"{row['status']} provisional", key
        assert f"({row['verdict_basis']})" in cells["commentary"][0], key
        assert f"no figure for {missing}" in cells["commentary"][0], key
    assert "85.0% against a target of 90.0%" in series_rows["1.2 total"]["commentary"][0]


def _printed_number(text: str) -> Decimal | None:
    match = re.fullmatch(r"([+-]?[\d,]+(?:\.\d+)?)(%| pts)?", text)
    return Decimal(match.group(1).replace(",", "")) if match else None


def test_every_printed_change_is_the_difference_of_the_printed_figures(
    parsed: ReportParser,
) -> None:
    """Issue 13 finding 2: 5.8% against 4.6% is '+1.2 pts', never '+1.3 pts'."""
    checked = 0
    for key, cells in parsed.rows["data-series"].items():
        now, then = (_printed_number(cells[c][0]) for c in ("value", "last_year_value"))
        change = _printed_number(cells["change"][0].replace("0 pts", "0.0 pts"))
        if now is None or then is None:
            continue
        assert change == now - then, (key, cells["value"], cells["last_year_value"], change)
        checked += 1
        commentary = cells["commentary"][0]
        if cells["value"][0].endswith("%") and now != then:
            word = "up" if now > then else "down"
            assert f"{word} {abs(now - then)} points" in commentary, key
    assert checked >= 15
    opiate = parsed.rows["data-series"]["3.3 opiate_all"]
    assert (opiate["value"][0], opiate["last_year_value"][0], opiate["change"][0]) == (
        "5.8%",
        "4.6%",
        "+1.2 pts",
    )


def test_commentary_says_which_return_is_missing_declared_or_late(parsed: ReportParser) -> None:
    """Issue 13 finding 3: a return that arrived without a figure is not 'no return
    received'; a quarter declared not available is not 'not received'."""
    commentary = {k: v["commentary"][0] for k, v in parsed.rows["data-series"].items()}
    assert "No return received" not in commentary["3.1 commencements"]
    assert "arrived without this figure" in commentary["3.1 commencements"]
    assert "not received" not in commentary["1.1 police"]
    assert "No year to date figure: Q3 not available (declared)." in commentary["1.1 police"]
    assert "No year to date figure: Q3 partial." in commentary["1.1 combined"]
    assert "No year to date figure: Q1 and Q2 missing." in commentary["6.4 referrals"]


def test_the_published_reports_caveats_are_kept_from_the_notes_seed(parsed: ReportParser) -> None:
    """Issue 13 finding 4 (caveats): each caveat and context note of the published
    report is a row of the report_notes seed, and the report prints it under its series."""
    from catalogue import seed_rows

    commentary = {k: v["commentary"][0] for k, v in parsed.rows["data-series"].items()}
    notes = [r for r in seed_rows("report_notes") if r["fiscal_year"] == "2016/17"]
    assert len(notes) >= 5
    for note in notes:
        text = commentary[f"{note['measure_id']} {note['series']}"]
        lead = "Caveat" if note["kind"] == "caveat" else "Note"
        assert f"{lead}: {note['note']}" in text, note
    assert "not comparable" in commentary["1.1 combined"]
    assert "change of definition" in commentary["4.2 total"]
    assert "39 active DRRs" in commentary["3.1 commencements"]
    assert "321 people" in commentary["6.4 referrals"]


def test_the_page_speaks_to_the_board_not_in_system_names(report: SampleReport) -> None:
    """Issue 13 finding 6: no system names or codes in the text a reader sees, one
    legend for the no-verdict greys, and the data date told apart from the print date."""
    visible = re.sub(r"<style>.*?</style>|<svg.*?</svg>|<[^>]+>", " ", report.text, flags=re.S)
    for jargon in ("warehouse", "serving copy", "fct_", "dim_", "marts", "E06000004"):
        assert jargon not in visible, jargon
    assert "Report produced" in visible  # the print date, told apart from the data date
    notes = visible[visible.index("Target status and RAG") :]
    for grey in ("MONITOR ONLY", "NOT MEASURABLE", "NO DATA", "provisional"):
        assert grey in notes, grey


def test_every_missing_return_appears_with_its_agency(
    report: SampleReport, parsed: ReportParser
) -> None:
    """Issue 13 finding 7: one entry per return (agency x quarter) naming the series it
    should have carried, partial quarters included, and a summary by agency."""
    expected = _rows(
        report.build,
        "select * from marts.fct_missing_returns where fiscal_year = '2016/17' order by quarter",
    )
    listed = parsed.rows["data-return"]
    returns = {(r["owner"], r["quarter"]) for r in expected}
    partial = _rows(
        report.build,
        "select f.measure_id, f.series, f.quarter, m.owner from marts.fct_measure_quarter f"
        " join marts.dim_measure m using (area_code, measure_id, series)"
        " where f.fiscal_year = '2016/17' and f.data_status = 'partial'",
    )
    assert partial, "the sample has a partial quarter (1.1 combined Q3)"
    returns |= {(r["owner"], r["quarter"]) for r in partial}
    assert len(listed) == len(returns) < len(expected)
    for row in expected + partial:
        key = f"{row['owner']} Q{row['quarter']}"
        assert key in listed, f"return {key} is not listed"
        cells = {name: text for name, (text, _) in listed[key].items()}
        series = row["measure_id"] + ("" if row["series"] == "total" else f" {row['series']}")
        assert series in cells["series"].split("; "), (key, series)
        assert cells["owner"] == row["owner"] and cells["quarter"] == f"Q{row['quarter']}"
        if "status" in row:
            assert STATUS_WORDS[row["status"]] in cells["status"], key
            assert float(cells["days_overdue"].replace(",", "")) >= row["days_overdue"], key
    assert "Partial" in listed["Borough council MAASBT Q3"]["status"][0]
    agencies = parsed.rows["data-agency"]
    assert set(agencies) == {owner for owner, _ in returns}
    for owner, cells in agencies.items():
        owed = [r for r in expected + partial if r["owner"] == owner]
        assert int(cells["series_quarters"][0]) == len(owed), owner
        assert int(cells["returns"][0]) == len({r["quarter"] for r in owed}), owner
    tile = re.search(r'data-count="missing">(\d+)<', report.text)
    assert tile and int(tile.group(1)) == len(returns)


def test_reconciliation_lists_each_slip_once_in_plain_words(
    report: SampleReport, parsed: ReportParser
) -> None:
    """Issue 13 finding 5: one entry per slip in the published report (not per derived
    figure and check), in plain words, with the likely cause where the digits show it."""
    slips = _rows(
        report.build,
        "select distinct measure_id, series, fiscal_year, period"
        " from marts.fct_published_reconciliation",
    )
    rows = parsed.rows["data-slip"]
    assert len(rows) == len(slips) < _count(report.build, RECONCILIATION_SQL)
    tile = re.search(r'data-count="reconciliation">(\d+)<', report.text)
    assert tile and int(tile.group(1)) == len(slips)
    year = {k: v[0] for k, v in rows["1.3 total 2016/17 FY"].items()}
    assert (year["published"], year["expected"], year["difference"]) == ("12,820", "12,833", "-13")
    assert year["figure"] == "value" and year["affects"] == "change, % change"
    q3 = {k: v[0] for k, v in rows["1.3 total 2016/17 Q3"].items()}
    assert q3["cause"] == "Likely a transposed digit: 10,023 printed for 10,032."
    section = report.text[report.text.index('id="reconciliation"') :]
    section = section[: section.index("</section>")]
    for internal in (
        "pct_change",
        "ytd_value",
        "context_count",
        "warehouse",
        "internal_arithmetic",
    ):
        assert internal not in section, internal
    # a breakdown below the borough total: a count under 5 is never shown
    declined = {k: v[0] for k, v in rows["6.4 declined 2016/17 Q3"].items()}
    assert declined["published"] == "10" and declined["expected"] in ("7", "<5")


def test_the_off_target_list_holds_every_verdict_not_met(
    report: SampleReport, parsed: ReportParser
) -> None:
    """Issue 13 finding 5: 2.3 (NOT ACHIEVED, Amber) is in the summary's off-target list,
    and 4.2's baseline of 22 is explained beside the records' 18."""
    listed = set(re.findall(r'data-off-target="([^"]+)"', report.text))
    facts = _quarter_facts(report.build)
    not_met = {f"{m} {s}" for (m, s), f in facts.items() if f["status"] in OFF_TARGET}
    assert listed == not_met and "2.3 total" in listed
    commentary = parsed.rows["data-series"]["4.2 total"]["commentary"][0]
    assert "against a baseline of 22." in commentary
    assert "recomputed from the records is 18" in commentary
    # a year total the board was given differently carries a marker in its row
    year = parsed.rows["data-series"]["1.3 total"]["commentary"][0]
    assert "Corrected: the published report gave the year's total as 12,820" in year
    assert "Corrected" not in parsed.rows["data-series"]["1.4 total"]["commentary"][0]


def test_a_trend_chart_for_every_series(report: SampleReport, parsed: ReportParser) -> None:
    charts = re.findall(r'<svg role="img" aria-label="([^"]+)" class="chart"', report.text)
    assert len(charts) == 29 + 1  # every series, and the RAG summary
    assert all(label.startswith("Trend of ") for label in charts[1:])
    lines = [d for d in parsed.svg_paths if d.count("L") >= 5]  # polylines of 6+ points
    assert len(lines) >= 29
    assert report.text.count("stroke: #1f4e79") >= 29  # the series line in every chart
    assert report.text.count("stroke: #c55a11") >= 12  # baselines / targets drawn in


def test_the_page_is_self_contained_and_prints_on_a4_landscape(report: SampleReport) -> None:
    text = report.text
    assert "@page" in text and "size: A4 landscape" in text
    assert "<script" not in text and "<link" not in text and "<img" not in text
    urls = set(re.findall(r"https?://[^\s\"')]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert "print-color-adjust: exact" in text


def test_workbook_holds_the_same_figures(report: SampleReport) -> None:
    facts = _quarter_facts(report.build)
    workbook = openpyxl.load_workbook(report.xlsx)
    assert workbook.sheetnames == [
        "Report",
        "Missing returns",
        "Reconciliation",
        "Trend data",
        "Definitions",
        "Notes",
    ]
    sheet = workbook["Report"]
    header = [c.value for c in sheet[4]]
    col = {name: header.index(name) for name in header}
    seen = set()
    for row in sheet.iter_rows(min_row=5):
        measure, series = row[0].value, row[1].value
        if series is None:  # a theme heading
            continue
        fact = facts[(measure, series)]
        seen.add((measure, series))
        for header_name, name in (
            ("This quarter", "value"),
            ("Same quarter last year", "last_year_value"),
            ("Change", "change"),
            ("Year to date", "ytd_value"),
            ("Year to date last year", "ytd_last_year_value"),
            ("Baseline / target", "baseline"),
        ):
            cell = row[col[header_name]].value
            expected = fact[name]
            if name == "change" and None not in (fact["value"], fact["last_year_value"]):
                places = 1 if fact["unit"] == "percent" else 0  # as printed: issue 13 no. 2
                expected = float(
                    _half_up(fact["value"], places) - _half_up(fact["last_year_value"], places)
                )
            if expected is not None and fact["unit"] == "percent" and name != "change":
                expected = expected / 100  # a rate is a fraction formatted as a percentage
            if expected is None:
                assert not isinstance(cell, float | int), (measure, series, header_name, cell)
            else:
                # Excel keeps 15 significant digits
                assert cell == pytest.approx(expected, rel=1e-13), (measure, series, header_name)
        rag = row[col["RAG"]]
        assert (rag.value, rag.fill.fgColor.rgb[-6:]) == (fact["rag"], RAG_FILLS[fact["rag"]])
        provisional = " (provisional)" if fact["verdict_basis"] else ""
        assert row[col["Status"]].value == fact["status"] + provisional
    assert seen == set(catalogue())
    assert workbook["Missing returns"].max_row - 1 == _count(report.build, MISSING_SQL)
    assert workbook["Reconciliation"].max_row - 1 == _count(report.build, RECONCILIATION_SQL)
    owners = {c.value for c in workbook["Missing returns"]["F"][1:]}
    assert "Probation (CRC and NPS)" in owners


def test_the_workbook_is_usable_by_an_analyst(report: SampleReport) -> None:
    """Issue 13 finding 8: number columns hold numbers or nothing, dates are dates,
    rates are fractions formatted as percentages, the lists are Excel tables, a
    definitions sheet comes from dim_measure, and no number shows '777.0'."""
    workbook = openpyxl.load_workbook(report.xlsx)
    sheet = workbook["Report"]
    header = [c.value for c in sheet[4]]
    numbers = [header.index(c) for c in ("This quarter", "Same quarter last year", "Change")]
    numbers += [header.index(c) for c in ("% change", "Year to date", "Baseline / target")]
    for row in sheet.iter_rows(min_row=5):
        if row[1].value is None:
            continue
        for index in numbers:
            assert row[index].value is None or isinstance(row[index].value, int | float), (
                row[0].value,
                row[1].value,
                header[index],
                row[index].value,
            )
    engaged = next(r for r in sheet.iter_rows(min_row=5) if r[1].value == "engaged_pct")
    value = engaged[header.index("This quarter")]
    assert value.value == pytest.approx(70 / 86) and value.number_format == "0.0%"
    missing = workbook["Missing returns"]
    due = [c.value for c in next(missing.iter_cols(min_col=9, max_col=9, min_row=2))]
    assert due and all(isinstance(d, datetime) for d in due)
    for name, table in (
        ("Missing returns", "MissingReturns"),
        ("Reconciliation", "Reconciliation"),
        ("Trend data", "TrendData"),
        ("Definitions", "Definitions"),
    ):
        assert table in workbook[name].tables, name
    definitions = list(workbook["Definitions"].iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[1]) for r in definitions} == set(catalogue())
    for cell in workbook["Reconciliation"]["H"][1:]:
        assert "0.0##" not in cell.number_format
    trend = workbook["Trend data"]
    assert trend.cell(row=1, column=9).value == "RAG of the year to date at the quarter"


def test_below_borough_every_small_figure_is_suppressed(report: SampleReport) -> None:
    ward = dataclasses.replace(report.data, area_code="E05001234", level=BELOW_BOROUGH)
    parser = ReportParser()
    parser.feed(render_html(ward, GENERATED))
    police = {k: v[0] for k, v in parser.rows["data-series"]["1.1 police"].items()}
    assert police["value"] == "<5"  # 3 repeat callers
    assert police["last_year_value"] == "10"
    assert police["change"] == police["pct_change"] == "withheld"
    assert police["commentary"].startswith("<5 repeat callers to the police compared to 10")
    completions = {k: v[0] for k, v in parser.rows["data-series"]["3.1 completions"].items()}
    assert completions["value"] == "0" and completions["last_year_value"] == "<5"
    opiate = {k: v[0] for k, v in parser.rows["data-series"]["3.3 opiate_cj"].items()}
    assert opiate["value"] == "2.7%"  # 5 of 182: shown
    assert "<5" not in report.text.split('id="reconciliation"')[0]  # the borough report


def test_build_report_refuses_what_the_marts_cannot_give(report: SampleReport) -> None:
    with pytest.raises(ReportDataError, match="had not ended|not in marts"):
        build_report(report.build.warehouse, "2017/18", 1)
    with pytest.raises(ReportDataError, match="not in marts.dim_measure"):
        build_report(report.build.warehouse, "2016/17", 4, "E06000001")
    with pytest.raises(ReportDataError, match="no DuckDB file"):
        build_report(report.build.warehouse.with_name("nothing.duckdb"), "2016/17", 4)


# --------------------------------------------------------------------------------------
# the Dagster asset and schedule


def test_report_asset_writes_the_quarter_folder(
    report: SampleReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.publish import publish_marts
    from orchestration.report_assets import add_report_quarters, quarterly_report
    from orchestration.resources import WarehouseSettings

    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(report.build.warehouse, warehouse)
    publish_marts(warehouse, as_of=date(2017, 5, 31))
    resource = WarehouseSettings(warehouse=str(warehouse), as_of="2017-05-31", area="E06000004")
    instance = dg.DagsterInstance.ephemeral()
    add_report_quarters(instance, date(2017, 5, 31))
    result = dg.materialize(
        [quarterly_report],
        partition_key="2016-17-Q4",
        resources={"warehouse": resource},
        instance=instance,
    )
    assert result.success
    folder = tmp_path / "data" / "reports" / "2016-17-Q4"
    assert sorted(p.name for p in folder.iterdir()) == [
        "csp-performance-2016-17-Q4.html",
        "csp-performance-2016-17-Q4.xlsx",
    ]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["series"].value == 29
    assert metadata["missing_or_late_returns"].value == _count(report.build, MISSING_SQL)
    page = (folder / "csp-performance-2016-17-Q4.html").read_text()
    assert "Figures and returns as at 31 May 2017 (the data date)" in page
    assert "Report produced" in page


def test_a_range_of_quarters_is_one_run(
    report: SampleReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.publish import publish_marts
    from orchestration.report_assets import add_report_quarters, quarterly_report
    from orchestration.resources import WarehouseSettings

    assert quarterly_report.backfill_policy == dg.BackfillPolicy.single_run()
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(report.build.warehouse, warehouse)
    publish_marts(warehouse, as_of=date(2017, 5, 31))
    resource = WarehouseSettings(warehouse=str(warehouse), as_of="2017-05-31", area="E06000004")
    instance = dg.DagsterInstance.ephemeral()
    add_report_quarters(instance, date(2017, 5, 31))
    result = dg.materialize(
        [quarterly_report],
        resources={"warehouse": resource},
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": "2016-17-Q2",
            "dagster/asset_partition_range_end": "2016-17-Q4",
        },
    )
    assert result.success
    reports = tmp_path / "data" / "reports"
    published = sorted(p.name for p in reports.iterdir() if not p.name.startswith("."))
    assert published == ["2016-17-Q2", "2016-17-Q3", "2016-17-Q4"]
    events = result.get_asset_materialization_events()
    assert len({e.partition for e in events}) == 3  # one run, one materialisation a quarter


def test_report_asset_fails_clearly_without_a_serving_copy(tmp_path: Path) -> None:
    from orchestration.report_assets import add_report_quarters, quarterly_report
    from orchestration.resources import WarehouseSettings

    resource = WarehouseSettings(warehouse=str(tmp_path / "warehouse.duckdb"), as_of="2017-05-31")
    instance = dg.DagsterInstance.ephemeral()
    add_report_quarters(instance, date(2017, 5, 31))
    result = dg.materialize(
        [quarterly_report],
        partition_key="2016-17-Q4",
        resources={"warehouse": resource},
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "no serving copy" in str(failure.message) + str(failure.cause)


def test_quarterly_schedule_builds_the_quarter_just_due() -> None:
    from dagster._utils.schedules import cron_string_iterator

    from orchestration.report_assets import quarterly_report_schedule

    london = ZoneInfo("Europe/London")
    ticks = cron_string_iterator(
        datetime(2017, 1, 1, tzinfo=london).timestamp(),
        quarterly_report_schedule.cron_schedule,
        quarterly_report_schedule.execution_timezone,
    )
    first = [next(ticks) for _ in range(4)]
    assert [(t.month, t.day, t.hour) for t in first] == [
        (1, 21, 6),
        (4, 21, 6),
        (7, 21, 6),
        (10, 21, 6),
    ]
    assert first[1].utcoffset().total_seconds() == 3600  # 06:00 British Summer Time
    from orchestration.report_assets import report_assets, report_jobs, report_schedules
    from orchestration.resources import WarehouseSettings

    definitions = dg.Definitions(
        assets=report_assets,
        jobs=report_jobs,
        schedules=report_schedules,
        resources={"warehouse": WarehouseSettings()},
    )
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=first[1],
            repository_def=definitions.get_repository_def(),
        )
        request = quarterly_report_schedule.evaluate_tick(context).run_requests[0]
        # 2016/17 Q4, due 20 April 2017, made a partition by the schedule itself
        assert request.partition_key == "2016-17-Q4"
        assert instance.get_dynamic_partitions("fiscal_quarters")[-1] == "2016-17-Q4"
