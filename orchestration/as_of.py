"""Deliveries received after the as-of date: loaded, but not counted, and said so.

A run as of ``CSP_AS_OF`` counts only what had been received by then (a replay must
reproduce what was known that day).  The rule lives in dbt, in
``stg_ingest__load_log.is_delivered`` (a loaded or superseded file received on or
before the as-of date); this module only reads its result, so a file is listed here
exactly when the marts leave it out.

``deliveries_after_as_of(con)`` takes a connection to the warehouse (the built
staging view) and returns one ``LateDelivery`` per feed; ``describe_after_as_of`` says
it in one sentence (run summary, report notes) or a markdown list (Dagster metadata).
``write_meta_table`` / ``read_meta_table`` carry the list into the serving copy (as
``meta.deliveries_after_as_of``) for the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

LEDGER_VIEW = "staging.stg_ingest__load_log"

AFTER_AS_OF_SQL = """
select
    feed_name,
    count(*) as files,
    min(received_on) as first_received,
    list(distinct strftime(period_start, '%Y-%m') order by strftime(period_start, '%Y-%m'))
        filter (where period_start is not null and period_end is not null
                and date_trunc('month', period_start) = date_trunc('month', period_end))
        as months,
    list(distinct strftime(period_start, '%Y-%m-%d') || ' to ' || strftime(period_end, '%Y-%m-%d')
         order by strftime(period_start, '%Y-%m-%d') || ' to ' || strftime(period_end, '%Y-%m-%d'))
        filter (where period_start is not null and period_end is not null
                and date_trunc('month', period_start) <> date_trunc('month', period_end))
        as ranges
from {view}
where load_status in ('loaded', 'superseded') and not is_delivered
group by feed_name
order by feed_name
"""


@dataclass(frozen=True)
class LateDelivery:
    """The files of one feed received after the as-of date, and the periods they cover."""

    feed: str
    files: int
    first_received: date
    periods: tuple[str, ...]  # '2017-01' for a month, '2017-01-01 to 2017-03-31' otherwise

    def sentence(self) -> str:
        files = f"{self.files} file{'s' if self.files != 1 else ''}"
        periods = f" ({', '.join(self.periods)})" if self.periods else ""
        return f"{self.feed}: {files}{periods}"


def deliveries_after_as_of(
    con: duckdb.DuckDBPyConnection, database: str | None = None
) -> list[LateDelivery]:
    """Files loaded but received after the as-of date of the last dbt build, by feed
    (``database``: the warehouse's name when it is attached to ``con``).  Empty when
    the staging view has not been built yet."""
    exists = con.execute(
        "select count(*) from duckdb_views() where schema_name = 'staging'"
        " and view_name = 'stg_ingest__load_log' and (? is null or database_name = ?)",
        [database, database],
    ).fetchone()[0]
    if not exists:
        return []
    view = f'"{database}".{LEDGER_VIEW}' if database else LEDGER_VIEW
    return [
        LateDelivery(feed, files, first, tuple(months or ()) + tuple(ranges or ()))
        for feed, files, first, months, ranges in con.execute(
            AFTER_AS_OF_SQL.format(view=view)
        ).fetchall()
    ]


def describe_after_as_of(
    deliveries: list[LateDelivery], as_of: date, *, markdown: bool = False
) -> str:
    """ "3 deliveries received after the as-of date 2017-05-31 are not counted: …"."""
    files = sum(d.files for d in deliveries)
    if not files:
        return f"Every delivery loaded had been received by the as-of date {as_of.isoformat()}."
    head = (
        f"{files} deliver{'ies' if files != 1 else 'y'} received after the as-of date"
        f" {as_of.isoformat()} {'are' if files != 1 else 'is'} not counted"
        " (run with a later CSP_AS_OF to count them)"
    )
    if markdown:
        return head + ":\n\n" + "\n".join(f"- {d.sentence()}" for d in deliveries)
    return head + ": " + "; ".join(d.sentence() for d in deliveries)


# The serving copy (what the report reads) has no staging schema: the publisher writes
# the list beside meta.publication, the report reads it back.
META_TABLE = "meta.deliveries_after_as_of"
PERIOD_SEPARATOR = ", "
META_COLUMNS = {
    "feed": "Feed (landing subfolder) of the files.",
    "files": "Files of the feed loaded but received after the as-of date, so not counted.",
    "first_received": "Date the first of them was received.",
    "periods": "Months (yyyy-mm) or date ranges the files cover, comma-separated.",
}
META_DESCRIPTION = (
    "Deliveries loaded but received after the as-of date of this publication: not counted"
    " in any figure (a replay reproduces what was known that day); one row per feed."
)


def write_meta_table(con: duckdb.DuckDBPyConnection, deliveries: list[LateDelivery]) -> None:
    """``meta.deliveries_after_as_of`` in ``con`` (schema ``meta`` must exist)."""
    con.execute(
        f"create or replace table {META_TABLE}"
        " (feed varchar, files integer, first_received date, periods varchar)"
    )
    for d in deliveries:  # periods as text: BI drivers (ODBC) do not map LIST columns
        con.execute(
            f"insert into {META_TABLE} values (?, ?, ?, ?)",
            [d.feed, d.files, d.first_received, PERIOD_SEPARATOR.join(d.periods)],
        )


def read_meta_table(con: duckdb.DuckDBPyConnection) -> list[LateDelivery]:
    """What ``write_meta_table`` wrote; empty for a copy published without it."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'meta'"
        " and table_name = 'deliveries_after_as_of'"
    ).fetchone()[0]
    if not exists:
        return []
    rows = con.execute(f"select * from {META_TABLE} order by feed").fetchall()
    return [
        LateDelivery(feed, files, first, tuple(periods.split(PERIOD_SEPARATOR)) if periods else ())
        for feed, files, first, periods in rows
    ]
