"""Mart suites: completeness and consistency of the tables BI tools read (schema ``marts``).

A mart suite is a few lines: the table, the Dagster asset key of the dbt model that
builds it, and its expectations.  ``orchestration/checks.py`` turns the entries of
:data:`MART_SUITES` into asset checks (``mart_checks``): the suites with the same asset
key and ``check`` name make one check.  For example::

    MartSuite(
        table="marts.fct_measure_quarter",
        asset_key=("marts", "fct_measure_quarter"),
        expectations=(
            expect("ExpectColumnValuesToNotBeNull", column="measure_id",
                   description="every row names its measure"),
            expect("ExpectCompoundColumnsToBeUnique",
                   column_list=["measure_id", "series", "fiscal_year", "quarter"],
                   description="one row per series and quarter"),
        ),
        index_columns=("measure_id", "series", "fiscal_year", "quarter"),
    )

A suite validates the table's rows, or a frame derived from it (``frame``: a function of
a read-only DuckDB connection and :class:`MartParams`, e.g. the catalogue x quarter grid
joined to the mart).  ``listing`` puts *every* row of the frame, not GX's sample, into
the check's metadata (the missing returns, the reconciliation differences).

A mart suite warns by default (``blocking=False``); ``blocking=True`` makes it an ERROR
that stops what depends on the mart (the report, the published copy).

The suites (docs/expectations.md, "Mart checks"):

``marts/fct_measure_quarter`` ``expectations`` (ERROR, blocking)
    ``mart.fct_measure_quarter``: grain unique, allowed data status / unit / quarter,
    percentages within 0-100, counts not negative, numerator not above denominator;
    ``mart.fct_measure_quarter.completeness``: one row for every catalogue series and
    every quarter from the monitored start to the last quarter ended on the as-of date;
    ``mart.fct_measure_quarter.ytd``: the year to date of a summed count is the sum of
    the year's quarters while every one of them is usable, and empty after a gap.
``marts/fct_target_status`` ``expectations`` (ERROR, blocking)
    grain unique; status and RAG in their allowed sets.
``marts/fct_missing_returns`` ``missing_returns`` (WARN)
    fails (warns) while any series-quarter due by the as-of date is missing, declared
    not available, late or partial, and lists them all.
``marts/fct_published_reconciliation`` ``expectations`` (WARN)
    structure only; the differences are the product, so they are listed and counted,
    never failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from catalogue import statuses
from expectations.runner import Expect, SuiteOutcome, SuiteRun, expect, run_suites
from ingest.config import Settings

if TYPE_CHECKING:
    import pandas as pd

DBT_PROJECT_FILE = Path(__file__).resolve().parents[1] / "dbt_project.yml"
DEFAULT_CHECK = "expectations"
MISSING_RETURNS_CHECK = "missing_returns"

GRAIN = ("area_code", "measure_id", "series", "fiscal_year", "quarter")
SERIES_QUARTER = ("measure_id", "series", "fiscal_year", "quarter")
# the return-status vocabulary is the data_status seed (catalogue/statuses.py); usable
# quarters are the only ones comparisons and years to date use (docs/marts.md)
DATA_STATUSES = statuses.codes()
USABLE = statuses.usable()
TARGET_STATUSES = (
    "ACHIEVED",
    "NOT ACHIEVED",
    "ON TRACK",
    "OFF TRACK",
    "MONITOR ONLY",
    "NOT MEASURABLE",
    "NO DATA",
)
RAGS = ("Green", "Amber", "Red", "Grey")
PUBLISHED_FIGURES = (
    "value",
    "last_year_value",
    "change",
    "pct_change",
    "ytd_value",
    "ytd_last_year",
    "ytd_change",
    "ytd_pct_change",
    "baseline",
    "target_status",
    "numerator",
    "denominator",
    "context_count",
    "return_status",
)


@dataclass(frozen=True)
class MartParams:
    """What a derived frame may depend on: the run's as-of date and the monitored start."""

    as_of: date
    monitored_from: str  # first fiscal year of the plan, e.g. "2014/15"


