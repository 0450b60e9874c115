"""Fault suite (``pytest -m faults``): kill -9 at every stage, disk full, a second writer,
a held DuckDB lock, a dead run holding the pool slot, a damaged warehouse.

The kill tests launch ``python -m orchestration.run`` as a subprocess on a temporary
landing folder (the sample data, generated once), warehouse and ``DAGSTER_HOME``, kill
it and what it started (its dbt child) with SIGKILL when a log line or a file shows the
stage, as a power cut or a service manager's stop does, and run again: every rerun
must get past the dead run (no hang) and the last one must build the same marts as a
clean run, within a time bound. (A dbt child left running by a parent killed alone
holds the DuckDB file until it ends: the next writer waits for it, bounded, and names
it: ``test_a_held_duckdb_lock_is_waited_for_then_named``.)  The writer lock, crash
recovery and housekeeping have their own faster tests in tests/test_run.py (also marked
``faults``).  See docs/operations.md.
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
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingest.config import Settings
from ingest.warehouse_file import WarehouseBusy, open_warehouse
from orchestration import writer_lock
from orchestration.changes import build_state_path, nothing_to_do
from tests.test_dbt_marts import AREA, sample_build
from tests.test_dbt_marts import AS_OF as SAMPLE_AS_OF

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[1]
AS_OF = SAMPLE_AS_OF.isoformat()
# a clean `make run` of the sample takes about 50 s on a quiet 2-core machine
RUN_BOUND_SECONDS = 420


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
        "CSP_AREA": AREA[0],
        "CSP_LOCK_WAIT_SECONDS": "300",
        "CSP_SETTLE_SECONDS": "0",
    }
    env.pop("CSP_PSEUDONYM_KEY", None)  # the sample's demo key, as the reference build
    env.update(extra)
    return env


class Run:
    """``python -m orchestration.run`` as a subprocess in a session of its own (so that
    it and its children can be killed together), its output collected live."""

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
            start_new_session=True,
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
                os.killpg(self.process.pid, signal.SIGKILL)
                raise AssertionError(f"stage not reached in {timeout}s:\n{self.output}")
            time.sleep(0.05)

    def kill(self) -> None:
        """kill -9 the run and every process it started (the dbt child mid-build)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._reader.join(timeout=5)

    def finish(self, timeout: float) -> tuple[int, float]:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the run and its dbt child
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


@dataclass(frozen=True)
class CleanBuild:
    landing: Path
    warehouse: Path
    marts: dict[str, str]


@pytest.fixture(scope="module")
def clean_build(tmp_path_factory) -> CleanBuild:
    """The sample built cleanly (ingest + dbt build), shared with tests/test_dbt_marts.py
    so the session generates and builds it once: the reference marts."""
    build = sample_build(tmp_path_factory)
    landing = build.warehouse.parent / "landing"
    return CleanBuild(landing, build.warehouse, marts_digest(build.warehouse))


# -- kill -9 at every stage ------------------------------------------------------------
def _at_ingest(run: Run) -> bool:
    return "csp.ingest [" in run.output


def _at_checks(warehouse: Path):
    """The GX context is created by the first check (gx/ beside the warehouse)."""
    return lambda run: (warehouse.parent / "gx").exists()


def _in_dbt_build(run: Run) -> bool:
    """dbt has written its first intermediate table (dbt's own lines: a verbose run)."""
    return "OK created sql table model intermediate." in run.output


def _at_publish(warehouse: Path):
    return lambda run: any(warehouse.parent.glob("serving.duckdb.tmp-*"))


