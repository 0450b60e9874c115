"""Read one quarter's report from the marts (schema ``marts``) into DataFrames.

Only the marts are read: ``dim_measure``, ``fct_measure_quarter``,
``fct_target_status`` (the quarter's verdict, the previous quarter's and each plan
year's outturn), ``fct_measure_target_year`` (what the baseline is),
``fct_missing_returns``, ``fct_published_reconciliation``,
``dim_report_note`` (the published report's caveats) (and
``dim_fiscal_quarter`` to check the quarter has ended), and the serving copy's
``meta.publication`` for the as-of date and publication time.  The source is any DuckDB
file holding them, opened read-only: the serving copy in production (``make run``, the
``quarterly_report`` asset), the warehouse in tests (it has no ``meta.publication``: pass
``as_of`` to print one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from catalogue.fiscal import FiscalQuarter
from orchestration.as_of import describe_after_as_of, read_meta_table
from report.analysis import AnalysisData, read_analysis
from report.suppression import Level, geography_level

TREND_YEARS = 3  # the trend charts show the report's fiscal year and the two before it

Source = duckdb.DuckDBPyConnection | str | Path


class ReportDataError(ValueError):
    """The marts cannot give this report (unknown area, quarter not ended or not built)."""


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, as read from the marts (pure data, no formatting)."""

    quarter: FiscalQuarter
    area_code: str
    area_name: str
    level: Level  # borough | below_borough: whether small-number suppression applies
    series: pd.DataFrame  # one row per catalogue series: the quarter, target status, RAG
    trend: pd.DataFrame  # every series x quarter of the trend window
    missing: pd.DataFrame  # missing / late returns of the fiscal year up to the quarter
    reconciliation: pd.DataFrame  # published figures that differ, up to the quarter
    notes: pd.DataFrame = field(default_factory=pd.DataFrame)  # caveats (dim_report_note)
    plan: pd.DataFrame = field(default_factory=pd.DataFrame)  # the plan years' outturns
    as_of: date | None = None  # meta.publication's as-of date (days overdue count to it)
    published_at: datetime | None = None  # when the serving copy was published
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # deliveries loaded but received after the as-of date, so not counted: one sentence
    not_counted: str = ""
    # the analysis marts' rows: significance, forecast, peers, revisions (report/analysis.py)
    analysis: AnalysisData = field(default_factory=AnalysisData)


@contextlib.contextmanager
def _connection(source: Source) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(source, duckdb.DuckDBPyConnection):
        yield source
        return
    path = Path(source)
    if not path.exists():
        raise ReportDataError(f"no DuckDB file at {path}")
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _source_name(source: Source) -> str:
    return "connection" if isinstance(source, duckdb.DuckDBPyConnection) else str(source)


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


HOME_AREA_SQL = """
select area_code, area_name from marts.dim_area where is_home_area order by area_code
"""


def report_areas(source: Source, area: str | None = None) -> list[tuple[str, str]]:
    """The (code, name) areas in the marts matching ``area`` (a code or a name).

    ``all`` or None: the home area (``CSP_HOME_AREA``, marts.dim_area.is_home_area)
    alone when the marts mark one -- with the national police.uk data loaded every other
    authority has only its police.uk series (its peers' data), no board report of its
    own; a serving copy without dim_area gives every area."""
    with _connection(source) as con:
        rows = con.execute(
            "select distinct area_code, area_name from marts.dim_measure order by area_code"
        ).fetchall()
        home = con.execute(HOME_AREA_SQL).fetchall() if _has_table(con, "marts", "dim_area") else []
    if area is None or area.strip().lower() == "all":
        return [(code, name) for code, name in home] or [(code, name) for code, name in rows]
    wanted = area.strip().lower()
    matches = [(c, n) for c, n in rows if wanted in (c.lower(), (n or "").lower())]
    if not matches:
        known = ", ".join(f"{c} ({n})" for c, n in rows) or "none"
        raise ReportDataError(f"area {area!r} is not in the marts; they hold: {known}")
    return matches


