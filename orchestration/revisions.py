"""Freeze the figures a published report showed, so later changes show as revisions.

When a quarterly report is published, :func:`freeze_published_figures` appends the
figures it shows (the home area's series for every quarter of the report's fiscal
year up to the report quarter, from ``marts.fct_measure_quarter``) to the append-only
ledger ``revisions.published_figures`` in the warehouse, keyed by report quarter and
publication time.  The ledger's table is created by the dbt model
``int_revisions__published_figures`` (its pre-hook holds the one DDL); the mart
``fct_figure_revisions`` lists every figure that changed since it was first published
and why, as far as the ingest ledger tells (docs/analysis.md, "Revision history").

Rows are never updated or deleted: a second freeze of the same report quarter at
another time is a new publication; the same report quarter and time twice is refused
by the table's primary key.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

LEDGER = "revisions.published_figures"

# the fct_measure_quarter columns the report prints, one ledger row each
FIGURES = (
    "value",
    "last_year_value",
    "change",
    "ytd_value",
    "ytd_last_year_value",
    "ytd_change",
)


class RevisionLedgerError(RuntimeError):
    """The figures cannot be frozen (ledger or marts missing, or already frozen)."""


def freeze_published_figures(
    warehouse: str | Path,
    *,
    area_code: str,
    fiscal_year: str,
    quarter: int,
    published_at: datetime | None = None,
    as_of: date | None = None,
) -> int:
    """Append the figures a report for ``area_code`` and ``fiscal_year`` Q``quarter``
    shows to the ledger; return the number of rows appended.

    ``published_at`` defaults to now (UTC); ``as_of`` is the warehouse's as-of date,
    kept with each row for the record.
    """
    if quarter not in (1, 2, 3, 4):
        raise RevisionLedgerError(f"quarter must be 1 to 4, not {quarter!r}")
    published = (published_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    figures = ", ".join(FIGURES)
    con = duckdb.connect(str(warehouse))
    try:
        _require(con, LEDGER, "run dbt first: int_revisions__published_figures creates it")
        _require(con, "marts.fct_measure_quarter", "run dbt first")
        try:
            con.execute("begin transaction")
            before = _count(con)
            con.execute(
                f"""
                insert into {LEDGER} by name
                select
                    $year as report_fiscal_year,
                    $quarter as report_quarter,
                    $published as published_at,
                    $as_of as as_of_date,
                    area_code,
                    area_name,
                    measure_id,
                    series,
                    fiscal_year,
                    quarter,
                    figure,
                    value,
                    data_status
                from (
                    select area_code, area_name, measure_id, series, fiscal_year,
                        quarter, data_status, {figures}
                    from marts.fct_measure_quarter
                    where area_code = $area and fiscal_year = $year and quarter <= $quarter
                ) unpivot include nulls (value for figure in ({figures}))
                """,
                {
                    "area": area_code,
                    "year": fiscal_year,
                    "quarter": quarter,
                    "published": published,
                    "as_of": as_of,
                },
            )
            appended = _count(con) - before
            if appended == 0:
                raise RevisionLedgerError(
                    f"marts.fct_measure_quarter has no rows for {area_code} {fiscal_year}"
                    f" Q1-Q{quarter}: nothing to freeze"
                )
            con.execute("commit")
        except duckdb.ConstraintException as exc:
            con.execute("rollback")
            raise RevisionLedgerError(
                f"{fiscal_year} Q{quarter} published at {published} is already frozen"
            ) from exc
        except Exception:
            con.execute("rollback")
            raise
        return appended
    finally:
        con.close()


def _require(con: duckdb.DuckDBPyConnection, table: str, hint: str) -> None:
    schema, name = table.split(".")
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    if found[0][0] == 0:
        raise RevisionLedgerError(f"{table} does not exist: {hint}")


def _count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(f"select count(*) from {LEDGER}").fetchall()[0][0]
