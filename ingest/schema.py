"""DDL of the ``raw`` schema: one table per feed plus the ``raw.load_log`` ledger."""

from __future__ import annotations

import duckdb

from ingest.feeds import FEEDS, Feed

LOAD_METADATA = (
    ("_load_id", "BIGINT NOT NULL"),
    ("_file_name", "VARCHAR NOT NULL"),
    ("_sha256", "VARCHAR NOT NULL"),
    ("_loaded_at", "TIMESTAMP NOT NULL"),
    ("_source_row", "BIGINT NOT NULL"),
)

# police.uk rows carry the local authority they were matched to by LSOA name
AREA_COLUMNS = (("area_code", "VARCHAR"), ("area_name", "VARCHAR"))

LOAD_LOG_DDL = """
create table if not exists raw.load_log (
    load_id bigint primary key,
    feed varchar,
    file_name varchar not null,
    sha256 varchar not null,
    size_bytes bigint,
    received_at timestamp,
    loaded_at timestamp not null,
    rows_read bigint,
    rows_loaded bigint not null default 0,
    rows_outside_area bigint not null default 0,
    period_start date,
    period_end date,
    scope varchar,
    status varchar not null,
    error varchar,
    notes varchar,
    superseded_by bigint
)
"""


# the fingerprint of the pseudonym key the warehouse's hashes were made with (one row)
KEY_FINGERPRINT_DDL = """
create table if not exists raw.pseudonym_key (
    fingerprint varchar not null,
    recorded_at timestamp not null
)
"""


def feed_columns(feed: Feed) -> list[tuple[str, str]]:
    cols = [(c.raw_name, c.sql_type) for c in feed.columns]
    if feed.area_filtered:
        cols += list(AREA_COLUMNS)
    return cols + list(LOAD_METADATA)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute("create sequence if not exists raw.load_id_seq start 1")
    con.execute(LOAD_LOG_DDL)
    con.execute(KEY_FINGERPRINT_DDL)
    for feed in FEEDS.values():
        cols = ",\n    ".join(f'"{name}" {typ}' for name, typ in feed_columns(feed))
        con.execute(f"create table if not exists {feed.table} (\n    {cols}\n)")