SERIES_SQL = """
select m.theme, m.measure_id, m.series, m.title, m.unit, m.direction, m.target_rule,
       m.owner, m.source as catalogue_source, m.ytd_method, m.is_derived,
       m.sort_order, m.noun_one, m.noun_many, m.description, m.method_description,
       y.note as baseline_description,
       p.status_label as previous_status, p.rag_label as previous_rag,
       p.assessed_value as previous_assessed_value,
       p.comparator_value as previous_comparator_value,
       p.is_provisional as previous_is_provisional,
       f.value, f.numerator, f.denominator, f.last_year_value, f.change, f.pct_change,
       f.ytd_value, f.ytd_last_year_value, f.ytd_change, f.ytd_pct_change,
       f.data_status, f.status_note, f.due_date, f.received_date, f.is_approximation,
       f.months_expected, f.months_received, f.source,
       t.baseline, t.baseline_source, t.previous_year_outturn,
       t.target_value_year as target_value, t.comparator_value, t.assessed_value,
       t.status_label as status, t.rag_label as rag,
       t.quarters_due, t.quarters_received, t.quarters_missing, t.is_provisional,
       t.verdict_basis,
       r.days_overdue
from marts.dim_measure m
left join marts.fct_measure_quarter f
  on f.area_code = m.area_code and f.measure_id = m.measure_id and f.series = m.series
 and f.fiscal_year = $fy and f.quarter = $q
left join marts.fct_target_status t
  on t.area_code = m.area_code and t.measure_id = m.measure_id and t.series = m.series
 and t.fiscal_year = $fy and t.quarter = $q
left join marts.fct_target_status p
  on p.area_code = m.area_code and p.measure_id = m.measure_id and p.series = m.series
 and p.fiscal_year = $previous_fy and p.quarter = $previous_q
left join marts.fct_measure_target_year y
  on y.area_code = m.area_code and y.measure_id = m.measure_id and y.series = m.series
 and y.plan_year = $fy
left join marts.fct_missing_returns r
  on r.area_code = m.area_code and r.measure_id = m.measure_id and r.series = m.series
 and r.fiscal_year = $fy and r.quarter = $q
where m.area_code = $area
"""

TREND_SQL = """
select f.measure_id, f.series, f.fiscal_year, f.quarter, f.period_end, f.unit,
       f.value, f.numerator, f.denominator, f.data_status,
       f.last_year_value, f.change, f.pct_change, f.ytd_value, f.ytd_last_year_value,
       f.ytd_change, f.ytd_pct_change, f.due_date, f.received_date,
       t.target_rule, t.baseline, t.target_value_year as target_value, t.comparator_value,
       t.assessed_value, t.previous_year_outturn, t.status_label as status,
       t.rag_label as rag, t.is_provisional
from marts.fct_measure_quarter f
left join marts.fct_target_status t
  on t.area_code = f.area_code and t.measure_id = f.measure_id and t.series = f.series
 and t.fiscal_year = f.fiscal_year and t.quarter = f.quarter
where f.area_code = $area and f.period_end between $first and $last
order by f.measure_id, f.series, f.period_end
"""

MISSING_SQL = """
select r.measure_id, r.series, m.title, m.theme, r.fiscal_year, r.quarter, r.source,
       r.owner, r.due_date, r.received_date, r.status, r.days_overdue, r.note
from marts.fct_missing_returns r
join marts.dim_measure m
  on m.area_code = r.area_code and m.measure_id = r.measure_id and m.series = r.series
where r.area_code = $area and r.fiscal_year = $fy and r.quarter <= $q
order by r.quarter, r.measure_id, r.series
"""

# the plan years' outturns: each plan year's verdict at its Q4 (the report's year: at the
# report quarter), with the figure assessed (a monitored series: its year to date)
PLAN_SQL = """
select t.measure_id, t.series, t.fiscal_year, t.quarter, f.unit,
       coalesce(t.assessed_value, f.ytd_value) as outturn, f.denominator,
       t.status_label as status, t.rag_label as rag, t.is_provisional
from marts.fct_target_status t
join marts.fct_measure_quarter f
  on f.area_code = t.area_code and f.measure_id = t.measure_id and f.series = t.series
 and f.fiscal_year = t.fiscal_year and f.quarter = t.quarter
where t.area_code = $area
  and t.fiscal_year in (select plan_year from marts.fct_measure_target_year
                        where area_code = $area and plan_year <= $fy)
  and ((t.fiscal_year < $fy and t.quarter = 4) or (t.fiscal_year = $fy and t.quarter = $q))
order by t.measure_id, t.series, t.fiscal_year
"""

NOTES_SQL = """
select measure_id, series, quarter, kind, note
from marts.dim_report_note
where area_code = $area and fiscal_year = $fy and quarter <= $q
order by measure_id, series, quarter
"""

