"""Publish the marts for BI tools: a read-only serving DuckDB file and Parquet files.

BI tools never open the warehouse the pipeline writes (DuckDB allows one writing
process and blocks other processes meanwhile).  After every build whose blocking
checks pass, the ``serving`` asset copies schema ``marts`` to

- ``serving.duckdb`` beside the warehouse (schemas ``marts`` and ``meta``), and
- ``parquet/<mart>.parquet`` in the same folder, one file per mart,

each written under a temporary name in the same folder and renamed over the old file
(``os.replace``, atomic on POSIX and on Windows for files that are not open there).
A reader that has the old file open keeps reading it (its file handle still points at
the old inode) until it reconnects; a reader that connects afterwards gets the new
file; nobody ever sees half a file.  The warehouse is attached read-only for the copy.

A failed build publishes nothing: ``serving`` depends on every mart, so when dbt (a
model or a test) or a blocking check upstream fails, Dagster skips it and the last
good copy stays.  See docs/report.md.

The serving file is written in DuckDB's v1.0.0 storage format (readable by DuckDB
0.10 and every 1.x driver) and keeps the warehouse's table and column comments (the
dbt model descriptions); the Parquet files are Snappy-compressed and carry the same
descriptions as key-value metadata.  With ``CSP_PUBLISH_POSTGRES`` set, the serving
file is then copied to PostgreSQL (``orchestration.publish_postgres``).

Only after every publication succeeded does ``serving`` record what the build was made
from (``warehouse.last_build.json``, written atomically): the nightly schedule skips a
night only when that build is published.  A full disk while publishing raises
``DiskFull`` naming the file, leaves the last copy in place and no temporary behind,
and the next run republishes (docs/operations.md).

(No ``from __future__ import annotations`` here: Dagster inspects the context annotation.)
"""

import contextlib
import json
import os
import stat
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb

from ingest.config import Settings
from ingest.ledger import ledger_last_load_id
from ingest.warehouse_file import atomic_write_text, disk_full, duckdb_config
from orchestration import as_of as as_of_module
from orchestration.changes import build_fingerprint, build_state_path
from orchestration.dbt_assets import csp_dbt_assets, markdown_text
from orchestration.publish_postgres import ENV, postgres_url, publish_to_postgres
from orchestration.resources import WAREHOUSE_POOL, WarehouseSettings

SERVING_FILE = "serving.duckdb"
PARQUET_FOLDER = "parquet"
MARTS_SCHEMA = "marts"
GROUP = "publish"
SERVING_KEY = dg.AssetKey(["serving"])
MART_KEYS = sorted(
    (key for key in csp_dbt_assets.keys if key.path[0] == MARTS_SCHEMA),
    key=lambda key: key.to_user_string(),
)
# DuckDB 2.x writes its own storage format unless told otherwise, which DuckDB 1.x (and
# the ODBC/JDBC drivers BI tools use, which lag the Python package) cannot open.  The
# v1.0.0 format is readable by every DuckDB from 0.10 on (docs/bi.md).
SERVING_STORAGE_VERSION = "v1.0.0"
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH  # 0o444


def serving_path(warehouse: Path | str) -> Path:
    """``serving.duckdb`` beside the warehouse file."""
    return Path(warehouse).resolve().with_name(SERVING_FILE)


def parquet_folder(warehouse: Path | str) -> Path:
    """``parquet/`` beside the warehouse file."""
    return Path(warehouse).resolve().parent / PARQUET_FOLDER


@dataclass(frozen=True)
class Publication:
    serving: Path
    parquet: dict[str, Path]
    rows: dict[str, int]
    published_at: datetime
    seconds: float


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _temporary(path: Path, token: str) -> Path:
    return path.with_name(f"{path.name}.tmp-{token}")


def remove_stale_temporaries(folder: Path, name: str) -> list[Path]:
    """Temporary files a crashed publication left behind (the run is the single writer,
    so no other publication can be using them)."""
    removed = []
    for path in folder.glob(f"{name}.tmp-*"):
        with contextlib.suppress(FileNotFoundError):
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
            path.unlink()
            removed.append(path)
    return removed


def mart_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ?"
        " order by table_name",
        [catalog, MARTS_SCHEMA],
    ).fetchall()
    return [row[0] for row in rows]


@dataclass(frozen=True)
class MartDocs:
    """A mart's description and its columns' (the dbt model YAML, persisted by dbt as
    the warehouse's table and column comments)."""

    description: str
    columns: dict[str, str]


