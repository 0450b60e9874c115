"""Publishing the marts for BI: the read-only serving copy and the Parquet files.

- the copy holds every mart, row for row, and a reader of the old file keeps its
  snapshot while the file is replaced;
- BI connections (DuckDB read-only, SQLAlchemy with duckdb-engine) read it and cannot
  write;
- readers in other processes query the serving file in a loop while the real nightly
  job runs on a new delivery and publishes over the copy they read: the run succeeds,
  both readers query during the publication step, no query fails, and a new
  connection sees the new data;
- a failed build (a blocking check fails) publishes nothing.

Each test copies the session's sample warehouse and landing folder
(``tests.test_dbt_marts.sample_build``) into its own folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import psycopg
import pytest
import sqlalchemy as sa

from ingest.config import Settings
from orchestration.publish import (
    MART_KEYS,
    SERVING_KEY,
    parquet_folder,
    publish_marts,
    record_published_build,
    serving_path,
)
from tests.test_dbt_marts import AREA, AS_OF, sample_build

MARTS = (
    "dim_agency",
    "dim_area",
    "dim_fiscal_quarter",
    "dim_measure",
    "dim_peer_group",
    "dim_quarter",
    "dim_report_note",
    "fct_change_significance",
    "fct_figure_revisions",
    "fct_measure_quarter",
    "fct_measure_target_year",
    "fct_missing_returns",
    "fct_peer_comparison",
    "fct_policeuk_rate",
    "fct_published_reconciliation",
    "fct_target_status",
    "fct_year_end_forecast",
)
LATE_VALUE = 9.0  # DRR commencements 2016/17 Q4, in the late return delivered between runs
LATE_SQL = (
    "select value, data_status from marts.fct_measure_quarter where measure_id = '3.1'"
    " and series = 'commencements' and fiscal_year = '2016/17' and quarter = 4"
)


@dataclass(frozen=True)
class Pipeline:
    landing: Path
    warehouse: Path

    @property
    def serving(self) -> Path:
        return serving_path(self.warehouse)

    @property
    def parquet(self) -> Path:
        return parquet_folder(self.warehouse)


@pytest.fixture
def pipeline(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Pipeline:
    return make_pipeline(tmp_path_factory, tmp_path, monkeypatch)


def make_pipeline(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Pipeline:
    """A copy of the sample landing folder and its built warehouse, published once, with
    the environment the nightly job reads pointing at it."""
    build = sample_build(tmp_path_factory)
    data = tmp_path / "data"
    shutil.copytree(build.warehouse.parent / "landing", data / "landing")  # keeps file times
    shutil.copy2(build.warehouse, data / "warehouse.duckdb")
    pipeline = Pipeline(data / "landing", data / "warehouse.duckdb")
    for name, value in {
        "CSP_LANDING": str(pipeline.landing),
        "CSP_WAREHOUSE": str(pipeline.warehouse),
        "CSP_AS_OF": AS_OF.isoformat(),
        "CSP_AREA": AREA[0],
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CSP_PSEUDONYM_KEY", raising=False)  # the sample's demo key
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("CSP_PUBLISH_POSTGRES", raising=False)  # a test sets its own
    publish_marts(pipeline.warehouse, as_of=AS_OF, area=AREA[0])
    record_published_build(Settings.from_env())  # as the serving asset does after it
    return pipeline


def query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_ino


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp-" in p.name)


# --------------------------------------------------------------------------------------
# the copy


def test_serving_copy_holds_every_mart_row_for_row(pipeline: Pipeline) -> None:
    con = duckdb.connect(str(pipeline.serving), read_only=True)
    try:
        con.execute(f"attach '{pipeline.warehouse}' as warehouse (read_only)")
        tables = con.execute(
            "select table_name from duckdb_tables() where database_name = 'serving'"
            " and schema_name = 'marts' order by 1"
        ).fetchall()
        assert tuple(t for (t,) in tables) == MARTS
        for mart in MARTS:
            for a, b in (("marts", "warehouse.marts"), ("warehouse.marts", "marts")):
                differ = con.execute(
                    f"select count(*) from (from {a}.{mart} except all from {b}.{mart})"
                ).fetchone()
                assert differ == (0,), f"{mart} differs ({a} - {b})"
        published = con.execute(
            "select as_of, area, source_warehouse, table_count, row_count from meta.publication"
        ).fetchall()
        counts = dict(
            con.execute("select table_name, row_count from meta.published_table").fetchall()
        )
        types = con.execute(
            "select distinct data_type from duckdb_columns() where schema_name = 'meta'"
        ).fetchall()
    finally:
        con.close()
    # scalar columns only (ODBC maps them) and no server path
    assert published == [(AS_OF, AREA[0], "warehouse.duckdb", len(MARTS), sum(counts.values()))]
    assert {t for (t,) in types} <= {"TIMESTAMP", "DATE", "VARCHAR", "INTEGER", "BIGINT"}
    for mart in MARTS:
        parquet = pipeline.parquet / f"{mart}.parquet"
        rows = duckdb.sql(f"select count(*) from read_parquet('{parquet}')").fetchall()
        assert rows == [(counts[mart],)], mart
    assert stat.S_IMODE(pipeline.serving.stat().st_mode) == 0o444  # read-only file
    assert leftovers(pipeline.serving.parent) == []


def test_a_reader_keeps_its_snapshot_until_it_reconnects(pipeline: Pipeline) -> None:
    reader = duckdb.connect(str(pipeline.serving), read_only=True)
    try:
        before = reader.execute("select count(*) from marts.fct_missing_returns").fetchone()
        writer = duckdb.connect(str(pipeline.warehouse))
        writer.execute("delete from marts.fct_missing_returns where quarter = 4")
        writer.close()
        publish_marts(pipeline.warehouse)  # replaces the file under the open reader
        assert reader.execute("select count(*) from marts.fct_missing_returns").fetchone() == (
            before
        )
    finally:
        reader.close()
    after = query(pipeline.serving, "select count(*) from marts.fct_missing_returns")[0]
    assert after[0] < before[0]


def test_bi_tools_connect_read_only(pipeline: Pipeline) -> None:
    """The connections the README documents."""
    engine = sa.create_engine(f"duckdb:///{pipeline.serving}?access_mode=read_only")
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("select count(*) from marts.dim_measure")).scalar()
            assert rows == 29
            with pytest.raises(sa.exc.DBAPIError, match="read-only"):
                connection.execute(sa.text("create table marts.scratch (x int)"))
    finally:
        engine.dispose()
    con = duckdb.connect(str(pipeline.serving), read_only=True)
    try:
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("delete from marts.dim_measure")
    finally:
        con.close()
    parquet = pipeline.parquet / "fct_measure_quarter.parquet"
    assert duckdb.sql(f"select count(*) from '{parquet}'").fetchall() == [(29 * 16,)]


# --------------------------------------------------------------------------------------
# the nightly job


def test_serving_is_published_by_the_nightly_job_after_every_mart() -> None:
    from orchestration.definitions import defs

    nightly = defs.resolve_job_def("csp_nightly").asset_layer.selected_asset_keys
    assert SERVING_KEY in nightly
    assert dg.AssetKey(["quarterly_report"]) not in nightly  # partitioned: its own job
    assert {k.to_user_string() for k in MART_KEYS} == {f"marts/{m}" for m in MARTS}
    graph = defs.resolve_asset_graph()
    assert set(graph.get(SERVING_KEY).parent_keys) == set(MART_KEYS)
    assert defs.resolve_job_def("csp_quarterly_report") is not None
    assert defs.resolve_schedule_def("quarterly_report_schedule") is not None


def run_nightly(instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    """The real nightly job of the code location, in this process, as ``make run`` and the
    daemon run it after a delivery: the new files' feeds and what is downstream of them
    (``orchestration.run.partial_job`` for ``plan_run``'s plan; the whole job when the
    plan is a full build)."""
    from orchestration.changes import plan_run
    from orchestration.definitions import defs
    from orchestration.run import NIGHTLY, partial_job

    plan = plan_run(Settings.from_env())
    assert plan.skip is None and plan.full is None, plan.describe()  # a partial run
    return partial_job(defs, NIGHTLY, plan).execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
    )


def published(result: dg.ExecuteInProcessResult) -> bool:
    keys = {e.asset_key for e in result.get_asset_materialization_events()}
    return SERVING_KEY in keys


def publication_window(
    instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult
) -> tuple[float, float]:
    """When the run's publication step started and succeeded (epoch seconds)."""
    [step] = {
        e.step_key for e in result.get_asset_materialization_events() if e.asset_key == SERVING_KEY
    }
    times = {
        entry.dagster_event_type: entry.timestamp
        for entry in instance.all_logs(result.run_id)
        if entry.step_key == step
        and entry.dagster_event_type
        in (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS)
    }
    return times[dg.DagsterEventType.STEP_START], times[dg.DagsterEventType.STEP_SUCCESS]


