"""Fault suite (``pytest -m faults``): kill -9 at every stage, disk full, a second writer,
a held DuckDB lock, a dead run holding the pool slot, a damaged warehouse.

The kill tests launch ``python -m orchestration.run`` as a subprocess on a temporary
landing folder (the sample data, generated once), warehouse and ``DAGSTER_HOME``, kill
it with SIGKILL when a log line or a file shows the stage, and run again: every rerun
must get past the dead run (no hang) and the last one must build the same marts as a
clean run, within a time bound.  See docs/operations.md.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingest.config import Settings
from ingest.loader import build_state_path, nothing_to_do
from ingest.warehouse_file import WarehouseBusy, open_warehouse
from orchestration import recovery, writer_lock

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2017-05-31"


# -- helpers -------------------------------------------------------------------------
def _env(base: Path, **extra: str) -> dict[str, str]:
    home = base / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DAGSTER_HOME": str(home),
        "CSP_WAREHOUSE": str(base / "data" / "warehouse.duckdb"),
        "CSP_AS_OF": AS_OF,
        "CSP_PSEUDONYM_KEY": "fault-suite-key",
        "CSP_LOCK_WAIT_SECONDS": "300",
    }
    env.update(extra)
    return env


class Run:
    """``python -m orchestration.run`` as a subprocess, its output collected live."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, condition, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self):
            if self.process.poll() is not None:
                raise AssertionError(f"run ended before the stage was reached:\n{self.output}")
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"stage not reached in {timeout}s:\n{self.output}")
            time.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._reader.join(timeout=5)

    def finish(self, timeout: float) -> tuple[int, float]:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"run did not finish in {timeout:.0f}s:\n{self.output}") from None
        self._reader.join(timeout=5)
        return code, time.monotonic() - self.started


def marts_digest(warehouse: Path) -> dict[str, str]:
    """A digest of every mart's rows (order-independent)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts'"
                " order by table_name"
            ).fetchall()
        ]
        digests = {}
        for table in tables:
            rows = sorted(repr(r) for r in con.execute(f'select * from marts."{table}"').fetchall())
            digests[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return digests
    finally:
        con.close()


@pytest.fixture(scope="module")
def sample_landing(tmp_path_factory) -> Path:
    from ingest.sample_data import generate

    landing = tmp_path_factory.mktemp("fault_landing") / "landing"
    generate(landing)
    return landing


@pytest.fixture(scope="module")
def clean_run(sample_landing, tmp_path_factory) -> tuple[dict[str, str], float]:
    """The clean run's marts and how long it took."""
    base = tmp_path_factory.mktemp("fault_clean")
    run = Run(_env(base, CSP_LANDING=str(sample_landing)))
    code, seconds = run.finish(timeout=600)
    assert code == 0, run.output
    return marts_digest(base / "data" / "warehouse.duckdb"), seconds


# -- kill -9 at every stage ------------------------------------------------------------
def _at_ingest(run: Run) -> bool:
    return "csp.ingest [" in run.output


def _at_checks(warehouse: Path):
    return lambda run: any((warehouse.parent / "gx_data_docs").rglob("*.json"))


def _at_dbt(run: Run) -> bool:
    return "Running dbt command" in run.output


def _at_publish(warehouse: Path):
    return lambda run: any(warehouse.parent.glob("serving.duckdb.tmp-*"))


def test_kill_at_every_stage_then_rerun_builds_the_clean_marts(sample_landing, clean_run, tmp_path):
    """kill -9 during the ingest, the GX checks, dbt and the publication, one after the
    other on the same warehouse and DAGSTER_HOME; each next run must recover the dead
    one (no hang on its pool slot) and reach the next stage; the last one completes with
    the clean run's marts within the clean run's time plus a bounded wait (a killed dbt
    child finishes its build before the warehouse is free)."""
    clean_marts, clean_seconds = clean_run
    env = _env(tmp_path, CSP_LANDING=str(sample_landing))
    warehouse = Path(env["CSP_WAREHOUSE"])
    stages = [
        ("ingest", _at_ingest),
        ("checks", _at_checks(warehouse)),
        ("dbt", _at_dbt),
        ("publish", _at_publish(warehouse)),
    ]
    for stage, reached in stages:
        run = Run(env)
        run.wait_for(reached, timeout=clean_seconds * 2 + 120)
        if stage == "dbt":
            time.sleep(3)  # into the build: tables are being written
        run.kill()
        assert run.process.returncode == -signal.SIGKILL, stage

    final = Run(env)
    code, seconds = final.finish(timeout=clean_seconds * 2 + 120)
    assert code == 0, final.output
    assert "had stopped without finishing" in final.output  # the publish run was recovered
    assert marts_digest(warehouse) == clean_marts
    assert (warehouse.parent / "serving.duckdb").exists()
    assert not list(warehouse.parent.glob("*.tmp-*"))
    instance_runs = dg.DagsterInstance.from_config(env["DAGSTER_HOME"]).get_runs()
    statuses = [r.status for r in instance_runs]
    assert statuses.count(dg.DagsterRunStatus.FAILURE) == 4
    assert statuses.count(dg.DagsterRunStatus.SUCCESS) == 1


