"""The report's analysis context, read from the analysis marts (docs/analysis.md):

- is the change real?  ``fct_change_significance`` -> a phrase in every series'
  commentary ("an increase of 208 (+8.0%), a significant increase" or "..., not a
  significant change"; no verdict beside a caveat of the published report);
- the year-end forecast of an in-year quarter (Q1-Q3), ``fct_year_end_forecast``, with
  its 80 % interval, labelled as a forecast (a sentence in the commentary);
- the peer panel for the police.uk series, ``fct_peer_comparison`` and
  ``dim_peer_group`` (a ranked "ski-slope" chart per series); with only the home area
  loaded the panel says peers need the national police.uk data and how to load it;
- the ONS population year behind every rate (``fct_policeuk_rate``);
- "changed since last published", ``fct_figure_revisions``: figures a board has seen
  that have changed since, old -> new and the delivery that changed them.

:func:`read_analysis` reads the marts (a mart missing from an older serving copy reads as
empty); :func:`analysis_view` builds what the page and the workbook print, once;
:func:`with_analysis` adds the phrases to the series' commentary.  The statistics are
the marts'; nothing is computed here but wording.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from catalogue.fiscal import FiscalQuarter
from report import formatting as fmt
from report.formatting import as_number

# the README's command for loading the national police.uk data (docs/analysis.md)
NATIONAL_COMMAND = "CSP_AREA=all CSP_HOME_AREA=<your authority> make run"
PEER_PERIOD = "rolling_12_months"  # the peer panel compares the 12 months to the quarter end

SIGNIFICANCE_SQL = """
select measure_id, series, comparison, significance, z_statistic, test_method
from marts.fct_change_significance
where area_code = $area and fiscal_year = $fy and quarter = $q
"""

FORECAST_SQL = """
select measure_id, series, target_rule, target_value_year as target_value, ytd_value,
       forecast_value, lower_80, upper_80, probability_of_meeting_target, forecast_status,
       forecast_note
from marts.fct_year_end_forecast
where area_code = $area and fiscal_year = $fy and quarter = $q
"""

RATES_SQL = """
select measure_id, series, crime_type, any_value(population_year) as population_year
from marts.fct_policeuk_rate
where area_code = $area
group by all
order by measure_id, series
"""

PEER_SQL = f"""
select measure_id, series, crime_type, rate_per_1000, record_count, peers_used,
       peer_mean_rate, peer_weighted_rate, national_rate, lower_998, upper_998,
       peer_comparison, funnel_band
from marts.fct_peer_comparison
where area_code = $area and fiscal_year = $fy and quarter = $q
  and period_type = '{PEER_PERIOD}'
order by measure_id, series
"""

PEER_RATES_SQL = f"""
select r.measure_id, r.series, g.peer_rank, g.peer_area_code as area_code,
       g.peer_area_name as area_name, r.rate_per_1000, r.is_complete
from marts.dim_peer_group as g
join marts.fct_policeuk_rate as r
  on r.area_code = g.peer_area_code and r.fiscal_year = $fy and r.quarter = $q
 and r.period_type = '{PEER_PERIOD}'
where g.area_code = $area
order by r.measure_id, r.series, g.peer_rank
"""

# figures the board has seen that differ now (not yet published) or in this quarter's
# own publication; the quarter figures only (year to date and change follow from them)
REVISIONS_SQL = """
select measure_id, series, fiscal_year, quarter, previous_value, revised_value,
       first_published_in, revised_in, reason
from marts.fct_figure_revisions
where area_code = $area and figure = 'value'
  and (revised_in like 'not yet published%' or revised_in = $label)
  and (fiscal_year < $fy or (fiscal_year = $fy and quarter <= $q))
order by measure_id, series, fiscal_year, quarter
"""


@dataclass(frozen=True)
class AnalysisData:
    """The analysis marts' rows for one area and quarter (empty frames when absent)."""

    significance: pd.DataFrame = field(default_factory=pd.DataFrame)
    forecast: pd.DataFrame = field(default_factory=pd.DataFrame)
    rates: pd.DataFrame = field(default_factory=pd.DataFrame)  # police.uk series of the area
    peers: pd.DataFrame = field(default_factory=pd.DataFrame)  # the area against its peers
    peer_rates: pd.DataFrame = field(default_factory=pd.DataFrame)  # each peer's rate
    revisions: pd.DataFrame = field(default_factory=pd.DataFrame)


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    row = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def _read(con, tables: Sequence[str], sql: str, params: dict) -> pd.DataFrame:
    if not all(_has(con, t) for t in tables):
        return pd.DataFrame()
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    return con.execute(sql, used).df()


