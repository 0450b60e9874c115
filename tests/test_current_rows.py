"""Row-level "latest delivery wins" is one order (docs/architecture.md): dbt staging's
macro ``latest_delivery`` keeps the row the GX contract suite treats as current, and the
GX volume counts that same row (issue 11).

The raw tables and ledger are the real DDL (``ingest.schema``) in an in-memory DuckDB; the
macro is rendered from ``dbt_project/macros/latest_delivery.sql`` as dbt renders it
(plain Jinja), so a change of order on either side fails here.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import jinja2
import pytest

from expectations.feed_frames import checked_rows_ctes, volume_sql
from ingest.feeds import FEEDS
from ingest.schema import ensure_schema

MACROS = Path(__file__).resolve().parents[1] / "dbt_project" / "macros" / "latest_delivery.sql"
FEED = FEEDS["police_asb_incidents"]

# (load_id, received_at): load 3 was loaded after load 2 but received before it, and
# loads 4 and 5 were received at the same moment (load id breaks the tie)
LOADS = [
    (1, datetime(2017, 1, 5)),
    (2, datetime(2017, 2, 20)),
    (3, datetime(2017, 2, 10)),
    (4, datetime(2017, 3, 1)),
    (5, datetime(2017, 3, 1)),
]
# (incident_ref, load_id, reported_at): every later load re-delivers January 2017
ROWS = [
    ("A", 1, datetime(2017, 1, 3)),
    ("A", 2, datetime(2017, 1, 4)),
    ("A", 3, datetime(2017, 1, 5)),  # received before load 2: load 2's row wins
    ("B", 4, datetime(2017, 1, 7)),
    ("B", 5, datetime(2017, 1, 8)),  # same delivery time as load 4: the higher id wins
    ("C", 3, datetime(2017, 1, 9)),
]
EXPECTED = {("A", 2), ("B", 5), ("C", 3)}


def latest_delivery(partition_by: str) -> str:
    """The staging macro rendered as dbt renders it."""
    template = jinja2.Environment().from_string(
        MACROS.read_text(encoding="utf-8") + "{{ latest_delivery(partition_by) }}"
    )
    return template.render(partition_by=partition_by)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_schema(con)
    for load_id, received in LOADS:
        con.execute(
            "insert into raw.load_log (load_id, feed, file_name, sha256, received_at,"
            " loaded_at, rows_loaded, period_start, period_end, status)"
            " values (?, ?, ?, 'x', ?, ?, 1, date '2017-01-01', date '2017-01-31', 'loaded')",
            [load_id, FEED.name, f"load{load_id}.csv", received, datetime(2017, 4, load_id)],
        )
    for source_row, (ref, load_id, reported) in enumerate(ROWS, start=2):
        con.execute(
            f"insert into {FEED.table} (incident_ref, reported_at, asb_category, ward_code,"
            " _load_id, _file_name, _sha256, _loaded_at, _source_row)"
            " values (?, ?, 'Nuisance', 'W1', ?, 'f.csv', 'x', now(), ?)",
            [ref, reported, load_id, source_row],
        )
    return con


def test_staging_keeps_the_latest_delivery_per_key(con) -> None:
    """What stg_police__asb_incidents does with the macro, over the same rows."""
    winners = con.execute(
        f"""
        select incident_ref, load_id from (
            select t.incident_ref, l.load_id, l.received_at as delivered_at
            from {FEED.table} as t join raw.load_log as l on t._load_id = l.load_id
        )
        {latest_delivery("incident_ref")}
        """
    ).fetchall()
    assert set(winners) == EXPECTED


def test_gx_exempts_every_row_but_the_staging_winner(con) -> None:
    """The contract suite's current rows: the rows it does not exempt as re-delivered are
    exactly the rows staging keeps, and no key is a duplicate."""
    ctes = checked_rows_ctes(FEED)
    kept = con.execute(
        f"{ctes} select incident_ref, _load_id from checked where _natural_key is not null",
        {"feed": FEED.name},
    ).fetchall()
    duplicates = con.execute(f"{ctes} select * from dup_keys", {"feed": FEED.name}).fetchall()
    assert set(kept) == EXPECTED
    assert duplicates == []


def test_gx_volume_counts_the_staging_winners(con) -> None:
    rows = con.execute(
        f"select period, rows from ({volume_sql(FEED)}) where period = '2016/17 Q4'",
        {"feed": FEED.name},
    ).fetchall()
    assert rows == [("2016/17 Q4", len(EXPECTED))]


def test_a_later_load_that_does_not_redeliver_the_month_is_a_duplicate(con) -> None:
    """An id reused in a load whose period does not cover the earlier row's date."""
    con.execute("begin")
    try:
        con.execute(
            "insert into raw.load_log (load_id, feed, file_name, sha256, received_at,"
            " loaded_at, rows_loaded, period_start, period_end, status) values"
            " (6, ?, 'load6.csv', 'x', ?, ?, 1, date '2017-02-01', date '2017-02-28', 'loaded')",
            [FEED.name, datetime(2017, 3, 5), datetime(2017, 4, 6)],
        )
        con.execute(
            f"insert into {FEED.table} (incident_ref, reported_at, asb_category, ward_code,"
            " _load_id, _file_name, _sha256, _loaded_at, _source_row)"
            " values ('C', ?, 'Nuisance', 'W1', 6, 'f.csv', 'x', now(), 2)",
            [date(2017, 2, 3)],
        )
        duplicates = con.execute(
            f"{checked_rows_ctes(FEED)} select * from dup_keys", {"feed": FEED.name}
        ).fetchall()
    finally:
        con.execute("rollback")
    assert duplicates == [("C",)]