FrameReader = Callable[[duckdb.DuckDBPyConnection, MartParams], "pd.DataFrame"]


@dataclass(frozen=True)
class Listing:
    """List every row of the suite's frame in the check's metadata (not GX's sample)."""

    key: str  # metadata key, e.g. "missing_returns"
    noun: str  # what the rows are, for the check description
    columns: tuple[tuple[str, str], ...]  # (frame column, table header)
    count_by: str | None = None  # summarise the rows by this column in the description
    always: bool = False  # list the rows even when the suite passes
    limit: int = 300


@dataclass(frozen=True)
class MartSuite:
    table: str  # schema-qualified, e.g. "marts.fct_measure_quarter"
    asset_key: tuple[str, ...]  # the dbt model's Dagster asset key
    expectations: tuple[Expect, ...]
    index_columns: tuple[str, ...] = ()  # columns that name an offending row
    blocking: bool = False
    description: str = ""
    check: str = DEFAULT_CHECK  # the asset check this suite belongs to
    name: str = ""  # suffix of the GX suite name when one check runs several suites
    frame: FrameReader | None = field(default=None, compare=False)  # default: the table
    listing: Listing | None = None

    @property
    def suite(self) -> str:
        base = f"mart.{self.table.split('.')[-1]}"
        return f"{base}.{self.name}" if self.name else base

    @property
    def check_name(self) -> str:
        return self.check

    def read(self, con: duckdb.DuckDBPyConnection, params: MartParams) -> pd.DataFrame:
        if self.frame is not None:
            return self.frame(con, params)
        return con.execute(f"select * from {self.table}").df()


@dataclass
class MartResult:
    spec: MartSuite
    outcome: SuiteOutcome
    frame: pd.DataFrame


@cache
def dbt_var(name: str) -> str:
    """A var of dbt_project.yml (the Dagster run passes only as_of and area on the CLI)."""
    import yaml

    return str(yaml.safe_load(DBT_PROJECT_FILE.read_text(encoding="utf-8"))["vars"][name])


def mart_params(settings: Settings) -> MartParams:
    """The as-of date dbt was given for this warehouse (dbt_assets.dbt_vars) and the plan start."""
    return MartParams(
        as_of=settings.effective_as_of, monitored_from=dbt_var("returns_monitored_from")
    )


# -- derived frames ------------------------------------------------------------------------


def completeness_frame(con: duckdb.DuckDBPyConnection, params: MartParams) -> pd.DataFrame:
    """Catalogue series x reporting quarters, full-joined with the mart's rows.

    The reporting quarters are those of the fiscal calendar from the first quarter of the
    monitored start (or of the mart's first year, when the data goes back further) to the
    last quarter ended on the as-of date, as ``int_measure_spine`` defines them.
    ``rows_in_mart`` should be 1 and ``in_catalogue_grid`` true on every row.
    """
    return con.execute(
        """
        with
        catalogue as (select distinct measure_id, series from reference.measures),
        mart as (
            select measure_id, series, fiscal_year, quarter, count(*) as rows_in_mart
            from marts.fct_measure_quarter group by all
        ),
        first_year as (
            select least(coalesce(min(fiscal_year), $start), $start) as fiscal_year from mart
        ),
        quarters as (
            select calendar.fiscal_year, calendar.quarter
            from reference.fiscal_calendar as calendar
            inner join first_year on calendar.fiscal_year >= first_year.fiscal_year
            where calendar.period_end <= $as_of
        ),
        grid as (select * from catalogue cross join quarters)
        select
            measure_id, series, fiscal_year, quarter,
            grid.measure_id is not null as in_catalogue_grid,
            coalesce(mart.rows_in_mart, 0) as rows_in_mart
        from grid full outer join mart using (measure_id, series, fiscal_year, quarter)
        order by fiscal_year, quarter, measure_id, series
        """,
        {"start": params.monitored_from, "as_of": params.as_of},
    ).df()


