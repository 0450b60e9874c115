"""`make run`'s entry point on real police.uk files: loads every row, and again adds none."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingest.warehouse_file import open_warehouse
from orchestration import recovery, run, writer_lock
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[1]

REAL = sorted((FIXTURES / "policeuk").glob("*.csv"))


@pytest.fixture
def real_landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    landing = tmp_path / "extracts"
    (landing / "policeuk_street").mkdir(parents=True)
    for path in REAL:
        shutil.copy(path, landing / "policeuk_street" / path.name)
    monkeypatch.setenv("CSP_LANDING", str(landing))
    monkeypatch.setenv("CSP_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("CSP_PSEUDONYM_KEY", "test-key")
    monkeypatch.delenv("CSP_AS_OF", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return landing


def _count(warehouse: Path) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select count(*) from raw.policeuk_street").fetchone()[0]
    finally:
        con.close()


def test_sample_is_generated_only_into_the_default_empty_folder(tmp_path, monkeypatch):
    from ingest.config import Settings

    calls = []
    monkeypatch.setattr("ingest.sample_data.generate", lambda landing: calls.append(landing))
    elsewhere = tmp_path / "empty"
    run.prepare_sample(Settings(landing=elsewhere))
    assert calls == []
    default = tmp_path / "data" / "landing"
    monkeypatch.setattr(run, "DEFAULT_LANDING", default)
    run.prepare_sample(Settings(landing=default))
    assert calls == [default]
    default.mkdir(parents=True)
    (default / "something.csv").write_text("x")
    run.prepare_sample(Settings(landing=default))
    assert calls == [default]  # a folder with files in it is never overwritten


# -- run safety: the writer lock, crash recovery, housekeeping (docs/operations.md) --
@pytest.mark.faults
def test_a_dead_holder_releases_the_lock(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from orchestration.writer_lock import acquire;"
            f" acquire({str(warehouse)!r}, 'doomed'); print('held', flush=True); time.sleep(600)",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(writer_lock.WriterLockTimeout, match="doomed"):
        writer_lock.acquire(warehouse, "me", wait=0.5)
    holder.kill()
    holder.wait()
    with writer_lock.writer_lock(warehouse, "me", wait=5):
        assert writer_lock.held(warehouse)


@pytest.mark.faults
def test_a_dead_run_is_failed_and_its_pool_slot_freed(tmp_path):
    """The state a kill -9 leaves (run STARTED, pool slot claimed) is repaired; a live
    run of another process on this host is left alone."""
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        runs = {}
        for name, pid in (("dead", dead.pid), ("alive", alive.pid)):
            tags = {
                recovery.HOST_TAG: writer_lock.this_process()["host"],
                recovery.PID_TAG: str(pid),
                recovery.PID_START_TAG: writer_lock.process_start(pid) or "",
            }
            run = instance.create_run_for_job(
                dg.JobDefinition(graph_def=dg.GraphDefinition(name=f"job_{name}")),
                tags=tags,
                status=dg.DagsterRunStatus.STARTED,
            )
            runs[name] = run.run_id
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("duckdb_warehouse")  # as Dagster does
        storage.claim_concurrency_slot("duckdb_warehouse", runs["dead"], "step")
        assert recovery.slot_holders(instance) == [runs["dead"]]

        assert recovery.recover_dead_runs(instance, report=lambda m: None) == [runs["dead"]]
        assert instance.get_run_by_id(runs["dead"]).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(runs["alive"]).status == dg.DagsterRunStatus.STARTED
        assert recovery.slot_holders(instance) == []
    finally:
        alive.kill()
        alive.wait()


@pytest.mark.faults
def test_snapshot_is_a_consistent_copy_taken_under_the_writer_lock(tmp_path):
    from orchestration.snapshot import take_snapshot

    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw; create table raw.load_log as select 1 as load_id")
    con.close()
    snapshot = take_snapshot(warehouse)
    assert snapshot.name == "warehouse.snapshot.duckdb"
    con = duckdb.connect(str(snapshot), read_only=True)
    assert con.execute("select load_id from raw.load_log").fetchall() == [(1,)]
    writer = open_warehouse(warehouse)  # a reader of the snapshot never blocks the writer
    writer.execute("insert into raw.load_log values (2)")
    writer.close()
    con.close()
    assert not writer_lock.held(warehouse)


@pytest.mark.faults
def test_housekeeping_sensor_recovers_and_history_is_pruned(tmp_path):
    """Under the daemon the housekeeping sensor recovers a dead run within a minute;
    finished runs past the retention go with their storage; dbt keeps 5 target folders."""
    from orchestration.sensors import housekeeping_sensor

    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run = instance.create_run_for_job(
        dg.JobDefinition(graph_def=dg.GraphDefinition(name="job_dead")),
        tags={
            recovery.HOST_TAG: writer_lock.this_process()["host"],
            recovery.PID_TAG: str(dead.pid),
        },
        status=dg.DagsterRunStatus.STARTED,
    )
    (tmp_path / "storage" / run.run_id / "compute_logs").mkdir(parents=True)
    with dg.build_sensor_context(instance=instance) as context:
        tick = housekeeping_sensor(context)
    assert isinstance(tick, dg.SkipReason)
    assert tick.skip_message.startswith("1 dead run(s) recovered")
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE

    assert recovery.prune_run_history(instance, days=-1) == 1
    assert instance.get_run_by_id(run.run_id) is None
    assert not (tmp_path / "storage" / run.run_id).exists()

    target = tmp_path / "target"
    for i in range(8):
        folder = target / f"csp_dbt_assets-run{i}"
        folder.mkdir(parents=True)
        old = time.time() - 7200 + i
        os.utime(folder, (old, old))
    assert recovery.prune_dbt_targets(target) == 3
    assert sorted(p.name for p in target.iterdir())[0] == "csp_dbt_assets-run3"


@pytest.mark.faults
def test_a_dagster_launched_writer_run_takes_the_same_lock(tmp_path, monkeypatch):
    """A run of the nightly job however launched (daemon, UI, another DAGSTER_HOME) takes
    the warehouse's writer lock in its `warehouse` resource before any step: while
    another process holds it, the run waits and then fails naming the holder."""
    from orchestration.definitions import defs

    warehouse = tmp_path / "warehouse.duckdb"
    (tmp_path / "landing").mkdir()
    monkeypatch.setenv("CSP_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("CSP_LANDING", str(tmp_path / "landing"))
    monkeypatch.setenv("CSP_LOCK_WAIT_SECONDS", "1")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from orchestration.writer_lock import acquire;"
            f" acquire({str(warehouse)!r}, 'make run'); print('held', flush=True);"
            " time.sleep(600)",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = defs.resolve_job_def("csp_nightly").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
    finally:
        holder.kill()
        holder.wait()
    assert not result.success
    assert not result.get_asset_materialization_events()  # no step wrote anything
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    text = str(failure.event_specific_data.error)
    assert "is being written by make run (pid" in text
    assert not warehouse.exists()


# -- what make run says: deliveries after the as-of date, quiet and verbose output --
def test_run_twice_on_real_policeuk_files_received_after_the_as_of_date(
    real_landing, tmp_path, monkeypatch, capsys
):
    """Real police.uk files for January-March 2017 delivered today, run as of 2017-05-31:
    every row is loaded but not counted (the replay is right), and the summary, the marts'
    Dagster metadata and ``deliveries_after_as_of`` say so; with -v, dbt's own lines come
    back. The second run finds nothing new and stops before Dagster."""
    from orchestration.as_of import deliveries_after_as_of

    expected = sum(len(p.read_text(encoding="utf-8").splitlines()) - 1 for p in REAL)
    monkeypatch.setenv("CSP_AS_OF", "2017-05-31")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert run.main(["-v"]) == 0
    out, err = capsys.readouterr()
    warehouse = tmp_path / "warehouse.duckdb"
    assert _count(warehouse) == expected
    assert f"policeuk_street                loaded           3 {expected:>10,}" in out
    assert "Pipeline csp_nightly succeeded in" in out
    assert not (real_landing / ".csp-sample").exists()  # no sample data mixed in
    assert (
        "NOT COUNTED: 3 deliveries received after the as-of date 2017-05-31 are not counted" in out
    )
    assert "policeuk_street: 3 files (2017-01, 2017-02, 2017-03)" in out
    # -v: every dbt line and every file's progress line
    assert "OK created sql table model marts.fct_measure_quarter" in err
    assert "[policeuk_street] 1/3 policeuk_street/2017-01-cleveland-street-stockton.csv" in err
    assert re.search(r"dbt marts: \d+ models, \d+ tests", err), err[-2000:]

    con = open_warehouse(warehouse, read_only=True)
    try:
        late = deliveries_after_as_of(con)
        q4 = con.execute(
            "select distinct data_status from marts.fct_measure_quarter where measure_id = '1.3'"
            " and fiscal_year = '2016/17' and quarter = 4"
        ).fetchall()
        mart_rows = con.execute("select count(*) from marts.fct_measure_quarter").fetchone()[0]
    finally:
        con.close()
    assert [(d.feed, d.files, d.periods) for d in late] == [
        ("policeuk_street", 3, ("2017-01", "2017-02", "2017-03"))
    ]
    assert q4 == [("missing",)]  # the as-of semantics themselves are unchanged

    instance = dg.DagsterInstance.from_config(str(home))
    event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "fct_measure_quarter"]))
    metadata = event.asset_materialization.metadata
    assert metadata["received_after_as_of"].value == 3
    assert metadata["as_of"].value == "2017-05-31"
    assert metadata["dagster/row_count"].value == mart_rows
    assert "2017-01, 2017-02, 2017-03" in metadata["not_counted"].value

    assert run.main([]) == 0
    second = capsys.readouterr().out
    assert _count(warehouse) == expected
    assert "(no new or changed files)" in second


def test_make_run_is_quiet_on_the_sample(tmp_path_factory):
    """`make run`'s entry point on the sample (the session's clean graph build,
    tests/test_graph.py): under 60 lines, progress per feed, one line per dbt layer, the
    summary; no dbt node lines, no Dagster beta warnings."""
    from tests.test_graph import CONSOLE, clean_graph_cache

    console = (clean_graph_cache(tmp_path_factory) / CONSOLE).read_text(encoding="utf-8")
    print(console)  # shown with pytest -s
    lines = console.splitlines()
    # outside the default sample folder and with no key set, the demo-key warning is
    # printed (as it must be on real data); it is counted in the 60 lines
    assert "PUBLIC DEMO KEY" in console
    assert len(lines) < 60, console
    assert "Pipeline csp_nightly succeeded in" in console
    assert "Quarterly report 2016/17 Q4:" in console
    assert re.search(r"missing_returns: \d+ returns due by the as-of date", console), console
    for layer in ("seeds", "staging", "intermediate", "marts"):
        assert sum(line.count(f"csp.dbt dbt {layer}: ") for line in lines) == 1, console
    assert " START " not in console and "PASS" not in console
    assert "BetaWarning" not in console and "AssetObservation" not in console
    assert "[police_recorded_crime] 48 files in" in console
    assert "[police_recorded_crime] 1/48" not in console