def read_analysis(
    con: duckdb.DuckDBPyConnection, area: str, quarter: FiscalQuarter
) -> AnalysisData:
    """The analysis marts' rows for ``area`` and ``quarter`` (report/data.py calls it)."""
    params = {"area": area, "fy": quarter.fiscal_year, "q": quarter.quarter}
    params["label"] = quarter.label
    in_year = quarter.quarter < 4
    return AnalysisData(
        significance=_read(con, ["marts.fct_change_significance"], SIGNIFICANCE_SQL, params),
        forecast=(
            _read(con, ["marts.fct_year_end_forecast"], FORECAST_SQL, params)
            if in_year
            else pd.DataFrame()
        ),
        rates=_read(con, ["marts.fct_policeuk_rate"], RATES_SQL, params),
        peers=_read(con, ["marts.fct_peer_comparison"], PEER_SQL, params),
        peer_rates=_read(
            con, ["marts.dim_peer_group", "marts.fct_policeuk_rate"], PEER_RATES_SQL, params
        ),
        revisions=_read(con, ["marts.fct_figure_revisions"], REVISIONS_SQL, params),
    )


# --------------------------------------------------------------------------------------
# views


@dataclass(frozen=True)
class PeerPanel:
    key: str  # "1.3 total"
    title: str
    rate: str  # "14.4 per 1,000"
    verdict: str  # "significantly higher than peers" / "within the expected range"
    sentence: str
    chart: str  # inline SVG ('' when no peer rates)


@dataclass(frozen=True)
class RevisionView:
    key: str
    measure: str  # "1.3 ASB incidents"
    period: str  # "2016/17 Q3"
    old: str
    new: str
    seen_in: str  # the report that published the old figure
    reason: str


@dataclass(frozen=True)
class AnalysisView:
    significance: dict[str, str]  # series key -> phrase for the quarter's change
    ytd_significance: dict[str, str]  # series key -> phrase for the year to date's change
    forecasts: dict[str, str]  # series key -> forecast sentence (in-year quarters)
    peers: list[PeerPanel]
    peer_names: list[str]  # the area's most similar areas, most similar first
    peers_note: str  # why there is no panel, or how to read it
    population_note: str  # which ONS population year the rates use
    revisions: list[RevisionView]

    @property
    def has_forecasts(self) -> bool:
        return bool(self.forecasts)


def _key(measure_id: object, series: object) -> str:
    return f"{measure_id} {series}"


SIGNIFICANCE_WORDS = {
    "significant increase": "a significant increase",
    "significant decrease": "a significant decrease",
    # not "within normal variation": a test that finds no change says too little to tell,
    # above all on small counts (4 against 12 is -67 % and not significant)
    "no significant change": "not a significant change",
}


# a series under a caveat of the published report (seed report_notes, kind caveat: a
# change of definition, last year's figure not comparable) gets no verdict on its change:
# a test of two figures that count different things says nothing (docs/analysis.md)
NOT_COMPARABLE = "not tested for significance (see the caveat)"


def _significance(
    frame: pd.DataFrame, comparison: str, caveated: frozenset[str] = frozenset()
) -> dict[str, str]:
    if frame.empty:
        return {}
    rows = frame[frame["comparison"] == comparison]
    return {
        key: NOT_COMPARABLE if key in caveated else SIGNIFICANCE_WORDS[r.significance]
        for r in rows.itertuples()
        if r.significance in SIGNIFICANCE_WORDS
        for key in [_key(r.measure_id, r.series)]
    }


def caveated_series(notes: pd.DataFrame) -> frozenset[str]:
    """Series keys with a caveat in force (dim_report_note rows of kind 'caveat')."""
    if notes.empty:
        return frozenset()
    rows = notes[notes["kind"] == "caveat"]
    return frozenset(_key(m, s) for m, s in zip(rows["measure_id"], rows["series"], strict=True))