def test_kill_at_every_stage_then_rerun_builds_the_clean_marts(clean_build, tmp_path):
    """kill -9 during the ingest, the GX checks, dbt (its child too, mid-write) and the
    publication, one after the other on the same warehouse and DAGSTER_HOME; each next
    run must recover the dead one (no hang on its pool slot, a warehouse DuckDB recovers
    from its write-ahead log) and reach the next stage; the last one completes with the
    clean build's marts.  Every run is bounded by RUN_BOUND_SECONDS."""
    env = _env(tmp_path, CSP_LANDING=str(clean_build.landing), CSP_LOG_LEVEL="DEBUG")
    warehouse = Path(env["CSP_WAREHOUSE"])
    stages = [
        ("ingest", _at_ingest),
        ("checks", _at_checks(warehouse)),
        ("dbt", _in_dbt_build),
        ("publish", _at_publish(warehouse)),
    ]
    for stage, reached in stages:
        run = Run(env)
        run.wait_for(reached, timeout=RUN_BOUND_SECONDS)
        run.kill()
        assert run.process.returncode == -signal.SIGKILL, stage

    final = Run(env)
    code, _ = final.finish(timeout=RUN_BOUND_SECONDS)
    assert code == 0, final.output
    assert "had stopped without finishing" in final.output  # the publish run was recovered
    assert marts_digest(warehouse) == clean_build.marts
    assert (warehouse.parent / "serving.duckdb").exists()
    assert not list(warehouse.parent.glob("*.tmp-*"))
    instance_runs = dg.DagsterInstance.from_config(env["DAGSTER_HOME"]).get_runs()
    statuses = [r.status for r in instance_runs if r.job_name == "csp_nightly"]
    assert statuses.count(dg.DagsterRunStatus.FAILURE) == 4
    assert statuses.count(dg.DagsterRunStatus.SUCCESS) == 1


# -- disk full ---------------------------------------------------------------------------
def test_disk_full_during_publish_then_next_run_republishes(clean_build, tmp_path, monkeypatch):
    """Disk full is simulated: this suite cannot mount a small filesystem everywhere it
    runs, so ENOSPC is injected at the publication's write call (the Parquet export of
    the serving copy), in-process, on a published copy of the clean build.  The
    nightly for a new as-of date must fail naming the path, keep the last serving copy
    and the old build fingerprint (so the next nightly does not skip); the next run,
    with space back, must republish and record the new build."""
    from orchestration import publish
    from orchestration.resources import WarehouseSettings
    from orchestration.run import run_safety_failures

    data = tmp_path / "data"
    data.mkdir()
    warehouse = data / "warehouse.duckdb"
    shutil.copy2(clean_build.warehouse, warehouse)
    published = Settings(clean_build.landing, warehouse, SAMPLE_AS_OF, AREA[0])
    publish.publish_marts(warehouse, as_of=SAMPLE_AS_OF, area=AREA[0])
    publish.record_published_build(published)
    new_as_of = "2017-06-30"
    settings = Settings(clean_build.landing, warehouse, date.fromisoformat(new_as_of), AREA[0])
    before = (data / "serving.duckdb").read_bytes()
    state_before = build_state_path(settings).read_text()
    monkeypatch.delenv("CSP_PSEUDONYM_KEY", raising=False)
    resources = {
        "warehouse": WarehouseSettings(
            landing=str(clean_build.landing),
            warehouse=str(warehouse),
            as_of=new_as_of,
            area=AREA[0],
        )
    }

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(args[2]))

    with monkeypatch.context() as patch:
        patch.setattr(publish, "_write_parquet", full)
        failed = dg.materialize([publish.serving], resources=resources, raise_on_error=False)
    assert not failed.success
    [message] = run_safety_failures(failed, warehouse)
    assert message.startswith(f"serving: disk full writing {data / 'parquet'} (")
    assert "MB free" in message
    assert (data / "serving.duckdb").read_bytes() == before  # the last copy stands
    assert build_state_path(settings).read_text() == state_before
    assert not list(data.rglob("*.tmp-*"))
    assert nothing_to_do(settings) is None  # the nightly will run again

    again = dg.materialize([publish.serving], resources=resources)
    assert again.success
    con = duckdb.connect(str(data / "serving.duckdb"), read_only=True)
    try:
        assert con.execute("select as_of from meta.publication").fetchone()[0] == date(2017, 6, 30)
    finally:
        con.close()
    assert json.loads(build_state_path(settings).read_text())["as_of"] == new_as_of
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
