"""Publishing for BI beyond the DuckDB file: PostgreSQL, Parquet, old DuckDB readers.

Against a real PostgreSQL server started by the tests (tests/postgres_server.py):

- PostgreSQL holds every mart row for row as the serving copy, and every published
  column has a description in DuckDB, PostgreSQL and Parquet (Snappy);
- the read-only BI role set up as the README says can read and cannot write;
  SQLAlchemy lists the columns and ``pandas.read_sql`` reads, on both URLs;
- two readers (one connection held, one per query) query PostgreSQL in a loop during
  two publications: no error, and every answer is one complete publication;
- the serving file's header says DuckDB storage version 64 (v1.0.0 format), which
  DuckDB 0.10 and every 1.x reads (1.4.5 reads 64 to 67; 2.x writes 999 by default).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from orchestration.publish import publish_marts
from orchestration.publish_postgres import publish_to_postgres
from tests.test_publish import Pipeline, make_pipeline

BI_ROLE = "csp_bi"


@pytest.fixture
def pipeline(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Pipeline:
    return make_pipeline(tmp_path_factory, tmp_path, monkeypatch)


def published_tables(serving: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return con.execute(
            "select schema_name, table_name from duckdb_tables() order by 1, 2"
        ).fetchall()
    finally:
        con.close()


def duckdb_rows(serving: Path, table: str) -> Counter:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return Counter(con.execute(f"select * from {table}").fetchall())
    finally:
        con.close()


def postgres_rows(url: str, table: str) -> Counter:
    with psycopg.connect(url) as pg:
        return Counter(pg.execute(f"select * from {table}").fetchall())


def test_postgres_holds_every_mart_row_for_row_with_descriptions(
    pipeline: Pipeline, postgres_url: str
) -> None:
    rows = publish_to_postgres(pipeline.serving, postgres_url)

    tables = published_tables(pipeline.serving)
    assert {f"{s}.{t}" for s, t in tables} == set(rows)
    assert {"marts.fct_measure_quarter", "meta.publication"} <= set(rows)
    for schema, table in tables:
        name = f"{schema}.{table}"
        assert postgres_rows(postgres_url, name) == duckdb_rows(pipeline.serving, name), name
    with psycopg.connect(postgres_url) as pg:
        undocumented = pg.execute(
            "select c.table_schema, c.table_name, c.column_name from information_schema.columns c"
            " join pg_class k on k.relname = c.table_name"
            " join pg_namespace n on n.oid = k.relnamespace and n.nspname = c.table_schema"
            " where c.table_schema in ('marts', 'meta')"
            " and coalesce(col_description(k.oid, c.ordinal_position), '') = ''"
        ).fetchall()
        columns = pg.execute(
            "select count(*) from information_schema.columns"
            " where table_schema in ('marts', 'meta')"
        ).fetchone()[0]
        tables_undocumented = pg.execute(
            "select relname from pg_class k join pg_namespace n on n.oid = k.relnamespace"
            " where nspname in ('marts', 'meta') and relkind = 'r'"
            " and coalesce(obj_description(k.oid, 'pg_class'), '') = ''"
        ).fetchall()
    assert columns > 90 and undocumented == [] and tables_undocumented == []


def _parquet_rows(parquet) -> int:
    return duckdb.sql(f"select count(*) from read_parquet('{parquet}')").fetchall()[0][0]


def test_every_published_column_is_described_in_duckdb_and_parquet(pipeline: Pipeline) -> None:
    con = duckdb.connect(str(pipeline.serving), read_only=True)
    try:
        columns = con.execute(
            "select schema_name, table_name, column_name, comment from duckdb_columns()"
            " where schema_name in ('marts', 'meta')"
        ).fetchall()
        tables = con.execute(
            "select table_name, comment from duckdb_tables() where schema_name = 'marts'"
        ).fetchall()
    finally:
        con.close()
    assert len(columns) > 90
    assert [c[:3] for c in columns if not c[3]] == []
    assert [t for t, comment in tables if not comment] == []
    described = {(t, c): d for s, t, c, d in columns if s == "marts"}
    for table, comment in tables:
        parquet = pipeline.parquet / f"{table}.parquet"
        metadata = dict(
            duckdb.sql(
                f"select decode(key), decode(value) from parquet_kv_metadata('{parquet}')"
            ).fetchall()
        )
        assert metadata["description"] == comment
        names = [r[0] for r in duckdb.sql(f"describe select * from '{parquet}'").fetchall()]
        for name in names:
            assert metadata[f"description:{name}"] == described[(table, name)], (table, name)
        codecs = duckdb.sql(
            f"select distinct compression from parquet_metadata('{parquet}')"
        ).fetchall()
        # an empty mart (peers before the national data is loaded) has no column chunk
        assert codecs == [("SNAPPY",)] or (codecs == [] and not _parquet_rows(parquet)), table


def test_serving_file_opens_in_duckdb_1x(pipeline: Pipeline) -> None:
    """DuckDB's main header: 8 bytes checksum, b'DUCK', then the storage version number
    (little-endian uint64).  DuckDB 1.4.5 says "we can only read versions between 64
    and 67" to a file written by 2.x in its default format (999)."""
    header = pipeline.serving.read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    assert int.from_bytes(header[12:20], "little") == 64


