"""Crash recovery and housekeeping of the Dagster instance (docs/operations.md).

A run killed with ``kill -9`` (or by the OOM killer, or a power cut) stays STARTED in
``$DAGSTER_HOME`` and keeps its slot of the ``duckdb_warehouse`` pool, so every later
run would wait for that slot forever.  ``recover_dead_runs`` finds the in-progress
runs of this instance whose process is gone, marks them failed
(``DagsterInstance.report_run_failed``) and frees their pool slots
(``free_concurrency_slots_for_run``), which is what Dagster's run monitoring does for
launchers that can report a worker's health; the default run launcher cannot, hence this.

How a run's process is known:

- ``make run`` tags its run with ``csp/host``, ``csp/pid`` and ``csp/pid_start`` (the
  process start time, so a recycled pid is not taken for the run);
- a run launched by the daemon has Dagster's "Started process for run (pid: N)" /
  "Executing steps in process (pid: N)" engine event; the process must have started
  before the run did.

It is called by ``make run`` (holding the writer lock) and by every run's ``warehouse``
resource before the first step claims a pool slot, and every minute by the
``housekeeping_sensor`` under the daemon, which also prunes old run history.
"""

from __future__ import annotations

import logging
import shutil
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from orchestration.resources import WAREHOUSE_POOL
from orchestration.writer_lock import process_alive, process_start, this_process

log = logging.getLogger("csp.recovery")

HOST_TAG, PID_TAG, PID_START_TAG = "csp/host", "csp/pid", "csp/pid_start"
RUN_RETENTION_DAYS = 30  # Dagster run history (runs, event logs, compute logs)
DBT_TARGETS_KEPT = 5  # dbt per-invocation folders target/<step>-<run>-<id>/
IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
_ENGINE_PID_EVENTS = ("Started process for run (pid:", "Executing steps in process (pid:")


def launch_tags() -> dict[str, str]:
    """Tags ``make run`` puts on its run: which process on which host runs it."""
    me = this_process()
    return {HOST_TAG: me["host"], PID_TAG: me["pid"], PID_START_TAG: me["pid_start"]}


def _engine_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=20
    ).records
    for record in records:
        message = record.event_log_entry.message or ""
        for prefix in _ENGINE_PID_EVENTS:
            if message.startswith(prefix):
                return int(message[len(prefix) :].split(")")[0])
    return None


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        pass
    return None


def _started_before(pid: int, timestamp: float | None) -> bool:
    """Whether process ``pid`` started before ``timestamp`` (True when unknown)."""
    import os

    ticks, boot = process_start(pid), _boot_time()
    if ticks is None or boot is None or timestamp is None:
        return True
    return boot + int(ticks) / os.sysconf("SC_CLK_TCK") <= timestamp + 2


def run_process_gone(instance: dg.DagsterInstance, record) -> str | None:
    """Why the process of an in-progress run is known to be gone, or None."""
    run = record.dagster_run
    tags = run.tags
    if PID_TAG in tags:
        if tags.get(HOST_TAG) != socket.gethostname():
            return None  # another host's process: not ours to judge
        pid = int(tags[PID_TAG])
        if process_alive(pid, tags.get(PID_START_TAG) or None):
            return None
        return f"its process (pid {pid} on {tags.get(HOST_TAG)}) is gone"
    pid = _engine_pid(instance, run.run_id)
    if pid is None:
        return None  # not started yet: Dagster's run monitoring times out a stuck start
    started = record.start_time or record.create_timestamp.timestamp()
    if process_alive(pid) and _started_before(pid, started):
        return None
    return f"its run worker (pid {pid}) is gone"


def recover_dead_runs(
    instance: dg.DagsterInstance, report: Callable[[str], None] | None = None
) -> list[str]:
    """Mark failed the in-progress runs whose process is gone and free every pool slot
    held by a finished run; returns the run ids recovered."""
    say = report or log.warning
    recovered = []
    records = instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS))
    for record in records:
        reason = run_process_gone(instance, record)
        if reason is None:
            continue
        run = record.dagster_run
        message = (
            f"Marked failed by crash recovery: {reason} (killed, out of memory or power"
            " loss); its slot of the warehouse pool is freed."
        )
        instance.report_run_failed(run, message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        say(
            f"run {run.run_id} ({run.job_name}) had stopped without finishing: {reason};"
            " marked failed and its warehouse slot freed"
        )
        recovered.append(run.run_id)
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        holders = storage.get_concurrency_run_ids()
        for run_id in holders:
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
    return recovered


def slot_holders(instance: dg.DagsterInstance) -> list[str]:
    """Runs of this instance holding a slot of the warehouse pool."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    info = storage.get_concurrency_info(WAREHOUSE_POOL)
    return sorted({slot.run_id for slot in info.claimed_slots})


def prune_run_history(instance: dg.DagsterInstance, days: int = RUN_RETENTION_DAYS) -> int:
    """Delete finished runs older than ``days`` (their events and compute logs too)."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    records = instance.get_run_records(
        dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.SUCCESS,
                dg.DagsterRunStatus.FAILURE,
                dg.DagsterRunStatus.CANCELED,
            ],
            created_before=cutoff,
        )
    )
    storage = _local_storage(instance)
    for record in records:
        run_id = record.dagster_run.run_id
        instance.delete_run(run_id)
        if storage is not None:
            shutil.rmtree(storage / run_id, ignore_errors=True)
            (storage / f"{run_id}.db").unlink(missing_ok=True)
    return len(records)


def _local_storage(instance: dg.DagsterInstance) -> Path | None:
    """``$DAGSTER_HOME/storage`` where the local compute log manager keeps logs."""
    root = instance.root_directory if instance.is_persistent else None
    return Path(root) / "storage" if root else None


def prune_dbt_targets(target: Path, keep: int = DBT_TARGETS_KEPT) -> int:
    """Keep the ``keep`` newest per-invocation folders dagster-dbt writes under
    ``target/`` (run_results.json, logs, compiled SQL); an hour-old minimum spares a
    running invocation."""
    if not target.is_dir():
        return 0
    folders = sorted(
        (p for p in target.iterdir() if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    removed = 0
    for folder in folders[keep:]:
        if time.time() - folder.stat().st_mtime > 3600 or len(folders) - removed > 4 * keep:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def housekeeping(instance: dg.DagsterInstance) -> str:
    """Recover dead runs and prune history; what it did, in one line."""
    from orchestration.dbt_assets import dbt_target_root

    recovered = recover_dead_runs(instance)
    pruned = prune_run_history(instance) if instance.is_persistent else 0
    targets = prune_dbt_targets(dbt_target_root())
    return (
        f"{len(recovered)} dead run(s) recovered, {pruned} run(s) older than"
        f" {RUN_RETENTION_DAYS} days pruned, {targets} old dbt target folder(s) removed"
    )
