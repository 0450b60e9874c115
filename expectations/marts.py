"""Mart suites: completeness and consistency of the tables BI tools read (schema ``marts``).

A mart suite is a few lines: the table, the Dagster asset key of the dbt model that
builds it, and its expectations.  ``orchestration/checks.py`` turns every entry of
:data:`MART_SUITES` into an asset check (``mart_checks``).  For example::

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

Completeness gaps (a missing return) are expected in real data and are reported by the
marts themselves, so a mart suite warns by default (``blocking=False``); set
``blocking=True`` for a rule whose breach must stop publishing.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from expectations.runner import Expect, SuiteOutcome, SuiteRun, run_suites
from ingest.config import Settings


@dataclass(frozen=True)
class MartSuite:
    table: str  # schema-qualified, e.g. "marts.fct_measure_quarter"
    asset_key: tuple[str, ...]  # the dbt model's Dagster asset key
    expectations: tuple[Expect, ...]
    index_columns: tuple[str, ...] = ()  # columns that name an offending row
    blocking: bool = False
    description: str = ""

    @property
    def suite(self) -> str:
        return f"mart.{self.table.split('.')[-1]}"

    @property
    def check_name(self) -> str:
        return "expectations"


# One entry per mart table; none yet (the marts are being built in dbt_project/models/marts).
MART_SUITES: list[MartSuite] = []


def validate_mart(settings: Settings, spec: MartSuite, run_name: str = "manual") -> SuiteOutcome:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        frame = con.execute(f"select * from {spec.table}").df()
    finally:
        con.close()
    run = SuiteRun(spec.suite, spec.table, frame, list(spec.expectations), spec.index_columns)
    return run_suites([run], settings.warehouse, run_name)[0]