def ytd_frame(con: duckdb.DuckDBPyConnection, params: MartParams) -> pd.DataFrame:
    """Count series summed over the year: the mart's ytd_value beside the one expected here.

    Expected (docs/marts.md, "Year to date"): at quarter q the sum of the year's values of
    quarters 1..q when every one of them is usable (reported or late); empty after a gap
    (a partial, missing, declared or not-yet-due quarter, or a quarter with no row).
    """
    frame = con.execute(
        """
        select fact.area_code, fact.measure_id, fact.series, fact.fiscal_year, fact.quarter,
               fact.data_status, fact.value, fact.ytd_value
        from marts.fct_measure_quarter as fact
        inner join marts.dim_measure as measure
            using (area_code, measure_id, series)
        where measure.ytd_method = 'sum' and fact.unit = 'count'
        order by fact.area_code, fact.measure_id, fact.series, fact.fiscal_year, fact.quarter
        """
    ).df()
    expected: list[float | None] = []
    running, usable, key, next_quarter = 0.0, True, None, 1
    for row in frame.itertuples(index=False):
        series_year = (row.area_code, row.measure_id, row.series, row.fiscal_year)
        if series_year != key:
            key, running, usable, next_quarter = series_year, 0.0, True, 1
        usable = usable and row.data_status in USABLE and row.quarter == next_quarter
        next_quarter = row.quarter + 1
        if usable:
            running += float(row.value)  # a usable quarter without a value stays NaN: flagged
        expected.append(running if usable else None)
    frame["expected_ytd_value"] = expected
    return frame.astype({"expected_ytd_value": "float64"})


def missing_returns_frame(con: duckdb.DuckDBPyConnection, params: MartParams) -> pd.DataFrame:
    return con.execute(
        """
        select measure_id, series, fiscal_year, 'Q' || quarter as quarter, owner, status,
               days_overdue, due_date, received_date, note
        from marts.fct_missing_returns
        order by fiscal_year, quarter, measure_id, series
        """
    ).df()


def reconciliation_frame(con: duckdb.DuckDBPyConnection, params: MartParams) -> pd.DataFrame:
    return con.execute(
        """
        select * from marts.fct_published_reconciliation
        order by fiscal_year, measure_id, series, period, figure, check_kind
        """
    ).df()


# -- the suites ----------------------------------------------------------------------------

_FACT = "marts.fct_measure_quarter"
_FACT_KEY = ("marts", "fct_measure_quarter")

fct_measure_quarter = MartSuite(
    table=_FACT,
    asset_key=_FACT_KEY,
    blocking=True,
    description="GX suites mart.fct_measure_quarter(.completeness, .ytd): grain, allowed"
    " values, percentages within 0-100, one row per catalogue series and reporting quarter,"
    " year to date of counts = the sum of the year's usable quarters. A breach blocks what"
    " depends on the mart (the last good report and published copy stay).",
    index_columns=SERIES_QUARTER,
    expectations=(
        expect(
            "ExpectCompoundColumnsToBeUnique",
            column_list=list(GRAIN),
            description="one row per area, series and quarter (the grain)",
        ),
        expect(
            "ExpectColumnValuesToNotBeNull",
            column="data_status",
            description="every series-quarter has a data status",
        ),
        expect(
            "ExpectColumnValuesToBeInSet",
            column="data_status",
            value_set=list(DATA_STATUSES),
            description=f"data_status is one of {', '.join(DATA_STATUSES)}",
        ),
        expect(
            "ExpectColumnValuesToBeInSet",
            column="quarter",
            value_set=[1, 2, 3, 4],
            description="quarter is 1..4",
        ),
        expect(
            "ExpectColumnValuesToBeInSet",
            column="unit",
            value_set=["count", "percent"],
            description="unit is count or percent",
        ),
        expect(
            "ExpectColumnValuesToBeBetween",
            column="value",
            min_value=0,
            max_value=100,
            row_condition=("unit", "==", "percent"),
            description="a percentage series' value is within 0-100",
        ),
        expect(
            "ExpectColumnValuesToBeBetween",
            column="ytd_value",
            min_value=0,
            max_value=100,
            row_condition=("unit", "==", "percent"),
            description="a percentage series' year to date is within 0-100",
        ),
        expect(
            "ExpectColumnValuesToBeBetween",
            column="value",
            min_value=0,
            row_condition=("unit", "==", "count"),
            description="a count is not negative",
        ),
        expect(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            column_A="denominator",
            column_B="numerator",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description="a rate's numerator is not above its denominator",
        ),
    ),
)