def deliver_late_probation_return(landing: Path) -> Path:
    """Probation's 2016/17 Q4 return again, now with the missing DRR commencements: a
    later file for the same agency and quarter replaces the first one."""
    folder = landing / "partner_returns"
    first = folder / "probation_return_2016-17_Q4.csv"
    text = first.read_text(encoding="utf-8-sig").rstrip("\n")
    text += f"\nProbation (CRC and NPS),3.1,commencements,2016/17,Q4,{LATE_VALUE:g},,,reported,"
    text += "late return\n"
    corrected = folder / "probation_return_2016-17_Q4_v2.csv"
    corrected.write_text(text, encoding="utf-8")
    delivered = datetime(2017, 5, 15, 10, 0).timestamp()  # before the as-of date
    os.utime(corrected, (delivered, delivered))
    return corrected


READER = r"""
import json, sys, time
from pathlib import Path
import duckdb

serving, mode, latest, stop, out = sys.argv[1:6]
queries, errors, seen, times = 0, [], set(), []
SQL = (
    "select m.theme, count(*), sum(f.value) from marts.fct_measure_quarter f"
    " join marts.dim_measure m using (area_code, measure_id, series) group by all"
)

def one(con):
    con.execute("set threads = 1")
    con.execute(SQL).fetchall()
    return str(con.execute("select published_at from meta.publication").fetchone()[0])

held = duckdb.connect(serving, read_only=True) if mode == "hold" else None
while not Path(stop).exists():
    try:
        if held is not None:
            publication = one(held)
        else:
            with duckdb.connect(serving, read_only=True) as con:
                publication = one(con)
        queries += 1
        times.append(time.time())
        if publication not in seen:
            seen.add(publication)
            Path(latest).write_text(publication)  # also tells the test it has started
    except Exception as error:  # every failure counts
        errors.append(repr(error))
    time.sleep(0.02 if held is not None else 0.1)  # a connection costs ~25 ms of CPU
if held is not None:
    held.close()
Path(out).write_text(json.dumps({"queries": queries, "errors": errors[:20],
                                 "error_count": len(errors), "seen": sorted(seen),
                                 "times": times}))
"""


