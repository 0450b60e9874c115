"""How far each feed's contract check has validated: ``raw.check_watermark``.

One row per feed: the highest ``raw.load_log.load_id`` of the feed that the last *passing*
``contract`` check covered, and a fingerprint of the contract suite it was checked
against.  The next check validates the rows of loads above it only (the cross-load rules,
natural key and volume, are computed over the whole table in DuckDB SQL either way).

Why a table in the warehouse rather than Dagster check metadata: the watermark describes
the warehouse's rows, so it lives and dies with them (a new or restored warehouse file
carries a watermark consistent with its data; a Dagster instance wiped or shared between
warehouses cannot disagree with it); it is read in the same read-only snapshot as the rows;
and it works the same from a Dagster run, a direct ``validate_feed`` call or a test with an
ephemeral Dagster instance.  The check runs in the warehouse's writer pool, so writing one
small row after the check is safe.

A failing check does not write, so the next run re-checks from the same place.  When the
contract changes (a column, an allowed value) the fingerprint changes and the next check
validates every current row again.  To force a full re-check by hand::

    delete from raw.check_watermark where feed = 'policeuk_street';
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from expectations.runner import Expect
from ingest.warehouse_file import open_warehouse

TABLE = "raw.check_watermark"
DDL = f"""
create table if not exists {TABLE} (
    feed varchar primary key,
    last_load_id bigint not null,
    suite_fingerprint varchar not null,
    rows_checked bigint,
    checked_at timestamp not null,
    run_name varchar
)
"""


@dataclass(frozen=True)
class Watermark:
    last_load_id: int
    suite_fingerprint: str


def fingerprint(expectations: list[Expect]) -> str:
    """A short digest of a suite's expectations: a changed contract means a full re-check."""
    text = json.dumps(
        [[e.type, e.kwargs] for e in expectations], sort_keys=True, default=str, indent=None
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read(con: duckdb.DuckDBPyConnection, feed: str) -> Watermark | None:
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'raw'"
        " and table_name = 'check_watermark'"
    ).fetchone()[0]
    if not exists:
        return None
    row = con.execute(
        f"select last_load_id, suite_fingerprint from {TABLE} where feed = ?", [feed]
    ).fetchone()
    return None if row is None else Watermark(int(row[0]), row[1])


def after(con: duckdb.DuckDBPyConnection, feed: str, suite_fingerprint: str) -> int:
    """Validate loads above this id: the watermark, or 0 when none or the suite changed."""
    mark = read(con, feed)
    if mark is None or mark.suite_fingerprint != suite_fingerprint:
        return 0
    return mark.last_load_id


def record(
    warehouse: Path | str,
    feed: str,
    last_load_id: int,
    suite_fingerprint: str,
    rows_checked: int,
    run_name: str,
) -> None:
    """After a passing check: everything up to ``last_load_id`` is validated."""
    con = open_warehouse(warehouse)
    try:
        con.execute("create schema if not exists raw")
        con.execute(DDL)
        con.execute(
            f"insert or replace into {TABLE} values (?, ?, ?, ?, ?, ?)",
            [
                feed,
                last_load_id,
                suite_fingerprint,
                rows_checked,
                datetime.now(UTC).replace(tzinfo=None),
                run_name,
            ],
        )
    finally:
        con.close()