def test_bi_role_reads_and_cannot_write(pipeline: Pipeline, postgres_url: str) -> None:
    """The read-only role exactly as the README sets it up, before the first publication."""
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"create role {BI_ROLE} login")
        admin.execute(f"alter default privileges grant usage on schemas to {BI_ROLE}")
        admin.execute(f"alter default privileges grant select on tables to {BI_ROLE}")
    publish_to_postgres(pipeline.serving, postgres_url)
    publish_to_postgres(pipeline.serving, postgres_url)  # grants survive the swap
    bi_url = postgres_url.replace("csp_admin@", f"{BI_ROLE}@")
    with psycopg.connect(bi_url, autocommit=True) as bi:
        rows = bi.execute("select count(*) from marts.fct_measure_quarter").fetchone()[0]
        assert rows == 29 * 16
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bi.execute("delete from marts.dim_measure")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bi.execute("create table marts.scratch (x int)")

    for url in (
        f"duckdb:///{pipeline.serving}?access_mode=read_only",
        bi_url.replace("postgresql://", "postgresql+psycopg://"),
    ):
        engine = sa.create_engine(url)
        try:
            columns = sa.inspect(engine).get_columns("fct_measure_quarter", schema="marts")
            assert [c["name"] for c in columns][:4] == [
                "measure_key",
                "quarter_key",
                "area_key",
                "area_code",
            ]
            frame = pd.read_sql(
                "select fiscal_year, count(*) as n from marts.fct_measure_quarter"
                " group by fiscal_year order by fiscal_year",
                engine,
            )
            assert list(frame["fiscal_year"]) == ["2013/14", "2014/15", "2015/16", "2016/17"]
            assert frame["n"].sum() == rows, url
        finally:
            engine.dispose()


STAR = """
select q.quarter_label, a.area_name, g.agency_code, m.measure_id, m.series, f.value,
       t.target_value_year
from marts.fct_measure_quarter f
join marts.dim_measure m on f.measure_key = m.measure_key
join marts.dim_quarter q on f.quarter_key = q.quarter_key
join marts.dim_area a on f.area_key = a.area_key
join marts.dim_agency g on m.agency_key = g.agency_key
left join marts.fct_measure_target_year t
    on t.measure_key = f.measure_key and t.plan_year = q.fiscal_year
where q.quarter_label = '2016/17 Q4'
order by 4, 5
"""


