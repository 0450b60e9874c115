"""Back up and restore the warehouse.

    python -m orchestration.backup backup  [--warehouse W] [--to DIR] [--copy] [--keep N]
    python -m orchestration.backup restore --from DIR --warehouse NEW [--replace]

``backup`` opens the warehouse read-only (so it fails at once, with a clear message,
while a run is writing it) and writes ``DIR`` (default
``backups/warehouse-<UTC time>/`` beside the warehouse) with DuckDB's ``EXPORT
DATABASE`` (schema SQL plus one Parquet file per table: readable by any later DuckDB
version, so it is also the way across a DuckDB upgrade) and a ``manifest.json`` with the
row count of every table.  ``--copy`` copies the ``.duckdb`` file instead (same DuckDB
version only).  ``--keep N`` then deletes all but the newest N ``warehouse-*`` folders
of the default ``backups/`` folder.

``restore`` rebuilds a warehouse from such a folder into a temporary file beside
``NEW``, checks every table's row count against the manifest, and only then renames
it to ``NEW``.  It creates the schema like ``IMPORT DATABASE`` does, except that views
are retried until those they read exist (DuckDB exports views in name order, not
dependency order, so a plain ``IMPORT DATABASE`` of a dbt warehouse fails), and reads
the Parquet files from wherever the folder now is.  It refuses to overwrite ``NEW``
unless ``--replace`` is given; stop the daemon (or make sure no run is going) first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest.config import Settings

MANIFEST = "manifest.json"
COPY_NAME = "warehouse.duckdb"


class BackupError(Exception):
    pass


def _open_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise BackupError(f"no warehouse at {warehouse}")
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as error:
        raise BackupError(
            f"{warehouse} is being written by a run (DuckDB lock): back up when no run is"
            f" going ({error})"
        ) from error


def _table_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name ="
        " current_database() order by all"
    ).fetchall()
    return {
        f"{schema}.{table}": con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        for schema, table in names
    }


def backup(warehouse: Path | str, target: Path | str | None = None, copy: bool = False) -> Path:
    warehouse = Path(warehouse).resolve()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = Path(target or warehouse.parent / "backups" / f"warehouse-{stamp}").resolve()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} exists and is not empty")
    con = _open_read_only(warehouse)
    try:
        rows = _table_rows(con)
        target.mkdir(parents=True, exist_ok=True)
        if copy:  # the read-only connection keeps writers out while the file is copied
            shutil.copy2(warehouse, target / COPY_NAME)
        else:
            con.execute(f"export database '{target}' (format parquet)")
        version = con.execute("select version()").fetchone()[0]
    finally:
        con.close()
    manifest = {
        "warehouse": str(warehouse),
        "directory": str(target),
        "made_at": stamp,
        "method": "copy" if copy else "export",
        "duckdb_version": version,
        "tables": rows,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return target


def prune(backups: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` ``warehouse-<time>`` folders in ``backups``."""
    made = sorted(p for p in backups.glob("warehouse-*") if (p / MANIFEST).exists())
    old = made[: max(len(made) - keep, 0)]
    for folder in old:
        shutil.rmtree(folder)
    return old


def _create_schema(con: duckdb.DuckDBPyConnection, schema_sql: str) -> None:
    pending = [s.query for s in duckdb.extract_statements(schema_sql)]
    while pending:
        failed = []
        for statement in pending:
            try:
                con.execute(statement)
            except duckdb.CatalogException:
                if not statement.lstrip().upper().startswith("CREATE VIEW"):
                    raise
                failed.append(statement)  # reads a view not created yet
        if len(failed) == len(pending):
            con.execute(failed[0])  # no progress: raise the real error
        pending = failed


def restore(source: Path | str, warehouse: Path | str, replace: bool = False) -> Path:
    source, warehouse = Path(source).resolve(), Path(warehouse).resolve()
    manifest = json.loads((source / MANIFEST).read_text())
    if warehouse.exists() and not replace:
        raise BackupError(f"{warehouse} exists: restore into a new path, or pass --replace")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    staged = warehouse.with_name(f".{warehouse.name}.restore-{uuid.uuid4().hex}")
    try:
        if manifest["method"] == "copy":
            shutil.copy2(source / COPY_NAME, staged)
            con = duckdb.connect(str(staged))
        else:
            con = duckdb.connect(str(staged))
            _create_schema(con, (source / "schema.sql").read_text())
            load = (source / "load.sql").read_text()
            load = load.replace(f"'{manifest['directory']}/", f"'{source}/")
            for statement in duckdb.extract_statements(load):
                con.execute(statement.query)
        try:
            restored = _table_rows(con)
            con.execute("checkpoint")
        finally:
            con.close()
        if restored != manifest["tables"]:
            differ = sorted(
                k
                for k in set(restored) | set(manifest["tables"])
                if restored.get(k) != manifest["tables"].get(k)
            )
            raise BackupError(f"restored tables differ from the backup's manifest: {differ}")
        os.replace(staged, warehouse)
    finally:
        staged.unlink(missing_ok=True)
        Path(f"{staged}.wal").unlink(missing_ok=True)
    return warehouse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("backup", help="export the warehouse to a folder")
    make.add_argument("--warehouse", help="default: CSP_WAREHOUSE")
    make.add_argument("--to", help="folder to create (default: backups/warehouse-<time>/)")
    make.add_argument("--copy", action="store_true", help="copy the file instead of exporting")
    make.add_argument("--keep", type=int, help="keep only the newest N default backups")
    back = sub.add_parser("restore", help="rebuild a warehouse from a backup folder")
    back.add_argument("--from", dest="source", required=True)
    back.add_argument("--warehouse", required=True, help="path of the restored warehouse")
    back.add_argument("--replace", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            folder = backup(args.warehouse or Settings.from_env().warehouse, args.to, args.copy)
            print(f"backup written to {folder}")
            if args.keep:
                for old in prune(folder.parent, args.keep):
                    print(f"removed old backup {old}")
        else:
            path = restore(args.source, args.warehouse, args.replace)
            print(f"warehouse restored to {path}")
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