def mart_docs(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> MartDocs:
    comment = con.execute(
        "select comment from duckdb_tables() where database_name = ? and schema_name = ?"
        " and table_name = ?",
        [catalog, MARTS_SCHEMA, table],
    ).fetchone()
    columns = con.execute(
        "select column_name, comment from duckdb_columns() where database_name = ?"
        " and schema_name = ? and table_name = ? order by column_index",
        [catalog, MARTS_SCHEMA, table],
    ).fetchall()
    return MartDocs((comment[0] if comment else None) or "", {c: d or "" for c, d in columns})


def _comment_on(con: duckdb.DuckDBPyConnection, table: str, docs: MartDocs) -> None:
    con.execute(f'comment on table {MARTS_SCHEMA}."{table}" is {_sql_string(docs.description)}')
    for column, description in docs.columns.items():
        con.execute(
            f'comment on column {MARTS_SCHEMA}."{table}"."{column}" is {_sql_string(description)}'
        )


def _copy_marts(con: duckdb.DuckDBPyConnection, warehouse: Path) -> dict[str, MartDocs]:
    con.execute(f"attach {_sql_string(str(warehouse))} as warehouse (read_only)")
    tables = mart_tables(con, "warehouse")
    if not tables:
        raise RuntimeError(
            f"{warehouse} has no tables in schema {MARTS_SCHEMA}: nothing to publish"
        )
    con.execute(f"create schema {MARTS_SCHEMA}")
    docs = {}
    for table in tables:
        con.execute(
            f'create table {MARTS_SCHEMA}."{table}" as'
            f' select * from warehouse.{MARTS_SCHEMA}."{table}"'
        )
        docs[table] = mart_docs(con, "warehouse", table)
        _comment_on(con, table, docs[table])
    con.execute("detach warehouse")
    return docs


PUBLICATION_DOCS = MartDocs(
    "One row: when the marts were published and from which build.",
    {
        "published_at": "When the publication was made (UTC).",
        "as_of": "As-of date of the build (CSP_AS_OF, or the day it ran).",
        "area": "Area of the build (CSP_AREA: a local authority code, or all).",
        "source_warehouse": "File name of the warehouse the marts were copied from.",
        "table_count": "How many marts were published (rows of meta.published_table).",
        "row_count": "Rows published in all marts together.",
    },
)
AFTER_AS_OF_DOCS = MartDocs(as_of_module.META_DESCRIPTION, as_of_module.META_COLUMNS)
PUBLISHED_TABLE_DOCS = MartDocs(
    "One row per published mart: its name, rows and description.",
    {
        "table_name": "Name of the mart in schema marts (and of its Parquet file).",
        "row_count": "Rows the mart holds in this publication.",
        "description": "What the mart holds (the dbt model description).",
    },
)


def _write_publication_row(
    con: duckdb.DuckDBPyConnection,
    published_at: datetime,
    warehouse: Path,
    as_of: date | None,
    area: str | None,
    rows: dict[str, int],
    docs: dict[str, MartDocs],
) -> None:
    """``meta.publication`` (one row, scalar columns) and ``meta.published_table`` (one
    row per mart): types every ODBC/JDBC driver maps, and no server paths."""
    con.execute("create schema meta")
    con.execute(
        "create table meta.publication (published_at timestamp, as_of date, area varchar,"
        " source_warehouse varchar, table_count integer, row_count bigint)"
    )
    con.execute(
        "insert into meta.publication values (?, ?, ?, ?, ?, ?)",
        [published_at, as_of, area, warehouse.name, len(rows), sum(rows.values())],
    )
    con.execute(
        "create table meta.published_table"
        " (table_name varchar, row_count bigint, description varchar)"
    )
    con.executemany(
        "insert into meta.published_table values (?, ?, ?)",
        [[t, n, docs[t].description] for t, n in rows.items()],
    )
    as_of_module.write_meta_table(con, as_of_module.deliveries_after_as_of(con, "warehouse"))
    for table, table_docs in (
        ("publication", PUBLICATION_DOCS),
        ("published_table", PUBLISHED_TABLE_DOCS),
        ("deliveries_after_as_of", AFTER_AS_OF_DOCS),
    ):
        con.execute(f"comment on table meta.{table} is {_sql_string(table_docs.description)}")
        for column, description in table_docs.columns.items():
            con.execute(f"comment on column meta.{table}.{column} is {_sql_string(description)}")


def _parquet_metadata(docs: MartDocs) -> str:
    """Parquet key-value metadata: ``description`` for the table and
    ``description:<column>`` for each column."""
    pairs = {"description": docs.description}
    pairs |= {f"description:{c}": d for c, d in docs.columns.items()}
    return "{" + ", ".join(f"{_sql_string(k)}: {_sql_string(v)}" for k, v in pairs.items()) + "}"


def _write_parquet(
    con: duckdb.DuckDBPyConnection, docs: dict[str, MartDocs], folder: Path, token: str
) -> dict[str, Path]:
    staged = {}
    for table, table_docs in docs.items():
        temporary = _temporary(folder / f"{table}.parquet", token)
        con.execute(
            f'copy {MARTS_SCHEMA}."{table}" to {_sql_string(str(temporary))}'
            f" (format parquet, compression snappy, kv_metadata {_parquet_metadata(table_docs)})"
        )
        staged[table] = temporary
    return staged


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def publish_marts(
    warehouse: Path | str, *, as_of: date | None = None, area: str | None = None
) -> Publication:
    """Copy schema ``marts`` of ``warehouse`` to the serving file and to Parquet, each
    written to a temporary file and then renamed over the published one."""
    started = time.monotonic()
    warehouse = Path(warehouse).resolve()
    serving, parquet = serving_path(warehouse), parquet_folder(warehouse)
    parquet.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(serving.parent, serving.name)
    for old in parquet.glob("*.parquet.tmp-*"):
        old.unlink(missing_ok=True)
    token = uuid.uuid4().hex
    staged_serving = _temporary(serving, token)
    published_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    staged_parquet: dict[str, Path] = {}
    try:
        with disk_full(staged_serving):
            con = duckdb.connect(config=duckdb_config())
        try:
            with disk_full(staged_serving):
                con.execute(
                    f"attach {_sql_string(str(staged_serving))} as serving"
                    f" (storage_version {_sql_string(SERVING_STORAGE_VERSION)})"
                )
                con.execute("use serving")
                docs = _copy_marts(con, warehouse)
                rows = {
                    t: con.execute(f'select count(*) from {MARTS_SCHEMA}."{t}"').fetchone()[0]
                    for t in docs
                }
                _write_publication_row(con, published_at, warehouse, as_of, area, rows, docs)
            with disk_full(parquet):
                staged_parquet = _write_parquet(con, docs, parquet, token)
            with disk_full(staged_serving):
                con.execute("use memory")
                con.execute("detach serving")  # checkpoints: no WAL is left
        finally:
            con.close()
        staged_serving.chmod(READ_ONLY)
        os.replace(staged_serving, serving)
        published = {}
        for table, temporary in staged_parquet.items():
            published[table] = parquet / f"{table}.parquet"
            os.replace(temporary, published[table])
        _fsync_folder(serving.parent)
        _fsync_folder(parquet)
    finally:
        for leftover in [staged_serving, *staged_parquet.values()]:
            if leftover.exists():
                leftover.chmod(leftover.stat().st_mode | stat.S_IWUSR)
                leftover.unlink()
        Path(f"{staged_serving}.wal").unlink(missing_ok=True)
    return Publication(serving, published, rows, published_at, time.monotonic() - started)


def record_published_build(settings: Settings) -> Path:
    """Write (atomically) what the published build was made from; the nightly schedule
    compares it with the ledger (``orchestration.changes.nothing_to_do``)."""
    fingerprint = build_fingerprint(settings, ledger_last_load_id(settings.warehouse))
    path = build_state_path(settings)
    atomic_write_text(path, json.dumps(fingerprint, sort_keys=True))
    return path


@dg.asset(
    key=SERVING_KEY,
    deps=MART_KEYS,
    group_name=GROUP,
    kinds={"duckdb", "parquet", "postgres"},
    pool=WAREHOUSE_POOL,
    description=markdown_text(
        "Read-only copy of the marts for BI tools: serving.duckdb beside the"
        " warehouse and parquet/<mart>.parquet, and schemas marts and meta of the PostgreSQL"
        " database CSP_PUBLISH_POSTGRES when it is set; each replaced atomically after each"
        " good build."
    ),
)
def serving(context: dg.AssetExecutionContext, warehouse: WarehouseSettings):
    settings = warehouse.settings()
    publication = publish_marts(
        settings.warehouse, as_of=settings.effective_as_of, area=settings.area_code
    )
    url = postgres_url()
    if url:
        postgres_rows = publish_to_postgres(publication.serving, url)
        context.log.info("published %d tables to PostgreSQL", len(postgres_rows))
    record_published_build(settings)  # only once every target is published
    context.log.info(
        "published %d marts to %s and %s in %.1fs",
        len(publication.rows),
        publication.serving,
        parquet_folder(settings.warehouse),
        publication.seconds,
    )
    table = "\n".join(
        f"| `{name}` | {rows:,} | `{publication.parquet[name].name}` |"
        for name, rows in publication.rows.items()
    )
    return dg.MaterializeResult(
        metadata={
            "serving_file": dg.MetadataValue.path(str(publication.serving)),
            "parquet_folder": dg.MetadataValue.path(str(parquet_folder(settings.warehouse))),
            "published_at": dg.MetadataValue.text(
                f"{publication.published_at:%Y-%m-%d %H:%M:%S} UTC"
            ),
            "marts": dg.MetadataValue.md(f"| mart | rows | parquet |\n|---|---:|---|\n{table}"),
            "dagster/row_count": dg.MetadataValue.int(sum(publication.rows.values())),
            "seconds": dg.MetadataValue.float(round(publication.seconds, 2)),
            "postgres": dg.MetadataValue.text("published" if url else f"not set ({ENV})"),
        }
    )


publish_assets = [serving]

__all__ = [
    "MART_KEYS",
    "SERVING_KEY",
    "Publication",
    "parquet_folder",
    "publish_assets",
    "publish_marts",
    "serving",
    "serving_path",
]
