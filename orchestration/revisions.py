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
another time is a new publication (unless its figures equal that quarter's last
publication: then nothing is appended, so re-running ``make run`` does not grow the
ledger); the same report quarter and time twice is refused by the table's primary key.

:func:`freeze_after_report` is what the ``quarterly_report`` asset calls once a report is
published: it takes the warehouse's writer lock (re-entrant inside ``make run``, which
holds it already; a scheduled report run waits for the nightly writer) and freezes the
figures from the serving copy the report was read from, i.e. the figures it showed.
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
    figures_from: str | Path | None = None,
) -> int:
    """Append the figures a report for ``area_code`` and ``fiscal_year`` Q``quarter``
    shows to the ledger; return the number of rows appended (0 when they equal the
    last publication of the same report quarter: nothing new to freeze).

    ``published_at`` defaults to now (UTC); ``as_of`` is the warehouse's as-of date,
    kept with each row for the record; ``figures_from`` a DuckDB file holding the marts
    the report was read from (the serving copy), else the warehouse's own marts.
    """
    if quarter not in (1, 2, 3, 4):
        raise RevisionLedgerError(f"quarter must be 1 to 4, not {quarter!r}")
    published = (published_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    figures = ", ".join(FIGURES)
    con = duckdb.connect(str(warehouse))
    marts = "marts"
    try:
        _require(con, LEDGER, "run dbt first: int_revisions__published_figures creates it")
        if figures_from is not None:
            con.execute("attach ? as shown (read_only)", [str(figures_from)])
            marts = "shown.marts"
        _require(con, f"{marts}.fct_measure_quarter", "run dbt first")
        try:
            con.execute("begin transaction")
            before = _count(con)
            con.execute(
                f"""
                create temp table staged as
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
                    from {marts}.fct_measure_quarter
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
            if _same_as_last(con):
                con.execute("rollback")
                return 0
            con.execute(f"insert into {LEDGER} by name select * from staged")
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


def _same_as_last(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the staged figures equal the last publication of the same report quarter."""
    row = con.execute(
        f"""
        with last as (
            select ledger.*
            from {LEDGER} as ledger
            semi join (select distinct area_code, report_fiscal_year, report_quarter
                       from staged) as key using (area_code, report_fiscal_year, report_quarter)
            qualify published_at = max(published_at) over ()
        ),
        select
            (select count(*) from last),
            (select count(*) from (
                (select measure_id, series, fiscal_year, quarter, figure, value from staged
                 except select measure_id, series, fiscal_year, quarter, figure, value from last)
                union all
                (select measure_id, series, fiscal_year, quarter, figure, value from last
                 except select measure_id, series, fiscal_year, quarter, figure, value from staged)
            ))
        """
    ).fetchone()
    return bool(row and row[0] and row[1] == 0)


def freeze_after_report(
    warehouse: str | Path,
    serving: str | Path,
    *,
    area_code: str,
    fiscal_year: str,
    quarter: int,
    as_of: date | None = None,
    published_at: datetime | None = None,
) -> int:
    """Freeze a just-published report's figures (read from ``serving``, the copy it was
    built from) under the warehouse's writer lock; the rows appended (0: unchanged)."""
    from orchestration.writer_lock import writer_lock

    with writer_lock(Path(warehouse), "quarterly report: freeze published figures"):
        return freeze_published_figures(
            warehouse,
            area_code=area_code,
            fiscal_year=fiscal_year,
            quarter=quarter,
            published_at=published_at,
            as_of=as_of,
            figures_from=serving,
        )


def _require(con: duckdb.DuckDBPyConnection, table: str, hint: str) -> None:
    *catalog, schema, name = table.split(".")
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ?"
        " and table_name = ? and (? is null or table_catalog = ?)",
        [schema, name, catalog[0] if catalog else None, catalog[0] if catalog else None],
    ).fetchall()
    if found[0][0] == 0:
        raise RevisionLedgerError(f"{table} does not exist: {hint}")


def _count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(f"select count(*) from {LEDGER}").fetchall()[0][0]
