"""Publish the marts to PostgreSQL, for BI tools that connect to a database server.

When ``CSP_PUBLISH_POSTGRES`` holds a libpq URL (``postgresql://user@host:5432/db``),
the ``serving`` asset copies the just-published ``serving.duckdb`` (schemas ``marts``
and ``meta``, with their table and column comments) to that database:

1. each schema is loaded (``COPY ... FROM STDIN``) under a new name,
   ``<schema>_new_<token>``, invisible to readers that query ``marts.x``;
2. one transaction takes ``ACCESS EXCLUSIVE`` locks on every published table, renames
   the old schemas away, renames the new ones in and drops the old ones.  A reader's
   statement locks all its tables before it runs, so it reads either the whole old set
   or the whole new one; a reader that arrives during the swap waits (milliseconds)
   and then reads the new set.  The swap waits at most ``LOCK_TIMEOUT`` for a lock and
   otherwise gives way and retries, so a long-running reader delays the publication,
   never the other way round, and PostgreSQL never has to break a deadlock by
   cancelling a reader.

A failed load leaves the published schemas untouched; its ``*_new_*`` schema is dropped
then or at the next publication.  Grants for the read-only BI role come from the
database's default privileges (README, docs/bi.md), so the new tables are readable the
moment they are swapped in.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

ENV = "CSP_PUBLISH_POSTGRES"
SCHEMAS = ("marts", "meta")
LOCK_TIMEOUT = "200ms"  # below deadlock_timeout (1 s): the swap gives way first
SWAP_ATTEMPTS = 50
BATCH_ROWS = 10_000
STAGED = re.compile(r"^(marts|meta)_(new|old)_[0-9a-f]{12}$")
TYPES = {
    "VARCHAR": "text",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


class PostgresPublishError(RuntimeError):
    pass


def postgres_url() -> str | None:
    """The PostgreSQL target (``CSP_PUBLISH_POSTGRES``), or None: publish no copy there."""
    return os.environ.get(ENV) or None


def postgres_type(table: str, column: str, duckdb_type: str) -> str:
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.replace("DECIMAL", "numeric")
    try:
        return TYPES[duckdb_type]
    except KeyError:
        raise PostgresPublishError(
            f"{table}.{column}: DuckDB type {duckdb_type} has no PostgreSQL mapping in"
            " orchestration/publish_postgres.py TYPES"
        ) from None


def _drop_staged(pg: psycopg.Connection) -> None:
    """Schemas a failed or crashed publication left behind."""
    names = [n for (n,) in pg.execute("select nspname from pg_namespace") if STAGED.match(n)]
    for name in names:
        pg.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(name)))


def _load_table(
    src: duckdb.DuckDBPyConnection, pg: psycopg.Connection, schema: str, staged: str, table: str
) -> int:
    columns = src.execute(
        "select column_name, data_type, comment from duckdb_columns()"
        " where schema_name = ? and table_name = ? order by column_index",
        [schema, table],
    ).fetchall()
    comment = src.execute(
        "select comment from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()[0]
    target = sql.Identifier(staged, table)
    pg.execute(
        sql.SQL("create table {} ({})").format(
            target,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(postgres_type(table, c, t)))
                for c, t, _ in columns
            ),
        )
    )
    pg.execute(sql.SQL("comment on table {} is {}").format(target, sql.Literal(comment)))
    for name, _, description in columns:
        pg.execute(
            sql.SQL("comment on column {} is {}").format(
                sql.Identifier(staged, table, name), sql.Literal(description)
            )
        )
    rows = 0
    result = src.execute(f'select * from {schema}."{table}"')
    with pg.cursor().copy(sql.SQL("copy {} from stdin").format(target)) as copy:
        while batch := result.fetchmany(BATCH_ROWS):
            for row in batch:
                copy.write_row(row)
            rows += len(batch)
    return rows


def _swap(pg: psycopg.Connection, token: str) -> None:
    """Replace the published schemas by the staged ones in one transaction."""
    for attempt in range(SWAP_ATTEMPTS):
        try:
            with pg.transaction():
                pg.execute(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
                old = pg.execute(
                    "select schemaname, tablename from pg_tables where schemaname = any(%s)"
                    " order by 1, 2",
                    [list(SCHEMAS)],
                ).fetchall()
                if old:
                    pg.execute(
                        sql.SQL("lock table {} in access exclusive mode").format(
                            sql.SQL(", ").join(sql.Identifier(s, t) for s, t in old)
                        )
                    )
                existing = {s for (s,) in pg.execute("select nspname from pg_namespace")}
                for schema in SCHEMAS:
                    retired = sql.Identifier(f"{schema}_old_{token}")
                    if schema in existing:
                        pg.execute(
                            sql.SQL("alter schema {} rename to {}").format(
                                sql.Identifier(schema), retired
                            )
                        )
                    pg.execute(
                        sql.SQL("alter schema {} rename to {}").format(
                            sql.Identifier(f"{schema}_new_{token}"), sql.Identifier(schema)
                        )
                    )
                    if schema in existing:
                        pg.execute(sql.SQL("drop schema {} cascade").format(retired))
            return
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            time.sleep(0.05 * (1 + attempt % 10))
    raise PostgresPublishError(
        f"could not lock the published tables within {SWAP_ATTEMPTS} tries of"
        f" {LOCK_TIMEOUT}: a reader holds them; the previous publication stays"
    )


def publish_to_postgres(serving: Path | str, url: str) -> dict[str, int]:
    """Copy schemas ``marts`` and ``meta`` of the serving file to PostgreSQL at ``url``
    and swap them in atomically; returns the rows per ``schema.table``."""
    token = uuid.uuid4().hex[:12]
    src = duckdb.connect(str(serving), read_only=True)
    try:
        with psycopg.connect(url, autocommit=True) as pg:
            _drop_staged(pg)
            rows: dict[str, int] = {}
            try:
                with pg.transaction():
                    for schema in SCHEMAS:
                        staged = f"{schema}_new_{token}"
                        pg.execute(sql.SQL("create schema {}").format(sql.Identifier(staged)))
                        tables = src.execute(
                            "select table_name from duckdb_tables() where schema_name = ?"
                            " order by table_name",
                            [schema],
                        ).fetchall()
                        for (table,) in tables:
                            rows[f"{schema}.{table}"] = _load_table(src, pg, schema, staged, table)
                _swap(pg, token)
            except BaseException:
                if not pg.closed:
                    _drop_staged(pg)
                raise
            return rows
    finally:
        src.close()


__all__ = ["ENV", "PostgresPublishError", "postgres_url", "publish_to_postgres"]