fct_measure_quarter_completeness = MartSuite(
    table=_FACT,
    asset_key=_FACT_KEY,
    blocking=True,
    name="completeness",
    frame=completeness_frame,
    index_columns=SERIES_QUARTER,
    expectations=(
        expect(
            "ExpectColumnValuesToBeInSet",
            column="rows_in_mart",
            value_set=[1],
            description="every catalogue series has one row for every quarter from the"
            " monitored start to the last quarter ended on the as-of date",
        ),
        expect(
            "ExpectColumnValuesToBeInSet",
            column="in_catalogue_grid",
            value_set=[True],
            description="no row for a series outside the catalogue or a quarter not ended"
            " on the as-of date",
        ),
    ),
)

fct_measure_quarter_ytd = MartSuite(
    table=_FACT,
    asset_key=_FACT_KEY,
    blocking=True,
    name="ytd",
    frame=ytd_frame,
    index_columns=SERIES_QUARTER,
    expectations=(
        expect(
            "ExpectColumnPairValuesToBeEqual",
            column_A="ytd_value",
            column_B="expected_ytd_value",
            ignore_row_if="both_values_are_missing",
            description="a summed count's year to date is the sum of the year's quarters so"
            " far while all are usable (reported or late), and empty after a gap",
        ),
    ),
)

fct_target_status = MartSuite(
    table="marts.fct_target_status",
    asset_key=("marts", "fct_target_status"),
    blocking=True,
    description="GX suite mart.fct_target_status: grain, status and RAG in their allowed"
    " sets. A breach blocks what depends on the mart.",
    index_columns=SERIES_QUARTER,
    expectations=(
        expect(
            "ExpectCompoundColumnsToBeUnique",
            column_list=list(GRAIN),
            description="one row per area, series and quarter (the grain)",
        ),
        expect(
            "ExpectColumnValuesToNotBeNull", column="status", description="every row has a status"
        ),
        expect(
            "ExpectColumnValuesToBeInSet",
            column="status",
            value_set=list(TARGET_STATUSES),
            description=f"status is one of {', '.join(TARGET_STATUSES)}",
        ),
        expect("ExpectColumnValuesToNotBeNull", column="rag", description="every row has a RAG"),
        expect(
            "ExpectColumnValuesToBeInSet",
            column="rag",
            value_set=list(RAGS),
            description=f"rag is one of {', '.join(RAGS)}",
        ),
    ),
)

fct_missing_returns = MartSuite(
    table="marts.fct_missing_returns",
    asset_key=("marts", "fct_missing_returns"),
    check=MISSING_RETURNS_CHECK,
    description="GX suite mart.fct_missing_returns (warning): no return due by the as-of date"
    " is missing, declared not available, late or partial. When it warns, `missing_returns`"
    " lists each one by series, quarter, owning agency, status and days overdue.",
    frame=missing_returns_frame,
    index_columns=SERIES_QUARTER,
    expectations=(
        expect(
            "ExpectTableRowCountToEqual",
            value=0,
            description="every return due by the as-of date arrived, complete, by its due date",
        ),
    ),
    listing=Listing(
        key="missing_returns",
        noun="returns due by the as-of date not received complete and on time",
        columns=(
            ("measure_id", "measure"),
            ("series", "series"),
            ("fiscal_year", "year"),
            ("quarter", "quarter"),
            ("owner", "owning agency"),
            ("status", "status"),
            ("days_overdue", "days overdue"),
            ("note", "note"),
        ),
        count_by="status",
    ),
)