def forecast_sentence(row, unit: str = "count") -> str:
    """'Forecast for the year end: 12,900 (80% range 12,400 to 13,500); 71% likely to
    end below the baseline of 13,425.'"""
    value = as_number(row.forecast_value)
    if value is None:
        return ""
    show = fmt.percent if unit == "percent" else fmt.count
    text = (
        f"Forecast for the year end: {show(value)} (80% range {show(row.lower_80)} to"
        f" {show(row.upper_80)})"
    )
    chance = as_number(row.probability_of_meeting_target)
    target = as_number(row.target_value)
    if chance is None or target is None:
        return text + "."
    where = "below" if str(row.target_rule).startswith("below") else "at or above"
    if row.target_rule == "above_baseline":
        where = "above"
    return f"{text}; {fmt.rounded(chance * 100, 0)}% likely to end {where} {show(target)}."


def population_note(rates: pd.DataFrame) -> str:
    years = sorted({str(y) for y in rates.get("population_year", pd.Series()).dropna()})
    if not years:
        return ""
    return (
        f"Rates per 1,000 residents use the ONS mid-{' and mid-'.join(years)} population"
        " estimates (Office for National Statistics, Open Government Licence)."
    )


def _rate(value: object) -> str:
    number = as_number(value)
    return "no rate" if number is None else f"{fmt.rounded(number, 1)} per 1,000"


def _peer_panels(data: AnalysisData, titles: dict[str, str], area_name: str) -> list[PeerPanel]:
    from report.peer_chart import peer_svg

    panels = []
    for row in data.peers.itertuples():
        key = _key(row.measure_id, row.series)
        title = titles.get(key, str(row.crime_type))
        mine = data.peer_rates[
            (data.peer_rates["measure_id"] == row.measure_id)
            & (data.peer_rates["series"] == row.series)
        ]
        sentence = (
            f"{_rate(row.rate_per_1000)} residents in the 12 months; the {int(row.peers_used)}"
            f" most similar areas {_rate(row.peer_weighted_rate)}, England and Wales"
            f" {_rate(row.national_rate)}."
            if as_number(row.peers_used)
            else f"{_rate(row.rate_per_1000)} residents in the 12 months."
        )
        panels.append(
            PeerPanel(
                key=key,
                title=f"{row.measure_id} {title}",
                rate=_rate(row.rate_per_1000),
                verdict=str(row.peer_comparison),
                sentence=sentence,
                chart=peer_svg(mine, area_name, row, chart_id=f"peers-{key}") if len(mine) else "",
            )
        )
    return panels


def _peer_names(data: AnalysisData) -> list[str]:
    """The peer group (dim_peer_group), most similar first: named so a reader can
    see and challenge it."""
    if data.peer_rates.empty:
        return []
    ranked = data.peer_rates.sort_values("peer_rank").drop_duplicates("area_code")
    return [str(name) for name in ranked["area_name"]]


def _peers_note(data: AnalysisData, panels: list[PeerPanel]) -> str:
    if panels:
        size = data.peer_rates["area_code"].nunique()
        return (
            "Each area's rate over the 12 months to the quarter end, ranked; ours is"
            f" highlighted. Peers are the {size} most similar authorities on population and"
            " police.uk crime rates (CIPFA-style nearest neighbours); 'significantly"
            " higher / lower' is outside the 99.8% funnel limits around the peers' rate."
        )
    series = ", ".join(dict.fromkeys(str(m) for m in data.rates.get("measure_id", [])))
    which = f" ({series})" if series else ""
    return (
        f"Comparison with the most similar areas for the police.uk series{which} needs the"
        " national police.uk data: put the street-level files of every force in the"
        " landing folder's policeuk_street/ and run"
        f" {NATIONAL_COMMAND} (see README)."
    )


def _revisions(frame: pd.DataFrame, titles: dict[str, str], units: dict[str, str]):
    views = []
    for row in frame.itertuples():
        key = _key(row.measure_id, row.series)
        unit = units.get(key, "count")
        views.append(
            RevisionView(
                key=f"{key} {row.fiscal_year} Q{row.quarter}",
                measure=f"{row.measure_id} {titles.get(key, row.series)}",
                period=f"{row.fiscal_year} Q{row.quarter}",
                old=fmt.figure(as_number(row.previous_value), unit),
                new=fmt.figure(as_number(row.revised_value), unit),
                seen_in=str(row.first_published_in),
                reason=str(row.reason),
            )
        )
    return views