def test_star_schema_joins_on_single_column_keys(pipeline: Pipeline, postgres_url: str) -> None:
    """Every key is one column, unique in its dimension, and every fact row finds its
    dimension rows: the same answer from DuckDB and PostgreSQL."""
    con = duckdb.connect(str(pipeline.serving), read_only=True)
    try:
        for dimension, key in (
            ("dim_measure", "measure_key"),
            ("dim_quarter", "quarter_key"),
            ("dim_area", "area_key"),
            ("dim_agency", "agency_key"),
        ):
            rows, keys = con.execute(
                f"select count(*), count(distinct {key}) from marts.{dimension}"
            ).fetchone()
            assert rows == keys > 0, dimension
        facts = con.execute("select count(*) from marts.fct_measure_quarter").fetchone()[0]
        joined = con.execute(
            "select count(*), count(q.quarter_label) from marts.fct_measure_quarter f"
            " join marts.dim_measure m on f.measure_key = m.measure_key"
            " join marts.dim_quarter q on f.quarter_key = q.quarter_key"
            " join marts.dim_area a on f.area_key = a.area_key"
            " join marts.dim_agency g on m.agency_key = g.agency_key"
        ).fetchone()
        star = con.execute(STAR).fetchall()
        owners = con.execute("select count(*) from marts.dim_measure where agency_key is null")
        assert owners.fetchone()[0] == 0
    finally:
        con.close()
    assert joined == (facts, facts)  # inner joins lose no fact row
    assert len(star) == 29  # one row per series in 2016/17 Q4
    assert {r[0] for r in star} == {"2016/17 Q4"}
    assert any(r[6] is not None for r in star)  # targets on the year grain
    publish_to_postgres(pipeline.serving, postgres_url)
    with psycopg.connect(postgres_url) as pg:
        assert pg.execute(STAR).fetchall() == star


READER = r"""
import json, sys, time
from pathlib import Path
import psycopg

url, mode, stop, out = sys.argv[1:5]
SQL = '''
select p.published_at, p.row_count,
       (select sum(row_count) from meta.published_table),
       (select count(*) from marts.fct_measure_quarter) + (select count(*) from marts.dim_measure)
       + (select count(*) from marts.fct_missing_returns), t.rows
from meta.publication p,
     (select sum(row_count) as rows from meta.published_table where table_name in
      ('fct_measure_quarter', 'dim_measure', 'fct_missing_returns')) t
'''
queries, errors, incomplete, seen = 0, [], [], set()
held = psycopg.connect(url, autocommit=True) if mode == "hold" else None
Path(out + ".started").touch()
while not Path(stop).exists():
    try:
        if held is not None:
            row = held.execute(SQL).fetchone()
        else:
            with psycopg.connect(url, autocommit=True) as con:
                row = con.execute(SQL).fetchone()
        queries += 1
        seen.add(str(row[0]))
        if row[1] != row[2] or row[3] != row[4]:
            incomplete.append(repr(row))
    except Exception as error:  # every failure counts
        errors.append(repr(error))
    time.sleep(0.005)
if held is not None:
    held.close()
Path(out).write_text(json.dumps({"queries": queries, "errors": errors[:20],
    "incomplete": incomplete[:20], "seen": sorted(seen)}))
"""


def test_readers_see_one_complete_publication_while_two_are_published(
    pipeline: Pipeline, postgres_url: str, tmp_path: Path
) -> None:
    publish_to_postgres(pipeline.serving, postgres_url)
    stop = tmp_path / "stop"
    readers = {}
    for mode in ("hold", "reconnect"):
        out = tmp_path / f"{mode}.json"
        command = [sys.executable, "-c", READER, postgres_url, mode, str(stop), str(out)]
        readers[mode] = (subprocess.Popen(command), out)
    try:
        deadline = time.monotonic() + 30
        while not all(Path(f"{out}.started").exists() for _, out in readers.values()):
            assert time.monotonic() < deadline, "the readers did not start"
            time.sleep(0.05)
        time.sleep(0.3)
        for quarter in (4, 3):  # each publication has fewer rows than the one before
            writer = duckdb.connect(str(pipeline.warehouse))
            writer.execute(f"delete from marts.fct_missing_returns where quarter = {quarter}")
            writer.close()
            time.sleep(1.1)  # published_at has whole seconds
            publish_marts(pipeline.warehouse)
            publish_to_postgres(pipeline.serving, postgres_url)
            time.sleep(0.3)
    finally:
        stop.touch()
        results = {}
        for mode, (process, out) in readers.items():
            process.wait(timeout=30)
            results[mode] = json.loads(out.read_text())
    for result in results.values():
        assert result["errors"] == [] and result["incomplete"] == [], result
        assert result["queries"] > 20
        assert len(result["seen"]) == 3, result["seen"]  # the first, then each of the two