fct_published_reconciliation = MartSuite(
    table="marts.fct_published_reconciliation",
    asset_key=("marts", "fct_published_reconciliation"),
    description="GX suite mart.fct_published_reconciliation: structure only. The listed"
    " differences between the published report and the warehouse are the product, not a"
    " failure: `differences` lists them with both numbers.",
    frame=reconciliation_frame,
    index_columns=("measure_id", "series", "fiscal_year", "period", "figure"),
    expectations=(
        expect(
            "ExpectCompoundColumnsToBeUnique",
            column_list=[*GRAIN[:4], "period", "figure", "check_kind"],
            description="one row per published figure and kind of check",
        ),
        expect(
            "ExpectColumnValuesToBeInSet",
            column="check_kind",
            value_set=["internal_arithmetic", "recomputed"],
            description="check_kind is internal_arithmetic or recomputed",
        ),
        expect(
            "ExpectColumnValuesToBeInSet",
            column="figure",
            value_set=list(PUBLISHED_FIGURES),
            description="figure is one of the published figure kinds",
        ),
    ),
    listing=Listing(
        key="differences",
        noun="published figures differ from their arithmetic or from the warehouse",
        columns=(
            ("measure_id", "measure"),
            ("series", "series"),
            ("fiscal_year", "year"),
            ("period", "period"),
            ("figure", "figure"),
            ("published_text", "published"),
            ("expected_text", "expected"),
            ("check_kind", "check"),
            ("explanation", "explanation"),
        ),
        count_by="check_kind",
        always=True,
    ),
)

# One entry per suite; the suites of one asset key and check name make one asset check.
MART_SUITES: list[MartSuite] = [
    fct_measure_quarter,
    fct_measure_quarter_completeness,
    fct_measure_quarter_ytd,
    fct_target_status,
    fct_missing_returns,
    fct_published_reconciliation,
]


def mart_check_groups(
    suites: list[MartSuite] | None = None,
) -> dict[tuple[tuple[str, ...], str], list[MartSuite]]:
    """The suites of each asset check: (asset key, check name) -> suites, in order."""
    groups: dict[tuple[tuple[str, ...], str], list[MartSuite]] = {}
    for spec in MART_SUITES if suites is None else suites:
        groups.setdefault((spec.asset_key, spec.check), []).append(spec)
    for (key, check), specs in groups.items():
        if len({s.blocking for s in specs}) > 1:
            raise ValueError(f"suites of check {'/'.join(key)}:{check} disagree on blocking")
    return groups


def validate_marts(
    settings: Settings, specs: list[MartSuite], run_name: str = "manual"
) -> list[MartResult]:
    """Read each suite's frame (read-only) and run the suites in one GX context."""
    params = mart_params(settings)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        frames = [spec.read(con, params) for spec in specs]
    finally:
        con.close()
    runs = [
        SuiteRun(spec.suite, spec.table, frame, list(spec.expectations), spec.index_columns)
        for spec, frame in zip(specs, frames, strict=True)
    ]
    outcomes = run_suites(runs, settings.warehouse, run_name)
    return [
        MartResult(spec, outcome, frame)
        for spec, outcome, frame in zip(specs, outcomes, frames, strict=True)
    ]


def validate_mart(settings: Settings, spec: MartSuite, run_name: str = "manual") -> SuiteOutcome:
    return validate_marts(settings, [spec], run_name)[0].outcome
