"""Run a build's dbt data tests (the marts' checks) against a warehouse, with faults seeded.

A ``dbt build`` leaves ``target/manifest.json`` with every data test's compiled SQL (the
query ``dbt test`` runs, rows = failures).  :func:`failing_tests` runs exactly those
queries on a DuckDB connection, so a test can seed a fault inside a transaction, see
which dbt tests fail, and roll back: no dbt process per fault.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

MART_MODELS = (
    "dim_measure",
    "fct_measure_quarter",
    "fct_target_status",
    "fct_missing_returns",
    "fct_published_reconciliation",
)


def compiled_tests(target: Path, models: tuple[str, ...] = MART_MODELS) -> dict[str, str]:
    """name -> compiled SQL of every data test attached to one of ``models``."""
    manifest = json.loads((Path(target) / "manifest.json").read_text())
    tests = {
        node["name"]: node["compiled_code"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("attached_node") or "").rsplit(".", 1)[-1] in models
    }
    assert tests, f"no compiled dbt tests for {models} in {target}"
    return tests


def failing_tests(con: duckdb.DuckDBPyConnection, tests: dict[str, str]) -> dict[str, int]:
    """name -> failing rows, for each test whose query returns rows."""
    failed = {}
    for name, sql in tests.items():
        rows = con.execute(f"select count(*) from ({sql}) as failures").fetchone()[0]
        if rows:
            failed[name] = rows
    return failed


def failing_with_fault(warehouse: Path, tests: dict[str, str], sql: str) -> dict[str, int]:
    """Seed ``sql`` in a transaction, run the tests, roll back."""
    con = duckdb.connect(str(warehouse))
    try:
        con.begin()
        con.execute(sql)
        return failing_tests(con, tests)
    finally:
        con.rollback()
        con.close()


def copy_warehouse(source: Path, folder: Path) -> Path:
    """A copy under the same file name (the compiled SQL names the catalogue by it)."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / Path(source).name
    shutil.copy2(source, copy)
    wal = Path(f"{source}.wal")
    if wal.exists():
        shutil.copy2(wal, f"{copy}.wal")
    return copy
