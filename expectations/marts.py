"""Mart suites: what the marts' dbt tests cannot say (schema ``marts``).

The marts' integrity (grain, keys, allowed values, completeness of the series x quarter
grid, percentages within 0-100, year to date) is the dbt tests' in the models' YAML
(``dbt_project/models/marts/*.yml``, ``tests/generic/``); dagster-dbt makes them asset
checks and ``dbt build`` skips what depends on a failing model.  Great Expectations here
only *lists*, as a visible suite with Data Docs:

``marts/fct_missing_returns`` ``missing_returns`` (WARN)
    the open returns of the current plan year (``catalogue.plan_year``: the fiscal year of
    the latest quarter due by the as-of date), every one listed by series, quarter,
    owning agency, status and days overdue, with a rollup by agency.  It goes green once
    the plan year's returns are in; earlier years stay in the mart (and its Data Docs
    validation history), not in the check.
``marts/fct_published_reconciliation`` ``expectations`` (WARN)
    the differences between the published report and the warehouse are the product:
    listed (both numbers) and counted, never failed.

A mart suite is a few lines: the table, the Dagster asset key of the dbt model that
builds it, its expectations and (``listing``) what of its frame goes into the check's
metadata.  ``orchestration/checks.py`` turns the entries of :data:`MART_SUITES` into
asset checks (``mart_checks``): the suites with the same asset key and ``check`` name
make one check.  A suite validates the table's rows, or a frame derived from it
(``frame``: a function of a read-only DuckDB connection and :class:`MartParams`).
A mart suite warns by default (``blocking=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import duckdb

from catalogue import statuses
from catalogue.plan_year import plan_year
from expectations.runner import Expect, SuiteOutcome, SuiteRun, expect, run_suites
from ingest.config import Settings
from ingest.warehouse_file import open_warehouse

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_CHECK = "expectations"
MISSING_RETURNS_CHECK = "missing_returns"

SERIES_QUARTER = ("measure_id", "series", "fiscal_year", "quarter")


@dataclass(frozen=True)
class MartParams:
    """What a derived frame may depend on: the run's as-of date."""

    as_of: date


FrameReader = Callable[[duckdb.DuckDBPyConnection, MartParams], "pd.DataFrame"]


@dataclass(frozen=True)
class Listing:
    """List every row of the suite's frame in the check's metadata (not GX's sample)."""

    key: str  # metadata key, e.g. "missing_returns"
    noun: str  # what the rows are, for the check description
    columns: tuple[tuple[str, str], ...]  # (frame column, table header)
    count_by: str | None = None  # summarise the rows by this column in the description
    # the words for a count_by value in the description (e.g. a status code's seed label)
    count_label: Callable[[str], str] | None = None
    # (frame column, header): a table of row counts per value, by count_by, in
    # metadata "<key>_by_<header>", e.g. the missing returns per owning agency
    rollup_by: tuple[str, str] | None = None
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


def mart_params(settings: Settings) -> MartParams:
    """The as-of date dbt was given for this warehouse (dbt_assets.dbt_vars)."""
    return MartParams(as_of=settings.effective_as_of)


# -- derived frames ------------------------------------------------------------------------


def missing_returns_frame(con: duckdb.DuckDBPyConnection, params: MartParams) -> pd.DataFrame:
    """The open returns of the current plan year (``catalogue.plan_year``), every area."""
    return con.execute(
        """
        select area_code, measure_id, series, fiscal_year, 'Q' || quarter as quarter, owner,
               status, days_overdue, due_date, received_date, note
        from marts.fct_missing_returns
        where fiscal_year = $plan_year
        order by fiscal_year, quarter, area_code, measure_id, series
        """,
        {"plan_year": plan_year(con, params.as_of)},
    ).df()


def reconciliation_frame(con: duckdb.DuckDBPyConnection, params: MartParams) -> pd.DataFrame:
    return con.execute(
        """
        select * from marts.fct_published_reconciliation
        order by fiscal_year, measure_id, series, period, figure, check_kind
        """
    ).df()


# -- the suites ----------------------------------------------------------------------------

fct_missing_returns = MartSuite(
    table="marts.fct_missing_returns",
    asset_key=("marts", "fct_missing_returns"),
    check=MISSING_RETURNS_CHECK,
    description="GX suite mart.fct_missing_returns (warning): no return of the current plan"
    " year (the fiscal year of the latest quarter due by the as-of date) is missing, declared"
    " not available, late or partial. When it warns, `missing_returns` lists each one by"
    " series, quarter, owning agency, status and days overdue, and `missing_returns_by_owner`"
    " counts them per agency. Earlier years stay in the mart.",
    frame=missing_returns_frame,
    index_columns=SERIES_QUARTER,
    expectations=(
        expect(
            "ExpectTableRowCountToEqual",
            value=0,
            description="every return of the plan year due by the as-of date arrived,"
            " complete, by its due date",
        ),
    ),
    listing=Listing(
        key="missing_returns",
        noun="returns due by the as-of date not received complete and on time",
        columns=(
            ("area_code", "area"),
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
        count_label=statuses.label,
        rollup_by=("owner", "owning agency"),
    ),
)

fct_published_reconciliation = MartSuite(
    table="marts.fct_published_reconciliation",
    asset_key=("marts", "fct_published_reconciliation"),
    description="GX suite mart.fct_published_reconciliation: a listing, never failed. The"
    " differences between the published report and the warehouse are the product, not a"
    " failure: `differences` lists them with both numbers.",
    frame=reconciliation_frame,
    index_columns=("measure_id", "series", "fiscal_year", "period", "figure"),
    # structure (grain, check_kind, figure) is the dbt model's tests: nothing to fail here
    expectations=(),
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
    con = open_warehouse(settings.warehouse, read_only=True)
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