# -- disk full ---------------------------------------------------------------------------
def test_disk_full_during_publish_then_next_run_republishes(sample_landing, tmp_path):
    """Disk full is simulated: this suite cannot mount a small filesystem everywhere it
    runs, so ENOSPC is injected at the publication's write call (the Parquet export of
    the serving copy) in the run's own process.  The run must fail naming the path,
    keep the last serving copy, record no build fingerprint (so the nightly does not
    skip); the next run, with space back, must succeed and republish."""
    env = _env(tmp_path, CSP_LANDING=str(sample_landing))
    warehouse = Path(env["CSP_WAREHOUSE"])
    inject = (
        "import errno, sys, orchestration.publish as p\n"
        "def full(*a, **k):\n"
        "    raise OSError(errno.ENOSPC, 'No space left on device', str(a[2]))\n"
        "p._write_parquet = full\n"
        "from orchestration.run import main\n"
        "sys.exit(main([]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", inject], cwd=ROOT, env=env, capture_output=True, text=True
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "ERROR: serving: disk full writing" in output
    assert str(warehouse.parent / "parquet") in output
    settings = Settings(
        landing=sample_landing,
        warehouse=warehouse,
        as_of=date.fromisoformat(AS_OF),
        pseudonym_key="fault-suite-key",
    )
    assert not build_state_path(settings).exists()
    assert not (warehouse.parent / "serving.duckdb").exists()
    assert not list(warehouse.parent.rglob("*.tmp-*"))
    assert nothing_to_do(settings) is None  # the nightly will run again

    again = subprocess.run(
        [sys.executable, "-m", "orchestration.run"], cwd=ROOT, env=env, capture_output=True
    )
    assert again.returncode == 0, again.stdout.decode() + again.stderr.decode()
    con = duckdb.connect(str(warehouse.parent / "serving.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from meta.publication").fetchone()[0] == 1
    finally:
        con.close()
    assert json.loads(build_state_path(settings).read_text())["as_of"] == AS_OF
    assert nothing_to_do(settings) is not None


def test_corrupt_or_empty_build_state_means_rebuild(settings):
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    for content in ("", "{not json", "[]"):
        build_state_path(settings).write_text(content)
        assert nothing_to_do(settings) is None


# -- one writer ----------------------------------------------------------------------------
def test_second_writer_waits_then_names_the_holder_and_stops(tmp_path):
    """Two `make run` on one warehouse (any DAGSTER_HOME): the second waits, logging at
    a level the console shows, then exits 2 naming the holder; SIGTERM stops it at once."""
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    landing = tmp_path / "landing"
    landing.mkdir()
    with writer_lock.writer_lock(warehouse, "the fault suite", run="holder-run"):
        env = _env(tmp_path, CSP_LANDING=str(landing), CSP_LOCK_WAIT_SECONDS="3")
        waiting = Run(env)
        code, _ = waiting.finish(timeout=120)
        assert code == 2, waiting.output
        assert "waiting for the warehouse" in waiting.output  # WARNING, on the console
        assert "being written by the fault suite run holder-run (pid" in waiting.output

        env["CSP_LOCK_WAIT_SECONDS"] = "600"
        stopped = Run(env)
        stopped.wait_for(lambda r: "waiting for the warehouse" in r.output, timeout=120)
        stopped.process.send_signal(signal.SIGTERM)
        code, _ = stopped.finish(timeout=10)
        assert code != 0
    # released: the next writer takes it at once
    with writer_lock.writer_lock(warehouse, "next", wait=0):
        assert writer_lock.held(warehouse)


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


def test_a_held_duckdb_lock_is_waited_for_then_named(tmp_path):
    """A read-only connection someone keeps open (another process) blocks writers: the
    writer waits, bounded, and says who holds the file instead of a lock traceback."""
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True);"
            " print('open', flush=True); time.sleep(float(sys.argv[2]))",
            str(warehouse),
            "3",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout.readline().strip() == "open"
    with pytest.raises(WarehouseBusy, match=r"still locked by .*\(PID \d+\)"):
        open_warehouse(warehouse, wait=0.5)
    con = open_warehouse(warehouse, wait=30)  # the reader closes after 3 s: we get in
    con.close()
    reader.wait()


# -- crash recovery of the Dagster instance -------------------------------------------
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


def test_a_damaged_warehouse_gives_advice_not_a_traceback(tmp_path, monkeypatch, capsys):
    from orchestration import run

    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(os.urandom(300_000))
    landing = tmp_path / "landing"
    landing.mkdir()
    monkeypatch.setenv("CSP_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("CSP_LANDING", str(landing))
    monkeypatch.setenv("CSP_AS_OF", AS_OF)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert run.run() == 2
    err = capsys.readouterr().err
    assert "cannot be read by DuckDB" in err and "Restore it from your latest backup" in err
    assert "Traceback" not in err


def test_disk_full_message_names_the_path(tmp_path):
    from ingest.warehouse_file import DiskFull, atomic_write_text, disk_full

    target = tmp_path / "state.json"
    atomic_write_text(target, "old")
    with pytest.raises(DiskFull, match=f"disk full writing {target}"), disk_full(target):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "old"


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