def analysis_view(
    data: AnalysisData,
    titles: dict[str, str],
    units: dict[str, str] | None = None,
    area_name: str = "",
    caveated: frozenset[str] = frozenset(),
) -> AnalysisView:
    """What the page and the workbook print from the analysis marts; ``titles`` and
    ``units``: series key -> title / unit (from the series views); ``caveated``: the
    series under a caveat (:func:`caveated_series`), whose change gets no verdict."""
    panels = _peer_panels(data, titles, area_name) if not data.peers.empty else []
    units = units or {}
    forecasts = {}
    if not data.forecast.empty:
        for r in data.forecast.itertuples():
            text = forecast_sentence(r, units.get(_key(r.measure_id, r.series), "count"))
            if text:
                forecasts[_key(r.measure_id, r.series)] = text
    return AnalysisView(
        significance=_significance(data.significance, "same_quarter_last_year", caveated),
        ytd_significance=_significance(data.significance, "year_to_date", caveated),
        forecasts=forecasts,
        peers=panels,
        peer_names=_peer_names(data) if panels else [],
        peers_note=_peers_note(data, panels),
        population_note=population_note(data.rates),
        revisions=_revisions(data.revisions, titles, units),
    )


# the first sentence's change ('...last year; an increase of 80 (+2.6%).') and the year
# to date's ('This gives ... last year; an increase of 253 (+3.9%).'): the phrase goes
# before the full stop (a full stop ends a sentence only before a space or the end)
_IN_SENTENCE = r"(?:[^.]|\.(?!\s|$))*?"  # no full stop that ends a sentence
_NOT_TESTED = r"(?!no change|unchanged|change withheld)"
_QUARTER_CHANGE = re.compile(rf"^({_IN_SENTENCE}last year; {_NOT_TESTED}{_IN_SENTENCE})\.(?=\s|$)")
_YTD_CHANGE = re.compile(
    rf"((?:This gives |Year to date, |For the year, ){_IN_SENTENCE}last year;"
    rf" {_NOT_TESTED}{_IN_SENTENCE})\.(?=\s|$)"
)


def commentary_with_analysis(key: str, text: str, view: AnalysisView) -> str:
    """``text`` with the significance phrases of the quarter's and the year to date's
    change, and the forecast sentence of an in-year quarter."""
    phrase = view.significance.get(key)
    if phrase:
        text = _QUARTER_CHANGE.sub(lambda m: f"{m.group(1)}, {phrase}.", text, count=1)
    ytd = view.ytd_significance.get(key)
    if ytd:
        text = _YTD_CHANGE.sub(lambda m: f"{m.group(1)}, {ytd}.", text, count=1)
    forecast = view.forecasts.get(key)
    return f"{text} {forecast}" if forecast else text


def with_analysis(series: list, view: AnalysisView) -> list:
    """The series views with the analysis phrases in their commentary."""
    return [
        dataclasses.replace(s, commentary=commentary_with_analysis(s.key, s.commentary, view))
        for s in series
    ]


ANALYSIS_HEADERS = ("Topic", "Series", "Period", "Figure", "Detail")
ANALYSIS_WIDTHS = (26, 34, 14, 18, 100)


def analysis_rows(view: AnalysisView, quarter: FiscalQuarter) -> list[tuple[str, ...]]:
    """The workbook's Context sheet: the same peers, forecasts, revisions and notes."""
    rows: list[tuple[str, ...]] = []
    for panel in view.peers:
        rows.append(
            ("Most similar areas", panel.title, "12 months", panel.rate,
             f"{panel.verdict}: {panel.sentence}")
        )  # fmt: skip
    for key, sentence in view.forecasts.items():
        rows.append(("Year-end forecast", key, quarter.label, "", sentence))
    for r in view.revisions:
        rows.append(
            ("Changed since last published", r.measure, r.period, f"{r.old} -> {r.new}",
             f"{r.reason} (first published in {r.seen_in})")
        )  # fmt: skip
    if view.peer_names:
        rows.append(
            ("Most similar areas", "Peer group", "", str(len(view.peer_names)),
             "Most similar first: " + "; ".join(view.peer_names))
        )  # fmt: skip
    rows.append(("Note", "", "", "", view.peers_note))
    if view.population_note:
        rows.append(("Note", "", "", "", view.population_note))
    return rows