RECONCILIATION_SQL = """
select measure_id, series, fiscal_year, period, figure, check_kind, published_text,
       published_value, expected_text, expected_value, difference, explanation
from marts.fct_published_reconciliation
where area_code = $area
  and (fiscal_year < $fy
       or (fiscal_year = $fy
           and ((period like 'Q%' and cast(substr(period, 2) as integer) <= $q)
                or (period = 'FY' and $q = 4))))
order by measure_id, series, fiscal_year, period, figure, check_kind
"""


def _quarter_row(con: duckdb.DuckDBPyConnection, area: str, quarter: FiscalQuarter) -> tuple:
    row = con.execute(
        "select is_ended from marts.dim_fiscal_quarter"
        " where area_code = $area and fiscal_year = $fy and quarter = $q",
        {"area": area, "fy": quarter.fiscal_year, "q": quarter.quarter},
    ).fetchone()
    if row is None:
        raise ReportDataError(f"{quarter.label} is not in marts.dim_fiscal_quarter for {area}")
    if not row[0]:
        raise ReportDataError(f"{quarter.label} had not ended on the marts' as-of date")
    built = con.execute(
        "select count(*) from marts.fct_measure_quarter"
        " where area_code = $area and fiscal_year = $fy and quarter = $q",
        {"area": area, "fy": quarter.fiscal_year, "q": quarter.quarter},
    ).fetchone()
    if not built or not built[0]:
        raise ReportDataError(f"marts.fct_measure_quarter holds nothing for {quarter.label}")
    return row


def _publication(con: duckdb.DuckDBPyConnection) -> tuple[date | None, datetime | None]:
    """As-of date and publication time of a serving copy (None for the warehouse)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'meta'"
        " and table_name = 'publication'"
    ).fetchone()
    if not exists or not exists[0]:
        return None, None
    row = con.execute("select as_of, published_at from meta.publication").fetchone()
    return (row[0], row[1]) if row else (None, None)


def _area_name(con: duckdb.DuckDBPyConnection, area: str) -> str:
    row = con.execute(
        "select any_value(area_name) from marts.dim_measure where area_code = ?", [area]
    ).fetchone()
    if not row or row[0] is None:
        raise ReportDataError(f"area {area} is not in marts.dim_measure")
    return str(row[0])


def build_report(
    source: Source,
    fiscal_year: str,
    quarter: int,
    area_code: str | None = None,
    *,
    as_of: date | None = None,
) -> ReportData:
    """One quarter's report data for one area, read from the marts in ``source``.

    ``area_code`` may be omitted when the marts hold a single area.
    """
    fq = FiscalQuarter.of(fiscal_year, quarter)
    with _connection(source) as con:
        area = area_code or _single_area(con)
        name = _area_name(con, area)
        _quarter_row(con, area, fq)
        params = {"area": area, "fy": fq.fiscal_year, "q": fq.quarter}
        before = fq.previous()
        series = con.execute(
            SERIES_SQL,
            {**params, "previous_fy": before.fiscal_year, "previous_q": before.quarter},
        ).df()
        first = FiscalQuarter(fq.start_year - TREND_YEARS + 1, 1).period_end
        trend = con.execute(TREND_SQL, {"area": area, "first": first, "last": fq.period_end}).df()
        missing = con.execute(MISSING_SQL, params).df()
        reconciliation = con.execute(RECONCILIATION_SQL, params).df()
        notes = con.execute(NOTES_SQL, params).df()
        plan = con.execute(PLAN_SQL, params).df()
        published_as_of, published_at = _publication(con)
        late = read_meta_table(con)
        analysis = read_analysis(con, area, fq)
    shown_as_of = as_of or published_as_of
    return ReportData(
        quarter=fq,
        area_code=area,
        area_name=name,
        level=geography_level(area),
        series=series,
        trend=trend,
        missing=missing,
        reconciliation=reconciliation,
        notes=notes,
        plan=plan,
        as_of=shown_as_of,
        published_at=published_at,
        source=_source_name(source),
        not_counted=describe_after_as_of(late, shown_as_of) if late and shown_as_of else "",
        analysis=analysis,
    )


def _single_area(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute("select distinct area_code from marts.dim_measure").fetchall()
    if len(rows) != 1:
        raise ReportDataError(f"the marts hold {len(rows)} areas: pass area_code")
    return str(rows[0][0])