@dataclass
class Reader:
    process: subprocess.Popen
    latest: Path
    out: Path

    def wait_to_see(self, publication: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.latest.read_text() != publication:
            assert time.monotonic() < deadline, f"the reader never saw {publication}"
            time.sleep(0.05)

    def result(self) -> dict:
        self.process.wait(timeout=30)
        return json.loads(self.out.read_text())


@pytest.fixture
def readers(pipeline: Pipeline, tmp_path: Path) -> Iterator[dict[str, Reader]]:
    """Two reader processes: one holds a connection open, one reconnects every query."""
    stop = tmp_path / "stop"
    started = {}
    for mode in ("hold", "reconnect"):
        latest, out = tmp_path / f"{mode}.latest", tmp_path / f"{mode}.json"
        command = [sys.executable, "-c", READER, str(pipeline.serving), mode, str(latest)]
        command += [str(stop), str(out)]
        started[mode] = Reader(subprocess.Popen(command), latest, out)
    deadline = time.monotonic() + 30
    while not all(r.latest.exists() for r in started.values()):
        assert time.monotonic() < deadline, "the readers did not start"
        assert all(r.process.poll() is None for r in started.values()), "a reader died"
        time.sleep(0.05)
    yield started
    stop.touch()
    for reader in started.values():
        if reader.process.poll() is None:
            try:
                reader.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                reader.process.kill()


@pytest.mark.slow
def test_nightly_job_publishes_while_bi_readers_query(
    pipeline: Pipeline,
    readers: dict[str, Reader],
    tmp_path: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CSP_PUBLISH_POSTGRES", postgres_url)
    initial = query(pipeline.serving, "select published_at from meta.publication")[0][0]
    assert query(pipeline.serving, LATE_SQL) == [(None, "missing")]

    # one run on a new delivery: its publication replaces the copy the readers opened
    # (the fixture's publication), which is what a second run would do again
    deliver_late_probation_return(pipeline.landing)
    instance = dg.DagsterInstance.ephemeral()
    run = run_nightly(instance)
    assert run.success and published(run)
    start, end = publication_window(instance, run)

    # a new connection sees the new delivery, in the serving file and in the Parquet file
    assert query(pipeline.serving, LATE_SQL) == [(LATE_VALUE, "late")]
    parquet = pipeline.parquet / "fct_measure_quarter.parquet"
    late = duckdb.sql(LATE_SQL.replace("marts.fct_measure_quarter", f"'{parquet}'")).fetchall()
    assert late == [(LATE_VALUE, "late")]
    # the job published the same rows to PostgreSQL (tests/test_publish_postgres.py)
    with psycopg.connect(postgres_url) as pg:
        assert pg.execute(LATE_SQL).fetchall() == [(LATE_VALUE, "late")]
        in_postgres = Counter(pg.execute("select * from marts.fct_measure_quarter").fetchall())
    assert in_postgres == Counter(
        query(pipeline.serving, "select * from marts.fct_measure_quarter")
    )
    assert leftovers(pipeline.serving.parent) == []
    final = query(pipeline.serving, "select published_at from meta.publication")[0][0]
    readers["reconnect"].wait_to_see(str(final))

    (tmp_path / "stop").touch()
    held, reconnecting = readers["hold"].result(), readers["reconnect"].result()
    assert held["error_count"] == reconnecting["error_count"] == 0, (held, reconnecting)
    assert held["queries"] > 20 and reconnecting["queries"] > 20
    for name, reader in (("hold", held), ("reconnect", reconnecting)):
        during = [t for t in reader["times"] if start <= t <= end]
        assert during, f"the {name} reader made no query while {end - start:.1f} s published"
    assert held["seen"] == [str(initial)]  # an open connection keeps its snapshot
    assert reconnecting["seen"] == sorted([str(initial), str(final)])  # the first, the run's


def test_a_failed_build_publishes_nothing(pipeline: Pipeline) -> None:
    before = fingerprint(pipeline.serving)
    parquet_before = {p.name: fingerprint(p) for p in pipeline.parquet.glob("*.parquet")}
    # a file that loads but breaks the feed's contract over the loaded rows: a referral id
    # already delivered for 2016/17 reused for a 2017/18 referral (a rejected file would
    # cost only its own series and publish the rest: tests/test_isolation.py)
    earlier = sorted((pipeline.landing / "idva_referrals").glob("*.csv"))[-1]
    reused = earlier.read_text(encoding="utf-8-sig").splitlines()[1].split(",")[0]
    bad = pipeline.landing / "idva_referrals" / "idva_referrals_2017-18_Q1.csv"
    bad.write_text(
        "referral_id,referral_date,client_ref,risk_level,assessment_outcome,engagement,"
        f"referred_to_programme\n{reused},03/04/2017,CL-1,high,worked_with,engaged,Y\n",
        encoding="utf-8",
    )
    delivered = datetime(2017, 5, 20).timestamp()
    os.utime(bad, (delivered, delivered))

    result = run_nightly()

    assert not result.success
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert ("raw/idva_referrals", "contract") in {
        (c.asset_key.to_user_string(), c.check_name) for c in failed
    }
    assert not published(result)
    assert fingerprint(pipeline.serving) == before  # the same file, untouched
    assert {p.name: fingerprint(p) for p in pipeline.parquet.glob("*.parquet")} == (parquet_before)
    assert leftovers(pipeline.serving.parent) == []
    published_as_of = query(pipeline.serving, "select as_of from meta.publication")[0][0]
    assert published_as_of == date(2017, 5, 31)
